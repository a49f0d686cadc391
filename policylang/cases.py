"""Case and param input: JSON / command-line values → checked run-time values.

A value may be a `.pol` literal in a string (`"500万"`, `"3.45%"`, `"2 years"`,
`"enterprise"`) or, for money, percent and number, a JSON number in base units (yuan;
a fraction for percents). Every mistake is a PolicyError (E601–E607) naming the field.
Also reads the reported forms of a decision back into values (`read_reported`).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from policylang import ir
from policylang import nodes as n
from policylang.diagnostics import PolicyError
from policylang.literals import MONEY_UNITS, PERCENT_UNITS, plain_number, shorten
from policylang.parser import parse_value
from policylang.values import EXACT, INPUT_DIGITS, SCALE_PLACES, format_decimal, in_exact_context

# The units a number of each kind may carry in a case (a bare number is in base units).
_NUMBER_UNITS = {ir.Kind.MONEY: MONEY_UNITS, ir.Kind.PERCENT: PERCENT_UNITS, ir.Kind.NUMBER: {}}
# What the grammar reads around a literal but a value never holds: the generated Python
# module and the book cells' patterns refuse them too.
_NOT_IN_VALUES = (("(", "parentheses"), (")", "parentheses"), ("#", "comment"))
_EXAMPLES = {
    ir.Kind.MONEY: '"500万", "375000元" or 5000000',
    ir.Kind.PERCENT: '"3.45%", "150bp" or 0.0345',
    ir.Kind.NUMBER: '"1.5" or 1.5',
    ir.Kind.DURATION: '"2 years", "18 months", "15 days" or "3年"',
    ir.Kind.DATE: '"2021-02-24"',
    ir.Kind.BOOL: "true or false",
}


@in_exact_context
def parse_case(policy: ir.Policy, raw: object, where: str = "case") -> dict[str, ir.Value]:
    """Every input field's value: given, or its default. Raises PolicyError (E60x)."""
    if not isinstance(raw, Mapping):
        raise PolicyError.single("E607", f"{where}: a case is a JSON object keyed by input "
                                 f"field names, not {type(raw).__name__}")
    fields = {f.name: f for f in policy.inputs}
    unknown = [key for key in raw if key not in fields]
    if unknown:
        raise PolicyError.single("E601", f"{where}: unknown input field `{unknown[0]}`",
                                 notes=[*_close(unknown[0], fields), _known(fields)])
    values: dict[str, ir.Value] = {}
    for name, field in fields.items():
        if name in raw and raw[name] is not None:
            values[name] = convert(raw[name], field.type, policy, f"{where}: field `{name}`")
        elif field.default is not None:
            values[name] = field.default
        else:
            raise PolicyError.single("E602", f"{where}: missing required input field `{name}` "
                                     f"({field.type})")
    return values


@in_exact_context
def parse_params(policy: ir.Policy, raw: Mapping[str, object], where: str = "--param",
                 how: str | None = None) -> dict[str, ir.Value]:
    """Every param's value: given, or its default (E605 unknown, E606 missing). `how` says
    how a missing param is given (`{name}` stands for it); by default the command line's
    `--param NAME=VALUE`."""
    params = {p.name: p for p in policy.params}
    for key in raw:
        if key not in params:
            raise PolicyError.single("E605", f"{where}: unknown param `{key}`",
                                     notes=[*_close(key, params), _known(params, "params")])
    values: dict[str, ir.Value] = {}
    for name, param in params.items():
        if name in raw:
            values[name] = convert(raw[name], param.type, policy, f"{where}: param `{name}`")
        elif param.default is not None:
            values[name] = param.default
        else:
            given = (how or "with --param {name}=VALUE").format(name=name)
            raise PolicyError.single("E606", f"{where}: param `{name}` ({param.type}) has no "
                                     f"default; give it {given}")
    return values


def parse_param_options(options: list[str]) -> dict[str, str]:
    """`--param NAME=VALUE` options → {NAME: VALUE} (E605 if malformed)."""
    result: dict[str, str] = {}
    for option in options:
        name, sep, value = option.partition("=")
        if not sep or not name.strip():
            raise PolicyError.single("E605", f"--param {option!r}: write NAME=VALUE, e.g. "
                                     "--param lpr=3.45%")
        result[name.strip()] = value.strip()
    return result


def convert(raw: object, type_: ir.Type, policy: ir.Policy, what: str) -> ir.Value:
    """One JSON or text value → a run-time value of `type_`. A refused text gets a note
    saying how to write it where it looks like a spreadsheet's or a core-banking export's
    form of a value (`1,000,000.00`, `2024/6/1`, `TRUE`, `NULL`; `value_hints`)."""
    try:
        return _convert(raw, type_, policy, what)
    except PolicyError as error:
        notes = value_hints(raw, type_, policy) if isinstance(raw, str) else []
        if not notes:
            raise
        refused = error.diagnostics[0]
        raise PolicyError.single(refused.code, refused.message,
                                 notes=[*refused.notes, *notes]) from None


