"""Hypothesis strategies for random, well-typed *policies* (and cases for them).

`policies()` draws the source text of a small policy from the README's grammar: a few
inputs of each type (money, percent, number, duration, date, bool, one or two enums),
params, one to six lets (lets reading lets and allocation parts, declared in any order),
rules and limits (with and without `when` guards), and optionally a `shares` (percent or
ratio, with or without `of`) and a `waterfall` (take / split with caps / rest). Its
expressions are drawn type by type from the unit algebra (DESIGN.md §3): nested `if`,
`min`/`max`/`round`/`abs`, `*` and `/` chains mixing money, percents and numbers,
duration and date arithmetic, `years()`/`months()`/`days()`/`year()`/`month()`, enums and
`in` sets, negation, comparisons, and literals from tiny (`0.0000000001`) to near the
10^18 limit, in every written form (`500万`, `2.72亿`, `150bp`, `3年`, `15天`, …).

Durations carry a unit *family* while they are drawn (months or days): an expression mixes
the two only now and then (an evaluation error, E611, which every backend must raise too),
so most cases decide. `GeneratedPolicy.units` tells `cases()` which family each duration
input is mostly drawn in.

`cases(policy, units)` draws cases for a checked policy: typical values, values at and one
step either side of every constant of the input's type in the policy (so comparisons meet
their exact boundaries), zeros, negatives, ten decimal places, and magnitudes near the
input limit (10^15).
"""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal

from hypothesis import strategies as st

from policylang import ir
from policylang.values import INPUT_LIMIT

MONEY, PERCENT, NUMBER, DURATION, DATE, BOOL = (
    "money", "percent", "number", "duration", "date", "bool")
NUMERIC = (MONEY, PERCENT, NUMBER)
ORDERED = (MONEY, PERCENT, NUMBER, DURATION, DATE)
PARTIES = ("bank", "fund", "pool", "insurer", "guarantor", "escalated", "city", "province")


@dataclasses.dataclass(frozen=True)
class GeneratedPolicy:
    source: str
    units: dict[str, str]  # duration input → the unit its cases are mostly drawn in

    def __repr__(self) -> str:  # hypothesis prints this on a failure: the text, readable
        return f"GeneratedPolicy(units={self.units!r}, source=\n{self.source})"


# ── literals ────────────────────────────────────────────────────────────────────────────


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


@st.composite
def money_literal(draw, value: bool = False) -> str:
    """A money literal; `value`: one a case could give too (a default: below 10^15)."""
    form = draw(st.sampled_from(["yuan", "yuan", "wan", "wan", "yi", "wanyuan", "fen",
                                 "tiny", "zero"] + ([] if value else ["huge"])))
    match form:
        case "yuan":
            return f"{draw(st.integers(1, 10**6))}元"
        case "wan":
            places = draw(st.integers(0, 2))
            return f"{_plain(Decimal(draw(st.integers(1, 20000))).scaleb(-places))}万"
        case "yi":
            return f"{_plain(Decimal(draw(st.integers(1, 500))).scaleb(-2))}亿"
        case "wanyuan":
            return f"{draw(st.integers(1, 5000))}万元"
        case "fen":
            return f"{_plain(Decimal(draw(st.integers(1, 10**7))).scaleb(-2))}元"
        case "tiny":
            return f"{_plain(Decimal(draw(st.integers(1, 999))).scaleb(-10))}元"
        case "huge":
            return f"{draw(st.integers(1, 9999999999))}亿"
        case _:
            return draw(st.sampled_from(["0元", "0万"]))


@st.composite
def percent_literal(draw) -> str:
    form = draw(st.sampled_from(["pct", "pct", "bp", "fine", "tiny", "big", "zero", "hundred"]))
    match form:
        case "pct":
            return f"{_plain(Decimal(draw(st.integers(1, 3000))).scaleb(-2))}%"
        case "bp":
            return f"{draw(st.integers(1, 500))}bp"
        case "fine":
            return f"{_plain(Decimal(draw(st.integers(1, 10**6))).scaleb(-6))}%"
        case "tiny":
            return f"{_plain(Decimal(draw(st.integers(1, 99))).scaleb(-8))}%"
        case "big":
            return f"{draw(st.integers(101, 100000))}%"
        case "hundred":
            return "100%"
        case _:
            return draw(st.sampled_from(["0%", "0bp"]))


