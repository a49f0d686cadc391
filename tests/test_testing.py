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


UNSORTED = """policy unsorted "赔付台账" {
  input { claim_date: date  compensated: money }
  portfolio order by claim_date {
    budget annual per year(claim_date) = sum(compensated) <= 10万
  }
  test "日期倒序" {
    book {
      given { claim_date: 2022-03-01  compensated: 1万 }
      given { claim_date: 2022-01-01  compensated: 1万 }
    }
    expect case 2 budget.annual == 1万
  }
}
"""


def test_a_book_test_out_of_date_order_is_one_error_on_every_backend() -> None:
    """The book is the test's, so its E609 reads the same on every backend (DuckDB named a
    temporary file, SQLite "book")."""
    policy = api.load_source(UNSORTED, "unsorted.pol")
    backends = {name: make(policy) for name, make in available().items()
                if name in ("interp", "python", "sql", "sql-narrow", "sqlite")}
    results = api.run_tests(policy, backends)
    assert len(results) == 5
    for result in results:
        assert result.error is not None, result.backend
        assert [(d.code, d.message) for d in result.error.diagnostics] == [
            ("E609", "test book: row 2: claim_date 2022-01-01 comes before row 1's "
                     "2022-03-01; sort the book by claim_date (ties keep their order)")], \
            result.backend


ZERO = """policy zero "抵押占比" {
  input { day: date  principal: money  collateral: bool = false }
  portfolio order by day {
    limit share = sum(principal where collateral) / sum(principal where collateral) <= 10%
  }
  test "无抵押" {
    book {
      given { day: 2022-01-01  principal: 1万 }
      given { day: 2022-01-02  principal: 1万 }
    }
    expect passes share
  }
}
"""


def test_a_book_rule_that_cannot_be_evaluated_is_named_on_every_backend() -> None:
    """A zero denominator in a book rule: the interpreter named the rule, DuckDB and SQLite
    only the division; then SQLite named no book and no row (its windows now find the row
    as DuckDB's do)."""
    policy = api.load_source(ZERO, "zero.pol")
    backends = {name: make(policy) for name, make in available().items()
                if name in ("interp", "sql", "sqlite")}
    for result in api.run_tests(policy, backends):
        (diagnostic,) = result.error.diagnostics
        assert diagnostic.code == "E610"
        assert diagnostic.message.endswith("limit share: division by zero"), result.backend
        # the row of the test's book, never the temporary file a backend wrote it to
        assert "policylang-book-" not in diagnostic.message, diagnostic.message
        assert diagnostic.message == "test book: row 2: limit share: division by zero", \
            result.backend


def test_a_test_name_used_twice_names_the_line_of_the_first() -> None:
    import pytest

    from policylang.diagnostics import PolicyError

    twice = GUARDED.replace('  limit any_cap', '  test "企业不受个体限额约束" {\n'
                            '    given { borrower: enterprise  amount: 1万 }\n'
                            '    expect eligible\n  }\n  limit any_cap')
    with pytest.raises(PolicyError) as raised:
        api.load_source(twice, "twice.pol")
    (diagnostic,) = raised.value.diagnostics
    assert (diagnostic.code, diagnostic.span.line) == ("E504", 10)
    assert diagnostic.message == "a test named '企业不受个体限额约束' already exists (line 5)"
