"""Real image bytes for upload tests, made with Pillow, and decompression bombs: tiny files
whose headers declare huge dimensions."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (2, 2), **options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, fmt, **options)
    return buffer.getvalue()


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid PNG header (correct CRC) that declares ``width`` x ``height``."""
    data = bytearray(image_bytes("PNG", (1, 1)))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4:ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr:ihdr + 17])) & 0xFFFFFFFF
    data[ihdr + 17:ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)


def jpeg_bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    """A JPEG whose start-of-frame declares ``width`` x ``height`` (JPEG's max is 65535)."""
    data = bytearray(image_bytes("JPEG", (1, 1)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


PNG = image_bytes("PNG")
