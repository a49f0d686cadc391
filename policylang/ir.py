"""The typed intermediate representation: what the checker hands to every backend.

Every name is resolved (an input, a param, a let, an allocation's part or an enum
member), every expression carries its `Type`, constants are folded into values, and
`Policy.order` gives an evaluation order of lets and allocations that respects their
dependencies. Backends (interpreter, Python, SQL, diff) read only this module's types.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Literal

from policylang.nodes import Span


class Kind(Enum):
    MONEY = "money"
    PERCENT = "percent"
    NUMBER = "number"
    DURATION = "duration"
    DATE = "date"
    BOOL = "bool"
    ENUM = "enum"
    ERROR = "error"  # checker-internal: an expression already reported; never in a checked IR


@dataclass(frozen=True, slots=True)
class Type:
    kind: Kind
    enum: str | None = None  # the enum's name when kind is ENUM

    def __str__(self) -> str:
        return self.enum if self.kind is Kind.ENUM else self.kind.value

    @property
    def numeric(self) -> bool:
        return self.kind in (Kind.MONEY, Kind.PERCENT, Kind.NUMBER)

    @property
    def ordered(self) -> bool:
        return self.kind in (Kind.MONEY, Kind.PERCENT, Kind.NUMBER, Kind.DURATION, Kind.DATE)


MONEY = Type(Kind.MONEY)
PERCENT = Type(Kind.PERCENT)
NUMBER = Type(Kind.NUMBER)
DURATION = Type(Kind.DURATION)
DATE = Type(Kind.DATE)
BOOL = Type(Kind.BOOL)
BUILTIN_TYPES = {t.kind.value: t for t in (MONEY, PERCENT, NUMBER, DURATION, DATE, BOOL)}


@dataclass(frozen=True, slots=True, order=True)
class Duration:
    """A whole number of months or of days (docs/semantics.md: never both)."""

    amount: int
    unit: Literal["month", "day"]


# The run-time values: Decimal for money (yuan), percent (fraction) and number;
# Duration; date; bool; str for an enum member's name.
Value = Decimal | Duration | datetime.date | bool | str


# ── expressions ────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Const:
    value: Value
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class InputRef:
    name: str
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class ParamRef:
    name: str
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class LetRef:
    name: str
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class PartRef:
    """`allocation.party`: a rounded money part, or a percent for shares without amount."""

    allocation: str
    party: str
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Expr
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class Arith:
    op: Literal["+", "-", "*", "/"]
    left: Expr
    right: Expr
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class Compare:
    op: Literal["==", "!=", "<", "<=", ">", ">="]
    left: Expr
    right: Expr
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class And:
    left: Expr
    right: Expr
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class Or:
    left: Expr
    right: Expr
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class InSet:
    operand: Expr
    items: tuple[Expr, ...]
    negated: bool
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class If:
    cond: Expr
    then: Expr
    otherwise: Expr
    type: Type
    span: Span


Function = Literal["min", "max", "round", "abs", "years", "months", "days", "year", "month"]


@dataclass(frozen=True, slots=True)
class Call:
    func: Function
    args: tuple[Expr, ...]
    type: Type
    span: Span


Expr = (
    Const
    | InputRef
    | ParamRef
    | LetRef
    | PartRef
    | Neg
    | Arith
    | Compare
    | And
    | Or
    | Not
    | InSet
    | If
    | Call
)

# ── declarations ───────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class EnumMember:
    name: str
    label: str | None


@dataclass(frozen=True, slots=True)
class EnumDef:
    name: str
    members: tuple[EnumMember, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Field:
    """An input field or a param."""

    name: str
    type: Type
    default: Value | None
    description: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class Let:
    name: str
    type: Type
    expr: Expr
    cite: str | None
    says: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    cond: Expr
    guard: Expr | None
    cite: str | None
    says: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class Limit:
    name: str
    subject: Expr
    op: Literal["<", "<=", ">", ">="]
    bound: Expr
    guard: Expr | None
    cite: str | None
    says: str | None
    span: Span


Check = Rule | Limit


@dataclass(frozen=True, slots=True)
class SharePart:
    party: str
    weight: Decimal  # a fraction (percent form) or a ratio weight


@dataclass(frozen=True, slots=True)
class Shares:
    name: str
    ratio: bool
    parts: tuple[SharePart, ...]
    amount: Expr | None
    cite: str | None
    says: str | None
    span: Span

    @property
    def total_weight(self) -> Decimal:
        return sum((p.weight for p in self.parts), Decimal(0))

    @property
    def parties(self) -> tuple[str, ...]:
        return tuple(p.party for p in self.parts)


@dataclass(frozen=True, slots=True)
class Take:
    party: str
    cap: Expr
    says: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class SplitPart:
    party: str
    share: Decimal
    cap: Expr | None


@dataclass(frozen=True, slots=True)
class Split:
    parts: tuple[SplitPart, ...]
    says: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class Rest:
    party: str
    says: str | None
    span: Span


Step = Take | Split | Rest

UNALLOCATED = "unallocated"


@dataclass(frozen=True, slots=True)
class Waterfall:
    name: str
    amount: Expr
    steps: tuple[Step, ...]
    cite: str | None
    says: str | None
    span: Span

    @property
    def parties(self) -> tuple[str, ...]:
        """Reported parts in order of first appearance; `unallocated` last without `rest`."""
        seen: dict[str, None] = {}
        for step in self.steps:
            match step:
                case Take(party=party) | Rest(party=party):
                    seen[party] = None
                case Split(parts=parts):
                    for part in parts:
                        seen[part.party] = None
        if not any(isinstance(step, Rest) for step in self.steps):
            seen[UNALLOCATED] = None
        return tuple(seen)


Allocation = Shares | Waterfall


@dataclass(frozen=True, slots=True)
class ExpectEligible:
    eligible: bool
    span: Span
    case: int | None = None  # in a book test: the case (from 1) it is about


@dataclass(frozen=True, slots=True)
class ExpectOutcome:
    passes: bool
    rule: str  # a rule or limit; in a book test without `case`, a book limit
    span: Span
    case: int | None = None


@dataclass(frozen=True, slots=True)
class ExpectExpr:
    expr: Expr
    source: str  # the expectation as written, for failure messages
    span: Span
    case: int | None = None


@dataclass(frozen=True, slots=True)
class ExpectMonitor:
    state: Literal["trips", "suspended"]
    monitor: str
    case: int
    span: Span


Expectation = ExpectEligible | ExpectOutcome | ExpectExpr | ExpectMonitor


@dataclass(frozen=True, slots=True)
class Test:
    name: str
    given: tuple[tuple[str, Value], ...]
    params: tuple[tuple[str, Value], ...]
    expectations: tuple[Expectation, ...]
    span: Span
    book: tuple[tuple[tuple[str, Value], ...], ...] | None = None  # a book test's cases


@dataclass(frozen=True, slots=True)
class Meta:
    issuer: str | None = None
    document: str | None = None
    region: str | None = None
    version: str | None = None
    effective: datetime.date | None = None
    supersedes: str | None = None


# A step of the evaluation order: ("let", name) or ("allocation", name).
OrderItem = tuple[Literal["let", "allocation"], str]


# ── rules over a book of cases ─────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Aggregate:
    """`sum(arg [where cond])` or `count([where cond])` over the cases of a group so far."""

    func: Literal["sum", "count"]
    arg: Expr | None
    where: Expr | None
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class BookArith:
    op: Literal["+", "-", "*", "/"]
    left: BookExpr
    right: BookExpr
    type: Type
    span: Span


BookExpr = Aggregate | BookArith | Const | ParamRef


@dataclass(frozen=True, slots=True)
class BookRule:
    """A rule over a book, evaluated per group (`per` keys) over the cases in order.

    monitor: `value` over the group's cases so far; the case where `value op bound` first
             holds trips it, and the group's later cases are suspended.
    budget:  `value` is `sum(amount [where …])`, `op bound` the cap: each case is paid what
             is left of the cap, in order (the crossing payout truncated, later ones 0).
    limit:   `value op bound` over the whole group (the whole book without `per`).
    """

    kind: Literal["monitor", "budget", "limit"]
    name: str
    per: tuple[Expr, ...]
    value: BookExpr
    op: Literal["<", "<=", ">", ">="]
    bound: BookExpr
    cite: str | None
    says: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class Portfolio:
    order_by: str  # a date input: the book's cases are taken in this order
    rules: tuple[BookRule, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    title: str
    meta: Meta
    enums: tuple[EnumDef, ...]
    inputs: tuple[Field, ...]
    params: tuple[Field, ...]
    lets: tuple[Let, ...]
    checks: tuple[Check, ...]
    allocations: tuple[Allocation, ...]
    tests: tuple[Test, ...]
    order: tuple[OrderItem, ...]
    file: str
    portfolio: Portfolio | None = None
    # Where the name is written, for errors about the policy as a whole (two files of one
    # name); not part of what the policy means.
    name_span: Span | None = dataclasses.field(default=None, compare=False)

    def enum(self, name: str) -> EnumDef:
        return next(e for e in self.enums if e.name == name)

    def let(self, name: str) -> Let:
        return next(x for x in self.lets if x.name == name)

    def allocation(self, name: str) -> Allocation:
        return next(a for a in self.allocations if a.name == name)


def walk(node: object) -> Iterator[object]:
    """`node` and every IR node inside it (through tuples), depth first. Types and spans
    are not nodes: they are neither yielded nor entered."""
    if isinstance(node, tuple):
        for item in node:
            yield from walk(item)
    elif dataclasses.is_dataclass(node) and not isinstance(node, Type | Span):
        yield node
        for field in dataclasses.fields(node):
            yield from walk(getattr(node, field.name))
