"""Portfolio rules: the interpreter and DuckDB's window functions agree on every book.

Random books (dates with ties, several groups, zero denominators, budgets that run out)
are scored by `portfolio.evaluate_book` and by `run --book`; every per-case portfolio
column and the whole report must be equal, errors included (same code, same row).
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from policylang import api
from policylang.book import score_book
from policylang.cases import parse_case
from policylang.cli import app
from policylang.diagnostics import PolicyError
from policylang.formatter import format_source
from policylang.portfolio import evaluate_book, portfolio_columns
from tests.pg_server import postgres_server  # noqa: F401  (a fixture)

# Random books for the differential test: at least 200 of them compare every value (the
# rest stop at a division by zero, compared by code and row).
BOOKS = int(os.environ.get("POLICYLANG_BOOK_EXAMPLES", "240"))

CLAIMS = """policy claims "赔付台账" {
  enum insurer_kind {
    a "甲保险"
    b "乙保险"
    c "丙保险"
  }
  input {
    insurer:     insurer_kind
    claim_date:  date
    principal:   money
    compensated: money = 0元
    collateral:  bool = false
  }
  param annual_cap: money = 30万
  let reimbursed = compensated * 45% cite "三(六)"
  portfolio order by claim_date {
    monitor compensation_rate per insurer, year(claim_date)
        = sum(compensated) / sum(principal) stop when > 5%
        cite "三(七)"
        says "暂停与该合作保险公司合作"
    monitor claims_count per insurer = count() stop when >= 3 cite "x"
    budget annual per year(claim_date) = sum(reimbursed) <= annual_cap cite "三(八)"
    budget collateral_pool = sum(principal where collateral) <= 1000.005元 cite "y"
    limit collateral_share = sum(principal where collateral) / sum(principal) <= 10% cite "第十五条"
    limit per_insurer_count per insurer = count(where compensated > 0元) <= 2 cite "z"
  }
}
"""


@pytest.fixture(scope="module")
def policy():
    return api.load_source(CLAIMS, "claims.pol")


COLUMNS = ["insurer", "claim_date", "principal", "compensated", "collateral"]


@st.composite
def books(draw) -> list[dict[str, str]]:
    size = draw(st.integers(0, 14))  # 0: an empty book, every group empty
    day = datetime.date(2022, 12, 20)
    rows = []
    for _ in range(size):
        day += datetime.timedelta(days=draw(st.sampled_from([0, 0, 1, 5, 20])))
        # A zero principal divides a group's running rate by zero (E610) from that row on:
        # rare, so that most books compare every value and some compare the error.
        principal = draw(st.sampled_from(["1元", "100万", "33.33元", "1234567.89元"] * 8
                                         + ["0元"]))
        rows.append({"insurer": draw(st.sampled_from(["a", "b", "c"])),
                     "claim_date": day.isoformat(), "principal": principal,
                     "compensated": draw(st.sampled_from(["", "0元", "0.01元", "2万", "9万",
                                                          "5000.005元"])),
                     "collateral": draw(st.sampled_from(["", "true", "false"]))})
    return rows


def _interpret(policy, rows):
    cases = [parse_case(policy, {k: x for k, x in row.items() if x != ""}) for row in rows]
    return evaluate_book(policy, cases, {"annual_cap": Decimal(300000)})


def _same(expected: object, actual: str) -> bool:
    if isinstance(expected, bool):
        return str(expected).lower() == actual
    return Decimal(str(expected)) == Decimal(actual)


def test_sql_windows_agree_with_interpreter(policy, tmp_path_factory) -> None:
    """Random books scored on DuckDB against the interpreter, every portfolio value; at
    least 200 compared in full (a book that ends in an evaluation error compares only its
    code and row, so those are not counted)."""
    compared_in_full: list[int] = []

    @settings(max_examples=BOOKS, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(rows=books())
    def check(rows) -> None:
        folder = tmp_path_factory.mktemp("claims")
        book, out = folder / "book.csv", folder / "out.csv"
        with book.open("w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        try:
            expected = _interpret(policy, rows)
        except PolicyError as error:
            with pytest.raises(PolicyError) as raised:
                score_book(policy, book, {"annual_cap": Decimal(300000)}, out)
            assert raised.value.code == error.code
            assert raised.value.diagnostics[0].message.split(":")[1] == \
                error.diagnostics[0].message.split(":")[1]  # the same "row N"
            return
        summary = score_book(policy, book, {"annual_cap": Decimal(300000)}, out)
        compared_in_full.append(len(rows))
        assert summary.report == expected.report
        with out.open(encoding="utf-8") as file:
            output = list(csv.DictReader(file))
        for index, (line, columns) in enumerate(zip(output, expected.columns, strict=True)):
            for name, _ in portfolio_columns(policy):
                assert _same(columns[name], line[name]), (index, name, columns[name],
                                                          line[name])

    check()
    assert len(compared_in_full) >= min(200, BOOKS * 4 // 5)


def test_monitor_budget_and_limit_by_hand(policy) -> None:
    rows = [
        {"insurer": "a", "claim_date": "2022-01-05", "principal": "100万", "compensated": "2万"},
        {"insurer": "a", "claim_date": "2022-02-05", "principal": "100万", "compensated": "9万"},
        {"insurer": "a", "claim_date": "2022-02-05", "principal": "100万", "compensated": "0元",
         "collateral": "true"},
        {"insurer": "b", "claim_date": "2022-03-01", "principal": "100万",
         "compensated": "60万"},
    ]
    result = _interpret(policy, rows)
    rate = [c["monitor__compensation_rate"] for c in result.columns]
    assert rate[:3] == ["0.02", "0.055", "0.0366666667"]
    assert [c["monitor__compensation_rate__tripped"] for c in result.columns] == \
        [False, True, False, True]
    assert [c["suspended__compensation_rate"] for c in result.columns] == \
        [False, False, True, False]
    # 45% reimbursed: 9000, 40500, 0, 270000 against a 30万 cap: the last is truncated.
    assert [c["budget__annual"] for c in result.columns] == \
        ["9000.00", "40500.00", "0.00", "250500.00"]
    assert result.report["budgets"]["annual"]["groups"][0]["exhausted_row"] == 4
    share = result.report["limits"]["collateral_share"]["groups"][0]
    assert share == {"key": [], "cases": 4, "value": "0.25", "bound": "0.1", "holds": False}


def test_unsorted_book_names_the_row(policy, tmp_path: Path) -> None:
    book = tmp_path / "book.csv"
    book.write_text("insurer,claim_date,principal\na,2022-01-05,1万\na,2022-03-01,1万\n"
                    "b,2022-02-01,1万\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(_policy_file(tmp_path)), "--book", str(book)])
    assert result.exit_code == 2, result.output
    assert "error[E609]" in result.output and "row 3" in result.output
    with pytest.raises(PolicyError, match="row 3"):
        _interpret(policy, [{"insurer": "a", "claim_date": d, "principal": "1万"}
                            for d in ("2022-01-05", "2022-03-01", "2022-02-01")])


def test_report_json_and_zero_denominator(tmp_path: Path) -> None:
    book = tmp_path / "book.csv"
    book.write_text("insurer,claim_date,principal,compensated\na,2022-01-05,1万,1元\n"
                    "b,2022-01-06,0元,1元\n", encoding="utf-8")
    report = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["run", str(_policy_file(tmp_path)), "--book", str(book),
                                      "--report", str(report)])
    assert result.exit_code == 1, result.output
    assert "error[E610]" in result.output and "row 2" in result.output
    assert not report.exists()
    book.write_text("insurer,claim_date,principal,compensated\na,2022-01-05,1万,1元\n",
                    encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(_policy_file(tmp_path)), "--book", str(book),
                                      "--report", str(report)])
    assert result.exit_code == 0, result.output
    written = json.loads(report.read_text(encoding="utf-8"))
    assert written["monitors"]["compensation_rate"]["groups"][0]["value"] == "0.0001"


def _policy_file(folder: Path) -> Path:
    path = folder / "claims.pol"
    path.write_text(CLAIMS, encoding="utf-8")
    return path


@pytest.mark.parametrize(("body", "code"), [
    ("let x = sum(amount)", "E213"),
    ("portfolio order by amount { limit l = sum(amount) <= 1元 }", "E214"),
    ("portfolio order by day { budget b = sum(amount) < 1元 }", "E215"),
    ("portfolio order by day { budget b = count() <= 3 }", "E215"),
    ("portfolio order by day { limit l = amount <= 1元 }", "E213"),
    ("portfolio order by day { limit l = sum(amount) <= sum(amount) }", "E213"),
    ("portfolio order by day { limit l = sum(day) <= 1元 }", "E205"),
    ("portfolio order by day { limit l = sum(amount) <= 5% }", "E202"),
    ("portfolio order by day { limit l = sum(amount) <= 1元 when amount > 0元 }", "E409"),
    ("portfolio order by day { limit l = count() <= 1  monitor l = count() stop when > 1 }",
     "E403"),
])
def test_portfolio_check_errors(body: str, code: str) -> None:
    source = f'policy p "p" {{ input {{ amount: money  day: date }} {body} }}'
    with pytest.raises(PolicyError) as raised:
        api.load_source(source, "p.pol")
    assert code in [d.code for d in raised.value.diagnostics]


def test_portfolio_formatting_is_canonical_and_idempotent() -> None:
    assert format_source(CLAIMS) == CLAIMS
    squeezed = " ".join(CLAIMS.split())
    assert format_source(format_source(squeezed)) == format_source(squeezed)
    assert api.load_source(format_source(squeezed), "x.pol").portfolio is not None


BOOK_TEST = """
  test "甲保险第二笔赔付触发暂停" {
    book {
      given { insurer: a  claim_date: 2022-01-05  principal: 100万  compensated: 2万 }
      given { insurer: a  claim_date: 2022-02-05  principal: 100万  compensated: 9万 }
      given { insurer: a  claim_date: 2022-03-05  principal: 100万  collateral: true }
    }
    expect case 2 trips compensation_rate
    expect case 3 suspended compensation_rate
    expect case 2 monitor.compensation_rate == 5.5%
    expect case 2 budget.annual == 40500元
    expect case 3 budget.collateral_pool == 1000.01元
    expect case 1 eligible
    expect fails compensation_rate
    expect fails collateral_share
    expect fails claims_count
  }
}
"""


def _with_book_test(text: str) -> str:
    return CLAIMS.rstrip().removesuffix("}") + text


@pytest.mark.parametrize("backend", ["interp", "sql"])
def test_book_test_blocks_pass_on_every_book_backend(backend: str) -> None:
    from policylang import backends

    policy = api.load_source(_with_book_test(BOOK_TEST), "claims.pol")
    makers = backends.available()
    results = api.run_tests(policy, {backend: makers[backend](policy)})
    assert [r.failures for r in results] == [[]]


def test_book_test_failures_are_reported() -> None:
    wrong = (BOOK_TEST.replace("expect case 3 suspended", "expect case 1 suspended")
             .replace("budget.annual == 40500元", "budget.annual == 40501元")
             .replace("expect fails claims_count", "expect passes claims_count"))
    policy = api.load_source(_with_book_test(wrong), "claims.pol")
    (result,) = api.run_tests(policy)
    assert result.failures == [
        "case 1: expected it to be suspended by compensation_rate, but it does not "
        "(value 0.02)",
        "case 2: expect budget.annual == 40501元: false; budget.annual is 40500元",
        "expected monitor claims_count never to trip, but case 3 trips it",
    ]


@pytest.mark.parametrize(("expectation", "words"), [
    ("expect case 4 eligible", "the book has no case 4"),
    ("expect eligible", "say which case"),
    ("expect case 1 trips annual", "no monitor is named `annual`"),
])
def test_book_test_check_errors(expectation: str, words: str) -> None:
    with pytest.raises(PolicyError) as raised:
        api.load_source(_with_book_test(BOOK_TEST.replace("expect case 1 eligible",
                                                          expectation)), "claims.pol")
    assert words in str(raised.value)


def test_case_expectation_outside_a_book_test() -> None:
    source = ('policy p "p" { input { a: money } '
              'test "t" { given { a: 1元 } expect case 1 eligible } }')
    with pytest.raises(PolicyError, match="E508|needs a book test") as raised:
        api.load_source(source, "p.pol")
    assert raised.value.code == "E508"


def test_charts_are_drawn_per_monitor_and_budget(tmp_path: Path) -> None:
    book = tmp_path / "book.csv"
    book.write_text("insurer,claim_date,principal,compensated\na,2022-01-05,1万,1元\n"
                    "b,2022-01-06,2万,1元\na,2022-02-01,1万,900元\n", encoding="utf-8")
    charts = tmp_path / "charts"
    result = CliRunner().invoke(app, ["run", str(_policy_file(tmp_path)), "--book", str(book),
                                      "--charts", str(charts)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in charts.iterdir())
    assert names == ["budget__annual.png", "budget__collateral_pool.png",
                     "monitor__claims_count.png", "monitor__compensation_rate.png"]
    for path in charts.iterdir():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


# A bad book: (rows as CSV text after the header `insurer,claim_date,principal`, the
# error code, the row the message names; None: the book scores). The same rows go
# through `run --book` and, as JSON-like rows (an empty cell left out), `decide_book`.
BAD_BOOKS = [
    ("unsorted", "a,2022-01-05,1万\na,2022-03-01,1万\nb,2022-02-01,1万", "E609", 3),
    ("ordering date missing", "a,2022-01-05,1万\na,,1万", "E602", 2),
    ("ordering date not a date", "a,2022-01-05,1万\na,2022-13-01,1万", "E603", 2),
    ("group key missing", "a,2022-01-05,1万\n,2022-01-06,1万", "E602", 2),
    ("group key blank", 'a,2022-01-05,1万\n" ",2022-01-06,1万', "E604", 2),
    ("group key unknown", "a,2022-01-05,1万\nb,2022-01-06,1万\nzz,2022-01-07,1万", "E604", 3),
    ("empty book", "", None, None),
    ("ties keep book order", "b,2022-01-05,1万\na,2022-01-05,1万\na,2022-01-05,1万", None,
     None),
]


@pytest.mark.parametrize(("lines", "code", "row"), [b[1:] for b in BAD_BOOKS],
                         ids=[b[0] for b in BAD_BOOKS])
def test_bad_books_name_the_row_on_the_cli_and_the_api(policy, tmp_path: Path, lines: str,
                                                       code: str | None, row: int | None
                                                       ) -> None:
    from policylang.portfolio import decide_book

    book = tmp_path / "book.csv"
    book.write_text("insurer,claim_date,principal\n" + lines + "\n" * bool(lines),
                    encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(_policy_file(tmp_path)), "--book", str(book)])
    # A user mistake exits (SystemExit is no Exception); anything else is a crash.
    assert not isinstance(result.exception, Exception), result.output
    rows = [{name: cell.strip('"') for name, cell in zip(
        ("insurer", "claim_date", "principal"), line.split(","), strict=True) if cell}
        for line in lines.splitlines()]
    if code is None:
        assert result.exit_code == 0, result.output
        found = decide_book(policy, rows, {"annual_cap": "30万"})
        assert len(found.decisions) == len(rows)
        return
    assert result.exit_code == 2, result.output
    assert f"error[{code}]" in result.output and f"row {row}" in result.output, result.output
    with pytest.raises(PolicyError) as raised:
        decide_book(policy, rows, {"annual_cap": "30万"})
    assert raised.value.code == code and f"row {row}" in str(raised.value), str(raised.value)


def test_a_book_without_its_ordering_column(policy, tmp_path: Path) -> None:
    from policylang.portfolio import decide_book

    book = tmp_path / "book.csv"
    book.write_text("insurer,principal\na,1万\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(_policy_file(tmp_path)), "--book", str(book)])
    assert result.exit_code == 2 and "error[E602]" in result.output
    assert "no column `claim_date`" in result.output
    with pytest.raises(PolicyError, match="row 1: missing required input field `claim_date`"):
        decide_book(policy, [{"insurer": "a", "principal": "1万"}])


@pytest.mark.parametrize(("change", "code", "words"), [
    ({"claim_date": ...}, "E602", "ordering field `claim_date`"),
    ({"insurer": None}, "E602", "input field `insurer`"),
    ({"claim_date": "2022-01-02"}, "E603", "not a date"),
    (["a", "2022-01-02"], "E607", "not list"),
])
def test_typed_cases_are_checked_before_a_book_is_evaluated(policy, change, code: str,
                                                            words: str) -> None:
    good = parse_case(policy, {"insurer": "a", "claim_date": "2022-01-01", "principal": "1万"})
    case = change if isinstance(change, list) else {
        k: x for k, x in (good | change).items() if x is not ...}
    with pytest.raises(PolicyError) as raised:
        evaluate_book(policy, [good, case], {"annual_cap": Decimal(300000)})
    assert raised.value.code == code and "row 2" in str(raised.value) \
        and words in str(raised.value), str(raised.value)


def test_monthly_periods_group_by_year_and_month_on_both_engines(tmp_path: Path) -> None:
    source = CLAIMS.replace("monitor claims_count per insurer = count() stop when >= 3",
                            "monitor claims_count per year(claim_date), month(claim_date) "
                            "= count() stop when >= 2")
    policy = api.load_source(source, "monthly.pol")
    dates = ["2022-01-31", "2022-02-01", "2022-02-28", "2022-02-28", "2023-02-01"]
    rows = [{"insurer": "a", "claim_date": d, "principal": "1万"} for d in dates]
    expected = _interpret(policy, rows)
    groups = expected.report["monitors"]["claims_count"]["groups"]
    assert [(g["key"], g["cases"], g["tripped_row"]) for g in groups] == [
        (["2022", "1"], 1, None), (["2022", "2"], 3, 3), (["2023", "2"], 1, None)]
    assert [c["suspended__claims_count"] for c in expected.columns] == \
        [False, False, False, True, False]
    book = tmp_path / "book.csv"
    book.write_text("insurer,claim_date,principal\n" + "".join(
        f"a,{d},1万\n" for d in dates), encoding="utf-8")
    summary = score_book(policy, book, {"annual_cap": Decimal(300000)})
    assert summary.report == expected.report


SEED_PORTFOLIOS = sorted(str(p.relative_to(Path(__file__).resolve().parents[1]))
                         for p in (Path(__file__).resolve().parents[1] / "policies").rglob("*.pol")
                         if "portfolio order by" in p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("file", SEED_PORTFOLIOS)
def test_seed_portfolios_agree_on_a_synthetic_book(file: str, tmp_path: Path) -> None:
    """Every seed policy's portfolio rules (佛山 三(七)/三(八), 烟台 第十五条, 重庆 第六条, the
    national 4%/5% ceilings, …) on a seeded 400-case book: DuckDB's report and columns are
    the interpreter's."""
    from policylang.synthetic import write_book

    root = Path(__file__).resolve().parents[1]
    policy = api.load(root / file)
    params = {p.name: p.default for p in policy.params}
    book = write_book(policy, 400, tmp_path / "book.csv", seed=3)
    with book.open(encoding="utf-8") as handle:
        rows = [{k: x for k, x in row.items() if k != "loan_id" and x != ""}
                for row in csv.DictReader(handle)]
    cases = [parse_case(policy, row) for row in rows]
    try:
        expected = evaluate_book(policy, cases, params)
    except PolicyError as error:
        with pytest.raises(PolicyError) as raised:
            score_book(policy, book, params)
        assert raised.value.code == error.code
        return
    out = tmp_path / "out.csv"
    summary = score_book(policy, book, params, out)
    assert summary.report == expected.report
    assert any(section for section in expected.report.values())
    with out.open(encoding="utf-8") as handle:
        for index, (line, columns) in enumerate(zip(csv.DictReader(handle), expected.columns,
                                                    strict=True)):
            for name, _ in portfolio_columns(policy):
                assert _same(columns[name], line[name]), (index, name)


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
@settings(max_examples=BOOKS, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(rows=books())
def test_sqlite_and_postgres_windows_agree_with_interpreter(policy, rows, dialect: str,
                                                            request) -> None:
    """The same random books on SQLite and PostgreSQL: the dialect's per-case query, then
    the same window functions (`book_portfolio.score_cases_on`). A book that fails fails
    with the interpreter's code and message, its book, row and rule."""
    from policylang.book_portfolio import score_cases_on

    if dialect == "postgres":
        request.getfixturevalue("postgres_server")
    params = {"annual_cap": Decimal(300000)}
    cases = [parse_case(policy, {k: x for k, x in row.items() if x != ""}) for row in rows]
    try:
        expected = evaluate_book(policy, cases, params)
    except PolicyError as error:
        with pytest.raises(PolicyError) as raised:
            score_cases_on(dialect, policy, cases, params)
        assert [(d.code, d.message) for d in raised.value.diagnostics] == \
            [(d.code, d.message) for d in error.diagnostics]
        return
    columns, report = score_cases_on(dialect, policy, cases, params)
    assert report == expected.report
    assert columns == expected.columns


# ── `portfolio {` without `order by` (DESIGN.md §3's sketch) ──
SKETCH_INPUTS = '''policy sketch "DESIGN.md §3" {
  enum insurer_name { a b }
  enum guarantee_kind { collateral credit }
  input {
    insurer: insurer_name  claim_date: date  compensated: money = 0元
    insured_principal: money  compensation: money = 0元  loan_amount: money
    counter_guarantee: guarantee_kind = credit
  }
%s}
'''


def test_the_design_sketch_checks_ordered_by_the_date_it_groups_by() -> None:
    from tests.policies import DESIGN

    sketch = re.findall(r"```pol\n(.*?)```", DESIGN.read_text(encoding="utf-8"), re.S)[1]
    assert sketch.lstrip().startswith("portfolio {")
    policy = api.load_source(SKETCH_INPUTS % sketch, "sketch.pol")
    assert policy.portfolio.order_by == "claim_date"
    assert [r.name for r in policy.portfolio.rules] == [
        "compensation_rate", "annual_compensation", "collateral_share"]
    formatted = format_source(SKETCH_INPUTS % sketch, "sketch.pol")
    assert "  portfolio {\n" in formatted and "order by" not in formatted
    reread = api.load_source(formatted, "sketch.pol").portfolio
    assert reread.order_by == "claim_date" and len(reread.rules) == 3
    assert format_source(formatted, "sketch.pol") == formatted


@pytest.mark.parametrize(("inputs", "per", "found"), [
    ("a: date  b: date  x: money", " per year(a), year(b)", "its rules group by `a`, `b`"),
    ("a: date  b: date  x: money", "", "the policy has 2 date inputs"),
    ("x: money", "", "the policy has no date input"),
])
def test_without_order_by_an_unclear_order_is_an_error(inputs, per, found) -> None:
    source = (f'policy p "t" {{\n  input {{ {inputs} }}\n  portfolio {{\n'
              f'    budget cap{per} = sum(x) <= 100元\n  }}\n}}\n')
    with pytest.raises(PolicyError) as raised:
        api.load_source(source, "p.pol")
    (diagnostic,) = raised.value.diagnostics
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.column) == ("E214", 3, 3)
    assert found in diagnostic.message and "portfolio order by DATE_INPUT {" in diagnostic.message


