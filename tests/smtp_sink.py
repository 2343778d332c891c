"""A tiny SMTP server for the tests: writes each message it accepts to DIR as one .eml file.

Usage: python3 smtp_sink.py PORT DIR   (listens on 127.0.0.1 only; prints "ready" when up)

With SMTP_SINK_USER and SMTP_SINK_PASSWORD set it offers AUTH (PLAIN, LOGIN) over the plain
connection, requires a login before any message, and accepts only those credentials; each
successful login is counted in DIR/logins.

With SMTP_SINK_CERT and SMTP_SINK_KEY (PEM files) set it offers STARTTLS with that
certificate and requires it before AUTH and before any message; each session that started
TLS is counted in DIR/starttls.
"""
import itertools
import logging
import os
import signal
import ssl
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


cert, key = os.environ.get("SMTP_SINK_CERT"), os.environ.get("SMTP_SINK_KEY")


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
    # aiosmtpd calls this hook synchronously, once the TLS handshake is done.
    def handle_STARTTLS(self, server, session, envelope):
        with open(os.path.join(out, "starttls"), "a") as f:
            f.write("tls\n")
        return True

    async def handle_DATA(self, server, session, envelope):
        path = os.path.join(out, f"{time.time_ns()}-{next(counter)}.eml")
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 OK"


options = {}
if cert is not None and key is not None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    options.update(tls_context=context, require_starttls=True)
if user is not None and password is not None:
    options.update(
        authenticator=authenticate, auth_required=True, auth_require_tls=cert is not None
    )
controller = Controller(Sink(), hostname="127.0.0.1", port=port, **options)
controller.start()
print("ready", flush=True)
signal.signal(signal.SIGTERM, lambda *_: (controller.stop(), sys.exit(0)))
while True:
    time.sleep(3600)
