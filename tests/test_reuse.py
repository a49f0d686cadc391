"""The let-reuse rewrite (emit/reuse.py) and the integer fen split it pairs with in the
Python backend: both must leave every decision exactly as it was."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policylang import api, ir
from policylang.diagnostics import PolicyError
from policylang.emit import python_runtime as runtime
from policylang.emit.reuse import reuse_lets, shape
from policylang.interpret import allocate_fen, evaluate
from tests.policies import all_policies
from tests.strategies import cases, default_params

POLICIES = all_policies()

REPEATED = '''policy p "t" {
  input { amount: money  months: duration  first: bool = false }
  let base      = amount * years(months) * 1%
  let same      = amount * years(months) * 1%
  let capped    = if first then min(amount * years(months) * 1%, 10万) else 0元
  let plain     = amount
  let uses_leaf = amount + 1元
  limit cap: amount * years(months) * 1% <= 50万
}'''


def refs(node: object) -> set[str]:
    """The lets an IR node reads."""
    return {found.name for found in ir.walk(node) if isinstance(found, ir.LetRef)}


def test_a_repeated_let_expression_reads_the_let() -> None:
    policy = reuse_lets(api.load_source(REPEATED))
    lets = {let.name: let for let in policy.lets}
    assert refs(lets["capped"].expr) == {"base"}
    assert refs(policy.checks[0]) == {"base"}
    # Equal lets keep their own expressions (neither reads the other: no cycle), and a
    # leaf (`amount`) is never replaced by the let that is only that leaf.
    assert refs(lets["base"].expr) == refs(lets["same"].expr) == set()
    assert refs(lets["uses_leaf"].expr) == set()


def test_shapes_ignore_spans_only() -> None:
    policy = api.load_source(REPEATED)
    base, same, capped = (let.expr for let in policy.lets[:3])
    assert base.span != same.span and shape(base) == shape(same)
    assert shape(base) != shape(capped)


def test_a_policy_without_repeats_is_returned_as_it_is() -> None:
    policy = api.load_source('policy p "t" { input { a: money } let b = a * 2 rule r: b > 0元 }')
    assert reuse_lets(policy) == policy


def decide(policy: ir.Policy, case: dict, params: dict) -> dict | str:
    try:
        return evaluate(policy, case, params)
    except PolicyError as error:
        return error.code


@pytest.mark.parametrize("name", list(POLICIES))
def test_the_rewritten_policy_decides_as_the_original(name: str) -> None:
    policy = POLICIES[name]
    params = default_params(policy)
    if any(value is None for value in params.values()):
        pytest.skip("a param without default cannot be bound for random cases")
    rewritten = reuse_lets(policy)

    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=cases(policy))
    def check(case):
        assert decide(rewritten, case, params) == decide(policy, case, params)

    check()


FEN = st.integers(min_value=0, max_value=10**17 - 1).map(lambda f: Decimal(f).scaleb(-2))


@st.composite
def constant_shares(draw) -> tuple[tuple[int, ...], int]:
    """Shares of at most 8 places summing to exactly 100%, as numerators and scale."""
    places = draw(st.integers(min_value=0, max_value=8))
    scale = 10**places
    count = draw(st.integers(min_value=1, max_value=6))
    cuts = sorted(draw(st.lists(st.integers(min_value=0, max_value=scale),
                                min_size=count - 1, max_size=count - 1)))
    numerators = [b - a for a, b in zip([0, *cuts], [*cuts, scale], strict=True)]
    return tuple(numerators), scale


@settings(max_examples=3000, deadline=None, database=None)
@given(total=FEN, shares=constant_shares())
def test_split_fen_is_the_largest_remainder_allocation_of_the_exact_products(total,
                                                                             shares) -> None:
    numerators, scale = shares
    shared = runtime._FenSplit(numerators, scale)
    # A total of the same residue modulo the scale first, so that `total` is split from
    # what the shares learnt of that residue (and from scratch by fresh shares).
    runtime._split_fen(total + Decimal(scale * 7).scaleb(-2), shared)
    for shares_object in (shared, runtime._FenSplit(numerators, scale)):
        exact = [runtime._mul(total, Decimal(n) / scale) for n in numerators]
        split = runtime._split_fen(total, shares_object)
        assert list(split) == allocate_fen(total, exact)
        assert [str(x) for x in split] == [runtime._money_text(x) for x in split]
        assert sum(split) == total


def test_a_split_keeps_at_most_4096_residues_and_splits_every_total_alike_past_them() -> None:
    numerators, scale = (3333, 3333, 3334), 10**4
    split = runtime._FenSplit(numerators, scale)
    for fen in range(7 * scale + 1, 7 * scale + 5001):  # 5,000 residues, each once
        total = Decimal(fen).scaleb(-2)
        exact = [runtime._mul(total, Decimal(n) / scale) for n in numerators]
        assert list(runtime._split_fen(total, split)) == allocate_fen(total, exact)
    assert len(split.by_residue) == 4096


@settings(max_examples=2000, deadline=None, database=None)
@given(total=FEN, shares=constant_shares(), places=st.integers(min_value=2, max_value=10))
def test_allocate_missing_completes_the_truncated_parts_as_the_interpreter(total, shares,
                                                                           places) -> None:
    # Exact parts of up to 10 places summing to `total`, as a waterfall's do: the module
    # truncates them itself and leaves only a shortfall to `_allocate_missing`.
    numerators, scale = shares
    exact = [(total * n / scale).quantize(Decimal(1).scaleb(-places), ROUND_DOWN)
             for n in numerators]
    exact[-1] += total - sum(exact)
    truncated = [runtime._truncate(x, runtime._FEN) for x in exact]
    given_sum = sum(truncated, Decimal(0))
    expected = allocate_fen(total, exact)
    if given_sum == total:
        assert truncated == expected
    else:
        parts = runtime._allocate_missing(total, tuple(exact), list(truncated), given_sum)
        assert list(parts) == expected
        assert all(-x.as_tuple().exponent == 2 for x in parts)
