"""Scoring a whole book of cases (CSV or Parquet) with the policy's SQL on embedded DuckDB.

Owns reading a book, converting its cells to typed inputs exactly as case JSON is read,
running the policy's query, writing the decisions (atomically) and summarising them.

A cell is read in one of two ways, with one meaning: by a strict SQL pattern
(book_cells.py) whose accepted strings are a subset of what the reference parser accepts
and whose values are identical, or, for every other distinct cell text, by
`cases.convert`, the very function that reads case JSON, so an accepted book cell always
means what the same text means in a case, and a rejected one gets the same message, with
its row and column. Rows are numbered from 1 after a CSV's header.

While it works, `score_book` tells a `Progress` its stages (reading, converting, scoring,
the portfolio rules, charts, writing) and, when asked to, each long statement's completion
as DuckDB measures it (`query_progress()`, polled from a thread while the statement runs).
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from policylang import book_portfolio, book_shape, book_stream, ir
from policylang.book_cells import bindable, cell_expression, default_sql, sql_string
from policylang.cases import convert
from policylang.diagnostics import PolicyError, first_line
from policylang.engine import (
    SQL_TYPES,
    book_query,
    connect,
    decision_from_row,
    measure_bounds,
    output_columns,
    quote_identifier,
    translate_error,
)
from policylang.outputs import check_writable, put_in_place, replaced
from policylang.portfolio import portfolio_columns
from policylang.values import format_duration

ROW = "__pl_book_row"


@dataclass(frozen=True)
class BookSummary:
    """What a scored book came to: counts, failures per rule and allocation totals."""

    cases: int
    eligible: int
    failures: dict[str, int]
    totals: dict[str, dict[str, Decimal]]
    output: Path | None
    seconds: float
    carried: tuple[str, ...] = field(default=())
    report: dict = field(default_factory=dict)  # the portfolio rules' findings
    charts: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Output:
    """What scoring a book writes: the file (`path` None: none, only the summary), its
    format, and whether it holds each limit's value and bound beside its verdict."""

    path: Path | None = None
    kind: str | None = None  # "csv" or "parquet", from the path's suffix
    limit_values: bool = True

    def columns(self, policy: ir.Policy) -> list[tuple[str, ir.Type]]:
        """The policy's output columns this output holds."""
        return output_columns(policy, self.limit_values)


class Progress:
    """What `score_book` tells about its work as it goes; this base tells nobody (any
    object with these methods and `interval` will do).

    `stage(description, measured)` starts a stage, which completes the one before;
    `measured` says that `update` will report how far its statement has got.
    `update(percent)` comes from a polling thread every `interval` seconds while a measured
    statement runs (DuckDB's own estimate, 0–100); `tick()` comes on every poll, measured
    or not (a display can choose to appear only on long runs). `finish()` ends the last
    stage of a book scored in full (not called when scoring fails). With `interval` None
    no thread polls and DuckDB does not track progress at all."""

    interval: float | None = None

    def stage(self, description: str, measured: bool = False) -> None:
        pass

    def update(self, percent: float) -> None:
        pass

    def tick(self) -> None:
        pass

    def finish(self) -> None:
        pass


class Messages(Progress):
    """Each stage as one message to a callback (the older interface: `progress=print`)."""

    def __init__(self, tell: Callable[[str], None]):
        self.tell = tell

    def stage(self, description: str, measured: bool = False) -> None:
        self.tell(description)


