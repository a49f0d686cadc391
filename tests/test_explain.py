"""`explain`: the decision tree, golden-tested, and its text, JSON and HTML forms.

Goldens live in tests/goldens/explain/; rewrite them with `pytest --update-goldens` (or
POLICYLANG_UPDATE_GOLDENS=1) after a deliberate change, and review the diff.
"""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policylang import api
from policylang.cases import parse_case, parse_params
from policylang.cli import app
from policylang.explain import explain, render_html
from tests.policies import design_example

GOLDENS = Path(__file__).parent / "goldens" / "explain"
CASES = {
    # 1200万: amount_cap fails; the overdue waterfall splits the shortfall.
    "design_example_over_cap": {
        "in_zone": True, "sme": True, "high_tech": True, "tech_listed": False, "owns_ip": True,
        "revenue_last_year": "800万", "loan_amount": "1200万", "term": "1 year",
        "interest_rate": "5%", "overdue_amount": "100万", "pool_balance": "40万",
        "risk_fund_balance": "1000万"},
    # The risk fund runs out: the waterfall escalates what it cannot take (odd fen).
    "design_example_escalation": {
        "in_zone": True, "sme": False, "high_tech": True, "tech_listed": True, "owns_ip": False,
        "revenue_last_year": "0元", "loan_amount": "300万", "term": "6 months",
        "interest_rate": "4%", "overdue_amount": "1234567.89元", "pool_balance": "10万",
        "risk_fund_balance": "20万"},
}


def _update(request) -> bool:
    return bool(request.config.getoption("--update-goldens", default=False)
                or os.environ.get("POLICYLANG_UPDATE_GOLDENS"))


@pytest.fixture(scope="module")
def policy():
    return api.load_source(design_example(), "design_example.pol")


@pytest.mark.parametrize("name", list(CASES))
def test_explain_tree_matches_golden(policy, name: str, request) -> None:
    tree = explain(policy, parse_case(policy, CASES[name]), parse_params(policy, {}))
    text = json.dumps(tree.to_json(), ensure_ascii=False, indent=2) + "\n"
    golden = GOLDENS / f"{name}.json"
    if _update(request):
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden {golden}; run pytest --update-goldens"
    assert text == golden.read_text(encoding="utf-8")


# Seed-policy waterfalls: the 重庆 recovery waterfall leaves a remainder unallocated; the
# guarded compensation deadline applies. (test name in policies/chongqing/zhubaodai.pol)
SEED_CASES = {
    "zhubaodai_recovery_unallocated": "追偿：先还银行，再补回风险补偿金，余额不分配",
    "zhubaodai_risk_fund_short": "风险补偿金不足：升级处理，奇数分",
}


@pytest.mark.parametrize("name", list(SEED_CASES))
def test_explain_seed_waterfall_matches_golden(name: str, request) -> None:
    from policylang.testing import test_case

    root = Path(__file__).resolve().parents[1]
    seed = api.load(root / "policies" / "chongqing" / "zhubaodai.pol")
    test = next(t for t in seed.tests if t.name == SEED_CASES[name])
    tree = explain(seed, *test_case(seed, test)).to_json()
    text = json.dumps(tree, ensure_ascii=False, indent=2) + "\n"
    golden = GOLDENS / f"{name}.json"
    if _update(request):
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden {golden}; run pytest --update-goldens"
    assert text == golden.read_text(encoding="utf-8")
    steps = [n for w in tree["children"] if w["kind"] == "waterfall"
             for n in w["children"] if n["kind"] == "step"]
    assert steps and all("before" in n["detail"] and "left" in n["detail"] for n in steps)


