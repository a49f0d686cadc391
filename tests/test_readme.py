"""The README stays true: its error table matches the registry, its example checks, and its
two commands are the ones CI runs."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from pathlib import Path

from policylang import api
from policylang.formatter import format_source
from policylang.messages import markdown_table

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_error_table_matches_the_registry() -> None:
    table = README.split("<!-- error-codes:start -->")[1].split("<!-- error-codes:end -->")[0]
    assert table.strip() == markdown_table()


def test_readme_policy_examples_check_and_pass_their_tests() -> None:
    blocks = re.findall(r"```pol\n(.*?)```", README, re.S)
    assert blocks
    for block in blocks:
        policy = api.load_source(block, "README.md")
        assert all(result.passed for result in api.run_tests(policy))
        # copied into policies/, an example must pass `build`, which refuses unformatted files
        assert format_source(block, "README.md") == block


def test_ci_runs_the_readme_test_command() -> None:
    command = 'pip install -e ".[dev]" && python -m pytest'
    assert command in README
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_cases_table_matches_the_code_that_creates_it() -> None:
    """README's `cases` column types per input type: DuckDB's from `create_cases_table`
    (DESCRIBE), PostgreSQL's from the CREATE its `load_cases` sends, SQLite's from
    `sql_sqlite.CELL_FORMS` (its columns have no type; `cell` writes those forms) and
    Spark's from the schema of its cases frame."""
    import contextlib

    from policylang import engine, ir
    from policylang.emit.sql_sqlite import CELL_FORMS, cell
    from policylang.spark_engine import _spark_type

    kinds = [kind for kind in ir.Kind if kind is not ir.Kind.ERROR]
    policy = api.load_source('policy p "t" {\n  enum e {\n    a "a"\n  }\n  input {\n' + "".join(
        f"    {k.value}_in: {'e' if k is ir.Kind.ENUM else k.value}\n" for k in kinds)
        + "  }\n}\n", "cases.pol")
    types = {f.type.kind: f.type for f in policy.inputs}

    duckdb = engine.connect()
    engine.create_cases_table(duckdb, policy)
    duck = {row[0]: row[1] for row in duckdb.execute("DESCRIBE cases").fetchall()}

    class Capture:  # a PostgreSQL connection that only notes the statements sent
        statements: list[str] = []

        def execute(self, sql: str, *args) -> None:
            self.statements.append(sql)

        def cursor(self):
            return contextlib.nullcontext(self)

        def executemany(self, *args) -> None:
            pass

    postgres = object.__new__(engine.PostgresDatabase)
    postgres.connection = Capture()
    postgres.load_cases(policy, [])
    [create] = [s for s in Capture.statements if s.startswith("CREATE")]
    columns = create[create.index("(") + 1:-1].split(", ")
    pg = {name.strip('"'): type_ for name, type_ in (c.split(" ", 1) for c in columns)}

    sqlite = engine.SqliteDatabase()
    sqlite.load_cases(policy, [])
    declared = {row[1]: row[2] for row in sqlite.connection.execute("PRAGMA table_info(cases)")}
    assert set(declared.values()) == {""}, declared
    samples = {ir.Kind.MONEY: Decimal("1234.5"), ir.Kind.PERCENT: Decimal("0.0345"),
               ir.Kind.NUMBER: Decimal("1.5"), ir.Kind.DURATION: ir.Duration(18, "month"),
               ir.Kind.DATE: datetime.date(2021, 2, 24), ir.Kind.BOOL: True,
               ir.Kind.ENUM: "a"}
    for kind in kinds:  # each form names the storage class `cell` writes
        (stored,) = sqlite.connection.execute("SELECT typeof(?)", [cell(samples[kind],
                                                                        types[kind])]).fetchone()
        assert CELL_FORMS[kind].startswith(stored.upper()), (kind, stored)

    rows = ["| input type | DuckDB | PostgreSQL | SQLite (a column without a type, or TEXT) "
            "| Spark |", "|---|---|---|---|---|"]
    for kind in kinds:
        name = f"{kind.value}_in"
        rows.append(f"| {kind.value} | `{duck[name]}` | `{pg[name]}` | {CELL_FORMS[kind]} | "
                    f"`{_spark_type(types[kind]).simpleString()}` |")
    table = README.split("<!-- cases-columns:start -->")[1].split("<!-- cases-columns:end -->")[0]
    assert table.strip() == "\n".join(rows)