class _Poller:
    """Polls the connection's query progress for `progress` from a daemon thread."""

    def __init__(self, connection, progress: Progress):
        self.connection = connection
        self.progress = progress
        self.measuring = False
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None

    def __enter__(self) -> _Poller:
        interval = self.progress.interval
        if interval is not None:
            self.connection.execute("SET enable_progress_bar = true; "
                                    "SET enable_progress_bar_print = false")
            self.thread = threading.Thread(target=self._poll, args=(interval,), daemon=True,
                                           name="policylang-progress")
            self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stopped.set()
        if self.thread is not None:
            self.thread.join()

    def _poll(self, interval: float) -> None:
        try:
            while not self.stopped.wait(interval):
                with self.lock:
                    self.progress.tick()
                    if self.measuring:
                        percent = self.connection.query_progress()
                        if percent >= 0:
                            self.progress.update(min(percent, 100.0))
        except Exception:  # noqa: BLE001  a display that fails must not fail the scoring
            return

    @contextlib.contextmanager
    def measure(self) -> Iterator[None]:
        """Report the completion of the statements run inside (one at a time)."""
        with self.lock:
            self.measuring = True
        try:
            yield
        finally:
            # Under the lock: no late percentage of this statement lands on the next stage.
            with self.lock:
                self.measuring = False


def _stop_if_interrupted(error: Exception) -> None:
    """Ctrl-C during a statement: DuckDB's client raises its own error, not
    KeyboardInterrupt; it is no bad book and no failing row, so the run just stops."""
    import duckdb

    if isinstance(error, duckdb.InterruptException) or (
            isinstance(error, RuntimeError) and str(error) == "Query interrupted"):
        raise KeyboardInterrupt from None


def score_book(policy: ir.Policy, book: Path, params: dict[str, ir.Value],
               out: Path | None = None,
               progress: Progress | Callable[[str], None] | None = None,
               charts: Path | None = None, limit_values: bool = True,
               where: str | None = None) -> BookSummary:
    """Score every row of `book`; write `out` (CSV or Parquet) only if all of it succeeds,
    with each limit's value and bound columns unless `limit_values` is false.
    `progress` is told the stages (a callable gets each stage as a message). A mistake in
    the book is named by `where` (by default the book's path) and its row and column."""
    started = time.perf_counter()
    where = str(book) if where is None else where
    tracker = (Progress() if progress is None else progress if hasattr(progress, "stage")
               else Messages(progress))
    output = Output(out, None if out is None else book_shape.file_format(out, "output"),
                    limit_values)
    if out is not None:
        check_writable(out)
    if charts is not None:
        check_writable(charts, folder=True)
    connection = connect()
    with _Poller(connection, tracker) as poller:
        summary = None
        if policy.portfolio is None:
            try:
                summary = book_stream.score(connection, poller, tracker, policy, book, params,
                                            output, where)
            except book_stream.NotClean:
                summary = None  # the careful path scores it, or says what is wrong
        if summary is None:
            summary = _score(connection, poller, tracker, policy, book, params, output,
                             charts, where)
    tracker.finish()
    return dataclasses.replace(summary, seconds=time.perf_counter() - started)


def load_cases(connection, policy: ir.Policy, book: Path) -> list[str]:
    """The book as the `cases` table, every cell checked and converted as `score_book` does
    (without a progress display); the book's columns. For timing a policy's query alone."""
    tracker = Progress()
    with _Poller(connection, tracker) as poller:
        columns = _read(connection, book, poller, str(book))
        rows = connection.execute("SELECT count(*) FROM __pl_book").fetchone()[0]
        _create_cases(connection, policy, str(book), columns, tracker, poller, rows)
    return columns


