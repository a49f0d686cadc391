"""One case of the DESIGN.md §2 example through the Python API (`api.decide`).

Target (issue 3): under 200 µs per case, case values given as `.pol` literal strings as a
service would receive them. Prints the median of 5 runs of 2,000 decisions each.

    python benchmarks/api_one_case.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from policylang import api  # noqa: E402
from tests.policies import design_example  # noqa: E402

CASE = {"in_zone": True, "sme": True, "high_tech": True, "tech_listed": False,
        "owns_ip": True, "revenue_last_year": "800万", "loan_amount": "300万",
        "term": "1 year", "interest_rate": "5%", "overdue_amount": "100万",
        "pool_balance": "40万", "risk_fund_balance": "1000万"}
PARAMS = {"benchmark_rate": "4.35%"}


def main(decisions: int = 2000, runs: int = 5) -> float:
    policy = api.load_source(design_example(), "design_example.pol")
    api.decide(policy, CASE, PARAMS)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        for _ in range(decisions):
            api.decide(policy, CASE, PARAMS)
        timings.append((time.perf_counter() - started) / decisions)
    per_case = statistics.median(timings) * 1e6
    print(f"api.decide, DESIGN §2 example: {per_case:.1f} µs per case "
          f"(target < 200 µs; median of {runs} × {decisions})")
    return per_case


if __name__ == "__main__":
    main()
