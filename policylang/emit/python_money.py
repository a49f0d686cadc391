"""The Python backend's money range: which money values a module tests to stay below
10^16 yuan.

A money let, each part of an allocation with an amount, and a money limit's value and
bound where the limit applies are SQL's DECIMAL(18,2) columns (DESIGN.md §5), so every
backend refuses one of 10^16 yuan or more at the fen (E611, docs/semantics.md). A mixin
of the module emitter (python.py): the module tests such a value (`_money_in_range`, and
`_parts_in_range` for an allocation's parts) unless money_bounds keeps it below.
"""

from __future__ import annotations

from decimal import Decimal

from policylang import ir
from policylang.emit.money_bounds import below_money_limit
from policylang.emit.python_text import text as _text
from policylang.values import INPUT_LIMIT


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
        """Whether money `node` stays below 10^16 yuan at the fen whatever the case: a
        param given at the call is an input (below 10^15), or its default."""
        defaults = {p.name: p.default for p in self.policy.params}

        def param_bound(name: str) -> Decimal:
            default = defaults[name]
            return INPUT_LIMIT if default is None else max(INPUT_LIMIT, abs(default))

        return below_money_limit(node, param_bound)
