"""Token billing for the Inference API, at the catalog's per-token prices (credits are US dollars).

``pricing.tokens`` gives dollars per ``per`` tokens for ``input``, ``cached_input`` and ``output``.
A model without a cached-input price (``null``) bills cached tokens at the input price.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockserver.core.accounts import round_money
from mockserver.core.runtime import Runtime
from mockserver.skytells.catalog import Model


@dataclass(frozen=True)
class TokenPrices:
    """Dollars per single token."""

    input: float
    cached_input: float
    output: float


#: Each catalog pricing table's prices, with the table they were read from (a new table is read anew).
_read: dict[int, tuple[dict[str, Any], TokenPrices]] = {}


def prices(model: Model) -> TokenPrices:
    table = model.pricing.get("tokens")
    known = _read.get(id(table))
    if known is not None and known[0] is table:
        return known[1]
    read = _prices(model, table)
    if len(_read) < MAX_TABLES:
        _read[id(table)] = (table, read)  # the table is kept, so its id names no other table meanwhile
    return read


#: Pricing tables whose prices are kept (the catalog has a few dozen models).
MAX_TABLES = 4096


def _prices(model: Model, table: dict[str, Any] | None) -> TokenPrices:
    if not table:
        raise ValueError(f"{model.namespace}: no per-token pricing in the catalog")
    per = float(table.get("per") or 1_000_000)
    input_price = float(table["input"]) / per
    cached = table.get("cached_input")
    return TokenPrices(input=input_price,
                       cached_input=input_price if cached is None else float(cached) / per,
                       output=float(table["output"]) / per)


def cost(model: Model, input_tokens: int, output_tokens: int, cached_tokens: int = 0) -> float:
    """Credits for one request; ``cached_tokens`` are part of ``input_tokens``."""
    price = prices(model)
    cached = min(max(cached_tokens, 0), input_tokens)
    total = (input_tokens - cached) * price.input + cached * price.cached_input + output_tokens * price.output
    return round_money(total)


def charge(runtime: Runtime, key: str, amount: float) -> float:
    """Debit ``amount`` from the key's credits (new balance); :class:`~mockserver.core.accounts.InsufficientFunds`
    when they do not cover it (answered with a 402 by :mod:`mockserver.skytells.inference.errors`)."""
    if amount <= 0:
        account = runtime.accounts.get(key)
        return account.credits if account else 0.0
    return runtime.accounts.debit(key, amount)
