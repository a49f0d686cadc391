"""The lint checks that need a solver: z3 over the linear fragment of a policy.

Owns the encoding of expressions, lets and allocations as z3 terms for lint's questions
("can this guard hold?", "can this limit fail where the others hold?", "can this part be
positive?") and the warnings W103–W106 and W108 that come from the answers.

Every warning is a claim that something is impossible, so it is made only on `unsat`.
The encoding is an over-approximation of the interpreter, which keeps the claims sound:
each `*` and `/` (rounded to 10 places at run time), `round()` and every reported
allocation part get a slack variable within their rounding error; anything outside the
linear fragment (a product of two inputs, `year(d)`, a date plus months) raises
`Unsupported`, and the declaration using it is simply not judged. A solver `unknown`
(timeout) is never a warning either.
"""

from __future__ import annotations

import datetime
from fractions import Fraction
from typing import assert_never

from policylang import ir
from policylang import values as v
from policylang.lint import LintWarning, redundant, shape, warning, zero_part

_TIMEOUT_MS = 2000
_ROUNDING = Fraction(1, 2 * 10**v.SCALE_PLACES)  # the largest error of one `*` or `/`
_FEN = Fraction(1, 100)


def available() -> bool:
    try:
        import z3  # noqa: F401
    except ImportError:
        return False
    return True


class Unsupported(Exception):
    """The expression is outside the linear fragment: it is not judged."""


class _Duration:
    """A duration term: a whole number of months or of days (never both)."""

    def __init__(self, unit: str | None, term):
        self.unit, self.term = unit, term