def _convert(raw: object, type_: ir.Type, policy: ir.Policy, what: str) -> ir.Value:
    if type_.kind is ir.Kind.BOOL:
        if isinstance(raw, bool):
            return raw
        if raw in ("true", "false"):
            return raw == "true"
        raise _wrong(what, type_, raw)
    if isinstance(raw, bool):
        raise _wrong(what, type_, raw)
    if isinstance(raw, int | float | Decimal):
        if not type_.numeric:
            raise _wrong(what, type_, raw)
        return _scaled(_json_number(raw, what), what)
    if not isinstance(raw, str):
        raise _wrong(what, type_, raw)
    if type_.kind is ir.Kind.ENUM:
        return _enum_member(raw.strip(), policy.enum(type_.enum), what)
    units = _NUMBER_UNITS.get(type_.kind)
    if units is not None:
        plain = plain_number(raw, units)
        if plain is not None:
            return _plain_fraction(_scaled(plain, what), raw, type_, what)
    extra = next((said for mark, said in _NOT_IN_VALUES if mark in raw), None)
    if extra is not None:
        # The grammar reads `(500.00)` as 500.00, where a spreadsheet means -500.00, and
        # `5万 # to check` as 5万: a value is one literal, as every other reader takes it.
        raise PolicyError.single("E603", f"{what}: {_repr(raw)} is not a value (a value "
                                 f"has no {extra}); expected {type_} such as "
                                 f"{_EXAMPLES[type_.kind]}")
    try:
        node = parse_value(raw.strip())
    except PolicyError as error:
        raise PolicyError.single("E603", f"{what}: {error.diagnostics[0].message}; expected "
                                 f"{type_} such as {_EXAMPLES[type_.kind]}") from None
    value = _literal(node, type_)
    if value is None:
        raise _wrong(what, type_, raw)
    if not isinstance(value, Decimal):
        return value
    return _plain_fraction(_scaled(value, what), raw, type_, what)


def _plain_fraction(value: Decimal, raw: str, type_: ir.Type, what: str) -> Decimal:
    """A percent written as text without `%` or `bp` is a fraction (`0.0435`), as a JSON
    number is; beyond ±1 it is refused: `4.35` would be 435%, where an export or a
    `--param lpr=3.45` nearly always means 4.35% (a JSON number stays as DESIGN.md reads it)."""
    if type_.kind is not ir.Kind.PERCENT or abs(value) <= 1 or \
            raw.strip().endswith(tuple(PERCENT_UNITS)):
        return value
    written = raw.strip()
    raise PolicyError.single(
        "E603", f"{what}: {_repr(raw)} without `%` is a fraction, so it would be "
        f"{format_decimal(value.scaleb(2, EXACT))}%; a percent above 100% is written with its `%`",
        notes=[f"for {written}%, write `{written}%` (or the fraction "
               f"`{format_decimal(value.scaleb(-2, EXACT))}`)"])


def _literal(node: n.Expr, type_: ir.Type) -> ir.Value | None:
    match node, type_.kind:
        case n.Neg(operand=n.Neg()), _:
            return None  # `--5`: one sign at most, as every other reader of values takes
        case n.Neg(operand=inner), _:
            value = _literal(inner, type_)
            if isinstance(value, Decimal):
                return value.copy_negate()
            if isinstance(value, ir.Duration):
                return ir.Duration(-value.amount, value.unit)
            return None
        case n.MoneyLit(value=value), ir.Kind.MONEY:
            return value
        case n.PercentLit(value=value), ir.Kind.PERCENT:
            return value
        case n.NumberLit(value=value), ir.Kind.NUMBER | ir.Kind.MONEY | ir.Kind.PERCENT:
            # A bare number in a string is in base units, like a JSON number.
            return value
        case n.DurationLit(amount=amount, unit=unit), ir.Kind.DURATION:
            return ir.Duration(amount, unit)
        case n.DateLit(value=value), ir.Kind.DATE:
            return value
    return None


def _enum_member(text: str, enum: ir.EnumDef, what: str) -> str:
    name = text.removeprefix(f"{enum.name}.")
    members = [m.name for m in enum.members]
    if name not in members:
        raise PolicyError.single("E604", f"{what}: `{text}` is not a member of enum "
                                 f"`{enum.name}`",
                                 notes=[*_member_hint(name, enum),
                                        "members: " + ", ".join(members)])
    return name


