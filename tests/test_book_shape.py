"""A book's shape (policy/book_shape.py): a CSV row of another width than its header,
bytes that are not UTF-8 and two columns of one name are refused, named by row and column,
on the fast path and the careful one alike, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from policylang import book_stream
from policylang.cli import app

runner = CliRunner()
DEMO = '''policy demo "demo" {
  enum kind { enterprise  individual }
  input { borrower: kind  amount: money  term: duration = 1 year }
  limit cap: amount <= 1000万 when borrower == enterprise
}
'''


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    path = tmp_path / "demo.pol"
    path.write_text(DEMO, encoding="utf-8")
    return path


def _run(*args: str):
    return runner.invoke(app, ["run", *map(str, args)])


def _scored(path: Path) -> list[str]:
    reader = (f"read_csv('{path}', all_varchar = true, header = true)" if path.suffix == ".csv"
              else f"read_parquet('{path}')")
    return [d[0] for d in duckdb.connect().execute(f"SELECT * FROM {reader}").description]


def _rows(count: int, start: int = 1) -> bytes:
    return "".join(f"enterprise,{i}万,2 years\n" for i in range(start, start + count)).encode()


HEADER = b"borrower,amount,term\n"
LATIN1 = "enterprise,5万,2 années\n".encode().replace("é".encode(), "é".encode("latin-1"))
GBK = "个体,5万,2 years\n".encode("gbk")
# Past DuckDB's sniffing sample (20,480 rows): the sniffer sees a good book, the read fails.
LATE = 25_000


@pytest.mark.parametrize(("content", "code", "words"), [
    # A row of another width in the sniffer's sample: it gave up on the delimiter and read
    # the header as one column (E602 "no column `borrower`" before).
    pytest.param(HEADER + _rows(50) + "enterprise,5万\n".encode(), "E607",
                 "row 51 has 2 fields, where the header has 3", id="short-row"),
    pytest.param(HEADER + _rows(10) + b"enterprise\n" + _rows(40, 11), "E607",
                 "row 11 has 1 field, where the header has 3", id="short-row-inside"),
    # A wider row: the sniffer took it for the header and skipped the rest.
    pytest.param(HEADER + _rows(50) + "enterprise,5万,2 years,zzz\n".encode(), "E607",
                 "row 51 has 4 fields, where the header has 3", id="wide-row"),
    pytest.param(HEADER + _rows(LATE) + "enterprise,5万\n".encode(), "E607",
                 f"row {LATE + 1} has 2 fields, where the header has 3",
                 id="short-row-past-the-sniffed-sample"),
    pytest.param(HEADER.replace(b"\n", b"\r\n") + _rows(3).replace(b"\n", b"\r\n") +
                 b"a,b,c,d\r\n", "E607", "row 4 has 4 fields", id="wide-row-crlf"),
    # Not UTF-8: DuckDB's "CSV Error on Line: 52" counted file lines and named no column.
    pytest.param(HEADER + _rows(50) + LATIN1, "E607", "row 51, column `term`: the file is "
                 "not UTF-8 (byte 0xE9 here); a book must be UTF-8", id="latin-1-cell"),
    pytest.param(HEADER + _rows(50) + GBK, "E607",
                 "row 51, column `borrower`: the file is not UTF-8", id="gbk-cell"),
    pytest.param(HEADER + _rows(LATE) + GBK, "E607", f"row {LATE + 1}, column `borrower`: "
                 "the file is not UTF-8", id="gbk-cell-past-the-sniffed-sample"),
    pytest.param("borrower,amount,期限\n".encode("gbk") + _rows(3), "E607",
                 "the file is not UTF-8 (byte 0xC6 in the header's column 3)",
                 id="gbk-header"),
    # Two columns of one name: DuckDB renamed the second `amount_1` and carried it through.
    pytest.param(b"borrower,amount,term,amount\n" + _rows(3).replace(b"\n", ",1万\n".encode()),
                 "E608", "column `amount` appears twice (columns 2 and 4); rename or remove "
                 "one", id="duplicate-column"),
    pytest.param("borrower,amount,Amount,term\nenterprise,5万,6,2 years\n".encode(), "E608",
                 "column `Amount` has the name of column `amount` (columns 2 and 3; names "
                 "ignore case)", id="duplicate-column-by-case"),
])
@pytest.mark.parametrize("scorer", ["fast", "careful"])
def test_misshapen_csv_books_name_the_row(demo: Path, tmp_path: Path, scorer: str,
                                          content: bytes, code: str, words: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    if scorer == "careful":
        monkeypatch.setattr(book_stream, "score", _refuse)
    book = tmp_path / "book.csv"
    book.write_bytes(content)
    out = tmp_path / "out.csv"
    out.write_text("earlier output\n", encoding="utf-8")
    result = _run(demo, "--book", book, "--out", out)
    assert result.exit_code == 2, result.output
    assert f"error[{code}]: {book}: {words}" in result.output, result.output
    assert "Traceback" not in result.output
    assert out.read_text(encoding="utf-8") == "earlier output\n"  # nothing partially written


def _refuse(*_args, **_kwargs):
    raise book_stream.NotClean


@pytest.mark.parametrize("scorer", ["fast", "careful"])
def test_a_parquet_book_with_two_columns_of_one_name_is_refused(
        demo: Path, tmp_path: Path, scorer: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if scorer == "careful":
        monkeypatch.setattr(book_stream, "score", _refuse)
    written = tmp_path / "written.parquet"
    duckdb.sql("SELECT 'enterprise' AS borrower, '5万' AS amount, '6万' AS amoun_, "
               "'x' AS amount_1").write_parquet(str(written))
    # DuckDB writes no two columns of one name, but a Parquet schema may hold them (other
    # writers make them): the same file with `amoun_` renamed `amount` in its metadata.
    book = tmp_path / "book.parquet"
    book.write_bytes(written.read_bytes().replace(b"amoun_", b"amount"))
    out = tmp_path / "out.csv"
    result = _run(demo, "--book", book, "--out", out)
    assert result.exit_code == 2, result.output
    assert (f"error[E608]: {book}: column `amount` appears twice (columns 2 and 3)"
            in result.output), result.output
    assert not out.exists()
    # A column whose name only looks like DuckDB's renaming (`amount_1`) is carried through.
    result = _run(demo, "--book", written, "--out", out)
    assert result.exit_code == 0, result.output
    assert _scored(out)[:4] == ["borrower", "amount", "amoun_", "amount_1"]




UTF16_NOTE = "iconv -f {} -t UTF-8 {} > {}"


@pytest.mark.parametrize(("content", "says", "notes"), [
    # Excel's "CSV" on a Chinese Windows, and core-banking exports: GBK.
    pytest.param(HEADER + _rows(3) + GBK, "row 4, column `borrower`: the file is not UTF-8",
                 ["it looks like GBK (GB18030)", "read so, this cell is `个体`",
                  "iconv -f GB18030 -t UTF-8 {book} > {stem}-utf8.csv",
                  "save it from Excel as \"CSV UTF-8 (逗号分隔)\""], id="gbk"),
    pytest.param("借款人,amount,term\n".encode("gb18030") + _rows(3),
                 "the file is not UTF-8 (byte 0xBD in the header's column 1)",
                 ["GBK (GB18030)", "read so, this cell is `借款人`"], id="gbk-header"),
    # Latin-1 is not taken for GBK: the generic advice, no reading of the cell.
    pytest.param(HEADER + _rows(3) + LATIN1, "row 4, column `term`: the file is not UTF-8",
                 ["convert it first"], id="latin-1"),
    # Excel's "Unicode Text": UTF-16 with a byte-order mark, or without one.
    pytest.param("\ufeffborrower,amount,term\n个体,5万,2 years\n".encode("utf-16-le"),
                 "the file is UTF-16 (as Excel saves \"Unicode Text\"), not UTF-8",
                 ["iconv -f UTF-16 -t UTF-8 {book} > {stem}-utf8.csv"], id="utf-16"),
    pytest.param("borrower,amount,term\n个体,5万,2 years\n".encode("utf-16-le"),
                 "the file is UTF-16", ["iconv -f UTF-16LE -t UTF-8"], id="utf-16le"),
    pytest.param("borrower,amount,term\n个体,5万,2 years\n".encode("utf-16-be"),
                 "the file is UTF-16", ["iconv -f UTF-16BE -t UTF-8"], id="utf-16be"),
    pytest.param(b"", "the file is empty; a book's first line is its header", [], id="empty"),
    pytest.param(b"\n\n", "the file is empty", [], id="blank-lines"),
])
@pytest.mark.parametrize("scorer", ["fast", "careful"])
def test_a_book_in_another_encoding_says_which_and_how_to_convert_it(
        demo: Path, tmp_path: Path, scorer: str, content: bytes, says: str,
        notes: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    if scorer == "careful":
        monkeypatch.setattr(book_stream, "score", _refuse)
    book = tmp_path / "book.csv"
    book.write_bytes(content)
    out = tmp_path / "out.csv"
    result = _run(demo, "--book", book, "--out", out)
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())  # rich wraps long lines
    assert f"error[E607]: {book}: {says}" in said, result.output
    for note in notes:
        assert note.format(book=book, stem=tmp_path / "book") in said, result.output
    if "GBK" not in " ".join(notes):
        assert "GBK (GB18030)" not in said
    assert "Traceback" not in result.output
    assert sorted(tmp_path.iterdir()) == sorted([demo, book])  # nothing written


@pytest.mark.parametrize(("content", "note"), [
    (HEADER + _rows(3) + b",,\n", "row 4 is blank in every column (a spreadsheet's empty row "
     "below its data, saved as `,,,`): delete it"),
    (HEADER + _rows(3) + b",,\r\n, ,\r\n,,\r\n", "rows 4–6 are blank in every column"),
    (HEADER + _rows(1) + b",,\n" + _rows(1, 2), "row 2 is blank in every column: delete it"),
])
@pytest.mark.parametrize("scorer", ["fast", "careful"])
def test_a_blank_row_is_named_blank(demo: Path, tmp_path: Path, scorer: str, content: bytes,
                                    note: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Excel saves the formatted but empty rows below a sheet's data as `,,,` lines: their
    E602 (no value for a field without default) says the row is blank, to delete."""
    if scorer == "careful":
        monkeypatch.setattr(book_stream, "score", _refuse)
    book = tmp_path / "book.csv"
    book.write_bytes(content)
    result = _run(demo, "--book", book, "--out", tmp_path / "out.csv")
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert "error[E602]" in said and note in said, result.output
    assert not (tmp_path / "out.csv").exists()
