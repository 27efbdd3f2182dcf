"""The shared machinery one server run uses: settings, clock, store, randomness, accounts, files,
scripted rules, the request journal and webhook delivery."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mockserver.core import media
from mockserver.core.accounts import Accounts
from mockserver.core.clock import Clock
from mockserver.core.config import CoreSettings
from mockserver.core.files import Files
from mockserver.core.journal import Journal
from mockserver.core.randomness import Randomness
from mockserver.core.render_pool import RenderPool
from mockserver.core.rules.registry import Rules
from mockserver.core.store import MemoryStore, Retention, Store
from mockserver.core.webhooks import Webhooks

if TYPE_CHECKING:
    from mockserver.core.shared_store import SharedState


@dataclass
class Runtime:
    """Everything the vendors' apps share; built once per server."""

    settings: CoreSettings
    clock: Clock
    store: Store
    rng: Randomness
    accounts: Accounts
    files: Files
    rules: Rules
    journal: Journal
    webhooks: Webhooks
    admin_token: str | None = None  # what control-plane callers must send (None: loopback only)
    renders: RenderPool = field(default_factory=RenderPool)  # output files are rendered here, off the loop
    startup: Callable[[Runtime], None] | None = None  # start-up files' state, applied after the configured keys

    shared: SharedState | None = None  # the shared store's connection (``store`` setting other than "memory")

    @classmethod
    def from_settings(cls, settings: CoreSettings, admin_token: str | None = None) -> Runtime:
        """A runtime configured by ``settings``; ``admin_token`` (default: the configured one) guards ``/_mock``.

        Raises :class:`~mockserver.core.store.StoreUnavailable` when a shared store does not answer.
        """
        clock, store, rng, shared = _state(settings)
        rules, journal = _rules_and_journal(settings, shared)
        media.set_cache_budget(settings.render_cache_bytes)
        runtime = cls(
            settings=settings,
            clock=clock,
            store=store,
            rng=rng,
            accounts=Accounts(store, settings.credits, settings.daily_budget, settings.accept_any_key),
            files=Files(),
            rules=rules,
            journal=journal,
            webhooks=_webhooks(settings, clock, shared),
            admin_token=admin_token or settings.admin_token or None,
            renders=RenderPool(settings.render_workers, processes=not settings.render_threads),
            shared=shared,
        )
        if shared is not None:
            clock.on_restart(runtime.forget_local_state)  # another process's full reset
        runtime.provision_keys()
        return runtime

    def close(self) -> None:
        """Let go of the shared store's connection (nothing to do with the in-memory store)."""
        if self.shared is not None:
            self.rules.close()
            self.shared.close()

    @property
    def files_cache_control(self) -> str:
        """``Cache-Control`` of output files: immutable only where a file URL is never reused.

        An unseeded server draws fresh ids after every reset, so a URL always names the same bytes. A
        seeded server repeats its ids after a reset (that is what makes runs reproducible), and the same
        URL may then name another file: clients must revalidate (the ``ETag`` is the recipe's digest).
        """
        if self.settings.seed is None:
            return "public, max-age=31536000, immutable"
        return "public, no-cache"

    def provision_keys(self) -> None:
        """Create the configured keys' accounts (starting credits and budget), then apply the start-up files."""
        for key in self.settings.api_keys:
            if self.accounts.get(key) is None:
                self.accounts.create(key)
        self.apply_startup()

    def apply_startup(self) -> None:
        """Apply the start-up files' state (keys, rules, scenarios). On a shared store only the first process to
        get there after a start or a full reset applies them (a marker every full reset drops), since rules and
        keys are shared: applying them again would add every rule twice."""
        if self.startup is None:
            return
        if self.shared is not None and not self.shared.client.set(f"{self.shared.prefix}startup", 1, nx=True):
            return
        self.startup(self)

    def catch_up(self) -> None:
        """On a shared store, notice another process's full reset before serving a request that reads this
        process's own state (one read of the shared clock; API requests read it anyway). Nothing in memory."""
        if self.shared is not None:
            self.clock.now()

    def forget_local_state(self) -> None:
        """What a full reset forgets that lives in this process only (the parsed rules and inline rules kept here,
        webhook queue, id sessions), then the start-up state again (start-up files' rules unless another process
        applied them; configured keys an emptied store lacks): run here when another process sharing the store
        reset everything, or the store came back empty (the shared clock says so). The shared journal and rules
        themselves were cleared by the process that reset (clearing them here could drop rules it added since)."""
        self.journal.forget_local()
        self.webhooks.reset()
        self.rules.forget_local()
        self.rng.reset()
        self.provision_keys()

    def reset(self, owner: str | None = None) -> None:
        """Forget all traffic (of one key); accounts go back to the balances they were created with.

        A full reset also restarts the clock at the configured start time, mode, speed and autojump, and the
        seeded sequences, so the server behaves as if freshly started.
        """
        self.journal.clear(owner)
        self.webhooks.reset(owner)
        if owner is None:
            self.rules.clear()
            self.store.clear()
            self.rng.reset()
            self.clock.reset(self.settings.start_time, mode=self.settings.time_mode, speed=self.settings.speed,  # type: ignore[arg-type]
                             autojump=self.settings.autojump)
            self.provision_keys()
            return
        self.store.clear(owner=owner)
        self.accounts.restore(owner)  # back to what the key was created with (server defaults or its own)


