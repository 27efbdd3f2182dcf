"""The seeded JSON-Schema instance generator: each keyword, the error paths, determinism."""

from __future__ import annotations

import random
import re
import uuid
from datetime import date, datetime

import jsonschema
import pytest

from mockserver.core.schema_instances import MAX_DEPTH, SchemaProblem, check_schema, instance

FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER


def many(schema, n=25, **kw):
    """Instances for seeds 0..n-1, each checked against the schema (formats included)."""
    out = []
    for seed in range(n):
        value = instance(schema, random.Random(seed), **kw)
        jsonschema.validate(value, schema, cls=jsonschema.Draft202012Validator, format_checker=FORMATS)
        out.append(value)
    return out


def problem(schema, **kw) -> SchemaProblem:
    with pytest.raises(SchemaProblem) as caught:
        instance(schema, random.Random(1), **kw)
    return caught.value


WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "verbose": {"type": "boolean"},
    },
    "required": ["city"],
}


# ---------------------------------------------------------------- determinism
def test_same_seed_same_value_and_different_seeds_differ():
    assert instance(WEATHER, random.Random(7)) == instance(WEATHER, random.Random(7))
    assert len({repr(v) for v in many(WEATHER, 10)}) > 3


def test_the_value_depends_on_the_rng_state_only():
    rng = random.Random(3)
    rng.random()
    again = random.Random(3)
    again.random()
    assert instance(WEATHER, rng, hint="x") == instance(WEATHER, again, hint="x")


# ---------------------------------------------------------------- objects
def test_required_always_present_and_optional_ones_vary():
    values = many(WEATHER, 40)
    assert all("city" in v for v in values)
    assert any("unit" in v for v in values) and any("unit" not in v for v in values)


def test_strict_gives_every_declared_property_and_nothing_else():
    for v in many({**WEATHER, "additionalProperties": False}, 10, strict=True):
        assert list(v) == ["city", "unit", "days", "verbose"]


def test_additional_properties_schema_and_min_properties():
    schema = {"type": "object", "additionalProperties": {"type": "integer"}, "minProperties": 3}
    for v in many(schema):
        assert len(v) >= 3 and all(isinstance(x, int) for x in v.values())


def test_pattern_properties_fill_min_properties():
    schema = {"type": "object", "patternProperties": {"^x_[0-9]$": {"const": 1}},
              "additionalProperties": False, "minProperties": 2}
    for v in many(schema):
        assert len(v) >= 2 and all(re.fullmatch("x_[0-9]", k) for k in v)


def test_dependent_required_and_max_properties():
    schema = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"},
                                              "c": {"type": "string"}},
              "dependentRequired": {"a": ["b"]}, "maxProperties": 2}
    for v in many(schema, 40):
        assert "a" not in v or "b" in v


def test_required_property_that_cannot_appear_is_a_problem():
    schema = {"type": "object", "required": ["x"], "additionalProperties": False}
    assert problem(schema).path == "additionalProperties"
    too_many = {"type": "object", "required": ["a", "b"], "maxProperties": 1}
    assert problem(too_many).path == "maxProperties"


# ---------------------------------------------------------------- scalars
def test_enum_const_null_and_type_arrays():
    assert set(many({"enum": ["a", 1, None]}, 30)) == {"a", 1, None}
    assert many({"const": {"k": [1]}}, 3) == [{"k": [1]}] * 3
    kinds = {type(v) for v in many({"type": ["string", "null"]}, 30)}
    assert kinds == {str, type(None)}


def test_integer_and_number_bounds_and_multiples():
    ints = many({"type": "integer", "minimum": -3, "exclusiveMaximum": 2})
    assert all(-3 <= v < 2 and isinstance(v, int) for v in ints)
    assert all(v % 5 == 0 for v in many({"type": "integer", "multipleOf": 5, "minimum": 11, "maximum": 40}))
    floats = many({"type": "number", "exclusiveMinimum": 0.5, "maximum": 0.75})
    assert all(0.5 < v <= 0.75 for v in floats)
    assert many({"type": "number", "multipleOf": 0.01, "minimum": 1, "maximum": 1.05})
    huge = many({"type": "number", "minimum": -1.7e308, "maximum": 1.7e308}, 5)
    assert all(abs(v) < float("inf") for v in huge)


#: What zod's ``z.number().int()`` becomes in the JSON schema the Vercel AI SDK sends (``generateObject``).
SAFE_INTEGER = {"type": "integer", "minimum": -9007199254740991, "maximum": 9007199254740991}


