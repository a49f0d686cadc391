"""The DuckDB query narrowed to a book's bounds (emit/sql_narrow.py, emit/sql_bounds.py).

The conformance suite and the differential test run it as the `sql-narrow` backend; here:
- soundness of the bounds: every value the interpreter computes for a let lies inside the
  bounds the analysis gives for the cases' measured inputs;
- exactness of the whole-number arithmetic on its own: products split into two 64-bit
  products, chained products, quotients by constants and by other values (a ratio of two
  book totals), negative operands and operands near the magnitude limit, against the
  interpreter, value by value;
- that the narrowing pays where it should: 佛山 2022 on a typical book computes its
  subsidies without a 128-bit DECIMAL and its years() with one 64-bit division.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policylang import api, ir
from policylang.cases import parse_params
from policylang.diagnostics import PolicyError
from policylang.emit.sql_bounds import Analysis, Bounds, bucketed, places_of
from policylang.engine import (
    NarrowDuckDatabase,
    create_cases_table,
    insert_cases,
    measure_bounds,
    narrow_query,
    quote_identifier,
    run_many,
)
from policylang.interpret import Decision, evaluate
from tests.policies import all_policies
from tests.strategies import default_params, passing_cases

ARITHMETIC = api.load_source('''policy narrow_arithmetic "narrow arithmetic" {
  input {
    x: number
    y: number
    m: money
    r: percent
    t: duration
  }
  let product = x * y
  let chain = m * years(t) * 1%
  let scaled = m * r
  let third = x / 3
  let mixed = (x * y) / 7 + x * 0.37
  let negative_share = m * -0.45
  let tiny = x * 0.0000000001
  let months_share = m * months(t) / 12
  let ratio = x / y
  let per_rate = m / r
  let ratio_of_products = (m * y) / (m + 1元)
}
''')

_PLACES = st.integers(min_value=0, max_value=10)


@st.composite
def _decimal(draw, digits: int, places: st.SearchStrategy[int] = _PLACES) -> Decimal:
    scale = draw(places)
    whole = draw(st.integers(min_value=-(10 ** (digits + scale)) + 1,
                             max_value=10 ** (digits + scale) - 1))
    return Decimal(whole).scaleb(-scale)


@st.composite
def _arithmetic_case(draw) -> dict[str, ir.Value]:
    digits = draw(st.sampled_from([1, 4, 8, 12]))
    return {
        "x": draw(_decimal(digits)),
        "y": draw(_decimal(draw(st.sampled_from([1, 3, 6])))),
        "m": draw(_decimal(digits, st.integers(min_value=0, max_value=2))),
        "r": draw(_decimal(0, st.integers(min_value=0, max_value=6))),
        "t": ir.Duration(draw(st.integers(min_value=0, max_value=600)), "month"),
    }


def _interpret(policy: ir.Policy, case: dict, params: dict) -> dict | PolicyError:
    try:
        return evaluate(policy, case, params)
    except PolicyError as error:
        return error


class _TypedBook(NarrowDuckDatabase):
    """Cases in columns of the fewest places that hold them, as a Parquet book's DECIMAL
    columns are (the engine's own table keeps 10 places, which leaves most products too
    wide for 64 bits)."""

    def load_cases(self, policy: ir.Policy, cases: list[dict[str, ir.Value]]) -> None:
        types = []
        for f in policy.inputs:
            if f.type.numeric:
                places = max((-case[f.name].as_tuple().exponent for case in cases), default=0)
                types.append(f"{quote_identifier(f.name)} DECIMAL(38,{max(places, 0)})")
            else:
                types.append(f"{quote_identifier(f.name)} INTERVAL")
        self.connection.execute(f"CREATE OR REPLACE TEMP TABLE cases ({', '.join(types)})")
        insert_cases(self.connection, policy, cases)


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(cases=st.lists(_arithmetic_case(), min_size=1, max_size=30))
def test_whole_number_arithmetic_agrees_with_the_interpreter(cases) -> None:
    database = _TypedBook()
    wanted = [_interpret(ARITHMETIC, case, {}) for case in cases]
    good = [case for case, want in zip(cases, wanted, strict=True)
            if not isinstance(want, PolicyError)]
    got = run_many(ARITHMETIC, good, {}, database=database)
    expected = [want for want in wanted if not isinstance(want, PolicyError)]
    assert got == expected


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_let_stays_inside_its_bounds(data) -> None:
    policies = all_policies()
    name = data.draw(st.sampled_from(sorted(policies)))
    policy = policies[name]
    params = default_params(policy)
    if any(value is None for value in params.values()):
        return
    cases = data.draw(st.lists(passing_cases(policy, params), min_size=1, max_size=20))
    connection = duckdb.connect()
    create_cases_table(connection, policy)
    insert_cases(connection, policy, cases)
    analysis = Analysis(policy, params, dict(measure_bounds(connection, policy)))
    for case in cases:
        outcome = _interpret(policy, case, params)
        if isinstance(outcome, PolicyError):
            continue
        values = _exact_lets(policy, case, params)
        for let in policy.lets:
            bounds = analysis.of(let.expr)
            if bounds is None or let.name not in values:
                continue
            value = values[let.name]
            assert bounds.lo <= value <= bounds.hi, (name, let.name, value, bounds)
            assert places_of(value) <= bounds.places, (name, let.name, value, bounds)


def _exact_lets(policy: ir.Policy, case: dict, params: dict) -> dict[str, Decimal]:
    """Each numeric let's exact value (before reporting rounds money to the fen)."""
    evaluator = Decision.of(policy, case, params).evaluator
    return {let.name: evaluator.let(let.name) for let in policy.lets if let.type.numeric}


