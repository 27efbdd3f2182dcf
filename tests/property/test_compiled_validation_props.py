"""The compiled fast path of request validation (mockserver.spec.compiled) answers exactly as the Python
jsonschema validator does: on every model's input schema and the create / generate body schemas, with
instances built from the schemas' own properties, enums and defaults and arbitrary JSON in between."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from mockserver.skytells.catalog import Catalog
from mockserver.spec.compiled import CheckedValidator, checked, compile_schema
from mockserver.spec.formats import FORMATS
from mockserver.spec.validation import contract

CATALOG = Catalog.load()
MODELS = [model for model in CATALOG if model.serves_predictions]
BODIES = [("skytells", "CreatePredictionBody"), ("gateai", "GenerateBody"), ("skytells", "WebhookRequest")]
#: Strings where Python's ``re`` / the Python format functions and Rust's defaults part ways, and ordinary ones.
STRINGS = st.sampled_from([
    "", " ", "\x1c", "\x85", "\u3000", "a", "a fox", "12", "12\n", "https://a.example/b.png", "https://a.b/c\n",
    "http://localhost/x", "ftp://a", "data:image/png;base64,AAAA", "2026-01-01", "2026-01-01T00:00:00Z", "16:9",
    "1:1", "png", "webp", "none", "prediction.started", "succeeded",
]) | st.text(max_size=12)
SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
           | st.sampled_from([0, 1, 32, 64, 1024, 1.5, 5000]) | STRINGS)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(["url", "events", "prompt", "x"]) | st.text(max_size=4),
                                      inner, max_size=3), max_leaves=8)


def _value(prop: Any) -> st.SearchStrategy[Any]:
    choices = [JSON]
    if isinstance(prop, dict) and prop.get("enum"):
        choices.append(st.sampled_from(prop["enum"]))
    if isinstance(prop, dict) and "default" in prop:
        choices.append(st.just(prop["default"]))
    return st.one_of(*choices)


def instances(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Objects over the schema's properties (each present or not, a documented or an arbitrary value)."""
    props = schema.get("properties", {})
    fields = {name: _value(prop) for name, prop in props.items()}
    return st.fixed_dictionaries({}, optional=fields) | JSON


def _agree(validator: CheckedValidator, instance: Any) -> None:
    assert validator.fast is not None
    slow_errors = [error.message for error in validator.slow.iter_errors(instance)]
    assert validator.is_valid(instance) == (not slow_errors)
    assert [error.message for error in validator.iter_errors(instance)] == slow_errors
    if validator._passes(instance):  # the fast yes is never looser than the Python validator
        assert not slow_errors


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_model_input_schemas_fast_path_agrees(data: st.DataObject) -> None:
    model = data.draw(st.sampled_from(MODELS))
    _agree(model.validator, data.draw(instances(model.input_schema)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_contract_body_schemas_fast_path_agrees(data: st.DataObject) -> None:
    api, name = data.draw(st.sampled_from(BODIES))
    found = contract(api)
    pointer = f"/components/schemas/{name}"
    schema = found.resolve(found.at(pointer), pointer).node
    _agree(found.validator(pointer), data.draw(instances(schema)))


def test_valid_documented_inputs_take_the_fast_path() -> None:
    """Each model's schema defaults (with its required fields) pass the compiled check, not the Python one."""
    for model in MODELS:
        schema = model.input_schema
        instance = {name: prop["default"] for name, prop in schema.get("properties", {}).items() if "default" in prop}
        instance.update({name: "a fox" for name in schema.get("required", []) if name not in instance})
        if model.validator.slow.is_valid(instance):
            assert model.validator._passes(instance), model.namespace


def _pair(schema: dict[str, Any], checker: FormatChecker | None = FORMATS) -> CheckedValidator:
    return checked(Draft202012Validator(schema, format_checker=checker), lambda: compile_schema(schema, checker))


@given(STRINGS)
def test_patterns_use_pythons_regex_dialect(value: str) -> None:
    """``\\s`` (Python counts U+001C as space, Rust does not) and ``$`` before a final newline."""
    for pattern in (r"\S", r"^[0-9]+$", r"^[a-z ]+$"):
        _agree(_pair({"type": "string", "pattern": pattern}), value)


def test_formats_are_the_checkers_own() -> None:
    """Only the checker's formats are checked, by its functions; other formats are ignored, as in Python."""
    checker = FormatChecker(formats=())
    checker.checks("even-length")(lambda value: not isinstance(value, str) or len(value) % 2 == 0)
    odd = _pair({"type": "string", "format": "even-length"}, checker)
    assert odd.fast is not None and not odd.is_valid("abc") and odd.is_valid("ab")
    ignored = _pair({"type": "string", "format": "email"}, checker)  # unknown to the checker: not checked
    assert ignored.is_valid("not an email") and ignored._passes("not an email")


def test_unsupported_schemas_stay_on_the_python_path() -> None:
    strict = FormatChecker(formats=())
    strict.checks("strict")(lambda value: isinstance(value, str))
    assert _pair({"format": "strict"}, strict).fast is None  # refuses non-strings: Rust would not ask
    assert _pair({"patternProperties": {"^x": {"type": "integer"}}}).fast is None
    lone = _pair({"type": "string"})
    assert lone.is_valid("\ud800") and not lone._passes("\ud800")  # jsonschema-rs cannot take it: Python decides
