"""Book-level rules: the reference semantics of a `portfolio` block over a list of cases.

The book is taken in its given order, which must not go back in time on the ordering date
(ties keep the book's order). Per book rule and group (`per` keys):
- an aggregate adds up its per-case values (money as each case reports it, to the fen;
  `count` counts cases) over the group's cases so far, the current one included,
  skipping cases whose `where` is false;
- a monitor's value is recomputed after each case; the first case where `value op bound`
  holds trips it (`monitor__NAME__tripped`), and the group's later cases are suspended
  (`suspended__NAME`); its value is `monitor__NAME`;
- a budget pays each case `max(0, min(request, cap − requests before))`, where a request
  is the summed amount (negative amounts request nothing): the crossing payout is
  truncated, later ones get 0 (`budget__NAME`);
- a book limit compares its value over the whole group with its bound (report only;
  computed once, at the group's last case).
Every case's own part (its decision, its keys and addends) comes first, then the rules in
order; a fault names its first failing row (`book: row 3: …`, a rule's also the rule).
Every backend reproduces these columns, the report and the faults exactly.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import assert_never

from policylang import ir
from policylang import values as v
from policylang.diagnostics import PolicyError
from policylang.interpret import Decision, EvaluationError, _arith
from policylang.values import EvalError, in_exact_context


@dataclass
class BookResult:
    decisions: list[dict]
    columns: list[dict[str, object]]  # per case: the portfolio columns, reported
    report: dict = field(default_factory=dict)


def portfolio_columns(policy: ir.Policy) -> list[tuple[str, ir.Type]]:
    """The per-case columns a portfolio adds, in order (for SQL and book output)."""
    columns: list[tuple[str, ir.Type]] = []
    for rule in policy.portfolio.rules if policy.portfolio else ():
        if rule.kind == "monitor":
            columns += [(f"monitor__{rule.name}", rule.value.type),
                        (f"monitor__{rule.name}__tripped", ir.BOOL),
                        (f"suspended__{rule.name}", ir.BOOL)]
        elif rule.kind == "budget":
            columns.append((f"budget__{rule.name}", ir.MONEY))
    return columns


def aggregates(expr: ir.BookExpr) -> list[ir.Aggregate]:
    match expr:
        case ir.Aggregate():
            return [expr]
        case ir.BookArith(left=left, right=right):
            return aggregates(left) + aggregates(right)
        case ir.Const() | ir.ParamRef():
            return []
        case _:
            assert_never(expr)


def key_label(expr: ir.Expr) -> str:
    match expr:
        case ir.InputRef(name=name) | ir.LetRef(name=name) | ir.ParamRef(name=name):
            return name
        case ir.Call(func=func, args=args):
            return f"{func}({', '.join(key_label(a) for a in args)})"
    return "key"


def check_cases(policy: ir.Policy, cases: Sequence[object], where: str = "book") -> None:
    """Every case a mapping with a value for every input and a date to order by; else
    E607/E602/E603 naming the first bad row (rows counted from 1)."""
    names = [f.name for f in policy.inputs]
    order_by = policy.portfolio.order_by if policy.portfolio else None
    for row, case in enumerate(cases, 1):
        if not isinstance(case, Mapping):
            raise PolicyError.single("E607", f"{where}: row {row}: a case is a mapping of "
                                     f"input fields, not {type(case).__name__}")
        missing = next((name for name in names if case.get(name) is None), None)
        if missing is not None:
            what = "the ordering field" if missing == order_by else "input field"
            raise PolicyError.single("E602", f"{where}: row {row}: no value for {what} "
                                     f"`{missing}`")
        if order_by is not None and not isinstance(case[order_by], datetime.date):
            raise PolicyError.single("E603", f"{where}: row {row}: `{order_by}` is "
                                     f"{case[order_by]!r}, not a date")


@in_exact_context
def decide_book(policy: ir.Policy, rows: Sequence[Mapping[str, object]],
                params: Mapping[str, object] | None = None, where: str = "book") -> BookResult:
    """A book given as JSON-like rows, each read exactly like case JSON (`api.decide`);
    every mistake is a PolicyError naming its row (counted from 1)."""
    from policylang.cases import parse_case, parse_params

    cases = [parse_case(policy, row, f"{where}: row {index}")
             for index, row in enumerate(rows, 1)]
    return evaluate_book(policy, cases, parse_params(policy, params or {}), where)


def check_order(policy: ir.Policy, cases: list[dict[str, ir.Value]], where: str = "book") -> None:
    """E609 at the first case dated before the case above it."""
    check_cases(policy, cases, where)
    if policy.portfolio is None:
        return
    field_name = policy.portfolio.order_by
    for index in range(1, len(cases)):
        before, current = cases[index - 1][field_name], cases[index][field_name]
        if current < before:
            raise PolicyError.single(
                "E609", f"{where}: row {index + 1}: {field_name} {current.isoformat()} comes "
                f"before row {index}'s {before.isoformat()}; sort the book by {field_name} "
                "(ties keep their order)")


# A case's own part of a book rule: its group key and its addend to each aggregate.
_Terms = tuple[tuple, list[Decimal]]


@in_exact_context
def evaluate_book(policy: ir.Policy, cases: list[dict[str, ir.Value]],
                  params: dict[str, ir.Value], where: str = "book") -> BookResult:
    check_order(policy, cases, where)
    rules = policy.portfolio.rules if policy.portfolio else ()
    decisions: list[Decision] = []
    terms: list[list[_Terms]] = [[] for _ in rules]  # per rule, per case
    # Each case's own part first, book rules after, as the SQL engines compute them; a
    # fault names the first case it occurs at (docs/semantics.md), as `run --book` does.
    for row, case in enumerate(cases):
        try:
            decision = Decision.of(policy, case, params)
            for rule, found in zip(rules, terms, strict=True):
                found.append(_terms(rule, decision))
        except EvaluationError as error:
            diagnostic = error.diagnostics[0]
            raise PolicyError.single(diagnostic.code, f"{where}: row {row + 1}: "
                                     f"{diagnostic.message}", diagnostic.span,
                                     diagnostic.notes) from None
        decisions.append(decision)
    columns: list[dict[str, object]] = [{} for _ in cases]
    report: dict = {"monitors": {}, "budgets": {}, "limits": {}}
    for rule, found in zip(rules, terms, strict=True):
        try:
            section = _evaluate_rule(rule, found, params, columns)
        except _RowError as error:
            raise PolicyError.single(error.code, f"{where}: row {error.row + 1}: "
                                     f"{rule.kind} {rule.name}: {error.message}") from None
        report[rule.kind + "s"][rule.name] = section
    return BookResult([d.to_json() for d in decisions], columns, report)


class _RowError(Exception):
    def __init__(self, row: int, code: str, message: str):
        self.row, self.code, self.message = row, code, message


def _terms(rule: ir.BookRule, decision: Decision) -> _Terms:
    return (tuple(_group_key(decision.value_of(k)) for k in rule.per),
            [_contribution(a, decision) for a in aggregates(rule.value)])


def _evaluate_rule(rule: ir.BookRule, terms: list[_Terms],
                   params: dict[str, ir.Value], columns: list[dict[str, object]]) -> dict:
    parts = aggregates(rule.value)
    groups: dict[tuple, dict] = {}
    for row, (key, contributions) in enumerate(terms):
        group = groups.setdefault(key, {"totals": [Decimal(0)] * len(parts), "rows": 0,
                                        "last_row": row, "tripped_row": None,
                                        "requested": Decimal(0), "paid": Decimal(0),
                                        "exhausted_row": None})
        group["totals"] = [t + c for t, c in zip(group["totals"], contributions, strict=True)]
        group["rows"] += 1
        group["last_row"] = row
        if rule.kind == "monitor":
            _monitor_step(rule, group, row, params, columns[row], parts)
        elif rule.kind == "budget":
            _budget_step(rule, group, row, params, columns[row], contributions[0])
    # A limit is computed at each group's last case, and a book's fault is its earliest
    # failing row (docs/semantics.md): the groups are computed in the order of their last
    # cases, and reported in the order of their first.
    by_last_case = sorted(groups.items(), key=lambda item: item[1]["last_row"])
    reports = {key: _group_report(rule, key, group, params, parts)
               for key, group in by_last_case}
    return {"per": [key_label(k) for k in rule.per], "cite": rule.cite,
            "groups": [reports[key] for key in groups]}


def _group_key(value: ir.Value) -> ir.Value:
    """A zero duration has no unit (docs/semantics.md): 0 months and 0 days are one group,
    as they are one value in every SQL engine."""
    if isinstance(value, ir.Duration) and value.amount == 0:
        return ir.Duration(0, "day")
    return value


def _contribution(aggregate: ir.Aggregate, decision: Decision) -> Decimal:
    """A case's addend: money as the case reports it (to the fen), other values exact."""
    if aggregate.where is not None and not decision.value_of(aggregate.where):
        return Decimal(0)
    if aggregate.arg is None:
        return Decimal(1)
    value = decision.value_of(aggregate.arg)
    return v.to_fen(value) if aggregate.type == ir.MONEY else value


