"""Case and param input: JSON / command-line values → checked run-time values.

A value may be a `.pol` literal in a string (`"500万"`, `"3.45%"`, `"2 years"`,
`"enterprise"`) or, for money, percent and number, a JSON number in base units (yuan;
a fraction for percents). Every mistake is a PolicyError (E601–E607) naming the field.
Also reads the reported forms of a decision back into values (`read_reported`).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from policylang import ir
from policylang import nodes as n
from policylang.diagnostics import PolicyError
from policylang.literals import MONEY_UNITS, PERCENT_UNITS, plain_number, shorten
from policylang.parser import parse_value
from policylang.values import INPUT_DIGITS, SCALE_PLACES, in_exact_context

# The units a number of each kind may carry in a case (a bare number is in base units).
_NUMBER_UNITS = {ir.Kind.MONEY: MONEY_UNITS, ir.Kind.PERCENT: PERCENT_UNITS, ir.Kind.NUMBER: {}}
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
                                 notes=[_known(fields)])
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
                                     notes=[_known(params, "params")])
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
    """One JSON or text value → a run-time value of `type_`."""
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
            return _scaled(plain, what)
    try:
        node = parse_value(raw.strip())
    except PolicyError as error:
        raise PolicyError.single("E603", f"{what}: {error.diagnostics[0].message}; expected "
                                 f"{type_} such as {_EXAMPLES[type_.kind]}") from None
    value = _literal(node, type_)
    if value is None:
        raise _wrong(what, type_, raw)
    return _scaled(value, what) if isinstance(value, Decimal) else value


def _literal(node: n.Expr, type_: ir.Type) -> ir.Value | None:
    match node, type_.kind:
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
                                 f"`{enum.name}`", notes=["members: " + ", ".join(members)])
    return name


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
