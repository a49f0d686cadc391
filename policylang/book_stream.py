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
"""

from __future__ import annotations

import os
from pathlib import Path

from policylang import ir
from policylang.diagnostics import PolicyError
from policylang.engine import book_query, measure_bounds, output_columns, quote_identifier

RAW = "__pl_raw_"  # the book's own columns, carried through the query unchanged


class NotClean(Exception):
    """The book needs the careful path (which reports why, if anything is wrong)."""


def score(connection, poller, tracker, policy: ir.Policy, book: Path,
          params: dict[str, ir.Value], out: Path | None, out_format: str | None):
    """The BookSummary of a clean book, its output written; NotClean otherwise."""
    from policylang import book as careful

    kind = careful._format(book, "book")
    if not book.is_file():
        raise NotClean
    reader = (f"read_csv({careful.sql_string(str(book))}, all_varchar = true, header = true, "
              "auto_detect = true)" if kind == "csv"
              else f"read_parquet({careful.sql_string(str(book))})")
    tracker.stage(f"reading {book}", measured=True)
    try:
        described = connection.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
    except Exception as error:
        careful._stop_if_interrupted(error)
        raise NotClean from None
    types = {row[0]: row[1] for row in described}
    columns = [row[0] for row in described]
    if set(columns) & {name for name, _ in output_columns(policy)}:
        raise NotClean
    cases = _cases(policy, book, columns, types)
    try:
        with poller.measure():
            bounds = measure_bounds(connection, policy, query=f"{cases} FROM {reader}")
    except Exception as error:
        careful._stop_if_interrupted(error)
        raise NotClean from None
    carry = tuple(f"{RAW}{index}" for index in range(len(columns)))
    scored = book_query(policy, params, carry, bounds)
    shown = [f"{quote_identifier(raw)} AS {quote_identifier(name)}"
             for raw, name in zip(carry, columns, strict=True)]
    for name, type_ in output_columns(policy):
        column = quote_identifier(name)
        shown.append(f"{careful._duration_text(column)} AS {column}"
                     if type_.kind is ir.Kind.DURATION else column)
    query = (f"WITH cases AS ({_checked(policy, columns, f'({cases} FROM {reader})')}) "
             f"SELECT {', '.join(shown)} FROM ({scored})")
    tracker.stage(f"scoring {book}" + (f" into {out}" if out is not None else ""),
                  measured=True)
    if out is None or out_format is None:
        return _summary(connection, policy, columns, f"({query})", out, poller)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    options = "FORMAT csv, HEADER true" if out_format == "csv" else "FORMAT parquet"
    try:
        try:
            with poller.measure():
                connection.execute(f"COPY ({query}) TO {careful.sql_string(str(temporary))} "
                                   f"({options})")
        except Exception as error:
            careful._stop_if_interrupted(error)
            raise NotClean from None
        written = (f"read_parquet({careful.sql_string(str(temporary))})" if out_format ==
                   "parquet" else f"read_csv({careful.sql_string(str(temporary))}, "
                   "all_varchar = true, header = true)")
        summary = _summary(connection, policy, columns, written, out, poller)
        temporary.replace(out)
    finally:
        temporary.unlink(missing_ok=True)
    return summary


def _cases(policy: ir.Policy, book: Path, columns: list[str], types: dict[str, str]) -> str:
    """SELECT of each book column (renamed) and each input as the strict patterns read
    it: NULL where a cell is missing or not taken (`_checked` turns those into errors)."""
    from policylang import book as careful

    selects = [f"{quote_identifier(name)} AS {quote_identifier(RAW + str(index))}"
               for index, name in enumerate(columns)]
    for f in policy.inputs:
        if f.name not in types:
            if f.default is None:
                raise NotClean
            selects.append(f"{careful._default_sql(f)} AS {quote_identifier(f.name)}")
            continue
        raw = quote_identifier(f.name)
        try:
            fast = careful._fast_expression(raw, f, types[f.name], book, policy)
        except PolicyError:
            raise NotClean from None
        if f.default is not None:
            fast = f"COALESCE({fast}, CASE WHEN {raw} IS NULL THEN {careful._default_sql(f)} END)"
        selects.append(f"{fast} AS {quote_identifier(f.name)}")
    return f"SELECT {', '.join(selects)}"


def _checked(policy: ir.Policy, columns: list[str], source: str) -> str:
    """The rows of `source` with a raising check per input: a value the patterns did not
    give (a missing value without default, or a cell they do not take)."""
    checks = []
    for f in policy.inputs:
        if f.name not in columns:
            continue
        name = quote_identifier(f.name)
        checks.append(f"CASE WHEN {name} IS NULL THEN ERROR('not taken by the patterns') "
                      f"ELSE {name} END AS {name}")
    replaced = f"* REPLACE ({', '.join(checks)})" if checks else "*"
    return f"SELECT {replaced} FROM {source}"


def _summary(connection, policy: ir.Policy, columns: list[str], rows_from: str,
             out: Path | None, poller):
    """The summary from the scored rows: the written file, or (no output) the query."""
    from policylang import book as careful

    try:
        with poller.measure():
            rows, eligible, failures, totals = careful._summarise(
                connection, policy, rows_from, read_every_output=out is None)
    except Exception as error:
        careful._stop_if_interrupted(error)
        raise NotClean from None
    inputs = {f.name for f in policy.inputs}
    return careful.BookSummary(rows, eligible, failures, totals, out, 0.0,
                               tuple(c for c in columns if c not in inputs))
