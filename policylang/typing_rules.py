"""Expression typing: the unit algebra of DESIGN.md §3, AST expression → typed IR expression.

`Typer` lowers one expression at a time, asking a `Scope` (the checker) what names mean.
Errors are reported to the scope and the expression gets the `ERROR` type, which silences
follow-on errors, so one mistake gives one diagnostic.
"""

from __future__ import annotations

from typing import Protocol, assert_never

from policylang import ir
from policylang import nodes as n

ERROR = ir.Type(ir.Kind.ERROR)
M, P, N, D, T = ir.MONEY, ir.PERCENT, ir.NUMBER, ir.DURATION, ir.DATE

# (op, left, right) → result: the unit algebra table.
ARITHMETIC: dict[tuple[str, ir.Type, ir.Type], ir.Type] = {
    ("+", M, M): M, ("-", M, M): M,
    ("+", P, P): P, ("-", P, P): P,
    ("+", N, N): N, ("-", N, N): N,
    ("+", D, D): D, ("-", D, D): D,
    ("+", T, D): T, ("-", T, D): T, ("+", D, T): T, ("-", T, T): D,
    ("*", M, N): M, ("*", M, P): M, ("*", N, M): M, ("*", P, M): M,
    ("*", P, N): P, ("*", N, P): P, ("*", P, P): P, ("*", N, N): N,
    ("*", D, N): D, ("*", N, D): D,
    ("/", M, N): M, ("/", M, P): M, ("/", M, M): P,
    ("/", P, P): N, ("/", P, N): P, ("/", N, N): N,
}

_MONEY_UNIT = "write the number with a unit, e.g. `5万` or `0元`"
_PERCENT_UNIT = "write the number with a unit, e.g. `1.5%` or `150bp`"
_DURATION_UNIT = "write the number with a unit, e.g. `6 months` or `15 days`"
_UNIT_HINTS = {
    **{(op, M, P): "a percent of money is written `amount * rate`" for op in "+-"},
    **{(op, P, M): "a percent of money is written `amount * rate`" for op in "+-"},
    **{(op, a, b): _MONEY_UNIT for op in "+-" for a, b in ((M, N), (N, M))},
    **{(op, a, b): _PERCENT_UNIT for op in "+-" for a, b in ((P, N), (N, P))},
    **{(op, a, b): _DURATION_UNIT for op in "+-" for a, b in ((D, N), (N, D))},
}

_FUNCTIONS = ("min", "max", "round", "abs", "years", "months", "days", "year", "month")


class Scope(Protocol):
    def error(self, code: str, message: str, span: n.Span | None, *notes: str) -> None: ...
    def lookup(self, name: str, span: n.Span) -> ir.Expr: ...
    def lookup_member(self, node: n.Member) -> ir.Expr: ...


def is_error(type_: ir.Type) -> bool:
    return type_.kind is ir.Kind.ERROR


def fold_constant(expr: ir.Expr, scope: Scope) -> ir.Value | None:
    """The value of a constant expression, or None (reported) if evaluating it fails."""
    from policylang.interpret import EvaluationError, evaluate_constant

    try:
        return evaluate_constant(expr)
    except EvaluationError as error:
        # The evaluator names the failing sub-expression; keep its span and go on, so
        # every other diagnostic of the file is still reported.
        for diagnostic in error.diagnostics:
            scope.error(diagnostic.code, diagnostic.message, diagnostic.span or expr.span)
        return None