def book_value(expr: ir.BookExpr, totals: dict[int, Decimal], params: dict[str, ir.Value]
           ) -> ir.Value:
    match expr:
        case ir.Aggregate():
            return totals[id(expr)]
        case ir.BookArith(op=op, left=left, right=right):
            return _arith(op, book_value(left, totals, params), book_value(right, totals, params))
        case ir.Const(value=value):
            return value
        case ir.ParamRef(name=name):
            return params[name]
        case _:
            assert_never(expr)


def _current(rule: ir.BookRule, group: dict, params: dict[str, ir.Value],
             parts: list[ir.Aggregate], row: int) -> tuple[ir.Value, ir.Value]:
    totals = {id(a): t for a, t in zip(parts, group["totals"], strict=True)}
    try:
        return book_value(rule.value, totals, params), book_value(rule.bound, {}, params)
    except EvalError as error:
        raise _RowError(row, error.code, error.message) from None


def _holds(op: str, value: ir.Value, bound: ir.Value) -> bool:
    return {"<": value < bound, "<=": value <= bound, ">": value > bound,
            ">=": value >= bound}[op]


def _monitor_step(rule: ir.BookRule, group: dict, row: int, params: dict[str, ir.Value],
                  out: dict[str, object], parts: list[ir.Aggregate]) -> None:
    value, bound = _current(rule, group, params, parts, row)
    suspended = group["tripped_row"] is not None
    trips = not suspended and _holds(rule.op, value, bound)
    if trips:
        group["tripped_row"], group["tripped_value"] = row, value
    out[f"monitor__{rule.name}"] = v.report(value, rule.value.type)
    out[f"monitor__{rule.name}__tripped"] = trips
    out[f"suspended__{rule.name}"] = suspended


