"""`run --book`: scoring a whole book on DuckDB agrees with the interpreter row by row.

Random books are written as CSV with every literal form a case accepts (and forms only
the reference parser takes, such as `(5万)` or `- 5万`), scored, and each output row is
compared with the interpreter's decision on the same texts. Bad books give a row and a
column, exit 2, and write nothing (misshapen books: tests/test_book_shape.py).
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import re
import threading
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from policylang import api, book_stream, cli_views, ir
from policylang.book import Progress, _Poller, score_book
from policylang.cases import parse_case
from policylang.cli import app
from policylang.diagnostics import PolicyError
from policylang.interpret import evaluate
from policylang.portfolio import check_order, evaluate_book, portfolio_columns
from policylang.values import format_decimal, literal
from tests.policies import all_policies
from tests.strategies import cases, default_params

POLICIES = all_policies()
BOOKS_PER_POLICY = int(os.environ.get("POLICYLANG_BOOK_EXAMPLES", "15"))
runner = CliRunner()

DEMO = """policy demo "demo" {
  enum kind { enterprise "企业"  individual "个体" }
  input {
    borrower: kind
    amount: money
    rate: percent = 4%
    term: duration = 1 year
  }
  let fee = amount * 1% cite "f"
  let per_month = amount / months(term) cite "p"
  limit cap: amount <= 1000万 when borrower == enterprise cite "c1" says "too big"
  rule short: term <= 3 years cite "c3"
  shares split of amount cite "s" { bank: 10%  insurer: 90% }
}
"""


def _forms(value: ir.Value, type_: ir.Type) -> st.SearchStrategy[str]:
    """Texts a case accepts for `value`, in the several spellings drafters use."""
    text = literal(value, type_) if type_.kind is not ir.Kind.BOOL else str(value).lower()
    forms = [text]
    match type_.kind:
        case ir.Kind.MONEY:
            forms += [f"{format_decimal(value)}元", format_decimal(value)]
            if value == value.quantize(Decimal("0.01")) and value >= 0:
                forms.append(f"{format_decimal(value.scaleb(-4))}万")
                forms.append(f"{format_decimal(value.scaleb(-8))}亿元")
            # No `({text})`: a spreadsheet's parentheses mark a negative, so no reader takes them.
            forms += [f" {text} "] + ([f"- {text[1:]}"] if text[0] == "-" else [])
        case ir.Kind.PERCENT:
            forms += [format_decimal(value)]
            if -value.scaleb(4).as_tuple().exponent <= 6:
                forms.append(f"{format_decimal(value.scaleb(4))}bp")
        case ir.Kind.NUMBER:
            forms += [f" {text}"]
        case ir.Kind.DURATION:
            unit = {"month": "个月", "day": "天"}[value.unit]
            forms += [f"{value.amount}{unit}" if value.amount >= 0 else text,
                      text.replace(" ", "")]
        case ir.Kind.ENUM:
            forms += [f"{type_.enum}.{value}", f"  {value}"]
    return st.sampled_from(forms)


@st.composite
def books(draw, policy: ir.Policy) -> list[dict[str, str]]:
    rows = []
    for case in draw(st.lists(cases(policy), min_size=1, max_size=12)):
        row = {"loan_id": f"L{len(rows) + 1:04d}"}
        for f in policy.inputs:
            if f.default is not None and draw(st.integers(0, 5)) == 0:
                row[f.name] = ""
            else:
                row[f.name] = draw(_forms(case[f.name], f.type))
        rows.append(row)
    order = policy.portfolio.order_by if policy.portfolio is not None else None
    if order is not None and draw(st.integers(0, 3)) > 0:
        # Most books are sorted by the ordering date, as E609 demands; the rest test E609.
        default = next(f.default for f in policy.inputs if f.name == order)
        rows.sort(key=lambda row: row[order].strip() or (default.isoformat() if default
                                                          else ""))
    return rows


def _write_csv(path: Path, rows: list[dict[str, str]], columns: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, columns)
        writer.writeheader()
        writer.writerows(rows)


def _expected_book(policy: ir.Policy, rows: list[dict[str, str]], params
                   ) -> tuple[list[dict], list[dict]] | tuple[int, PolicyError]:
    """The interpreter's whole-book result, or the first failing row and its error, in the
    order the book scorer checks: every row's values, then the ordering date (E609), then
    each case and the portfolio rules."""
    values = []
    for index, row in enumerate(rows):
        raw = {name: text for name, text in row.items() if name != "loan_id" and text != ""}
        try:
            values.append(parse_case(policy, raw))
        except PolicyError as error:
            return index, error
    try:
        check_order(policy, values)
    except PolicyError as error:
        return int(re.search(r"row (\d+)", error.diagnostics[0].message).group(1)) - 1, error
    for index, case in enumerate(values):
        try:
            evaluate(policy, case, params)
        except PolicyError as error:
            return index, error
    try:
        result = evaluate_book(policy, values, params)
    except PolicyError as error:
        return int(re.search(r"row (\d+)", error.diagnostics[0].message).group(1)) - 1, error
    return result.decisions, result.columns


def _same_value(expected: object, actual: str, type_: ir.Type) -> bool:
    if type_.kind in (ir.Kind.PERCENT, ir.Kind.NUMBER):
        return Decimal(str(expected)) == Decimal(actual)
    if type_.kind is ir.Kind.BOOL:
        return str(expected).lower() == actual
    return str(expected) == actual


def _compare(policy: ir.Policy, decision: dict, output: dict[str, str], where: str) -> None:
    failed = {failure["rule"]: failure for failure in decision["failures"]}
    assert output["eligible"] == str(decision["eligible"]).lower(), where
    for check in policy.checks:
        assert output[f"rule__{check.name}"] == str(check.name not in failed).lower(), where
        if check.name in failed and isinstance(check, ir.Limit):
            for side, type_ in (("value", check.subject.type), ("bound", check.bound.type)):
                assert _same_value(failed[check.name][side],
                                   output[f"rule__{check.name}__{side}"], type_), where
    for let in policy.lets:
        assert _same_value(decision["values"][let.name], output[let.name], let.type), \
            f"{where}: let {let.name}"
    for alloc, parts in decision["allocations"].items():
        for party, amount in parts.items():
            assert output[f"{alloc}__{party}"] == amount, f"{where}: {alloc}.{party}"


@pytest.mark.parametrize("name", list(POLICIES))
def test_book_agrees_with_interpreter(name: str, tmp_path_factory) -> None:
    policy = POLICIES[name]
    params = default_params(policy)
    if any(value is None for value in params.values()):
        pytest.skip("a param without default cannot be bound for random books")
    columns = ["loan_id"] + [f.name for f in policy.inputs]

    @settings(max_examples=BOOKS_PER_POLICY, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(books(policy))
    def check(rows: list[dict[str, str]]) -> None:
        folder = tmp_path_factory.mktemp("book")
        book, out = folder / "book.csv", folder / "out.csv"
        _write_csv(book, rows, columns)
        outcome = _expected_book(policy, rows, params)
        if isinstance(outcome[1], PolicyError):
            index, error = outcome
            with pytest.raises(PolicyError) as raised:
                score_book(policy, book, params, out)
            assert raised.value.code == error.code
            assert f"row {index + 1}" in raised.value.diagnostics[0].message
            assert not out.exists()
            return
        expected, portfolio = outcome
        summary = score_book(policy, book, params, out)
        with out.open(encoding="utf-8") as file:
            output = list(csv.DictReader(file))
        assert [r["loan_id"] for r in output] == [r["loan_id"] for r in rows]
        assert summary.cases == len(rows)
        assert summary.eligible == sum(1 for d in expected if d["eligible"])
        for row, decision, line, extra in zip(rows, expected, output, portfolio,
                                                strict=True):
            _compare(policy, decision, line, f"{name} {row}")
            for column, type_ in portfolio_columns(policy):
                assert _same_value(extra[column], line[column], type_), f"{name}: {column}"

    check()


# ── bad books ──────────────────────────────────────────────────────────────


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    path = tmp_path / "demo.pol"
    path.write_text(DEMO, encoding="utf-8")
    return path


def _book(tmp_path: Path, text: str, name: str = "book.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _run(*args: str):
    return runner.invoke(app, ["run", *map(str, args)])


def test_book_summary_and_output(demo: Path, tmp_path: Path) -> None:
    book = _book(tmp_path, "id,borrower,amount,term,branch\n"
                           "1,enterprise,500万,2 years,渝北\n"
                           "2,individual,1234567.89元,,江北\n"
                           "3,enterprise,1000.01万,4年,渝中\n")
    out = tmp_path / "out.csv"
    result = _run(demo, "--book", book, "--out", out)
    assert result.exit_code == 0, result.output
    assert "3 cases, 2 eligible, 1 not eligible" in result.output
    assert "1623466.79" in result.output  # split.bank total, exact to the fen
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["branch"] for r in rows] == ["渝北", "江北", "渝中"]
    assert rows[1]["term"] == "" and rows[1]["split__insurer"] == "1111111.10"
    assert rows[2]["rule__cap__value"] == "10000100.00"
    assert rows[2]["rule__short"] == "false"


def test_parquet_in_and_out_with_typed_columns(demo: Path, tmp_path: Path) -> None:
    book = tmp_path / "book.parquet"
    duckdb.sql("SELECT 'enterprise' AS borrower, CAST(1234567.89 AS DECIMAL(12,2)) AS amount, "
               "'18 months' AS term").write_parquet(str(book))
    out = tmp_path / "out.parquet"
    result = _run(demo, "--book", book, "--out", out)
    assert result.exit_code == 0, result.output
    cursor = duckdb.connect().execute(f"SELECT * FROM '{out}'")
    names = [d[0] for d in cursor.description]
    decided = dict(zip(names, cursor.fetchone(), strict=True))
    assert decided["split__bank"] == Decimal("123456.79")
    assert decided["per_month"] == Decimal("68587.11")  # 68587.105 half-up


@pytest.mark.parametrize(("content", "code", "words"), [
    ("borrower,amount\nenterprise,abc\n", "E603", "row 1, column `amount`"),
    ("borrower,amount\nenterprise,5万\nenterprise,5.5.5万\n", "E603", "row 2, column `amount`"),
    ("borrower,amount\nenterprise,5万\ncompany,5万\n", "E604", "row 2, column `borrower`"),
    ("borrower,amount\nenterprise,\n", "E602", "row 1, column `amount`"),
    ("borrower\nenterprise\n", "E602", "no column `amount`"),
    ("borrower,amount,term\nenterprise,1万,1.5 years\n", "E603", "row 1, column `term`"),
    ("borrower,amount\nenterprise,1000000000000000\n", "E603", "10^15"),
    ("borrower,amount,eligible\nenterprise,1万,yes\n", "E608", "`eligible`"),
    # A spreadsheet's negative: read as 500.00 before, by the grammar's parentheses.
    ("borrower,amount\nenterprise,5万\nenterprise,(500.00)\n", "E603",
     "row 2, column `amount`: '(500.00)' is not a value"),
    ("borrower,amount\nenterprise,\"1,000,000.00\"\n", "E603",
     "write `1000000.00`: without thousands separators"),
])
def test_bad_books_name_row_and_column(demo: Path, tmp_path: Path, content: str, code: str,
                                       words: str) -> None:
    book = _book(tmp_path, content)
    out = tmp_path / "out.csv"
    out.write_text("earlier output\n", encoding="utf-8")
    result = _run(demo, "--book", book, "--out", out)
    assert result.exit_code == 2, result.output
    assert f"error[{code}]" in result.output and words in result.output, result.output
    assert out.read_text(encoding="utf-8") == "earlier output\n"  # nothing partially written


@pytest.mark.parametrize("flags", [[], ["--no-limit-values"]])
def test_evaluation_error_names_the_first_failing_row(demo: Path, tmp_path: Path,
                                                      flags: list[str]) -> None:
    rows = "".join(f"enterprise,{i}万,{12 if i != 7 else 0} months\n" for i in range(1, 20))
    book = _book(tmp_path, "borrower,amount,term\n" + rows)
    result = _run(demo, "--book", book, *flags)
    assert result.exit_code == 1, result.output
    assert "error[E610]" in result.output and "row 7" in result.output


LIMITS = """policy limits "limits" {
  input {
    amount: money
    term: duration = 1 year
    rate: percent = 4%
  }
  limit cap: amount <= 1000万 cite "c"
  limit short: term <= 3 years cite "t"
  limit cheap: rate <= 5% when amount > 1万 cite "r"
  let fee = amount * 1% cite "f"
  shares split of fee cite "s" { bank: 30%  insurer: 70% }
}
"""


def _scored(path: Path) -> tuple[list[str], list[tuple]]:
    reader = (f"read_csv('{path}', all_varchar = true, header = true)" if path.suffix == ".csv"
              else f"read_parquet('{path}')")
    cursor = duckdb.connect().execute(f"SELECT * FROM {reader}")
    return [d[0] for d in cursor.description], cursor.fetchall()


@pytest.mark.parametrize("scorer", ["fast", "careful"])
def test_an_output_through_a_symbolic_link_keeps_the_link_and_its_permissions(
        demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scorer: str) -> None:
    from policylang import book_stream

    if scorer == "careful":
        def refuse(*_args, **_kwargs):
            raise book_stream.NotClean

        monkeypatch.setattr(book_stream, "score", refuse)
    book = _book(tmp_path, "id,borrower,amount,term,branch\n1,enterprise,500万,2 years,渝北\n")
    real = tmp_path / "results" / "scored.csv"
    real.parent.mkdir()
    real.write_text("old\n", encoding="utf-8")
    os.chmod(real, 0o640)
    link = tmp_path / "scored.csv"
    link.symlink_to(real)
    result = _run(demo, "--book", book, "--out", link)
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and real.read_text(encoding="utf-8").startswith("id,borrower")
    assert oct(real.stat().st_mode & 0o777) == oct(0o640)
    assert sorted(p.name for p in real.parent.iterdir()) == ["scored.csv"]


@pytest.mark.parametrize("scorer", ["fast", "careful"])
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_no_limit_values_leaves_out_each_limits_value_and_bound_and_nothing_else(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scorer: str, suffix: str) -> None:
    from policylang import book_stream

    if scorer == "careful":
        def refuse(*_args, **_kwargs):
            raise book_stream.NotClean

        monkeypatch.setattr(book_stream, "score", refuse)
    policy = tmp_path / "limits.pol"
    policy.write_text(LIMITS, encoding="utf-8")
    book = _book(tmp_path, "id,amount,term,rate\n1,500万,2 years,4.5%\n2,1500万,4年,6%\n"
                           "3,1000元,,\n4,12345.67,18 months,5.5%\n")
    full, slim = tmp_path / f"full{suffix}", tmp_path / f"slim{suffix}"
    with_values = _run(policy, "--book", book, "--out", full)
    without = _run(policy, "--book", book, "--out", slim, "--no-limit-values")
    assert with_values.exit_code == 0 and without.exit_code == 0, without.output
    timing = re.compile(r"\(\d+\.\d+ s, [\d,]+ cases/s\)")
    assert (timing.sub("", with_values.output.replace(str(full), str(slim)))
            == timing.sub("", without.output))
    full_columns, full_rows = _scored(full)
    slim_columns, slim_rows = _scored(slim)
    left_out = {f"rule__{name}__{side}" for name in ("cap", "short", "cheap")
                for side in ("value", "bound")}
    assert left_out <= set(full_columns)
    assert slim_columns == [c for c in full_columns if c not in left_out]
    kept = [full_columns.index(c) for c in slim_columns]
    assert slim_rows == [tuple(row[i] for i in kept) for row in full_rows]
    assert any(row[slim_columns.index("rule__short")] in (False, "false") for row in slim_rows)
    summary_only = _run(policy, "--book", book, "--no-limit-values")
    assert summary_only.exit_code == 0, summary_only.output
    assert "4 cases, 2 eligible" in summary_only.output, summary_only.output


def test_no_limit_values_with_portfolio_rules_keeps_the_report_and_the_other_columns(
        tmp_path: Path) -> None:
    from policylang.synthetic import write_book

    policy = POLICIES["policies/foshan/microloan_2022.pol"]  # monitors and a budget
    params = default_params(policy)
    book = write_book(policy, 300, tmp_path / "book.csv", 3)
    full = score_book(policy, book, params, tmp_path / "full.parquet")
    slim = score_book(policy, book, params, tmp_path / "slim.parquet", limit_values=False)
    assert slim.report == full.report and slim.report["monitors"]
    assert (slim.eligible, slim.failures, slim.totals) == (full.eligible, full.failures,
                                                           full.totals)
    full_columns, full_rows = _scored(tmp_path / "full.parquet")
    slim_columns, slim_rows = _scored(tmp_path / "slim.parquet")
    limits = [c.name for c in policy.checks if isinstance(c, ir.Limit)]
    assert limits and slim_columns == [
        c for c in full_columns if c not in {f"rule__{n}__{side}" for n in limits
                                             for side in ("value", "bound")}]
    assert any(c.startswith("monitor__") for c in slim_columns)  # the portfolio's columns
    kept = [full_columns.index(c) for c in slim_columns]
    assert slim_rows == [tuple(row[i] for i in kept) for row in full_rows]


def test_an_out_of_range_quotient_is_e611_not_a_code_quoted_from_the_query(
        tmp_path: Path) -> None:
    # DuckDB quotes the failing query after its message, and the query holds the text of
    # every error it might raise (`ERROR('E610: division by zero')`): the code is the
    # message's, here a cast the quotient overflows, as the interpreter says E611.
    policy = tmp_path / "div.pol"
    policy.write_text('policy div_test "除法" {\n  version "1"\n  input {\n    a: money\n'
                      '    b: number\n  }\n  let q = a / b\n}\n', encoding="utf-8")
    book = _book(tmp_path, "a,b\n100元,3\n100000000000000元,0.0000000001\n")
    result = _run(policy, "--book", book)
    assert result.exit_code == 1, result.output
    assert "error[E611]" in result.output and "row 2" in result.output, result.output
    assert "ELSE" not in result.output
    case = {"a": "100000000000000元", "b": "0.0000000001"}
    with pytest.raises(PolicyError) as raised:
        evaluate(api.load(policy), parse_case(api.load(policy), case), {})
    assert raised.value.code == "E611"


def test_money_of_10_to_the_16_in_a_book_names_the_money_columns_rule(tmp_path: Path) -> None:
    """A money let of 10^16 yuan fails the cast to its DECIMAL(18,2) column: the message
    says what the interpreter's does (money below 10^16 yuan), not the 10^18 of values."""
    policy = tmp_path / "big.pol"
    policy.write_text('policy big "大额" {\n  input {\n    a: money\n    n: number\n  }\n'
                      '  let total = a * n\n}\n', encoding="utf-8")
    book = _book(tmp_path, "a,n\n1元,2\n999999999999999.9995元,10\n")
    result = _run(policy, "--book", book)
    assert result.exit_code == 1, result.output
    assert "error[E611]" in result.output and "row 2" in result.output, result.output
    assert "must stay below 10,000,000,000,000,000元" in result.output, result.output


