"""Hypothesis strategies for random cases drawn from a policy's input schema.

Besides random values of each type, every constant bound a limit compares an input with
contributes the bound itself and its neighbours one step either side (one fen, one
basis point, one month), so the differential tests probe every limit's edge.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from hypothesis import strategies as st

from policylang import ir
from policylang.interpret import evaluate_constant

_STEP = {ir.Kind.MONEY: Decimal("0.01"), ir.Kind.PERCENT: Decimal("0.0001"),
         ir.Kind.NUMBER: Decimal("0.01")}


def boundaries(policy: ir.Policy) -> dict[str, list[ir.Value]]:
    """Input name → values at and around the constant bounds limits compare it with."""
    found: dict[str, list[ir.Value]] = {}
    for check in policy.checks:
        if not isinstance(check, ir.Limit) or not isinstance(check.subject, ir.InputRef):
            continue
        try:
            bound = evaluate_constant(check.bound)
        except Exception:  # the bound depends on inputs, params or lets
            continue
        kind = check.subject.type.kind
        values = found.setdefault(check.subject.name, [])
        if kind in _STEP:
            values += [bound - _STEP[kind], bound, bound + _STEP[kind]]
        elif kind is ir.Kind.DURATION:
            values += [ir.Duration(max(bound.amount + d, 0), bound.unit) for d in (-1, 0, 1)]
    return found


def _decimal(places: int, low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n).scaleb(-places))


def value_strategy(field: ir.Field, policy: ir.Policy,
                   edges: list[ir.Value]) -> st.SearchStrategy[ir.Value]:
    kind = field.type.kind
    match kind:
        case ir.Kind.MONEY:
            base = st.one_of(_decimal(2, 0, 10**11), _decimal(2, 0, 10**6),
                             st.sampled_from([Decimal(0), Decimal("0.01"), Decimal("100000.01")]))
        case ir.Kind.PERCENT:
            base = st.one_of(_decimal(4, 0, 2000), _decimal(10, 0, 10**9))
        case ir.Kind.NUMBER:
            base = st.one_of(_decimal(2, -1000, 100_000), st.integers(0, 100).map(Decimal))
        case ir.Kind.DURATION:
            # Mostly months: a day duration is an evaluation error wherever it meets months.
            months = st.integers(0, 72).map(lambda m: ir.Duration(m, "month"))
            days = st.integers(0, 800).map(lambda d: ir.Duration(d, "day"))
            base = st.one_of(months, months, months, months, months, days)
        case ir.Kind.DATE:
            base = st.dates(datetime.date(2015, 1, 1), datetime.date(2030, 12, 31))
        case ir.Kind.BOOL:
            base = st.booleans()
        case ir.Kind.ENUM:
            base = st.sampled_from([m.name for m in policy.enum(field.type.enum).members])
        case _:
            raise AssertionError(kind)
    if edges:
        return st.one_of(st.sampled_from(edges), base)
    return base


def cases(policy: ir.Policy) -> st.SearchStrategy[dict[str, ir.Value]]:
    edges = boundaries(policy)
    return st.fixed_dictionaries({
        f.name: value_strategy(f, policy, edges.get(f.name, [])) for f in policy.inputs})


def default_params(policy: ir.Policy) -> dict[str, ir.Value]:
    return {p.name: p.default for p in policy.params}
