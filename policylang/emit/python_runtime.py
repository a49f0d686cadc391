"""The run-time support every generated Python module carries: docs/semantics.md in code.

This file is a real module (tested on its own) and the source of truth for generated code:
`emit/python.py` copies into each module exactly the definitions that module uses (and
what they use), so a generated module imports nothing but the standard library and
pydantic. It mirrors `policylang.values`, and `python_readers.py` (whose definitions follow
these) the case reader; the differential tests hold the two to the same results.
"""

import calendar
import datetime
import operator
import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal

_EXACT = Context(prec=80, rounding=ROUND_HALF_UP, Emax=999, Emin=-999)
_TRUNCATE = Context(prec=80, rounding=ROUND_DOWN, Emax=999, Emin=-999)
# The contexts' operations bound once: looking a method up on every call costs as much
# as a Decimal addition.
_exact_add = _EXACT.add
_exact_sub = _EXACT.subtract
_exact_mul = _EXACT.multiply
_exact_quantize = _EXACT.quantize
_exact_normalize = _EXACT.normalize
_truncate = _TRUNCATE.quantize
_SCALE = Decimal("1E-10")
_FEN = Decimal("0.01")
_NEG_FEN = Decimal("-0.01")
_NO_FEN = Decimal("0.00")
# Built from whole numbers, never in the caller's decimal context (nor any operation below).
_LIMIT = Decimal(10**18)
_NEG_LIMIT = Decimal(-(10**18))
_INPUT_LIMIT = Decimal(10**15)
# A money let, part, or limit's value or bound: below 10^16 yuan at the fen (SQL's
# DECIMAL(18,2)), so below 9999999999999999.995, which rounds half-up to 10^16.
_MONEY_LIMIT = Decimal(10**16)
_MONEY_HIGH = Decimal("9999999999999999.995")
_NEG_MONEY_HIGH = Decimal("-9999999999999999.995")
_DURATION_LIMIT = 10**8  # months or days: far past the calendar, and inside SQL's INTERVAL
_LITERAL = re.compile(
    r"(?P<minus>-[ \t\f\r\n]*)?(?:"
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"|(?P<cjk_amount>[0-9]+)(?P<cjk_unit>个月|年|天|日)"
    r"|(?P<count>[0-9]+)[ \t\f\r\n]+(?P<word>years|year|months|month|days|day)"
    r"|(?P<number>[0-9]+(?:\.[0-9]+)?)(?P<unit>万元|亿元|万|亿|元|%|bp)?"
    r")"
)
_SHIFT = {"万元": 4, "亿元": 8, "万": 4, "亿": 8, "元": 0, "%": -2, "bp": -4}
_DURATION_UNITS = {
    "years": ("month", 12),
    "year": ("month", 12),
    "months": ("month", 1),
    "month": ("month", 1),
    "days": ("day", 1),
    "day": ("day", 1),
    "年": ("month", 12),
    "个月": ("month", 1),
    "天": ("day", 1),
    "日": ("day", 1),
}


