"""An image's width and height read from its file header, before anything is decoded.

A small file can declare a huge image (a 60 KB PNG of 60000x60000 pixels decodes to
10 GB); OpenCV allocates the whole image before it finds out. Reading the declared size
first lets pose.io.inputs refuse such a file in one line. Only the formats the tools
accept are read; for anything else `declared_size` returns None and the decoded size is
checked instead.
"""
from __future__ import annotations

import re
import struct
from typing import Optional, Tuple

Size = Tuple[int, int]  # (width, height)

# JPEG start-of-frame markers (baseline, progressive, lossless, ...); C4, C8 and CC are not frames.
_JPEG_SOF = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_PNM = re.compile(rb"P[1-7](?:\s|#[^\n]*\n)+(\d+)(?:\s|#[^\n]*\n)+(\d+)")


def _png(data: bytes) -> Optional[Size]:
    if len(data) >= 24 and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    return None


def _jpeg(data: bytes) -> Optional[Size]:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length field
            pos += 2
            continue
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if marker in _JPEG_SOF and pos + 9 <= len(data):
            height, width = struct.unpack(">HH", data[pos + 5:pos + 9])
            return width, height
        if marker == 0xDA:  # scan data before any frame header: not a valid JPEG
            return None
        pos += 2 + length
    return None


def _bmp(data: bytes) -> Optional[Size]:
    if len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return abs(width), abs(height)  # a negative height means top-down rows
    return None


def _tiff(data: bytes) -> Optional[Size]:
    order = "<" if data[:2] == b"II" else ">"
    try:
        (first,) = struct.unpack(order + "I", data[4:8])
        (count,) = struct.unpack(order + "H", data[first:first + 2])
        found = {}
        for k in range(count):
            entry = data[first + 2 + 12 * k:first + 14 + 12 * k]
            tag, kind = struct.unpack(order + "HH", entry[:4])
            if tag in (256, 257):  # ImageWidth, ImageLength: SHORT (3) or LONG (4)
                value = struct.unpack(order + ("H" if kind == 3 else "I"), entry[8:10 if kind == 3 else 12])[0]
                found[tag] = value
        return (found[256], found[257]) if len(found) == 2 else None
    except (struct.error, KeyError):
        return None


def _webp(data: bytes) -> Optional[Size]:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        return (1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little"))
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    return None


def declared_size(data: bytes) -> Optional[Size]:
    """(width, height) an image file declares in its header, or None when the format is
    not one read here or the header is damaged (the decoder then has its say)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg(data)
    if data.startswith(b"BM"):
        return _bmp(data)
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return _tiff(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    match = _PNM.match(data[:256])
    return (int(match.group(1)), int(match.group(2))) if match else None