BIG_LIMITS = """policy big_limits "大额限额" {
  input {
    a: money
    n: number
    m: number = 1
    g: bool = true
  }
  limit cap: a * n <= 1亿 when g cite "c"
  limit floor: a <= a * m when not g cite "f"
}
"""


@pytest.mark.parametrize("scorer", ["fast", "careful"])
@pytest.mark.parametrize("row, refused", [
    ("999999999999999.9995元,10,,", True),  # cap's value: 9999999999999999.995
    ("-999999999999999.9995元,10,,", True),  # cap's value, negative
    ("999999999999999.9995元,1,-10,false", True),  # floor's bound
    ("999999999999999.9994元,10,,", False),  # cap's value rounds to 9999999999999999.99
    ("999999999999999.9995元,10,1,false", False),  # cap's value of 10^16 where cap applies not
])
def test_a_limit_side_of_10_to_the_16_is_refused_without_the_limit_columns_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scorer: str, row: str,
        refused: bool) -> None:
    """`--no-limit-values` computes no limit's value or bound column, whose DECIMAL(18,2)
    cast refuses a side of 10^16 yuan or more where the limit applies: the check does,
    with the message the columns' cast gives (it scored the case instead)."""
    if scorer == "careful":
        def refuse(*_args, **_kwargs):
            raise book_stream.NotClean

        monkeypatch.setattr(book_stream, "score", refuse)
    policy = tmp_path / "big_limits.pol"
    policy.write_text(BIG_LIMITS, encoding="utf-8")
    book = _book(tmp_path, f"a,n,m,g\n1元,2,,\n{row}\n")
    timing = re.compile(r"\(\d+\.\d+ s, [\d,]+ cases/s\)")
    with_values = _run(policy, "--book", book)
    without = _run(policy, "--book", book, "--no-limit-values")
    assert timing.sub("", without.output) == timing.sub("", with_values.output)
    a, n, m, g = row.split(",")
    case = {"a": a, "n": n, "m": m or "1", "g": (g or "true") == "true"}
    loaded = api.load(policy)
    if not refused:
        assert without.exit_code == 0 and "2 cases" in without.output, without.output
        evaluate(loaded, parse_case(loaded, case), {})
        return
    assert without.exit_code == 1, without.output
    assert "error[E611]" in without.output and "row 2" in without.output, without.output
    assert "must stay below 10,000,000,000,000,000元" in without.output, without.output
    with pytest.raises(PolicyError) as raised:
        evaluate(loaded, parse_case(loaded, case), {})
    assert raised.value.code == "E611"


