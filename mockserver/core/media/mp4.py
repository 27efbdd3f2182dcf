"""MP4 box rewriting: the ``moov`` box moved in front of the media data (fast start), offsets shifted."""

from __future__ import annotations

import struct

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def boxes_in(data: bytes | memoryview, start: int, end: int) -> list[tuple[bytes, int, int, int]]:
    """``(type, box start, payload start, box end)`` for each box in ``data[start:end]``."""
    boxes = []
    while start + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, start)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, start + 8)
            header = 16
        elif size == 0:
            size = end - start
        if size < header or start + size > end:
            raise ValueError("malformed mp4 box")
        boxes.append((kind, start, start + header, start + size))
        start += size
    return boxes


def _shift_chunk_offsets(moov: bytearray, start: int, end: int, shift: int) -> None:
    """Add ``shift`` to every stco/co64 chunk offset inside ``moov[start:end]``."""
    for kind, _, payload, box_end in boxes_in(moov, start, end):
        if kind in _CONTAINERS:
            _shift_chunk_offsets(moov, payload, box_end, shift)
        elif kind in (b"stco", b"co64"):
            (count,) = struct.unpack_from(">I", moov, payload + 4)
            fmt = ">I" if kind == b"stco" else ">Q"
            step = struct.calcsize(fmt)
            for pos in range(payload + 8, payload + 8 + count * step, step):
                (offset,) = struct.unpack_from(fmt, moov, pos)
                struct.pack_into(fmt, moov, pos, offset + shift)


def faststart(data: bytes) -> bytes:
    """Move the ``moov`` box in front of the media data (what ``-movflags +faststart`` does).

    FFmpeg's own faststart re-opens the output file by name, which an in-memory buffer cannot.
    """
    boxes = boxes_in(data, 0, len(data))
    kinds = [kind for kind, *_ in boxes]
    if b"moov" not in kinds or b"mdat" not in kinds or kinds.index(b"moov") < kinds.index(b"mdat"):
        return data
    moov_box = next(box for box in boxes if box[0] == b"moov")
    moov = bytearray(data[moov_box[1] : moov_box[3]])
    if len(data) + len(moov) >= 2**32:
        return data  # 32-bit stco offsets could overflow; keep the original layout
    _shift_chunk_offsets(moov, 8, len(moov), len(moov))
    ftyp_end = boxes[0][3] if kinds[0] == b"ftyp" else 0
    rest = b"".join(data[start:end] for kind, start, _, end in boxes if kind != b"moov" and start >= ftyp_end)
    return data[:ftyp_end] + bytes(moov) + rest