def _score(connection, poller: _Poller, tracker: Progress, policy: ir.Policy, book: Path,
           params: dict[str, ir.Value], output: Output, charts: Path | None,
           where: str) -> BookSummary:
    tracker.stage(f"reading {book}", measured=True)
    columns = _read(connection, book, poller, where)
    rows = connection.execute("SELECT count(*) FROM __pl_book").fetchone()[0]
    outputs = output_columns(policy) + portfolio_columns(policy)
    clashes = sorted(set(columns) & {name for name, _ in outputs})
    if clashes:
        raise PolicyError.single("E608", f"{where}: column `{clashes[0]}` has the name of an "
                                 "output column of the policy; rename it in the book")
    _create_cases(connection, policy, where, columns, tracker, poller, rows)
    if policy.portfolio is not None:
        book_portfolio.check_order(connection, policy, where)
    tracker.stage(f"scoring {rows:,} rows", measured=True)
    # The result keeps the row number (the output joins the book back by it) and the
    # portfolio's ordering input (its charts read it), not the other inputs.
    carry = (ROW,) + ((policy.portfolio.order_by,) if policy.portfolio is not None else ())
    query = book_query(book_portfolio.with_hidden_lets(policy), params, carry,
                       measure_bounds(connection, policy), output.limit_values)
    try:
        with poller.measure():
            connection.execute(f"CREATE TEMP TABLE __pl_result AS {query}")
    except Exception as error:
        _stop_if_interrupted(error)
        tracker.stage("finding the first row that fails")
        raise book_portfolio.first_failing_row(connection, query, where, rows, translate_error,
                                                 error) from None
    report: dict = {}
    if policy.portfolio is not None:
        # Several statements of unknown number: a stage without a percentage.
        tracker.stage("evaluating the portfolio rules")
        connection.execute("ALTER TABLE cases RENAME TO __pl_book_cases")
        report = book_portfolio.evaluate(
            connection, policy, params,
            lambda failing, error: book_portfolio.first_failing_row(
                connection, failing, where, rows, translate_error, error))
    drawn: list[Path] = []
    if charts is not None and policy.portfolio is not None:
        from policylang.charts import write_charts

        tracker.stage(f"drawing charts in {charts}")
        drawn = write_charts(policy, book_portfolio.series(connection, policy), params, charts)
    _, eligible, failures, totals = _summarise(connection, policy)
    if output.path is not None and output.kind is not None:
        tracker.stage(f"writing {output.path}", measured=True)
        _write(connection, policy, columns, output, poller)
    return BookSummary(rows, eligible, failures, totals, output.path, 0.0,
                       tuple(c for c in columns if c not in {f.name for f in policy.inputs}),
                       report, tuple(drawn))


def _read(connection, book: Path, poller: _Poller, where: str) -> list[str]:
    kind = book_shape.file_format(book, "book")
    if not book.is_file():
        what = ("is a folder; give one .csv or .parquet file" if book.is_dir()
                else "no such file")
        raise PolicyError.single("E607", f"{where}: {what}")
    reader = (f"read_csv({sql_string(str(book))}, all_varchar = true, header = true, "
              "auto_detect = true)" if kind == "csv"
              else f"read_parquet({sql_string(str(book))})")
    try:
        # A table keeps the file's row order in its rowid, which numbers rows in messages.
        with poller.measure():
            connection.execute(f"CREATE TEMP TABLE __pl_book AS SELECT * FROM {reader}")
    except Exception as error:
        _stop_if_interrupted(error)
        raise book_shape.unreadable(book, kind, error, where) from None
    columns = [row[0] for row in connection.execute("DESCRIBE __pl_book").fetchall()]
    book_shape.check_columns(connection, book, kind, columns, where)
    return columns


def _column_types(connection) -> dict[str, str]:
    return {row[0]: row[1] for row in connection.execute("DESCRIBE __pl_book").fetchall()}


