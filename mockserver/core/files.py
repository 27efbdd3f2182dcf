"""Output files served by the mock: a name -> media recipe registry; bytes rendered on download.

Only the recipe (a :class:`~mockserver.core.media.MediaSpec`) is stored. A file's size is
declared by its recipe (no rendering to learn it); its bytes are rendered only when downloaded,
by a worker of the :class:`~mockserver.core.render_pool.RenderPool` (never on the event loop).
Rendering is deterministic and cached, so a file's bytes and size are the same on every request
and every server process.
"""

from __future__ import annotations

import hashlib
import json
import operator
import sys
from dataclasses import asdict, dataclass, fields

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockserver.core import media
from mockserver.core.errors import ApiError
from mockserver.core.render_pool import RenderPool
from mockserver.core.store import Record, Store

KIND = "file"
#: The recipe's fields, in the order a file record keeps their values.
SPEC_FIELDS = fields(media.MediaSpec)
#: A recipe's field values in field order, in one call (``format`` first).
_spec_values = operator.attrgetter(*(field.name for field in SPEC_FIELDS))
assert SPEC_FIELDS[0].name == "format"
#: Files are served under this path on every API's port.
ROUTE_PREFIX = "/files/"
#: File infos remembered for views (a created job's files are looked up as its view is rendered).
KNOWN_FILES = 1024


@dataclass(frozen=True)
class FileInfo:
    """What ``metadata.storage.files[]`` and the file route need."""

    name: str
    content_type: str
    size: int


def _info(name: str, spec: media.MediaSpec) -> FileInfo:
    return FileInfo(name=name, content_type=media.content_type(spec.format), size=media.declared_size(spec))


class Files:
    """Registry of generated files, owned by the job that produced them."""

    def __init__(self, store: Store) -> None:
        self.store = store
        #: name -> (its record, its info): reused while the store returns that very record object (an in-memory
        #: store; a shared one returns new objects, so its files are looked up anew); bounded
        self._known: dict[str, tuple[Record, FileInfo]] = {}

    def _remember(self, name: str, record: Record, info: FileInfo) -> FileInfo:
        if len(self._known) >= KNOWN_FILES:
            self._known.clear()
        self._known[name] = (record, info)
        return info

    def register(self, name: str, spec: media.MediaSpec, job_id: str, owner: str | None = None) -> None:
        """Remember a file of ``job_id``; owned by the job's key (its retention budget pays for it).

        The recipe is kept compact: its field values in field order, as a tuple (the name is the record's key), the
        format string shared by every file of that format."""
        values = _spec_values(spec)
        record = {"job": job_id, "spec": (sys.intern(values[0]), *values[1:])}
        self.store.put(KIND, name, record, owner=owner)
        self._remember(name, record, _info(name, spec))

    def spec(self, name: str) -> media.MediaSpec | None:
        record = self.store.get(KIND, name)
        return None if record is None else media.MediaSpec(*record["spec"])

    def info(self, name: str) -> FileInfo | None:
        record = self.store.get(KIND, name)
        if record is None:
            return None
        known = self._known.get(name)
        if known is not None and known[0] is record:
            return known[1]
        return self._remember(name, record, _info(name, media.MediaSpec(*record["spec"])))

    def remove(self, names: list[str]) -> None:
        for name in names:
            self.store.delete(KIND, name)
            self._known.pop(name, None)


def file_name(file_id: str, fmt: str) -> str:
    return f"{file_id}.{media.extension(fmt)}"


def etag(spec: media.MediaSpec) -> str:
    """A strong ETag: the digest of the recipe (equal recipes render equal bytes)."""
    digest = hashlib.sha256(json.dumps(asdict(spec), sort_keys=True).encode()).hexdigest()[:32]
    return f'"{digest}"'


def file_route(files: Files, pool: RenderPool, cache_control: str) -> Route:
    """``GET /files/{name}``: an output file with its real content type (public, like a CDN URL).

    ``HEAD`` answers from the recipe alone; ``GET`` awaits a render worker.
    """

    async def get_file(request: Request) -> Response:
        spec = files.spec(request.path_params["name"])
        if spec is None:
            raise ApiError(404, "NOT_FOUND", "This file does not exist or was deleted with its job")
        headers = {"cache-control": cache_control, "etag": etag(spec)}
        content_type = media.content_type(spec.format)
        if headers["etag"] in request.headers.get("if-none-match", ""):
            return Response(None, status_code=304, headers=headers)
        if request.method == "HEAD":
            headers["content-length"] = str(media.declared_size(spec))
            return Response(None, media_type=content_type, headers=headers)
        return Response(await pool.render(spec), media_type=content_type, headers=headers)

    return Route(ROUTE_PREFIX + "{name}", get_file, methods=["GET", "HEAD"])
