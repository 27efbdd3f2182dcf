"""Flattening for the JSON-Schema instance generator: ``$ref`` and ``allOf`` merged into one schema.

``flatten`` turns a (sub)schema into a plain dict with no ``$ref`` or ``allOf`` at its top: references
are resolved locally (``#``, ``#/json/pointer``, ``#anchor``) and every ``allOf`` member is merged in
(types intersected, bounds tightened, enums intersected, properties and required united, ...). The
merge may be looser than the original for keyword pairs that do not combine (two different ``pattern``s,
two ``contains``): the generator validates every value against the *original* schema, so looseness only
costs a retry. Unsatisfiable combinations raise :class:`SchemaProblem` with the keyword's path.

hypothesis-jsonschema's ``merged``/``canonicalish`` were considered: they are private helpers written
for drafts 4/7 (array-form ``items``, no ``prefixItems``/``$defs``/``dependentRequired``) and raise
hypothesis' own errors, so the 2020-12 merge is done here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from fractions import Fraction
from typing import Any
from urllib.parse import unquote

from mockserver.core.schema_problem import SchemaProblem, join

SINGLE = ("additionalProperties", "items", "contains", "not", "if", "then", "else", "propertyNames",
          "unevaluatedItems", "unevaluatedProperties", "contentSchema")
MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_UP = ("minLength", "minItems", "minProperties", "minContains", "minimum", "exclusiveMinimum")
_DOWN = ("maxLength", "maxItems", "maxProperties", "maxContains", "maximum", "exclusiveMaximum")
_BOTH = ("items", "additionalProperties", "propertyNames", "unevaluatedItems", "unevaluatedProperties")
_TYPES = ("null", "boolean", "object", "array", "number", "string", "integer")
PENDING = "x-pending-anyOf"  # further anyOf/oneOf lists still to choose a branch from
CHOSEN = "x-chosen-anyOf"  # ids of the anyOf/oneOf lists a branch was already chosen from


def subschemas(node: Any, path: str) -> Iterator[tuple[Any, str]]:
    """The direct subschemas of ``node`` with their paths."""
    if not isinstance(node, dict):
        return
    for key in SINGLE:
        if key in node:
            yield node[key], join(path, key)
    for key in MAPS:
        if isinstance(node.get(key), dict):
            for name, sub in node[key].items():
                yield sub, join(path, key, name)
    for key in LISTS:
        if isinstance(node.get(key), list):
            for i, sub in enumerate(node[key]):
                yield sub, join(path, key, i)


def walk(root: Any) -> Iterator[tuple[Any, str]]:
    """Every schema inside ``root`` (itself included), iteratively."""
    todo = [(root, "")]
    while todo:
        node, path = todo.pop()
        yield node, path
        todo.extend(reversed(list(subschemas(node, path))))


def resolve(root: Any, ref: str, path: str) -> tuple[Any, str]:
    """The schema a local ``$ref`` points at, and its path."""
    where = join(path, "$ref")
    if not isinstance(ref, str) or not ref.startswith("#"):
        raise SchemaProblem(where, f"only local references (#...) are supported, not {ref!r}")
    fragment = unquote(ref[1:])
    if not fragment.startswith("/"):
        for node, at in walk(root):
            if (isinstance(node, dict) and node.get("$anchor") == fragment) or (fragment == "" and at == ""):
                return node, at
        raise SchemaProblem(where, f"unresolvable reference {ref!r}")
    node: Any = root
    for raw in fragment[1:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise SchemaProblem(where, f"unresolvable reference {ref!r}")
    if not isinstance(node, dict | bool):
        raise SchemaProblem(where, f"reference {ref!r} does not point at a schema")
    return node, fragment[1:]


Memo = dict[int, tuple[Any, Any]]


def flatten(node: Any, path: str, root: Any, stack: tuple[str, ...] = (), memo: Memo | None = None) -> dict[str, Any]:
    """``node`` as one dict with its ``$ref`` target and ``allOf`` members merged in.

    ``memo`` (node id -> (node, result or SchemaProblem)) shares work between calls: merged schemas nest
    their parts by reference, so without it flattening a recursive schema's merges grows exponentially.
    """
    if memo is not None:
        hit = memo.get(id(node))
        if hit is not None and hit[0] is node:
            if isinstance(hit[1], SchemaProblem):
                raise hit[1]
            return hit[1]
    try:
        result = _flatten(node, path, root, stack, memo)
    except SchemaProblem as exc:
        if memo is not None:
            memo[id(node)] = (node, exc)
        raise
    if memo is not None:
        memo[id(node)] = (node, result)
    return result


def _flatten(node: Any, path: str, root: Any, stack: tuple[str, ...], memo: Memo | None) -> dict[str, Any]:
    if node is True:
        return {}
    if node is False or not isinstance(node, dict):
        raise SchemaProblem(path, "the schema `false` allows no value")
    out = {k: v for k, v in node.items() if k not in ("$ref", "allOf")}
    if "$ref" in node:
        ref = node["$ref"]
        if ref in stack:
            raise SchemaProblem(join(path, "$ref"), f"$ref {ref!r} refers back to itself with no value between")
        target, target_path = resolve(root, ref, path)
        out = merge(flatten(target, target_path, root, (*stack, ref), memo), out, path)
    for i, sub in enumerate(node.get("allOf", ())):
        at = join(path, "allOf", i)
        out = merge(out, flatten(sub, at, root, stack, memo), at)
    return out


def canonical(value: Any) -> str:
    """A key equal for JSON values jsonschema considers equal (1 == 1.0, true != 1)."""

    def norm(v: Any) -> Any:
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items()}
        if isinstance(v, list):
            return [norm(x) for x in v]
        return v

    return json.dumps(norm(value), sort_keys=True)


def types_of(schema: dict[str, Any]) -> list[str] | None:
    """The declared types as a list (None when unconstrained)."""
    declared = schema.get("type")
    if declared is None:
        return None
    return [declared] if isinstance(declared, str) else list(declared)


def _merge_types(a: dict[str, Any], b: dict[str, Any], path: str) -> list[str] | None:
    ta, tb = types_of(a), types_of(b)
    if ta is None or tb is None:
        return ta if tb is None else tb
    both = [t for t in _TYPES if (t in ta or (t == "integer" and "number" in ta))
            and (t in tb or (t == "integer" and "number" in tb))]
    if "number" in both and ("number" not in ta or "number" not in tb):
        both.remove("number")
    if not both:
        raise SchemaProblem(join(path, "type"), f"conflicting types: {ta} and {tb}")
    return both


def _lcm(x: float, y: float) -> int | float:
    fx = Fraction(str(x)) if isinstance(x, float) else Fraction(x)
    fy = Fraction(str(y)) if isinstance(y, float) else Fraction(y)
    out = Fraction(math.lcm(fx.numerator, fy.numerator), math.gcd(fx.denominator, fy.denominator))
    return int(out) if out.denominator == 1 else float(out)


def merge(a: dict[str, Any], b: dict[str, Any], path: str) -> dict[str, Any]:
    """The conjunction of two flattened schemas (exact where keywords combine, else ``a``'s wins)."""
    if a is b:
        return a
    out = {**b, **a}
    types = _merge_types(a, b, path)
    if types is not None:
        out["type"] = types
    for key in _UP:
        if key in a and key in b:
            out[key] = max(a[key], b[key])
    for key in _DOWN:
        if key in a and key in b:
            out[key] = min(a[key], b[key])
    for key in _BOTH:
        if key in a and key in b and a[key] is not b[key]:
            out[key] = {"allOf": [a[key], b[key]]}
    if "multipleOf" in a and "multipleOf" in b:
        out["multipleOf"] = _lcm(a["multipleOf"], b["multipleOf"])
    if "required" in a and "required" in b:
        out["required"] = list(dict.fromkeys([*a["required"], *b["required"]]))
    if "uniqueItems" in a and "uniqueItems" in b:
        out["uniqueItems"] = bool(a["uniqueItems"] or b["uniqueItems"])
    if "not" in a and "not" in b and a["not"] is not b["not"]:
        out["not"] = {"anyOf": [a["not"], b["not"]]}
    _merge_values(a, b, out, path)
    _merge_maps(a, b, out)
    _merge_branches(a, b, out)
    if "prefixItems" in a and "prefixItems" in b and a["prefixItems"] is not b["prefixItems"]:
        pa, pb = a["prefixItems"], b["prefixItems"]
        common = [x if x is y else {"allOf": [x, y]} for x, y in zip(pa, pb, strict=False)]
        out["prefixItems"] = common + (pa[len(pb):] if len(pa) > len(pb) else pb[len(pa):])
    return out


def _merge_branches(a: dict[str, Any], b: dict[str, Any], out: dict[str, Any]) -> None:
    """anyOf/oneOf lists of both sides: one of each kind in place, the others pending (no cross product,
    so a list met again through a ``$ref`` is recognised by identity and not expanded twice)."""
    chosen = tuple(dict.fromkeys((*a.get(CHOSEN, ()), *b.get(CHOSEN, ()))))
    seen = set(chosen)
    pending: list[list[Any]] = []
    for key in ("anyOf", "oneOf"):
        out.pop(key, None)
        for side in (a, b):
            branches = side.get(key)
            if branches is not None and id(branches) not in seen:
                seen.add(id(branches))
                if key in out:
                    pending.append(branches)
                else:
                    out[key] = branches
    for branches in (*a.get(PENDING, ()), *b.get(PENDING, ())):
        if id(branches) not in seen:
            seen.add(id(branches))
            pending.append(branches)
    out.pop(PENDING, None)
    if pending:
        out[PENDING] = pending
    if chosen:
        out[CHOSEN] = chosen


def _merge_values(a: dict[str, Any], b: dict[str, Any], out: dict[str, Any], path: str) -> None:
    """``const`` and ``enum`` of both sides combined."""
    if "const" in a and "const" in b and canonical(a["const"]) != canonical(b["const"]):
        raise SchemaProblem(join(path, "const"), "two different `const` values")
    if "enum" in a and "enum" in b:
        keep = {canonical(v) for v in b["enum"]}
        out["enum"] = [v for v in a["enum"] if canonical(v) in keep]
        if not out["enum"]:
            raise SchemaProblem(join(path, "enum"), "the `enum` lists have no value in common")


def _merge_maps(a: dict[str, Any], b: dict[str, Any], out: dict[str, Any]) -> None:
    """properties, patternProperties, dependentSchemas and dependentRequired united."""
    for key in ("properties", "patternProperties", "dependentSchemas"):
        if key in a and key in b:
            merged = dict(a[key])
            for name, sub in b[key].items():
                merged[name] = {"allOf": [merged[name], sub]} if name in merged and merged[name] is not sub else sub
            out[key] = merged
    if "dependentRequired" in a and "dependentRequired" in b:
        merged_dr = {k: list(v) for k, v in a["dependentRequired"].items()}
        for name, needs in b["dependentRequired"].items():
            merged_dr[name] = list(dict.fromkeys([*merged_dr.get(name, []), *needs]))
        out["dependentRequired"] = merged_dr
    for closed, other in ((a, b), (b, a)):  # a closed side forbids the other side's extra properties
        if closed.get("additionalProperties") is False and "patternProperties" not in closed:
            own = closed.get("properties", {})
            props = dict(out.get("properties", {}))
            for name in other.get("properties", {}):
                if name not in own:
                    props[name] = False
            if props:
                out["properties"] = props