def _create_cases(connection, policy: ir.Policy, where: str, columns: list[str],
                  tracker: Progress, poller: _Poller, rows: int) -> None:
    """The typed `cases` table the policy's query reads, one row per book row (a mistake
    named by `where`, its row and column)."""
    tracker.stage(f"checking the cells of {len(policy.inputs)} input columns", measured=True)
    sql_types = _column_types(connection)
    selects = [f"__pl_book.rowid AS {ROW}"]
    joins: list[str] = []
    for index, f in enumerate(policy.inputs):
        if f.name not in sql_types:
            if f.default is None:
                raise PolicyError.single(
                    "E602", f"{where}: no column `{f.name}` ({f.type}), which the policy "
                    "requires", notes=["columns: " + ", ".join(columns)])
            selects.append(f"{default_sql(f)} AS {quote_identifier(f.name)}")
            continue
        raw = f"__pl_book.{quote_identifier(f.name)}"
        fast = cell_expression(raw, f, sql_types[f.name], where, policy)
        if f.default is None:
            _reject_missing(connection, raw, f, where)
        mapping = _slow_values(connection, raw, fast, f, where, policy, index)
        if mapping is not None:
            joins.append(f"LEFT JOIN {mapping} ON {mapping}.raw = CAST({raw} AS VARCHAR)")
            fast = f"COALESCE({fast}, {mapping}.value)"
        if f.default is not None:
            # `cases` holds each case as the case reader gives it, defaults filled in: the
            # ordering check (E609) and the charts read these columns directly.
            fast = f"COALESCE({fast}, {default_sql(f)})"
        selects.append(f"{fast} AS {quote_identifier(f.name)}")
        tracker.update(100 * (index + 1) / len(policy.inputs))
    tracker.stage(f"converting {rows:,} rows", measured=True)
    with poller.measure():
        connection.execute(f"CREATE TEMP TABLE cases AS SELECT {', '.join(selects)} "
                           f"FROM __pl_book {' '.join(joins)}")


def _reject_missing(connection, raw: str, f: ir.Field, where: str) -> None:
    row = connection.execute(f"SELECT min(rowid) FROM __pl_book WHERE {raw} IS NULL").fetchone()[0]
    if row is not None:
        raise PolicyError.single("E602", f"{where}: row {row + 1}, column `{f.name}`: no value, "
                                 f"and the field ({f.type}) has no default",
                                 notes=_blank_rows(connection, row))


def _blank_rows(connection, row: int) -> list[str]:
    """A note when book row `row` (from 0) is blank in every column, as the rows a
    spreadsheet keeps below its data (`,,,,` lines) are: it, or all of them, to delete."""
    names = [quote_identifier(c[0]) for c in connection.execute("DESCRIBE __pl_book").fetchall()]
    blank = " AND ".join(f"({name} IS NULL OR trim(CAST({name} AS VARCHAR)) = '')"
                         for name in names)
    if not connection.execute(f"SELECT {blank} FROM __pl_book WHERE rowid = {row}").fetchone()[0]:
        return []
    total, last = connection.execute(
        f"SELECT count(*), max(rowid) FILTER (WHERE NOT ({blank})) FROM __pl_book").fetchone()
    if last is not None and last > row:
        return [f"row {row + 1} is blank in every column: delete it"]
    if total > row + 1:
        return [f"rows {row + 1}–{total} are blank in every column (a spreadsheet's empty "
                "rows below its data, saved as `,,,`): delete them"]
    return [f"row {row + 1} is blank in every column (a spreadsheet's empty row below its "
            "data, saved as `,,,`): delete it"]


def _slow_values(connection, raw: str, fast: str, f: ir.Field, where: str,
                 policy: ir.Policy, index: int) -> str | None:
    """Cells the SQL pattern does not take, read by the case reader; a mapping table."""
    pending = connection.execute(
        f"SELECT CAST({raw} AS VARCHAR), min(__pl_book.rowid) AS first FROM __pl_book "
        f"WHERE {raw} IS NOT NULL AND ({fast}) IS NULL GROUP BY 1 ORDER BY first").fetchall()
    if not pending:
        return None
    values = []
    for text, first in pending:
        try:
            values.append((text, convert(text, f.type, policy,
                                         f"{where}: row {first + 1}, column `{f.name}`")))
        except PolicyError as error:
            raise error from None
    table = f"__pl_map_{index}"
    connection.execute(f"CREATE TEMP TABLE {table} (raw VARCHAR, value {_sql_type(f.type)})")
    connection.executemany(f"INSERT INTO {table} VALUES (?, {_placeholder(f.type)})",
                           [(text, bindable(value, f.type)) for text, value in values])
    return table


def _sql_type(type_: ir.Type) -> str:
    return SQL_TYPES[type_.kind]


def _placeholder(type_: ir.Type) -> str:
    return "CAST(? AS INTERVAL)" if type_.kind is ir.Kind.DURATION else "?"


