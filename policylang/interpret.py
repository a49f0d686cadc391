"""The interpreter: the reference semantics of a checked policy for one case.

Readable before fast. Lets and allocations are evaluated on demand and memoised;
`and`, `or`, `if` and guards evaluate only what they need. All arithmetic goes through
`values`, so every backend can be checked against this module. A run-time fault raises
`EvaluationError` (a PolicyError, E610/E611) pointing at the expression that failed.
What depends only on the policy (declarations by name, a waterfall's parties, how each
reported value is written) is worked out once per policy (`_Layout`), not on every case.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import assert_never

from policylang import ir
from policylang import values as v
from policylang.diagnostics import PolicyError
from policylang.values import EvalError, in_exact_context


class EvaluationError(PolicyError):
    """A run-time fault while evaluating a case."""


@in_exact_context
def evaluate_constant(expr: ir.Expr) -> ir.Value:
    """The value of an expression that refers to no input, param, let or part."""
    return Evaluator(None, {}, {}).expr(expr)


@in_exact_context
def evaluate(policy: ir.Policy, case: dict[str, ir.Value],
             params: dict[str, ir.Value]) -> dict:
    """The decision JSON of DESIGN.md §4 for one case.

    `case` and `params` hold checked values for every input and param (see `cases`).
    """
    return Decision.of(policy, case, params).to_json()


class Decision:
    """The outcome of one case, kept as values so tests and explain can inspect it."""

    def __init__(self, policy: ir.Policy, evaluator: Evaluator,
                 outcomes: dict[str, bool], failures: list[dict]):
        self.policy = policy
        self.evaluator = evaluator
        self.outcomes = outcomes  # check name → holds
        self.failures = failures

    @classmethod
    def of(cls, policy: ir.Policy, case: dict[str, ir.Value],
           params: dict[str, ir.Value]) -> Decision:
        evaluator = Evaluator(policy, case, params)
        outcomes: dict[str, bool] = {}
        failures: list[dict] = []
        for check in policy.checks:
            holds, failure = evaluator.check(check)
            outcomes[check.name] = holds
            if failure is not None:
                failures.append(failure)
        for kind, name in policy.order:
            evaluator.let(name) if kind == "let" else evaluator.allocation(name)
        return cls(policy, evaluator, outcomes, failures)

    @property
    def eligible(self) -> bool:
        return not self.failures

    def value_of(self, expr: ir.Expr) -> ir.Value:
        return self.evaluator.expr(expr)

    def to_json(self) -> dict:
        ev, policy = self.evaluator, self.policy
        let, allocation = ev.let, ev.allocation
        return {
            "policy": policy.name,
            "version": policy.meta.version,
            "eligible": self.eligible,
            "failures": self.failures,
            "values": {name: write(let(name)) for name, write in ev.layout.reported_lets},
            "allocations": {
                name: {party: _part_text(amount) for party, amount in allocation(name).items()}
                for name in ev.layout.reported_allocations
            },
        }


class _Layout:
    """The policy's declarations by name, its waterfalls' parties, and the function
    writing each reported let (`values.report` for its type, chosen once)."""

    def __init__(self, policy: ir.Policy):
        self.lets = {let.name: let for let in policy.lets}
        self.allocations = {alloc.name: alloc for alloc in policy.allocations}
        self.parties = {alloc.name: alloc.parties for alloc in policy.allocations}
        self.reported_lets = [(let.name, _writer(let.type)) for let in policy.lets]
        self.reported_allocations = [
            alloc.name for alloc in policy.allocations
            if not (isinstance(alloc, ir.Shares) and alloc.amount is None)]


def _part_text(part: Decimal) -> str:
    """`values.format_money` of an allocated part, which `allocate_fen` gives with exactly
    two places: `str` writes it so, and only a zero needs care (no negative zero)."""
    return str(part) if part else "0.00"


def _writer(type_: ir.Type) -> Callable[[ir.Value], str | bool]:
    """`values.report` for one type, as a function of the value alone."""
    match type_.kind:
        case ir.Kind.MONEY:
            return v.format_money
        case ir.Kind.PERCENT | ir.Kind.NUMBER:
            return v.format_decimal
        case ir.Kind.DURATION:
            return v.format_duration
    return lambda value: v.report(value, type_)


_layouts: dict[int, tuple[ir.Policy, _Layout]] = {}


def _layout(policy: ir.Policy) -> _Layout:
    """The policy's layout, made on its first case (keyed by identity: a policy is
    immutable, and the entry keeps it alive, so its id is not reused)."""
    found = _layouts.get(id(policy))
    if found is None or found[0] is not policy:
        if len(_layouts) >= 64:  # a process loads few policies; never grow without bound
            _layouts.clear()
        found = _layouts[id(policy)] = (policy, _Layout(policy))
    return found[1]


class Evaluator:
    def __init__(self, policy: ir.Policy | None, case: dict[str, ir.Value],
                 params: dict[str, ir.Value]):
        self.policy = policy
        self.layout = _layout(policy) if policy is not None else None
        self.case = case
        self.params = params
        self.lets: dict[str, ir.Value] = {}
        self.allocations: dict[str, dict[str, Decimal]] = {}
        # waterfall → each step with the amount remaining before it and what each party
        # took, exact (before rounding): what `explain` shows.
        self.steps: dict[str, list[tuple[ir.Step, Decimal, dict[str, Decimal]]]] = {}

    # ── declarations ──
    def let(self, name: str) -> ir.Value:
        if name not in self.lets:
            let = self.layout.lets[name]
            value = self.expr(let.expr)
            if let.type.kind is ir.Kind.MONEY and not (  # a DECIMAL(18,2) column in SQL
                    v.NEG_MONEY_EDGE < value < v.MONEY_EDGE):
                _money_in_range(value, f"let {name}", let.expr.span)
            self.lets[name] = value
        return self.lets[name]

    def allocation(self, name: str) -> dict[str, Decimal]:
        if name not in self.allocations:
            alloc = self.layout.allocations[name]
            try:
                match alloc:
                    case ir.Shares():
                        parts = self._shares(alloc)
                    case ir.Waterfall():
                        parts = self._waterfall(alloc)
                    case _:
                        assert_never(alloc)
                if not (isinstance(alloc, ir.Shares) and alloc.amount is None):
                    for party, part in parts.items():  # each a DECIMAL(18,2) column in SQL
                        if not v.NEG_MONEY_EDGE < part < v.MONEY_EDGE:
                            v.money_in_range(part, f"part {party} of {name}")
            except EvalError as error:  # a part out of range: at the allocation
                raise EvaluationError.single(error.code, error.message, alloc.span) from None
            self.allocations[name] = parts
        return self.allocations[name]

    def check(self, check: ir.Check) -> tuple[bool, dict | None]:
        if check.guard is not None and not self.expr(check.guard):
            return True, None
        match check:
            case ir.Rule():
                if self.expr(check.cond):
                    return True, None
                return False, {"rule": check.name, "kind": "rule", "cite": check.cite,
                               "message": check.says or ""}
            case ir.Limit():
                subject, bound = self.expr(check.subject), self.expr(check.bound)
                if check.subject.type.kind is ir.Kind.MONEY and not (  # DECIMAL(18,2) in SQL
                        v.NEG_MONEY_EDGE < subject < v.MONEY_EDGE
                        and v.NEG_MONEY_EDGE < bound < v.MONEY_EDGE):
                    # The messages are written only for a value out of range.
                    _money_in_range(subject, f"limit {check.name}'s value", check.subject.span)
                    _money_in_range(bound, f"limit {check.name}'s bound", check.bound.span)
                try:
                    holds = v.compare(check.op, subject, bound)
                except EvalError as error:  # days against months: located at the subject
                    raise EvaluationError.single(error.code, error.message,
                                                 check.subject.span) from None
                if holds:
                    return True, None
                return False, {"rule": check.name, "kind": "limit", "cite": check.cite,
                               "message": check.says or "",
                               "value": v.report(subject, check.subject.type),
                               "bound": v.report(bound, check.bound.type)}
            case _:
                assert_never(check)

    # ── allocations ──
    def _allocated_amount(self, expr: ir.Expr) -> Decimal:
        amount = v.to_fen(self.expr(expr))
        if amount < 0:
            raise EvaluationError.single("E611", f"the allocated amount is negative "
                                         f"({amount:f}元)", expr.span)
        return amount

    def _shares(self, shares: ir.Shares) -> dict[str, Decimal]:
        if shares.amount is None:
            total = shares.total_weight
            return {p.party: (v.div(p.weight, total) if shares.ratio else p.weight)
                    for p in shares.parts}
        amount = self._allocated_amount(shares.amount)
        total = shares.total_weight
        exact = [v.div(v.mul(amount, p.weight), total) if shares.ratio else v.mul(amount, p.weight)
                 for p in shares.parts]
        return dict(zip(shares.parties, allocate_fen(amount, exact), strict=True))

    def _waterfall(self, waterfall: ir.Waterfall) -> dict[str, Decimal]:
        amount = self._allocated_amount(waterfall.amount)
        parts = dict.fromkeys(self.layout.parties[waterfall.name], Decimal(0))
        remaining = amount
        trace = self.steps[waterfall.name] = []
        for step in waterfall.steps:
            taken: dict[str, Decimal] = {}
            before = remaining
            match step:
                case ir.Take(party=party, cap=cap):
                    taken[party] = min(remaining, max(self.expr(cap), Decimal(0)))
                    remaining = v.sub(remaining, taken[party])
                case ir.Split(parts=split):
                    given = Decimal(0)
                    for part in split:
                        share = v.mul(before, part.share)
                        if part.cap is not None:
                            share = min(share, max(self.expr(part.cap), Decimal(0)))
                        taken[part.party] = share
                        given = v.add(given, share)
                    remaining = v.sub(before, given)
                case ir.Rest(party=party):
                    taken[party] = remaining
                    remaining = Decimal(0)
                case _:
                    assert_never(step)
            for party, share in taken.items():
                parts[party] = v.add(parts[party], share)
            trace.append((step, before, taken))
        if ir.UNALLOCATED in parts:
            parts[ir.UNALLOCATED] = v.add(parts[ir.UNALLOCATED], remaining)
        return dict(zip(parts, allocate_fen(amount, list(parts.values())), strict=True))

    # ── expressions ──
    def expr(self, e: ir.Expr) -> ir.Value:
        # Cases in order of how often policies reach them (a match tries them in turn).
        # A fault of this node's own operation is an EvalError, given the node's span here;
        # its operands' faults arrive already located (EvaluationError).
        try:
            match e:
                case ir.InputRef(name=name):
                    return self.case[name]
                case ir.Const(value=value):
                    return value
                case ir.Compare(op=op, left=left, right=right):
                    return v.compare(op, self.expr(left), self.expr(right))
                case ir.Arith(op=op, left=left, right=right):
                    return _arith(op, self.expr(left), self.expr(right))
                case ir.LetRef(name=name):
                    found = self.lets.get(name)
                    return found if found is not None else self.let(name)
                case ir.ParamRef(name=name):
                    return self.params[name]
                case ir.Call(func=func, args=args):
                    return _call(func, [self.expr(a) for a in args])
                case ir.If(cond=cond, then=then, otherwise=otherwise):
                    return self.expr(then) if self.expr(cond) else self.expr(otherwise)
                case ir.And(left=left, right=right):
                    return bool(self.expr(left)) and bool(self.expr(right))
                case ir.Or(left=left, right=right):
                    return bool(self.expr(left)) or bool(self.expr(right))
                case ir.Not(operand=operand):
                    return not self.expr(operand)
                case ir.InSet(operand=operand, items=items, negated=negated):
                    value = self.expr(operand)
                    for item in items:
                        if v.compare("==", value, self.expr(item)):
                            return not negated
                    return negated
                case ir.PartRef(allocation=allocation, party=party):
                    return self.allocation(allocation)[party]
                case ir.Neg(operand=operand):
                    value = self.expr(operand)
                    return ir.Duration(-value.amount, value.unit) if isinstance(
                        value, ir.Duration) else value.copy_negate()
                case _:
                    assert_never(e)
        except EvalError as error:
            raise EvaluationError.single(error.code, error.message, e.span) from None


def _money_in_range(value: Decimal, what: str, span: ir.Span) -> None:
    """`values.money_in_range`, its fault located at `span`."""
    try:
        v.money_in_range(value, what)
    except EvalError as error:
        raise EvaluationError.single(error.code, error.message, span) from None


def _arith(op: str, a: ir.Value, b: ir.Value) -> ir.Value:
    if isinstance(a, ir.Duration | datetime.date) or isinstance(b, ir.Duration | datetime.date):
        return _temporal_arith(op, a, b)
    match op:
        case "+":
            return v.add(a, b)
        case "-":
            return v.sub(a, b)
        case "*":
            return v.mul(a, b)
        case "/":
            return v.div(a, b)
    raise AssertionError(op)


def _temporal_arith(op: str, a: ir.Value, b: ir.Value) -> ir.Value:
    if isinstance(a, datetime.date) and isinstance(b, datetime.date):
        return v.date_diff(a, b)
    if isinstance(a, datetime.date):
        return v.date_add(a, b, 1 if op == "+" else -1)
    if isinstance(b, datetime.date):
        return v.date_add(b, a)
    if isinstance(a, ir.Duration) and isinstance(b, ir.Duration):
        return v.duration_add(a, b, 1 if op == "+" else -1)
    if isinstance(a, ir.Duration):
        return v.duration_scale(a, b)
    return v.duration_scale(b, a)


def _call(func: str, args: list[ir.Value]) -> ir.Value:
    match func:
        case "min" | "max":
            best = args[0]
            for arg in args[1:]:
                if v.compare("<" if func == "min" else ">", arg, best):
                    best = arg
            return best
        case "round":
            return v.round_to_step(args[0], args[1])
        case "abs":
            return args[0].copy_abs()
        case "years":
            return v.duration_in(args[0], "year")
        case "months":
            return v.duration_in(args[0], "month")
        case "days":
            return v.duration_in(args[0], "day")
        case "year":
            return Decimal(args[0].year)
        case "month":
            return Decimal(args[0].month)
    raise AssertionError(func)


def allocate_fen(total: Decimal, exact: list[Decimal]) -> list[Decimal]:
    """Round parts to the fen so they sum to `total` exactly (largest remainder, ties first)."""
    truncated = [v.truncate_fen(x) for x in exact]
    missing = int(v.sub(total, sum(truncated, Decimal(0))).scaleb(2))
    if missing == 0 or not exact:
        return truncated
    remainders = [x - t for x, t in zip(exact, truncated, strict=True)]
    if missing > 0:
        order = sorted(range(len(exact)), key=lambda i: (-remainders[i], i))
        step = v.FEN
    else:
        order = sorted(range(len(exact)), key=lambda i: (remainders[i], i))
        step, missing = -v.FEN, -missing
    for k in range(missing):
        index = order[k % len(order)]
        truncated[index] = v.add(truncated[index], step)
    return truncated
