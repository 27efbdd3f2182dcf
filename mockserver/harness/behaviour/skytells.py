"""Behaviour of the Skytells API v1 that a schema cannot express.

* ``skytells.prediction_lifecycle``: statuses move ``pending -> starting -> processing -> succeeded |
  failed | cancelled`` and never leave a terminal state; timestamps and output follow the status; cancel
  works only before the end (and refunds), delete removes; only the owner can see, cancel or delete a
  prediction; ``credits_used`` is the catalog price and the key's balance adds up (where it is observable).
* ``skytells.inference_sse``: Chat Completions and Responses streams are well-framed server-sent events
  whose pieces add up to the final result; stored responses are owner-only.
* ``skytells.catalog_reads`` (read-only): the model list and single-model reads agree; unknown models and
  predictions are 404s in the documented error format; list paging stays within its documented bounds.
"""

from __future__ import annotations

from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, invariant, precondition, rule

from mockserver.harness.behaviour.common import (
    Context,
    HarnessMachine,
    NotApplicable,
    Violation,
    dig,
    expect,
    expect_status,
    parse_json_data,
    sse_frames,
)
from mockserver.harness.spend import SkytellsPrices

ORDER = {"pending": 0, "starting": 1, "processing": 2, "succeeded": 3, "failed": 3, "cancelled": 3}
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
#: Units whose price the harness can compute exactly from the request alone.
EXACT_UNITS = frozenset({"image", "second", "5 seconds", "prediction", "video"})
PROMPTS = st.sampled_from(["A red fox in the snow", "Waves at dusk", "A lighthouse, watercolor", "City lights"])
WAITS = st.sampled_from([1.0, 4.0, 15.0, 45.0, 120.0, 300.0])


def _prices(ctx: Context) -> SkytellsPrices:
    prices = ctx.prices
    assert isinstance(prices, SkytellsPrices)
    return prices


def error_id(body: Any) -> Any:
    """The documented top-level ``error_id`` (Predictions / Models API error format)."""
    return body.get("error_id") if isinstance(body, dict) else None


def expect_error(ctx: Context, response: Any, status: int, ident: str, check: str, operation: str, why: str) -> None:
    """An error answer: the status and ``{error_id, message}`` as the docs' error format says."""
    expect_status(response, status, check, operation, why)
    body = ctx.json(response, check, operation)
    expect(error_id(body) == ident, check, operation,
           f"expected error_id {ident!r} ({why}), got {error_id(body)!r} in {str(body)[:160]}", field="error_id")
    expect(isinstance(body.get("message"), str) and bool(body["message"]), check, operation,
           "error response has no 'message' string (documented error format {error_id, message})", field="message")


def lifecycle_models(ctx: Context) -> list[tuple[str, float]]:
    """Cheap prediction models whose only required input is ``prompt`` and whose price is exact, by type."""
    cached = ctx.cache.get("skytells.lifecycle_models")
    if cached is not None:
        return cached
    prices = _prices(ctx)
    by_type: dict[str, list[tuple[float, str]]] = {}
    for name, model in prices.models.items():
        data = model.data
        schema = data.get("input_schema") or {}
        if "/v1/predictions" not in data.get("endpoints", ()) or data.get("type") not in ("image", "video", "audio"):
            continue
        if set(schema.get("required", ())) - {"prompt"} or "prompt" not in schema.get("properties", {}):
            continue
        if (data.get("pricing") or {}).get("unit") not in EXACT_UNITS:
            continue
        by_type.setdefault(data["type"], []).append((prices.prediction_cost({"model": name, "input": {"prompt": "x"}}),
                                                     name))
    # the two cheapest of each type: different speeds (inline, seconds, minutes) at the lowest cost
    result = [(name, cost) for kind in sorted(by_type) for cost, name in sorted(by_type[kind])[:2]]
    ctx.cache["skytells.lifecycle_models"] = result
    return result