def _summarise(connection, policy: ir.Policy, source: str = "__pl_result",
               read_every_output: Output | None = None
               ) -> tuple[int, int, dict[str, int], dict[str, dict[str, Decimal]]]:
    """Rows, eligible rows, failures per check and each allocation part's total, from the
    scored rows in `source` (typed, or a CSV read back as text: every column is cast).
    `read_every_output`: make DuckDB compute every column of this output from a query
    source, not only the columns summed (an evaluation error in another, a let dividing
    by zero, must raise)."""
    checks = [c.name for c in policy.checks]
    parts = [(a.name, p) for a, p in _parts(policy)]
    aggregates = ["count(*)", "count_if(CAST(eligible AS BOOLEAN))"]
    aggregates += [f"count_if(NOT CAST({quote_identifier('rule__' + c)} AS BOOLEAN))"
                   for c in checks]
    aggregates += [f"sum(CAST({quote_identifier(f'{a}__{p}')} AS DECIMAL(38,2)))"
                   for a, p in parts]
    if read_every_output is not None:
        aggregates += [f"count({quote_identifier(name)})"
                       for name, _ in read_every_output.columns(policy)]
    values = connection.execute(f"SELECT {', '.join(aggregates)} FROM {source}").fetchone()
    rows, eligible = int(values[0]), int(values[1] or 0)
    failures = {c: int(v or 0) for c, v in zip(checks, values[2:2 + len(checks)], strict=True)}
    totals: dict[str, dict[str, Decimal]] = {}
    sums = values[2 + len(checks):2 + len(checks) + len(parts)]
    for (alloc, party), total in zip(parts, sums, strict=True):
        totals.setdefault(alloc, {})[party] = Decimal(total or 0).quantize(Decimal("0.01"))
    return rows, eligible, failures, totals


def _parts(policy: ir.Policy) -> list[tuple[ir.Shares | ir.Waterfall, str]]:
    return [(alloc, party) for alloc in policy.allocations
            if not (isinstance(alloc, ir.Shares) and alloc.amount is None)
            for party in alloc.parties]


