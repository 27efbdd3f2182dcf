from __future__ import annotations

import pytest

from mockserver.core.accounts import Accounts, InsufficientFunds, mask_key
from mockserver.core.randomness import Randomness
from mockserver.core.store import MemoryStore
from mockserver.settings import DEFAULT_API_KEY, from_sources


def test_defaults_need_no_configuration() -> None:
    settings = from_sources(env={})
    assert settings.default_api_key == DEFAULT_API_KEY
    assert (settings.skytells_port, settings.gateai_port, settings.time_mode) == (8080, 8081, "realtime")


def test_precedence_file_then_env_then_flags(tmp_path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text('[mockserver]\nseed = 1\ncredits = 5\napi_keys = ["sk-a", "sk-b"]\ntime_mode = "manual"\n')
    env = {"MOCKSERVER_SEED": "2", "MOCKSERVER_SINGLE_PORT": "true"}
    settings = from_sources(config, env=env, overrides={"credits": "7.5"})
    assert settings.seed == 2 and settings.credits == 7.5 and settings.single_port is True
    assert settings.api_keys == ("sk-a", "sk-b") and settings.time_mode == "manual"
    assert from_sources(env={"MOCKSERVER_API_KEYS": "sk-1, sk-2"}).api_keys == ("sk-1", "sk-2")
    assert from_sources(env={"MOCKSERVER_TTL": "none"}).ttl is None
    assert from_sources(env={"MOCKSERVER_JOURNAL_SIZE": "0"}).journal_size == 0  # no journal


@pytest.mark.parametrize(
    ("env", "message"),
    [({"MOCKSERVER_SEED": "x"}, "number"), ({"MOCKSERVER_TIME_MODE": "warp"}, "time_mode"),
     ({"MOCKSERVER_SINGLE_PORT": "maybe"}, "boolean"), ({"MOCKSERVER_SPEED": "0"}, "speed"),
     ({"MOCKSERVER_JOURNAL_SIZE": "-1"}, "journal_size must be 0")],
)
def test_bad_settings_are_explained(env: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        from_sources(env=env)


def test_unknown_toml_keys_are_refused(tmp_path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("colour = 'blue'\n")
    with pytest.raises(ValueError, match="colour"):
        from_sources(config, env={})


def test_debit_never_goes_negative() -> None:
    accounts = Accounts(MemoryStore(), default_credits=1.0, default_budget=100.0)
    accounts.create("sk-x")
    assert accounts.debit("sk-x", 0.4) == pytest.approx(0.6)
    with pytest.raises(InsufficientFunds):
        accounts.debit("sk-x", 0.7)
    assert accounts.get("sk-x").credits == pytest.approx(0.6)
    assert accounts.credit("sk-x", 0.4) == pytest.approx(1.0)


def test_accept_any_key() -> None:
    strict = Accounts(MemoryStore(), 1.0, 100.0)
    assert strict.get("sk-anything-goes") is None
    lenient = Accounts(MemoryStore(), 1.0, 100.0, accept_any_key=True)
    assert lenient.get("sk-anything-goes").credits == 1.0
    assert lenient.get("not-a-key") is None


def test_keys_are_masked() -> None:
    masked = mask_key("sk-secret-value-1234")
    assert "secret" not in masked and masked.startswith("sk-s") and "1234" in masked


def test_randomness_is_seeded_and_keyed_by_purpose() -> None:
    a, b, c = Randomness(5), Randomness(5), Randomness(6)
    assert [a.uuid4("p") for _ in range(3)] == [b.uuid4("p") for _ in range(3)]
    assert a.uuid4("p") != c.uuid4("p")
    assert a.rng("x").random() == b.rng("x").random() != a.rng("y").random()
    unseeded = Randomness(None)
    assert unseeded.uuid4("p") != Randomness(None).uuid4("p")


def test_tokens_are_seeded_sequences_over_their_alphabet() -> None:
    a, b = Randomness(5), Randomness(5)
    tokens = [a.token("t", 29) for _ in range(50)]
    assert tokens == [b.token("t", 29) for _ in range(50)] and len(set(tokens)) == 50
    assert all(len(token) == 29 and token.isalnum() and token.isascii() for token in tokens)
    assert set("".join(tokens)) > set("AZaz09")  # the whole alphabet is used
    assert set(a.token("hex", 48, "0123456789abcdef")) <= set("0123456789abcdef")
    assert Randomness(5).token("t", 29) == tokens[0] != Randomness(6).token("t", 29)
    assert len({a.uuid4("u")[14] for _ in range(5)}) == 1 and a.uuid4("u")[14] == "4"  # version 4 layout
    with pytest.raises(ValueError):
        a.token("t", 8, "é")
