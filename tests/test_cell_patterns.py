"""The strict literal patterns shared by the engines that read books (policylang/cell_patterns.py).

Their values are checked against the case reader on DuckDB (tests/test_book_cells.py) and on
Spark (tests/test_spark.py); here, what holds for every dialect: the patterns of a kind
exclude each other (so the order of a CASE's branches changes no value), and all the SQL
that differs between dialects comes from the dialect's hooks.
"""

from __future__ import annotations

import re

import pytest

from policylang import ir
from policylang.cell_patterns import (
    Dialect,
    date_branch,
    duration_forms,
    plain_branch,
    text_forms,
)
from policylang.literals import MONEY_UNITS
from tests.test_book_cells import FIELDS, POLICY  # a policy with an input of each kind

# Hooks that write what they were given plainly, so a test sees where each one is used.
MARKED = Dialect(string=lambda text: f"STR<{text}>",
                 matches=lambda text, pattern: f"MATCH<{text}, {pattern}>",
                 cut=lambda text, n: f"CUT<{text}, {n}>", point="<.>")


def _patterns(kind_field: str) -> list[str]:
    """The regular expressions (Python's spelling) of every branch `text_forms` writes."""
    patterns: list[str] = []

    def record(text: str, pattern: str) -> str:
        patterns.append(pattern)
        return "TRUE"

    text_forms("t", FIELDS[kind_field], POLICY,
               Dialect(string=repr, matches=record, cut=lambda text, n: text, point=r"\."))
    return patterns


NUMBERS = ["0", "1", "-1", "0.5", "1.0000000000", "12345", "123456789012345", "1.5", "-0.25"]
SUFFIXES = ["", *MONEY_UNITS, "%", "bp", " ", "x", "万万", "元元", "%%"]
TEXTS = [number + suffix for number in NUMBERS for suffix in SUFFIXES]


@pytest.mark.parametrize("name", ["amount", "rate", "count"])
def test_the_patterns_of_a_kind_exclude_each_other(name: str) -> None:
    patterns = _patterns(name)
    taken = 0
    for text in TEXTS:
        matching = [p for p in patterns if re.fullmatch(p, text)]
        assert len(matching) <= 1, (text, matching)
        taken += bool(matching)
    assert taken >= len(NUMBERS)  # at least the plain numbers (fractions, for a percent)


def test_the_duration_patterns_exclude_each_other() -> None:
    forms = duration_forms()
    texts = [number + space + form.unit for number in ("0", "12", "-3", "999999")
             for space in ("", " ") for form in forms]
    for text in texts:
        matching = [form.unit for form in forms if re.fullmatch(form.pattern, text)]
        assert len(matching) <= 1, (text, matching)
    assert [form.unit for form in forms if re.fullmatch(form.pattern, "2 years")] == ["years"]
    assert not any(re.fullmatch(form.pattern, "3 年") for form in forms)  # CJK: no space


def test_all_sql_a_dialect_writes_differently_comes_from_its_hooks() -> None:
    assert text_forms("t", FIELDS["count"], POLICY, MARKED) == (
        "CASE WHEN MATCH<trim(t), -?[0-9]{1,15}(<.>[0-9]{1,10})?> THEN CAST(CAST(trim(t) "
        "AS DECIMAL(28,10)) * CAST(1 AS DECIMAL(10,0)) AS DECIMAL(38,10)) END")
    money = text_forms("t", FIELDS["amount"], POLICY, MARKED)
    assert ("WHEN MATCH<trim(t), -?[0-9]{1,11}(<.>[0-9]{1,10})?万元> THEN CAST(CAST("
            "CUT<trim(t), 2> AS DECIMAL(28,10)) * CAST(10000 AS DECIMAL(10,0)) AS "
            "DECIMAL(38,10))") in money
    enum = text_forms("t", FIELDS["borrower"], POLICY, MARKED)
    assert "WHEN STR<kind.individual> THEN STR<individual>" in enum
    written = [money, enum, text_forms("t", FIELDS["rate"], POLICY, MARKED),
               text_forms("t", FIELDS["start"], POLICY, MARKED), date_branch("t", MARKED),
               plain_branch("t", ir.Kind.MONEY, MARKED)]
    for sql in written:
        for dialect_only in ("'", "\\", "[.]", "regexp", "RLIKE", "substring", "[1:"):
            assert dialect_only not in sql, (dialect_only, sql)


def test_a_bool_is_taken_as_it_stands_as_case_json_takes_it() -> None:
    assert text_forms("t", FIELDS["flag"], POLICY, MARKED) == \
        "CASE t WHEN 'true' THEN true WHEN 'false' THEN false END"