def test_the_only_date_input_orders_a_portfolio_that_groups_by_none() -> None:
    source = ('policy p "t" {\n  input { day: date  x: money }\n  portfolio {\n'
              '    budget cap = sum(x) <= 100元\n  }\n}\n')
    assert api.load_source(source, "p.pol").portfolio.order_by == "day"


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_seed_book_tests_run_their_windows_on_sqlite_and_postgres(dialect, request,
                                                                  monkeypatch) -> None:
    """`policylang test --backend sqlite|postgres`: a book test's portfolio columns come from
    that database's window functions, not from the interpreter."""
    from policylang import book_portfolio
    from policylang.engine import sql_backend
    from tests.policies import all_policies

    if dialect == "postgres":
        request.getfixturevalue("postgres_server")
    ran = []
    original = book_portfolio.score_cases_on

    def recorded(name, policy, cases, params, **options):
        ran.append((name, policy.name))
        return original(name, policy, cases, params, **options)

    monkeypatch.setattr(book_portfolio, "score_cases_on", recorded)
    booked = [p for p in all_policies().values() if any(t.book for t in p.tests)]
    assert len(booked) >= 4
    for policy in booked:
        results = api.run_tests(policy, {dialect: sql_backend(policy, dialect)})
        assert results and all(r.passed for r in results), [r for r in results if not r.passed]
    assert {name for _, name in ran} == {p.name for p in booked}
    assert {d for d, _ in ran} == {dialect}


