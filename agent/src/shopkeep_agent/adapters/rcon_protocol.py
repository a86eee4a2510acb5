"""Source RCON packets: shared by the client adapter and the simulator's server.

Wire format (Valve's Source RCON protocol, also spoken by Minecraft): a little-endian int32
``size`` counting the bytes after itself, then int32 ``id``, int32 ``type``, the body and two
NUL bytes (the body's terminator and an empty second string).
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass

SERVERDATA_AUTH = 3
SERVERDATA_AUTH_RESPONSE = 2
SERVERDATA_EXECCOMMAND = 2
SERVERDATA_RESPONSE_VALUE = 0

PREFIX = struct.Struct("<ii")
SIZE = struct.Struct("<i")
# id + type + the two NUL bytes: the smallest legal value of the size field.
MIN_SIZE = 10
# Valve documents 4096 as the largest size field; Minecraft splits its answers into 4096-byte
# bodies (size 4106). Some servers send more, so readers take a limit as a parameter.
SPEC_MAX_SIZE = 4096
MAX_RESPONSE_BODY = 4096


class ProtocolError(Exception):
    """The byte stream is not Source RCON (wrong port, corrupt stream, hostile peer)."""


@dataclass(frozen=True)
class Packet:
    id: int
    type: int
    body: bytes


def encode_packet(packet_id: int, packet_type: int, body: bytes) -> bytes:
    payload = PREFIX.pack(packet_id, packet_type) + body + b"\x00\x00"
    return SIZE.pack(len(payload)) + payload


async def read_packet(reader: asyncio.StreamReader, *, max_size: int) -> Packet:
    """Read one packet. Raises asyncio.IncompleteReadError on EOF, ProtocolError on garbage."""
    raw_size = await reader.readexactly(4)
    (size,) = SIZE.unpack(raw_size)
    # Checked before reading the rest so a stray peer cannot make us allocate gigabytes.
    if size < MIN_SIZE or size > max_size:
        raise ProtocolError(f"packet size {size} outside {MIN_SIZE}..{max_size}")
    data = await reader.readexactly(size)
    packet_id, packet_type = PREFIX.unpack_from(data)
    body = data[8:]
    # The body ends with a NUL and is followed by an (empty) second string's NUL. Servers
    # disagree on the details (Source sometimes splits text across both strings), so keep
    # everything before the trailing NULs rather than cutting at the first one.
    return Packet(packet_id, packet_type, body.rstrip(b"\x00"))
