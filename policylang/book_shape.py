"""A book's shape, checked before it is scored, on either path: its kind by name (.csv or
.parquet, not a workbook or a folder), a Parquet file that is not one (empty, cut short),
a CSV row with another number of fields than the header, bytes that are not UTF-8
(DuckDB words these by file line, or not at all) and two columns of one name (DuckDB
renames the second, `x_1`).

A good book costs a look at its column names; the file is read in Python only when they
look wrong or DuckDB cannot read it, to name the row (from 1 after the header) and column.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from policylang.book_cells import sql_string
from policylang.diagnostics import PolicyError, first_line
from policylang.literals import shorten


class Dialect(NamedTuple):
    """How a CSV book is split: its delimiter, quote and escape ('' for none)."""

    delimiter: str = ","
    quote: str = '"'
    escape: str = '"'


# Delimiters tried on a header the sniffer read as one column: it gives up on the
# delimiter when a row in its sample has another number of fields than the rest.
_DELIMITERS = (",", ";", "\t", "|")
# The second of two columns of one name, as DuckDB renames it (`x_1`).
_RENAMED = re.compile(r"_[0-9]+$")
_REENCODE = ("convert it first (e.g. `iconv -f GBK -t UTF-8`), or save it from Excel as "
             "\"CSV UTF-8\"")


def check_columns(connection, book: Path, kind: str, names: list[str],
                  where: str | None = None) -> None:
    """Check the columns DuckDB read from `book` (`names`) as `csv_reader` checks a
    sniffed CSV. A CSV read by `auto_detect` is sniffed again for that only when its
    names are not its first line's fields; a Parquet file's schema is read only when a
    name ends in `_N`, as DuckDB's renaming of a second column of one name does.
    Messages name the book as `where` (by default its path), as do all here."""
    where = str(book) if where is None else where
    if kind == "csv":
        foreign = _foreign(book, where)
        if foreign is not None:  # DuckDB reads UTF-16 without a BOM, NULs in every name
            raise foreign
        if names != _header(book, _likely(book)):
            from policylang.book_stream import csv_reader  # it checks the sniffed header

            csv_reader(connection, book, where)
        return
    if not any(_RENAMED.search(name) for name in names):
        return
    schema = connection.execute("SELECT name, num_children FROM "
                                f"parquet_schema({sql_string(str(book))})").fetchall()
    written, index = [], 1  # schema[0] is the root; the columns are its children

    def after(index: int) -> int:  # the element after `index` and its descendants
        children, index = schema[index][1] or 0, index + 1
        for _ in range(children):
            index = after(index)
        return index

    while index < len(schema):
        written.append(schema[index][0])
        index = after(index)
    _refuse_duplicates(where, written, names)


def repeated_name(book: Path) -> PolicyError | None:
    """E608 for a CSV header naming one column twice (names ignore case), read as written:
    for an engine that renames the second its own way (Spark: `amount3`)."""
    written = _header(book, _likely(book))
    for index in range(len(written)):
        if (said := _repeat(written, index)) is not None:
            return PolicyError.single("E608", f"{book}: {said}; rename or remove one")
    return None


def check_header(book: Path, names: list[str], dialect: Dialect, skip: int,
                 where: str | None = None) -> None:
    """Refuse a CSV whose sniffed header (`names`) is not its first line, by its first
    row of another width (`misshapen`): one column where the first line splits into
    several (the sniffer gave up on the delimiter), or lines skipped though the first is
    a record (it took a wider row for the header). Then two columns of one name. First,
    a book DuckDB reads without an error though it is no CSV of UTF-8 text: UTF-16 (its
    names hold NUL bytes), or blank lines only (one column, `column0`)."""
    where = str(book) if where is None else where
    foreign = _foreign(book, where)
    if foreign is not None:
        raise foreign
    if len(names) == 1 and not _header(book, dialect):
        raise _empty(where)
    suspect = None
    if len(names) == 1:
        suspect = _likely(book)
        suspect = suspect if len(_header(book, suspect)) > 1 else None
    elif skip and len(_header(book, dialect)) > 1:
        suspect = dialect
    found = misshapen(book, suspect, where) if suspect is not None else None
    if found is not None:
        raise found
    if any(_RENAMED.search(name) for name in names):
        _refuse_duplicates(where, _header(book, dialect, skip), names)


def _refuse_duplicates(where: str, written: list[str], names: list[str]) -> None:
    """E608 for the first column DuckDB renamed (`names`, as read) because an earlier one
    of `written` (the header as written) has its name; DuckDB ignores case in names."""
    if len(written) != len(names):
        return
    for index, (name, read) in enumerate(zip(written, names, strict=True)):
        if name != read and (said := _repeat(written, index)) is not None:
            raise PolicyError.single("E608", f"{where}: {said}; rename or remove one")


def _repeat(written: list[str], index: int) -> str | None:
    """How column `index` of a header repeats an earlier column's name, or None."""
    name = written[index]
    earlier = next((i for i in range(index) if written[i].lower() == name.lower()), None)
    if earlier is None:
        return None
    where = f"columns {earlier + 1} and {index + 1}"
    if written[earlier] == name:
        return f"column `{name}` appears twice ({where})"
    return (f"column `{name}` has the name of column `{written[earlier]}` ({where}; "
            "names ignore case)")


