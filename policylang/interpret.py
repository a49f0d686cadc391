"""The interpreter: the reference semantics of a checked policy for one case.

Readable before fast. Lets and allocations are evaluated on demand and memoised;
`and`, `or`, `if` and guards evaluate only what they need. All arithmetic goes through
`values`, so every backend can be checked against this module. A run-time fault raises
`EvaluationError` (a PolicyError, E610/E611) pointing at the expression that failed.
"""

from __future__ import annotations

import datetime
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
        return {
            "policy": policy.name,
            "version": policy.meta.version,
            "eligible": self.eligible,
            "failures": self.failures,
            "values": {let.name: v.report(ev.let(let.name), let.type) for let in policy.lets},
            "allocations": {
                alloc.name: {party: v.report(amount, ir.MONEY)
                             for party, amount in ev.allocation(alloc.name).items()}
                for alloc in policy.allocations
                if not (isinstance(alloc, ir.Shares) and alloc.amount is None)
            },
        }


class Evaluator:
    def __init__(self, policy: ir.Policy | None, case: dict[str, ir.Value],
                 params: dict[str, ir.Value]):
        self.policy = policy
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
            self.lets[name] = self.expr(self.policy.let(name).expr)
        return self.lets[name]

    def allocation(self, name: str) -> dict[str, Decimal]:
        if name not in self.allocations:
            alloc = self.policy.allocation(name)
            try:
                match alloc:
                    case ir.Shares():
                        self.allocations[name] = self._shares(alloc)
                    case ir.Waterfall():
                        self.allocations[name] = self._waterfall(alloc)
                    case _:
                        assert_never(alloc)
            except EvalError as error:  # a part out of range: at the allocation
                raise EvaluationError.single(error.code, error.message, alloc.span) from None
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
                if self._guarded(check.subject, v.compare, check.op, subject, bound):
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
        parts = {party: Decimal(0) for party in waterfall.parties}
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
    def _guarded(self, expr: ir.Expr, fn, *args):
        try:
            return fn(*args)
        except EvalError as error:
            raise EvaluationError.single(error.code, error.message, expr.span) from None

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
