"""Whole numbers for the narrowed DuckDB query (sql_narrow.py): a bounded value as a
BIGINT count of 10^-places, so that products, quotients and ratios are computed with
64-bit integer operations where the bounds prove they fit, and round exactly where the
interpreter rounds (half away from zero, to 10 places).

A mixin of `NarrowBuilder`, which gives it `analysis`, `expr`, `bounds_of` and `_tag`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from sqlglot import exp

from policylang import ir
from policylang.emit.sql import HUGEINT, SCALE, case, fail, fn, narrow, paren, quotient_of_count
from policylang.emit.sql_bounds import Bounds, places_of, quotient, rounded_product
from policylang.emit.sql_temporal import days_of, months_of
from policylang.values import SCALE_PLACES

INT64_SAFE = 9 * 10**18  # below 2^63 − 1
DECIMAL18_LIMIT = 10**18  # what a DECIMAL(18, s) holds, as a whole number of 10^-s
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


def cast_to(e: exp.Expression, to: exp.DataType) -> exp.Cast:
    """Always a new CAST: sqlglot's `exp.cast` drops a cast to DECIMAL(p, s) around a
    cast to any other DECIMAL, taking the two types for one."""
    return exp.Cast(this=e, to=to.copy())


class WholeNumbers:
    """The whole-number forms of bounded expressions (see the module's docstring)."""

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
        if shift < 0:
            return None
        numerator_limit = x.limit * 10**shift + y.limit
        if numerator_limit >= 10**37:  # 128 bits hold the sum with room
            return None
        signed = x.bounds.lo < 0 or y.bounds.lo < 0
        magnitude = fn("ABS", x.sql) if x.bounds.lo < 0 else x.sql
        divisor = fn("ABS", y.sql) if y.bounds.lo < 0 else y.sql
        if numerator_limit >= INT64_SAFE:
            magnitude = cast_to(magnitude, HUGEINT)
        scale = cast_to(exp.Literal.number(str(10**shift)),
                      HUGEINT if numerator_limit >= INT64_SAFE else BIGINT)
        result: exp.Expression = exp.IntDiv(this=paren(exp.Add(
            this=exp.Mul(this=magnitude, expression=scale),
            expression=exp.IntDiv(this=divisor, expression=exp.Literal.number(2)))),
            expression=divisor.copy())
        if signed:
            result = exp.Mul(this=exp.Mul(this=fn("SIGN", x.sql.copy()),
                                          expression=fn("SIGN", y.sql.copy())),
                             expression=paren(result))
        return quotient_of_count(result, exp.EQ(this=y.sql.copy(),
                                                expression=exp.Literal.number(0)))

    # ── whole numbers: a value as a BIGINT count of 10^-places ──
    def whole_of(self, a: exp.Expression) -> Whole | None:
        """A DECIMAL expression (bounded, at most 18 digits) as its whole number."""
        bounds = self.bounds_of(a)
        if bounds is None or (bounds.precision() or 99) > 18:
            return None
        if isinstance(a, exp.Cast) and a.to.this is exp.DataType.Type.BIGINT:
            return Whole(a, bounds)
        if bounds.places == 0:
            return Whole(cast_to(a, BIGINT), bounds)
        if Whole(a, bounds).limit * 10 ** bounds.places >= DECIMAL18_LIMIT:
            # DuckDB multiplies a·10^s as A·10^s in a DECIMAL(18, s), and refuses a result
            # of 10^18 or more (its 18 digits), not only one past 64 bits: 561.84 held in
            # DECIMAL(11,8), times 10^8, failed "Overflow in multiplication of DECIMAL(18)".
            return None
        # a·10^s is a whole number: the cast to BIGINT is exact.
        return Whole(cast_to(exp.Mul(this=a, expression=narrow(Decimal(10) ** bounds.places)),
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
                whole = Whole(cast_to(exp.Literal.number(str(int(bounds.lo.scaleb(
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
                    Whole(cast_to(months_of(value), BIGINT), months.months), Decimal(12))
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
            return cast_to(exp.Literal.number(str(value)), BIGINT)

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
            return cast_to(exp.Literal.number(str(value)), BIGINT)

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
        value: exp.Expression = cast_to(whole.sql, exp.DataType.build(
            f"DECIMAL({18 if digits <= 18 else 38},0)"))
        if whole.bounds.places:
            value = exp.Mul(this=value, expression=narrow(
                Decimal(1).scaleb(-whole.bounds.places)))
        return self._tag(value, whole.bounds)
