"""A real SMTP server on loopback (aiosmtpd) for tests and the newsletter benchmark.

    with SMTPServer() as smtp:
        settings.MAILERS = smtp.mailers()              # Django's SMTP backend, plain SMTP
        smtp.answer("gone@example.net", "550 5.1.1 No such user")        # every time
        smtp.answer("busy@example.net", "451 4.3.2 Try again later", times=2)
        ... send ...
        smtp.messages  # what it accepted: parsed email.message.EmailMessage objects

Answers are given at RCPT TO, as a real receiving server answers for an unknown mailbox or a
greylisted one. `environment()` gives the EMAIL_URL a subprocess (a worker, gunicorn) uses to
reach the same server. With `keep=False` only counts are kept (the 10,000-recipient benchmark).
"""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller

from tests.live import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage
    raw: bytes


@dataclass
class _Answer:
    reply: str
    times: int | None  # None: every time


class _Handler:
    def __init__(self, server: SMTPServer):
        self.server = server

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        with self.server.lock:
            self.server.connections += 1
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.server._scripted(address)
        if reply:
            with self.server.lock:
                self.server.refused[address.lower()] += 1
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        with self.server.lock:
            self.server.arrivals.append(time.time())
            self.server.accepted += len(envelope.rcpt_tos)
            for rcpt in envelope.rcpt_tos:
                self.server.accepted_by_rcpt[rcpt.lower()] += 1
            if self.server.keep:
                parsed = email.message_from_bytes(raw, policy=email.policy.default)
                self.server.messages.append(
                    Received(envelope.mail_from, list(envelope.rcpt_tos), parsed, raw)
                )
        return "250 2.0.0 Message accepted for delivery"


@dataclass
class SMTPServer:
    keep: bool = True
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    messages: list[Received] = field(default_factory=list)
    accepted: int = 0
    connections: int = 0
    accepted_by_rcpt: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)
    arrivals: list[float] = field(default_factory=list)  # time of each accepted message
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        self._answers: dict[str, _Answer] = {}
        self._controller = Controller(
            _Handler(self), hostname=self.host, port=self.port, data_size_limit=10 * 1024 * 1024
        )

    # --- scripting ---------------------------------------------------------------------------
    def answer(self, address: str, reply: str, *, times: int | None = None) -> None:
        """Answer RCPT TO:<address> with `reply` ("451 …" or "550 …"), `times` times or always."""
        with self.lock:
            self._answers[address.lower()] = _Answer(reply, times)

    def clear_answers(self) -> None:
        with self.lock:
            self._answers.clear()

    def _scripted(self, address: str) -> str | None:
        with self.lock:
            answer = self._answers.get(address.lower())
            if answer is None:
                return None
            if answer.times is not None:
                answer.times -= 1
                if answer.times <= 0:
                    del self._answers[address.lower()]
            return answer.reply

    # --- reading -------------------------------------------------------------------------------
    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address.lower() in (r.lower() for r in m.rcpt_tos)]

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.accepted = self.connections = 0
            self.accepted_by_rcpt.clear()
            self.refused.clear()
            self.arrivals.clear()

    # --- wiring --------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """EMAIL_URL for sectorblog/settings.py: plain SMTP on loopback (no STARTTLS)."""
        return f"smtp://{self.host}:{self.port}?tls=0"

    def environment(self) -> dict[str, str]:
        return {"EMAIL_URL": self.url}

    def mailers(self) -> dict:
        """MAILERS as settings.py builds them from `url` (for in-process tests)."""
        return {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": self.host, "port": self.port, "use_tls": False, "timeout": 10},
            }
        }

    def start(self) -> SMTPServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SMTPServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
