"""In-file tests: checking `test` blocks (for the checker) and running them on a backend.

A backend is anything that turns (case values, param values) into a decision JSON.
Expectations are judged on that decision, so every backend is held to the same bar:
`expect eligible`, `expect fails RULE`, and `expect EXPR`, where a let or a part in EXPR
means its reported value (money to the fen), exactly what the decision shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import assert_never

from policylang import ir
from policylang import nodes as n
from policylang.cases import read_reported
from policylang.checker import did_you_mean
from policylang.diagnostics import PolicyError
from policylang.formatter import format_expr
from policylang.interpret import Evaluator
from policylang.portfolio import check_order
from policylang.values import readable_literal, report

Backend = Callable[[dict[str, ir.Value], dict[str, ir.Value]], dict]


def check_tests(checker, tests: list[n.TestDecl], check_names: set[str]) -> tuple[ir.Test, ...]:
    """Check test blocks against the policy's names and types (E5xx)."""
    checked: list[ir.Test] = []
    seen: dict[str, n.Span] = {}
    for test in tests:
        if test.name.value in seen:
            checker.error("E504", f"a test named {test.name.value!r} already exists (line "
                          f"{seen[test.name.value].line})", test.name.span)
        seen.setdefault(test.name.value, test.name.span)
        cases = test.book if test.book is not None else (test.given,)
        checked_cases = tuple(_case(checker, test, case, index if test.book else None)
                              for index, case in enumerate(cases, 1))
        params = _bindings(checker, test.params or (), checker.params, "E505", "param")
        expectations = tuple(_expectation(checker, test, e, check_names)
                             for e in test.expectations)
        if test.book is None:
            checked.append(ir.Test(test.name.value, checked_cases[0], params, expectations,
                                   test.span))
        else:
            checked.append(ir.Test(test.name.value, (), params, expectations, test.span,
                                   checked_cases))
    return tuple(checked)


def _case(checker, test: n.TestDecl, bindings, index: int | None):
    given = _bindings(checker, bindings, checker.inputs, "E501", "input")
    given_names = {b.name for b in bindings}
    which = f" case {index}" if index is not None else ""
    for name in checker.inputs:
        if name in checker.required_inputs and name not in given_names:
            checker.error("E502", f"test {test.name.value!r}{which} gives no value for the "
                          f"required input `{name}`", test.name.span)
    return given


def _expectation(checker, test: n.TestDecl, expectation: n.Expectation,
                 check_names: set[str]) -> ir.Expectation:
    book = test.book
    portfolio = checker.portfolio
    book_rules = {r.name: r for r in portfolio.rules} if portfolio else {}
    case = expectation.case
    if case is not None and (book is None or not 1 <= case <= len(book)):
        checker.error("E508", f"`expect case {case}` needs a book test with a case {case}"
                      if book is None else f"the book has no case {case} (it has "
                      f"{len(book)})", expectation.span)
    elif case is None and book is not None and not (
            isinstance(expectation, n.ExpectOutcome) and expectation.rule in book_rules):
        checker.error("E508", "in a book test, say which case an expectation is about "
                      "(`expect case 2 eligible`), or name a book limit or monitor",
                      expectation.span)
    match expectation:
        case n.ExpectEligible(eligible=eligible, span=span):
            return ir.ExpectEligible(eligible, span, case)
        case n.ExpectOutcome(passes=passes, rule=rule, span=span):
            known = check_names | (set(book_rules) if case is None and book else set())
            if rule not in known:
                checker.error("E503", f"no rule or limit is named `{rule}`",
                              expectation.rule_span, *_what_it_is(checker, rule, known))
            return ir.ExpectOutcome(passes, rule, span, case)
        case n.ExpectMonitor(state=state, monitor=monitor, span=span):
            rule = book_rules.get(monitor)
            if rule is None or rule.kind != "monitor":
                checker.error("E503", f"no monitor is named `{monitor}`",
                              expectation.monitor_span, *did_you_mean(
                                  monitor, [r.name for r in book_rules.values()
                                            if r.kind == "monitor"]))
            return ir.ExpectMonitor(state, monitor, case or 0, span)
        case n.ExpectExpr(expr=expr, span=span):
            checker.book_columns = _book_columns(portfolio) if book is not None else {}
            try:
                typed = checker.typer.expr(expr)
            finally:
                checker.book_columns = {}
            if typed.type.kind not in (ir.Kind.BOOL, ir.Kind.ERROR):
                checker.error("E212", f"an expectation must be bool, not {typed.type}",
                              expr.span)
            return ir.ExpectExpr(typed, format_expr(expr), span, case)
        case _:
            assert_never(expectation)


