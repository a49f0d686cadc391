"""Why a decision came out as it did: the decision of one case as a tree.

Eligibility ← each rule and limit (holds, fails, or does not apply because its guard is
false) ← the values it used; each let ← its operands; each allocation ← its parts or its
waterfall steps with the amount before and after and the caps they read. Every node
carries its citation and source line. Built from the interpreter's own evaluation (the
same values the decision reports), so an explanation never disagrees with the decision it
explains; what an `and`, `or` or `if` was decided without is shown `not evaluated`, with
no value. Money is shown to the fen as the decision reports it (in 元, or 万/亿 where
exact), with the exact amount beside it where the fen hides part of it.

A case that cannot be evaluated (a division by zero, a date out of the calendar) still
has a tree (`explain_failure`): every value that could be computed, and the declarations
that could not with status "error" and the fault as their detail.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal
from typing import assert_never

from policylang import ir
from policylang import values as v
from policylang.deps import allocation_exprs
from policylang.interpret import Decision, EvaluationError, Evaluator
from policylang.values import in_exact_context


@dataclass
class Node:
    kind: str  # eligibility, rule, limit, guard, let, input, param, shares, waterfall, step…
    name: str
    value: object = None  # the reported value, where the node has one
    status: str | None = None  # holds / fails / not applicable
    cite: str | None = None
    line: int | None = None
    detail: str | None = None
    children: list[Node] = field(default_factory=list)
    text: str | None = None  # the value as a .pol literal (`5%`, `300万元`), for people

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) and self.text is None:
            self.text = "true" if self.value else "false"  # as the text view writes it

    def to_json(self) -> dict:
        out = {"kind": self.kind, "name": self.name}
        for key in ("value", "status", "cite", "line", "detail"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.children:
            out["children"] = [child.to_json() for child in self.children]
        return out


@in_exact_context
def explain(policy: ir.Policy, case: dict[str, ir.Value], params: dict[str, ir.Value]) -> Node:
    """The decision's tree; raises the case's EvaluationError when it has no decision."""
    decision = Decision.of(policy, case, params)
    evaluator = _Tracing(policy, case, params)
    # The decision's values, not a second computation of them.
    evaluator.lets, evaluator.allocations, evaluator.steps = (
        decision.evaluator.lets, decision.evaluator.allocations, decision.evaluator.steps)
    explainer = _Explainer(policy, evaluator, decision.outcomes)
    return explainer.root(_verdict(decision))


@in_exact_context
def explain_failure(policy: ir.Policy, case: dict[str, ir.Value],
                    params: dict[str, ir.Value], error: EvaluationError) -> Node:
    """The tree of a case `explain` raised `error` for: what could be computed, and where
    it stopped."""
    fault = error.diagnostics[0]
    where = f" (line {fault.span.line})" if fault.span is not None else ""
    root = Node("eligibility", policy.name, status="error",
                detail=f"no decision: {fault.message}{where}")
    return _Explainer(policy, _Tracing(policy, case, params), None).root(root)


def _verdict(decision: Decision) -> Node:
    eligible = decision.eligible
    return Node("eligibility", decision.policy.name, eligible,
                detail="every applicable rule and limit holds" if eligible else
                f"{len(decision.failures)} failed: "
                + ", ".join(f["rule"] for f in decision.failures))


_REFERENCE = (ir.InputRef, ir.ParamRef, ir.LetRef, ir.PartRef)
_REFERENCE_KIND = {ir.InputRef: "input", ir.ParamRef: "param", ir.LetRef: "let",
                   ir.PartRef: "part"}


def _key(ref: ir.Expr) -> tuple[str, str]:
    match ref:
        case ir.PartRef(allocation=allocation, party=party):
            return "PartRef", f"{allocation}.{party}"
    return type(ref).__name__, ref.name


class _Tracing(Evaluator):
    """The interpreter, noting which references evaluating an expression reads: `and`,
    `or`, `if` and `in` read only what they need, and an explanation must not show what
    was never read as if it had been used. What the lets and allocations it reads read
    themselves is theirs, explained under them."""

    def __init__(self, policy: ir.Policy, case: dict[str, ir.Value],
                 params: dict[str, ir.Value]):
        super().__init__(policy, case, params)
        self.read: set[tuple[str, str]] | None = None

    def expr(self, e: ir.Expr) -> ir.Value:
        if self.read is not None and isinstance(e, _REFERENCE):
            self.read.add(_key(e))
        return super().expr(e)

    def let(self, name: str) -> ir.Value:
        read, self.read = self.read, None
        try:
            return super().let(name)
        finally:
            self.read = read

    def allocation(self, name: str) -> dict[str, Decimal]:
        read, self.read = self.read, None
        try:
            return super().allocation(name)
        finally:
            self.read = read

    def reads(self, expr: ir.Expr) -> tuple[set[tuple[str, str]], bool]:
        """The references evaluating `expr` reads, and whether it faults (what follows a
        fault is not read)."""
        outer, self.read = self.read, set()
        try:
            self.expr(expr)
            faulted = False
        except EvaluationError:
            faulted = True
        finally:
            read, self.read = self.read, outer
        return read, faulted


class _Explainer:
    def __init__(self, policy: ir.Policy, evaluator: _Tracing,
                 outcomes: dict[str, bool] | None):
        self.policy = policy
        self.evaluator = evaluator
        self.outcomes = outcomes  # None: the case has no decision; ask each check itself
        self.shown: set[tuple[str, str]] = set()  # lets and allocations expanded once

    def root(self, root: Node) -> Node:
        root.children = [self._check(check) for check in self.policy.checks]
        root.children += [self._let(let.name) for let in self.policy.lets
                          if ("let", let.name) not in self.shown]
        root.children += [self._allocation(a.name) for a in self.policy.allocations
                          if ("allocation", a.name) not in self.shown]
        return root

    def _check(self, check: ir.Check) -> Node:
        kind = "limit" if isinstance(check, ir.Limit) else "rule"
        node = Node(kind, check.name, cite=check.cite, line=check.span.line)
        shown = set(self.shown)
        try:
            return self._checked(check, node)
        except EvaluationError as error:
            # What the failed attempt expanded was thrown away with it: expand it again.
            self.shown = shown
            node.status, node.detail = "error", _fault(error)
            reached = True
            if check.guard is not None:
                used, faulted = self._used(check.guard)
                guard = Node("guard", "when", children=used)
                if faulted:
                    guard.status, guard.detail = "error", node.detail
                else:
                    guard.value = bool(self.evaluator.expr(check.guard))
                node.children = [guard]
                reached = not faulted
            node.children += self._used_in_turn(
                (check.cond,) if isinstance(check, ir.Rule) else (check.subject, check.bound),
                reached)
            return node

    def _checked(self, check: ir.Check, node: Node) -> Node:
        if check.guard is not None:
            guard = bool(self.evaluator.expr(check.guard))
            node.children.append(Node("guard", "when", guard, children=self._uses(check.guard)))
            if not guard:
                node.status = "not applicable"
                node.detail = "its `when` is false"
                return node
        holds = (self.outcomes[check.name] if self.outcomes is not None
                 else self.evaluator.check(check)[0])
        node.status = "holds" if holds else "fails"
        match check:
            case ir.Rule(cond=cond):
                node.children += self._uses(cond)
            case ir.Limit(subject=subject, bound=bound, op=op):
                value, limit = self.evaluator.expr(subject), self.evaluator.expr(bound)
                node.detail = (f"{_readable(value, subject.type)} {op} "
                               f"{_readable(limit, bound.type)}")
                node.children += self._used_in_turn((subject, bound))
            case _:
                assert_never(check)
        return node

    def _uses(self, expr: ir.Expr) -> list[Node]:
        return self._used(expr)[0]

    def _used_in_turn(self, exprs: tuple[ir.Expr, ...], reached: bool = True) -> list[Node]:
        """`_used` of expressions evaluated one after another, until one faults: nothing
        after the fault is read. Each reference once, read if any of them read it."""
        nodes: dict[tuple[str, str], Node] = {}
        for expr in exprs:
            used, faulted = self._used(expr, reached)
            for node in used:
                if (node.kind, node.name) not in nodes or (
                        nodes[(node.kind, node.name)].status == "not evaluated"):
                    nodes[(node.kind, node.name)] = node
            reached = reached and not faulted
        return list(nodes.values())

    def _used(self, expr: ir.Expr, reached: bool = True) -> tuple[list[Node], bool]:
        """A node for each reference `expr` holds, in reading order: its value where its
        evaluation read it, `not evaluated` where an `and`, `or`, `if` or `in` was decided
        without it (or a fault came first, or `reached` is false); and whether it faults."""
        read, faulted = self.evaluator.reads(expr) if reached else (set(), False)
        nodes: list[Node] = []
        seen: set[tuple[str, str]] = set()
        for ref in _references(expr):
            key = _key(ref)
            if key in seen:
                continue
            seen.add(key)
            nodes.append(self._reference(ref) if key in read else
                         self._unread(ref, "evaluation stopped at the fault before it"
                                      if faulted or not reached else
                                      "its `and`/`or`/`if`/`in` was decided without it"))
        return nodes, faulted

    def _unread(self, ref: ir.Expr, why: str) -> Node:
        node = Node(_REFERENCE_KIND[type(ref)], _key(ref)[1], status="not evaluated",
                    detail=why)
        match ref:
            case ir.InputRef(name=name):
                node.line = self._declared(self.policy.inputs, name)
            case ir.ParamRef(name=name):
                node.line = self._declared(self.policy.params, name)
            case ir.LetRef(name=name):
                let = self.policy.let(name)
                node.cite, node.line = let.cite, let.span.line
            case ir.PartRef():
                pass
        return node

    def _reference(self, ref: ir.Expr) -> Node:
        match ref:
            case ir.InputRef(name=name, type=type_):
                return _valued("input", name, self.evaluator.case[name], type_,
                               line=self._declared(self.policy.inputs, name))
            case ir.ParamRef(name=name, type=type_):
                return _valued("param", name, self.evaluator.params[name], type_,
                               line=self._declared(self.policy.params, name))
            case ir.LetRef(name=name):
                return self._let(name)
            case ir.PartRef(allocation=allocation, party=party, type=type_):
                if ("allocation", allocation) in self.shown:
                    try:
                        parts = self.evaluator.allocation(allocation)
                    except EvaluationError as error:
                        return Node("part", f"{allocation}.{party}", status="error",
                                    detail=f"{_fault(error)} (see above)")
                    return _valued("part", f"{allocation}.{party}", parts[party], type_,
                                   detail="see above")
                return self._allocation(allocation)
        raise AssertionError(ref)

    @staticmethod
    def _declared(fields: tuple[ir.Field, ...], name: str) -> int:
        return next(f.span.line for f in fields if f.name == name)

    def _let(self, name: str) -> Node:
        let = self.policy.let(name)
        try:
            value = self.evaluator.let(name)
        except EvaluationError as error:
            node = Node("let", name, status="error", detail=_fault(error), cite=let.cite,
                        line=let.span.line)
            if ("let", name) in self.shown:
                node.detail += " (see above)"
                return node
            self.shown.add(("let", name))
            node.children = self._uses(let.expr)
            return node
        node = _valued("let", name, value, let.type, cite=let.cite, line=let.span.line)
        if ("let", name) in self.shown:
            node.detail = "see above"
            return node
        self.shown.add(("let", name))
        node.children = self._uses(let.expr)
        return node

    def _allocation(self, name: str) -> Node:
        alloc = self.policy.allocation(name)
        self.shown.add(("allocation", name))
        kind = "shares" if isinstance(alloc, ir.Shares) else "waterfall"
        node = Node(kind, name, cite=alloc.cite, line=alloc.span.line)
        try:
            parts = self.evaluator.allocation(name)
        except EvaluationError as error:
            node.status, node.detail = "error", _fault(error)
            node.children = self._used_in_turn(allocation_exprs(alloc))
            return node
        match alloc:
            case ir.Shares(amount=None, parts=shares):
                for part in shares:
                    node.children.append(_valued("part", part.party, parts[part.party],
                                                 ir.PERCENT, detail=_weight(alloc, part)))
            case ir.Shares(amount=amount, parts=shares, ratio=ratio):
                amount_value = v.to_fen(self.evaluator.expr(amount))
                node.value, node.text = v.report(amount_value, ir.MONEY), _money(amount_value)
                node.children += self._uses(amount)
                exact = {part.party: v.div(v.mul(amount_value, part.weight), alloc.total_weight)
                         if ratio else v.mul(amount_value, part.weight) for part in shares}
                node.children += [_part(part.party, parts[part.party], exact[part.party],
                                        _weight(alloc, part)) for part in shares]
                node.detail = _rounding(parts, exact)
            case ir.Waterfall(amount=amount):
                amount_value = v.to_fen(self.evaluator.expr(amount))
                node.value, node.text = v.report(amount_value, ir.MONEY), _money(amount_value)
                node.children += self._uses(amount)
                exact = dict.fromkeys(parts, Decimal(0))
                remaining = amount_value
                for step, before, taken in self.evaluator.steps.get(name, []):
                    node.children.append(self._step(step, before, taken))
                    for party, share in taken.items():
                        exact[party] = v.add(exact[party], share)
                    remaining = v.sub(before, sum(taken.values(), Decimal(0)))
                if ir.UNALLOCATED in exact:
                    exact[ir.UNALLOCATED] = v.add(exact[ir.UNALLOCATED], remaining)
                node.children += [_part(party, share, exact[party], None)
                                  for party, share in parts.items()]
                node.detail = _rounding(parts, exact)
            case _:
                assert_never(alloc)
        return node

    def _step(self, step: ir.Step, before: Decimal, taken: dict[str, Decimal]) -> Node:
        # Exact amounts: the parts are rounded to the fen only once, at the end.
        left = v.sub(before, sum(taken.values(), Decimal(0)))
        children: list[Node] = []
        match step:
            case ir.Take(party=party, cap=cap):
                name = f"take {party}"
                text = (f"{party} takes {_exact(taken[party])} "
                        f"(up to {_exact(self.evaluator.expr(cap))})")
                children = self._uses(cap)
            case ir.Split(parts=split):
                name = "split"
                said = []
                for part in split:
                    bounds = f"{v.literal(part.share, ir.PERCENT)}"
                    if part.cap is not None:
                        bounds += f", up to {_exact(self.evaluator.expr(part.cap))}"
                        children += self._uses(part.cap)
                    said.append(f"{part.party} takes {_exact(taken[part.party])} ({bounds})")
                text = ", ".join(said)
            case ir.Rest(party=party):
                name = f"rest {party}"
                text = f"{party} takes {_exact(taken[party])}"
            case _:
                assert_never(step)
        once = {(child.kind, child.name): child for child in children}  # caps read alike
        return Node("step", name, detail=f"{_exact(before)} before; {text}; "
                    f"{_exact(left)} left (exact)", line=step.span.line,
                    children=list(once.values()))


def _weight(shares: ir.Shares, part: ir.SharePart) -> str:
    if shares.ratio:
        return f"{v.format_decimal(part.weight)} of {v.format_decimal(shares.total_weight)}"
    return v.literal(part.weight, ir.PERCENT)


def _rounding(parts: dict[str, Decimal], exact: dict[str, Decimal]) -> str | None:
    """How the parts were rounded, where rounding moved one: a reader sees two equal
    exact shares rounded apart, and why."""
    if all(parts[party] == exact[party] for party in parts):
        return None
    return ("parts rounded to the fen so that they sum to the amount (largest remainders "
            "first, ties in the order written)")


def _part(party: str, share: Decimal, exact: Decimal, weight: str | None) -> Node:
    """An allocated part: its amount to the fen and, where rounding moved it, the exact
    amount (the parts are rounded together so that they sum to the amount)."""
    said = [weight] if weight else []
    if exact != share:
        said.append(f"exactly {_exact(exact)} before rounding to the fen")
    return Node("part", party, v.report(share, ir.MONEY), text=_money(share),
                detail="; ".join(said) or None)


def _exact(amount: Decimal) -> str:
    """An exact amount of money, in 元 or in 万/亿 where that is exact to two places."""
    return v.readable_literal(amount, ir.MONEY)


def _money(amount: Decimal) -> str:
    """Money as the decision reports it, to the fen (in 元, 万 or 亿), and the exact
    amount where the fen hides part of it."""
    fen = v.to_fen(amount)
    if fen == amount:
        return _exact(amount)
    return f"{_exact(fen)} (exactly {v.literal(amount, ir.MONEY)})"


def _fault(error: EvaluationError) -> str:
    return error.diagnostics[0].message


def _valued(kind: str, name: str, value: ir.Value, type_: ir.Type, **more) -> Node:
    return Node(kind, name, v.report(value, type_), text=_readable(value, type_), **more)


def _readable(value: ir.Value, type_: ir.Type) -> str:
    """A value for people: a .pol literal, money to the fen as the decision reports it."""
    match type_.kind:
        case ir.Kind.MONEY:
            return _money(value)
        case ir.Kind.BOOL:
            return "true" if value else "false"
        case ir.Kind.ENUM:
            return value
    return v.readable_literal(value, type_)


def _references(expr: ir.Expr) -> list[ir.Expr]:
    """The inputs, params, lets and parts an expression reads, in reading order."""
    match expr:
        case ir.InputRef() | ir.ParamRef() | ir.LetRef() | ir.PartRef():
            return [expr]
        case ir.Const():
            return []
    found: list[ir.Expr] = []
    for item in dataclasses.fields(expr):
        value = getattr(expr, item.name)
        children = value if isinstance(value, tuple) else (value,)
        for child in children:
            if dataclasses.is_dataclass(child) and not isinstance(child, ir.Type):
                found += _references(child)
    return found


def render_html(policy: ir.Policy, root: Node) -> str:
    """A self-contained HTML page of the tree (every text escaped)."""
    from importlib import resources

    import jinja2

    template = resources.files("policylang").joinpath("templates/explain.html.j2").read_text(
        encoding="utf-8")
    environment = jinja2.Environment(autoescape=True, trim_blocks=False)
    return environment.from_string(template).render(policy=policy, root=root)
