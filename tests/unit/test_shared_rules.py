"""Scripted rules on a real Redis (:mod:`mockserver.core.shared_store.rules`): every client stands for one server
process; together they act as one in-memory rule set -- what one adds the next request on another sees, budgets
and seeded draws are spent once across all, ids never collide."""

from __future__ import annotations

import itertools
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.core.request_facts import RequestFacts
from mockserver.core.rules.fields import RuleError
from mockserver.core.rules.registry import Rules
from mockserver.core.shared_store.rules import RedisRules

KEY = "sk-unit-rules-0001"
CHAT = RequestFacts(api="skytells", method="POST", path="/v1/chat/completions", route="/v1/chat/completions",
                    key=KEY, model="gpt-5", prompt="Tell me about foxes")
MODELS = RequestFacts(api="skytells", method="GET", path="/v1/models", route="/v1/models", key=KEY)
FAULT = {"fault": {"type": "error", "status": 503}}
_prefixes = itertools.count()


def facts(template: RequestFacts = CHAT) -> RequestFacts:
    """A fresh copy (a request's facts carry its selection)."""
    return RequestFacts(api=template.api, method=template.method, path=template.path, route=template.route,
                        key=template.key, model=template.model, prompt=template.prompt)


@pytest.fixture
def two(redis_client) -> tuple[RedisRules, RedisRules]:
    return RedisRules(redis_client, seed=3), RedisRules(redis_client, seed=3)


def test_a_rule_added_on_one_applies_to_the_next_request_on_the_other(two) -> None:
    one, other = two
    assert not other.has_global_rules and other.select(facts()).fault is None
    added = one.add({**FAULT, "id": "down"})
    assert other.has_global_rules and other.select(facts()).rule_ids == ("down",)
    assert other.get("down").fired == 1 and added.id == "down"
    assert other.remove("down") and one.select(facts()).fault is None and one.list() == []


def test_times_is_spent_exactly_across_processes(two) -> None:
    one, other = two
    one.add({**FAULT, "times": 3})
    fired = [bool(registry.select(facts()).fault) for registry in (one, other) * 3]
    assert fired == [True, True, True, False, False, False]
    assert [(r.fired, r.as_json()["remaining"]) for r in (one.get("rule_1"), other.get("rule_1"))] == [(3, 0)] * 2


def test_concurrent_requests_on_both_spend_the_budget_once(two) -> None:
    one, other = two
    one.add({**FAULT, "times": 5})
    with ThreadPoolExecutor(8) as pool:
        fired = list(pool.map(lambda i: bool((one, other)[i % 2].select(facts()).fault), range(40)))
    assert sum(fired) == 5


def test_replies_come_in_order_whichever_process_serves(two) -> None:
    one, other = two
    one.add({"outcome": {"replies": ["first", "second", "third"]}})
    replies = [registry.select(facts()).outcome for registry in (other, one, other, one)]
    assert [r.reply if r else None for r in replies] == ["first", "second", "third", None]


def test_ids_are_unique_across_processes(two) -> None:
    one, other = two
    assert [one.add(FAULT).id, other.add(FAULT).id, one.add(FAULT).id] == ["rule_1", "rule_2", "rule_3"]
    other.add({**FAULT, "id": "mine"})
    with pytest.raises(RuleError, match="already exists"):
        one.add({**FAULT, "id": "mine"})
    with pytest.raises(RuleError, match="unknown rule field"):
        one.add({**FAULT, "colour": "red"})
    assert [r.id for r in other.list()] == ["rule_1", "rule_2", "rule_3", "mine"]


def test_a_scenario_defined_on_one_is_used_on_the_other(two) -> None:
    one, other = two
    one.set_scenario("slow", [{**FAULT, "times": 1, "id": "s1"}])
    assert other.scenario_names() == ["slow"]
    assert other.select(facts(), "slow").rule_ids == ("s1",) and other.select(facts(), "slow").fault is None
    one.set_scenario("slow", [{**FAULT, "times": 1, "id": "s1"}])  # replaced: a fresh budget
    assert other.select(facts(), "slow").rule_ids == ("s1",)
    assert one.remove_scenario("slow")
    with pytest.raises(RuleError, match="unknown scenario 'slow'"):
        other.select(facts(), "slow")


def test_inline_rules_share_their_budget_across_processes(two) -> None:
    one, other = two
    header = json.dumps({**FAULT, "times": 2})
    fired = [bool(registry.select(facts(), header).fault) for registry in (one, other, one, other)]
    assert fired == [True, True, False, False]


def test_clearing_on_one_clears_every_process_and_restarts_ids(two) -> None:
    one, other = two
    one.add({**FAULT, "times": 1})
    other.set_scenario("s", [FAULT])
    assert other.select(facts()).fault is not None
    one.clear()
    assert other.list() == [] and other.scenario_names() == [] and not other.has_global_rules
    assert other.add({**FAULT, "times": 1}).id == "rule_1"
    assert one.select(facts()).fault is not None  # the new rule_1 starts with its whole budget


def test_listing_shows_the_shared_counts(two) -> None:
    one, other = two
    one.add({**FAULT, "match": {"route": "GET /v1/models"}})
    for _ in range(2):
        assert other.select(facts(MODELS)).fault is not None
    assert other.select(facts()).fault is None  # no match, nothing spent
    assert one.list()[0].as_json()["fired"] == 2


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(servers=st.lists(st.integers(0, 2), min_size=1, max_size=30), times=st.none() | st.integers(1, 6),
       probability=st.sampled_from([1.0, 0.5, 0.2]), seed=st.none() | st.integers(0, 99))
def test_three_processes_fire_as_one_registry_in_memory(redis_client, servers, times, probability, seed) -> None:
    prefix = f"prop{next(_prefixes)}:"
    shared = [RedisRules(redis_client, prefix, seed=11) for _ in range(3)]
    alone = Rules(seed=11)
    spec = {**FAULT, "times": times, "probability": probability, **({} if seed is None else {"seed": seed})}
    shared[0].add(spec)
    alone.add(spec)
    pattern = [bool(shared[server].select(facts()).fault) for server in servers]
    assert pattern == [bool(alone.select(facts()).fault) for _ in servers]


def _commands(client, name: str) -> int:
    return int(client.info("commandstats").get(f"cmdstat_{name}", {}).get("calls", 0))


def test_choosing_rules_asks_redis_for_the_token_only_after_a_change_was_announced(two, redis_client) -> None:
    one, other = two
    one.add({**FAULT, "id": "down", "scenario": "s"})
    other.select(facts())  # reads the token once and subscribes
    before = _commands(redis_client, "get"), _commands(redis_client, "mget")
    assert all(other.select(facts()).fault is None for _ in range(50))
    assert (_commands(redis_client, "get"), _commands(redis_client, "mget")) == before  # a poll, no round trip
    one.add({**FAULT, "id": "up"})
    assert other.select(facts()).rule_ids == ("up",)  # announced before the add was acknowledged
    one.close(), other.close()
