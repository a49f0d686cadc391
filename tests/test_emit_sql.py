"""SQL backend: the generated query agrees exactly with the interpreter on every dialect
that runs here: DuckDB and SQLite (embedded) and PostgreSQL (a real server, started by the
`postgres_server` fixture).

Differential test: random cases from each policy's input schema (`passing_cases`: a fair
share eligible, every limit's edge probed), every one compared field by field with the
interpreter's decision on each dialect: all the cases the interpreter decides run through
ONE query per policy and dialect, and each case it rejects runs alone (an error aborts the
whole query) and must fail with the same code. POLICYLANG_DIFF_EXAMPLES sets the number of
cases per policy (default 500).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policylang import api, ir
from policylang.diagnostics import PolicyError
from policylang.emit.sql import NESTED_LAYERS, emit_sql
from policylang.engine import (
    book_query,
    create_cases_table,
    insert_cases,
    measure_bounds,
    open_database,
    output_columns,
    quote_identifier,
    run_many,
)
from policylang.interpret import evaluate
from tests.pg_server import postgres_server  # noqa: F401  (a fixture)
from tests.policies import all_policies
from tests.strategies import default_params, passing_cases

POLICIES = all_policies()
CASES_PER_POLICY = int(os.environ.get("POLICYLANG_DIFF_EXAMPLES", "500"))
BATCH = 50
DIALECTS = ["duckdb", "duckdb-narrow", "sqlite", "postgres"]


def _interpret(policy, case, params):
    try:
        return evaluate(policy, case, params)
    except PolicyError as error:
        return error


def _same(expected, actual) -> bool:
    if isinstance(expected, PolicyError) or isinstance(actual, PolicyError):
        return isinstance(expected, PolicyError) and isinstance(actual, PolicyError) and \
            expected.code == actual.code
    return expected == actual


@functools.cache
def _random_cases(name: str) -> tuple[tuple[dict, object], ...]:
    """CASES_PER_POLICY seeded random cases of a policy with the interpreter's outcome,
    drawn once and shared by every dialect."""
    policy = POLICIES[name]
    params = default_params(policy)
    drawn: list[dict] = []

    @settings(max_examples=max(1, CASES_PER_POLICY // BATCH), deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck), database=None)
    @given(batch=st.lists(passing_cases(policy, params), min_size=BATCH, max_size=BATCH))
    def draw(batch):
        drawn.extend(batch)

    draw()
    return tuple((case, _interpret(policy, case, params)) for case in drawn)


@pytest.fixture
def database(request):
    if request.param == "postgres":
        request.getfixturevalue("postgres_server")
    return open_database(request.param)


@pytest.mark.parametrize("database", DIALECTS, indirect=True)
@pytest.mark.parametrize("name", list(POLICIES))
def test_sql_agrees_with_interpreter(name: str, database) -> None:
    policy = POLICIES[name]
    params = default_params(policy)
    if any(value is None for value in params.values()):
        pytest.skip("a param without default cannot be bound for random cases")
    drawn = _random_cases(name)
    assert len(drawn) >= min(CASES_PER_POLICY, 500)
    good = [(c, e) for c, e in drawn if not isinstance(e, PolicyError)]
    bad = [(c, e) for c, e in drawn if isinstance(e, PolicyError)]
    got = run_many(policy, [c for c, _ in good], params, database=database)
    # One error aborts a whole query: each case the interpreter rejects runs alone.
    got_bad = [run_many(policy, [c], params, database=database)[0] for c, _ in bad]
    compared = 0
    for (case, want), actual in zip(good + bad, got + got_bad, strict=True):
        assert _same(want, actual), (
            f"{database.dialect}, case {case}:\ninterp {want}\nsql    {actual}")
        compared += 1
    assert compared == len(drawn)


@pytest.mark.parametrize("narrowed", [False, True], ids=["compiled", "narrowed"])
@pytest.mark.parametrize("name", list(POLICIES))
def test_the_decision_columns_alone_are_the_same_as_with_every_column(
        name: str, narrowed: bool) -> None:
    """`run --book --no-limit-values`: without the limits' value and bound columns, each
    limit's check compares its operands directly (under its guard); every column left is
    the same, row by row, as the query giving every column (which the test above holds to
    the interpreter), on the same random cases."""
    policy = POLICIES[name]
    params = default_params(policy)
    if any(value is None for value in params.values()):
        pytest.skip("a param without default cannot be bound for random cases")
    good = [case for case, outcome in _random_cases(name)
            if not isinstance(outcome, PolicyError)]
    connection = duckdb.connect()
    create_cases_table(connection, policy)
    insert_cases(connection, policy, good)
    connection.execute("CREATE TEMP TABLE numbered AS SELECT row_number() OVER () AS n, * "
                       "FROM cases")
    connection.execute("DROP TABLE cases")
    connection.execute("ALTER TABLE numbered RENAME TO cases")
    bounds = measure_bounds(connection, policy) if narrowed else None
    decisions = [quote_identifier(c) for c, _ in output_columns(policy, limit_values=False)]
    assert len(decisions) < len(output_columns(policy)) or not any(
        isinstance(c, ir.Limit) for c in policy.checks)
    found = [connection.execute(
        f"SELECT {', '.join(decisions)} FROM ({book_query(policy, params, ('n',), bounds, v)}) "
        "ORDER BY n").fetchall() for v in (True, False)]
    assert len(found[0]) == len(good) and found[0] == found[1]


def _layers(query: sqlglot.exp.Expression) -> dict[str, sqlglot.exp.Select]:
    """Each SELECT of a query by the name of what it reads (a table, CTE or subquery)."""
    found = {}
    for select in query.find_all(sqlglot.exp.Select):
        source = select.args.get("from") or select.args.get("from_")
        if source is not None:
            found[source.this.alias_or_name] = select
    return found


@pytest.mark.parametrize("narrowed", [False, True], ids=["compiled", "narrowed"])
def test_a_book_query_carries_only_what_it_returns_past_its_first_layer(
        narrowed: bool) -> None:
    """The first layer of `run --book`'s query reads the inputs and keeps, of the other
    columns of `cases`, only the carried ones: the layers after it pass on no input column
    the result does not return (each column carried made every layer wider). Its layers
    nest as subqueries, a CTE every NESTED_LAYERS. The query giving every input back
    (`SELECT * EXCLUDE`) still carries them all, layer by layer in CTEs."""
    policy = api.load(Path("policies/chongqing/zhubaodai.pol"))
    params = default_params(policy)
    connection = duckdb.connect()
    create_cases_table(connection, policy)
    insert_cases(connection, policy, [case for case, outcome in _random_cases(
        "policies/chongqing/zhubaodai.pol") if not isinstance(outcome, PolicyError)][:50])
    connection.execute("CREATE TEMP TABLE numbered AS SELECT row_number() OVER () AS n, * "
                       "FROM cases")
    connection.execute("DROP TABLE cases")
    connection.execute("ALTER TABLE numbered RENAME TO cases")
    bounds = measure_bounds(connection, policy) if narrowed else None
    text = book_query(policy, params, ("n",), bounds)
    layers = _layers(sqlglot.parse_one(text, read="duckdb"))
    first = layers.pop("cases").expressions
    assert first[0].name == "n" and not any(isinstance(e, sqlglot.exp.Star) for e in first)
    assert all(isinstance(layer.expressions[0], sqlglot.exp.Star)
               for name, layer in layers.items() if name != "__pl_checks")
    assert text.count(" AS (SELECT") == (len(layers) - 1) // NESTED_LAYERS  # the CTEs
    columns = [d[0] for d in connection.execute(
        f"SELECT * FROM ({text}) LIMIT 0").description]
    assert columns[0] == "n" and not {f.name for f in policy.inputs} & set(columns)
    every_input = emit_sql(dataclasses.replace(policy, portfolio=None))
    its_layers = _layers(sqlglot.parse_one(every_input, read="duckdb"))
    assert isinstance(its_layers["cases"].expressions[0], sqlglot.exp.Star)
    assert every_input.count(" AS (\n") == len(its_layers) - 1  # all but the last a CTE


def test_a_book_query_of_250_chained_lets_runs() -> None:
    """Every layer nested as a subquery passed Python's recursion limit (sqlglot writes a
    query recursively) at 100 chained lets; with a CTE every NESTED_LAYERS it does not.
    (One CTE per layer passed DuckDB's expression depth limit between 700 and 1,000
    lets; that takes too long to build for a test.)"""
    lets = "\n".join(f"  let l{i} = {'loan' if i == 0 else f'l{i - 1}'} + 1元"
                     for i in range(250))
    policy = api.load_source('policy p "t" {\n  input {\n    loan: money\n  }\n'
                             f'{lets}\n  rule r: l249 > 250元\n}}\n', "chain.pol")
    connection = duckdb.connect()
    connection.execute("CREATE TABLE cases AS SELECT 7 AS n, 0.50::DECIMAL(18,2) AS loan")
    assert connection.execute(f"SELECT n, l249, eligible FROM ({book_query(policy, {}, ('n',))})"
                              ).fetchall() == [(7, Decimal("250.50"), True)]


def test_a_query_has_a_layer_per_link_of_its_longest_chain_not_per_declaration() -> None:
    """A column goes into the first layer after every column it reads, so 150 waterfalls
    over the inputs share their layers. With a layer per declaration (and per step of each
    waterfall) this policy's query had 1,200 CTEs, which DuckDB refuses ("max expression
    depth"), and a 2,000-line policy's `run --book` was still planning after ten minutes."""
    waterfalls = "\n".join(
        f"  waterfall w{i}(loss + {i}元) {{\n    take pool up to cap\n"
        f"    split {{\n      fund: 50% up to cap\n      bank: 50%\n    }}\n  }}"
        for i in range(150))
    policy = api.load_source(
        'policy p "t" {\n  input {\n    loss: money\n    cap: money\n  }\n'
        f"{waterfalls}\n  let total = w0.bank + w149.fund\n  rule r: total > 0元\n}}\n",
        "waterfalls.pol")
    text = emit_sql(policy)
    layers = _layers(sqlglot.parse_one(text, read="duckdb"))
    assert len(layers) < 15, len(layers)  # the inputs, 9 steps of a waterfall, `total`, checks
    case = {"loss": Decimal("100.01"), "cap": Decimal("30")}
    assert run_many(policy, [case], {}) == [evaluate(policy, case, {})]


