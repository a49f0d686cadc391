"""The benchmark: how fast every policylang path is, against the practical limits and two
peers, in one run on one machine, with how many outputs each gets wrong.

    pip install -e ".[bench]" && python benchmarks/run.py          # 10k / 100k / 1M cases
    python benchmarks/run.py --quick                                 # smoke run: 10k only

For 佛山 2022 and 重庆 助保贷 and each size, a seeded synthetic book (`policylang.synthetic`,
CSV and Parquet) is scored by:
- SQL on DuckDB, evaluation only (the typed `cases` table already loaded; the per-case
  query materialised), and `run --book` end to end from CSV and from Parquet to Parquet;
  each once more with `--no-limit-values` (the decision columns alone); for a policy with
  a portfolio, `run --book` once more with it (the portfolio's cost);
- the hand-written exact DuckDB query (benchmarks/handwritten.py for 佛山,
  handwritten_chongqing.py for 重庆), evaluation only and end to end, in three forms:
  every column policylang gives (its very file), the decision columns alone (the very
  file of `--no-limit-values`), and the outputs only in integer fen;
- OpenFisca (the policy as OpenFisca variables, benchmarks/peers/), evaluation only and
  load + evaluation.
policylang's queries and the hand-written ones run on connections with the same settings
(`policylang.engine.connect`: DuckDB 2.0's projection_placement optimizer off, which
makes both 重庆 queries faster).
Per-case paths (interpreter, generated Python module, hand-written `Decimal` function,
cel-python: the policy as one CEL expression) do not depend on the book's size: they run
once per policy on a sample of the largest book (already parsed) and are reported per
second, timed in the thread's CPU time (best of 3; a neighbour on the shared machine
only adds to it). Every other time is the wall-clock median of 3 runs, and the paths
compared take turns run by run (a shared machine's
speed drifts; taking turns, the drift slows every path alike).

Wrong outputs: every path's outputs (佛山: eligible, 6 verdicts, 7 money values; 重庆:
eligible, 11 verdicts, 10 money values; money to the fen) on the sample rows against the
interpreter (the reference semantics), and, for the whole-book paths, on every row against
the hand-written exact query (itself checked against the interpreter on the sample).
Peak memory is the process's peak resident set above what it held before the path ran
(sampled every 2 ms); a per-case path keeps nothing between cases, and its "< 0.1" MB
says the resident set did not grow by the 0.1 MB it is rounded to.

Writes benchmarks/results.json, benchmarks/throughput.png and, unless --no-readme, the
table in README.md's "Benchmarks" section. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import gc
import importlib
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks import handwritten as hand  # noqa: E402
from benchmarks import handwritten_chongqing  # noqa: E402
from policylang import api, backends  # noqa: E402
from policylang import book as book_module  # noqa: E402
from policylang.book import score_book  # noqa: E402
from policylang.cases import parse_case, parse_params  # noqa: E402
from policylang.engine import (  # noqa: E402
    book_query,
    connect,
    measure_bounds,
    output_columns,
    quote_identifier,
)
from policylang.interpret import evaluate  # noqa: E402
from policylang.synthetic import write_book  # noqa: E402

POLICIES = ["policies/foshan/microloan_2022.pol", "policies/chongqing/zhubaodai.pol"]
SIZES = [10_000, 100_000, 1_000_000]
# The hand-written limits per policy (benchmarks/handwritten*.py).
COMPARATORS = {hand.POLICY: hand, handwritten_chongqing.POLICY: handwritten_chongqing}
README_START, README_END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"


@dataclasses.dataclass
class Settings:
    sizes: list[int]
    sample: int  # per-case paths: this many cases
    cel_sample: int  # cel-python is ~1,000× slower: fewer
    out: Path
    readme: bool


# --- measuring --------------------------------------------------------------------------

def _rss() -> int:
    with open("/proc/self/statm") as file:
        return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakMemory:
    """Peak resident set above the start, sampled in a thread while the block runs."""

    def __enter__(self) -> PeakMemory:
        self.start = self.peak = _rss()
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while self._running:
            self.peak = max(self.peak, _rss())
            time.sleep(0.002)

    def __exit__(self, *_: object) -> None:
        self._running = False
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def megabytes(self) -> float:
        return round((self.peak - self.start) / 2**20, 1)


# Every time is taken from 3 runs, at every size, as the reference figures (the
# median of the wall clock; per-case paths the least CPU time): on a shared machine one
# run of a 1M-case path can be a fifth slower than the next.
REPEAT = 3
# cel-python decides 100-500 cases a second: 500 of them give its rate and its wrong
# values without taking a minute of the run.
CEL_SAMPLE = 500


def measure(action, cases: int, repeat: int = REPEAT) -> dict:
    """Cases per second (median of `repeat` runs) and peak memory of one run."""
    seconds = []
    with PeakMemory() as memory:
        for _ in range(repeat):
            started = time.perf_counter()
            action()
            seconds.append(time.perf_counter() - started)
    median = statistics.median(seconds)
    return {"cases_per_s": round(cases / median), "seconds": round(median, 4),
            "peak_mb": memory.megabytes}


def measure_together(actions: dict, cases: int, repeat: int = REPEAT,
                     cpu: bool = False) -> dict[str, dict]:
    """`measure` of each action, the actions taking turns run by run (A B C A B C …): a
    shared machine's speed drifts over a minute, and a path timed while it was slow
    against one timed while it was fast would show a ratio that is only the drift. Taking
    turns, the drift slows every path alike and their ratios hold.

    `cpu`: for single-threaded paths, the calling thread's CPU time, best of `repeat` (a
    neighbour can only add to it, so the least is the truest), instead of the wall-clock
    median: on a busy day the wall clock moved the module-to-interpreter ratio from 8.0×
    to 4.5× between two runs, and CPU time held it at 6.3-7.5×."""
    clock = time.thread_time if cpu else time.perf_counter
    seconds: dict[str, list[float]] = {name: [] for name in actions}
    peaks = dict.fromkeys(actions, 0.0)
    for _ in range(repeat):
        for name, action in actions.items():
            with PeakMemory() as memory:
                started = clock()
                action()
                seconds[name].append(clock() - started)
            peaks[name] = max(peaks[name], memory.megabytes)
    result = {}
    for name, times in seconds.items():
        taken = min(times) if cpu else statistics.median(times)
        # Every run's time, round by round: two paths' i-th runs were taken in the same
        # round, so their ratio is free of the drift between rounds (report.py shows the
        # spread of those ratios beside each goal).
        result[name] = {"cases_per_s": round(cases / taken), "seconds": round(taken, 4),
                        "runs": [round(t, 4) for t in times],
                        "peak_mb": peaks[name], "clock": "cpu" if cpu else "wall"}
    return result


# --- per-case paths ---------------------------------------------------------------------

def sample_cases(policy, book: Path, count: int) -> list[dict]:
    cursor = duckdb.connect().execute(
        f"SELECT * EXCLUDE (loan_id) FROM read_parquet('{book}') LIMIT {count}")
    names = [d[0] for d in cursor.description]
    return [parse_case(policy, {n: x if isinstance(x, bool | str) else str(x)
                                for n, x in zip(names, row, strict=True)})
            for row in cursor.fetchall()]


def per_case(paths: dict[str, tuple], repeat: int = REPEAT
             ) -> tuple[dict[str, dict], dict[str, list]]:
    """Cases per second of each path's `decide` over its inputs (`paths`: name → (decide,
    inputs), the paths taking turns, best of `repeat`), and each path's results from a
    further, untimed pass: the timed passes keep nothing, so the garbage collector never
    rescans thousands of retained decisions (which cost the faster paths most: up to half
    their speed). With `repeat=1` the one timed pass keeps the results: only for a path
    slow enough that the collector's rescans are lost in its time (cel-python's)."""
    def action(decide, inputs: list):
        def run() -> None:
            for item in inputs:
                decide(item)
        return run

    counts = {len(inputs) for _, inputs in paths.values()}
    assert len(counts) == 1, "paths timed together take as many cases"
    gc.collect()
    if repeat == 1:
        found: dict[str, list] = {name: [] for name in paths}
        timed = measure_together(
            {name: functools.partial(_keeping, decide, inputs, found[name])
             for name, (decide, inputs) in paths.items()}, counts.pop(), 1, cpu=True)
        return timed, found
    timed = measure_together({name: action(*path) for name, path in paths.items()},
                             counts.pop(), repeat, cpu=True)
    return timed, {name: [decide(item) for item in inputs]
                   for name, (decide, inputs) in paths.items()}


def _keeping(decide, inputs: list, results: list) -> None:
    results.extend(decide(item) for item in inputs)


def per_case_paths(policy, params, book: Path, settings: Settings, spec
                   ) -> tuple[dict, dict | None]:
    """The per-case paths' figures, and (with a hand-written `spec`) the interpreter's
    outputs on the sample, which the whole-book paths' sampled wrong values are counted
    against."""
    cases = sample_cases(policy, book, settings.sample)
    out: dict = {"sample": len(cases)}
    # Like for like: each of the interpreter and the module from case JSON (the `.pol`
    # literal strings a service receives: read + evaluate) and on cases already read.
    types_ = {f.name: f.type for f in policy.inputs}
    raw = [{k: backends._as_input(x, types_[k]) for k, x in c.items()} for c in cases]
    raw_params = {p.name: backends._as_input(params[p.name], p.type) for p in policy.params}
    module = backends.load_python_module(policy)
    validated = [module.Case.model_validate(r) for r in raw]
    module_params = module.Params.model_validate(raw_params)
    paths = {
        "interpreter_eval": (lambda c: evaluate(policy, c, params), cases),
        "interpreter": (lambda r: evaluate(policy, parse_case(policy, r), params), raw),
        "python_module": (lambda r: module.evaluate(r, **raw_params), raw),
        "python_module_eval": (lambda c: module.Evaluation(c, module_params).decision(),
                               validated)}
    if spec is not None:
        rows = spec.decimal_inputs(book)[:len(cases)]
        paths["hand_decimal"] = (lambda r: spec.decide(*r), rows)
    timed, found = per_case(paths)
    out |= timed
    if spec is None:
        return out, None
    results = found.pop("hand_decimal")
    reference = spec.from_decisions(found["interpreter_eval"])
    for path, decisions in found.items():
        out[path]["wrong"] = spec.wrong_outputs(reference, spec.from_decisions(decisions))
    out["hand_decimal"]["wrong"] = spec.wrong_outputs(reference, spec.decimal_outputs(results))
    out |= cel_path(spec, rows[:settings.cel_sample], reference)
    return out, reference


def _peer(name: str):
    """A peer's module (benchmarks/peers/), or the reason it cannot run here."""
    try:
        return importlib.import_module(f"benchmarks.peers.{name}")
    except ImportError as error:
        return f"not installed ({error}); pip install -e '.[bench]'"