def misshapen(book: Path, dialect: Dialect | None = None,
              where: str | None = None) -> PolicyError | None:
    """The first row (from 1 after the header, the first line) that is not UTF-8 or has
    another number of fields than the header, as an E607; None if none, or the file
    cannot be split so (`dialect` None: by the delimiter that splits the first line into
    the most fields). Reads the whole file: for a book DuckDB cannot read, or misread.
    Messages name the book as `where` (by default its path)."""
    where = str(book) if where is None else where
    foreign = _foreign(book, where)
    if foreign is not None:
        return foreign
    dialect = dialect or _likely(book)
    header: list[str] | None = None
    row = 0
    try:
        for record in _records(_lines(book), dialect):
            bad = _not_utf8(record)
            if header is None and bad is not None:
                return PolicyError.single(
                    "E607", f"{where}: the file is not UTF-8 (byte 0x{bad[1]:02X} in the "
                    f"header's column {bad[0] + 1}); a book must be UTF-8",
                    notes=_reencode(book, record[bad[0]]))
            if header is None:
                header = record
                continue
            row += 1
            if bad is not None:
                column = (f"column `{header[bad[0]]}`" if bad[0] < len(header)
                          else f"field {bad[0] + 1}")
                return PolicyError.single(
                    "E607", f"{where}: row {row}, {column}: the file is not UTF-8 (byte "
                    f"0x{bad[1]:02X} here); a book must be UTF-8",
                    notes=_reencode(book, record[bad[0]]))
            if len(record) != len(header):
                shown = dialect.delimiter.join(record).replace("\r", "\\r")
                shown = shown.replace("\n", "\\n")
                shown = shown if len(shown) <= 80 else shown[:77] + "..."
                return PolicyError.single(
                    "E607", f"{where}: row {row} has {len(record)} field"
                    f"{'s' if len(record) != 1 else ''}, where the header has {len(header)}",
                    notes=[f"row {row}: {shown}"])
    except (csv.Error, TypeError, OSError):  # TypeError: a delimiter `csv` cannot take
        return None
    return _empty(where) if header is None else None


def _empty(where: str) -> PolicyError:
    return PolicyError.single("E607", f"{where}: the file is empty; a book's first line is its "
                              "header, naming its columns")


