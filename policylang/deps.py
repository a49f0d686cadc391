"""Static dependencies: which inputs and params each rule, limit, let and allocation can
depend on, through any chain of lets and allocations (guards included).

`policylang deps FILE` prints them; an input or param nothing depends on is reported as
unused (and `policylang lint` warns about it: W101, W102).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import assert_never

from policylang import ir


@dataclass(frozen=True)
class Dependencies:
    inputs: tuple[str, ...]
    params: tuple[str, ...]


def dependencies(policy: ir.Policy) -> dict[str, Dependencies]:
    """`rule NAME`, `limit NAME`, `let NAME`, `shares NAME` / `waterfall NAME` and each of
    their parts (`waterfall NAME.PARTY`) → what it reads, in declaration order."""
    finder = _Finder(policy)
    out: dict[str, Dependencies] = {}
    for check in policy.checks:
        kind = "limit" if isinstance(check, ir.Limit) else "rule"
        out[f"{kind} {check.name}"] = finder.of_check(check)
    for let in policy.lets:
        out[f"let {let.name}"] = finder.resolve(("let", let.name))
    for alloc in policy.allocations:
        kind = "shares" if isinstance(alloc, ir.Shares) else "waterfall"
        found = out[f"{kind} {alloc.name}"] = finder.resolve(("allocation", alloc.name))
        # Each reported part depends on the whole allocation, not only on the steps before
        # it: the fen left over by rounding go to the parts with the largest remainders.
        for party in alloc.parties:
            out[f"{kind} {alloc.name}.{party}"] = found
    for rule in policy.portfolio.rules if policy.portfolio else ():
        out[f"{rule.kind} {rule.name}"] = finder.of_book_rule(rule, policy.portfolio.order_by)
    return out


def unused_inputs(policy: ir.Policy) -> list[str]:
    used = {name for deps in dependencies(policy).values() for name in deps.inputs}
    return [f.name for f in policy.inputs if f.name not in used]


def unused_params(policy: ir.Policy) -> list[str]:
    used = {name for deps in dependencies(policy).values() for name in deps.params}
    return [p.name for p in policy.params if p.name not in used]


class _Finder:
    def __init__(self, policy: ir.Policy):
        self.policy = policy
        self.memo: dict[tuple[str, str], set[tuple[str, str]]] = {}

    def of_check(self, check: ir.Check) -> Dependencies:
        match check:
            case ir.Rule(cond=cond, guard=guard):
                exprs = [cond, guard]
            case ir.Limit(subject=subject, bound=bound, guard=guard):
                exprs = [subject, bound, guard]
            case _:
                assert_never(check)
        return self._ordered(set().union(*(self._leaves(e) for e in exprs if e is not None)))

    def of_book_rule(self, rule: ir.BookRule, order_by: str) -> Dependencies:
        # The whole value and bound, not only the aggregates' arguments and a bare param
        # bound: `sum(x) * rate <= cap * 2` reads `rate` and `cap` too.
        exprs = [*rule.per, rule.value, rule.bound]
        found = set().union(*(self._leaves(e) for e in exprs)) | {("input", order_by)}
        return self._ordered(found)

    def resolve(self, item: tuple[str, str]) -> Dependencies:
        return self._ordered(self._item(item))

    def _ordered(self, found: set[tuple[str, str]]) -> Dependencies:
        return Dependencies(
            tuple(f.name for f in self.policy.inputs if ("input", f.name) in found),
            tuple(p.name for p in self.policy.params if ("param", p.name) in found))

    def _item(self, item: tuple[str, str]) -> set[tuple[str, str]]:
        if item not in self.memo:
            self.memo[item] = set()  # the checker has ruled out cycles; this stops a loop
            kind, name = item
            if kind == "let":
                exprs = [self.policy.let(name).expr]
            else:
                alloc = self.policy.allocation(name)
                exprs = allocation_exprs(alloc)
            self.memo[item] = set().union(*(self._leaves(e) for e in exprs))
        return self.memo[item]

    def _leaves(self, expr: ir.Expr) -> set[tuple[str, str]]:
        match expr:
            case ir.InputRef(name=name):
                return {("input", name)}
            case ir.ParamRef(name=name):
                return {("param", name)}
            case ir.LetRef(name=name):
                return self._item(("let", name))
            case ir.PartRef(allocation=allocation):
                return self._item(("allocation", allocation))
            case ir.Const():
                return set()
        found: set[tuple[str, str]] = set()
        for item in dataclasses.fields(expr):
            value = getattr(expr, item.name)
            for child in value if isinstance(value, tuple) else (value,):
                if dataclasses.is_dataclass(child) and not isinstance(child, ir.Type):
                    found |= self._leaves(child)
        return found


def allocation_exprs(alloc: ir.Allocation) -> list[ir.Expr]:
    """What an allocation evaluates, in order: its amount, then its steps' caps."""
    match alloc:
        case ir.Shares(amount=amount):
            return [amount] if amount is not None else []
        case ir.Waterfall(amount=amount, steps=steps):
            exprs = [amount]
            for step in steps:
                match step:
                    case ir.Take(cap=cap):
                        exprs.append(cap)
                    case ir.Split(parts=parts):
                        exprs += [p.cap for p in parts if p.cap is not None]
                    case ir.Rest():
                        pass
                    case _:
                        assert_never(step)
            return exprs
        case _:
            assert_never(alloc)
