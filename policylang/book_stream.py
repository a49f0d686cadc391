"""`run --book` in one statement: a clean book read, converted, scored and written by a
single DuckDB COPY.

The careful path (book.py) reads the book into a table, checks each input column
(missing values; cells the strict SQL patterns do not take, which go through the case
reader), converts, scores and joins the book back by row: a table per step. Most books
are clean, and for them this path reads the file once to measure the inputs' bounds
(emit/sql_narrow.py narrows the query to them) and once more inside the COPY that
writes the output. Any cell the patterns do not take, a missing value without default or
an evaluation error makes the statement raise; then nothing is kept (the output goes to a
temporary file first) and `score_book` runs the careful path, which either scores the
book (a cell only the case reader takes) or names the row and column at fault. Books
with portfolio rules (window functions over the whole book) take the careful path.

Text columns of numbers and durations (every column of a CSV) are first tried *plain*:
the measuring scan reads them by DuckDB's casts, which are cheap, and also finds how many
places the numbers show; the COPY then reads each number column by a pattern that takes
exactly the plain decimals within the measured bounds, straight into the narrow DECIMAL
they need (book_cells.plain_number), and each duration column by one pattern and
DuckDB's INTERVAL cast (book_cells.plain_duration). The scan reads only the book's first
SAMPLE_ROWS rows: the readings take no value beyond the bounds measured there, so a
later row beyond them fails the COPY, and the book is measured whole and scored again.
A book whose numbers carry units (`500万`, `3.45%`), whose durations are written in CJK
units (`3年`) or whose cells the plain patterns refuse (padding) is then scored with
every pattern, as above.

A CSV is sniffed once (DuckDB's sniffer, as the careful path's `auto_detect`); the
statements after read it with that dialect spelled out, rather than each sniffing it.

`csv_reader` and the careful path check a book's shape first (`book_shape.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from policylang import book_shape, ir
from policylang.book_cells import (
    INTEGER_SQL,
    cell_expression,
    default_sql,
    loose_duration,
    loose_number,
    not_taken,
    plain_duration,
    plain_number,
    shown_places,
    sql_string,
)
from policylang.book_shape import Dialect, check_columns, check_header
from policylang.diagnostics import PolicyError
from policylang.emit.sql_bounds import SCALE_PLACES, Bounds, DurationBounds, bucketed
from policylang.engine import (
    book_query,
    measure_bounds,
    output_columns,
    places_of_type,
    quote_identifier,
    scan_bounds,
)
from policylang.outputs import put_in_place, replaced

if TYPE_CHECKING:
    from policylang.book import Output

RAW = "__pl_raw_"  # the book's own columns, carried through the query unchanged
_CEILING = Decimal(10) ** 15  # every input value is below it, as the case reader requires
_NOT_TAKEN = "not taken by the patterns"  # the error a cell no pattern took raises


class NotClean(Exception):
    """The book needs the careful path (which reports why, if anything is wrong)."""


def score(connection, poller, tracker, policy: ir.Policy, book: Path,
          params: dict[str, ir.Value], output: Output, where: str):
    """The BookSummary of a clean book, its output written; NotClean otherwise (or a
    PolicyError naming the book as `where`, for a misshapen one)."""
    from policylang import book as careful

    kind = book_shape.file_format(book, "book")
    if not book.is_file():
        raise NotClean
    tracker.stage(f"reading {book}", measured=True)
    try:
        reader = (csv_reader(connection, book, where) if kind == "csv"
                  else f"read_parquet({sql_string(str(book))})")
        described = connection.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
    except PolicyError:
        raise  # a misshapen book, named already: the careful path would only say it again
    except Exception as error:
        careful._stop_if_interrupted(error)
        raise NotClean from None
    types = {row[0]: row[1] for row in described}
    columns = [row[0] for row in described]
    if kind == "parquet":
        check_columns(connection, book, kind, columns, where)
    if set(columns) & {name for name, _ in output_columns(policy)}:
        raise NotClean
    source = _Source(policy, book, where, reader, columns, types)
    if source.text_numbers or source.text_durations:
        try:
            return _plain_score(connection, poller, tracker, source, params, output)
        except _NotPlain:
            tracker.stage(f"reading {book} with every unit", measured=True)
    cases = _cases(source, {})
    try:
        with poller.measure():
            bounds = measure_bounds(connection, policy, query=f"{cases} FROM {reader}")
    except Exception as error:
        careful._stop_if_interrupted(error)
        raise NotClean from None
    try:
        return _run(connection, poller, tracker, source, cases, bounds, params, output)
    except _NotPlain:
        raise NotClean from None


def csv_reader(connection, book: Path, where: str | None = None) -> str:
    """`read_csv` of `book` with the dialect DuckDB's sniffer finds (every column as
    text), spelled out: the statements that read the book again skip sniffing it, and
    read it exactly as the careful path's `auto_detect` does. PolicyError for a
    misshapen book (`misshapen`) or one with two columns of one name, naming the book as
    `where` (by default its path)."""
    where = str(book) if where is None else where
    from policylang import book as careful

    try:
        delimiter, quote, escape, new_line, comment, skip, columns = connection.execute(
            "SELECT Delimiter, Quote, Escape, NewLineDelimiter, Comment, SkipRows, Columns "
            f"FROM sniff_csv({sql_string(str(book))}, all_varchar = true, header = true)"
        ).fetchone()
    except Exception as error:
        careful._stop_if_interrupted(error)
        raise book_shape.unreadable(book, "csv", error, where) from None

    def option(value: str) -> str:
        return "" if value == "(empty)" else value

    names = [column["name"] for column in columns]
    check_header(book, names, Dialect(*map(option, (delimiter, quote, escape))), int(skip),
                 where)
    typed = ", ".join(f"{sql_string(name)}: 'VARCHAR'" for name in names)
    options = {"delim": delimiter, "quote": quote, "escape": escape, "new_line": new_line,
               "comment": comment}
    spelled = ", ".join(f"{key} = {sql_string(option(value))}"
                        for key, value in options.items())
    return (f"read_csv({sql_string(str(book))}, auto_detect = false, header = true, "
            f"{spelled}, skip = {int(skip)}, columns = {{{typed}}})")


class _NotPlain(NotClean):
    """The plain reading refused a cell: the book is read with every pattern instead."""


@dataclass(frozen=True)
class _Source:
    policy: ir.Policy
    book: Path
    where: str  # what messages call the book
    reader: str  # the SQL table function that reads the book
    columns: list[str]
    types: dict[str, str]

    @property
    def text_numbers(self) -> list[ir.Field]:
        """The numeric inputs held as text (every one, in a CSV)."""
        return [f for f in self.policy.inputs if f.type.numeric and
                self.types.get(f.name, "").upper() == "VARCHAR"]

    @property
    def text_durations(self) -> list[ir.Field]:
        return [f for f in self.policy.inputs if f.type.kind is ir.Kind.DURATION and
                self.types.get(f.name, "").upper() == "VARCHAR"]


# The rows whose bounds the plain reading is first narrowed to: enough to meet every
# number's digits in most books, few enough to read in a few hundredths of a second.
SAMPLE_ROWS = 65_536


def _plain_score(connection, poller, tracker, source: _Source, params: dict[str, ir.Value],
                 output: Output):
    """Score the book read plain, narrowed to the bounds of its first SAMPLE_ROWS rows;
    if a later row falls outside them (the readings refuse it), to the whole book's.
    Only text cells are read by readings that refuse what is beyond the bounds: a typed
    number column (Parquet's DECIMALs) is bounded by the file's statistics, which cover
    every row, or the book is measured whole at once."""
    exact = _typed_bounds(connection, source)
    for rows in (SAMPLE_ROWS, None) if exact is not None else (None,):
        cases, bounds, whole = _plain(connection, poller, source, rows, exact or {})
        try:
            return _run(connection, poller, tracker, source, cases, bounds, params, output)
        except _NotPlain:
            if whole:
                raise
            tracker.stage(f"measuring the whole of {source.book}", measured=True)
    raise AssertionError("unreachable: the whole book's reading ends the loop")


def _typed_bounds(connection, source: _Source) -> dict[str, Bounds] | None:
    """The bounds of the typed number inputs (not text), from the Parquet file's
    statistics, which hold every row's value, read without reading the values; None
    when an input lacks them (or is a typed duration, or the book a CSV)."""
    typed = [f for f in source.policy.inputs if f.name in source.types and
             (f.type.numeric or f.type.kind is ir.Kind.DURATION) and
             f not in source.text_numbers + source.text_durations]
    if not typed:
        return {}
    if not source.reader.startswith("read_parquet(") or any(not f.type.numeric
                                                            for f in typed):
        return None
    try:
        found = connection.execute(
            "SELECT path_in_schema, stats_min_value, stats_max_value FROM "
            f"parquet_metadata({sql_string(str(source.book))})").fetchall()
        names = {f.name for f in typed}
        values: dict[str, list[Decimal]] = {}
        for column, low, high in found:
            if column in names:
                if low is None or high is None:
                    return None
                values.setdefault(column, []).extend((Decimal(low), Decimal(high)))
    except Exception as error:  # statistics DuckDB cannot give, or that are not numbers
        from policylang import book as careful

        careful._stop_if_interrupted(error)
        return None
    exact: dict[str, Bounds] = {}
    for f in typed:
        sql_type = source.types[f.name].upper()
        if f.name not in values or not (sql_type.startswith("DECIMAL(") or
                                        sql_type in INTEGER_SQL):
            return None
        found_values = values[f.name] + ([f.default] if f.default is not None else [])
        places = places_of_type(sql_type)
        low, high = min(found_values), max(found_values)
        if (places > SCALE_PLACES or not low.is_finite() or not high.is_finite() or
                max(-low, high) >= _CEILING):
            return None
        exact[f.name] = bucketed(low, high, places)
    return exact


def _plain(connection, poller, source: _Source, rows: int | None,
           typed_bounds: dict[str, Bounds]) -> tuple[str, tuple, bool]:
    """The `cases` SELECT reading the text columns plain (book_cells.py), the bounds of
    the book's first `rows` rows (every row: None) and whether those were the whole book;
    or _NotPlain when a cell carries a unit, a CJK duration or more places than policylang
    keeps. A typed number's bounds are `typed_bounds`, the whole book's, when some.

    Bounds measured on some rows must hold for every row that reaches the query, or its
    narrow decimals could overflow: the readings take no value beyond them (a number's
    pattern has the bounds' digits and places; a duration's amount is compared with
    them), and they hold each input's default, which missing cells take unread."""
    from policylang import book as careful

    loose: dict[str, str] = {}
    extra: list[str] = []
    for f in source.text_numbers + source.text_durations:
        cell = quote_identifier(f.name)
        loose[f.name] = loose_number(cell) if f.type.numeric else loose_duration(cell)
        # The aggregates read the scan's rows: the cell's text is its carried column.
        carried = quote_identifier(RAW + str(source.columns.index(f.name)))
        extra += [f"max({shown_places(carried) if f.type.numeric else 0})",
                  f"max({not_taken(carried, cell)})"]
    limit = "" if rows is None else f" LIMIT {rows}"
    try:
        with poller.measure():
            measured, found = scan_bounds(
                connection, source.policy,
                f"({_cases(source, loose)} FROM {source.reader}{limit})",
                (*extra, "count(*)"), known=frozenset(typed_bounds))
    except Exception as error:
        careful._stop_if_interrupted(error)
        raise NotClean from None
    counted = found.pop()
    whole = rows is None or counted < rows
    # A typed number's bounds come from the file's statistics, which cover every row:
    # the scan does not read those columns at all (on 1M 重庆 cases from Parquet, 0.10 s
    # of a 1.46 s run when it did).
    bounds = typed_bounds | dict(measured)
    plain: dict[str, str] = {}
    pairs = zip(found[::2], found[1::2], strict=True)
    for f, (places_shown, units) in zip(source.text_numbers + source.text_durations, pairs,
                                        strict=True):
        if units:
            raise _NotPlain
        if f.name not in bounds:  # no value: the query takes the input's whole range
            continue
        cell = quote_identifier(f.name)
        if f.type.kind is ir.Kind.DURATION:
            bounds[f.name] = _with_duration(bounds[f.name], f.default)
            plain[f.name] = plain_duration(cell, None if whole else bounds[f.name])
            continue
        places = max(places_shown or 0, _places(f.default) if f.default is not None else 0)
        low, high = bounds[f.name].lo, bounds[f.name].hi
        if f.default is not None:
            low, high = min(low, f.default), max(high, f.default)
        bounds[f.name] = bucketed(low, high, places)
        if places > SCALE_PLACES or bounds[f.name].magnitude >= _CEILING:
            raise _NotPlain
        if f.type.kind is ir.Kind.PERCENT:
            # Text without `%` is a fraction within ±1 (`4.35` would be 435%): a cell
            # beyond is no plain reading, and the careful path's case reader refuses it.
            if f.default is not None and abs(f.default) > 1:
                raise _NotPlain
            bounds[f.name] = Bounds(max(bounds[f.name].lo, Decimal(-1)),
                                    min(bounds[f.name].hi, Decimal(1)), places)
        plain[f.name] = plain_number(cell, bounds[f.name])
    return _cases(source, plain), tuple(bounds.items()), whole


def _run(connection, poller, tracker, source: _Source, cases: str, bounds: tuple,
         params: dict[str, ir.Value], output: Output):
    """Score the book by `cases` narrowed to `bounds`: write the `output` (book.Output),
    summarise."""
    from policylang import book as careful

    policy, book, columns = source.policy, source.book, source.columns
    out, out_format = output.path, output.kind
    carry = tuple(f"{RAW}{index}" for index in range(len(columns)))
    scored = book_query(policy, params, carry, bounds, output.limit_values)
    shown = [f"{quote_identifier(raw)} AS {quote_identifier(name)}"
             for raw, name in zip(carry, columns, strict=True)]
    for name, type_ in output.columns(policy):
        column = quote_identifier(name)
        shown.append(f"{careful.shown_output(policy, name, type_, column)} AS {column}")
    query = (f"WITH cases AS ({_checked(policy, columns, f'({cases} FROM {source.reader})')}) "
             f"SELECT {', '.join(shown)} FROM ({scored})")
    tracker.stage(f"scoring {book}" + (f" into {out}" if out is not None else ""),
                  measured=True)
    if out is None or out_format is None:
        return _summary(connection, policy, columns, f"({query})", output, poller)
    target, temporary = replaced(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    options = "FORMAT csv, HEADER true" if out_format == "csv" else "FORMAT parquet"
    try:
        try:
            with poller.measure():
                connection.execute(f"COPY ({query}) TO {sql_string(str(temporary))} "
                                   f"({options})")
        except Exception as error:
            careful._stop_if_interrupted(error)
            # An output that cannot be written: the careful path would only fail there too.
            raise careful.unwritable(out, temporary, error) or _refusal(error) from None
        written = (f"read_parquet({sql_string(str(temporary))})" if out_format ==
                   "parquet" else f"read_csv({sql_string(str(temporary))}, "
                   "all_varchar = true, header = true)")
        summary = _summary(connection, policy, columns, written, output, poller)
        put_in_place(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return summary


def _cases(source: _Source, readings: dict[str, str]) -> str:
    """SELECT of each book column (renamed) and each input as the strict patterns read
    it (or as `readings` say): NULL where a cell is missing or not taken (`_checked`
    turns those into errors)."""
    policy = source.policy
    selects = [f"{quote_identifier(name)} AS {quote_identifier(RAW + str(index))}"
               for index, name in enumerate(source.columns)]
    for f in policy.inputs:
        if f.name not in source.types:
            if f.default is None:
                raise NotClean
            selects.append(f"{default_sql(f)} AS {quote_identifier(f.name)}")
            continue
        raw = quote_identifier(f.name)
        try:
            fast = readings.get(f.name) or cell_expression(
                raw, f, source.types[f.name], source.where, policy)
        except PolicyError:
            raise NotClean from None
        if f.default is not None:
            fast = f"COALESCE({fast}, CASE WHEN {raw} IS NULL THEN {default_sql(f)} END)"
        selects.append(f"{fast} AS {quote_identifier(f.name)}")
    return f"SELECT {', '.join(selects)}"


def _with_duration(bounds: DurationBounds, default: ir.Value | None) -> DurationBounds:
    """`bounds` widened to hold `default`, a duration in months or in days."""
    if default is None:
        return bounds
    months = default.amount if default.unit == "month" else 0
    days = default.amount if default.unit == "day" else 0
    return DurationBounds(
        bucketed(min(bounds.months.lo, months), max(bounds.months.hi, months), 0),
        bucketed(min(bounds.days.lo, days), max(bounds.days.hi, days), 0))


def _places(value: Decimal) -> int:
    return max(-value.as_tuple().exponent, 0)


def _checked(policy: ir.Policy, columns: list[str], source: str) -> str:
    """The rows of `source`, each raising where an input has no value from the patterns
    (a missing value without default, or a cell they do not take). The test is a filter,
    not a column: the optimiser drops columns no output reads, and with them the test of
    an input that no rule reads, whose bad cells the careful path refuses all the same."""
    names = [quote_identifier(f.name) for f in policy.inputs if f.name in columns]
    if not names:
        return f"SELECT * FROM {source}"
    missing = " OR ".join(f"{name} IS NULL" for name in names)
    return (f"SELECT * FROM {source} WHERE CASE WHEN {missing} "
            f"THEN ERROR({sql_string(_NOT_TAKEN)}) ELSE true END")


def _refusal(error: Exception) -> NotClean:
    """Why the statement failed: a cell the patterns did not take (the book may still be
    read with every pattern), or anything else, such as an evaluation error, which only
    the careful path reports (reading the book again would meet it again)."""
    return _NotPlain() if _NOT_TAKEN in str(error) else NotClean()


def _summary(connection, policy: ir.Policy, columns: list[str], rows_from: str,
             output: Output, poller):
    """The summary from the scored rows: the written file, or (no output) the query."""
    from policylang import book as careful

    try:
        with poller.measure():
            rows, eligible, failures, totals = careful._summarise(
                connection, policy, rows_from,
                read_every_output=output if output.path is None else None)
    except Exception as error:
        careful._stop_if_interrupted(error)
        raise _refusal(error) from None
    inputs = {f.name for f in policy.inputs}
    return careful.BookSummary(rows, eligible, failures, totals, output.path, 0.0,
                               tuple(c for c in columns if c not in inputs))
