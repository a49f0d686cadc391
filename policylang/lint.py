"""`policylang lint`: what in a policy can never matter, or probably does not say what was
meant. Owns the warning type, the `# lint: allow` comments, and the checks that need no
solver; the checks that need z3 live in `lint_checks.py`.

Warnings have stable codes (`W1xx`, registered in `messages.WARNINGS`) and never stop a
command: `lint` exits 0 unless `--strict`. Each names its declarations and, where it
helps, an example case.

An intended exception is written beside the declaration it is about, as a comment the
formatter keeps, so no grammar change is needed:

    limit floor: loan_amount >= 0元  # lint: allow W104 the document repeats the obvious

on any line of the declaration, or on a comment line directly above it. A reason is
required; an allow without one, or one that suppresses nothing, is itself a warning
(`W109`), so allows cannot silently outlive the problem they excused.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple, assert_never

from policylang import ir
from policylang import values as v
from policylang.deps import unused_inputs, unused_params
from policylang.diagnostics import Diagnostic, PolicyError
from policylang.messages import WARNINGS
from policylang.nodes import Span


@dataclass(frozen=True, slots=True)
class LintWarning(Diagnostic):
    """A diagnostic with severity `warning`, about one declaration (`declaration` is its
    span, which an allow comment must touch), with an optional example case."""

    declaration: Span | None = None
    example: tuple[tuple[str, str], ...] | None = None  # (input, .pol literal), in order
    # The declarations it is about: the one warned about first, then those it is judged
    # against (the rules whose holding makes a limit redundant, …).
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        assert self.code in WARNINGS, f"unregistered warning code {self.code}"

    def to_json(self) -> dict:
        out = Diagnostic.to_json(self)
        out["declarations"] = list(self.names)
        if self.example is not None:
            out["example"] = dict(self.example)
        return out


def warning(code: str, message: str, span: Span, declaration: Span | None = None,
            notes: tuple[str, ...] = (),
            example: tuple[tuple[str, str], ...] | None = None,
            names: tuple[str, ...] = ()) -> LintWarning:
    if example is not None:
        notes = (*notes, "example case: " + _case_json(example))
    return LintWarning(code, message, span, notes, "warning", declaration or span, example,
                       names)


def _case_json(example: tuple[tuple[str, str], ...]) -> str:
    import json

    return json.dumps(dict(example), ensure_ascii=False)


@dataclass(frozen=True)
class LintResult:
    file: str
    warnings: tuple[LintWarning, ...]  # shown, in source order
    allowed: tuple[LintWarning, ...] = ()  # suppressed by an allow comment
    solver: bool = True  # whether the z3 checks ran


def lint(policy: ir.Policy, source: str, use_solver: bool = True) -> LintResult:
    """Every warning for one checked policy, allows applied."""
    from policylang import lint_checks

    solver_ran = use_solver and lint_checks.available()
    examples = ((lambda fixed, skip: lint_checks.example_case(policy, fixed, skip))
                if solver_ran else None)
    found = structural_warnings(policy, examples)
    if solver_ran:
        found += lint_checks.solver_warnings(policy, found)
    found = _deduplicate(found)
    shown, allowed = _apply_allows(policy.file, source, found, solver_ran)
    return LintResult(policy.file, tuple(_in_order(shown)), tuple(_in_order(allowed)),
                      solver_ran)


def _deduplicate(found: list[LintWarning]) -> list[LintWarning]:
    seen: dict[tuple, LintWarning] = {}
    for item in found:
        key = (item.code, item.span.line, item.span.column, item.message)
        seen.setdefault(key, item)
    return list(seen.values())


def _in_order(found: list[LintWarning]) -> list[LintWarning]:
    return sorted(found, key=lambda w: (w.span.line, w.span.column, w.code))


# ── allow comments ─────────────────────────────────────────────────────────

# Matched at a comment's start. In any case: `# Lint: allow w102 …` is what it looks like
# (it was no allow at all, or one that "names no warning code").
_ALLOW = re.compile(r"#\s*lint:\s*allow\b(?P<rest>.*)$", re.IGNORECASE)
_CODES = re.compile(r"\s*(?P<codes>W\d{3}(?:\s*,\s*W\d{3})*)(?P<reason>.*)$", re.IGNORECASE)


@dataclass
class _Allow:
    line: int
    column: int
    codes: tuple[str, ...]
    reason: str
    used: bool = False


def _allows(source: str) -> list[_Allow]:
    out = []
    for number, text in enumerate(source.split("\n"), start=1):
        start = _comment_start(text)
        found = _ALLOW.match(text, start) if start is not None else None
        if found is None:
            continue
        codes = _CODES.match(found["rest"])
        out.append(_Allow(number, start + 1,
                          tuple(re.split(r"\s*,\s*", codes["codes"].upper())) if codes
                          else (),
                          (codes["reason"] if codes else found["rest"]).strip()))
    return out


def _comment_start(line: str) -> int | None:
    """Where the line's comment starts: the first `#` outside a quoted text (in which
    `\\"` is a quote, not its end)."""
    quoted, escaped = False, False
    for index, char in enumerate(line):
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "#" and not quoted:
            return index
    return None


def _apply_allows(file: str, source: str, found: list[LintWarning], complete: bool
                  ) -> tuple[list[LintWarning], list[LintWarning]]:
    """Split `found` into shown and allowed; add W109 for bad allows (and, when every
    check ran — `complete` — for allows that match nothing)."""
    lines = source.split("\n")
    allows = _allows(source)
    shown, allowed = [], []
    for item in found:
        declaration = item.declaration or item.span
        first = declaration.line
        # A comment-only line directly above the declaration counts as part of it.
        while first > 1 and lines[first - 2].lstrip().startswith("#"):
            first -= 1
        match = next((a for a in allows if first <= a.line <= declaration.end_line
                      and item.code in a.codes and a.reason), None)
        if match is None:
            shown.append(item)
        else:
            match.used = True
            allowed.append(item)
    for allow in allows:
        span = Span(file, allow.line, allow.column, allow.line, len(lines[allow.line - 1]) + 1)
        if not allow.codes:
            shown.append(warning("W109", "`lint: allow` names no warning code (write "
                                 "`# lint: allow W104 reason`)", span))
        elif unknown := [code for code in allow.codes if code not in WARNINGS]:
            shown.append(warning("W109", f"`lint: allow {', '.join(allow.codes)}`: "
                                 f"{', '.join(unknown)} is no warning code (they are "
                                 f"{min(WARNINGS)}–{max(WARNINGS)})", span))
        elif not allow.reason:
            shown.append(warning("W109", f"`lint: allow {', '.join(allow.codes)}` gives no "
                                 "reason; say why the exception is intended", span))
        elif not allow.used and complete:
            shown.append(warning("W109", f"`lint: allow {', '.join(allow.codes)}` matches no "
                                 "warning here; remove it", span))
    return shown, allowed


# ── checks that need no solver ─────────────────────────────────────────────


# Finds a whole case: (input → member to fix, checks to leave out) → (input, literal)…;
# None when it finds none; NO_CASE (a case of no inputs, which a question fixing a member
# cannot otherwise get) when z3 proves there is none: the other checks reject it.
NO_CASE: tuple[tuple[str, str], ...] = ()
ExampleFinder = Callable[[dict[str, str], set[str]], tuple[tuple[str, str], ...] | None]


def structural_warnings(policy: ir.Policy, examples: ExampleFinder | None = None
                        ) -> list[LintWarning]:
    return (_unused(policy) + _redundant_limits(policy) + _enum_gaps(policy, examples)
            + _zero_parts(policy))


def _unused(policy: ir.Policy) -> list[LintWarning]:
    out = []
    given = {name for test in policy.tests
             for case in (test.given, *(test.book or ())) for name, _ in case}
    for name in unused_inputs(policy):
        field_ = next(f for f in policy.inputs if f.name == name)
        tests = " and from the tests' `given` that set it" if name in given else ""
        out.append(warning("W101", f"input `{name}` is used by no rule, limit, let, "
                           "allocation or portfolio rule", field_.span, names=(name,),
                           notes=(f"use `{name}` in the rule, limit or let it was meant for, "
                                  f"or delete it from `input {{ … }}`{tests}",)))
    unused = set(unused_params(policy))
    set_in_tests = {name for test in policy.tests for name, _ in test.params}
    for param in policy.params:
        if param.name in unused:
            tests = (" and from the tests' `params` that set it"
                     if param.name in set_in_tests else "")
            out.append(warning("W102", f"param `{param.name}` is used by no rule, limit, let, "
                               "allocation or portfolio rule", param.span,
                               names=(param.name,),
                               notes=(f"write `{param.name}` where the policy means it (in "
                                      "place of the constant it stands for?), or delete "
                                      f"`param {param.name}`{tests}",)))
    return out


def shape(expr: ir.Expr) -> tuple:
    """An expression's structure without source spans: equal shapes compute the same."""
    items: list[object] = [type(expr).__name__]
    for item in dataclasses.fields(expr):
        if item.name == "span":
            continue
        value = getattr(expr, item.name)
        if isinstance(value, tuple):
            items.append(tuple(shape(x) if _is_expr(x) else x for x in value))
        else:
            items.append(shape(value) if _is_expr(value) else value)
    return tuple(items)


