"""The documented Prediction Object, read from a prediction record as of a moment.

Views only read: they never write to the store and never render media (file sizes are declared by the
recipes). Where the client reaches the API comes in as :class:`Links`, built by the routes.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from mockserver.core.clock import isoformat
from mockserver.core.files import SPECS_FIELD, Files
from mockserver.core.http import split_url
from mockserver.core.jobs import CompactRecord, JobEngine, JobState, Phases
from mockserver.core.view_cache import CachedView, ViewCache, phase_window


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


class PredictionViews:
    """Renders prediction records (read only).

    A view depends on the clock only through the job's current phase, so the latest views are kept per
    (record, links) -- as their JSON bytes -- and reused while the record is the same object (the
    store replaces a record on every change) and the clock is still inside the phase the view was rendered in
    (:mod:`mockserver.core.view_cache`).
    """

    def __init__(self, engine: JobEngine, files: Files) -> None:
        self.engine = engine
        self.files = files
        self._cache = ViewCache()

    def _output(self, record: dict[str, Any], links: Links) -> tuple[Any, list[dict[str, Any]]]:
        """The output and ``metadata.storage.files`` of a succeeded prediction."""
        if record.get("given_output") is not None:
            output = record["given_output"]
            return output, given_files(output, self.files)
        files = links.files  # links.file(name), one call fewer per file
        storage = [
            {"name": info.name, "type": info.content_type, "size": info.size, "url": files + info.name}
            for info in self.engine.output_infos(record)
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
            metrics["image_count"] = (len(record.get(SPECS_FIELD) or ()) if given is None
                                      else len(given) if isinstance(given, list) else 1)
        return metrics

    def view(self, record: dict[str, Any], links: Links, now: float | None = None) -> dict[str, Any]:
        """The documented Prediction Object as of ``now`` (the cached one while its state holds)."""
        return self._cached(record, links, now).view

    def encoded(self, record: dict[str, Any], links: Links, now: float | None = None) -> bytes:
        """:meth:`view` as compact JSON (:func:`~mockserver.core.http.json_bytes`), encoded once per cached view."""
        return self._cached(record, links, now).json()

    def _cached(self, record: dict[str, Any], links: Links, now: float | None) -> CachedView:
        """The view, cached while the record is the same object and the clock in the same phase of it."""
        now = self.engine.clock.now() if now is None else now
        key = (record["id"], links.api, links.files)  # strings: hashed in C, their hashes kept
        hit = self._cache.lookup(key, record, now)
        if hit is not None:
            return hit
        timeline = self.engine.timeline(record)
        window = phase_window(timeline, now)
        # a scripted output may name other jobs' files, which can go at any time: rendered anew each time
        return self._cache.keep(key, record, window, self.render(record, links, now, timeline),
                                keep=record.get("given_output") is None)

    def render(self, record: dict[str, Any], links: Links, now: float,
               timeline: Phases | None = None) -> dict[str, Any]:
        """The documented Prediction Object as of ``now``, rendered anew (``timeline``: the record's, if known)."""
        state = self.engine.state(record, now)
        reached = state.entered_at
        started = None  # when it entered processing, if it did
        for status, at in timeline or self.engine.timeline(record):
            if status == "processing" and at <= reached:
                started = at
                break
        fields = record.full() if isinstance(record, CompactRecord) else record  # every field, by plain look-ups
        succeeded = state.status == "succeeded"
        output, storage = self._output(fields, links) if succeeded else (None, [])
        # equal instants print equally: in the instant time mode every one is the creation's
        created_at = fields["created_at"]
        created = isoformat(created_at)
        updated = created if reached == created_at else isoformat(reached)
        pid = fields["id"]
        body: dict[str, Any] = {
            "id": pid,
            "status": state.status,
            "type": "inference",
            "stream": fields["stream"],
            "input": fields["input"],
            "output": output,
            "created_at": created,
            "started_at": None if started is None else updated if started == reached else isoformat(started),
            "completed_at": updated if state.terminal else None,
            "updated_at": updated,
            "privacy": "private",
            "source": "api",
            "model": {"name": fields["model"], "type": fields["model_type"]},
            "webhook": fields["webhook"],
            "metrics": self._metrics(fields, state, started),
            "metadata": {
                "billing": {"credits_used": fields["credits"] if succeeded else 0},
                "storage": {"files": storage},
                "data_available": succeeded and not fields["deleted"],
            },
            "urls": links.prediction_urls(pid),
        }
        if state.status == "failed":
            body["error"] = fields["error"]
            body["response"] = fields["error"]
        return body
