"""One engine for every kind of job: records in the store, status on the clock, owners, outputs, cancel and
refund, and the hand-off to webhook delivery.

A job is a store record (a dict) whose future was fixed when it was created: ``phases`` (see
:mod:`mockserver.core.jobs.schedule`), an optional ``cancelled_at`` cut, and the output files it owns. The
engine knows only those fields and the ones its :class:`JobKind` names; everything else in the record
(inputs, prices, outcome) belongs to the API that planned the job. The engine raises the domain errors of
:mod:`mockserver.core.jobs.errors`, never HTTP statuses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from mockserver.core.accounts import Accounts
from mockserver.core.clock import Clock
from mockserver.core.files import SPECS_FIELD, FileInfo, Files, Recipe, info_from_recipe, job_of, recipe, spec_of
from mockserver.core.jobs.errors import JobNotCancellable, JobNotFound
from mockserver.core.jobs.records import CompactRecord
from mockserver.core.jobs.schedule import JobState, Phases, state_at, timeline
from mockserver.core.media import MediaSpec
from mockserver.core.store import MemoryStore, Store
from mockserver.core.webhooks import Renderer, TimelineSource, Webhooks

Record = dict[str, Any]
#: ``render(job, at, context)``: a webhook payload of the job as of virtual time ``at``; ``context`` is what
#: :meth:`JobEngine.follow` was given (JSON, e.g. the links the payload prints).
PayloadRenderer = Callable[[Record, float, Any], dict[str, Any]]


def changed(record: Record, **changes: Any) -> Record:
    """A copy of ``record`` with ``changes`` (a :class:`CompactRecord` stays compact)."""
    if isinstance(record, CompactRecord):
        return record.replaced(**changes)
    return {**record, **changes}


@dataclass(frozen=True)
class JobKind:
    """What the engine needs to know about one kind of job."""

    name: str  #: the store kind its records live under
    cancelled_status: str = "cancelled"  #: the status a cancel ends it in
    refund_field: str | None = None  #: the record field holding the credits a cancel gives back
    file_fields: tuple[str, ...] = ("files",)  #: the record fields listing its output files
    #: the output files' names when the record does not keep them but derives them (from its id and ``file_specs``)
    file_names: Callable[[Record], list[str]] | None = None


class JobEngine:
    """The jobs of one kind for one server (all keys)."""

    def __init__(self, kind: JobKind, store: Store, clock: Clock, files: Files,
                 accounts: Accounts | None = None, webhooks: Webhooks | None = None) -> None:
        self.kind = kind
        self.store = store
        self.clock = clock
        self.files = files
        self.accounts = accounts
        self.webhooks = webhooks
        self._render: PayloadRenderer | None = None
        files.add_source(kind.name, self)

    # -- creating ------------------------------------------------------------------------

    def charge(self, owner: str, credits: float) -> None:
        """Debit ``credits`` from the owner's balance (nothing for a free job).

        Raises :class:`~mockserver.core.accounts.InsufficientFunds` when the balance does not cover it.
        """
        if credits > 0 and self.accounts is not None:
            self.accounts.debit(owner, credits)

    @staticmethod
    def outputs(planned: Iterable[tuple[str, MediaSpec]]) -> tuple[tuple[str, ...], tuple[Recipe, ...]]:
        """The job's output files as its record keeps them: their names (for the kind's file fields, in order) and
        their recipes (for ``file_specs``, in the same order). Nothing is stored or rendered."""
        names: list[str] = []
        recipes: list[Recipe] = []
        for name, spec in planned:
            names.append(name)
            recipes.append(recipe(spec))
        return tuple(names), tuple(recipes)

    def put(self, record: Record, notify: bool = False) -> Record:
        """Store a new job (``notify``: wake the clock's waiters, e.g. a dashboard that counts jobs).

        The in-memory store keeps a :class:`CompactRecord` as it is; any other store (one that keeps JSON) is given
        the full record, so whatever reads it back gets every field."""
        stored = record.full() if isinstance(record, CompactRecord) and not isinstance(self.store, MemoryStore) \
            else record
        self.store.put(self.kind.name, record["id"], stored, owner=record["owner"])
        if notify:
            self.clock.notify()
        return record

    def renders_with(self, render: PayloadRenderer) -> None:
        """Draw followed jobs' webhook payloads with ``render``. Any process sharing the store can then rebuild a
        subscription from the job's id and its context alone, and take over its deliveries."""
        if self.webhooks is None:
            raise RuntimeError(f"{self.kind.name} jobs have no webhook delivery")
        self._render = render
        self.webhooks.register_source(self.kind.name, self._rebuild)

    def follow(self, record: Record, url: str, statuses: Iterable[str], context: Any = None) -> None:
        """Deliver the job's transitions into ``statuses`` to ``url``, each drawn by the :meth:`renders_with`
        renderer as ``render(job, at, context)`` (``context``: JSON)."""
        if self.webhooks is None or self._render is None:
            raise RuntimeError(f"{self.kind.name} jobs have no webhook delivery (renders_with first)")
        line, payload = self._source(record, context)
        self.webhooks.subscribe(record["id"], record["owner"], url, statuses, line, payload,
                                source=(self.kind.name, context))

    def _source(self, record: Record, context: Any) -> tuple[TimelineSource, Renderer]:
        """The job's timeline (None once it is gone) and payloads, read from the store at each call."""
        job_id, render = record["id"], self._render
        assert render is not None

        def line() -> Phases | None:
            current = self.find(job_id)
            return None if current is None else self.timeline(current)

        def payload(_status: str, at: float) -> dict[str, Any]:
            return render(self.find(job_id) or record, at, context)

        return line, payload

    def _rebuild(self, job_id: str, context: Any) -> tuple[TimelineSource, Renderer] | None:
        """A followed job's source in another process than the one that subscribed (None once it is gone)."""
        record = self.find(job_id)
        return None if record is None else self._source(record, context)

    # -- reading -------------------------------------------------------------------------

    def find(self, job_id: str) -> Record | None:
        """The job, whoever owns it (None once deleted or evicted)."""
        return self.store.get(self.kind.name, job_id)

    def get(self, owner: str, job_id: str) -> Record:
        """The owner's job; anyone else's, or an unknown id, is :class:`JobNotFound`."""
        record = self.find(job_id)
        if record is None or record["owner"] != owner:
            raise JobNotFound(self.kind.name, job_id)
        return record

    def scan(self, owner: str) -> Iterator[Record]:
        """The owner's jobs, newest first."""
        return iter(self.store.scan(self.kind.name, owner=owner))

    def count(self, owner: str) -> int:
        """How many jobs the owner has (without reading them)."""
        return self.store.count(self.kind.name, owner)

    def page(self, owner: str, offset: int, limit: int) -> list[Record]:
        """``limit`` of the owner's jobs from ``offset`` on, newest first (O(page): the store indexes owners)."""
        return self.store.page(self.kind.name, owner, offset, limit)

    def timeline(self, record: Record) -> Phases:
        """The job's effective phases (cut where it was cancelled)."""
        return timeline(record["phases"], record.get("cancelled_at"), self.kind.cancelled_status)

    def state(self, record: Record, now: float | None = None) -> JobState:
        """Where the job stands at ``now`` (default: the clock's now)."""
        now = self.clock.now() if now is None else now
        return state_at(record["phases"], now, record.get("cancelled_at"), self.kind.cancelled_status)

    def output_names(self, record: Record) -> list[str]:
        """The job's output file names, in the order of its ``file_specs``."""
        if self.kind.file_names is not None:
            return self.kind.file_names(record)
        return [name for field in self.kind.file_fields for name in record.get(field) or ()]

    def output_infos(self, record: Record) -> list[FileInfo]:
        """What a view shows of the job's output files, from the record alone."""
        return [info_from_recipe(name, values)
                for name, values in zip(self.output_names(record), record.get(SPECS_FIELD) or (), strict=False)]

    def output_spec(self, name: str) -> MediaSpec | None:
        """The recipe of this kind's output file ``name``: None unless its job is here and was not cancelled."""
        record = self.find(job_of(name))
        if record is None or record.get("cancelled_at") is not None:
            return None
        names = self.output_names(record)
        if name not in names:
            return None
        index = names.index(name)
        specs = record.get(SPECS_FIELD) or ()  # none in a record an older version left in a persistent store
        return spec_of(specs[index]) if index < len(specs) else None

    # -- changing ------------------------------------------------------------------------

    def cancel(self, owner: str, job_id: str) -> Record:
        """End an unfinished job now: refund it, drop its files, tell the waiters and the webhooks.

        Raises :class:`JobNotFound` and, for a job that has already ended, :class:`JobNotCancellable`.
        """
        self.get(owner, job_id)
        now = self.clock.now()
        ended: list[str] = []

        def apply(record: Record) -> Record:
            state = self.state(record, now)
            if state.terminal:
                ended.append(state.status)
                return record
            return changed(record, cancelled_at=now, refunded=True)

        record = self.store.update(self.kind.name, job_id, apply)
        if record is None:  # deleted between the read and the update
            raise JobNotFound(self.kind.name, job_id)
        if ended:
            raise JobNotCancellable(self.kind.name, job_id, ended[0])
        self._refund(owner, record)  # its files go with it: a cancelled job has none (output_spec)
        self.clock.notify()
        if self.webhooks is not None:
            self.webhooks.refresh(job_id)  # enqueue the cancel now: a delete may follow at once
        return record

    def _refund(self, owner: str, record: Record) -> None:
        field = self.kind.refund_field
        amount = 0.0 if field is None else record.get(field) or 0.0
        if amount > 0 and self.accounts is not None:
            self.accounts.credit(owner, amount)

    def delete(self, owner: str, job_id: str) -> Record:
        """Remove the job and its files (an unfinished one is cancelled, and refunded, first)."""
        record = self.get(owner, job_id)
        if not self.state(record).terminal:
            record = self.cancel(owner, job_id)
        self.store.delete(self.kind.name, job_id)  # and its files with it
        self.clock.notify()
        return changed(record, deleted=True)
