"""A real SMTP server in the test process (aiosmtpd) that keeps what it receives.

It can refuse addresses for good (550 at RCPT), ask for a later try (451 on DATA) a given number of
times, and take its time over each message, which is what the activation tests need.
"""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.servers import free_port


@dataclass
class SmtpSink:
    port: int = 0
    refused: set[str] = field(default_factory=set)  # addresses answered 550
    busy_answers: int = 0  # this many DATA commands are answered 451 (try later)
    delay: float = 0.0  # seconds spent on each message before accepting it
    messages: list[EmailMessage] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- aiosmtpd handler hooks ------------------------------------------------------------------

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list) -> str:
        if address.lower() in self.refused:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.busy_answers > 0:
                self.busy_answers -= 1
                return "451 4.3.0 Try again later"
        if self.delay:
            time.sleep(self.delay)  # a slow server: blocks its own loop, as a busy one would
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted"

    # --- what tests ask ----------------------------------------------------------------------------

    def recipients(self) -> list[str]:
        with self.lock:
            return [str(message["To"]) for message in self.messages]

    def wait_for(self, count: int, within: float = 10.0) -> None:
        deadline = time.monotonic() + within
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)


@contextmanager
def smtp_sink(**options: Any) -> Iterator[SmtpSink]:
    sink = SmtpSink(port=free_port(), **options)
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
