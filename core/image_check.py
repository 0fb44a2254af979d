"""Is this a last-rendered image Blender may load? Checked on a background thread before the
bytes reach Blender's image loader (bpy.data.images.load, a preview collection), because they
come from the network: an HTML page, a truncated file or a 20,000 × 20,000 JPEG (1.6 GB once
decoded, from a 2 MB download) must be refused with a message, not decoded.

Only the header is read: JPEG (the Manager's last-rendered.jpg and -small.jpg) and PNG."""

from __future__ import annotations

import struct
from typing import Optional

MAX_SIDE = 8192  # the Manager scales last-rendered images down to 1920 px
MAX_PIXELS = 8192 * 4608  # 8K UHD: ~150 MB as Blender's float buffer, still fine
MAX_BYTES = 64 * 1024 * 1024

_PNG = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic …), not DHT/JPG/DAC.
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class ImageRefused(ValueError):
    """The bytes are not an image this add-on will hand to Blender; the text says why."""


def dimensions(data: bytes) -> tuple[str, int, int]:
    """(format, width, height) from the header, or ImageRefused."""
    if data.startswith(_PNG):
        if len(data) < 24 or data[12:16] != b"IHDR":
            raise ImageRefused("the PNG file is cut short")
        width, height = struct.unpack(">II", data[16:24])
        return "PNG", width, height
    if data.startswith(b"\xff\xd8"):
        return ("JPEG", *_jpeg_size(data))
    start = data[:40].decode("latin-1")
    what = "an HTML page" if "<" in start and "html" in data[:200].decode("latin-1").lower() else "not an image"
    raise ImageRefused(f"it is {what} (starts with {start[:20]!r})")


def _jpeg_size(data: bytes) -> tuple[int, int]:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ImageRefused("the JPEG file is damaged")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if marker in _SOF:
            if pos + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[pos + 5:pos + 9])
            return width, height
        if marker == 0xDA or length < 2:  # image data before any frame header
            raise ImageRefused("the JPEG file has no frame header")
        pos += 2 + length
    raise ImageRefused("the JPEG file is cut short")


def refusal(data: bytes) -> Optional[str]:
    """Why `data` must not be loaded, or None when it may."""
    if len(data) > MAX_BYTES:
        return f"it is {len(data) / 1e6:.0f} MB"
    try:
        kind, width, height = dimensions(data)
    except ImageRefused as ex:
        return str(ex)
    if width <= 0 or height <= 0:
        return f"the {kind} image is {width} × {height} pixels"
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        return f"the {kind} image is {width:,} × {height:,} pixels, more than this add-on loads"
    return None


def check(data: bytes, what: str = "The last rendered frame") -> bytes:
    """`data` unchanged, or ImageRefused with a sentence for the artist."""
    problem = refusal(data)
    if problem:
        raise ImageRefused(f"{what} from the Manager was not loaded: {problem}")
    return data