def test_explanation_agrees_with_the_decision(policy) -> None:
    case = CASES["design_example_escalation"]
    decision = api.decide(policy, case)
    tree = explain(policy, parse_case(policy, case), parse_params(policy, {})).to_json()
    assert tree["value"] == decision["eligible"]
    failed = {node["name"] for node in tree["children"] if node.get("status") == "fails"}
    assert failed == {f["rule"] for f in decision["failures"]}
    waterfall = next(n for n in tree["children"] if n["kind"] == "waterfall")
    parts = {n["name"]: n["value"] for n in waterfall["children"] if n["kind"] == "part"}
    assert parts == decision["allocations"]["overdue"]


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "li":
            self.names.append(dict(attrs)["data-name"])


def test_html_has_every_node(policy) -> None:
    tree = explain(policy, parse_case(policy, CASES["design_example_over_cap"]),
                   parse_params(policy, {}))
    parser = _Collect()
    parser.feed(render_html(policy, tree))

    def names(node) -> list[str]:
        return [node.name] + [n for child in node.children for n in names(child)]

    assert parser.names == names(tree)


def test_cli_explain_and_run_explain(policy, tmp_path: Path) -> None:
    source = tmp_path / "design.pol"
    source.write_text(design_example(), encoding="utf-8")
    case = tmp_path / "case.json"
    case.write_text(json.dumps(CASES["design_example_over_cap"], ensure_ascii=False),
                    encoding="utf-8")
    runner = CliRunner()
    text = runner.invoke(app, ["explain", str(source), "--case", str(case)])
    assert text.exit_code == 0, text.output
    assert "amount_cap fails 1200万 <= 1000万 第十条" in text.output
    decided = runner.invoke(app, ["run", str(source), "--case", str(case), "--explain"])
    assert json.loads(decided.output)["explain"]["children"][3]["status"] == "fails"
    bad = tmp_path / "bad.json"
    bad.write_text('{"loan_amount": "lots"}', encoding="utf-8")
    assert runner.invoke(app, ["explain", str(source), "--case", str(bad)]).exit_code == 2
    assert runner.invoke(app, ["explain", str(source), "--case", str(case),
                               "--format", "pdf"]).exit_code == 2


def test_deps_follow_lets_allocations_and_portfolio(policy, tmp_path: Path) -> None:
    from policylang.deps import dependencies, unused_inputs

    found = dependencies(policy)
    assert found["waterfall overdue"].inputs == ("overdue_amount", "pool_balance",
                                                 "risk_fund_balance")
    assert found["limit rate_cap"].params == ("benchmark_rate",)
    assert found["waterfall overdue.pool"] == found["waterfall overdue"]
    assert "waterfall overdue.escalated" in found
    assert unused_inputs(policy) == []
    lonely = api.load_source('policy p "p" { input { a: money  b: money  d: date } '
                             'let x = a * 2 portfolio order by d { limit l = sum(x) <= 1元 } }',
                             "p.pol")
    assert dependencies(lonely)["limit l"].inputs == ("a", "d")
    assert unused_inputs(lonely) == ["b"]
    from policylang.deps import unused_params

    assert unused_params(policy) == []
    spare = api.load_source('policy p "p" { input { a: money } param r: percent = 1% '
                            'param s: percent = 2% rule x: a * s > 0元 }', "p.pol")
    assert unused_params(spare) == ["r"]
    source = tmp_path / "p.pol"
    source.write_text(design_example(), encoding="utf-8")
    result = CliRunner().invoke(app, ["deps", str(source), "--format", "json"])
    assert json.loads(result.output)["declarations"]["let guarantee_deposit"] == {
        "inputs": ["loan_amount"], "params": []}


NO_DECISION = """policy split "split" {
  input {
    loan: money
    parts: number
    sme: bool
  }

  let each: money = loan / parts cite "x"

  let doubled: money = loan * 2 cite "x"

  rule small: sme says "only SMEs" cite "a"

  limit per_part: each <= 10万 cite "b"

  limit doubled_cap: doubled <= 1000万 cite "c"

  shares by_part of each cite "d" {
    bank: 20%
    guarantor: 80%
  }
}
"""


