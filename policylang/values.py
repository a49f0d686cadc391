"""Run-time values and their arithmetic: the exact semantics of docs/semantics.md.

Money, percent and number are `Decimal`; `+`/`-` are exact, `*` and `/` round half-up to
10 places (division is done on exact integer ratios, so no double rounding); durations
are whole months or whole days; dates add calendar months clamping to month end. The
interpreter and the checker's constant folding both use these functions, and generated
code reproduces them. Faults raise `EvalError` with an E6xx code.
"""

from __future__ import annotations

import calendar
import datetime
import functools
import operator
from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal, localcontext
from typing import ParamSpec, TypeVar

from policylang.ir import Duration, Kind, Type, Value

SCALE_PLACES = 10
SCALE = Decimal(1).scaleb(-SCALE_PLACES)
MAGNITUDE_DIGITS = 18
MAGNITUDE_LIMIT = Decimal(10) ** MAGNITUDE_DIGITS
INPUT_DIGITS = 15  # inputs stay lower, so sums of a few inputs need no check
INPUT_LIMIT = Decimal(10) ** INPUT_DIGITS
FEN = Decimal("0.01")
# Operands stay below 10^18 with at most 10 places, so 80 digits hold any exact sum or product;
# the limit keeps every SQL intermediate (value × 10^20) inside a 128-bit integer.
EXACT = Context(prec=80, rounding=ROUND_HALF_UP, Emax=999, Emin=-999)
_TEN_TO_SCALE = 10**SCALE_PLACES


_P = ParamSpec("_P")
_R = TypeVar("_R")


