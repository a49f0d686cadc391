"""The z3 encoding of one policy version over the linear fragment.

Owns the translation of a checked IR (`ir.Policy`) into z3 terms: one term per input and
param, let, rule/limit (its condition, its guard, whether it holds), eligibility and
allocation part. `diff` asks it for cases where two versions decide differently; other
analyses ("can this guard ever hold", "is this part always zero") can ask it too.

    from policylang import smt
    variables = smt.Variables()                 # case inputs, shareable between versions
    old, new = smt.Encoding(p_old, variables), smt.Encoding(p_new, variables)
    solver = z3.Solver()
    solver.add(*old.domain, *new.domain, *old.defined, *new.defined)
    solver.add(old.eligible() != new.eligible())
    if solver.check() == z3.sat:
        case = new.model_to_case(solver.model())   # accepted by `policylang run --case`

What is encoded, and how:
- money, percent and number are reals; a case input takes values on a grid (money to the
  fen, percents and numbers to 10⁻¹⁰, the finest a case can give: an integer times the
  step), so models are values a user could type (params are plain reals); bool is a z3
  Bool; an enum input is an integer code of its member (codes are given by member name
  in `Variables`, so two versions agree); a date is its ordinal day; a duration is a
  whole number of months, or of days when the policy uses it with days.
- arithmetic is exact over the rationals. The interpreter rounds each `*` and `/` to 10
  places and reports allocation parts to the fen; the encoding does not, so an answer
  that lies within that rounding of a boundary must be confirmed by running the
  interpreter (the diff does, for every witness).
- outside the linear fragment (a product or quotient of two variables, `year()`,
  `month()`, calendar-month date arithmetic, months against days, `round` to a variable
  step) a term raises `Unsupported` with the reason; the `*_or_none` accessors turn that
  into None and record the reason in `unsupported`, so a caller skips the part soundly
  instead of guessing.

`domain` holds the facts every case satisfies (enum codes, |x| < 10^15, the grids,
rounding definitions); `defined` the facts under which the interpreter returns a
decision at all (allocated amounts are not negative); `plausible` optional facts that make
cases read like real loans (money, percents, numbers and durations ≥ 0, dates within
1990–2100). Params are variables of one encoding (`params`); `fix_params_to_defaults()`
gives the facts that pin those with a default.

Terms live in z3's main context unless `Variables(ctx=z3.Context())` gives a private one;
z3's models depend on every term a context ever made, so a private context makes the
answers the same whatever else the process asked before (the diff uses one).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import assert_never

import z3

from policylang import ir
from policylang import values as v
from policylang.smt_allocations import allocation_parts, real

__all__ = ["Encoding", "Unsupported", "Variables", "GRID", "real", "plain", "same"]

# The grid a case input's value lies on: money to the fen, percents and numbers to 10^-10.
GRID = {ir.Kind.MONEY: 100, ir.Kind.PERCENT: 10**v.SCALE_PLACES,
        ir.Kind.NUMBER: 10**v.SCALE_PLACES}
_PLAUSIBLE_DATES = (datetime.date(1990, 1, 1).toordinal(), datetime.date(2100, 12, 31).toordinal())


_ANY_UNIT = "any"  # the unit of a constant zero duration


class Unsupported(Exception):
    """A term outside the linear fragment; `reason` says what (shown to users as a note)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def plain(term) -> z3.ExprRef:
    """The z3 expression of a term: a duration's count of its unit, else the term."""
    return term.term if isinstance(term, _Duration) else term


def same(a, b) -> z3.BoolRef:
    """Two terms of one type are equal (durations by their count)."""
    return plain(a) == plain(b)


@dataclass(frozen=True, slots=True)
class _Duration:
    """A duration term: a whole number of months or of days."""

    unit: str  # "month" | "day"
    term: z3.ArithRef