def _what_it_is(checker, name: str, checks: set[str]) -> list[str]:
    """Why `expect passes NAME` names no rule: NAME is a let or a part (which an `expect`
    compares instead), or a rule misspelt."""
    if name in checker.lets:
        return [f"`{name}` is a let: compare its value, e.g. `expect {name} == …`"]
    if name in checker.inputs:
        return [f"`{name}` is an input: compare its value, e.g. `expect {name} == …`"]
    return did_you_mean(name, sorted(checks))


def _book_columns(portfolio: ir.Portfolio | None) -> dict[tuple[str, str], tuple[str, ir.Type]]:
    """`monitor.NAME` and `budget.NAME` in a book test: the case's portfolio columns."""
    columns = {}
    for rule in portfolio.rules if portfolio else ():
        if rule.kind == "monitor":
            columns[("monitor", rule.name)] = (f"monitor__{rule.name}", rule.value.type)
        elif rule.kind == "budget":
            columns[("budget", rule.name)] = (f"budget__{rule.name}", ir.MONEY)
    return columns


def _bindings(checker, bindings, declared: dict[str, ir.Field], code: str,
              what: str) -> tuple[tuple[str, ir.Value], ...]:
    out: list[tuple[str, ir.Value]] = []
    seen: set[str] = set()
    for binding in bindings:
        if binding.name not in declared:
            checker.error(code, f"no {what} is named `{binding.name}`", binding.span,
                          *did_you_mean(binding.name, list(declared)))
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
    # The line of the expectation each of `failures` is about, in the same order: where a
    # drafter goes to mend it (the test's own line is the `test "…"` header).
    failure_lines: list[int] = field(default_factory=list)

    def failed(self, expectation: ir.Expectation, failures: list[str]) -> None:
        self.failures += failures
        self.failure_lines += [expectation.span.line] * len(failures)

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
    for expectation in test.expectations:
        result.failed(expectation, _judge(policy, case, params, decision, expectation))
    return result


# A book backend: (cases, params) → (decisions, each case's portfolio columns, report).
BookBackend = Callable[[list[dict[str, ir.Value]], dict[str, ir.Value]],
                       tuple[list[dict], list[dict], dict]]


def run_book_test(policy: ir.Policy, test: ir.Test, backend_name: str,
                  backend: BookBackend) -> TestResult:
    result = TestResult(policy.name, test, backend_name)
    try:
        _, params = test_case(policy, test)
        cases = [{f.name: dict(given).get(f.name, f.default) for f in policy.inputs}
                 for given in test.book or ()]
        # A book out of date order is the test's mistake, not a backend's: said once, the
        # same way, whichever backend runs it (each would name the book its own way).
        check_order(policy, cases, "test book")
        decisions, columns, report = backend(cases, params)
    except PolicyError as error:
        result.error = error
        return result
    for expectation in test.expectations:
        if expectation.case is None:
            result.failed(expectation, _judge_book(expectation, report))
            continue
        index = expectation.case - 1
        if isinstance(expectation, ir.ExpectMonitor):
            key = (f"monitor__{expectation.monitor}__tripped" if expectation.state == "trips"
                   else f"suspended__{expectation.monitor}")
            if not columns[index][key]:
                verb = "trip" if expectation.state == "trips" else "be suspended by"
                value = columns[index].get(f"monitor__{expectation.monitor}")
                result.failed(expectation, [f"case {expectation.case}: expected it to {verb} "
                                            f"{expectation.monitor}, but it does not (value "
                                            f"{value})"])
            continue
        case = dict(cases[index]) | {name: _book_value(policy, name, value)
                                     for name, value in columns[index].items()}
        result.failed(expectation, [f"case {expectation.case}: {failure}" for failure in
                                    _judge(policy, case, params, decisions[index], expectation)])
    return result


