"""One model turn, shared by Chat Completions and Responses: text, stop/limit, safety, token counts.

The order mirrors a real model: the prompt is checked first (a filtered prompt generates
nothing); the reply is generated (or taken from a scripted ``reply``: everything after this step treats
it exactly as generated text), cut at the first stop sequence, then at ``max_tokens``
(``finish_reason: "length"``); finally the completion is checked and cut before the first
trigger term (``finish_reason: "content_filter"``). Every count is made with
:mod:`~mockserver.skytells.inference.tokens` on the text actually returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mockserver.core.runtime import Runtime
from mockserver.skytells.inference import safety, text, tokens
from mockserver.skytells.inference.text import Message


@dataclass(frozen=True)
class Generation:
    """The outcome of one turn."""

    text: str
    finish_reason: str  # "stop" | "length" | "content_filter"
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    prompt_safety: safety.Verdict = safety.SAFE
    completion_safety: safety.Verdict = safety.SAFE

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


def generate(runtime: Runtime, model: str, conversation: Sequence[Message], max_tokens: int,
             stop: Sequence[str] = (), cached_tokens: int = 0, scripted: str | None = None) -> Generation:
    """The reply to ``conversation`` (which includes any system/instructions message).

    ``scripted`` replaces the generated text; stop sequences, the token limit, the completion
    check and every count then apply to it as to generated text.
    """
    settings = runtime.settings
    contents = [message.content for message in conversation]
    prompt_tokens = tokens.count_all(contents)
    prompt_verdict = safety.check_prompt(contents, settings)
    cached_tokens = min(cached_tokens, prompt_tokens)
    if prompt_verdict.filtered:
        return Generation("", "content_filter", prompt_tokens, 0, cached_tokens, prompt_safety=prompt_verdict)
    full = text.reply(runtime.rng, model, conversation) if scripted is None else scripted
    reply, _stopped = text.apply_stop(full, stop)
    finish = "stop"
    if tokens.count_tokens(reply) > max_tokens:
        reply, finish = tokens.truncate(reply, max_tokens), "length"
    reply, verdict = safety.check_completion(reply, settings.safety_terms)
    if verdict.filtered:
        finish = "content_filter"
    return Generation(reply, finish, prompt_tokens, tokens.count_tokens(reply), cached_tokens,
                      prompt_safety=prompt_verdict, completion_safety=verdict)