class PredictionLifecycle(HarnessMachine):
    """Create, watch, cancel, delete and trespass on predictions while time passes."""

    name = "skytells.prediction_lifecycle"
    description = "lifecycle order, terminal states, cancel/delete semantics, owner-only access, credits"
    paid_per_step: ClassVar[float] = 0.35
    predictions = Bundle("predictions")

    @classmethod
    def applicable(cls, ctx: Context) -> str | None:
        if ctx.options.read_only:
            return "creates predictions (not in --read-only)"
        if not lifecycle_models(ctx):
            return "no prediction model with a prompt-only input and an exact price in the catalog"
        return None

    @classmethod
    def cost_per_paid_request(cls, ctx: Context) -> float:
        return max((cost for _, cost in lifecycle_models(ctx)), default=0.0)

    def __init__(self) -> None:
        super().__init__()
        self.models = lifecycle_models(self.ctx)
        self.seen: dict[str, dict[str, Any]] = {}  # id -> {"status", "body", "deleted", "charged", "cost"}
        self.balance_start = self.ctx.target.balance()

    # -- helpers -------------------------------------------------------------------------

    def check_object(self, body: Any, operation: str, pid: str | None = None) -> dict[str, Any]:
        check = "prediction.object"
        expect(isinstance(body, dict), check, operation, f"expected a Prediction Object, got {str(body)[:120]}")
        status = body.get("status")
        expect(status in ORDER, check, operation, f"status {status!r} is not one of {', '.join(ORDER)}",
               field="status")
        if pid is not None:
            expect(body.get("id") == pid, check, operation, f"id {body.get('id')!r} is not the requested {pid!r}",
                   field="id")
        terminal = status in TERMINAL
        expect((body.get("completed_at") is not None) == terminal, "lifecycle.timestamps", operation,
               f"completed_at is {body.get('completed_at')!r} while status is {status!r} "
               "(set exactly when the prediction has finished)", field="completed_at")
        stamps = [body.get(k) for k in ("created_at", "started_at", "completed_at")]
        present = [s for s in stamps if isinstance(s, str)]
        expect(present == sorted(present), "lifecycle.timestamps", operation,
               f"timestamps out of order: created_at {stamps[0]}, started_at {stamps[1]}, completed_at {stamps[2]}",
               field="started_at")
        output = body.get("output")
        if status == "succeeded":
            expect(output not in (None, [], ""), "lifecycle.output", operation,
                   "a succeeded prediction has no output", field="output")
        else:
            expect(output in (None, [], ""), "lifecycle.output", operation,
                   f"a {status} prediction has output {str(output)[:80]}", field="output")
        return body

    def observe_body(self, pid: str, body: dict[str, Any], operation: str) -> None:
        entry = self.seen[pid]
        before, after = entry["status"], body["status"]
        if before in TERMINAL:
            expect(after == before, "lifecycle.terminal_is_final", operation,
                   f"prediction left terminal state {before!r} for {after!r}", field="status")
            for name in ("output", "completed_at"):
                expect(body.get(name) == entry["body"].get(name), "lifecycle.terminal_is_final", operation,
                       f"{name} changed after the prediction finished ({str(entry['body'].get(name))[:60]} -> "
                       f"{str(body.get(name))[:60]})", field=name)
        else:
            expect(ORDER[after] >= ORDER[before], "lifecycle.order", operation,
                   f"status went backwards: {before!r} -> {after!r} (order: pending, starting, processing, "
                   "then succeeded | failed | cancelled)", field="status")
        if after == "succeeded" and entry["exact"]:
            used = dig(body, "metadata.billing.credits_used")
            expect(isinstance(used, int | float) and abs(float(used) - entry["cost"]) < 1e-6,
                   "billing.credits_used", operation,
                   f"credits_used is {used!r}, the catalog price for this input is {entry['cost']:.6f}",
                   field="metadata.billing.credits_used")
        if after in ("cancelled", "failed"):
            used = dig(body, "metadata.billing.credits_used")
            expect(used in (None, 0, 0.0), "billing.credits_used", operation,
                   f"a {after} prediction reports credits_used {used!r} (it is not charged)",
                   field="metadata.billing.credits_used")
            entry["charged"] = False
        entry["status"], entry["body"] = after, body

    def fetch(self, pid: str) -> dict[str, Any] | None:
        operation = self.ctx.operation("GET", "/predictions/{id}")
        response = self.ctx.call("GET", "/predictions/{id}", params={"id": pid})
        if self.seen[pid]["deleted"]:
            expect_error(self.ctx, response, 404, "PREDICTION_NOT_FOUND", "lifecycle.deleted_is_gone", operation,
                         "the prediction was deleted")
            return None
        expect_status(response, 200, "prediction.get", operation, "the owner reads an existing prediction")
        body = self.check_object(self.ctx.json(response, "prediction.get", operation), operation, pid)
        self.observe_body(pid, body, operation)
        return body

    # -- rules ---------------------------------------------------------------------------

    @rule(target=predictions, choice=st.integers(0, 7), prompt=PROMPTS)
    def create(self, choice: int, prompt: str) -> str:
        model, cost = self.models[choice % len(self.models)]
        operation = self.ctx.operation("POST", "/predictions")
        body = {"model": model, "input": {"prompt": prompt}}
        response = self.ctx.call("POST", "/predictions", json_body=body)
        expect_status(response, (200, 201), "prediction.create", operation, "a valid prediction is accepted")
        created = self.check_object(self.ctx.json(response, "prediction.create", operation), operation)
        expect(created["status"] != "cancelled", "lifecycle.order", operation,
               "a new prediction is already cancelled", field="status")
        expect(dig(created, "model.name") == model, "prediction.create", operation,
               f"model.name is {dig(created, 'model.name')!r}, not the requested {model!r}", field="model.name")
        pid = created.get("id")
        expect(isinstance(pid, str) and bool(pid), "prediction.create", operation, "no id", field="id")
        self.seen[pid] = {"status": "pending", "body": created, "deleted": False, "charged": True,
                          "cost": cost, "exact": True}
        self.observe_body(pid, created, operation)
        return pid

    @rule(seconds=WAITS)
    def time_passes(self, seconds: float) -> None:
        self.ctx.pass_time(seconds)

    @rule(pid=predictions)
    def observe(self, pid: str) -> None:
        self.fetch(pid)

    @rule(pid=predictions)
    def cancel(self, pid: str) -> None:
        if self.seen[pid]["deleted"]:
            return
        current = self.fetch(pid)
        assert current is not None
        operation = self.ctx.operation("POST", "/predictions/{id}/cancel")
        response = self.ctx.call("POST", "/predictions/{id}/cancel", params={"id": pid})
        if current["status"] in TERMINAL and self.ctx.target.is_mock:
            expect_error(self.ctx, response, 400, "INVALID_PARAMETER", "cancel.finished", operation,
                         f"the prediction has already {current['status']}")
        elif response.status_code == 200 or self.ctx.target.is_mock:
            expect_status(response, 200, "cancel.unfinished", operation,
                          f"the prediction is still {current['status']}")
            body = self.check_object(self.ctx.json(response, "cancel.unfinished", operation), operation, pid)
            expect(body["status"] == "cancelled", "cancel.unfinished", operation,
                   f"after cancel the status is {body['status']!r}, not 'cancelled'", field="status")
            self.observe_body(pid, body, operation)
        self.fetch(pid)

    @rule(pid=predictions)
    def delete(self, pid: str) -> None:
        entry = self.seen[pid]
        if entry["deleted"]:
            return
        operation = self.ctx.operation("DELETE", "/predictions/{id}")
        response = self.ctx.call("DELETE", "/predictions/{id}", params={"id": pid})
        expect_status(response, 200, "delete", operation, "the owner deletes a prediction")
        body = self.ctx.json(response, "delete", operation)
        if isinstance(body, dict) and body.get("status") not in TERMINAL and body.get("status") is not None:
            raise Violation("delete", operation, f"a deleted prediction reports status {body.get('status')!r}",
                            "status")
        if isinstance(body, dict) and body.get("status") == "cancelled":
            entry["charged"] = False
        entry["deleted"] = True
        self.fetch(pid)

    @rule(pid=predictions)
    def trespass(self, pid: str) -> None:
        other = self.ctx.target.second_key()
        if other is None:
            return
        for method, template in (("GET", "/predictions/{id}"), ("POST", "/predictions/{id}/cancel"),
                                 ("DELETE", "/predictions/{id}")):
            operation = self.ctx.operation(method, template)
            response = self.ctx.call(method, template, params={"id": pid}, key=other)
            expect_error(self.ctx, response, 404, "PREDICTION_NOT_FOUND", "owner_only", operation,
                         "another key must not see, cancel or delete someone else's prediction")
        self.fetch(pid)

    @precondition(lambda self: any(e["status"] in TERMINAL and not e["deleted"] for e in self.seen.values()))
    @rule(data=st.data())
    def stream_finished(self, data: st.DataObject) -> None:
        finished = sorted(pid for pid, e in self.seen.items() if e["status"] in TERMINAL and not e["deleted"])
        pid = data.draw(st.sampled_from(finished))
        operation = self.ctx.operation("GET", "/predictions/{id}/stream")
        response = self.ctx.call("GET", "/predictions/{id}/stream", params={"id": pid},
                                 headers={"accept": "text/event-stream"}, stream=True)
        expect_status(response, 200, "sse.prediction_stream", operation, "the owner follows a finished prediction")
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            return  # a JSON answer is allowed for the stream URL; nothing to frame-check
        frames = sse_frames(response.text)
        names = [f.get("event", "message") for f in frames]
        expect(bool(names) and names[-1] == "done", "sse.prediction_stream", operation,
               f"the stream of a finished prediction must end with a 'done' event, got {names[-3:]}", field="event")
        statuses = [dig(parse_json_data(f), "status") for f in frames if f.get("event") == "prediction"]
        ranks = [ORDER.get(s, -1) for s in statuses]
        expect(ranks == sorted(ranks) and -1 not in ranks, "sse.prediction_stream", operation,
               f"prediction events are not in lifecycle order: {statuses}", field="data.status")
        expect(bool(statuses) and statuses[-1] == self.seen[pid]["status"], "sse.prediction_stream", operation,
               f"the last prediction event says {statuses[-1] if statuses else None!r}, the prediction is "
               f"{self.seen[pid]['status']!r}", field="data.status")

    @invariant()
    def credits_add_up(self) -> None:
        if self.balance_start is None or not self.seen:
            return
        balance = self.ctx.target.balance()
        if balance is None:
            return
        charged = sum(e["cost"] for e in self.seen.values() if e["charged"])
        expected = self.balance_start - charged
        expect(abs(balance - expected) < 1e-6, "billing.balance", "GET /_mock/keys/{key}",
               f"balance is {balance:.6f}, expected {expected:.6f} (start {self.balance_start:.6f} minus "
               f"{charged:.6f} for predictions not cancelled)", field="credits")