@pytest.mark.parametrize("engine_text, money", [
    ('Conversion Error: Casting value "9999999999999999.995" to type DECIMAL(18,2) failed: '
     'value is out of range!', True),
    ("numeric field overflow\nDETAIL:  A field with precision 18, scale 2 must round to an "
     "absolute value less than 10^16.", True),
    ("[NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION]  9999999999999999.9950000000 cannot be "
     "represented as Decimal(18, 2).", True),
    ('Conversion Error: Casting value "1e19" to type DECIMAL(38,10) failed: value is out of '
     'range!', False),
])
def test_an_engines_overflow_names_the_rule_it_broke(engine_text: str, money: bool) -> None:
    from policylang.engine import out_of_range

    assert ("10,000,000,000,000,000元" in out_of_range(engine_text)) is money
    assert ("10^18" in out_of_range(engine_text)) is not money


def test_float_columns_are_refused(demo: Path, tmp_path: Path) -> None:
    book = tmp_path / "book.parquet"
    duckdb.sql("SELECT 'enterprise' AS borrower, 5000.5::DOUBLE AS amount").write_parquet(
        str(book))
    result = _run(demo, "--book", book)
    assert result.exit_code == 2
    assert "error[E608]" in result.output and "floating point" in result.output


DATED = """policy dated "dated" {
  input { amount: money  start: date }
  let fee = amount * 1% cite "f"
  rule recent: start >= 2022-01-01 cite "r"
}
"""


