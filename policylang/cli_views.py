"""What the command line shows, built but not printed: rich tables and texts for a book's
summary, its portfolio rules and a decision's explanation tree (cli.py prints them); and
`run --book`'s live progress display, drawn on the console cli.py hands it.

Every text that comes from a policy, a book or a path is a `rich.text.Text`, never markup:
a cite, a group key or a file name holding `[bank]` is shown as written.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from policylang import ir


def source_of(diagnostic, sources: dict[str, str]) -> str | None:
    """The text of the file a diagnostic points into (for its source line): from `sources`,
    else read from disk; None when it has no span or the file cannot be read."""
    if diagnostic.span is None:
        return None
    file = diagnostic.span.file
    if file in sources:
        return sources[file]
    try:
        return Path(file).read_text(encoding="utf-8") if Path(file).is_file() else None
    except (OSError, UnicodeDecodeError):
        return None


def book_summary(policy: ir.Policy, book: Path, summary) -> list[Text | Table]:
    """`run --book`'s summary: the counts, failures by rule, allocation totals, the
    portfolio rules' groups, and the files drawn and written."""
    from policylang.values import format_money

    rate = summary.cases / summary.seconds if summary.seconds else 0
    shown: list[Text | Table] = [Text(
        f"{book}: {summary.cases:,} cases, {summary.eligible:,} eligible, "
        f"{summary.cases - summary.eligible:,} not eligible "
        f"({summary.seconds:.2f} s, {rate:,.0f} cases/s)")]
    if summary.failures:
        table = _table("failures by rule", ["rule", "kind", "cite", "cases failing"],
                       right={"cases failing"})
        for check in policy.checks:
            _row(table, check.name, "limit" if isinstance(check, ir.Limit) else "rule",
                 check.cite or "", f"{summary.failures[check.name]:,}")
        shown.append(table)
    if summary.totals:
        table = _table("allocation totals (yuan)", ["allocation", "party", "total"],
                       right={"total"})
        for allocation, parts in summary.totals.items():
            for party, total in parts.items():
                _row(table, allocation, party, format_money(total))
        shown.append(table)
    shown += portfolio_tables(summary.report)
    shown += [Text(f"drew {chart}") for chart in summary.charts]
    if summary.output is not None:
        shown.append(Text(f"wrote {summary.output}"))
    return shown


def portfolio_tables(report: dict) -> list[Table]:
    """Each book rule's groups: monitors with their triggers, budgets, book limits."""
    titles = {"monitors": "monitors", "budgets": "budgets (yuan)", "limits": "book limits"}
    tables = []
    for section, rules in report.items():
        for name, rule in rules.items():
            groups = rule["groups"]
            extra = [k for k in (groups[0] if groups else {}) if k not in ("key", "cases")]
            columns = [*(rule["per"] or ["book"]), "cases", *extra]
            table = _table(f"{titles[section]}: {name}"
                           + (f" ({rule['cite']})" if rule["cite"] else ""),
                           [column.replace("_", " ") for column in columns])
            for group in groups:
                key = [str(k) for k in group["key"]] or ["all"]
                _row(table, *key, f"{group['cases']:,}",
                     *["—" if group[k] is None else str(group[k]) for k in extra])
            tables.append(table)
    return tables


def test_failure(file: Path, policy: ir.Policy, result) -> list[Text]:
    """`test`'s lines for one failed test: where it is and on which backend, the case (or a
    book test's cases) and params it gives, then the error, or each output that differed
    at the line of its expectation."""
    from policylang.values import readable_literal

    shown = [Text.assemble(("FAIL", "bold red"),
                           f" {file}:{result.test.span.line}: test {result.test.name!r} "
                           f"[{result.backend}]")]
    types = {f.name: f.type for f in (*policy.inputs, *policy.params)}

    def written(pairs) -> str:
        return ", ".join(f"{name}: {readable_literal(value, types[name])}" for name, value in pairs)

    if result.test.book is not None:
        shown += [Text(f"     case {index}: {written(case)}")
                  for index, case in enumerate(result.test.book, start=1)]
    elif result.test.given:
        shown.append(Text(f"     case: {written(result.test.given)}"))
    if result.test.params:
        shown.append(Text(f"     params: {written(result.test.params)}"))
    if result.error is not None:
        shown.extend(Text(f"     error[{d.code}]: {d.message}") for d in result.error.diagnostics)
    lines = result.failure_lines or [result.test.span.line] * len(result.failures)
    shown.extend(Text(f"     {file}:{line}: error[E506]: {failure}")
                 for failure, line in zip(result.failures, lines, strict=True))
    return shown