class Encoder:
    """Expressions of one policy as z3 terms over one variable per input and param."""

    def __init__(self, policy: ir.Policy):
        import z3

        self.z3 = z3
        self.policy = policy
        self.domain: list = []  # facts every case satisfies (types, rounding slack)
        self.variables: dict[tuple[str, str], object] = {}
        self.units: dict[str, str] = {}  # duration input/param → the unit it is used in
        self.lets: dict[str, object] = {}
        self.parts: dict[str, dict[str, object]] = {}  # exact (unrounded) parts
        self.fresh = 0

    # ── variables and the facts of their types ──
    def variable(self, kind: str, field_: ir.Field):
        key = (kind, field_.name)
        if key not in self.variables:
            z3, name = self.z3, f"{kind}:{field_.name}"
            match field_.type.kind:
                case ir.Kind.MONEY | ir.Kind.PERCENT | ir.Kind.NUMBER:
                    var = z3.Real(name)
                    # A case's numbers stay below 10^15 (E603); a param's default, or an
                    # input's, need not, so only inputs with a default inside are bounded.
                    default = field_.default
                    if kind == "input" and (default is None or abs(default) < v.INPUT_LIMIT):
                        limit = _real(Fraction(v.INPUT_LIMIT))
                        self.domain += [var > -limit, var < limit]
                case ir.Kind.BOOL:
                    var = z3.Bool(name)
                case ir.Kind.ENUM:
                    var = z3.Int(name)
                    count = len(self.policy.enum(field_.type.enum).members)
                    self.domain += [var >= 0, var < count]
                case ir.Kind.DATE:
                    var = z3.Int(name)
                    self.domain += [var >= 1, var <= datetime.date.max.toordinal()]
                case ir.Kind.DURATION:
                    var = z3.Int(name)
                case ir.Kind.ERROR:
                    raise Unsupported(name)
                case _:
                    assert_never(field_.type.kind)
            self.variables[key] = var
        return self.variables[key]

    def _slack(self, exact, error: Fraction):
        """A fresh value within `error` of `exact`: what rounding may have made of it."""
        self.fresh += 1
        rounded = self.z3.Real(f"rounded:{self.fresh}")
        self.domain += [rounded - exact <= _real(error), exact - rounded <= _real(error)]
        return rounded

    # ── expressions ──
    def formula(self, expr: ir.Expr):
        term = self.term(expr)
        assert self.z3.is_bool(term)
        return term

    def term(self, expr: ir.Expr):  # noqa: C901 — one case per IR node
        z3 = self.z3
        match expr:
            case ir.Const(value=value, type=type_):
                return self._const(value, type_)
            case ir.InputRef(name=name) | ir.ParamRef(name=name):
                kind = "input" if isinstance(expr, ir.InputRef) else "param"
                fields = self.policy.inputs if kind == "input" else self.policy.params
                var = self.variable(kind, next(f for f in fields if f.name == name))
                if expr.type.kind is ir.Kind.DURATION:
                    return _Duration(self.units.get(f"{kind}:{name}"), var)
                return var
            case ir.LetRef(name=name):
                if name not in self.lets:
                    self.lets[name] = self.term(self.policy.let(name).expr)
                return self.lets[name]
            case ir.PartRef(allocation=allocation, party=party):
                alloc = self.policy.allocation(allocation)
                if isinstance(alloc, ir.Shares) and alloc.amount is None:
                    weight = next(p.weight for p in alloc.parts if p.party == party)
                    share = (Fraction(weight) / Fraction(alloc.total_weight) if alloc.ratio
                             else Fraction(weight))
                    return _real(share)
                # Reported parts are rounded to the fen (largest remainder): within a fen.
                return self._slack(self.allocation(alloc)[party], 2 * _FEN)
            case ir.Neg(operand=operand):
                inner = self.term(operand)
                if isinstance(inner, _Duration):
                    return _Duration(inner.unit, -inner.term)
                return -inner
            case ir.Arith(op=op, left=left, right=right):
                return self._arith(op, self.term(left), self.term(right), expr)
            case ir.Compare(op=op, left=left, right=right):
                return self._compare(op, self.term(left), self.term(right), left)
            case ir.And(left=left, right=right):
                return z3.And(self.formula(left), self.formula(right))
            case ir.Or(left=left, right=right):
                return z3.Or(self.formula(left), self.formula(right))
            case ir.Not(operand=operand):
                return z3.Not(self.formula(operand))
            case ir.InSet(operand=operand, items=items, negated=negated):
                hit = z3.Or([self._compare("==", self.term(operand), self.term(item), operand)
                             for item in items])
                return z3.Not(hit) if negated else hit
            case ir.If(cond=cond, then=then, otherwise=otherwise):
                a, b = self.term(then), self.term(otherwise)
                if isinstance(a, _Duration) or isinstance(b, _Duration):
                    unit = self._unify(a, b)
                    return _Duration(unit, z3.If(self.formula(cond), a.term, b.term))
                return z3.If(self.formula(cond), a, b)
            case ir.Call(func=func, args=args):
                return self._call(func, [self.term(a) for a in args], args)
            case _:
                assert_never(expr)

    def _const(self, value: ir.Value, type_: ir.Type):
        z3 = self.z3
        match type_.kind:
            case ir.Kind.MONEY | ir.Kind.PERCENT | ir.Kind.NUMBER:
                return _real(Fraction(value))
            case ir.Kind.BOOL:
                return z3.BoolVal(value)
            case ir.Kind.ENUM:
                names = [m.name for m in self.policy.enum(type_.enum).members]
                return z3.IntVal(names.index(value))
            case ir.Kind.DATE:
                return z3.IntVal(value.toordinal())
            case ir.Kind.DURATION:
                return _Duration(value.unit, z3.IntVal(value.amount))
            case ir.Kind.ERROR:
                raise Unsupported("error")
            case _:
                assert_never(type_.kind)

    def _unify(self, a, b) -> str:
        """The one unit two duration terms share; fixes an input's unit on first use."""
        if not (isinstance(a, _Duration) and isinstance(b, _Duration)):
            raise Unsupported("a duration with a date")
        unit = a.unit or b.unit or "month"
        if (a.unit or unit) != unit or (b.unit or unit) != unit:
            raise Unsupported("months against days")
        for side in (a, b):
            if side.unit is None:
                name = str(side.term)
                fixed = self.units.setdefault(name, unit)
                if fixed != unit:
                    raise Unsupported("a duration used in months and in days")
        return unit

    def _arith(self, op: str, a, b, expr: ir.Expr):
        if isinstance(a, _Duration) and isinstance(b, _Duration):
            unit = self._unify(a, b)
            return _Duration(unit, a.term + b.term if op == "+" else a.term - b.term)
        if expr.type.kind is ir.Kind.DATE:
            date, duration = (a, b) if isinstance(b, _Duration) else (b, a)
            # Only a duration known to be in days is linear here: months are calendar
            # arithmetic, and an input may hold either.
            if not isinstance(duration, _Duration) or duration.unit != "day" or op not in "+-":
                raise Unsupported("calendar arithmetic")
            return date + duration.term if op == "+" else date - duration.term
        if expr.type.kind is ir.Kind.DURATION:  # date - date, or duration × number
            if op == "-" and not isinstance(a, _Duration):
                return _Duration("day", a - b)
            raise Unsupported("a scaled duration")
        if _is_number(a) and _is_number(b) and op in "+-*":
            fa, fb = _fraction(a), _fraction(b)
            return _real(fa + fb if op == "+" else fa - fb if op == "-" else fa * fb)
        match op:
            case "+":
                return a + b
            case "-":
                return a - b
            case "*":
                if not (_is_number(a) or _is_number(b)):
                    raise Unsupported("a product of two variables")
                return self._slack(a * b, _ROUNDING)
            case "/":
                if not _is_number(b):
                    raise Unsupported("a division by a variable")
                divisor = _fraction(b)
                if divisor == 0:
                    raise Unsupported("a division by zero")
                return self._slack(a * _real(1 / divisor), _ROUNDING)
        raise AssertionError(op)

    def _compare(self, op: str, a, b, left: ir.Expr):
        if isinstance(a, _Duration) or isinstance(b, _Duration):
            self._unify(a, b)
            a, b = a.term, b.term
        match op:
            case "==":
                return a == b
            case "!=":
                return a != b
            case "<":
                return a < b
            case "<=":
                return a <= b
            case ">":
                return a > b
            case ">=":
                return a >= b
        raise AssertionError(op)

    def _call(self, func: str, args: list, exprs: tuple[ir.Expr, ...]):
        z3 = self.z3
        if any(isinstance(a, _Duration) for a in args):
            if func in ("min", "max"):
                unit = args[0].unit
                for other in args[1:]:
                    unit = self._unify(_Duration(unit, args[0].term), other)
                best = args[0].term
                for other in args[1:]:
                    pick = other.term < best if func == "min" else other.term > best
                    best = z3.If(pick, other.term, best)
                return _Duration(unit, best)
            if func in ("months", "days") and len(args) == 1:
                self._unify(args[0], _Duration(func[:-1], 0))
                return z3.ToReal(args[0].term)
            raise Unsupported(func)
        match func:
            case "min" | "max":
                best = args[0]
                for other in args[1:]:
                    best = z3.If(other < best if func == "min" else other > best, other, best)
                return best
            case "abs":
                return z3.If(args[0] >= 0, args[0], -args[0])
            case "round":
                if not _is_number(args[1]):
                    raise Unsupported("round to a variable step")
                return self._slack(args[0], abs(_fraction(args[1])) / 2)
        raise Unsupported(func)

    # ── allocations (exact parts, before the fen) ──
    def allocation(self, alloc: ir.Allocation) -> dict[str, object]:
        if alloc.name in self.parts:
            return self.parts[alloc.name]
        z3 = self.z3
        amount = self._slack(self.term(alloc.amount), _FEN / 2)  # to the fen, half-up
        # A negative amount is an evaluation error: no decision exists for such a case.
        self.domain.append(amount >= 0)
        match alloc:
            case ir.Shares(parts=parts, ratio=ratio):
                total = Fraction(alloc.total_weight)
                out = {p.party: amount * _real(Fraction(p.weight) / total if ratio
                                               else Fraction(p.weight)) for p in parts}
            case ir.Waterfall(steps=steps):
                out = {party: z3.RealVal(0) for party in alloc.parties}
                remaining = amount
                for step in steps:
                    match step:
                        case ir.Take(party=party, cap=cap):
                            cap_term = self.term(cap)
                            cap_term = z3.If(cap_term > 0, cap_term, 0)
                            taken = z3.If(remaining < cap_term, remaining, cap_term)
                            out[party] = out[party] + taken
                            remaining = remaining - taken
                        case ir.Split(parts=split):
                            before, given = remaining, z3.RealVal(0)
                            for part in split:
                                share = before * _real(Fraction(part.share))
                                if part.cap is not None:
                                    cap_term = self.term(part.cap)
                                    cap_term = z3.If(cap_term > 0, cap_term, 0)
                                    share = z3.If(share < cap_term, share, cap_term)
                                out[part.party] = out[part.party] + share
                                given = given + share
                            remaining = before - given
                        case ir.Rest(party=party):
                            out[party] = out[party] + remaining
                            remaining = z3.RealVal(0)
                        case _:
                            assert_never(step)
                if ir.UNALLOCATED in out:
                    out[ir.UNALLOCATED] = out[ir.UNALLOCATED] + remaining
            case _:
                assert_never(alloc)
        self.parts[alloc.name] = out
        return out


