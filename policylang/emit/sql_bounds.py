"""Bounds of a policy's numbers over a known book: an interval analysis on the IR.

Given the bounds of each numeric input (least and greatest value, most decimal places)
and of each duration input (its months and its days), `Analysis.of` bounds every numeric
expression of the policy: an interval holding every value it can take on that book, and
the most decimal places any of those values has. The narrow SQL builder
(`sql_narrow.py`) picks each expression's DECIMAL(p, s) from them.

Soundness is the whole contract: a bound must hold every value the interpreter can
compute, including values produced by rounding (a product rounded to 10 places may pass
the exact product's bound by 10^-10; `round(x, step)` by one step). Where no sound bound
is known (a division by a non-constant, a duration scaled by a number, a date
difference) the answer is None and the builder computes that expression as the generic
query does.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from policylang import ir
from policylang.values import EXACT, MAGNITUDE_LIMIT, SCALE_PLACES, div

ULP = Decimal(1).scaleb(-SCALE_PLACES)  # what rounding to 10 places may add


@dataclass(frozen=True)
class Bounds:
    """lo ≤ every value ≤ hi, and no value has more than `places` decimal places."""

    lo: Decimal
    hi: Decimal
    places: int

    @staticmethod
    def of_constant(value: Decimal) -> Bounds:
        return Bounds(value, value, places_of(value))

    @property
    def magnitude(self) -> Decimal:
        return max(abs(self.lo), abs(self.hi))

    def digits(self) -> int:
        """Digits left of the point that every value's magnitude fits in (at least 1)."""
        whole = int(self.magnitude)
        return max(len(str(whole)), 1)

    def precision(self) -> int | None:
        """The p of DECIMAL(p, places) holding every value; None where a value may reach
        the magnitude limit (the generic query checks those at run time)."""
        if self.magnitude >= MAGNITUDE_LIMIT:
            return None
        return self.digits() + self.places

    def hull(self, other: Bounds) -> Bounds:
        return Bounds(min(self.lo, other.lo), max(self.hi, other.hi),
                      max(self.places, other.places))

    def widened(self, by: Decimal, places: int) -> Bounds:
        """The bounds after rounding to a multiple of `by`, half away from zero: a value
        moves by less than `by` and never across zero."""
        lo = self.lo - by if self.lo < 0 else max(self.lo - by, Decimal(0))
        hi = self.hi + by if self.hi > 0 else min(self.hi + by, Decimal(0))
        return Bounds(lo, hi, places)


@dataclass(frozen=True)
class DurationBounds:
    """A duration input's months and days (each duration holds one of the two)."""

    months: Bounds
    days: Bounds


InputBounds = Bounds | DurationBounds


def places_of(value: Decimal) -> int:
    return max(0, -value.normalize().as_tuple().exponent)


def times(a: Bounds, b: Bounds) -> Bounds:
    """The exact product's bounds (not yet rounded)."""
    corners = [EXACT.multiply(x, y) for x in (a.lo, a.hi) for y in (b.lo, b.hi)]
    return Bounds(min(corners), max(corners), a.places + b.places)


def rounded_product(a: Bounds, b: Bounds) -> Bounds:
    """`a * b` as the interpreter computes it: the exact product rounded to 10 places."""
    exact = times(a, b)
    if exact.places <= SCALE_PLACES:
        return exact
    return exact.widened(ULP, SCALE_PLACES)


def quotient(a: Bounds, divisor: Decimal) -> Bounds:
    """`a / d` for a nonzero constant d, rounded to 10 places. An end may pass the
    magnitude limit (`m / 1bp` over a book of 10^15元 loans): it is a bound all the same
    (`precision()` then leaves the expression to the run-time check), where `values.div`
    would raise E611 and the query could not be built."""
    ends = [EXACT.divide(end, divisor).quantize(ULP, rounding=ROUND_HALF_UP, context=EXACT)
            for end in (a.lo, a.hi)]
    return Bounds(min(ends), max(ends), SCALE_PLACES).widened(ULP, SCALE_PLACES)


