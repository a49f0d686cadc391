"""SQL dialects: every policy's own tests pass on SQLite and on a real PostgreSQL server;
the text `compile --target sql --dialect D` prints runs on D and decides as the
interpreter does; and the static pass refuses (E612, at the construct) what a dialect
cannot translate, instead of dropping it.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policylang import api
from policylang.cli import app
from policylang.diagnostics import PolicyError
from policylang.emit.sql import emit_sql
from policylang.emit.sql_dialects import check_translatable
from policylang.engine import open_database, postgres_conninfo, sql_backend
from policylang.interpret import evaluate
from tests.pg_server import postgres_server  # noqa: F401  (a fixture)
from tests.policies import all_policies

POLICIES = all_policies()
runner = CliRunner()
PORTFOLIO = """policy p "p" {
  input {
    amount: money
    day: date
  }
  rule positive: amount > 0元 cite "c"
  portfolio order by day {
    budget pot = sum(amount) <= 100万 cite "b"
  }
}
"""


@pytest.fixture(params=["sqlite", "postgres"])
def dialect(request) -> str:
    if request.param == "postgres":
        request.getfixturevalue("postgres_server")
        assert postgres_conninfo() is not None
    return request.param


@pytest.mark.parametrize("name", [n for n in POLICIES if POLICIES[n].tests])
def test_policy_tests_pass_on_every_database(name: str, dialect: str) -> None:
    policy = POLICIES[name]
    results = api.run_tests(policy, {dialect: sql_backend(policy, dialect)})
    failed = [r for r in results if not r.passed]
    assert results and not failed, f"{dialect}: {failed[:3]}"


@pytest.mark.parametrize("name", ["policies/hunan/disaster_relief.pol", "every_construct"])
def test_compiled_text_runs_on_its_database(name: str, dialect: str) -> None:
    """The printed query (no engine wrapper) over a `cases` table decides each test case
    as the interpreter does."""
    policy = POLICIES[name]
    cases = [test.given for test in policy.tests if test.book is None and test.given]
    if not cases:
        pytest.skip("no single-case tests")
    params = {p.name: p.default for p in policy.params}
    if any(v is None for v in params.values()):
        pytest.skip("a param without default")
    values = [{f.name: f.default for f in policy.inputs} | dict(given) for given in cases]
    values = [v for v in values if not _raises(policy, v, params)]
    database = open_database(dialect)
    database.load_cases(policy, values)
    rows = database.rows(emit_sql(policy, dialect).rstrip().rstrip(";"))
    # Without the engine's ORDER BY the rows may come back in any order: compare as sets.
    wanted = sorted(repr(_decided(policy, evaluate(policy, v, params))) for v in values)
    got = sorted(repr(_decided(policy, r)) for r in rows)
    assert got == wanted


def _raises(policy, values, params) -> bool:
    try:
        evaluate(policy, values, params)
    except PolicyError:
        return True
    return False


def _decided(policy, outcome: dict) -> tuple:
    """Eligibility, the failing rules and the money lets (to the fen, as DESIGN §5's
    DECIMAL(18,2) column holds them), from a decision or from a result row."""
    money = [let.name for let in policy.lets if let.type.kind.name == "MONEY"]
    if "failures" in outcome:
        return (outcome["eligible"], sorted(f["rule"] for f in outcome["failures"]),
                [Decimal(outcome["values"][name]).normalize() for name in money])
    return (bool(outcome["eligible"]), sorted(c.name for c in policy.checks
                                              if not outcome[f"rule__{c.name}"]),
            [Decimal(str(outcome[name])).normalize() for name in money])


@pytest.mark.parametrize("target", ["sqlite", "postgres", "spark"])
def test_static_pass_refuses_portfolio_rules_off_duckdb(target: str) -> None:
    policy = api.load_source(PORTFOLIO, "p.pol")
    with pytest.raises(PolicyError) as raised:
        check_translatable(policy, target)
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.code == "E612"
    assert "budget pot" in diagnostic.message and target in diagnostic.message
    assert (diagnostic.span.line, diagnostic.span.column) == (8, 5)
    with pytest.raises(PolicyError) as whole_book:  # no dialect runs them as one query
        emit_sql(policy, target)
    assert "budget pot" in whole_book.value.diagnostics[0].message
    assert "positive" in emit_sql(policy, "duckdb", per_case=True)


def test_compile_cli_names_the_untranslatable_construct(tmp_path: Path) -> None:
    path = tmp_path / "p.pol"
    path.write_text(PORTFOLIO, encoding="utf-8")
    result = runner.invoke(app, ["compile", str(path), "--target", "sql", "--dialect",
                                 "sqlite"])
    assert result.exit_code != 0
    assert "E612" in result.output and "budget pot" in result.output


def _lets(count: int):
    lets = "\n".join(f"  let l{i} = loan + {i}元" for i in range(count))
    return api.load_source('policy wide "t" {\n  input {\n    loan: money\n  }\n'
                           f'{lets}\n  rule r: l0 > 0元\n}}\n', "wide.pol")


def test_a_query_wider_than_a_dialect_allows_is_a_compile_error() -> None:
    """Every let is an internal column and an output, both in the last layer: 1,100 lets
    make 2,202 columns, more than SQLite (2,000) or PostgreSQL (1,664) return from one
    SELECT. Running it failed with the database's own error (SQLite's "too many columns
    in result set", a traceback); now it is E612 when the query is built."""
    wide = _lets(1100)
    for dialect, most in (("sqlite", "2,000"), ("postgres", "1,664")):
        with pytest.raises(PolicyError) as refused:
            emit_sql(wide, dialect)
        assert refused.value.code == "E612"
        assert "carries 2,20" in str(refused.value) and f"allows {most}" in str(refused.value)
    assert "l1099" in emit_sql(wide, "duckdb")
    narrower = _lets(990)  # 1,982 columns (with SQLite's case number): SQLite runs it
    case = {"loan": Decimal("1.50")}
    assert sql_backend(narrower, "sqlite")(case, {}) == evaluate(narrower, case, {})


