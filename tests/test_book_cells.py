"""The SQL that reads a book's cells (policylang/book_cells.py).

A pattern that takes a cell must give the very value the case reader gives the same text;
a plain reading must never let a value outside its bounds (or with more places) through,
and must take the plain cells inside them.
"""

from __future__ import annotations

import re
from decimal import Decimal

import duckdb
import pytest

from policylang import api, ir
from policylang.book_cells import (
    cell_expression,
    loose_duration,
    plain_duration,
    plain_number,
    sql_string,
)
from policylang.cases import convert
from policylang.diagnostics import PolicyError
from policylang.emit.sql_bounds import Bounds, DurationBounds
from policylang.values import Duration

POLICY = api.load_source("""policy cells "cells" {
  enum kind { enterprise "企业"  individual "个体" }
  input {
    borrower: kind
    amount: money
    rate: percent
    count: number
    term: duration
    start: date
    flag: bool
  }
  rule r: amount >= 0元 cite "r"
}
""")
FIELDS = {f.name: f for f in POLICY.inputs}
TEXTS = {
    "amount": ["500万", " 500万 ", "500万元", "1.5亿", "2亿元", "375000.50", "375000.5",
               "-12.34", " 7 ", "7元", "0", "-0", "1e3", "+5", "5.", ".5", "1,000", "(5万)",
               "123456789012345", "1234567890123456", "0.12345678901", "五万"],
    "rate": ["3.45%", "0.0345", "150bp", " 2% ", "-1.5%", "0.123456789%", "1.5bp", "3%%",
             "0.5", "50 %"],
    "count": ["12", "12.5", " 3 ", "1e2", "-4", "12万"],
    "term": ["2 years", "2years", "1 year", "18 months", "1 month", "30 days", "1 day",
             "3年", "6个月", "15天", "10日", " 2 years ", "-3 months", "2 Years",
             "1234567 days", "2 yrs", "3 年"],
    "start": ["2021-02-24", " 2021-02-24 ", "2021-02-30", "2021-2-24", "2021/02/24"],
    "borrower": ["enterprise", " individual", "kind.enterprise", "Enterprise", "企业", ""],
    "flag": ["true", "false", "True", " true", "1", "yes"],
}


@pytest.mark.parametrize("name", list(TEXTS))
def test_a_pattern_gives_the_case_readers_value_or_declines(name: str) -> None:
    f = FIELDS[name]
    expression = cell_expression("cell", f, "VARCHAR", "book.csv", POLICY)
    if f.type.kind is ir.Kind.DURATION:
        # By parts: a timedelta would make a month 30 days.
        expression = (f"CASE WHEN ({expression}) IS NOT NULL THEN [datepart('year', "
                      f"{expression}) * 12 + datepart('month', {expression}), "
                      f"datepart('day', {expression})] END")
    connection = duckdb.connect()
    taken = 0
    for text in TEXTS[name]:
        found = connection.execute(f"SELECT {expression} FROM (SELECT {sql_string(text)} "
                                   "AS cell)").fetchone()[0]
        if found is None:
            continue  # declined: the case reader judges the cell
        taken += 1
        try:
            expected = convert(text, f.type, POLICY, "cell")
        except PolicyError:
            pytest.fail(f"{text!r}: the pattern took what the case reader refuses")
        if isinstance(expected, Duration):
            expected = ([expected.amount, 0] if expected.unit == "month"
                        else [0, expected.amount])
        assert found == expected, text
    assert taken >= len(TEXTS[name]) // 3  # the common forms are taken in SQL


PLAIN = re.compile(r"-?[0-9]+(\.[0-9]+)?")
CANDIDATES = ["0", "-0", "0.5", "0.05", "0.125", "5", "-5", "9.99", "10", "99.9", "99.99",
              "100", "999.99", "1000", "-9.9", "-10", "-99.99", "-100", "007", "0007.5",
              "5.", ".5", "+5", " 5", "5 ", "1e2", "5万", "12.3456", "-0.0001", "0.9999",
              "1.00000", "250", "500.00", "500.01", "499.995"]