def _real(value: Fraction):
    import z3

    return z3.RealVal(f"{value.numerator}/{value.denominator}")


def _is_number(term) -> bool:
    import z3

    return not isinstance(term, _Duration) and z3.is_rational_value(z3.simplify(term))


def _fraction(term) -> Fraction:
    import z3

    term = z3.simplify(term)
    return Fraction(term.numerator_as_long(), term.denominator_as_long())


# ── the checks ─────────────────────────────────────────────────────────────


class _Judge:
    """One solver per policy, loaded with the domain; a question per push/pop."""

    def __init__(self, policy: ir.Policy):
        import z3

        self.z3 = z3
        self.policy = policy
        self.encoder = Encoder(policy)
        self.solver = z3.Solver()
        self.solver.set("timeout", _TIMEOUT_MS)

    def encode(self, expr: ir.Expr | None):
        """The formula of `expr` (True for a missing guard); None outside the fragment."""
        if expr is None:
            return self.z3.BoolVal(True)
        try:
            return self.encoder.formula(expr)
        except (Unsupported, ValueError, TypeError, self.z3.Z3Exception):
            return None

    def impossible(self, *facts, assumptions: dict | None = None) -> list[str] | None:
        """The names of the assumptions (a small unsat core) when `facts` and the
        assumptions cannot all hold; None when they can, or the solver does not know."""
        z3, solver = self.z3, self.solver
        assumptions = assumptions or {}
        solver.push()
        try:
            solver.add(*self.encoder.domain, *facts)
            flags = {name: z3.Bool(f"holds:{name}") for name in assumptions}
            for name, formula in assumptions.items():
                solver.add(z3.Implies(flags[name], formula))
            if solver.check(*flags.values()) != z3.unsat:
                return None
            core = [name for name in assumptions if any(
                c.eq(flags[name]) for c in solver.unsat_core())]
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
                               names=(check.name,)))
            judged.add(check.name)
            continue
        if check.name in judged:
            continue
        others = {c.name: judge.z3.Implies(guards[c.name], holds[c.name])
                  for c in policy.checks if c.name != check.name and c.name not in judged
                  and guards[c.name] is not None and holds[c.name] is not None}
        excluded = (judge.impossible(guard, assumptions=others)
                    if check.guard is not None else None)
        if excluded:
            out.append(warning("W103", f"the guard of {_kind(check)} `{check.name}` can never "
                               f"hold once {_names(policy, excluded)} "
                               f"hold{'s' if len(excluded) == 1 else ''}, so it never matters",
                               check.guard.span, check.span, names=(check.name, *excluded)))
            judged.add(check.name)
            continue
        if cond is None:
            continue
        never_fails = judge.impossible(guard, judge.z3.Not(cond), assumptions=others)
        if never_fails is not None:
            out.append(_never_fails(policy, check, never_fails))
            judged.add(check.name)
            continue
        never_passes = judge.impossible(guard, cond, assumptions=others)
        if never_passes is not None:
            out.append(_never_passes(check, never_passes))
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


