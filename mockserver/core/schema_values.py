"""Scalar values for the JSON-Schema instance generator: numbers, strings, formats and patterns.

Every function draws only from the ``random.Random`` it is given, so a value depends on the rng state
alone. Values are kept small and plausible; a constraint that cannot hold raises :class:`SchemaProblem`
naming the keyword. Strings for ``pattern`` come from ``rstr``'s ``Xeger`` (seedable with our own
``Random``, unlike ``exrex`` which uses the global one), with repeats and total length bounded here.
"""

from __future__ import annotations

import math
import random
import re
import uuid
from fractions import Fraction
from typing import Any

from rstr.xeger import Xeger

from mockserver.core.schema_problem import SchemaProblem, join

MAX_DEMAND = 1000  # largest minLength / minItems / minProperties honoured
PLAIN_MAX = 40  # longest plain string unless minLength demands more
_PATTERN_TRIES = 12

_WORDS = (
    "alpha", "amber", "apple", "breeze", "cedar", "coral", "delta", "ember", "falcon", "garden", "harbor",
    "island", "jasmine", "lantern", "maple", "meadow", "nova", "orbit", "pepper", "quartz", "river",
    "sierra", "summit", "tango", "violet", "willow", "zephyr",
)
_CITIES = ("Paris", "London", "Tokyo", "Berlin", "Madrid", "Toronto", "Sydney", "Cairo", "Lima", "Oslo")
_NAMES = ("Alice", "Bob", "Carol", "Dmitri", "Esther", "Farid", "Grace", "Hiro", "Ines", "Jonas")
_PLACE_KEYS = {"city", "location", "place", "town", "country", "region", "destination", "origin", "address"}
_NAME_KEYS = {"name", "first_name", "last_name", "firstname", "lastname", "username", "author", "user", "person"}
_TEXT_KEYS = {"query", "q", "search", "topic", "keyword", "keywords", "term", "text", "prompt", "message",
              "question", "title", "subject", "description", "content", "input"}
_STOP = {"what", "whats", "how", "is", "are", "can", "could", "would", "will", "please", "i", "the", "a", "an",
         "tell", "give", "show", "find", "get", "do", "does", "hi", "hello", "hey", "in", "for", "and", "my"}


# ---------------------------------------------------------------- numbers
def _bounds(schema: dict[str, Any]) -> tuple[float | None, bool, float | None, bool]:
    """(low, low exclusive, high, high exclusive) from the four bound keywords (the tighter one wins)."""
    lo, lo_x, hi, hi_x = schema.get("minimum"), False, schema.get("maximum"), False
    xmin, xmax = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if xmin is not None and (lo is None or xmin >= lo):
        lo, lo_x = xmin, True
    if xmax is not None and (hi is None or xmax <= hi):
        hi, hi_x = xmax, True
    return lo, lo_x, hi, hi_x


def _multiple_ok(value: float, step: float) -> bool:
    """jsonschema's own ``multipleOf`` test (floats are divided, not compared exactly)."""
    if isinstance(step, float):
        try:
            quotient = value / step
            return math.isfinite(quotient) and int(quotient) == quotient
        except OverflowError:  # pragma: no cover - huge quotients
            return False
    if isinstance(value, float):
        return value.is_integer() and int(value) % step == 0
    return value % step == 0


