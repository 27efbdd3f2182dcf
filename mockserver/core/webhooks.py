"""Webhook delivery: Standard Webhooks signing, retries on the clock, a delivery journal (helper W)."""

from __future__ import annotations


class Webhooks:
    """Delivers signed webhook events in order per subject, retrying on the shared clock."""

    def reset(self, owner: str | None = None) -> None:
        """Drop pending deliveries and the delivery journal (or one key's)."""

    async def settle(self) -> None:
        """Return once no delivery is due at the clock's now and none is in flight."""
