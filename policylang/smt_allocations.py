"""The exact parts of an allocation as z3 terms (before the fen), shared by the diff's
encoding (smt.py) and lint's (lint_encoding.py), which differ only in how they encode a
term (a cap, a let) and in the facts they add about the amount.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import assert_never

import z3

from policylang import ir


def real(value: Decimal | Fraction | int | str, ctx: z3.Context | None = None) -> z3.ArithRef:
    """An exact z3 real (in `ctx`, default z3's main context)."""
    fraction = Fraction(value)
    return z3.RealVal(f"{fraction.numerator}/{fraction.denominator}", ctx)


def allocation_parts(alloc: ir.Allocation, amount, term, ctx: z3.Context | None = None
                     ) -> dict[str, z3.ArithRef]:
    """Each party's exact part of `amount`; `term` encodes a waterfall's caps."""
    match alloc:
        case ir.Shares(parts=parts, ratio=ratio):
            total = Fraction(alloc.total_weight)
            return {p.party: amount * real(Fraction(p.weight) / total if ratio
                                           else Fraction(p.weight), ctx)
                    for p in parts}
        case ir.Waterfall():
            return _waterfall_parts(alloc, amount, term, ctx)
        case _:
            assert_never(alloc)


def _waterfall_parts(alloc: ir.Waterfall, amount, term, ctx: z3.Context | None
                     ) -> dict[str, z3.ArithRef]:
    out: dict[str, z3.ArithRef] = {party: real(0, ctx) for party in alloc.parties}
    remaining = amount
    for step in alloc.steps:
        match step:
            case ir.Take(party=party, cap=cap):
                cap_term = term(cap)
                cap_term = z3.If(cap_term > 0, cap_term, 0)
                taken = z3.If(remaining < cap_term, remaining, cap_term)
                out[party] = out[party] + taken
                remaining = remaining - taken
            case ir.Split(parts=split):
                before, given = remaining, real(0, ctx)
                for part in split:
                    share = before * real(Fraction(part.share), ctx)
                    if part.cap is not None:
                        cap_term = term(part.cap)
                        cap_term = z3.If(cap_term > 0, cap_term, 0)
                        share = z3.If(share < cap_term, share, cap_term)
                    out[part.party] = out[part.party] + share
                    given = given + share
                remaining = before - given
            case ir.Rest(party=party):
                out[party] = out[party] + remaining
                remaining = real(0, ctx)
            case _:
                assert_never(step)
    if ir.UNALLOCATED in out:
        out[ir.UNALLOCATED] = out[ir.UNALLOCATED] + remaining
    return out
