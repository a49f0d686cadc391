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
An expression without bounds is computed as the generic query computes it.

Output columns keep DESIGN §5's types (money DECIMAL(18,2), percent and number
DECIMAL(38,10)), whatever the types inside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import assert_never

from sqlglot import exp

from policylang import ir
from policylang.emit.reuse import reuse_lets
from policylang.emit.sql import (
    HUGEINT,
    NUMERIC,
    PREFIX,
    SCALE,
    QueryBuilder,
    _exact_column,
    _input_column,
    _let_column,
    _limit_column,
    _part_column,
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
    quotient,
    rounded_product,
    times,
)
from policylang.emit.sql_temporal import _COMPARE, days_of, months_of
from policylang.values import SCALE_PLACES, format_decimal

INT64_SAFE = 9 * 10**18  # below 2^63 − 1
BIGINT = exp.DataType.build("BIGINT")


@dataclass(frozen=True)
class Whole:
    """A value as a whole number of 10^-places in a BIGINT expression."""

    sql: exp.Expression
    bounds: Bounds

    @property
    def limit(self) -> int:
        """The largest magnitude the whole number can have."""
        return int(self.bounds.magnitude.scaleb(self.bounds.places)) + 1

    @property
    def constant(self) -> int | None:
        """The whole number, where the bounds pin it and its SQL cannot raise: a product
        may then use the number instead of the SQL, but the check in `years(term)` (E611
        where the term has days) must run even where the years are known to be 0."""
        if self.bounds.lo != self.bounds.hi or _raises(self.sql):
            return None
        return int(self.bounds.lo.scaleb(self.bounds.places))


def _raises(e: exp.Expression) -> bool:
    return any(isinstance(node, exp.Anonymous) and str(node.this).upper() == "ERROR"
               for node in e.walk())


_RESTATED = 400  # SQL nodes a split product may restate in all


def _size(e: exp.Expression) -> int:
    return sum(1 for _ in e.walk())


def _cast(e: exp.Expression, to: exp.DataType) -> exp.Cast:
    """Always a new CAST: sqlglot's `exp.cast` drops a cast to DECIMAL(p, s) around a
    cast to any other DECIMAL, taking the two types for one."""
    return exp.Cast(this=e, to=to.copy())


def decimal_type(bounds: Bounds) -> exp.DataType | None:
    precision = bounds.precision()
    if precision is None or precision > 38:
        return None
    return exp.DataType.build(f"DECIMAL({max(precision, 1)},{bounds.places})")


def _type_precision(e: exp.Expression, bounds: Bounds | None) -> int:
    """The precision of e's DECIMAL type: its outer CAST's, a bounded column's (columns
    are stored in their bounds' type), else 38 (the generic type, or unknown)."""
    if isinstance(e, exp.Cast) and e.to.this is exp.DataType.Type.DECIMAL and e.to.expressions:
        return int(e.to.expressions[0].this.this)
    if isinstance(e, exp.Column) and bounds is not None:
        return bounds.precision() or 38
    return 38


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


