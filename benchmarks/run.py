"""The benchmark: cases per second of every policylang path, in one run on one machine.

    python benchmarks/run.py [--sizes 10000,100000,1000000] [--policy FILE …] [--quick]

For each policy and book size (seeded synthetic books, `policylang.synthetic`):
- interpreter and generated Python module: evaluation only, on a sample of the book
  (values already parsed), extrapolated as cases per second;
- SQL on DuckDB, evaluation only: the book already loaded as a typed `cases` table, the
  policy's query materialised;
- `run --book` end to end, from CSV and from Parquet to a Parquet output;
- hand-written comparators where a policy has them (benchmarks/handwritten.py): an exact
  DuckDB query doing the same work (the practical limit of the SQL path) and a plain
  `Decimal` Python function (the practical limit per case), with how many of their
  outputs differ from policylang's, to the fen;
- the front end: parse + check of every policy in policies/.
Prints a table and writes benchmarks/results.json and benchmarks/throughput.png. Ratios
are measured within the run (this machine is shared and noisy); nothing here asserts a
time.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from policylang import api, backends  # noqa: E402
from policylang.book import score_book  # noqa: E402
from policylang.cases import parse_params  # noqa: E402
from policylang.engine import policy_query  # noqa: E402
from policylang.interpret import evaluate  # noqa: E402
from policylang.synthetic import write_book  # noqa: E402

DEFAULT_POLICIES = ["policies/foshan/microloan_2022.pol", "policies/chongqing/zhubaodai.pol"]
SAMPLE = 20_000  # per-case paths run this many cases and are reported per second


def timed(action, repeat: int = 3) -> float:
    """Median seconds of `repeat` runs."""
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def sample_cases(policy, book: Path, count: int) -> list[dict]:
    from policylang.cases import parse_case

    connection = duckdb.connect()
    cursor = connection.execute(f"SELECT * EXCLUDE (loan_id) FROM '{book}' LIMIT {count}")
    names = [d[0] for d in cursor.description]
    cases = []
    for row in cursor.fetchall():
        raw = {}
        for name, value in zip(names, row, strict=True):
            raw[name] = value if isinstance(value, bool | str) else str(value)
        cases.append(parse_case(policy, raw))
    return cases


def bench_policy(file: Path, sizes: list[int], folder: Path) -> list[dict]:
    policy = api.load(file)
    params = parse_params(policy, {})
    results = []
    for size in sizes:
        csv_book, parquet_book = folder / f"{policy.name}_{size}.csv", \
            folder / f"{policy.name}_{size}.parquet"
        write_book(policy, size, csv_book)
        write_book(policy, size, parquet_book)
        row: dict = {"policy": policy.name, "cases": size}
        cases = sample_cases(policy, parquet_book, min(size, SAMPLE))
        row["interpreter"] = len(cases) / timed(
            lambda: [evaluate(policy, c, params) for c in cases], repeat=1)
        available = backends.available()
        if "python" in available:
            module = backends.load_python_module(policy)
            raw = [{k: backends._as_input(v, t) for (k, v), t in zip(
                c.items(), [f.type for f in policy.inputs], strict=True)} for c in cases]
            raw_params = {p.name: backends._as_input(params[p.name], p.type)
                          for p in policy.params}
            row["python"] = len(raw) / timed(
                lambda: [module.evaluate(c, **raw_params) for c in raw], repeat=1)
        row["sql_eval"] = size / sql_evaluation(policy, params, parquet_book)
        for kind, book in (("csv", csv_book), ("parquet", parquet_book)):
            out = folder / f"out_{policy.name}_{size}.parquet"
            row[f"run_book_{kind}"] = size / timed(
                lambda b=book, o=out: score_book(policy, b, params, o), repeat=1 if size >
                100_000 else 3)
        handwritten(policy, params, parquet_book, folder, row)
        results.append(row)
        print(json.dumps(row), flush=True)
    return results


def sql_evaluation(policy, params, book: Path) -> float:
    """Seconds to materialise the policy's query over an already loaded typed table."""
    from policylang.book import score_book as _  # noqa: F401  (same conversion path)

    connection = duckdb.connect()
    query = policy_query(policy, params)
    # Load through the book reader so the table has exactly the typed columns it builds.
    from policylang import book as book_module

    book_module._read(connection, book)
    book_module._create_cases(connection, policy, book,
                              [r[0] for r in connection.execute("DESCRIBE __pl_book").fetchall()])
    connection.execute("CREATE TEMP TABLE cases_loaded AS SELECT * FROM cases")

    def run() -> None:
        connection.execute(f"CREATE OR REPLACE TEMP TABLE result AS {query}")

    return timed(run)


def handwritten(policy, params, book: Path, folder: Path, row: dict) -> None:
    try:
        from benchmarks import handwritten as hand
    except ImportError:
        return
    comparator = hand.COMPARATORS.get(policy.name)
    if comparator is not None:
        row.update(comparator(policy, params, book, folder))


def front_end() -> dict:
    files = sorted((ROOT / "policies").rglob("*.pol"))
    sources = [(f, f.read_text(encoding="utf-8")) for f in files]
    seconds = timed(lambda: [api.load_source(s, str(f)) for f, s in sources])
    lines = sum(s.count("\n") for _, s in sources)
    return {"policies": len(files), "lines": lines, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--policy", action="append")
    parser.add_argument("--quick", action="store_true", help="10k and 100k only")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.quick:
        sizes = [s for s in sizes if s <= 100_000]
    files = [Path(p) for p in (args.policy or DEFAULT_POLICIES) if (ROOT / p).exists()
             or Path(p).exists()]
    print(f"machine: {platform.machine()}, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}, DuckDB {duckdb.__version__}")
    results = []
    with tempfile.TemporaryDirectory(prefix="policylang-bench-") as folder:
        for file in files:
            results += bench_policy(ROOT / file if not file.is_absolute() else file, sizes,
                                    Path(folder))
    summary = {"machine": platform.platform(), "python": platform.python_version(),
               "duckdb": duckdb.__version__, "results": results, "front_end": front_end()}
    (ROOT / "benchmarks" / "results.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary["front_end"]))


if __name__ == "__main__":
    main()
