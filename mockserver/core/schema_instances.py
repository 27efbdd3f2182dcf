"""Deterministic, seeded JSON instances of JSON Schemas (Draft 2020-12): tool-call arguments and
structured outputs.

``instance(schema, rng)`` returns a small, plausible JSON value valid against ``schema``; the same rng
state gives the same value. Every value is validated with ``jsonschema`` (formats included) at each
schema node it was generated for and once more at the end, so generation can be best effort while the
result never is: a node whose value fails validation is regenerated a few times, a branch of
``anyOf``/``oneOf``/``if`` that cannot be satisfied gives way to the next, and what still fails raises
:class:`SchemaProblem` with the path of the keyword at fault. Work is bounded: ``check_schema`` caps
depth and size, instance nesting is capped at ``MAX_DEPTH`` (deeper than ``SOFT_DEPTH`` the generator
takes minimal choices -- no optional properties, shortest arrays, non-recursive branches first -- so a
``$ref`` cycle with an optional exit terminates), and a step budget turns any blow-up into a
``SchemaProblem``; no ``RecursionError`` escapes.

Libraries: ``jsonschema`` validates (and ``check_schema`` checks the schema against the 2020-12
meta-schema); ``rstr``'s Xeger generates strings for ``pattern``. ``jsf`` was considered and not adopted: it
draws from the global ``random`` and Faker (not from a given rng, so not deterministic per call) and does
not validate what it returns.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import jsonschema

from mockserver.core import schema_values as values
from mockserver.core.schema_merge import CHOSEN, PENDING, canonical, flatten, merge, resolve, types_of, walk
from mockserver.core.schema_problem import SchemaProblem, join

__all__ = ["MAX_DEPTH", "MAX_NODES", "SchemaProblem", "check_schema", "instance"]

MAX_DEPTH = 64  # JSON nesting of a schema document, and nesting of a generated instance
MAX_NODES = 10_000  # JSON values in a schema document
SOFT_DEPTH = 6  # deeper than this, only minimal choices
SOFT_VALUES = 60  # after this many values, only minimal choices (keeps instances small)
# Keywords whose values are correct by construction here; a node with only these (and annotations) is not
# re-validated on its own (the whole instance always is). Anything else is validated where it stands.
_BY_CONSTRUCTION = frozenset({
    "type", "properties", "required", "additionalProperties", "items", "prefixItems", "minItems", "maxItems",
    "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum", "const",
    "minProperties", "maxProperties", "dependentRequired", "title", "description", "default", "examples",
    "deprecated", "readOnly", "writeOnly", "$defs", "definitions", "$schema", "$id", "$comment", "$anchor",
})
MAX_STEPS = 20_000  # generation steps per instance
MAX_VALUES = 2_000  # JSON values generated per instance (retries included)
_LOCAL_TRIES = 4
_SMALL_ARRAY = 3
_Validator = jsonschema.Draft202012Validator


class _Exhausted(SchemaProblem):
    """The step budget ran out; not caught by branch fallbacks."""


class _TooDeep(SchemaProblem):
    """The instance would nest deeper than ``MAX_DEPTH`` (a ``$ref`` cycle without a finite exit)."""


def check_schema(schema: Any) -> None:
    """Raise :class:`SchemaProblem` unless ``schema`` is a bounded, valid 2020-12 schema with local refs."""
    if not isinstance(schema, dict | bool):
        raise SchemaProblem("", "a schema must be a JSON object or a boolean")
    _check_shape(schema)
    try:
        _Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise SchemaProblem("/".join(str(p) for p in exc.path), exc.message) from None
    except RecursionError:  # pragma: no cover - the depth cap keeps the meta-schema check shallow
        raise SchemaProblem("", f"schema nesting too deep (limit {MAX_DEPTH})") from None
    for node, path in walk(schema):
        if isinstance(node, dict):
            for key in ("$dynamicRef", "$recursiveRef"):
                if key in node:
                    raise SchemaProblem(join(path, key), f"{key} is not supported")
            if "$ref" in node:
                resolve(schema, node["$ref"], path)
    _check_in_place_cycles(schema)


_IN_PLACE = ("not", "if", "then", "else")


def _in_place(root: Any, node: Any, path: str) -> list[tuple[Any, str, str]]:
    """The subschemas applied to the same instance as ``node`` (its ``$ref`` target included), as
    (subschema, path of the keyword, path of the subschema)."""
    if not isinstance(node, dict):
        return []
    out = [(node[k], join(path, k), join(path, k)) for k in _IN_PLACE if k in node]
    for key in ("allOf", "anyOf", "oneOf"):
        out.extend((sub, join(path, key, i), join(path, key, i)) for i, sub in enumerate(node.get(key, ())))
    for k, sub in node.get("dependentSchemas", {}).items():
        out.append((sub, join(path, "dependentSchemas", k), join(path, "dependentSchemas", k)))
    if "$ref" in node:
        target, target_path = resolve(root, node["$ref"], path)
        out.append((target, join(path, "$ref"), target_path))
    return out


def _check_in_place_cycles(root: Any) -> None:
    """No chain of ``$ref``/applicators may lead back to a schema without descending into the instance:
    no instance has a finite validation against such a schema (validators recurse without end)."""
    state: dict[int, int] = {}  # 1 on the current path, 2 finished
    for start, start_path in walk(root):
        if state.get(id(start)):
            continue
        stack = [(start, iter(_in_place(root, start, start_path)))]
        state[id(start)] = 1
        while stack:
            node, children = stack[-1]
            for child, at, child_path in children:
                if state.get(id(child)) == 1:
                    raise SchemaProblem(at, "$ref cycle with no value in between (the schema refers to itself "
                                            "for the same value)")
                if not state.get(id(child)):
                    state[id(child)] = 1
                    stack.append((child, iter(_in_place(root, child, child_path))))
                    break
            else:
                state[id(node)] = 2
                stack.pop()


def _check_shape(schema: Any) -> None:
    """Depth, size and finiteness of the schema document, walked without recursion."""
    count, todo = 0, [(schema, "", 1)]
    while todo:
        node, path, depth = todo.pop()
        count += 1
        if count > MAX_NODES:
            raise SchemaProblem("", f"schema too large (more than {MAX_NODES} JSON values)")
        if depth > MAX_DEPTH:
            raise SchemaProblem(path, f"schema nesting deeper than {MAX_DEPTH} levels")
        if isinstance(node, float) and (node != node or node in (float("inf"), float("-inf"))):
            raise SchemaProblem(path, "numbers in a schema must be finite")
        if isinstance(node, dict):
            todo.extend((v, join(path, k), depth + 1) for k, v in node.items())
        elif isinstance(node, list):
            todo.extend((v, join(path, i), depth + 1) for i, v in enumerate(node))


def instance(schema: Any, rng: random.Random, *, strict: bool = False, hint: str = "") -> Any:
    """A JSON value valid against ``schema``, drawn from ``rng``; :class:`SchemaProblem` if none is found.

    ``strict``: objects get every declared property and no undeclared one (OpenAI strict mode; below
    ``SOFT_DEPTH`` optional properties are dropped so recursive schemas stay finite). Otherwise every
    required property plus a seeded subset of the optional ones. ``hint`` (e.g. the user's last message)
    supplies plausible text for properties such as ``city``, ``name`` or ``query``.
    """
    check_schema(schema)
    generator = _Generator(schema, rng, strict=strict, hint=hint)
    try:
        value = generator.generate(schema, "", 0, "")
        error = jsonschema.exceptions.best_match(generator.validator.iter_errors(value))
    except RecursionError:  # pragma: no cover - depth caps keep generation and validation shallow
        raise SchemaProblem("", "schema recursion too deep to generate an instance") from None
    if error is not None:  # pragma: no cover - every node was validated already
        raise SchemaProblem("/".join(str(p) for p in error.schema_path), error.message)
    return value


class _Generator:
    """One generation run: the root schema, the rng, the options and the step budget."""

    def __init__(self, root: Any, rng: random.Random, *, strict: bool, hint: str) -> None:
        self.root, self.rng, self.strict, self.hint = root, rng, strict, hint
        self.validator = _Validator(root, format_checker=_Validator.FORMAT_CHECKER)
        self.steps = 0
        self.values = 0  # values generated so far; past SOFT_VALUES only minimal choices
        self._flat: dict[int, tuple[Any, Any]] = {}  # flatten's memo
        self._mentions_ref: dict[int, tuple[Any, bool]] = {}
        self._open: set[tuple[int, int]] = set()  # branches being expanded, by (node id, depth)
        self._too_deep: dict[int, tuple[Any, int]] = {}  # node -> depth from which it cannot finish

    # ------------------------------------------------------------ plumbing
    def tick(self, path: str) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _Exhausted(path, "no instance found within the work budget (a $ref cycle or contradictory "
                                   "constraints?)")

    def flat(self, node: Any, path: str) -> tuple[dict[str, Any], str]:
        """``flatten`` (cached by node identity, the node kept alive with its entry) and the path that
        the flattened keywords live at: a ``$ref``'s target path when the node is a reference."""
        flat = flatten(node, path, self.root, memo=self._flat)
        if isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            path = unquote(node["$ref"][2:])
        return flat, path

    def valid(self, node: Any, value: Any) -> bool:
        return self.validator.evolve(schema=node).is_valid(value)

    def first_error(self, node: Any, value: Any) -> str:
        error = jsonschema.exceptions.best_match(self.validator.evolve(schema=node).iter_errors(value))
        return error.message if error is not None else "invalid"

    def mentions_ref(self, node: Any) -> bool:
        hit = self._mentions_ref.get(id(node))
        if hit is None or hit[0] is not node:
            found = any(isinstance(n, dict) and "$ref" in n for n, _ in walk(node))
            hit = (node, found)
            self._mentions_ref[id(node)] = hit
        return hit[1]

    def minimal(self, depth: int) -> bool:
        """Whether only minimal choices are left: deep in the instance, or the instance is big already."""
        return depth > SOFT_DEPTH or self.values > SOFT_VALUES

    def demand(self, node: Any) -> int:
        """How many child values a schema demands at least (for minimal choices: fewest first)."""
        try:
            flat, _ = self.flat(node, "")
        except SchemaProblem:
            return values.MAX_DEMAND
        return flat.get("minItems", 0) + len(flat.get("required", ())) + flat.get("minProperties", 0)

    def ordered(self, items: list[Any], depth: int, recursive: Callable[[Any], Any]) -> list[Any]:
        """``items`` in seeded order; past ``SOFT_DEPTH`` the non-recursive ones first."""
        shuffled = list(items)
        self.rng.shuffle(shuffled)
        if self.minimal(depth):
            shuffled.sort(key=recursive)
        return shuffled

    # ------------------------------------------------------------ generation
    def generate(self, node: Any, path: str, depth: int, name: str) -> Any:
        """A value for ``node`` validated against it (a few seeded attempts)."""
        self.tick(path)
        dead = self._too_deep.get(id(node))
        if depth > MAX_DEPTH or (dead is not None and dead[0] is node and depth >= dead[1]):
            raise _TooDeep(path, f"no finite instance: nesting exceeds {MAX_DEPTH} levels ($ref cycle?)")
        exact = depth > 0 and isinstance(node, dict) and _BY_CONSTRUCTION.issuperset(node)
        flat, path = self.flat(node, path)
        depth += _ref_weight(node)
        self.values += 1
        if self.values > MAX_VALUES:
            raise _Exhausted(path, f"the instance would exceed {MAX_VALUES} values")
        value: Any = None
        try:
            for _ in range(_LOCAL_TRIES):
                value = self.build(flat, path, depth, name)
                if exact or self.valid(node, value):
                    return value
        except _TooDeep:
            if depth > SOFT_DEPTH:  # minimal choices failed here, so they fail deeper too
                self._too_deep[id(node)] = (node, depth)
            raise
        raise SchemaProblem(path, f"could not generate a valid value: {self.first_error(node, value)}")

    def build(self, flat: dict[str, Any], path: str, depth: int, name: str) -> Any:
        """A value for a flattened schema (composition first, then enum/const, then a type)."""
        self.tick(path)
        if PENDING in flat and "anyOf" not in flat and "oneOf" not in flat:
            flat = {**flat, "anyOf": flat[PENDING][0], PENDING: flat[PENDING][1:]}
        for key in ("anyOf", "oneOf"):
            if key in flat:
                return self.branch(flat, key, path, depth, name)
        if "if" in flat:
            return self.conditional(flat, path, depth, name)
        if "const" in flat or "enum" in flat:
            return self.choose(flat, path)
        problems: list[SchemaProblem] = []
        kinds = self.candidate_types(flat, path, depth)
        first: list[Any] = []
        for kind in kinds:
            try:
                value = self.typed(kind, flat, path, depth, name)
            except _Exhausted:
                raise
            except SchemaProblem as exc:
                problems.append(exc)
                continue
            if len(kinds) == 1 or self.valid(flat, value):
                return value
            first = first or [value]
        if first:  # no kind gave a valid value: the caller's validation reports why
            return first[0]
        raise _first(problems, path)

    def branch(self, flat: dict[str, Any], key: str, path: str, depth: int, name: str) -> Any:
        """A value from one branch of ``anyOf``/``oneOf`` (merged with the rest of the schema)."""
        rest = {k: v for k, v in flat.items() if k != key}
        rest[CHOSEN] = (*flat.get(CHOSEN, ()), id(flat[key]))
        branches = list(enumerate(flat[key]))
        problems: list[SchemaProblem] = []
        for i, sub in self.ordered(branches, depth, lambda b: (self.mentions_ref(b[1]), self.demand(b[1]))):
            at = join(path, key, i)
            if (id(sub), depth) in self._open:  # back at this branch with no value in between: a loop
                problems.append(_TooDeep(at, f"{key} refers back to itself with no value between"))
                continue
            self._open.add((id(sub), depth))
            try:
                sub_flat, at = self.flat(sub, at)
                return self.build(merge(rest, sub_flat, at), at, depth + _ref_weight(sub), name)
            except _Exhausted:
                raise
            except SchemaProblem as exc:
                problems.append(exc)
            finally:
                self._open.discard((id(sub), depth))
        if len(problems) == 1:
            raise problems[0]
        raise _first(problems, join(path, key), f"no branch of {key} can be satisfied")

    def conditional(self, flat: dict[str, Any], path: str, depth: int, name: str) -> Any:
        """``if``/``then``/``else``: a value meeting ``if`` and ``then``, or one meeting ``else``."""
        rest = {k: v for k, v in flat.items() if k not in ("if", "then", "else")}
        if_flat, _ = self.flat(flat["if"], join(path, "if"))
        then_flat, _ = self.flat(flat.get("then", True), join(path, "then"))
        else_flat, _ = self.flat(flat.get("else", True), join(path, "else"))
        sides = [merge(merge(rest, if_flat, path), then_flat, path), merge(rest, else_flat, path)]
        problems: list[SchemaProblem] = []
        for side in self.ordered(sides, depth, lambda _s: False):
            try:
                return self.build(side, path, depth, name)
            except _Exhausted:
                raise
            except SchemaProblem as exc:
                problems.append(exc)
        raise _first(problems, path)

    def choose(self, flat: dict[str, Any], path: str) -> Any:
        """A ``const`` or ``enum`` value that also meets the rest of the schema."""
        key = "const" if "const" in flat else "enum"
        options = [flat["const"]] if key == "const" else list(flat["enum"])
        if key == "const" and "enum" in flat and canonical(flat["const"]) not in map(canonical, flat["enum"]):
            raise SchemaProblem(join(path, "const"), "the `const` value is not in `enum`")
        self.rng.shuffle(options)
        for option in options:
            if self.valid(flat, option):
                return option
        raise SchemaProblem(join(path, key), f"no {key} value meets the other constraints")

    def candidate_types(self, flat: dict[str, Any], path: str, depth: int) -> list[str]:
        """Declared types in seeded order, else types inferred from the keywords; minus ``not: {type}``."""
        declared = types_of(flat)
        if declared is not None:
            kinds = self.ordered(declared, depth, lambda t: t in ("object", "array"))
        else:
            kinds = _infer_types(flat)
            if len(kinds) < 5:  # keyword families in seeded order; plain scalars stay string-first
                kinds = self.ordered(kinds, depth, lambda t: t in ("object", "array"))
        negated = flat.get("not")
        if isinstance(negated, dict) and set(negated) == {"type"}:
            excluded = types_of(negated) or []
            kinds = [k for k in kinds if k not in excluded and not (k == "integer" and "number" in excluded)]
        if not kinds:
            raise SchemaProblem(join(path, "type"), "no type is left")
        return kinds

    def typed(self, kind: str, flat: dict[str, Any], path: str, depth: int, name: str) -> Any:
        if kind == "null":
            return None
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "integer":
            return values.integer(flat, self.rng, path)
        if kind == "number":
            return values.number(flat, self.rng, path)
        if kind == "string":
            return values.string(flat, self.rng, path, name, self.hint)
        if kind == "array":
            return self.array(flat, path, depth)
        return self.object(flat, path, depth)

    # ------------------------------------------------------------ containers
    def array(self, flat: dict[str, Any], path: str, depth: int) -> list[Any]:
        prefix = flat.get("prefixItems", [])
        items = flat.get("items", True)
        lo, hi = _array_bounds(flat, len(prefix), path)
        small = lo if self.minimal(depth) else self.rng.randint(lo, max(lo, min(hi, _SMALL_ARRAY)))
        contains = flat.get("contains")
        need = flat.get("minContains", 1) if contains is not None else 0
        slots = set(self.rng.sample(range(small), need)) if need else set()
        out: list[Any] = []
        seen: set[str] = set()
        for i in range(small):
            sub, at = (prefix[i], join(path, "prefixItems", i)) if i < len(prefix) else (items, join(path, "items"))
            if i in slots:
                sub, at = {"allOf": [sub, contains]}, join(path, "contains")
            for _ in range(_LOCAL_TRIES if flat.get("uniqueItems") else 1):
                value = self.generate(sub, at, depth + 1, "")
                if canonical(value) not in seen:
                    break
            seen.add(canonical(value))
            out.append(value)
        return out

    def object(self, flat: dict[str, Any], path: str, depth: int) -> dict[str, Any]:
        keys = self.object_keys(flat, path, depth)
        out: dict[str, Any] = {}
        for key in keys:
            sub, at = self.property_schema(flat, key, path)
            out[key] = self.generate(sub, at, depth + 1, key)
        return out

    def object_keys(self, flat: dict[str, Any], path: str, depth: int) -> list[str]:
        """Which properties an object gets: required, then strict/seeded optional ones, then fillers."""
        props: dict[str, Any] = flat.get("properties", {})
        required = list(dict.fromkeys(flat.get("required", [])))
        for key in required:
            if props.get(key) is False:
                raise SchemaProblem(join(path, "properties", key), f"required property {key!r} is not allowed")
        optional = [k for k in props if k not in required and props[k] is not False]
        if self.minimal(depth):
            chosen = []
        elif self.strict:
            chosen = optional
        else:
            chosen = [k for k in optional if self.rng.random() < 0.5]
        keys = _with_dependencies([*required, *chosen], flat.get("dependentRequired", {}))
        high = flat.get("maxProperties")
        if high is not None and len(keys) > high:
            needed = _with_dependencies(required, flat.get("dependentRequired", {}))
            if len(needed) > high:
                raise SchemaProblem(join(path, "maxProperties"), f"{len(needed)} properties required, at most {high}")
            keys = needed
        low = flat.get("minProperties", 0)
        if low > values.MAX_DEMAND:
            raise SchemaProblem(join(path, "minProperties"), f"minProperties above {values.MAX_DEMAND}")
        if len(keys) < low:
            keys = self.fill_keys(flat, keys, low, path)
        return keys

    def fill_keys(self, flat: dict[str, Any], keys: list[str], low: int, path: str) -> list[str]:
        """More property names until ``minProperties`` holds: declared ones, then pattern or free names."""
        keys = list(keys)
        for key in flat.get("properties", {}):
            if len(keys) >= low:
                return keys
            if key not in keys and flat["properties"][key] is not False:
                keys.append(key)
        patterns = list(flat.get("patternProperties", {}))
        free = flat.get("additionalProperties", True) is not False
        names = flat.get("propertyNames", True)
        attempts = 0
        while len(keys) < low and attempts < 4 * low + 8:
            attempts += 1
            self.tick(path)
            if patterns and (not free or self.rng.random() < 0.5):
                pattern = self.rng.choice(patterns)
                name = values.pattern_string(pattern, 0, None, self.rng, join(path, "patternProperties", pattern))
            elif free:
                name = f"{self.rng.choice(values._WORDS)}_{len(keys) + 1}"
            else:
                break
            if name not in keys and self.valid(names, name):
                keys.append(name)
        if len(keys) < low:
            raise SchemaProblem(join(path, "minProperties"), f"cannot find {low} allowed property names")
        return keys

    def property_schema(self, flat: dict[str, Any], key: str, path: str) -> tuple[Any, str]:
        """The schema a property's value must meet: its declaration, matching patterns, or the rest."""
        parts: list[tuple[Any, str]] = []
        if key in flat.get("properties", {}):
            parts.append((flat["properties"][key], join(path, "properties", key)))
        for pattern, sub in flat.get("patternProperties", {}).items():
            if re.search(pattern, key):
                parts.append((sub, join(path, "patternProperties", pattern)))
        if not parts:
            extra = flat.get("additionalProperties", True)
            if extra is False:
                raise SchemaProblem(join(path, "additionalProperties"), f"property {key!r} is not allowed")
            parts.append((extra, join(path, "additionalProperties")))
        if len(parts) == 1:
            return parts[0]
        return {"allOf": [sub for sub, _ in parts]}, parts[0][1]


def _ref_weight(node: Any) -> int:
    """Following a ``$ref`` counts as one more level: recursive schemas reach the depth cap (and minimal
    choices) twice as fast as plain nesting, which keeps recursive instances small and cycles cheap."""
    return 1 if isinstance(node, dict) and "$ref" in node else 0


def _first(problems: list[SchemaProblem], path: str, message: str = "") -> SchemaProblem:
    """The problem to report for failed alternatives: too deep only when every alternative was."""
    if problems and all(isinstance(p, _TooDeep) for p in problems):
        if not message:
            return problems[0]
        return _TooDeep(path, f"{message}: every alternative nests without end ($ref cycle)")
    if not message and problems:
        return next(p for p in problems if not isinstance(p, _TooDeep))
    return SchemaProblem(path, message or "no alternative can be satisfied")


def _infer_types(flat: dict[str, Any]) -> list[str]:
    """Types suggested by the keywords of an untyped schema (plain scalars when nothing suggests one)."""
    families = {
        "object": ("properties", "required", "additionalProperties", "patternProperties", "minProperties",
                   "maxProperties", "dependentRequired", "propertyNames", "dependentSchemas"),
        "array": ("items", "prefixItems", "minItems", "maxItems", "contains", "uniqueItems"),
        "string": ("minLength", "maxLength", "pattern", "format"),
        "number": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
    }
    kinds = [kind for kind, keys in families.items() if any(k in flat for k in keys)]
    return kinds or ["string", "integer", "boolean", "number", "null", "object", "array"]


def _array_bounds(flat: dict[str, Any], prefix: int, path: str) -> tuple[int, int]:
    """(min, max) array length from minItems/maxItems/items:false/minContains/maxContains."""
    lo = flat.get("minItems", 0)
    if lo > values.MAX_DEMAND:
        raise SchemaProblem(join(path, "minItems"), f"minItems above {values.MAX_DEMAND} is not generated")
    hi = flat.get("maxItems", values.MAX_DEMAND)
    if flat.get("items", True) is False:
        hi = min(hi, prefix)
    if "contains" in flat:
        need = flat.get("minContains", 1)
        if need > flat.get("maxContains", need):
            raise SchemaProblem(join(path, "maxContains"), "maxContains is below minContains")
        if need > values.MAX_DEMAND:
            raise SchemaProblem(join(path, "minContains"), f"minContains above {values.MAX_DEMAND}")
        lo = max(lo, need)
    if lo > hi:
        raise SchemaProblem(join(path, "maxItems"), f"array length must be >= {lo} and <= {hi}")
    return lo, hi


def _with_dependencies(keys: list[str], dependent: dict[str, list[str]]) -> list[str]:
    """``keys`` closed under ``dependentRequired`` (order kept)."""
    out = list(dict.fromkeys(keys))
    i = 0
    while i < len(out):
        out.extend(k for k in dependent.get(out[i], []) if k not in out)
        i += 1
    return out
