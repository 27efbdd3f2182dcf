"""The documented Prediction Object, read from a prediction record as of a moment.

Views only read: they never write to the store and never render media (file sizes are declared by the
recipes). Where the client reaches the API comes in as :class:`Links`, built by the routes.
"""

from __future__ import annotations

import mimetypes
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from mockserver.core.clock import isoformat
from mockserver.core.files import Files
from mockserver.core.http import json_bytes, split_url
from mockserver.core.jobs import JobEngine, JobState, entered


@dataclass(frozen=True)
class Links:
    """The URL prefixes a view prints: ``<base>/v1`` for the API and ``<base>/files/`` for output files."""

    api: str
    files: str

    def prediction(self, pid: str) -> str:
        return f"{self.api}/predictions/{pid}"

    def prediction_urls(self, pid: str) -> dict[str, str]:
        """The Prediction Object's ``urls``: where to get, cancel, stream and delete it."""
        url = self.prediction(pid)
        return {"get": url, "cancel": f"{url}/cancel", "stream": f"{url}/stream", "delete": f"{url}/delete"}

    def file(self, name: str) -> str:
        return self.files + name


def _is_http_url(value: str) -> bool:
    parts = split_url(value)
    return parts is not None and parts.scheme in ("http", "https") and bool(parts.netloc)


def given_files(output: Any, files: Files) -> list[dict[str, Any]]:
    """``metadata.storage.files`` for a scripted output: one entry per http(s) URL in it.

    ``name`` is the URL's last path segment; ``type`` and ``size`` are the real ones when the URL
    names one of the mock's own files, else ``type`` is guessed from the extension and ``size`` is
    null (unknown). Values that are not URLs (text, numbers, objects) have no file entry.
    """
    entries: list[dict[str, Any]] = []
    for value in output if isinstance(output, list) else [output]:
        if not isinstance(value, str) or not _is_http_url(value):
            continue
        parts = split_url(value)
        assert parts is not None  # _is_http_url said so
        name = PurePosixPath(parts.path).name or parts.netloc
        info = files.info(name) if "/files/" in parts.path else None
        if info is not None:
            entries.append({"name": name, "type": info.content_type, "size": info.size, "url": value})
        else:
            kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
            entries.append({"name": name, "type": kind, "size": None, "url": value})
    return entries


#: How many rendered views :class:`PredictionViews` keeps (least recently used go first).
VIEW_CACHE_SIZE = 4096


#: A cached view: the record it was rendered from, its state (status, entered at), the view, its JSON (once asked).
_Cached = list[Any]


class PredictionViews:
    """Renders prediction records (read only).

    A view depends on the clock only through the job's current phase, so the latest views are kept per
    (record, links) -- with their JSON bytes, once asked for -- and reused while the record is the same object (the
    store replaces a record on every change) and the clock is still inside the phase the view was rendered in.
    Callers must not change a returned view.
    """

    def __init__(self, engine: JobEngine, files: Files) -> None:
        self.engine = engine
        self.files = files
        self._cache: OrderedDict[tuple[str, Links], _Cached] = OrderedDict()
        self._lock = threading.Lock()

    def _output(self, record: dict[str, Any], links: Links) -> tuple[Any, list[dict[str, Any]]]:
        """The output and ``metadata.storage.files`` of a succeeded prediction."""
        if record.get("given_output") is not None:
            output = record["given_output"]
            return output, given_files(output, self.files)
        storage = [
            {"name": info.name, "type": info.content_type, "size": info.size, "url": links.file(info.name)}
            for info in map(self.files.info, record["files"])
            if info is not None
        ]
        urls = [entry["url"] for entry in storage]
        return (urls if record["output_array"] else (urls[0] if urls else None)), storage

    @staticmethod
    def _metrics(record: dict[str, Any], state: JobState, started: float | None) -> dict[str, Any]:
        if not state.terminal:
            return {}
        total = round(state.entered_at - record["created_at"], 6)
        processing_time = record["predict_time"] if state.status != "cancelled" else round(
            max(state.entered_at - (started or state.entered_at), 0.0), 6)
        metrics: dict[str, Any] = {"predict_time": processing_time, "total_time": max(total, processing_time)}
        if record["model_type"] == "image" and state.status == "succeeded":
            given = record.get("given_output")
            metrics["image_count"] = (len(record["files"]) if given is None
                                      else len(given) if isinstance(given, list) else 1)
        return metrics

    def view(self, record: dict[str, Any], links: Links, now: float | None = None) -> dict[str, Any]:
        """The documented Prediction Object as of ``now`` (the cached one while its state holds)."""
        return self._cached(record, links, now)[2]

    def encoded(self, record: dict[str, Any], links: Links, now: float | None = None) -> bytes:
        """:meth:`view` as compact JSON (:func:`~mockserver.core.http.json_bytes`), encoded once per cached view."""
        cached = self._cached(record, links, now)
        if cached[3] is None:
            cached[3] = json_bytes(cached[2])
        return cached[3]

    def _cached(self, record: dict[str, Any], links: Links, now: float | None) -> _Cached:
        """``[record, state, view, JSON or None]``, cached while the record is the same object in the same state.

        A view is a function of the record, the links and the record's state (status and when it was entered),
        so a cached one is reused while the record is the same object and the engine reports the same state.
        """
        now = self.engine.clock.now() if now is None else now
        state = self.engine.state(record, now)
        key, held = (record["id"], links), (state.status, state.entered_at)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] is record and hit[1] == held:
                self._cache.move_to_end(key)
                return hit
        fresh: _Cached = [record, held, self.render(record, links, now), None]
        if record.get("given_output") is not None:  # may name other jobs' files, which can go at any time
            return fresh
        with self._lock:
            self._cache[key] = fresh
            self._cache.move_to_end(key)
            while len(self._cache) > VIEW_CACHE_SIZE:
                self._cache.popitem(last=False)
        return fresh

    def render(self, record: dict[str, Any], links: Links, now: float) -> dict[str, Any]:
        """The documented Prediction Object as of ``now``, rendered anew."""
        state = self.engine.state(record, now)
        line = [(status, at) for status, at in self.engine.timeline(record) if at <= state.entered_at]
        started = entered(line, "processing")
        succeeded = state.status == "succeeded"
        output, storage = self._output(record, links) if succeeded else (None, [])
        body: dict[str, Any] = {
            "id": record["id"],
            "status": state.status,
            "type": "inference",
            "stream": record["stream"],
            "input": record["input"],
            "output": output,
            "created_at": isoformat(record["created_at"]),
            "started_at": isoformat(started) if started is not None else None,
            "completed_at": isoformat(state.entered_at) if state.terminal else None,
            "updated_at": isoformat(state.entered_at),
            "privacy": "private",
            "source": "api",
            "model": {"name": record["model"], "type": record["model_type"]},
            "webhook": record["webhook"],
            "metrics": self._metrics(record, state, started),
            "metadata": {
                "billing": {"credits_used": record["credits"] if succeeded else 0},
                "storage": {"files": storage},
                "data_available": succeeded and not record["deleted"],
            },
            "urls": links.prediction_urls(record["id"]),
        }
        if state.status == "failed":
            body["error"] = record["error"]
            body["response"] = record["error"]
        return body
