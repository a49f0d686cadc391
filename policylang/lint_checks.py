"""The lint checks that need a solver: z3 over the linear fragment of a policy.

Owns the questions lint asks z3 ("can this guard hold?", "can this limit fail where the
others hold?", "can this part be positive?", "is there a value between two guard bands
that no guard covers?") and the warnings W103–W108 that come from the answers, plus the
example cases that come with a gap. The encoding is `lint_encoding.Encoder`.

Every warning is a claim that something is impossible, so it is made only on `unsat` of
an over-approximation (see lint_encoding): a declaration outside the linear fragment is
simply not judged, and a solver `unknown` (timeout) is never a warning either.
"""

from __future__ import annotations

import datetime
from fractions import Fraction
from typing import assert_never

from policylang import ir
from policylang import values as v
from policylang.lint import NO_CASE, LintWarning, redundant, shape, warning, zero_part
from policylang.lint_encoding import FEN, Encoder, Unsupported, fraction, real

_TIMEOUT_MS = 2000


def available() -> bool:
    try:
        import z3  # noqa: F401
    except ImportError:
        return False
    return True

# ── the checks ─────────────────────────────────────────────────────────────


class _Judge:
    """One solver per policy. The domain and each check's "holds" (behind a flag of its
    own) are asserted once at the base level; a question is asked under push/pop with
    the flags of the checks it may rely on as assumptions, so each question costs a
    solver call, not a re-assertion of the whole policy."""

    def __init__(self, policy: ir.Policy):
        import z3

        self.z3 = z3
        self.policy = policy
        self.encoder = Encoder(policy)
        self.solver = z3.Solver()
        self.solver.set("timeout", _TIMEOUT_MS)
        self.asserted = 0  # how much of the encoder's domain the solver has
        self.flags: dict[str, object] = {}  # check name → flag implying that it holds
        for field_ in policy.inputs:  # every input's type facts, even if nothing reads it
            self.encoder.variable("input", field_)

    def encode(self, expr: ir.Expr | None):
        """The formula of `expr` (True for a missing guard); None outside the fragment."""
        if expr is None:
            return self.z3.BoolVal(True)
        try:
            return self.encoder.formula(expr)
        except (Unsupported, ValueError, TypeError, self.z3.Z3Exception):
            return None

    def flag(self, name: str, holds) -> None:
        """Register `holds` (the check `name` holds or does not apply) behind a flag."""
        self.flags[name] = flag = self.z3.Bool(f"holds:{name}")
        self.solver.add(self.z3.Implies(flag, holds))

    def _sync(self) -> None:
        domain = self.encoder.domain
        self.solver.add(*domain[self.asserted:])
        self.asserted = len(domain)

    def impossible(self, *facts, assuming: list[str] = ()) -> list[str] | None:
        """The names of the flagged checks in `assuming` (a small unsat core) whose
        holding together with `facts` is impossible; None when possible, or the solver
        does not know."""
        z3, solver = self.z3, self.solver
        self._sync()
        flags = {name: self.flags[name] for name in assuming}
        solver.push()
        try:
            solver.add(*facts)
            if solver.check(*flags.values()) != z3.unsat:
                return None
            core_ids = {c.get_id() for c in solver.unsat_core()}
            core = [name for name, flag in flags.items() if flag.get_id() in core_ids]
            # Drop what the contradiction does not need, so the warning names only that.
            for name in list(core):
                rest = [flags[n] for n in core if n != name]
                if solver.check(*rest) == z3.unsat:
                    core.remove(name)
            return core
        finally:
            solver.pop()


