"""Conditions on an activity's properties, which narrow a behaviour rule.

A condition names a property (``utm_source``, ``campaign``, ``url``,
``title``, ``minutes_watched`` … any key of the activity's properties), an
operator and a value, and may be negated (NOT). A behaviour rule's conditions
must all hold (AND).

Text operators (``equals``, ``contains``, ``in``, ``regex``) compare
``property_text`` of the property (its ``match_key``; a number's JSON text)
with ``match_key`` of the rule's value, as the other filters do. Numeric
operators (``gt``, ``gte``, ``lt``, ``lte``) compare ``property_number`` (a
JSON number, or text that reads as a decimal number). A property that is
missing, or has no text / is not a number, fails the condition, and so a
negated condition passes: "NOT utm_medium = email" holds for an activity
without ``utm_medium``, and "NOT minutes ≥ 30" for one whose minutes are
unknown. Ingestion stores both forms next to the row
(``Activity.property_keys``, ``Activity.property_numbers``), so SQL compares
exactly what the engine compares.

Regular expressions are searched (unanchored) in the property's match key,
after ``match_key`` of the pattern itself (so ``[A-Z]`` means ``[a-z]`` and a
full-width ``（`` becomes a real ``(``). Only a subset that Python's ``re`` (the
engine, and SQLite's REGEXP, which Django registers with ``re.search``) and
PostgreSQL's ``~`` read alike is accepted (``regex_problem``): literals,
``.``, ``[…]`` sets and ranges, ``^``/``$``, ``|``, ``(…)``/``(?:…)``, and
``* + ? {m} {m,} {m,n}`` (also lazy). Refused: escapes of letters, digits or
spaces (``\\d``, ``\\w``, ``\\b``, backreferences), every other ``(?…)``
(lookarounds, flags, named groups), possessive repeats, POSIX classes and
nested sets, a bare ``{ } ]``, repeat counts over 255, a repeated group that
itself repeats or alternates (``(a+)+``: exponential time in Python), and
patterns over ``REGEX_MAX_LENGTH`` characters.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from common.text import match_key, property_number, property_text
from scoring.engine.base import _is_number, text_list

REGEX_MAX_LENGTH = 200
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_REPEAT = re.compile(r"\{([0-9]{1,3})(,([0-9]{1,3})?)?\}")


class PropertyOp(StrEnum):
    EQUALS = "equals"  # value: text
    CONTAINS = "contains"  # value: text, a substring
    IN = "in"  # value: a list of texts
    REGEX = "regex"  # value: a pattern (see the module docstring)
    GT = "gt"  # value: a number
    GTE = "gte"
    LT = "lt"
    LTE = "lte"


TEXT_OPS = frozenset({PropertyOp.EQUALS, PropertyOp.CONTAINS, PropertyOp.IN, PropertyOp.REGEX})
NUMBER_OPS = frozenset({PropertyOp.GT, PropertyOp.GTE, PropertyOp.LT, PropertyOp.LTE})


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` (already ``match_key``-ed) is outside the safe subset; None if inside."""
    if not pattern:
        return "a regular expression must not be empty"
    if len(pattern) > REGEX_MAX_LENGTH:
        return f"a regular expression may have at most {REGEX_MAX_LENGTH} characters"
    # Per open group: (whether it repeats or alternates inside) — to refuse (a+)+.
    groups: list[bool] = []
    last_group_busy: bool | None = None  # the group just closed, if the last atom was one
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        closed, last_group_busy = last_group_busy, None
        if c == "\\":
            if i + 1 >= n:
                return "a regular expression must not end with a backslash"
            if not _escapable(pattern[i + 1]):
                return "only punctuation may be escaped (no \\d, \\w, \\b or backreferences)"
            i += 2
        elif c == "[":
            end, problem = _set_end(pattern, i)
            if problem:
                return problem
            i = end
        elif c == "(":
            if pattern.startswith("(?", i) and not pattern.startswith("(?:", i):
                return "no lookarounds, flags or named groups: only (…) and (?:…)"
            groups.append(False)
            i += 3 if pattern.startswith("(?:", i) else 1
        elif c == ")":
            if not groups:
                return "unbalanced parenthesis"
            busy = groups.pop()
            if groups and busy:
                groups[-1] = True
            last_group_busy = busy
            i += 1
        elif c == "|":
            if groups:
                groups[-1] = True
            i += 1
        elif c in "*+?{":
            if c == "{":
                m = _REPEAT.match(pattern, i)
                if not m:
                    return "a { must start a repeat {m}, {m,} or {m,n}; write a literal one as \\{"
                low, comma, high = int(m.group(1)), m.group(2), m.group(3)
                if low > 255 or (high is not None and (int(high) > 255 or int(high) < low)):
                    return "repeat counts must be 0–255, the first not above the second"
                repeats = comma is not None and (high is None or int(high) > 1)
                i = m.end()
            else:
                repeats = c != "?"
                i += 1
            if closed and repeats:
                return "a repeated group must not itself repeat or alternate, e.g. (a+)+"
            if groups:
                groups[-1] = True
            if i < n and pattern[i] == "+":
                return "no possessive repeats (*+, ++, ?+)"
            if i < n and pattern[i] == "?":
                i += 1  # lazy: the same match or not
        elif c in "}]":
            return f"write a literal {c} as \\{c}"
        else:
            i += 1
    if groups:
        return "unbalanced parenthesis"
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"not a regular expression: {exc}"
    return None


