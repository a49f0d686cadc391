"""A policy's `portfolio` block over a book on DuckDB: window functions over the per-case
results, with the interpreter's exact semantics (policylang/portfolio.py).

Exact arithmetic is never re-implemented here. Each aggregate's per-case addend, filter
and group key become hidden lets of the per-case query (so the SQL emitter computes them);
window sums give each case its group's running totals; and a book rule's value over those
totals is again a tiny policy (totals as inputs, the value and its test as lets) compiled
by the same emitter. Only sums, comparisons and min/max, which are exact on DECIMAL, are
written here.

The same construction runs on SQLite and PostgreSQL (`score_cases_on`) and on Spark
(policylang/spark_portfolio.py): an `Engine` says what differs, and a connection that has
its own `replace(table, select)` (Spark's, which materialises a temporary view) is used
instead of DROP TABLE / CREATE TEMP TABLE.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Callable
from decimal import Decimal

from policylang import ir
from policylang import values as v
from policylang.diagnostics import PolicyError
from policylang.engine import book_query, measure_bounds, quote_identifier
from policylang.portfolio import aggregates, key_label

ROW = "__pl_book_row"
_HIDDEN = "__pl_book"


@dataclasses.dataclass(frozen=True)
class Engine:
    """What differs between the databases the portfolio's SQL runs on: the column that
    numbers the book's rows, and how a stage policy compiles."""

    dialect: str
    row: str

    def stage_query(self, connection, stage: ir.Policy, params: dict[str, ir.Value],
                    carry: tuple[str, ...]) -> str:
        if self.dialect == "duckdb":
            # Narrowed to the totals' measured bounds, as `run --book`'s own query is: a
            # ratio of totals then divides in 64 bits where they allow it.
            return book_query(stage, params, carry, measure_bounds(connection, stage))
        from policylang.emit.sql import build_query

        return build_query(stage, params, self.dialect, per_case=True,
                           carry=carry).sql(dialect=self.dialect)

    # SQLite holds exact numbers as decimal text: its sums, casts, extremes and
    # comparisons go through exact functions (emit/sql_sqlite.py and `_ExactSum`).
    def total(self, expr: str, window: str = "") -> str:
        if self.dialect == "sqlite":
            return f"PL_WSUM({expr}) {window}"
        if self.dialect == "duckdb":  # DECIMAL(38, the addend's places): exact, and narrow
            return f"SUM({expr}) {window}"
        return f"CAST(SUM({expr}) {window} AS DECIMAL(38,10))"

    def decimal(self, expr: str) -> str:
        return f"PL_NUM({expr})" if self.dialect == "sqlite" else \
            f"CAST({expr} AS DECIMAL(38,10))"

    def money(self, expr: str) -> str:
        return f"PL_NUM({expr})" if self.dialect == "sqlite" else \
            f"CAST({expr} AS DECIMAL(18,2))"

    def call(self, name: str, *args: str) -> str:
        """GREATEST, LEAST, or SUB (a - b)."""
        if self.dialect == "sqlite":
            return f"PL_{name}({', '.join(args)})"
        return f"({args[0]} - {args[1]})" if name == "SUB" else f"{name}({', '.join(args)})"

    def less(self, a: str, b: str) -> str:
        return f"PL_CMP({a}, {b}) < 0" if self.dialect == "sqlite" else f"{a} < {b}"

    def any_true(self, expr: str) -> str:
        return f"max({expr})" if self.dialect == "sqlite" else f"bool_or({expr})"

    def key(self, column: str, type_: ir.Type) -> str:
        """A group key as windows and GROUP BY compare it. DuckDB and PostgreSQL hold a
        duration as an INTERVAL, whose equality takes 1 month for 30 days (and 1 year for
        360 days); the interpreter keeps them apart, so a duration groups by its text,
        which differs wherever the months or the days do (SQLite's is text already)."""
        if type_.kind is not ir.Kind.DURATION or self.dialect == "sqlite":
            return column
        text = {"duckdb": "VARCHAR", "postgres": "TEXT", "spark": "STRING"}[self.dialect]
        return f"CAST({column} AS {text})"


