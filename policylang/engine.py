"""Running the generated SQL on embedded DuckDB: for one case (the `sql` backend of tests
and the conformance suite) and for a table of cases.

Owns the `cases` table layout (one typed column per input), reading result rows back into
decision JSON, and mapping DuckDB's errors to policylang's codes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from decimal import Decimal

from policylang import ir
from policylang.book_cells import INTEGER_SQL
from policylang.diagnostics import PolicyError, first_line
from policylang.emit.sql import build_query
from policylang.emit.sql_money import MONEY_OUT_OF_RANGE
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
    """A DuckDB connection for policy queries. DuckDB 2.0's `projection_placement`
    optimizer is off: it took 76 of the 80 s of planning a 2,000-line policy's query, and
    the plans it gives 重庆's book query run 12% slower on 1M rows (佛山's: the same). A
    DuckDB without that optimizer refuses to name it, and is left as it is."""
    import duckdb

    connection = duckdb.connect()
    try:
        connection.execute("SET disabled_optimizers = 'projection_placement'")
    except duckdb.Error:
        pass
    return connection


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
    return build_query(policy, dict(param_items), "duckdb").sql(dialect="duckdb", copy=False)


def book_query(policy: ir.Policy, params: dict[str, ir.Value], carry: tuple[str, ...],
               bounds: tuple | None = None, limit_values: bool = True) -> str:
    """The query `run --book` materialises: the `carry` columns of `cases` (its row number,
    the inputs the portfolio reads back) and the outputs (`output_columns`), no other input
    column; narrowed to the book's `bounds` (see `measure_bounds`) when given."""
    return _book_query(policy, tuple(params.items()), carry, bounds, limit_values)


@functools.lru_cache(maxsize=64)
def _book_query(policy: ir.Policy, param_items: tuple, carry: tuple[str, ...],
                bounds: tuple | None, limit_values: bool) -> str:
    if bounds is None:
        builder = build_query(policy, dict(param_items), "duckdb", carry=carry,
                              only_carried=True, limit_values=limit_values)
        return builder.sql(dialect="duckdb", copy=False)
    return narrow_query(policy, dict(param_items), bounds, carry, only_carried=True,
                        limit_values=limit_values)


def narrow_query(policy: ir.Policy, params: dict[str, ir.Value], bounds: tuple,
                 carry: tuple[str, ...] = (), only_carried: bool = False,
                 limit_values: bool = True) -> str:
    """The DuckDB query narrowed to the bounds of a book (emit/sql_narrow.py)."""
    from policylang.emit.sql_dialects import check_translatable
    from policylang.emit.sql_narrow import NarrowBuilder

    check_translatable(policy, "duckdb", per_case=False)
    builder = NarrowBuilder(policy, params, dict(bounds))
    builder.carry = carry
    if only_carried:
        builder.star_except, builder.carry_inputs = False, False
    builder.limit_values = limit_values
    return builder.build().sql(dialect="duckdb", copy=False)


def measure_bounds(connection, policy: ir.Policy, table: str = "cases",
                   query: str | None = None) -> tuple:
    """The bounds of each numeric and duration input column of `table` (or of the rows of
    `query`), in one scan: least and greatest value rounded outward to a power of ten, and
    the column type's places. A hashable tuple of (input name, Bounds | DurationBounds)."""
    source = f"({query})" if query is not None else quote_identifier(table)
    return scan_bounds(connection, policy, source)[0]


