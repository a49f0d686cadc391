"""A policy's `portfolio` block over a book on DuckDB: window functions over the per-case
results, with the interpreter's exact semantics (policylang/portfolio.py).

Exact arithmetic is never re-implemented here. Each aggregate's per-case addend, filter
and group key become hidden lets of the per-case query (so the SQL emitter computes them);
window sums give each case its group's running totals; and a book rule's value over those
totals is again a tiny policy (totals as inputs, the value and its test as lets) compiled
by the same emitter. Only sums, comparisons and min/max, which are exact on DECIMAL, are
written here.
"""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal

from policylang import ir
from policylang import values as v
from policylang.diagnostics import PolicyError
from policylang.engine import SQL_TYPES, policy_query, quote_identifier
from policylang.portfolio import aggregates, key_label

ROW = "__pl_book_row"
_HIDDEN = "__pl_book"


def with_hidden_lets(policy: ir.Policy) -> ir.Policy:
    """The policy plus one hidden let per group key, aggregate addend and filter."""
    if policy.portfolio is None:
        return policy
    extra: list[ir.Let] = []
    for r, rule in enumerate(policy.portfolio.rules):
        extra += [_let(_key(r, j), key) for j, key in enumerate(rule.per)]
        for i, aggregate in enumerate(aggregates(rule.value)):
            if aggregate.arg is not None:
                extra.append(_let(_addend(r, i), aggregate.arg))
            if aggregate.where is not None:
                extra.append(_let(_filter(r, i), aggregate.where))
    return dataclasses.replace(policy, lets=policy.lets + tuple(extra),
                               order=policy.order + tuple(("let", x.name) for x in extra))


def _let(name: str, expr: ir.Expr) -> ir.Let:
    return ir.Let(name, expr.type, expr, None, None, expr.span)


def _key(r: int, j: int) -> str:
    return f"{_HIDDEN}_{r}_key_{j}"


def _addend(r: int, i: int) -> str:
    return f"{_HIDDEN}_{r}_addend_{i}"


def _filter(r: int, i: int) -> str:
    return f"{_HIDDEN}_{r}_filter_{i}"


def check_order(connection, policy: ir.Policy, book: str) -> None:
    q = quote_identifier(policy.portfolio.order_by)
    found = connection.execute(
        f"SELECT {ROW}, {q}, previous FROM (SELECT {ROW}, {q}, lag({q}) OVER (ORDER BY {ROW}) "
        f"AS previous FROM cases) WHERE {q} < previous ORDER BY {ROW} LIMIT 1").fetchone()
    if found:
        row, current, before = found
        name = policy.portfolio.order_by
        raise PolicyError.single(
            "E609", f"{book}: row {row + 1}: {name} {current.isoformat()} comes before row "
            f"{row}'s {before.isoformat()}; sort the book by {name} (ties keep their order)")


def evaluate(connection, policy: ir.Policy, params: dict[str, ir.Value], on_error) -> dict:
    """Create `__pl_portfolio` (one row per case: the portfolio columns) from `__pl_result`;
    return the report. `on_error(query, error)` turns a failing stage into a PolicyError."""
    connection.execute(f"CREATE TEMP TABLE __pl_portfolio AS SELECT {ROW} FROM __pl_result")
    report: dict = {"monitors": {}, "budgets": {}, "limits": {}}
    for r, rule in enumerate(policy.portfolio.rules):
        keys = [_key(r, j) for j in range(len(rule.per))]
        if rule.kind == "budget":
            groups = _budget(connection, policy, r, rule, keys, params)
        else:
            groups = _running_rule(connection, policy, r, rule, keys, params, on_error)
            bound = v.report(_constant(rule.bound, params), rule.bound.type)
            for group in groups:
                group["bound"] = bound
        report[rule.kind + "s"][rule.name] = {
            "per": [key_label(k) for k in rule.per], "cite": rule.cite, "groups": groups}
    return report


def _window(keys: list[str], frame: str) -> str:
    partition = f"PARTITION BY {', '.join(map(quote_identifier, keys))} " if keys else ""
    return f"OVER ({partition}ORDER BY {ROW} ROWS BETWEEN UNBOUNDED PRECEDING AND {frame})"


def _addend_sql(r: int, i: int, aggregate: ir.Aggregate) -> str:
    value = "1" if aggregate.arg is None else quote_identifier(_addend(r, i))
    if aggregate.where is None:
        return value
    return f"CASE WHEN {quote_identifier(_filter(r, i))} THEN {value} ELSE 0 END"