def cel_path(spec, rows: list[tuple], reference: dict) -> dict:
    """cel-python on the sample rows (the hand-written function's inputs): the policy as
    one CEL expression, `spec.CEL` in benchmarks/peers/."""
    peer = _peer(spec.CEL)
    if isinstance(peer, str):
        return {"cel": {"error": peer}}
    compiled = peer.program()
    activations = [peer.activation(*r) for r in rows]
    # Timed once, keeping its results: at 40-150 cases a second a pass takes 3-12 s, a
    # spread no neighbour's noise comes near, and every further pass adds that to the run.
    timed, results = per_case({"cel": (lambda a: peer.decide(compiled, a), activations)},
                              repeat=1)
    found = timed["cel"]
    found["wrong"] = spec.wrong_outputs(reference, spec.decimal_outputs(results["cel"]))
    found["sample"] = len(rows)
    return {"cel": found}


# --- whole-book paths -------------------------------------------------------------------

# The two forms of what `run --book` gives, each against a hand-written query giving the
# same (benchmarks/handwritten*.py): every column, and (`--no-limit-values`) the decision
# columns alone, without the limits' values and bounds. Form → limit_values.
FORMS = {"same_output": True, "decisions": False}


def _key(path: str, form: str) -> str:
    """A policylang path's key in results.json: the every-column form keeps the names
    earlier runs used (`sql_eval`, `run_book_csv_without_portfolio`)."""
    if form == "decisions":
        return f"{path}_decisions"
    return path if path == "sql_eval" else f"{path}_without_portfolio"