@pytest.mark.parametrize(("schema", "low", "high"), [
    (SAFE_INTEGER, 0, 100),
    ({"type": "integer", "minimum": 5, "maximum": 10**12}, 5, 105),
    ({"type": "integer", "minimum": -10**12, "maximum": -5}, -105, -5),
    ({"type": "integer", "multipleOf": 3, "minimum": -10**12, "maximum": 10**12}, 0, 30),
    ({"type": "number", "minimum": -1.7e308, "maximum": 1.7e308}, 0, 100),
    ({"type": "number", "minimum": -1e9, "maximum": -1e8}, -1e8 - 100, -1e8),
    ({"type": "number", "minimum": 1e8, "maximum": 1e9}, 1e8, 1e8 + 100),
])
def test_wide_closed_ranges_give_small_values_like_open_ones(schema, low, high):
    """A wide closed range is narrowed as an open one is: near zero (non-negative first), else next to the bound
    nearest to zero -- a client's ``days`` gets 7, not -3259401087282677."""
    assert all(low <= v <= high for v in many(schema))


def test_strings_respect_lengths_and_stay_small():
    assert all(5 <= len(v) <= 6 for v in many({"type": "string", "minLength": 5, "maxLength": 6}))
    assert all(len(v) <= 40 for v in many({"type": "string"}))
    assert all(len(v) == 300 for v in many({"type": "string", "minLength": 300, "maxLength": 300}, 3))


@pytest.mark.parametrize(
    ("fmt", "parse"),
    [("date", date.fromisoformat), ("date-time", lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))),
     ("uuid", uuid.UUID), ("email", lambda s: s.split("@")[1]), ("uri", lambda s: s.startswith("https://") or 1 / 0),
     ("ipv4", lambda s: [int(p) for p in s.split(".")]), ("ipv6", lambda s: s.count(":") == 7 or 1 / 0),
     ("hostname", lambda s: "." in s or 1 / 0), ("time", lambda s: s.endswith("Z") or 1 / 0)],
)
def test_formats(fmt, parse):
    for v in many({"type": "string", "format": fmt}, 10):
        parse(v)


def test_pattern_with_lengths():
    schema = {"type": "string", "pattern": "^[A-Z]{3}-[0-9]+$", "minLength": 6, "maxLength": 8}
    for v in many(schema, 40):
        assert re.fullmatch("[A-Z]{3}-[0-9]+", v) and 6 <= len(v) <= 8
    assert all("42" in v for v in many({"type": "string", "pattern": "42", "minLength": 10}))


def test_hint_supplies_plausible_text():
    args = instance({"type": "object", "properties": {"city": {"type": "string"}, "query": {"type": "string"}},
                     "required": ["city", "query"]}, random.Random(1), hint="What's the weather in Paris?")
    assert args == {"city": "Paris", "query": "What's the weather in Paris?"}
    where = {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}
    assert instance(where, random.Random(1), hint="Is it raining in New York's Central Park?") == {
        "location": "Central Park"}
    assert instance(where, random.Random(1), hint="Is it raining?")["location"][0].isupper()  # a known city


# ---------------------------------------------------------------- arrays
def test_items_prefix_items_lengths_and_uniqueness():
    schema = {"type": "array", "prefixItems": [{"const": "head"}], "items": {"type": "integer", "maximum": 4,
              "minimum": 0}, "minItems": 3, "uniqueItems": True}
    for v in many(schema):
        assert v[0] == "head" and len(v) >= 3 and len(set(v[1:])) == len(v) - 1
    assert all(len(v) <= 3 for v in many({"type": "array", "items": {"type": "integer"}}))
    assert all(len(v) == 50 for v in many({"type": "array", "minItems": 50, "maxItems": 50}, 2))


def test_contains_with_min_and_max_contains():
    schema = {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 9},
              "contains": {"const": 7}, "minContains": 2, "maxContains": 3}
    assert all(2 <= v.count(7) <= 3 for v in many(schema))


# ---------------------------------------------------------------- composition
def test_all_of_is_merged():
    schema = {"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
                        {"properties": {"a": {"minimum": 10, "maximum": 12}, "b": {"const": True}},
                         "required": ["b"]}]}
    assert all(10 <= v["a"] <= 12 and v["b"] is True for v in many(schema))


def test_any_of_one_of_and_not():
    assert {type(v) for v in many({"anyOf": [{"type": "integer"}, {"type": "string"}]}, 30)} == {int, str}
    one = {"oneOf": [{"type": "integer", "multipleOf": 2}, {"type": "integer", "multipleOf": 3}]}
    assert all((v % 2 == 0) != (v % 3 == 0) for v in many(one, 40))
    assert all(not isinstance(v, str) for v in many({"not": {"type": "string"}}))
    assert all(v not in ("a", "b") for v in many({"type": "string", "not": {"enum": ["a", "b"]}, "maxLength": 1}))


def test_if_then_else():
    schema = {"type": "object", "properties": {"kind": {"enum": ["a", "b"]}}, "required": ["kind"],
              "if": {"properties": {"kind": {"const": "a"}}},
              "then": {"properties": {"n": {"type": "integer"}}, "required": ["n"]},
              "else": {"properties": {"s": {"type": "string"}}, "required": ["s"]}}
    values = many(schema, 30)
    assert all(("n" in v) if v["kind"] == "a" else ("s" in v) for v in values)