def _set_end(pattern: str, start: int) -> tuple[int, str | None]:
    """Past the […] set opening at ``start``, or why it is refused.

    A ``-`` is a range between two single characters, or literal only first
    or last: "[a-c-e]" is a range then "-e" in Python but an error in PostgreSQL.
    """
    n, j = len(pattern), start + 1
    if j < n and pattern[j] == "^":
        j += 1
    first = j
    while j < n and (pattern[j] != "]" or j == first):
        if pattern[j] == "[" or pattern[j : j + 2] in ("--", "&&", "~~", "||"):
            return j, "no nested sets, POSIX classes or -- && ~~ || inside […]"
        if pattern[j] == "\\":
            if j + 1 >= n or not _escapable(pattern[j + 1]):
                return j, "only punctuation may be escaped inside […]"
            j += 2
        elif pattern[j] == "-" and j != first and pattern[j + 1 : j + 2] != "]":
            return j, "write a literal - first or last in […], or as \\-"
        else:
            j += 1
        if pattern[j : j + 1] == "-" and pattern[j + 1 : j + 2] not in ("]", ""):
            # A range: its end is one character (or escape), never another "-".
            j += 1
            if pattern[j] == "\\":
                if j + 1 >= n or not _escapable(pattern[j + 1]):
                    return j, "only punctuation may be escaped inside […]"
                j += 2
            elif pattern[j] in "-[":
                return j, "write a literal - first or last in […], or as \\-"
            else:
                j += 1
    if j >= n:
        return j, "a […] set is not closed"
    return j + 1, None


def _escapable(c: str) -> bool:
    return c.isascii() and not c.isalnum() and not c.isspace() and c.isprintable()


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@dataclass(frozen=True, slots=True, kw_only=True)
class PropertyCondition:
    """``property op value``, or its negation; see the module docstring.

    ``value`` is stored as given (text, a tuple of texts for ``in``, a float
    for numeric operators); comparisons use its match key.
    """

    property: str
    op: PropertyOp
    value: object
    negate: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.property, str) or not _NAME.match(self.property):
            raise ValueError(
                f"property name must be 1–64 letters, digits, _ . or -: {self.property!r}"
            )
        try:
            op = PropertyOp(self.op)
        except ValueError:
            known = ", ".join(o.value for o in PropertyOp)
            raise ValueError(f"unknown property operator {self.op!r} (known: {known})") from None
        object.__setattr__(self, "op", op)
        if not isinstance(self.negate, bool):
            raise ValueError(f"negate must be true or false: {self.negate!r}")
        object.__setattr__(self, "value", self._checked_value(op, self.value))

    def _checked_value(self, op: PropertyOp, value: object) -> object:
        where = f"{self.property} {op}"
        if op in NUMBER_OPS:
            if not _is_number(value) or not math.isfinite(value):
                raise ValueError(f"{where}: needs a finite number, not {value!r}")
            return float(value)
        if op is PropertyOp.IN:
            return text_list(value, what=f"{where}:", noun="texts")
        if not isinstance(value, str) or not match_key(value):
            raise ValueError(f"{where}: needs a non-empty text")
        if op is PropertyOp.REGEX:
            problem = regex_problem(match_key(value))
            if problem:
                raise ValueError(f"{where}: {problem}")
        return value

    def holds(self, properties: Mapping[str, object]) -> bool:
        """Whether the activity's properties satisfy the condition (negation included)."""
        return self._test(properties.get(self.property)) != self.negate

    def _test(self, raw: object) -> bool:
        op = self.op
        if op in NUMBER_OPS:
            number = property_number(raw)
            if number is None:
                return False
            bound: float = self.value  # type: ignore[assignment]
            if op is PropertyOp.GT:
                return number > bound
            if op is PropertyOp.GTE:
                return number >= bound
            if op is PropertyOp.LT:
                return number < bound
            return number <= bound
        text = property_text(raw)
        if text is None:
            return False
        if op is PropertyOp.IN:
            return text in {match_key(v) for v in self.value}  # type: ignore[attr-defined]
        needle = match_key(self.value)  # type: ignore[arg-type]
        if op is PropertyOp.EQUALS:
            return text == needle
        if op is PropertyOp.CONTAINS:
            return needle in text
        return _compiled(needle).search(text) is not None

    def as_json(self) -> dict[str, object]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {
            "property": self.property,
            "op": str(self.op),
            "value": value,
            "negate": self.negate,
        }
