"""What the command line shows (policylang/cli_views.py): texts from a policy, a book or a
path are shown as written, never read as rich markup."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from rich.console import Console

from policylang import api, cli_views


def _shown(items: list) -> str:
    console = Console(record=True, width=200, force_terminal=False)
    with console.capture() as captured:
        for item in items:
            console.print(item)
    return captured.get()


POLICY = api.load_source('''policy markup "markup" {
  input {
    amount: money
  }
  limit cap: amount <= 100元 cite "[bold]第三条[/bold]"
}
''')


def test_book_summary_shows_cites_keys_and_paths_as_written() -> None:
    report = {"monitors": {"rate": {
        "per": ["insurer"], "cite": "[red]三(七)[/red]",
        "groups": [{"key": ["[bank]"], "cases": 1200, "value": "0.05",
                    "tripped_row": None, "tripped_value": None}]}}}
    summary = SimpleNamespace(cases=3, eligible=1, seconds=0.5, failures={"cap": 2},
                              totals={}, report=report, charts=(),
                              output=Path("out[1].csv"))
    text = _shown(cli_views.book_summary(POLICY, Path("book[2024].csv"), summary))
    assert "book[2024].csv: 3 cases, 1 eligible, 2 not eligible" in text
    assert "[bold]第三条[/bold]" in text  # the cite, not a bold 第三条
    assert "monitors: rate ([red]三(七)[/red])" in text
    assert "[bank]" in text and "1,200" in text
    assert "wrote out[1].csv" in text


def test_portfolio_tables_have_a_column_per_key_and_finding() -> None:
    report = {"budgets": {"annual": {"per": [], "cite": "", "groups": [
        {"key": [], "cases": 5, "value": "10.00", "bound": "60000000", "holds": True}]}}}
    (table,) = cli_views.portfolio_tables(report)
    assert [str(c.header) for c in table.columns] == ["book", "cases", "value", "bound",
                                                     "holds"]
    assert "all" in _shown([table])


def test_a_failed_test_shows_where_the_case_and_what_differed_as_written() -> None:
    policy = api.load_source('policy p "p" {\n input { a: money }\n limit cap: a <= 100元\n'
                             ' test "[bold]t[/bold]" { given { a: 200元 } expect eligible }\n}\n',
                             "tests[1].pol")
    (result,) = api.run_tests(policy)
    lines = cli_views.test_failure(Path("tests[1].pol"), policy, result)
    assert lines[0].spans[0].style == "bold red" and lines[0].plain.startswith("FAIL")
    assert _shown(lines).splitlines() == [
        "FAIL tests[1].pol:4: test '[bold]t[/bold]' [interp]",
        "     case: a: 200元",
        "     tests[1].pol:4: error[E506]: expected eligible, but it is not eligible: cap (value "
        "200.00, bound 100.00)"]


def test_a_failed_test_shows_its_params_book_cases_and_the_line_of_each_expectation() -> None:
    source = """policy p "p" {
  input {
    a: money
    day: date
  }
  param cap: money = 100元 "c"
  limit l: a <= cap cite "x"
  portfolio order by day {
    limit total = sum(a) <= 250元 cite "y"
  }
  test "params" {
    given { a: 150元 day: 2024-01-01 }
    params { cap: 120元 }
    expect eligible
  }
  test "book" {
    book {
      given { a: 90元 day: 2024-01-01 }
      given { a: 95元 day: 2024-01-02 }
    }
    expect case 2 eligible
    expect passes total
    expect case 1 fails l
  }
}
"""
    policy = api.load_source(source, "p.pol")
    params_test, book_test = api.run_tests(policy)
    params_lines = _shown(cli_views.test_failure(Path("p.pol"), policy, params_test))
    assert params_lines.splitlines()[1:] == [
        "     case: a: 150元, day: 2024-01-01",
        "     params: cap: 120元",
        "     p.pol:14: error[E506]: expected eligible, but it is not eligible: l (value 150.00, "
        "bound 120.00)"]
    book_lines = _shown(cli_views.test_failure(Path("p.pol"), policy, book_test))
    assert book_lines.splitlines()[1:3] == ["     case 1: a: 90元, day: 2024-01-01",
                                            "     case 2: a: 95元, day: 2024-01-02"]
    assert book_lines.splitlines()[3].startswith("     p.pol:23: error[E506]: case 1: "
                                                 "expected l to fail"), book_lines