@st.composite
def number_literal(draw, nonzero: bool = False, whole: bool = False) -> str:
    forms = ["int", "int", "small", "dec"] if whole else [
        "int", "int", "small", "dec", "dec", "fine", "tenth", "huge", "zero"]
    form = draw(st.sampled_from([f for f in forms if not (nonzero and f == "zero")]))
    match form:
        case "int":
            return str(draw(st.integers(1, 1000)))
        case "small":
            return str(draw(st.integers(1, 12)))
        case "dec":
            return _plain(Decimal(draw(st.integers(1, 100000))).scaleb(-draw(st.integers(1, 4))))
        case "fine":
            return _plain(Decimal(draw(st.integers(1, 10**6))).scaleb(-10))
        case "tenth":
            return draw(st.sampled_from(["0.1", "0.5", "1.5", "2.5", "0.3", "3"]))
        case "huge":
            return str(draw(st.integers(10**9, 10**15 - 1)))
        case _:
            return "0"


@st.composite
def duration_literal(draw, family: str) -> str:
    if family == "day":
        n = draw(st.one_of(st.integers(0, 60), st.integers(0, 3000)))
        unit = draw(st.sampled_from(["days", "天", "日"] + (["day"] if n == 1 else [])))
        return f"{n} {unit}" if unit.isascii() else f"{n}{unit}"
    if draw(st.booleans()):
        n = draw(st.integers(0, 10))
        unit = draw(st.sampled_from(["years", "年"] + (["year"] if n == 1 else [])))
    else:
        n = draw(st.one_of(st.integers(0, 36), st.integers(0, 2000)))
        unit = draw(st.sampled_from(["months", "个月"] + (["month"] if n == 1 else [])))
    return f"{n} {unit}" if unit.isascii() else f"{n}{unit}"


@st.composite
def date_literal(draw) -> str:
    edge = draw(st.integers(0, 9))
    if edge == 0:
        day = draw(st.sampled_from([datetime.date(2024, 1, 31), datetime.date(2024, 2, 29),
                                    datetime.date(2023, 2, 28), datetime.date(2021, 12, 31),
                                    datetime.date(9999, 12, 31), datetime.date(1, 1, 1),
                                    datetime.date(2000, 3, 31)]))
    else:
        day = draw(st.dates(datetime.date(2000, 1, 1), datetime.date(2035, 12, 31)))
    return day.isoformat()


# ── expressions ─────────────────────────────────────────────────────────────────────────
#
# An expression is drawn as (text, level): the grammar level of its outermost operator, so
# an operand is put in parentheses exactly where the grammar needs them (and, now and
# then, where it does not).

IF, OR, AND, NOT, CMP, SUM, TERM, FACTOR, ATOM = range(9)


