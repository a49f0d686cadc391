"""DuckDB's DECIMAL type of an expression the narrowed query builds (sql_narrow.py), by
its binder's rules, so the builder can leave out the casts DuckDB would check value by
value.

DuckDB checks every value of a cast to a DECIMAL with fewer digits, one function call
each (5–7 ms a million values on this project's 2-core machine). The narrowed query used
to cast every bounded value to the digits its bounds need, so `a - b` of two
DECIMAL(10,2) came back from DECIMAL(11,2) through such a check. The bounds already prove
the value fits; only a type beyond 18 digits (a 128-bit integer, far slower) needs the
cast.

The rules, as DuckDB 2.0 binds them: a sum or difference has the larger whole digits and
places of its operands and a digit more; a product the sum of both, capped to 18 digits
(with an overflow check) when both operands are 64-bit and it has fewer than 18 places;
LEAST, GREATEST, CASE and COALESCE the larger whole digits and places of their values;
ROUND and TRUNC to n places keep the width; ABS and negation keep the type. Anything else
is unknown (None), and keeps its cast. tests/test_sql_decimal_types.py asks the installed
DuckDB for each rule and for random trees of them: a scale inferred wrong would make a
value's whole number (sql_whole.py) wrong too, not just slow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from sqlglot import exp

WIDEST = 38
INT64_DIGITS = 18


class DecimalType(NamedTuple):
    precision: int
    scale: int

    @property
    def whole_digits(self) -> int:
        return self.precision - self.scale

    @staticmethod
    def of(data_type: exp.DataType) -> DecimalType | None:
        if data_type.this is not exp.DataType.Type.DECIMAL or len(data_type.expressions) != 2:
            return None
        precision, scale = (int(part.this.this) for part in data_type.expressions)
        return DecimalType(precision, scale)


def _common(types: list[DecimalType], extra: int = 0) -> DecimalType:
    scale = max(t.scale for t in types)
    whole = max(t.whole_digits for t in types)
    return DecimalType(min(WIDEST, whole + scale + extra), scale)


def _product(a: DecimalType, b: DecimalType) -> DecimalType:
    precision, scale = a.precision + b.precision, a.scale + b.scale
    if precision > INT64_DIGITS and a.precision <= INT64_DIGITS and \
            b.precision <= INT64_DIGITS and scale < INT64_DIGITS:
        precision = INT64_DIGITS
    return DecimalType(min(precision, WIDEST), scale)


def _raises(e: exp.Expression) -> bool:
    return isinstance(e, exp.Anonymous) and str(e.this).upper() == "ERROR"


def type_of(e: exp.Expression,
            columns: Mapping[str, DecimalType]) -> DecimalType | None:
    """e's DECIMAL type in DuckDB; None where it is not a DECIMAL or not known here."""

    def of(node: exp.Expression) -> DecimalType | None:
        return type_of(node, columns)

    def common(values: list[exp.Expression], extra: int = 0) -> DecimalType | None:
        # An ERROR branch has no type of its own: CASE takes its other branches'.
        types = [of(v) for v in values if not _raises(v)]
        known = [t for t in types if t is not None]
        if not known or len(known) != len(types):
            return None
        return _common(known, extra)

    match e:
        case exp.Cast():
            return DecimalType.of(e.to)
        case exp.Column():
            return columns.get(e.name)
        case exp.Paren() | exp.Neg():
            return of(e.this)
        case exp.Add() | exp.Sub():
            return common([e.this, e.expression], extra=1)
        case exp.Mul():
            a, b = of(e.this), of(e.expression)
            return None if a is None or b is None else _product(a, b)
        case exp.Case():
            # Without an ELSE, the rows no branch takes are NULL, which has no type either.
            default = e.args.get("default")
            return common([branch.args["true"] for branch in e.args.get("ifs", [])] +
                          ([default] if default is not None else []))
        case exp.Coalesce():
            return common([e.this, *e.expressions])
        case exp.Anonymous():
            return _function(str(e.this).upper(), e.expressions, of, common)
    return None


def _function(name: str, args: list[exp.Expression],
              of: Callable[[exp.Expression], DecimalType | None],
              common: Callable[[list[exp.Expression]], DecimalType | None]
              ) -> DecimalType | None:
    if name in ("LEAST", "GREATEST"):
        return common(args)
    if name == "ABS" and len(args) == 1:
        return of(args[0])
    if name in ("ROUND", "TRUNC") and len(args) == 2 and isinstance(args[1], exp.Literal):
        operand = of(args[0])
        places = int(args[1].this)
        if operand is None or places > operand.scale:
            return None
        return DecimalType(operand.precision, places)
    return None