def test_a_case_without_a_decision_still_explains_up_to_its_fault(tmp_path: Path) -> None:
    from policylang.explain import explain_failure
    from policylang.interpret import EvaluationError

    policy = api.load_source(NO_DECISION, "split.pol")
    case = parse_case(policy, {"loan": "100万", "parts": 0, "sme": False})
    with pytest.raises(EvaluationError) as raised:
        explain(policy, case, {})
    tree = explain_failure(policy, case, {}, raised.value).to_json()
    assert tree["status"] == "error"
    assert tree["detail"] == "no decision: division by zero (line 8)"
    shown = {child["name"]: child for child in tree["children"]}
    # What does not read the fault is decided as usual…
    assert shown["small"]["status"] == "fails"
    assert shown["doubled_cap"]["status"] == "holds"
    assert shown["doubled_cap"]["children"][0]["value"] == "2000000.00"
    # …and what does shows the error and the values that led to it.
    assert shown["per_part"]["status"] == "error"
    (let,) = shown["per_part"]["children"]
    assert (let["name"], let["status"], let["detail"]) == ("each", "error", "division by zero")
    assert [(c["name"], c["value"]) for c in let["children"]] == [("loan", "1000000.00"),
                                                                 ("parts", "0")]
    assert shown["by_part"]["status"] == "error"
    assert shown["by_part"]["children"][0]["detail"] == "division by zero (see above)"

    source, case_file = tmp_path / "split.pol", tmp_path / "case.json"
    source.write_text(NO_DECISION, encoding="utf-8")
    case_file.write_text('{"loan": "100万", "parts": 0, "sme": true}', encoding="utf-8")
    runner = CliRunner()
    for format_ in ("text", "json", "html"):
        result = runner.invoke(app, ["explain", str(source), "--case", str(case_file),
                                     "--format", format_])
        assert result.exit_code == 1, result.output
        assert "error[E610]: division by zero" in result.stderr
        assert "error[E610]" not in result.stdout
    assert json.loads(result_json := runner.invoke(app, [
        "explain", str(source), "--case", str(case_file), "--format", "json"]).stdout
    )["status"] == "error", result_json
    assert "per_part" in runner.invoke(app, ["explain", str(source), "--case",
                                             str(case_file)]).stdout
    html = runner.invoke(app, ["explain", str(source), "--case", str(case_file),
                               "--format", "html"]).stdout
    assert '<span class="error">error</span>' in html


def test_deps_of_a_book_rule_read_its_whole_value_and_bound() -> None:
    """`sum(amount) * rate <= cap * 2`: both params count, not only a bare param bound."""
    from policylang.deps import dependencies, unused_params

    policy = api.load_source(
        'policy dp "dp" {\n  input {\n    amount: money\n    day: date\n  }\n'
        '  param cap: money = 100元 "c"\n  param rate: percent = 50% "r"\n'
        '  limit each: amount <= 1万 cite "x"\n'
        '  portfolio order by day {\n'
        '    limit total = sum(amount) * rate <= cap * 2 cite "y"\n  }\n}\n', "dp.pol")
    assert dependencies(policy)["limit total"].params == ("cap", "rate")
    assert unused_params(policy) == []


def _children(node: dict, name: str) -> dict:
    return next(child for child in node["children"] if child["name"] == name)


