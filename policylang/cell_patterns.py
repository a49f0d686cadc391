"""The strict literal patterns that read a book's text cell as its typed value in SQL, for
every engine that scores books: DuckDB (book_cells.py) and Spark (spark_cells.py).

Owns the forms themselves, once for both dialects: which strings a pattern takes (`375000.50`,
`500万`, `1.5亿元`, `3.45%`, `150bp`, a plain fraction within ±1, `2021-02-24`, an enum member
or `enum.member`, `true`/`false`, a number before a duration unit) and the exact value each
gives. What every pattern takes is a subset of what the case reader (`cases.convert`) takes,
with the very value it gives; a cell no pattern takes is NULL, and the engine hands its text
to the case reader. A `Dialect` supplies only what its SQL writes differently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import assert_never

from policylang import ir
from policylang.literals import DURATION_UNITS, MONEY_UNITS


@dataclass(frozen=True)
class Dialect:
    """The few things the patterns' SQL writes differently on each engine."""

    string: Callable[[str], str]
    """A Python string as a SQL string literal."""
    matches: Callable[[str, str], str]
    """A SQL test that the whole of a SQL text matches a regular expression (unanchored)."""
    cut: Callable[[str, int], str]
    """A SQL text without its last n characters."""
    point: str
    """A literal `.` in a regular expression, as the dialect's string literal carries it."""


def plain_branch(text: str, kind: ir.Kind, dialect: Dialect) -> str:
    """The WHEN taking a plain decimal `text` as is: any for money and numbers, a fraction
    within ±1 for a percent (beyond, the case reader refuses it: `4.35` would be 435%)."""
    if kind is ir.Kind.PERCENT:
        fraction = f"-?[01]({dialect.point}[0-9]{{1,10}})?"
        return (f"WHEN {dialect.matches(text, fraction)} AND abs(CAST({text} AS "
                f"DECIMAL(11,10))) <= 1 THEN CAST({text} AS DECIMAL(38,10))")
    # A plain decimal the case reader takes as is.
    plain = f"-?[0-9]{{1,15}}({dialect.point}[0-9]{{1,10}})?"
    return f"WHEN {dialect.matches(text, plain)} THEN CAST({text} AS DECIMAL(38,10))"


def date_branch(text: str, dialect: Dialect) -> str:
    """The WHEN taking an ISO date `text` (a day that does not exist is NULL)."""
    return (f"WHEN {dialect.matches(text, '[0-9]{4}-[0-9]{2}-[0-9]{2}')} "
            f"THEN TRY_CAST({text} AS DATE)")


@dataclass(frozen=True)
class DurationForm:
    """A number of `unit`s (`pattern` takes the whole text): `factor` months or days."""

    unit: str
    pattern: str
    family: str  # "month" or "day"
    factor: int


def duration_forms() -> list[DurationForm]:
    """Every duration unit's form, the longest unit first (`months` before `month`); the
    patterns exclude each other, so their order changes no value."""
    forms = []
    for unit, (family, factor) in sorted(DURATION_UNITS.items(), key=lambda item: -len(item[0])):
        # An English unit may stand after a space (`2 years`), a CJK one may not.
        spacing = " ?" if unit.isascii() else ""
        forms.append(DurationForm(unit, "-?[0-9]{1,6}" + spacing + unit, family, factor))
    return forms


def text_forms(raw: str, f: ir.Field, policy: ir.Policy, dialect: Dialect) -> str:
    """Every form a pattern takes of the cell `raw` (SQL) of any input but a duration
    (`duration_forms`): a bool as it stands, as case JSON takes it, any other trimmed;
    NULL for any other text."""
    text = f"trim({raw})"

    def scaled(suffix: str, digits: int, places: int, shift: int) -> str:
        """`<digits>.<places><suffix>` times 10^-shift, exact: the digit counts keep every
        value below 10^15 and within 10 decimal places, as the case reader requires."""
        pattern = f"-?[0-9]{{1,{digits}}}({dialect.point}[0-9]{{1,{places}}})?{suffix}"
        cut = dialect.cut(text, len(suffix)) if suffix else text
        # Widths 28 + 10 = 38 keep DuckDB's product in 128-bit integers (narrower operands
        # are multiplied in 64 bits and overflow).
        mantissa = f"CAST({cut} AS DECIMAL(28,{places}))"
        factor = f"CAST({Decimal(1).scaleb(-shift):f} AS DECIMAL(10,{max(shift, 0)}))"
        return (f"WHEN {dialect.matches(text, pattern)} "
                f"THEN CAST({mantissa} * {factor} AS DECIMAL(38,10))")

    # The patterns of each kind exclude each other (each ends its own way), so their order
    # changes no value; the plain form goes first as the most common.
    kind = f.type.kind
    match kind:
        case ir.Kind.MONEY:
            branches = [scaled(unit, 15 - shift, 10, -shift) for unit, shift in
                        sorted(MONEY_UNITS.items(), key=lambda item: -len(item[0]))]
            return f"CASE {scaled('', 15, 10, 0)} " + " ".join(branches) + " END"
        case ir.Kind.PERCENT:
            return (f"CASE {plain_branch(text, ir.Kind.PERCENT, dialect)} "
                    f"{scaled('%', 15, 8, 2)} {scaled('bp', 15, 6, 4)} END")
        case ir.Kind.NUMBER:
            return f"CASE {scaled('', 15, 10, 0)} END"
        case ir.Kind.DATE:
            return f"CASE {date_branch(text, dialect)} END"
        case ir.Kind.ENUM:
            enum = policy.enum(f.type.enum)
            branches = [f"WHEN {dialect.string(spelling)} THEN {dialect.string(member.name)}"
                        for member in enum.members
                        for spelling in (member.name, f"{enum.name}.{member.name}")]
            return f"CASE {text} " + " ".join(branches) + " END"
        case ir.Kind.BOOL:
            return f"CASE {raw} WHEN 'true' THEN true WHEN 'false' THEN false END"
        case ir.Kind.DURATION | ir.Kind.ERROR:
            raise AssertionError(f"{kind} cells are read by duration_forms "
                                 "(a checked policy has no ERROR input)")
        case _:
            assert_never(kind)
