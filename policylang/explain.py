"""Why a decision came out as it did: the decision of one case as a tree.

Eligibility ← each rule and limit (holds, fails, or does not apply because its guard is
false) ← the values it used; each let ← its operands; each allocation ← its parts or its
waterfall steps with the amount before and after. Every node carries its citation and
source line. Built from the interpreter's own evaluation (the same values the decision
reports), so an explanation never disagrees with the decision it explains.

A case that cannot be evaluated (a division by zero, a date out of the calendar) still
has a tree (`explain_failure`): every value that could be computed, and the declarations
that could not with status "error" and the fault as their detail.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import assert_never

from policylang import ir
from policylang import values as v
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
    explainer = _Explainer(policy, decision.evaluator, decision.outcomes)
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
    return _Explainer(policy, Evaluator(policy, case, params), None).root(root)


def _verdict(decision: Decision) -> Node:
    eligible = decision.eligible
    return Node("eligibility", decision.policy.name, eligible,
                detail="every applicable rule and limit holds" if eligible else
                f"{len(decision.failures)} failed: "
                + ", ".join(f["rule"] for f in decision.failures))


class _Explainer:
    def __init__(self, policy: ir.Policy, evaluator: Evaluator,
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
            operands = (check.guard, *((check.cond,) if isinstance(check, ir.Rule)
                                       else (check.subject, check.bound)))
            node.children = [used for expr in operands if expr is not None
                             for used in self._uses(expr)]
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
                node.detail = (f"{v.readable_literal(value, subject.type)} {op} "
                               f"{v.readable_literal(limit, bound.type)}")
                node.children += self._uses(subject) + self._uses(bound)
            case _:
                assert_never(check)
        return node

    def _uses(self, expr: ir.Expr) -> list[Node]:
        nodes: list[Node] = []
        seen: set[tuple[str, str]] = set()
        for ref in _references(expr):
            key = (type(ref).__name__, getattr(ref, "name", "") or
                   f"{getattr(ref, 'allocation', '')}.{getattr(ref, 'party', '')}")
            if key in seen:
                continue
            seen.add(key)
            nodes.append(self._reference(ref))
        return nodes

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
            case ir.PartRef(allocation=allocation, party=party):
                if ("allocation", allocation) in self.shown:
                    parts = self.evaluator.allocation(allocation)
                    return Node("part", f"{allocation}.{party}",
                                v.report(parts[party], ir.MONEY), detail="see above")
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
            node.children = self._uses(alloc.amount) if alloc.amount is not None else []
            return node
        match alloc:
            case ir.Shares(amount=amount, parts=shares, ratio=ratio):
                if amount is not None:
                    node.value = v.report(v.to_fen(self.evaluator.expr(amount)), ir.MONEY)
                    node.children += self._uses(amount)
                total = alloc.total_weight
                for part in shares:
                    weight = (f"{v.format_decimal(part.weight)} of {v.format_decimal(total)}"
                              if ratio else f"{v.format_decimal(part.weight * 100)}%")
                    shown = (v.report(parts[part.party], ir.MONEY) if amount is not None
                             else v.report(parts[part.party], ir.PERCENT))
                    node.children.append(Node("part", part.party, shown, detail=weight))
            case ir.Waterfall(amount=amount):
                node.value = v.report(v.to_fen(self.evaluator.expr(amount)), ir.MONEY)
                node.children += self._uses(amount)
                for step, before, taken in self.evaluator.steps.get(name, []):
                    node.children.append(self._step(step, before, taken))
                node.children += [Node("part", party, v.report(share, ir.MONEY),
                                       detail="after rounding to the fen")
                                  for party, share in parts.items()]
            case _:
                assert_never(alloc)
        return node

    def _step(self, step: ir.Step, before, taken: dict) -> Node:
        left = before - sum(taken.values())
        # Exact amounts: the parts are rounded to the fen only once, at the end.
        text = ", ".join(f"{party} takes {v.format_decimal(share)}"
                         for party, share in taken.items())
        match step:
            case ir.Take(party=party):
                name = f"take {party}"
            case ir.Split():
                name = "split"
            case ir.Rest(party=party):
                name = f"rest {party}"
            case _:
                assert_never(step)
        return Node("step", name, detail=f"{v.format_decimal(before)} before; {text}; "
                    f"{v.format_decimal(left)} left (exact, in yuan)", line=step.span.line)


def _fault(error: EvaluationError) -> str:
    return error.diagnostics[0].message


def _valued(kind: str, name: str, value: ir.Value, type_: ir.Type, **more) -> Node:
    text = (str(value).lower() if type_.kind is ir.Kind.BOOL else
            value if type_.kind is ir.Kind.ENUM else v.readable_literal(value, type_))
    return Node(kind, name, v.report(value, type_), text=text, **more)


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