def _reencode(book: Path, cell: str) -> list[str]:
    """How to make `book` UTF-8, given a cell holding bytes that are not: an export from a
    Chinese Windows (Excel's "CSV", a core-banking system) is GBK, whose superset GB18030
    reads it; the cell is shown as GB18030 reads it, for the user to judge."""
    raw = cell.encode("utf-8", "surrogateescape")
    converted = book.with_name(f"{book.stem}-utf8{book.suffix}")
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        return [_REENCODE]
    if not any(_gb2312(char) for char in text):
        return [_REENCODE]  # Latin-1 `é` before a letter reads as some rare character
    return [f"it looks like GBK (GB18030), the encoding of Excel's \"CSV\" on a Chinese "
            f"Windows: read so, this cell is `{shorten(text)}`",
            f"convert it with `iconv -f GB18030 -t UTF-8 {book} > {converted}`, or save it "
            "from Excel as \"CSV UTF-8 (逗号分隔)\""]


def _gb2312(char: str) -> bool:
    """A character of GB2312, the common Chinese core of GBK: two bytes, both 0xA1 or
    above (a Latin-1 letter before an ASCII one never makes such a pair)."""
    if char.isascii():
        return False
    encoded = char.encode("gb18030")
    return len(encoded) == 2 and min(encoded) >= 0xA1


PARQUET = b"PAR1"  # a Parquet file's first (and last) four bytes
SAVE_AS_CSV = "save the sheet from Excel as \"CSV UTF-8 (逗号分隔)\" and give that file"


def _foreign(book: Path, where: str) -> PolicyError | None:
    """E607 for a CSV book that is another kind of file, which DuckDB may read without an
    error, as text of another encoding or as columns of binary: a workbook (Excel's .xlsx
    is a zip, .xls an OLE file), a Parquet file, or UTF-16 (Excel's "Unicode Text": a
    byte-order mark, or NUL bytes in its first line, every ASCII character in two bytes)."""
    try:
        with book.open("rb") as file:
            start = file.read(4096)
    except OSError:
        return None
    if start.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return PolicyError.single("E607", f"{where}: the file is a workbook (Excel or WPS), "
                                  "not a CSV", notes=[SAVE_AS_CSV])
    if start.startswith(PARQUET):
        return PolicyError.single("E607", f"{where}: the file is a Parquet file, not a CSV; "
                                  "name it .parquet")
    first_line = start.split(b"\n", 1)[0]
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "UTF-16"
    elif b"\x00" in first_line:  # no mark: where its ASCII characters' NUL bytes are
        encoding = "UTF-16LE" if first_line[1::2].count(0) > first_line[::2].count(0) \
            else "UTF-16BE"
    else:
        return None
    converted = book.with_name(f"{book.stem}-utf8{book.suffix}")
    return PolicyError.single(
        "E607", f"{where}: the file is UTF-16 (as Excel saves \"Unicode Text\"), not UTF-8; "
        "a book must be UTF-8 text",
        notes=[f"convert it with `iconv -f {encoding} -t UTF-8 {book} > {converted}`, or save "
               "it from Excel as \"CSV UTF-8 (逗号分隔)\""])


def looks_like_text(book: Path) -> bool:
    """Whether the file's first 4 KB are text (UTF-8, or GB18030), with no NUL byte."""
    with book.open("rb") as file:
        start = file.read(4096)
    if b"\x00" in start:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            start.decode(encoding)
            return True
        except UnicodeDecodeError as error:
            if error.start >= len(start) - 4:  # a character cut by the 4 KB
                return True
    return False


def _not_utf8(record: list[str]) -> tuple[int, int] | None:
    """The first cell holding bytes that are not UTF-8 (kept by `_lines` as lone
    surrogates), and the first such byte."""
    for index, cell in enumerate(record):
        if not cell.isascii():
            try:
                cell.encode("utf-8")
            except UnicodeEncodeError as error:
                return index, ord(cell[error.start]) - 0xDC00
    return None


def _likely(book: Path) -> Dialect:
    """The dialect whose delimiter splits the book's first line into the most fields."""
    widths = {d: len(_header(book, Dialect(d))) for d in _DELIMITERS}
    return Dialect(max(_DELIMITERS, key=widths.__getitem__))