class Variables:
    """The z3 variables of case inputs, keyed by input name and type, so that two
    encodings built on one `Variables` read the same case. Also the member codes of enums
    (by member name, so versions that add or reorder members still agree)."""

    def __init__(self, prefix: str = "", ctx: z3.Context | None = None) -> None:
        self.prefix = prefix
        # A private context (`z3.Context()`) makes answers independent of what else the
        # process asked z3 before; None is z3's main context.
        self.ctx = ctx or z3.main_ctx()
        self._inputs: dict[tuple[str, str], object] = {}
        self._raw: dict[tuple[str, str], z3.ExprRef] = {}  # the integer behind a grid value
        self.units: dict[str, str] = {}  # duration input → "month" | "day"
        self._codes: dict[str, int] = {}

    def code(self, member: str) -> int:
        return self._codes.setdefault(member, len(self._codes))

    def member(self, code: int) -> str:
        return next(name for name, c in self._codes.items() if c == code)

    def input(self, field: ir.Field, unit: str = "month", grid: bool = True):
        """The term of an input: a real (on its grid, unless `grid` is false), Bool, Int
        (enum code, date ordinal) or `_Duration`. The first encoding to ask fixes a
        duration's unit."""
        key = (field.name, str(field.type))
        if key not in self._inputs:
            name = f"{self.prefix}{field.name}:{field.type}"
            kind = field.type.kind
            match kind:
                case ir.Kind.MONEY | ir.Kind.PERCENT | ir.Kind.NUMBER if not grid:
                    self._inputs[key] = z3.Real(name, self.ctx)
                case ir.Kind.MONEY | ir.Kind.PERCENT | ir.Kind.NUMBER:
                    raw = z3.Int(name, self.ctx)
                    self._raw[key] = raw
                    self._inputs[key] = z3.ToReal(raw) / GRID[kind]
                case ir.Kind.BOOL:
                    self._inputs[key] = z3.Bool(name, self.ctx)
                case ir.Kind.ENUM | ir.Kind.DATE:
                    self._inputs[key] = z3.Int(name, self.ctx)
                case ir.Kind.DURATION:
                    self.units.setdefault(field.name, unit)
                    self._inputs[key] = _Duration(self.units[field.name], z3.Int(name, self.ctx))
                case ir.Kind.ERROR:
                    raise Unsupported(f"input `{field.name}` has no type")
                case _:
                    assert_never(kind)
        return self._inputs[key]

    def raw(self, field: ir.Field) -> z3.ExprRef | None:
        return self._raw.get((field.name, str(field.type)))