def solver_warnings(policy: ir.Policy, found: list[LintWarning]) -> list[LintWarning]:
    judge = _Judge(policy)
    out: list[LintWarning] = []
    already = {(w.code, w.span.line, w.span.column) for w in found}
    guards = {check.name: judge.encode(check.guard) for check in policy.checks}
    holds = {check.name: _holds(judge, check) for check in policy.checks}
    for check in policy.checks:
        if guards[check.name] is not None and holds[check.name] is not None:
            judge.flag(check.name, judge.z3.Implies(guards[check.name], holds[check.name]))
    # A check judged redundant or contradictory is no longer evidence against the others;
    # going backwards blames the later of two duplicates, the earlier stays.
    judged: set[str] = {c.name for c in policy.checks
                        if ("W106", c.span.line, c.span.column) in already}
    for check in reversed(policy.checks):
        guard, cond = guards[check.name], holds[check.name]
        if guard is None:
            continue
        if check.guard is not None and judge.impossible(guard) is not None:
            out.append(warning("W103", f"the guard of {_kind(check)} `{check.name}` can never "
                               "hold, so it never applies", check.guard.span, check.span,
                               names=(check.name,),
                               notes=(f"correct the `when` so that some case meets it "
                                      f"{_MISTAKE}, or delete `{_kind(check)} {check.name}`",)))
            judged.add(check.name)
            continue
        if check.name in judged:
            continue
        others = [name for name in judge.flags if name != check.name and name not in judged]
        excluded = (judge.impossible(guard, assuming=others)
                    if check.guard is not None else None)
        if excluded:
            out.append(warning("W103", f"the guard of {_kind(check)} `{check.name}` can never "
                               f"hold once {_names(policy, excluded)} "
                               f"hold{'s' if len(excluded) == 1 else ''}, so it never matters",
                               check.guard.span, check.span, names=(check.name, *excluded),
                               notes=(f"delete `{_kind(check)} {check.name}`, whose cases "
                                      f"{_plain(policy, excluded)} already reject{_s(excluded)}; "
                                      "or, if those cases should be eligible, correct "
                                      f"{_plain(policy, excluded)}",)))
            judged.add(check.name)
            continue
        if cond is None:
            continue
        never_fails = judge.impossible(guard, judge.z3.Not(cond), assuming=others)
        if never_fails is not None:
            out.append(_never_fails(policy, check, never_fails))
            judged.add(check.name)
            continue
        never_passes = judge.impossible(guard, cond, assuming=others)
        if never_passes is not None:
            out.append(_never_passes(policy, check, never_passes))
            judged.add(check.name)
    out += _zero_parts(judge, already)
    out += _range_gaps(judge, already)
    return out


def _holds(judge: _Judge, check: ir.Check):
    match check:
        case ir.Rule(cond=cond):
            return judge.encode(cond)
        case ir.Limit(subject=subject, op=op, bound=bound):
            return judge.encode(ir.Compare(op, subject, bound, ir.BOOL, check.span))
        case _:
            assert_never(check)


def _kind(check: ir.Check) -> str:
    return "limit" if isinstance(check, ir.Limit) else "rule"


