"""The z3 encoding (policylang/smt.py): terms agree with the interpreter on solver models,
shared variables make two versions read one case, non-linear parts are reported."""

from __future__ import annotations

import z3

from policylang import api, smt
from policylang.cases import parse_case, parse_params
from policylang.interpret import evaluate

SOURCE = """
policy p "t" {
  enum kind { a "A"  b "B" }
  input {
    k: kind
    amount: money
    rate: percent
    term: duration
    flag: bool = false
    loss: money = 0元
  }
  param base: percent = 4%
  rule kind_rule: k == a or flag
  limit cap: amount <= 500万 when k == a
  limit rate_cap: rate <= base + 150bp
  limit term_cap: term <= 3 years
  let fee = amount * 2.5%
  let nonlinear = amount * rate
  let rounded = round(amount / 3, 1元)
  shares split of loss { bank: 20%  fund: 80% }
  waterfall w(loss) { take first up to 10万  rest others }
}
"""


def _policy(source: str = SOURCE):
    return api.load_source(source, "p.pol")


def _solve(encoding: smt.Encoding, *facts) -> z3.ModelRef:
    solver = z3.Solver()
    solver.add(*encoding.domain, *encoding.defined, *encoding.plausible,
               *encoding.fix_params_to_defaults(), *facts)
    assert solver.check() == z3.sat
    return solver.model()


def test_a_model_is_a_case_run_accepts_and_the_terms_agree_with_the_interpreter():
    policy = _policy()
    encoding = smt.Encoding(policy)
    model = _solve(encoding, z3.Not(encoding.holds("cap")), encoding.holds("rate_cap"),
                   encoding.part("w", "others") > 1000, encoding.let("rounded") > 0)
    case = encoding.model_to_case(model)
    decision = evaluate(policy, parse_case(policy, case), parse_params(policy, {}))
    failed = {f["rule"] for f in decision["failures"]}
    assert "cap" in failed and "rate_cap" not in failed
    assert decision["eligible"] is False
    assert float(decision["allocations"]["w"]["others"]) > 1000
    assert float(decision["values"]["rounded"]) > 0


def test_guard_condition_and_eligibility_are_exact_at_the_bound():
    policy = _policy()
    encoding = smt.Encoding(policy)
    model = _solve(encoding, encoding.guard("cap"), encoding.inputs["amount"] == 5000000)
    assert z3.is_true(model.eval(encoding.condition("cap")))
    model = _solve(encoding, encoding.inputs["amount"] == smt.real("5000000.01"),
                   encoding.guard("cap"))
    assert z3.is_false(model.eval(encoding.holds("cap")))
    # eligibility needs every check: a `b` borrower without the flag is never eligible
    solver = z3.Solver()
    solver.add(*encoding.domain, encoding.eligible(),
               encoding.inputs["k"] == encoding.variables.code("b"),
               encoding.inputs["flag"] == False)  # noqa: E712 — a z3 formula
    assert solver.check() == z3.unsat


def test_non_linear_parts_are_reported_not_guessed():
    encoding = smt.Encoding(_policy())
    assert encoding.let_or_none("nonlinear") is None
    assert encoding.unsupported == {"let nonlinear": "a product of two variables"}
    assert encoding.let_or_none("fee") is not None


def test_shared_variables_read_one_case_across_versions():
    old = _policy()
    new = _policy(SOURCE.replace("500万", "1000万"))
    variables = smt.Variables()
    a, b = smt.Encoding(old, variables, "old"), smt.Encoding(new, variables, "new")
    assert a.inputs["amount"] is b.inputs["amount"]
    solver = z3.Solver()
    solver.add(*a.domain, *b.domain, *a.fix_params_to_defaults(), *b.fix_params_to_defaults())
    solver.add(a.eligible() != b.eligible())
    assert solver.check() == z3.sat
    case = b.model_to_case(solver.model())
    decisions = [api.decide(p, case) for p in (old, new)]
    assert decisions[0]["eligible"] != decisions[1]["eligible"]


def test_durations_in_days_and_skipped_defaults():
    policy = _policy(SOURCE.replace("term <= 3 years", "term <= 90 days"))
    encoding = smt.Encoding(policy)
    model = _solve(encoding, z3.Not(encoding.holds("term_cap")))
    case = encoding.model_to_case(model, skip_defaults=True)
    assert case["term"].endswith("days")
    assert "flag" not in case or case["flag"] is True
    decision = api.decide(policy, case)
    assert "term_cap" in {f["rule"] for f in decision["failures"]}


def test_defined_excludes_negative_allocated_amounts_and_contexts_are_private():
    policy = _policy()
    variables = smt.Variables(ctx=z3.Context())
    encoding = smt.Encoding(policy, variables)
    encoding.part("split", "bank")
    solver = z3.Solver(ctx=variables.ctx)
    solver.add(*encoding.domain, *encoding.defined, encoding.inputs["loss"] < 0)
    assert solver.check() == z3.unsat
    assert encoding.holds("cap").ctx == variables.ctx != z3.main_ctx()