# ---------------------------------------------------------------- references and recursion
def test_refs_defs_definitions_and_anchors():
    schema = {"$defs": {"pos": {"type": "integer", "minimum": 1}}, "definitions": {"tag": {"$anchor": "t",
              "enum": ["x"]}}, "type": "object", "properties": {"n": {"$ref": "#/$defs/pos"},
              "t": {"$ref": "#t"}, "u": {"$ref": "#/definitions/tag"}}, "required": ["n", "t", "u"]}
    assert all(v["n"] >= 1 and v["t"] == v["u"] == "x" for v in many(schema))


def test_recursive_schema_with_an_exit_is_finite():
    tree = {"$defs": {"node": {"type": "object", "properties": {"name": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}, "required": ["name", "children"]}},
            "$ref": "#/$defs/node"}
    assert many(tree, 20)
    linked = {"type": "object", "properties": {"next": {"anyOf": [{"$ref": "#"}, {"type": "null"}]}},
              "required": ["next"]}
    assert many(linked, 20, strict=True)


@pytest.mark.parametrize(
    ("schema", "path"),
    [({"$defs": {"n": {"type": "object", "properties": {"c": {"$ref": "#/$defs/n"}}, "required": ["c"]}},
       "$ref": "#/$defs/n"}, "$defs/n/properties/c"),
     ({"$ref": "#"}, "$ref"),
     ({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"},
      "$defs/b/allOf/0/$ref"),
     ({"$defs": {"n": {"type": "array", "items": {"$ref": "#/$defs/n"}, "minItems": 1}}, "$ref": "#/$defs/n"},
      "$defs/n/items")],
)
def test_unavoidable_cycles_are_schema_problems(schema, path):
    assert problem(schema).path == path


# ---------------------------------------------------------------- unsatisfiable and invalid schemas
@pytest.mark.parametrize(
    ("schema", "path"),
    [(False, ""),
     ({"type": "integer", "minimum": 5, "maximum": 4}, "maximum"),
     ({"type": "number", "exclusiveMinimum": 1, "exclusiveMaximum": 1}, "maximum"),
     ({"type": "integer", "minimum": 1, "maximum": 4, "multipleOf": 5}, "multipleOf"),
     ({"enum": []}, "enum"),
     ({"type": "string", "enum": [1, 2]}, "enum"),
     ({"allOf": [{"type": "integer"}, {"type": "string"}]}, "allOf/1/type"),
     ({"allOf": [{"const": 1}, {"const": 2}]}, "allOf/1/const"),
     ({"type": "string", "minLength": 3, "maxLength": 2}, "maxLength"),
     ({"type": "string", "minLength": 5000}, "minLength"),
     ({"type": "array", "minItems": 3, "maxItems": 1}, "maxItems"),
     ({"type": "array", "minItems": 2000}, "minItems"),
     ({"type": "object", "properties": {"a": {"type": "object", "properties": {"b": False}, "required": ["b"]}},
       "required": ["a"]}, "properties/a/properties/b"),
     ({"anyOf": [{"type": "integer", "minimum": 3, "maximum": 2}, False]}, "anyOf"),
     ({"type": "string", "pattern": "^a$", "minLength": 2}, "pattern")],
)
def test_unsatisfiable_schemas_name_the_keyword(schema, path):
    assert problem(schema).path == path


@pytest.mark.parametrize(
    ("schema", "fragment"),
    [([], "object or a boolean"),
     ({"type": "strong"}, "strong"),
     ({"pattern": "(("}, "regex"),
     ({"$ref": "https://example.com/s.json"}, "local"),
     ({"$ref": "#/$defs/missing"}, "unresolvable"),
     ({"minimum": float("inf")}, "finite"),
     ({"properties": {f"p{i}": {} for i in range(11_000)}}, "too large")],
)
def test_invalid_schemas_fail_the_preflight(schema, fragment):
    with pytest.raises(SchemaProblem) as caught:
        check_schema(schema)
    assert fragment in caught.value.message


def test_depth_limit_holds_without_recursion_error():
    deep: dict = {"type": "string"}
    for _ in range(10_000):
        deep = {"items": deep}
    with pytest.raises(SchemaProblem) as caught:
        check_schema(deep)
    assert f"deeper than {MAX_DEPTH}" in caught.value.message
    ok: dict = {"type": "string"}
    for _ in range(MAX_DEPTH - 2):
        ok = {"type": "array", "items": ok, "minItems": 1}
    value = instance(ok, random.Random(0))
    for _ in range(MAX_DEPTH - 2):
        value = value[0]
    assert isinstance(value, str)