def _is_expr(value: object) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, ir.Type)


def limit_groups(policy: ir.Policy) -> list[list[ir.Limit]]:
    """Limits on one subject in one direction (caps, or floors), in declaration order."""
    groups: dict[tuple, list[ir.Limit]] = {}
    for check in policy.checks:
        if isinstance(check, ir.Limit):
            groups.setdefault((shape(check.subject), check.op in ("<", "<=")), []).append(check)
    return list(groups.values())


def members(expr: ir.Expr, policy: ir.Policy) -> tuple[str, frozenset[str]] | None:
    """(input, the members where it holds) when `expr` only tests one enum input against
    members (`==`, `!=`, `in`, `not in`, `and`, `or`, `not`); else None."""
    match expr:
        case ir.Compare(op="==" | "!=" as op, left=left, right=right):
            ref, const = (left, right) if isinstance(left, ir.InputRef) else (right, left)
            if not (isinstance(ref, ir.InputRef) and isinstance(const, ir.Const)
                    and ref.type.kind is ir.Kind.ENUM):
                return None
            every = _all_members(policy, ref.type)
            hit = frozenset({const.value}) if op == "==" else every - {const.value}
            return ref.name, hit
        case ir.InSet(operand=ir.InputRef(type=type_, name=name), items=items, negated=negated):
            if type_.kind is not ir.Kind.ENUM or not all(isinstance(i, ir.Const) for i in items):
                return None
            hit = frozenset(i.value for i in items)
            return name, (_all_members(policy, type_) - hit) if negated else hit
        case ir.Not(operand=operand):
            inner = members(operand, policy)
            if inner is None:
                return None
            enum_type = next(f.type for f in policy.inputs if f.name == inner[0])
            return inner[0], _all_members(policy, enum_type) - inner[1]
        case ir.And(left=left, right=right) | ir.Or(left=left, right=right):
            a, b = members(left, policy), members(right, policy)
            if a is None or b is None or a[0] != b[0]:
                return None
            return a[0], (a[1] & b[1]) if isinstance(expr, ir.And) else (a[1] | b[1])
    return None