@pytest.mark.parametrize("name", list(POLICIES))
def test_random_cases_are_a_fair_mix(name: str) -> None:
    """Enough eligible and enough failing cases for the comparison to mean something, and
    few evaluation errors (each costs a query of its own)."""
    if any(value is None for value in default_params(POLICIES[name]).values()):
        pytest.skip("a param without default cannot be bound for random cases")
    outcomes = [outcome for _, outcome in _random_cases(name)]
    decided = [o for o in outcomes if not isinstance(o, PolicyError)]
    eligible = sum(1 for o in decided if o["eligible"])
    assert eligible >= len(outcomes) // 10, (eligible, len(outcomes))
    assert len(decided) - eligible >= len(outcomes) // 50, (len(decided), eligible)
    assert len(outcomes) - len(decided) <= len(outcomes) // 10


def test_generated_sql_parses_and_quotes_identifiers() -> None:
    policy = api.load_source(
        'policy p "p\\"; DROP TABLE cases; --" {\n'
        ' input { select: money  from: money }\n'
        ' let 贷款 = select + from cite "x\'); DROP TABLE cases; --"\n'
        ' rule r: select > 0元 says "it\'s \\"quoted\\""\n}\n', "hostile.pol")
    for dialect in ("duckdb", "sqlite", "postgres", "spark"):
        sql = emit_sql(policy, dialect)
        assert "DROP TABLE" not in sql
        assert sqlglot.parse_one(sql, read="spark" if dialect == "spark" else dialect)
    for dialect in ("duckdb", "sqlite"):
        case = {"select": Decimal(1), "from": Decimal(2)}
        decision = run_many(policy, [case], {}, dialect=dialect)[0]
        assert decision["values"]["贷款"] == "3.00"