class EvaluationError(Exception):
    """A case that cannot be evaluated: `code` is E610 (division by zero) or E611."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Duration:
    """A whole number of months or of days (1 year is 12 months)."""

    __slots__ = ("amount", "unit")

    def __init__(self, amount: int, unit: str) -> None:
        self.amount = amount
        self.unit = unit

    def __repr__(self) -> str:
        return f"Duration({self.amount}, {self.unit!r})"


class _cached:
    """A value computed on first access and then stored on the instance (like
    `functools.cached_property`, without its lock: an `Evaluation` is never shared)."""

    def __init__(self, compute: object) -> None:
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    def __get__(self, instance: object, owner: type | None = None) -> object:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.compute(instance)
        return value


def _bounded(value: Decimal) -> Decimal:
    if _NEG_LIMIT < value < _LIMIT:
        return value
    raise EvaluationError(
        "E611", f"value {value:f} is out of range (magnitude must stay below 10^18)"
    )


def _add(a: Decimal, b: Decimal) -> Decimal:
    result = _exact_add(a, b)
    return result if _NEG_LIMIT < result < _LIMIT else _bounded(result)


def _sub(a: Decimal, b: Decimal) -> Decimal:
    result = _exact_sub(a, b)
    return result if _NEG_LIMIT < result < _LIMIT else _bounded(result)


def _mul(a: Decimal, b: Decimal) -> Decimal:
    result = _exact_quantize(_exact_mul(a, b), _SCALE)
    return result if _NEG_LIMIT < result < _LIMIT else _bounded(result)


def _div(a: Decimal, b: Decimal) -> Decimal:
    if b == 0:
        raise EvaluationError("E610", "division by zero")
    an, ad = a.as_integer_ratio()
    bn, bd = b.as_integer_ratio()
    num, den = an * bd * 10**10, ad * bn
    if den < 0:
        num, den = -num, -den
    quotient, remainder = divmod(abs(num), den)
    if 2 * remainder >= den:
        quotient += 1
    return _bounded(Decimal(quotient if num >= 0 else -quotient).scaleb(-10, _EXACT))


def _round_step(x: Decimal, step: Decimal) -> Decimal:
    if step <= 0:
        raise EvaluationError("E611", f"round() needs a positive step, got {step:f}")
    xn, xd = x.as_integer_ratio()
    sn, sd = step.as_integer_ratio()
    num, den = abs(xn) * sd, xd * sn
    count, remainder = divmod(num, den)
    if 2 * remainder >= den:
        count += 1
    return _bounded(_EXACT.multiply(Decimal(count if xn >= 0 else -count), step))


def _to_fen(x: Decimal) -> Decimal:
    return _exact_quantize(x, _FEN)


def _allocated(amount: Decimal, name: str) -> Decimal:
    amount = _exact_quantize(amount, _FEN)  # `_to_fen`, one call less
    if amount < 0:
        raise EvaluationError("E611", f"the allocated amount of {name} is negative")
    return amount


def _money_in_range(value: Decimal, what: str) -> Decimal:
    """`value`, or E611 where it reaches 10^16 yuan rounded to the fen (`what` is the let,
    part or limit side it is)."""
    if _NEG_MONEY_HIGH < value < _MONEY_HIGH:
        return value
    raise EvaluationError(
        "E611", f"{what}: {_exact_quantize(value, _FEN):,f}元 is out of range (a money let, "
        f"part, or limit's value or bound must stay below {_MONEY_LIMIT:,f}元)"
    )


def _parts_in_range(parts: tuple, amount: Decimal, name: str, parties: tuple) -> tuple:
    """The parts of allocation `name`, each `_money_in_range`: none is more than the
    amount (rounded), so only an amount of 10^16 yuan or more needs the test."""
    if amount < _MONEY_LIMIT:
        return parts
    for party, part in zip(parties, parts, strict=True):
        _money_in_range(part, f"part {party} of {name}")
    return parts


def _allocate_missing(
    total: Decimal, exact: tuple[Decimal, ...], truncated: list[Decimal], given: Decimal
) -> tuple[Decimal, ...]:
    """The parts of `total` rounded to the fen (largest remainder, ties first), when the
    parts of `exact` truncated to the fen (`truncated`, summing to `given`) do not already
    sum to it: the missing fen go one each to the largest remainders (ties to the part
    listed first). Every part it returns has exactly two places."""
    # Both below 10^18, so the difference needs no range check.
    missing = int(_exact_sub(total, given).scaleb(2, _EXACT))
    remainders = [_exact_sub(x, t) for x, t in zip(exact, truncated, strict=True)]
    step = _FEN if missing > 0 else _NEG_FEN
    if missing > 0:
        order = sorted(range(len(exact)), key=lambda i: (remainders[i].copy_negate(), i))
    else:
        order = sorted(range(len(exact)), key=lambda i: (remainders[i], i))
    for k in range(abs(missing)):
        index = order[k % len(order)]
        truncated[index] = _add(truncated[index], step)
    return tuple(truncated)


class _FenSplit:
    """Constant shares `numerator / scale` summing to 100%, split in whole fen by
    `_split_fen`. The fen an amount's remainders give each part depend only on the
    amount's residue modulo `scale`, so they are worked out once per residue and kept."""

    __slots__ = ("numerators", "scale", "nothing", "by_residue")

    def __init__(self, numerators: tuple[int, ...], scale: int) -> None:
        self.numerators = numerators
        self.scale = scale
        self.nothing = (_NO_FEN,) * len(numerators)
        self.by_residue = {}

    def residue_parts(self, residue: int) -> tuple:
        """(numerator, fen of the part) of each part of `residue` fen, by the largest
        remainder, ties to the part listed first."""
        parts = [residue * numerator // self.scale for numerator in self.numerators]
        missing = residue - sum(parts)
        if missing:  # fewer fen than parts: one each to the largest remainders
            remainders = [residue * numerator % self.scale for numerator in self.numerators]
            # `reverse` keeps equal remainders in their order (the sort is stable).
            for index in sorted(range(len(parts)), key=remainders.__getitem__, reverse=True)[
                :missing
            ]:
                parts[index] += 1
        found = tuple(zip(self.numerators, parts, strict=True))
        if len(self.by_residue) < 4096:  # a scale of up to 10^8 has as many residues
            self.by_residue[residue] = found
        return found


def _split_fen(total: Decimal, split: _FenSplit) -> tuple:
    """The parts of `total` for the constant shares of `split`, in whole fen.

    Exact, and equal to rounding the exact parts `_mul(total, weight)` to the fen as every
    other allocation does: `total` is whole fen and the scale at most 10^8, so each product
    has at most 10 places and `_mul` would not round it; it is below `total`, so in range.
    The remainders are ordered as there. `total` is `whole * scale + residue` fen, so a
    part is `whole * numerator` fen and its part of the residue's fen (whose remainders
    are the total's: `whole * scale * numerator` leaves none).
    """
    fen = int(total.scaleb(2, _EXACT))  # `total` is whole fen and never negative
    if not fen:  # common (no loss, no claim)
        return split.nothing
    whole, residue = divmod(fen, split.scale)
    parts = split.by_residue.get(residue) or split.residue_parts(residue)
    return tuple([_exact_mul(whole * numerator + extra, _FEN) for numerator, extra in parts])


def _family(a: Duration, b: Duration, what: str) -> str:
    if a.unit == b.unit or b.amount == 0:
        return a.unit
    if a.amount == 0:
        return b.unit
    raise EvaluationError(
        "E611",
        f"cannot {what} {_duration_text(a)} and {_duration_text(b)}: days are not "
        "convertible to months",
    )


def _duration_in_range(amount: int, unit: str) -> Duration:
    if abs(amount) >= _DURATION_LIMIT:
        raise EvaluationError(
            "E611", f"a duration of {amount:,} {unit}s is out of range (a duration must "
            f"stay below {_DURATION_LIMIT:,} months or days)"
        )
    return Duration(amount, unit)


def _duration_add(a: Duration, b: Duration, sign: int) -> Duration:
    unit = _family(a, b, "add" if sign > 0 else "subtract")
    return _duration_in_range(a.amount + sign * b.amount, unit)


def _duration_negate(d: Duration) -> Duration:
    return Duration(-d.amount, d.unit)


def _duration_scale(d: Duration, factor: Decimal) -> Duration:
    amount = _EXACT.multiply(Decimal(d.amount), factor)
    if amount != amount.to_integral_value():
        raise EvaluationError(
            "E611", f"{_duration_text(d)} × {factor:f} is not a whole number of {d.unit}s"
        )
    return _duration_in_range(int(amount), d.unit)


def _duration_in(d: Duration, unit: str) -> Decimal:
    if d.amount == 0:
        return Decimal(0)
    if unit == "day":
        if d.unit != "day":
            raise EvaluationError(
                "E611", f"days() of {_duration_text(d)}: months are not convertible to days"
            )
        return Decimal(d.amount)
    if d.unit != "month":
        raise EvaluationError(
            "E611", f"{unit}s() of {_duration_text(d)}: days are not convertible to months"
        )
    if unit == "month":
        return Decimal(d.amount)
    found = _YEARS_OF_MONTHS.get(d.amount)
    if found is not None:
        return found
    # months ÷ 12, half-up to 10 places: `_div` on whole numbers, without its fractions
    years, remainder = divmod(abs(d.amount) * 10**10, 12)
    if 2 * remainder >= 12:
        years += 1
    found = _bounded(Decimal(years if d.amount >= 0 else -years).scaleb(-10, _EXACT))
    if len(_YEARS_OF_MONTHS) < 4096:  # terms take few values; the memo stays small
        _YEARS_OF_MONTHS[d.amount] = found
    return found


_YEARS_OF_MONTHS = {}  # months → years(), as `_duration_in` computed them


def _date_add(date: datetime.date, d: Duration, sign: int) -> datetime.date:
    try:
        if d.unit == "day":
            return date + datetime.timedelta(days=sign * d.amount)
        months = date.year * 12 + (date.month - 1) + sign * d.amount
        year, month = divmod(months, 12)
        day = min(date.day, calendar.monthrange(year, month + 1)[1])
        return datetime.date(year, month + 1, day)
    except (ValueError, OverflowError):
        raise EvaluationError(
            "E611", f"{date.isoformat()} ± {_duration_text(d)} is outside the calendar"
        ) from None


def _date_diff(a: datetime.date, b: datetime.date) -> Duration:
    return Duration((a - b).days, "day")


_COMPARISONS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _compare(op: str, a: object, b: object) -> bool:
    """Comparison; durations of days and of months cannot be compared."""
    if type(a) is Duration and type(b) is Duration:
        if a.unit != b.unit and a.amount and b.amount:
            _family(a, b, "compare")  # raises: days are not convertible to months
        a, b = a.amount, b.amount
    return _COMPARISONS[op](a, b)


def _in_lazily(value: object, *items: object) -> bool:
    """`value in {…}` as the interpreter decides it: each item (a function) is evaluated
    only until one equals `value`, so a later item's fault (`1 / n`) never arises."""
    for item in items:
        if _compare("==", value, item()):
            return True
    return False


def _least(*values: object) -> object:
    best = values[0]
    for value in values[1:]:
        if _compare("<", value, best):
            best = value
    return best


def _greatest(*values: object) -> object:
    best = values[0]
    for value in values[1:]:
        if _compare(">", value, best):
            best = value
    return best


def _decimal_text(x: Decimal) -> str:
    text = str(_exact_normalize(x))
    if "E" in text:  # `str` is plain (as the "f" format) unless it chose an exponent
        text = format(_exact_normalize(x), "f")
    return "0" if text in ("-0", "0") else text


def _money_text(x: Decimal) -> str:
    fen = _exact_quantize(x, _FEN)  # exponent -2: `str` never uses scientific notation
    return str(fen) if fen else "0.00"  # never a negative zero


def _fen_text(x: Decimal) -> str:
    """`_money_text` of a value with exactly two places (an allocated part)."""
    return str(x) if x else "0.00"  # never a negative zero


def _duration_text(d: Duration) -> str:
    texts = _DAYS_TEXTS if d.unit == "day" else _MONTHS_TEXTS
    text = texts.get(d.amount)
    if text is not None:
        return text
    if d.unit == "day" or d.amount == 0:
        text = f"{d.amount} day" if abs(d.amount) == 1 else f"{d.amount} days"
    elif d.amount % 12 == 0:
        years = d.amount // 12
        text = f"{years} year" if abs(years) == 1 else f"{years} years"
    else:
        text = f"{d.amount} month" if abs(d.amount) == 1 else f"{d.amount} months"
    if len(texts) < 4096:  # durations take few values; the memo stays small
        texts[d.amount] = text
    return text


# A duration's text by its amount, one memo per unit: building it costs more than looking
# it up.
_DAYS_TEXTS = {}
_MONTHS_TEXTS = {}
