"""Behaviour of the GateAI Core API that a schema cannot express.

* ``gateai.generation_budget``: a generation is ``PROCESSING`` and then ``FINISHED | FAILED`` for good,
  with result URLs exactly when finished; only its owner can read it; ``/api/estimate`` predicts what
  ``/api/generate`` charges; the daily budget (``/credits``) goes down by exactly what was charged and
  ``remaining = daily_limit - used`` always.
* ``gateai.limits``: prompts over 1500 characters are ``PROMPT_TOO_LONG``, quantities over 8
  ``QUANTITY_TOO_HIGH`` (both cost nothing); a 6th generation in flight or within any 30 s is refused with
  429 ``RATE_LIMITED`` and a ``Retry-After``; fewer than that are admitted.
* ``gateai.discovery_reads`` (read-only): the model list, single-model schemas, the fuzzy not-found answer,
  ``/credits`` and ``/api/me`` agree with each other.
"""

from __future__ import annotations

from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, invariant, rule

from mockserver.harness.behaviour.common import (
    Context,
    HarnessMachine,
    NotApplicable,
    dig,
    expect,
    expect_status,
)
from mockserver.harness.spend import GateAIPrices

STATUSES = ("PROCESSING", "FINISHED", "FAILED")
TERMINAL = frozenset({"FINISHED", "FAILED"})
PROMPT_LIMIT, QUANTITY_LIMIT = 1500, 8
WINDOW_LIMIT, WINDOW_SECONDS, CONCURRENCY_LIMIT, SLOT_RELEASE = 5, 30.0, 5, 600.0
PROMPTS = st.sampled_from(["A serene mountain lake at sunrise", "A cat walking", "Neon city at night"])
EPSILON = 1e-6


def _prices(ctx: Context) -> GateAIPrices:
    prices = ctx.prices
    assert isinstance(prices, GateAIPrices)
    return prices


def expect_gateai_error(ctx: Context, response: Any, status: int, code: str, check: str, operation: str,
                        why: str) -> dict[str, Any]:
    """An error answer in GateAI's format: ``{"error": <message>, ...}`` naming the documented code."""
    expect_status(response, status, check, operation, why)
    body = ctx.json(response, check, operation)
    expect(isinstance(body, dict) and isinstance(body.get("error"), str) and bool(body["error"]), check, operation,
           f"error body is not GateAI's format {{\"error\": \"<message>\", ...}}: {str(body)[:160]}", field="error")
    expect(body.get("code") == code or code in body["error"], check, operation,
           f"the error does not name {code} (code {body.get('code')!r}, error {body['error'][:80]!r})", field="code")
    return body


def cheap_models(ctx: Context) -> list[tuple[str, float]]:
    """Image models with ``prompt`` and ``quantity`` params, cheapest first, at a non-zero cost (so money moves)."""
    cached = ctx.cache.get("gateai.cheap_models")
    if cached is not None:
        return cached
    response = ctx.call("GET", "/v1/models")
    listed = response.json() if response.status_code == 200 else []
    found: list[tuple[float, str]] = []
    for entry in listed if isinstance(listed, list) else []:
        params = entry.get("params") if isinstance(entry, dict) else None
        if entry.get("type") != "image" or not isinstance(params, list) or not {"prompt", "quantity"} <= set(params):
            continue
        cost = _prices(ctx).estimate(generate_body(entry["id"], "a red fox"))
        if cost > 0:
            found.append((cost, entry["id"]))
    result = [(name, cost) for cost, name in sorted(found)[:3]]
    ctx.cache["gateai.cheap_models"] = result
    return result


def generate_body(model: str, prompt: str, quantity: int = 1) -> dict[str, Any]:
    return {"model": model, "type": "image", "params": {"prompt": prompt, "quantity": quantity}}