def _all_members(policy: ir.Policy, type_: ir.Type) -> frozenset[str]:
    return frozenset(m.name for m in policy.enum(type_.enum).members)


def _covers(outer: ir.Expr | None, inner: ir.Expr | None, policy: ir.Policy) -> bool:
    """Whether guard `outer` holds wherever guard `inner` does (structurally)."""
    if outer is None:
        return True
    if inner is None:
        return False
    if shape(outer) == shape(inner):
        return True
    a, b = members(outer, policy), members(inner, policy)
    return a is not None and b is not None and a[0] == b[0] and b[1] <= a[1]


def _at_least_as_tight(tight: ir.Limit, loose: ir.Limit) -> bool:
    """Whether `tight` holding implies `loose` holding (constant bounds, same subject)."""
    if not (isinstance(tight.bound, ir.Const) and isinstance(loose.bound, ir.Const)):
        return False
    a, b = tight.bound.value, loose.bound.value
    try:
        equal = v.compare("==", a, b)
        strictly = v.compare("<" if tight.op in ("<", "<=") else ">", a, b)
    except v.EvalError:  # months against days: not comparable, so no claim
        return False
    if strictly:
        return True
    return equal and (loose.op in ("<=", ">=") or tight.op in ("<", ">"))


def _redundant_limits(policy: ir.Policy) -> list[LintWarning]:
    out = []
    for group in limit_groups(policy):
        for limit in group:
            for other in group:
                if other is limit:
                    continue
                if not (_covers(other.guard, limit.guard, policy)
                        and _at_least_as_tight(other, limit)):
                    continue
                # Two limits that imply each other: only the later one is redundant.
                mutual = (_covers(limit.guard, other.guard, policy)
                          and _at_least_as_tight(limit, other))
                if mutual and policy.checks.index(limit) < policy.checks.index(other):
                    continue
                out.append(redundant(limit, other))
                break
    return out


