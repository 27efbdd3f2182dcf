"""The shared machinery one server run uses: settings, clock, store, randomness, accounts, files,
scripted rules, the request journal and webhook delivery."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mockserver.admin.access import effective_token
from mockserver.core.accounts import Accounts
from mockserver.core.clock import Clock
from mockserver.core.files import Files
from mockserver.core.journal import Journal
from mockserver.core.randomness import Randomness
from mockserver.core.scenarios import Rules
from mockserver.core.store import MemoryStore, Retention, Store
from mockserver.core.webhooks import Webhooks
from mockserver.settings import Settings


@dataclass
class Runtime:
    """Everything both API personalities share; built once per server."""

    settings: Settings
    clock: Clock
    store: Store
    rng: Randomness
    accounts: Accounts
    files: Files
    rules: Rules
    journal: Journal
    webhooks: Webhooks
    admin_token: str | None = None  # what control-plane callers must send (None: loopback only)
    startup: Callable[[Runtime], None] | None = None  # start-up files' state, applied after the configured keys

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        clock = Clock(mode=settings.time_mode, speed=settings.speed, start=settings.start_time,  # type: ignore[arg-type]
                      autojump=settings.autojump)
        store = MemoryStore(Retention(max_records=settings.max_records, ttl=settings.ttl), now=clock.now)
        runtime = cls(
            settings=settings,
            clock=clock,
            store=store,
            rng=Randomness(settings.seed),
            accounts=Accounts(store, settings.credits, settings.daily_budget, settings.accept_any_key),
            files=Files(store),
            rules=Rules(settings.seed),
            journal=Journal(size=settings.journal_size),
            webhooks=Webhooks(clock, Randomness(settings.seed), settings),
            admin_token=effective_token(settings),
        )
        runtime.provision_keys()
        return runtime

    def provision_keys(self) -> None:
        """Create the configured keys' accounts (starting credits and budget)."""
        for key in self.settings.api_keys:
            if self.accounts.get(key) is None:
                self.accounts.create(key)
        if self.startup is not None:
            self.startup(self)

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
