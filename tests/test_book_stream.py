"""The one-statement path of `run --book` (policylang/book_stream.py): a clean book is
scored by one COPY, with the same output file and summary as the careful path; anything
else falls back to the careful path, which scores it or names the row and column.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policylang import api, book, book_stream, ir
from policylang.cases import parse_params
from policylang.diagnostics import PolicyError
from policylang.synthetic import write_book
from policylang.values import format_decimal, literal
from tests.policies import all_policies
from tests.strategies import cases

PER_CASE = {name: dataclasses.replace(policy, portfolio=None)
            for name, policy in all_policies().items()}

FOSHAN = Path(__file__).parent.parent / "policies" / "foshan" / "microloan_2022.pol"
DEMO = """policy demo "demo" {
  enum kind { enterprise "企业"  individual "个体" }
  input {
    borrower: kind
    amount: money
    term: duration = 1 year
  }
  let per_month = amount / months(term) cite "p"
  limit cap: amount <= 1000万 when borrower == enterprise cite "c1"
  shares split of amount cite "s" { bank: 10%  insurer: 90% }
}
"""


@pytest.fixture
def streamed(monkeypatch):
    """Counts the books the one-statement path scored."""
    scored: list[Path] = []
    original = book_stream.score

    def counting(*args, **kwargs):
        summary = original(*args, **kwargs)
        scored.append(args[4])
        return summary

    monkeypatch.setattr(book_stream, "score", counting)
    return scored


def _rows(path: Path) -> list[tuple]:
    reader = (f"read_parquet('{path}')" if path.suffix == ".parquet"
              else f"read_csv('{path}', all_varchar = true, header = true)")
    return duckdb.connect().execute(f"SELECT * FROM {reader}").fetchall()


def _score(policy, source: Path, out: Path | None):
    summary = book.score_book(policy, source, parse_params(policy, {}), out)
    return dataclasses.replace(summary, seconds=0.0, output=None)


@pytest.fixture
def routes(monkeypatch):
    """How each streamed book's numbers were read: "plain" or "every pattern"."""
    taken: list[str] = []
    plain_cases: list[str] = []
    original_plain, original_run = book_stream._plain, book_stream._run

    def plain(*args, **kwargs):
        cases, bounds, whole = original_plain(*args, **kwargs)
        plain_cases.append(cases)
        return cases, bounds, whole

    def run(connection, poller, tracker, source, cases, *rest):
        summary = original_run(connection, poller, tracker, source, cases, *rest)
        taken.append("plain" if cases in plain_cases else "every pattern")
        return summary

    monkeypatch.setattr(book_stream, "_plain", plain)
    monkeypatch.setattr(book_stream, "_run", run)
    return taken


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_clean_book_is_streamed_with_the_careful_paths_output(
        kind: str, tmp_path: Path, streamed: list, routes: list, monkeypatch) -> None:
    policy = dataclasses.replace(api.load(FOSHAN), portfolio=None)
    source = write_book(policy, 3000, tmp_path / f"book.{kind}")
    fast = _score(policy, source, tmp_path / f"fast.{kind}")
    without_output = _score(policy, source, None)
    assert streamed == [source, source]
    # A CSV's numbers are all text, and plain: read into narrow decimals. The Parquet
    # book's numbers are DECIMAL columns already; its terms are text, read plain too.
    assert routes == ["plain", "plain"]
    monkeypatch.setattr(book_stream, "score", _refuse)
    careful = _score(policy, source, tmp_path / f"careful.{kind}")
    assert fast == careful == without_output
    assert _rows(tmp_path / f"fast.{kind}") == _rows(tmp_path / f"careful.{kind}")


def _refuse(*_args, **_kwargs):
    raise book_stream.NotClean


def _both_ways(policy, source: Path, monkeypatch) -> list[tuple]:
    """The book scored streamed, then by the careful path: each its summary and written
    rows, or (a book that does not score) its error's code and message."""
    outcomes = []
    for scorer in (book_stream.score, _refuse):
        monkeypatch.setattr(book_stream, "score", scorer)
        out = source.with_suffix(f".{len(outcomes)}{source.suffix}")
        try:
            outcomes.append((_score(policy, source, out), _rows(out)))
        except PolicyError as error:
            outcomes.append((error.code, str(error)))
    return outcomes


