"""What the Skytells API lets scripted rules shape (handed to the core's rules as values)."""

from __future__ import annotations

#: The requests a scripted result shapes: creating a prediction, or a model turn.
SCRIPTED_REQUESTS = frozenset({
    ("POST", "/v1/predictions"),
    ("POST", "/v1/predict"),
    ("POST", "/v1/chat/completions"),
    ("POST", "/v1/responses"),
})
