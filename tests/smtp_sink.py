"""A real SMTP server (Debian's python3-aiosmtpd) that tests start as mailtally's --relay target.

What it answers depends on the recipient's local part, so one sink serves every case:

- `refuse...@`  -> RCPT 550 5.1.1 (permanent bounce)
- `full...@`    -> RCPT 452 4.2.2 mailbox full (deferral)
- `defer...@`   -> RCPT 451 4.3.0 try again later (deferral)
- `flaky...@`   -> RCPT 451 4.3.0 while `sink.flaky_deferrals` of that address remain (then 250)
- `drop...@`    -> the connection is closed at RCPT (no reply at all)
- anything else -> 250

While `sink.hold` is set every RCPT gets 451 (tests switch it off to let retries succeed).
Options: `tls=(certfile, keyfile)` with `require_starttls`, `auth=(user, password)` (AUTH
required). `sink.messages` lists what was received: mail_from, rcpt_tos, the raw bytes, whether
the session used TLS and which login it used.

Run as a script (`python3 tests/smtp_sink.py PORT`) to try mailtally by hand.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from typing import Optional

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list
    data: bytes
    tls: bool
    login: Optional[str]

    @property
    def message(self):
        return message_from_bytes(self.data)


@dataclass
class _State:
    messages: list = field(default_factory=list)
    rcpt_attempts: dict = field(default_factory=dict)  # address -> RCPT commands seen
    flaky_deferrals: int = 1
    hold: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler:
    def __init__(self, state: _State):
        self.state = state

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        with self.state.lock:
            seen = self.state.rcpt_attempts.get(address, 0) + 1
            self.state.rcpt_attempts[address] = seen
            hold = self.state.hold
            flaky_left = self.state.flaky_deferrals - (seen - 1)
        if local.startswith("drop"):
            server.transport.close()
            return "421 4.4.2 closing"  # never reaches the client: the connection is gone
        if hold:
            return "451 4.3.0 Held: try again later"
        if local.startswith("refuse"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if local.startswith("full"):
            return "452 4.2.2 <%s>: Mailbox full" % address
        if local.startswith("defer"):
            return "451 4.3.0 Temporary local problem, try again later"
        if local.startswith("flaky") and flaky_left > 0:
            return "451 4.3.0 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        login = None
        if session.auth_data is not None and isinstance(session.auth_data, LoginPassword):
            login = session.auth_data.login.decode()
        with self.state.lock:
            self.state.messages.append(Received(
                envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content),
                session.ssl is not None, login))
        return "250 2.0.0 Ok: queued as SINK%d" % len(self.state.messages)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    def __init__(self, tls: Optional[tuple] = None, require_starttls: bool = False,
                 auth: Optional[tuple] = None, port: Optional[int] = None):
        self.state = _State()
        self.port = port or free_port()
        kwargs = {}
        if tls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(*tls)
            kwargs["tls_context"] = ctx
            kwargs["require_starttls"] = require_starttls
        if auth:
            user, password = auth

            def authenticator(server, session, envelope, mechanism, data):
                ok = (isinstance(data, LoginPassword) and data.login.decode() == user
                      and data.password.decode() == password)
                return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

            kwargs["authenticator"] = authenticator
            kwargs["auth_required"] = True
            kwargs["auth_require_tls"] = bool(tls)
        self.controller = Controller(_Handler(self.state), hostname="127.0.0.1", port=self.port,
                                     server_hostname="sink.test", **kwargs)

    @property
    def url_hostport(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def messages(self) -> list:
        with self.state.lock:
            return list(self.state.messages)

    def attempts(self, address: str) -> int:
        with self.state.lock:
            return self.state.rcpt_attempts.get(address, 0)

    def set_hold(self, hold: bool) -> None:
        with self.state.lock:
            self.state.hold = hold

    def set_flaky_deferrals(self, n: int) -> None:
        with self.state.lock:
            self.state.flaky_deferrals = n

    def start(self) -> "SmtpSink":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


if __name__ == "__main__":
    import sys
    sink = SmtpSink(port=int(sys.argv[1]) if len(sys.argv) > 1 else 2525).start()
    print(f"smtp sink on {sink.url_hostport}; Ctrl-C to stop", flush=True)
    try:
        seen = 0
        while True:
            time.sleep(1)
            for m in sink.messages[seen:]:
                print(f"from {m.mail_from} to {m.rcpt_tos}: {len(m.data)} bytes", flush=True)
            seen = len(sink.messages)
    except KeyboardInterrupt:
        sink.stop()
