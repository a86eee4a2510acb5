"""BattlEye RCon protocol v2 (DayZ, Arma 2/3), the datagram format shared by the adapter and
the simulator. Every packet: ``B`` ``E`` | CRC32 (little endian) of what follows | ``0xFF`` |
type | payload.

- login (0x00): client ``password``; server ``0x01`` (ok) or ``0x00`` (refused)
- command (0x01): client ``seq`` ``command`` (an empty command is a keep-alive); server ``seq``
  then either the answer or, when it spans several packets, ``0x00`` ``count`` ``index`` and
  that part of the answer
- server message (0x02): server ``seq`` ``message``; the client must send back ``0x02``
  ``seq`` or the server repeats it (5 times in 10 s) and then drops the client

No library fits: berconpy (the maintained one) needs Python 3.10, the agent supports 3.9.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

LOGIN = 0x00
COMMAND = 0x01
MESSAGE = 0x02
MAX_DATAGRAM = 65507
_HEAD = b"BE"


class BattlEyeError(ValueError):
    """A datagram that is not a well-formed BattlEye packet (dropped, never fatal)."""


@dataclass(frozen=True)
class BEPacket:
    type: int
    seq: int | None  # None for login packets
    body: bytes
    # Multi-part answers: (count, index), else None.
    part: tuple[int, int] | None = None


def encode(type_: int, payload: bytes) -> bytes:
    rest = bytes((0xFF, type_)) + payload
    return _HEAD + struct.pack("<I", zlib.crc32(rest) & 0xFFFFFFFF) + rest


def login(password: str) -> bytes:
    return encode(LOGIN, password.encode("utf-8"))


def command(seq: int, text: str) -> bytes:
    return encode(COMMAND, bytes((seq & 0xFF,)) + text.encode("utf-8"))


def ack(seq: int) -> bytes:
    return encode(MESSAGE, bytes((seq & 0xFF,)))


def decode(data: bytes, *, from_server: bool = True) -> BEPacket:
    """Parse one datagram; BattlEyeError for anything malformed (wrong magic, checksum,
    truncated, impossible multi-part header)."""
    if len(data) < 8 or len(data) > MAX_DATAGRAM:
        raise BattlEyeError(f"datagram of {len(data)} bytes")
    if data[:2] != _HEAD:
        raise BattlEyeError("not a BattlEye packet")
    (crc,) = struct.unpack("<I", data[2:6])
    rest = data[6:]
    if zlib.crc32(rest) & 0xFFFFFFFF != crc:
        raise BattlEyeError("checksum mismatch")
    if rest[0] != 0xFF:
        raise BattlEyeError("missing 0xFF")
    type_, payload = rest[1], rest[2:]
    if type_ == LOGIN:
        if from_server and len(payload) != 1:
            raise BattlEyeError("login answer must be one byte")
        return BEPacket(LOGIN, None, bytes(payload))
    if type_ not in (COMMAND, MESSAGE):
        raise BattlEyeError(f"unknown packet type {type_}")
    if not payload:
        raise BattlEyeError("packet without a sequence number")
    seq, body = payload[0], bytes(payload[1:])
    if type_ == COMMAND and from_server and body[:1] == b"\x00":
        if len(body) < 3:
            raise BattlEyeError("truncated multi-part header")
        count, index = body[1], body[2]
        if count == 0 or index >= count:
            raise BattlEyeError(f"multi-part index {index} of {count}")
        return BEPacket(COMMAND, seq, body[3:], (count, index))
    return BEPacket(type_, seq, body)
