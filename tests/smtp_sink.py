"""A tiny SMTP server for the tests: writes each message it accepts to DIR as one .eml file.

Usage: python3 smtp_sink.py PORT DIR   (listens on 127.0.0.1 only; prints "ready" when up)

With SMTP_SINK_USER and SMTP_SINK_PASSWORD set it offers AUTH (PLAIN, LOGIN) over the plain
connection, requires a login before any message, and accepts only those credentials; each
successful login is counted in DIR/logins.
"""
import itertools
import logging
import os
import signal
import sys
import time
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, out = int(sys.argv[1]), sys.argv[2]
counter = itertools.count()
user, password = os.environ.get("SMTP_SINK_USER"), os.environ.get("SMTP_SINK_PASSWORD")
# AUTH without TLS is what the tests want (loopback only); keep aiosmtpd's advice quiet.
warnings.filterwarnings("ignore")
logging.getLogger("mail.log").setLevel(logging.ERROR)


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == user
        and auth_data.password.decode() == password
    )
    if ok:
        with open(os.path.join(out, "logins"), "a") as f:
            f.write(mechanism + "\n")
    return AuthResult(success=ok)


class Sink:
    async def handle_DATA(self, server, session, envelope):
        path = os.path.join(out, f"{time.time_ns()}-{next(counter)}.eml")
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 OK"


login = (
    dict(authenticator=authenticate, auth_required=True, auth_require_tls=False)
    if user is not None and password is not None
    else {}
)
controller = Controller(Sink(), hostname="127.0.0.1", port=port, **login)
controller.start()
print("ready", flush=True)
signal.signal(signal.SIGTERM, lambda *_: (controller.stop(), sys.exit(0)))
while True:
    time.sleep(3600)
