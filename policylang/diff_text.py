"""The canonical `.pol` text of IR expressions and values, for `policylang diff`.

A change is found by comparing two declarations' texts, so the text is a function of the
IR alone: canonically spaced, with the parentheses the meaning needs, and around an `and`
inside an `or` too (`a or (b and c)`: a reader of the diff is not asked to know that `and`
binds tighter). Money is written in 万 or 亿 where that is exact and shorter.
"""

from __future__ import annotations

from typing import assert_never

from policylang import ir
from policylang import values as v

_BINARY = {"or": 1, "and": 2, "compare": 4, "+": 5, "-": 5, "*": 6, "/": 6}
_ATOM = 8


def expression_text(expr: ir.Expr) -> str:
    """The expression as `.pol` source, canonically spaced, with only needed parentheses."""
    return _expr(expr)[0]


def _unmixed(expr: ir.Expr) -> tuple[str, int]:
    """An operand of `or`, with an `and` made to look lower than `or` so that `_wrap`
    brackets it."""
    text, precedence = _expr(expr)
    return (text, 0) if precedence == _BINARY["and"] else (text, precedence)


def _wrap(part: tuple[str, int], needed: int) -> str:
    text, precedence = part
    return text if precedence >= needed else f"({text})"


def _binary(left: ir.Expr, op: str, right: ir.Expr, level: int) -> tuple[str, int]:
    right_needed = level + 1  # left-associative; comparisons do not chain
    left_needed = level + 1 if level == _BINARY["compare"] else level
    return f"{_wrap(_expr(left), left_needed)} {op} {_wrap(_expr(right), right_needed)}", level


def _expr(e: ir.Expr) -> tuple[str, int]:  # noqa: C901 — one case per IR node
    match e:
        case ir.Const(value=value, type=type_):
            text = value_text(value, type_)
            return text, (7 if text.startswith("-") else _ATOM)
        case ir.InputRef(name=name) | ir.ParamRef(name=name) | ir.LetRef(name=name):
            return name, _ATOM
        case ir.PartRef(allocation=allocation, party=party):
            return f"{allocation}.{party}", _ATOM
        case ir.Neg(operand=operand):
            return "-" + _wrap(_expr(operand), _ATOM), 7
        case ir.Arith(op=op, left=left, right=right):
            return _binary(left, op, right, _BINARY[op])
        case ir.Compare(op=op, left=left, right=right):
            return _binary(left, op, right, _BINARY["compare"])
        case ir.And(left=left, right=right):
            return _binary(left, "and", right, _BINARY["and"])
        case ir.Or(left=left, right=right):  # an `and` inside is bracketed, for a reader
            return (f"{_wrap(_unmixed(left), _BINARY['or'])} or "
                    f"{_wrap(_unmixed(right), _BINARY['or'] + 1)}", _BINARY["or"])
        case ir.Not(operand=operand):
            return "not " + _wrap(_expr(operand), _ATOM), 3
        case ir.InSet(operand=operand, items=items, negated=negated):
            members = ", ".join(expression_text(i) for i in items)
            word = "not in" if negated else "in"
            return f"{_wrap(_expr(operand), 5)} {word} {{{members}}}", 4
        case ir.If(cond=cond, then=then, otherwise=otherwise):
            return (f"if {expression_text(cond)} then {expression_text(then)} "
                    f"else {expression_text(otherwise)}"), 0
        case ir.Call(func=func, args=args):
            return f"{func}({', '.join(expression_text(a) for a in args)})", _ATOM
        case _:
            assert_never(e)


def book_expression_text(expr: ir.BookExpr) -> str:
    match expr:
        case ir.Aggregate(func=func, arg=arg, where=where):
            inner = "" if arg is None else expression_text(arg)
            if where is not None:
                inner = f"{inner} where {expression_text(where)}".strip()
            return f"{func}({inner})"
        case ir.BookArith(op=op, left=left, right=right):
            return f"{_book_operand(left)} {op} {_book_operand(right)}"
        case ir.Const() | ir.ParamRef():
            return expression_text(expr)
        case _:
            assert_never(expr)


def _book_operand(expr: ir.BookExpr) -> str:
    text = book_expression_text(expr)
    return f"({text})" if isinstance(expr, ir.BookArith) else text


def value_text(value: ir.Value, type_: ir.Type) -> str:
    """A value as a `.pol` literal, money in 万/亿 where that is exact and shorter."""
    if type_.kind is ir.Kind.MONEY and value != 0:
        for unit, scale in (("亿", 8), ("万", 4)):
            scaled = value.scaleb(-scale)
            if abs(scaled) >= 1 and -scaled.normalize().as_tuple().exponent <= 4:
                return f"{v.format_decimal(scaled)}{unit}"
    return v.literal(value, type_)