DUCKDB = Engine("duckdb", ROW)
POSTGRES = Engine("postgres", "__pl_case")  # engine.CASE_ID: they keep no row order
SQLITE = Engine("sqlite", "__pl_case")
SPARK = Engine("spark", ROW)  # row: the book's consecutive row index (spark_engine)


def _replace(connection, table: str, select: str) -> None:
    if hasattr(connection, "replace"):  # Spark: a view over the materialised result
        connection.replace(table, select)
        return
    connection.execute(f"DROP TABLE IF EXISTS {table}")
    connection.execute(f"CREATE TEMP TABLE {table} AS {select}")


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


def check_order(connection, policy: ir.Policy, where: str, engine: Engine = DUCKDB) -> None:
    """E609 at the first case of `cases` dated before the row above it, naming the book
    as `where`."""
    q, row = quote_identifier(policy.portfolio.order_by), engine.row
    pairs = f"SELECT {row}, {q}, lag({q}) OVER (ORDER BY {row}) AS previous FROM cases"
    if engine.dialect == "spark":  # a window over the whole book would be one partition;
        # Spark's rows are numbered consecutively, so the row above is a join away
        pairs = (f"SELECT c.{row}, c.{q}, p.{q} AS previous FROM cases c "
                 f"JOIN cases p ON p.{row} = c.{row} - 1")
    found = connection.execute(
        f"SELECT {row}, {q}, previous FROM ({pairs}) t WHERE {q} < previous ORDER BY {row} "
        "LIMIT 1").fetchone()
    if found:
        row, current, before = found
        name = policy.portfolio.order_by
        raise PolicyError.single(
            "E609", f"{where}: row {row + 1}: {name} {_reported(current, ir.DATE)} comes before "
            f"row {row}'s {_reported(before, ir.DATE)}; sort the book by {name} (ties keep "
            "their order)")


def first_failing_row(connection, query: str, where: str, rows: int,
                      translate: Callable[[Exception], PolicyError], error: Exception,
                      engine: Engine = DUCKDB) -> PolicyError:
    """`query`'s error (`translate`d) at the first row of `cases` that fails, found by
    halving the book and named `{where}: row N: …`; `cases` is left as it was found (a
    PostgreSQL connection is shared by the next book)."""
    first = translate(error)
    low, high = 0, rows - 1
    connection.execute("ALTER TABLE cases RENAME TO __pl_all_cases")
    try:
        while low < high:
            middle = (low + high) // 2
            connection.execute("DROP VIEW IF EXISTS cases")
            connection.execute(f"CREATE TEMP VIEW cases AS SELECT * FROM __pl_all_cases "
                               f"WHERE {engine.row} BETWEEN {low} AND {middle}")
            try:
                _replace(connection, "__pl_probe", query)
                low = middle + 1
            except Exception as probe_error:
                first = translate(probe_error)
                high = middle
    finally:
        connection.execute("DROP VIEW IF EXISTS cases")
        connection.execute("ALTER TABLE __pl_all_cases RENAME TO cases")
    diagnostic = first.diagnostics[0]
    return PolicyError.single(diagnostic.code, f"{where}: row {low + 1}: {diagnostic.message}")


def evaluate(connection, policy: ir.Policy, params: dict[str, ir.Value], on_error,
             engine: Engine = DUCKDB) -> dict:
    """Create `__pl_portfolio` (one row per case: the portfolio columns) from `__pl_result`;
    return the report. `on_error(query, error)` turns a failing stage into a PolicyError."""
    _replace(connection, "__pl_portfolio", f"SELECT {engine.row} FROM __pl_result")
    report: dict = {"monitors": {}, "budgets": {}, "limits": {}}
    for r, rule in enumerate(policy.portfolio.rules):
        keys = [_key(r, j) for j in range(len(rule.per))]
        if rule.kind == "budget":
            groups = _budget(connection, r, rule, keys, params, engine)
        else:
            groups = _running_rule(connection, policy, r, rule, keys, params,
                                   _naming(rule, on_error), engine)
            bound = v.report(_constant(rule.bound, params), rule.bound.type)
            for group in groups:
                group["bound"] = bound
        report[rule.kind + "s"][rule.name] = {
            "per": [key_label(k) for k in rule.per], "cite": rule.cite, "groups": groups}
    return report


