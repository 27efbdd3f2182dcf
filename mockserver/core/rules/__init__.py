"""Scripted rules: a matcher plus one action -- a fault on the wire or a scripted result -- chosen per request.

A **rule** is a matcher plus exactly one action:

* a **fault** (:mod:`.faults`) -- something goes wrong on the wire: added latency, an error status in the
  API's own error format, a 429 with ``Retry-After``, a connection reset, an empty reply, or an SSE stream
  cut after N events. Each fault type is one class in the fault registry;
* a **scripted result** (:class:`.model.ScriptedResult`) -- the request succeeds at the HTTP level but its
  result is scripted: a job fails with a given error, takes a given time, or returns given outputs; a model
  turn replies with given text, calls given tools or answers given JSON (or takes the next of a sequence of
  such turns, for multi-step agent tests). Its JSON name is ``outcome``.

Matchers: ``api`` (one of the installed vendors), ``route`` (``"POST /v1/predictions"``, a glob such as
``"/v1/chat/*"``, or the route template ``"/v1/predictions/{id}"``), ``model`` (exact or glob), ``key``
(exact) and ``prompt`` (a regular expression searched in the request's prompt text). ``times`` limits how
many requests a rule fires for (``None``: unlimited); ``probability`` (with an optional ``seed``) makes it
fire at random but reproducibly.

Modules, one concept each: :mod:`.fields` (errors and field checks), :mod:`.model` (the rule model),
:mod:`.faults` (the fault registry), :mod:`.parse` (rules from JSON), :mod:`.targets` (what the vendors
let rules name), :mod:`.registry` (the thread-safe rule set and scenarios), :mod:`.select` (choosing the
rules for one request), :mod:`.prompts` (a request's prompt text). On a shared store the rule set lives in Redis
(:mod:`mockserver.core.shared_store.rules`): every process applies the same rules and spends one budget.
"""
