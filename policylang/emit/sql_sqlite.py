"""SQLite: the SQL backend's query over exact decimal functions registered on the connection.

SQLite has no DECIMAL type and no integer wider than 64 bits, and policylang's values do
not fit in 64 bits once scaled (an input below 10^15 with 10 places is 25 digits). So the
query keeps the SQL backend's shape (layered CTEs, guards as CASE, the largest-remainder
rounding written in SQL) and every arithmetic operator, numeric cast and comparison calls
an application-defined function (`PL_ADD`, `PL_MUL`, `PL_CMP`, …) that computes exactly on
decimal text (`register(connection)` defines them; the emitted text says so in its header).
Values in the `cases` table: numbers as decimal text (or INTEGER), dates as ISO text, bools
as 0/1, enums as text, durations as `P<months>M<days>D` (`CELL_FORMS`).

A Python function's exception reaches sqlite3's caller only as "user-defined function
raised exception", so the query reads each numeric input through `PL_CELL_ERROR` first and
raises E603 itself, naming the column and the value, for a cell the case reader would
refuse (`5E+6`, `1,000`, a binary floating-point REAL); surrounding blanks are read as the
case reader and DuckDB's cast read them. A bool cell other than 1 or 0 (the text 'true',
which SQLite would read as false) is E603 the same way (`PL_BOOL_CELL_ERROR`).
"""

from __future__ import annotations

import datetime
import json
import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from sqlglot import exp

from policylang import ir
from policylang.cases import scale_problem
from policylang.emit.sql import NUMERIC, PREFIX, QueryBuilder, case, fail, number
from policylang.emit.sql_dialects import (
    SqlDialect,
    bottom_up,
    errors_as_conditions,
    portfolio_refusals,
)
from policylang.emit.sql_dialects import register as register_dialect
from policylang.emit.sql_tree import MONEY_OUT
from policylang.literals import shorten
from policylang.values import EXACT, MAGNITUDE_LIMIT, format_decimal

ROWID = "__pl_rowid"  # the first layer's copy of each `cases` row's rowid
HEADER = ("-- SQLite: arithmetic and comparisons call policylang's exact decimal functions\n"
          "-- (PL_ADD, PL_MUL, PL_CMP, ...); define them on the connection first with\n"
          "-- policylang.emit.sql_sqlite.register(connection).\n")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")  # ASCII: Python's \d takes '１２' and '٣'
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DURATION = re.compile(r"P(-?\d+)M(-?\d+)D")
_OPERATORS = {exp.Add: "PL_ADD", exp.Sub: "PL_SUB", exp.Mul: "PL_MUL", exp.Mod: "PL_MOD",
              exp.IntDiv: "PL_IDIV"}
_COMPARISONS = {exp.EQ: exp.EQ, exp.NEQ: exp.NEQ, exp.LT: exp.LT, exp.LTE: exp.LTE,
                exp.GT: exp.GT, exp.GTE: exp.GTE}
_FUNCTIONS = {"ROUND": "PL_ROUND", "TRUNC": "PL_TRUNC", "ABS": "PL_ABS", "SIGN": "PL_SIGN",
              "LEAST": "PL_LEAST", "GREATEST": "PL_GREATEST", "DATEPART": "PL_DATEPART",
              "TO_DAYS": "PL_TO_DAYS", "TO_MONTHS": "PL_TO_MONTHS", "YEAR": "PL_YEAR",
              "MONTH": "PL_MONTH"}
_PASSED_THROUGH = {"DATE", "BOOLEAN", "VARCHAR", "TEXT", "INTERVAL"}
MONEY_OUT_LIMIT = Decimal(10) ** 16  # DECIMAL(18,2)


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


