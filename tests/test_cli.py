"""The command line: exit codes and messages for every user mistake, end to end."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policylang.cli import app

DESIGN = Path(__file__).resolve().parents[2] / "shared" / "DESIGN.md"
runner = CliRunner()

EXAMPLE_CASE = {
    "in_zone": True, "sme": True, "high_tech": True, "tech_listed": False, "owns_ip": True,
    "revenue_last_year": "800万", "loan_amount": "300万", "term": "1 year",
    "interest_rate": "5%", "overdue_amount": "100万", "pool_balance": "40万",
    "risk_fund_balance": "1000万",
}

ENUM_POLICY = """policy e "e" {
  enum kind { enterprise  individual_business }
  input { borrower: kind  amount: money  term: duration  start: date }
  limit cap: amount <= 1000万 when borrower == enterprise
  let q = amount / 2
}
"""


@pytest.fixture
def example(tmp_path: Path) -> Path:
    source = DESIGN.read_text(encoding="utf-8")
    policy = re.search(r"```pol\n(.*?)```", source, re.S).group(1)
    path = tmp_path / "example.pol"
    path.write_text(policy, encoding="utf-8")
    return path


def _case(tmp_path: Path, case: object) -> Path:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    return path


def _run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def test_run_prints_the_decision(example: Path, tmp_path: Path) -> None:
    result = _run("run", example, "--case", _case(tmp_path, EXAMPLE_CASE))
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert decision["eligible"] is True
    assert decision["allocations"]["overdue"] == {
        "pool": "400000.00", "risk_fund": "300000.00", "bank": "300000.00",
        "escalated": "0.00"}


def test_json_numbers_are_base_units_and_never_floats(example: Path, tmp_path: Path) -> None:
    case = dict(EXAMPLE_CASE, loan_amount=3000000.1, interest_rate=0.05)
    (tmp_path / "case.json").write_text(json.dumps(case), encoding="utf-8")
    result = _run("run", example, "--case", tmp_path / "case.json")
    assert result.exit_code == 0, result.output
    # 3000000.1 × 2.5% = 75000.0025 exactly; a float would still round to this, so check
    # the exact product through a value a float cannot hold.
    assert json.loads(result.stdout)["values"]["guarantee_deposit"] == "75000.00"


@pytest.mark.parametrize(("change", "code", "words"), [
    ({"bogus": 1}, "E601", "unknown input field `bogus`"),
    ({"in_zone": None}, "E602", "missing required input field `in_zone`"),
    ({"interest_rate": "500万"}, "E603", "field `interest_rate`: expected percent"),
    ({"term": 12}, "E603", "field `term`: expected duration"),
    ({"loan_amount": "1.12345678901元"}, "E603", "more than 10 decimal places"),
    ({"in_zone": "yes"}, "E603", "field `in_zone`: expected bool"),
])
def test_bad_cases_exit_2_naming_the_field(example, tmp_path, change, code, words) -> None:
    case = {k: v for k, v in {**EXAMPLE_CASE, **change}.items() if v is not None}
    result = _run("run", example, "--case", _case(tmp_path, case))
    assert result.exit_code == 2
    assert f"error[{code}]" in result.output
    assert words in result.output


def test_unknown_enum_member(tmp_path: Path) -> None:
    policy = tmp_path / "e.pol"
    policy.write_text(ENUM_POLICY, encoding="utf-8")
    case = {"borrower": "bank", "amount": "5万", "term": "1年", "start": "2024-01-01"}
    result = _run("run", policy, "--case", _case(tmp_path, case))
    assert result.exit_code == 2
    assert "error[E604]" in result.output and "`bank` is not a member of enum `kind`" in \
        result.output


def test_unreadable_and_invalid_case_files(example: Path, tmp_path: Path) -> None:
    missing = _run("run", example, "--case", tmp_path / "nope.json")
    assert missing.exit_code == 2 and "error[E607]" in missing.output
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    invalid = _run("run", example, "--case", bad)
    assert invalid.exit_code == 2 and "not valid JSON" in invalid.output
    array = _run("run", example, "--case", _case(tmp_path, [1, 2]))
    assert array.exit_code == 2 and "a case is a JSON object" in array.output


@pytest.mark.parametrize(("option", "code", "words"), [
    ("bogus=1", "E605", "unknown param `bogus`"),
    ("benchmark_rate", "E605", "write NAME=VALUE"),
    ("benchmark_rate=abc", "E603", "param `benchmark_rate`"),
])
def test_bad_params_exit_2(example, tmp_path, option, code, words) -> None:
    result = _run("run", example, "--case", _case(tmp_path, EXAMPLE_CASE), "--param", option)
    assert result.exit_code == 2
    assert f"error[{code}]" in result.output and words in result.output


def test_param_changes_the_decision(example: Path, tmp_path: Path) -> None:
    result = _run("run", example, "--case", _case(tmp_path, EXAMPLE_CASE),
                  "--param", "benchmark_rate=4%")
    decision = json.loads(result.stdout)
    assert decision["failures"][0]["rule"] == "rate_cap"
    assert decision["failures"][0]["bound"] == "0.048"


@pytest.mark.parametrize("flags", [["--dialect", "sqlite"], ["--dialect", "duckdb"],
                                   ["--param", "benchmark_rate=4%"], ["--per-case"]])
def test_sql_only_compile_flags_are_refused_with_the_python_target(
        example: Path, tmp_path: Path, flags: list[str]) -> None:
    """The Python module takes its params when called and has no dialect: such a flag
    with --target python was ignored without a word."""
    out = tmp_path / "module.py"
    result = _run("compile", example, *flags, "-o", out)
    assert result.exit_code == 2 and "go with --target sql" in result.output, result.output
    assert not out.exists()
    assert _run("compile", example, "--target", "sql", "--dialect", "sqlite",
                "--param", "benchmark_rate=4%").exit_code == 0


def test_explain_with_a_book_is_refused(example: Path, tmp_path: Path) -> None:
    book = tmp_path / "book.csv"
    cells = [str(v).lower() if isinstance(v, bool) else v for v in EXAMPLE_CASE.values()]
    book.write_text(",".join(EXAMPLE_CASE) + "\n" + ",".join(cells) + "\n", encoding="utf-8")
    result = _run("run", example, "--book", book, "--explain")
    assert result.exit_code == 2 and "--explain goes with --case" in result.output
    assert _run("run", example, "--book", book).exit_code == 0


def test_run_book_writes_its_output_with_o_as_the_other_commands_do(tmp_path: Path) -> None:
    policy = tmp_path / "e.pol"
    policy.write_text(ENUM_POLICY, encoding="utf-8")
    book = tmp_path / "book.csv"
    book.write_text("borrower,amount,term,start\nenterprise,500万,2 years,2024-06-01\n",
                    encoding="utf-8")
    short, long = tmp_path / "short.csv", tmp_path / "long.csv"
    assert _run("run", policy, "--book", book, "-o", short).exit_code == 0
    assert _run("run", policy, "--book", book, "--out", long).exit_code == 0
    assert short.read_text(encoding="utf-8") == long.read_text(encoding="utf-8")
    assert "2500000.00" in short.read_text(encoding="utf-8")


def test_missing_param_without_default(tmp_path: Path) -> None:
    policy = tmp_path / "p.pol"
    policy.write_text('policy p "p" {\n input { r: percent }\n param lpr: percent\n'
                      ' limit c: r <= lpr\n}\n', encoding="utf-8")
    result = _run("run", policy, "--case", _case(tmp_path, {"r": "3%"}))
    assert result.exit_code == 2 and "error[E606]" in result.output


def test_evaluation_error_exits_1_with_location(tmp_path: Path) -> None:
    policy = tmp_path / "p.pol"
    policy.write_text('policy p "p" {\n input { x: number }\n let q = 1 / x\n}\n',
                      encoding="utf-8")
    result = _run("run", policy, "--case", _case(tmp_path, {"x": "0"}))
    assert result.exit_code == 1
    assert "p.pol:3:10: error[E610]: division by zero" in result.output


def test_bad_policy_exits_1(tmp_path: Path) -> None:
    policy = tmp_path / "p.pol"
    policy.write_text('policy p "p" {\n input { a: money  b: percent }\n let c = a + b\n}\n',
                      encoding="utf-8")
    result = _run("check", policy)
    assert result.exit_code == 1
    assert "p.pol:3:10: error[E201]: cannot compute money + percent" in result.output


def test_test_command_reports_failures(tmp_path: Path) -> None:
    policy = tmp_path / "p.pol"
    policy.write_text('policy p "p" {\n input { a: money }\n limit cap: a <= 100元\n'
                      ' test "t" { given { a: 200元 } expect eligible }\n}\n', encoding="utf-8")
    result = _run("test", policy)
    assert result.exit_code == 1
    assert "expected eligible, but it is not eligible: cap (value 200.00, bound 100.00)" in \
        result.output
    assert "0 passed, 1 failed" in result.output


def test_unknown_backend_is_usage_error(example: Path, monkeypatch) -> None:
    monkeypatch.delenv("POLICYLANG_POSTGRES", raising=False)
    result = _run("test", example, "--backend", "cobol")
    assert result.exit_code == 2 and "unknown backend 'cobol'" in result.output
    assert "and postgres with a server named by POLICYLANG_POSTGRES" in result.output
    # A misspelling is named before postgres's missing server, whatever the order.
    result = _run("test", example, "--backend", "interp,postgres,foo")
    assert result.exit_code == 2 and "unknown backend 'foo'" in result.output
    result = _run("test", example, "--backend", "interp,postgres")
    assert result.exit_code == 2 and "needs a PostgreSQL server" in result.output


def test_paths_and_flags_are_printed_as_written_never_as_markup(tmp_path: Path) -> None:
    folder = tmp_path / "p[red]q"
    folder.mkdir()
    policy = folder / "p.pol"
    policy.write_text('policy p "p" {\n input { a: money }\n  limit cap: a <= 100元\n}\n',
                      encoding="utf-8")
    formatted = _run("fmt", policy)
    assert formatted.exit_code == 0 and "p[red]q" in formatted.output, formatted.output
    flagged = _run("test", policy, "--backend", "[bold]sql")
    assert flagged.exit_code == 2 and "'[bold]sql'" in flagged.output, flagged.output


def test_fmt_check(example: Path) -> None:
    assert _run("fmt", "--check", example).exit_code == 1
    assert _run("fmt", example).exit_code == 0
    assert _run("fmt", "--check", example).exit_code == 0
    assert _run("test", example).exit_code == 0


@pytest.mark.parametrize("conninfo, says", [
    ("postgresql://nobody@127.0.0.1:1/x", "Connection refused"),
    ("garbage string", 'missing "="'),
    (None, "set POLICYLANG_POSTGRES"),
], ids=["no server", "malformed", "unset"])
def test_postgres_backend_without_a_usable_server_is_a_usage_error(
        example: Path, monkeypatch, conninfo: str | None, says: str) -> None:
    if conninfo is None:
        monkeypatch.delenv("POLICYLANG_POSTGRES", raising=False)
    else:
        monkeypatch.setenv("POLICYLANG_POSTGRES", conninfo)
    result = runner.invoke(app, ["test", str(example), "--backend", "interp,postgres"])
    assert result.exit_code == 2, result.output
    assert says in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_fmt_writes_nothing_while_a_file_does_not_parse(tmp_path: Path) -> None:
    """All or nothing: the unformatted good file is left as it was, and the message says
    why; --check names both."""
    good, bad = tmp_path / "b_good.pol", tmp_path / "a_bad.pol"
    untidy = 'policy p "t" {\n  input { x: money }\n  rule r:   x > 0元\n}\n'
    good.write_text(untidy, encoding="utf-8")
    bad.write_text('policy p "t" {\n  rule r:\n}\n', encoding="utf-8")
    result = runner.invoke(app, ["fmt", str(tmp_path)])
    assert result.exit_code == 1
    assert "E102" in result.output and "no file reformatted: 1 file does not parse" in result.output
    assert good.read_text(encoding="utf-8") == untidy
    result = runner.invoke(app, ["fmt", "--check", str(tmp_path)])
    assert result.exit_code == 1 and f"would reformat {good}" in result.output
    bad.unlink()
    assert runner.invoke(app, ["fmt", str(tmp_path)]).exit_code == 0
    assert good.read_text(encoding="utf-8") != untidy


def test_check_sums_up_files_with_errors(tmp_path: Path) -> None:
    (tmp_path / "good.pol").write_text('policy p "t" {\n  input { x: money }\n}\n',
                                       encoding="utf-8")
    (tmp_path / "bad.pol").write_text('policy p "t" {\n  rule r: y > 1\n}\n', encoding="utf-8")
    result = runner.invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.rstrip().endswith("checked 2 files: 1 with errors")


def test_version_flag() -> None:
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output == f"policylang {version('policylang')}\n"


def test_a_case_error_names_the_case_file(example: Path, tmp_path: Path) -> None:
    case = tmp_path / "applicant.json"
    case.write_text(json.dumps({**EXAMPLE_CASE, "loan_amount": "a lot"}), encoding="utf-8")
    for command in (["run"], ["explain"]):
        result = runner.invoke(app, [*command, str(example), "--case", str(case)])
        assert result.exit_code == 2, result.output
        assert f"error[E603]: {case}: field `loan_amount`" in result.output


@pytest.mark.parametrize(("command", "arguments"), [
    ("run", "{FILE}"), ("compile", "{FILE}"), ("check", "{PATHS}..."),
    ("diff", "{OLD} {NEW}"), ("build", "[DIRECTORY]")])
def test_usage_lines_name_arguments_as_the_readme_does(command: str, arguments: str) -> None:
    result = _run(command, "--help")
    assert result.exit_code == 0
    usage = next(line for line in result.output.splitlines() if "Usage:" in line)
    assert f"[OPTIONS] {arguments}" in usage


def test_test_says_a_file_that_did_not_check_ran_no_tests(example: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.pol"
    broken.write_text('policy p "t" {\n  rule r: nope\n}\n', encoding="utf-8")
    result = _run("test", broken, example)
    assert result.exit_code == 1 and "error[E402]" in result.output
    assert "passed, 0 failed; 1 file did not check, so its tests did not run" in result.output


@pytest.mark.parametrize("command", ["check", "test", "build"])
def test_an_unreadable_policy_file_is_bad_input_for_every_command(command: str,
                                                                   tmp_path: Path) -> None:
    # DESIGN §4: exit 2 for unreadable input, 1 for a wrong policy; `test` and `build`
    # once folded an unreadable file into 1.
    unreadable = tmp_path / "latin1.pol"
    unreadable.write_bytes('policy p "Zürich" {}\n'.encode("latin-1"))
    arguments = [unreadable, "-o", tmp_path / "out"] if command == "build" else [unreadable]
    result = _run(command, *arguments)
    assert result.exit_code == 2, result.output
    assert "error[E607]" in result.output and "not UTF-8" in result.output


def test_a_reader_closing_the_pipe_early_costs_no_file_and_is_not_exit_1(
        example: Path, tmp_path: Path) -> None:
    # `run --book … --report R.json | head -1`: rich exited 1 on the closed pipe before the
    # report was written. The reader here closes the pipe before anything is printed.
    book = tmp_path / "book.csv"
    cells = [str(v).lower() if isinstance(v, bool) else v for v in EXAMPLE_CASE.values()]
    book.write_text(",".join(EXAMPLE_CASE) + "\n" + ",".join(cells) + "\n", encoding="utf-8")
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "policylang", "run", str(example), "--book", str(book),
               "--report", str(report)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait() == 141, stderr
    assert stderr == ""
    written = report.read_text(encoding="utf-8")
    report.unlink()
    assert _run("run", example, "--book", book, "--report", report).exit_code == 0
    assert written == report.read_text(encoding="utf-8")


@pytest.mark.parametrize("command", ["compile", "explain", "diff", "doc"])
def test_a_command_writing_o_says_so_on_stderr_and_prints_nothing(
        command: str, example: Path, tmp_path: Path) -> None:
    out = tmp_path / ("out.html" if command == "doc" else "out.txt")
    arguments = {"compile": [example, "--target", "python"],
                 "explain": [example, "--case", _case(tmp_path, EXAMPLE_CASE)],
                 "diff": [example, example], "doc": [example]}[command]
    result = _run(command, *arguments, "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and result.stderr == f"wrote {out}\n"
    assert out.read_text(encoding="utf-8")
