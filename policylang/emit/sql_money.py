"""The SQL query's money range where no column holds it: a limit's sides in a book scored
without them (`run --book --no-limit-values`).

A money let, each part of an allocation with an amount, and a money limit's value and
bound where the limit applies must stay below 10^16 yuan at the fen (E611 on every
backend, docs/semantics.md). The query refuses them by their DECIMAL(18,2) output
columns: the cast fails, and `engine.translate_error` says MONEY_OUT_OF_RANGE. A query
without a limit's value and bound columns has no cast to fail, so its check refuses the
case itself, with the same message, for each side a bound on its magnitude does not keep
below (a mixin of `sql.QueryBuilder`: from the policy alone; sql_narrow adds the bounds
measured on the book, where most limit sides need no test at all).
"""

from __future__ import annotations

from decimal import Decimal

from sqlglot import exp

from policylang import ir
from policylang.emit.money_bounds import magnitude_bound
from policylang.emit.sql_tree import case, col, fail, fn, limit_column, narrow
from policylang.values import MONEY_EDGE, MONEY_LIMIT

MONEY_OUT_OF_RANGE = (f"value out of range (a money let, part, or limit's value or bound "
                      f"must stay below {MONEY_LIMIT:,f}元)")


class MoneyChecks:
    """Which sides of a money limit a query without their columns tests, and the test."""

    params: dict[str, ir.Value]
    limit_values: bool

    def unsafe_sides(self, limit: ir.Limit) -> list[str]:
        """The sides ("value", "bound") of a money limit that may reach 10^16 yuan at the
        fen, where no DECIMAL(18,2) column of theirs (`limit_values` off) refuses them."""
        return [] if self.limit_values else self.sides_near_the_edge(limit)

    def sides_near_the_edge(self, limit: ir.Limit) -> list[str]:
        """The sides of a money limit not known to stay below 10^16 yuan at the fen."""
        if limit.subject.type.kind is not ir.Kind.MONEY:
            return []
        return [side for side, operand in (("value", limit.subject), ("bound", limit.bound))
                if not self.below_money_limit(operand)]

    def below_money_limit(self, e: ir.Expr) -> bool:
        """Whether money `e` is known to stay below 10^16 yuan at the fen."""
        found = money_bound(e, self.params)
        return found is not None and found < MONEY_EDGE

    def money_checked(self, limit: ir.Limit, holds: exp.Expression) -> exp.Expression:
        """`holds`, the limit's test, refusing the case where a side of `unsafe_sides`
        reaches 10^16 yuan at the fen. Those limits keep their sides as columns (not
        reported), so that, as with the casts, both sides' own errors come first."""
        reached = [exp.GTE(this=fn("ABS", col(limit_column(limit.name, side))),
                           expression=narrow(MONEY_EDGE)) for side in self.unsafe_sides(limit)]
        if not reached:
            return holds
        return case((exp.or_(*reached), fail("E611", MONEY_OUT_OF_RANGE)), otherwise=holds)


def money_bound(e: ir.Expr, params: dict[str, ir.Value]) -> Decimal | None:
    """money_bounds.magnitude_bound with the query's params, fixed when it is built."""
    def param_bound(name: str) -> Decimal | None:
        value = params.get(name)
        return abs(value) if isinstance(value, Decimal) else None

    return magnitude_bound(e, param_bound)