def _keys(rule: ir.BookRule, keys: list[str], engine: Engine, table: str = "") -> list[str]:
    """The rule's group-key columns of `__pl_result`, each as `engine.key` compares it."""
    return [f"{engine.key(table + quote_identifier(k), e.type)} AS {quote_identifier(k)}"
            for k, e in zip(keys, rule.per, strict=True)]


def _naming(rule: ir.BookRule, on_error):
    """`on_error` whose message names the rule after the row, as the interpreter's does
    (`book: row 3: limit collateral_share: division by zero`)."""
    def failed(query: str, error: Exception) -> PolicyError:
        diagnostic = on_error(query, error).diagnostics[0]
        row, message = re.fullmatch(r"(.*?: row \d+: )?(.*)", diagnostic.message,
                                    re.S).groups()
        return PolicyError.single(diagnostic.code, f"{row or ''}{rule.kind} {rule.name}: "
                                  f"{message}", diagnostic.span, diagnostic.notes)
    return failed


def _window(keys: list[str], frame: str, row: str = ROW) -> str:
    partition = f"PARTITION BY {', '.join(map(quote_identifier, keys))} " if keys else ""
    return f"OVER ({partition}ORDER BY {row} ROWS BETWEEN UNBOUNDED PRECEDING AND {frame})"


def _addend_sql(r: int, i: int, aggregate: ir.Aggregate, engine: Engine = DUCKDB) -> str:
    value = "1" if aggregate.arg is None else quote_identifier(_addend(r, i))
    if engine.dialect == "sqlite" and aggregate.arg is not None \
            and aggregate.type == ir.MONEY:  # SQLite's money lets come unrounded
        value = f"PL_ROUND({value}, 2)"
    if aggregate.where is None:
        return value
    return f"CASE WHEN {quote_identifier(_filter(r, i))} THEN {value} ELSE 0 END"


def _running_rule(connection, policy: ir.Policy, r: int, rule: ir.BookRule, keys: list[str],
                  params: dict[str, ir.Value], on_error, engine: Engine) -> list[dict]:
    row = engine.row
    parts = aggregates(rule.value)
    totals = [f"{_HIDDEN}_total_{i}" for i in range(len(parts))]
    keyed = ", ".join(map(quote_identifier, keys))
    columns = [row] + [quote_identifier(k) for k in keys]
    columns += [f"{engine.total(_addend_sql(r, i, a, engine), _window(keys, 'CURRENT ROW', row))} "
                f"AS {quote_identifier(t)}"
                for i, (a, t) in enumerate(zip(parts, totals, strict=True))]
    last = (f"{row} = max({row}) OVER (PARTITION BY {keyed})" if keys
            else f"{row} = max({row}) OVER ()")
    columns.append(f"{last} AS {_HIDDEN}_last")
    # The windows partition by the keys as `engine.key` compares them, so those are
    # taken in a subquery first (a window in the same SELECT would read the raw column).
    hidden = [quote_identifier(name) for i, a in enumerate(parts) for name, present in
              ((_addend(r, i), a.arg is not None), (_filter(r, i), a.where is not None))
              if present]
    source = f"SELECT {', '.join([row] + _keys(rule, keys, engine) + hidden)} FROM __pl_result"
    _replace(connection, "cases", f"SELECT {', '.join(columns)} FROM ({source}) t")
    stage = _stage_policy(policy, rule, parts, totals)
    query = engine.stage_query(connection, stage, params, tuple([row] + keys))
    try:
        _replace(connection, "__pl_stage", query)
    except Exception as error:
        raise on_error(query, error) from None
    if rule.kind == "monitor":
        earlier = (f"COALESCE({engine.any_true('holds')} {_window(keys, '1 PRECEDING', row)}, "
                   "false)")
        _replace(connection, "__pl_next", "SELECT p.*, "
                 f"s.value AS {quote_identifier(f'monitor__{rule.name}')}, "
                 f"s.holds AND NOT s.earlier AS "
                 f"{quote_identifier(f'monitor__{rule.name}__tripped')}, "
                 f"s.earlier AS {quote_identifier(f'suspended__{rule.name}')} "
                 f"FROM __pl_portfolio p "
                 f"JOIN (SELECT *, {earlier} AS earlier FROM __pl_stage) s USING ({row})")
        _replace(connection, "__pl_portfolio", "SELECT * FROM __pl_next")
    return _running_report(connection, rule, keys, engine)


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