def test_what_a_short_circuit_never_read_is_shown_as_not_evaluated(policy) -> None:
    """`high_tech or (tech_listed and …)` with high_tech true reads nothing else: the rest is
    `not evaluated`, with no value, rather than shown as if the rule had used it."""
    tree = explain(policy, parse_case(policy, CASES["design_example_over_cap"]),
                   parse_params(policy, {})).to_json()
    shown = {child["name"]: child for child in _children(tree, "tech_rule")["children"]}
    assert shown["high_tech"]["value"] is True
    for name in ("tech_listed", "owns_ip", "revenue_last_year"):
        assert shown[name]["status"] == "not evaluated" and "value" not in shown[name]
    seed = api.load(Path(__file__).resolve().parents[1] / "policies" / "chengdu"
                    / "reguarantee_fee.pol")
    case = {"guarantee_amount": "100万", "private": True, "class": "tech_sme"}
    relief = _children(api.explain(seed, case)[0].to_json(), "rate_relief")
    guard = relief["children"][0]  # `when waived or halved`, waived true
    assert [(c["name"], c.get("status")) for c in guard["children"]] == [
        ("waived", None), ("halved", "not evaluated")]
    due = _children(relief, "due_rate")  # if waived then 0% else if halved … standard_rate
    assert {c["name"]: c.get("status") for c in due["children"]} == {
        "waived": None, "halved": "not evaluated", "standard_rate": "not evaluated"}
    # A let only a short circuit skipped is still explained, on its own, with its value.
    assert _children(api.explain(seed, case)[0].to_json(), "halved")["value"] is False


def test_nothing_after_a_fault_is_shown_as_read() -> None:
    policy = api.load_source('policy f "f" {\n  input {\n    loan: money\n    parts: number\n'
                             '    sme: bool\n  }\n'
                             '  rule r: loan / parts > 1元 and sme cite "a"\n}\n', "f.pol")
    tree, error = api.explain(policy, {"loan": "100万", "parts": 0, "sme": True})
    assert error is not None
    rule = tree.to_json()["children"][0]
    assert rule["status"] == "error"
    shown = {child["name"]: child for child in rule["children"]}
    assert shown["loan"]["value"] == "1000000.00" and shown["parts"]["value"] == "0"
    assert shown["sme"]["status"] == "not evaluated"
    assert "fault" in shown["sme"]["detail"]


def test_a_waterfall_step_shows_the_cap_it_read(policy) -> None:
    """`take pool up to pool_balance`: the cap and what it read are part of the why."""
    tree = explain(policy, parse_case(policy, CASES["design_example_escalation"]),
                   parse_params(policy, {})).to_json()
    steps = {n["name"]: n for n in _children(tree, "overdue")["children"]
             if n["kind"] == "step"}
    assert steps["take pool"]["detail"] == (
        "1234567.89元 before; pool takes 10万 (up to 10万); 1134567.89元 left (exact)")
    assert [(c["name"], c["value"]) for c in steps["take pool"]["children"]] == [
        ("pool_balance", "100000.00")]
    assert [(c["name"], c["value"]) for c in steps["split"]["children"]] == [
        ("risk_fund_balance", "200000.00")]
    assert "risk_fund takes 20万 (50%, up to 20万)" in steps["split"]["detail"]


UNITS = """policy units "units" {
  input {
    loss: money
    term: duration
  }
  let subsidy: money = 300万 * years(term) * 1% cite "a"
  shares fixed ratio cite "b" {
    a: 1
    b: 2
  }
  let first: money = fixed.a * loss cite "c"
  let second: money = fixed.a * 2元 cite "c"
  shares risk of loss cite "d" {
    bank:  20%
    fund:  20%
    local: 60%
  }
}
"""


def test_money_and_percents_are_shown_with_their_units_to_the_fen(tmp_path: Path) -> None:
    from policylang.cli_views import explanation_text

    policy = api.load_source(UNITS, "units.pol")
    tree, error = api.explain(policy, {"loss": "1000.03元", "term": "53 months"})
    assert error is None
    text = explanation_text(tree, terminal=False)
    # A money let is reported to the fen; what the fen hides is said, not the only value.
    assert "let subsidy = 13.25万 (exactly 132500.000001元)" in text
    # A part of shares without an amount is a percent, where it is read a second time too.
    assert "part a = 33.33333333% 1 of 3" in text
    assert "part fixed.a = 33.33333333% see above" in text
    assert tree.to_json()["children"][2]["children"][0]["value"] == "0.3333333333"
    # Allocated money in 元, each part's exact share where rounding moved it: the two
    # 20% parts differ by the fen of the remainder, and the reader sees why.
    assert ("shares risk = 1000.03元 parts rounded to the fen so that they sum to the amount "
            "(largest remainders first, ties in the order written)") in " ".join(text.split())
    assert "part bank = 200.01元 20%; exactly 200.006元 before rounding to the fen" in text
    assert "part fund = 200元 20%; exactly 200.006元 before rounding to the fen" in text
    assert "part local = 600.02元 60%; exactly 600.018元 before rounding to the fen" in text


