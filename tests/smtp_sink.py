"""A tiny SMTP server for the tests: writes each message it accepts to DIR as one .eml file.

Usage: python3 smtp_sink.py PORT DIR   (listens on 127.0.0.1 only; prints "ready" when up)
"""
import itertools
import os
import signal
import sys
import time

from aiosmtpd.controller import Controller

port, out = int(sys.argv[1]), sys.argv[2]
counter = itertools.count()


class Sink:
    async def handle_DATA(self, server, session, envelope):
        path = os.path.join(out, f"{time.time_ns()}-{next(counter)}.eml")
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 OK"


controller = Controller(Sink(), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
signal.signal(signal.SIGTERM, lambda *_: (controller.stop(), sys.exit(0)))
while True:
    time.sleep(3600)