def _running_report(connection, rule: ir.BookRule, keys: list[str],
                    engine: Engine) -> list[dict]:
    """One row per group in order of first appearance, with the rule's value and test at
    the group's last case and (a monitor) its value at the case that tripped it: one query,
    whatever the number of groups."""
    row_ = engine.row
    keyed = [quote_identifier(k) for k in keys]
    monitor = rule.kind == "monitor"
    tripped = ("min(CASE WHEN holds AND NOT earlier THEN " + row_ + " END)" if monitor
               else "NULL")
    source = (f"(SELECT *, COALESCE({engine.any_true('holds')} " +
              _window(keys, "1 PRECEDING", row_) +
              ", false) AS earlier FROM __pl_stage) s" if monitor else "__pl_stage")
    select = ", ".join(keyed + [f"count(*) AS {_HIDDEN}_cases", f"max({row_}) AS {_HIDDEN}_last",
                                f"{tripped} AS {_HIDDEN}_tripped",
                                f"min({row_}) AS {_HIDDEN}_first"])
    grouped = f"SELECT {select} FROM {source} {'GROUP BY ' + ', '.join(keyed) if keyed else ''}"
    at_trip = (f"LEFT JOIN __pl_stage t ON t.{row_} = g.{_HIDDEN}_tripped" if monitor else "")
    groups = connection.execute(
        "SELECT " + ", ".join([f"g.{k}" for k in keyed] + [
            f"g.{_HIDDEN}_cases", f"g.{_HIDDEN}_last", f"g.{_HIDDEN}_tripped",
            "l.value", "l.holds", "t.value" if monitor else "NULL"]) +
        f" FROM ({grouped}) g LEFT JOIN __pl_stage l ON l.{row_} = g.{_HIDDEN}_last {at_trip} "
        f"ORDER BY g.{_HIDDEN}_first").fetchall()
    out = []
    for row in groups:
        key = row[:len(keys)]
        cases, _, tripped_row, value, holds, tripped_value = row[len(keys):]
        if cases == 0:  # an empty book: an ungrouped aggregate still gives a row
            continue
        entry: dict = {"key": [_reported(k, e.type) for k, e in zip(key, rule.per,
                                                                   strict=True)],
                       "cases": cases, "value": _reported(value, rule.value.type),
                       "bound": None}
        if monitor:
            entry |= {"tripped_row": None if tripped_row is None else tripped_row + 1,
                      "tripped_value": None if tripped_row is None
                      else _reported(tripped_value, rule.value.type)}
        else:
            entry["holds"] = bool(holds)
        out.append(entry)
    return out


def _constant(expr: ir.BookExpr, params: dict[str, ir.Value]) -> ir.Value:
    from policylang.portfolio import book_value

    return book_value(expr, {}, params)


def _budget(connection, r: int, rule: ir.BookRule, keys: list[str],
            params: dict[str, ir.Value], engine: Engine) -> list[dict]:
    row = engine.row
    cap = _constant(rule.bound, params)
    (aggregate,) = aggregates(rule.value)
    keyed = [quote_identifier(k) for k in keys]
    request = engine.call("GREATEST", _addend_sql(r, 0, aggregate, engine), "0")
    before = f"COALESCE({engine.total('request', _window(keys, '1 PRECEDING', row))}, 0)"
    if engine.dialect == "sqlite":  # CPython 3.11's sqlite3 crashes on an empty window frame
        before = engine.call("SUB", engine.total("request", _window(keys, "CURRENT ROW", row)),
                             "request")
    cap_sql = engine.decimal(f"'{cap:f}'")
    paid = engine.call("GREATEST", "0", engine.call("LEAST", "request",
                                                    engine.call("SUB", cap_sql, before)))
    _replace(connection, "__pl_stage", f"SELECT *, {paid} AS paid FROM (SELECT "
             f"{', '.join([row] + _keys(rule, keys, engine))}, "
             f"{engine.decimal(request)} AS request "
             "FROM __pl_result) t")
    column = quote_identifier(f"budget__{rule.name}")
    _replace(connection, "__pl_next", "SELECT p.*, "
             f"{engine.money('s.paid')} AS {column} FROM __pl_portfolio p "
             f"JOIN __pl_stage s USING ({row})")
    _replace(connection, "__pl_portfolio", "SELECT * FROM __pl_next")
    groups = connection.execute(
        f"SELECT {', '.join(keyed + ['count(*)', engine.total('request'), engine.total('paid')])}"
        f", min(CASE WHEN {engine.less('paid', 'request')} THEN {row} END) FROM __pl_stage "
        f"{'GROUP BY ' + ', '.join(keyed) if keyed else ''} ORDER BY min({row})").fetchall()
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
    if isinstance(value, str | int) and not isinstance(value, bool) and type_.numeric:
        value = Decimal(value)  # SQLite's exact numbers are decimal text
    if isinstance(value, str) and type_.kind is ir.Kind.DURATION:
        return v.report(_duration(value), type_)
    if isinstance(value, Decimal):
        return v.report(value, type_)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