def _book_value(policy: ir.Policy, name: str, reported: object) -> ir.Value:
    from policylang.portfolio import portfolio_columns

    types = dict(portfolio_columns(policy))
    return read_reported(reported, types[name])


def _judge_book(expectation: ir.Expectation, report: dict) -> list[str]:
    assert isinstance(expectation, ir.ExpectOutcome)
    name = expectation.rule
    if name in report.get("limits", {}):
        groups = report["limits"][name]["groups"]
        failing = [g for g in groups if not g["holds"]]
        if bool(failing) == expectation.passes:
            shown = failing[0] if failing else (groups[0] if groups else {})
            return [f"expected book limit {name} to {'pass' if expectation.passes else 'fail'}"
                    f", but its value is {shown.get('value')} against {shown.get('bound')}"]
        return []
    groups = report["monitors"][name]["groups"]
    tripped = [g for g in groups if g["tripped_row"] is not None]
    if bool(tripped) == expectation.passes:
        return [f"expected monitor {name} " + (
            f"never to trip, but case {tripped[0]['tripped_row']} trips it" if tripped
            else "to trip, but it never does")]
    return []


def _judge(policy: ir.Policy, case: dict[str, ir.Value], params: dict[str, ir.Value],
           decision: dict, expectation: ir.Expectation) -> list[str]:
    """What is wrong with one per-case expectation (nothing if it holds)."""
    failed = {f["rule"]: f for f in decision["failures"]}
    evaluator = _decision_evaluator(policy, case, params, decision)
    failures: list[str] = []
    match expectation:
        case ir.ExpectEligible(eligible=eligible):
            if decision["eligible"] != eligible:
                why = "; ".join(_describe_failure(f) for f in decision["failures"])
                failures.append(
                    f"expected {'eligible' if eligible else 'not eligible'}, but it is "
                    + ("not eligible: " + why if eligible else "eligible"))
        case ir.ExpectOutcome(passes=passes, rule=rule):
            if (rule not in failed) != passes:
                failures.append(
                    f"expected {rule} to {'pass' if passes else 'fail'}, but it "
                    + (f"fails: {_describe_failure(failed[rule])}" if passes
                       else _why_not_failing(policy, evaluator, rule)))
        case ir.ExpectExpr(expr=expr, source=source):
            try:
                holds = evaluator.expr(expr)
            except PolicyError as error:
                failures.append(f"expect {source}: {error.diagnostics[0].message}")
                return failures
            if not holds:
                failures.append(f"expect {source}: false; "
                                + _actual_values(evaluator, expr))
        case ir.ExpectMonitor():
            raise AssertionError("a monitor expectation belongs to a book test")
        case _:
            assert_never(expectation)
    return failures


def _why_not_failing(policy: ir.Policy, evaluator: Evaluator, name: str) -> str:
    """A rule expected to fail that does not: it holds, or its guard keeps it from applying
    (a drafter who wrote `expect fails` for a guarded-off rule needs to know which)."""
    from policylang.diff import expression_text  # .pol text of an IR expression

    check = next((c for c in policy.checks if c.name == name), None)
    if check is not None and check.guard is not None:
        try:
            applies = evaluator.expr(check.guard)
        except PolicyError:
            applies = True
        if not applies:
            return (f"does not apply: its guard `when {expression_text(check.guard)}` is false "
                    "for this case")
    return "holds"


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
                    value = readable_literal(evaluator.expr(side), side.type)
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
            if name.startswith(("budget__", "monitor__")):  # written budget.NAME in a test
                return name.replace("__", ".", 1)
            return name
    return otherwise