# ── the fast paths for a constant operand, against values.py's exact arithmetic ──

_CONSTANTS = ["12", "3", "-7", "0.3", "0.01", "0.45", "1000000", "-0.0000000003", "2"]
_OPERANDS = ["0", "1", "-1", "9999999.99", "-123456.7890123456", "0.0000000005",
             "999999999999999.99", "-0.00000000015", "1234567.89", "35"]


@pytest.mark.parametrize("constant", _CONSTANTS)
def test_constant_division_and_product_are_exact(constant: str) -> None:
    import duckdb

    from policylang.emit.sql import QueryBuilder, col, number
    from policylang.values import EvalError, div, mul

    c = Decimal(constant)
    columns = [QueryBuilder._div(col("a"), number(c)).sql("duckdb"),
               QueryBuilder._mul(col("a"), number(c)).sql("duckdb")]
    connection = duckdb.connect()
    for operand in _OPERANDS:
        a = Decimal(operand).quantize(Decimal("1e-10"))
        table = f"(SELECT CAST('{a}' AS DECIMAL(38,10)) AS a)"
        for column, exact in zip(columns, (div, mul), strict=True):
            try:
                want = exact(a, c)
            except EvalError:
                with pytest.raises(duckdb.Error, match="(?i)out of range|overflow"):
                    connection.execute(f"SELECT {column} FROM {table}").fetchone()
                continue
            (got,) = connection.execute(f"SELECT {column} FROM {table}").fetchone()
            assert got == want, (operand, constant, column)


