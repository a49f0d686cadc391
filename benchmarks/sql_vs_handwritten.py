"""`run --book` against a hand-written DuckDB query doing the same work, same machine, same
run: 佛山 2022 on a seeded synthetic book (default 1,000,000 cases), CSV and Parquet.

Both paths read the book file, compute every per-case output (rules, subsidies, the
allocation parts with largest-remainder rounding) exactly and write the output file; the
hand-written query (benchmarks/handwritten.py) may assume the synthetic book's shapes,
policylang may not. Two hand-written queries: one writes the very file `run --book`
writes (the book's columns as read, each limit's value and bound beside its verdict; the
two files are compared row by row), the other only the book's typed columns and the
outputs. The hand-written query has no portfolio rules, so the like-for-like
row is `run --book` of the policy without its portfolio block; the full `run --book`
(window functions for the monitor and the budget) is reported beside it.

    python benchmarks/sql_vs_handwritten.py [CASES] [--repeat N]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import handwritten as hand  # noqa: E402

from policylang import api  # noqa: E402
from policylang.book import score_book  # noqa: E402
from policylang.cases import parse_params  # noqa: E402
from policylang.synthetic import write_book  # noqa: E402

POLICY = Path(__file__).resolve().parent.parent / "policies/foshan/microloan_2022.pol"


def _median_seconds(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def compare(cases: int, repeat: int, folder: Path) -> dict:
    policy = api.load(POLICY)
    per_case = dataclasses.replace(policy, portfolio=None)
    params = parse_params(policy, {})
    out = folder / "out.parquet"
    theirs, ours = folder / "hand_same.parquet", folder / "policylang.parquet"
    result: dict = {"cases": cases, "repeat": repeat, "duckdb": duckdb.__version__}
    for kind in ("parquet", "csv"):
        book = write_book(policy, cases, folder / f"book.{kind}")
        hand_s = _median_seconds(lambda b=book: hand.duckdb_end_to_end(duckdb.connect(), b, out),
                                 repeat)
        hand_same_s = _median_seconds(lambda b=book: hand.duckdb_end_to_end_same_output(
            duckdb.connect(), b, theirs), repeat)
        same_s = _median_seconds(lambda b=book: score_book(per_case, b, params, ours), repeat)
        full_s = _median_seconds(lambda b=book: score_book(policy, b, params, out), repeat)
        result[kind] = {"hand_written_same_file_s": round(hand_same_s, 3),
                        "hand_written_outputs_only_s": round(hand_s, 3),
                        "run_book_per_case_s": round(same_s, 3),
                        "run_book_with_portfolio_s": round(full_s, 3),
                        "ratio_per_case_to_same_file": round(same_s / hand_same_s, 2),
                        "ratio_per_case_to_outputs_only": round(same_s / hand_s, 2),
                        "ratio_with_portfolio_to_same_file": round(full_s / hand_same_s, 2),
                        "rows_differing_from_the_hand_written_file": hand.differing_rows(
                            duckdb.connect(), ours, theirs)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="policylang-bench-") as folder:
        print(json.dumps(compare(arguments.cases, arguments.repeat, Path(folder)), indent=2))


if __name__ == "__main__":
    main()