class Typer:
    def __init__(self, scope: Scope):
        self.scope = scope
        self.constant_mode = False

    def expr(self, node: n.Expr, constant: bool = False) -> ir.Expr:
        saved = self.constant_mode
        self.constant_mode = constant or saved
        try:
            return self._expr(node)
        finally:
            self.constant_mode = saved

    def condition(self, node: n.Expr, what: str) -> ir.Expr:
        typed = self.expr(node)
        if not is_error(typed.type) and typed.type != ir.BOOL:
            self.scope.error("E203", f"{what} must be bool, not {typed.type}", node.span)
        return typed

    def comparable(self, op: str, left: ir.Expr, right: ir.Expr, span: n.Span,
                   right_span: n.Span) -> bool:
        if is_error(left.type) or is_error(right.type):
            return False
        if left.type != right.type:
            self.scope.error("E202", f"cannot compare {left.type} with {right.type}", span,
                             *_compare_hint(left.type, right.type, self._members(left.type)))
            return False
        if op not in ("==", "!=") and not left.type.ordered:
            self.scope.error("E209", f"{left.type} values have no order; only == and != "
                             "apply", span)
            return False
        return True

    def _members(self, type_: ir.Type) -> tuple[str, ...]:
        enum = getattr(self.scope, "enums", {}).get(type_.enum) \
            if type_.kind is ir.Kind.ENUM else None
        return tuple(m.name for m in enum.members) if enum else ()

    def _expr(self, node: n.Expr) -> ir.Expr:
        match node:
            case n.MoneyLit(value=value, span=span):
                return ir.Const(value, M, span)
            case n.PercentLit(value=value, span=span):
                return ir.Const(value, P, span)
            case n.NumberLit(value=value, span=span):
                return ir.Const(value, N, span)
            case n.DurationLit(amount=amount, unit=unit, span=span):
                return ir.Const(ir.Duration(amount, unit), D, span)
            case n.DateLit(value=value, span=span):
                return ir.Const(value, T, span)
            case n.BoolLit(value=value, span=span):
                return ir.Const(value, ir.BOOL, span)
            case n.Name(name=name, span=span):
                return self._constant_only(self.scope.lookup(name, span))
            case n.Member():
                return self._constant_only(self.scope.lookup_member(node))
            case n.Neg(operand=operand, span=span):
                inner = self._expr(operand)
                if not is_error(inner.type) and inner.type not in (M, P, N, D):
                    self.scope.error("E201", f"cannot negate {inner.type}", span)
                    return ir.Neg(inner, ERROR, span)
                return ir.Neg(inner, inner.type, span)
            case n.Binary():
                return self._binary(node)
            case n.Compare(op=op, left=left, right=right, span=span):
                lt, rt = self._expr(left), self._expr(right)
                if not self.comparable(op, lt, rt, span, right.span):
                    return ir.Compare(op, lt, rt, ir.BOOL, span)
                return self._folds(ir.Compare(op, lt, rt, ir.BOOL, span))
            case n.And(left=left, right=right, span=span):
                return ir.And(self._bool(left, "`and`"), self._bool(right, "`and`"), ir.BOOL,
                              span)
            case n.Or(left=left, right=right, span=span):
                return ir.Or(self._bool(left, "`or`"), self._bool(right, "`or`"), ir.BOOL, span)
            case n.Not(operand=operand, span=span):
                return ir.Not(self._bool(operand, "`not`"), ir.BOOL, span)
            case n.InSet(operand=operand, items=items, negated=negated, span=span):
                return self._in_set(operand, items, negated, span)
            case n.If(cond=cond, then=then, otherwise=otherwise, span=span):
                c = self._bool(cond, "the condition of an `if`")
                a, b = self._expr(then), self._expr(otherwise)
                if is_error(a.type) or is_error(b.type):
                    return ir.If(c, a, b, ERROR, span)
                if a.type != b.type:
                    plain = next((x for x, other in ((then, b), (otherwise, a))
                                  if isinstance(x, n.NumberLit) and other.type.numeric), None)
                    self.scope.error("E204", f"the branches of this `if` are {a.type} and "
                                     f"{b.type}; they must have one type", span,
                                     *([f"write `{plain.text}` with a unit, as the other "
                                        "branch has one"] if plain is not None else []))
                    return ir.If(c, a, b, ERROR, span)
                return ir.If(c, a, b, a.type, span)
            case n.Call():
                return self._call(node)
            case _:
                assert_never(node)

    def _constant_only(self, expr: ir.Expr) -> ir.Expr:
        if self.constant_mode and isinstance(expr, ir.InputRef | ir.ParamRef | ir.LetRef
                                             | ir.PartRef):
            self.scope.error("E210", f"`{_ref_name(expr)}` is not a constant; a literal "
                             "value is needed here", expr.span)
            return ir.Const(None, ERROR, expr.span)
        return expr

    def _bool(self, node: n.Expr, what: str) -> ir.Expr:
        return self.condition(node, f"the operand of {what}")

    def _binary(self, node: n.Binary) -> ir.Expr:
        left, right = self._expr(node.left), self._expr(node.right)
        if is_error(left.type) or is_error(right.type):
            return ir.Arith(node.op, left, right, ERROR, node.span)
        result = ARITHMETIC.get((node.op, left.type, right.type))
        if result is None:
            hint = _UNIT_HINTS.get((node.op, left.type, right.type))
            self.scope.error("E201", f"cannot compute {left.type} {node.op} {right.type}",
                             node.span, *([hint] if hint else []))
            return ir.Arith(node.op, left, right, ERROR, node.span)
        arith = ir.Arith(node.op, left, right, result, node.span)
        if node.op == "/" and _is_constant(right) and not _is_constant(left) \
                and _constant_value(right) == 0:
            self.scope.error("E610", "division by zero: this divisor is always 0", node.span)
            return ir.Arith(node.op, left, right, ERROR, node.span)
        return self._folds(arith)

    def _folds(self, expr: ir.Arith | ir.Compare) -> ir.Expr:
        """A wholly constant operation that cannot be evaluated (`1 year + 15 days`,
        `1万 / 0`, `1 year <= 365 days`) fails for every case: reported now (E610/E611),
        once, as the evaluator words it; the expression then has the ERROR type."""
        if not (_is_constant(expr.left) and _is_constant(expr.right)):
            return expr
        if fold_constant(expr, self.scope) is None:
            return type(expr)(expr.op, expr.left, expr.right, ERROR, expr.span)
        return expr

    def _in_set(self, operand: n.Expr, items: tuple[n.Expr, ...], negated: bool,
                span: n.Span) -> ir.Expr:
        subject = self._expr(operand)
        typed_items = tuple(self._expr(item) for item in items)
        for item, typed in zip(items, typed_items, strict=True):
            if not is_error(subject.type) and not is_error(typed.type) and \
                    typed.type != subject.type:
                self.scope.error("E211", f"this item is {typed.type} but the value tested is "
                                 f"{subject.type}", item.span)
        return ir.InSet(subject, typed_items, negated, ir.BOOL, span)

    def _call(self, node: n.Call) -> ir.Expr:
        func, span = node.func, node.span
        if func in ("sum", "count") or node.where is not None:
            self.scope.error("E213", f"`{func}(…)` adds up a book of cases: it belongs in a "
                             "portfolio rule's value, not in a per-case expression", span)
            return ir.Call("min", (), ERROR, span)
        if func not in _FUNCTIONS:
            self.scope.error("E206", f"unknown function `{func}`", span,
                             "functions are " + ", ".join(_FUNCTIONS))
            return ir.Call("min", (), ERROR, span)
        args = tuple(self._expr(a) for a in node.args)
        if any(is_error(a.type) for a in args):
            return ir.Call(func, args, ERROR, span)
        types = [a.type for a in args]

        def bad(expected: str) -> ir.Expr:
            got = ", ".join(str(t) for t in types) or "nothing"
            self.scope.error("E205", f"`{func}` takes {expected}; got ({got})", span)
            return ir.Call(func, args, ERROR, span)

        match func:
            case "min" | "max":
                if len(args) < 2 or len(set(types)) != 1 or not types[0].ordered:
                    return bad("two or more values of one ordered type")
                return ir.Call(func, args, types[0], span)
            case "round":
                if len(args) != 2 or types[0] != types[1] or not types[0].numeric:
                    return bad("a value and a step of the same type (round(x, 1元))")
                return ir.Call(func, args, types[0], span)
            case "abs":
                if len(args) != 1 or not types[0].numeric:
                    return bad("one money, percent or number")
                return ir.Call(func, args, types[0], span)
            case "years" | "months" | "days":
                if types != [D]:
                    return bad("one duration")
                return ir.Call(func, args, N, span)
            case "year" | "month":
                if types == [D]:
                    self.scope.error("E205", f"`{func}` takes one date (its calendar {func}); "
                                     f"a duration is counted in {func}s with `{func}s(…)`", span)
                    return ir.Call(func, args, ERROR, span)
                if types != [T]:
                    return bad("one date")
                return ir.Call(func, args, N, span)
        raise AssertionError(func)


