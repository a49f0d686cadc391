"""SQL for durations, dates, comparisons and built-in functions (DuckDB).

A duration is an INTERVAL holding only months or only days; operations that would mix the
two families raise E611 with ERROR(), exactly where the interpreter raises. Kept apart from
`sql.py` so that module stays about arithmetic and the query's shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from policylang import ir
from policylang.emit.sql import (
    BOUNDED,
    HUGEINT,
    NUMERIC,
    case,
    fail,
    fn,
    integer,
    number,
    paren,
)
from policylang.literals import DURATION_LIMIT

DATE = exp.DataType.build("DATE")
INT = exp.DataType.build("INTEGER")
DURATION_OUT_OF_RANGE = (f"a duration is out of range (it must stay below {DURATION_LIMIT:,} "
                         "months or days)")
_COMPARE = {"==": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}


def months_of(iv: exp.Expression) -> exp.Expression:
    return exp.Add(this=exp.Mul(this=fn("DATEPART", exp.Literal.string("year"), iv),
                                expression=exp.Literal.number(12)),
                   expression=fn("DATEPART", exp.Literal.string("month"), iv))


def days_of(iv: exp.Expression) -> exp.Expression:
    return fn("DATEPART", exp.Literal.string("day"), iv)


def _nonzero(e: exp.Expression) -> exp.Expression:
    return exp.NEQ(this=e, expression=exp.Literal.number(0))


def _mixed(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.or_(exp.and_(_nonzero(months_of(a)), _nonzero(days_of(b))),
                   exp.and_(_nonzero(days_of(a)), _nonzero(months_of(b))))


def _same_family(a: exp.Expression, b: exp.Expression, value: exp.Expression,
                 what: str) -> exp.Expression:
    return case((_mixed(a, b), fail("E611", f"cannot {what} days and months: days are not "
                                    "convertible to months")), otherwise=value)


def compare(op: str, a: exp.Expression, b: exp.Expression, type_: ir.Type) -> exp.Expression:
    # A NOT operand in parentheses: `NOT x = y` is NOT (x = y) in SQL.
    a, b = (paren(x) if isinstance(x, exp.Not) else x for x in (a, b))
    result = _COMPARE[op](this=a, expression=b)
    if type_.kind is ir.Kind.DURATION:
        return _same_family(a, b, result, "compare")
    return paren(result)


def _inline(value: exp.Expression, node: ir.Expr) -> exp.Expression:
    return value


def temporal_arith(e: ir.Arith, a: exp.Expression, b: exp.Expression,
                   share=_inline) -> exp.Expression:
    """`share(sql, node)`: the builder's `QueryBuilder.shared`, for a value read more
    than once (else nested operations grow exponentially)."""
    left, right = e.left.type.kind, e.right.type.kind
    D, T = ir.Kind.DURATION, ir.Kind.DATE
    if left is T and right is T:
        return fn("TO_DAYS", exp.cast(exp.Sub(this=a, expression=b), INT))
    if left is T:
        moved = exp.Add(this=a, expression=b) if e.op == "+" else exp.Sub(this=a, expression=b)
        return in_calendar(share(exp.cast(moved, DATE), e))
    if right is T:
        return in_calendar(share(exp.cast(exp.Add(this=b, expression=a), DATE), e))
    a, b = share(a, e.left), share(b, e.right)
    if left is D and right is D:
        combined = share(paren(exp.Add(this=a, expression=b) if e.op == "+" else exp.Sub(
            this=a, expression=b)), e)
        return _same_family(a, b, in_duration_range(combined),
                            "add" if e.op == "+" else "subtract")
    duration, factor = (a, b) if left is D else (b, a)
    return _scale(duration, factor)


def in_calendar(date: exp.Expression) -> exp.Expression:
    """The moved date, or E611 outside 0001-01-01 … 9999-12-31 (the interpreter's calendar;
    DuckDB's runs on for millions of years and only the fetch would fail)."""
    outside = exp.or_(exp.LT(this=date, expression=exp.cast(exp.Literal.string("0001-01-01"),
                                                             DATE)),
                      exp.GT(this=date, expression=exp.cast(exp.Literal.string("9999-12-31"),
                                                             DATE)))
    return case((outside, fail("E611", "a date is outside the calendar (0001-01-01 to "
                                       "9999-12-31)")), otherwise=date)


def in_duration_range(duration: exp.Expression) -> exp.Expression:
    """The duration, or E611 where it holds 10^8 months or days or more: the range of a
    literal or an input (docs/semantics.md), far inside INTERVAL's 32-bit fields (a
    duration past them made DuckDB's query fail with its own conversion error)."""
    amount = fn("ABS", exp.Add(this=months_of(duration), expression=days_of(duration)))
    return case((exp.GTE(this=amount, expression=exp.Literal.number(DURATION_LIMIT)),
                 fail("E611", DURATION_OUT_OF_RANGE)), otherwise=duration)


def _scale(duration: exp.Expression, factor: exp.Expression) -> exp.Expression:
    def scaled(amount: exp.Expression, make: str, unit: str) -> exp.Expression:
        product = exp.Mul(this=exp.cast(amount, NUMERIC), expression=exp.cast(factor, NUMERIC))
        return case((exp.NEQ(this=product, expression=fn("TRUNC", product)),
                     fail("E611", f"a duration times a number must be a whole number of {unit}")),
                    (exp.GTE(this=fn("ABS", product), expression=exp.Literal.number(
                        DURATION_LIMIT)),
                     fail("E611", DURATION_OUT_OF_RANGE)),
                    otherwise=fn(make, exp.cast(product, INT)))

    return case((_nonzero(days_of(duration)), scaled(days_of(duration), "TO_DAYS", "days")),
                otherwise=scaled(months_of(duration), "TO_MONTHS", "months"))


@dataclass(frozen=True)
class CallForms:
    """How a dialect writes what `call` needs of a duration, and `round`: DuckDB's (an
    INTERVAL, rounding on HUGEINT) are `DUCKDB_CALLS`; Spark's (a struct, no 128-bit
    integer) are in sql_spark. The functions themselves are written once, in `call`."""

    months_of: Callable[[exp.Expression], exp.Expression]
    days_of: Callable[[exp.Expression], exp.Expression]
    compare: Callable[[str, exp.Expression, exp.Expression, ir.Type], exp.Expression]
    round_to_step: Callable[[exp.Expression, exp.Expression], exp.Expression]
    # The months that years() divides by 12, typed as the builder's `_div` divides them
    # best (DuckDB's divides an INTEGER numerator without a DECIMAL).
    whole_months: Callable[[exp.Expression], exp.Expression]


def _round(x: exp.Expression, step: exp.Expression) -> exp.Expression:
    """x rounded to a multiple of step, half away from zero, on 128-bit integers."""
    ten = exp.Literal.number(str(10**10))
    scaled_x = exp.cast(exp.Mul(this=exp.cast(x, NUMERIC), expression=ten), HUGEINT)
    scaled_step = exp.cast(exp.Mul(this=exp.cast(step, NUMERIC), expression=ten), HUGEINT)
    magnitude = fn("ABS", scaled_x)
    count = exp.Add(this=exp.IntDiv(this=magnitude, expression=scaled_step), expression=case(
        (exp.GTE(this=exp.Mul(this=integer(2), expression=exp.Mod(this=magnitude,
                                                                   expression=scaled_step)),
                 expression=scaled_step), integer(1)), otherwise=integer(0)))
    signed = exp.Mul(this=fn("SIGN", scaled_x), expression=paren(count))
    # Through DECIMAL(28,10): a rounded value of 10^18 or more is out of range (E611), as
    # in the interpreter; DECIMAL(38,10) held it (the narrowed query decided such a case).
    value = exp.cast(exp.cast(exp.Mul(this=exp.cast(signed, NUMERIC),
                                      expression=exp.cast(step, NUMERIC)), BOUNDED), NUMERIC)
    return case((exp.LTE(this=exp.cast(step, NUMERIC), expression=number(0)),
                 fail("E611", "round() needs a positive step")), otherwise=value)


def _whole_months(iv: exp.Expression) -> exp.Expression:
    return exp.cast(months_of(iv), INT)


DUCKDB_CALLS = CallForms(months_of=months_of, days_of=days_of, compare=compare,
                         round_to_step=_round, whole_months=_whole_months)


def call(e: ir.Call, args: list[exp.Expression], builder,
         forms: CallForms = DUCKDB_CALLS) -> exp.Expression:
    """A built-in function's SQL; `builder`: the query builder (its `shared`, `_div`)."""
    if e.func in ("years", "months", "days"):  # the family test reads it again
        args = [builder.shared(args[0], e.args[0])]
    match e.func:
        case "min" | "max":
            if e.args[0].type.kind is ir.Kind.DURATION:
                # Each step reads the best so far five times: a column of its own.
                args = [builder.shared(arg, node) for arg, node in zip(args, e.args,
                                                                       strict=True)]
                best = args[0]
                for arg in args[1:]:
                    better = forms.compare("<" if e.func == "min" else ">", arg, best,
                                           e.args[0].type)
                    best = builder.shared(case((better, arg), otherwise=best), e)
                return best
            return fn("LEAST" if e.func == "min" else "GREATEST", *args)
        case "round":
            return forms.round_to_step(args[0], args[1])
        case "abs":
            return fn("ABS", args[0])
        case "years":
            return case((_nonzero(forms.days_of(args[0])), fail(
                "E611", "years() of days: days are not convertible to months")),
                otherwise=builder._div(forms.whole_months(args[0]), number(12)))
        case "months":
            return case((_nonzero(forms.days_of(args[0])), fail(
                "E611", "months() of days: days are not convertible to months")),
                otherwise=exp.cast(forms.months_of(args[0]), NUMERIC))
        case "days":
            return case((_nonzero(forms.months_of(args[0])), fail(
                "E611", "days() of months: months are not convertible to days")),
                otherwise=exp.cast(forms.days_of(args[0]), NUMERIC))
        case "year" | "month":
            return exp.cast(fn(e.func.upper(), args[0]), NUMERIC)
    raise AssertionError(e.func)