DURATION_KEYS = """policy terms "按期限分组" {
  input { day: date  amount: money  term: duration }
  portfolio order by day {
    monitor by_term per term = count() stop when >= 2
    budget cap per term = sum(amount) <= 1元
  }
}
"""


@pytest.mark.parametrize("engine", ["duckdb", "sqlite", "postgres"])
def test_a_duration_groups_by_its_unit_on_every_engine(engine: str, tmp_path: Path,
                                                       request) -> None:
    """1 month and 30 days (1 year and 360 days) are two groups, as in the interpreter,
    though DuckDB's and PostgreSQL's INTERVAL equality takes them for one; the zero
    duration, which has no unit, is one group; every key is reported as a literal."""
    policy = api.load_source(DURATION_KEYS, "terms.pol")
    terms = ["1 month", "30 days", "1 year", "360 days", "12 months", "0 months", "0 days",
             "18 months"]
    rows = [{"day": f"2022-01-{i + 1:02d}", "amount": "1元", "term": t}
            for i, t in enumerate(terms)]
    expected = evaluate_book(policy, [parse_case(policy, row) for row in rows], {})
    groups = expected.report["budgets"]["cap"]["groups"]
    assert [(g["key"], g["cases"]) for g in groups] == [
        (["1 month"], 1), (["30 days"], 1), (["1 year"], 2), (["360 days"], 1),
        (["0 days"], 2), (["18 months"], 1)]
    if engine == "duckdb":
        book = tmp_path / "book.csv"
        book.write_text("day,amount,term\n" + "".join(
            f"{r['day']},{r['amount']},{r['term']}\n" for r in rows), encoding="utf-8")
        out, charts = tmp_path / "out.csv", tmp_path / "charts"
        summary = score_book(policy, book, {}, out, charts=charts)
        report = summary.report
        with out.open(encoding="utf-8") as handle:
            columns = [{name: line[name] for name, _ in portfolio_columns(policy)}
                       for line in csv.DictReader(handle)]
        assert [c["budget__cap"] for c in columns] == \
            [c["budget__cap"] for c in expected.columns]
        assert summary.charts
    else:
        from policylang.book_portfolio import score_cases_on

        if engine == "postgres":
            request.getfixturevalue("postgres_server")
        columns, report = score_cases_on(engine, policy, [parse_case(policy, row)
                                                          for row in rows], {})
        assert columns == expected.columns
    assert report == expected.report