class SqliteBuilder(QueryBuilder):
    """The DuckDB builder's query with every numeric operation sent to the PL_ functions."""

    star_except = False

    def build(self) -> exp.Select:
        tree = self.finish(super().build())
        if self.carry_inputs:  # `row_back`'s join, after `finish`: a plain rowid equality
            on = exp.EQ(this=exp.column("rowid", table="cases"),
                        expression=exp.column(ROWID, table=f"{PREFIX}checks", quoted=True))
            tree = tree.join("cases", on=on, copy=False)
        return tree

    def _input(self, f: ir.Field) -> exp.Expression:
        """A numeric input as the DuckDB query reads it (PL_NUM, after `finish`), behind a
        check that raises E603 naming the column and the cell where the cell is no number:
        PL_NUM's own exception would reach the caller without a word of why. A bool input
        behind a check that it is 1 or 0."""
        read = super()._input(f)
        if f.type.numeric:
            raw, check = read.this, "PL_CELL_ERROR"  # the cell, or COALESCE(cell, default)
        elif f.type.kind is ir.Kind.BOOL:
            # SQLite reads any text as false where a bool is expected: 'true' would be false
            raw, check = read, "PL_BOOL_CELL_ERROR"
        else:
            return read
        why = _call(check, raw.copy())
        message = exp.DPipe(this=exp.Literal.string(f"E603: cases column `{f.name}`: "),
                            expression=why.copy())
        return case((exp.Not(this=exp.Is(this=why, expression=exp.null())),
                     _call("ERROR", message)), otherwise=read)

    # Division and round() as single exact calls: DuckDB's integer long division, nested,
    # is deeper than SQLite's parser stack allows.
    @staticmethod
    def _div(a: exp.Expression, b: exp.Expression) -> exp.Expression:
        return case((exp.EQ(this=exp.cast(b, NUMERIC), expression=number(0)),
                     fail("E610", "division by zero")), otherwise=_call("PL_DIV", a, b))

    def visit_Call(self, e: ir.Call) -> exp.Expression:
        if e.func != "round":
            return super().visit_Call(e)
        x, step = (self.expr(a) for a in e.args)
        return case((exp.LTE(this=exp.cast(step, NUMERIC), expression=number(0)),
                     fail("E611", "round() needs a positive step")),
                    otherwise=_call("PL_ROUND_STEP", x, step))

    @staticmethod
    def finish(tree: exp.Expression) -> exp.Expression:
        return _materialized(errors_as_conditions(bottom_up(tree, _sqlite_node), "sqlite"))

    # SQLite has no `* EXCEPT` and no row values: the outputs join back to the `cases` row
    # they were computed from by its rowid, so `cases.*` gives back every column of it. A
    # view has no rowid (NULL), which would lose every row in the join: E608 says so.
    def row_handle(self) -> exp.Expression:
        rowid = exp.column("rowid")
        return exp.alias_(case((exp.Is(this=rowid.copy(), expression=exp.null()),
                                fail("E608", "cases has no rowid: the SQLite query joins "
                                     "its outputs back to each row of cases by rowid, so "
                                     "cases must be a table, not a view")),
                               otherwise=rowid), ROWID, quoted=True)

    def row_back(self, source: str | exp.Expression, eligible: exp.Expression,
                 ctes: list[tuple[str, exp.Select]]) -> exp.Select:
        assert isinstance(source, str)  # a query for reading: every layer is a CTE

        def out(name: str) -> exp.Column:
            return exp.column(name, table=source, quoted=True)

        qualified = eligible.transform(
            lambda node: out(node.name) if isinstance(node, exp.Column) else node)
        final = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("cases")),
                           *[exp.alias_(out(name), name, quoted=True) for name in self.reported],
                           exp.alias_(qualified, "eligible", quoted=True)).from_(source)
        return self._with(final, ctes)

    @staticmethod
    def report(value: exp.Expression, type_: ir.Type) -> exp.Expression:
        """Money to the fen, half-up, as DuckDB's DECIMAL(18,2) column: a cast here would
        only make canonical text, and a query run by hand returned 6172.83945."""
        if type_.kind is ir.Kind.MONEY:
            return _call("PL_MONEY", value)
        return value


def _materialized(tree: exp.Expression) -> exp.Expression:
    """Every layer `AS MATERIALIZED`: SQLite otherwise flattens a CTE into the query that
    reads it and computes each column again wherever a later layer names it, so a let read
    by five columns of the next layer ran its exact-decimal functions five times, and the
    calls grew with the depth (重庆: 811,240 calls for 200 cases, 47,067 materialized;
    16× the time)."""
    for cte in tree.find_all(exp.CTE):
        cte.set("materialized", True)
    return tree


