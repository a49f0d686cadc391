"""SQL that reads a book's cells into typed inputs, exactly as case JSON is read.

Owns how DuckDB reads a cell (`cell_expression`): a typed column as it stands or refused
(E608), a text cell by the strict literal patterns (policylang/cell_patterns.py, here in
DuckDB's dialect, `DUCKDB`), whose accepted strings are a subset of what the reference
parser (`cases.convert`) accepts and whose values are identical; a cell no pattern takes is
NULL, and the caller hands its text to the case reader. Each expression first tries the
cell as it stands (no `trim`, which copies every string) and only then the trimmed text with
every unit, so the usual plain cell costs one pattern test.

Also owns the *plain* reading of text columns: a light scan reads them by DuckDB's own
casts (`loose_number`, `loose_duration`), which take every form the patterns take for a
number without unit or an English-unit duration, with the same value; when it has shown
that every cell is such a form, a number column is read straight into the narrow
`DECIMAL` its bounds need, by a pattern that takes exactly the strings inside them
(`plain_number`), and a duration column by one pattern for its English-unit forms and
DuckDB's INTERVAL cast (`plain_duration`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import assert_never

from policylang import ir
from policylang.cell_patterns import (
    Dialect,
    date_branch,
    duration_forms,
    plain_branch,
    text_forms,
)
from policylang.diagnostics import PolicyError
from policylang.emit.sql_bounds import Bounds, DurationBounds
from policylang.values import SCALE_PLACES, format_decimal

INTEGER_SQL = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
               "USMALLINT", "UINTEGER", "UBIGINT")
NUMERIC_SQL = (*INTEGER_SQL, "DECIMAL")


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def bindable(value: ir.Value, type_: ir.Type) -> object:
    if type_.kind is ir.Kind.DURATION:
        return f"{value.amount} {'months' if value.unit == 'month' else 'days'}"
    return value


def default_sql(f: ir.Field) -> str:
    value = f.default
    match f.type.kind:
        case ir.Kind.BOOL:
            return "true" if value else "false"
        case ir.Kind.ENUM:
            return sql_string(value)
        case ir.Kind.DATE:
            return f"CAST({sql_string(value.isoformat())} AS DATE)"
        case ir.Kind.DURATION:
            return f"CAST({sql_string(bindable(value, f.type))} AS INTERVAL)"
    # As narrow as the value: a wider default would widen the whole column (COALESCE).
    text = format_decimal(value)
    places = len(text.split(".")[1]) if "." in text else 0
    digits = len(text.lstrip("-").split(".")[0])
    return f"CAST({sql_string(text)} AS DECIMAL({min(digits + places, 38)},{places}))"


def cell_expression(raw: str, f: ir.Field, sql_type: str, where: str,
                    policy: ir.Policy) -> str:
    """The cell's typed value where the strict pattern takes it, else NULL. A column of
    a type that cannot hold the input is an E608 naming the book as `where`."""
    kind = f.type.kind
    base = sql_type.split("(")[0].upper()
    if base == "VARCHAR":
        return _from_text(raw, f, policy)
    if f.type.numeric and base in NUMERIC_SQL:
        scale = int(sql_type.split(",")[1].rstrip(")")) if base == "DECIMAL" else 0
        if scale > SCALE_PLACES:
            # More places than policylang keeps (Spark writes DECIMAL(38,18)), but exact: a
            # value with no digit beyond the tenth place is taken at 10 places; any other
            # goes to the case reader, which refuses it naming its row.
            precision = int(sql_type.split("(")[1].split(",")[0])
            narrowed = (f"TRY_CAST({raw} AS DECIMAL({precision - scale + SCALE_PLACES},"
                        f"{SCALE_PLACES}))")
            return (f"CASE WHEN {narrowed} = {raw} AND abs({raw}) < 1000000000000000 "
                    f"THEN {narrowed} END")
        # The column keeps its own exact type: the query is narrowed to it (sql_narrow.py).
        return f"CASE WHEN abs({raw}) < 1000000000000000 THEN {raw} END"
    if kind is ir.Kind.DATE and base == "DATE":
        return raw
    if kind is ir.Kind.DATE and base in TIMESTAMP_SQL:
        # pandas writes a date column as TIMESTAMP: at midnight it is that date; a time of
        # day goes to the case reader, which refuses it naming its row.
        return f"CASE WHEN CAST({raw} AS DATE) = {raw} THEN CAST({raw} AS DATE) END"
    if kind is ir.Kind.BOOL and base == "BOOLEAN":
        return raw
    raise PolicyError.single("E608", f"{where}: column `{f.name}` has type {sql_type}, which "
                             f"cannot hold {f.type} values; {_column_hint(kind, sql_type)}")


# Timestamps without a time zone, as Parquet files hold them at each precision.
TIMESTAMP_SQL = ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATETIME")


def _column_hint(kind: ir.Kind, sql_type: str) -> str:
    """What column an input of `kind` needs, for one of `sql_type`."""
    base = sql_type.split("(")[0].upper()
    if base in ("FLOAT", "DOUBLE", "REAL"):
        return ("exact values need DECIMAL or text columns, never binary floating point "
                "(pandas: write Decimal objects or strings, not float64)")
    if kind is ir.Kind.DATE and base.startswith("TIMESTAMP"):
        return ("a moment in a time zone is no date: write the column as DATE, the dates "
                "where the loans were made")
    return {ir.Kind.DATE: "use a DATE column, or text such as `2024-06-01`",
            ir.Kind.BOOL: "use a BOOLEAN column, or text `true` / `false`",
            ir.Kind.DURATION: "use a text column, such as `12 months` or `1年`"}.get(
                kind, "use a text column")


def _matches(text: str, pattern: str) -> str:
    return f"regexp_full_match({text}, {sql_string(pattern)})"


DUCKDB = Dialect(string=sql_string, matches=_matches,
                 cut=lambda text, n: f"{text}[1:length({text}) - {n}]", point="\\.")


def _from_text(raw: str, f: ir.Field, policy: ir.Policy) -> str:
    kind = f.type.kind
    match kind:
        case ir.Kind.BOOL:
            return text_forms(raw, f, policy, DUCKDB)
        case ir.Kind.ENUM:
            names = ", ".join(sql_string(member.name)
                              for member in policy.enum(f.type.enum).members)
            return (f"CASE WHEN {raw} IN ({names}) THEN {raw} "
                    f"ELSE {text_forms(raw, f, policy, DUCKDB)} END")
        case ir.Kind.DURATION:
            # Each unit's test is cheap (a suffix) and its pattern strict, so the untrimmed
            # forms can go first as they are.
            return (f"CASE {_duration_branches(raw)} "
                    f"ELSE CASE {_duration_branches(f'trim({raw})')} END END")
        case ir.Kind.DATE:
            return (f"CASE {date_branch(raw, DUCKDB)} "
                    f"ELSE {text_forms(raw, f, policy, DUCKDB)} END")
        case ir.Kind.MONEY | ir.Kind.PERCENT | ir.Kind.NUMBER:
            # A plain number, untrimmed: its value is the cast's.
            return (f"CASE {plain_branch(raw, kind, DUCKDB)} "
                    f"ELSE {text_forms(raw, f, policy, DUCKDB)} END")
        case ir.Kind.ERROR:
            raise AssertionError("a checked policy has no ERROR-typed input")
        case _:
            assert_never(kind)


def _duration_branches(text: str) -> str:
    branches = []
    for form in duration_forms():
        # What the pattern has checked is a number before the unit (and a space, which
        # the cast allows).
        amount = f"CAST({DUCKDB.cut(text, len(form.unit))} AS INTEGER) * {form.factor}"
        builder = "to_months" if form.family == "month" else "to_days"
        # The unit's suffix first (a cheap test): one pattern per cell, not one per unit
        # tried before it.
        branches.append(f"WHEN suffix({text}, {sql_string(form.unit)}) AND "
                        f"{_matches(text, form.pattern)} THEN {builder}({amount})")
    return " ".join(branches)


# ── plain text columns of numbers ──

def loose_number(raw: str) -> str:
    """A text cell's number by DuckDB's cast, which takes every plain decimal (and more)
    and gives NULL for a cell with a unit: bounds measured on these values hold every
    value `plain_number` later accepts."""
    return f"TRY_CAST({raw} AS DECIMAL(38,10))"


def loose_duration(raw: str) -> str:
    """A text cell's duration by DuckDB's INTERVAL cast: for every cell the English-unit
    patterns take (`2 years`, `18 months`, `5days`) the same value (tests/test_book_cells.py
    checks each form), and NULL for the CJK units, which `not_taken` then reports."""
    return f"TRY_CAST({raw} AS INTERVAL)"


def shown_places(text: str) -> str:
    """How many places a plain decimal cell shows (any characters after its point)."""
    dot = f"strpos({text}, '.')"
    return f"CASE WHEN {dot} > 0 THEN length({text}) - {dot} ELSE 0 END"


def not_taken(text: str, loose: str) -> str:
    """1 where a cell is present but its loose reading gave nothing (a unit), else 0."""
    return f"CASE WHEN {text} IS NOT NULL AND {loose} IS NULL THEN 1 ELSE 0 END"


# A duration the plain reading takes: the untrimmed English-unit forms the patterns take.
_PLAIN_DURATION = "^-?[0-9]{1,6} ?(years|year|months|month|days|day)$"


def plain_duration(raw: str, bounds: DurationBounds | None = None) -> str:
    """The cell's duration where it is written plain (`18 months`, `2 years`, `5days`), by
    DuckDB's INTERVAL cast, which gives those forms the patterns' value
    (tests/test_book_cells.py); with `bounds`, only within them (as `plain_number`);
    else NULL. No CASE: DuckDB then runs the pattern and the cast once per distinct
    string of a dictionary-encoded column (a Parquet book's), not once per row."""
    value = f"TRY_CAST(regexp_extract({raw}, {sql_string(_PLAIN_DURATION)}, 0) AS INTERVAL)"
    if bounds is None:
        return value
    months = f"(datepart('year', {value}) * 12 + datepart('month', {value}))"
    within = (f"{months} BETWEEN {int(bounds.months.lo)} AND {int(bounds.months.hi)} AND "
              f"datepart('day', {value}) BETWEEN {int(bounds.days.lo)} "
              f"AND {int(bounds.days.hi)}")
    # × 1 within the bounds, × NULL beyond them.
    return f"{value} * NULLIF(CAST({within} AS INTEGER), 0)"


def plain_number(raw: str, bounds: Bounds) -> str:
    """The cell's value where it is a plain decimal within `bounds` (at most
    `bounds.places` places), in the narrowest DECIMAL that holds them; else NULL."""
    places = bounds.places
    digits = max(_integer_digits(bounds.hi), _integer_digits(-bounds.lo))
    integer = f"[0-9]{{1,{digits}}}" if digits else "0"
    fraction = f"(\\.[0-9]{{1,{places}}})?" if places else ""
    sign = "-?" if bounds.lo < 0 else ""
    sql_type = f"DECIMAL({max(digits, 1) + places},{places})"
    value = f"CAST({raw} AS {sql_type})"
    taken = _matches(raw, sign + integer + fraction)
    reach = Decimal(10) ** digits - Decimal(1).scaleb(-places)
    if (-reach if sign else Decimal(0)) < bounds.lo or reach > bounds.hi:
        # The pattern takes values beyond the bounds: they must not reach the query.
        taken += (f" AND {value} BETWEEN {_literal(bounds.lo, sql_type)} "
                  f"AND {_literal(bounds.hi, sql_type)}")
    return f"CASE WHEN {taken} THEN {value} END"


def _integer_digits(value: Decimal) -> int:
    return len(str(int(value))) if value >= 1 else 0


def _literal(value: Decimal, sql_type: str) -> str:
    return f"CAST({sql_string(format_decimal(value))} AS {sql_type})"