# A duration key as `Engine.key` gives it: DuckDB `1 year 6 months`, `30 days`, `00:00:00`;
# PostgreSQL `1 year 6 mons`; Spark `{18, 0}` (months, days); SQLite `P18M0D`.
_INTERVAL_PART = re.compile(r"(-?\d+) (year|mon|day)")
_PAIR = re.compile(r"\{(-?\d+), (-?\d+)\}|P(-?\d+)M(-?\d+)D")


def _duration(text: str) -> ir.Duration:
    """A duration key's text as the interpreter's value (months or days, never both)."""
    pair = _PAIR.fullmatch(text.strip())
    if pair:
        months, days = (int(x) for x in (pair.group(1, 2) if pair.group(1) is not None
                                         else pair.group(3, 4)))
    else:
        months = days = 0
        for amount, unit in _INTERVAL_PART.findall(text):
            if unit == "day":
                days += int(amount)
            else:
                months += int(amount) * (12 if unit == "year" else 1)
    return ir.Duration(days, "day") if days or not months else ir.Duration(months, "month")


def series(connection, policy: ir.Policy, engine: Engine = DUCKDB
           ) -> dict[str, dict[str, list[tuple]]]:
    """For charts: per monitor and budget, per group, (date, value) at each date's last
    case: a monitor's running value, a budget's cumulative payout."""
    date = quote_identifier(policy.portfolio.order_by)
    last_of = "max_by" if engine.dialect == "spark" else "arg_max"
    out: dict[str, dict[str, list[tuple]]] = {}
    for r, rule in enumerate(policy.portfolio.rules):
        if rule.kind == "limit":
            continue
        names = [_key(r, j) for j in range(len(rule.per))]
        keys = [quote_identifier(k) for k in names]
        if rule.kind == "monitor":
            raw, value = quote_identifier(f"monitor__{rule.name}"), "x"
        else:
            raw = quote_identifier(f"budget__{rule.name}")
            value = f"SUM(x) {_window(names, 'CURRENT ROW')}"
        # The keys as `engine.key` compares them, before the budget's window partitions
        # by them.
        typed = (f"SELECT {', '.join(_keys(rule, names, engine, 'r.') + ['r.' + date])}, "
                 f"r.{ROW}, {raw} AS x FROM __pl_result r JOIN __pl_portfolio p USING ({ROW})")
        rows = connection.execute(
            f"SELECT {', '.join(keys + [date])}, {last_of}(v, {ROW}) FROM (SELECT "
            f"{', '.join(keys + [date, ROW])}, {value} AS v FROM ({typed}) i) t "
            f"GROUP BY {', '.join(keys + [date])} ORDER BY {date}").fetchall()
        groups: dict[str, list[tuple]] = {}
        for row in rows:
            key, day, amount = row[:len(keys)], row[len(keys)], row[len(keys) + 1]
            label = ", ".join(str(_reported(k, e.type)) for k, e in zip(key, rule.per,
                                                                        strict=True)) or "book"
            groups.setdefault(label, []).append((day, Decimal(amount)))
        out[f"{rule.kind}__{rule.name}"] = groups
    return out


ENGINES = {"duckdb": DUCKDB, "postgres": POSTGRES, "sqlite": SQLITE}