def _is_constant(expr: ir.Expr) -> bool:
    """True if `expr` refers to no input, param, let or part (its value is known now)."""
    return not any(isinstance(node, ir.InputRef | ir.ParamRef | ir.LetRef | ir.PartRef)
                   for node in ir.walk(expr))


def _constant_value(expr: ir.Expr) -> ir.Value | None:
    from policylang.interpret import EvaluationError, evaluate_constant

    try:
        return evaluate_constant(expr)
    except EvaluationError:  # reported where that sub-expression was typed
        return None


def _ref_name(expr: ir.Expr) -> str:
    if isinstance(expr, ir.PartRef):
        return f"{expr.allocation}.{expr.party}"
    return expr.name


def _compare_hint(left: ir.Type, right: ir.Type, members: tuple[str, ...] = ()) -> list[str]:
    if left.numeric and right == N:
        return [f"give the number a unit to make it {left}"]
    if left == D and right in (M, N):
        return ["a duration is compared with a duration such as `1 year`"]
    if left == T and right == N:
        return ["a date is written year-month-day with two-digit month and day: `2022-06-01`"]
    if left.kind is ir.Kind.ENUM and right.kind is ir.Kind.ENUM and members:
        return [f"that member belongs to enum `{right}`; the members of `{left}` are "
                + ", ".join(members)]
    return []
