"""How a book's columns are read on Spark (policylang/spark_cells.py), without a JVM: the
SQL text each column's type gets, and the columns refused before Spark runs anything.

The values these expressions give are the case reader's: tests/test_spark.py reads books
with them on Spark and compares every decision with the interpreter's and DuckDB's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policylang import api
from policylang.diagnostics import PolicyError
from policylang.spark_cells import fast_expression, sql_string

POLICY = api.load_source('policy p "p" {\n input {\n  amount: money\n  start: date\n }\n'
                         ' rule r: amount >= 0元 cite "r"\n}\n', "p.pol")
AMOUNT, START = POLICY.inputs
BOOK = Path("book.parquet")


@pytest.mark.parametrize(("spark_type", "hint"), [
    ("DoubleType", "exact values need DECIMAL or text columns, never binary floating point"),
    ("FloatType", "exact values need DECIMAL or text columns, never binary floating point"),
    ("TimestampType", "use a text column"),
])
def test_a_column_that_cannot_hold_the_inputs_values_is_refused(spark_type: str,
                                                                 hint: str) -> None:
    with pytest.raises(PolicyError) as raised:
        fast_expression("`amount`", AMOUNT, spark_type, 0, BOOK, POLICY)
    assert raised.value.code == "E608"
    assert raised.value.diagnostics[0].message == (
        f"{BOOK}: column `amount` has type {spark_type}, which cannot hold money values; "
        f"{hint}")


def test_typed_columns_are_taken_as_they_are_within_policylangs_places() -> None:
    assert fast_expression("`start`", START, "DateType", 0, BOOK, POLICY) == "`start`"
    assert "CAST(`amount` AS DECIMAL(38,10))" in fast_expression(
        "`amount`", AMOUNT, "DecimalType", 2, BOOK, POLICY)
    # more places than policylang keeps: every cell goes to the case reader, which refuses
    # the ones that need them
    assert fast_expression("`amount`", AMOUNT, "DecimalType", 12, BOOK, POLICY) == \
        "CAST(NULL AS DECIMAL(38,10))"


def test_spark_string_literals_escape_quotes_and_backslashes() -> None:
    assert sql_string("it's a\\b") == "'it\\'s a\\\\b'"
