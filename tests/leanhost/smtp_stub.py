"""A local SMTP server for the alert tests: the part of RFC 5321 that ``smtplib`` uses to send
one message without TLS or login (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT). It listens
on 127.0.0.1 on a free port and keeps what it received."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage


@dataclass
class Received:
    """What one session delivered."""

    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class Mailbox:
    messages: list[Received] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)


class _Session(socketserver.StreamRequestHandler):
    server: _Server

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        box, sender, recipients = self.server.mailbox, "", []
        self._reply("220 stub ESMTP")
        while raw := self.rfile.readline():
            line = raw.decode().rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            box.commands.append(verb)
            if verb == "EHLO":
                self.wfile.write(b"250-stub\r\n250 8BITMIME\r\n")
            elif verb in ("HELO", "RSET", "NOOP"):
                self._reply("250 OK")
            elif verb == "MAIL":
                sender, recipients = line.split(":", 1)[1].strip(" <>"), []
                self._reply("250 OK")
            elif verb == "RCPT":
                recipients.append(line.split(":", 1)[1].strip(" <>"))
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 end with <CRLF>.<CRLF>")
                message = message_from_bytes(self._data(), policy=policy.default)
                assert isinstance(message, EmailMessage)
                box.messages.append(Received(sender, recipients, message))
                self._reply("250 OK queued")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("502 not implemented")

    def _data(self) -> bytes:
        lines = []
        while (raw := self.rfile.readline()) not in (b".\r\n", b""):
            lines.append(raw[1:] if raw.startswith(b"..") else raw)
        return b"".join(lines)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Session)
        self.mailbox = Mailbox()


@contextmanager
def smtp_stub() -> Iterator[tuple[int, Mailbox]]:
    """``(port, mailbox)`` of a running stub server, shut down on exit."""
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], server.mailbox
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