def _written(out: Path) -> list[tuple]:
    return duckdb.connect().execute(f"SELECT amount::VARCHAR, start::VARCHAR, fee, rule__recent "
                                    f"FROM '{out}'").fetchall()


@pytest.mark.parametrize("scorer", ["fast", "careful"])
def test_typed_parquet_columns_as_pandas_and_spark_write_them(tmp_path: Path, scorer: str,
                                                               monkeypatch) -> None:
    """Spark writes decimals as DECIMAL(38,18) and pandas dates as TIMESTAMP: a value
    with no digit beyond the tenth place, a timestamp at midnight, is read exactly; each
    was refused, every row of the column, before (E603 "more than 10 decimal places";
    E608 "use a text column")."""
    if scorer == "careful":
        monkeypatch.setattr(book_stream, "score", _refuse_stream)
    policy = tmp_path / "dated.pol"
    policy.write_text(DATED, encoding="utf-8")
    rows = ("(1234567.89, '2022-03-01'), (0.0000000001, '2021-12-31'), (NULL, NULL)")
    plain = tmp_path / "plain.parquet"
    duckdb.sql(f"SELECT CAST(a AS DECIMAL(18,10)) AS amount, CAST(d AS DATE) AS start "
               f"FROM (VALUES {rows}) t(a, d) LIMIT 2").write_parquet(str(plain))
    wide = tmp_path / "wide.parquet"
    duckdb.sql(f"SELECT CAST(a AS DECIMAL(38,18)) AS amount, CAST(d AS TIMESTAMP) AS start "
               f"FROM (VALUES {rows}) t(a, d) LIMIT 2").write_parquet(str(wide))
    for book in (plain, wide):
        result = _run(policy, "--book", book, "--out", tmp_path / f"{book.stem}.out.parquet")
        assert result.exit_code == 0, result.output
    expected = _written(tmp_path / "plain.out.parquet")
    assert [row[2:] for row in _written(tmp_path / "wide.out.parquet")] == \
        [row[2:] for row in expected]
    assert [row[2:] for row in expected] == [(Decimal("12345.68"), True),
                                             (Decimal("0.00"), False)]