class _Gen:
    def __init__(self, draw, max_depth: int):
        self.draw = draw
        self.max_depth = max_depth
        # type name → [(name, family)] of inputs, params, lets and parts to refer to
        self.names: dict[str, list[tuple[str, str | None]]] = {}
        self.enums: dict[str, list[str]] = {}  # enum → members
        self.qualify: dict[str, bool] = {}  # enum → its members must be written qualified

    # helpers
    def pick(self, options):
        return self.draw(st.sampled_from(options))

    def chance(self, p: float) -> bool:
        return self.draw(st.integers(0, 999)) < p * 1000

    def wrap(self, expr: tuple[str, int], level: int) -> str:
        text, own = expr
        if own < level or (own < ATOM and self.chance(0.05)):
            return f"({text})"
        return text

    def refs(self, type_: str, family: str | None = None) -> list[str]:
        found = self.names.get(type_, [])
        if type_ == DURATION and family is not None:
            same = [name for name, fam in found if fam in (family, None)]
            if same and not self.chance(0.05):
                return same
        return [name for name, _ in found]

    def add(self, type_: str, name: str, family: str | None = None) -> None:
        self.names.setdefault(type_, []).append((name, family))

    # leaves
    def leaf(self, type_: str, family: str | None) -> tuple[str, int]:
        refs = self.refs(type_, family)
        if refs and self.chance(0.7):
            return self.pick(refs), ATOM
        match type_:
            case "money":
                return self.draw(money_literal()), ATOM
            case "percent":
                return self.draw(percent_literal()), ATOM
            case "number":
                return self.draw(number_literal()), ATOM
            case "duration":
                fam = family or self.pick(["month", "month", "day"])
                if self.chance(0.03):
                    fam = "day" if fam == "month" else "month"
                return self.draw(duration_literal(fam)), ATOM
            case "date":
                return self.draw(date_literal()), ATOM
            case "bool":
                return self.pick(["true", "false"]), ATOM
        return self.member(type_), ATOM

    def member(self, enum: str) -> str:
        member = self.pick(self.enums[enum])
        if self.qualify[enum] or self.chance(0.3):
            return f"{enum}.{member}"
        return member

    # expressions of a type
    def expr(self, type_: str, depth: int = 0, family: str | None = None) -> tuple[str, int]:
        if depth >= self.max_depth or self.chance(0.3 + 0.15 * depth):
            return self.leaf(type_, family)
        if type_ == DURATION and family is None:
            family = self.pick(["month", "month", "day"])
        choices = getattr(self, f"_{type_}", None)
        if choices is None:  # an enum
            return self._enum(type_, depth)
        return choices(depth, family) if type_ == DURATION else choices(depth)

    def sub(self, type_: str, depth: int, level: int, family: str | None = None) -> str:
        return self.wrap(self.expr(type_, depth + 1, family), level)

    def binary(self, op: str, left: str, right: str, depth: int) -> tuple[str, int]:
        level = SUM if op in "+-" else TERM
        lf = self.expr(left, depth + 1)
        rf = self.expr(right, depth + 1)
        return f"{self.wrap(lf, level)} {op} {self.wrap(rf, level + 1)}", level

    def divisor(self, type_: str, depth: int) -> str:
        """Mostly a divisor that is not zero: a literal, else anything of the type."""
        if self.chance(0.4):
            match type_:
                case "number":
                    return self.draw(number_literal(nonzero=True))
                case "percent":
                    return f"{self.draw(st.integers(1, 5000))}bp"
                case "money":
                    return f"{self.draw(st.integers(1, 5000))}万"
        return self.sub(type_, depth, FACTOR)

    def common(self, type_: str, depth: int, family: str | None = None) -> tuple[str, int]:
        """if / min / max / neg over values of the type."""
        kind = self.pick(["if", "if", "min", "max", "neg"] if type_ != DATE else ["if", "min",
                                                                                 "max"])
        match kind:
            case "if":
                cond = self.expr(BOOL, depth + 1)
                a = self.expr(type_, depth + 1, family)
                b = self.expr(type_, depth + 1, family)
                return f"if {cond[0]} then {a[0]} else {b[0]}", IF
            case "min" | "max":
                args = [self.expr(type_, depth + 1, family)[0]
                        for _ in range(self.draw(st.integers(2, 3)))]
                return f"{kind}({', '.join(args)})", ATOM
            case _:
                return f"-{self.sub(type_, depth, FACTOR, family)}", FACTOR

    def _money(self, depth: int) -> tuple[str, int]:
        kind = self.pick(["+", "-", "*n", "*p", "n*", "p*", "/n", "/p", "common", "common",
                          "round", "abs"])
        match kind:
            case "+" | "-":
                return self.binary(kind, MONEY, MONEY, depth)
            case "*n" | "*p":
                return self.binary("*", MONEY, NUMBER if kind == "*n" else PERCENT, depth)
            case "n*" | "p*":
                return self.binary("*", NUMBER if kind == "n*" else PERCENT, MONEY, depth)
            case "/n" | "/p":
                left = self.sub(MONEY, depth, TERM)
                return f"{left} / {self.divisor(NUMBER if kind == '/n' else PERCENT, depth)}", TERM
            case "round":
                step = self.pick(["1元", "0.01元", "100元", "1万", "0.5元", "10元"]) \
                    if not self.chance(0.1) else self.sub(MONEY, depth, IF)
                return f"round({self.expr(MONEY, depth + 1)[0]}, {step})", ATOM
            case "abs":
                return f"abs({self.expr(MONEY, depth + 1)[0]})", ATOM
        return self.common(MONEY, depth)

    def _percent(self, depth: int) -> tuple[str, int]:
        kind = self.pick(["+", "-", "*n", "n*", "*p", "/n", "m/m", "common", "common", "round",
                          "abs"])
        match kind:
            case "+" | "-":
                return self.binary(kind, PERCENT, PERCENT, depth)
            case "*n":
                return self.binary("*", PERCENT, NUMBER, depth)
            case "n*":
                return self.binary("*", NUMBER, PERCENT, depth)
            case "*p":
                return self.binary("*", PERCENT, PERCENT, depth)
            case "/n":
                return f"{self.sub(PERCENT, depth, TERM)} / {self.divisor(NUMBER, depth)}", TERM
            case "m/m":
                return f"{self.sub(MONEY, depth, TERM)} / {self.divisor(MONEY, depth)}", TERM
            case "round":
                step = self.pick(["0.01%", "1bp", "0.5%", "1%", "0.0001%"])
                return f"round({self.expr(PERCENT, depth + 1)[0]}, {step})", ATOM
            case "abs":
                return f"abs({self.expr(PERCENT, depth + 1)[0]})", ATOM
        return self.common(PERCENT, depth)

    def _number(self, depth: int) -> tuple[str, int]:
        kind = self.pick(["+", "-", "*", "/", "p/p", "years", "months", "days", "year",
                          "month", "common", "common", "round", "abs"])
        match kind:
            case "+" | "-" | "*":
                return self.binary(kind, NUMBER, NUMBER, depth)
            case "/":
                return f"{self.sub(NUMBER, depth, TERM)} / {self.divisor(NUMBER, depth)}", TERM
            case "p/p":
                return f"{self.sub(PERCENT, depth, TERM)} / {self.divisor(PERCENT, depth)}", TERM
            case "years" | "months" | "days":
                family = "day" if kind == "days" else "month"
                if self.chance(0.05):
                    family = "month" if family == "day" else "day"
                return f"{kind}({self.expr(DURATION, depth + 1, family)[0]})", ATOM
            case "year" | "month":
                return f"{kind}({self.expr(DATE, depth + 1)[0]})", ATOM
            case "round":
                step = self.pick(["1", "0.5", "0.01", "10", "0.0000000001", "3"])
                return f"round({self.expr(NUMBER, depth + 1)[0]}, {step})", ATOM
            case "abs":
                return f"abs({self.expr(NUMBER, depth + 1)[0]})", ATOM
        return self.common(NUMBER, depth)

    def whole_number(self, depth: int) -> str:
        """A number that is mostly whole: a duration's factor."""
        if self.chance(0.7):
            return self.draw(number_literal(whole=True))
        if self.chance(0.5):
            return self.wrap((f"months({self.expr(DURATION, depth + 1, 'month')[0]})", ATOM),
                             FACTOR)
        return self.sub(NUMBER, depth, FACTOR)

    def _duration(self, depth: int, family: str) -> tuple[str, int]:
        kinds = ["+", "-", "*n", "n*", "common", "common"]
        if family == "day":
            kinds += ["t-t", "t-t"]
        kind = self.pick(kinds)
        match kind:
            case "+" | "-":
                left = self.expr(DURATION, depth + 1, family)
                right = self.expr(DURATION, depth + 1, family)
                return f"{self.wrap(left, SUM)} {kind} {self.wrap(right, TERM)}", SUM
            case "*n":
                return f"{self.sub(DURATION, depth, TERM, family)} * {self.whole_number(depth)}", \
                    TERM
            case "n*":
                return f"{self.whole_number(depth)} * {self.sub(DURATION, depth, FACTOR, family)}",\
                    TERM
            case "t-t":
                return f"{self.sub(DATE, depth, SUM)} - {self.sub(DATE, depth, TERM)}", SUM
        return self.common(DURATION, depth, family)

    def _date(self, depth: int) -> tuple[str, int]:
        kind = self.pick(["+", "-", "d+", "common"])
        family = self.pick(["month", "month", "day"])
        match kind:
            case "+":
                return (f"{self.sub(DATE, depth, SUM)} + "
                        f"{self.sub(DURATION, depth, TERM, family)}"), SUM
            case "-":
                return (f"{self.sub(DATE, depth, SUM)} - "
                        f"{self.sub(DURATION, depth, TERM, family)}"), SUM
            case "d+":
                return (f"{self.sub(DURATION, depth, SUM, family)} + "
                        f"{self.sub(DATE, depth, TERM)}"), SUM
        return self.common(DATE, depth)

    def _bool(self, depth: int) -> tuple[str, int]:
        kind = self.pick(["cmp", "cmp", "cmp", "and", "or", "not", "in", "eq", "if"])
        match kind:
            case "cmp":
                type_ = self.pick(ORDERED)
                family = self.pick(["month", "month", "day"]) if type_ == DURATION else None
                left = self.sub(type_, depth, SUM, family)
                right = self.sub(type_, depth, SUM, family)
                return f"{left} {self.pick(['<', '<=', '>', '>=', '==', '!='])} {right}", CMP
            case "eq":
                types = [BOOL, *self.enums]
                type_ = self.pick(types)
                left, right = self.sub(type_, depth, SUM), self.sub(type_, depth, SUM)
                return f"{left} {self.pick(['==', '!='])} {right}", CMP
            case "and" | "or":
                level = AND if kind == "and" else OR
                left = self.wrap(self.expr(BOOL, depth + 1), level)
                right = self.wrap(self.expr(BOOL, depth + 1), level + 1)
                return f"{left} {kind} {right}", level
            case "not":
                return f"not {self.sub(BOOL, depth, NOT)}", NOT
            case "in":
                type_ = self.pick([*self.enums, *self.enums, MONEY, NUMBER, PERCENT, DURATION,
                                   DATE, BOOL])
                family = "month" if type_ == DURATION else None
                subject = self.sub(type_, depth, SUM, family)
                items = [self.expr(type_, depth + 1, family)[0]
                         for _ in range(self.draw(st.integers(1, 3)))]
                negated = "not in" if self.chance(0.3) else "in"
                return f"{subject} {negated} {{{', '.join(items)}}}", CMP
        cond = self.expr(BOOL, depth + 1)[0]
        return (f"if {cond} then {self.expr(BOOL, depth + 1)[0]} "
                f"else {self.expr(BOOL, depth + 1)[0]}"), IF

    def _enum(self, enum: str, depth: int) -> tuple[str, int]:
        cond = self.expr(BOOL, depth + 1)[0]
        return (f"if {cond} then {self.expr(enum, depth + 1)[0]} "
                f"else {self.expr(enum, depth + 1)[0]}"), IF


