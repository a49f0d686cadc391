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


# ── cases that pass: a fair share of eligible decisions ─────────────────────────────────
#
# `cases` probes edges, so most of its cases fail some check (a policy of ten checks has
# few cases passing all ten) and many meet a day duration where months are compared (an
# evaluation error). `passing_cases` draws a third of its cases with every input on the
# passing side of each comparison a check makes with a constant (bounds worked out with
# the params; values crowd towards the bounds), booleans as the rules want them, enums from
# the members a rule names, and defaults elsewhere; a third with each input either so or
# as `cases` draws it; a third as `cases` draws them. Durations take the unit their checks
# compare them in (else their default's), the other unit one time in twenty.


def _weighted(*choices: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    options = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(options).flatmap(lambda strategy: strategy)


def _constant(expr: ir.Expr, params: dict[str, ir.Value]) -> ir.Value | None:
    from policylang.interpret import Evaluator

    try:
        return Evaluator(None, {}, params).expr(expr)
    except Exception:  # refers to an input or let, or fails: not a constant
        return None


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


def passing_values(policy: ir.Policy, params: dict[str, ir.Value]
                   ) -> dict[str, list[tuple[str, ir.Value]]]:
    """Input name → (op, constant) comparisons that make some check hold; a bool input
    carries ("==", True/False), an enum input ("==", member)."""
    wanted: dict[str, list[tuple[str, ir.Value]]] = {}

    def visit(expr: ir.Expr, holds: bool) -> None:
        match expr:
            case ir.Not(operand=operand):
                visit(operand, not holds)
            case ir.And(left=left, right=right) | ir.Or(left=left, right=right):
                visit(left, holds)
                visit(right, holds)
            case ir.InputRef(name=name) if expr.type.kind is ir.Kind.BOOL:
                wanted.setdefault(name, []).append(("==", holds))
            case ir.InSet(operand=ir.InputRef(name=name), items=items, negated=negated) \
                    if holds != negated:
                for item in items:
                    value = _constant(item, params)
                    if value is not None:
                        wanted.setdefault(name, []).append(("==", value))
            case ir.Compare(op=op, left=left, right=right):
                compare(op if holds else _NEGATE[op], left, right)

    def compare(op: str, left: ir.Expr, right: ir.Expr) -> None:
        if not isinstance(left, ir.InputRef):
            left, right, op = right, left, _FLIP[op]
        if isinstance(left, ir.InputRef):
            value = _constant(right, params)
            if value is not None:
                wanted.setdefault(left.name, []).append((op, value))

    for check in policy.checks:
        if isinstance(check, ir.Limit):
            compare(check.op, check.subject, check.bound)
        else:
            visit(check.cond, True)
    return wanted


def _unit(field: ir.Field, wanted: list[tuple[str, ir.Value]]) -> str:
    """The unit a duration input is compared in (its default's, else months)."""
    units = [value.unit for _, value in wanted if isinstance(value, ir.Duration)]
    if units:
        return max(set(units), key=units.count)
    return field.default.unit if isinstance(field.default, ir.Duration) else "month"


def _between(kind: ir.Kind, low: ir.Value | None, high: ir.Value | None, unit: str
             ) -> st.SearchStrategy[ir.Value]:
    """Values in [low, high] (either may be open), crowding towards both ends."""
    if kind is ir.Kind.DURATION:
        def amount(value: ir.Duration | None, fallback: int) -> int:
            return value.amount if value is not None and value.unit == unit else fallback

        top = 72 if unit == "month" else 800
        a, b = amount(low, 0), amount(high, max(top, amount(low, 0) + top))
        amounts = st.integers(a, b) if a <= b else st.just(max(a, 0))
        return amounts.map(lambda n: ir.Duration(n, unit))
    if kind is ir.Kind.DATE:
        first = low or datetime.date(2015, 1, 1)
        last = high or max(first, datetime.date(2030, 12, 31))
        return st.dates(first, last) if first <= last else st.just(first)
    places = {ir.Kind.MONEY: 2, ir.Kind.PERCENT: 4}.get(kind, 2)
    scale = Decimal(1).scaleb(-places)
    a = low if low is not None else (Decimal(0) if high is None or high > 0 else high - 1000)
    b = high if high is not None else max(a * 2, a + 10**6 * scale * 100)
    if a > b:
        return st.just(a)
    steps = int((b - a) / scale)
    near = min(steps, 100)
    return _weighted((2, st.integers(0, steps)), (1, st.integers(0, near)),
                     (1, st.integers(steps - near, steps))).map(lambda n: a + n * scale)


def _passing(field: ir.Field, policy: ir.Policy, wanted: list[tuple[str, ir.Value]]
             ) -> st.SearchStrategy[ir.Value] | None:
    kind = field.type.kind
    equal = [value for op, value in wanted if op == "=="]
    if kind is ir.Kind.ENUM and not equal:
        unwanted = {value for op, value in wanted if op == "!="}
        equal = [m.name for m in policy.enum(field.type.enum).members
                 if unwanted and m.name not in unwanted]
    if kind in (ir.Kind.BOOL, ir.Kind.ENUM):
        return st.sampled_from(equal) if equal else None
    if equal:
        return st.sampled_from(equal)
    lows = [(value, op == ">") for op, value in wanted if op in (">", ">=")]
    highs = [(value, op == "<") for op, value in wanted if op in ("<", "<=")]
    unit = _unit(field, wanted) if kind is ir.Kind.DURATION else ""
    if kind is ir.Kind.DURATION:
        lows = [(v, s) for v, s in lows if v.unit == unit]
        highs = [(v, s) for v, s in highs if v.unit == unit]
    if not lows and not highs:
        return None
    step = _STEP.get(kind)

    def nudge(value: ir.Value, strict: bool, sign: int) -> ir.Value:
        if not strict:
            return value
        if kind is ir.Kind.DURATION:
            return ir.Duration(value.amount + sign, value.unit)
        if kind is ir.Kind.DATE:
            return value + datetime.timedelta(days=sign)
        return value + sign * step

    low = max((nudge(v, s, 1) for v, s in lows), default=None,
              key=lambda v: v.amount if isinstance(v, ir.Duration) else v)
    high = min((nudge(v, s, -1) for v, s in highs), default=None,
               key=lambda v: v.amount if isinstance(v, ir.Duration) else v)
    return _between(kind, low, high, unit)


def _mostly(field: ir.Field, policy: ir.Policy, unit: str) -> st.SearchStrategy[ir.Value]:
    """`value_strategy` without edges, a duration in `unit` 19 times in 20."""
    if field.type.kind is not ir.Kind.DURATION:
        return value_strategy(field, policy, [])
    other = "day" if unit == "month" else "month"
    return _weighted((19, _between(ir.Kind.DURATION, None, None, unit)),
                     (1, _between(ir.Kind.DURATION, None, None, other)))


def passing_cases(policy: ir.Policy, params: dict[str, ir.Value]
                  ) -> st.SearchStrategy[dict[str, ir.Value]]:
    """Cases of which a fair share is eligible (see the comment above)."""
    wanted = passing_values(policy, params)
    edges = boundaries(policy)
    passing: dict[str, st.SearchStrategy] = {}
    mixed: dict[str, st.SearchStrategy] = {}
    probing: dict[str, st.SearchStrategy] = {}
    for f in policy.inputs:
        unit = _unit(f, wanted.get(f.name, [])) if f.type.kind is ir.Kind.DURATION else ""
        other = _mostly(f, policy, unit)
        if edges.get(f.name):
            other = st.one_of(st.sampled_from(edges[f.name]), other)
        good = _passing(f, policy, wanted.get(f.name, []))
        if good is None and f.default is not None:
            good = st.just(f.default)
        passing[f.name] = good if good is not None else other
        mixed[f.name] = st.one_of(good, other) if good is not None else other
        probing[f.name] = other
    return _weighted((1, st.fixed_dictionaries(passing)), (1, st.fixed_dictionaries(mixed)),
                     (1, st.fixed_dictionaries(probing)))
