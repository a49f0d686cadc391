"""In-file `test` blocks (policylang/testing.py): what a failing expectation says, and that
every backend says the same."""

from __future__ import annotations

from policylang import api
from policylang.backends import available

GUARDED = """policy guarded "有条件的限额" {
  enum kind { enterprise "企业"  individual "个体工商户" }
  input { borrower: kind  amount: money }
  limit individual_cap: amount <= 300万 when borrower == individual
  limit any_cap: amount <= 1000万
  test "企业不受个体限额约束" {
    given { borrower: enterprise  amount: 500万 }
    expect fails individual_cap
    expect fails any_cap
  }
}
"""


def test_expecting_a_guarded_off_rule_to_fail_says_it_does_not_apply() -> None:
    """`expect fails` of a limit whose guard is false for the case: it does not apply, which
    is what the drafter needs to hear, not that it "holds"; on every backend."""
    policy = api.load_source(GUARDED, "guarded.pol")
    backends = {name: make(policy) for name, make in available().items()
                if name in ("interp", "python", "sql", "sqlite")}
    for result in api.run_tests(policy, backends):
        assert result.failures == [
            "expected individual_cap to fail, but it does not apply: its guard "
            "`when borrower == individual` is false for this case",
            "expected any_cap to fail, but it holds"], result.backend