def test_years_of_whole_months_is_one_integer_division() -> None:
    import duckdb

    from policylang.emit.sql import QueryBuilder, number
    from policylang.emit.sql_temporal import INT

    months = sqlglot.exp.cast(sqlglot.exp.column("m"), INT)
    column = QueryBuilder._div(months, number(12)).sql("duckdb")
    assert "ERROR" not in column and column.count("//") == 1
    connection = duckdb.connect()
    for m in (0, 1, 5, 6, 7, 18, 35, -7, 1200000):
        (got,) = connection.execute(f"SELECT {column} FROM (SELECT {m} AS m)").fetchone()
        assert got == (Decimal(m) / 12).quantize(Decimal("1e-10"), rounding="ROUND_HALF_UP")


# ── SQLite: a cell of the cases table that is not canonical number text ──

CELLS = api.load_source('policy cells "cells" {\n  input {\n    loan: money\n    n: number = 2\n'
                        '  }\n  let twice = loan * n\n  limit cap: loan <= 100元 cite "x"\n}\n',
                        "cells.pol")


def _on_sqlite(cells: list[tuple[object, object]]) -> list[dict | PolicyError]:
    """The decisions of the compiled SQLite query over a `cases` table filled by hand,
    one query per row (a table of columns declared without a type keeps what it is given)."""
    import sqlite3

    from policylang.emit.sql_sqlite import register
    from policylang.engine import decision_from_row, translate_error

    query = emit_sql(CELLS, "sqlite")
    out: list[dict | PolicyError] = []
    for loan, n in cells:
        connection = sqlite3.connect(":memory:")
        register(connection)
        connection.execute("CREATE TABLE cases (loan, n)")
        connection.execute("INSERT INTO cases VALUES (?, ?)", [loan, n])
        try:
            cursor = connection.execute(query)
            names = [d[0] for d in cursor.description]
            out.append(decision_from_row(CELLS, dict(zip(names, cursor.fetchone(), strict=True))))
        except sqlite3.Error as error:
            out.append(translate_error(error))
    return out


def _on_duckdb(text: str) -> Decimal:
    """`twice` for a loan cell of this text on DuckDB (cast to the column's type as it is
    inserted), on the DuckDB query."""
    connection = duckdb.connect()
    connection.execute("CREATE TABLE cases (loan DECIMAL(38,10), n DECIMAL(38,10))")
    connection.execute("INSERT INTO cases VALUES (?, NULL)", [text])
    query = emit_sql(CELLS, "duckdb").rstrip().removesuffix(";")
    (twice,) = connection.execute(f"SELECT twice FROM ({query})").fetchone()
    return twice


@pytest.mark.parametrize("text", [" 12", "12 ", "\t12\n", "00012", "-0", "12.50"])
def test_sqlite_reads_a_number_cell_as_duckdb_and_the_interpreter_do(text: str) -> None:
    """Blanks around a number, leading zeros, `-0`: DuckDB's cast and the case reader take
    them, and SQLite gives the same decision (it raised an exception that said nothing)."""
    [decision] = _on_sqlite([(text, None)])
    assert decision == api.decide(CELLS, {"loan": text})
    assert Decimal(decision["values"]["twice"]) == _on_duckdb(text)