def inference_model(ctx: Context) -> str | None:
    """The cheapest text model served by both Chat Completions and Responses."""
    if "skytells.text_model" not in ctx.cache:
        prices = _prices(ctx)
        candidates = []
        for name, model in prices.models.items():
            endpoints = model.data.get("endpoints", ())
            if "/v1/chat/completions" in endpoints and "/v1/responses" in endpoints:
                candidates.append((prices.token_cost(model, 1000, 1000), name))
        ctx.cache["skytells.text_model"] = min(candidates)[1] if candidates else None
    return ctx.cache["skytells.text_model"]


TEXTS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=60)


def check_response_stream(text: str, content_type: str, operation: str) -> dict[str, Any]:
    """A Responses stream: well-framed typed events whose text deltas add up; returns the final Response."""
    check = "sse.responses_framing"
    expect(content_type.startswith("text/event-stream"), check, operation,
           f"content-type is {content_type!r}, not text/event-stream", field="content-type")
    frames = sse_frames(text)
    events = [parse_json_data(f) for f in frames]
    expect(bool(frames) and all(isinstance(e, dict) for e in events), check, operation,
           "every frame's data must be a JSON object", field="data")
    for frame, event in zip(frames, events, strict=True):
        expect(frame.get("event") == event.get("type"), check, operation,
               f"frame 'event: {frame.get('event')}' does not match its data.type {event.get('type')!r}",
               field="event")
    types = [e["type"] for e in events]
    expect(types[0] == "response.created", check, operation, f"first event is {types[0]!r}, not response.created",
           field="type")
    expect(types[-1] in ("response.completed", "response.incomplete"), check, operation,
           f"last event is {types[-1]!r}, not response.completed", field="type")
    numbers = [e.get("sequence_number") for e in events]
    if all(isinstance(n, int) for n in numbers):
        expect(numbers == sorted(set(numbers)), check, operation, "sequence_number does not increase",
               field="sequence_number")
    final = events[-1].get("response") or {}
    streamed = "".join(e.get("delta", "") for e in events if e["type"] == "response.output_text.delta")
    texts = [part.get("text", "") for item in final.get("output", []) if isinstance(item, dict)
             for part in item.get("content", []) if isinstance(part, dict) and part.get("type") == "output_text"]
    expect(streamed == "".join(texts), check, operation,
           "the output_text deltas do not add up to the completed response's text", field="delta")
    return final