# A book rule that cannot be computed in a book test: (the rule, the message every engine
# gives). The book's cases: 1 kind a with collateral, 2 kind b, 3 kind a.
FAULTY_RULES = [
    ("book limit", "limit share = count() / count(where principal > 1万) <= 2",
     "test book: row 3: limit share: division by zero"),  # the book's last case
    ("group limit", "limit share per kind = sum(principal) / sum(principal where collateral)"
     " <= 10%", "test book: row 2: limit share: division by zero"),  # b's last case
    ("monitor", "monitor share per kind = sum(principal) / sum(principal where collateral) "
     "stop when > 500%", "test book: row 2: monitor share: division by zero"),
]


@pytest.mark.parametrize(("rule", "message"), [r[1:] for r in FAULTY_RULES],
                         ids=[r[0] for r in FAULTY_RULES])
def test_a_book_rule_fault_in_a_book_test_reads_the_same_on_every_engine(
        rule: str, message: str, postgres_server) -> None:  # noqa: F811  (the fixture)
    """A zero denominator in a book rule's window: DuckDB named the book and the row (the
    case the value is computed at, as the interpreter does), SQLite and PostgreSQL neither
    (`limit share: division by zero`)."""
    from policylang.backends import available

    source = f"""policy faulty "零分母" {{
  enum kinds {{ a "甲"  b "乙" }}
  input {{ day: date  kind: kinds  principal: money  collateral: bool = false }}
  portfolio order by day {{
    {rule}
  }}
  test "零分母" {{
    book {{
      given {{ day: 2022-01-01  kind: a  principal: 1万  collateral: true }}
      given {{ day: 2022-01-02  kind: b  principal: 1万 }}
      given {{ day: 2022-01-03  kind: a  principal: 1万 }}
    }}
    expect passes share
  }}
}}
"""
    assert _errors_on_every_engine(source) == {name: [("E610", message)]
                                               for name in BOOK_ENGINES}
    # the failed windows leave the shared PostgreSQL connection as they found it
    unfaulty = api.load_source(UNFAULTY, "unfaulty.pol")
    results = api.run_tests(unfaulty, {"postgres": available()["postgres"](unfaulty)})
    assert results and all(r.passed for r in results)


