"""Spark local mode next to DuckDB on this machine: `run --book` end to end for a seeded
synthetic Parquet book of each size, with eligible counts and allocation totals compared.

    pip install -e ".[spark]" && python benchmarks/spark_scaling.py            # 1M and 10M
    python benchmarks/spark_scaling.py --rows 100000 --master "local[2]"

Both engines read the same Parquet book and write Parquet decisions (DuckDB one file,
Spark a directory of part files); the times include reading, converting cells, scoring
and writing, and Spark's time includes planning its query but not starting its JVM (the
session is started once, before the first run, and reported apart). Prints one JSON line
per size; asserts nothing about time, and fails if the engines' summaries differ.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from policylang import api  # noqa: E402
from policylang.book import score_book  # noqa: E402
from policylang.synthetic import write_book  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", help="a .pol file without portfolio rules (default: the "
                        "DESIGN.md example, 重庆 助保贷 with its waterfall)")
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--master", default="local[*]")
    parser.add_argument("--skip-duckdb", action="store_true")
    args = parser.parse_args()
    from policylang import spark_engine

    if args.policy:
        policy = api.load(Path(args.policy))
    else:
        from tests.policies import design_example

        policy = api.load_source(design_example(), "DESIGN.md")
    params = {p.name: p.default for p in policy.params}
    started = time.perf_counter()
    spark_engine.session(args.master)
    print(json.dumps({"spark_session_seconds": round(time.perf_counter() - started, 1)}))
    with tempfile.TemporaryDirectory(prefix="policylang-spark-bench-") as folder:
        for rows in args.rows:
            book = Path(folder) / f"book_{rows}.parquet"
            write_book(policy, rows, book, 1)
            record: dict = {"policy": policy.name, "rows": rows}
            duck = None
            if not args.skip_duckdb:
                duck = score_book(policy, book, params, Path(folder) / "duck.parquet")
                record["duckdb_seconds"] = round(duck.seconds, 1)
                record["duckdb_cases_per_second"] = round(rows / duck.seconds)
            spark = spark_engine.score_book(policy, book, params, Path(folder) / "spark_out",
                                            args.master)
            record["spark_seconds"] = round(spark.seconds, 1)
            record["spark_cases_per_second"] = round(rows / spark.seconds)
            record["eligible"] = spark.eligible
            record["totals"] = {a: {p: str(v) for p, v in parts.items()}
                                for a, parts in spark.totals.items()}
            if duck is not None:
                record["same_as_duckdb"] = (duck.eligible, duck.failures, duck.totals) == \
                    (spark.eligible, spark.failures, spark.totals)
            print(json.dumps(record, ensure_ascii=False), flush=True)
            if duck is not None and not record["same_as_duckdb"]:
                return 1
            book.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