def _demo(tmp_path: Path, rows: str) -> tuple:
    policy = api.load_source(DEMO)
    source = tmp_path / "book.csv"
    source.write_text("id,borrower,amount,term\n" + rows, encoding="utf-8")
    return policy, source


def test_a_cell_only_the_case_reader_takes_falls_back_and_scores(tmp_path: Path,
                                                                  streamed: list) -> None:
    policy, source = _demo(tmp_path, "1,enterprise,500万,2 years\n2,individual,5万,2  years\n")
    summary = _score(policy, source, tmp_path / "out.csv")
    assert streamed == []  # the pattern does not take `2  years`: the careful path did
    assert summary.cases == 2 and summary.totals["split"]["bank"] == 505000
    assert [row[0] for row in _rows(tmp_path / "out.csv")] == ["1", "2"]


def test_a_bad_cell_names_its_row_and_column_and_writes_nothing(tmp_path: Path) -> None:
    policy, source = _demo(tmp_path, "1,enterprise,500万,2 years\n2,individual,five,\n")
    out = tmp_path / "out.csv"
    with pytest.raises(PolicyError) as raised:
        _score(policy, source, out)
    assert "row 2, column `amount`" in str(raised.value)
    assert not out.exists() and list(tmp_path.iterdir()) == [source]


@pytest.mark.parametrize("out", [None, "out.parquet"])
def test_an_evaluation_error_names_the_first_failing_row(tmp_path: Path, out) -> None:
    policy, source = _demo(tmp_path, "1,enterprise,5万,2 years\n2,individual,5万,0 months\n"
                                     "3,individual,5万,0 months\n")
    with pytest.raises(PolicyError) as raised:
        _score(policy, source, tmp_path / out if out else None)
    assert raised.value.code == "E610" and "row 2" in str(raised.value)
    assert list(tmp_path.iterdir()) == [source]


