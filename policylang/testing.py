"""In-file tests: checking `test` blocks (for the checker) and running them on a backend.

A backend is anything that turns (case values, param values) into a decision JSON.
Expectations are judged on that decision, so every backend is held to the same bar:
`expect eligible`, `expect fails RULE`, and `expect EXPR`, where a let or a part in EXPR
means its reported value (money to the fen), exactly what the decision shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from policylang import ir
from policylang import nodes as n
from policylang.cases import read_reported
from policylang.diagnostics import PolicyError
from policylang.formatter import format_expr
from policylang.interpret import Evaluator
from policylang.values import literal, report

Backend = Callable[[dict[str, ir.Value], dict[str, ir.Value]], dict]


def check_tests(checker, tests: list[n.TestDecl], check_names: set[str]) -> tuple[ir.Test, ...]:
    """Check test blocks against the policy's names and types (E5xx)."""
    checked: list[ir.Test] = []
    seen: set[str] = set()
    for test in tests:
        if test.name.value in seen:
            checker.error("E504", f"a test named {test.name.value!r} already exists",
                          test.name.span)
        seen.add(test.name.value)
        given = _bindings(checker, test.given, checker.inputs, "E501", "input")
        given_names = {b.name for b in test.given}
        for name, field_ in checker.inputs.items():
            if field_.default is None and name not in given_names:
                checker.error("E502", f"test {test.name.value!r} gives no value for the "
                              f"required input `{name}`", test.name.span)
        params = _bindings(checker, test.params or (), checker.params, "E505", "param")
        expectations: list[ir.Expectation] = []
        for expectation in test.expectations:
            match expectation:
                case n.ExpectEligible(eligible=eligible, span=span):
                    expectations.append(ir.ExpectEligible(eligible, span))
                case n.ExpectOutcome(passes=passes, rule=rule, span=span):
                    if rule not in check_names:
                        checker.error("E503", f"no rule or limit is named `{rule}`",
                                      expectation.rule_span)
                    expectations.append(ir.ExpectOutcome(passes, rule, span))
                case n.ExpectExpr(expr=expr, span=span):
                    typed = checker.typer.expr(expr)
                    if typed.type.kind not in (ir.Kind.BOOL, ir.Kind.ERROR):
                        checker.error("E212", f"an expectation must be bool, not {typed.type}",
                                      expr.span)
                    expectations.append(ir.ExpectExpr(typed, format_expr(expr), span))
        checked.append(ir.Test(test.name.value, given, params, tuple(expectations), test.span))
    return tuple(checked)


def _bindings(checker, bindings, declared: dict[str, ir.Field], code: str,
              what: str) -> tuple[tuple[str, ir.Value], ...]:
    out: list[tuple[str, ir.Value]] = []
    seen: set[str] = set()
    for binding in bindings:
        if binding.name not in declared:
            checker.error(code, f"no {what} is named `{binding.name}`", binding.span)
            continue
        if binding.name in seen:
            checker.error("E403", f"`{binding.name}` is given twice", binding.span)
            continue
        seen.add(binding.name)
        value = checker.constant(binding.value, declared[binding.name].type,
                                 f"the value of `{binding.name}`")
        if value is not None:
            out.append((binding.name, value))
    return tuple(out)


# ── running ────────────────────────────────────────────────────────────────


@dataclass
class TestResult:
    policy: str
    test: ir.Test
    backend: str
    failures: list[str] = field(default_factory=list)
    error: PolicyError | None = None

    @property
    def passed(self) -> bool:
        return not self.failures and self.error is None


def test_case(policy: ir.Policy, test: ir.Test) -> tuple[dict[str, ir.Value], dict[str, ir.Value]]:
    """The full case and params of a test block (defaults filled in)."""
    given = dict(test.given)
    case = {f.name: given.get(f.name, f.default) for f in policy.inputs}
    params_given = dict(test.params)
    params = {p.name: params_given.get(p.name, p.default) for p in policy.params}
    missing = [name for name, value in params.items() if value is None]
    if missing:
        raise PolicyError.single("E507", f"param `{missing[0]}` has no default; give it in "
                                 "the test's `params { … }`", test.span)
    return case, params


def run_test(policy: ir.Policy, test: ir.Test, backend_name: str, backend: Backend) -> TestResult:
    result = TestResult(policy.name, test, backend_name)
    try:
        case, params = test_case(policy, test)
        decision = backend(case, params)
    except PolicyError as error:
        result.error = error
        return result
    failed = {f["rule"]: f for f in decision["failures"]}
    evaluator = _decision_evaluator(policy, case, params, decision)
    for expectation in test.expectations:
        match expectation:
            case ir.ExpectEligible(eligible=eligible):
                if decision["eligible"] != eligible:
                    why = "; ".join(_describe_failure(f) for f in decision["failures"])
                    result.failures.append(
                        f"expected {'eligible' if eligible else 'not eligible'}, but it is "
                        + ("not eligible: " + why if eligible else "eligible"))
            case ir.ExpectOutcome(passes=passes, rule=rule):
                if (rule not in failed) != passes:
                    result.failures.append(
                        f"expected {rule} to {'pass' if passes else 'fail'}, but it "
                        + (f"fails: {_describe_failure(failed[rule])}" if passes else "holds"))
            case ir.ExpectExpr(expr=expr, source=source):
                try:
                    holds = evaluator.expr(expr)
                except PolicyError as error:
                    result.failures.append(f"expect {source}: {error.diagnostics[0].message}")
                    continue
                if not holds:
                    result.failures.append(f"expect {source}: false; "
                                           + _actual_values(evaluator, expr))
    return result


def _decision_evaluator(policy: ir.Policy, case, params, decision: dict) -> Evaluator:
    """An evaluator whose lets and parts are the decision's reported values."""
    evaluator = Evaluator(policy, case, params)
    for let in policy.lets:
        evaluator.lets[let.name] = read_reported(decision["values"][let.name], let.type)
    for alloc in policy.allocations:
        if alloc.name in decision["allocations"]:
            evaluator.allocations[alloc.name] = {
                party: read_reported(amount, ir.MONEY)
                for party, amount in decision["allocations"][alloc.name].items()}
    return evaluator


def _describe_failure(failure: dict) -> str:
    text = failure["rule"]
    if failure["kind"] == "limit":
        text += f" (value {failure['value']}, bound {failure['bound']})"
    return text


def _actual_values(evaluator: Evaluator, expr: ir.Expr) -> str:
    if isinstance(expr, ir.Compare):
        parts = []
        for label, side in (("the left side", expr.left), ("the right side", expr.right)):
            if not isinstance(side, ir.Const):
                try:
                    value = literal(evaluator.expr(side), side.type)
                except PolicyError:
                    continue
                parts.append(f"{_describe(side, label)} is {value}")
        return ", ".join(parts) if parts else "the comparison does not hold"
    return f"it is {report(evaluator.expr(expr), expr.type)}"


def _describe(expr: ir.Expr, otherwise: str) -> str:
    match expr:
        case ir.PartRef(allocation=allocation, party=party):
            return f"{allocation}.{party}"
        case ir.InputRef(name=name) | ir.ParamRef(name=name) | ir.LetRef(name=name):
            return name
    return otherwise