def integer(schema: dict[str, Any], rng: random.Random, path: str) -> int:
    """An integer inside the bounds, a multiple of ``multipleOf`` when given."""
    lo, lo_x, hi, hi_x = _bounds(schema)
    ilo = None if lo is None else (math.floor(lo) + 1 if lo_x else math.ceil(lo))
    ihi = None if hi is None else (math.ceil(hi) - 1 if hi_x else math.floor(hi))
    if ilo is not None and ihi is not None and ilo > ihi:
        raise SchemaProblem(join(path, "maximum"), f"no integer between {lo} and {hi}")
    step = schema.get("multipleOf")
    if step is None:
        a, b = _window(ilo, ihi, 100)
        return rng.randint(a, b)
    frac = Fraction(str(step)) if isinstance(step, float) else Fraction(step)
    unit = frac.numerator  # the integers that are multiples of p/q are the multiples of p
    klo = None if ilo is None else -((-ilo) // unit)
    khi = None if ihi is None else ihi // unit
    if klo is not None and khi is not None and klo > khi:
        raise SchemaProblem(join(path, "multipleOf"), f"no multiple of {step} between {lo} and {hi}")
    a, b = _window(klo, khi, 10)
    picks = [rng.randint(a, b) for _ in range(6)] + ([0] if a <= 0 <= b else [])
    for k in picks:
        if _multiple_ok(k * unit, step):
            return k * unit
    return picks[0] * unit


def _window(lo: int | None, hi: int | None, width: int) -> tuple[int, int]:
    """A small integer range inside [lo, hi] (either side open), preferring non-negative values.

    A wide closed range is narrowed the same way: zod's ``.int()`` sends the safe-integer bounds (±2**53 - 1), and a
    client asking for ``days`` should get 7, not -3259401087282677.
    """
    if lo is None and hi is None:
        return 0, width
    if lo is None:
        assert hi is not None
        return (0, min(hi, width)) if hi >= 0 else (hi - width, hi)
    if hi is None or hi - lo > width:
        if hi is not None and hi < 0:
            return max(lo, hi - width), hi
        start = max(lo, 0)
        return start, start + width if hi is None else min(hi, start + width)
    return lo, hi


def number(schema: dict[str, Any], rng: random.Random, path: str) -> int | float:
    """A finite number inside the bounds (two decimals when possible), a multiple when asked."""
    if "multipleOf" in schema:
        return _number_multiple(schema, rng, path)
    lo, lo_x, hi, hi_x = _bounds(schema)
    flo = None if lo is None else (math.nextafter(float(lo), math.inf) if lo_x else float(lo))
    fhi = None if hi is None else (math.nextafter(float(hi), -math.inf) if hi_x else float(hi))
    if flo is not None and fhi is not None and flo > fhi:
        raise SchemaProblem(join(path, "maximum"), f"no number between {lo} and {hi}")
    if flo is None:
        flo = min(0.0, fhi) - 100.0 if fhi is not None and fhi < 100 else 0.0
    if fhi is None:
        fhi = flo + 100.0 if flo > -1e300 else 0.0
    if fhi - flo > 100.0:  # a wide range (e.g. ±1.8e308) narrowed as integers' are (_window)
        flo = max(flo, min(0.0, fhi - 100.0))
        fhi = min(fhi, flo + 100.0)
    value = rng.uniform(flo, fhi) if math.isfinite(fhi - flo) else flo / 2 + fhi / 2
    for candidate in (round(value, 2), value, flo / 2 + fhi / 2, flo):
        if math.isfinite(candidate) and flo <= candidate <= fhi:
            return candidate
    return flo  # pragma: no cover - flo itself is always inside


def _number_multiple(schema: dict[str, Any], rng: random.Random, path: str) -> int | float:
    """A multiple of ``multipleOf`` inside the bounds."""
    step = schema["multipleOf"]
    frac = Fraction(str(step)) if isinstance(step, float) else Fraction(step)
    lo, lo_x, hi, hi_x = _bounds(schema)
    klo = khi = None
    if lo is not None:
        q = Fraction(str(lo)) / frac
        klo = math.floor(q) + 1 if lo_x or q != math.floor(q) else math.floor(q)
    if hi is not None:
        q = Fraction(str(hi)) / frac
        khi = math.ceil(q) - 1 if hi_x or q != math.ceil(q) else math.ceil(q)
    if klo is not None and khi is not None and klo > khi:
        raise SchemaProblem(join(path, "multipleOf"), f"no multiple of {step} between {lo} and {hi}")
    a, b = _window(klo, khi, 10)
    picks = [rng.randint(a, b) for _ in range(6)] + ([0] if a <= 0 <= b else [])
    for k in picks:
        exact = k * frac
        value: int | float = int(exact) if exact.denominator == 1 else float(exact)
        if math.isfinite(value) and _multiple_ok(value, step):
            return value
    raise SchemaProblem(join(path, "multipleOf"), f"no representable multiple of {step} found")


# ---------------------------------------------------------------- strings
def _fit(text: str, lo: int, hi: int, rng: random.Random) -> str:
    """``text`` grown with words to at least ``lo`` characters, then cut to at most ``hi``."""
    while len(text) < lo:
        text = f"{text} {rng.choice(_WORDS)}" if text else rng.choice(_WORDS)
    text = text[:hi].rstrip() if len(text) > hi else text
    while len(text) < lo:  # the cut removed a trailing space
        text += "x"
    return text


def string(schema: dict[str, Any], rng: random.Random, path: str, name: str = "", hint: str = "") -> str:
    """A string honouring minLength/maxLength, and pattern or format when given."""
    lo, hi = _lengths(schema, path)
    if "pattern" in schema:
        return pattern_string(schema["pattern"], lo, hi, rng, join(path, "pattern"))
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in _FORMATS:
        return _fit_format(_FORMATS[fmt](rng), fmt, lo, hi)
    cap = hi if hi is not None else max(lo, PLAIN_MAX)
    return _fit(plain_text(name, hint, rng), lo, cap, rng)


def _lengths(schema: dict[str, Any], path: str) -> tuple[int, int | None]:
    lo, hi = schema.get("minLength", 0), schema.get("maxLength")
    if lo > MAX_DEMAND:
        raise SchemaProblem(join(path, "minLength"), f"minLength above {MAX_DEMAND} is not generated")
    if hi is not None and lo > hi:
        raise SchemaProblem(join(path, "maxLength"), f"maxLength {hi} is below minLength {lo}")
    return lo, hi


def plain_text(name: str, hint: str, rng: random.Random) -> str:
    """Plausible text for a property called ``name``, drawn from ``hint`` when it fits."""
    key = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()
    last = key.rsplit("_", 1)[-1]
    capitals = _proper_nouns(hint)
    if key in _PLACE_KEYS or last in _PLACE_KEYS:
        return capitals[-1] if capitals else rng.choice(_CITIES)
    if key in _NAME_KEYS or last == "name":
        return capitals[0] if capitals else rng.choice(_NAMES)
    if (key in _TEXT_KEYS or last in _TEXT_KEYS) and hint.strip():
        return _clip_words(" ".join(hint.split()), PLAIN_MAX)
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 2)))