# ── a whole policy ──────────────────────────────────────────────────────────────────────


def _split_percents(draw, count: int) -> list[str]:
    """`count` percents summing to exactly 100%, in basis points or finer."""
    scale = draw(st.sampled_from([0, 2, 4]))
    total = 100 * 10**scale
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=count - 1,
                                max_size=count - 1)))
    bounds = [0, *cuts, total]
    return [f"{_plain(Decimal(b - a).scaleb(-scale))}%"
            for a, b in zip(bounds, bounds[1:], strict=False)]


@st.composite
def policies(draw, max_depth: int = 3) -> GeneratedPolicy:
    """The source of a small, well-typed policy (see the module docstring)."""
    gen = _Gen(draw, max_depth)
    lines = ['policy fuzzed "随机政策" {', '  version "1"']

    # enums
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    for e in range(draw(st.integers(0, 2))):
        name = f"kind{e + 1}"
        members = [f"{next(letters)}_{e + 1}" for _ in range(draw(st.integers(1, 4)))]
        gen.enums[name] = members
        gen.qualify[name] = False
        lines.append(f"  enum {name} {{ {'  '.join(members)} }}")
    if len(gen.enums) == 2 and draw(st.booleans()):  # a member name in both: qualified
        shared = gen.enums["kind1"][0]
        gen.enums["kind2"].append(shared)
        lines[-1] = lines[-1][:-1] + f" {shared} }}"
        gen.qualify["kind1"] = gen.qualify["kind2"] = True

    # inputs
    units: dict[str, str] = {}
    fields: list[str] = []
    prefixes = {MONEY: "m", PERCENT: "p", NUMBER: "n", DURATION: "d", DATE: "t", BOOL: "b"}
    for type_, prefix in [*prefixes.items(), *((e, "e") for e in gen.enums)]:
        low = 1 if type_ in (MONEY, BOOL) else 0
        for i in range(draw(st.integers(low, 2 if type_ in (MONEY, PERCENT, NUMBER, BOOL)
                                        else 1))):
            name = f"{prefix}{i + 1}" if prefix != "e" else f"e{type_[-1]}{i + 1}"
            family = None
            if type_ == DURATION:
                family = draw(st.sampled_from(["month", "month", "day"]))
                units[name] = family
            gen.add(type_, name, family)
            default = ""
            if draw(st.integers(0, 5)) == 0:  # a default: a constant of the type
                default = " = " + (gen.member(type_) if type_ in gen.enums else draw({
                    MONEY: money_literal(value=True), PERCENT: percent_literal(),
                    NUMBER: number_literal(), DURATION: duration_literal(family or "month"),
                    DATE: date_literal(), BOOL: st.sampled_from(["true", "false"])}[type_]))
            fields.append(f"    {name}: {type_}{default}")
    lines += ["  input {", *fields, "  }"]

    # params
    for i in range(draw(st.integers(0, 2))):
        type_ = draw(st.sampled_from([MONEY, PERCENT, PERCENT, NUMBER]))
        value = draw({MONEY: money_literal(value=True), PERCENT: percent_literal(),
                      NUMBER: number_literal()}[type_])
        name = f"q{i + 1}"
        lines.append(f"  param {name}: {type_} = {value}")
        gen.add(type_, name)

    # lets and allocations, each reading what came before; written in a shuffled order
    declarations: list[str] = []
    shares_drawn = waterfall_drawn = False
    count = draw(st.integers(1, 6))
    let_number = 0
    for _ in range(count + 2):
        kind = draw(st.sampled_from(["let"] * 4 + ["shares", "waterfall"]))
        if kind == "shares" and not shares_drawn:
            shares_drawn = True
            declarations.append(_shares(draw, gen))
        elif kind == "waterfall" and not waterfall_drawn:
            waterfall_drawn = True
            declarations.append(_waterfall(draw, gen))
        elif let_number < count:
            let_number += 1
            type_ = draw(st.sampled_from([MONEY, MONEY, PERCENT, NUMBER, DURATION, DATE, BOOL,
                                          BOOL, *gen.enums]))
            family = draw(st.sampled_from(["month", "month", "day"])) if type_ == DURATION \
                else None
            text = gen.expr(type_, 0, family)[0]
            name = f"l{let_number}"
            annotation = f": {type_}" if draw(st.integers(0, 3)) == 0 else ""
            declarations.append(f"  let {name}{annotation} = {text}")
            gen.add(type_, name, family)
    lines += draw(st.permutations(declarations))

    # rules and limits
    for i in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            cond = gen.expr(BOOL)[0]
            lines.append(f"  rule r{i + 1}: {cond}{_guard(draw, gen)}")
        else:
            type_ = draw(st.sampled_from([MONEY, MONEY, PERCENT, NUMBER, DURATION, DATE]))
            family = draw(st.sampled_from(["month", "month", "day"])) if type_ == DURATION \
                else None
            subject = gen.wrap(gen.expr(type_, 1, family), SUM)
            bound = gen.wrap(gen.expr(type_, 1, family), SUM)
            op = draw(st.sampled_from(["<", "<=", ">", ">="]))
            lines.append(f"  limit c{i + 1}: {subject} {op} {bound}{_guard(draw, gen)}")
    lines.append("}")
    return GeneratedPolicy("\n".join(lines) + "\n", units)


