"""The policies the differential and backend tests run on: the DESIGN.md §2 example, a
policy using every construct, and every policy under policies/ that checks."""

from __future__ import annotations

import re
from pathlib import Path

from policylang import api, ir
from policylang.diagnostics import PolicyError

ROOT = Path(__file__).resolve().parents[1]
DESIGN = ROOT.parent / "shared" / "DESIGN.md"

EVERY_CONSTRUCT = '''policy every_construct "每种构造 every construct" {
  version "1"
  enum kind { enterprise "企业"  individual "个体工商户"  micro_owner "小微企业主" }
  enum channel { bank  online }
  input {
    borrower:   kind
    via:        channel = bank
    amount:     money
    rate:       percent
    term:       duration
    start:      date
    first_loan: bool = false
    score:      number = 1
    loss:       money = 0元
    pool:       money = 0元
    fund_cap:   money = 1000万
  }
  param lpr: percent = 3.45% "LPR"
  param factor: number = 1.2
  limit enterprise_cap: amount <= 1000万 when borrower == enterprise cite "二(1)"
  limit small_cap:      amount <= 300万 when borrower in {individual, kind.micro_owner} cite "二(2)"
  limit rate_cap:       rate <= lpr + 150bp cite "二(3)" says "利率过高"
  limit term_cap:       term <= 3 years cite "二(4)"
  limit floor:          amount > 0元 cite "二(5)"
  rule online_rule:     via != online or score >= 0.5 cite "二(6)"
  rule ratio_rule:      amount / (amount + 1元) < 100% or first_loan cite "二(7)"
  let subsidy = round(amount * years(term) * 1%, 0.01元) cite "三(1)"
  let extra = if first_loan then min(subsidy, amount * 1%) else 0元 cite "三(2)"
  let headroom = max(1000万 - amount, 0元) / factor cite "三(3)"
  let share_of_cap = amount / 1000万 cite "三(4)"
  let years_left = years(term) - 1 cite "三(5)"
  let due = start + term cite "三(6)"
  let span = due - start cite "三(7)"
  let score_band = abs(score - 1) * 2 cite "三(8)"
  let insurer_share = first_loss.insurer cite "三(9)"
  shares first_loss of loss cite "四(1)" { bank: 10%  insurer: 90% }
  shares split_ratio ratio of loss cite "四(2)" { province: 2  bank: 4  guarantor: 2.5  fund: 1.5 }
  shares plain_split ratio cite "四(3)" { a: 1  b: 2 }
  waterfall claim(loss) cite "五(1)" {
    take pool up to pool
    split {
      fund: 45% up to fund_cap
      bank: 55%
    }
  }
  waterfall thirds(loss) cite "五(2)" {
    split { a: 33.33%  b: 33.33%  c: 33.34% }
    rest leftover says "余额"
  }
  let third = plain_split.a * amount cite "五(3)"
}
'''


def design_example() -> str:
    source = DESIGN.read_text(encoding="utf-8")
    return re.search(r"```pol\n(.*?)```", source, re.S).group(1)


def all_policies() -> dict[str, ir.Policy]:
    found = {
        "design_example": api.load_source(design_example(), "DESIGN.md"),
        "every_construct": api.load_source(EVERY_CONSTRUCT, "every_construct.pol"),
    }
    for path in sorted((ROOT / "policies").rglob("*.pol")):
        try:
            found[str(path.relative_to(ROOT))] = api.load(path)
        except PolicyError:
            continue  # policies that do not check are caught by the build test
    return found
