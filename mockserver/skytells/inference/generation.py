"""One model turn, shared by Chat Completions and Responses: text or tool calls, stop/limit, safety, counts.

The order mirrors a real model: the prompt is checked first (a filtered prompt generates nothing, or a
refusal when a structured format was asked for); the turn then calls tools when
:mod:`~mockserver.skytells.inference.tools` says so, or else answers text -- generated, quoted from tool
results, put in the asked format, or taken from a scripted turn (everything after this step treats it
exactly as generated text) -- cut at the first stop sequence, then at ``max_tokens``
(``finish_reason: "length"``); finally the completion is checked and cut before the first trigger term
(``finish_reason: "content_filter"``; a structured reply is refused instead, since cut JSON is no answer).
Every count is made with :mod:`~mockserver.skytells.inference.tokens` on what is actually returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mockserver.core.rules.model import ScriptedCall, Turn
from mockserver.core.runtime import Runtime
from mockserver.skytells.inference import safety, structured, text, tokens, tools
from mockserver.skytells.inference.structured import OutputFormat
from mockserver.skytells.inference.text import Message, ToolCall


@dataclass(frozen=True)
class Generation:
    """The outcome of one turn."""

    text: str
    finish_reason: str  # "stop" | "length" | "content_filter" | "tool_calls"
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    prompt_safety: safety.Verdict = safety.SAFE
    completion_safety: safety.Verdict = safety.SAFE
    tool_calls: tuple[ToolCall, ...] = ()
    refusal: str | None = None
    logprobs: tuple[dict, ...] | None = None  # chat ``logprobs.content`` entries, one per delta, when asked

    def __hash__(self) -> int:
        """The dataclass's hash of the fields, made once: kept turns key the caches of their rendered answers, so
        the same generation is hashed on every request that repeats one."""
        known: int | None = self.__dict__.get("_hash")
        if known is None:
            known = hash((self.text, self.finish_reason, self.prompt_tokens, self.completion_tokens, self.cached_tokens,
                          self.prompt_safety, self.completion_safety, self.tool_calls, self.refusal, self.logprobs))
            object.__setattr__(self, "_hash", known)
        return known

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def deltas(self) -> list[str]:
        """The text as streamed, one token per delta; they join to :attr:`text`."""
        return tokens.tokenize(self.text)

    @property
    def filtered(self) -> bool:
        return self.finish_reason == "content_filter"

    @property
    def content(self) -> str | None:
        """The message content: None for a turn that calls tools or refuses."""
        return None if self.tool_calls or self.refusal is not None else self.text


@dataclass(frozen=True)
class TurnRequest:
    """What one turn is asked: the whole prompt and how the answer may look."""

    model: str
    conversation: tuple[Message, ...]
    max_tokens: int
    stop: tuple[str, ...] = ()
    cached_tokens: int = 0
    tools: tools.ToolUse = tools.NO_TOOLS
    output: OutputFormat = structured.TEXT
    variant: int = 0  # the choice index of ``n``

    @property
    def prompt_texts(self) -> list[str]:
        return [m.text_for_counting for m in self.conversation] + self.tools.definitions_text()

    @property
    def prompt_tokens(self) -> int:
        return tokens.count_all(self.prompt_texts) + sum(m.image_tokens for m in self.conversation)


def _scripted_calls(calls: Sequence[ScriptedCall], runtime: Runtime) -> tuple[ToolCall, ...]:
    return tuple(ToolCall("call_" + runtime.rng.token("tool-call", 24), c.name, c.arguments) for c in calls)


def _prose(runtime: Runtime, turn: TurnRequest, scripted: Turn | None) -> str:
    """The reply text before stop/limit/safety: scripted, or generated in the asked format."""
    if scripted is not None and scripted.reply is not None:
        return scripted.reply
    if scripted is not None and scripted.json is not None:
        return scripted.json
    hint = tools.last_user_text(turn.conversation)
    if turn.output.kind == "json_schema":  # the schema decides the answer: no prose to generate
        digest = text.conversation_digest(turn.model, turn.conversation)
        return structured.render(turn.output, runtime.rng, f"structured:{turn.model}:{digest}:{turn.variant}", "", hint)
    # Without stop sequences or a format, only the first ``max_tokens`` (+1, to know it was cut) can show.
    enough = None if turn.stop or turn.output.structured else turn.max_tokens
    generated = text.reply(runtime.rng, turn.model, turn.conversation, turn.variant, enough)
    quote = tools.results_quote(turn.conversation)
    prose = f"{quote}\n\n{generated}" if quote else generated
    return structured.render(turn.output, runtime.rng, "", prose, hint) if turn.output.structured else prose


def _calls_generation(calls: tuple[ToolCall, ...], prompt_tokens: int, turn: TurnRequest,
                      prompt_verdict: safety.Verdict) -> Generation:
    used = tokens.count_all(f"{call.name} {call.arguments}" for call in calls)
    return Generation("", "tool_calls", prompt_tokens, used, min(turn.cached_tokens, prompt_tokens),
                      prompt_safety=prompt_verdict, tool_calls=calls)


def generate_turn(runtime: Runtime, turn: TurnRequest, scripted: Turn | None = None) -> Generation:
    """The reply to ``turn``; ``scripted`` replaces what the model would say (text, calls or JSON)."""
    settings = runtime.settings
    prompt_tokens = turn.prompt_tokens
    prompt_verdict = safety.check_prompt([m.content for m in turn.conversation], settings)
    cached = min(turn.cached_tokens, prompt_tokens)
    if prompt_verdict.filtered:
        if turn.output.structured:
            refusal = structured.REFUSAL
            return Generation("", "stop", prompt_tokens, tokens.count_tokens(refusal), cached,
                              prompt_safety=prompt_verdict, refusal=refusal)
        return Generation("", "content_filter", prompt_tokens, 0, cached, prompt_safety=prompt_verdict)
    if scripted is not None and scripted.tool_calls is not None:
        return _calls_generation(_scripted_calls(scripted.tool_calls, runtime), prompt_tokens, turn, prompt_verdict)
    if scripted is None:
        calls = tools.calls(turn.tools, turn.conversation, runtime.rng, turn.model, turn.variant)
        if calls:
            return _calls_generation(calls, prompt_tokens, turn, prompt_verdict)
    reply, _stopped = text.apply_stop(_prose(runtime, turn, scripted), turn.stop)
    pieces = tokens.tokenize(reply)  # cut with the same pieces, so an uncut reply is counted once
    finish = "stop"
    if len(pieces) > turn.max_tokens:
        pieces = pieces[:turn.max_tokens]
        reply, finish = "".join(pieces), "length"
    cut, verdict = safety.check_completion(reply, settings.safety_terms)
    refusal = None
    if verdict.filtered and turn.output.structured:
        cut, refusal = "", structured.REFUSAL
    elif verdict.filtered:
        finish = "content_filter"
    used = len(pieces) if not verdict.filtered else tokens.count_tokens(cut if refusal is None else refusal)
    return Generation(cut, finish, prompt_tokens, used, cached,
                      prompt_safety=prompt_verdict, completion_safety=verdict, refusal=refusal)


def generate(runtime: Runtime, model: str, conversation: Sequence[Message], max_tokens: int,
             stop: Sequence[str] = (), cached_tokens: int = 0, scripted: str | Turn | None = None) -> Generation:
    """A plain text turn (no tools, no format); ``scripted`` text or turn replaces the generated reply."""
    turn = TurnRequest(model, tuple(conversation), max_tokens, tuple(stop), cached_tokens)
    return generate_turn(runtime, turn, Turn(reply=scripted) if isinstance(scripted, str) else scripted)
