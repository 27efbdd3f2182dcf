"""``POST /api/upload``: files kept per key, referenced by id in a generation's ``images``/``videos`` arrays.

An upload's kind (image, video, audio) is sniffed from its bytes -- images must decode with Pillow,
videos are MP4/MOV (``ftyp``) or WebM/Matroska, audio MP3/WAV/OGG/FLAC -- and a declared
``Content-Type`` of another kind is refused, so a broken upload fails here and not in a generation.
Uploads are store records (kind ``"gateai_upload"``) owned by the key; another key's ids are unknown.
A record keeps the file's size and SHA-256, not its bytes: nothing reads them after the sniffing (a
generation only checks that its ids are this key's uploads of the right kind), and keeping them made
every upload cost its size in RAM until evicted.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from typing import Any

from mockserver.core.errors import INVALID, UNSUPPORTED, InvalidInput
from mockserver.core.runtime import Runtime

KIND = "gateai_upload"
#: ``params`` arrays that take upload ids, and the kind of file each accepts.
ID_FIELDS = {"images": "image", "videos": "video"}
MAX_FILES = 10


class InvalidUpload(InvalidInput):
    """An uploaded file (field ``file``) that is empty, unreadable (reason ``UNSUPPORTED``) or not what it claims."""

    def __init__(self, message: str, reason: str = INVALID, details: Any = None) -> None:
        super().__init__("file", message, reason, details)


def _is_image(data: bytes) -> bool:
    from PIL import Image, UnidentifiedImageError  # Pillow loads with the first upload, not at start-up

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return False
    return True


def sniff(data: bytes) -> str | None:
    """``"image"``, ``"video"``, ``"audio"`` or None, from the file's first bytes."""
    head = data[:16]
    if head[4:8] == b"ftyp":
        return "audio" if head[8:12] in (b"M4A ", b"M4B ") else "video"
    if head[:4] == b"\x1aE\xdf\xa3":
        return "video"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio"
    if (head[:4] == b"RIFF" and head[8:12] == b"WAVE") or head[:4] in (b"OggS", b"fLaC"):
        return "audio"
    if _is_image(data):
        return "image"
    return None


class Uploads:
    """Uploaded reference files of every key."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def save(self, owner: str, filename: str, content_type: str, data: bytes) -> dict[str, Any]:
        """Store one file; :class:`InvalidUpload` when it is empty, unreadable or its bytes are not the kind it
        claims."""
        if not data:
            raise InvalidUpload(f"Uploaded file {filename!r} is empty")
        kind = sniff(data)
        declared = content_type.split("/", 1)[0].strip().lower() if content_type else ""
        if kind is None:
            raise InvalidUpload(f"Uploaded file {filename!r} is not a readable image, video or audio file",
                                UNSUPPORTED, details={"content_type": content_type})
        if declared in ("image", "video", "audio") and declared != kind:
            raise InvalidUpload(f"Uploaded file {filename!r} is declared {content_type} but its bytes are {kind}",
                                details={"content_type": content_type, "detected": kind})
        file_id = self.runtime.rng.uuid4(KIND)
        record = {
            "id": file_id,
            "owner": owner,
            "filename": filename,
            "content_type": content_type or "application/octet-stream",
            "size": len(data),
            "kind": kind,
            "created_at": self.runtime.clock.now(),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        self.runtime.store.put(KIND, file_id, record, owner=owner)
        return record

    @staticmethod
    def view(record: Mapping[str, Any]) -> dict[str, Any]:
        return {key: record[key] for key in ("id", "filename", "content_type", "size", "kind")}

    def get(self, owner: str, file_id: str) -> dict[str, Any] | None:
        record = self.runtime.store.get(KIND, file_id)
        if record is None or record["owner"] != owner:
            return None
        return record

    def check(self, owner: str, params: Mapping[str, Any]) -> None:
        """Every id in ``images``/``videos`` is this key's upload of that kind; else :class:`InvalidInput` naming it."""
        for field, kind in ID_FIELDS.items():
            if field not in params:
                continue
            ids = params[field]
            if not isinstance(ids, list):
                raise InvalidInput(field, f"{field} must be an array of upload ids (POST /api/upload)")
            for index, file_id in enumerate(ids):
                name = f"{field}[{index}]"
                record = self.get(owner, file_id) if isinstance(file_id, str) else None
                if record is None:
                    raise InvalidInput(name, f"{name}: unknown upload id {file_id!r}")
                if record["kind"] != kind:
                    message = f"{name}: upload {file_id} is a {record['kind']} file, {field} takes {kind}s"
                    raise InvalidInput(name, message, details={"expected": kind, "got": record["kind"]})
