"""The generated module's readers of case and param values: the case reader in code.

Part of the run-time support (see `python_runtime.py`, whose definitions this file's
follow in a generated module): `emit/python.py` copies from here, too, exactly the
definitions a module uses. `MoneyField`, `PercentField`, … are the pydantic types of the
module's `Case` and `Params` fields; each reads a `.pol` literal or a JSON number exactly
as `policylang.cases` does (tests/test_emit_python.py holds the two to the same results).
"""

import datetime
import enum
from decimal import Decimal, InvalidOperation
from typing import Annotated

import pydantic

from policylang.emit.python_runtime import (
    _DURATION_LIMIT,
    _DURATION_UNITS,
    _EXACT,
    _INPUT_LIMIT,
    _LITERAL,
    _SHIFT,
    Duration,
    _decimal_text,
)


def _literal(text: str) -> tuple[str, object]:
    """A plain `.pol` literal → (kind, value); ValueError if it is not one."""
    match = _LITERAL.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{_shorten(text)!r} is not a value")
    sign = -1 if match.group("minus") else 1
    if match.group("date"):
        if sign < 0:
            raise ValueError(f"{text!r} is not a value")
        try:
            return "date", datetime.date.fromisoformat(match.group("date"))
        except ValueError:
            raise ValueError(f"{match.group('date')!r} is not a calendar date") from None
    if match.group("cjk_amount") or match.group("count"):
        digits = match.group("cjk_amount") or match.group("count")
        unit, factor = _DURATION_UNITS[match.group("cjk_unit") or match.group("word")]
        if len(digits) > 9 or int(digits) * factor >= _DURATION_LIMIT:
            raise ValueError(f"{_shorten(text.strip())!r} is out of range: a duration must "
                             f"stay below {_DURATION_LIMIT:,} months or days")
        return "duration", Duration(sign * int(digits) * factor, unit)
    mantissa = Decimal(match.group("number"))
    if -mantissa.as_tuple().exponent > 10:
        raise ValueError(f"{_shorten(match.group('number'))!r} has more than 10 decimal places")
    if mantissa.adjusted() >= 19:  # no unit brings it below 10^15; scaled, it might overflow
        return "number", _checked_decimal(mantissa)
    suffix = match.group("unit")
    value = mantissa.scaleb(_SHIFT[suffix], _EXACT) if suffix else mantissa
    kind = "number" if suffix is None else "percent" if suffix in ("%", "bp") else "money"
    return kind, value.copy_negate() if sign < 0 else value


def _checked_decimal(value: Decimal) -> Decimal:
    # Tested without arithmetic, which would overflow on a value of a thousand digits.
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite number")
    if -value.as_tuple().exponent > 10:
        raise ValueError(f"{_shorten(str(value))} has more than 10 decimal places")
    if value and value.adjusted() >= 15:
        raise ValueError(f"{_shorten(str(value))} is out of range (an input's magnitude must "
                         "stay below 10^15)")
    return value


def _shown(raw: object) -> str:
    try:
        return _shorten(repr(raw))
    except ValueError:  # Python writes at most 4,300 digits of a whole number
        return "a whole number of more than 4,300 digits"


def _shorten(text: str) -> str:
    """`text` as a message shows it: a thousand-digit number would bury the message."""
    return text if len(text) <= 40 else f"{text[:20]}…{text[-10:]} ({len(text)} characters)"


def _plain_decimal(text: str, shift: int) -> Decimal | None:
    """The common forms (`1234.5`, `1234.5元`, `3.45%`) without the regular expression; None
    for anything else (the caller then reads the text in full)."""
    whole, point, fraction = text.partition(".")
    if not (whole.isascii() and whole.isdigit() and len(fraction) + shift <= 10
            and len(whole) <= 20):  # a longer one is out of range: the full reader says so
        return None
    if point and not (fraction.isascii() and fraction.isdigit()):
        return None
    value = Decimal(text).scaleb(-shift, _EXACT) if shift else Decimal(text)
    return value if value < _INPUT_LIMIT else _checked_decimal(value)


