"""The z3 encoding lint reasons with: a policy's linear fragment as z3 terms.

Owns `Encoder`, which turns expressions, lets and allocations into z3 terms over one
variable per input and param, and collects the facts every case satisfies (`domain`: the
input types, the 10^15 bound on case numbers, rounding slack). The encoding
over-approximates the interpreter, so that an `unsat` answer is a proof about every real
case: each `*` and `/` (rounded to 10 places at run time), `round()`, the allocated amount
(to the fen) and every reported part get a slack variable within their rounding error.
Anything outside the linear fragment (a product of two inputs, `year(d)`, a date plus
months, a duration input used in both months and days) raises `Unsupported`.

Why not `smt.py` (the diff's encoding): the diff looks for witnesses (`sat`), so it puts
case values on a grid (money to the fen) and computes exactly, then re-runs each witness
in the interpreter. Lint claims impossibilities (`unsat`), which a grid or exact
arithmetic would make false: a case may give 1.005元, and `x * 2 / 3` and `x / 3 * 2`
differ at 0.0000000001元 (tests/lint/sub_fen_and_rounding.pol pins both).
"""

from __future__ import annotations

import datetime
from fractions import Fraction
from typing import assert_never

from policylang import ir
from policylang import values as v

ROUNDING = Fraction(1, 2 * 10**v.SCALE_PLACES)  # the largest error of one `*` or `/`
FEN = Fraction(1, 100)


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
                        limit = real(Fraction(v.INPUT_LIMIT))
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
        self.domain += [rounded - exact <= real(error), exact - rounded <= real(error)]
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
                    return real(share)
                # Reported parts are rounded to the fen (largest remainder): within a fen.
                return self._slack(self.allocation(alloc)[party], 2 * FEN)
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
                return real(Fraction(value))
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
        if is_number(a) and is_number(b) and op in "+-*":
            fa, fb = fraction(a), fraction(b)
            return real(fa + fb if op == "+" else fa - fb if op == "-" else fa * fb)
        match op:
            case "+":
                return a + b
            case "-":
                return a - b
            case "*":
                if not (is_number(a) or is_number(b)):
                    raise Unsupported("a product of two variables")
                return self._slack(a * b, ROUNDING)
            case "/":
                if not is_number(b):
                    raise Unsupported("a division by a variable")
                divisor = fraction(b)
                if divisor == 0:
                    raise Unsupported("a division by zero")
                return self._slack(a * real(1 / divisor), ROUNDING)
        raise AssertionError(op)

    def _compare(self, op: str, a, b, left: ir.Expr):
        if isinstance(a, _Duration) or isinstance(b, _Duration):
            self._unify(a, b)
            a, b = a.term, b.term
        return v.COMPARISONS[op](a, b)

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
                if not is_number(args[1]):
                    raise Unsupported("round to a variable step")
                return self._slack(args[0], abs(fraction(args[1])) / 2)
        raise Unsupported(func)

    # ── allocations (exact parts, before the fen) ──
    def allocation(self, alloc: ir.Allocation) -> dict[str, object]:
        if alloc.name in self.parts:
            return self.parts[alloc.name]
        amount = self._slack(self.term(alloc.amount), FEN / 2)  # to the fen, half-up
        # A negative amount is an evaluation error: no decision exists for such a case.
        self.domain.append(amount >= 0)
        from policylang.smt_allocations import allocation_parts  # z3 is imported on demand

        out = allocation_parts(alloc, amount, self.term)
        self.parts[alloc.name] = out
        return out


def real(value: Fraction):
    import z3

    return z3.RealVal(f"{value.numerator}/{value.denominator}")


def is_number(term) -> bool:
    import z3

    return not isinstance(term, _Duration) and z3.is_rational_value(z3.simplify(term))


def fraction(term) -> Fraction:
    import z3

    term = z3.simplify(term)
    return Fraction(term.numerator_as_long(), term.denominator_as_long())