def scan_bounds(connection, policy: ir.Policy, source: str,
                extra: tuple[str, ...] = (),
                known: frozenset[str] = frozenset()) -> tuple[tuple, list]:
    """`measure_bounds` of the rows of `source`, and the values of the `extra` aggregates
    over them, computed in the same scan; the inputs in `known` (bounded already) are
    not measured."""
    from policylang.emit.sql_bounds import DurationBounds, bucketed

    types = {row[0]: row[1] for row in
             connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    measured: list[tuple[str, str]] = []
    selects: list[str] = []
    for f in policy.inputs:
        if f.name not in types or f.name in known:
            continue
        q = quote_identifier(f.name)
        if f.type.numeric:
            measured.append((f.name, "number"))
            selects += [f"min({q})", f"max({q})"]
        elif f.type.kind is ir.Kind.DURATION:
            measured.append((f.name, "duration"))
            months = f"datepart('year', {q}) * 12 + datepart('month', {q})"
            days = f"datepart('day', {q})"
            selects += [f"min({months})", f"max({months})", f"min({days})", f"max({days})"]
    if not selects and not extra:
        return (), []
    found = list(connection.execute(
        f"SELECT {', '.join(selects + list(extra))} FROM {source}").fetchone())
    extra_values = found[len(selects):]
    del found[len(selects):]

    def next_pair(places: int):
        low, high = found.pop(0), found.pop(0)
        if low is None:  # no value in the column: the default bounds it
            return None
        return bucketed(Decimal(low), Decimal(high), places)

    bounds: list[tuple[str, object]] = []
    for name, kind in measured:
        if kind == "number":
            found_bounds = next_pair(places_of_type(types[name]))
        else:
            months, days = next_pair(0), next_pair(0)
            found_bounds = None if months is None else DurationBounds(months, days)
        if found_bounds is not None:
            bounds.append((name, found_bounds))
    return tuple(bounds), extra_values


def places_of_type(sql_type: str) -> int:
    """Decimal places a column's values can have: a DECIMAL's scale, 0 for integers, and
    10 (all policylang keeps) otherwise."""
    upper = sql_type.upper()
    if upper.startswith("DECIMAL(") or upper.startswith("NUMERIC("):
        return min(int(upper.split(",")[1].rstrip(")")), 10)
    if upper in INTEGER_SQL:
        return 0
    return 10


@functools.lru_cache(maxsize=256)
def _result_query(policy: ir.Policy, param_items: tuple, bounds: tuple | None = None) -> str:
    inner = (_policy_query(policy, param_items) if bounds is None
             else narrow_query(policy, dict(param_items), bounds))
    columns = []
    for name, type_ in output_columns(policy):
        q = quote_identifier(name)
        if type_.kind is ir.Kind.DURATION:
            columns.append(f"datepart('year', {q}) * 12 + datepart('month', {q}) AS {q}")
            columns.append(f"datepart('day', {q}) AS {quote_identifier(name + '__days')}")
        else:
            columns.append(q)
    return f"SELECT {', '.join(columns)} FROM ({inner}) AS decisions"


def output_columns(policy: ir.Policy, limit_values: bool = True) -> list[tuple[str, ir.Type]]:
    """The columns the policy's query adds, in order, with their types; `limit_values`:
    with each limit's value and bound (`rule__NAME__value`, `rule__NAME__bound`)."""
    columns: list[tuple[str, ir.Type]] = []
    for check in policy.checks:
        columns.append((f"rule__{check.name}", ir.BOOL))
        if isinstance(check, ir.Limit) and limit_values:
            columns.append((f"rule__{check.name}__value", check.subject.type))
            columns.append((f"rule__{check.name}__bound", check.bound.type))
    columns += [(let.name, let.type) for let in policy.lets]
    for alloc in policy.allocations:
        if isinstance(alloc, ir.Shares) and alloc.amount is None:
            continue
        columns += [(f"{alloc.name}__{party}", ir.MONEY) for party in alloc.parties]
    columns.append(("eligible", ir.BOOL))
    return columns


def decision_from_row(policy: ir.Policy, row: dict,
                      reported: Callable[[dict, str, ir.Type], object] | None = None) -> dict:
    """The decision JSON of one result row. `reported(row, column, type)` gives a cell's
    reported form; by default the query's own (a duration as its months and `__days`)."""
    reported = reported or _reported
    failures = []
    for check in policy.checks:
        if row[f"rule__{check.name}"]:
            continue
        failure = {"rule": check.name, "kind": "limit" if isinstance(check, ir.Limit) else "rule",
                   "cite": check.cite, "message": check.says or ""}
        if isinstance(check, ir.Limit):
            for side, type_ in (("value", check.subject.type), ("bound", check.bound.type)):
                failure[side] = reported(row, f"rule__{check.name}__{side}", type_)
        failures.append(failure)
    return {
        "policy": policy.name,
        "version": policy.meta.version,
        "eligible": bool(row["eligible"]),
        "failures": failures,
        "values": {let.name: reported(row, let.name, let.type) for let in policy.lets},
        "allocations": {
            alloc.name: {party: reported(row, f"{alloc.name}__{party}", ir.MONEY)
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
            return value if isinstance(value, str) else value.isoformat()
        case ir.Kind.BOOL:
            return bool(value)
        case ir.Kind.ENUM:
            return value
    raise AssertionError(type_)


_CODE = re.compile(r"\b(E6\d\d): ([^\n]*)")
# How each engine says a value left its type's range (the query's own checks come first;
# these catch what only the database sees, such as a date outside the calendar).
_OUT_OF_RANGE = ("Out of Range", "Overflow", "numeric field overflow", "out of range",
                 "Could not cast value")
# …and how each says a date left the calendar (date ± a long duration).
_OUT_OF_CALENDAR = ("not in timestamp range", "date out of range", "Date out of range",
                    "timestamp out of range", "year is out of range")
_QUOTED_QUERY = re.compile(r"\n\s*LINE \d+:")


def translate_error(error: Exception) -> PolicyError:
    """A database error raised by a policy's query → PolicyError with policylang's code.
    The query raises its own errors with the code in the message (DuckDB's ERROR(), a
    failing cast on PostgreSQL, a bad JSON path on SQLite), quoted by some engines."""
    # Engines quote the failing query after the message (DuckDB and PostgreSQL: "LINE 1:
    # …"), and a policy's query holds every ERROR('E610: …') it might raise: only the
    # message says which one did.
    text = _QUOTED_QUERY.split(str(error), maxsplit=1)[0]
    match = _CODE.search(text)
    if match:
        message = match.group(2).strip().rstrip("'\"").strip()
        if type(error).__module__ == "sqlite3":  # its JSON path error quotes with %q: '' is '
            message = message.replace("''", "'")
        return PolicyError.single(match.group(1), message)
    if any(marker in text for marker in _OUT_OF_CALENDAR):
        return PolicyError.single("E611", "a date is outside the calendar (0001-01-01 to "
                                  "9999-12-31)")
    if "user-defined function raised exception" in text:  # SQLite's functions: no reason
        return PolicyError.single("E611", "value out of range (a number's magnitude of "
                                  "10^18 or more, or a date outside the calendar)")
    if any(marker in text for marker in _OUT_OF_RANGE):
        return PolicyError.single("E611", out_of_range(text))
    raise error


# How each engine names the DECIMAL(18,2) column a money let, part or limit side is
# written to (DuckDB's cast, PostgreSQL's field, Spark's cast): what failed is that rule.
_MONEY_COLUMN = re.compile(r"DECIMAL\(18, ?2\)|precision 18, scale 2", re.IGNORECASE)


def out_of_range(text: str) -> str:
    """E611's message for an engine's overflow `text` (its message, without the query)."""
    if _MONEY_COLUMN.search(text):
        return MONEY_OUT_OF_RANGE
    return "value out of range (magnitude must stay below 10^18)"


def sql_backend(policy: ir.Policy, dialect: str = "duckdb"):
    """A Backend running the policy's query for `dialect` on one case, or on every case
    of a policy's tests at once (`backends.batched`: one query per set of params, where
    each query's planning took a 2,000-line policy's 40 tests 10 s apiece)."""
    from policylang.backends import batched

    database = open_database(dialect)
    return batched(lambda cases, params: run_many(policy, cases, params, database=database))


def run_many(policy: ir.Policy, cases: list[dict[str, ir.Value]],
             params: dict[str, ir.Value], connection=None, dialect: str = "duckdb",
             database: Database | None = None) -> list[dict | PolicyError]:
    """Decisions for many cases, in as few queries as possible: one case's error aborts a
    query, so a failing batch is halved until the failing cases stand alone."""
    if database is None:
        database = (DuckDatabase(connection) if connection is not None
                    else open_database(dialect))

    def run(batch: list[dict[str, ir.Value]]) -> list[dict | PolicyError]:
        database.load_cases(policy, batch)
        try:
            # After loading: a narrowed query is built for the cases it runs on.
            query = database.result_query(policy, params)
            return [decision_from_row(policy, row) for row in database.rows(query)]
        except database.errors as error:
            database.recover()
            if len(batch) == 1:
                return [translate_error(error)]
        middle = len(batch) // 2
        return run(batch[:middle]) + run(batch[middle:])

    return run(cases) if cases else []


# ── databases: DuckDB (embedded), SQLite (embedded), PostgreSQL (a server) ────────────


CASE_ID = "__pl_case"  # the case's position: SQLite and PostgreSQL keep no row order


class Database:
    """One connection running policies' per-case queries over a `cases` table."""

    dialect = "duckdb"
    errors: tuple[type[Exception], ...] = ()

    def __init__(self, connection):
        self.connection = connection

    def result_query(self, policy: ir.Policy, params: dict[str, ir.Value]) -> str:
        return _dialect_result_query(policy, tuple(params.items()), self.dialect)

    def load_cases(self, policy: ir.Policy, cases: list[dict[str, ir.Value]]) -> None:
        raise NotImplementedError

    def rows(self, query: str) -> list[dict]:
        cursor = self.connection.execute(query)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def recover(self) -> None:
        """Make the connection usable again after a failed query."""


class DuckDatabase(Database):
    dialect = "duckdb"

    def __init__(self, connection=None):
        import duckdb

        super().__init__(connection or connect())
        self.errors = (duckdb.Error,)

    def result_query(self, policy: ir.Policy, params: dict[str, ir.Value]) -> str:
        return result_query(policy, params)

    def load_cases(self, policy: ir.Policy, cases: list[dict[str, ir.Value]]) -> None:
        create_cases_table(self.connection, policy)
        insert_cases(self.connection, policy, cases)


class NarrowDuckDatabase(DuckDatabase):
    """DuckDB running the query narrowed to the bounds of the cases loaded (as `run
    --book` runs it): the conformance suite and the differential test prove it exact."""

    dialect = "duckdb-narrow"

    def result_query(self, policy: ir.Policy, params: dict[str, ir.Value]) -> str:
        return _result_query(policy, tuple(params.items()),
                             measure_bounds(self.connection, policy))


class SqliteDatabase(Database):
    dialect = "sqlite"

    def __init__(self):
        import sqlite3

        from policylang.emit.sql_sqlite import register

        connection = sqlite3.connect(":memory:")
        register(connection)
        super().__init__(connection)
        self.errors = (sqlite3.Error,)

    def load_cases(self, policy: ir.Policy, cases: list[dict[str, ir.Value]]) -> None:
        from policylang.emit.sql_sqlite import cell

        names = [CASE_ID] + [quote_identifier(f.name) for f in policy.inputs]
        self.connection.execute("DROP TABLE IF EXISTS cases")
        self.connection.execute(f"CREATE TEMP TABLE cases ({', '.join(names)})")
        rows = [[index] + [cell(case[f.name], f.type) for f in policy.inputs]
                for index, case in enumerate(cases)]
        self.connection.executemany(
            f"INSERT INTO cases VALUES ({', '.join('?' for _ in names)})", rows)


class PostgresDatabase(Database):
    """A server named by POLICYLANG_POSTGRES (a libpq connection string); autocommit, so
    a failed query leaves the session usable."""

    dialect = "postgres"

    def __init__(self, conninfo: str):
        try:
            import psycopg
        except ImportError:
            raise PolicyError.single("E607", "PostgreSQL needs the psycopg package: pip install "
                                     "'psycopg[binary]'") from None
        try:
            connection = psycopg.connect(conninfo, autocommit=True)
        except psycopg.Error as error:  # no server there, or a malformed connection string
            raise PolicyError.single("E607", "cannot connect to the PostgreSQL server "
                                     f"POLICYLANG_POSTGRES names: {first_line(error)}"
                                     ) from None
        super().__init__(connection)
        self.errors = (psycopg.Error,)

    def load_cases(self, policy: ir.Policy, cases: list[dict[str, ir.Value]]) -> None:
        types = {**SQL_TYPES, ir.Kind.ENUM: "TEXT"}
        columns = ", ".join([f"{CASE_ID} INTEGER"] + [
            f"{quote_identifier(f.name)} {types[f.type.kind]}" for f in policy.inputs])
        self.connection.execute("DROP TABLE IF EXISTS pg_temp.cases")
        self.connection.execute(f"CREATE TEMP TABLE cases ({columns})")
        placeholders = ", ".join(["%s"] + ["CAST(%s AS INTERVAL)" if f.type.kind is
                                          ir.Kind.DURATION else "%s" for f in policy.inputs])
        rows = [[index] + [_sql_value(case[f.name], f.type) for f in policy.inputs]
                for index, case in enumerate(cases)]
        with self.connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO cases VALUES ({placeholders})", rows)


def postgres_conninfo() -> str | None:
    import os

    return os.environ.get("POLICYLANG_POSTGRES") or None


@functools.lru_cache(maxsize=4)
def _postgres(conninfo: str) -> PostgresDatabase:
    return PostgresDatabase(conninfo)


def open_database(dialect: str) -> Database:
    match dialect:
        case "duckdb":
            return DuckDatabase()
        case "duckdb-narrow":
            return NarrowDuckDatabase()
        case "sqlite":
            return SqliteDatabase()
        case "postgres":
            conninfo = postgres_conninfo()
            if conninfo is None:
                raise PolicyError.single("E607", "no PostgreSQL server: set POLICYLANG_POSTGRES "
                                         "to a connection string (host=… port=… dbname=…)")
            return _postgres(conninfo)
    raise PolicyError.single("E612", f"no engine runs {dialect} SQL here")


@functools.lru_cache(maxsize=64)
def _dialect_result_query(policy: ir.Policy, param_items: tuple, dialect: str) -> str:
    """The per-case query for a dialect, durations read back as (months, days) numbers."""
    from sqlglot import exp

    from policylang.emit.sql_dialects import dialect as find

    target = find(dialect)
    inner = build_query(policy, dict(param_items), dialect, per_case=True, carry=(CASE_ID,))
    columns: list[exp.Expression] = []
    for name, type_ in output_columns(policy):
        column = exp.column(name, table="decisions", quoted=True)
        if type_.kind is ir.Kind.DURATION:
            parts = {part: exp.Anonymous(this="DATEPART", expressions=[
                exp.Literal.string(part), column.copy()]) for part in ("year", "month", "day")}
            months = exp.Add(this=exp.Mul(this=parts["year"], expression=exp.Literal.number(12)),
                             expression=parts["month"])
            columns += [exp.alias_(months, name, quoted=True),
                        exp.alias_(parts["day"], name + "__days", quoted=True)]
        else:
            columns.append(column)
    shown = ", ".join(target.builder.finish(c).sql(dialect=target.sqlglot) for c in columns)
    return (f"SELECT {shown} FROM ({inner.sql(dialect=target.sqlglot)}) AS decisions "
            f"ORDER BY decisions.{CASE_ID}")