@pytest.mark.parametrize(("cell", "shown"), [
    ("5E+6", '"5E+6"'), ("1,000", '"1,000"'), ("+5", '"+5"'), ("１２", '"１２"'),
    ("12.345678901234", '"12.345678901234"'), ("abc", '"abc"'), (0.5, "REAL 0.5"),
    ("1'000", '"1\'000"'),
    (10**16, "10000000000000000")])
def test_sqlite_names_a_number_cell_it_cannot_read(cell: object, shown: str) -> None:
    """A cell the case reader refuses is E603 naming the column and the value, not SQLite's
    "user-defined function raised exception" (reported as a value out of range)."""
    [error] = _on_sqlite([(cell, None)])
    assert isinstance(error, PolicyError) and error.code == "E603", error
    assert str(error).startswith("error[E603]: cases column `loan`: "), str(error)
    assert shown in str(error)
    if isinstance(cell, str):  # as a case file's field, the interpreter refuses it too
        with pytest.raises(PolicyError, match="E603"):
            api.decide(CELLS, {"loan": cell})
    [in_default_column] = _on_sqlite([("5", cell)])
    assert str(in_default_column).startswith("error[E603]: cases column `n`: ")


def test_sqlite_computes_each_layer_once(tmp_path: Path) -> None:
    """SQLite flattens a CTE into its reader and recomputes a column wherever a later layer
    names it; the query's layers are MATERIALIZED, so 重庆's exact-decimal functions run a
    few hundred times a case, not thousands (811,240 calls for 200 cases before)."""
    import csv
    import sqlite3

    from policylang.cases import parse_case
    from policylang.emit.sql_sqlite import FUNCTIONS, cell
    from policylang.synthetic import write_book

    policy = api.load(Path(__file__).parents[1] / "policies" / "chongqing" / "zhubaodai.pol")
    calls = [0]

    def counted(function):
        def call(*args):
            calls[0] += 1
            return function(*args)
        return call

    connection = sqlite3.connect(":memory:")
    for name, (arity, function) in FUNCTIONS.items():
        connection.create_function(name, arity, counted(function), deterministic=True)
    names = [f.name for f in policy.inputs]
    connection.execute(f"CREATE TABLE cases ({', '.join(names)})")
    with write_book(policy, 50, tmp_path / "book.csv").open(encoding="utf-8") as book:
        cases = [parse_case(policy, {name: row[name] for name in names if row[name] != ""})
                 for row in csv.DictReader(book)]
    connection.executemany(f"INSERT INTO cases VALUES ({', '.join('?' for _ in names)})",
                           [[cell(case[f.name], f.type) for f in policy.inputs]
                            for case in cases])
    rows = connection.execute(emit_sql(policy, "sqlite", per_case=True)).fetchall()
    assert len(rows) == 50
    assert calls[0] < 600 * 50, calls[0]


BOOLS = api.load_source('policy flags "flags" {\n  input {\n    sme: bool\n  }\n'
                        '  rule only_sme: sme cite "x"\n}\n', "flags.pol")


@pytest.mark.parametrize(("cell", "eligible"), [
    (1, True), (0, False), ("true", '"true" is not a bool'), ("1", '"1" is not a bool'),
    (2, "2 is not a bool"), (0.0, "0.0 is not a bool")])
def test_sqlite_reads_a_bool_cell_as_1_or_0_and_refuses_anything_else(
        cell: object, eligible: object) -> None:
    """SQLite reads the text 'true' as false where a bool is expected: a silent wrong answer,
    so any cell other than 1 or 0 is E603 naming the column and the value."""
    import sqlite3

    from policylang.emit.sql_sqlite import register
    from policylang.engine import decision_from_row, translate_error

    connection = sqlite3.connect(":memory:")
    register(connection)
    connection.execute("CREATE TABLE cases (sme)")
    connection.execute("INSERT INTO cases VALUES (?)", [cell])
    try:
        cursor = connection.execute(emit_sql(BOOLS, "sqlite"))
        names = [d[0] for d in cursor.description]
        decision = decision_from_row(BOOLS, dict(zip(names, cursor.fetchone(), strict=True)))
    except sqlite3.Error as error:
        refused = translate_error(error)
        assert isinstance(eligible, str), refused
        assert str(refused).startswith(f"error[E603]: cases column `sme`: {eligible}: "
                                       "expected the INTEGER 1 (true) or 0 (false)"), refused
        return
    assert decision["eligible"] is eligible
