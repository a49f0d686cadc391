"""Spark SQL for a checked policy: the SQL backend's query with Spark's exact arithmetic.

Spark has no 128-bit integer, its DECIMAL stops at 38 digits, and its decimal division
rounds to a result type that depends on the operands' declared precision. So this module
keeps the SQL backend's query shape (layered CTEs, the same column names) and replaces the
operations whose DuckDB form does not carry over:

- values stay DECIMAL(38,10) below 10^18 (inputs below 10^15, E603), so `+`/`-` are exact,
  and a product of two of them is exact in DECIMAL(38,20) — the session must run with
  `spark.sql.decimalOperations.allowPrecisionLoss=false` (else Spark cuts the product to
  6 places) and ANSI mode (an overflow raises instead of giving NULL); `session_conf()`;
- `/` is long division: the integer part with `div` (exact while it fits a BIGINT, and a
  guard proves it does: a quotient of 10^18 or more is E611 anyway), the remainder with
  `%` (exact on DECIMAL), ten more digits with `div` of the remainder × 10^10 (< 10^28),
  and half-up from the last remainder — no decimal division at all;
- `round(x, step)` is |x| − |x| % step, plus one step when 2 × remainder ≥ step;
- a duration is `named_struct('months', m, 'days', d)` with one of the two zero (Spark's
  two ANSI interval types cannot share a column); dates move with `add_months`/`date_add`;
- `ERROR(…)` becomes `raise_error(…)`, DuckDB's `TRUNC(x, 2)` becomes x − x % 0.01.
"""

from __future__ import annotations

from decimal import Decimal

from sqlglot import exp

from policylang import ir
from policylang.cases import parse_params
from policylang.emit.sql import (
    NUMERIC,
    _QueryBuilder,
    case,
    fail,
    fn,
    number,
    paren,
)
from policylang.emit.sql_dialects import bottom_up
from policylang.emit.sql_evaluation import may_fail
from policylang.emit.sql_temporal import (
    DURATION_OUT_OF_RANGE,
    CallForms,
    call,
    in_calendar,
)
from policylang.values import DURATION_LIMIT, MAGNITUDE_LIMIT

DIALECT = "spark"
INT = exp.DataType.build("INT")
DATE = exp.DataType.build("DATE")
WIDE_FRACTION = exp.DataType.build("DECIMAL(38,28)")
INTEGRAL = exp.DataType.build("DECIMAL(38,0)")
# Operand types chosen so Spark's result type keeps 10 places (DECIMAL(38,10) × DECIMAL(11,0)
# is DECIMAL(38,10); × DECIMAL(38,10) would be DECIMAL(38,20), too narrow for 10^28).
SHIFT = exp.DataType.build("DECIMAL(11,0)")
_COMPARE = {"==": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}


def session_conf() -> dict[str, str]:
    """The Spark settings the emitted SQL's exactness relies on."""
    return {
        "spark.sql.decimalOperations.allowPrecisionLoss": "false",
        "spark.sql.ansi.enabled": "true",
        "spark.sql.caseSensitive": "true",  # policy names `Amount` and `amount` differ
        # each nested TRANSFORM (see `bound`) takes the analyser a few more rounds
        "spark.sql.analyzer.maxIterations": "1000",
    }


def session_header() -> str:
    """SET statements to put before the query text, for teams that submit it themselves."""
    return "".join(f"SET {key}={value};\n" for key, value in session_conf().items())


def emit_spark_sql(policy: ir.Policy, params: dict | None = None) -> str:
    """The Spark query text, params bound (defaults unless given as `--param` texts)."""
    values = parse_params(policy, params or {}, where="--param")
    return build_spark_query(policy, values).sql(dialect=DIALECT, pretty=True,
                                                 copy=False) + ";\n"


def build_spark_query(policy: ir.Policy, param_values: dict[str, ir.Value],
                      limit_values: bool = True) -> exp.Select:
    """The query; `limit_values` false: its reader selects no limit's value or bound
    column, so its checks refuse the sides those columns' casts would (the columns stay,
    for the checks to read; Spark prunes the rest)."""
    builder = _SparkBuilder(policy, param_values)
    builder.limit_sides_tested = not limit_values
    return builder.build()