def sql_paths(policy, params, csv_book: Path, parquet_book: Path, size: int,
              folder: Path, spec, sample_reference: dict | None) -> dict:
    connection = connect()
    book_module.load_cases(connection, policy, parquet_book)
    connection.execute("CREATE TEMP TABLE __bench_loaded AS SELECT * FROM cases")
    # What `run --book` evaluates: the query narrowed to the bounds measured on the book,
    # keeping the row number and the outputs (no other input column, as the hand-written
    # query). Measuring the bounds (a scan) is timed with the query; building its text
    # is not.
    bounds = measure_bounds(connection, policy)
    queries = {form: book_query(policy, params, (book_module.ROW,), bounds, limit_values)
               for form, limit_values in FORMS.items()}

    def evaluate(form: str) -> None:
        measure_bounds(connection, policy)
        connection.execute(f"CREATE OR REPLACE TEMP TABLE __bench_{form} AS {queries[form]}")

    actions = {_key("sql_eval", form): lambda f=form: evaluate(f) for form in FORMS}
    out = folder / "out.parquet"
    # Per-case rules only is the hand-written query's work; with the portfolio rules too,
    # when the policy has them: shown beside it, held to no goal, and timed once (on 1M
    # cases those runs were a third of the whole benchmark's time).
    per_case_only = dataclasses.replace(policy, portfolio=None)
    with_portfolio = {}
    for kind, book in (("csv", csv_book), ("parquet", parquet_book)):
        for form, limit_values in FORMS.items():
            actions[_key(f"run_book_{kind}", form)] = (
                lambda b=book, k=kind, f=form, v=limit_values: score_book(
                    per_case_only, b, params, folder / f"policylang_{f}_{k}.parquet",
                    limit_values=v))
        if policy.portfolio is not None:
            with_portfolio[f"run_book_{kind}"] = (
                lambda b=book: score_book(policy, b, params, out))
    if spec is not None:
        exact_connection = connect()  # the same settings as policylang's
        spec.duckdb_load(exact_connection, parquet_book)
        actions["hand_sql_eval"] = lambda: spec.duckdb_evaluate(exact_connection)
        # The hand-written query doing policylang's work in each form (every column, or
        # the decision columns alone), compared with policylang's value by value below.
        for form, limit_values in FORMS.items():
            actions[f"hand_sql_{form}_eval"] = (
                lambda v=limit_values: spec.duckdb_evaluate_same_output(exact_connection, v))
        for kind, book in (("csv", csv_book), ("parquet", parquet_book)):
            actions[f"hand_sql_end_to_end_{kind}"] = (
                lambda b=book: spec.duckdb_end_to_end(connect(), b, out))
            # The hand-written query writing run --book's very file, compared with it.
            for form, limit_values in FORMS.items():
                actions[f"hand_sql_{form}_{kind}"] = (
                    lambda b=book, k=kind, f=form, v=limit_values:
                    spec.duckdb_end_to_end_same_output(
                        connect(), b, folder / f"hand_{f}_{k}.parquet", v))
    row: dict = measure_together(actions, size) | measure_together(with_portfolio, size, 1)
    if spec is None:
        return row
    exact = spec.duckdb_outputs(exact_connection)
    for form, limit_values in FORMS.items():
        ours, theirs = folder / f"policylang_{form}.parquet", folder / f"hand_{form}.parquet"
        outputs = ", ".join(quote_identifier(column)
                            for column, _ in output_columns(policy, limit_values))
        connection.execute(f"COPY (SELECT {outputs} FROM __bench_{form} ORDER BY "
                           f"{book_module.ROW}) TO '{ours}' (FORMAT parquet)")
        exact_connection.execute(f"COPY {spec.same_output_table(limit_values)} TO '{theirs}' "
                                 "(FORMAT parquet)")
        row[f"hand_sql_{form}_eval"]["wrong_full"] = hand.differing_rows(
            duckdb.connect(), ours, theirs)
        row[_key("sql_eval", form)]["wrong_full"] = spec.wrong_outputs(
            exact, spec.from_sql_result(connection, f"__bench_{form}"))
        for kind in ("csv", "parquet"):
            # The two files must be equal, row for row and column for column.
            row[_key(f"run_book_{kind}", form)]["wrong_full"] = hand.differing_rows(
                duckdb.connect(), folder / f"policylang_{form}_{kind}.parquet",
                folder / f"hand_{form}_{kind}.parquet")
            row[f"hand_sql_{form}_{kind}"]["wrong_full"] = 0
    row["hand_sql_eval"]["wrong_full"] = 0
    if sample_reference is not None:
        row["sql_eval"]["wrong"] = spec.wrong_outputs(
            sample_reference, spec.from_sql_result(connection, "__bench_same_output"))
        row["hand_sql_eval"]["wrong"] = spec.wrong_outputs(sample_reference, exact)
    row |= openfisca_paths(spec, parquet_book, size, exact, sample_reference)
    return row