def test_measured_bounds_round_outward_to_powers_of_ten() -> None:
    assert bucketed(Decimal("0"), Decimal("72"), 0) == Bounds(Decimal(0), Decimal(99), 0)
    assert bucketed(Decimal("-3.5"), Decimal("1000"), 2) == Bounds(
        Decimal("-9.99"), Decimal("9999.99"), 2)
    assert bucketed(Decimal("0.25"), Decimal("0.5"), 4) == Bounds(
        Decimal(0), Decimal("0.9999"), 4)


def test_foshan_subsidies_compute_in_64_bits() -> None:
    policy = api.load("policies/foshan/microloan_2022.pol")
    params = parse_params(policy, {})
    connection = duckdb.connect()
    connection.execute("CREATE TABLE cases (borrower VARCHAR, first_loan BOOLEAN, "
                       "purpose VARCHAR, loan_amount DECIMAL(18,2), term INTERVAL, "
                       "interest_rate DECIMAL(18,4), premium_rate DECIMAL(18,4), "
                       "premium_paid DECIMAL(18,2), principal_loss DECIMAL(18,2), "
                       "insurer VARCHAR, loan_date DATE, compensated DECIMAL(18,2))")
    connection.execute("INSERT INTO cases VALUES ('enterprise', true, 'production', "
                       "19999980.00, INTERVAL 72 MONTH, 0.2, 0.2, 19999960.00, 19999980.00, "
                       "'insurer_a', DATE '2022-06-01', 0)")
    query = narrow_query(policy, params, measure_bounds(connection, policy))
    subsidy = query[query.index("__pl_1 AS"):query.index('AS "__pl_let_insurer_subsidy"')]
    assert "DECIMAL(38" not in subsidy and "HUGEINT" not in subsidy
    row = connection.execute(f"SELECT insurer_subsidy, borrower_subsidy FROM ({query})").fetchone()
    assert row == (Decimal("1199998.80"), Decimal("1199998.80"))


