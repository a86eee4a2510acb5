"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it accepted.

A message counts as accepted the moment the server has the whole of it (end of DATA), before
its ``250`` reply goes out, as with a real MTA: a client killed while that reply is on the
wire did hand the message over, and sending it again makes a second copy.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message

from aiosmtpd.controller import Controller


@dataclass
class Received:
    message_id: str
    kind: str
    to: list[str]
    subject: str


@dataclass
class SmtpSink:
    port: int
    reply_delay: float = 0.0  # widens the window between "taken" and "250" for the tests
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope) -> str:
        parsed: Message = message_from_bytes(envelope.original_content or envelope.content)
        with self._lock:
            self.received.append(Received(
                message_id=str(parsed.get("Message-ID", "")),
                kind=str(parsed.get("X-Shopkeep-Mail", "")),
                to=list(envelope.rcpt_tos), subject=str(parsed.get("Subject", ""))))
        if self.reply_delay:
            await asyncio.sleep(self.reply_delay)
        return "250 Message accepted for delivery"

    def start(self) -> SmtpSink:
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # one line per SMTP verb
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)
