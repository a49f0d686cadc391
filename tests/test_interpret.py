"""Interpreter: the reference semantics. Allocation properties (hypothesis), exact
arithmetic, durations, guards and run-time errors. Case-by-case semantics live in the
conformance suite; this file holds the properties that need many random inputs."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policylang import api, ir
from policylang import values as v
from policylang.diagnostics import PolicyError
from policylang.interpret import allocate_fen

FEN = Decimal("0.01")
amounts = st.integers(min_value=0, max_value=10**14).map(lambda fen: Decimal(fen) / 100)
weights = st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=7)


def _policy(body: str) -> ir.Policy:
    return api.load_source(f'policy p "p" {{\n{body}\n}}\n', "p.pol")


def _shares_policy(percents: list[int]) -> ir.Policy:
    parts = "  ".join(f"p{i}: {Decimal(w) / 100}%" for i, w in enumerate(percents))
    return _policy(f"input {{ amount: money }}\nshares s of amount {{ {parts} }}")


def _exact_parts(amount: Decimal, fractions: list[Decimal]) -> list[Decimal]:
    return [amount * f for f in fractions]


@st.composite
def percent_sets(draw) -> list[int]:
    """Percents in hundredths of a percent (1 = 0.01%) summing to exactly 100%."""
    cuts = sorted(draw(st.lists(st.integers(0, 10_000), min_size=0, max_size=6)))
    bounds = [0, *cuts, 10_000]
    return [b - a for a, b in zip(bounds, bounds[1:], strict=False)]


@settings(max_examples=300, deadline=None)
@given(amount=amounts, percents=percent_sets())
def test_percent_shares_conserve_money(amount: Decimal, percents: list[int]) -> None:
    policy = _shares_policy(percents)
    parts = api.decide(policy, {"amount": f"{amount}元"})["allocations"]["s"]
    values = [Decimal(x) for x in parts.values()]
    assert sum(values) == amount
    assert all(x == x.quantize(FEN) for x in values)
    for value, percent in zip(values, percents, strict=True):
        assert abs(value - amount * Decimal(percent) / 10_000) < FEN


@settings(max_examples=300, deadline=None)
@given(amount=amounts, ratio=weights)
def test_ratio_shares_conserve_money(amount: Decimal, ratio: list[int]) -> None:
    parts_text = "  ".join(f"p{i}: {w}" for i, w in enumerate(ratio))
    policy = _policy(f"input {{ amount: money }}\nshares s ratio of amount {{ {parts_text} }}")
    parts = api.decide(policy, {"amount": f"{amount}元"})["allocations"]["s"]
    values = [Decimal(x) for x in parts.values()]
    assert sum(values) == amount
    total = sum(ratio)
    for value, w in zip(values, ratio, strict=True):
        assert abs(value - amount * w / total) < FEN


@settings(max_examples=300, deadline=None)
@given(amount=amounts, pool=amounts, cap=amounts, share=st.integers(0, 10_000),
       with_rest=st.booleans())
def test_waterfalls_conserve_money(amount, pool, cap, share, with_rest) -> None:
    rest = "rest escalated" if with_rest else ""
    policy = _policy(
        "input { amount: money  pool: money  cap: money }\n"
        "waterfall w(amount) {\n take pool up to pool\n"
        f" split {{ fund: {Decimal(share) / 100}% up to cap"
        f"  bank: {Decimal(10_000 - share) / 100}% }}\n"
        f" {rest}\n}}")
    decision = api.decide(policy, {"amount": f"{amount}元", "pool": f"{pool}元",
                                   "cap": f"{cap}元"})
    parts = {k: Decimal(x) for k, x in decision["allocations"]["w"].items()}
    assert sum(parts.values()) == amount
    assert parts["pool"] == min(pool, amount)
    assert all(x >= 0 and x == x.quantize(FEN) for x in parts.values())
    assert ("unallocated" in parts) != with_rest


@settings(max_examples=500, deadline=None)
@given(exact=st.lists(st.integers(0, 10**12), min_size=1, max_size=8))
def test_allocate_fen_moves_each_part_less_than_a_fen(exact: list[int]) -> None:
    exact_parts = [Decimal(x).scaleb(-10) for x in exact]
    total = v.to_fen(sum(exact_parts))
    rounded = allocate_fen(total, exact_parts)
    assert sum(rounded) == total
    for r, x in zip(rounded, exact_parts, strict=True):
        assert abs(r - x) < FEN


def test_ties_go_to_the_part_listed_first() -> None:
    policy = _policy("input { amount: money }\nshares s of amount { a: 50%  b: 50% }")
    parts = api.decide(policy, {"amount": "0.01元"})["allocations"]["s"]
    assert parts == {"a": "0.01", "b": "0.00"}


@pytest.mark.parametrize(("expr", "expected"), [
    ("1元 / 3", "0.33"),
    ("1亿 / 15%", "666666666.67"),
    ("0.005元 + 0元", "0.01"),
    ("-0.005元 + 0元", "-0.01"),
    ("round(12345.5元, 1元)", "12346.00"),
    ("round(-12345.5元, 1元)", "-12346.00"),
])
def test_money_arithmetic_is_exact_and_half_up(expr: str, expected: str) -> None:
    decision = api.decide(_policy(f"let x = {expr}"), {})
    assert decision["values"]["x"] == expected


def test_division_rounds_half_up_at_the_tenth_place() -> None:
    assert v.div(Decimal(2), Decimal(3)) == Decimal("0.6666666667")
    assert v.div(Decimal("0.00000000005"), Decimal(1)) == Decimal("0.0000000001")
    assert v.div(Decimal("-0.00000000005"), Decimal(1)) == Decimal("-0.0000000001")


def test_durations_follow_the_calendar() -> None:
    assert v.date_add(datetime.date(2024, 1, 31), ir.Duration(1, "month")) == \
        datetime.date(2024, 2, 29)
    assert v.duration_in(ir.Duration(18, "month"), "year") == Decimal("1.5")
    assert v.compare("==", ir.Duration(12, "month"), ir.Duration(12, "month"))
    with pytest.raises(v.EvalError) as error:
        v.compare("<", ir.Duration(15, "day"), ir.Duration(1, "month"))
    assert error.value.code == "E611"


def test_guards_are_not_evaluated_when_false() -> None:
    policy = _policy("input { x: number  y: number }\n"
                     "rule r: y / x > 1 when x != 0\n"
                     "rule s: x == 0 or y / x > 1")
    assert api.decide(policy, {"x": "0", "y": "5"})["eligible"] is True


def test_division_by_zero_is_an_error_at_the_expression() -> None:
    policy = _policy("input { x: number }\nlet q = 1 / x")
    with pytest.raises(PolicyError) as error:
        api.decide(policy, {"x": "0"})
    diagnostic = error.value.diagnostics[0]
    assert diagnostic.code == "E610"
    assert (diagnostic.span.line, diagnostic.span.column) == (3, 9)


def test_limit_failure_reports_value_and_bound() -> None:
    policy = _policy("input { rate: percent }\nparam lpr: percent = 3.45%\n"
                     "limit rate_cap: rate <= lpr + 150bp cite \"三(四)\" says \"too high\"")
    decision = api.decide(policy, {"rate": "5%"})
    assert decision["failures"] == [{
        "rule": "rate_cap", "kind": "limit", "cite": "三(四)", "message": "too high",
        "value": "0.05", "bound": "0.0495"}]
    assert api.decide(policy, {"rate": "4.95%"})["eligible"] is True


@pytest.mark.parametrize(("amount", "written"), [
    ("9000000", "900万"), ("1234500", "123.45万"), ("150000000", "1.5亿"),
    ("100000", "10万"), ("-2000000", "-200万"), ("40500", "40500元"), ("99999.99", "99999.99元"),
    ("1234567.8", "1234567.8元"), ("0", "0元")])
def test_messages_write_large_amounts_in_wan_where_exact(amount: str, written: str) -> None:
    """Amounts of 10万 or more read as documents write them, where two places of 万 or 亿
    are exact; fees and other small amounts stay in 元."""
    assert v.readable_literal(Decimal(amount), ir.MONEY) == written
    assert v.readable_literal(Decimal("0.05"), ir.PERCENT) == "5%"


# A money let, part, or limit's value or bound is a DECIMAL(18,2) column in SQL: each,
# rounded to the fen, stays below 10^16 yuan (E611). `a` is the one input changed: times
# n = 10, 999999999999999.9994 is 9999999999999999.994 (…99.99 at the fen) and
# 999999999999999.9995 reaches 10^16.
MONEY_COLUMNS = [
    # (declaration, what the error names, `a` just below, `a` at 10^16)
    ("let total = a * n", "let total", "999999999999999.9994", "999999999999999.9995"),
    ("shares s of a * n { x: 100% }", "part x of s",
     "999999999999999.9994", "999999999999999.9995"),
    # 19999999999999999.98 halves to two parts below; .99 to …99.995 each, and the
    # missing fen takes x to 10^16
    ("waterfall w(a * n * 2) { split { x: 50%  y: 50% } }", "part x of w",
     "999999999999999.999", "999999999999999.9995"),
    # a limit's sides where it applies, whether it holds or fails
    ("limit c: a * n >= 0元 when b", "limit c's value",
     "999999999999999.9994", "999999999999999.9995"),
    ("limit c: 0元 >= a * n when b", "limit c's bound",
     "999999999999999.9994", "999999999999999.9995"),
]
MONEY_INPUTS = "input { a: money  n: number = 10  b: bool = true }\n"


@pytest.mark.parametrize(("declaration", "what", "below", "at"), MONEY_COLUMNS)
def test_money_a_decision_holds_stays_below_10_to_the_16(declaration: str, what: str,
                                                          below: str, at: str) -> None:
    policy = _policy(MONEY_INPUTS + declaration)
    decision = api.decide(policy, {"a": below})
    if what == "limit c's value":  # holds, reporting nothing
        assert decision["eligible"] is True
    else:
        assert "9999999999999999.99" in json.dumps(decision)
    for sign in ("", "-"):
        if sign and "limit" not in what:  # an allocated amount is never negative
            continue
        with pytest.raises(PolicyError) as error:
            api.decide(policy, {"a": sign + at})
        diagnostic = error.value.diagnostics[0]
        assert diagnostic.code == "E611"
        assert diagnostic.message == (
            f"{what}: {sign}10,000,000,000,000,000.00元 is out of range (a money let, part, "
            "or limit's value or bound must stay below 10,000,000,000,000,000元)")
    if what.startswith("limit"):  # not where the limit does not apply
        assert api.decide(policy, {"a": at, "b": "false"})["eligible"] is True


def test_money_out_of_range_is_located_at_what_holds_it() -> None:
    policy = _policy(MONEY_INPUTS + "let total = a * n\nlimit c: a <= a * n")
    with pytest.raises(PolicyError) as error:
        api.decide(policy, {"a": "999999999999999.9995"})
    spans = [(d.span.line, d.span.column) for d in error.value.diagnostics]
    assert spans == [(4, 15)]  # the limit's bound, evaluated before the let
    policy = _policy(MONEY_INPUTS + "let total = a * n")
    with pytest.raises(PolicyError) as error:
        api.decide(policy, {"a": "999999999999999.9995"})
    assert [(d.span.line, d.span.column) for d in error.value.diagnostics] == [(3, 13)]


def test_money_computed_along_the_way_may_pass_10_to_the_16() -> None:
    """Only what SQL writes to a DECIMAL(18,2) column is held below 10^16: an operand, an
    allocated amount and a percent are held below 10^18 only, as every value."""
    policy = _policy(MONEY_INPUTS + "let back = a * n / n\nshares s of a * n { x: 50%  y: 50% }\n"
                     "limit share: a * n / 1元 * 1% <= 1%")
    decision = api.decide(policy, {"a": "999999999999999", "n": "15"})  # a * n: 1.5 × 10^16
    assert decision["values"] == {"back": "999999999999999.00"}
    assert decision["allocations"]["s"] == {"x": "7499999999999992.50",
                                            "y": "7499999999999992.50"}
    assert decision["failures"][0]["value"] == "149999999999999.85"