class InferenceMachine(HarnessMachine):
    """A machine that talks to the Inference API: it needs a text model and POSTs, and pays per token."""

    MAX_TOKENS: ClassVar[int] = 48  # the most output tokens one of its requests asks for
    PROMPT_TOKENS: ClassVar[int] = 200  # a bound on the input tokens of one of its requests

    @classmethod
    def applicable(cls, ctx: Context) -> str | None:
        if ctx.options.read_only:
            return "sends POST requests (not in --read-only)"
        return None if inference_model(ctx) else "no text model served by chat completions and responses"

    @classmethod
    def cost_per_paid_request(cls, ctx: Context) -> float:
        prices = _prices(ctx)
        model = prices.model(inference_model(ctx))
        return prices.token_cost(model, cls.PROMPT_TOKENS, cls.MAX_TOKENS) if model else 0.0

    def __init__(self) -> None:
        super().__init__()
        self.model = inference_model(self.ctx)


class InferenceStreams(InferenceMachine):
    """Plain and streamed Chat Completions and Responses; stored responses and their owners."""

    name = "skytells.inference_sse"
    description = "SSE framing of chat completions and responses, stream == final result, owner-only responses"
    paid_per_step: ClassVar[float] = 1.0
    responses = Bundle("responses")
    MAX_TOKENS = 48


    @rule(text=TEXTS, stream=st.booleans(), usage=st.booleans(), max_tokens=st.integers(1, MAX_TOKENS))
    def chat(self, text: str, stream: bool, usage: bool, max_tokens: int) -> None:
        operation = self.ctx.operation("POST", "/chat/completions")
        body: dict[str, Any] = {"model": self.model, "messages": [{"role": "user", "content": text}],
                                "max_tokens": max_tokens, "stream": stream}
        if stream and usage:
            body["stream_options"] = {"include_usage": True}
        response = self.ctx.call("POST", "/chat/completions", json_body=body, stream=stream)
        expect_status(response, 200, "chat.create", operation, "a valid chat request")
        if not stream:
            completion = self.ctx.json(response, "chat.create", operation)
            expect(completion.get("object") == "chat.completion", "chat.create", operation,
                   f"object is {completion.get('object')!r}", field="object")
            expect(isinstance(dig(completion, "choices.0.message.content"), str), "chat.create", operation,
                   "choices[0].message.content is not a string", field="choices[0].message.content")
            return
        check = "sse.chat_framing"
        expect(response.headers.get("content-type", "").startswith("text/event-stream"), check, operation,
               f"content-type is {response.headers.get('content-type')!r}, not text/event-stream",
               field="content-type")
        expect(response.text.endswith("\n\n"), check, operation, "the stream does not end with a blank line")
        frames = sse_frames(response.text)
        bad = [f["_bad"] for f in frames if "_bad" in f]
        expect(not bad, check, operation, f"lines that are not SSE fields: {bad[:2]}")
        expect(bool(frames) and frames[-1]["data"] == "[DONE]", check, operation,
               "the last frame is not 'data: [DONE]'", field="data")
        chunks = [parse_json_data(f) for f in frames[:-1]]
        expect(all(isinstance(c, dict) for c in chunks), check, operation,
               "a data frame before [DONE] is not a JSON object", field="data")
        expect(sum(f["data"] == "[DONE]" for f in frames) == 1, check, operation, "more than one [DONE]")
        ids = {c.get("id") for c in chunks}
        expect(len(ids) == 1, check, operation, f"chunks carry different ids: {sorted(map(str, ids))[:3]}",
               field="id")
        expect(all(c.get("object") == "chat.completion.chunk" for c in chunks), check, operation,
               "a chunk's object is not 'chat.completion.chunk'", field="object")
        with_choices = [c for c in chunks if c.get("choices")]
        expect(bool(with_choices) and dig(with_choices[0], "choices.0.delta.role") == "assistant", check, operation,
               "the first chunk does not carry delta.role 'assistant'", field="choices[0].delta.role")
        finishes = [dig(c, "choices.0.finish_reason") for c in with_choices if dig(c, "choices.0.finish_reason")]
        expect(len(finishes) == 1 and dig(with_choices[-1], "choices.0.finish_reason") is not None, check, operation,
               f"exactly the last chunk with choices must carry finish_reason, got {finishes}",
               field="choices[0].finish_reason")
        if usage:
            last = chunks[-1]
            expect(last.get("choices") == [] and isinstance(last.get("usage"), dict), check, operation,
                   "with stream_options.include_usage the final chunk has empty choices and a usage object",
                   field="usage")
            completion_tokens = dig(last, "usage.completion_tokens")
            expect(isinstance(completion_tokens, int) and completion_tokens <= max_tokens, check, operation,
                   f"usage.completion_tokens {completion_tokens!r} exceeds max_tokens {max_tokens}",
                   field="usage.completion_tokens")

    @rule(target=responses, text=TEXTS, stream=st.booleans(), max_tokens=st.integers(16, MAX_TOKENS))
    def respond(self, text: str, stream: bool, max_tokens: int) -> str:
        operation = self.ctx.operation("POST", "/responses")
        body = {"model": self.model, "input": text, "max_output_tokens": max_tokens, "stream": stream}
        response = self.ctx.call("POST", "/responses", json_body=body, stream=stream)
        expect_status(response, 200, "responses.create", operation, "a valid responses request")
        if not stream:
            final = self.ctx.json(response, "responses.create", operation)
        else:
            final = check_response_stream(response.text, response.headers.get("content-type", ""), operation)
        expect(isinstance(final, dict) and final.get("object") == "response", "responses.create", operation,
               f"object is {dig(final, 'object')!r}, not 'response'", field="object")
        rid = final.get("id")
        expect(isinstance(rid, str) and bool(rid), "responses.create", operation, "no id", field="id")
        return rid

    @rule(rid=responses)
    def read_back(self, rid: str) -> None:
        operation = self.ctx.operation("GET", "/responses/{id}")
        response = self.ctx.call("GET", "/responses/{id}", params={"id": rid})
        expect_status(response, 200, "responses.stored", operation, "the owner reads a stored response")
        expect(dig(self.ctx.json(response, "responses.stored", operation), "id") == rid, "responses.stored",
               operation, "the stored response has another id", field="id")
        other = self.ctx.target.second_key()
        if other is not None:
            response = self.ctx.call("GET", "/responses/{id}", params={"id": rid}, key=other)
            expect_status(response, 404, "owner_only", operation, "another key must not read the response")