def _running_rule(connection, policy: ir.Policy, r: int, rule: ir.BookRule, keys: list[str],
                  params: dict[str, ir.Value], on_error) -> list[dict]:
    parts = aggregates(rule.value)
    totals = [f"{_HIDDEN}_total_{i}" for i in range(len(parts))]
    keyed = ", ".join(map(quote_identifier, keys))
    columns = [ROW] + [quote_identifier(k) for k in keys]
    columns += [f"CAST(SUM({_addend_sql(r, i, a)}) {_window(keys, 'CURRENT ROW')} AS "
                f"{SQL_TYPES[a.type.kind]}) AS {quote_identifier(t)}"
                for i, (a, t) in enumerate(zip(parts, totals, strict=True))]
    last = (f"{ROW} = max({ROW}) OVER (PARTITION BY {keyed})" if keys
            else f"{ROW} = max({ROW}) OVER ()")
    columns.append(f"{last} AS {_HIDDEN}_last")
    connection.execute("DROP TABLE IF EXISTS cases")
    connection.execute(f"CREATE TEMP TABLE cases AS SELECT {', '.join(columns)} FROM __pl_result")
    stage = _stage_policy(policy, rule, parts, totals)
    query = policy_query(stage, params)
    try:
        connection.execute(f"CREATE OR REPLACE TEMP TABLE __pl_stage AS {query}")
    except Exception as error:
        raise on_error(query, error) from None
    if rule.kind == "monitor":
        earlier = f"COALESCE(bool_or(holds) {_window(keys, '1 PRECEDING')}, false)"
        connection.execute(
            "CREATE OR REPLACE TEMP TABLE __pl_portfolio AS SELECT p.*, "
            f"s.value AS {quote_identifier(f'monitor__{rule.name}')}, "
            f"s.holds AND NOT s.earlier AS {quote_identifier(f'monitor__{rule.name}__tripped')}, "
            f"s.earlier AS {quote_identifier(f'suspended__{rule.name}')} FROM __pl_portfolio p "
            f"JOIN (SELECT *, {earlier} AS earlier FROM __pl_stage) s USING ({ROW})")
    return _running_report(connection, rule, keys)


def _stage_policy(policy: ir.Policy, rule: ir.BookRule, parts: list[ir.Aggregate],
                  totals: list[str]) -> ir.Policy:
    """Totals as inputs; the rule's value and whether `value op bound` holds as lets."""
    span = rule.span
    inputs = tuple(ir.Field(t, a.type, None, None, span) for a, t in zip(parts, totals,
                                                                         strict=True))
    last = ir.Field(f"{_HIDDEN}_last", ir.BOOL, None, None, span)
    value = _as_expr(rule.value, dict(zip(map(id, parts), inputs, strict=True)))
    if rule.kind == "limit":  # a limit is computed once, at its group's last case
        zero = ir.Const(Decimal(0), value.type, span)
        value = ir.If(ir.InputRef(last.name, ir.BOOL, span), value, zero, value.type, span)
    holds = ir.Compare(rule.op, ir.LetRef("value", value.type, span), _as_expr(rule.bound, {}),
                       ir.BOOL, span)
    lets = (ir.Let("value", value.type, value, None, None, span),
            ir.Let("holds", ir.BOOL, holds, None, None, span))
    return dataclasses.replace(
        policy, enums=(), inputs=inputs + (last,), lets=lets, checks=(), allocations=(),
        tests=(), order=(("let", "value"), ("let", "holds")), portfolio=None)


def _as_expr(expr: ir.BookExpr, inputs: dict[int, ir.Field]) -> ir.Expr:
    match expr:
        case ir.Aggregate():
            field = inputs[id(expr)]
            return ir.InputRef(field.name, field.type, expr.span)
        case ir.BookArith(op=op, left=left, right=right):
            return ir.Arith(op, _as_expr(left, inputs), _as_expr(right, inputs), expr.type,
                            expr.span)
        case ir.Const() | ir.ParamRef():
            return expr
    raise AssertionError(expr)


def _running_report(connection, rule: ir.BookRule, keys: list[str]) -> list[dict]:
    keyed = [quote_identifier(k) for k in keys]
    tripped = ("min(CASE WHEN holds AND NOT earlier THEN " + ROW + " END)"
               if rule.kind == "monitor" else "NULL")
    source = ("(SELECT *, COALESCE(bool_or(holds) " + _window(keys, "1 PRECEDING") +
              ", false) AS earlier FROM __pl_stage)" if rule.kind == "monitor"
              else "__pl_stage")
    select = ", ".join(keyed + ["count(*)", f"max({ROW})", tripped, f"min({ROW})"])
    groups = connection.execute(
        f"SELECT {select} FROM {source} {'GROUP BY ' + ', '.join(keyed) if keyed else ''} "
        "ORDER BY min(" + ROW + ")").fetchall()
    out = []
    for row in groups:
        key, (cases, last, tripped_row, _) = row[:len(keys)], row[len(keys):]
        if cases == 0:  # an empty book: an ungrouped aggregate still gives a row
            continue
        value, holds = connection.execute(
            f"SELECT value, holds FROM __pl_stage WHERE {ROW} = ?", [last]).fetchone()
        entry: dict = {"key": [_reported(k, e.type) for k, e in zip(key, rule.per,
                                                                   strict=True)],
                       "cases": cases, "value": _reported(value, rule.value.type),
                       "bound": None}
        if rule.kind == "monitor":
            tripped_value = None
            if tripped_row is not None:
                tripped_value = _reported(connection.execute(
                    f"SELECT value FROM __pl_stage WHERE {ROW} = ?", [tripped_row]).fetchone()[0],
                    rule.value.type)
            entry |= {"tripped_row": None if tripped_row is None else tripped_row + 1,
                      "tripped_value": tripped_value}
        else:
            entry["holds"] = bool(holds)
        out.append(entry)
    return out


