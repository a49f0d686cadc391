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
    """Counts and totals from the scored rows (the written file, or the query itself)."""
    from policylang import book as careful

    checks = [c.name for c in policy.checks]
    parts = [(alloc.name, party) for alloc, party in careful._parts(policy)]
    aggregates = ["count(*)", "count_if(CAST(eligible AS BOOLEAN))"]
    aggregates += [f"count_if(NOT CAST({quote_identifier('rule__' + c)} AS BOOLEAN))"
                   for c in checks]
    aggregates += [f"sum(CAST({quote_identifier(f'{a}__{p}')} AS DECIMAL(38,2)))"
                   for a, p in parts]
    if out is None:
        # Read every output, or DuckDB computes only the columns summed here and an
        # evaluation error in another (a let dividing by zero) would pass unseen.
        aggregates += [f"count({quote_identifier(name)})" for name, _ in output_columns(policy)]
    try:
        with poller.measure():
            values = connection.execute(
                f"SELECT {', '.join(aggregates)} FROM {rows_from}").fetchone()
    except Exception as error:
        careful._stop_if_interrupted(error)
        raise NotClean from None
    rows, eligible = int(values[0]), int(values[1] or 0)
    failures = {c: int(v or 0) for c, v in zip(checks, values[2:2 + len(checks)], strict=True)}
    totals: dict = {}
    sums = values[2 + len(checks):2 + len(checks) + len(parts)]
    for (alloc, party), total in zip(parts, sums, strict=True):
        totals.setdefault(alloc, {})[party] = careful.Decimal(total or 0).quantize(
            careful.Decimal("0.01"))
    inputs = {f.name for f in policy.inputs}
    return careful.BookSummary(rows, eligible, failures, totals, out, 0.0,
                               tuple(c for c in columns if c not in inputs))