def redundant(limit: ir.Limit, other: ir.Limit) -> LintWarning:
    where = "wherever it applies, " if limit.guard is not None else ""
    return warning("W106", f"limit `{limit.name}` is redundant: {where}limit `{other.name}` "
                   f"(line {other.span.line}) on the same subject is at least as tight",
                   limit.span, names=(limit.name, other.name),
                   notes=(f"delete `limit {limit.name}` (`{other.name}` already enforces "
                          f"it); if its bound is the one meant, correct `{other.name}` instead",))


def _enum_gaps(policy: ir.Policy, examples: ExampleFinder | None) -> list[LintWarning]:
    out = []
    allowed = _members_allowed_by_rules(policy)
    for group in limit_groups(policy):
        if len(group) < 2 or any(limit.guard is None for limit in group):
            continue
        tests = [members(limit.guard, policy) for limit in group]
        if any(t is None for t in tests) or len({t[0] for t in tests}) != 1:
            continue
        name = tests[0][0]
        type_ = next(f.type for f in policy.inputs if f.name == name)
        covered = frozenset().union(*(t[1] for t in tests))
        missing = [m.name for m in policy.enum(type_.enum).members
                   if m.name not in covered and m.name in allowed.get(name, {m.name})]
        skip = {limit.name for limit in group}
        # A member the other rules and limits reject in every case (`k != c and …`) is no
        # gap: only the solver sees through a rule that tests more than the enum.
        found = {m: examples({name: m}, skip) for m in missing} if examples else {}
        missing = [m for m in missing if found.get(m) != NO_CASE]
        if missing:
            first = group[0]
            names = ", ".join(f"`{limit.name}`" for limit in group)
            out.append(warning(
                "W107", f"limits {names} on one subject leave "
                f"{_listing(missing)} of `{name}` uncovered: no bound applies there",
                first.guard.span, first.span,
                notes=(f"add `{missing[0]}` to a guard, or a limit for it, or a rule that "
                       "excludes it",),
                example=found.get(missing[0]), names=tuple(limit.name for limit in group)))
    return out


def _members_allowed_by_rules(policy: ir.Policy) -> dict[str, frozenset[str]]:
    """For each enum input an unguarded rule restricts, the members it lets through."""
    allowed: dict[str, frozenset[str]] = {}
    for check in policy.checks:
        if isinstance(check, ir.Rule) and check.guard is None:
            test = members(check.cond, policy)
            if test is not None:
                name, hit = test
                allowed[name] = allowed.get(name, hit) & hit
    return allowed


def _listing(names: list[str]) -> str:
    quoted = [f"`{n}`" for n in names]
    return ("member " + quoted[0]) if len(quoted) == 1 else "members " + ", ".join(quoted)


def _zero_parts(policy: ir.Policy) -> list[LintWarning]:
    out = []
    for alloc in policy.allocations:
        match alloc:
            case ir.Shares(amount=amount):
                if amount is not None and _constant_at_most_zero(amount):
                    out.append(zero_part(alloc, ", ".join(alloc.parties), alloc.span,
                                         "its amount is never positive"))
            case ir.Waterfall(amount=amount, steps=steps):
                exhausted = "its amount is never positive" if _constant_at_most_zero(
                    amount) else None
                for step in steps:
                    for party, reason in _step_zero_parts(step, exhausted):
                        out.append(zero_part(alloc, party, step.span, reason))
                    if exhausted is None:
                        exhausted = _exhausts(step)
            case _:
                assert_never(alloc)
    return out


def _step_zero_parts(step: ir.Step, exhausted: str | None) -> list[tuple[str, str]]:
    match step:
        case ir.Take(party=party, cap=cap):
            if exhausted:
                return [(party, exhausted)]
            return [(party, "its cap is never positive")] if _constant_at_most_zero(cap) else []
        case ir.Split(parts=parts):
            return [(part.party, exhausted or "its cap is never positive") for part in parts
                    if exhausted or (part.cap is not None and _constant_at_most_zero(part.cap))]
        case ir.Rest(party=party):
            return [(party, exhausted)] if exhausted else []
        case _:
            assert_never(step)


def _exhausts(step: ir.Step) -> str | None:
    """Why nothing remains after `step`, when that is so whatever the case."""
    match step:
        case ir.Split(parts=parts) if all(part.cap is None for part in parts):
            return f"the uncapped split on line {step.span.line} leaves nothing"
        case ir.Take() | ir.Split() | ir.Rest():
            return None
        case _:
            assert_never(step)


def _constant_at_most_zero(expr: ir.Expr) -> bool:
    return isinstance(expr, ir.Const) and isinstance(expr.value, Decimal) and expr.value <= 0


