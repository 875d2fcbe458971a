#!/usr/bin/env python3
"""Draw Sotto's icon (a microphone capsule on a rounded square) as RGBA PNGs: Tauri needs
RGBA, and drawing it here keeps the repository free of binary design files with no source."""
import math, struct, sys, zlib
from pathlib import Path

def png(path, size):
    px = bytearray()
    s = size / 512.0
    for y in range(size):
        px.append(0)  # filter: none
        for x in range(size):
            X, Y = (x + 0.5) / s, (y + 0.5) / s
            # rounded square, radius 112, with a 1 px soft edge
            dx, dy = max(abs(X - 256) - 144, 0), max(abs(Y - 256) - 144, 0)
            edge = math.hypot(dx, dy) - 112
            a = max(0.0, min(1.0, 0.5 - edge * s))
            t = Y / 512
            r, g, b = int(34 + 20 * t), int(94 + 40 * t), int(168 - 30 * t)
            # microphone: capsule (x 206..306, y 120..300), arc, stem and base
            cap = math.hypot(max(abs(X - 256) - 0, 0), max(abs(Y - 210) - 40, 0)) - 50
            arc_d = abs(math.hypot(X - 256, Y - 250) - 90) - 11
            arc = arc_d if Y > 250 else 99
            stem = max(abs(X - 256) - 11, abs(Y - 370) - 30)
            base = max(abs(X - 256) - 55, abs(Y - 400) - 11)
            d = min(cap, arc, stem, base)
            w = max(0.0, min(1.0, 0.5 - d * s))
            r, g, b = (int(r + (250 - r) * w), int(g + (250 - g) * w), int(b + (250 - b) * w))
            px += bytes((r, g, b, int(255 * a)))
    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c))
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(px), 9)) + chunk(b"IEND", b""))

out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent.parent / "icons")
for name, size in [("32x32.png", 32), ("128x128.png", 128), ("128x128@2x.png", 256), ("icon.png", 512)]:
    png(out / name, size)
