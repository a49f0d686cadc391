"""An upper bound on a money value's magnitude known from the policy alone: whether a
backend must test it to stay below 10^16 yuan at the fen.

A money let, each part of an allocation with an amount, and a money limit's value and
bound where the limit applies are SQL's DECIMAL(18,2) columns (DESIGN.md §5), so every
backend refuses one of 10^16 yuan or more at the fen (E611, docs/semantics.md). The
generated module (python_money) and a query without a limit's columns (sql_money) test
such a value only where this bound does not keep it below: `loan_amount * 2.5%` needs no
test, `loan_amount * rate` does. The two differ only in what they know of a param (the
module's may be given at each call; the query's are fixed when it is built).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from policylang import ir
from policylang.values import EXACT, INPUT_LIMIT, MAGNITUDE_LIMIT, MONEY_EDGE, SCALE

# The most a money let or part can be: 10 places below the edge its own test refuses at.
CHECKED_MONEY = EXACT.subtract(MONEY_EDGE, SCALE)


def below_money_limit(e: ir.Expr, param_bound: Callable[[str], Decimal | None]) -> bool:
    """Whether money `e` is known to stay below 10^16 yuan at the fen."""
    found = magnitude_bound(e, param_bound)
    return found is not None and found < MONEY_EDGE


def magnitude_bound(e: ir.Expr, param_bound: Callable[[str], Decimal | None]
                    ) -> Decimal | None:
    """An upper bound on |e|, None where none is known. An input is below 10^15, a param
    below `param_bound(name)`; a money let or part below 10^16 yuan at the fen, since the
    case is refused where one is not; a share of `shares` without an amount at most 100%.
    A product or quotient counts 10^-10 for its rounding, and no value reaches 10^18
    (E611), so no bound need be more."""
    def both(left: ir.Expr, right: ir.Expr) -> tuple[Decimal, Decimal] | None:
        a, b = magnitude_bound(left, param_bound), magnitude_bound(right, param_bound)
        return None if a is None or b is None else (a, b)

    def rounded(bound: Decimal) -> Decimal:
        return min(EXACT.add(bound, SCALE), MAGNITUDE_LIMIT)

    match e:
        case ir.Const(value=Decimal() as value):
            return abs(value)
        case ir.InputRef():
            return INPUT_LIMIT
        case ir.ParamRef(name=name):
            return param_bound(name)
        case ir.LetRef() | ir.PartRef() if e.type.kind is ir.Kind.MONEY:
            return CHECKED_MONEY
        case ir.PartRef():
            return Decimal(1)
        case ir.Neg(operand=operand) | ir.Call(func="abs", args=(operand,)):
            return magnitude_bound(operand, param_bound)
        case ir.Arith(op="+" | "-", left=left, right=right):
            found = both(left, right)
            return None if found is None else min(EXACT.add(*found), MAGNITUDE_LIMIT)
        case ir.Arith(op="*", left=left, right=right):
            found = both(left, right)
            return None if found is None else rounded(EXACT.multiply(*found))
        case ir.Arith(op="/", left=left, right=ir.Const(value=Decimal() as by)) if by:
            found = magnitude_bound(left, param_bound)
            return None if found is None else rounded(EXACT.divide(found, abs(by)))
        case ir.Call(func="min" | "max", args=args):
            bounds = [magnitude_bound(a, param_bound) for a in args]
            return None if None in bounds else max(bounds)
        case ir.If(then=then, otherwise=otherwise):
            found = both(then, otherwise)
            return None if found is None else max(found)
    return None