def test_unknown_dialect_is_a_compile_error() -> None:
    policy = api.load_source(PORTFOLIO, "p.pol")
    with pytest.raises(PolicyError) as raised:
        emit_sql(policy, "oracle", per_case=True)
    assert raised.value.code == "E612" and "sqlite" in str(raised.value)


@pytest.mark.parametrize("target", ["duckdb", "sqlite", "postgres", "spark"])
def test_compile_cli_every_dialect(target: str) -> None:
    result = runner.invoke(app, ["compile", "policies/hunan/disaster_relief.pol", "--target",
                                 "sql", "--dialect", target])
    assert result.exit_code == 0, result.output
    assert "rule__" in result.output


def test_errors_keep_their_code_on_every_database(dialect: str) -> None:
    policy = api.load_source('policy p "p" {\n input { a: number  b: number }\n'
                             ' let q = a / b cite "q"\n}\n', "p.pol")
    from decimal import Decimal

    from policylang.engine import run_many

    (result,) = run_many(policy, [{"a": Decimal(1), "b": Decimal(0)}], {}, dialect=dialect)
    assert isinstance(result, PolicyError) and result.code == "E610"
    (result,) = run_many(policy, [{"a": Decimal(2), "b": Decimal(3)}], {}, dialect=dialect)
    assert result["values"]["q"] == "0.6666666667"


# ── the printed query over a `cases` table a developer makes from README's table ──
# disaster_relief's inputs, and a loan id the policy does not read (README: "other columns
# are carried through").
_CASES_DDL = {
    "duckdb": "CREATE TABLE cases (loan_id BIGINT, guarantee_amount DECIMAL(38,10), "
              "guarantee_fee_rate DECIMAL(38,10), enterprise_area VARCHAR, "
              "reguarantee_charged DECIMAL(38,10), branch VARCHAR)",
    "sqlite": "CREATE TABLE cases (loan_id INTEGER, guarantee_amount TEXT, "
              "guarantee_fee_rate TEXT, enterprise_area TEXT, reguarantee_charged TEXT, "
              "branch TEXT)",
    "postgres": "CREATE TEMP TABLE cases (loan_id BIGINT, guarantee_amount DECIMAL(38,10), "
                "guarantee_fee_rate DECIMAL(38,10), enterprise_area TEXT, "
                "reguarantee_charged DECIMAL(38,10), branch TEXT)",
}


