"""The README stays true: its error table matches the registry, its example checks, and its
two commands are the ones CI runs."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest

from policylang import api
from policylang.diagnostics import PolicyError
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


def _section(title: str) -> str:
    """The README's text from the heading `title` to the next heading of its level or above."""
    level = title.split(" ")[0]
    body = README.split(f"\n{title}\n", 1)[1]
    ends = [body.find(f"\n{'#' * n} ") for n in range(1, len(level) + 1)]
    ends = [end for end in ends if end >= 0]
    return body[:min(ends)] if ends else body


def _check_python_block(block: str, namespace: dict) -> None:
    """Run a README Python block as written; a line `EXPR   # VALUE …` must give VALUE (a
    Python literal, the comment up to its first ` (` when the whole is not one)."""
    import ast

    exec(compile(block, "README.md", "exec"), namespace)
    for line in block.splitlines():
        code, _, comment = line.partition("  # ")
        if not comment or code.startswith(" ") or "=" in code.split("(")[0]:
            continue
        try:
            expected = ast.literal_eval(comment.strip())
        except (ValueError, SyntaxError):
            expected = ast.literal_eval(comment.split(" (")[0].strip())
        assert eval(code, namespace) == expected, line


def test_the_small_policy_runs_as_shown() -> None:
    """A small policy's case.json gives the decision JSON printed below it; a percent
    written as text without `%` is a fraction, refused beyond ±1, as the text says."""
    import json

    section = _section("## A small policy")
    policy = api.load_source(re.findall(r"```pol\n(.*?)```", section, re.S)[0], "policy.pol")
    case_text, decision_text = re.findall(r"```json\n(.*?)```", section, re.S)
    case = json.loads(case_text, parse_float=Decimal)
    assert json.dumps(api.decide(policy, case), ensure_ascii=False, indent=2) + "\n" \
        == decision_text
    assert '`"4.95"` would be 495%' in section
    with pytest.raises(PolicyError) as refused:
        api.decide(policy, {**case, "rate": "4.95"})
    assert refused.value.code == "E603" and "write `4.95%`" in refused.value.diagnostics[0].notes[0]
    with pytest.raises(PolicyError, match="345%"):
        api.decide(policy, case, {"lpr": "3.45"})
    assert api.decide(policy, {**case, "rate": "0.0495"})["eligible"]
    failure = api.decide(policy, {**case, "rate": 4.95})["failures"][0]  # a JSON number
    assert (failure["rule"], failure["value"]) == ("rate_cap", "4.95")


def test_python_api_and_backend_snippets_run_as_written(tmp_path, monkeypatch) -> None:
    import subprocess
    import sys

    monkeypatch.chdir(ROOT)  # the snippets name policies/… from the repository's folder
    api_block = re.findall(r"```python\n(.*?)```", _section("## Python API"), re.S)
    backend_block = re.findall(r"```python\n(.*?)```", _section("## The Python backend"), re.S)
    assert len(api_block) == len(backend_block) == 1
    _check_python_block(api_block[0], {})

    command = re.search(r"`policylang compile FILE --target python -o (\w+)\.py`",
                        _section("## The Python backend"))
    assert command and command[1] in backend_block[0]
    subprocess.run([sys.executable, "-m", "policylang", "compile",
                    "policies/chongqing/zhubaodai.pol", "--target", "python",
                    "-o", str(tmp_path / f"{command[1]}.py")], check=True, capture_output=True)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, command[1], raising=False)
    try:
        _check_python_block(backend_block[0], {})
    finally:
        sys.modules.pop(command[1], None)


def test_every_command_option_is_in_the_commands_table() -> None:
    """Each `policylang` command has a row in the Commands table, and the row names each of
    its options (by any of its spellings), so an option cannot be added unseen."""
    import typer

    from policylang.cli import app

    table = _section("## Commands").split("Exit codes:")[0]
    rows = [row.split(" | ")[0] for row in table.splitlines() if row.startswith("| `policylang ")]
    for name, command in typer.main.get_command(app).commands.items():
        usage = " ".join(row for row in rows if re.match(rf"\| `policylang {name}[ `]", row))
        assert usage, f"no row for `policylang {name}`"
        for param in command.params:
            if param.param_type_name != "option" or param.name == "help":
                continue
            spellings = [*param.opts, *param.secondary_opts]
            assert any(re.search(re.escape(s) + r"(?![\w-])", usage) for s in spellings), \
                (name, spellings)


def test_spark_settings_are_the_ones_session_conf_lists() -> None:
    from policylang.emit.sql_spark import session_conf

    section = _section("## Running on Spark")
    for key, value in session_conf().items():
        assert f"`{key}={value}`" in section, key
    assert f"the {['no', 'one', 'two', 'three', 'four', 'five'][len(session_conf())]} " \
        "settings" in section


def test_conformance_case_count_is_about_right() -> None:
    """`some N cases` is within a tenth of the suite's size."""
    from tests.conformance.loader import load_file

    (claimed,) = re.findall(r"\(some (\d+) cases", _section("### Conformance suite"))
    count = sum(len(load_file(path)) for path in (ROOT / "tests" / "conformance").glob("*.test"))
    assert abs(count - int(claimed)) <= count / 10, (claimed, count)