def in_exact_context(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """`function` run in the exact context, whatever the caller's: an application that
    lowered `decimal.getcontext().prec` must not change a literal or a decision."""
    @functools.wraps(function)
    def exact(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with localcontext(EXACT):
            return function(*args, **kwargs)
    return exact


class EvalError(Exception):
    """A run-time fault in evaluating an expression (division by zero, …)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _bounded(value: Decimal) -> Decimal:
    if abs(value) >= MAGNITUDE_LIMIT:
        raise EvalError("E611",
                        f"value {value:f} is out of range (magnitude must stay below 10^18)")
    return value


def add(a: Decimal, b: Decimal) -> Decimal:
    return _bounded(EXACT.add(a, b))


def sub(a: Decimal, b: Decimal) -> Decimal:
    return _bounded(EXACT.subtract(a, b))


def mul(a: Decimal, b: Decimal) -> Decimal:
    return _bounded(EXACT.multiply(a, b).quantize(SCALE, rounding=ROUND_HALF_UP, context=EXACT))


def div(a: Decimal, b: Decimal) -> Decimal:
    if b == 0:
        raise EvalError("E610", "division by zero")
    an, ad = a.as_integer_ratio()
    bn, bd = b.as_integer_ratio()
    num, den = an * bd * _TEN_TO_SCALE, ad * bn
    if den < 0:
        num, den = -num, -den
    quotient, remainder = divmod(abs(num), den)
    if 2 * remainder >= den:
        quotient += 1
    return _bounded(Decimal(quotient if num >= 0 else -quotient).scaleb(-SCALE_PLACES))


def round_to_step(x: Decimal, step: Decimal) -> Decimal:
    """Round to a multiple of step, half away from zero."""
    if step <= 0:
        raise EvalError("E611", f"round() needs a positive step, got {step:f}")
    xn, xd = x.as_integer_ratio()
    sn, sd = step.as_integer_ratio()
    num, den = abs(xn) * sd, xd * sn
    count, remainder = divmod(num, den)
    if 2 * remainder >= den:
        count += 1
    return _bounded(EXACT.multiply(Decimal(count if xn >= 0 else -count), step))


def to_fen(x: Decimal) -> Decimal:
    """Money as reported: half-up to 0.01元."""
    return x.quantize(FEN, rounding=ROUND_HALF_UP, context=EXACT)


def truncate_fen(x: Decimal) -> Decimal:
    return x.quantize(FEN, rounding=ROUND_DOWN, context=EXACT)


# The money a decision holds (a money let, an allocation's part, an applicable limit's
# value and bound) is a DECIMAL(18,2) column in SQL (DESIGN §5): to the fen, below 10^16
# yuan. Beyond it, every backend refuses the case (E611); money computed along the way
# (an operand, an allocated amount) need only stay below 10^18, as every value.
MONEY_LIMIT = Decimal(10) ** 16
MONEY_EDGE = MONEY_LIMIT - Decimal("0.005")  # the least that rounds half-up to it
NEG_MONEY_EDGE = -MONEY_EDGE  # negated once here, not in a caller's decimal context


def money_in_range(value: Decimal, what: str) -> Decimal:
    """`value` (`what`: `let premium`, `part bank of s`, `limit cap's value`), or E611 where
    it reaches 10^16 yuan once rounded to the fen (from 9999999999999999.995 on)."""
    if NEG_MONEY_EDGE < value < MONEY_EDGE:  # `to_fen` only for the message: 6% of a case
        return value
    raise EvalError("E611", f"{what}: {to_fen(value):,f}元 is out of range (a money let, part, "
                    f"or limit's value or bound must stay below {MONEY_LIMIT:,f}元)")


# ── durations and dates ────────────────────────────────────────────────────


def _same_family(a: Duration, b: Duration, what: str) -> str:
    if a.unit == b.unit or b.amount == 0:
        return a.unit
    if a.amount == 0:
        return b.unit
    raise EvalError(
        "E611",
        f"cannot {what} {format_duration(a)} and {format_duration(b)}: days are not "
        "convertible to months",
    )


# A duration's count of months or days beyond this is no period of any calendar (dates run
# to 9999-12-31, 3,652,059 days from 0001-01-01), and beyond 2^31 no SQL INTERVAL holds it:
# a literal or input beyond it is refused when read, a computed one when evaluated (E611).
DURATION_LIMIT = 10**8


def _duration_in_range(amount: int, unit: str) -> Duration:
    if abs(amount) >= DURATION_LIMIT:
        raise EvalError("E611", f"a duration of {amount:,} {unit}s is out of range (a "
                        f"duration must stay below {DURATION_LIMIT:,} months or days)")
    return Duration(amount, unit)


def duration_add(a: Duration, b: Duration, sign: int = 1) -> Duration:
    unit = _same_family(a, b, "add" if sign > 0 else "subtract")
    return _duration_in_range(a.amount + sign * b.amount, unit)


def duration_scale(d: Duration, factor: Decimal) -> Duration:
    amount = EXACT.multiply(Decimal(d.amount), factor)
    if amount != amount.to_integral_value():
        raise EvalError("E611", f"{format_duration(d)} × {factor:f} is not a whole number of "
                        f"{d.unit}s")
    return _duration_in_range(int(amount), d.unit)


def duration_compare_key(a: Duration, b: Duration) -> tuple[int, int]:
    _same_family(a, b, "compare")
    return a.amount, b.amount


def duration_in(d: Duration, unit: str) -> Decimal:
    """years(d), months(d), days(d)."""
    if d.amount == 0:
        return Decimal(0)
    if unit == "day":
        if d.unit != "day":
            raise EvalError("E611", f"days() of {format_duration(d)}: months are not "
                            "convertible to days")
        return Decimal(d.amount)
    if d.unit != "month":
        raise EvalError("E611", f"{unit}s() of {format_duration(d)}: days are not convertible "
                        "to months")
    return Decimal(d.amount) if unit == "month" else div(Decimal(d.amount), Decimal(12))


def date_add(date: datetime.date, d: Duration, sign: int = 1) -> datetime.date:
    try:
        if d.unit == "day":
            return date + datetime.timedelta(days=sign * d.amount)
        months = date.year * 12 + (date.month - 1) + sign * d.amount
        year, month = divmod(months, 12)
        day = min(date.day, calendar.monthrange(year, month + 1)[1])
        return datetime.date(year, month + 1, day)
    except (ValueError, OverflowError):
        raise EvalError("E611", f"{date.isoformat()} ± {format_duration(d)} is outside the "
                        "calendar") from None


def date_diff(a: datetime.date, b: datetime.date) -> Duration:
    return Duration((a - b).days, "day")


# ── comparison ─────────────────────────────────────────────────────────────


# The comparison operators by their policy spelling; applied to values here and to z3
# terms by the solver encodings (smt.py, lint_encoding.py).
COMPARISONS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
               ">": operator.gt, ">=": operator.ge}


def compare(op: str, a: Value, b: Value) -> bool:
    if isinstance(a, Duration):
        a, b = duration_compare_key(a, b)
    return COMPARISONS[op](a, b)


# ── reported forms (decision JSON) ─────────────────────────────────────────


def format_decimal(x: Decimal) -> str:
    text = format(x.normalize(EXACT), "f")
    return "0" if text in ("-0", "0") else text


def format_money(x: Decimal) -> str:
    """Yuan to the fen, half-up; never a negative zero."""
    fen = to_fen(x)
    return format(fen.copy_abs() if fen == 0 else fen, "f")


def format_duration(d: Duration) -> str:
    if d.unit == "day" or d.amount == 0:  # a zero duration has no unit: always "0 days"
        return f"{d.amount} day" if abs(d.amount) == 1 else f"{d.amount} days"
    if d.amount != 0 and d.amount % 12 == 0:
        years = d.amount // 12
        return f"{years} year" if abs(years) == 1 else f"{years} years"
    return f"{d.amount} month" if abs(d.amount) == 1 else f"{d.amount} months"


def report(value: Value, type_: Type) -> str | bool:
    """A value as the decision JSON shows it (DESIGN.md §4)."""
    match type_.kind:
        case Kind.MONEY:
            return format_money(value)
        case Kind.PERCENT | Kind.NUMBER:
            return format_decimal(value)
        case Kind.DURATION:
            return format_duration(value)
        case Kind.DATE:
            return value.isoformat()
        case Kind.BOOL:
            return value
        case Kind.ENUM:
            return value
    raise AssertionError(type_)


def readable_literal(value: Value, type_: Type) -> str:
    """`literal`, with money of 10万 or more in 万 or 亿 where that is exact to two places
    (`900万`, `123.45万`, not `9000000元`): as documents and drafters write amounts, for
    messages people read. Smaller amounts and fees stay in 元 (`40500元`, not `4.05万`)."""
    if type_.kind is Kind.MONEY and abs(value) >= 100_000:
        for unit, scale in (("亿", 8), ("万", 4)):
            scaled = value.scaleb(-scale)
            if abs(scaled) >= 1 and -scaled.normalize().as_tuple().exponent <= 2:
                return f"{format_decimal(scaled)}{unit}"
    return literal(value, type_)


def literal(value: Value, type_: Type) -> str:
    """A value written as a .pol literal (for witnesses, formatted tests, messages)."""
    match type_.kind:
        case Kind.MONEY:
            return f"{format_decimal(value)}元"
        case Kind.PERCENT:
            return f"{format_decimal(value.scaleb(2, EXACT))}%"
        case Kind.NUMBER:
            return format_decimal(value)
        case Kind.DURATION:
            return format_duration(value)
        case Kind.DATE:
            return value.isoformat()
        case Kind.BOOL:
            return "true" if value else "false"
        case Kind.ENUM:
            return value
    raise AssertionError(type_)