class Encoding:
    """One policy version as z3 terms over `variables` (fresh ones when not given)."""

    def __init__(self, policy: ir.Policy, variables: Variables | None = None,
                 tag: str = "") -> None:
        self.policy = policy
        self.variables = variables or Variables()
        self.ctx = self.variables.ctx
        self.tag = tag or policy.name
        self.domain: list[z3.BoolRef] = []
        self.defined: list[z3.BoolRef] = []
        self.plausible: list[z3.BoolRef] = []
        self.unsupported: dict[str, str] = {}  # "let x" / "limit y" → why it is skipped
        self._lets: dict[str, object] = {}
        self._parts: dict[str, dict[str, z3.ArithRef]] = {}
        self._fresh = 0
        self._checks = {check.name: check for check in policy.checks}
        self._holds: dict[str, z3.BoolRef] = {}
        units = _duration_units(policy)
        self.inputs: dict[str, object] = {}
        for field in policy.inputs:
            term = self.variables.input(field, units.get(field.name, "month"))
            self.inputs[field.name] = term
            self._facts(field, term, input_=True)
        self.params: dict[str, object] = {}
        for field in policy.params:
            own = Variables(f"{self.tag}.param.", self.ctx)  # params are not shared
            term = own.input(field, units.get(field.name, "month"), grid=False)
            self.params[field.name] = term
            self._facts(field, term, input_=False)

    # ── the facts of types ──
    def _facts(self, field: ir.Field, term, input_: bool) -> None:
        kind = field.type.kind
        match kind:
            case ir.Kind.MONEY | ir.Kind.PERCENT | ir.Kind.NUMBER:
                if input_:
                    limit = real(v.INPUT_LIMIT, self.ctx)
                    self.domain += [term < limit, term > -limit]
                upper = 1 if kind is ir.Kind.PERCENT else None
                self.plausible.append(term >= 0)
                if upper is not None:
                    self.plausible.append(term <= upper)
            case ir.Kind.ENUM:
                members = self.policy.enum(field.type.enum).members
                self.domain.append(z3.Or([term == self.variables.code(m.name)
                                          for m in members]))
            case ir.Kind.DATE:
                self.domain += [term >= 1, term <= datetime.date.max.toordinal()]
                low, high = _PLAUSIBLE_DATES
                self.plausible += [term >= low, term <= high]
            case ir.Kind.DURATION:
                self.plausible.append(term.term >= 0)
            case ir.Kind.BOOL | ir.Kind.ERROR:
                pass
            case _:
                assert_never(kind)

    def fix_params_to_defaults(self) -> list[z3.BoolRef]:
        """Facts pinning every param that has a default to it."""
        return [self._equal(self.params[p.name], self._const(p.default, p.type))
                for p in self.policy.params if p.default is not None]

    # ── declarations ──
    def let(self, name: str):
        """The term of a let (a duration's amount for durations); raises Unsupported."""
        if name not in self._lets:
            try:
                self._lets[name] = self.term(self.policy.let(name).expr)
            except Unsupported as error:
                self._lets[name] = error
        found = self._lets[name]
        if isinstance(found, Unsupported):
            raise found
        return found.term if isinstance(found, _Duration) else found

    def guard(self, name: str) -> z3.BoolRef:
        check = self._check(name)
        return z3.BoolVal(True, self.ctx) if check.guard is None else self.formula(check.guard)

    def condition(self, name: str) -> z3.BoolRef:
        """The rule's condition, or `subject op bound` of a limit, ignoring the guard."""
        check = self._check(name)
        match check:
            case ir.Rule(cond=cond):
                return self.formula(cond)
            case ir.Limit(subject=subject, op=op, bound=bound):
                return self._compare(op, self.term(subject), self.term(bound))
            case _:
                assert_never(check)

    def holds(self, name: str) -> z3.BoolRef:
        """The check holds or does not apply (its guard is false)."""
        if name not in self._holds:
            self._holds[name] = z3.Implies(self.guard(name), self.condition(name))
        return self._holds[name]

    def eligible(self) -> z3.BoolRef:
        """Every applicable rule and limit holds; raises Unsupported if any is outside."""
        return z3.And([self.holds(check.name) for check in self.policy.checks], self.ctx)

    def part(self, allocation: str, party: str) -> z3.ArithRef:
        """An allocation part, exact (not rounded to the fen); for shares without an
        amount, the party's fraction."""
        alloc = self.policy.allocation(allocation)
        if isinstance(alloc, ir.Shares) and alloc.amount is None:
            weight = next(p.weight for p in alloc.parts if p.party == party)
            return real(Fraction(weight) / Fraction(alloc.total_weight) if alloc.ratio
                        else Fraction(weight), self.ctx)
        return self._allocation(alloc)[party]

    def amount(self, allocation: str) -> z3.ArithRef | None:
        """The allocated amount (None for shares without one)."""
        alloc = self.policy.allocation(allocation)
        if isinstance(alloc, ir.Shares) and alloc.amount is None:
            return None
        return self.term(alloc.amount)

    # Accessors that record the reason and give None outside the fragment.
    def let_or_none(self, name: str):
        return self._or_none(f"let {name}", self.let, name)

    def holds_or_none(self, name: str) -> z3.BoolRef | None:
        return self._or_none(f"{_keyword(self._check(name))} {name}", self.holds, name)

    def guard_or_none(self, name: str) -> z3.BoolRef | None:
        return self._or_none(f"{_keyword(self._check(name))} {name}", self.guard, name)

    def part_or_none(self, allocation: str, party: str) -> z3.ArithRef | None:
        keyword = "shares" if isinstance(self.policy.allocation(allocation), ir.Shares) \
            else "waterfall"
        return self._or_none(f"{keyword} {allocation}", self.part, allocation, party)

    def eligible_or_none(self) -> z3.BoolRef | None:
        holds = [self.holds_or_none(c.name) for c in self.policy.checks]
        return None if any(h is None for h in holds) else z3.And(holds, self.ctx)

    def _or_none(self, what: str, fn, *args):
        try:
            return fn(*args)
        except Unsupported as error:
            self.unsupported.setdefault(what, error.reason)
            return None

    def _check(self, name: str) -> ir.Check:
        return self._checks[name]

    # ── models back to cases ──
    def model_values(self, model: z3.ModelRef) -> dict[str, ir.Value]:
        """Every input's value in `model` (unconstrained ones completed)."""
        return {field.name: self._value(model, field, self.inputs[field.name])
                for field in self.policy.inputs}

    def model_params(self, model: z3.ModelRef) -> dict[str, ir.Value]:
        return {field.name: self._value(model, field, self.params[field.name])
                for field in self.policy.params}

    def model_to_case(self, model: z3.ModelRef, skip_defaults: bool = False) -> dict:
        """Case JSON (`.pol` literals as strings, bools as JSON bools) that
        `policylang run --case` accepts; with `skip_defaults`, fields equal to their
        default are left out."""
        out: dict[str, object] = {}
        for field, value in zip(self.policy.inputs, self.model_values(model).values(),
                                strict=True):
            if skip_defaults and field.default is not None and value == field.default:
                continue
            out[field.name] = value if isinstance(value, bool) else v.literal(value, field.type)
        return out

    def _value(self, model: z3.ModelRef, field: ir.Field, term) -> ir.Value:
        kind = field.type.kind
        match kind:
            case ir.Kind.MONEY | ir.Kind.PERCENT | ir.Kind.NUMBER:
                value = model.eval(term, model_completion=True)
                fraction = Fraction(value.numerator_as_long(), value.denominator_as_long())
                return _decimal(fraction)
            case ir.Kind.BOOL:
                return z3.is_true(model.eval(term, model_completion=True))
            case ir.Kind.ENUM:
                code = model.eval(term, model_completion=True).as_long()
                names = [m.name for m in self.policy.enum(field.type.enum).members]
                codes = {self.variables.code(name): name for name in names}
                return codes.get(code, names[0])
            case ir.Kind.DATE:
                ordinal = model.eval(term, model_completion=True).as_long()
                return datetime.date.fromordinal(min(max(ordinal, 1),
                                                     datetime.date.max.toordinal()))
            case ir.Kind.DURATION:
                amount = model.eval(term.term, model_completion=True).as_long()
                return ir.Duration(amount, term.unit)
            case ir.Kind.ERROR:
                raise Unsupported(f"input `{field.name}` has no type")
            case _:
                assert_never(kind)

    # ── expressions ──
    def formula(self, expr: ir.Expr) -> z3.BoolRef:
        term = self.term(expr)
        assert z3.is_bool(term), expr
        return term

    def term(self, expr: ir.Expr):
        """The z3 term of any expression: a real, Bool, Int (enum/date) or a duration
        (`_Duration`, whose `.term` counts its unit). Raises Unsupported."""
        match expr:
            case ir.Const(value=value, type=type_):
                return self._const(value, type_)
            case ir.InputRef(name=name):
                return self.inputs[name]
            case ir.ParamRef(name=name):
                return self.params[name]
            case ir.LetRef(name=name):
                self.let(name)
                return self._lets[name]
            case ir.PartRef(allocation=allocation, party=party):
                return self.part(allocation, party)
            case ir.Neg(operand=operand):
                inner = self.term(operand)
                return _Duration(inner.unit, -inner.term) if isinstance(inner, _Duration) \
                    else -inner
            case ir.Arith(op=op, left=left, right=right):
                return self._arith(op, self.term(left), self.term(right), expr.type)
            case ir.Compare(op=op, left=left, right=right):
                return self._compare(op, self.term(left), self.term(right))
            case ir.And(left=left, right=right):
                return z3.And(self.formula(left), self.formula(right))
            case ir.Or(left=left, right=right):
                return z3.Or(self.formula(left), self.formula(right))
            case ir.Not(operand=operand):
                return z3.Not(self.formula(operand))
            case ir.InSet(operand=operand, items=items, negated=negated):
                operand_term = self.term(operand)
                hit = z3.Or([self._compare("==", operand_term, self.term(item))
                             for item in items])
                return z3.Not(hit) if negated else hit
            case ir.If(cond=cond, then=then, otherwise=otherwise):
                a, b = self.term(then), self.term(otherwise)
                if isinstance(a, _Duration) or isinstance(b, _Duration):
                    unit = _unit(a, b)
                    return _Duration(unit, z3.If(self.formula(cond), a.term, b.term))
                return z3.If(self.formula(cond), a, b)
            case ir.Call(func=func, args=args):
                return self._call(func, [self.term(a) for a in args])
            case _:
                assert_never(expr)

    def constant(self, value: ir.Value, type_: ir.Type):
        """The term of a value of the given type (an enum member by its code)."""
        return self._const(value, type_)

    def _const(self, value: ir.Value, type_: ir.Type):
        kind = type_.kind
        match kind:
            case ir.Kind.MONEY | ir.Kind.PERCENT | ir.Kind.NUMBER:
                return real(value, self.ctx)
            case ir.Kind.BOOL:
                return z3.BoolVal(value, self.ctx)
            case ir.Kind.ENUM:
                return z3.IntVal(self.variables.code(value), self.ctx)
            case ir.Kind.DATE:
                return z3.IntVal(value.toordinal(), self.ctx)
            case ir.Kind.DURATION:
                # A zero duration has no unit: it goes with months and with days.
                return _Duration(value.unit if value.amount else _ANY_UNIT,
                                 z3.IntVal(value.amount, self.ctx))
            case ir.Kind.ERROR:
                raise Unsupported("an expression without a type")
            case _:
                assert_never(kind)

    def _equal(self, a, b) -> z3.BoolRef:
        return self._compare("==", a, b)

    def _arith(self, op: str, a, b, result: ir.Type):
        if isinstance(a, _Duration) and isinstance(b, _Duration):
            unit = _unit(a, b)
            return _Duration(unit, a.term + b.term if op == "+" else a.term - b.term)
        if result.kind is ir.Kind.DATE:
            date, duration = (a, b) if isinstance(b, _Duration) else (b, a)
            if duration.unit != "day":
                raise Unsupported("date arithmetic in calendar months")
            return date + duration.term if op == "+" else date - duration.term
        if result.kind is ir.Kind.DURATION:
            if op == "-" and not isinstance(a, _Duration):  # date − date: days
                return _Duration("day", a - b)
            duration, factor = (a, b) if isinstance(a, _Duration) else (b, a)
            if not _is_constant(factor):
                raise Unsupported("a duration scaled by a variable")
            scaled = _fraction(factor)
            if scaled.denominator != 1:  # the interpreter accepts only whole results
                raise Unsupported("a duration scaled by a fraction")
            return _Duration(duration.unit, duration.term * int(scaled))
        match op:
            case "+":
                return a + b
            case "-":
                return a - b
            case "*":
                if not (_is_constant(a) or _is_constant(b)):
                    raise Unsupported("a product of two variables")
                return a * b
            case "/":
                if not _is_constant(b):
                    raise Unsupported("a division by a variable")
                divisor = _fraction(b)
                if divisor == 0:
                    raise Unsupported("a division by zero")
                return a * real(1 / divisor, self.ctx)
        raise AssertionError(op)

    def _compare(self, op: str, a, b) -> z3.BoolRef:
        if isinstance(a, _Duration) or isinstance(b, _Duration):
            _unit(a, b)
            a, b = a.term, b.term
        return v.COMPARISONS[op](a, b)

    def _call(self, func: str, args: list):
        if any(isinstance(a, _Duration) for a in args):
            match func:
                case "min" | "max":
                    unit = _unit(*args)
                    best = args[0].term
                    for other in args[1:]:
                        pick = other.term < best if func == "min" else other.term > best
                        best = z3.If(pick, other.term, best)
                    return _Duration(unit, best)
                case "months" | "years":
                    if args[0].unit == "day":
                        raise Unsupported(f"{func}() of a duration in days")
                    months = z3.ToReal(args[0].term)
                    return months if func == "months" else months / 12
                case "days":
                    if args[0].unit == "month":
                        raise Unsupported("days() of a duration in months")
                    return z3.ToReal(args[0].term)
            raise Unsupported(f"{func}() of a duration")
        match func:
            case "min" | "max":
                best = args[0]
                for other in args[1:]:
                    best = z3.If(other < best if func == "min" else other > best, other, best)
                return best
            case "abs":
                return z3.If(args[0] >= 0, args[0], -args[0])
            case "round":
                return self._round(args[0], args[1])
            case "years" | "months" | "days":
                raise Unsupported(f"{func}() of a non-duration")
            case "year" | "month":
                raise Unsupported(f"the calendar function {func}()")
        raise Unsupported(f"the function {func}()")

    def _round(self, x, step):
        """round(x, step) half away from zero: x = count·step + r with a fresh integer."""
        if not _is_constant(step) or _fraction(step) <= 0:
            raise Unsupported("round() to a variable or non-positive step")
        self._fresh += 1
        count = z3.Int(f"{self.tag}.round{self._fresh}", self.ctx)
        size = real(_fraction(step), self.ctx)
        rounded = z3.ToReal(count) * size
        half = size / 2
        self.domain.append(z3.If(x >= 0,
                                 z3.And(rounded - half <= x, x < rounded + half),
                                 z3.And(rounded - half < x, x <= rounded + half)))
        return rounded

    # ── allocations ──
    def _allocation(self, alloc: ir.Allocation) -> dict[str, z3.ArithRef]:
        if alloc.name in self._parts:
            return self._parts[alloc.name]
        amount = self.term(alloc.amount)
        # A negative amount is an evaluation error: there is no decision for such a case.
        self.defined.append(amount >= 0)
        out = allocation_parts(alloc, amount, self.term, self.ctx)
        self._parts[alloc.name] = out
        return out