def test_chongqing_fen_parts_compute_in_64_bits(tmp_path) -> None:
    """The largest-remainder step truncates each bounded part to whole fen in the digits
    its bound needs: a DECIMAL(18,2) fen would make every remainder, sum and part given
    a fen more a 128-bit DECIMAL."""
    import re

    from policylang import book
    from policylang.synthetic import write_book

    policy = api.load("policies/chongqing/zhubaodai.pol")
    connection = duckdb.connect()
    book.load_cases(connection, policy, write_book(policy, 200, tmp_path / "book.parquet"))
    query = narrow_query(policy, parse_params(policy, {}), measure_bounds(connection, policy))
    fen_types = re.findall(r'AS DECIMAL\((\d+), 2\)\) AS "__pl_overdue__t_(\d)"', query)
    # The pool's take is whole fen: it is never given a fen, and is not truncated.
    assert [part for _, part in fen_types] == ["1", "2", "3"], fen_types
    assert all(int(p) <= 16 for p, _ in fen_types), fen_types
    result = connection.execute(f"SELECT sum(overdue__pool + overdue__risk_fund + "
                                f"overdue__bank + overdue__escalated), sum(overdue_amount) "
                                f"FROM ({query})").fetchone()
    assert result[0] == result[1]


ALLOCATIONS = api.load_source('''policy narrow_allocations "whole parts left out of the ranking" {
  input {
    amount: money
    cap: money
    other: money
  }
  waterfall settle(amount) {
    take first up to cap
    split {
      low: 33.33% up to other
      high: 66.67%
    }
    take late up to cap
    rest last
  }
  waterfall takes(amount) {
    take a up to cap
    split { b: 50%  c: 50% }
  }
  shares even of amount - cap { x: 12.5%  y: 37.5%  z: 50% }
}
''')


@st.composite
def _allocation_case(draw) -> dict[str, ir.Value]:
    digits = draw(st.sampled_from([0, 1, 3, 9]))
    return {name: draw(_decimal(digits, st.integers(min_value=0, max_value=2)))
            for name in ("amount", "cap", "other")}


