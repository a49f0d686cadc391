"""Random *policies*, every backend (policylang/backends.py) agreeing exactly.

The differential tests of test_emit_python.py and test_emit_sql.py draw random cases for
the seed policies, whose operators are few. Here hypothesis draws the policies too
(tests/policy_strategies.py: nested if/min/max/round/abs, `*` and `/` chains mixing money,
percents and numbers, durations and dates, enums and `in` sets, guards, lets reading lets,
shares and waterfalls with caps, literals from 10^-10 to near 10^18), then cases for each
(values at and beside every constant of the policy), and compares the decision JSON of the
interpreter with the generated Python module's, DuckDB's (compiled, and narrowed to the
cases' bounds as `run --book` runs it) and SQLite's: every field, keys in order.

Errors must agree too. A case the interpreter rejects (E610/E611) must be rejected by every
backend; where several declarations fail, which one a backend reports may differ (DESIGN:
evaluation order does not matter; README, SQL dialects), so a backend's code must be one
of the codes the failing declarations give when each is evaluated on its own.

POLICYLANG_FUZZ_POLICIES sets the number of policies (default 120: 21-25 s on two shared
cores, inside the suite's budget of 40 s for this file), POLICYLANG_FUZZ_CASES the cases
per policy (default 12), and POLICYLANG_FUZZ_SEED a seed for a long run that is not
derandomized (a different sample each seed):

    POLICYLANG_FUZZ_POLICIES=5000 POLICYLANG_FUZZ_SEED=7 python -m pytest -n0 tests/test_backends.py
"""

from __future__ import annotations

import functools
import json
import os
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from policylang import api, backends, ir
from policylang.cases import parse_case
from policylang.diagnostics import PolicyError
from policylang.engine import open_database, run_many
from policylang.interpret import Evaluator
from policylang.values import in_exact_context
from tests.policy_strategies import cases, policies
from tests.test_interpret import MONEY_COLUMNS, MONEY_INPUTS

POLICIES = int(os.environ.get("POLICYLANG_FUZZ_POLICIES", "120"))
CASES = int(os.environ.get("POLICYLANG_FUZZ_CASES", "12"))
SEED = os.environ.get("POLICYLANG_FUZZ_SEED")
DIALECTS = ("duckdb", "duckdb-narrow", "sqlite")
# Each case a query rejects is run alone (one error aborts a whole query): a few per policy.
ERRORS_PER_POLICY = 3


@functools.cache
def database(dialect: str):
    return open_database(dialect)


def _params(policy: ir.Policy) -> dict[str, ir.Value]:
    return {p.name: p.default for p in policy.params}


def _outcome(decide, case, params) -> dict | PolicyError:
    try:
        return decide(case, params)
    except PolicyError as error:
        return error


@in_exact_context
def possible_errors(policy: ir.Policy, case: dict[str, ir.Value],
                    params: dict[str, ir.Value]) -> set[str]:
    """The codes of the declarations that fail on this case, each evaluated on its own:
    any of them is a right answer for a backend (which one comes first is not defined)."""
    codes: set[str] = set()
    items = [("check", check) for check in policy.checks] + list(policy.order)
    for kind, item in items:
        evaluator = Evaluator(policy, case, params)
        try:
            match kind:
                case "check":
                    evaluator.check(item)
                case "let":
                    evaluator.let(item)
                case _:
                    evaluator.allocation(item)
        except PolicyError as error:
            codes.update(d.code for d in error.diagnostics)
    return codes


def _text(outcome: dict | PolicyError) -> str:
    if isinstance(outcome, PolicyError):
        return f"error {[d.code for d in outcome.diagnostics]}: {outcome}"
    return json.dumps(outcome, ensure_ascii=False)  # keys in order: order is compared too