def test_a_bad_cell_in_an_input_no_rule_reads_is_refused_as_the_careful_path_does(
        tmp_path: Path) -> None:
    policy = api.load_source("""policy unread "unread" {
  enum kind { a "a"  b "b" }
  input {
    amount: money
    branch: kind
  }
  rule positive: amount >= 0元 cite "r"
}
""")
    source = tmp_path / "book.csv"
    source.write_text("amount,branch\n5,a\n6,c\n", encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        _score(policy, source, tmp_path / "out.csv")
    assert raised.value.code == "E604" and "row 2, column `branch`" in str(raised.value)


@pytest.mark.parametrize(("rows", "route"), [
    ("1,enterprise,500.5,2 years\n2,individual,5.25,\n", "plain"),
    # A unit: the plain scan sees a cell its cast does not take.
    ("1,enterprise,500万,2 years\n2,individual,5.25,\n", "every pattern"),
    # Padding: the cast takes it, the plain pattern does not; read again with every one.
    ("1,enterprise, 500.5 ,2 years\n2,individual,5.25,\n", "every pattern"),
    # A duration in CJK units: DuckDB's INTERVAL cast does not take it.
    ("1,enterprise,500.5,2年\n2,individual,5.25,\n", "every pattern"),
    # More places than policylang keeps: the case reader judges (the careful path).
    ("1,enterprise,0.12345678901,2 years\n", None),
])
def test_a_csv_is_read_plain_unless_a_cell_is_not(rows: str, route: str | None,
                                                  tmp_path: Path, streamed: list,
                                                  routes: list, monkeypatch) -> None:
    policy, source = _demo(tmp_path, rows)
    try:
        fast = _score(policy, source, tmp_path / "fast.csv")
    except PolicyError as error:
        fast = error.code
    assert routes == ([route] if route else [])
    monkeypatch.setattr(book_stream, "score", _refuse)
    try:
        careful = _score(policy, source, tmp_path / "careful.csv")
    except PolicyError as error:
        careful = error.code
    assert fast == careful
    if isinstance(fast, book.BookSummary):
        assert _rows(tmp_path / "fast.csv") == _rows(tmp_path / "careful.csv")


def test_a_default_with_more_places_than_the_cells_keeps_them(tmp_path: Path,
                                                             routes: list,
                                                             monkeypatch) -> None:
    policy = api.load_source("""policy places "places" {
  input {
    count: number = 1.125
  }
  let twice = count * 2 cite "t"
}
""")
    source = tmp_path / "book.csv"
    source.write_text("id,count\n1,2\n2,\n3,3\n", encoding="utf-8")
    measured: list[tuple] = []
    plain = book_stream._plain

    def measuring(*args):
        cases, bounds, whole = plain(*args)
        measured.append(bounds)
        return cases, bounds, whole

    monkeypatch.setattr(book_stream, "_plain", measuring)
    _score(policy, source, tmp_path / "out.csv")
    assert routes == ["plain"]
    # The cells show no places, the default three: the query is narrowed to hold them.
    assert [bounds.places for _, bounds in measured[0]] == [3]
    assert [Decimal(row[-2]) for row in _rows(tmp_path / "out.csv")] == [4, Decimal("2.25"), 6]


@pytest.fixture
def sampled(monkeypatch):
    """Bounds first measured on one row; the rows each measure read (None: all)."""
    monkeypatch.setattr(book_stream, "SAMPLE_ROWS", 1)
    measures: list[int | None] = []
    plain = book_stream._plain

    def measuring(connection, poller, source, rows, *rest):
        measures.append(rows)
        return plain(connection, poller, source, rows, *rest)

    monkeypatch.setattr(book_stream, "_plain", measuring)
    return measures


@pytest.mark.parametrize(("rows", "measures"), [
    # The later rows are within the first row's bounds: one reading.
    ("1,enterprise,500.50,2 years\n2,individual,123.45,3 years\n", [1]),
    # A later row beyond them: the readings refuse it, the whole book is measured.
    ("1,enterprise,500.50,2 years\n2,individual,1234567.89,3 years\n", [1, None]),
    ("1,enterprise,500,2 years\n2,individual,5.125,3 years\n", [1, None]),
    ("1,enterprise,500,2 years\n2,individual,-5,3 years\n", [1, None]),
    ("1,enterprise,500,2 years\n2,individual,5,30 years\n", [1, None]),
    ("1,enterprise,500,2 months\n2,individual,5,400 days\n", [1, None]),
    # A missing term takes its default (12 months), which the bounds hold from the start.
    ("1,enterprise,500,2 months\n2,individual,5,\n", [1]),
    # Beyond the sample and not plain at all: every pattern (no third plain reading).
    ("1,enterprise,500,2 months\n2,individual,5万,3 months\n", [1, None]),
])
def test_bounds_measured_on_the_first_rows_hold_every_row(rows: str, measures: list,
                                                          tmp_path: Path, sampled: list,
                                                          monkeypatch) -> None:
    policy, source = _demo(tmp_path, rows)
    streamed, careful = _both_ways(policy, source, monkeypatch)
    assert sampled == measures
    assert streamed == careful  # a negative amount to split: the same error in both


def _typed_amounts(tmp_path: Path, second_amount: str) -> Path:
    """A Parquet book of two DEMO cases, the amounts DECIMAL(18,2) (5.00 and the second),
    the terms text."""
    source = tmp_path / "book.parquet"
    duckdb.connect().execute(
        "COPY (SELECT * FROM (VALUES (1, 'enterprise', 5.00::DECIMAL(18,2), '2 years'), "
        f"(2, 'individual', {second_amount}::DECIMAL(18,2), '3 years')) "
        f"AS book(id, borrower, amount, term)) TO '{source}' (FORMAT parquet)")
    return source


def test_a_parquet_books_typed_numbers_are_bounded_by_its_statistics(
        tmp_path: Path, sampled: list, monkeypatch) -> None:
    """A typed column's values reach the query unread: nothing would refuse one beyond
    the first rows' bounds, so its bounds must hold every row's value. The text terms are
    read plain from the first row; the DECIMAL amounts are bounded by the file's
    statistics, which hold the second row's amount too."""
    policy = api.load_source(DEMO)
    source = _typed_amounts(tmp_path, "123456789012.34")
    streamed, careful = _both_ways(policy, source, monkeypatch)
    assert sampled == [1]
    assert streamed == careful and isinstance(streamed[0], book.BookSummary)


def test_the_bounds_scan_leaves_the_typed_numbers_to_the_statistics(
        tmp_path: Path, monkeypatch) -> None:
    """The first rows' scan measures the text cells only: the typed amounts' bounds are
    the statistics' (reading them again cost 重庆's 1M-row Parquet book 0.05 s)."""
    policy = api.load_source(DEMO)
    source = _typed_amounts(tmp_path, "7.25")
    scanned: list[list[str]] = []
    scan = book_stream.scan_bounds

    def recording(*args, **kwargs):
        measured, found = scan(*args, **kwargs)
        scanned.append([name for name, _ in measured])
        return measured, found

    monkeypatch.setattr(book_stream, "scan_bounds", recording)
    streamed, careful = _both_ways(policy, source, monkeypatch)
    assert scanned == [["term"]]
    assert streamed == careful and isinstance(streamed[0], book.BookSummary)


DEFAULTS = """policy defaults "defaults" {
  input {
    count: number = 5000
    term: duration = 2 years
  }
  let per_month = count / months(term) cite "t"
}
"""


def test_a_typed_column_without_statistics_is_measured_over_the_whole_book(
        tmp_path: Path, sampled: list, monkeypatch) -> None:
    """A Parquet column whose statistics say nothing (every cell missing: no least or
    greatest value) cannot bound the typed inputs: the book is measured whole at once
    (not on its first rows), and scores as the careful path scores it (the default)."""
    policy = api.load_source(DEFAULTS)
    source = tmp_path / "book.parquet"
    duckdb.connect().execute(
        "COPY (SELECT * FROM (VALUES (1, NULL::DECIMAL(18,2), '3 months'), "
        "(2, NULL::DECIMAL(18,2), '4 months')) AS book(id, count, term)) "
        f"TO '{source}' (FORMAT parquet)")
    streamed, careful = _both_ways(policy, source, monkeypatch)
    assert sampled == [None]
    assert streamed == careful and isinstance(streamed[0], book.BookSummary)
    assert [row[-2] for row in streamed[1]] == [Decimal("1666.6666666667"), Decimal(1250)]


def test_the_first_rows_bounds_hold_every_default(tmp_path: Path, monkeypatch) -> None:
    """A missing cell takes its input's default without a reading to refuse it, so the
    bounds measured on rows without one must hold it all the same."""
    policy = api.load_source(DEFAULTS)
    source = tmp_path / "book.csv"
    source.write_text("id,count,term\n1,2,3 months\n2,,\n", encoding="utf-8")
    monkeypatch.setattr(book_stream, "SAMPLE_ROWS", 1)
    measured: list[tuple] = []
    plain = book_stream._plain

    def measuring(*args):
        cases, bounds, whole = plain(*args)
        measured.append(dict(bounds))
        return cases, bounds, whole

    monkeypatch.setattr(book_stream, "_plain", measuring)
    _score(policy, source, tmp_path / "out.csv")
    assert len(measured) == 1
    assert measured[0]["count"].hi >= 5000 and measured[0]["term"].months.hi >= 24
    assert [row[-2] for row in _rows(tmp_path / "out.csv")] == ["0.6666666667", "208.3333333333"]


@pytest.mark.parametrize(("text", "notes"), [
    # Quoted cells (a comma, a doubled quote), CRLF line ends, a header with a space.
    (b'id,borrower,amount,term,"a note"\r\n1,enterprise,500.5,2 years,"one, ""two"""\r\n'
     b"2,individual,5.25,,\r\n", ['one, "two"', None]),
    # Semicolons, and no final line end.
    (b"id;borrower;amount;term;a note\n1;enterprise;500.5;2 years;x\n2;individual;5.25;;y",
     ["x", "y"]),
    # A line before the header, which the sniffer skips.
    (b"exported 2026-11-30\nid,borrower,amount,term,a note\n1,enterprise,500.5,2 years,x\n",
     ["x"]),
    # A header and no row.
    (b"id,borrower,amount,term,a note\n", []),
])
def test_a_csv_is_read_in_the_dialect_sniffed_once(text: bytes, notes: list, tmp_path: Path,
                                                   streamed: list, monkeypatch) -> None:
    policy = api.load_source(DEMO)
    source = tmp_path / "book.csv"
    source.write_bytes(text)
    fast = _score(policy, source, tmp_path / "fast.csv")
    assert streamed == [source]
    monkeypatch.setattr(book_stream, "score", _refuse)
    assert fast == _score(policy, source, tmp_path / "careful.csv")
    written = _rows(tmp_path / "fast.csv")
    assert written == _rows(tmp_path / "careful.csv")
    assert [row[4] for row in written] == notes


def _plain_text(value: ir.Value, type_: ir.Type) -> str:
    return format_decimal(value) if type_.numeric else literal(value, type_)


@pytest.mark.parametrize("name", list(PER_CASE))
@settings(max_examples=6, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_plain_books_read_plain_agree_with_the_careful_path(
        name: str, data, tmp_path: Path, monkeypatch, routes: list) -> None:
    policy = PER_CASE[name]
    # Bounds measured on the first rows only, as on a large book.
    monkeypatch.setattr(book_stream, "SAMPLE_ROWS", data.draw(st.integers(1, 4)))
    rows = data.draw(st.lists(cases(policy), min_size=1, max_size=8))
    source = tmp_path / f"{data.draw(st.integers(0, 10**9))}.csv"
    lines = [",".join(f.name for f in policy.inputs)]
    lines += [",".join(_plain_text(row[f.name], f.type) for f in policy.inputs)
              for row in rows]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outcomes = _both_ways(policy, source, monkeypatch)  # an evaluation error: the same
    assert outcomes[0] == outcomes[1]
    if isinstance(outcomes[0][0], book.BookSummary):
        assert routes[-1:] == ["plain" if any(f.type.numeric for f in policy.inputs)
                               else "every pattern"]


def test_an_evaluation_error_goes_to_the_careful_path_without_a_second_reading(
        tmp_path: Path, monkeypatch) -> None:
    """Only a cell the plain patterns refuse is worth reading again with every pattern;
    an evaluation error would be met again, so the careful path names its row at once."""
    policy, source = _demo(tmp_path, "1,enterprise,5.00,2 years\n2,individual,5.00,0 months\n")
    attempts: list[str] = []
    run = book_stream._run

    def counting(connection, poller, tracker, source, cases, *rest):
        attempts.append(cases)
        return run(connection, poller, tracker, source, cases, *rest)

    monkeypatch.setattr(book_stream, "_run", counting)
    with pytest.raises(PolicyError) as raised:
        _score(policy, source, tmp_path / "out.csv")
    assert raised.value.code == "E610" and "row 2" in str(raised.value)
    assert len(attempts) == 1


PERCENT_POLICY = ('policy p "p" {\n  input {\n    rate: percent\n  }\n'
                  '  limit cap: rate <= 5%\n}\n')


@pytest.mark.parametrize("rows", ["0.0435\n4.35\n", "0.0435\n 4.35 \n", "4.35%\n4.35\n",
                                  "0.05\n-1.5\n"])
def test_a_percent_cell_without_its_sign_beyond_one_is_refused_both_ways(
        rows: str, tmp_path: Path, monkeypatch) -> None:
    """`4.35` in a percent column would be 435%: refused by row and column on the streamed
    (plain) path and the careful one alike, as the case reader refuses it."""
    policy = api.load_source(PERCENT_POLICY, "p.pol")
    source = tmp_path / "book.csv"
    source.write_text("rate\n" + rows, encoding="utf-8")
    [streamed, careful] = _both_ways(policy, source, monkeypatch)
    assert streamed == careful
    code, message = streamed
    assert code == "E603" and "row 2, column `rate`" in message
    assert "without `%` is a fraction, so it would be" in message


def test_fractions_within_one_are_read_plain(tmp_path: Path, routes: list) -> None:
    policy = api.load_source(PERCENT_POLICY, "p.pol")
    source = tmp_path / "book.csv"
    source.write_text("rate\n0.0435\n1\n-1\n0.06\n", encoding="utf-8")
    summary = _score(policy, source, None)
    assert routes == ["plain"] and (summary.cases, summary.eligible) == (4, 2)