def _plain(policy: ir.Policy, names: list[str]) -> str:
    """`a`, `b` and `c`: the checks named in a hint (their lines are in the message)."""
    quoted = [f"`{c.name}`" for c in policy.checks if c.name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


_MISTAKE = "(a wrong figure, or a comparison the wrong way round?)"  # in a hint


def _what(check: ir.Check) -> str:
    """What decides whether a check holds: a rule's condition, a limit's bound."""
    return "bound" if isinstance(check, ir.Limit) else "condition"


def _s(names: list[str]) -> str:
    return "s" if len(names) == 1 else ""


def _names(policy: ir.Policy, names: list[str]) -> str:
    checks = [c for c in policy.checks if c.name in names]
    return ", ".join(f"{_kind(c)} `{c.name}` (line {c.span.line})" for c in checks)


def _never_fails(policy: ir.Policy, check: ir.Check, core: list[str]) -> LintWarning:
    where = " wherever it applies" if check.guard is not None else ""
    declared = f"{_kind(check)} {check.name}"
    if not core:
        return warning("W104", f"{_kind(check)} `{check.name}` can never fail{where}: it holds "
                       "for every value its inputs can take", check.span, names=(check.name,),
                       notes=(f"correct its {_what(check)} if it was meant to reject some "
                              f"cases {_MISTAKE}, or delete `{declared}`",))
    if isinstance(check, ir.Limit) and len(core) == 1:
        other = policy_check(policy, core[0])
        if isinstance(other, ir.Limit) and shape(other.subject) == shape(check.subject):
            return redundant(check, other)
    return warning("W104", f"{_kind(check)} `{check.name}` can never fail{where} once "
                   f"{_names(policy, core)} hold{'s' if len(core) == 1 else ''}: it adds "
                   "nothing", check.span, names=(check.name, *core),
                   notes=(f"delete `{declared}` ({_plain(policy, core)} already "
                          f"ensure{_s(core)} it), or tighten it if it was meant to reject more",))


def _never_passes(policy: ir.Policy, check: ir.Check, core: list[str]) -> LintWarning:
    if not core:
        where = ("every case its guard admits fails it" if check.guard is not None
                 else "no case is eligible")
        which = " or its `when`" if check.guard is not None else ""
        return warning("W105", f"{_kind(check)} `{check.name}` can never pass: {where}",
                       check.span, names=(check.name,),
                       notes=(f"correct `{check.name}`'s {_what(check)}{which} so that some "
                              f"case passes {_MISTAKE}",))
    return warning("W105", f"{_kind(check)} `{check.name}` can never pass together with "
                   f"{_names(policy, core)}: no case where it applies is eligible",
                   check.span, names=(check.name, *core),
                   notes=(f"`{check.name}` contradicts {_plain(policy, core)}: correct the "
                          "bound of one of them, or add a `when` so that they do not apply to "
                          "the same cases",))


def policy_check(policy: ir.Policy, name: str) -> ir.Check:
    return next(c for c in policy.checks if c.name == name)


def _zero_parts(judge: _Judge, already: set) -> list[LintWarning]:
    out = []
    for alloc in judge.policy.allocations:
        if isinstance(alloc, ir.Shares) and alloc.amount is None:
            continue  # a split by percents alone: every part is a positive share
        if ("W108", alloc.span.line, alloc.span.column) in already:
            continue
        try:
            parts = judge.encoder.allocation(alloc)
        except (Unsupported, ValueError, TypeError, judge.z3.Z3Exception):
            continue
        if isinstance(alloc, ir.Shares):
            if judge.impossible(parts[alloc.parties[0]] > real(FEN / 2)) is not None:
                out.append(zero_part(alloc, ", ".join(alloc.parties), alloc.span,
                                     "its amount is never positive"))
            continue
        for step in alloc.steps:
            if ("W108", step.span.line, step.span.column) in already:
                continue
            for party in _step_parties(step):
                if party in _parties_elsewhere(alloc, step):
                    continue
                if judge.impossible(parts[party] > real(FEN / 2)) is not None:
                    out.append(zero_part(alloc, party, step.span,
                                         "nothing is ever left for it to take"))
    return out


def _step_parties(step: ir.Step) -> list[str]:
    match step:
        case ir.Take(party=party) | ir.Rest(party=party):
            return [party]
        case ir.Split(parts=parts):
            return [p.party for p in parts]
        case _:
            assert_never(step)


def _parties_elsewhere(alloc: ir.Waterfall, step: ir.Step) -> set[str]:
    """Parties that also take in another step (their part is the sum: not this step's)."""
    return {p for other in alloc.steps if other is not step for p in _step_parties(other)}



# ── example cases ──────────────────────────────────────────────────────────


def example_case(policy: ir.Policy, fixed: dict[str, str], skip: set[str] = frozenset()
                 ) -> tuple[tuple[str, str], ...] | None:
    """A whole case (input → .pol literal) where each `fixed` input has that enum member
    and every rule and limit not in `skip` holds; checked by running it. Preferably one
    that every limit in `skip` would reject if it applied (so the example shows what gets
    through the gap), with non-negative amounts and recent dates. None when the solver
    finds none, or none that a case can spell exactly; `lint.NO_CASE` when it proves that
    no case has the `fixed` members while those checks hold."""
    from policylang import api
    from policylang.diagnostics import PolicyError

    judge = _Judge(policy)
    facts = []
    for name, member in fixed.items():
        field_ = next(f for f in policy.inputs if f.name == name)
        members = [m.name for m in policy.enum(field_.type.enum).members]
        facts.append(judge.encoder.variable("input", field_) == members.index(member))
    for check in policy.checks:
        if check.name not in skip:
            guard, holds = judge.encode(check.guard), _holds(judge, check)
            if guard is not None and holds is not None:
                judge.flag(check.name, judge.z3.Implies(guard, holds))
    variables = [judge.encoder.variable("input", f) for f in policy.inputs]
    recent = datetime.date(2000, 1, 1).toordinal()
    tidy = [var >= (recent if f.type.kind is ir.Kind.DATE else 0)
            for f, var in zip(policy.inputs, variables, strict=True)
            if f.type.numeric or f.type.kind in (ir.Kind.DURATION, ir.Kind.DATE)]
    rejected = [judge.z3.Not(c) for c in (_holds(judge, check) for check in policy.checks
                                          if check.name in skip) if c is not None]
    if _unsat(judge, facts, list(judge.flags)):
        return NO_CASE
    for extra in (rejected + tidy, tidy, []):  # the most telling first; fall back
        model = _model(judge, facts + extra, list(judge.flags))
        if model is None:
            continue
        case = _case(policy, judge, model)
        if case is None:
            continue
        try:
            api.decide(policy, dict(case))
        except PolicyError:
            continue
        return case
    return None


def _model(judge: _Judge, facts: list, assuming: list[str]):
    """A model of `facts` where the flagged checks in `assuming` hold; None if none."""
    solver = judge.solver
    judge._sync()
    solver.push()
    try:
        solver.add(*facts)
        found = solver.check(*(judge.flags[name] for name in assuming)) == judge.z3.sat
        return solver.model() if found else None
    finally:
        solver.pop()


def _unsat(judge: _Judge, facts: list, assuming: list[str]) -> bool:
    """Whether z3 proves `facts` impossible where the flagged checks in `assuming` hold
    (not merely fails to find a case: a timeout is no proof)."""
    judge._sync()
    judge.solver.push()
    try:
        judge.solver.add(*facts)
        return judge.solver.check(*(judge.flags[name] for name in assuming)) == judge.z3.unsat
    finally:
        judge.solver.pop()


def _case(policy: ir.Policy, judge: _Judge, model) -> tuple[tuple[str, str], ...] | None:
    out = []
    for field_ in policy.inputs:
        value = model.eval(judge.encoder.variable("input", field_), model_completion=True)
        kind = field_.type.kind
        if kind is ir.Kind.BOOL:
            out.append((field_.name, "true" if judge.z3.is_true(value) else "false"))
        elif kind is ir.Kind.ENUM:
            members = policy.enum(field_.type.enum).members
            out.append((field_.name, members[value.as_long()].name))
        elif kind is ir.Kind.DATE:
            out.append((field_.name, datetime.date.fromordinal(value.as_long()).isoformat()))
        elif kind is ir.Kind.DURATION:
            unit = judge.encoder.units.get(f"input:{field_.name}", "month")
            out.append((field_.name, v.literal(ir.Duration(value.as_long(), unit),
                                               field_.type)))
        else:
            exact = fraction(value)
            decimal = _decimal(exact)
            if decimal is None:
                return None
            out.append((field_.name, v.literal(decimal, field_.type)))
    return tuple(out)


def _decimal(value: Fraction):
    from decimal import Decimal

    scaled = value * 10**v.SCALE_PLACES
    if scaled.denominator != 1:
        return None
    return Decimal(scaled.numerator).scaleb(-v.SCALE_PLACES).normalize()


# ── gaps between guards on one ordered input ───────────────────────────────


def _range_gaps(judge: _Judge, already: set) -> list[LintWarning]:
    """Guarded limits on one subject whose guards each compare one ordered input with
    constants (`loan_amount < 100万`, `loan_amount > 100万`) and leave a value between two
    covered ones where no guard holds, while every other rule and limit can still hold:
    the classic off-by-one at a band's edge."""
    from policylang.lint import limit_groups

    z3, policy = judge.z3, judge.policy
    out = []
    for group in limit_groups(policy):
        if len(group) < 2 or any(limit.guard is None for limit in group):
            continue
        if ("W107", group[0].guard.span.line, group[0].guard.span.column) in already:
            continue
        inputs = {ref for limit in group for ref in _references(limit.guard)}
        if len(inputs) != 1 or not next(iter(inputs)).startswith("input:"):
            continue
        field_ = next(f for f in policy.inputs if f"input:{f.name}" in inputs)
        if not field_.type.ordered:
            continue
        fresh = judge.encoder.fresh
        guards = [judge.encode(limit.guard) for limit in group]
        if any(g is None for g in guards) or judge.encoder.fresh != fresh:
            continue  # only plain comparisons: copies of the input must mean the same
        point = judge.encoder.variable("input", field_)
        below, above = (z3.Const(f"{side}:{field_.name}", point.sort())
                        for side in ("below", "above"))
        covered = z3.Or(guards)
        facts = [z3.Not(covered), below < point, point < above,
                 z3.substitute(covered, (point, below)), z3.substitute(covered, (point, above))]
        others = [name for name in judge.flags if name not in {c.name for c in group}]
        # Preferably a case each limit of the group would reject: it shows what gets
        # through the gap.
        rejected = [z3.Not(c) for c in (_holds(judge, limit) for limit in group)
                    if c is not None]
        model = _model(judge, facts + rejected, others)
        if model is None:
            model = _model(judge, facts, others)
        case = None if model is None else _case(policy, judge, model)
        # Warn only with a witness the interpreter confirms: no guard of the group holds,
        # and every other rule and limit does.
        if case is None or not _uncovered(policy, group, case):
            continue
        shown = dict(case).get(field_.name, "")
        names = ", ".join(f"`{limit.name}`" for limit in group)
        out.append(warning(
            "W107", f"limits {names} on one subject leave a gap in `{field_.name}` between "
            f"their guards" + (f" (at {shown})" if shown else "") + ": no bound applies there",
            group[0].guard.span, group[0].span,
            notes=("make one band's edge inclusive (`<=` / `>=`), or add a limit for the gap",),
            example=case, names=tuple(limit.name for limit in group)))
    return out


def _uncovered(policy: ir.Policy, group: list[ir.Limit],
               case: tuple[tuple[str, str], ...]) -> bool:
    from policylang.cases import parse_case, parse_params
    from policylang.diagnostics import PolicyError
    from policylang.interpret import Decision

    try:
        decision = Decision.of(policy, parse_case(policy, dict(case)),
                               parse_params(policy, {}))
        if any(decision.evaluator.expr(limit.guard) for limit in group):
            return False
    except PolicyError:
        return False
    return all(holds for name, holds in decision.outcomes.items()
               if name not in {limit.name for limit in group})


def _references(expr: ir.Expr) -> set[str]:
    """`input:NAME`, `param:NAME`, `let:NAME` and `part:NAME` that `expr` reads directly."""
    import dataclasses

    match expr:
        case ir.InputRef(name=name):
            return {f"input:{name}"}
        case ir.ParamRef(name=name):
            return {f"param:{name}"}
        case ir.LetRef(name=name):
            return {f"let:{name}"}
        case ir.PartRef(allocation=allocation):
            return {f"part:{allocation}"}
    found: set[str] = set()
    for item in dataclasses.fields(expr):
        value = getattr(expr, item.name)
        for child in value if isinstance(value, tuple) else (value,):
            if dataclasses.is_dataclass(child) and not isinstance(child, ir.Type):
                found |= _references(child)
    return found