def _sqlite_node(node: exp.Expression) -> exp.Expression:
    # A type's own numbers (the 18 and 2 of DECIMAL(18,2)) stay numbers: the cast test
    # below reads them, and a part then reached PL_MONEY (SQLite reported parts of 10^16).
    if isinstance(node, exp.Literal) and not node.is_string and not isinstance(
            node.parent, exp.DataTypeParam):
        return exp.Literal.string(node.this)  # SQLite would read 0.01 as binary floating point
    if isinstance(node, exp.Interval):
        months = node.unit.name.upper().startswith("MONTH")
        amount = int(node.this.name)
        return exp.Literal.string(duration_text(amount if months else 0,
                                                0 if months else amount))
    if isinstance(node, exp.Paren) and not isinstance(node.this, (exp.Binary, exp.Not,
                                                                  exp.Neg)):
        return node.this  # SQLite's parser has a small stack: no needless nesting
    if isinstance(node, exp.Cast):
        if node.to == MONEY_OUT:  # an allocation part as reported: DECIMAL(18,2)'s range
            return _call("PL_MONEY", node.this)
        if node.to.this.name in _PASSED_THROUGH or _canonical(node.this):
            return node.this
        return _call("PL_NUM", node.this)
    for operator, name in _OPERATORS.items():
        if type(node) is operator:
            return _call(name, node.this, node.expression)
    if isinstance(node, exp.Neg):
        return _call("PL_NEG", node.this)
    for comparison in _COMPARISONS:
        if type(node) is comparison:
            return comparison(this=_call("PL_CMP", node.this, node.expression),
                              expression=exp.Literal.number(0))
    if isinstance(node, exp.Anonymous) and str(node.this).upper() in _FUNCTIONS:
        return _call(_FUNCTIONS[str(node.this).upper()], *node.expressions)
    return node


def _canonical(node: exp.Expression) -> bool:
    """Whether a rewritten node already yields canonical decimal text (a PL_ function's
    result, or a literal written canonically), so a numeric cast of it adds nothing."""
    if isinstance(node, exp.Anonymous):
        return str(node.this).upper().startswith("PL_") and str(node.this).upper() not in (
            "PL_CMP", "PL_LEAST", "PL_GREATEST")
    if isinstance(node, exp.Literal) and node.is_string and _NUMBER.fullmatch(node.this):
        return format_decimal(Decimal(node.this)) == node.this
    return False


def duration_text(months: int, days: int) -> str:
    return f"P{months}M{days}D"


# ── the functions the query calls ───────────────────────────────────────────


def _value(x: object) -> object:
    """A cell as a Python value: Decimal, date, (months, days) or text."""
    if x is None or isinstance(x, Decimal):
        return x
    if isinstance(x, int):
        return Decimal(x)
    if isinstance(x, str):
        if _NUMBER.fullmatch(x):
            return Decimal(x)
        if _DATE.fullmatch(x):
            return datetime.date.fromisoformat(x)
        found = _DURATION.fullmatch(x)
        if found:
            return (int(found.group(1)), int(found.group(2)))
        return x
    raise TypeError(f"SQLite value {x!r} is not exact: binary floating point never enters")


def _out(x: object) -> object:
    if isinstance(x, Decimal):
        return format_decimal(x)
    if isinstance(x, datetime.date):
        return x.isoformat()
    if isinstance(x, tuple):
        return duration_text(*x)
    return x


def _nulls(function):
    def wrapped(*args):
        values = [_value(a) for a in args]
        if any(v is None for v in values):
            return None
        return _out(function(*values))

    return wrapped


def _add_months(date: datetime.date, months: int) -> datetime.date:
    import calendar

    count = date.year * 12 + date.month - 1 + months
    year, month = divmod(count, 12)
    return datetime.date(year, month + 1, min(date.day, calendar.monthrange(year,
                                                                              month + 1)[1]))


def _moved(date: datetime.date, span: tuple[int, int], sign: int) -> datetime.date:
    months, days = span
    try:
        return _add_months(date, sign * months) + datetime.timedelta(days=sign * days)
    except OverflowError:  # sqlite3 would report it as "string or blob too big"
        raise ValueError("a date outside the calendar") from None


def _add(a, b):
    if isinstance(a, datetime.date):
        return _moved(a, b, 1)
    if isinstance(b, datetime.date):
        return _moved(b, a, 1)
    if isinstance(a, tuple):
        return (a[0] + b[0], a[1] + b[1])
    return EXACT.add(a, b)


def _sub(a, b):
    if isinstance(a, datetime.date):
        return Decimal((a - b).days) if isinstance(b, datetime.date) else _moved(a, b, -1)
    if isinstance(a, tuple):
        return (a[0] - b[0], a[1] - b[1])
    return EXACT.subtract(a, b)


