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
from decimal import Decimal

from sqlglot import exp

from policylang import ir
from policylang.emit.reuse import reuse_lets
from policylang.emit.sql import (
    NUMERIC,
    PREFIX,
    SCALE,
    QueryBuilder,
    _exact_column,
    _input_column,
    _let_column,
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
from policylang.emit.sql_temporal import days_of, months_of
from policylang.values import SCALE_PLACES, format_decimal

INT64_SAFE = 9 * 10**18  # below 2^63 − 1
BIGINT = exp.DataType.build("BIGINT")
HUGEINT = exp.DataType.build("HUGEINT")


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
            case ir.Call(func="years", args=(duration,)):
                months = self.analysis.duration(duration)
                assert months is not None  # bounded years() has a bounded duration
                value = self.expr(duration)
                whole = self._tag(_cast(months_of(value), BIGINT), months.months)
                return case((exp.NEQ(this=days_of(value), expression=exp.Literal.number(0)),
                             fail("E611", "years() of days: days are not convertible to "
                                  "months")), otherwise=self.quotient(whole, Decimal(12)))
            case ir.If(cond=cond, then=then, otherwise=otherwise):
                return case((self.expr(cond), self.expr(then)), otherwise=self.expr(otherwise))
        return super().expr(e)

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
        """a / d (d a nonzero constant), half away from zero at 10 places, as one integer
        division: with a = A·10^-s and d = P·10^-10, the result's 10-place integer is
        sign(A)·⌊(|A|·2·10^(20−s) + P) / 2P⌋, the fraction reduced by its common factor;
        in 64 bits when the bound allows, else 128."""
        bounds = self.bounds_of(a)
        if bounds is None or bounds.places > SCALE_PLACES:
            return self._div(a, _cast(exp.Literal.number(format_decimal(divisor)),
                                         NUMERIC))
        p = int(abs(divisor) * SCALE)
        factor = 2 * 10 ** (2 * SCALE_PLACES - bounds.places)
        common = math.gcd(factor, p)
        largest = int(bounds.magnitude.scaleb(bounds.places)) + 1
        wide = largest * (factor // common) + p // common >= INT64_SAFE
        integer_type = HUGEINT if wide else BIGINT
        if bounds.places == 0:
            whole = _cast(a, integer_type)
        else:  # A = a·10^s, a whole number: the cast to an integer type is exact
            if wide or largest * 10 ** bounds.places >= INT64_SAFE:
                a = _cast(a, exp.DataType.build(f"DECIMAL(38,{bounds.places})"))
            whole = _cast(exp.Mul(this=a, expression=narrow(Decimal(10) ** bounds.places)),
                             integer_type)

        def integer(value: int) -> exp.Expression:
            return _cast(exp.Literal.number(str(value)), integer_type)

        rounded = exp.IntDiv(this=paren(exp.Add(
            this=exp.Mul(this=fn("ABS", whole), expression=integer(factor // common)),
            expression=integer(p // common))), expression=integer(2 * p // common))
        signed: exp.Expression = exp.Mul(this=fn("SIGN", whole), expression=paren(rounded))
        if divisor < 0:
            signed = exp.Neg(this=paren(signed))
        result = quotient(bounds, divisor)
        fits = result.magnitude.scaleb(SCALE_PLACES) < Decimal(10) ** 18
        whole_type = exp.DataType.build("DECIMAL(18,0)" if fits else "DECIMAL(38,0)")
        value = exp.Mul(this=_cast(signed, whole_type), expression=narrow(
            Decimal(1).scaleb(-SCALE_PLACES)))
        return self._tag(value, result)

    # ── allocations ──
    def _allocation(self, alloc: ir.Allocation) -> None:
        if isinstance(alloc, ir.Shares) and alloc.amount is None:
            return
        amount_bounds = self.analysis.amount(alloc)
        given_bounds = self.analysis.of(alloc.amount)
        typed = decimal_type(amount_bounds) if amount_bounds is not None else None
        if typed is None or given_bounds is None or isinstance(alloc, ir.Waterfall):
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
        self._round_parts(alloc.name, amount, self._shares_parts(alloc, amount))

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