def _write(connection, policy: ir.Policy, columns: list[str], output: Output,
           poller: _Poller) -> None:
    out, kind = output.path, output.kind
    assert out is not None and kind is not None
    selected = [f"__pl_book.{quote_identifier(c)}" for c in columns]
    for name, type_ in output.columns(policy):
        column = shown_output(policy, name, type_, f"__pl_result.{quote_identifier(name)}")
        selected.append(f"{column} AS {quote_identifier(name)}")
    joins = f"JOIN __pl_result ON __pl_book.rowid = __pl_result.{ROW}"
    if policy.portfolio is not None:
        selected += [f"__pl_portfolio.{quote_identifier(name)}"
                     for name, _ in portfolio_columns(policy)]
        joins += f" JOIN __pl_portfolio ON __pl_book.rowid = __pl_portfolio.{ROW}"
    query = (f"SELECT {', '.join(selected)} FROM __pl_book {joins} "
             "ORDER BY __pl_book.rowid")
    target, temporary = replaced(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    options = "FORMAT csv, HEADER true" if kind == "csv" else "FORMAT parquet"
    try:
        with poller.measure():
            connection.execute(f"COPY ({query}) TO {sql_string(str(temporary))} ({options})")
        put_in_place(temporary, target)
    except Exception as error:
        _stop_if_interrupted(error)
        raise (unwritable(out, temporary, error) or PolicyError.single(
            "E607", f"{out}: cannot write the output: {first_line(error)}")) from None
    finally:
        # Also on an interrupt (Ctrl-C): `out` appears whole or not at all, and no part of
        # it is left beside it.
        temporary.unlink(missing_ok=True)


def unwritable(out: Path, temporary: Path, error: Exception) -> PolicyError | None:
    """E613 for a COPY that could not write `temporary`, the file beside `out` that
    becomes it (no permission, a full disk, a read-only file system: what `check_writable`
    cannot foresee, as for root), with the system's reason; None for any other error."""
    said = first_line(error)
    if str(temporary) not in said:
        return None
    return PolicyError.single("E613", f"{out}: cannot be written: "
                              f"{said.rsplit(': ', 1)[-1]}")


def shown_output(policy: ir.Policy, name: str, type_: ir.Type, column: str) -> str:
    """An output column as the output file holds it: a duration as its text (a limit's
    constant duration, such as `term <= 1 year`'s bound, written once rather than
    formatted row by row)."""
    if type_.kind is not ir.Kind.DURATION:
        return column
    constant = _constant_durations(policy).get(name)
    if constant is not None:
        return f"CASE WHEN {column} IS NOT NULL THEN {sql_string(constant)} END"
    return _duration_text(column)


def _constant_durations(policy: ir.Policy) -> dict[str, str]:
    found = {}
    for check in policy.checks:
        if isinstance(check, ir.Limit):
            for side, operand in (("value", check.subject), ("bound", check.bound)):
                if isinstance(operand, ir.Const) and isinstance(operand.value, ir.Duration):
                    found[f"rule__{check.name}__{side}"] = format_duration(operand.value)
    return found


def _duration_text(column: str) -> str:
    """A duration as the decision JSON writes it (`2 years`, `18 months`, `0 days`)."""
    months = f"(datepart('year', {column}) * 12 + datepart('month', {column}))"
    days = f"datepart('day', {column})"

    def counted(amount: str, unit: str) -> str:
        return (f"CAST({amount} AS VARCHAR) || CASE WHEN abs({amount}) = 1 THEN ' {unit}' "
                f"ELSE ' {unit}s' END")

    return (f"CASE WHEN {column} IS NULL THEN NULL "
            f"WHEN {days} <> 0 OR {months} = 0 THEN {counted(days, 'day')} "
            f"WHEN {months} % 12 = 0 THEN {counted(f'({months} // 12)', 'year')} "
            f"ELSE {counted(months, 'month')} END")


def score_cases(policy: ir.Policy, cases: list[dict[str, ir.Value]],
                params: dict[str, ir.Value], where: str = "test book"
                ) -> tuple[list[dict], list[dict], dict]:
    """A small book of checked values through the DuckDB path (for book tests): each
    case's decision JSON, its portfolio columns (reported) and the portfolio report. A
    mistake is named by `where`, as the other book-test backends name it, not by the
    temporary file the cases are written to."""
    import csv
    import tempfile

    import duckdb

    with tempfile.TemporaryDirectory(prefix="policylang-book-") as folder:
        book, out = Path(folder) / "book.csv", Path(folder) / "out.parquet"
        with book.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow([f.name for f in policy.inputs] or ["__pl_empty"])
            for case in cases:
                writer.writerow([_cell(case[f.name], f.type) for f in policy.inputs] or [0])
        summary = score_book(policy, book, params, out, where=where)
        cursor = duckdb.connect().execute(f"SELECT * FROM read_parquet({sql_string(str(out))})")
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    extra = portfolio_columns(policy)
    return ([_decision(policy, row) for row in rows],
            [{name: _shown(row[name], type_) for name, type_ in extra} for row in rows],
            summary.report)


def _cell(value: ir.Value, type_: ir.Type) -> str:
    from policylang.values import literal

    if type_.kind is ir.Kind.BOOL:
        return "true" if value else "false"
    return value if type_.kind is ir.Kind.ENUM else literal(value, type_)


def _shown(value: object, type_: ir.Type) -> object:
    """A typed output cell in the decision JSON's form (durations are already text)."""
    from policylang.values import report

    if type_.kind is ir.Kind.DURATION or value is None:
        return value
    return report(Decimal(value) if type_.numeric else value, type_)


def _decision(policy: ir.Policy, row: dict) -> dict:
    return decision_from_row(policy, row, lambda row, name, type_: _shown(row[name], type_))