def _spark_only(tree: exp.Expression) -> exp.Expression:
    """Rewrite what the shared builder writes in DuckDB's vocabulary (children first)."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous):
            name = str(node.this).upper()
            if name == "ERROR":
                return exp.Anonymous(this="RAISE_ERROR", expressions=node.expressions)
            if name == "TRUNC":
                value = node.expressions[0]
                step = number(Decimal(1).scaleb(-int(node.expressions[1].name)))
                return exp.Sub(this=paren(value), expression=paren(exp.Mod(
                    this=paren(value), expression=step)))
        if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.INT128:
            return INTEGRAL.copy()
        return node

    return bottom_up(tree, rewrite)


def duration(months: exp.Expression, days: exp.Expression) -> exp.Expression:
    return fn("NAMED_STRUCT", exp.Literal.string("months"), exp.cast(months, INT),
              exp.Literal.string("days"), exp.cast(days, INT))


def months_of(d: exp.Expression) -> exp.Expression:
    return exp.Dot(this=paren(d), expression=exp.to_identifier("months"))


def days_of(d: exp.Expression) -> exp.Expression:
    return exp.Dot(this=paren(d), expression=exp.to_identifier("days"))


def _nonzero(e: exp.Expression) -> exp.Expression:
    return exp.NEQ(this=e, expression=exp.Literal.number(0))


def _same_family(a: exp.Expression, b: exp.Expression, value: exp.Expression,
                 what: str) -> exp.Expression:
    mixed = exp.or_(exp.and_(_nonzero(months_of(a)), _nonzero(days_of(b))),
                    exp.and_(_nonzero(days_of(a)), _nonzero(months_of(b))))
    return case((mixed, fail("E611", f"cannot {what} days and months: days are not "
                             "convertible to months")), otherwise=value)


def _amount(d: exp.Expression) -> exp.Expression:
    """A duration's count in its own unit (one of the two fields is zero)."""
    return paren(exp.Add(this=months_of(d), expression=days_of(d)))


def compare(op: str, a: exp.Expression, b: exp.Expression, type_: ir.Type) -> exp.Expression:
    if type_.kind is ir.Kind.DURATION:
        return _same_family(a, b, paren(_COMPARE[op](this=_amount(a), expression=_amount(b))),
                            "compare")
    return paren(_COMPARE[op](this=a, expression=b))


def _magnitude_checked(value: exp.Expression) -> exp.Expression:
    return case((exp.GTE(this=fn("ABS", value), expression=number(MAGNITUDE_LIMIT)),
                 fail("E611", "value out of range")), otherwise=value)


def _in_duration_range(d: exp.Expression) -> exp.Expression:
    """The duration, or E611 where it holds 10^8 months or days or more (as every
    backend: docs/semantics.md)."""
    return case((exp.GTE(this=fn("ABS", _amount(d)), expression=number(DURATION_LIMIT)),
                 fail("E611", DURATION_OUT_OF_RANGE)), otherwise=d)


def _negative(e: exp.Expression) -> exp.Expression:
    return paren(exp.LT(this=e, expression=number(0)))