def _guard(draw, gen: _Gen) -> str:
    if draw(st.integers(0, 2)) == 0:
        return f" when {gen.expr(BOOL, 1)[0]}"
    return ""


def _amount(draw, gen: _Gen) -> str:
    """A money amount to allocate: mostly not negative (a negative one is E611)."""
    text = gen.expr(MONEY, 1)[0]
    if draw(st.integers(0, 2)) == 0:
        return f"max({text}, 0元)"
    return text


def _shares(draw, gen: _Gen) -> str:
    name = "s1"
    parties = draw(st.lists(st.sampled_from(PARTIES), min_size=1, max_size=4, unique=True))
    ratio = draw(st.booleans())
    if ratio:
        weights = [draw(st.sampled_from(["1", "2", "3", "2.5", "1.5", "4", "7", "0.3"]))
                   for _ in parties]
    else:
        weights = _split_percents(draw, len(parties))
    of = f" of {_amount(draw, gen)}" if draw(st.integers(0, 3)) else ""
    body = "  ".join(f"{p}: {w}" for p, w in zip(parties, weights, strict=True))
    for party in parties:
        gen.add(MONEY if of else PERCENT, f"{name}.{party}")
    return f"  shares {name}{' ratio' if ratio else ''}{of} {{ {body} }}"


