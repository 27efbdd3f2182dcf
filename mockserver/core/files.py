"""Output files served by the mock: each lives in the record of the job that produced it; bytes rendered on download.

A job record keeps its files' names (the fields its :class:`~mockserver.core.jobs.JobKind` names) and, in
``file_specs``, their recipes (a :class:`~mockserver.core.media.MediaSpec`'s field values, in the same order). A
file is found through its name, which starts with its job's id (:func:`job_of`): it exists exactly as long as its
job does, is dropped with it (delete, eviction, expiry) or when the job is cancelled, and costs no record of its
own -- one store write less per job, and on a shared store one round trip less to create a job and to show it.
A file's size is declared by its recipe (no rendering to learn it); its bytes are rendered only when downloaded, by
a worker of the :class:`~mockserver.core.render_pool.RenderPool` (never on the event loop). Rendering is
deterministic and cached, so a file's bytes and size are the same on every request and every server process.
"""

from __future__ import annotations

import functools
import hashlib
import json
import operator
import sys
from collections.abc import Iterable
from dataclasses import asdict, fields
from typing import Any, NamedTuple, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockserver.core import media
from mockserver.core.errors import ApiError
from mockserver.core.render_pool import RenderPool

#: The recipe's fields, in the order a job record keeps their values.
SPEC_FIELDS = fields(media.MediaSpec)
#: A recipe's field values in field order, in one call (``format`` first).
_spec_values = operator.attrgetter(*(field.name for field in SPEC_FIELDS))
assert SPEC_FIELDS[0].name == "format"
#: Files are served under this path on every API's port.
ROUTE_PREFIX = "/files/"
#: A job record's field holding its files' recipes (:func:`recipe`), in the order of its file names.
SPECS_FIELD = "file_specs"

Recipe = tuple[Any, ...]


class FileInfo(NamedTuple):
    """What ``metadata.storage.files[]`` and the file route need (a named tuple: one per file of every view)."""

    name: str
    content_type: str
    size: int


def recipe(spec: media.MediaSpec) -> Recipe:
    """``spec`` as a job record keeps it: its field values in field order, the format string shared by every file
    of that format (a tuple of plain values: JSON-compatible, and left alone by the garbage collector)."""
    values = _spec_values(spec)
    return (sys.intern(values[0]), *values[1:])


def spec_of(values: Iterable[Any]) -> media.MediaSpec:
    """The recipe a job record kept (a tuple, or the list a JSON store gives back)."""
    return media.MediaSpec(*values)


def info_of(name: str, spec: media.MediaSpec) -> FileInfo:
    return FileInfo(name=name, content_type=media.content_type(spec.format), size=media.declared_size(spec))


#: Formats whose declared size depends on the recipe's seed and label too (a mesh is sized by encoding it).
SIZED_BY_CONTENT = frozenset({"glb"})
#: The recipe fields that decide a file's type and size, but for :data:`SIZED_BY_CONTENT` (every field up to and
#: without the seed and the label: a unit test holds the declared size to that).
SHAPE_FIELDS = SEED_INDEX = [field.name for field in SPEC_FIELDS].index("seed")


def info_from_recipe(name: str, values: Recipe) -> FileInfo:
    """:func:`info_of` the recipe a job record kept, with the type and size of equal shapes computed once."""
    if values[0] in SIZED_BY_CONTENT:
        return info_of(name, spec_of(values))
    return FileInfo(name, *_type_and_size(tuple(values[:SHAPE_FIELDS])))


@functools.lru_cache(maxsize=512)
def _type_and_size(shape: Recipe) -> tuple[str, int]:
    spec = media.MediaSpec(*shape)
    return media.content_type(spec.format), media.declared_size(spec)


def file_name(job_id: str, index: int, fmt: str, tag: str = "") -> str:
    """The name of a job's ``index``-th output file: ``<job id><tag>-<index>.<ext>`` (``tag``, if any, starts with
    ``_``; a job id holds no ``_``, so :func:`job_of` finds it again)."""
    return f"{job_id}{tag}-{index}.{media.extension(fmt)}"


def job_of(name: str) -> str:
    """The id of the job whose output file is named ``name`` (see :func:`file_name`)."""
    return name.rsplit("-", 1)[0].split("_", 1)[0]


class FileSource(Protocol):
    """Where files are found: a job engine, by a file's name."""

    def output_spec(self, name: str) -> media.MediaSpec | None: ...


class Files:
    """Every job kind's output files, found through the jobs that own them (see the module)."""

    def __init__(self) -> None:
        self._sources: dict[str, FileSource] = {}

    def add_source(self, kind: str, source: FileSource) -> None:
        """Look files up in ``source`` too: each job engine adds itself under its kind (a later engine of the same
        kind, reading the same store, takes the place of the earlier)."""
        self._sources[kind] = source

    def spec(self, name: str) -> media.MediaSpec | None:
        """The recipe of the file ``name``; None if no live job has it (deleted, evicted, cancelled, never made)."""
        for source in self._sources.values():
            found = source.output_spec(name)
            if found is not None:
                return found
        return None

    def info(self, name: str) -> FileInfo | None:
        spec = self.spec(name)
        return None if spec is None else info_of(name, spec)


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
