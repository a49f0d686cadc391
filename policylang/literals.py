"""Literal values: their units, the checks the grammar cannot make, and the plain ones read
without the grammar (the hot path of case, param and book input).

The parser's AST builder turns a literal token's text into its value here (`number`,
`unit_value`, `date_value`, `unescape`), and a literal the grammar accepts but that is no
value raises `SourceError`, which the parser reports with its span.
`parser.parse_value` asks `plain_value` first. A text that is exactly one plain literal (`500万`,
`-1234.5元`, `3.45%`, `150bp`, `2 years`, `18个月`, `2021-02-24`, `1.5`), optionally negated,
becomes the very node the grammar would build; anything else (parentheses, odd spacing,
over-long fractions, impossible dates) returns None and goes through lark, which also
writes the error messages. tests/test_cases.py checks the two paths agree.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, InvalidOperation

from policylang import nodes as n
from policylang.values import DURATION_LIMIT, EXACT, MAGNITUDE_DIGITS

MAX_SCALE = 10  # decimal places a literal may carry (docs/semantics.md)
# Every reader of literals (the grammar, this fast path, the book cells' SQL patterns, the
# Spark reader) takes its units from these tables. The generated Python module carries a
# copy in python_runtime.py, as it imports nothing of policylang.
MONEY_UNITS = {"元": 0, "万元": 4, "万": 4, "亿元": 8, "亿": 8}  # unit → power of ten
PERCENT_UNITS = {"%": -2, "bp": -4}
DURATION_UNITS = {"years": ("month", 12), "year": ("month", 12), "months": ("month", 1),
                  "month": ("month", 1), "days": ("day", 1), "day": ("day", 1),
                  "年": ("month", 12), "个月": ("month", 1), "天": ("day", 1),
                  "日": ("day", 1)}  # unit → (month or day, how many)
_WS = "[ \t\f\r\n]"
_PLAIN = re.compile(
    rf"(?P<minus>-{_WS}*)?(?:"
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"|(?P<cjk_amount>[0-9]+)(?P<cjk_unit>个月|年|天|日)"
    rf"|(?P<count>[0-9]+){_WS}+(?P<word>years|year|months|month|days|day)"
    r"|(?P<number>[0-9]+(?:\.[0-9]+)?)(?P<unit>万元|亿元|万|亿|元|%|bp)?"
    r")")
_SHIFT = MONEY_UNITS | PERCENT_UNITS
# Shifting a literal by its unit's power of ten is exact at any length here; in EXACT, a
# thousand-digit literal would overflow before any range check could word the error.
_UNBOUNDED = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_UNITS_LONGEST_FIRST = sorted(_SHIFT, key=len, reverse=True)  # `万元` before `元`


class SourceError(Exception):
    """A mistake found while the AST is built, not by the grammar: a literal that is no
    value, a clause given twice. The parser turns it into a diagnostic at `span`."""

    def __init__(self, code: str, message: str, span: n.Span):
        super().__init__(message)
        self.code, self.message, self.span = code, message, span


def number(text: str, span: n.Span) -> Decimal:
    """The number written as `text` (digits, maybe a fraction): E105 past MAX_SCALE places."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise SourceError("E105", f"invalid number {shorten(text)!r}", span) from None
    return _within_scale(value, f"{shorten(text)!r} has more than {MAX_SCALE} decimal places",
                         span)


def unit_value(text: str, span: n.Span) -> Decimal:
    """`500万`, `1234.5元`, `3.45%`, `150bp` → yuan, or a fraction for a percent."""
    unit = next(unit for unit in _UNITS_LONGEST_FIRST if text.endswith(unit))
    value = number(text[: -len(unit)], span).scaleb(_SHIFT[unit], _UNBOUNDED)
    fraction = " as a fraction" if unit in PERCENT_UNITS else ""
    return _within_scale(
        value, f"{shorten(text)!r} has more than {MAX_SCALE} decimal places{fraction}", span)


def _within_scale(value: Decimal, message: str, span: n.Span) -> Decimal:
    if -value.as_tuple().exponent > MAX_SCALE:
        raise SourceError("E105", message, span)
    return value


