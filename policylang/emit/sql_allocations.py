"""Allocations in SQL: an allocation's amount, its shares or waterfall steps as exact
parts, and the largest-remainder rounding of the parts to the fen, ties to the part listed
first, as the interpreter (a mixin of `sql.QueryBuilder`; sql_narrow overrides the types).
"""

from __future__ import annotations

from decimal import Decimal
from typing import assert_never

from sqlglot import exp

from policylang import ir
from policylang.emit.sql_tree import (
    MONEY_OUT,
    NUMERIC,
    PREFIX,
    case,
    constant_of,
    exact_column,
    fail,
    fn,
    narrow,
    number,
    paren,
    part_column,
    plus,
)


class AllocationColumns:
    """Adds each allocation's columns to a QueryBuilder's layers."""

    def _allocation(self, alloc: ir.Allocation) -> None:
        if isinstance(alloc, ir.Shares) and alloc.amount is None:
            return  # its parts are percents, folded into expressions as constants
        amount_expr = self.expr(alloc.amount)
        if constant_of(amount_expr) is None and not isinstance(amount_expr, exp.Column):
            # Computed once, read twice (by the sign test and by the rounding).
            amount_expr = self.add(f"{PREFIX}{alloc.name}__given", amount_expr)
        rounded = exp.cast(fn("ROUND", amount_expr, exp.Literal.number(2)), NUMERIC)
        # Rounded half away from zero, the amount is negative exactly when it is ≤ -0.005.
        amount = self.add(f"{PREFIX}{alloc.name}__amount", case(
            (exp.LTE(this=amount_expr, expression=number(Decimal("-0.005"))),
             fail("E611", f"the allocated amount of {alloc.name} is negative")),
            otherwise=rounded))
        match alloc:
            case ir.Shares():
                exact = self._shares_parts(alloc, amount)
            case ir.Waterfall():
                exact = self._waterfall_parts(alloc, amount)
            case _:
                assert_never(alloc)
        self._round_parts(alloc.name, amount, exact)

    def _shares_parts(self, shares: ir.Shares, amount: exp.Column) -> dict[str, exp.Column]:
        total = shares.total_weight
        parts: dict[str, exp.Column] = {}
        for part in shares.parts:
            value = self._mul(amount, number(part.weight))
            if shares.ratio:
                value = self._div(value, number(total))
            parts[part.party] = self.add(exact_column(shares.name, part.party), value)
        return parts

    def _waterfall_parts(self, waterfall: ir.Waterfall,
                         amount: exp.Column) -> dict[str, exp.Column]:
        totals: dict[str, exp.Expression | None] = dict.fromkeys(waterfall.parties)
        remaining: exp.Expression = amount
        for index, step in enumerate(waterfall.steps):
            stage = f"{PREFIX}{waterfall.name}__s{index}"
            match step:
                case ir.Take(party=party, cap=cap):
                    taken = self.add(f"{stage}_take", fn(
                        "LEAST", remaining, fn("GREATEST", self.expr(cap), number(0))))
                    totals[party] = plus(totals[party], taken)
                    remaining = self.add(f"{stage}_rest", exp.Sub(this=remaining,
                                                                  expression=taken))
                case ir.Split(parts=split):
                    given: list[exp.Expression] = []
                    for k, part in enumerate(split):
                        share = self._mul(remaining, number(part.share))
                        if part.cap is not None:
                            share = fn("LEAST", share,
                                       fn("GREATEST", self.expr(part.cap), number(0)))
                        taken = self.add(f"{stage}_{k}", share)
                        totals[part.party] = plus(totals[part.party], taken)
                        given.append(taken)
                    spent = given[0]
                    for g in given[1:]:
                        spent = exp.Add(this=spent, expression=g)
                    remaining = self.add(f"{stage}_rest", exp.Sub(this=remaining,
                                                                  expression=paren(spent)))
                case ir.Rest(party=party):
                    totals[party] = plus(totals[party], remaining)
                    remaining = number(0)
                case _:
                    assert_never(step)
        if ir.UNALLOCATED in totals:
            totals[ir.UNALLOCATED] = plus(totals[ir.UNALLOCATED], remaining)
        parts = {party: self.add(exact_column(waterfall.name, party),
                                 exp.cast(total if total is not None else number(0), NUMERIC))
                 for party, total in totals.items()}
        return parts

    def _fen_type(self, exact: exp.Column) -> exp.DataType:
        """The type of an exact part truncated to whole fen: DECIMAL(18,2), the output's
        own, so the reported part needs no rescaling cast."""
        return MONEY_OUT

    def _round_parts(self, name: str, amount: exp.Column, exact: dict[str, exp.Column],
                     settled: frozenset[str] = frozenset()) -> None:
        """Largest remainder to the fen, ties to the part listed first (as the interpreter).
        `settled`: parts known to be whole fen that can never be given a missing fen (see
        sql_narrow): each is its exact value and is left out of the ranking."""
        parties = [p for p in exact if p not in settled]
        trunc = {p: self.add(f"{PREFIX}{name}__t_{i}", exp.cast(
            fn("TRUNC", exact[p], exp.Literal.number(2)), self._fen_type(exact[p])))
            for i, p in enumerate(exact) if p not in settled}
        remainder = {p: self.add(f"{PREFIX}{name}__r_{i}", exp.Sub(
            this=exact[p], expression=trunc[p])) for i, p in enumerate(exact) if p not in settled}
        whole = [trunc.get(p, exact[p]) for p in exact]
        total = whole[0]
        for part in whole[1:]:
            total = exp.Add(this=total, expression=part)
        # Fewer fen are missing than there are parts: a small integer.
        missing = self.add(f"{PREFIX}{name}__missing", exp.cast(exp.Mul(
            this=paren(exp.Sub(this=amount, expression=paren(total))),
            expression=exp.Literal.number(100)), exp.DataType.build("INT")))
        for p in exact:
            if p in settled:
                self.add(part_column(name, p), exact[p])
                continue
            i = parties.index(p)
            ahead = [exp.cast(
                exp.GT(this=remainder[q], expression=remainder[p]) if j > i else
                exp.GTE(this=remainder[q], expression=remainder[p]), exp.DataType.build("INT"))
                for j, q in enumerate(parties) if j != i]
            rank: exp.Expression = ahead[0] if ahead else exp.Literal.number(0)
            for a in ahead[1:]:
                rank = exp.Add(this=rank, expression=a)
            bump = case((exp.LT(this=paren(rank), expression=missing), narrow(Decimal("0.01"))),
                        otherwise=narrow(Decimal("0.00")))
            self.add(part_column(name, p), exp.Add(this=trunc[p], expression=bump))
