"""Common subexpressions read through lets: an IR → IR rewrite for the emitters.

Drafters restate a let's formula inside another declaration (佛山's borrower subsidy is
`min(loan_amount * years(term) * 1%, premium_paid)`, where `insurer_subsidy` is exactly
`loan_amount * years(term) * 1%`). Wherever a let's whole expression occurs again inside
another let, rule, limit or allocation, the rewrite reads the let instead, so a backend
that caches lets computes it once per case.

Why this keeps the semantics exactly: expressions are pure, and a let's value is its
expression's value, so reading the let gives the same value — or raises the same
evaluation error — as computing the expression again. Only proper subexpressions are
replaced, by a let whose expression is strictly smaller than the one being rewritten, so
no declaration can come to read itself (no cycle). Leaves (constants, input, param, let
and part references) are never replaced: reading a let costs more than reading them.
The policy's evaluation `order` is kept; a backend computing lets on demand (as the
Python backend's cached methods do) needs no new order.
"""

from __future__ import annotations

import dataclasses
from typing import assert_never

from policylang import ir

_LEAVES = (ir.Const, ir.InputRef, ir.ParamRef, ir.LetRef, ir.PartRef)


def reuse_lets(policy: ir.Policy) -> ir.Policy:
    """The policy with every repeated let expression read through its let."""
    by_shape: dict[object, ir.Let] = {}
    for let in policy.lets:
        if not isinstance(let.expr, _LEAVES):
            by_shape.setdefault(shape(let.expr), let)  # the first of equal lets wins
    if not by_shape:
        return policy
    rewrite = _Rewrite(by_shape)
    return dataclasses.replace(
        policy,
        lets=tuple(dataclasses.replace(let, expr=rewrite.root(let.expr, let.name))
                   for let in policy.lets),
        checks=tuple(rewrite.check(check) for check in policy.checks),
        allocations=tuple(rewrite.allocation(alloc) for alloc in policy.allocations))


def shape(node: object) -> object:
    """A node without its spans: equal shapes compute equal values."""
    if isinstance(node, tuple):
        return tuple(shape(item) for item in node)
    if isinstance(node, ir.Type) or not dataclasses.is_dataclass(node):
        return node
    return (type(node).__name__,) + tuple(shape(getattr(node, f.name))
                                          for f in dataclasses.fields(node) if f.name != "span")


class _Rewrite:
    def __init__(self, by_shape: dict[object, ir.Let]):
        self.by_shape = by_shape

    def root(self, node: ir.Expr, owner: str | None = None) -> ir.Expr:
        """`node` with its proper subexpressions rewritten (the root itself is kept)."""
        match node:
            case ir.Const() | ir.InputRef() | ir.ParamRef() | ir.LetRef() | ir.PartRef():
                return node
            case ir.Neg(operand=operand):
                return dataclasses.replace(node, operand=self.sub(operand, owner))
            case ir.Arith(left=left, right=right) | ir.Compare(left=left, right=right) \
                    | ir.And(left=left, right=right) | ir.Or(left=left, right=right):
                return dataclasses.replace(node, left=self.sub(left, owner),
                                           right=self.sub(right, owner))
            case ir.Not(operand=operand):
                return dataclasses.replace(node, operand=self.sub(operand, owner))
            case ir.InSet(operand=operand, items=items):
                return dataclasses.replace(node, operand=self.sub(operand, owner),
                                           items=tuple(self.sub(i, owner) for i in items))
            case ir.If(cond=cond, then=then, otherwise=otherwise):
                return dataclasses.replace(node, cond=self.sub(cond, owner),
                                           then=self.sub(then, owner),
                                           otherwise=self.sub(otherwise, owner))
            case ir.Call(args=args):
                return dataclasses.replace(node, args=tuple(self.sub(a, owner) for a in args))
            case _:
                assert_never(node)

    def sub(self, node: ir.Expr, owner: str | None) -> ir.Expr:
        """A proper subexpression: the let computing it, or it rewritten inside."""
        let = None if isinstance(node, _LEAVES) else self.by_shape.get(shape(node))
        if let is not None and let.name != owner:
            return ir.LetRef(let.name, let.type, node.span)
        return self.root(node, owner)

    def optional(self, node: ir.Expr | None) -> ir.Expr | None:
        return None if node is None else self.sub(node, None)

    def check(self, check: ir.Check) -> ir.Check:
        match check:
            case ir.Rule(cond=cond, guard=guard):
                return dataclasses.replace(check, cond=self.sub(cond, None),
                                           guard=self.optional(guard))
            case ir.Limit(subject=subject, bound=bound, guard=guard):
                return dataclasses.replace(check, subject=self.sub(subject, None),
                                           bound=self.sub(bound, None),
                                           guard=self.optional(guard))
            case _:
                assert_never(check)

    def allocation(self, alloc: ir.Allocation) -> ir.Allocation:
        match alloc:
            case ir.Shares(amount=amount):
                return dataclasses.replace(alloc, amount=self.optional(amount))
            case ir.Waterfall(amount=amount, steps=steps):
                return dataclasses.replace(alloc, amount=self.sub(amount, None),
                                           steps=tuple(self.step(s) for s in steps))
            case _:
                assert_never(alloc)

    def step(self, step: ir.Step) -> ir.Step:
        match step:
            case ir.Take(cap=cap):
                return dataclasses.replace(step, cap=self.sub(cap, None))
            case ir.Split(parts=parts):
                return dataclasses.replace(step, parts=tuple(
                    dataclasses.replace(p, cap=self.optional(p.cap)) for p in parts))
            case ir.Rest():
                return step
            case _:
                assert_never(step)