BOOK_ENGINES = ("interp", "sql", "sqlite", "postgres")


def _errors_on_every_engine(source: str) -> dict[str, list[tuple[str, str]]]:
    """Each engine's error (code, message) for the policy's one book test."""
    from policylang.backends import available

    policy = api.load_source(source, "faulty.pol")
    backends = {name: make(policy) for name, make in available().items()
                if name in BOOK_ENGINES}
    assert sorted(backends) == sorted(BOOK_ENGINES)
    return {result.backend: [(d.code, d.message) for d in result.error.diagnostics]
            for result in api.run_tests(policy, backends)}


TWO_FAILING_GROUPS = """policy groups "两组零分母" {
  enum kinds { a "甲"  b "乙" }
  input { day: date  kind: kinds  principal: money  collateral: bool = false }
  portfolio order by day {
    limit share per kind = sum(principal) / sum(principal where collateral) <= 10%
  }
  test "两组" {
    book {
      given { day: 2022-01-01  kind: a  principal: 1万 }
      given { day: 2022-01-02  kind: b  principal: 1万 }
      given { day: 2022-01-03  kind: b  principal: 1万 }
      given { day: 2022-01-04  kind: a  principal: 1万 }
    }
    expect passes share
  }
}
"""


def test_a_limit_failing_in_two_groups_names_the_earliest_row_on_every_engine(
        postgres_server) -> None:  # noqa: F811  (the fixture)
    """Group a's limit is computed at row 4, b's at row 3, both dividing by zero: a book's
    fault is its first failing row (docs/semantics.md), row 3, as DuckDB, SQLite and
    PostgreSQL said; the interpreter took the groups in order of first appearance and
    named row 4."""
    assert _errors_on_every_engine(TWO_FAILING_GROUPS) == {
        name: [("E610", "test book: row 3: limit share: division by zero")]
        for name in BOOK_ENGINES}


