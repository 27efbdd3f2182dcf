"""A chat body seen before is not parsed again (its validated request is kept by its bytes): the answers and the
refusals stay what parsing it anew gives."""

from __future__ import annotations

from typing import Any

import httpx

RAW = b'{"model":"gpt-5","messages":[{"role":"user","content":"Say hello."}],"max_tokens":16}'
JSON = {"content-type": "application/json"}


def _post(http: httpx.Client, raw: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    return http.post("/chat/completions", content=raw, headers=JSON if headers is None else headers)


def _without_id(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body.pop("id").startswith("chatcmpl-")
    return body


def test_a_repeated_body_answers_as_other_bytes_of_the_same_request_do(http: httpx.Client) -> None:
    first, again = _without_id(_post(http, RAW)), _without_id(_post(http, RAW))
    spaced = _without_id(_post(http, RAW.replace(b",", b", ")))  # other bytes: parsed anew
    assert first == again == spaced
    assert first["usage"]["completion_tokens"] <= 16


def test_the_checks_before_parsing_hold_for_a_body_seen_before(http: httpx.Client) -> None:
    assert _post(http, RAW).status_code == 200
    assert _post(http, RAW, {"content-type": "text/plain"}).status_code == 415
    assert _post(http, b"  ").status_code == 400
    assert _post(http, RAW).status_code == 200


def test_a_refused_body_is_refused_every_time(http: httpx.Client) -> None:
    raw = RAW.replace(b'"max_tokens":16', b'"max_tokens":0')
    answers = [_post(http, raw) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [400, 400]
    errors = [answer.json()["error"] for answer in answers]
    assert [(error["param"], error["message"]) for error in errors] == [("max_tokens", errors[0]["message"])] * 2