def _waterfall(draw, gen: _Gen) -> str:
    name = "w1"
    amount = _amount(draw, gen)
    steps: list[str] = []
    seen: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            party = draw(st.sampled_from(PARTIES))
            steps.append(f"take {party} up to {gen.expr(MONEY, 1)[0]}")
            seen.append(party)
        else:
            parties = draw(st.lists(st.sampled_from(PARTIES), min_size=1, max_size=3,
                                    unique=True))
            shares = _split_percents(draw, len(parties))
            parts = []
            for party, share in zip(parties, shares, strict=True):
                cap = f" up to {gen.expr(MONEY, 1)[0]}" if draw(st.booleans()) else ""
                parts.append(f"{party}: {share}{cap}")
            steps.append(f"split {{ {'  '.join(parts)} }}")
            seen += parties
    rest = draw(st.booleans())
    if rest:
        party = draw(st.sampled_from(PARTIES))
        steps.append(f"rest {party}")
        seen.append(party)
    else:
        seen.append(ir.UNALLOCATED)
    for party in dict.fromkeys(seen):
        gen.add(MONEY, f"{name}.{party}")
    return f"  waterfall {name}({amount}) {{ {'  '.join(steps)} }}"


# ── cases ───────────────────────────────────────────────────────────────────────────────

