"""The DuckDB query narrowed to a known book: every number in the narrowest exact DECIMAL.

DuckDB holds DECIMAL(p, s) in 64-bit integers when p ≤ 18 and in 128-bit integers above,
and its 128-bit division (ROUND, a cast to fewer places) costs 30–100× the 64-bit one.
The generic query (sql.py) must hold any case, so it computes in DECIMAL(38,10). A book
is known before its query runs: `run --book` measures each input's bounds, and
`sql_bounds.Analysis` bounds every numeric expression from them. Here each bounded
expression is computed in DECIMAL(p, s), s its most decimal places and p the digits its
bound needs: exact, since every value fits its type; rounded exactly where the
interpreter rounds (a product with more than 10 places, a division, the fen of an
allocation); and no range check where the bound proves the value stays below 10^18.
An expression without bounds is computed as the generic query computes it. Products and
quotients that 64-bit integers hold are computed on whole numbers (sql_whole.py).

The type is where the value ends up, not a cast at every step: a value DuckDB already
holds in 64 bits with its bounds' places keeps DuckDB's own type (sql_decimal_types.py
infers it), since DuckDB checks every value of a cast to fewer digits; only a sum, LEAST,
GREATEST or CASE that DuckDB would widen past 18 digits has its operands cast to their
bounds' types first. (重庆's book query: 11 such checks a row fewer, 8% of its time.)

Output columns keep DESIGN §5's types (money DECIMAL(18,2), percent and number
DECIMAL(38,10)), whatever the types inside.
"""

from __future__ import annotations

from decimal import Decimal
from typing import assert_never

from sqlglot import exp

from policylang import ir
from policylang.emit.reuse import reuse_lets
from policylang.emit.sql import (
    NUMERIC,
    PREFIX,
    QueryBuilder,
    case,
    col,
    constant_of,
    fail,
    fn,
    narrow,
    paren,
)
from policylang.emit.sql_bounds import (
    Analysis,
    Bounds,
    InputBounds,
    places_of,
    rounded_product,
    times,
)
from policylang.emit.sql_decimal_types import INT64_DIGITS, DecimalType, type_of
from policylang.emit.sql_temporal import _COMPARE, days_of, months_of
from policylang.emit.sql_tree import (
    exact_column,
    input_column,
    let_column,
    part_column,
    plus,
)
from policylang.emit.sql_whole import WholeNumbers, cast_to
from policylang.values import MONEY_EDGE, SCALE_PLACES, format_decimal


def decimal_type(bounds: Bounds) -> exp.DataType | None:
    precision = bounds.precision()
    if precision is None or precision > 38:
        return None
    return exp.DataType.build(f"DECIMAL({max(precision, 1)},{bounds.places})")


def _whole(operand: ir.Expr, sql: exp.Expression, unit: str) -> exp.Expression:
    """A duration as its whole number of `unit` (the only unit its bounds allow)."""
    if isinstance(operand, ir.Const) and isinstance(operand.value, ir.Duration):
        return exp.Literal.number(operand.value.amount)
    return months_of(sql) if unit == "month" else days_of(sql)


def _folded(e: ir.Expr, bounds: Bounds) -> Decimal | None:
    """The value of a sum or product of constants and params, which its bounds pin (the
    bounds of such a product are a point only where it is exact), to be written in the
    places it has: `benchmark_rate * 1.2` is 0.0522, a DECIMAL(5,4), which a rate in
    DECIMAL(5,4) compares with as it is; as the DECIMAL(6,5) of its operands' places,
    DuckDB would cast every rate to it, checking each."""
    if bounds.lo != bounds.hi or isinstance(e, ir.Const | ir.ParamRef):
        return None
    if all(isinstance(node, ir.Const | ir.ParamRef) or
           (isinstance(node, ir.Arith) and node.op in ("+", "-", "*"))
           for node in ir.walk(e)):
        return bounds.lo
    return None


def ordered_reuse(policy: ir.Policy) -> ir.Policy:
    """`reuse_lets`, kept only where every declaration still reads lets computed before
    it in the policy's order (the query computes lets in layers, in that order)."""
    rewritten = reuse_lets(policy)
    if rewritten is policy:
        return policy
    seen: set[str] = set()
    for kind, name in rewritten.order:
        node = rewritten.let(name) if kind == "let" else rewritten.allocation(name)
        if any(isinstance(n, ir.LetRef) and n.name not in seen for n in ir.walk(node)):
            return policy
        if kind == "let":
            seen.add(name)
    return rewritten