def _names(policy: ir.Policy, names: list[str]) -> str:
    checks = [c for c in policy.checks if c.name in names]
    return ", ".join(f"{_kind(c)} `{c.name}` (line {c.span.line})" for c in checks)


def _never_fails(policy: ir.Policy, check: ir.Check, core: list[str]) -> LintWarning:
    where = " wherever it applies" if check.guard is not None else ""
    if not core:
        return warning("W104", f"{_kind(check)} `{check.name}` can never fail{where}: it holds "
                       "for every value its inputs can take", check.span, names=(check.name,))
    if isinstance(check, ir.Limit) and len(core) == 1:
        other = policy_check(policy, core[0])
        if isinstance(other, ir.Limit) and shape(other.subject) == shape(check.subject):
            return redundant(check, other)
    return warning("W104", f"{_kind(check)} `{check.name}` can never fail{where} once "
                   f"{_names(policy, core)} hold{'s' if len(core) == 1 else ''}: it adds "
                   "nothing", check.span, names=(check.name, *core))


def _never_passes(check: ir.Check, core: list[str]) -> LintWarning:
    if not core:
        where = ("every case its guard admits fails it" if check.guard is not None
                 else "no case is eligible")
        return warning("W105", f"{_kind(check)} `{check.name}` can never pass: {where}",
                       check.span, names=(check.name,))
    return warning("W105", f"{_kind(check)} `{check.name}` can never pass together with "
                   + ", ".join(f"`{name}`" for name in core) + ": no case where it applies is "
                   "eligible", check.span, names=(check.name, *core))


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
            if judge.impossible(parts[alloc.parties[0]] > _real(_FEN / 2)) is not None:
                out.append(zero_part(alloc, ", ".join(alloc.parties), alloc.span,
                                     "its amount is never positive"))
            continue
        for step in alloc.steps:
            if ("W108", step.span.line, step.span.column) in already:
                continue
            for party in _step_parties(step):
                if party in _parties_elsewhere(alloc, step):
                    continue
                if judge.impossible(parts[party] > _real(_FEN / 2)) is not None:
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
    and every rule and limit not in `skip` holds; checked by running it. None when the
    solver finds none, or none that a case can spell exactly."""
    from policylang import api
    from policylang.diagnostics import PolicyError

    judge = _Judge(policy)
    z3 = judge.z3
    facts = []
    for name, member in fixed.items():
        field_ = next(f for f in policy.inputs if f.name == name)
        members = [m.name for m in policy.enum(field_.type.enum).members]
        facts.append(judge.encoder.variable("input", field_) == members.index(member))
    for check in policy.checks:
        if check.name not in skip:
            guard, holds = judge.encode(check.guard), _holds(judge, check)
            if guard is not None and holds is not None:
                facts.append(z3.Implies(guard, holds))
    variables = [judge.encoder.variable("input", f) for f in policy.inputs]
    recent = datetime.date(2000, 1, 1).toordinal()
    tidy = [var >= (recent if f.type.kind is ir.Kind.DATE else 0)
            for f, var in zip(policy.inputs, variables, strict=True)
            if f.type.numeric or f.type.kind in (ir.Kind.DURATION, ir.Kind.DATE)]
    for extra in (tidy, []):  # non-negative amounts read better; fall back without
        model = _model(judge, facts + extra)
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


def _model(judge: _Judge, facts: list):
    solver = judge.solver
    solver.push()
    try:
        solver.add(*judge.encoder.domain, *facts)
        return solver.model() if solver.check() == judge.z3.sat else None
    finally:
        solver.pop()


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
            exact = _fraction(value)
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
        others = [z3.Implies(judge.encode(c.guard), _holds(judge, c)) for c in policy.checks
                  if c not in group and judge.encode(c.guard) is not None
                  and _holds(judge, c) is not None]
        facts = [z3.Not(covered), below < point, point < above,
                 z3.substitute(covered, (point, below)), z3.substitute(covered, (point, above)),
                 *others]
        model = _model(judge, facts)
        if model is None:
            continue
        case = _case(policy, judge, model)
        shown = dict(case or ()).get(field_.name, "")
        names = ", ".join(f"`{limit.name}`" for limit in group)
        out.append(warning(
            "W107", f"limits {names} on one subject leave a gap in `{field_.name}` between "
            f"their guards" + (f" (at {shown})" if shown else "") + ": no bound applies there",
            group[0].guard.span, group[0].span,
            notes=("make one band's edge inclusive (`<=` / `>=`), or add a limit for the gap",),
            example=case, names=tuple(limit.name for limit in group)))
    return out


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