def disagreements(policy: ir.Policy, drawn: list[dict[str, ir.Value]],
                  params: dict[str, ir.Value] | None = None) -> list[str]:
    """Every backend's outcome of every case against the interpreter's: the differences,
    each described with its case."""
    params = _params(policy) if params is None else params
    interp = backends.interpreter(policy)
    python = backends.python(policy)
    expected = [_outcome(interp, case, params) for case in drawn]
    got: dict[str, list[dict | PolicyError]] = {
        "python": [_outcome(python, case, params) for case in drawn]}
    good = [i for i, e in enumerate(expected) if not isinstance(e, PolicyError)]
    bad = [i for i, e in enumerate(expected) if isinstance(e, PolicyError)][:ERRORS_PER_POLICY]
    for dialect in DIALECTS:
        found: dict[int, dict | PolicyError] = {}
        decided = run_many(policy, [drawn[i] for i in good], params, database=database(dialect))
        found.update(zip(good, decided, strict=True))
        for i in bad:
            found[i] = run_many(policy, [drawn[i]], params, database=database(dialect))[0]
        got[dialect] = [found.get(i) for i in range(len(drawn))]
    problems = []
    for i, (case, want) in enumerate(zip(drawn, expected, strict=True)):
        allowed = None
        for backend, outcomes in got.items():
            actual = outcomes[i]
            if actual is None:  # an error case beyond ERRORS_PER_POLICY: not run here
                continue
            if isinstance(want, PolicyError) and isinstance(actual, PolicyError):
                if allowed is None:
                    allowed = possible_errors(policy, case, params) | {
                        d.code for d in want.diagnostics}
                if {d.code for d in actual.diagnostics} & allowed:
                    continue
            elif not isinstance(want, PolicyError) and not isinstance(actual, PolicyError) \
                    and _text(want) == _text(actual):
                continue
            problems.append(f"{backend} differs on case {case!r}:\n  interp  {_text(want)}\n"
                            f"  {backend:7} {_text(actual)}")
    return problems


def _settings(test):
    kept = settings(max_examples=POLICIES, deadline=None, database=None,
                    derandomize=SEED is None, suppress_health_check=list(HealthCheck),
                    print_blob=False)(test)
    return seed(int(SEED))(kept) if SEED is not None else kept


@_settings
@given(generated=policies(), data=st.data())
def test_every_backend_agrees_on_random_policies(generated, data) -> None:
    try:
        policy = api.load_source(generated.source, "fuzzed.pol")
    except PolicyError as error:
        # A well-typed policy may still hold a constant operation that always fails
        # (`1 year + 15 days`, a constant division by zero): check reports it (E610/E611).
        codes = {d.code for d in error.diagnostics}
        assert codes <= {"E610", "E611"}, f"{error}\n{generated.source}"
        return
    drawn = data.draw(st.lists(cases(policy, generated.units), min_size=CASES,
                               max_size=CASES), label="cases")
    problems = disagreements(policy, drawn)
    assert not problems, "\n".join(problems[:3])


@pytest.mark.parametrize("dialect", DIALECTS)
def test_an_in_sets_later_items_are_evaluated_only_until_one_matches(dialect: str) -> None:
    """`x in {a, b}` stops at the first item equal to x, as the interpreter does: DuckDB's
    IN evaluated every item (`n in {0, 1 / n}` was E610 for n = 0), and an OR of duration
    comparisons both sides; the generated Python evaluated every item of a tuple.
    (tests/conformance/fuzzed.test holds the same on every backend.)"""
    policy = api.load_source(
        'policy p "t" {\n  input {\n    n: number\n    d: duration\n  }\n'
        "  rule s: n in {0, 1 / n}\n  rule r: d in {23 months, max(d, 3 days)}\n"
        "  let off = n not in {0, 1 / n}\n}\n", "in_sets.pol")
    drawn = [{"n": Decimal(0), "d": ir.Duration(23, "month")},
             {"n": Decimal(1), "d": ir.Duration(0, "day")},
             {"n": Decimal(2), "d": ir.Duration(23, "month")}]
    params = _params(policy)
    expected = [backends.interpreter(policy)(case, params) for case in drawn]
    assert [e["eligible"] for e in expected] == [True, False, False]
    assert [e["values"]["off"] for e in expected] == [False, False, True]
    assert run_many(policy, drawn, params, database=database(dialect)) == expected


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("declaration", "what", "below", "at"), MONEY_COLUMNS)
def test_money_of_10_to_the_16_is_refused_by_sql_as_by_the_interpreter(
        dialect: str, declaration: str, what: str, below: str, at: str) -> None:
    """A money let, part, or limit's value or bound is a DECIMAL(18,2) column: the query
    refuses one of 10^16 yuan at the fen (E611) where the interpreter does, and no other
    (tests/test_interpret.py holds the interpreter to the rule)."""
    policy = api.load_source(f'policy p "p" {{\n{MONEY_INPUTS}{declaration}\n}}\n', "p.pol")
    drawn = [parse_case(policy, {"a": a}) for a in (below, at)]
    params = _params(policy)
    want = [_outcome(backends.interpreter(policy), case, params) for case in drawn]
    got = [run_many(policy, [case], params, database=database(dialect))[0] for case in drawn]
    assert isinstance(want[1], PolicyError) and want[0] == got[0]
    assert isinstance(got[1], PolicyError) and [d.code for d in got[1].diagnostics] == ["E611"]