@pytest.mark.parametrize("scorer", ["fast", "careful"])
@pytest.mark.parametrize(("select", "words"), [
    ("SELECT CAST(a AS DECIMAL(38,18)) AS amount, DATE '2022-01-05' AS start FROM "
     "(VALUES (1.5), (1.00000000001)) t(a)",
     "row 2, column `amount`: '1.000000000010000000' has more than 10 decimal places"),
    ("SELECT 1.5 AS amount, CAST(d AS TIMESTAMP) AS start FROM "
     "(VALUES ('2022-01-05'), ('2022-01-05 09:30:00')) t(d)",
     "row 2, column `start`: '2022-01-05 09:30:00' is not a value"),
    ("SELECT 1.5 AS amount, CAST('2022-01-05' AS TIMESTAMPTZ) AS start",
     "column `start` has type TIMESTAMP WITH TIME ZONE, which cannot hold date values; a "
     "moment in a time zone is no date"),
])
def test_a_typed_parquet_value_beyond_what_an_input_holds_names_its_row(
        tmp_path: Path, scorer: str, select: str, words: str, monkeypatch) -> None:
    if scorer == "careful":
        monkeypatch.setattr(book_stream, "score", _refuse_stream)
    policy = tmp_path / "dated.pol"
    policy.write_text(DATED, encoding="utf-8")
    book = tmp_path / "book.parquet"
    duckdb.sql(select).write_parquet(str(book))
    result = _run(policy, "--book", book, "--out", tmp_path / "out.csv")
    assert result.exit_code == 2, result.output
    assert words in " ".join(result.output.split()), result.output
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("args", [
    ["--book", "missing.csv"],
    ["--book", "book.txt"],
    ["--case", "c.json", "--book", "b.csv"],
    [],
    ["--book", "b.csv", "--engine", "oracle"],
    ["--case", "c.json", "--no-limit-values"],
])
def test_bad_run_usage_exits_2(demo: Path, tmp_path: Path, args: list[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # restored after the test: later tests use relative paths
    _book(tmp_path, "x\n1\n", "book.txt")
    result = _run(demo, *args)
    assert result.exit_code == 2, result.output


@pytest.mark.parametrize("scorer", ["fast", "careful"])
@pytest.mark.parametrize(("content", "words"), [
    ("borrower,amount\nenterprise,5万\nenterprise,five\n", "row 2, column `amount`"),
    ("borrower,amount\nenterprise,\n", "row 1, column `amount`: no value"),
    ("borrower\nenterprise\n", "no column `amount`"),
    ("borrower,amount,amount\nenterprise,5万,6万\n", "column `amount` appears twice"),
    ("borrower,amount\nenterprise,5万\nenterprise\n", "row 2 has 1 field"),
    ("borrower,amount,eligible\nenterprise,1万,yes\n", "column `eligible` has the name"),
])
def test_a_book_is_named_by_where_in_every_message(tmp_path: Path, scorer: str, content: str,
                                                   words: str, monkeypatch) -> None:
    """`score_book(..., where=)` names the book in its messages instead of the path (a
    book test's temporary file is "test book"), on both paths."""
    if scorer == "careful":
        monkeypatch.setattr(book_stream, "score", _refuse_stream)
    policy = api.load_source(DEMO, "demo.pol")
    book = _book(tmp_path, content)
    with pytest.raises(PolicyError) as raised:
        score_book(policy, book, {}, tmp_path / "out.csv", where="the ledger")
    message = raised.value.diagnostics[0].message
    assert message.startswith(f"the ledger: {words}"), message
    assert str(book) not in message and not (tmp_path / "out.csv").exists()


def _refuse_stream(*_args, **_kwargs):
    raise book_stream.NotClean


def _parquet_bytes(tmp_path: Path) -> bytes:
    written = tmp_path / "written.parquet"
    duckdb.sql("SELECT 'enterprise' AS borrower, '5万' AS amount").write_parquet(str(written))
    data = written.read_bytes()
    written.unlink()
    return data


@pytest.mark.parametrize("scorer", ["fast", "careful"])
@pytest.mark.parametrize(("name", "content", "says", "note"), [
    ("book.parquet", b"", "the file is empty (0 bytes)", None),
    ("book.parquet", "cut", "the Parquet file is cut short: it has no footer", None),
    ("book.parquet", b"borrower,amount\nenterprise,5\n",
     "the file is not a Parquet file (one starts with `PAR1`)", "it looks like text"),
    ("book.csv", "whole", "the file is a Parquet file, not a CSV; name it .parquet", None),
    ("book.csv", b"PK\x03\x04" + bytes(60), "the file is a workbook (Excel or WPS), not a CSV",
     "save the sheet from Excel as \"CSV UTF-8 (逗号分隔)\""),
    ("book.xlsx", b"PK\x03\x04", "the book must be a .csv or .parquet file",
     "save the sheet from Excel as \"CSV UTF-8 (逗号分隔)\""),
])
def test_a_book_that_is_not_the_file_its_name_says_is_named_so(
        demo: Path, tmp_path: Path, scorer: str, name: str, content, says: str,
        note: str | None, monkeypatch) -> None:
    """DuckDB said `No magic bytes found at end of file` for a Parquet file cut short, a
    text file or an empty one, and `Error when sniffing file` for a Parquet file named .csv."""
    if scorer == "careful":
        monkeypatch.setattr(book_stream, "score", _refuse_stream)
    if isinstance(content, str):
        data = _parquet_bytes(tmp_path)
        content = data if content == "whole" else data[:len(data) // 2]
    book = tmp_path / name
    book.write_bytes(content)
    out = tmp_path / "out.csv"
    result = _run(demo, "--book", book, "--out", out)
    assert result.exit_code == 2, result.output
    assert f"error[E607]: {book}: {says}" in result.output, result.output
    assert note is None or note in result.output, result.output
    assert "Traceback" not in result.output and not out.exists()


@pytest.mark.parametrize("scorer", ["fast", "careful"])
def test_an_output_the_system_refuses_is_e613_naming_it_not_its_temporary_file(
        demo: Path, tmp_path: Path, scorer: str, monkeypatch) -> None:
    """`check_writable` cannot foresee every refusal (root may write anywhere it checks;
    /sys refuses even root): the COPY's failure is E613 with the system's reason, as
    `check_writable` words it, not DuckDB's message naming `.out.csv.1234.tmp`."""
    from policylang import outputs

    if scorer == "careful":
        monkeypatch.setattr(book_stream, "score", _refuse_stream)
    monkeypatch.setattr(outputs, "os", _AllWritable())
    book = _book(tmp_path, "borrower,amount\nenterprise,5万\n")
    out = Path("/sys/policylang-test-out.csv")
    result = _run(demo, "--book", book, "--out", out)
    assert result.exit_code == 2, result.output
    assert f"error[E613]: {out}: cannot be written: " in result.output, result.output
    assert ".tmp" not in result.output and "Traceback" not in result.output


class _AllWritable:
    """`os` for outputs.check_writable, saying every folder is writable (as it is to root)."""

    def __getattr__(self, name: str):
        return getattr(os, name)

    @staticmethod
    def access(_path, _mode) -> bool:
        return True


def test_a_missing_book_and_a_folder_are_named_as_such(demo: Path, tmp_path: Path) -> None:
    (tmp_path / "parts.parquet").mkdir()
    for book, says in (("missing.csv", "no such file"),
                       ("parts.parquet", "is a folder; give one .csv or .parquet file")):
        result = _run(demo, "--book", str(tmp_path / book))
        assert result.exit_code == 2
        assert f"error[E607]: {tmp_path / book}: {says}" in result.output, result.output


def test_empty_book(demo: Path, tmp_path: Path) -> None:
    book = _book(tmp_path, "borrower,amount\n")
    out = tmp_path / "out.csv"
    result = _run(demo, "--book", book, "--out", out)
    assert result.exit_code == 0, result.output
    assert "0 cases" in result.output
    assert out.read_text(encoding="utf-8").startswith("borrower,amount,rule__cap")


def test_dates_and_bools_in_books(tmp_path: Path) -> None:
    policy = api.load_source("""policy d "d" {
      input { start: date  urgent: bool = false }
      let ends = start + 1 month cite "x"
      rule weekday_ok: urgent or start >= 2024-01-01 cite "y"
    }""", "d.pol")
    book = _book(tmp_path, "start,urgent\n2024-01-31,\n2023-12-31,true\n2023-06-30,false\n")
    out = tmp_path / "out.csv"
    summary = score_book(policy, book, {}, out)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["ends"] for r in rows] == ["2024-02-29", "2024-01-31", "2023-07-30"]
    assert summary.eligible == 2
    assert datetime.date(2024, 2, 29).isoformat() == rows[0]["ends"]


# ── progress on a terminal ─────────────────────────────────────────────────


FOSHAN = Path(__file__).parent.parent / "policies" / "foshan" / "microloan_2022.pol"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """run --book's progress drawn on a pretend terminal at once, redrawn every ms."""
    screen = io.StringIO()
    monkeypatch.setattr(cli_views, "PROGRESS_CONSOLE",
                        Console(file=screen, force_terminal=True, width=160))
    monkeypatch.setattr(cli_views, "PROGRESS_DELAY", 0)
    monkeypatch.setattr(cli_views, "PROGRESS_REFRESH", 0.001)
    return screen


def _lines(screen: io.StringIO) -> list[str]:
    return [line.strip() for line in re.split(r"[\r\n]", _ANSI.sub("", screen.getvalue()))
            if line.strip()]


def test_progress_on_a_terminal_shows_every_stage_reaching_100_percent(
        terminal: io.StringIO, tmp_path: Path) -> None:
    from policylang.synthetic import write_book

    book, out, charts = tmp_path / "book.csv", tmp_path / "out.parquet", tmp_path / "charts"
    write_book(api.load(FOSHAN), 2000, book, 1)
    result = runner.invoke(app, ["run", str(FOSHAN), "--book", str(book), "--out", str(out),
                                 "--charts", str(charts)])
    assert result.exit_code == 0, result.output
    assert "2,000 cases" in result.stdout and "scoring 2,000 rows" not in result.stdout
    assert result.stderr == ""  # the display went to the (pretend) terminal only
    lines = _lines(terminal)
    for stage in (f"reading {book}", "checking the cells of", "converting 2,000 rows",
                  "scoring 2,000 rows", "evaluating the portfolio rules",
                  f"drawing charts in {charts}", f"writing {out}"):
        assert any(line.startswith(stage) and "━" in line and " 100% " in line
                   for line in lines), (stage, lines[-10:])
    assert out.exists()


def test_no_progress_without_a_terminal(demo: Path, tmp_path: Path) -> None:
    book = _book(tmp_path, "borrower,amount\nenterprise,5万\nindividual,6万\n")
    result = _run(demo, "--book", book, "--out", tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # CliRunner's stderr is no terminal: nothing, as before
    assert "2 cases" in result.stdout and "scoring" not in result.stdout


def test_a_failing_book_on_a_terminal_stops_the_display_and_writes_nothing(
        terminal: io.StringIO, demo: Path, tmp_path: Path) -> None:
    rows = "".join(f"enterprise,{i}万,{12 if i != 7 else 0} months\n" for i in range(1, 20))
    book = _book(tmp_path, "borrower,amount,term\n" + rows)
    out = tmp_path / "out.csv"
    result = _run(demo, "--book", book, "--out", out)
    assert result.exit_code == 1 and "row 7" in result.stderr, result.output
    lines = _lines(terminal)
    assert any(line.startswith("finding the first row that fails") for line in lines), lines
    assert not any(line.startswith("writing") for line in lines)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.csv", "demo.pol"]


def test_an_interrupted_write_leaves_no_file(demo: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    book = _book(tmp_path, "borrower,amount\nenterprise,5万\n")

    def interrupted(self: Path, target: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        score_book(api.load(demo), book, {}, tmp_path / "out.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.csv", "demo.pol"]


def test_the_poller_reports_duckdbs_progress_of_a_running_statement() -> None:
    """What the bar shows while a long statement runs: DuckDB's own estimate, rising."""

    class Recorder(Progress):
        interval = 0.002

        def __init__(self) -> None:
            self.seen: list[float] = []
            self.ticks = 0

        def update(self, percent: float) -> None:
            self.seen.append(percent)

        def tick(self) -> None:
            self.ticks += 1

    recorder = Recorder()
    connection = duckdb.connect()
    connection.execute("SET threads = 1")
    with _Poller(connection, recorder) as poller:
        connection.execute("SELECT 1").fetchall()  # not measured: no percentage
        threading.Event().wait(0.02)
        assert recorder.ticks > 0 and recorder.seen == []
        with poller.measure():
            connection.execute("SELECT count(DISTINCT md5(CAST(range AS VARCHAR))) "
                               "FROM range(2000000)").fetchall()
    assert any(0 < percent < 100 for percent in recorder.seen), recorder.seen
