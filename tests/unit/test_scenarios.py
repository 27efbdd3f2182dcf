"""Scripted rules: parsing, matching, budgets, seeded probability, scenarios; and the fault helpers."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from mockserver.app import build
from mockserver.core import wire
from mockserver.core.request_facts import RequestFacts, facts_of
from mockserver.core.rules import faults
from mockserver.core.rules.faults import ErrorStatus, Latency, RateLimit, Reset
from mockserver.core.rules.fields import RuleError
from mockserver.core.rules.model import ScriptedResult
from mockserver.core.rules.prompts import prompt_text
from mockserver.core.rules.registry import Rules
from mockserver.core.rules.select import NOTHING, Selection, scripted_result, selection_of
from tests.conftest import KEY, make_settings

CHAT = RequestFacts(api="skytells", method="POST", path="/v1/chat/completions", route="/v1/chat/completions",
                    key=KEY, model="gpt-5", prompt="Tell me about foxes")
PREDICTION = RequestFacts(api="skytells", method="GET", path="/v1/predictions/pred_123",
                          route="/v1/predictions/{id}", key="sk-other")
GENERATE = RequestFacts(api="gateai", method="POST", path="/api/generate", route="/api/generate", key=KEY,
                        model="seedance-2.0", prompt="waves at dusk")


def outcome_rule(**spec: object) -> dict[str, object]:
    return {"outcome": {"reply": "scripted"}, **spec}


def fires(match: dict[str, object], facts: RequestFacts) -> bool:
    """Does a rule with this matcher fire? (A fault rule: faults apply to any request.)"""
    rules = Rules(seed=1)
    rules.add({"match": match, "fault": {"type": "latency", "latency_ms": 1}})
    return rules.select(facts).fault is not None


# -- parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(("spec", "message"), [
    ("not a rule", "a rule must be a JSON object"),
    ({}, "exactly one of fault or outcome"),
    ({"fault": "reset", "outcome": {"reply": "x"}}, "exactly one of fault or outcome"),
    ({"fault": "reset", "colour": "red"}, "unknown rule field(s): colour"),
    ({"fault": {"type": "explode"}}, "fault.type must be one of latency, error, rate_limit, reset, empty, sse_cut"),
    ({"fault": {"type": "error", "status": 200}}, "fault.status must be an HTTP error status (400-599)"),
    ({"fault": {"type": "error", "statuss": 503}}, "unknown field(s) for fault type error: statuss"),
    ({"fault": {"type": "reset", "status": 503}}, "(it takes no other fields)"),
    ({"fault": {"type": "latency", "latency_ms": -1}}, "latency_ms must be between 0 and 600000"),
    ({"fault": {"type": "latency", "latency_ms": "slow"}}, "latency_ms must be a number"),
    ({"fault": {"type": "rate_limit", "retry_after": True}}, "retry_after must be a number"),
    ({"fault": {"type": "sse_cut", "after_events": 1.5}}, "after_events must be an integer >= 0"),
    ({"outcome": {}}, "outcome must set at least one of"),
    ({"outcome": {"status": "exploded"}}, "outcome.status must be succeeded or failed"),
    ({"outcome": {"replies": []}}, "outcome.replies must be a non-empty array of turns"),
    ({"outcome": {"reply": "a", "replies": ["b"]}}, "not both"),
    ({"outcome": {"mood": "happy"}}, "unknown outcome field(s): mood"),
    (outcome_rule(match={"api": "other"}), "match.api must be one of skytells, gateai"),
    (outcome_rule(match={"path": "/v1"}), "unknown match field(s): path"),
    (outcome_rule(match={"prompt": "("}), "match.prompt is not a valid regular expression"),
    (outcome_rule(match="everything"), "match must be an object"),
    (outcome_rule(times=0), "times must be a positive integer"),
    (outcome_rule(probability=1.5), "probability must be between 0 and 1"),
    (outcome_rule(seed="x"), "seed must be an integer"),
    (outcome_rule(id="has space"), "id must be 1-64 letters"),
    (outcome_rule(scenario="{json"), "cannot start with '{'"),
])
def test_bad_rules_say_what_is_wrong(spec: object, message: str) -> None:
    with pytest.raises(RuleError) as caught:
        Rules().add(spec)
    assert message in str(caught.value)


def test_parsed_rule_round_trips_as_json() -> None:
    rules = Rules()
    rule = rules.add({"id": "slow-chat", "match": {"route": "post /v1/chat/*", "model": "gpt-*", "prompt": "fox"},
                      "fault": {"type": "latency", "latency_ms": 250}, "times": 3, "probability": 0.5, "seed": 7})
    assert rule.as_json() == {
        "id": "slow-chat", "match": {"route": "POST /v1/chat/*", "model": "gpt-*", "prompt": "fox"},
        "fault": {"type": "latency", "latency_ms": 250.0}, "times": 3, "probability": 0.5, "fired": 0,
        "remaining": 3, "seed": 7,
    }
    with pytest.raises(RuleError, match="already exists"):
        rules.add({"id": "slow-chat", "fault": "reset"})
    assert rules.add({"outcome": {"error": "boom"}}).outcome == ScriptedResult(status="failed", error="boom")
    assert rules.add({"fault": "reset"}).fault == Reset()


# -- matching ----------------------------------------------------------------------------


def test_an_empty_matcher_matches_everything() -> None:
    assert fires({}, CHAT) and fires({}, PREDICTION) and fires({}, GENERATE)


def test_api_matcher() -> None:
    assert fires({"api": "gateai"}, GENERATE) and not fires({"api": "gateai"}, CHAT)


@pytest.mark.parametrize(("route", "chat", "prediction"), [
    ("POST /v1/chat/completions", True, False),
    ("GET /v1/chat/completions", False, False),
    ("/v1/chat/completions", True, False),
    ("/v1/chat/*", True, False),
    ("/v1/predictions/{id}", False, True),  # the route template
    ("GET /v1/predictions/{id}", False, True),
    ("DELETE /v1/predictions/{id}", False, False),
    ("/v1/predictions/pred_123", False, True),  # the concrete path
    ("/v1/predictions/*", False, True),
    ("/v1/*", True, True),
    ("GET", False, True),  # a method alone
])
def test_route_matcher(route: str, chat: bool, prediction: bool) -> None:
    assert fires({"route": route}, CHAT) is chat
    assert fires({"route": route}, PREDICTION) is prediction


@pytest.mark.parametrize(("model", "expected"), [("gpt-5", True), ("gpt-*", True), ("gpt-5.4", False), ("*", True)])
def test_model_matcher_exact_or_glob(model: str, expected: bool) -> None:
    assert fires({"model": model}, CHAT) is expected
    assert not fires({"model": "*"}, PREDICTION)  # no model in the request: no match


def test_key_matcher() -> None:
    assert fires({"key": KEY}, CHAT) and not fires({"key": KEY}, PREDICTION)


def test_prompt_matcher_is_a_regular_expression_search() -> None:
    assert fires({"prompt": "fox(es)?"}, CHAT) and fires({"prompt": "(?i)^tell"}, CHAT)
    assert not fires({"prompt": "wolves"}, CHAT) and not fires({"prompt": "."}, PREDICTION)
    assert fires({"prompt": "dusk$", "api": "gateai", "model": "seedance-*"}, GENERATE)
    assert not fires({"prompt": "dusk$", "api": "skytells"}, GENERATE)  # every field must match


def test_prompt_text_of_each_request_shape() -> None:
    chat = {"model": "gpt-5", "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Describe"}, {"type": "image_url", "image_url": {}}]},
        {"role": "user", "content": "a fox"}]}
    assert prompt_text(chat) == "Be brief.\nDescribe\na fox"
    assert prompt_text({"model": "gpt-5", "input": "Hello", "instructions": "Be kind"}) == "Be kind\nHello"
    items = {"input": [{"role": "user", "content": [{"type": "input_text", "text": "Hi there"}]}]}
    assert prompt_text(items) == "Hi there"
    assert prompt_text({"model": "truefusion-pro", "input": {"prompt": "A red fox"}}) == "A red fox"
    assert prompt_text({"model": "seedance-2.0", "type": "video", "params": {"prompt": "Waves"}}) == "Waves"
    assert prompt_text({"model": "gpt-5"}) is None and prompt_text(["not", "an", "object"]) is None


# -- budgets, order, probability -----------------------------------------------------------


def test_times_limits_how_often_a_rule_fires() -> None:
    rules = Rules()
    rule = rules.add({"fault": {"type": "error", "status": 503}, "times": 2})
    chosen = [rules.select(CHAT).fault for _ in range(4)]
    assert chosen == [ErrorStatus(status=503)] * 2 + [None, None]
    assert (rule.fired, rule.exhausted, rule.as_json()["remaining"]) == (2, True, 0)


def test_a_rule_that_does_not_match_spends_nothing() -> None:
    rules = Rules()
    rule = rules.add({"match": {"api": "gateai"}, "fault": "reset", "times": 1})
    assert rules.select(CHAT) == NOTHING and rule.fired == 0
    assert rules.select(GENERATE).fault == Reset() and rule.fired == 1


def test_first_matching_fault_and_first_matching_outcome_both_apply() -> None:
    rules = Rules()
    rules.add({"id": "a", "match": {"model": "gpt-*"}, "fault": {"type": "latency", "latency_ms": 5}})
    rules.add({"id": "b", "fault": "reset"})
    rules.add({"id": "c", "outcome": {"reply": "first"}})
    rules.add({"id": "d", "outcome": {"reply": "second"}})
    selection = rules.select(CHAT)
    assert selection == Selection(fault=Latency(latency_ms=5.0), outcome=ScriptedResult(reply="first"),
                                  rule_ids=("a", "c"))
    assert rules.get("b").fired == 0 and rules.get("d").fired == 0  # not spent when not applied
    assert rules.select(PREDICTION).rule_ids == ("b",)  # a poll spends no outcome rule
    assert rules.select(GENERATE).rule_ids == ("b", "c")


def test_replies_are_a_sequence_one_per_request() -> None:
    rules = Rules()
    rules.add({"outcome": {"replies": ["one", "two", "three"]}})
    assert [rules.select(CHAT).outcome.reply for _ in range(3)] == ["one", "two", "three"]
    assert rules.select(CHAT) == NOTHING  # the sequence is spent


def firing_pattern(rules: Rules, rule_id: str, draws: int) -> list[bool]:
    rule = rules.get(rule_id)
    pattern = []
    for _ in range(draws):
        before = rule.fired
        rules.select(CHAT)
        pattern.append(rule.fired > before)
    return pattern


def test_probability_with_a_seed_is_reproducible_and_about_right() -> None:
    first, second = Rules(seed=1), Rules(seed=2)
    first.add({"id": "x", "fault": "reset", "probability": 0.3, "seed": 42})
    second.add({"id": "y", "fault": "reset", "probability": 0.3, "seed": 42})  # another id and server seed
    a, b = firing_pattern(first, "x", 2000), firing_pattern(second, "y", 2000)
    assert a == b  # the same seed fires on the same requests
    assert 0.25 < sum(a) / len(a) < 0.35
    other = Rules(seed=1)
    other.add({"id": "x", "fault": "reset", "probability": 0.3, "seed": 43})
    assert firing_pattern(other, "x", 2000) != a


def test_without_a_rule_seed_the_server_seed_makes_probability_reproducible() -> None:
    patterns = []
    for _ in range(2):
        rules = Rules(seed=20260101)
        rules.add({"fault": "reset", "probability": 0.5})
        patterns.append(firing_pattern(rules, "rule_1", 200))
    assert patterns[0] == patterns[1] and 60 < sum(patterns[0]) < 140


def test_probability_zero_never_fires_and_spends_nothing() -> None:
    rules = Rules(seed=3)
    rule = rules.add({"fault": "reset", "probability": 0.0, "times": 1})
    assert all(rules.select(CHAT) == NOTHING for _ in range(100)) and rule.fired == 0


# -- scenarios ---------------------------------------------------------------------------


def test_a_scenarios_rules_apply_only_with_its_header() -> None:
    rules = Rules()
    rules.set_scenario("flaky", [{"fault": {"type": "error", "status": 503}}])
    rules.add({"outcome": {"reply": "global"}})
    assert rules.select(CHAT) == Selection(outcome=ScriptedResult(reply="global"), rule_ids=("rule_2",))
    flaky = rules.select(CHAT, "flaky")
    assert flaky.fault == ErrorStatus(status=503) and flaky.outcome == ScriptedResult(reply="global")
    assert flaky.scenario == "flaky"
    rules.add({"scenario": "flaky", "outcome": {"reply": "scenario first"}})
    assert rules.select(CHAT, "flaky").outcome == ScriptedResult(reply="scenario first")
    assert rules.select(CHAT).outcome == ScriptedResult(reply="global")


def test_an_unknown_scenario_name_is_an_error_naming_the_known_ones() -> None:
    rules = Rules()
    rules.set_scenario("b", [])
    rules.set_scenario("a", [])
    with pytest.raises(RuleError, match=r"unknown scenario 'c' \(known: a, b\)"):
        rules.select(CHAT, "c")


def test_set_scenario_replaces_and_reports_the_bad_rule() -> None:
    rules = Rules()
    rules.set_scenario("s", [{"fault": "reset"}])
    replaced = rules.set_scenario("s", [{"fault": "empty"}, {"outcome": {"reply": "x"}}])
    assert [r.fault.type if r.fault else "outcome" for r in rules.scenario("s")] == ["empty", "outcome"]
    assert replaced == rules.scenario("s") and len(rules.list()) == 2
    with pytest.raises(RuleError, match=r"rules\[1\]: a rule needs exactly one"):
        rules.set_scenario("s", [{"fault": "reset"}, {}])
    assert rules.scenario("s") == replaced  # unchanged on error
    assert rules.remove_scenario("s") and rules.scenario("s") is None and not rules.remove_scenario("s")


def test_inline_header_rules_apply_alone() -> None:
    rules = Rules()
    rules.add({"fault": "reset"})
    header = json.dumps({"fault": {"type": "error", "status": 502}, "match": {"model": "gpt-*"}})
    selection = rules.select(CHAT, header)
    assert selection.fault == ErrorStatus(status=502) and selection.scenario == "inline"
    assert rules.select(PREDICTION, header) == Selection(scenario="inline")  # the global reset is not used
    listed = json.dumps([{"outcome": {"reply": "hi"}}, {"fault": "empty"}])
    assert rules.select(CHAT, listed).rule_ids == ("inline_1", "inline_2")
    with pytest.raises(RuleError, match="not valid JSON"):
        rules.select(CHAT, "{oops")
    with pytest.raises(RuleError, match="unknown rule field"):
        rules.select(CHAT, '{"fault": "reset", "bogus": 1}')


def test_inline_rules_keep_their_budget_across_requests_with_the_same_header() -> None:
    rules = Rules(seed=5)
    once = json.dumps({"fault": "reset", "times": 1})
    assert rules.select(CHAT, once).fault == Reset()
    assert rules.select(CHAT, once).fault is None
    assert rules.select(CHAT, once.replace(" ", "")).fault == Reset()  # other text: other rules
    replies = json.dumps({"outcome": {"replies": ["a", "b"]}})
    expected = [ScriptedResult(reply="a"), ScriptedResult(reply="b"), None]
    assert [rules.select(CHAT, replies).outcome for _ in range(3)] == expected
    coin = json.dumps({"fault": "empty", "probability": 0.5})
    draws = {rules.select(CHAT, coin).fault is not None for _ in range(50)}
    assert draws == {True, False}
    rules.clear()
    assert rules.select(CHAT, once).fault == Reset()  # a clear forgets them


def test_remove_and_clear() -> None:
    rules = Rules()
    rules.add({"fault": "reset"})
    rules.add({"scenario": "s", "fault": "empty"})
    assert [r.id for r in rules.list()] == ["rule_1", "rule_2"] and rules.get("rule_2").scenario == "s"
    assert rules.remove("rule_2") and not rules.remove("rule_2") and rules.scenario("s") == []
    rules.clear()
    assert rules.list() == [] and rules.scenario_names() == []
    assert rules.add({"fault": "reset"}).id == "rule_1"


def test_selection_is_read_from_the_scope() -> None:
    chosen = Selection(outcome=ScriptedResult(reply="x"), rule_ids=("rule_1",))
    scope: dict = {"method": "POST", "path": "/v1/responses", "headers": []}
    facts_of(scope, "skytells").selection = chosen
    assert selection_of(scope) is chosen and scripted_result(scope) == ScriptedResult(reply="x")
    assert selection_of({}) is NOTHING and scripted_result({"state": {}}) is None


# -- fault helpers -------------------------------------------------------------------------


def test_sse_events_are_counted_across_chunks_and_line_endings() -> None:
    counter = faults.SseEvents()
    assert counter.feed(b"data: one\n", 2) is None
    assert counter.feed(b"\ndata: two\n", 2) is None and counter.count == 1
    assert counter.feed(b"\ndata: three\n\n", 2) == 1 and counter.count == 2
    crlf = faults.SseEvents()
    body = b"event: a\r\ndata: 1\r\n\r\n: ping\r\n\r\nevent: b\r\n"
    assert crlf.feed(body, 2) is None and crlf.count == 1  # a keep-alive comment is no event
    assert crlf.feed(b"data: 2\r\n\r\nevent: c", 2) == len(b"data: 2\r\n\r\n")
    lone_cr = faults.SseEvents()
    assert lone_cr.feed(b"data: x\r\r", 1) == 9
    blank = faults.SseEvents()
    assert blank.feed(b"\n\n\n", 1) is None and blank.count == 0  # blank lines alone are no event


def test_fault_errors_use_the_given_or_a_generic_id() -> None:
    error = ErrorStatus(status=503).error("mock rule rule_1")
    assert (error.status, error.error_id) == (503, "INTERNAL_ERROR")
    assert error.message == "Service Unavailable (HTTP 503 scripted by mock rule rule_1)"
    credits = ErrorStatus(status=402, error_id="INSUFFICIENT_CREDITS", message="Broke").error("a mock rule")
    assert (credits.status, credits.error_id, credits.message) == (402, "INSUFFICIENT_CREDITS", "Broke")
    limited = RateLimit(retry_after=1.2).error("mock rule r")
    assert (limited.status, limited.error_id) == (429, "RATE_LIMIT_EXCEEDED")
    assert limited.headers == {"Retry-After": "2", "retry-after-ms": "1200"}


def test_without_a_transport_a_drop_raises_connection_dropped() -> None:
    """In-process (no socket to drop) the app raises instead: the client sees the exception."""
    mock = build(make_settings())
    mock.runtime.rules.add({"fault": "reset"})

    async def call() -> None:
        transport = httpx.ASGITransport(app=mock.apps["skytells"])
        async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
            await client.get("/v1/models", headers={"x-api-key": KEY})

    with pytest.raises(wire.ConnectionDropped, match="scripted reset fault"):
        asyncio.run(call())


def test_outcome_rules_are_only_spent_by_requests_they_can_shape() -> None:
    rules = Rules(seed=1)
    rules.add({"outcome": {"status": "failed", "error": "boom"}, "times": 1})
    rules.add({"fault": {"type": "latency", "latency_ms": 1}, "times": 1})
    poll = RequestFacts(api="skytells", method="GET", path="/v1/predictions/abc", route="/v1/predictions/{id}")
    first = rules.select(poll)
    assert first.outcome is None and first.fault is not None  # faults apply anywhere
    assert rules.select(poll).outcome is None
    create = RequestFacts(api="skytells", method="POST", path="/v1/predictions", model="flux-pro")
    assert rules.select(create).outcome is not None
    assert rules.select(create).outcome is None  # times=1 spent by the create, not by the polls