_STEPS = {ir.Kind.MONEY: Decimal("0.01"), ir.Kind.PERCENT: Decimal("0.0001"),
          ir.Kind.NUMBER: Decimal("0.01")}
_PLACES = {ir.Kind.MONEY: 2, ir.Kind.PERCENT: 10, ir.Kind.NUMBER: 10}
_MAX_INPUT = INPUT_LIMIT - Decimal("0.01")


def constants(policy: ir.Policy) -> dict[ir.Kind, list[ir.Value]]:
    """Every constant in the policy's expressions by kind: where comparisons turn."""
    found: dict[ir.Kind, list[ir.Value]] = {}
    exprs: list[ir.Expr] = [let.expr for let in policy.lets]
    for check in policy.checks:
        exprs += [check.guard] if check.guard is not None else []
        exprs += [check.cond] if isinstance(check, ir.Rule) else [check.subject, check.bound]
    for expr in exprs:
        for node in ir.walk(expr):
            if isinstance(node, ir.Const) and node.value is not None:
                found.setdefault(node.type.kind, []).append(node.value)
    return found


def _decimal(places: int, low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n).scaleb(-places))


def _fits(kind: ir.Kind, value: Decimal) -> bool:
    return abs(value) < INPUT_LIMIT and value == value.quantize(
        Decimal(1).scaleb(-_PLACES[kind]))