@settings(max_examples=80, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(cases=st.lists(_allocation_case(), min_size=1, max_size=30))
def test_whole_parts_left_out_of_the_ranking_change_no_fen(cases) -> None:
    """A part whose bounds say whole fen and ≥ 0 skips the largest remainder step (takes
    beside split parts with half and third fen, and beside capped ones; caps may be
    negative): every part to the fen as the interpreter's, on the cases it decides (a
    negative amount it refuses)."""
    database = _TypedBook()
    wanted = [_interpret(ALLOCATIONS, case, {}) for case in cases]
    good = [case for case, want in zip(cases, wanted, strict=True)
            if not isinstance(want, PolicyError)]
    got = run_many(ALLOCATIONS, good, {}, database=database)
    assert got == [want for want in wanted if not isinstance(want, PolicyError)]


def test_whole_parts_are_left_out_of_the_ranking() -> None:
    """A take of a whole-fen amount before any split is whole fen and ≥ 0: it is not
    truncated or ranked."""
    database = _TypedBook()
    database.load_cases(ALLOCATIONS, [{"amount": Decimal("100.01"), "cap": Decimal(3),
                                       "other": Decimal("7.5")}])
    query = narrow_query(ALLOCATIONS, {}, measure_bounds(database.connection, ALLOCATIONS))
    truncated = {(name, part) for name in ("settle", "takes", "even")
                 for part in range(5) if f'"__pl_{name}__t_{part}"' in query}
    # settle: first, low, high, late, last; takes: a, b, c, unallocated. Only the first
    # take is whole fen: after a split, what remains has the split's places. even: shares
    # with a third place (all truncated and ranked).
    assert truncated == {("settle", 1), ("settle", 2), ("settle", 3), ("settle", 4),
                         ("takes", 1), ("takes", 2), ("takes", 3),
                         ("even", 0), ("even", 1), ("even", 2)}


DURATIONS = api.load_source('''policy narrow_durations "durations in one unit" {
  input {
    term: duration
    other: duration
    delay: duration
    late: duration
  }
  rule short: term < 1 year
  rule same: term == other
  limit longest: term <= other when delay > 0 days
  limit notice: delay <= 5 days
  rule ordered: delay >= late or late == 0 days
}
''')


@st.composite
def _duration_case(draw) -> dict[str, ir.Value]:
    def amount() -> int:
        return draw(st.one_of(st.integers(min_value=-40, max_value=40),
                              st.sampled_from([0, 5, 6, 11, 12, 13, 30, 31, 365, 400])))

    return {"term": ir.Duration(amount(), "month"), "other": ir.Duration(amount(), "month"),
            "delay": ir.Duration(amount(), "day"), "late": ir.Duration(amount(), "day")}


@settings(max_examples=80, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(cases=st.lists(_duration_case(), min_size=1, max_size=30))
def test_durations_in_one_unit_compare_as_whole_numbers(cases) -> None:
    """Durations whose bounds allow one unit compare as whole months or days (years are
    12 months; an all-zero column sits in either unit), as the interpreter decides."""
    database = _TypedBook()
    got = run_many(DURATIONS, cases, {}, database=database)
    assert got == [_interpret(DURATIONS, case, {}) for case in cases]
    query = database.result_query(DURATIONS, {}).lower()
    assert "datepart('day'" in query  # `notice`, comparing days with a constant
    assert not any(f"{op} interval" in query for op in ("<", "<=", ">=", "="))


def test_a_check_inside_a_product_runs_where_the_bounds_pin_its_value() -> None:
    """`years(t)` of a term in days is E611. With every term in days the bounds pin the
    years to 0, and a product could use 0 for them: the check must run all the same."""
    policy = api.load_source("""policy pinned "pinned" {
  input {
    m: money
    r: percent
    t: duration
  }
  let fee = m * r * years(t)
}
""")
    for amount in (Decimal(0), Decimal("5.00")):
        case = {"m": amount, "r": Decimal("0.01"), "t": ir.Duration(1, "day")}
        expected = _interpret(policy, case, {})
        assert isinstance(expected, PolicyError) and expected.code == "E611"
        [got] = run_many(policy, [case], {}, database=_TypedBook())
        assert isinstance(got, PolicyError) and got.code == "E611", (amount, got)


RATIO = api.load_source('''policy narrow_ratio "narrow ratio" {
  input {
    paid: money
    lent: money
  }
  let rate = paid / lent
}
''')


def test_a_ratio_of_bounded_values_divides_whole_numbers() -> None:
    """The generic query scales both operands to 10 places and divides, with a remainder,
    in 128 bits; a ratio of bounded values (the portfolio's compensation rate, a ratio of
    two book totals) divides their whole numbers once: in 64 bits where they are small,
    and in 128 bits on far smaller numbers where they are not."""
    for digits, wide in ((6, False), (13, True)):
        connection = duckdb.connect()
        connection.execute(f"CREATE TABLE cases (paid DECIMAL({digits + 2},2), "
                           f"lent DECIMAL({digits + 2},2))")
        connection.execute(f"INSERT INTO cases VALUES ({10 ** digits - 1}.99, 3), "
                           f"(1, {10 ** digits - 1}.99), (2, 3)")
        query = narrow_query(RATIO, {}, measure_bounds(connection, RATIO))
        rate = query[query.index("__pl_1 AS"):query.index('AS "__pl_let_rate"')]
        assert " % " not in rate and ("HUGEINT" in rate or "INT128" in rate) == wide, rate
        got = [row[0] for row in connection.execute(f"SELECT rate FROM ({query})").fetchall()]
        cases = connection.execute("SELECT paid, lent FROM cases").fetchall()
        assert got == [_exact_lets(RATIO, {"paid": paid, "lent": lent}, {})["rate"]
                       for paid, lent in cases]