def openfisca_paths(spec, book: Path, size: int, exact: dict,
                    sample_reference: dict | None) -> dict:
    """OpenFisca on the whole book: the policy as OpenFisca variables, `spec.OPENFISCA` in
    benchmarks/peers/; evaluation alone, and loading the book's columns too."""
    peer = _peer(spec.OPENFISCA)
    if isinstance(peer, str):
        return {"openfisca": {"error": peer}}
    system = peer.system()
    query = peer.book_query(book)
    state: dict = {}

    def load() -> None:
        columns = duckdb.connect().execute(query).fetchnumpy()
        state["simulation"] = peer.load(system, {k: np.asarray(x) for k, x in columns.items()})

    def run() -> None:
        # A fresh simulation each time: OpenFisca caches what it has calculated.
        state["results"] = peer.evaluate(state["simulation"], spec.OUTPUTS)

    def load_and_run() -> None:
        load()
        run()

    with_load = measure(load_and_run, size, REPEAT)
    evaluations = []
    for _ in range(REPEAT):
        load()
        evaluations.append(measure(run, size, repeat=1))
    only = min(evaluations, key=lambda e: e["seconds"])
    found = peer.as_common(state["results"], spec.MONEY)
    with_load["wrong_full"] = only["wrong_full"] = spec.wrong_outputs(exact, found)
    if sample_reference is not None:
        with_load["wrong"] = only["wrong"] = spec.wrong_outputs(sample_reference, found)
    return {"openfisca_eval": only, "openfisca_load_eval": with_load}


