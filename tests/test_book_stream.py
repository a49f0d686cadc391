"""The one-statement path of `run --book` (policylang/book_stream.py): a clean book is
scored by one COPY, with the same output file and summary as the careful path; anything
else falls back to the careful path, which scores it or names the row and column.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest

from policylang import api, book, book_stream
from policylang.cases import parse_params
from policylang.diagnostics import PolicyError
from policylang.synthetic import write_book

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


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_clean_book_is_streamed_with_the_careful_paths_output(
        kind: str, tmp_path: Path, streamed: list, monkeypatch) -> None:
    policy = dataclasses.replace(api.load(FOSHAN), portfolio=None)
    source = write_book(policy, 3000, tmp_path / f"book.{kind}")
    fast = _score(policy, source, tmp_path / f"fast.{kind}")
    without_output = _score(policy, source, None)
    assert streamed == [source, source]
    monkeypatch.setattr(book_stream, "score", _refuse)
    careful = _score(policy, source, tmp_path / f"careful.{kind}")
    assert fast == careful == without_output
    assert _rows(tmp_path / f"fast.{kind}") == _rows(tmp_path / f"careful.{kind}")


def _refuse(*_args, **_kwargs):
    raise book_stream.NotClean


def _demo(tmp_path: Path, rows: str) -> tuple:
    policy = api.load_source(DEMO)
    source = tmp_path / "book.csv"
    source.write_text("id,borrower,amount,term\n" + rows, encoding="utf-8")
    return policy, source


def test_a_cell_only_the_case_reader_takes_falls_back_and_scores(tmp_path: Path,
                                                                  streamed: list) -> None:
    policy, source = _demo(tmp_path, "1,enterprise,500万,2 years\n2,individual,(5万),\n")
    summary = _score(policy, source, tmp_path / "out.csv")
    assert streamed == []  # the pattern does not take `(5万)`: the careful path did
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