@pytest.mark.parametrize("bounds", [
    Bounds(Decimal(0), Decimal("999.99"), 2),
    Bounds(Decimal("-9.9"), Decimal("99.9"), 1),
    Bounds(Decimal(0), Decimal("0.9999"), 4),
    Bounds(Decimal(-99), Decimal(0), 0),
    Bounds(Decimal(0), Decimal(500), 2),  # not a power of ten: the pattern needs a range
    Bounds(Decimal("-0.5"), Decimal("0.5"), 3),
])
def test_a_plain_reading_takes_the_plain_decimals_within_its_bounds_and_nothing_else(
        bounds: Bounds) -> None:
    connection = duckdb.connect()
    expression = plain_number("cell", bounds)
    digits = max(len(str(int(abs(bounds.hi)))) if abs(bounds.hi) >= 1 else 0,
                 len(str(int(abs(bounds.lo)))) if abs(bounds.lo) >= 1 else 0, 1)
    for text in CANDIDATES:
        found = connection.execute(f"SELECT {expression} FROM (SELECT {sql_string(text)} "
                                   "AS cell)").fetchone()[0]
        plain = PLAIN.fullmatch(text) is not None
        value = Decimal(text) if plain else None
        inside = plain and bounds.lo <= value <= bounds.hi and (
            -value.as_tuple().exponent <= bounds.places)
        if found is not None:
            assert inside and found == value, f"{text!r} taken by {bounds}"
        elif inside:
            # Declining a value inside the bounds is allowed only for its spelling: a sign
            # where no value is negative, or more integer digits than the bounds need.
            integer = text.lstrip("-").split(".")[0]
            assert (text.startswith("-") and bounds.lo >= 0) or len(integer) > digits, \
                f"{text!r} declined by {bounds}"


DURATIONS = [pad + sign + number + space + unit + pad
             for sign in ("", "-") for number in ("0", "1", "7", "12", "007", "999999")
             for space in ("", " ") for pad in ("", " ")
             for unit in ("year", "years", "month", "months", "day", "days", "年", "个月",
                          "天", "日")]


def _parts(expression: str) -> str:
    return (f"CASE WHEN ({expression}) IS NOT NULL THEN [datepart('year', {expression}) * 12 "
            f"+ datepart('month', {expression}), datepart('day', {expression})] END")


def _each_text(selected: str) -> list[tuple]:
    """`selected` over a column `cell` holding each of DURATIONS, in their order: one
    statement for all 960 (one each took 20 s)."""
    texts = ", ".join(f"({index}, {sql_string(text)})" for index, text in enumerate(DURATIONS))
    return duckdb.connect().execute(f"SELECT {selected} FROM (VALUES {texts}) "
                                    "AS texts(number, cell) ORDER BY number").fetchall()


def test_the_loose_duration_cast_gives_the_patterns_value_or_nothing() -> None:
    """The plain scan measures durations by DuckDB's INTERVAL cast, and the plain reading
    reads them by it: for every text the patterns take it must give their value (or
    NULL, which sends the book to the patterns); the plain reading takes exactly the
    untrimmed English-unit forms."""
    f = FIELDS["term"]
    strict = _parts(cell_expression("cell", f, "VARCHAR", "book.csv", POLICY))
    loose = _parts(loose_duration("cell"))
    plain = _parts(plain_duration("cell"))
    connection = duckdb.connect()
    taken_loosely = 0
    for text, row in zip(DURATIONS, _each_text(f"{strict}, {loose}, {plain}"), strict=True):
        english = text == text.strip() and text[-1].isascii()
        assert row[2] == (row[0] if english else None), text
        if row[0] is not None and row[1] is not None:
            taken_loosely += 1
            assert row[1] == row[0], text
        if row[0] is not None and text.strip()[-1].isascii():
            assert row[1] is not None, f"{text!r}: an English unit the cast refuses"
    assert taken_loosely >= len(DURATIONS) // 3
    # A line end after the unit, inner spaces, other letters: not plain.
    for text in ("5 months\n", "5  months", "5 Months", "x5 months", "1234567 days"):
        assert connection.execute(f"SELECT {plain_duration(sql_string(text))}").fetchone() \
            == (None,), text


@pytest.mark.parametrize("bounds", [
    DurationBounds(Bounds(Decimal(0), Decimal(99), 0), Bounds(Decimal(0), Decimal(0), 0)),
    DurationBounds(Bounds(Decimal(0), Decimal(0), 0), Bounds(Decimal(-9), Decimal(9), 0)),
    DurationBounds(Bounds(Decimal(-999), Decimal(999), 0), Bounds(Decimal(0), Decimal(99), 0)),
])
def test_a_plain_duration_within_bounds_takes_only_what_they_hold(
        bounds: DurationBounds) -> None:
    """A duration beyond the bounds measured on a book's first rows is refused (the book
    is then measured whole), never read into a query narrowed to them."""
    bounded = _parts(plain_duration("cell", bounds))
    unbounded = _parts(plain_duration("cell"))
    inside_count = 0
    for text, (found, value) in zip(DURATIONS, _each_text(f"{bounded}, {unbounded}"),
                                    strict=True):
        inside = value is not None and (bounds.months.lo <= value[0] <= bounds.months.hi and
                                        bounds.days.lo <= value[1] <= bounds.days.hi)
        inside_count += inside
        assert found == (value if inside else None), text
    assert inside_count > 0