def _constant(expr: ir.BookExpr, params: dict[str, ir.Value]) -> ir.Value:
    from policylang.portfolio import book_value

    return book_value(expr, {}, params)


def _budget(connection, policy: ir.Policy, r: int, rule: ir.BookRule, keys: list[str],
            params: dict[str, ir.Value]) -> list[dict]:
    cap = _constant(rule.bound, params)
    (aggregate,) = aggregates(rule.value)
    keyed = [quote_identifier(k) for k in keys]
    request = f"GREATEST({_addend_sql(r, 0, aggregate)}, 0)"
    before = f"COALESCE(SUM(request) {_window(keys, '1 PRECEDING')}, 0)"
    cap_sql = f"CAST('{cap:f}' AS DECIMAL(38,10))"
    connection.execute(
        "CREATE OR REPLACE TEMP TABLE __pl_stage AS SELECT *, GREATEST(0, LEAST(request, "
        f"{cap_sql} - {before})) AS paid FROM (SELECT {', '.join([ROW] + keyed)}, "
        f"CAST({request} AS DECIMAL(38,10)) AS request FROM __pl_result)")
    column = quote_identifier(f"budget__{rule.name}")
    connection.execute(
        "CREATE OR REPLACE TEMP TABLE __pl_portfolio AS SELECT p.*, "
        f"CAST(s.paid AS DECIMAL(18,2)) AS {column} FROM __pl_portfolio p "
        f"JOIN __pl_stage s USING ({ROW})")
    groups = connection.execute(
        f"SELECT {', '.join(keyed + ['count(*)', 'sum(request)', 'sum(paid)'])}, "
        f"min(CASE WHEN paid < request THEN {ROW} END) FROM __pl_stage "
        f"{'GROUP BY ' + ', '.join(keyed) if keyed else ''} ORDER BY min({ROW})").fetchall()
    out = []
    for row in groups:
        key, (cases, requested, paid, exhausted) = row[:len(keys)], row[len(keys):]
        if cases == 0:  # an empty book: an ungrouped aggregate still gives a row
            continue
        out.append({"key": [_reported(k, e.type) for k, e in zip(key, rule.per, strict=True)],
                    "cases": cases, "cap": v.report(cap, ir.MONEY),
                    "requested": v.report(Decimal(requested), ir.MONEY),
                    "paid": v.report(Decimal(paid), ir.MONEY),
                    "exhausted_row": None if exhausted is None else exhausted + 1})
    return out


def _reported(value: object, type_: ir.Type) -> object:
    if isinstance(value, Decimal):
        return v.report(value, type_)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value



def series(connection, policy: ir.Policy) -> dict[str, dict[str, list[tuple]]]:
    """For charts: per monitor and budget, per group, (date, value) at each date's last
    case: a monitor's running value, a budget's cumulative payout."""
    date = quote_identifier(policy.portfolio.order_by)
    out: dict[str, dict[str, list[tuple]]] = {}
    for r, rule in enumerate(policy.portfolio.rules):
        if rule.kind == "limit":
            continue
        keys = [quote_identifier(_key(r, j)) for j in range(len(rule.per))]
        if rule.kind == "monitor":
            value = quote_identifier(f"monitor__{rule.name}")
        else:
            paid = quote_identifier(f"budget__{rule.name}")
            frame = _window([_key(r, j) for j in range(len(rule.per))], "CURRENT ROW")
            value = f"SUM({paid}) {frame}"
        rows = connection.execute(
            f"SELECT {', '.join(keys + [date])}, arg_max(v, {ROW}) FROM (SELECT "
            f"{', '.join(['r.' + k for k in keys] + ['r.' + date, 'r.' + ROW])}, {value} AS v "
            f"FROM __pl_result r JOIN __pl_portfolio p USING ({ROW})) "
            f"GROUP BY {', '.join(keys + [date])} ORDER BY {date}").fetchall()
        groups: dict[str, list[tuple]] = {}
        for row in rows:
            key, day, amount = row[:len(keys)], row[len(keys)], row[len(keys) + 1]
            label = ", ".join(str(_reported(k, e.type)) for k, e in zip(key, rule.per,
                                                                        strict=True)) or "book"
            groups.setdefault(label, []).append((day, Decimal(amount)))
        out[f"{rule.kind}__{rule.name}"] = groups
    return out