def _by_hand(dialect: str, rows: list[tuple], request) -> tuple[list[str], list[tuple]]:
    """The compiled text of disaster_relief run by the plain driver over `rows`."""
    policy = POLICIES["policies/hunan/disaster_relief.pol"]
    query = emit_sql(policy, dialect)
    if dialect == "duckdb":
        import duckdb

        connection = duckdb.connect()
        marks = "?"
    elif dialect == "sqlite":
        import sqlite3

        from policylang.emit.sql_sqlite import register

        connection = sqlite3.connect(":memory:")
        register(connection)
        marks = "?"
    else:
        import psycopg

        connection = psycopg.connect(request.getfixturevalue("postgres_server"),
                                     autocommit=True)
        marks = "%s"
    try:
        connection.execute(_CASES_DDL[dialect])
        cursor = connection.cursor()
        cursor.executemany(f"INSERT INTO cases VALUES ({', '.join([marks] * 6)})", rows)
        cursor.execute(query)
        names = [d[0] for d in cursor.description]
        return names, cursor.fetchall()
    finally:
        connection.close()


@pytest.mark.parametrize("dialect", ["duckdb", "sqlite", "postgres"])
def test_compiled_text_carries_the_other_columns_through(dialect: str, request) -> None:
    """A loan id and a branch come back beside the outputs, so a bank can join the
    decisions to its loans (SQLite and PostgreSQL returned the inputs and outputs alone,
    in no promised order)."""
    rows = [(7, "600", "0.004", None, "0", "north"),
            (3, "6000000", "0.008", "xiangtan_county", None, "south")]
    names, got = _by_hand(dialect, rows, request)
    assert names[:6] == ["loan_id", "guarantee_amount", "guarantee_fee_rate",
                         "enterprise_area", "reguarantee_charged", "branch"]
    assert names[6:] == [c for c in names[6:] if not c.startswith("__pl_")]
    decided = {row[0]: (row[5], bool(row[names.index("eligible")])) for row in got}
    assert decided == {7: ("north", True), 3: ("south", False)}


@pytest.mark.parametrize("dialect", ["duckdb", "sqlite", "postgres"])
def test_compiled_text_refuses_a_null_input_without_default(dialect: str, request) -> None:
    """A NULL amount is E602, as a case without it and a book's empty cell are: it made
    each guarded limit's condition NULL, the limit `ELSE TRUE`, and the loan eligible."""
    with pytest.raises(Exception, match="E602: cases column `guarantee_amount`"):
        _by_hand(dialect, [(1, None, "0.004", None, None, "north")], request)
    # A NULL where the input has a default takes the default.
    names, (row,) = _by_hand(dialect, [(1, "600", "0.004", None, None, "north")], request)
    assert bool(row[names.index("eligible")]) is True


@pytest.mark.parametrize("dialect", ["duckdb", "sqlite", "postgres"])
def test_compiled_text_refuses_an_enum_cell_naming_no_member(dialect: str, request) -> None:
    """An area no member names is E604, as in a case file: it made every `==` on it false,
    so each limit guarded by an area did not apply and the loan was decided without it."""
    with pytest.raises(Exception, match="E604: cases column `enterprise_area`: a value that "
                                        "is not a member of enum"):
        _by_hand(dialect, [(1, "600", "0.004", "Xiangtan", None, "north")], request)
    names, (row,) = _by_hand(dialect, [(1, "600", "0.004", "xiangtan_county", None, "north")],
                             request)
    assert names.index("eligible") > 5
