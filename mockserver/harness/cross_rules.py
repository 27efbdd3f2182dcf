"""Rules across the items of a request body that JSON Schema cannot state, applied to generated valid bodies.

Function tools must have distinct names, and a named ``tool_choice`` must name one of them (Chat Completions
``{type, function: {name}}``, Responses ``{type, name}``). schemathesis generates bodies from the contract alone,
so a *positive* case may break these rules and earn a correct 400; :func:`satisfy` repairs such a body in place
(renaming duplicate tools, pointing the choice at the first tool) so positive cases stay valid requests, while
negative cases are left as generated.
"""

from __future__ import annotations

from typing import Any

#: path -> whether the function definition is nested under ``function`` (chat) or inline (Responses)
NESTED = {"/v1/chat/completions": True, "/v1/responses": False}


def _holder(tool: Any, nested: bool) -> dict[str, Any] | None:
    found = tool.get("function") if nested and isinstance(tool, dict) else tool
    return found if isinstance(found, dict) and isinstance(found.get("name"), str) else None


def satisfy(path: str, body: Any) -> bool:
    """Make ``body``'s tool names distinct and its named ``tool_choice`` one of them; True if it changed."""
    nested = NESTED.get(path)
    if nested is None or not isinstance(body, dict) or not isinstance(body.get("tools"), list):
        return False
    holders = [h for h in (_holder(tool, nested) for tool in body["tools"]) if h is not None]
    changed, seen = False, set()
    for index, holder in enumerate(holders):
        if holder["name"] in seen:
            suffix = 0
            while f"t{index}_{suffix}" in seen or f"t{index}_{suffix}" in {h["name"] for h in holders}:
                suffix += 1
            holder["name"], changed = f"t{index}_{suffix}", True
        seen.add(holder["name"])
    choice = body.get("tool_choice")
    named = _holder(choice, nested) if isinstance(choice, dict) and choice.get("type") == "function" else None
    if named is not None and holders and named["name"] not in seen:
        named["name"], changed = holders[0]["name"], True
    return changed