def _decimal_input(kind: str, raw: object) -> Decimal:
    """Money, percent or number: a literal string or a JSON number in base units."""
    if isinstance(raw, str):
        if raw.endswith("元") and kind == "money":
            plain = _plain_decimal(raw[:-1], 0)
        elif raw.endswith("%") and kind == "percent":
            plain = _plain_decimal(raw[:-1], 2)
        else:
            plain = _plain_decimal(raw, 0)
            if plain is not None and kind == "percent":
                return _plain_fraction(plain, raw)
        if plain is not None:
            return plain
    if isinstance(raw, bool):
        raise ValueError(f"expected {kind}, got {str(raw).lower()}")
    if isinstance(raw, int | Decimal):
        return _checked_decimal(Decimal(raw))
    if isinstance(raw, float):
        return _checked_decimal(Decimal(repr(raw)))
    if not isinstance(raw, str):
        raise ValueError(f"expected {kind}, got {_shown(raw)}")
    try:
        found, value = _literal(raw)
    except InvalidOperation:
        raise ValueError(f"{_shown(raw)} is not a value") from None
    if found != kind and found != "number":
        raise ValueError(f"expected {kind}, got {_shown(raw)}")
    if kind == "percent" and found == "number":
        return _plain_fraction(_checked_decimal(value), raw)
    return _checked_decimal(value)


def _plain_fraction(value: Decimal, raw: str) -> Decimal:
    """A percent written as text without `%` or `bp` is a fraction; beyond ±1 it is
    refused (`4.35` would be 435%, where an export nearly always means 4.35%)."""
    if abs(value) <= 1:
        return value
    written = raw.strip()
    percent = _decimal_text(value.scaleb(2, _EXACT))
    raise ValueError(f"{_shown(raw)} without `%` is a fraction, so it would be {percent}%; "
                     f"a percent above 100% is written with its `%` (for {written}%, "
                     f"write `{written}%`)")


def _money(raw: object) -> Decimal:
    if type(raw) is str and raw.endswith("元"):  # the common form, read directly
        plain = _plain_decimal(raw[:-1], 0)
        if plain is not None:
            return plain
    return _decimal_input("money", raw)


def _percent(raw: object) -> Decimal:
    if type(raw) is str and raw.endswith("%"):  # the common form, read directly
        plain = _plain_decimal(raw[:-1], 2)
        if plain is not None:
            return plain
    return _decimal_input("percent", raw)


def _number(raw: object) -> Decimal:
    return _decimal_input("number", raw)


def _duration(raw: object) -> Duration:
    if isinstance(raw, Duration):
        return raw
    if type(raw) is str:  # the common form `12 months`, read without the regular expression
        count, space, word = raw.partition(" ")
        english = space and word.isascii() and word in _DURATION_UNITS  # not `3 年`
        if english and count.isascii() and count.isdigit() and len(count) <= 9:
            unit, factor = _DURATION_UNITS[word]
            if int(count) * factor < _DURATION_LIMIT:  # else the full reader says why
                return Duration(int(count) * factor, unit)
    if isinstance(raw, str):
        kind, value = _literal(raw)
        if kind == "duration":
            return value
    raise ValueError(
        f"expected a duration such as '2 years', '18 months' or '3年', got {_shown(raw)}"
    )


def _date(raw: object) -> datetime.date:
    if isinstance(raw, datetime.date):
        return raw
    if isinstance(raw, str) and len(raw) == 10 and raw.isascii() and raw[4] == raw[7] == "-":
        digits = raw[:4] + raw[5:7] + raw[8:]
        if digits.isdigit():
            try:
                return datetime.date.fromisoformat(raw)
            except ValueError:
                pass  # the full reader below gives the message
    if isinstance(raw, str):
        kind, value = _literal(raw)
        if kind == "date":
            return value
    raise ValueError(f"expected a date such as '2021-02-24', got {_shown(raw)}")


def _bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if raw in ("true", "false"):
        return raw == "true"
    raise ValueError(f"expected true or false, got {_shown(raw)}")


def _member(enum_class: type[enum.Enum], enum_name: str, raw: object) -> enum.Enum | None:
    """An enum member from `member` or `enum_name.member`, surrounding spaces ignored."""
    if isinstance(raw, str):
        name = raw.strip().removeprefix(f"{enum_name}.")
        if name != raw and name in enum_class._value2member_map_:
            return enum_class(name)
    return None


MoneyField = Annotated[Decimal, pydantic.BeforeValidator(_money)]
PercentField = Annotated[Decimal, pydantic.BeforeValidator(_percent)]
NumberField = Annotated[Decimal, pydantic.BeforeValidator(_number)]
DurationField = Annotated[Duration, pydantic.BeforeValidator(_duration)]
DateField = Annotated[datetime.date, pydantic.BeforeValidator(_date)]
BoolField = Annotated[bool, pydantic.BeforeValidator(_bool)]