class Analysis:
    """Bounds of a policy's numeric expressions, given its inputs' bounds and params."""

    def __init__(self, policy: ir.Policy, params: dict[str, ir.Value],
                 inputs: dict[str, InputBounds]):
        self.policy, self.params = policy, params
        self.inputs: dict[str, InputBounds | None] = {
            f.name: self._with_default(f, inputs.get(f.name)) for f in policy.inputs}
        self._lets: dict[str, Bounds | None] = {}
        self._amounts: dict[str, Bounds | None] = {}

    @staticmethod
    def _with_default(f: ir.Field, found: InputBounds | None) -> InputBounds | None:
        default = f.default
        if f.type.numeric:
            if not isinstance(found, Bounds):
                return Bounds.of_constant(default) if isinstance(default, Decimal) else None
            return found.hull(Bounds.of_constant(default)) if isinstance(default, Decimal) \
                else found
        if f.type.kind is ir.Kind.DURATION:
            if not isinstance(found, DurationBounds):
                found = None
            if isinstance(default, ir.Duration):
                point = Bounds.of_constant(Decimal(default.amount))
                zero = Bounds.of_constant(Decimal(0))
                made = (DurationBounds(point, zero) if default.unit == "month"
                        else DurationBounds(zero, point))
                return made if found is None else DurationBounds(
                    found.months.hull(made.months), found.days.hull(made.days))
            return found
        return None

    def input(self, name: str) -> InputBounds | None:
        return self.inputs.get(name)

    def amount(self, alloc: ir.Allocation) -> Bounds | None:
        """An allocation's amount as rounded to the fen (before it is shared out)."""
        if alloc.name not in self._amounts:
            given = self.of(alloc.amount) if alloc.amount is not None else None
            self._amounts[alloc.name] = (
                None if given is None else given if given.places <= 2
                else given.widened(Decimal("0.01"), 2))
        return self._amounts[alloc.name]

    def of(self, e: ir.Expr) -> Bounds | None:
        """Bounds of a numeric expression, or None where none is known."""
        if not e.type.numeric:
            return None
        match e:
            case ir.Const(value=value) if isinstance(value, Decimal):
                return Bounds.of_constant(value)
            case ir.ParamRef(name=name):
                value = self.params.get(name)
                return Bounds.of_constant(value) if isinstance(value, Decimal) else None
            case ir.InputRef(name=name):
                found = self.inputs.get(name)
                return found if isinstance(found, Bounds) else None
            case ir.LetRef(name=name):
                if name not in self._lets:
                    self._lets[name] = self.of(self.policy.let(name).expr)
                return self._lets[name]
            case ir.PartRef(allocation=allocation, party=party):
                return self._part(self.policy.allocation(allocation), party)
            case ir.Neg(operand=operand):
                inner = self.of(operand)
                return None if inner is None else Bounds(-inner.hi, -inner.lo, inner.places)
            case ir.Arith():
                return self._arith(e)
            case ir.Call():
                return self._call(e)
            case ir.If(then=then, otherwise=otherwise):
                a, b = self.of(then), self.of(otherwise)
                return None if a is None or b is None else a.hull(b)
        return None

    def _part(self, alloc: ir.Allocation, party: str) -> Bounds | None:
        if isinstance(alloc, ir.Shares) and alloc.amount is None:
            weight = next(p.weight for p in alloc.parts if p.party == party)
            return Bounds.of_constant(div(weight, alloc.total_weight) if alloc.ratio
                                      else weight)
        amount = self.amount(alloc)
        if amount is None or not isinstance(alloc, ir.Shares):
            return None  # a waterfall's parts depend on its caps and steps: left unbounded
        # The amount's share, truncated to the fen and maybe given one more fen.
        weight = next(p.weight for p in alloc.parts if p.party == party)
        # A ratio's fraction rounded up past its 10-place rounding: never below the true one.
        fraction = div(weight, alloc.total_weight) + ULP if alloc.ratio else weight
        exact = times(amount, Bounds.of_constant(abs(fraction)))
        fen = Decimal("0.01")
        return Bounds(min(exact.lo, Decimal(0)) - fen, max(exact.hi, Decimal(0)) + fen, 2)

    def _arith(self, e: ir.Arith) -> Bounds | None:
        a, b = self.of(e.left), self.of(e.right)
        if a is None:
            return None
        match e.op:
            case "+" if b is not None:
                return Bounds(a.lo + b.lo, a.hi + b.hi, max(a.places, b.places))
            case "-" if b is not None:
                return Bounds(a.lo - b.hi, a.hi - b.lo, max(a.places, b.places))
            case "*" if b is not None:
                return rounded_product(a, b)
            case "/":
                divisor = self.constant(e.right)
                if divisor is None or divisor == 0:
                    return None
                return quotient(a, divisor)
        return None

    def constant(self, e: ir.Expr) -> Decimal | None:
        """The value of a constant numeric expression (a literal or a bound param)."""
        found = self.of(e) if isinstance(e, ir.Const | ir.ParamRef) else None
        return found.lo if found is not None and found.lo == found.hi else None

    def _call(self, e: ir.Call) -> Bounds | None:
        match e.func:
            case "min" | "max":
                found = [self.of(a) for a in e.args]
                if any(b is None for b in found):
                    return None
                pick = min if e.func == "min" else max
                return Bounds(pick(b.lo for b in found), pick(b.hi for b in found),
                              max(b.places for b in found))
            case "abs":
                a = self.of(e.args[0])
                if a is None:
                    return None
                low = Decimal(0) if a.lo <= 0 <= a.hi else min(abs(a.lo), abs(a.hi))
                return Bounds(low, a.magnitude, a.places)
            case "round":
                a, step = self.of(e.args[0]), self.constant(e.args[1])
                if a is None or step is None or step <= 0:
                    return None
                return a.widened(step, places_of(step))
            case "years" | "months" | "days":
                duration = self.duration(e.args[0])
                if duration is None:
                    return None
                if e.func == "years":
                    return quotient(duration.months, Decimal(12))
                return duration.months if e.func == "months" else duration.days
            case "year":
                return Bounds(Decimal(1), Decimal(9999), 0)
            case "month":
                return Bounds(Decimal(1), Decimal(12), 0)
        return None

    def duration(self, e: ir.Expr) -> DurationBounds | None:
        match e:
            case ir.InputRef(name=name):
                found = self.inputs.get(name)
                return found if isinstance(found, DurationBounds) else None
            case ir.Const(value=value) if isinstance(value, ir.Duration):
                point, zero = Bounds.of_constant(Decimal(value.amount)), Bounds.of_constant(
                    Decimal(0))
                return DurationBounds(point, zero) if value.unit == "month" else \
                    DurationBounds(zero, point)
        return None


def bucketed(low: Decimal, high: Decimal, places: int) -> Bounds:
    """Measured bounds rounded outward to 10^k − 10^-places, so that books of similar size
    share one query (and its cache entry) without needing another digit."""
    places = min(max(places, 0), SCALE_PLACES)

    def outward(value: Decimal) -> Decimal:  # value > 0
        digits = len(str(int(value))) if value >= 1 else 0
        return Decimal(10) ** digits - Decimal(1).scaleb(-places)

    return Bounds(-outward(-low) if low < 0 else Decimal(0),
                  outward(high) if high > 0 else Decimal(0), places)