def _key(x):
    return (x[0] * 30 + x[1]) if isinstance(x, tuple) else x


def _cmp(a, b) -> int:
    a, b = _key(a), _key(b)
    return (a > b) - (a < b)  # an INTEGER: SQLite orders any text above any number


def _idiv(a, b):
    quotient = EXACT.divide_int(a, b)
    return quotient


def _exact_div(a, b):
    """a / b half away from zero to 10 places, on integers (as the DuckDB query)."""
    scaled_a, scaled_b = int(a.scaleb(10)), int(b.scaleb(10))
    quotient, remainder = divmod(abs(scaled_a) * 10**10, abs(scaled_b))
    quotient += 2 * remainder >= abs(scaled_b)
    sign = -1 if (scaled_a < 0) != (scaled_b < 0) else 1
    return _in_range(Decimal(sign * quotient).scaleb(-10))


def _in_range(x: Decimal) -> Decimal:
    """A quotient or a rounded value of 10^18 or more is out of range (E611), as in the
    interpreter (it was returned, and `m / 1bp` of a 10^15元 loan decided a case)."""
    if abs(x) >= MAGNITUDE_LIMIT:
        raise ArithmeticError("value out of range")
    return x


def _round_step(x, step):
    count, remainder = divmod(abs(x), step)
    count += 2 * remainder >= step
    return _in_range(EXACT.multiply(Decimal(count if x >= 0 else -count), step))


def _round(x, places):
    return x.quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP, context=EXACT)


def _money(x):
    """Money as an output column holds it: to the fen, half-up, below 10^16 yuan (DESIGN
    §5's DECIMAL(18,2), where DuckDB and PostgreSQL raise E611); SQLite's text held any
    amount, so it decided cases they refuse."""
    fen = _round(x, 2)
    if abs(fen) >= MONEY_OUT_LIMIT:
        raise ArithmeticError("value out of range")
    return fen


def _mul(a, b):
    """The exact product; one of 10^18 or more is out of range (E611), as DuckDB's
    DECIMAL product overflows (every `*` of the query is a policy's, or a small count)."""
    product = EXACT.multiply(a, b)
    if abs(product) >= MAGNITUDE_LIMIT:
        raise ArithmeticError("value out of range")
    return product


def _trunc(x, places=0):
    return x.quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_DOWN, context=EXACT)


def _extreme(pick):
    def chosen(*args):
        values = [_value(a) for a in args if a is not None]
        return _out(pick(values, key=_key)) if values else None

    return chosen


def _datepart(part, span):
    months, days = span
    years = abs(months) // 12 * (1 if months >= 0 else -1)
    return Decimal({"year": years, "month": months - 12 * years, "day": days}[str(part)])


def _cell_error(x: object) -> str | None:
    """Why a numeric input's cell cannot be read (None: it can). Text is read as the case
    reader reads a bare number: digits with an optional `-` and decimal point, blanks
    around, at most 10 places, magnitude below 10^15; DuckDB's cast of the same text gives
    the same value (it also takes `5E+6`, `+5` and `1_000`, which the case reader and
    `run --book` refuse, and rounds an 11th place away)."""
    if x is None:
        return None
    if isinstance(x, float):
        return (f"the REAL {x!r} is binary floating point; store numbers as decimal text "
                "(or INTEGER) in a column declared TEXT or with no type, which SQLite keeps "
                "as given")
    if isinstance(x, bytes):
        return f"a BLOB of {len(x)} bytes is not a number; expected decimal text"
    if isinstance(x, int):
        value, shown = Decimal(x), shorten(str(x))
    else:
        text, shown = x.strip(), json.dumps(shorten(x), ensure_ascii=False)
        if not _NUMBER.fullmatch(text):
            return (f"{shown} is not a decimal number: expected digits with an optional "
                    "leading - and decimal point, such as 5000000 or 0.0345 (no exponent, "
                    "+ sign or separators)")
        value = Decimal(text)
    return scale_problem(value, shown)


def _bool_cell_error(x: object) -> str | None:
    """Why a bool input's cell cannot be read (None: it can): SQLite holds a bool as the
    INTEGER 1 or 0, and would read any other value, the text 'true' included, as false."""
    if x is None or (isinstance(x, int) and x in (0, 1)):
        return None
    shown = json.dumps(shorten(x), ensure_ascii=False) if isinstance(x, str) else (
        f"the BLOB of {len(x)} bytes" if isinstance(x, bytes) else shorten(repr(x)))
    return f"{shown} is not a bool: expected the INTEGER 1 (true) or 0 (false)"