# --- front end --------------------------------------------------------------------------

def rules_policy(count: int = 2000) -> str:
    """A valid policy with `count` rules and limits (half each)."""
    lines = ['policy rules_2000 "基准（2000条规则）" {',
             '  enum kind { enterprise "企业"  individual "个体工商户" }',
             "  input {", "    borrower: kind", "    amount:   money",
             "    rate:     percent", "    term:     duration = 1 year", "  }",
             '  param lpr: percent = 3.45% "LPR"']
    for i in range(count // 2):
        lines.append(f"  limit cap_{i}: amount <= {i + 1}万 when borrower == enterprise "
                     f'cite "第{i}条"')
        lines.append(f"  rule spread_{i}: rate <= lpr + {i % 300}bp or term > {i % 60 + 1} "
                     f'months cite "第{i}条"')
    lines.append("}")
    return "\n".join(lines) + "\n"


def front_end(repeat: int = 3) -> dict:
    files = sorted((ROOT / "policies").rglob("*.pol"))
    sources = [(str(f), f.read_text(encoding="utf-8")) for f in files]
    api.load_source(*reversed(sources[0]))  # grammar loading is not counted
    every = statistics.median(_seconds(lambda: [api.load_source(s, f) for f, s in sources])
                              for _ in range(repeat))
    generated = rules_policy()
    rules = statistics.median(_seconds(lambda: api.load_source(generated, "rules_2000.pol"))
                              for _ in range(repeat))
    return {"policies": len(files), "lines": sum(s.count("\n") for _, s in sources),
            "every_policy_s": round(every, 4), "rules_2000_s": round(rules, 4),
            "rules_2000_lines": generated.count("\n")}


def _seconds(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


# --- running ----------------------------------------------------------------------------

def versions() -> dict:
    found = {"python": platform.python_version(), "machine": platform.platform(),
             "cpus": os.cpu_count(), "cpu": _cpu_model()}
    for package in ("policylang", "duckdb", "numpy", "openfisca-core", "cel-python"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def bench_policy(file: Path, settings: Settings, folder: Path) -> dict:
    policy = api.load(file)
    params = parse_params(policy, {})
    spec = COMPARATORS.get(policy.name)
    books = {}
    for size in settings.sizes:
        csv_book = write_book(policy, size, folder / f"{policy.name}_{size}.csv")
        parquet_book = write_book(policy, size, folder / f"{policy.name}_{size}.parquet")
        books[size] = (csv_book, parquet_book)
    largest = books[max(settings.sizes)][1]
    per_case, reference = per_case_paths(policy, params, largest, settings, spec)
    print(json.dumps({"policy": policy.name, "per_case": per_case}), flush=True)
    sizes = {}
    for size, (csv_book, parquet_book) in books.items():
        # The sample reference is the largest book's first rows; smaller books are seeded
        # alike, so their first rows are the same cases.
        sizes[str(size)] = sql_paths(policy, params, csv_book, parquet_book, size, folder,
                                     spec, reference)
        print(json.dumps({"policy": policy.name, "cases": size, **sizes[str(size)]}),
              flush=True)
    return {"policy": policy.name, "file": str(file.relative_to(ROOT)), "per_case": per_case,
            "sizes": sizes}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", help="comma-separated book sizes (default 10k,100k,1M)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10k cases only")
    parser.add_argument("--sample", type=int, default=10_000, help="per-case sample size")
    parser.add_argument("--policy", action="append", help="policy file(s) to benchmark")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks",
                        help="where results.json and throughput.png go")
    parser.add_argument("--no-readme", action="store_true", help="leave README.md alone")
    parser.add_argument("--report-only", action="store_true",
                        help="redraw the table, chart and README from results.json")
    args = parser.parse_args(argv)
    if args.report_only:
        results = json.loads((args.out / "results.json").read_text(encoding="utf-8"))
        publish(results, args.out, readme=not args.no_readme)
        return results
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else SIZES
    if args.quick:
        sizes = [min(sizes)]
    sample = min(args.sample, max(sizes))
    settings = Settings(sizes, sample, min(CEL_SAMPLE, sample), args.out,
                        readme=not args.no_readme and not args.quick and sizes == SIZES)
    machine = versions()
    print("machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()), flush=True)
    started = time.perf_counter()
    results = {"versions": machine, "settings": {"sizes": sizes, "sample": sample,
                                                 "cel_sample": settings.cel_sample},
               "policies": [],
               "front_end": front_end(repeat=3 if max(sizes) >= 10_000 else 1)}
    with tempfile.TemporaryDirectory(prefix="policylang-bench-") as folder:
        for file in args.policy or POLICIES:
            path = Path(file) if Path(file).is_absolute() else ROOT / file
            results["policies"].append(bench_policy(path, settings, Path(folder)))
    results["total_s"] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False)
                                           + "\n", encoding="utf-8")
    publish(results, args.out, settings.readme)
    return results


def publish(results: dict, out: Path, readme: bool) -> None:
    """The table (printed, and into README.md's Benchmarks section) and the chart."""
    from benchmarks import report

    table = report.table(results)
    report.chart(results, out / "throughput.png")
    print(table)
    print(f"front end: {json.dumps(results['front_end'])}; total {results['total_s']} s")
    if readme:
        report.update_readme(ROOT / "README.md", table, README_START, README_END)


if __name__ == "__main__":
    main()