def test_html_writes_true_and_false_as_the_text_does(policy) -> None:
    tree = explain(policy, parse_case(policy, CASES["design_example_over_cap"]),
                   parse_params(policy, {}))
    page = render_html(policy, tree)
    assert '= <span class="value">false</span>' in page
    assert "True" not in page and "False" not in page


CAP_FAULT = """policy f "f" {
  input {
    loan: money
    parts: number
    pool: money
  }
  let each: money = loan / parts cite "x"
  limit cap: loan <= 100万 when each > 1元 cite "g"
  waterfall w(loan) cite "w" {
    take pool up to each
    rest bank
  }
}
"""


def test_a_fault_in_a_guard_or_a_waterfall_cap_is_shown_where_it_happened() -> None:
    policy = api.load_source(CAP_FAULT, "f.pol")
    tree, error = api.explain(policy, {"loan": "100万", "parts": 0, "pool": "1元"})
    assert error is not None
    cap, waterfall = tree.to_json()["children"][:2]
    # The guard faulted: it is the guard that shows the error, and the limit's own
    # comparison was never reached.
    guard, loan = cap["children"]
    assert (guard["kind"], guard["status"]) == ("guard", "error")
    assert guard["children"][0]["name"] == "each" and guard["children"][0]["status"] == "error"
    assert (loan["name"], loan["status"]) == ("loan", "not evaluated")
    # The waterfall faulted in a step's cap: the cap's let is under it, with the error.
    assert waterfall["status"] == "error"
    assert [(c["name"], c.get("status")) for c in waterfall["children"]] == [
        ("loan", None), ("each", "error")]


PART_FAULT = """policy h "h" {
  input {
    loss: money
    parts: number
  }
  waterfall w(loss) cite "w" {
    take bank up to loss / parts
    rest fund
  }
  let bank_part: money = w.bank cite "a"
  let fund_part: money = w.fund cite "b"
}
"""


def test_a_faulting_allocation_read_twice_still_gets_its_tree(tmp_path: Path) -> None:
    """The second read of a part of an allocation that faulted raised out of the tree:
    `explain` printed no tree at all, only the error."""
    source, case = tmp_path / "h.pol", tmp_path / "case.json"
    source.write_text(PART_FAULT, encoding="utf-8")
    case.write_text('{"loss": "100元", "parts": 0}', encoding="utf-8")
    result = CliRunner().invoke(app, ["explain", str(source), "--case", str(case),
                                      "--format", "json"])
    assert result.exit_code == 1 and "error[E610]: division by zero" in result.stderr
    bank_part, fund_part = json.loads(result.stdout)["children"]
    assert bank_part["children"][0]["status"] == "error"  # the waterfall, under its reader
    assert fund_part["children"] == [{"kind": "part", "name": "w.fund", "status": "error",
                                      "detail": "division by zero (see above)"}]


def test_a_value_both_sides_of_a_limit_read_is_shown_once() -> None:
    policy = api.load_source('policy d "d" {\n  input {\n    loan: money\n  }\n'
                             '  let fee: money = loan * 1% cite "f"\n'
                             '  limit l: loan + fee <= loan * 2 cite "x"\n}\n', "d.pol")
    limit = api.explain(policy, {"loan": "100万"})[0].to_json()["children"][0]
    assert [(c["kind"], c["name"]) for c in limit["children"]] == [("input", "loan"),
                                                                  ("let", "fee")]
