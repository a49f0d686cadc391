"""A limit's sides in a book query without their columns (emit/sql_money.py).

`run --book --no-limit-values` computes no limit's value or bound column, whose DECIMAL(18,2)
cast refuses a side of 10^16 yuan or more (tests/test_book.py runs such books end to end):
- the bound on a side from the policy alone is sound (never below a value the interpreter
  computes) and keeps the usual sides below 10^16, so they need no test;
- the book's measured bounds spare the test where the policy alone cannot;
- on every seed policy no limit side needs one: the query is the one it was.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policylang import api, ir
from policylang.emit.sql import build_query
from policylang.emit.sql_bounds import Bounds
from policylang.emit.sql_money import MONEY_OUT_OF_RANGE, money_bound
from policylang.engine import book_query, out_of_range
from policylang.interpret import Decision
from policylang.values import MONEY_EDGE
from tests.policies import all_policies
from tests.strategies import default_params

SIDES = api.load_source('''policy sides "sides" {
  input {
    a: money
    n: number
    rate: percent
  }
  param scale: number = 3
  let fee = a * rate
  limit by_input: a <= 1000万 cite "i"
  limit by_rate: a * 2.5% >= 0元 cite "r"
  limit by_let: fee <= a * 0.5 cite "l"
  limit by_param: a * scale <= 9 * a cite "p"
  limit by_product: a * n <= 1亿 cite "n"
  limit by_quotient: a / n <= 1亿 when n != 0 cite "q"
  limit by_choice: (if n > 1 then a * n else a) <= 1亿 cite "c"
}
''', "sides.pol")


def _limit(name: str) -> ir.Limit:
    return next(c for c in SIDES.checks if c.name == name)


def _query(bounds: tuple | None) -> str:
    return book_query(SIDES, default_params(SIDES), (), bounds, limit_values=False)


_TEST = MONEY_OUT_OF_RANGE.replace("'", "''")  # as the query's SQL string quotes it


def _checked(query: str) -> set[str]:
    """The limits whose sides the query tests for 10^16 yuan."""
    if _TEST not in query:
        return set()
    return {c.name for c in SIDES.checks if f'"__pl_limit_{c.name}__value"' in query or
            f'"__pl_limit_{c.name}__bound"' in query}


def test_the_message_is_the_one_a_money_columns_cast_gives() -> None:
    cast = ('Conversion Error: Casting value "9999999999999999.995" to type DECIMAL(18,2) '
            'failed: value is out of range!')
    assert out_of_range(cast) == MONEY_OUT_OF_RANGE


def test_the_policy_alone_spares_the_test_for_sides_known_below_10_to_the_16() -> None:
    params = default_params(SIDES)
    for name in ("by_input", "by_rate", "by_let", "by_param"):
        limit = _limit(name)
        assert money_bound(limit.subject, params) < MONEY_EDGE, name
        assert money_bound(limit.bound, params) < MONEY_EDGE, name
    assert money_bound(_limit("by_product").subject, params) > MONEY_EDGE
    assert money_bound(_limit("by_quotient").subject, params) is None
    assert _checked(_query(None)) == {"by_product", "by_quotient", "by_choice"}


def test_the_books_bounds_spare_the_test_where_they_keep_a_side_below() -> None:
    small = (("a", Bounds(Decimal(0), Decimal("99999.99"), 2)),
             ("n", Bounds(Decimal(1), Decimal(99), 0)),
             ("rate", Bounds(Decimal(0), Decimal("0.9999"), 4)))
    assert _checked(_query(small)) == {"by_quotient"}  # by a number: no bound known
    wide = (("a", Bounds(Decimal(0), Decimal("999999999999999.99"), 2)),
            ("n", Bounds(Decimal(1), Decimal(99), 0)),
            ("rate", Bounds(Decimal(0), Decimal("0.9999"), 4)))
    assert _checked(_query(wide)) == {"by_product", "by_quotient", "by_choice"}


@pytest.mark.parametrize("path", sorted(all_policies()))
def test_no_seed_limit_side_needs_the_test(path: str) -> None:
    policy = all_policies()[path]
    if any(value is None for value in default_params(policy).values()):
        pytest.skip("a param without default")
    query = build_query(policy, default_params(policy), per_case=True,
                        limit_values=False).sql(dialect="duckdb")
    assert _TEST not in query and "__pl_limit_" not in query


BOUNDED = api.load_source('''policy bounded "bounded" {
  input {
    x: number
    y: number
    z: number
  }
  param k: number = 0.3333333333
  let product = x * y * k
  let sum = x - y + 7.5
  let quotient = (x * k) / 7
  let choice = if x > y then min(x, -y * z) else max(abs(z), -x)
  let rounded = x * 0.0000000001 * y
}
''', "bounded.pol")

_NUMBER = st.decimals(min_value=-10**6, max_value=10**6, places=10, allow_nan=False,
                      allow_infinity=False)


@settings(max_examples=100, deadline=None)
@given(x=_NUMBER, y=_NUMBER, z=_NUMBER)
def test_the_bound_from_the_policy_alone_holds_every_value(x: Decimal, y: Decimal,
                                                           z: Decimal) -> None:
    """Sound: no value the interpreter computes (rounded to 10 places) is beyond it."""
    params = default_params(BOUNDED)
    decision = Decision.of(BOUNDED, {"x": x, "y": y, "z": z}, params)
    inputs = {"x": abs(x), "y": abs(y), "z": abs(z)}
    for let in BOUNDED.lets:
        found = money_bound(let.expr, params)
        assert found is not None, let.name
        # The bound with each input's own magnitude in place of 10^15 (every input bounded).
        tight = money_bound(_with_inputs(let.expr, inputs), params)
        assert abs(decision.evaluator.let(let.name)) <= tight <= found, let.name


def _with_inputs(e: ir.Expr, inputs: dict[str, Decimal]) -> ir.Expr:
    """e with each input read replaced by its value's magnitude, as a constant."""
    if isinstance(e, ir.InputRef):
        return ir.Const(inputs[e.name], e.type, e.span)
    changes = {}
    for f in dataclasses.fields(e):
        value = getattr(e, f.name)
        if isinstance(value, ir.Expr):
            changes[f.name] = _with_inputs(value, inputs)
        elif isinstance(value, tuple) and value and all(isinstance(v, ir.Expr) for v in value):
            changes[f.name] = tuple(_with_inputs(v, inputs) for v in value)
    return dataclasses.replace(e, **changes)