def check_magnitude(value: Decimal, text: str, span: n.Span) -> None:
    """E105 for a policy's literal at 10^18 or beyond (every value stays below it)."""
    if value and value.adjusted() >= MAGNITUDE_DIGITS:
        raise SourceError("E105", f"{shorten(text)!r} is out of range: a value's magnitude "
                          f"must stay below 10^{MAGNITUDE_DIGITS}", span)


def duration_count(digits: str, factor: int, written: str, span: n.Span) -> int:
    """The months or days of a duration literal written `written` with `digits` (whole) of
    units of `factor` months or days each: E105 at DURATION_LIMIT or more."""
    significant = digits.lstrip("0")
    if len(significant) > len(str(DURATION_LIMIT)) or int(significant or 0) * factor \
            >= DURATION_LIMIT:
        raise SourceError("E105", f"{shorten(written)!r} is out of range: a duration must stay "
                          f"below {DURATION_LIMIT:,} months or days", span)
    return int(digits) * factor


def shorten(text: str, width: int = 40) -> str:
    """`text` as a message shows it: a thousand-digit number would bury the message."""
    return text if len(text) <= width else f"{text[:20]}…{text[-10:]} ({len(text)} characters)"


def date_value(text: str, span: n.Span) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise SourceError("E105", f"{text!r} is not a calendar date", span) from None


def unescape(quoted: str, span: n.Span) -> str:
    """The text of a `"…"` token: `\\"`, `\\\\`, `\\n` and `\\t` are its only escapes."""
    body = quoted[1:-1]
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1]
            if nxt not in '"\\nt':
                raise SourceError("E105", f"unknown escape '\\{nxt}' in text", span)
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


# A number as cases most often give it (`1234.5`, `-5万`, `3.45%`), for `plain_number`.
_PLAIN_NUMBER = re.compile(r"(-?)([0-9]{1,30}(?:\.[0-9]{1,30})?)(万元|亿元|万|亿|元|%|bp)?")


def plain_number(text: str, units: Mapping[str, int]) -> Decimal | None:
    """The value of a plain number with no unit or one of `units` (unit → power of ten), as
    `plain_value` would read it, without building its node; None for anything else (the
    caller then reads the text in full, which also words any error)."""
    match = _PLAIN_NUMBER.fullmatch(text)
    if match is None:
        return None
    minus, digits, unit = match.groups()
    value = Decimal(digits)
    if -value.as_tuple().exponent > MAX_SCALE:
        return None
    if unit is not None:
        shift = units.get(unit)
        if shift is None:
            return None
        value = value.scaleb(shift, EXACT)  # at most 60 digits: exact
        if -value.as_tuple().exponent > MAX_SCALE:
            return None
    return value.copy_negate() if minus else value


def plain_value(text: str, file: str = "<value>") -> n.Expr | None:
    match = _PLAIN.fullmatch(text)
    if match is None:
        return None
    start = match.end("minus") if match.group("minus") else 0
    span = n.Span(file, 1, start + 1, 1, len(text) + 1)
    literal = _literal(match, text[start:], span)
    if literal is None or match.group("minus") is None:
        return literal
    return n.Neg(literal, n.Span(file, 1, 1, 1, len(text) + 1))


def _literal(match: re.Match[str], token: str, span: n.Span) -> n.Expr | None:
    if match.group("date"):
        try:
            return n.DateLit(datetime.date.fromisoformat(token), token, span)
        except ValueError:
            return None
    if match.group("cjk_amount") or match.group("count"):
        digits = match.group("cjk_amount") or match.group("count")
        unit, factor = DURATION_UNITS[match.group("cjk_unit") or match.group("word")]
        if len(digits) > 9 or int(digits) * factor >= DURATION_LIMIT:
            return None  # the grammar's reading words the error
        written = token if match.group("cjk_amount") else f"{digits} {match.group('word')}"
        return n.DurationLit(int(digits) * factor, unit, written, span)
    mantissa = Decimal(match.group("number"))
    if -mantissa.as_tuple().exponent > MAX_SCALE:
        return None
    suffix = match.group("unit")
    if suffix is None:
        return n.NumberLit(mantissa, token, span)
    value = mantissa.scaleb(_SHIFT[suffix], _UNBOUNDED)
    if -value.as_tuple().exponent > MAX_SCALE:
        return None
    if suffix in ("%", "bp"):
        return n.PercentLit(value, token, span)
    return n.MoneyLit(value, token, span)