def zero_part(alloc: ir.Allocation, party: str, span: Span, reason: str,
              example: tuple[tuple[str, str], ...] | None = None) -> LintWarning:
    kind = "shares" if isinstance(alloc, ir.Shares) else "waterfall"
    what = "parts" if ", " in party else "part"
    return warning("W108", f"{kind} `{alloc.name}`: {what} {party} always 0元: {reason}",
                   span, alloc.span, example=example,
                   names=(alloc.name, *party.split(", ")),
                   notes=(_zero_part_hint(kind, alloc.name, party, reason),))


def _zero_part_hint(kind: str, name: str, party: str, reason: str) -> str:
    """How to fix a part that is always zero, for each reason `zero_part` is given."""
    if reason == "its amount is never positive":
        return (f"correct the amount `{kind} {name}` divides (it is never above 0元), or "
                "delete the allocation")
    if reason == "its cap is never positive":
        return f"give `{party}` a cap above 0元, or delete its step"
    if reason.startswith("the uncapped split"):
        return (f"move `{party}`'s step before that split, or give the split's parts caps "
                "(`up to …`), or delete the step")
    return (f"the steps before `{party}` always take the whole amount: lower their caps, "
            f"move `{party}`'s step before them, or delete it")


@dataclass
class Totals:
    files: int = 0
    warnings: int = 0
    allowed: int = 0
    by_code: dict[str, int] = field(default_factory=dict)


def totals(results: list[LintResult]) -> Totals:
    out = Totals(files=len(results))
    for result in results:
        out.warnings += len(result.warnings)
        out.allowed += len(result.allowed)
        for item in result.warnings:
            out.by_code[item.code] = out.by_code.get(item.code, 0) + 1
    return out


# ── many files, and what the command line shows ────────────────────────────


class Unchecked(NamedTuple):
    """A file that did not read, parse or check, so was not linted."""

    file: str
    error: PolicyError
    position: int  # how many files were linted before it, in the order given


@dataclass
class Linted:
    results: list[LintResult] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    unchecked: list[Unchecked] = field(default_factory=list)

    @property
    def errors(self) -> list[PolicyError]:
        return [item.error for item in self.unchecked]


def lint_files(files: list, use_solver: bool = True) -> Linted:
    """Lint every file; a file that does not check is an error, not a warning."""
    from policylang import api

    out = Linted()
    for file in files:
        try:
            source = api.read_source(file)
            policy = api.load_source(source, str(file))
        except PolicyError as error:
            out.unchecked.append(Unchecked(str(file), error, len(out.results)))
            continue
        out.sources[str(file)] = source
        out.results.append(lint(policy, source, use_solver))
    return out


def render_text(linted: Linted, color: bool = False) -> str:
    from policylang.diagnostics import render

    blocks = [render(item, linted.sources.get(result.file), color)
              for result in linted.results for item in result.warnings]
    count = totals(linted.results)
    summary = (f"{count.warnings} warning{'s' if count.warnings != 1 else ''} in "
               f"{count.files} file{'s' if count.files != 1 else ''}")
    if count.allowed:
        summary += f" ({count.allowed} allowed by `# lint: allow`)"
    if any(not result.solver for result in linted.results):
        summary += "; z3 is not installed, so only the checks without a solver ran"
    if count.warnings:
        summary += ("\nwhere one is intended, say why on its declaration (or the comment "
                    "line above): `# lint: allow CODE reason`")
    return "\n".join([*blocks, summary]) + "\n"


def to_json(linted: Linted) -> dict:
    """Every file given, in order, each with its `errors` (a file that did not read, parse
    or check: its diagnostics, and nothing linted), `warnings` and `allowed`; a tool reading
    the JSON sees the files that failed as well as the warnings, not only the exit code."""
    def entry(file: str, errors=(), warnings=(), allowed=()) -> dict:
        # An error without a place (a file that cannot be read) is still in its file.
        return {"file": file, "errors": [item.to_json() | ({"file": file} if item.span is None
                                                           else {}) for item in errors],
                "warnings": [item.to_json() for item in warnings],
                "allowed": [item.to_json() for item in allowed]}

    # (place, entry): a file that did not check goes before the linted file it preceded.
    placed = [((item.position, 0), entry(item.file, errors=item.error.diagnostics))
              for item in linted.unchecked]
    placed += [((index, 1), entry(result.file, warnings=result.warnings,
                                  allowed=result.allowed))
               for index, result in enumerate(linted.results)]
    return {"files": [item for _, item in sorted(placed, key=lambda pair: pair[0])],
            "warnings": totals(linted.results).warnings,
            "errors": sum(len(item.error.diagnostics) for item in linted.unchecked)}
