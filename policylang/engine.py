"""Running the generated SQL on embedded DuckDB: for one case (the `sql` backend of tests
and the conformance suite) and for a table of cases.

Owns the `cases` table layout (one typed column per input), reading result rows back into
decision JSON, and mapping DuckDB's errors to policylang's codes.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal

from policylang import ir
from policylang.diagnostics import PolicyError
from policylang.emit.sql import build_query
from policylang.values import format_decimal, format_duration, format_money

SQL_TYPES = {
    ir.Kind.MONEY: "DECIMAL(38,10)",
    ir.Kind.PERCENT: "DECIMAL(38,10)",
    ir.Kind.NUMBER: "DECIMAL(38,10)",
    ir.Kind.DURATION: "INTERVAL",
    ir.Kind.DATE: "DATE",
    ir.Kind.BOOL: "BOOLEAN",
    ir.Kind.ENUM: "VARCHAR",
}


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def connect():
    import duckdb

    return duckdb.connect()


def create_cases_table(connection, policy: ir.Policy, table: str = "cases") -> None:
    columns = ", ".join(f"{quote_identifier(f.name)} {SQL_TYPES[f.type.kind]}"
                        for f in policy.inputs) or "__pl_empty INTEGER"
    connection.execute(f"CREATE OR REPLACE TEMP TABLE {quote_identifier(table)} ({columns})")


def insert_cases(connection, policy: ir.Policy, cases: list[dict[str, ir.Value]]) -> None:
    fields = policy.inputs
    if not fields:
        connection.executemany("INSERT INTO cases VALUES (?)", [[0] for _ in cases])
        return
    placeholders = ", ".join(
        "CAST(? AS INTERVAL)" if f.type.kind is ir.Kind.DURATION else "?" for f in fields)
    rows = [[_sql_value(case[f.name], f.type) for f in fields] for case in cases]
    connection.executemany(f"INSERT INTO cases VALUES ({placeholders})", rows)


def _sql_value(value: ir.Value, type_: ir.Type) -> object:
    if type_.kind is ir.Kind.DURATION:
        return f"{value.amount} {'months' if value.unit == 'month' else 'days'}"
    return value


def result_query(policy: ir.Policy, params: dict[str, ir.Value]) -> str:
    """The policy's query wrapped so that durations come back as (months, days) pairs."""
    return _result_query(policy, tuple(params.items()))


def policy_query(policy: ir.Policy, params: dict[str, ir.Value]) -> str:
    """The policy's DuckDB query with params bound (built once per policy and params:
    building and rendering the sqlglot tree costs far more than running it)."""
    return _policy_query(policy, tuple(params.items()))


@functools.lru_cache(maxsize=64)
def _policy_query(policy: ir.Policy, param_items: tuple) -> str:
    return build_query(policy, dict(param_items), "duckdb").sql(dialect="duckdb")


@functools.lru_cache(maxsize=64)
def _result_query(policy: ir.Policy, param_items: tuple) -> str:
    inner = _policy_query(policy, param_items)
    columns = []
    for name, type_ in output_columns(policy):
        q = quote_identifier(name)
        if type_.kind is ir.Kind.DURATION:
            columns.append(f"datepart('year', {q}) * 12 + datepart('month', {q}) AS {q}")
            columns.append(f"datepart('day', {q}) AS {quote_identifier(name + '__days')}")
        else:
            columns.append(q)
    return f"SELECT {', '.join(columns)} FROM ({inner}) AS decisions"


def output_columns(policy: ir.Policy) -> list[tuple[str, ir.Type]]:
    columns: list[tuple[str, ir.Type]] = []
    for check in policy.checks:
        columns.append((f"rule__{check.name}", ir.BOOL))
        if isinstance(check, ir.Limit):
            columns.append((f"rule__{check.name}__value", check.subject.type))
            columns.append((f"rule__{check.name}__bound", check.bound.type))
    columns += [(let.name, let.type) for let in policy.lets]
    for alloc in policy.allocations:
        if isinstance(alloc, ir.Shares) and alloc.amount is None:
            continue
        columns += [(f"{alloc.name}__{party}", ir.MONEY) for party in alloc.parties]
    columns.append(("eligible", ir.BOOL))
    return columns


