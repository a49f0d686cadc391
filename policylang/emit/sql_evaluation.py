"""What the SQL builders must know of when and whether an expression is evaluated.

The interpreter evaluates an `if`'s branch, the right side of `and`/`or` and an `in` set's
later items only when needed, and some operations raise (E610/E611). SQL engines evaluate
eagerly and reorder freely, so the builder (`sql.py`, and the dialects that subclass it)
asks here which nodes may fail, under which conditions each is evaluated, and how large a
numeric value can be, and keeps every error where the interpreter raises it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import assert_never

from policylang import ir
from policylang.values import INPUT_LIMIT, MAGNITUDE_LIMIT

Context = tuple[tuple[ir.Expr, bool], ...]


def evaluation_contexts(policy: ir.Policy) -> dict[int, tuple[ir.Expr, Context]]:
    """Each expression node of the per-case declarations → (the node, the conditions
    under which the interpreter evaluates it, outermost first: a check's guard, an `if`'s
    condition (True for its `then`, False for its `else`), the left side of an `and`
    (True) or an `or` (False), for an `in` set's later items that no earlier one equals
    the value tested (False)). Every let, allocation and check is evaluated on every
    case, so a node with no condition is evaluated wherever its declaration is. A node
    the IR shares between places evaluated under different conditions is left out."""
    found: dict[int, tuple[ir.Expr, Context]] = {}
    unknown: set[int] = set()

    def visit(e: ir.Expr | None, context: Context | None) -> None:
        if e is None:
            return
        if context is None:
            unknown.add(id(e))
        else:
            seen = found.get(id(e))
            if seen is not None and seen[1] != context:
                if not context:  # also evaluated unconditionally: that place wins
                    found[id(e)] = (e, context)
                elif seen[1]:
                    unknown.add(id(e))
            elif seen is None:
                found[id(e)] = (e, context)
        match e:
            case ir.If(cond=cond, then=then, otherwise=otherwise):
                visit(cond, context)
                visit(then, None if context is None else (*context, (cond, True)))
                visit(otherwise, None if context is None else (*context, (cond, False)))
            case ir.And(left=left, right=right) | ir.Or(left=left, right=right):
                visit(left, context)
                visit(right, None if context is None
                      else (*context, (left, isinstance(e, ir.And))))
            case ir.InSet(operand=operand, items=items):
                visit(operand, context)
                for k, item in enumerate(items):  # evaluated while no earlier item matched
                    visit(item, None if context is None else (*context, *(
                        (ir.Compare("==", operand, earlier, ir.BOOL, earlier.span), False)
                        for earlier in items[:k])))
            case ir.Arith(left=left, right=right) | ir.Compare(left=left, right=right):
                visit(left, context)
                visit(right, context)
            case ir.Call(args=args):
                for arg in args:
                    visit(arg, context)
            case ir.Neg(operand=operand) | ir.Not(operand=operand):
                visit(operand, context)

    for let in policy.lets:
        visit(let.expr, ())
    for alloc in policy.allocations:
        visit(alloc.amount, ())
        for step in getattr(alloc, "steps", ()):
            if isinstance(step, ir.Take):
                visit(step.cap, ())
            elif isinstance(step, ir.Split):
                for part in step.parts:
                    visit(part.cap, ())
    for check in policy.checks:
        visit(check.guard, ())
        context: Context = () if check.guard is None else ((check.guard, True),)
        for operand in ((check.cond,) if isinstance(check, ir.Rule)
                        else (check.subject, check.bound)):
            visit(operand, context)
    return {key: value for key, value in found.items()
            if key not in unknown or not value[1]}


def may_fail(e: ir.Expr) -> bool:
    """Whether evaluating e can raise (so it must not be evaluated where the interpreter
    would not): division, round, duration arithmetic and comparison, range checks."""
    match e:
        case ir.Const() | ir.InputRef() | ir.ParamRef() | ir.LetRef() | ir.PartRef():
            return False
        case ir.Arith(op=op, left=left, right=right):
            return (op == "/" or ir.Kind.DURATION in (left.type.kind, right.type.kind)
                    or magnitude(e) >= MAGNITUDE_LIMIT or may_fail(left) or may_fail(right))
        case ir.Compare(left=left, right=right):
            return left.type.kind is ir.Kind.DURATION or may_fail(left) or may_fail(right)
        case ir.Call(func=func, args=args):
            return func in ("round", "years", "months", "days") or any(map(may_fail, args)) \
                or (func in ("min", "max") and args[0].type.kind is ir.Kind.DURATION)
        case ir.Neg(operand=operand) | ir.Not(operand=operand):
            return may_fail(operand)
        case ir.And(left=left, right=right) | ir.Or(left=left, right=right):
            return may_fail(left) or may_fail(right)
        case ir.InSet(operand=operand, items=items):
            return operand.type.kind is ir.Kind.DURATION or may_fail(operand) or \
                any(map(may_fail, items))
        case ir.If(cond=cond, then=then, otherwise=otherwise):
            return may_fail(cond) or may_fail(then) or may_fail(otherwise)
    assert_never(e)


def magnitude(e: ir.Expr) -> Decimal:
    """An upper bound on |value| of a numeric expression (inputs are below 10^15)."""
    limit = MAGNITUDE_LIMIT
    match e:
        case ir.Const(value=value) if isinstance(value, Decimal):
            return abs(value)
        case ir.Arith(op="+" | "-", left=left, right=right):
            return magnitude(left) + magnitude(right)
        case ir.Arith(op="*", left=left, right=right):
            return min(magnitude(left) * magnitude(right), limit)
        case ir.Neg(operand=operand):
            return magnitude(operand)
        case ir.Call(func="min" | "max" | "abs" | "round", args=args):
            return max(magnitude(a) for a in args) * (2 if e.func == "round" else 1)
        case ir.If(then=then, otherwise=otherwise):
            return max(magnitude(then), magnitude(otherwise))
        case ir.InputRef():
            return INPUT_LIMIT
    return limit