def _member_hint(name: str, enum: ir.EnumDef) -> list[str]:
    """`did you mean …?` for a member written in other case, by its label (`企业` for
    `enterprise "企业"`) or misspelt."""
    for member in enum.members:
        if name.lower() == member.name.lower():
            return [f"did you mean `{member.name}`? (members are written as declared)"]
        if member.label is not None and name == member.label.strip():
            return [f"`{name}` is the label of member `{member.name}`; write `{member.name}`"]
    return _close(name, {m.name: m for m in enum.members})


def _json_number(raw: int | float | Decimal, what: str) -> Decimal:
    try:
        # A float arrives only through the Python API; its shortest repr is what was typed.
        return Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    except InvalidOperation:
        raise PolicyError.single("E603", f"{what}: {raw!r} is not a number") from None


def _scaled(value: Decimal, what: str) -> Decimal:
    problem = scale_problem(value)
    if problem is not None:
        raise PolicyError.single("E603", f"{what}: {problem}")
    return value


def scale_problem(value: Decimal, shown: str | None = None) -> str | None:
    """Why a number cannot be an input's value (None: it can), naming it as `shown` (by
    default its digits, cut short): not finite, more than SCALE_PLACES places, or a
    magnitude of 10^INPUT_DIGITS or more. Tested without arithmetic: in the exact context a
    value of a thousand digits overflows."""
    shown = shorten(str(value)) if shown is None else shown
    if not value.is_finite():
        return f"{shown} is not a finite number"
    if -value.as_tuple().exponent > SCALE_PLACES:
        return f"{shown} has more than {SCALE_PLACES} decimal places"
    if value and value.adjusted() >= INPUT_DIGITS:
        return (f"{shown} is out of range (an input's magnitude must stay below "
                f"10^{INPUT_DIGITS})")
    return None


def _wrong(what: str, type_: ir.Type, raw: object) -> PolicyError:
    shown = "null" if raw is None else _repr(raw) if not isinstance(raw, bool) else str(raw).lower()
    expected = (f"a member of enum `{type_.enum}`" if type_.kind is ir.Kind.ENUM
                else f"{type_} such as {_EXAMPLES[type_.kind]}")
    return PolicyError.single("E603", f"{what}: expected {expected}, got {shown}")


def _close(name: object, names: Mapping[str, object]) -> list[str]:
    """`did you mean …?` for a misspelt field or param name (`loan_amout`)."""
    from policylang.checker import did_you_mean

    return did_you_mean(name, list(names)) if isinstance(name, str) else []


def _known(fields: Mapping[str, object], what: str = "input fields") -> str:
    return f"{what}: " + (", ".join(fields) if fields else "none")


def read_reported(raw: object, type_: ir.Type) -> ir.Value:
    """A value in a decision's reported form (DESIGN.md §4) back to a run-time value."""
    match type_.kind:
        case ir.Kind.MONEY | ir.Kind.PERCENT | ir.Kind.NUMBER:
            return Decimal(str(raw))
        case ir.Kind.DURATION:
            node = parse_value(str(raw))
            value = _literal(node, type_)
            assert value is not None, raw
            return value
        case ir.Kind.DATE:
            return datetime.date.fromisoformat(str(raw))
        case ir.Kind.BOOL | ir.Kind.ENUM:
            return raw
    raise AssertionError(type_)


def _repr(raw: object) -> str:
    try:
        return shorten(repr(raw))
    except ValueError:  # Python writes at most 4,300 digits of a whole number
        return "a whole number of more than 4,300 digits"


# ── how to write a refused value: the forms spreadsheets and exports use ──

# Words a spreadsheet or an export writes for "no value", which a case or book reads as text.
_NO_VALUE = {"null", "na", "n/a", "#n/a", "none", "nan", "nil", "-", "--", "—", "－", "无", "空"}
_BOOL_WORDS = {"true": True, "false": False, "t": True, "f": False, "yes": True, "no": False,
               "y": True, "n": False, "1": True, "0": False, "是": True, "否": False}
_CURRENCY = re.compile(r"^(?:¥|￥|RMB|CNY|人民币)\s*")
_PARENTHESES = re.compile(r"^\((.*)\)$")
_THOUSANDS = re.compile(r"^(-?)([0-9]{1,3}(?:,[0-9]{3})+)(\.[0-9]+)?(\S*)$")
_SCIENTIFIC = re.compile(r"^-?[0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]{1,2}$")
_SPACED_UNIT = re.compile(r"^(-?[0-9.]+)\s+(万元|亿元|万|亿|元|%|bp)$")
_TIME_OF_DAY = re.compile(r"^(\S+)[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]*)?)?$")
_DATE_PARTS = re.compile(r"^([0-9]{4})(?:[/.\-年]([0-9]{1,2})[/.\-月]([0-9]{1,2})日?"
                         r"|([0-9]{2})([0-9]{2}))$")