class _SparkBuilder(_QueryBuilder):
    """The SQL backend's builder with Spark's division, rounding and durations."""

    # Whether the checks test a money limit's sides for 10^16 yuan (sql_money): a book
    # scored without the limits' value and bound columns (`--no-limit-values`) runs this
    # same query and selects fewer columns, and Spark's optimizer drops the unselected
    # columns' DECIMAL(18,2) casts, which refused such a side (DuckDB's query for that
    # book has no such columns, and tests the sides itself).
    limit_sides_tested = False

    def build(self) -> exp.Select:
        return self.finish(super().build())

    @staticmethod
    def finish(tree: exp.Expression) -> exp.Expression:
        return _spark_only(tree)

    def _const(self, value: ir.Value, type_: ir.Type) -> exp.Expression:
        if type_.kind is ir.Kind.DURATION:
            amount = exp.Literal.number(value.amount)
            zero = exp.Literal.number(0)
            return duration(amount, zero) if value.unit == "month" else duration(zero, amount)
        return super()._const(value, type_)

    def visit_Neg(self, e: ir.Neg) -> exp.Expression:
        if e.operand.type.kind is not ir.Kind.DURATION:
            return super().visit_Neg(e)
        value = self.shared(self.expr(e.operand), e.operand)
        return duration(exp.Neg(this=paren(months_of(value))),
                        exp.Neg(this=paren(days_of(value))))

    @staticmethod
    def _div(a: exp.Expression, b: exp.Expression) -> exp.Expression:
        """Exact a / b rounded half away from zero to 10 places, by long division."""
        return bound(a, b, _long_division)

    def _temporal(self, e: ir.Arith) -> exp.Expression:
        # Every operand below is read more than once: `shared` makes it a column of its
        # own where that is safe, else nested duration operations grow exponentially (a
        # min of maxes of sums and products was 1.9 MB of SQL and 200 s of Spark's parser).
        a = self.shared(self.expr(e.left), e.left)
        b = self.shared(self.expr(e.right), e.right)
        left, right = e.left.type.kind, e.right.type.kind
        D, T = ir.Kind.DURATION, ir.Kind.DATE
        if left is T and right is T:
            return duration(exp.Literal.number(0), fn("DATEDIFF", a, b))
        if left is T or right is T:
            date, moved = (a, b) if left is T else (b, a)
            sign = -1 if e.op == "-" else 1

            def signed(amount: exp.Expression) -> exp.Expression:
                return exp.Neg(this=paren(amount)) if sign < 0 else amount

            return in_calendar(self.shared(case(
                (_nonzero(days_of(moved)), fn("DATE_ADD", date, signed(days_of(moved)))),
                otherwise=fn("ADD_MONTHS", date, signed(months_of(moved)))), e))
        if left is D and right is D:
            combine = exp.Add if e.op == "+" else exp.Sub
            total = self.shared(duration(combine(this=months_of(a), expression=months_of(b)),
                                         combine(this=days_of(a), expression=days_of(b))), e)
            return _same_family(a, b, _in_duration_range(total),
                                "add" if e.op == "+" else "subtract")
        span, factor = (a, b) if left is D else (b, a)
        return self._scale(span, factor)

    @staticmethod
    def _scale(span: exp.Expression, factor: exp.Expression) -> exp.Expression:
        def scaled(amount: exp.Expression, unit: str) -> exp.Expression:
            product = exp.Mul(this=exp.cast(amount, NUMERIC), expression=exp.cast(factor,
                                                                                  NUMERIC))
            whole = exp.NEQ(this=exp.Mod(this=paren(product), expression=number(1)),
                            expression=number(0))
            count = exp.cast(product, INT)
            zero = exp.Literal.number(0)
            made = duration(count, zero) if unit == "months" else duration(zero, count)
            return case((whole, fail("E611", f"a duration times a number must be a whole "
                                             f"number of {unit}")),
                        (exp.GTE(this=fn("ABS", product), expression=number(DURATION_LIMIT)),
                         fail("E611", DURATION_OUT_OF_RANGE)),
                        otherwise=made)

        return case((_nonzero(days_of(span)), scaled(days_of(span), "days")),
                    otherwise=scaled(months_of(span), "months"))

    # Spark folds `CASE WHEN a THEN TRUE ELSE TRUE END` to TRUE, dropping the error a
    # raises (`(d < 3 years) or 2017-07-26 < 2023-02-28` decided a case of 257 days).
    # Where only the left side can fail, GREATEST / LEAST read it always and are not
    # folded; the right side is read always too, which it cannot fail (values are never
    # NULL, so they are `or` / `and`).
    def visit_Or(self, e: ir.Or) -> exp.Expression:
        if may_fail(e.left) and not may_fail(e.right):
            return fn("GREATEST", self.expr(e.left), self.expr(e.right))
        return super().visit_Or(e)

    def visit_And(self, e: ir.And) -> exp.Expression:
        if may_fail(e.left) and not may_fail(e.right):
            return fn("LEAST", self.expr(e.left), self.expr(e.right))
        return super().visit_And(e)

    def _compare(self, op: str, left: ir.Expr, right: ir.Expr) -> exp.Expression:
        a, b = self.expr(left), self.expr(right)
        if left.type.kind is ir.Kind.DURATION:  # the family test reads both sides again
            a, b = self.shared(a, left), self.shared(b, right)
        return compare(op, a, b, left.type)

    def unsafe_sides(self, limit: ir.Limit) -> list[str]:
        # The limit columns are in this query (`limit_values` on), but its reader may not
        # select them.
        return self.sides_near_the_edge(limit) if self.limit_sides_tested else []

    def _check(self, check: ir.Check) -> exp.Expression:
        if not isinstance(check, ir.Limit):
            return super()._check(check)
        holds = compare(check.op, self.limit_operand(check, "value"),
                        self.limit_operand(check, "bound"), check.subject.type)
        holds = self.money_checked(check, holds)
        if check.guard is None:
            return holds
        return case((self.expr(check.guard), holds), otherwise=exp.true())

    def visit_Call(self, e: ir.Call) -> exp.Expression:
        return call(e, [self.expr(a) for a in e.args], self, SPARK_CALLS)


