"""The sqlglot building blocks every SQL emitter shares: the exact types, constants,
function calls, CASE, the ERROR that carries a policy error's code, and the names of the
query's internal columns (all under the `__pl_` prefix, which no input may take).
"""

from __future__ import annotations

from decimal import Decimal

from sqlglot import exp

from policylang.values import format_decimal

NUMERIC = exp.DataType.build("DECIMAL(38,10)")
MONEY_OUT = exp.DataType.build("DECIMAL(18,2)")
BOUNDED = exp.DataType.build("DECIMAL(28,10)")  # |x| < 10^18, the magnitude limit
HUGEINT = exp.DataType.build("HUGEINT")
SCALE = 10**10
PREFIX = "__pl_"


def fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def number(value: Decimal | int) -> exp.Expression:
    return exp.cast(exp.Literal.number(format_decimal(Decimal(value))), NUMERIC)


def integer(value: int) -> exp.Expression:
    return exp.cast(exp.Literal.number(str(value)), HUGEINT)


def fail(code: str, message: str) -> exp.Expression:
    return fn("ERROR", exp.Literal.string(f"{code}: {message}"))


def case(*branches: tuple[exp.Expression, exp.Expression],
         otherwise: exp.Expression) -> exp.Expression:
    return exp.Case(ifs=[exp.If(this=c, true=v) for c, v in branches], default=otherwise)


def paren(e: exp.Expression) -> exp.Expression:
    return exp.Paren(this=e)


def constant_of(e: exp.Expression) -> Decimal | None:
    """The value of a numeric constant as `number()` writes it, else None."""
    if isinstance(e, exp.Cast) and isinstance(e.this, exp.Literal) and not e.this.is_string:
        return Decimal(e.this.this)
    if isinstance(e, exp.Cast) and isinstance(e.this, exp.Neg):
        inner = e.this.this
        if isinstance(inner, exp.Literal) and not inner.is_string:
            return -Decimal(inner.this)
    if isinstance(e, exp.Paren):
        return constant_of(e.this)
    return None


def places(value: Decimal) -> int:
    return max(0, -value.normalize().as_tuple().exponent)


def narrow(value: Decimal) -> exp.Expression:
    """A constant as a DECIMAL just wide enough for its digits."""
    places_ = places(value)
    digits = max(len(format_decimal(abs(value)).replace(".", "").lstrip("0")), 1)
    width = max(digits, places_ + 1, 1)
    return exp.cast(exp.Literal.number(format_decimal(value)),
                    exp.DataType.build(f"DECIMAL({min(width, 38)},{places_})"))


def plus(total: exp.Expression | None, value: exp.Expression) -> exp.Expression:
    return value if total is None else exp.Add(this=total, expression=value)


def input_column(name: str) -> str:
    return f"{PREFIX}in_{name}"


def let_column(name: str) -> str:
    return f"{PREFIX}let_{name}"


def limit_column(limit: str, side: str) -> str:
    return f"{PREFIX}limit_{limit}__{side}"


def exact_column(allocation: str, party: str) -> str:
    return f"{PREFIX}{allocation}__exact__{party}"


def part_column(allocation: str, party: str) -> str:
    return f"{PREFIX}{allocation}__part__{party}"
