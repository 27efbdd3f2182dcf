"""Output files served by the mock: a name -> media recipe registry; bytes rendered on demand.

Only the recipe (a :class:`~mockserver.core.media.MediaSpec`) is stored; rendering is
deterministic and cached, so a file's bytes and size are the same on every request and every
server process.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockserver.core import media
from mockserver.core.errors import ApiError
from mockserver.core.store import Store

KIND = "file"
#: Files are served under this path on every API's port.
ROUTE_PREFIX = "/files/"


@dataclass(frozen=True)
class FileInfo:
    """What ``metadata.storage.files[]`` and the file route need."""

    name: str
    content_type: str
    size: int


class Files:
    """Registry of generated files, owned by the job that produced them."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def register(self, name: str, spec: media.MediaSpec, job_id: str) -> None:
        self.store.put(KIND, name, {"name": name, "job": job_id, "spec": asdict(spec)})

    def spec(self, name: str) -> media.MediaSpec | None:
        record = self.store.get(KIND, name)
        return None if record is None else media.MediaSpec(**record["spec"])

    def info(self, name: str) -> FileInfo | None:
        spec = self.spec(name)
        if spec is None:
            return None
        return FileInfo(name=name, content_type=media.content_type(spec.format), size=len(media.render(spec)))

    def read(self, name: str) -> tuple[bytes, str] | None:
        spec = self.spec(name)
        if spec is None:
            return None
        return media.render(spec), media.content_type(spec.format)

    def remove(self, names: list[str]) -> None:
        for name in names:
            self.store.delete(KIND, name)


def file_name(file_id: str, fmt: str) -> str:
    return f"{file_id}.{media.extension(fmt)}"


def file_route(files: Files) -> Route:
    """``GET /files/{name}``: an output file with its real content type (public, like a CDN URL)."""

    async def get_file(request: Request) -> Response:
        found = files.read(request.path_params["name"])
        if found is None:
            raise ApiError(404, "NOT_FOUND", "This file does not exist or was deleted with its job")
        data, content_type = found
        return Response(data, media_type=content_type, headers={"cache-control": "public, max-age=31536000, immutable"})

    return Route(ROUTE_PREFIX + "{name}", get_file, methods=["GET", "HEAD"])
