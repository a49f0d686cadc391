"""The bound on a money value's magnitude from the policy alone (emit/money_bounds.py),
which both the generated module and a query without a limit's columns use to skip the
10^16-yuan test. Its soundness against the interpreter on random cases is
tests/test_sql_money.py's; here, what each kind of expression is bounded by and what
the two backends' param knowledge changes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from policylang import api, ir
from policylang.emit.money_bounds import CHECKED_MONEY, below_money_limit, magnitude_bound
from policylang.values import INPUT_LIMIT, MAGNITUDE_LIMIT, SCALE

POLICY = api.load_source('''policy bounds "bounds" {
  input {
    a: money
    n: number
    rate: percent
  }
  param cap: money = 500万
  param factor: number
  let fee = a * rate
  shares split {
    bank: 20%
    fund: 80%
  }
  shares paid of fee {
    bank: 20%
    fund: 80%
  }
  limit by_rate: a * 2.5% <= 1亿 cite "r"
  limit by_rate_input: a * rate <= 1亿 cite "i"
  limit by_let: fee + a <= cap cite "l"
  limit by_part: paid.bank * 3 <= cap cite "p"
  limit by_share: a * split.bank <= cap cite "s"
  limit by_quotient: a / 4 <= cap cite "q"
  limit by_division: a / n <= cap when n != 0 cite "d"
  limit by_param: a * factor <= cap cite "f"
  limit by_choice: min(a, -a, abs(a)) <= (if n > 1 then cap else -cap) cite "c"
}
''', "bounds.pol")


def _side(name: str, side: str = "subject") -> ir.Expr:
    limit = next(c for c in POLICY.checks if c.name == name)
    return getattr(limit, side)


def _no_params(_name: str) -> Decimal | None:
    return None


def _inputs(_name: str) -> Decimal:
    return INPUT_LIMIT


@pytest.mark.parametrize(("limit", "bound"), [
    ("by_rate", INPUT_LIMIT * Decimal("0.025") + SCALE),  # a product counts its rounding
    ("by_rate_input", MAGNITUDE_LIMIT),  # 10^15 × 10^15: no value gets past 10^18
    ("by_let", CHECKED_MONEY + INPUT_LIMIT),  # a money let is refused at 10^16 itself
    ("by_part", CHECKED_MONEY * 3 + SCALE),
    ("by_share", INPUT_LIMIT + SCALE),  # a share without an amount: at most 100%
    ("by_quotient", INPUT_LIMIT / 4 + SCALE),
    ("by_choice", INPUT_LIMIT),
])
def test_each_kind_of_expression_is_bounded_by_its_operands(limit: str, bound: Decimal
                                                            ) -> None:
    assert magnitude_bound(_side(limit), _no_params) == bound


def test_no_bound_is_known_for_a_quotient_by_a_case_value_or_an_unknown_param() -> None:
    assert magnitude_bound(_side("by_division"), _inputs) is None
    assert magnitude_bound(_side("by_param"), _no_params) is None
    assert magnitude_bound(_side("by_let", "bound"), _no_params) is None


def test_what_is_known_of_a_param_decides_whether_a_side_needs_the_test() -> None:
    # The query knows its params' values; the module only that a param given at a call
    # is an input like any other.
    assert below_money_limit(_side("by_param"), lambda _name: Decimal(3))
    assert not below_money_limit(_side("by_param"), _inputs)
    assert below_money_limit(_side("by_choice", "bound"), lambda _name: Decimal(5_000_000))


def test_the_documented_examples() -> None:
    assert below_money_limit(_side("by_rate"), _no_params)  # loan_amount * 2.5%
    assert not below_money_limit(_side("by_rate_input"), _no_params)  # loan_amount * rate
