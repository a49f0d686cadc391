"""Cases per second of the generated Python module against the interpreter, on one policy.

    python benchmarks/python_backend.py                        # 重庆 助保贷, 20,000 cases
    python benchmarks/python_backend.py --policy policies/foshan/microloan_2022.pol --cases 5000

The cases are a seeded synthetic book (`policylang.synthetic`, values clustered at every
limit's bound), read as case JSON (strings, as a service would receive them). Two paths
each, best of three runs, timed in the process's CPU time (the machine is shared: wall
clock would measure the other jobs too):
- from case JSON: the interpreter with `parse_case` + `evaluate`; the module's
  `evaluate(case)` (pydantic validation included);
- evaluation only: both on cases already read (the interpreter's checked values; the
  module's validated `Case` objects).
For 佛山 2022, the hand-written `Decimal` function of benchmarks/handwritten.py (the
practical limit for per-case Python, issue 8) runs on the same book in the same process, so
the module's ratio to it is measured beside its ratio to the interpreter.
Every decision of the module is compared with the interpreter's (errors by code) and the
count of disagreements is printed; it must be 0. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from benchmarks import handwritten as hand  # noqa: E402
from policylang import api, backends  # noqa: E402
from policylang.cases import parse_case, parse_params  # noqa: E402
from policylang.diagnostics import PolicyError  # noqa: E402
from policylang.interpret import evaluate  # noqa: E402
from policylang.synthetic import write_book  # noqa: E402


def read_cases(policy, count: int, seed: int) -> list[dict]:
    """`count` synthetic cases as case JSON (the input columns of the book, as text)."""
    names = {f.name for f in policy.inputs}
    with tempfile.TemporaryDirectory() as folder:
        book = write_book(policy, count, Path(folder) / "book.csv", seed=seed)
        with book.open(encoding="utf-8", newline="") as handle:
            return [{k: v for k, v in row.items() if k in names and v != ""}
                    for row in csv.DictReader(handle)]


def best_rate(action, cases: list, repeat: int = 3) -> float:
    """Cases per second of the fastest of `repeat` runs of `action` over every case."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for case in cases:
            action(case)
        best = min(best, time.process_time() - start)
    return len(cases) / best


def outcome(action, case) -> dict | str:
    try:
        return action(case)
    except PolicyError as error:
        return error.code
    except Exception as error:  # the module's EvaluationError carries the same codes
        code = getattr(error, "code", None)
        if code is None:
            raise
        return code


def measure(policy_file: Path, count: int, seed: int = 1) -> dict:
    policy = api.load(policy_file)
    module = backends.load_python_module(policy)
    params = parse_params(policy, {})
    cases = read_cases(policy, count, seed)

    def interpreted(case):
        return evaluate(policy, parse_case(policy, case), params)

    values = [parse_case(policy, case) for case in cases]
    validated = [module.Case.model_validate(case) for case in cases]
    module_params = module.Params()
    disagreements = sum(outcome(interpreted, case) != outcome(module.evaluate, case)
                        for case in cases)
    rates = {
        "interpreter_json": best_rate(interpreted, cases),
        "module_json": best_rate(module.evaluate, cases),
        "interpreter_eval": best_rate(lambda v: evaluate(policy, v, params), values),
        "module_eval": best_rate(
            lambda case: module.Evaluation(case, module_params).decision(), validated),
    }
    result = {"policy": policy.name, "cases": len(cases), "disagreements": disagreements,
              "cases_per_s": {k: round(v) for k, v in rates.items()},
              "speedup_json": round(rates["module_json"] / rates["interpreter_json"], 1),
              "speedup_eval": round(rates["module_eval"] / rates["interpreter_eval"], 1)}
    if policy.name == hand.POLICY:
        rows = hand_rows(policy, count, seed)
        rate = best_rate(lambda row: hand.decide(*row), rows)
        result["cases_per_s"]["hand_decimal"] = round(rate)
        result["of_hand"] = {path: round(rates[path] / rate, 2)
                             for path in ("interpreter_eval", "module_eval", "module_json")}
    return result


def hand_rows(policy, count: int, seed: int) -> list[tuple]:
    """The same synthetic book as the hand-written function takes it (typed columns)."""
    with tempfile.TemporaryDirectory() as folder:
        return hand.decimal_inputs(write_book(policy, count, Path(folder) / "book.parquet",
                                              seed=seed))


def table(result: dict) -> str:
    rate = result["cases_per_s"]
    lines = [
        f"{result['policy']}, {result['cases']:,} synthetic cases, "
        f"{result['disagreements']} disagreements with the interpreter (CPU time)",
        "",
        "| path | interpreter (cases/s) | generated module (cases/s) | speed-up |",
        "|---|---:|---:|---:|",
        f"| from case JSON | {rate['interpreter_json']:,} | {rate['module_json']:,} | "
        f"{result['speedup_json']}× |",
        f"| evaluation only | {rate['interpreter_eval']:,} | {rate['module_eval']:,} | "
        f"{result['speedup_eval']}× |",
    ]
    if "of_hand" in result:
        share = result["of_hand"]
        lines += ["", f"hand-written Decimal function: {rate['hand_decimal']:,} cases/s; "
                  f"of its speed, the interpreter (evaluation only) "
                  f"{share['interpreter_eval']:.0%}, the module {share['module_eval']:.0%} "
                  f"(evaluation only) and {share['module_json']:.0%} (from case JSON)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", type=Path, default=ROOT / "policies/chongqing/zhubaodai.pol")
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = measure(args.policy, args.cases)
    print(json.dumps(result, indent=2) if args.json else table(result))
    return result


if __name__ == "__main__":
    main()
