"""A BattlEye RCon server (UDP) in front of the simulated world, DayZ-like: the ``players``
table, multi-part answers for long output, server messages that must be acknowledged
(repeated up to 5 times, then the client is dropped, like BattlEye), and the 45 s idle
drop."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ..adapters import battleye_protocol as be

PART_BYTES = 1000  # answers longer than this are split (real servers: about 1400)
IDLE_DROP_SECONDS = 45.0


@dataclass
class _Client:
    logged_in: bool = False
    last_seen: float = field(default_factory=time.monotonic)
    msg_seq: int = 0
    unacked: dict[int, tuple[bytes, int]] = field(default_factory=dict)  # seq -> (data, tries)


class BattlEyeServer(asyncio.DatagramProtocol):
    def __init__(self, *, password: str, run_command: Callable[[str], str],
                 players_table: Callable[[], str], host: str = "127.0.0.1", port: int = 0,
                 part_bytes: int = PART_BYTES, resend_seconds: float = 2.0) -> None:
        self.password = password
        self.run_command = run_command
        self.players_table = players_table
        self.host, self._port = host, port
        self.part_bytes = part_bytes
        self.resend_seconds = resend_seconds
        self.clients: dict[Any, _Client] = {}
        self.transport: asyncio.DatagramTransport | None = None
        self.dropped_packets = 0
        self.dropped_clients = 0
        self.keepalives = 0
        self.acks = 0
        self.silent = False  # tests: stop answering commands (the datagram is still run)
        self._resender: asyncio.Task | None = None

    @property
    def port(self) -> int:
        assert self.transport is not None
        return self.transport.get_extra_info("sockname")[1]

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=(self.host, self._port))
        self._resender = loop.create_task(self._resend_loop())

    async def stop(self) -> None:
        if self._resender is not None:
            self._resender.cancel()
        if self.transport is not None:
            self.transport.close()

    def drop_connections(self) -> int:
        dropped = len(self.clients)
        self.clients.clear()
        return dropped

    # -- datagrams ------------------------------------------------------------------------
    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            packet = be.decode(data, from_server=False)
        except be.BattlEyeError:
            self.dropped_packets += 1
            return
        client = self.clients.get(addr)
        if packet.type == be.LOGIN:
            ok = packet.body.decode("utf-8", "replace") == self.password
            if ok:
                self.clients[addr] = _Client(logged_in=True)
            self._sendto(be.encode(be.LOGIN, b"\x01" if ok else b"\x00"), addr)
            return
        if client is None or not client.logged_in:
            self.dropped_packets += 1  # BattlEye ignores clients that did not log in
            return
        client.last_seen = time.monotonic()
        assert packet.seq is not None
        if packet.type == be.MESSAGE:
            if client.unacked.pop(packet.seq, None) is not None:
                self.acks += 1
            return
        text = packet.body.decode("utf-8", "replace")
        if text == "":
            self.keepalives += 1
            self._sendto(be.encode(be.COMMAND, bytes((packet.seq,))), addr)
            return
        output = self.players_table() if text.strip().lower() == "players" else \
            self.run_command(text)
        if self.silent:
            return
        self._answer(packet.seq, output.encode("utf-8"), addr)

    def _answer(self, seq: int, body: bytes, addr: Any) -> None:
        if len(body) <= self.part_bytes:
            self._sendto(be.encode(be.COMMAND, bytes((seq,)) + body), addr)
            return
        parts = [body[i:i + self.part_bytes] for i in range(0, len(body), self.part_bytes)]
        for index, part in enumerate(parts[:255]):
            self._sendto(be.encode(be.COMMAND, bytes((seq, 0, len(parts), index)) + part), addr)

    def _sendto(self, data: bytes, addr: Any) -> None:
        if self.transport is not None:
            self.transport.sendto(data, addr)

    # -- server messages --------------------------------------------------------------------
    def broadcast(self, message: str) -> None:
        """A server message (a join, chat) to every logged-in client; each must ack it."""
        for addr, client in self.clients.items():
            seq = client.msg_seq
            client.msg_seq = (seq + 1) % 256
            data = be.encode(be.MESSAGE, bytes((seq,)) + message.encode("utf-8"))
            client.unacked[seq] = (data, 1)
            self._sendto(data, addr)

    async def _resend_loop(self) -> None:
        while True:
            await asyncio.sleep(self.resend_seconds)
            now = time.monotonic()
            for addr, client in list(self.clients.items()):
                if now - client.last_seen > IDLE_DROP_SECONDS or any(
                        tries >= 5 for _, tries in client.unacked.values()):
                    del self.clients[addr]
                    self.dropped_clients += 1
                    continue
                for seq, (data, tries) in list(client.unacked.items()):
                    client.unacked[seq] = (data, tries + 1)
                    self._sendto(data, addr)


def players_table(online: list[Any]) -> str:
    """DayZ's ``players`` answer."""
    lines = ["Players on server:", "[#] [IP Address]:[Port] [Ping] [GUID] [Name]",
             "--------------------------------------------------"]
    for index, player in enumerate(online):
        guid = (player.uuid or "").replace("-", "")[:32].ljust(32, "0")
        lines.append(f"{index}   127.0.0.1:2304   32   {guid}(OK) {player.name}")
    lines.append(f"({len(online)} players in total)")
    return "\n".join(lines)
