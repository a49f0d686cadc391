"""The Python backend's money range: which money values a module tests to stay below
10^16 yuan.

A money let, each part of an allocation with an amount, and a money limit's value and
bound where the limit applies are SQL's DECIMAL(18,2) columns (DESIGN.md §5), so every
backend refuses one of 10^16 yuan or more at the fen (E611, docs/semantics.md). A mixin
of the module emitter (python.py): the module tests such a value (`_money_in_range`, and
`_parts_in_range` for an allocation's parts) unless a bound on its magnitude, known from
the policy alone, keeps it below: `loan_amount * 2.5%` needs no test, `loan_amount * rate`
does.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from policylang import ir
from policylang.emit.python_text import text as _text
from policylang.values import EXACT, INPUT_LIMIT, MAGNITUDE_LIMIT, MONEY_EDGE, SCALE

_UNKNOWN = Decimal("Infinity")


class MoneyRange:
    """`_money_in_range(node, text, what)`: the code testing a money value, where needed."""

    policy: ir.Policy

    def _money_in_range(self, node: ir.Expr, text: str, what: str) -> str:
        """`text`, the money value of `node`, tested to stay below 10^16 yuan at the fen
        (`what` names it in the error), unless it is known to."""
        if self._money_bounded(node):
            return text
        return f"_money_in_range({text}, {_text(what)})"

    def _money_bounded(self, node: ir.Expr) -> bool:
        """Whether money `node` stays below 10^16 yuan at the fen whatever the case."""
        return self._magnitude(node) < MONEY_EDGE

    def _magnitude(self, node: ir.Expr) -> Decimal:
        """An upper bound on |`node`| (infinite where none is known): an input or a param
        given is below 10^15, a money let or part below 10^16 yuan at the fen (tested
        where computed), a share at most 100%; a product or quotient is rounded to 10
        places."""
        match node:
            case ir.Const(value=Decimal() as value):
                return abs(value)
            case ir.InputRef():
                return INPUT_LIMIT
            case ir.ParamRef(name=name):
                default = next(p.default for p in self.policy.params if p.name == name)
                return INPUT_LIMIT if default is None else max(INPUT_LIMIT, abs(default))
            case ir.LetRef() | ir.PartRef() if node.type.kind is ir.Kind.MONEY:
                return EXACT.subtract(MONEY_EDGE, SCALE)  # the most of 10 places below it
            case ir.PartRef():  # a share of `shares` without an amount: at most 100%
                return Decimal(1)
            case ir.Arith(op="+" | "-", left=left, right=right):
                return _at_most(EXACT.add, self._magnitude(left), self._magnitude(right))
            case ir.Arith(op="*", left=left, right=right):
                return _at_most(EXACT.multiply, self._magnitude(left), self._magnitude(right))
            case ir.Arith(op="/", left=left, right=ir.Const(value=Decimal() as by)) if by:
                return _at_most(EXACT.divide, self._magnitude(left), abs(by))
            case ir.Neg(operand=operand):
                return self._magnitude(operand)
            case ir.Call(func="min" | "max" | "abs", args=args):
                return max(map(self._magnitude, args))
            case ir.If(then=then, otherwise=otherwise):
                return max(self._magnitude(then), self._magnitude(otherwise))
        return _UNKNOWN


def _at_most(operation: Callable[[Decimal, Decimal], Decimal], a: Decimal, b: Decimal
             ) -> Decimal:
    """A bound on |x op y| from bounds `a` on |x| and `b` on |y|: the operation, plus
    10^-10 for its rounding (unknown where either bound is)."""
    if _UNKNOWN in (a, b):
        return _UNKNOWN
    # Every value stays below 10^18 (else E611), so no bound need be more.
    return min(EXACT.add(operation(a, b), SCALE), MAGNITUDE_LIMIT)
