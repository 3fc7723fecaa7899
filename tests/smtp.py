"""A real SMTP server in the test process (aiosmtpd on a free port) that keeps what it receives,
so delivery is counted where it matters: at the receiving end."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpSink:
    """Start with `start()`, stop with `stop()`; `messages` are the accepted messages."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def start(self) -> SmtpSink:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def subjects(self) -> Counter[str]:
        """How many times each subject arrived."""
        with self._lock:
            return Counter(str(make_header(decode_header(m["Subject"]))) for m in self.messages)

    def recipients(self) -> list[str]:
        with self._lock:
            return [m["To"] for m in self.messages]

    def django_settings(self) -> dict[str, Any]:
        """The e-mail settings that send to this sink."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.port,
            "EMAIL_USE_TLS": False,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_TIMEOUT": 5,
        }