def _budget_step(rule: ir.BookRule, group: dict, row: int, params: dict[str, ir.Value],
                 out: dict[str, object], request: Decimal) -> None:
    cap = book_value(rule.bound, {}, params)
    request = max(request, Decimal(0))
    paid = max(Decimal(0), min(request, cap - group["requested"]))
    group["requested"] += request
    group["paid"] += paid
    if paid < request and group["exhausted_row"] is None:
        group["exhausted_row"] = row
    out[f"budget__{rule.name}"] = v.report(paid, ir.MONEY)


def _group_report(rule: ir.BookRule, key: tuple, group: dict, params: dict[str, ir.Value],
                  parts: list[ir.Aggregate]) -> dict:
    labels = [v.report(k, e.type) for k, e in zip(key, rule.per, strict=True)]
    entry: dict = {"key": labels, "cases": group["rows"]}
    if rule.kind == "budget":
        cap = book_value(rule.bound, {}, params)
        entry |= {"cap": v.report(cap, ir.MONEY),
                  "requested": v.report(group["requested"], ir.MONEY),
                  "paid": v.report(group["paid"], ir.MONEY),
                  "exhausted_row": _row(group["exhausted_row"])}
        return entry
    value, bound = _current(rule, group, params, parts, group["last_row"])
    entry |= {"value": v.report(value, rule.value.type),
              "bound": v.report(bound, rule.bound.type)}
    if rule.kind == "monitor":
        tripped = group["tripped_row"]
        entry |= {"tripped_row": _row(tripped),
                  "tripped_value": None if tripped is None
                  else v.report(group["tripped_value"], rule.value.type)}
    else:
        entry["holds"] = _holds(rule.op, value, bound)
    return entry


def _row(index: int | None) -> int | None:
    return None if index is None else index + 1