def decision_from_row(policy: ir.Policy, row: dict) -> dict:
    failures = []
    for check in policy.checks:
        if row[f"rule__{check.name}"]:
            continue
        failure = {"rule": check.name, "kind": "limit" if isinstance(check, ir.Limit) else "rule",
                   "cite": check.cite, "message": check.says or ""}
        if isinstance(check, ir.Limit):
            for side, type_ in (("value", check.subject.type), ("bound", check.bound.type)):
                failure[side] = _reported(row, f"rule__{check.name}__{side}", type_)
        failures.append(failure)
    return {
        "policy": policy.name,
        "version": policy.meta.version,
        "eligible": bool(row["eligible"]),
        "failures": failures,
        "values": {let.name: _reported(row, let.name, let.type) for let in policy.lets},
        "allocations": {
            alloc.name: {party: _reported(row, f"{alloc.name}__{party}", ir.MONEY)
                         for party in alloc.parties}
            for alloc in policy.allocations
            if not (isinstance(alloc, ir.Shares) and alloc.amount is None)
        },
    }


def _reported(row: dict, name: str, type_: ir.Type) -> object:
    value = row[name]
    match type_.kind:
        case ir.Kind.MONEY:
            return format_money(Decimal(value))
        case ir.Kind.PERCENT | ir.Kind.NUMBER:
            return format_decimal(Decimal(value))
        case ir.Kind.DURATION:
            months, days = int(value), int(row[name + "__days"])
            return format_duration(ir.Duration(days, "day") if days or not months else
                                   ir.Duration(months, "month"))
        case ir.Kind.DATE:
            return value.isoformat()
        case ir.Kind.BOOL | ir.Kind.ENUM:
            return value
    raise AssertionError(type_)


_CODE = re.compile(r"\b(E6\d\d): (.*)")


def translate_error(error: Exception) -> PolicyError:
    """A DuckDB error raised by a policy's query → PolicyError with policylang's code."""
    text = str(error)
    match = _CODE.search(text)
    if match:
        return PolicyError.single(match.group(1), match.group(2).strip())
    if "Out of Range" in text or "Overflow" in text:
        return PolicyError.single("E611", "value out of range (magnitude must stay below "
                                  "10^18)")
    raise error


def sql_backend(policy: ir.Policy):
    """A Backend running the policy's DuckDB query on one case at a time."""
    import duckdb

    connection = connect()
    create_cases_table(connection, policy)

    def run(case: dict[str, ir.Value], params: dict[str, ir.Value]) -> dict:
        connection.execute("DELETE FROM cases")
        insert_cases(connection, policy, [case])
        try:
            cursor = connection.execute(result_query(policy, params))
            names = [d[0] for d in cursor.description]
            row = dict(zip(names, cursor.fetchone(), strict=True))
        except duckdb.Error as error:
            raise translate_error(error) from None
        return decision_from_row(policy, row)

    return run


def run_many(policy: ir.Policy, cases: list[dict[str, ir.Value]],
             params: dict[str, ir.Value], connection=None) -> list[dict | PolicyError]:
    """Decisions for many cases, in as few queries as possible: one case's error aborts a
    query, so a failing batch is halved until the failing cases stand alone."""
    import duckdb

    connection = connection or connect()
    query = result_query(policy, params)

    def run(batch: list[dict[str, ir.Value]]) -> list[dict | PolicyError]:
        create_cases_table(connection, policy)
        insert_cases(connection, policy, batch)
        try:
            cursor = connection.execute(query)
            names = [d[0] for d in cursor.description]
            return [decision_from_row(policy, dict(zip(names, row, strict=True)))
                    for row in cursor.fetchall()]
        except duckdb.Error as error:
            if len(batch) == 1:
                return [translate_error(error)]
        middle = len(batch) // 2
        return run(batch[:middle]) + run(batch[middle:])

    return run(cases) if cases else []