def explanation_text(root, terminal: bool) -> str:
    """`explain`'s tree as text (with colours on a terminal)."""
    from rich.tree import Tree

    colours = {"holds": "green", "fails": "bold red", "not applicable": "dim",
               "error": "bold magenta"}

    def label(node) -> str:
        parts = [f"[dim]{node.kind}[/] [bold]{escape(node.name)}[/]"]
        if node.value is not None:
            shown = node.text if node.text is not None else node.value
            shown = str(shown).lower() if isinstance(shown, bool) else str(shown)
            parts.append(f"= {escape(shown)}")
        if node.status:
            parts.append(f"[{colours.get(node.status, 'dim')}]{node.status}[/]")
        if node.detail:
            parts.append(escape(node.detail))
        if node.cite:
            parts.append(f"[blue]{escape(node.cite)}[/]")
        if node.line:
            parts.append(f"[dim]line {node.line}[/]")
        return " ".join(parts)

    def add(tree, node) -> None:
        branch = tree.add(label(node))
        for child in node.children:
            add(branch, child)

    tree = Tree(label(root))
    for child in root.children:
        add(tree, child)
    console = Console(record=True, width=120, force_terminal=terminal, highlight=False)
    with console.capture() as captured:
        console.print(tree)
    return captured.get()


def dependencies(policy: ir.Policy, found: dict, unused_inputs: list[str],
                 unused_params: list[str]) -> list[Text | Table]:
    """`deps`: each declaration's inputs and params, then what nothing uses."""
    table = _table(f"dependencies of {policy.name}", ["declaration", "inputs", "params"])
    for item, d in found.items():
        _row(table, item, ", ".join(d.inputs) or "—", ", ".join(d.params) or "—")
    shown: list[Text | Table] = [table]
    if unused_inputs:
        shown.append(Text("inputs no rule, limit, let or allocation uses: "
                          + ", ".join(unused_inputs)))
    if unused_params:
        shown.append(Text("params no rule, limit, let or allocation uses: "
                          + ", ".join(unused_params)))
    return shown


def build_table(directory: Path, rows: list[tuple]) -> Table:
    """`build`: a row per policy."""
    table = _table(f"policylang build {directory}",
                   ["policy", "file", "rules", "limits", "lets", "allocations", "tests",
                    "passed", "backends"],
                   {"rules", "limits", "lets", "allocations", "tests", "passed"})
    for row in rows:
        _row(table, *map(str, row))
    return table


def _table(title: str, columns: list[str], right: frozenset[str] | set[str] = frozenset()
           ) -> Table:
    table = Table(title=Text(title))
    for column in columns:
        table.add_column(Text(column), justify="right" if column in right else "left")
    return table


def _row(table: Table, *cells: str) -> None:
    table.add_row(*(Text(cell) for cell in cells))


# `run --book`'s progress display (rich, on stderr): only where stderr is a terminal, never
# in a pipe or a CI log, and only once a run has taken PROGRESS_DELAY seconds; redrawn every
# PROGRESS_REFRESH seconds, when DuckDB's query progress is also polled. Tests point
# PROGRESS_CONSOLE at a Console(force_terminal=True) writing to a buffer.
PROGRESS_DELAY = 1.0
PROGRESS_REFRESH = 0.2
PROGRESS_CONSOLE: Console | None = None


def book_progress(terminal: Console | None):
    """A context manager giving `score_book`'s progress: a rich display on `terminal` (the
    stderr console where stderr is a terminal), else one that shows nothing (stdout, which
    carries the summary, is never written)."""
    import contextlib

    from policylang.book import Progress

    console = PROGRESS_CONSOLE or terminal
    if console is None:
        return contextlib.nullcontext(Progress())
    return BookProgress(console, PROGRESS_DELAY, PROGRESS_REFRESH)


class BookProgress:
    """A `policylang.book.Progress` drawn with rich on the console cli.py gives it: each
    stage one line with its description, a bar (a percentage where DuckDB measures the
    stage's statement, a pulse where it cannot) and the time it took. Nothing is drawn
    until the run has taken `delay` seconds; then it is redrawn every `interval` seconds
    (when DuckDB's query progress is also polled)."""

    def __init__(self, console: Console, delay: float, interval: float):
        import threading
        import time

        from rich.progress import BarColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Display

        self.interval = interval
        self.delay = delay
        self.display = Display(TextColumn("{task.description}"), BarColumn(),
                               TaskProgressColumn(), TimeElapsedColumn(), console=console,
                               auto_refresh=False, redirect_stdout=False, redirect_stderr=False)
        self.task = None
        self.clock = time.monotonic
        self.begun = self.clock()
        self.shown = False
        self.lock = threading.Lock()  # stages come from the scorer, updates from a poller

    def __enter__(self) -> BookProgress:
        return self

    def __exit__(self, *_exc) -> None:
        with self.lock:
            if self.shown:
                self.display.refresh()
                self.display.stop()  # keeps the last frame; a failure's message follows it

    def stage(self, description: str, measured: bool = False) -> None:
        with self.lock:
            self._complete()
            self.task = self.display.add_task(escape(description),
                                              total=100 if measured else None)
            self._draw()

    def update(self, percent: float) -> None:
        with self.lock:
            if self.task is not None:
                self.display.update(self.task, completed=percent)

    def tick(self) -> None:
        with self.lock:
            self._draw()

    def finish(self) -> None:
        with self.lock:
            self._complete()
            self._draw()

    def _complete(self) -> None:
        if self.task is not None:
            self.display.update(self.task, total=100, completed=100)

    def _draw(self) -> None:
        if not self.shown and self.clock() - self.begun >= self.delay:
            self.display.start()
            self.shown = True
        if self.shown:
            self.display.refresh()
