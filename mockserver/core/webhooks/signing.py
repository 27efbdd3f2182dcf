"""Standard Webhooks signing: per-key ``whsec_`` secrets and the signed headers of one attempt."""

from __future__ import annotations

import base64
from datetime import datetime

from standardwebhooks import Webhook

from mockserver.core.randomness import Randomness

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
USER_AGENT = "mockserver-webhooks/1"


def derive_secret(rng: Randomness, key: str) -> str:
    """A ``whsec_…`` signing secret for ``key``: the same for the same server seed and key."""
    raw = rng.rng(f"webhook-secret:{key}").randbytes(SECRET_BYTES)
    return SECRET_PREFIX + base64.b64encode(raw).decode()


def signed_headers(secret: str, msg_id: str, body: str, sent_at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers for one attempt.

    ``webhook-timestamp`` is the *wall-clock* time of the attempt, not virtual time: receivers
    (``standardwebhooks.Webhook.verify`` among them) reject timestamps more than five minutes away
    from their own real clock, and virtual time is routinely hours or days off. The payload carries
    the virtual times (``created_at``, ``completed_at``, ...).
    """
    signature = Webhook(secret).sign(msg_id, sent_at, body)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
    }