# A fault in a case's own part of a book test: (the book's cases, each with its own
# inputs, written into PER_CASE_FAULT's CASES). `d` divides a let, `e` the limit's addend.
PER_CASE_FAULTS = [
    ("a let", ["", "d: 0", ""]),
    ("an addend", ["", "e: 0", ""]),
    ("an addend before a later let", ["", "e: 0", "d: 0"]),
]

PER_CASE_FAULT = """policy own "个案零除" {
  input { day: date  principal: money  d: number = 1  e: number = 1 }
  let per_d = principal / d
  portfolio order by day {
    limit share = sum(principal / e) / sum(principal) <= 200%
  }
  test "个案" {
    book {
CASES
    }
    expect passes share
  }
}
"""


@pytest.mark.parametrize("book", [f[1] for f in PER_CASE_FAULTS],
                         ids=[f[0] for f in PER_CASE_FAULTS])
def test_a_case_fault_in_a_book_test_names_its_row_on_every_engine(
        book: list[str], postgres_server) -> None:  # noqa: F811  (the fixture)
    """A case whose own decision (a let) or whose addend to a book rule divides by zero:
    DuckDB named the book and the row; the interpreter, SQLite and PostgreSQL neither
    (`division by zero`). The earliest failing row is named, a let's or an addend's."""
    cases = "\n".join(f"      given {{ day: 2022-01-0{row}  principal: 1万  {extra} }}"
                      for row, extra in enumerate(book, 1))
    assert _errors_on_every_engine(PER_CASE_FAULT.replace("CASES", cases)) == {
        name: [("E610", "test book: row 2: division by zero")] for name in BOOK_ENGINES}


