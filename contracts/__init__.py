"""OpenAPI 3.1 contracts of the Skytells API v1 and the GateAI Core API, and validators for them.

``document(api)`` is the complete document (``"skytells"`` or ``"gateai"``): the hand-written
source ``contracts/<api>.yaml`` with the per-model request schemas injected from the same
``fixtures/`` catalogs the server uses. ``validate_response`` / ``validate_request`` check one
HTTP exchange against it and return the problems found (an empty list: it conforms).
"""

from __future__ import annotations

from contracts.loader import APIS, document
from contracts.validation import route_error_problems, validate_request, validate_response, validate_schema

__all__ = ["APIS", "document", "route_error_problems", "validate_request", "validate_response", "validate_schema"]
