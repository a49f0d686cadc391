"""The command line (typer + rich); the only module that prints.

Exit codes: 0 ok; 1 the policy is wrong, a test failed, or a case could not be
evaluated; 2 bad usage or unreadable input (a bad case, book, param or flag).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from policylang import api, ir
from policylang import cli_views as views
from policylang.diagnostics import PolicyError, render
from policylang.formatter import format_source
from policylang.outputs import check_apart, check_writable, write_text

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="policylang: check, test, run, compile and diff financing-guarantee "
                       "policies.")
# Input-data errors (bad case, param, book or flag) exit 2; policy and test errors exit 1.
_USAGE_CODES = ("E6",)
_EVALUATION_CODES = ("E610", "E611")
# stdout closed by its reader (`| head`): 128 + SIGPIPE, the status a shell shows for any
# program the closed pipe stopped; never 1, which says the policy or a test is wrong.
CLOSED_PIPE = 141


class ClosedPipe(Exception):
    """stdout's reader has gone: raised only for stdout, so a broken connection to a
    database or a Spark worker is never taken for a reader that left."""


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # rich exits 1 here; `_run` gives a closed pipe its own status once the command
        # has written its files.
        self.quiet = True
        raise ClosedPipe


def _stdout(text: str) -> None:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise ClosedPipe from None


# Piped output (CI logs, files) gets a wide table rather than rich's 80-column default.
# No markup unless a call asks for it: what is printed holds paths, flags and policy texts,
# and `[bold]` in any of them is shown as written.
out = _Console(highlight=False, soft_wrap=True, markup=False,
               width=None if sys.stdout.isatty() else 160)
err = _Console(stderr=True, highlight=False, soft_wrap=True, markup=False)

# Usage lines name arguments as README's command table does (typer's default is `{file}`).
PolicyFile = Annotated[Path, typer.Argument(metavar="FILE", help="a policy (.pol)")]
Paths = Annotated[list[Path], typer.Argument(metavar="PATHS", help="files or directories")]


class Exit(Exception):
    def __init__(self, code: int):
        self.code = code


def _report(error: PolicyError, sources: dict[str, str] | None = None) -> int:
    """Print every diagnostic with its source line; return the exit code it calls for."""
    color = sys.stderr.isatty()
    for diagnostic in error.diagnostics:
        source = views.source_of(diagnostic, sources or {})
        sys.stderr.write(render(diagnostic, source, color) + "\n")
    code = error.code
    if code.startswith(_USAGE_CODES) and code not in _EVALUATION_CODES:
        return 2
    return 1


def _print_all(shown: list) -> None:
    """Print what `cli_views` built, in order, on stdout."""
    for item in shown:
        out.print(item)


def _emit(text: str, output: Path | None) -> int:
    """A command's product: on stdout, or written whole to `output` (said on stderr, as
    `doc` and `synth` say it)."""
    if output is None:
        _stdout(text)
    else:
        write_text(output, text)
        err.print(f"wrote {output}")
    return 0


def _usage(message: str) -> int:
    """A flag or argument that cannot be taken: one `error:` line, and exit code 2."""
    err.print(f"error: {message}")
    return 2


def _choose(format_: str, choices: tuple[str, ...]) -> None:
    if format_ not in choices:
        raise Exit(_usage(f"--format {format_}: unknown format; choose from "
                          f"{', '.join(choices)}"))


def _files(paths: list[Path]) -> list[Path]:
    files = api.policy_files(paths)
    if not files:
        raise PolicyError.single("E607", "no .pol files found in " + ", ".join(map(str, paths)))
    return files


def _run(action) -> None:
    """Run a command body, turning every user error into a message and an exit code."""
    try:
        code = action()
    except PolicyError as error:
        code = _report(error)
    except Exit as exit_:
        code = exit_.code
    except ClosedPipe:  # the reader left (`| head`): stop quietly, as `cat` would
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing to flush to
        code = CLOSED_PIPE
    raise typer.Exit(code or 0)


@app.callback(invoke_without_command=True)
def _options(context: typer.Context, version: Annotated[bool, typer.Option(
        "--version", help="print policylang's version and exit")] = False) -> None:
    if version:
        from importlib.metadata import version as installed

        out.print(f"policylang {installed('policylang')}")
        raise typer.Exit(0)
    if context.invoked_subcommand is None:
        out.print(context.get_help())
        raise typer.Exit(2)


# ── check, fmt ─────────────────────────────────────────────────────────────


@app.command()
def check(paths: Paths) -> None:
    """Parse and type-check policies; print every diagnostic."""

    def action() -> int:
        worst, failed = 0, 0
        files = _files(paths)
        for file in files:
            try:
                api.load(file)
            except PolicyError as error:
                worst, failed = max(worst, _report(error)), failed + 1
        plural = "s" if len(files) != 1 else ""
        if worst == 0:
            err.print(f"checked {len(files)} file{plural}: no errors")
        else:
            err.print(f"checked {len(files)} file{plural}: {failed} with errors")
        return worst

    _run(action)


@app.command()
def fmt(paths: Paths,
        check: Annotated[bool, typer.Option("--check", help="only report files that would "
                                            "change")] = False) -> None:
    """Format policies canonically (in place, or report with --check)."""

    def action() -> int:
        changed: list[tuple[Path, str]] = []
        worst, broken = 0, 0
        for file in _files(paths):
            try:
                source = api.read_source(file, keep_line_breaks=True)
                formatted = format_source(source, str(file))
            except PolicyError as error:
                worst, broken = max(worst, _report(error)), broken + 1
                continue
            if formatted != source:
                changed.append((file, formatted))
        if broken and not check:  # all or nothing: a half-formatted folder is no state
            err.print(f"no file reformatted: {broken} file{'s' if broken != 1 else ''} "
                      f"{'do' if broken != 1 else 'does'} not parse")
            return worst
        verb = "would reformat" if check else "reformatted"
        for file, formatted in changed:
            if not check:
                write_text(file, formatted)
            err.print(f"{verb} {file}")
        if check and (changed or broken):
            return max(worst, 1)
        err.print(f"{len(changed)} file(s) {verb}" if changed else "all files formatted")
        return 0

    _run(action)


# ── run, test ──────────────────────────────────────────────────────────────


@app.command()
def run(file: PolicyFile,
        case: Annotated[Path | None, typer.Option("--case", help="a case JSON file")] = None,
        book: Annotated[Path | None, typer.Option(
            "--book", help="a book of cases: .csv or .parquet, one column per input")] = None,
        out: Annotated[Path | None, typer.Option(
            "-o", "--out", help="write every row's decision columns: .csv or .parquet")
        ] = None,
        report: Annotated[Path | None, typer.Option(
            "--report", help="write the portfolio rules' findings as JSON")] = None,
        charts: Annotated[Path | None, typer.Option(
            "--charts", help="draw a PNG per monitor and budget over time in this folder")
        ] = None,
        engine: Annotated[str, typer.Option(help="engine for --book: duckdb or spark")
                          ] = "duckdb",
        master: Annotated[str, typer.Option(
            help="Spark master for --engine spark: local[*], spark://HOST:PORT, …")
        ] = "local[*]",
        explain_: Annotated[bool, typer.Option(
            "--explain", help="add the decision's explanation tree to the JSON")] = False,
        limit_values: Annotated[bool, typer.Option(
            "--limit-values/--no-limit-values",
            help="with --book: write each limit's value and bound (rule__NAME__value, "
                 "rule__NAME__bound) beside its verdict; --no-limit-values leaves them out "
                 "(a smaller file, written faster)")] = True,
        param: Annotated[list[str] | None, typer.Option("--param", help="NAME=VALUE")] = None,
        ) -> None:
    """Evaluate one case (decision JSON) or a whole book (summary, --out for every row)."""
    from policylang.cases import parse_param_options, parse_params

    def action() -> int:
        if (case is None) == (book is None):
            return _usage("give exactly one of --case CASE.json or --book BOOK.csv")
        if (out is not None or report is not None or charts is not None
                or not limit_values) and book is None:
            return _usage("--out, --report, --charts and --no-limit-values go with --book")
        if explain_ and book is not None:
            return _usage("--explain goes with --case (for a row of a book, write that row "
                          "as a case and run `policylang explain`)")
        if engine not in ("duckdb", "spark"):
            return _usage(f"unknown engine {engine!r}; choose from duckdb, spark")
        check_apart({"the policy": file, "the case": case, "the book": book},
                    {"--out": out, "--report": report, "--charts": charts})
        if report is not None:  # found before the book is scored, not after
            check_writable(report)
        if engine == "spark":
            return _run_on_spark(file, case, book, out, master, param or [], report, charts,
                                 limit_values)
        policy = api.load(file)
        options = parse_param_options(param or [])
        if book is not None:
            from policylang.book import score_book

            with views.book_progress(err if sys.stderr.isatty() else None) as progress:
                summary = score_book(policy, book, parse_params(policy, options), out,
                                     progress=progress, charts=charts,
                                     limit_values=limit_values)
            return _finish_book(policy, book, summary, report)
        assert case is not None
        values = api.read_case(case)
        decision = api.decide(policy, values, options, case_name=str(case),
                              params_name="--param")
        if explain_:
            tree, _ = api.explain(policy, values, options, case_name=str(case),
                                  params_name="--param")
            decision["explain"] = tree.to_json()
        _stdout(json.dumps(decision, ensure_ascii=False, indent=2) + "\n")
        return 0

    _run(action)


def _finish_book(policy, book: Path, summary, report: Path | None) -> int:
    """Write the --report file, then print the summary: a reader that closes the pipe
    early (`| head`) must not cost the file."""
    if report is not None:
        write_text(report, json.dumps(summary.report, ensure_ascii=False, indent=2) + "\n")
    _print_all(views.book_summary(policy, book, summary))
    if report is not None:
        _stdout(f"wrote {report}\n")  # `out` is the --out path here
    return 0


def _run_on_spark(file: Path, case: Path | None, book: Path | None, out: Path | None,
                  master: str, param: list[str], report: Path | None,
                  charts: Path | None, limit_values: bool) -> int:
    from policylang.cases import parse_param_options, parse_params
    from policylang.spark_engine import EngineUnavailable, score_book

    if book is None:
        return _usage("--engine spark goes with --book")
    policy = api.load(file)
    try:
        summary = score_book(policy, book, parse_params(policy, parse_param_options(param)),
                             out, master, progress=_progress, charts=charts,
                             limit_values=limit_values)
    except EngineUnavailable as error:
        return _usage(f"--engine spark: {error}")
    return _finish_book(policy, book, summary, report)


@app.command()
def explain(file: PolicyFile,
            case: Annotated[Path, typer.Option("--case", help="a case JSON file")],
            param: Annotated[list[str] | None, typer.Option("--param", help="NAME=VALUE")]
            = None,
            format_: Annotated[str, typer.Option("--format", help="text, json or html")]
            = "text",
            output: Annotated[Path | None, typer.Option("-o", "--output")] = None) -> None:
    """Why one case's decision came out as it did: a tree with citations."""
    from policylang.cases import parse_param_options

    def action() -> int:
        _choose(format_, ("text", "json", "html"))
        check_apart({"the policy": file, "the case": case}, {"-o": output})
        policy = api.load(file)
        root, error = api.explain(policy, api.read_case(case), parse_param_options(
            param or []), case_name=str(case), params_name="--param")
        if format_ == "text":
            text = views.explanation_text(root, terminal=sys.stdout.isatty())
        elif format_ == "json":
            text = json.dumps(root.to_json(), ensure_ascii=False, indent=2) + "\n"
        else:
            from policylang.explain import render_html

            text = render_html(policy, root)
        _emit(text, output)
        if error is not None:
            raise error
        return 0

    _run(action)


