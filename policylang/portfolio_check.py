"""Checking a `portfolio` block: AST → `ir.Portfolio`.

A book rule's value is arithmetic over aggregates (`sum(x [where c])`, `count([where c])`),
constants and params; everything inside an aggregate is an ordinary per-case expression,
typed by the same `Typer` as the rest of the policy. The ordering field must be a date
input; budgets are caps on a money sum.
"""

from __future__ import annotations

from policylang import ir
from policylang import nodes as n
from policylang.typing_rules import ARITHMETIC, ERROR, Scope, Typer, fold_constant, is_error

_AGGREGATES = ("sum", "count")


def check_portfolio(decl: n.PortfolioDecl, scope: Scope, typer: Typer,
                    inputs: dict[str, ir.Field]) -> ir.Portfolio:
    seen: dict[str, n.BookRuleDecl] = {}
    rules = []
    for rule in decl.rules:
        if rule.name in seen:
            scope.error("E403", f"`{rule.name}` is already declared as a book rule (line "
                        f"{seen[rule.name].span.line})", rule.name_span)
        seen.setdefault(rule.name, rule)
        rules.append(_rule(rule, scope, typer))
    if decl.order_by is None:
        return ir.Portfolio(_implied_order(rules, scope, inputs, decl.order_span),
                            tuple(rules), decl.span)
    order = inputs.get(decl.order_by)
    if order is None or order.type != ir.DATE:
        found = f"a {order.type} input" if order is not None else "not an input"
        scope.error("E214", f"a portfolio is ordered by a date input; `{decl.order_by}` is "
                    f"{found}", decl.order_span)
    return ir.Portfolio(decl.order_by, tuple(rules), decl.span)


def _implied_order(rules: list[ir.BookRule], scope: Scope, inputs: dict[str, ir.Field],
                   keyword: n.Span) -> str:
    """`portfolio {` without `order by`: the book is taken in the order of the one date
    input the rules group by (`per year(claim_date)`), or of the policy's only date input;
    anything else would leave the order to chance, so it is an error."""
    grouped = sorted({node.name for node in ir.walk(tuple(rule.per for rule in rules))
                      if isinstance(node, ir.InputRef) and node.type == ir.DATE})
    dates = sorted(name for name, field in inputs.items() if field.type == ir.DATE)
    if len(grouped) == 1:
        return grouped[0]
    if not grouped and len(dates) == 1:
        return dates[0]
    found = (f"its rules group by {', '.join(f'`{d}`' for d in grouped)}" if grouped
             else f"the policy has {len(dates)} date inputs" if dates
             else "the policy has no date input")
    rule = ("of the one date its rules group by" if grouped else
            "of the policy's one date input (its rules group by no date)")
    scope.error("E214", f"a portfolio without `order by` is taken in the order {rule}, but "
                f"{found}; write `portfolio order by DATE_INPUT {{`", keyword)
    return grouped[0] if grouped else dates[0] if dates else ""


def _rule(rule: n.BookRuleDecl, scope: Scope, typer: Typer) -> ir.BookRule:
    if rule.clauses.when is not None:
        scope.error("E409", "a book rule has no `when`; filter its cases with "
                    "`sum(x where condition)`", rule.clauses.when.span)
    per = tuple(typer.expr(key) for key in rule.per)
    value = _book_expr(rule.value, scope, typer)
    bound = _book_expr(rule.bound, scope, typer)
    if _has_aggregate(bound):
        scope.error("E213", "a book rule's bound is a constant or a param, not an aggregate",
                    rule.bound.span)
    if not (is_error(value.type) or is_error(bound.type)):
        if value.type != bound.type:
            scope.error("E202", f"cannot compare {value.type} with {bound.type}",
                        rule.bound.span)
        elif not value.type.ordered:
            scope.error("E209", f"{value.type} values have no order", rule.value.span)
    if rule.kind == "budget" and not (
            isinstance(value, ir.Aggregate) and value.func == "sum" and value.type == ir.MONEY
            and rule.op == "<="):
        scope.error("E215", "a budget is a cap on a money sum: `budget NAME [per …] = "
                    "sum(amount [where …]) <= cap`", rule.span)
    return ir.BookRule(rule.kind, rule.name, per, value, rule.op, bound,
                       rule.clauses.cite.value if rule.clauses.cite else None,
                       rule.clauses.says.value if rule.clauses.says else None, rule.span)


def _book_expr(node: n.Expr, scope: Scope, typer: Typer) -> ir.BookExpr:
    match node:
        case n.Call(func=func) if func in _AGGREGATES:
            return _aggregate(node, scope, typer)
        case n.Binary(op=op, left=left, right=right):
            a, b = _book_expr(left, scope, typer), _book_expr(right, scope, typer)
            if is_error(a.type) or is_error(b.type):
                return ir.BookArith(op, a, b, ERROR, node.span)
            result = ARITHMETIC.get((op, a.type, b.type))
            if result is None:
                scope.error("E201", f"cannot compute {a.type} {op} {b.type}", node.span)
                return ir.BookArith(op, a, b, ERROR, node.span)
            return ir.BookArith(op, a, b, result, node.span)
    typed = typer.expr(node)
    if is_error(typed.type) or isinstance(typed, ir.ParamRef | ir.Const):
        return typed if not is_error(typed.type) else ir.Const(None, ERROR, node.span)
    if not _refers_to_cases(typed):
        value = fold_constant(typed, scope)
        return ir.Const(value, typed.type if value is not None else ERROR, node.span)
    scope.error("E213", "a book rule's value is made of sum(…), count(…), constants and "
                "params; a per-case value belongs inside sum(…)", node.span)
    return ir.Const(None, ERROR, node.span)


def _aggregate(node: n.Call, scope: Scope, typer: Typer) -> ir.BookExpr:
    where = typer.condition(node.where, "a `where` filter") if node.where is not None else None
    if node.func == "count":
        if node.args:
            scope.error("E205", "`count` takes no value: count() or count(where condition)",
                        node.span)
            return ir.Const(None, ERROR, node.span)
        return ir.Aggregate("count", None, where, ir.NUMBER, node.span)
    if len(node.args) != 1:
        scope.error("E205", "`sum` takes one money, percent or number value", node.span)
        return ir.Const(None, ERROR, node.span)
    arg = typer.expr(node.args[0])
    if is_error(arg.type):
        return ir.Const(None, ERROR, node.span)
    if not arg.type.numeric:
        scope.error("E205", f"`sum` takes one money, percent or number value; got {arg.type}",
                    node.span)
        return ir.Const(None, ERROR, node.span)
    return ir.Aggregate("sum", arg, where, arg.type, node.span)


def _refers_to_cases(expr: ir.Expr) -> bool:
    match expr:
        case ir.InputRef() | ir.LetRef() | ir.PartRef() | ir.ParamRef():
            return True
        case ir.Const():
            return False
    children = [getattr(expr, name) for name in ("operand", "left", "right", "cond", "then",
                                                 "otherwise") if hasattr(expr, name)]
    children += list(getattr(expr, "items", ())) + list(getattr(expr, "args", ()))
    return any(_refers_to_cases(child) for child in children)


def _has_aggregate(expr: ir.BookExpr) -> bool:
    match expr:
        case ir.Aggregate():
            return True
        case ir.BookArith(left=left, right=right):
            return _has_aggregate(left) or _has_aggregate(right)
    return False