def utc_day(epoch: float) -> int:
    """The UTC day of an instant (GateAI's daily budget resets at 00:00 UTC)."""
    return int(epoch // 86_400)


def read_credits(ctx: Context) -> dict[str, float]:
    operation = ctx.operation("GET", "/credits")
    response = ctx.call("GET", "/credits")
    expect_status(response, 200, "budget.credits", operation, "the key's budget")
    body = ctx.json(response, "budget.credits", operation)
    budget = body.get("your_budget") if isinstance(body, dict) else None
    expect(isinstance(budget, dict), "budget.credits", operation, "no your_budget object", field="your_budget")
    values = {name: budget.get(name) for name in ("daily_limit", "used", "remaining")}
    for name, value in values.items():
        expect(isinstance(value, int | float) and not isinstance(value, bool), "budget.credits", operation,
               f"your_budget.{name} is {value!r}, not a number", field=f"your_budget.{name}")
    expect(abs(values["daily_limit"] - values["used"] - values["remaining"]) < EPSILON, "budget.arithmetic",
           operation, f"remaining {values['remaining']} != daily_limit {values['daily_limit']} - used {values['used']}",
           field="your_budget.remaining")
    return {k: float(v) for k, v in values.items()}


class GenerationBudget(HarnessMachine):
    """Generate, watch and trespass on generations while the budget is audited after every step."""

    name = "gateai.generation_budget"
    description = "generation status order and terminal states, owner-only, estimate == charge, budget accounting"
    paid_per_step: ClassVar[float] = 0.3
    tasks = Bundle("tasks")

    @classmethod
    def applicable(cls, ctx: Context) -> str | None:
        if ctx.options.read_only:
            return "generates (not in --read-only)"
        return None if cheap_models(ctx) else "no image model with prompt and quantity params and a non-zero cost"

    @classmethod
    def cost_per_paid_request(cls, ctx: Context) -> float:
        return max((cost for _, cost in cheap_models(ctx)), default=0.0)

    def __init__(self) -> None:
        super().__init__()
        self.models = cheap_models(self.ctx)
        self.start = read_credits(self.ctx)
        self.start_day = utc_day(self.ctx.target.now())
        self.seen: dict[str, dict[str, Any]] = {}
        self.sent: list[float] = []  # when generations were sent (the endpoint's clock)

    def make_room(self) -> None:
        """Wait out the 30 s window and the in-flight limit so this machine's generations are never refused."""
        now = self.ctx.target.now()
        recent = [t for t in self.sent if t > now - WINDOW_SECONDS]
        busy = [e for e in self.seen.values() if e["status"] not in TERMINAL and e["sent"] > now - SLOT_RELEASE]
        if len(recent) >= WINDOW_LIMIT - 1:
            self.ctx.pass_time(WINDOW_SECONDS + 1)
        if len(busy) >= CONCURRENCY_LIMIT - 1:
            self.ctx.pass_time(SLOT_RELEASE + 1)
            for pid in list(self.seen):
                self.fetch(pid)

    @rule(target=tasks, choice=st.integers(0, 5), prompt=PROMPTS)
    def generate(self, choice: int, prompt: str) -> str:
        self.make_room()
        model, _ = self.models[choice % len(self.models)]
        body = generate_body(model, prompt)
        before = read_credits(self.ctx)
        estimate_op = self.ctx.operation("POST", "/api/estimate")
        response = self.ctx.call("POST", "/api/estimate", json_body=body)
        expect_status(response, 200, "estimate", estimate_op, "a valid body")
        estimate = self.ctx.json(response, "estimate", estimate_op)
        expect(abs(float(estimate.get("daily_remaining", -1)) - before["remaining"]) < EPSILON, "estimate",
               estimate_op, f"daily_remaining {estimate.get('daily_remaining')!r} is not /credits' remaining "
               f"{before['remaining']}", field="daily_remaining")
        operation = self.ctx.operation("POST", "/api/generate")
        self.sent.append(self.ctx.target.now())
        response = self.ctx.call("POST", "/api/generate", json_body=body)
        expect_status(response, 200, "generate.admitted", operation,
                      "fewer than 5 generations in flight and in the last 30 s, and the budget covers it")
        created = self.ctx.json(response, "generate", operation)
        task_id = created.get("task_id")
        expect(isinstance(task_id, str) and bool(task_id), "generate", operation, "no task_id", field="task_id")
        expect(created.get("status") in STATUSES, "generate", operation,
               f"status {created.get('status')!r} is not one of {', '.join(STATUSES)}", field="status")
        cost = created.get("cost")
        expect(isinstance(cost, int | float) and not isinstance(cost, bool), "generate", operation,
               f"cost is {cost!r}", field="cost")
        if not created.get("adjustments"):
            expect(abs(float(cost) - float(estimate.get("cost", -1))) < EPSILON, "estimate.matches_charge", operation,
                   f"charged {cost} but /api/estimate said {estimate.get('cost')}", field="cost")
        expect(abs(float(created.get("remaining", -1)) - (before["remaining"] - float(cost))) < EPSILON,
               "budget.deducted", operation,
               f"remaining {created.get('remaining')!r} after a ${cost} generation; it was {before['remaining']}",
               field="remaining")
        self.seen[task_id] = {"status": created["status"], "body": created, "cost": float(cost), "refunded": False,
                              "sent": self.sent[-1], "model": model}
        return task_id

    @rule(seconds=st.sampled_from([5.0, 15.0, 31.0, 120.0, 601.0]))
    def time_passes(self, seconds: float) -> None:
        self.ctx.pass_time(seconds)

    def fetch(self, task_id: str) -> None:
        operation = self.ctx.operation("GET", "/get/{task_id}")
        response = self.ctx.call("GET", "/get/{task_id}", params={"task_id": task_id})
        expect_status(response, 200, "task.get", operation, "the owner reads a generation")
        body = self.ctx.json(response, "task.get", operation)
        entry = self.seen[task_id]
        status = body.get("status") if isinstance(body, dict) else None
        expect(status in STATUSES, "task.get", operation, f"status {status!r} is not one of {', '.join(STATUSES)}",
               field="status")
        if entry["status"] in TERMINAL:
            expect(status == entry["status"], "lifecycle.terminal_is_final", operation,
                   f"generation left terminal state {entry['status']} for {status}", field="status")
        result = body.get("result")
        if status == "FINISHED":
            expect(isinstance(result, list) and bool(result), "lifecycle.result", operation,
                   f"a FINISHED generation has result {result!r}", field="result")
        else:
            expect(not result, "lifecycle.result", operation, f"a {status} generation has result {str(result)[:80]}",
                   field="result")
        expect(body.get("model") in (entry["model"], None) or isinstance(body.get("model"), str), "task.get",
               operation, f"model is {body.get('model')!r}", field="model")
        entry["status"], entry["body"] = status, body
        entry["refunded"] = bool(body.get("refunded")) or (status == "FAILED" and body.get("cost") == 0)

    @rule(task_id=tasks)
    def observe(self, task_id: str) -> None:
        self.fetch(task_id)

    @rule(task_id=tasks)
    def trespass(self, task_id: str) -> None:
        other = self.ctx.target.second_key()
        if other is None:
            return
        operation = self.ctx.operation("GET", "/get/{task_id}")
        response = self.ctx.call("GET", "/get/{task_id}", params={"task_id": task_id}, key=other)
        expect_gateai_error(self.ctx, response, 404, "TASK_NOT_FOUND", "owner_only", operation,
                            "another key must not read someone else's generation")

    @invariant()
    def budget_adds_up(self) -> None:
        """Today's ``used`` is what it was at the start (if that was today) plus today's unrefunded generations:
        the budget resets at 00:00 UTC, which a run near midnight crosses."""
        if not self.seen:
            return
        today = utc_day(self.ctx.target.now())
        now = read_credits(self.ctx)
        base = self.start["used"] if today == self.start_day else 0.0
        charged = sum(e["cost"] for e in self.seen.values() if not e["refunded"] and utc_day(e["sent"]) == today)
        expect(abs(now["used"] - base - charged) < EPSILON, "budget.accounting", "GET /credits",
               f"used went from {base} to {now['used']} today, but today's generations charged {charged:.6f}",
               field="your_budget.used")


class Limits(HarnessMachine):
    """Prompt length, quantity, the 30 s window and the in-flight limit, against a model of them."""

    name = "gateai.limits"
    description = "PROMPT_TOO_LONG, QUANTITY_TOO_HIGH, 5 in flight, 5 per sliding 30 s (429 RATE_LIMITED)"
    paid_per_step: ClassVar[float] = 2.0

    @classmethod
    def applicable(cls, ctx: Context) -> str | None:
        return GenerationBudget.applicable(ctx)

    @classmethod
    def cost_per_paid_request(cls, ctx: Context) -> float:
        return GenerationBudget.cost_per_paid_request(ctx)

    def __init__(self) -> None:
        super().__init__()
        self.model = cheap_models(self.ctx)[0][0]
        self.sent: list[float] = []  # every valid generate request (admitted or not)
        self.invalid: list[float] = []  # refused as invalid (an API may count these against the window too)
        self.admitted: list[tuple[float, str]] = []  # (when, task_id)
        self.finished: set[str] = set()

    def in_flight(self, now: float) -> int:
        """Admitted generations still holding a slot (unfinished, less than 10 minutes old)."""
        count = 0
        for sent, task_id in self.admitted:
            if task_id in self.finished or sent <= now - SLOT_RELEASE:
                continue
            response = self.ctx.call("GET", "/get/{task_id}", params={"task_id": task_id})
            if response.status_code == 200 and response.json().get("status") in TERMINAL:
                self.finished.add(task_id)
            else:
                count += 1
        return count

    @rule(extra=st.integers(1, 400))
    def prompt_too_long(self, extra: int) -> None:
        used = read_credits(self.ctx)["used"]
        self.invalid.append(self.ctx.target.now())
        operation = self.ctx.operation("POST", "/api/generate")
        body = generate_body(self.model, "x" * (PROMPT_LIMIT + extra))
        response = self.ctx.call("POST", "/api/generate", json_body=body)
        expect_gateai_error(self.ctx, response, 400, "PROMPT_TOO_LONG", "limits.prompt_length", operation,
                            f"the prompt has {PROMPT_LIMIT + extra} characters (max {PROMPT_LIMIT})")
        expect(read_credits(self.ctx)["used"] == used, "limits.prompt_length", operation,
               "a refused generation was charged", field="your_budget.used")

    @rule(quantity=st.integers(QUANTITY_LIMIT + 1, 64))
    def quantity_too_high(self, quantity: int) -> None:
        self.invalid.append(self.ctx.target.now())
        operation = self.ctx.operation("POST", "/api/generate")
        response = self.ctx.call("POST", "/api/generate", json_body=generate_body(self.model, "a fox", quantity))
        expect_gateai_error(self.ctx, response, 400, "QUANTITY_TOO_HIGH", "limits.quantity", operation,
                            f"quantity {quantity} (max {QUANTITY_LIMIT})")

    @rule(count=st.integers(1, 3))
    def burst(self, count: int) -> None:
        for _ in range(count):
            self.generate_once()

    @rule()
    def one_past_the_limit(self) -> None:
        """Six generations back to back: the sixth must be refused (by the window or the in-flight limit)."""
        for _ in range(WINDOW_LIMIT + 1):
            self.generate_once()

    def generate_once(self) -> None:
        now = self.ctx.target.now()
        in_window_admitted = sum(1 for sent, _ in self.admitted if sent > now - WINDOW_SECONDS)
        in_window_sent = sum(1 for sent in [*self.sent, *self.invalid] if sent > now - WINDOW_SECONDS)
        flying = self.in_flight(now)
        must_refuse = in_window_admitted >= WINDOW_LIMIT or flying >= CONCURRENCY_LIMIT
        must_admit = in_window_sent < WINDOW_LIMIT and flying < CONCURRENCY_LIMIT
        operation = self.ctx.operation("POST", "/api/generate")
        self.sent.append(now)
        response = self.ctx.call("POST", "/api/generate", json_body=generate_body(self.model, "a quick sketch"))
        why = (f"{in_window_admitted} generations admitted in the last {WINDOW_SECONDS:g} s and {flying} in flight "
               f"(limits: {WINDOW_LIMIT} per {WINDOW_SECONDS:g} s, {CONCURRENCY_LIMIT} in flight)")
        if must_refuse:
            if response.status_code != 429:
                expect_status(response, 429, "limits.rate_limited", operation,
                              f"this is generation #{max(in_window_admitted, flying) + 1}: {why}")
            expect_gateai_error(self.ctx, response, 429, "RATE_LIMITED", "limits.rate_limited", operation, why)
            retry = response.headers.get("retry-after", "")
            expect(retry.isdigit() and int(retry) >= 1, "limits.retry_after", operation,
                   f"Retry-After is {retry!r}, not a whole number of seconds >= 1", field="Retry-After")
            return
        if must_admit:
            expect_status(response, 200, "limits.admitted", operation, f"within the limits: {why}")
        if response.status_code == 200:
            self.admitted.append((now, response.json()["task_id"]))

    @rule(seconds=st.sampled_from([1.0, 5.0, 10.0, 29.0, 31.0, 60.0, 601.0]))
    def time_passes(self, seconds: float) -> None:
        self.ctx.pass_time(seconds)


class DiscoveryReads(HarnessMachine):
    """GET-only checks: discovery endpoints agree, the fuzzy not-found answer, /credits vs /api/me."""

    name = "gateai.discovery_reads"
    description = "model list vs single schemas, Model not found + suggestions, /credits == /api/me budget"
    read_only = True

    def __init__(self) -> None:
        super().__init__()
        if "gateai.list" not in self.ctx.cache:
            operation = self.ctx.operation("GET", "/v1/models")
            response = self.ctx.call("GET", "/v1/models")
            expect_status(response, 200, "models.list", operation, "the model list (no auth)")
            listed = self.ctx.json(response, "models.list", operation)
            expect(isinstance(listed, list) and bool(listed), "models.list", operation, "not a non-empty array")
            self.ctx.cache["gateai.list"] = {m.get("id"): m for m in listed if isinstance(m, dict)}
        self.listed: dict[str, Any] = self.ctx.cache["gateai.list"]
        if not self.listed:
            raise NotApplicable("the model list is empty")

    @rule(index=st.integers(0, 1000))
    def one_model(self, index: int) -> None:
        names = sorted(n for n in self.listed if isinstance(n, str))
        name = names[index % len(names)]
        operation = self.ctx.operation("GET", "/v1/models/{modelId}")
        response = self.ctx.call("GET", "/v1/models/{model_id}", params={"model_id": name})
        expect_status(response, 200, "models.get", operation, f"{name!r} is listed")
        body = self.ctx.json(response, "models.get", operation)
        expect(body.get("id") == name, "models.consistent", operation, f"id {body.get('id')!r} is not {name!r}",
               field="id")
        expect(body.get("type") == self.listed[name].get("type"), "models.consistent", operation,
               f"type {body.get('type')!r} differs from the list's {self.listed[name].get('type')!r}", field="type")
        expect(dig(body, "example.model") == name, "models.example", operation,
               f"the example request names model {dig(body, 'example.model')!r}", field="example.model")

    @rule(name=st.sampled_from(["seedance", "flux", "veo", "gpt-image", "zz-nothing-like-it"]))
    def not_found(self, name: str) -> None:
        if name in self.listed:
            return
        operation = self.ctx.operation("GET", "/v1/models/{modelId}")
        response = self.ctx.call("GET", "/v1/models/{model_id}", params={"model_id": name})
        expect_status(response, 404, "models.not_found", operation, f"{name!r} is not a model id")
        body = self.ctx.json(response, "models.not_found", operation)
        expect(isinstance(body, dict) and body.get("error") == "Model not found", "models.not_found", operation,
               f"expected the documented {{\"error\": \"Model not found\", ...}}, got {str(body)[:120]}", field="error")
        suggestions = body.get("suggestions")
        expect(isinstance(suggestions, list) and all(s in self.listed for s in suggestions), "models.not_found",
               operation, f"suggestions {suggestions!r} are not listed model ids", field="suggestions")

    @rule()
    def credits_match_dashboard(self) -> None:
        budget = read_credits(self.ctx)
        operation = self.ctx.operation("GET", "/api/me")
        response = self.ctx.call("GET", "/api/me", query={"key": self.ctx.target.key}, key="")
        expect_status(response, 200, "dashboard", operation, "the key passed as ?key=")
        me = self.ctx.json(response, "dashboard", operation)
        for name in ("daily_limit", "used", "remaining"):
            expect(dig(me, f"budget.{name}") == budget[name], "dashboard.consistent", operation,
                   f"budget.{name} is {dig(me, f'budget.{name}')!r}, /credits says {budget[name]}",
                   field=f"budget.{name}")
        expect(dig(me, "concurrency.max") == CONCURRENCY_LIMIT, "dashboard.consistent", operation,
               f"concurrency.max is {dig(me, 'concurrency.max')!r}, documented {CONCURRENCY_LIMIT}",
               field="concurrency.max")

    @rule()
    def unauthenticated(self) -> None:
        operation = self.ctx.operation("GET", "/credits")
        response = self.ctx.call("GET", "/credits", key="")
        expect_status(response, 401, "auth.required", operation, "no API key")


MACHINES: tuple[type[HarnessMachine], ...] = (DiscoveryReads, GenerationBudget, Limits)