class _ExactSum:
    """SUM for SQLite's decimal text, exact, as a window function (NULL over no rows)."""

    def __init__(self):
        self.total, self.count = Decimal(0), 0

    def step(self, value) -> None:
        if value is not None:
            self.total, self.count = self.total + Decimal(str(value)), self.count + 1

    def inverse(self, value) -> None:
        if value is not None:
            self.total, self.count = self.total - Decimal(str(value)), self.count - 1

    def value(self) -> str | None:
        from policylang.values import format_decimal

        return format_decimal(self.total) if self.count else None

    finalize = value


def score_cases_on(dialect: str, policy: ir.Policy, cases: list[dict[str, ir.Value]],
                   params: dict[str, ir.Value], where: str = "book"
                   ) -> tuple[list[dict[str, object]], dict]:
    """A book of checked cases through another database's SQL (PostgreSQL, SQLite): the
    per-case query of `dialect` with the hidden lets, then the same window functions. Returns each
    case's portfolio columns (reported) and the report, as `portfolio.evaluate_book` does.
    Errors carry their code; a bad value, a book out of order, a case's decision and a
    book rule that cannot be computed name the book as `where` and the row."""
    from policylang.emit.sql import build_query
    from policylang.engine import open_database, translate_error
    from policylang.portfolio import check_cases, portfolio_columns

    engine = ENGINES.get(dialect)
    if engine is None or dialect == "duckdb":
        raise PolicyError.single("E612", f"no portfolio engine for {dialect!r}: DuckDB runs "
                                 "books with `run --book`; here postgres or sqlite")
    check_cases(policy, cases, where)
    database = open_database(dialect)
    if dialect == "sqlite":
        database.connection.create_window_function("PL_WSUM", 1, _ExactSum)
        connection = database.connection
    else:
        connection = _Unprepared(database.connection)
    for table in ("__pl_result", "__pl_book_cases", "__pl_portfolio", "__pl_stage",
                  "__pl_next"):
        connection.execute(f"DROP TABLE IF EXISTS {table}")
    database.load_cases(policy, cases)
    if policy.portfolio is not None:
        check_order(connection, policy, where, engine)
    query = build_query(with_hidden_lets(policy), params, dialect, per_case=True,
                        carry=(engine.row,)).sql(dialect=dialect)

    def translated(error: Exception) -> PolicyError:
        if isinstance(error, database.errors):
            return translate_error(error)
        raise error

    # A query that fails is named by its first failing row, as DuckDB's and the
    # interpreter's are: a case's own decision (or its addend to a book rule) at that case,
    # a rule's window at the case its value is computed at (a limit's: its group's last).
    def at_first_failing_row(failing: str, error: Exception) -> PolicyError:
        return first_failing_row(connection, failing, where, len(cases), translated, error,
                                 engine)

    try:
        _replace(connection, "__pl_result", query)
    except Exception as error:
        raise at_first_failing_row(query, error) from None
    if policy.portfolio is None:
        return [{} for _ in cases], {}
    connection.execute("ALTER TABLE cases RENAME TO __pl_book_cases")
    report = evaluate(connection, policy, params, at_first_failing_row, engine)
    names = portfolio_columns(policy)
    selected = ", ".join(quote_identifier(name) for name, _ in names) or engine.row
    rows = connection.execute(f"SELECT {selected} FROM __pl_portfolio "
                              f"ORDER BY {engine.row}").fetchall()
    columns = [{name: _column_value(value, type_) for (name, type_), value in
                zip(names, row, strict=False)} for row in rows]
    return columns, _plain(report)


class _Unprepared:
    """A psycopg connection that never prepares: the same text (`SELECT * FROM __pl_next`)
    runs against tables re-created with other column types, which a cached plan refuses."""

    def __init__(self, connection):
        self.connection = connection

    def execute(self, query: str, params: list | None = None):
        return self.connection.execute(query, params, prepare=False)


def _column_value(value: object, type_: ir.Type) -> object:
    if type_.kind is ir.Kind.BOOL:
        return bool(value)
    return _reported(value, type_)


def _plain(report: object) -> object:
    """Row numbers and counts as ints (PostgreSQL may hand back Decimals or longs)."""
    if isinstance(report, dict):
        return {key: (int(value) if key in ("cases", "tripped_row", "exhausted_row")
                      and value is not None else _plain(value))
                for key, value in report.items()}
    if isinstance(report, list):
        return [_plain(item) for item in report]
    return report