def _header(book: Path, dialect: Dialect, skip: int = 0) -> list[str]:
    """The first record of the book after `skip` lines, as written."""
    lines = _lines(book, skip)
    try:
        return next(_records(lines, dialect), [])
    except (csv.Error, TypeError, OSError):
        return []
    finally:
        lines.close()


def _lines(book: Path, skip: int = 0) -> Iterator[str]:
    """The book's lines after `skip`, as text: a UTF-8 BOM dropped, and bytes that are
    not UTF-8 kept as lone surrogates (so the cell that holds them can be named)."""
    with book.open("rb") as file:
        for number, line in enumerate(file):
            if number == 0 and line.startswith(codecs.BOM_UTF8):
                line = line[len(codecs.BOM_UTF8):]
            if number >= skip:
                yield line.decode("utf-8", "surrogateescape")


def _records(lines: Iterator[str], dialect: Dialect) -> Iterator[list[str]]:
    """The records of `lines` split as DuckDB splits them in `dialect`, blank lines
    (which DuckDB skips) left out."""
    options: dict = (
        {"quoting": csv.QUOTE_NONE} if not dialect.quote else
        {"quotechar": dialect.quote} if dialect.escape in ("", dialect.quote) else
        {"quotechar": dialect.quote, "escapechar": dialect.escape, "doublequote": False})
    return (record for record in csv.reader(lines, delimiter=dialect.delimiter, **options)
            if record)


# ── what kind of file a book is ──

FORMATS = {".csv": "csv", ".parquet": "parquet"}
# A workbook saved by Excel or WPS, given as the book: the sheet must be saved as CSV.
_WORKBOOKS = (".xlsx", ".xls", ".xlsm", ".xlsb", ".et", ".ods")


def file_format(path: Path, what: str) -> str:
    """csv or parquet, by `path`'s suffix; E607 for a folder, a workbook or any other
    file (`what`: the book or the output)."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        if what == "book" and path.is_dir():
            raise PolicyError.single("E607", f"{path}: is a folder; give one .csv or .parquet "
                                     "file")
        notes = [SAVE_AS_CSV] if path.suffix.lower() in _WORKBOOKS else []
        raise PolicyError.single("E607", f"{path}: the {what} must be a .csv or .parquet file",
                                 notes=notes)
    return kind


def unreadable(book: Path, kind: str, error: Exception, where: str) -> PolicyError:
    """Why DuckDB cannot read `book` (named `where`): a CSV's first row that is not UTF-8
    or has another number of fields than the header (DuckDB counts file lines, and may
    not say which), or else DuckDB's own first line."""
    found = not_a_parquet(book, kind, where)
    if found is None and kind == "csv":
        found = misshapen(book, where=where)
    if found is not None:
        return found
    return PolicyError.single("E607", f"{where}: cannot read the {kind} file: "
                              f"{first_line(error)}")


def not_a_parquet(book: Path, kind: str, where: str) -> PolicyError | None:
    """E607 for a Parquet book that is not one, by its first and last bytes: empty, cut
    short (no footer), or no Parquet file at all; a CSV's are book_shape's to judge.
    None when the bytes do not tell."""
    try:
        size = book.stat().st_size
        with book.open("rb") as file:
            head = file.read(8)
            file.seek(max(size - 4, 0))
            tail = file.read(4)
    except OSError:
        return None
    said, notes = None, []
    if kind != "parquet":
        return None
    if size == 0:
        said = "the file is empty (0 bytes)"
    elif head.startswith(PARQUET) and tail != PARQUET:
        said = (f"the Parquet file is cut short: it has no footer ({size:,} bytes, not "
                "ending in `PAR1`); copy or write it again, whole")
    elif not head.startswith(PARQUET):
        said = "the file is not a Parquet file (one starts with `PAR1`)"
        if looks_like_text(book):
            notes = ["it looks like text: a CSV book's name ends in .csv"]
    if said is None:
        return None
    return PolicyError.single("E607", f"{where}: {said}", notes=notes)