_EXCEL_EPOCH = datetime.date(1899, 12, 30)  # Excel's serial 1 is 1900-01-01 (after 1900-02-28)
_MONTHS = re.compile(r"^(-?[0-9]+)\s*月$")
_YEARS_MONTHS = re.compile(r"^([0-9]+)\s*年\s*(?:零\s*)?([0-9]+)\s*个?月$")
_SPACED_CJK = re.compile(r"^(-?[0-9]+)\s+(个月|年|天|日)$")


def value_hints(text: str, type_: ir.Type, policy: ir.Policy) -> list[str]:
    """Notes saying how to write `text`, refused as a value of `type_`, when it is a form
    spreadsheets and exports write: a suggested rewriting is given only if it is read."""
    shown = text.strip()
    if shown.lower() in _NO_VALUE:
        return [f"`{shown}` is text, not a missing value: leave the cell empty (or the field "
                "out of a case) where there is no value"]
    kind = type_.kind
    if kind is ir.Kind.BOOL:
        meant = _BOOL_WORDS.get(unicodedata.normalize("NFKC", shown).lower())
        return [] if meant is None else [
            f"write `{str(meant).lower()}`: a bool is `true` or `false`, in lower case"]
    if kind is ir.Kind.ENUM:
        return []  # `_enum_member` says which members are close
    rewritten, reasons = unicodedata.normalize("NFKC", shown), []
    if rewritten != shown:
        reasons.append("in ASCII characters, not full-width ones")
    steps = (_number_steps if type_.numeric else _date_steps if kind is ir.Kind.DATE
             else _duration_steps if kind is ir.Kind.DURATION else ())
    for step in steps:
        changed = step(rewritten)
        if changed is not None:
            rewritten, reason = changed
            reasons.append(reason)
    if kind is ir.Kind.DURATION and re.fullmatch(r"-?[0-9]+", rewritten):
        return [f"a duration needs its unit: `{rewritten} months` (`{rewritten}个月`), "
                f"`{rewritten} years` (`{rewritten}年`) or `{rewritten} days`"]
    if not reasons or rewritten == shown:
        return []
    try:
        _convert(rewritten, type_, policy, "")
    except PolicyError:
        return []
    return [f"write `{rewritten}`: " + ", ".join(reasons)]


def _currency(text: str) -> tuple[str, str] | None:
    bare = _CURRENCY.sub("", text)
    return (bare, "without the currency sign") if bare != text else None


def _parenthesised(text: str) -> tuple[str, str] | None:
    found = _PARENTHESES.match(text)
    if found is None or found.group(1).strip().startswith("-"):
        return None
    return ("-" + found.group(1).strip(),
            "a spreadsheet's parentheses mark a negative number")


def _thousands(text: str) -> tuple[str, str] | None:
    found = _THOUSANDS.match(text)
    if found is None:
        return None
    sign, digits, fraction, unit = found.groups()
    return (sign + digits.replace(",", "") + (fraction or "") + unit,
            "without thousands separators")


def _scientific(text: str) -> tuple[str, str] | None:
    if _SCIENTIFIC.match(text) is None:
        return None
    return format(Decimal(text), "f"), "written out, not in scientific notation"


def _spaced_unit(text: str) -> tuple[str, str] | None:
    found = _SPACED_UNIT.match(text) or _SPACED_CJK.match(text)
    return (found.group(1) + found.group(2), "with no space before the unit") if found else None


_number_steps = (_currency, _parenthesised, _thousands, _scientific, _spaced_unit)


def _time_of_day(text: str) -> tuple[str, str] | None:
    found = _TIME_OF_DAY.match(text)
    return (found.group(1), "the date alone, without a time of day") if found else None


def _date_form(text: str) -> tuple[str, str] | None:
    found = _DATE_PARTS.match(text)
    if found is not None:
        year, month, day = found.group(1), found.group(2) or found.group(4), \
            found.group(3) or found.group(5)
        written = f"{year}-{int(month):02d}-{int(day):02d}"
        return (written, "as YYYY-MM-DD") if written != text else None
    if re.fullmatch(r"[1-9][0-9]{4}", text):
        day = _EXCEL_EPOCH + datetime.timedelta(days=int(text))
        return (day.isoformat(), f"`{text}` looks like an Excel date serial number; format "
                "the column as dates (yyyy-mm-dd) before saving")
    return None


_date_steps = (_time_of_day, _date_form)


def _months(text: str) -> tuple[str, str] | None:
    found = _MONTHS.match(text)
    if found is not None:
        return f"{found.group(1)}个月", "`月` alone is no unit; months are `个月`"
    found = _YEARS_MONTHS.match(text)
    if found is not None:
        months = int(found.group(1)) * 12 + int(found.group(2))
        return f"{months}个月", "a duration has one unit"
    return None


_duration_steps = (_months, _spaced_unit)