# ── helpers ───────────────────────────────────────────────────────────────


def _keyword(check: ir.Check) -> str:
    return "limit" if isinstance(check, ir.Limit) else "rule"


def _unit(*terms) -> str:
    if any(not isinstance(t, _Duration) for t in terms):
        raise Unsupported("a duration mixed with another type")
    units = {t.unit for t in terms} - {_ANY_UNIT}
    if len(units) > 1:
        raise Unsupported("months compared with days")
    return units.pop() if units else _ANY_UNIT


def _is_constant(term) -> bool:
    return not isinstance(term, _Duration) and z3.is_rational_value(z3.simplify(term))


def _fraction(term) -> Fraction:
    value = z3.simplify(term)
    return Fraction(value.numerator_as_long(), value.denominator_as_long())


def _decimal(fraction: Fraction) -> Decimal:
    """An exact decimal (grid values always terminate); else rounded to 10 places."""
    value = Decimal(fraction.numerator) / Decimal(fraction.denominator)
    exact = Fraction(value) == fraction
    return value if exact else value.quantize(v.SCALE)


def _duration_units(policy: ir.Policy) -> dict[str, str]:
    """Inputs and params of duration type that the policy uses with days: in `days()`, or
    beside a constant of days in a comparison, a sum or a limit."""
    found: dict[str, str] = {}

    def pair(ref: ir.Expr, other: ir.Expr) -> None:
        if (isinstance(ref, ir.InputRef | ir.ParamRef) and ref.type.kind is ir.Kind.DURATION
                and isinstance(other, ir.Const) and isinstance(other.value, ir.Duration)
                and other.value.unit == "day" and other.value.amount != 0):
            found[ref.name] = "day"

    for node in ir.walk((policy.lets, policy.checks)):
        match node:
            case ir.Call(func="days", args=(ir.InputRef(name=name) | ir.ParamRef(name=name),)):
                found[name] = "day"
            case ir.Compare(left=left, right=right) | ir.Arith(left=left, right=right) \
                    | ir.Limit(subject=left, bound=right):
                pair(left, right)
                pair(right, left)
    return found