def bound(a: exp.Expression, b: exp.Expression, body) -> exp.Expression:
    """body(a, b) with a and b evaluated once: Spark SQL has no LET, and writing each
    operand out at every use makes nested divisions grow exponentially (and Spark's
    analyser with them); a one-element TRANSFORM binds both to a lambda variable."""
    name = "__pl_v"  # operands are bound outside the body, so lambdas never nest
    pair = fn("ARRAY", fn("NAMED_STRUCT", exp.Literal.string("a"), exp.cast(a, NUMERIC),
                          exp.Literal.string("b"), exp.cast(b, NUMERIC)))
    value = body(exp.column("a", table=name), exp.column("b", table=name))
    bound_ = fn("TRANSFORM", pair, exp.Lambda(this=value, expressions=[exp.to_identifier(name)]))
    return fn("ELEMENT_AT", bound_, exp.Literal.number(1))


def _long_division(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    dividend = fn("ABS", a)
    divisor = fn("ABS", b)
    whole = exp.IntDiv(this=dividend, expression=divisor)
    shifted = paren(exp.Mul(this=paren(exp.Mod(this=dividend, expression=divisor)),
                            expression=exp.cast(exp.Literal.number(10**10), SHIFT)))
    digits = exp.IntDiv(this=shifted, expression=divisor)
    last = exp.Mod(this=shifted, expression=divisor)
    half_up = case((exp.GTE(this=exp.Mul(this=exp.Literal.number(2), expression=paren(last)),
                            expression=divisor), exp.Literal.number(1)),
                   otherwise=exp.Literal.number(0))
    fraction = exp.cast(exp.Mul(
        this=exp.cast(paren(exp.Add(this=digits, expression=half_up)), NUMERIC),
        expression=number(Decimal("0.0000000001"))), NUMERIC)
    magnitude = paren(exp.Add(this=exp.cast(whole, NUMERIC), expression=fraction))
    signed = case((exp.NEQ(this=_negative(exp.cast(a, NUMERIC)),
                           expression=_negative(exp.cast(b, NUMERIC))),
                   exp.Neg(this=magnitude)), otherwise=magnitude)
    # `div` wraps silently past 2^63: prove the integer part stays below 10^18 first.
    too_large = exp.GTE(
        this=exp.cast(exp.Mul(this=dividend, expression=exp.cast(
            exp.Literal.number("0.000000000000000001"), exp.DataType.build(
                "DECIMAL(19,18)"))), WIDE_FRACTION),
        expression=exp.cast(divisor, WIDE_FRACTION))
    return case(
        (exp.EQ(this=exp.cast(b, NUMERIC), expression=number(0)),
         fail("E610", "division by zero")),
        (exp.GTE(this=dividend, expression=number(MAGNITUDE_LIMIT)),
         fail("E611", "value out of range")),
        (exp.And(this=exp.LT(this=divisor, expression=number(1)), expression=too_large),
         fail("E611", "value out of range")),
        otherwise=_magnitude_checked(signed))


def _round(x: exp.Expression, step: exp.Expression) -> exp.Expression:
    return bound(x, step, _rounded)


def _rounded(x: exp.Expression, step: exp.Expression) -> exp.Expression:
    """x rounded to a multiple of step, half away from zero: |x| − |x| % step, plus one
    step when the remainder is at least half of it (`%` is exact on DECIMAL)."""
    magnitude = fn("ABS", exp.cast(x, NUMERIC))
    step_ = exp.cast(step, NUMERIC)
    remainder = paren(exp.Mod(this=magnitude, expression=step_))
    rounded = paren(exp.Add(
        this=paren(exp.Sub(this=magnitude, expression=remainder)),
        expression=case((exp.GTE(this=exp.Mul(this=exp.Literal.number(2), expression=remainder),
                                 expression=step_), step_), otherwise=number(0))))
    signed = case((_negative(exp.cast(x, NUMERIC)), exp.Neg(this=rounded)), otherwise=rounded)
    return case((exp.LTE(this=step_, expression=number(0)),
                 fail("E611", "round() needs a positive step")),
                otherwise=_magnitude_checked(exp.cast(signed, NUMERIC)))


# A duration struct's months are an INT already: years() divides them as they are.
SPARK_CALLS = CallForms(months_of=months_of, days_of=days_of, compare=compare,
                        round_to_step=_round, whole_months=months_of)


def literal_sql(policy: ir.Policy, value: ir.Value, type_: ir.Type) -> str:
    """A value as Spark SQL of its column's type (a book column's default)."""
    return _SparkBuilder(policy, {})._const(value, type_).sql(dialect=DIALECT)
