"""Check time of a 2,000-line policy: parse + type-check (`api.load_source`).

Target: under 0.5 s. Generates a valid policy of exactly 2,000 lines — enums, 200 inputs,
params, lets chained through each other, rules, guarded limits, shares, waterfalls and
test blocks — checks it once to warm up (grammar loading is not counted), then prints the
median of 5 timed runs.

    python benchmarks/check_2000_lines.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from policylang import api  # noqa: E402
from policylang.parser import parse  # noqa: E402

LINES = 2000


def generate(lines: int = LINES) -> str:
    """A valid policy of exactly `lines` lines."""
    out = ['policy benchmark "基准测试政策（2000行）" {',
           '  issuer    "基准"',
           '  version   "1"',
           "  effective 2024-01-01",
           '  enum kind { enterprise "企业"  individual "个体工商户"  micro_owner "小微企业主" }',
           "  param lpr: percent = 3.45% \"LPR\"",
           "  param factor: number = 1.2"]
    groups = 40
    out.append("  input {")
    out.append("    borrower: kind")
    out.append("    start:    date = 2024-01-01")
    for g in range(groups):
        out += [f"    amount_{g}: money",
                f"    rate_{g}:   percent = 4%",
                f"    term_{g}:   duration = 1 year",
                f"    flag_{g}:   bool = true",
                f"    loss_{g}:   money = 0元"]
    out.append("  }")
    body: list[str] = []
    for g in range(groups):
        body += [
            f"  let fee_{g} = round(amount_{g} * rate_{g} * years(term_{g}), 0.01元)"
            f" cite \"第{g}条\"",
            f"  let cap_{g} = if flag_{g} then min(amount_{g}, 500万) else max(amount_{g} / "
            f"factor, 1万)",
            f"  let total_{g} = fee_{g} + cap_{g}" + (f" + total_{g - 1}" if g else ""),
            f"  let due_{g} = start + term_{g}",
            f"  rule eligible_{g}: flag_{g} or (amount_{g} > 0元 and rate_{g} <= lpr + 150bp)"
            f" cite \"第{g}条\"",
            f"  rule kind_{g}: borrower in {{enterprise, kind.micro_owner}} or amount_{g} < "
            f"300万",
            f"  limit amount_cap_{g}: amount_{g} <= 1000万 when borrower == enterprise"
            f" cite \"第{g}条(一)\"",
            f"  limit small_cap_{g}: amount_{g} <= 300万 when borrower != enterprise",
            f"  limit rate_cap_{g}: rate_{g} <= lpr * factor says \"利率过高\"",
            f"  limit term_cap_{g}: term_{g} <= 3 years",
            f"  shares split_{g} of loss_{g} cite \"第{g}条(二)\" {{ bank: 20%  fund: 80% }}",
            f"  shares ratio_{g} ratio of loss_{g} {{ province: 2  city: 1.5  county: 1 }}",
            f"  waterfall claim_{g}(loss_{g}) {{",
            f"    take pool up to cap_{g}",
            "    split {",
            "      fund: 45% up to 100万",
            "      bank: 55%",
            "    }",
            "    rest escalated",
            "  }",
            f"  let insurer_{g} = split_{g}.fund + claim_{g}.bank",
            f"  test \"第{g}组\" {{",
            f"    given {{ borrower: enterprise  amount_{g}: 300万  loss_{g}: 10万",
            "            " + "  ".join(f"amount_{k}: 1万" for k in range(groups) if k != g),
            "    }",
            "    expect eligible",
            f"    expect fee_{g} == 12万",
            f"    expect passes amount_cap_{g}",
            f"    expect split_{g}.fund == 8万 and insurer_{g} > 0元",
            "  }",
        ]
    out += body
    # pad with single-line lets to reach the exact line count (the closing brace is last)
    i = 0
    while len(out) < lines - 1:
        out.append(f"  let extra_{i} = amount_{i % groups} * {i % 97 + 1}% + fee_{i % groups}")
        i += 1
    if len(out) > lines - 1:
        raise ValueError(f"the generated policy has {len(out) + 1} lines, more than {lines}")
    out.append("}")
    return "\n".join(out) + "\n"


def main(runs: int = 5) -> float:
    source = generate()
    assert source.count("\n") == LINES
    policy = api.load_source(source, "benchmark.pol")  # warm up; also proves it is valid
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        api.load_source(source, "benchmark.pol")
        timings.append(time.perf_counter() - started)
    parse_only = []
    for _ in range(runs):
        started = time.perf_counter()
        parse(source, "benchmark.pol")
        parse_only.append(time.perf_counter() - started)
    median = statistics.median(timings)
    print(f"check, {LINES}-line policy ({len(source.encode()):,} bytes; {len(policy.inputs)} "
          f"inputs, {len(policy.lets)} lets, {len(policy.checks)} rules and limits, "
          f"{len(policy.allocations)} allocations, {len(policy.tests)} tests): "
          f"{median:.3f} s (parse {statistics.median(parse_only):.3f} s; target < 0.5 s; "
          f"median of {runs})")
    return median


if __name__ == "__main__":
    main()