# Random books that often fail, for the faults' differential test: a case's own let or
# its addend to `spread` divides by a zero `share` (rarely), and a group without collateral
# divides `spread` (at its last case) and `secured` (at its first) by zero, in several
# groups at once.
FAULTY = """policy faults "零除" {
  enum insurer_kind { a "甲"  b "乙"  c "丙" }
  input {
    insurer: insurer_kind  claim_date: date  principal: money
    collateral: bool = false  share: number = 1
  }
  let per_share = principal / share
  portfolio order by claim_date {
    limit spread per insurer = sum(principal / share) / sum(principal where collateral)
        <= 5000%
    monitor secured per insurer = count() / count(where collateral) stop when > 3
    budget pool per insurer = sum(principal) <= 100万
  }
}
"""
FAULTY_BOOKS = int(os.environ.get("POLICYLANG_FAULTY_BOOKS", "150"))


@st.composite
def faulty_books(draw) -> list[dict[str, str]]:
    day, rows = datetime.date(2022, 12, 20), []
    for _ in range(draw(st.integers(0, 10))):
        day += datetime.timedelta(days=draw(st.sampled_from([0, 1, 5])))
        rows.append({"insurer": draw(st.sampled_from(["a", "b", "c"])),
                     "claim_date": day.isoformat(),
                     "principal": draw(st.sampled_from(["1万", "33.33元", "0元"])),
                     "collateral": draw(st.sampled_from(["true"] * 4 + ["false"])),
                     "share": draw(st.sampled_from(["1", "3", "0.5"] * 6 + ["0"]))})
    return rows