def _proper_nouns(hint: str) -> list[str]:
    """Runs of capitalised words in ``hint`` ("New York"), without a sentence's opening word and
    question/filler words."""
    found = []
    for match in re.finditer(r"[A-Z][\w'-]*(?:[ ]+[A-Z][\w'-]*)*", hint):
        words = match.group().split()
        before = hint[: match.start()].rstrip()
        if not before or before[-1] in ".!?":
            words = words[1:]
        while words and words[0].lower() in _STOP:
            words = words[1:]
        group: list[str] = []
        for word in words:  # a possessive ends a name: "New York's Central Park"
            group.append(word.removesuffix("'s"))
            if word.endswith("'s"):
                found.append(" ".join(group))
                group = []
        if group:
            found.append(" ".join(group))
    return found


def _clip_words(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut or text[:limit]


# ---------------------------------------------------------------- formats
def _date(rng: random.Random) -> str:
    return f"{rng.randint(2000, 2030):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _time(rng: random.Random) -> str:
    return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"


def _host(rng: random.Random) -> str:
    return f"{rng.choice(_WORDS)}.example.{rng.choice(('com', 'org', 'net'))}"


def _ipv6(rng: random.Random) -> str:
    return ":".join(f"{rng.getrandbits(16):x}" for _ in range(8))


_FORMATS = {
    "date": _date,
    "time": _time,
    "date-time": lambda rng: f"{_date(rng)}T{_time(rng)}",
    "email": lambda rng: f"{rng.choice(_NAMES).lower()}@{_host(rng)}",
    "idn-email": lambda rng: f"{rng.choice(_NAMES).lower()}@{_host(rng)}",
    "uri": lambda rng: f"https://{_host(rng)}/{rng.choice(_WORDS)}",
    "url": lambda rng: f"https://{_host(rng)}/{rng.choice(_WORDS)}",
    "iri": lambda rng: f"https://{_host(rng)}/{rng.choice(_WORDS)}",
    "uri-reference": lambda rng: f"/{rng.choice(_WORDS)}/{rng.choice(_WORDS)}",
    "uuid": lambda rng: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    "ipv4": lambda rng: ".".join(str(rng.randint(1, 254)) for _ in range(4)),
    "ipv6": _ipv6,
    "hostname": _host,
    "idn-hostname": _host,
    "duration": lambda rng: f"P{rng.randint(1, 30)}D",
    "regex": lambda rng: f"^{rng.choice(_WORDS)}[0-9]*$",
}
# Where a formatted value can grow without leaving its format: (text before, filler point marker).
_GROW_AT = {"email": "@", "idn-email": "@", "uri": None, "url": None, "iri": None, "uri-reference": None}


def _fit_format(value: str, fmt: str, lo: int, hi: int | None) -> str:
    """A formatted value grown (local part of e-mails, path of URIs) to ``lo`` characters when it can."""
    if len(value) < lo and fmt in _GROW_AT:
        pad = "x" * (lo - len(value))
        mark = _GROW_AT[fmt]
        value = value.replace(mark, pad + mark, 1) if mark else value + pad
    return value  # the caller validates; a too long fixed-width format is the schema's problem


# ---------------------------------------------------------------- patterns
class _BoundedXeger(Xeger):
    """rstr's Xeger with small open-ended repeats and a hard cap on the produced length."""

    def __init__(self, rng: random.Random, repeat_limit: int) -> None:
        super().__init__(rng)
        self._limit = repeat_limit
        self._made = 0

    def _handle_repeat(self, start_range: int, end_range: int, value: Any) -> str:
        if start_range > MAX_DEMAND:
            raise ValueError("repeat count too large")
        times = self._random.randint(start_range, max(start_range, min(end_range, self._limit)))
        parts = []
        for _ in range(times):
            parts.append("".join(self._handle_state(i) for i in value))
            self._made += len(parts[-1])
            if self._made > 4 * MAX_DEMAND:
                raise ValueError("pattern expansion too long")
        return "".join(parts)


def pattern_string(pattern: str, lo: int, hi: int | None, rng: random.Random, path: str) -> str:
    """A string ``re.search``-matching ``pattern`` with a length in [lo, hi]."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise SchemaProblem(path, f"invalid regular expression: {exc}") from None
    limit = max(hi if hi is not None else 0, lo, 8)
    for attempt in range(_PATTERN_TRIES):
        xeger = _BoundedXeger(rng, limit if attempt % 2 else min(limit, 8))
        try:
            core = xeger.xeger(pattern)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError):
            continue
        for candidate in _padded(core, lo, hi, rng):
            if compiled.search(candidate):
                return candidate
    raise SchemaProblem(path, f"could not generate a string matching {pattern!r} with length {lo}..{hi}")


def _padded(core: str, lo: int, hi: int | None, rng: random.Random) -> list[str]:
    """``core`` itself when its length fits, else versions padded at the end or the start."""
    if hi is not None and len(core) > hi:
        return []
    if len(core) >= lo:
        return [core]
    filler = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(lo - len(core)))
    return [core + filler, filler + core]