def _rules_and_journal(settings: CoreSettings, shared: SharedState | None) -> tuple[Rules, Journal]:
    """The rule registry and the request journal: in this process, or shared on the store."""
    if shared is None:
        return Rules(settings.seed, refused_faults=settings.refused_faults), Journal(size=settings.journal_size)
    from mockserver.core.shared_store.journal import RedisJournal
    from mockserver.core.shared_store.rules import RedisRules

    return (RedisRules(shared.client, shared.prefix, settings.seed, refused_faults=settings.refused_faults),
            RedisJournal(shared.client, shared.prefix, size=settings.journal_size))


def _webhooks(settings: CoreSettings, clock: Clock, shared: SharedState | None) -> Webhooks:
    """Webhook delivery in this process's memory, or shared (queues, leases, journal) by every process on the store."""
    if shared is None:
        return Webhooks(clock, Randomness(settings.seed), settings)
    from mockserver.core.shared_store.webhooks import SharedWebhooks, shared_seed

    seed = shared_seed(shared.client, shared.prefix, settings.seed)
    return SharedWebhooks(clock, Randomness(seed), settings, shared.client, shared.prefix)


def _state(settings: CoreSettings) -> tuple[Clock, Store, Randomness, SharedState | None]:
    """The clock, store and randomness: in this process's memory, or on the shared store ``settings.store``
    names, where every process reads one clock, one set of records and one id sequence."""
    clock_settings = {"mode": settings.time_mode, "speed": settings.speed, "start": settings.start_time,
                      "autojump": settings.autojump}
    retention = Retention(max_records=settings.max_records, ttl=settings.ttl,
                          max_key_bytes=settings.max_key_bytes, max_store_bytes=settings.max_store_bytes)
    url = getattr(settings, "store", "memory") or "memory"
    if url == "memory":
        clock = Clock(**clock_settings)  # type: ignore[arg-type]
        return clock, MemoryStore(retention, now=clock.now), Randomness(settings.seed), None
    from mockserver.core.shared_store import SharedState  # imports the Redis client only when it is used

    shared = SharedState(url)
    clock = Clock(**clock_settings, wall=time.time, cell=shared.anchor)  # type: ignore[arg-type]
    shared.listen(clock.notify)
    store = shared.store(retention, clock.now)
    return clock, store, Randomness(settings.seed, counter=store.next_index), shared