class NarrowBuilder(WholeNumbers, QueryBuilder):
    """The DuckDB builder with bounds: the generic builder for what has none."""

    def __init__(self, policy: ir.Policy, params: dict[str, ir.Value],
                 inputs: dict[str, InputBounds]):
        super().__init__(ordered_reuse(policy), params)
        self.analysis = Analysis(self.policy, params, inputs)
        self.column_bounds: dict[str, Bounds] = {}
        self.column_types: dict[str, DecimalType] = {}
        self._tags: dict[int, tuple[exp.Expression, Bounds]] = {}

    # ── bounds of SQL expressions ──
    def _tag(self, e: exp.Expression, bounds: Bounds) -> exp.Expression:
        self._tags[id(e)] = (e, bounds)
        return e

    def bounds_of(self, e: exp.Expression) -> Bounds | None:
        tagged = self._tags.get(id(e))
        if tagged is not None and tagged[0] is e:
            return tagged[1]
        if isinstance(e, exp.Column):
            return self.column_bounds.get(e.name)
        value = constant_of(e)
        return None if value is None else Bounds.of_constant(value)

    def add(self, name: str, expression: exp.Expression) -> exp.Column:
        bounds = self.bounds_of(expression)
        if bounds is not None:
            self.column_bounds[name] = bounds
        typed = type_of(expression, self.column_types)
        if typed is not None:
            self.column_types[name] = typed
        return super().add(name, expression)

    # ── DuckDB's types (sql_decimal_types.py) ──
    def _precision(self, e: exp.Expression) -> int:
        """The precision of e's DECIMAL type in DuckDB; 38 where unknown."""
        typed = type_of(e, self.column_types)
        return typed.precision if typed is not None else 38

    def _typed(self, value: exp.Expression, typed: exp.DataType) -> exp.Expression:
        """A bounded value in its bounds' type `typed`: as it is where DuckDB already
        holds it in 64 bits with those places (a cast to fewer digits would check every
        value, and the bounds prove it fits), else cast."""
        have, want = type_of(value, self.column_types), DecimalType.of(typed)
        if have is not None and want is not None and have.scale == want.scale and \
                have.precision <= INT64_DIGITS:
            # What used a CAST as one operand gets the sum in parentheses: sqlglot adds
            # none of its own, and `whole_of` multiplies it by a power of ten.
            return paren(value) if isinstance(value, exp.Binary) else value
        return cast_to(value, typed)

    def _within_bounds(self, e: exp.Expression) -> exp.Expression:
        """e cast to its bounds' type where DuckDB holds it in more digits."""
        bounds = self.bounds_of(e)
        typed = decimal_type(bounds) if bounds is not None else None
        want = DecimalType.of(typed) if typed is not None else None
        if want is None or self._precision(e) <= want.precision:
            return e
        return self._tag(cast_to(e, typed), bounds)

    def _combined(self, build, *operands: exp.Expression) -> exp.Expression:
        """build(*operands), a sum or a LEAST, GREATEST or CASE of bounded values; where
        DuckDB would compute it in more than 64 bits from the operands' own types, from
        the operands cast to their bounds' types."""
        node = build(*operands)
        if self._precision(node) <= INT64_DIGITS:
            return node
        return build(*(self._within_bounds(operand) for operand in operands))

    # ── inputs and outputs ──
    def _input(self, f: ir.Field) -> exp.Expression:
        bounds = self.analysis.input(f.name)
        typed = decimal_type(bounds) if isinstance(bounds, Bounds) else None
        if typed is None:
            return super()._input(f)
        raw: exp.Expression = col(f.name)
        if f.default is not None:
            raw = exp.func("COALESCE", raw, cast_to(exp.Literal.number(
                format_decimal(f.default)), typed))
        return self._tag(cast_to(raw, typed), bounds)

    @staticmethod
    def report(value: exp.Expression, type_: ir.Type) -> exp.Expression:
        if type_.kind in (ir.Kind.PERCENT, ir.Kind.NUMBER):
            return cast_to(value, NUMERIC)
        return QueryBuilder.report(value, type_)

    # ── expressions ──
    def expr(self, e: ir.Expr) -> exp.Expression:
        if e.type.numeric:
            bounds = self.analysis.of(e)
            typed = decimal_type(bounds) if bounds is not None else None
            if typed is not None:
                constant = _folded(e, bounds)
                if constant is not None:
                    return self._tag(narrow(constant), Bounds.of_constant(constant))
                return self._tag(self._typed(self._narrow(e, bounds), typed), bounds)
        return super().expr(e)

    def _narrow(self, e: ir.Expr, bounds: Bounds) -> exp.Expression:
        """e's value (its bounds known and below 10^18), before the cast to its type."""
        match e:
            case ir.Const() | ir.ParamRef():
                return exp.Literal.number(format_decimal(bounds.lo))
            case ir.InputRef(name=name):
                return col(input_column(name))
            case ir.LetRef(name=name):
                return col(let_column(name))
            case ir.Arith(op="+" | "-" as op, left=left, right=right):
                node = exp.Add if op == "+" else exp.Sub
                return self._combined(lambda a, b: node(this=a, expression=b),
                                      self.expr(left), self.expr(right))
            case ir.Arith(op="*", left=left, right=right):
                if not self._narrow_product(left, right):
                    whole = self.product_whole(e)
                    if whole is not None:
                        return self.to_decimal(whole)
                return self.product(self.expr(left), self.expr(right))
            case ir.Arith(op="/", left=left, right=right):
                divisor = self.analysis.constant(right)
                if divisor is not None and divisor != 0 and places_of(divisor) <= SCALE_PLACES:
                    return self.quotient(self.expr(left), divisor)
            case ir.Call(func="min" | "max", args=args):
                name = "LEAST" if e.func == "min" else "GREATEST"
                return self._combined(lambda *values: fn(name, *values),
                                      *[self.expr(a) for a in args])
            case ir.Call(func="abs", args=(operand,)):
                return fn("ABS", self.expr(operand))
            case ir.Call(func="years"):
                whole = self.whole_form(e)
                if whole is not None:
                    return self.to_decimal(whole)
            case ir.If(cond=cond, then=then, otherwise=otherwise):
                condition = self.expr(cond)
                return self._combined(lambda a, b: case((condition, a), otherwise=b),
                                      self.expr(then), self.expr(otherwise))
        return super().expr(e)

    def _narrow_product(self, left: ir.Expr, right: ir.Expr) -> bool:
        """Whether DuckDB multiplies the two (bounded) DECIMALs in 64 bits, exactly and
        without rounding: then the product is one multiplication."""
        a, b = self.analysis.of(left), self.analysis.of(right)
        if a is None or b is None:
            return False
        exact = times(a, b)
        return all((x.precision() or 99) <= 18 for x in (a, b, exact)) and \
            exact.places <= SCALE_PLACES

    # ── durations ──
    def _apart(self, left: ir.Expr, right: ir.Expr) -> bool:
        """Whether two durations' bounds prove they never mix days and months (so they
        compare as INTERVALs, without the test that raises E611)."""
        a, b = self.analysis.duration(left), self.analysis.duration(right)
        if a is None or b is None:
            return False

        def may_hold(bounds: Bounds) -> bool:
            return not bounds.lo == bounds.hi == 0

        return not ((may_hold(a.months) and may_hold(b.days)) or
                    (may_hold(a.days) and may_hold(b.months)))

    def _unit(self, left: ir.Expr, right: ir.Expr) -> str | None:
        """"month" or "day" when the bounds prove both durations count only that unit."""
        a, b = self.analysis.duration(left), self.analysis.duration(right)
        if a is None or b is None:
            return None
        if a.days.lo == a.days.hi == b.days.lo == b.days.hi == 0:
            return "month"
        if a.months.lo == a.months.hi == b.months.lo == b.months.hi == 0:
            return "day"
        return None

    def _durations_compared(self, op: str, left: ir.Expr, right: ir.Expr,
                            a: exp.Expression, b: exp.Expression) -> exp.Expression:
        """Two durations that never mix days and months, compared: as whole numbers of
        their one unit where the bounds show it (a duration holds no time of day, so the
        INTERVAL comparison, which normalises both sides first, says the same; reading
        the number out costs about half of it), else as INTERVALs."""
        unit = self._unit(left, right)
        if unit is not None:
            a, b = _whole(left, a, unit), _whole(right, b, unit)
        return paren(_COMPARE[op](this=a, expression=b))

    def _compare(self, op: str, left: ir.Expr, right: ir.Expr) -> exp.Expression:
        if left.type.kind is ir.Kind.DURATION and self._apart(left, right):
            return self._durations_compared(op, left, right, self.expr(left), self.expr(right))
        return super()._compare(op, left, right)

    def below_money_limit(self, e: ir.Expr) -> bool:
        """Known from the book's bounds, or else from the policy's alone."""
        bounds = self.analysis.of(e)
        return (bounds is not None and bounds.magnitude < MONEY_EDGE) or \
            super().below_money_limit(e)

    def _check(self, check: ir.Check) -> exp.Expression:
        if isinstance(check, ir.Limit) and check.subject.type.kind is ir.Kind.DURATION and \
                self._apart(check.subject, check.bound):
            holds = self._durations_compared(check.op, check.subject, check.bound,
                                             self.limit_operand(check, "value"),
                                             self.limit_operand(check, "bound"))
            if check.guard is None:
                return holds
            return case((self.expr(check.guard), holds), otherwise=exp.true())
        return super()._check(check)

    def product(self, a: exp.Expression, b: exp.Expression) -> exp.Expression:
        """a × b rounded half away from zero to 10 places, in 64-bit integers when the
        exact product fits 18 digits. DuckDB multiplies two ≤18-digit DECIMALs in 64 bits
        (raising on overflow), so a wider product gets a 128-bit operand."""
        ba, bb = self.bounds_of(a), self.bounds_of(b)
        if ba is None or bb is None:
            return self._mul(a, b)
        exact = times(ba, bb)
        precision = exact.precision()
        if precision is None:
            return self._mul(a, b)
        narrow_operands = self._precision(a) <= 18 and self._precision(b) <= 18
        if precision > 18 or not narrow_operands:
            a = cast_to(a, exp.DataType.build(f"DECIMAL(38,{ba.places})"))
        result: exp.Expression = exp.Mul(this=a, expression=b)
        if exact.places > SCALE_PLACES:
            result = fn("ROUND", result, exp.Literal.number(SCALE_PLACES))
        return self._tag(result, rounded_product(ba, bb))

    def quotient(self, a: exp.Expression, divisor: Decimal) -> exp.Expression:
        """a / d (d a nonzero constant) rounded half away from zero to 10 places: one
        64-bit integer division where the bounds allow, else the generic 128-bit one."""
        whole = self.whole_of(a)
        result = self.quotient_whole(whole, divisor) if whole is not None else None
        if result is None:
            return self._div(a, cast_to(exp.Literal.number(format_decimal(divisor)), NUMERIC))
        return self.to_decimal(result)

    def _div(self, a: exp.Expression, b: exp.Expression) -> exp.Expression:
        """a / b rounded half away from zero to 10 places; a divisor that is not a
        constant divides whole numbers (`whole_quotient`) where the bounds allow."""
        if constant_of(b) is None:
            result = self.whole_quotient(a, b)
            if result is not None:
                return result
        return super()._div(a, b)

    # ── allocations ──
    def _allocation(self, alloc: ir.Allocation) -> None:
        if isinstance(alloc, ir.Shares) and alloc.amount is None:
            return
        amount_bounds = self.analysis.amount(alloc)
        given_bounds = self.analysis.of(alloc.amount)
        typed = decimal_type(amount_bounds) if amount_bounds is not None else None
        if typed is None or given_bounds is None or (
                isinstance(alloc, ir.Waterfall) and not self._bounded_steps(alloc)):
            super()._allocation(alloc)
            return
        given = self.expr(alloc.amount)
        if constant_of(given) is None and not isinstance(given, exp.Column):
            given = self.add(f"{PREFIX}{alloc.name}__given", given)
        rounded: exp.Expression = given
        if given_bounds.places > 2:
            rounded = fn("ROUND", given, exp.Literal.number(2))
        rounded = self._typed(rounded, typed)
        if given_bounds.lo <= Decimal("-0.005"):
            # Rounded half away from zero, the amount is negative exactly when it is ≤ -0.005.
            rounded = case((exp.LTE(this=given, expression=narrow(Decimal("-0.005"))),
                            fail("E611", f"the allocated amount of {alloc.name} is negative")),
                           otherwise=rounded)
        amount = self.add(f"{PREFIX}{alloc.name}__amount", self._tag(rounded, amount_bounds))
        parts = (self._shares_parts(alloc, amount) if isinstance(alloc, ir.Shares)
                 else self._waterfall_parts(alloc, amount))
        settled = self._settled(alloc, parts)
        if settled == frozenset(parts):
            # Every part is already whole fen and they add up to the amount: the largest
            # remainder rule would truncate nothing and give no fen.
            for party, part in parts.items():
                self.add(part_column(alloc.name, party), part)
            return
        self._round_parts(alloc.name, amount, parts, settled)

    def _fen_type(self, exact: exp.Column) -> exp.DataType:
        """A bounded part's whole fen in the digits its bound needs, and two more: the
        fen, its remainder and the part given a fen more (DuckDB adds a digit to a sum)
        then all stay in 64-bit integers, where DECIMAL(18,2) would take them to 128."""
        bounds = self.column_bounds.get(exact.name)
        if bounds is None:
            return super()._fen_type(exact)
        digits = len(str(int(bounds.magnitude))) if bounds.magnitude >= 1 else 1
        if digits > 14:
            return super()._fen_type(exact)
        # TRUNC keeps the exact part's width: that width is no cast at all, where fewer
        # digits are a cast DuckDB checks value by value. Up to 16 digits, the sums of
        # the fen, and a fen more, still stay in 64 bits.
        width = digits + 2
        exact_type = self.column_types.get(exact.name)
        if exact_type is not None and width < exact_type.precision <= 16:
            width = exact_type.precision
        return exp.DataType.build(f"DECIMAL({width},2)")

    def _settled(self, alloc: ir.Allocation, parts: dict[str, exp.Column]) -> frozenset[str]:
        """The parts the largest remainder rule can leave as they are: those whose bounds
        say whole fen, when the parts add up to the amount (a waterfall's always do; shares
        when their fractions add up to 100%) and every part is ≥ 0. The fen missing are
        then the remainders' sum (to within the 10th place a share's product is rounded
        to), each remainder under a fen: at least that many parts have a remainder > 0,
        each ranked above a whole part, which is thus never given a fen and ranks above
        no other part. With every part whole, no fen is missing, whatever their signs."""
        bounds = {party: self.column_bounds.get(part.name) for party, part in parts.items()}
        adds_up = isinstance(alloc, ir.Waterfall) or (
            not alloc.ratio and sum(part.weight for part in alloc.parts) == 1)
        if not adds_up or any(b is None for b in bounds.values()):
            return frozenset()
        whole = frozenset(party for party, b in bounds.items() if b.places <= 2)
        if whole == frozenset(parts) or all(b.lo >= 0 for b in bounds.values()):
            return whole
        return frozenset()

    def _bounded_steps(self, waterfall: ir.Waterfall) -> bool:
        """Whether every cap of the waterfall has bounds (so every step has)."""
        caps = [step.cap for step in waterfall.steps if isinstance(step, ir.Take)]
        caps += [part.cap for step in waterfall.steps if isinstance(step, ir.Split)
                 for part in step.parts if part.cap is not None]
        return all(self.analysis.of(cap) is not None for cap in caps)

    def _waterfall_parts(self, waterfall: ir.Waterfall,
                         amount: exp.Column) -> dict[str, exp.Column]:
        """The generic waterfall (sql.py) with each step in its bounds' type. The amount
        is never negative (a negative one fails E611 first). A take never leaves less
        than nothing: LEAST(what remains, a cap ≥ 0) is at most what remains. A split
        whose shares are exact and add up to at most 100% leaves 0 or more of what
        remains; shares above 100% may spend more than it, and its bound grows by their
        sum."""
        if amount.name not in self.column_bounds or not self._bounded_steps(waterfall):
            return super()._waterfall_parts(waterfall, amount)
        zero = cast_to(exp.Literal.number("0"), exp.DataType.build("DECIMAL(1,0)"))
        totals: dict[str, list[tuple[exp.Expression, Bounds]]] = {
            party: [] for party in waterfall.parties}
        remaining: exp.Expression = amount
        left = self.column_bounds[amount.name]
        left = Bounds(Decimal(0), left.magnitude, left.places)

        def stored(name: str, value: exp.Expression, bounds: Bounds) -> exp.Column:
            typed = decimal_type(bounds)
            return self.add(name, self._tag(self._typed(value, typed) if typed else value,
                                            bounds))

        def capped(value: exp.Expression, cap: ir.Expr) -> exp.Expression:
            """LEAST(value, GREATEST(cap, 0)): a take, or a capped share."""
            cap_bounds = self.analysis.of(cap)
            at_least_zero = self._tag(
                self._combined(lambda c: fn("GREATEST", c, zero), self.expr(cap)),
                Bounds(max(cap_bounds.lo, Decimal(0)), max(cap_bounds.hi, Decimal(0)),
                       cap_bounds.places))
            return self._combined(lambda a, b: fn("LEAST", a, b), value, at_least_zero)

        for index, step in enumerate(waterfall.steps):
            stage = f"{PREFIX}{waterfall.name}__s{index}"
            match step:
                case ir.Take(party=party, cap=cap):
                    cap_bounds = self.analysis.of(cap)
                    places = max(left.places, cap_bounds.places)
                    bounds = Bounds(min(left.lo, Decimal(0)), left.hi, places)
                    taken = stored(f"{stage}_take", capped(remaining, cap), bounds)
                    totals[party].append((taken, bounds))
                    left = Bounds(Decimal(0), max(left.hi, Decimal(0)), places)
                    remaining = stored(f"{stage}_rest", self._combined(
                        lambda x, y: exp.Sub(this=x, expression=y), remaining, taken), left)
                case ir.Split(parts=split):
                    given: list[tuple[exp.Expression, Bounds]] = []
                    for k, part in enumerate(split):
                        share = self.product(remaining, self._tag(
                            narrow(part.share), Bounds.of_constant(part.share)))
                        bounds = rounded_product(left, Bounds.of_constant(part.share))
                        if part.cap is not None:
                            cap_bounds = self.analysis.of(part.cap)
                            bounds = Bounds(min(bounds.lo, Decimal(0)), bounds.hi,
                                            max(bounds.places, cap_bounds.places))
                            share = capped(share, part.cap)
                        taken = stored(f"{stage}_{k}", share, bounds)
                        totals[part.party].append((taken, bounds))
                        given.append((taken, bounds))
                    spent = given[0][0]
                    spent_bounds = given[0][1]
                    for g, b in given[1:]:
                        spent_bounds = Bounds(spent_bounds.lo + b.lo, spent_bounds.hi + b.hi,
                                              max(spent_bounds.places, b.places))
                        spent = self._tag(self._combined(plus, spent, g), spent_bounds)
                    places = max(left.places, spent_bounds.places)
                    shares = [part.share for part in split]
                    if left.lo >= 0 and all(share >= 0 for share in shares) and sum(
                            shares) <= 1 and left.places + max(
                            places_of(share) for share in shares) <= SCALE_PLACES:
                        bounds = Bounds(Decimal(0), left.hi, places)
                    else:
                        bounds = Bounds(left.lo - spent_bounds.hi, left.hi - spent_bounds.lo,
                                        places)
                    remaining = stored(f"{stage}_rest", self._combined(
                        lambda x, y: exp.Sub(this=x, expression=paren(y)), remaining, spent),
                        bounds)
                    left = bounds
                case ir.Rest(party=party):
                    totals[party].append((remaining, left))
                    remaining, left = zero, Bounds(Decimal(0), Decimal(0), 0)
                case _:
                    assert_never(step)
        if ir.UNALLOCATED in totals:
            totals[ir.UNALLOCATED].append((remaining, left))
        parts: dict[str, exp.Column] = {}
        for party, taken in totals.items():
            total: exp.Expression = zero
            bounds = Bounds(Decimal(0), Decimal(0), 0)
            for value, b in taken:
                bounds = Bounds(bounds.lo + b.lo, bounds.hi + b.hi, max(bounds.places, b.places))
                total = value if total is zero else self._tag(
                    self._combined(plus, total, value), bounds)
            parts[party] = stored(exact_column(waterfall.name, party), total, bounds)
        return parts

    def _shares_parts(self, shares: ir.Shares, amount: exp.Column) -> dict[str, exp.Column]:
        parts: dict[str, exp.Column] = {}
        for part in shares.parts:
            value = self.product(amount, self._tag(narrow(part.weight),
                                                   Bounds.of_constant(part.weight)))
            if shares.ratio:
                value = self.quotient(value, shares.total_weight)
            bounds = self.bounds_of(value)
            typed = decimal_type(bounds) if bounds is not None else None
            if typed is not None:
                value = self._tag(self._typed(value, typed), bounds)
            parts[part.party] = self.add(exact_column(shares.name, part.party), value)
        return parts
