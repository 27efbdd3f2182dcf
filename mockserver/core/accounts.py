"""API keys and what hangs off them: Skytells credits, GateAI daily budget, suspension.

Accounts are records in the store (kind ``"account"``), so a shared store shares balances.
Money moves only through :meth:`Accounts.debit` / :meth:`Accounts.credit`, which are atomic
read-modify-write operations and never let a balance go below zero.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from mockserver.core.store import BelowMinimum, Record, Store
from mockserver.spec.pricing import round_money

KIND = "account"
#: How many keys' Account objects :meth:`Accounts.get` keeps for reuse.
ACCOUNT_CACHE_SIZE = 1024


@dataclass
class Account:
    """One API key's state."""

    key: str
    credits: float
    daily_budget: float
    suspended: bool = False
    limits: dict[str, Any] = field(default_factory=dict)
    #: What the account was created with (credits, daily_budget, suspended, limits): a per-key reset
    #: (:meth:`Accounts.restore`) returns to it, not to the server's defaults.
    initial: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_record(cls, record: Record) -> Account:
        return cls(**record)

    def covers(self, amount: float) -> bool:
        """Whether the balance covers ``amount`` (what :meth:`Accounts.debit` takes without refusing)."""
        return covers(self.credits, amount)


def covers(balance: float, amount: float) -> bool:
    """Whether ``balance`` covers ``amount``, a rounding error's worth of credit allowed."""
    return amount <= balance + 1e-12


class InsufficientFunds(Exception):
    """Raised by :meth:`Accounts.debit` when the balance does not cover the amount."""

    def __init__(self, balance: float, amount: float) -> None:
        super().__init__(f"balance {balance:.6f} does not cover {amount:.6f}")
        self.balance = balance
        self.amount = amount


class Accounts:
    """Lookup and balance changes for API keys."""

    def __init__(self, store: Store, default_credits: float, default_budget: float,
                 accept_any_key: bool = False) -> None:
        self.store = store
        self.default_credits = default_credits
        self.default_budget = default_budget
        self.accept_any_key = accept_any_key
        #: The last Account made per key, with the record it was made from: reused while the store holds that same
        #: record object (a memory store replaces an account's record on every change; a shared store's reads are
        #: fresh records, so they never hit). Bounded: cleared past :data:`ACCOUNT_CACHE_SIZE` keys.
        self._made: dict[str, tuple[Record, Account]] = {}

    def create(self, key: str, credits: float | None = None, daily_budget: float | None = None,
               suspended: bool = False, limits: dict[str, Any] | None = None) -> Account:
        account = Account(
            key=key,
            credits=self.default_credits if credits is None else round_money(credits),
            daily_budget=self.default_budget if daily_budget is None else daily_budget,
            suspended=suspended,
            limits=dict(limits or {}),
        )
        account.initial = {"credits": account.credits, "daily_budget": account.daily_budget,
                           "suspended": account.suspended, "limits": dict(account.limits)}
        self.store.put(KIND, key, asdict(account))
        return account

    def restore(self, key: str) -> Account | None:
        """Put an existing account back to what it was created with (None if there is no such account)."""
        record = self.store.get(KIND, key)
        if record is None:
            return None
        initial = record.get("initial") or {}
        return self.create(key, credits=initial.get("credits"), daily_budget=initial.get("daily_budget"),
                           suspended=initial.get("suspended", False), limits=initial.get("limits"))

    def delete(self, key: str) -> bool:
        """Forget an account; True if it existed."""
        return self.store.delete(KIND, key)

    def get(self, key: str | None) -> Account | None:
        """The account for ``key``; with ``accept_any_key``, any ``sk-`` key gets a fresh one."""
        if not key:
            return None
        record = self.store.get(KIND, key)
        if record is not None:
            made = self._made.get(key)
            if made is not None and made[0] is record:
                return made[1]
            account = Account.from_record(record)
            if len(self._made) >= ACCOUNT_CACHE_SIZE:
                self._made.clear()
            self._made[key] = (record, account)
            return account
        if self._creates_on_use(key):
            return self.create(key)
        return None

    def recognizes(self, key: str) -> bool:
        """True if ``key`` authenticates (it has an account, or ``accept_any_key`` would make one); no side effect."""
        if self.store.get(KIND, key) is not None:
            return True
        return self._creates_on_use(key)

    def _creates_on_use(self, key: str) -> bool:
        return self.accept_any_key and key.startswith("sk-") and len(key) >= 8

    def find(self, key: str) -> Account | None:
        """The account for ``key`` if it exists (never creates one, even with ``accept_any_key``)."""
        record = self.store.get(KIND, key)
        return None if record is None else Account.from_record(record)

    def all(self) -> list[Account]:
        return [Account.from_record(r) for r in self.store.scan(KIND, newest_first=False)]

    def change(self, key: str, **fields_: Any) -> Account | None:
        """Set fields of an existing account (credits, daily_budget, suspended, limits)."""

        def apply(record: Record) -> Record:
            return {**record, **{k: v for k, v in fields_.items() if v is not None}}

        record = self.store.update(KIND, key, apply)
        return None if record is None else Account.from_record(record)

    def debit(self, key: str, amount: float) -> float:
        """Take ``amount`` credits atomically; returns the new balance."""
        adjust = getattr(self.store, "adjust", None)  # a shared store's one-step change (store.py)
        if adjust is not None:
            try:
                balance = adjust(KIND, key, "credits", -amount, minimum=0.0)
            except BelowMinimum as refused:
                raise InsufficientFunds(refused.current, amount) from None
            if balance is None:
                raise KeyError(key)
            return balance

        def take(record: Record) -> Record:
            balance = record["credits"]
            if not covers(balance, amount):
                raise InsufficientFunds(balance, amount)
            return {**record, "credits": round_money(max(balance - amount, 0.0))}

        record = self.store.update(KIND, key, take)
        if record is None:
            raise KeyError(key)
        return record["credits"]

    def credit(self, key: str, amount: float) -> float:
        """Give ``amount`` credits back (a refund); returns the new balance."""
        adjust = getattr(self.store, "adjust", None)
        if adjust is not None:
            balance = adjust(KIND, key, "credits", amount)
            if balance is None:
                raise KeyError(key)
            return balance
        record = self.store.update(KIND, key, lambda r: {**r, "credits": round_money(r["credits"] + amount)})
        if record is None:
            raise KeyError(key)
        return record["credits"]


def mask_key(key: str | None) -> str:
    """A key as it may appear in logs and journals: ``sk-m…0000`` plus a short hash."""
    if not key:
        return "-"
    digest = hashlib.sha256(key.encode()).hexdigest()[:6]
    return f"{key[:4]}…{key[-4:]}#{digest}" if len(key) > 10 else f"…#{digest}"