def _numeric(kind: ir.Kind, edges: list[Decimal]) -> st.SearchStrategy[Decimal]:
    step = _STEPS[kind]
    near = sorted({e + d for e in edges for d in (-step, 0, step) if _fits(kind, e + d)})
    if kind is ir.Kind.MONEY:
        base = st.one_of(_decimal(2, 0, 10**11), _decimal(2, 0, 10**6), _decimal(0, 0, 10**4),
                         st.sampled_from([Decimal(0), Decimal("0.01"), Decimal("0.005"),
                                          _MAX_INPUT, -_MAX_INPUT, Decimal(-1)]),
                         _decimal(2, -10**8, 0), _decimal(2, 10**14, 10**17 - 1))
    elif kind is ir.Kind.PERCENT:
        base = st.one_of(_decimal(4, 0, 2000), _decimal(4, 0, 2000), _decimal(10, 0, 10**9),
                         st.sampled_from([Decimal(0), Decimal(1), Decimal("0.5"),
                                          Decimal("1E-10"), Decimal(-1)]),
                         _decimal(2, 0, 10**6))
    else:
        base = st.one_of(_decimal(2, -1000, 100_000), st.integers(0, 100).map(Decimal),
                         st.integers(0, 12).map(Decimal), _decimal(10, -10**11, 10**11),
                         st.sampled_from([Decimal(0), Decimal(1), Decimal(-1), _MAX_INPUT]),
                         st.integers(-10**14, 10**14).map(Decimal))
    if near:
        return st.one_of(st.sampled_from(near), base)
    return base


def _duration(unit: str, edges: list[ir.Duration]) -> st.SearchStrategy[ir.Duration]:
    def amounts(u: str) -> st.SearchStrategy[ir.Duration]:
        top = 120 if u == "month" else 1500
        return st.one_of(st.integers(0, top), st.integers(0, 10**4)).map(
            lambda n: ir.Duration(n, u))

    other = "day" if unit == "month" else "month"
    base = st.one_of(amounts(unit), amounts(unit), amounts(unit), amounts(unit),
                     amounts(unit), amounts(unit), amounts(unit), amounts(unit), amounts(other),
                     st.just(ir.Duration(0, unit)))
    near = sorted({ir.Duration(e.amount + d, e.unit) for e in edges for d in (-1, 0, 1)
                   if 0 <= e.amount + d < 10**8}, key=lambda x: (x.unit, x.amount))
    if near:
        return st.one_of(st.sampled_from(near), base)
    return base


def _date(edges: list[datetime.date]) -> st.SearchStrategy[datetime.date]:
    base = st.one_of(st.dates(datetime.date(2000, 1, 1), datetime.date(2035, 12, 31)),
                     st.sampled_from([datetime.date(2024, 1, 31), datetime.date(2024, 2, 29),
                                      datetime.date(2023, 1, 31), datetime.date(2000, 2, 29),
                                      datetime.date(2021, 12, 31)]),
                     st.dates())
    near = sorted({e + datetime.timedelta(days=d) for e in edges for d in (-1, 0, 1)
                   if datetime.date(1, 1, 2) <= e <= datetime.date(9999, 12, 30)})
    if near:
        return st.one_of(st.sampled_from(near), base)
    return base


def cases(policy: ir.Policy, units: dict[str, str] | None = None
          ) -> st.SearchStrategy[dict[str, ir.Value]]:
    """Cases for any checked policy (see the module docstring)."""
    found = constants(policy)
    strategies: dict[str, st.SearchStrategy] = {}
    for field in policy.inputs:
        kind = field.type.kind
        match kind:
            case ir.Kind.MONEY | ir.Kind.PERCENT | ir.Kind.NUMBER:
                strategies[field.name] = _numeric(kind, found.get(kind, []))
            case ir.Kind.DURATION:
                strategies[field.name] = _duration((units or {}).get(field.name, "month"),
                                                   found.get(kind, []))
            case ir.Kind.DATE:
                strategies[field.name] = _date(found.get(kind, []))
            case ir.Kind.BOOL:
                strategies[field.name] = st.booleans()
            case ir.Kind.ENUM:
                strategies[field.name] = st.sampled_from(
                    [m.name for m in policy.enum(field.type.enum).members])
    return st.fixed_dictionaries(strategies)