class NarrowBuilder(QueryBuilder):
    """The DuckDB builder with bounds: the generic builder for what has none."""

    def __init__(self, policy: ir.Policy, params: dict[str, ir.Value],
                 inputs: dict[str, InputBounds]):
        super().__init__(ordered_reuse(policy), params)
        self.analysis = Analysis(self.policy, params, inputs)
        self.column_bounds: dict[str, Bounds] = {}
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
        return super().add(name, expression)

    # ── inputs and outputs ──
    def _input(self, f: ir.Field) -> exp.Expression:
        bounds = self.analysis.input(f.name)
        typed = decimal_type(bounds) if isinstance(bounds, Bounds) else None
        if typed is None:
            return super()._input(f)
        raw: exp.Expression = col(f.name)
        if f.default is not None:
            raw = exp.func("COALESCE", raw, _cast(exp.Literal.number(
                format_decimal(f.default)), typed))
        return self._tag(_cast(raw, typed), bounds)

    @staticmethod
    def report(value: exp.Expression, type_: ir.Type) -> exp.Expression:
        if type_.kind in (ir.Kind.PERCENT, ir.Kind.NUMBER):
            return _cast(value, NUMERIC)
        return QueryBuilder.report(value, type_)

    # ── expressions ──
    def expr(self, e: ir.Expr) -> exp.Expression:
        if e.type.numeric:
            bounds = self.analysis.of(e)
            typed = decimal_type(bounds) if bounds is not None else None
            if typed is not None:
                return self._tag(_cast(self._narrow(e, bounds), typed), bounds)
        return super().expr(e)

    def _narrow(self, e: ir.Expr, bounds: Bounds) -> exp.Expression:
        """e's value (its bounds known and below 10^18), before the cast to its type."""
        match e:
            case ir.Const() | ir.ParamRef():
                return exp.Literal.number(format_decimal(bounds.lo))
            case ir.InputRef(name=name):
                return col(_input_column(name))
            case ir.LetRef(name=name):
                return col(_let_column(name))
            case ir.Arith(op="+" | "-" as op, left=left, right=right):
                node = exp.Add if op == "+" else exp.Sub
                return node(this=self.expr(left), expression=self.expr(right))
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
                return fn("LEAST" if e.func == "min" else "GREATEST",
                          *[self.expr(a) for a in args])
            case ir.Call(func="abs", args=(operand,)):
                return fn("ABS", self.expr(operand))
            case ir.Call(func="years"):
                whole = self.whole_form(e)
                if whole is not None:
                    return self.to_decimal(whole)
            case ir.If(cond=cond, then=then, otherwise=otherwise):
                return case((self.expr(cond), self.expr(then)), otherwise=self.expr(otherwise))
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

    def _compare(self, op: str, left: ir.Expr, right: ir.Expr) -> exp.Expression:
        if left.type.kind is ir.Kind.DURATION and self._apart(left, right):
            return paren(_COMPARE[op](this=self.expr(left), expression=self.expr(right)))
        return super()._compare(op, left, right)

    def _check(self, check: ir.Check) -> exp.Expression:
        if isinstance(check, ir.Limit) and check.subject.type.kind is ir.Kind.DURATION and \
                self._apart(check.subject, check.bound):
            holds = paren(_COMPARE[check.op](this=col(_limit_column(check.name, "value")),
                                             expression=col(_limit_column(check.name,
                                                                          "bound"))))
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
        narrow_operands = _type_precision(a, ba) <= 18 and _type_precision(b, bb) <= 18
        if precision > 18 or not narrow_operands:
            a = _cast(a, exp.DataType.build(f"DECIMAL(38,{ba.places})"))
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
            return self._div(a, _cast(exp.Literal.number(format_decimal(divisor)), NUMERIC))
        return self.to_decimal(result)

    def _div(self, a: exp.Expression, b: exp.Expression) -> exp.Expression:
        """a / b rounded half away from zero to 10 places; a divisor that is not a
        constant divides whole numbers (`whole_quotient`) where the bounds allow."""
        if constant_of(b) is None:
            result = self.whole_quotient(a, b)
            if result is not None:
                return result
        return super()._div(a, b)

    def whole_quotient(self, a: exp.Expression, b: exp.Expression) -> exp.Expression | None:
        """a / b with a = A·10^-s, b = B·10^-t as whole numbers: ⌊(|A|·10^(10+t−s) +
        ⌊|B|/2⌋) / |B|⌋ counts 10^-10 (half up on the magnitudes, as the generic query's
        quotient and remainder do), in 64 bits where the bounds allow, else in 128 bits
        on far smaller numbers than the generic query's (DuckDB's 128-bit division takes
        longer the larger its operands: a ratio of two book totals, 4.8× faster). The
        result is the generic query's DECIMAL(38,10)."""
        x, y = self.whole_of(a), self.whole_of(b)
        if x is None or y is None:
            return None
        shift = SCALE_PLACES + y.bounds.places - x.bounds.places
        numerator_limit = x.limit * 10**shift + y.limit
        if shift < 0 or numerator_limit >= 10**37:
            return None
        signed = x.bounds.lo < 0 or y.bounds.lo < 0
        magnitude = fn("ABS", x.sql) if x.bounds.lo < 0 else x.sql
        divisor = fn("ABS", y.sql) if y.bounds.lo < 0 else y.sql
        if numerator_limit >= INT64_SAFE:
            magnitude = _cast(magnitude, HUGEINT)
        scale = _cast(exp.Literal.number(str(10**shift)),
                      HUGEINT if numerator_limit >= INT64_SAFE else BIGINT)
        result: exp.Expression = exp.IntDiv(this=paren(exp.Add(
            this=exp.Mul(this=magnitude, expression=scale),
            expression=exp.IntDiv(this=divisor, expression=exp.Literal.number(2)))),
            expression=divisor.copy())
        if signed:
            result = exp.Mul(this=exp.Mul(this=fn("SIGN", x.sql.copy()),
                                          expression=fn("SIGN", y.sql.copy())),
                             expression=paren(result))
        value = _cast(exp.Mul(this=_cast(result, NUMERIC), expression=_cast(
            exp.Literal.number("0.0000000001"), NUMERIC)), NUMERIC)
        return case((exp.EQ(this=y.sql.copy(), expression=exp.Literal.number(0)),
                     fail("E610", "division by zero")), otherwise=value)

    # ── whole numbers: a value as a BIGINT count of 10^-places ──
    def whole_of(self, a: exp.Expression) -> Whole | None:
        """A DECIMAL expression (bounded, at most 18 digits) as its whole number."""
        bounds = self.bounds_of(a)
        if bounds is None or (bounds.precision() or 99) > 18:
            return None
        if isinstance(a, exp.Cast) and a.to.this is exp.DataType.Type.BIGINT:
            return Whole(a, bounds)
        if bounds.places == 0:
            return Whole(_cast(a, BIGINT), bounds)
        if Whole(a, bounds).limit * 10 ** bounds.places >= INT64_SAFE:
            return None  # DuckDB holds a·10^s as A·10^s, in 64 bits
        # a·10^s is a whole number: the cast to BIGINT is exact.
        return Whole(_cast(exp.Mul(this=a, expression=narrow(Decimal(10) ** bounds.places)),
                           BIGINT), bounds)

    def whole_form(self, e: ir.Expr) -> Whole | None:
        """An IR expression computed as a whole number, where 64 bits hold every step.
        Products and quotients stay whole numbers from one operation to the next: a
        chain such as `amount * years(term) * 1%` never passes through a 128-bit DECIMAL."""
        bounds = self.analysis.of(e)
        if bounds is None or bounds.places > SCALE_PLACES:
            return None
        match e:
            case ir.Const() | ir.ParamRef():
                whole = Whole(_cast(exp.Literal.number(str(int(bounds.lo.scaleb(
                    bounds.places)))), BIGINT), bounds)
                return whole if whole.limit < INT64_SAFE else None
            case ir.Arith(op="*"):
                return self.product_whole(e)
            case ir.Arith(op="/", left=left, right=right):
                divisor = self.analysis.constant(right)
                inner = self.whole_form(left)
                if divisor is None or divisor == 0 or inner is None:
                    return None
                return self.quotient_whole(inner, divisor)
            case ir.Call(func="years", args=(duration,)):
                months = self.analysis.duration(duration)
                if months is None:
                    return None
                value = self.expr(duration)
                result = self.quotient_whole(
                    Whole(_cast(months_of(value), BIGINT), months.months), Decimal(12))
                if result is None:
                    return None
                return Whole(case((exp.NEQ(this=days_of(value),
                                           expression=exp.Literal.number(0)),
                                   fail("E611", "years() of days: days are not convertible "
                                        "to months")), otherwise=result.sql), result.bounds)
        return self.whole_of(self.expr(e))

    def product_whole(self, e: ir.Arith) -> Whole | None:
        """a × b rounded half away from zero to 10 places, as whole numbers: with A, B the
        operands' whole numbers and k the places beyond 10, the result is
        sign·(|A|·⌊|B|/10^k⌋ + ⌊(|A|·(|B| mod 10^k) + 10^k/2) / 10^k⌋), which splits the
        128-bit product |A|·|B| into two 64-bit ones (exact: the first term is whole)."""
        a, b = self.whole_form(e.left), self.whole_form(e.right)
        if a is None or b is None:
            return None
        bounds = rounded_product(a.bounds, b.bounds)
        shift = a.bounds.places + b.bounds.places - SCALE_PLACES
        if shift <= 0:
            if a.limit * b.limit >= INT64_SAFE:
                return None
            return Whole(exp.Mul(this=a.sql, expression=b.sql), bounds)
        unit = 10**shift
        for x, y in ((a, b), (b, a)):
            high = (y.constant // unit) if y.constant is not None else y.limit // unit
            low = (y.constant % unit) if y.constant is not None else min(unit - 1, y.limit)
            if x.limit * high + x.limit * low // unit + 1 >= INT64_SAFE or \
                    x.limit * low + unit >= INT64_SAFE:
                continue
            split = self._split_product(x, y, unit)
            if split is not None:
                return Whole(split, bounds)
        return None

    @staticmethod
    def _split_product(x: Whole, y: Whole, unit: int) -> exp.Expression | None:
        """The split product's SQL; None where it would restate a large operand (the
        text grows with each restatement, and chains would multiply it)."""
        def big(value: int) -> exp.Expression:
            return _cast(exp.Literal.number(str(value)), BIGINT)

        signed = not (x.bounds.lo >= 0 and y.bounds.lo >= 0)
        high = low = None
        if y.constant is not None:
            high, low = abs(y.constant) // unit, abs(y.constant) % unit
        uses_x = (high != 0) + (low != 0) + signed
        uses_y = 0 if y.constant is not None else 2 + signed
        if _size(x.sql) * uses_x + _size(y.sql) * uses_y > _RESTATED:
            return None
        x_abs = fn("ABS", x.sql.copy()) if signed else x.sql.copy()
        if y.constant is not None:
            high_part, low_part = big(high), big(low)
        else:
            y_abs = fn("ABS", y.sql) if signed else y.sql
            high_part = paren(exp.IntDiv(this=y_abs, expression=big(unit)))
            low_part = paren(exp.Mod(this=y_abs.copy(), expression=big(unit)))
        rounded_low = exp.IntDiv(this=paren(exp.Add(
            this=exp.Mul(this=x_abs, expression=low_part), expression=big(unit // 2))),
            expression=big(unit))
        if high == 0:
            total: exp.Expression = rounded_low
        elif low == 0:  # whole multiples of 10^k: nothing to round
            total = exp.Mul(this=x_abs.copy(), expression=high_part)
        else:
            total = paren(exp.Add(this=exp.Mul(this=x_abs.copy(), expression=high_part),
                                  expression=rounded_low))
        if not signed:
            return total
        sign_y = (big(1 if y.constant >= 0 else -1) if y.constant is not None
                  else fn("SIGN", y.sql.copy()))
        return exp.Mul(this=exp.Mul(this=fn("SIGN", x.sql.copy()), expression=sign_y),
                       expression=total)

    def quotient_whole(self, a: Whole, divisor: Decimal) -> Whole | None:
        """a / d as a whole number of 10^-10: with a = A·10^-s and d = P·10^-10, the
        result is sign(A)·⌊(|A|·2·10^(20−s) + P) / 2P⌋, the fraction reduced by its common
        factor; None where 64 bits might not hold it."""
        if places_of(divisor) > SCALE_PLACES:
            return None
        p = int(abs(divisor) * SCALE)
        factor = 2 * 10 ** (2 * SCALE_PLACES - a.bounds.places)
        common = math.gcd(factor, p)
        if a.limit * (factor // common) + p // common >= INT64_SAFE:
            return None

        def big(value: int) -> exp.Expression:
            return _cast(exp.Literal.number(str(value)), BIGINT)

        signed = a.bounds.lo < 0
        magnitude = fn("ABS", a.sql) if signed else a.sql
        result: exp.Expression = exp.IntDiv(this=paren(exp.Add(
            this=exp.Mul(this=magnitude, expression=big(factor // common)),
            expression=big(p // common))), expression=big(2 * p // common))
        if signed:
            result = exp.Mul(this=fn("SIGN", a.sql.copy()), expression=paren(result))
        if divisor < 0:
            result = exp.Neg(this=paren(result))
        return Whole(result, quotient(a.bounds, divisor))

    def to_decimal(self, whole: Whole) -> exp.Expression:
        """The DECIMAL a whole number stands for (tagged with its bounds)."""
        digits = len(str(whole.limit))
        value: exp.Expression = _cast(whole.sql, exp.DataType.build(
            f"DECIMAL({18 if digits <= 18 else 38},0)"))
        if whole.bounds.places:
            value = exp.Mul(this=value, expression=narrow(
                Decimal(1).scaleb(-whole.bounds.places)))
        return self._tag(value, whole.bounds)

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
            self.next_layer()
        rounded: exp.Expression = given
        if given_bounds.places > 2:
            rounded = fn("ROUND", given, exp.Literal.number(2))
        rounded = _cast(rounded, typed)
        if given_bounds.lo <= Decimal("-0.005"):
            # Rounded half away from zero, the amount is negative exactly when it is ≤ -0.005.
            rounded = case((exp.LTE(this=given, expression=narrow(Decimal("-0.005"))),
                            fail("E611", f"the allocated amount of {alloc.name} is negative")),
                           otherwise=rounded)
        amount = self.add(f"{PREFIX}{alloc.name}__amount", self._tag(rounded, amount_bounds))
        self.next_layer()
        parts = (self._shares_parts(alloc, amount) if isinstance(alloc, ir.Shares)
                 else self._waterfall_parts(alloc, amount))
        if self._whole_fen(alloc, parts):
            # Every part is already whole fen and they add up to the amount: the largest
            # remainder rule would truncate nothing and give no fen.
            for party, part in parts.items():
                self.add(_part_column(alloc.name, party), part)
            self.next_layer()
            return
        self._round_parts(alloc.name, amount, parts)

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
        return exp.DataType.build(f"DECIMAL({digits + 2},2)")

    def _whole_fen(self, alloc: ir.Allocation, parts: dict[str, exp.Column]) -> bool:
        bounds = [self.column_bounds.get(part.name) for part in parts.values()]
        if any(b is None or b.places > 2 for b in bounds):
            return False
        # A waterfall's parts always add up to its amount; shares only when their fractions
        # add up to 100% (the fen of each part is then its exact product).
        return isinstance(alloc, ir.Waterfall) or (
            not alloc.ratio and sum(part.weight for part in alloc.parts) == 1)

    def _bounded_steps(self, waterfall: ir.Waterfall) -> bool:
        """Whether every cap of the waterfall has bounds (so every step has)."""
        caps = [step.cap for step in waterfall.steps if isinstance(step, ir.Take)]
        caps += [part.cap for step in waterfall.steps if isinstance(step, ir.Split)
                 for part in step.parts if part.cap is not None]
        return all(self.analysis.of(cap) is not None for cap in caps)

    def _waterfall_parts(self, waterfall: ir.Waterfall,
                         amount: exp.Column) -> dict[str, exp.Column]:
        """The generic waterfall (sql.py) with each step in its bounds' type. What remains
        never grows in magnitude across a take (it keeps its sign and shrinks), and a
        split's shares may spend more than it (shares above 100%): its bound grows by
        their sum."""
        if amount.name not in self.column_bounds or not self._bounded_steps(waterfall):
            return super()._waterfall_parts(waterfall, amount)
        zero = _cast(exp.Literal.number("0"), exp.DataType.build("DECIMAL(1,0)"))
        totals: dict[str, list[tuple[exp.Expression, Bounds]]] = {
            party: [] for party in waterfall.parties}
        remaining: exp.Expression = amount
        left = self.column_bounds[amount.name]
        left = Bounds(-left.magnitude, left.magnitude, left.places)

        def stored(name: str, value: exp.Expression, bounds: Bounds) -> exp.Column:
            typed = decimal_type(bounds)
            return self.add(name, self._tag(_cast(value, typed) if typed else value, bounds))

        for index, step in enumerate(waterfall.steps):
            stage = f"{PREFIX}{waterfall.name}__s{index}"
            match step:
                case ir.Take(party=party, cap=cap):
                    cap_bounds = self.analysis.of(cap)
                    bounds = Bounds(left.lo, left.hi, max(left.places, cap_bounds.places))
                    taken = stored(f"{stage}_take", fn(
                        "LEAST", remaining, fn("GREATEST", self.expr(cap), zero)), bounds)
                    self.next_layer()
                    totals[party].append((taken, bounds))
                    remaining = stored(f"{stage}_rest", exp.Sub(this=remaining,
                                                                expression=taken), bounds)
                    left = bounds
                case ir.Split(parts=split):
                    given: list[tuple[exp.Expression, Bounds]] = []
                    for k, part in enumerate(split):
                        share = self.product(remaining, self._tag(
                            narrow(part.share), Bounds.of_constant(part.share)))
                        bounds = rounded_product(left, Bounds.of_constant(part.share))
                        if part.cap is not None:
                            cap_bounds = self.analysis.of(part.cap)
                            bounds = Bounds(bounds.lo, bounds.hi,
                                            max(bounds.places, cap_bounds.places))
                            share = fn("LEAST", share, fn("GREATEST", self.expr(part.cap),
                                                          zero))
                        taken = stored(f"{stage}_{k}", share, bounds)
                        totals[part.party].append((taken, bounds))
                        given.append((taken, bounds))
                    self.next_layer()
                    spent = given[0][0]
                    spent_bounds = given[0][1]
                    for g, b in given[1:]:
                        spent = exp.Add(this=spent, expression=g)
                        spent_bounds = Bounds(spent_bounds.lo + b.lo, spent_bounds.hi + b.hi,
                                              max(spent_bounds.places, b.places))
                    bounds = Bounds(left.lo - spent_bounds.hi, left.hi - spent_bounds.lo,
                                    max(left.places, spent_bounds.places))
                    remaining = stored(f"{stage}_rest", exp.Sub(this=remaining,
                                                                expression=paren(spent)), bounds)
                    left = bounds
                case ir.Rest(party=party):
                    totals[party].append((remaining, left))
                    remaining, left = zero, Bounds(Decimal(0), Decimal(0), 0)
                case _:
                    assert_never(step)
            self.next_layer()
        if ir.UNALLOCATED in totals:
            totals[ir.UNALLOCATED].append((remaining, left))
        parts: dict[str, exp.Column] = {}
        for party, taken in totals.items():
            total: exp.Expression = zero
            bounds = Bounds(Decimal(0), Decimal(0), 0)
            for value, b in taken:
                total = value if total is zero else exp.Add(this=total, expression=value)
                bounds = Bounds(bounds.lo + b.lo, bounds.hi + b.hi, max(bounds.places, b.places))
            parts[party] = stored(_exact_column(waterfall.name, party), total, bounds)
        self.next_layer()
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
                value = self._tag(_cast(value, typed), bounds)
            parts[part.party] = self.add(_exact_column(shares.name, part.party), value)
        self.next_layer()
        return parts
