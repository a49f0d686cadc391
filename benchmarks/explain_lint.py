"""Explain and lint times over the seed policies in policies/.

Targets (issue 12): `explain` of any seed policy case under 50 ms; `lint` of every policy
in policies/ under 5 s. The cases are the seed policies' own test cases (every `given`,
defaults filled in, and every case of a book test). Each explain is timed as the median
of 5 runs (the policy is checked once beforehand: explain starts from a checked policy,
as `policylang explain` does after loading it); lint is timed cold from source (parse,
check, z3) as `policylang lint policies/` does, median of 3 runs; and, for scale, lint of the
2,000-line generated policy of check_2000_lines.py (one run).

    python benchmarks/explain_lint.py [--json]
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from policylang import api  # noqa: E402
from policylang.explain import explain  # noqa: E402
from policylang.lint import lint_files  # noqa: E402
from policylang.testing import test_case  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXPLAIN_TARGET_MS = 50.0
LINT_TARGET_S = 5.0


def _cases(policy):
    for test in policy.tests:
        if test.book is None:
            yield test.name, *test_case(policy, test)
            continue
        _, params = test_case(policy, test)
        for number, given in enumerate(test.book, start=1):
            case = {f.name: dict(given).get(f.name, f.default) for f in policy.inputs}
            yield f"{test.name} #{number}", case, params


def _median_ms(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure() -> dict:
    files = api.policy_files([ROOT / "policies"])
    explain_times: list[tuple[float, str]] = []
    for file in files:
        policy = api.load(file)
        for name, case, params in _cases(policy):
            ms = _median_ms(lambda p=policy, c=case, q=params: explain(p, c, q), 5)
            explain_times.append((ms, f"{file.relative_to(ROOT)}: {name}"))
    lint_files(files[:1])  # load z3 and the grammar once, as any process does
    lint_ms = _median_ms(lambda: lint_files(files), 3)
    # Scale: the 2,000-line policy of check_2000_lines.py (240 rules and limits).
    from check_2000_lines import generate

    from policylang.lint import lint

    big_source = generate()
    big = api.load_source(big_source, "benchmark_2000_lines.pol")
    big_ms = _median_ms(lambda: lint(big, big_source), 1)
    worst = max(explain_times)
    return {
        "policies": len(files),
        "explain_cases": len(explain_times),
        "explain_median_ms": round(statistics.median(t for t, _ in explain_times), 3),
        "explain_max_ms": round(worst[0], 3),
        "explain_slowest_case": worst[1],
        "explain_target_ms": EXPLAIN_TARGET_MS,
        "lint_all_s": round(lint_ms / 1000, 3),
        "lint_target_s": LINT_TARGET_S,
        "lint_2000_line_policy_s": round(big_ms / 1000, 3),
        "lint_2000_line_policy_checks": len(big.checks),
    }


def main() -> None:
    result = measure()
    if "--json" in sys.argv:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    ok = "ok" if result["explain_max_ms"] < EXPLAIN_TARGET_MS else "OVER TARGET"
    print(f"explain: {result['explain_cases']} cases of {result['policies']} policies, "
          f"median {result['explain_median_ms']} ms, slowest {result['explain_max_ms']} ms "
          f"({result['explain_slowest_case']}); target < {EXPLAIN_TARGET_MS:g} ms: {ok}")
    ok = "ok" if result["lint_all_s"] < LINT_TARGET_S else "OVER TARGET"
    print(f"lint: every policy in policies/ in {result['lint_all_s']} s; "
          f"target < {LINT_TARGET_S:g} s: {ok}")
    print(f"lint: the 2,000-line policy ({result['lint_2000_line_policy_checks']} rules and "
          f"limits) in {result['lint_2000_line_policy_s']} s")


if __name__ == "__main__":
    main()
