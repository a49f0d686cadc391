"""`policylang diff` of two generated 200-rule policies, with witnesses.

Target (issue 7): under 5 s. The old version has 20 inputs (money, percent, number,
duration, bool, two enums), 200 rules and limits (a third guarded), 20 lets and 2
allocations; the new version changes 51 bounds, 9 conditions, a guard and a subject,
removes 5 limits, adds 5 rules, changes 5 lets, two parties' shares and a waterfall cap
(81 changes, with the version). Timed end to end
from source, as `policylang diff OLD NEW --witnesses N` does it (parse and check both,
structural diff, z3 witness search with interpreter confirmation); median of 3 runs.

    python benchmarks/diff_200_rules.py [--witnesses N] [--json]
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from policylang import api  # noqa: E402
from policylang.diff import diff  # noqa: E402

TARGET_S = 5.0
CHECKS = 200

MONEY = [f"amount_{i}" for i in range(8)]
PERCENT = [f"rate_{i}" for i in range(4)]
NUMBER = [f"count_{i}" for i in range(2)]
BOOL = [f"flag_{i}" for i in range(3)]


def _check(index: int, rng: random.Random, changed: bool) -> str:
    """One rule or limit; `changed` gives the new version's text of it."""
    kind = index % 5
    guard = ""
    if index % 3 == 0:
        guard = f" when region == r{rng.randrange(6)}" if not changed or index % 30 else \
            f" when region in {{r{rng.randrange(6)}, r{rng.randrange(6)}}}"
    if kind == 0:  # a money cap
        subject = rng.choice(MONEY)
        bound = rng.randrange(100, 5000) * (2 if changed else 1)
        return f"limit cap_{index}: {subject} <= {bound}万{guard}"
    if kind == 1:  # a rate cap on a param
        subject = rng.choice(PERCENT)
        spread = rng.randrange(50, 300) + (50 if changed else 0)
        return f"limit spread_{index}: {subject} <= lpr + {spread}bp{guard}"
    if kind == 2:  # a sum floor
        a, b = rng.sample(MONEY, 2)
        floor = rng.randrange(1, 50)
        return f"limit floor_{index}: {a} + {b} >= {floor if not changed else floor + 1}万{guard}"
    if kind == 3:  # a term cap
        months = rng.randrange(6, 60) + (12 if changed else 0)
        return f"limit term_{index}: term <= {months} months{guard}"
    flag, other = rng.sample(BOOL, 2)
    cond = f"{flag} or size != small" if not changed else f"{flag} or {other}"
    return f"rule rule_{index}: {cond}{guard}"


def policy_pair(seed: int = 7) -> tuple[str, str]:
    rng = random.Random(seed)
    changed = set(rng.sample(range(CHECKS), 60))
    removed = set(rng.sample(sorted(set(range(CHECKS)) - changed), 5))
    inputs = ["    region: region_kind", "    size: size_kind = medium",
              "    term: duration"]
    inputs += [f"    {name}: money" for name in MONEY]
    inputs += [f"    {name}: percent" for name in PERCENT]
    inputs += [f"    {name}: number = 1" for name in NUMBER]
    inputs += [f"    {name}: bool = false" for name in BOOL]
    versions = []
    for version in ("old", "new"):
        new = version == "new"
        lines = [f'policy generated_{version} "生成的200条规则政策" {{',
                 f'  version "{2023 if not new else 2024}"',
                 "  enum region_kind { " + " ".join(f'r{i} "区{i}"' for i in range(6)) + " }",
                 '  enum size_kind { small "小" medium "中" large "大" }',
                 "  input {", *inputs, "  }",
                 "  param lpr: percent = 3.45%"]
        for index in range(CHECKS):
            if new and index in removed:
                continue
            state = random.Random(seed * 1000 + index)  # same draws in both versions
            lines.append("  " + _check(index, state, new and index in changed)
                         + f' cite "第{index + 1}条"')
        if new:
            lines += [f'  rule added_{i}: {BOOL[i % 3]} or amount_{i} <= {i + 1}00万 '
                      f'cite "新增第{i + 1}条"' for i in range(5)]
        for index in range(20):
            factor = f"{index + 1}%" if not (new and index < 5) else f"{index + 1}.5%"
            lines.append(f"  let fee_{index} = {MONEY[index % 8]} * {factor}")
        lines += ["  shares risk of amount_0 { bank: 20%  fund: 80% }" if not new else
                  "  shares risk of amount_0 { bank: 10%  fund: 90% }",
                  "  waterfall loss(amount_1) {",
                  f"    take pool up to {'100万' if not new else '200万'}",
                  "    split { fund: 60% up to amount_2  bank: 40% }",
                  "    rest others", "  }", "}"]
        versions.append("\n".join(lines) + "\n")
    return versions[0], versions[1]


def measure(witnesses: int, runs: int = 3) -> dict:
    old_source, new_source = policy_pair()
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        old = api.load_source(old_source, "old.pol")
        new = api.load_source(new_source, "new.pol")
        result = diff(old, new, witnesses=witnesses)
        times.append(time.perf_counter() - start)
    return {"checks_old": len(old.checks), "checks_new": len(new.checks),
            "changes": len(result.changes), "witnesses_asked": witnesses,
            "witnesses_confirmed": len(result.witnesses),
            "seconds_median": round(statistics.median(times), 3),
            "seconds_runs": [round(t, 3) for t in times], "target_seconds": TARGET_S}


def main(argv: list[str]) -> int:
    witnesses = int(argv[argv.index("--witnesses") + 1]) if "--witnesses" in argv else 10
    numbers = measure(witnesses)
    if "--json" in argv:
        print(json.dumps(numbers, indent=2))
    else:
        print(f"diff of two {CHECKS}-rule policies ({numbers['changes']} changes), "
              f"{numbers['witnesses_confirmed']}/{witnesses} witnesses confirmed: "
              f"{numbers['seconds_median']} s median of 3 (target < {TARGET_S} s)")
    return 0 if numbers["seconds_median"] < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