@pytest.mark.parametrize("engine", ["duckdb", "sqlite", "postgres"])
def test_faulty_books_fail_alike_on_every_engine(engine: str, request) -> None:
    """Random books whose cases and rules divide by zero: every engine fails where the
    interpreter does, with its code and message (`test book: row 3: limit spread: division
    by zero`), and scores the book when it does not. The interpreter named a limit's row
    by its groups' first cases and a case's own fault by no row."""
    from policylang.book import score_cases
    from policylang.book_portfolio import score_cases_on

    if engine == "postgres":
        request.getfixturevalue("postgres_server")
    policy = api.load_source(FAULTY, "faulty.pol")
    failed: list[str] = []

    def scored(cases: list) -> None:
        if engine == "duckdb":
            score_cases(policy, cases, {}, "test book")
        else:
            score_cases_on(engine, policy, cases, {}, "test book")

    @settings(max_examples=FAULTY_BOOKS, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(rows=faulty_books())
    def check(rows) -> None:
        cases = [parse_case(policy, row) for row in rows]
        try:
            evaluate_book(policy, cases, {}, "test book")
        except PolicyError as error:
            with pytest.raises(PolicyError) as raised:
                scored(cases)
            said = [(d.code, d.message) for d in raised.value.diagnostics]
            assert said == [(d.code, d.message) for d in error.diagnostics]
            failed.append(error.diagnostics[0].message)
            return
        scored(cases)

    check()
    # each kind of fault is met: a case's own, a limit's and a monitor's
    for kind in (r"row \d+: division", "limit spread:", "monitor secured:"):
        assert any(re.search(kind, message) for message in failed), kind


UNFAULTY = """policy unfaulty "有分母" {
  input { day: date  principal: money }
  portfolio order by day {
    limit share = sum(principal) / sum(principal) <= 100%
  }
  test "有分母" {
    book {
      given { day: 2022-01-01  principal: 1万 }
      given { day: 2022-01-02  principal: 2万 }
    }
    expect passes share
  }
}
"""
