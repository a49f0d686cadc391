"""The abstract syntax tree: what the parser hands to the checker and the formatter.

Frozen dataclasses, one per construct, each with the `Span` of source it came from.
Literals keep their source text so the formatter can reproduce them as written.
Nothing here knows about types; that is the checker's job.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal


@dataclass(frozen=True, slots=True)
class Span:
    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Text:
    """A quoted text (title, citation, message), already unescaped."""

    value: str
    span: Span


@dataclass(frozen=True, slots=True)
class Comment:
    text: str  # including the leading '#'
    span: Span


# ── expressions ────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class MoneyLit:
    value: Decimal  # in yuan
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class PercentLit:
    value: Decimal  # as a fraction: 2.5% is 0.025
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class NumberLit:
    value: Decimal
    text: str
    span: Span


DurationUnit = Literal["month", "day"]


@dataclass(frozen=True, slots=True)
class DurationLit:
    amount: int  # in months (years are converted) or days
    unit: DurationUnit
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class DateLit:
    value: datetime.date
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class BoolLit:
    value: bool
    span: Span


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class Member:
    """`base.member`: an enum member or an allocation's part."""

    base: str
    member: str
    span: Span
    member_span: Span


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple[Expr, ...]
    span: Span
    where: Expr | None = None  # only in a portfolio aggregate: `sum(x where c)`


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Expr
    span: Span


BinaryOp = Literal["+", "-", "*", "/"]
CompareOp = Literal["==", "!=", "<", "<=", ">", ">="]


@dataclass(frozen=True, slots=True)
class Binary:
    op: BinaryOp
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Compare:
    op: CompareOp
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class And:
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Or:
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class InSet:
    operand: Expr
    items: tuple[Expr, ...]
    negated: bool
    span: Span


@dataclass(frozen=True, slots=True)
class If:
    cond: Expr
    then: Expr
    otherwise: Expr
    span: Span


Expr = (
    MoneyLit
    | PercentLit
    | NumberLit
    | DurationLit
    | DateLit
    | BoolLit
    | Name
    | Member
    | Call
    | Neg
    | Binary
    | Compare
    | And
    | Or
    | Not
    | InSet
    | If
)

# ── declarations ───────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class TypeRef:
    name: str  # money, percent, number, duration, date, bool, or an enum's name
    span: Span


@dataclass(frozen=True, slots=True)
class Clauses:
    """The optional `when`, `cite` and `says` of a declaration (each at most once)."""

    when: Expr | None = None
    cite: Text | None = None
    says: Text | None = None


MetaKey = Literal["issuer", "document", "region", "version", "effective", "supersedes"]


@dataclass(frozen=True, slots=True)
class Meta:
    key: MetaKey
    value: str  # the text, the ISO date, or the superseded policy's name
    span: Span
    value_span: Span


@dataclass(frozen=True, slots=True)
class EnumMember:
    name: str
    label: Text | None
    span: Span


@dataclass(frozen=True, slots=True)
class EnumDecl:
    name: str
    members: tuple[EnumMember, ...]
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True)
class Field:
    """An input field or a param: `name: type [= default] ["description"]`."""

    name: str
    type: TypeRef
    default: Expr | None
    description: Text | None
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True)
class InputBlock:
    fields: tuple[Field, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class ParamDecl:
    field: Field
    span: Span


@dataclass(frozen=True, slots=True)
class LetDecl:
    name: str
    type: TypeRef | None
    expr: Expr
    clauses: Clauses
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True)
class RuleDecl:
    name: str
    cond: Expr
    clauses: Clauses
    span: Span
    name_span: Span


LimitOp = Literal["<", "<=", ">", ">="]


@dataclass(frozen=True, slots=True)
class LimitDecl:
    name: str
    subject: Expr
    op: LimitOp
    bound: Expr
    clauses: Clauses
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True)
class SharePart:
    party: str
    value: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class SharesDecl:
    name: str
    ratio: bool
    amount: Expr | None
    clauses: Clauses
    parts: tuple[SharePart, ...]
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True)
class TakeStep:
    party: str
    cap: Expr
    clauses: Clauses
    span: Span


@dataclass(frozen=True, slots=True)
class SplitPart:
    party: str
    share: Expr
    cap: Expr | None
    span: Span


@dataclass(frozen=True, slots=True)
class SplitStep:
    parts: tuple[SplitPart, ...]
    clauses: Clauses
    span: Span


@dataclass(frozen=True, slots=True)
class RestStep:
    party: str
    clauses: Clauses
    span: Span


Step = TakeStep | SplitStep | RestStep


@dataclass(frozen=True, slots=True)
class WaterfallDecl:
    name: str
    amount: Expr
    clauses: Clauses
    steps: tuple[Step, ...]
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True)
class Binding:
    name: str
    value: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class ExpectEligible:
    eligible: bool
    span: Span
    case: int | None = None  # in a book test: which case (from 1)


@dataclass(frozen=True, slots=True)
class ExpectOutcome:
    """`expect fails NAME` (passes=False) or `expect passes NAME`."""

    passes: bool
    rule: str
    span: Span
    rule_span: Span
    case: int | None = None


@dataclass(frozen=True, slots=True)
class ExpectExpr:
    expr: Expr
    span: Span
    case: int | None = None


@dataclass(frozen=True, slots=True)
class ExpectMonitor:
    """In a book test: `expect case N trips MONITOR` or `expect case N suspended MONITOR`."""

    state: Literal["trips", "suspended"]
    monitor: str
    case: int
    span: Span
    monitor_span: Span


Expectation = ExpectEligible | ExpectOutcome | ExpectExpr | ExpectMonitor


@dataclass(frozen=True, slots=True)
class TestDecl:
    name: Text
    given: tuple[Binding, ...]
    params: tuple[Binding, ...] | None
    expectations: tuple[Expectation, ...]
    span: Span
    book: tuple[tuple[Binding, ...], ...] | None = None  # a book test's cases, in order
    # Where `given {…}` (each book case's, in order), `params {…}` and `book {…}` stand:
    # the formatter keeps comments on their lines.
    given_spans: tuple[Span, ...] = ()
    params_span: Span | None = None
    book_span: Span | None = None


@dataclass(frozen=True, slots=True)
class BookRuleDecl:
    """A rule over a book: `monitor`, `budget` or book-level `limit` (see ir.BookRule)."""

    kind: Literal["monitor", "budget", "limit"]
    name: str
    per: tuple[Expr, ...]
    value: Expr
    op: LimitOp
    bound: Expr
    clauses: Clauses
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True)
class PortfolioDecl:
    order_by: str | None  # None: the one date input the rules group by (the checker finds it)
    rules: tuple[BookRuleDecl, ...]
    span: Span
    order_span: Span  # the ordering field's name, or the `portfolio` keyword without one


Decl = (
    Meta
    | EnumDecl
    | InputBlock
    | ParamDecl
    | LetDecl
    | RuleDecl
    | LimitDecl
    | SharesDecl
    | WaterfallDecl
    | PortfolioDecl
    | TestDecl
)


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    title: Text
    items: tuple[Decl, ...]
    comments: tuple[Comment, ...]
    span: Span
    name_span: Span
