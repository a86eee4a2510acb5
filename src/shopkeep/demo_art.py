"""Product and banner art for the demo store, drawn here (no downloads, no image library):
a diagonal gradient with a glowing emblem, written as a PNG with zlib."""

from __future__ import annotations

import math
import struct
import zlib

Color = tuple[int, int, int]


def _png(width: int, height: int, rows: list[bytes]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + row for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def _mix(a: Color, b: Color, t: float) -> Color:
    t = max(0.0, min(1.0, t))
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t),
            round(a[2] + (b[2] - a[2]) * t))


def _star(points: int, outer: float, inner: float) -> list[tuple[float, float]]:
    return [((outer if i % 2 == 0 else inner) * math.sin(i * math.pi / points),
             -(outer if i % 2 == 0 else inner) * math.cos(i * math.pi / points))
            for i in range(points * 2)]


# Emblems as polygons in unit coordinates (y grows downwards), centred on 0,0.
SHAPES: dict[str, list[tuple[float, float]]] = {
    "crown": [(-0.62, 0.38), (-0.62, -0.32), (-0.31, 0.0), (0.0, -0.5), (0.31, 0.0),
              (0.62, -0.32), (0.62, 0.38)],
    "gem": [(-0.6, -0.12), (-0.32, -0.45), (0.32, -0.45), (0.6, -0.12), (0.0, 0.52)],
    "star": _star(5, 0.6, 0.26),
    "shield": [(-0.5, -0.45), (0.5, -0.45), (0.5, 0.05), (0.0, 0.55), (-0.5, 0.05)],
    "bolt": [(0.1, -0.6), (-0.4, 0.08), (-0.02, 0.08), (-0.12, 0.6), (0.42, -0.12),
             (0.04, -0.12)],
}


def _polygon_distance(poly: list[tuple[float, float]], x: float, y: float) -> float:
    """Signed distance to the polygon's edge: negative inside."""
    best = float("inf")
    inside = False
    j = len(poly) - 1
    for i in range(len(poly)):
        (xi, yi), (xj, yj) = poly[i], poly[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        dx, dy = xj - xi, yj - yi
        t = max(0.0, min(1.0, ((x - xi) * dx + (y - yi) * dy) / (dx * dx + dy * dy)))
        best = min(best, math.hypot(x - xi - t * dx, y - yi - t * dy))
        j = i
    return -best if inside else best


def _emblem_distance(shape: str, x: float, y: float) -> float:
    if abs(x) > 0.95 or abs(y) > 0.95:
        return 1.0  # far outside every emblem: no glow to compute
    return _polygon_distance(SHAPES[shape], x, y)


def product_art(shape: str, top: Color, bottom: Color, glow: Color, *, width: int = 480,
                height: int = 320, block: int = 2) -> bytes:
    """Drawn in ``block``-pixel squares (a blocky look, and four times less arithmetic)."""
    rows = []
    scale = height * 0.45
    cx, cy = width / 2, height / 2
    for by in range(0, height, block):
        row = bytearray()
        for bx in range(0, width, block):
            px, py = bx + block / 2, by + block / 2
            background = _mix(top, bottom, (px / width + py / height) / 2)
            d = _emblem_distance(shape, (px - cx) / scale, (py - cy) / scale)
            if d < 0:
                # Inside: lit from the top.
                colour = _mix((255, 255, 255), glow, 0.35 + 0.4 * (py - cy + scale) / (2 * scale))
            else:
                colour = _mix(background, glow, max(0.0, 0.55 - d * 2.2))
            row += bytes(colour) * block
        rows.extend([bytes(row[: width * 3])] * block)
    return _png(width, height, rows[:height])


def banner_art(top: Color, bottom: Color, *, width: int = 1200, height: int = 360) -> bytes:
    """A night sky over blocky hills."""
    rows = []
    for py in range(height):
        row = bytearray()
        for px in range(width):
            colour = _mix(top, bottom, py / height)
            hill = height * (0.72 - 0.12 * math.sin(px / 90) - 0.05 * math.sin(px / 23))
            hill = height * 0.5 + (hill - height * 0.5) // 12 * 12  # stepped, like blocks
            if py > hill:
                colour = _mix((22, 101, 52), (10, 40, 24), (py - hill) / (height - hill + 1))
            elif ((px * 73856093) ^ (py * 19349663)) % 1499 == 0 and py < hill - 20:
                colour = (255, 255, 255)
            row += bytes(colour)
        rows.append(bytes(row))
    return _png(width, height, rows)


def logo_art(colour: Color, *, size: int = 96) -> bytes:
    return product_art("gem", colour, _mix(colour, (0, 0, 0), 0.5), (255, 255, 255),
                       width=size, height=size)