class CatalogReads(HarnessMachine):
    """GET-only checks: the catalog agrees with itself; unknown things are documented 404s; paging bounds."""

    name = "skytells.catalog_reads"
    description = "list vs single model, MODEL_NOT_FOUND / PREDICTION_NOT_FOUND, paging bounds"
    read_only = True

    def __init__(self) -> None:
        super().__init__()
        if "skytells.catalog" not in self.ctx.cache:
            operation = self.ctx.operation("GET", "/models")
            response = self.ctx.call("GET", "/models")
            expect_status(response, 200, "models.list", operation, "the catalog")
            listed = self.ctx.json(response, "models.list", operation)
            expect(isinstance(listed, list) and bool(listed), "models.list", operation,
                   "the catalog is not a non-empty array")
            self.ctx.cache["skytells.catalog"] = {m.get("namespace"): m for m in listed if isinstance(m, dict)}
        self.catalog: dict[str, Any] = self.ctx.cache["skytells.catalog"]
        if not self.catalog:
            raise NotApplicable("the catalog is empty")

    @rule(index=st.integers(0, 1000))
    def one_model(self, index: int) -> None:
        names = sorted(n for n in self.catalog if isinstance(n, str))
        name = names[index % len(names)]
        operation = self.ctx.operation("GET", "/models/{slug}")
        response = self.ctx.call("GET", "/models/{slug}", params={"slug": name})
        expect_status(response, 200, "models.get", operation, f"{name!r} is in the catalog")
        body = self.ctx.json(response, "models.get", operation)
        for field_name in ("namespace", "type", "pricing"):
            expect(body.get(field_name) == self.catalog[name].get(field_name), "models.consistent", operation,
                   f"{field_name} of {name!r} differs from the list's ({str(body.get(field_name))[:60]})",
                   field=field_name)

    @rule(suffix=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=4, max_size=16))
    def unknown_model(self, suffix: str) -> None:
        name = f"no-such-model-{suffix}"
        operation = self.ctx.operation("GET", "/models/{slug}")
        response = self.ctx.call("GET", "/models/{slug}", params={"slug": name})
        expect_error(self.ctx, response, 404, "MODEL_NOT_FOUND", "models.unknown", operation, f"{name!r} is unknown")

    @rule(uuid=st.uuids())
    def unknown_prediction(self, uuid: Any) -> None:
        operation = self.ctx.operation("GET", "/predictions/{id}")
        response = self.ctx.call("GET", "/predictions/{id}", params={"id": str(uuid)})
        expect_error(self.ctx, response, 404, "PREDICTION_NOT_FOUND", "predictions.unknown", operation,
                     "no such prediction")

    @rule(per_page=st.integers(1, 50), page=st.integers(1, 3))
    def list_page(self, per_page: int, page: int) -> None:
        operation = self.ctx.operation("GET", "/predictions")
        response = self.ctx.call("GET", "/predictions", query={"per_page": per_page, "page": page})
        expect_status(response, 200, "predictions.list", operation, "a valid page")
        body = self.ctx.json(response, "predictions.list", operation)
        data = body.get("data") if isinstance(body, dict) else None
        expect(isinstance(data, list) and len(data) <= per_page, "predictions.list", operation,
               f"a page of per_page={per_page} holds {len(data) if isinstance(data, list) else data!r} items",
               field="data")
        expect(dig(body, "pagination.per_page") == per_page, "predictions.list", operation,
               f"pagination.per_page is {dig(body, 'pagination.per_page')!r}, not {per_page}",
               field="pagination.per_page")

    @rule()
    def per_page_over_max(self) -> None:
        operation = self.ctx.operation("GET", "/predictions")
        response = self.ctx.call("GET", "/predictions", query={"per_page": 51})
        expect_error(self.ctx, response, 400, "INVALID_PARAMETER", "predictions.list", operation,
                     "per_page is at most 50")


MACHINES: tuple[type[HarnessMachine], ...] = (CatalogReads, PredictionLifecycle, InferenceStreams)