def _num(x: object) -> object:
    """PL_NUM: a number's canonical text; an input cell's blanks around it dropped (its
    column was checked by PL_CELL_ERROR first)."""
    return _nulls(lambda v: v)(x.strip() if isinstance(x, str) else x)


FUNCTIONS = {
    "PL_CELL_ERROR": (1, _cell_error),
    "PL_BOOL_CELL_ERROR": (1, _bool_cell_error),
    "PL_NUM": (1, _num),
    "PL_ADD": (2, _nulls(_add)),
    "PL_SUB": (2, _nulls(_sub)),
    "PL_MUL": (2, _nulls(_mul)),
    "PL_MOD": (2, _nulls(lambda a, b: EXACT.remainder(a, b))),
    "PL_IDIV": (2, _nulls(_idiv)),
    "PL_NEG": (1, _nulls(lambda a: (-a[0], -a[1]) if isinstance(a, tuple) else -a)),
    "PL_CMP": (2, _nulls(_cmp)),
    "PL_ROUND": (2, _nulls(_round)),
    "PL_MONEY": (1, _nulls(_money)),
    "PL_DIV": (2, _nulls(_exact_div)),
    "PL_ROUND_STEP": (2, _nulls(_round_step)),
    "PL_TRUNC": (-1, _nulls(_trunc)),  # TRUNC(x) (a duration's scaling) or TRUNC(x, n)
    "PL_ABS": (1, _nulls(abs)),
    "PL_SIGN": (1, _nulls(lambda x: Decimal((x > 0) - (x < 0)))),
    "PL_LEAST": (-1, _extreme(min)),
    "PL_GREATEST": (-1, _extreme(max)),
    "PL_DATEPART": (2, _nulls(_datepart)),
    "PL_TO_DAYS": (1, _nulls(lambda n: (0, int(n)))),
    "PL_TO_MONTHS": (1, _nulls(lambda n: (int(n), 0))),
    "PL_YEAR": (1, _nulls(lambda d: Decimal(d.year))),
    "PL_MONTH": (1, _nulls(lambda d: Decimal(d.month))),
}


def register(connection) -> None:
    """Define the PL_ functions on a sqlite3 connection (all deterministic)."""
    for name, (arity, function) in FUNCTIONS.items():
        connection.create_function(name, arity, function, deterministic=True)


# What `cell` writes, and what a `cases` table of one's own must hold, per input type (the
# README's cases table shows it; tests/test_readme.py keeps the two equal). Columns are
# declared without a type or TEXT: one declared NUMERIC or REAL makes `0.5` a float.
CELL_FORMS = {
    ir.Kind.MONEY: "TEXT decimal (`5000000`, `1234.5`) or INTEGER",
    ir.Kind.PERCENT: "TEXT decimal fraction (`0.0345` for 3.45%) or INTEGER",
    ir.Kind.NUMBER: "TEXT decimal (`1.5`) or INTEGER",
    ir.Kind.DURATION: "TEXT `P<months>M<days>D` (18 months: `P18M0D`)",
    ir.Kind.DATE: "TEXT `YYYY-MM-DD`",
    ir.Kind.BOOL: "INTEGER `1` or `0`",
    ir.Kind.ENUM: "TEXT: the member's name",
}


def cell(value: ir.Value, type_: ir.Type) -> object:
    """A case value as the SQLite `cases` table holds it."""
    match type_.kind:
        case ir.Kind.MONEY | ir.Kind.PERCENT | ir.Kind.NUMBER:
            return format_decimal(value)
        case ir.Kind.DURATION:
            return duration_text(value.amount if value.unit == "month" else 0,
                                 value.amount if value.unit == "day" else 0)
        case ir.Kind.DATE:
            return value.isoformat()
        case ir.Kind.BOOL:
            return 1 if value else 0
        case ir.Kind.ENUM:
            return value
    raise AssertionError(type_)


register_dialect(SqlDialect("sqlite", "sqlite", SqliteBuilder, refuses=portfolio_refusals,
                            header=HEADER, max_columns=2000))  # SQLITE_MAX_COLUMN's default