@app.command()
def deps(file: PolicyFile,
         format_: Annotated[str, typer.Option("--format", help="text or json")] = "text") -> None:
    """Which inputs and params each rule, limit, let and allocation can depend on."""
    from policylang.deps import dependencies, unused_inputs, unused_params

    def action() -> int:
        _choose(format_, ("text", "json"))
        policy = api.load(file)
        found = dependencies(policy)
        unused = unused_inputs(policy)
        if format_ == "json":
            data = {"declarations": {item: {"inputs": list(d.inputs), "params": list(d.params)}
                                     for item, d in found.items()},
                    "unused_inputs": unused, "unused_params": unused_params(policy)}
            _stdout(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
            return 0
        _print_all(views.dependencies(policy, found, unused, unused_params(policy)))
        return 0

    _run(action)


@app.command()
def lint(paths: Paths,
         strict: Annotated[bool, typer.Option("--strict", help="exit 1 on any warning")]
         = False,
         format_: Annotated[str, typer.Option("--format", help="text or json")] = "text"
         ) -> None:
    """Warnings (W1xx) about what in a policy can never matter; exit 0 unless --strict."""
    from policylang.lint import lint_files, render_text, to_json, totals

    def action() -> int:
        _choose(format_, ("text", "json"))
        linted = lint_files(_files(paths))
        codes = [_report(error) for error in linted.errors]
        if format_ == "json":
            _stdout(json.dumps(to_json(linted), ensure_ascii=False, indent=2) + "\n")
        else:
            _stdout(render_text(linted, sys.stdout.isatty()))
        if codes:
            return max(codes)
        return 1 if strict and totals(linted.results).warnings else 0

    _run(action)


@app.command()
def synth(file: PolicyFile,
          output: Annotated[Path, typer.Option("-o", "--output", help="BOOK.csv or .parquet")],
          rows: Annotated[int, typer.Option("--rows", "-n", min=0)] = 10_000,
          seed: Annotated[int, typer.Option(help="the same seed gives the same book")] = 1,
          ) -> None:
    """Write a seeded synthetic book for a policy (values cluster at its limits' bounds)."""
    from policylang.synthetic import write_book

    def action() -> int:
        check_apart({"the policy": file}, {"-o": output})
        policy = api.load(file)
        write_book(policy, rows, output, seed)
        out.print(f"wrote {rows:,} cases to {output}")
        return 0

    _run(action)


def _progress(message: str) -> None:
    """A stage of `run --book --engine spark`, on a terminal's stderr only."""
    if sys.stderr.isatty():
        err.print(f"[dim]… {escape(message)}[/]", markup=True)


@app.command()
def test(paths: Paths,
         backend: Annotated[str, typer.Option(
             help="comma-separated backends: interp, python, sql, sql-narrow, sqlite, "
                  "postgres (with POLICYLANG_POSTGRES), spark (pyspark and Java; slow)")
         ] = "interp",
         ) -> None:
    """Run the test blocks of policies on each backend."""

    def action() -> int:
        backends = _backend_names(backend)
        failed = total = worst = broken = 0
        for file in _files(paths):
            try:
                policy = api.load(file)
            except PolicyError as error:
                worst, broken = max(worst, _report(error)), broken + 1
                continue
            for result in api.run_tests(policy, _backends(policy, backends)):
                total += 1
                if not result.passed:
                    failed += 1
                    for line in views.test_failure(file, policy, result):
                        err.print(line)
        err.print(f"{total - failed} passed, {failed} failed" + (
            f"; {broken} file{'s' if broken != 1 else ''} did not check, so "
            f"{'their' if broken != 1 else 'its'} tests did not run" if broken else ""))
        return max(worst, 1 if failed else 0)  # an unreadable file: 2, as in `check`

    _run(action)


def _backend_names(text: str) -> list[str]:
    from policylang import backends

    try:
        return backends.requested(text)
    except backends.BackendUnavailable as error:
        raise Exit(_usage(str(error))) from None


def _backends(policy: ir.Policy, names: list[str]) -> dict:
    from policylang import backends

    try:
        return backends.made(policy, names)
    except backends.BackendUnavailable as error:
        raise Exit(_usage(str(error))) from None


# ── compile, build ─────────────────────────────────────────────────────────


@app.command(name="compile")
def compile_(file: PolicyFile,
             target: Annotated[str, typer.Option(help="python or sql")] = "python",
             dialect: Annotated[str | None, typer.Option(
                 help="with --target sql: duckdb (the default), postgres, sqlite or spark")
             ] = None,
             param: Annotated[list[str] | None, typer.Option("--param", help="NAME=VALUE")]
             = None,
             output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
             per_case: Annotated[bool, typer.Option(
                 "--per-case", help="SQL of a policy with portfolio rules: the per-case "
                 "columns only (the rules are named in its header; `run --book` "
                 "evaluates them)")] = False) -> None:
    """Emit a standalone Python module or a SQL query for one policy."""
    from policylang.cases import parse_param_options

    def action() -> int:
        from policylang import emit

        targets = emit.targets()  # a target whose emitter is absent is not offered
        if target not in targets:
            return _usage(f"unknown target {target!r}; choose from {', '.join(targets)}")
        if target != "sql" and (dialect is not None or param or per_case):
            return _usage("--dialect, --param and --per-case go with --target sql (a Python "
                          "module takes its params when called: evaluate(case, **params))")
        check_apart({"the policy": file}, {"-o": output})
        policy = api.load(file)
        code = targets[target](policy, dialect=dialect or "duckdb",
                               params=parse_param_options(param or []), per_case=per_case)
        return _emit(code, output)

    _run(action)


@app.command()
def build(directory: Annotated[Path, typer.Argument(metavar="DIRECTORY")] = Path("policies"),
          output: Annotated[Path, typer.Option("-o", "--output")] = Path("generated")) -> None:
    """Check, format-check, test and compile every policy: the project's main job."""
    from policylang.build import build_all

    def action() -> int:
        _files([directory])  # an empty or missing directory is a usage error, not "0 policies"
        report = build_all(directory, output)
        worst = max((_report(error) for error in report.errors), default=0)
        for file, result in report.test_failures:
            for line in views.test_failure(file, report.policies[file], result):
                err.print(line)
        for file in report.unformatted:
            err.print(f"not formatted: {file} (run `policylang fmt {file}`)")
        for warning in report.warnings:
            err.print(f"warning: {warning}")
        from policylang.lint import Linted, render_text

        sources = {result.file: api.read_source(result.file) for result in report.lint}
        sys.stderr.write("lint: " + render_text(Linted(report.lint, sources),
                                                sys.stderr.isatty()))
        _print_all([views.build_table(directory, report.rows), report.summary()])
        return max(worst, 0 if report.ok else 1)  # an unreadable file: 2, as in `check`

    _run(action)


@app.command()
def diff(old: Annotated[Path, typer.Argument(metavar="OLD")],
         new: Annotated[Path, typer.Argument(metavar="NEW")],
         format_: Annotated[str, typer.Option("--format", help="text, json or html")] = "text",
         witnesses: Annotated[int, typer.Option("--witnesses", min=0, help="up to N example "
                                                "cases whose decision changes")] = 0,
         output: Annotated[Path | None, typer.Option("-o", "--output")] = None) -> None:
    """Compare two versions of a policy: what changed, and cases whose decision changes."""
    from policylang import diff_render
    from policylang.diff import diff as compare

    def action() -> int:
        renderers = {"text": diff_render.render_text, "json": diff_render.render_json,
                     "html": diff_render.render_html}
        _choose(format_, tuple(renderers))
        check_apart({"the old policy": old, "the new policy": new}, {"-o": output})
        policies, worst = [], 0
        for file in (old, new):
            try:
                policies.append(api.load(file))
            except PolicyError as error:
                worst = max(worst, _report(error))
        if worst:
            return worst
        result = compare(*policies, witnesses=witnesses)
        if format_ == "text":
            text = diff_render.render_text(result, color=output is None and sys.stdout.isatty())
        else:
            text = renderers[format_](result)
        return _emit(text, output)

    _run(action)


@app.command()
def lsp() -> None:
    """Run the language server (LSP over stdin/stdout) for editors."""
    from policylang.lsp import serve

    serve()


@app.command()
def doc(file: PolicyFile,
        output: Annotated[Path | None, typer.Option("-o", "--output", help="OUT.html "
                                                    "(default: stdout)")] = None,
        source: Annotated[Path | None, typer.Option("--source", help="the seed text the "
                                                    "policy cites (shown beside each rule)")]
        = None) -> None:
    """Write a self-contained HTML page of a policy: rules beside their citations, tests."""
    from policylang.doc import render_doc

    def action() -> int:
        check_apart({"the policy": file, "the seed text": source}, {"-o": output})
        if output is not None:
            check_writable(output)  # E613 first: where it cannot write outranks its name
        if output is not None and output.suffix.lower() not in (".html", ".htm"):
            return _usage(f"-o {output}: doc writes an HTML page; name it OUT.html")
        policy = api.load(file)
        seed = api.read_source(source) if source is not None else None
        html = render_doc(policy, api.read_source(file), seed)
        if output is None:  # UTF-8 whatever the locale: the page declares it
            _stdout("")
            try:
                sys.stdout.buffer.write(html.encode("utf-8"))
                sys.stdout.buffer.flush()
            except BrokenPipeError:
                raise ClosedPipe from None
        else:
            write_text(output, html)
            err.print(f"wrote {output}")
        return 0

    _run(action)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
