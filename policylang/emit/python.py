"""The Python backend: a standalone validator module per policy (DESIGN.md §5).

The module imports only the standard library and pydantic: a pydantic model of the case
(and of the params), one method per rule, limit, let and allocation with its citation in
the docstring, and `evaluate(case, **params) -> dict` returning the decision JSON of §4
exactly as the interpreter does. The jinja2 template owns the file skeleton; expressions
are rendered here with Python's precedence, every name through a `Namespace` and every
text through `repr` (or, in docstrings and comments, an escaped form), so nothing from a
policy is pasted into code unescaped. The run-time support is copied from
`python_runtime.py` and `python_readers.py` (only what the module uses), and the result is
formatted with the pinned ruff, so the same policy always gives the same bytes.
"""

from __future__ import annotations

import dataclasses
import subprocess
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import PurePath
from typing import assert_never

import jinja2
from pydantic import BaseModel

from policylang import ir
from policylang.deps import unused_inputs, unused_params
from policylang.emit.base import Emitter, Namespace, camel, identifier
from policylang.emit.python_allocations import AllocationLines
from policylang.emit.python_money import MoneyRange
from policylang.emit.python_params import ParamsOnce
from policylang.emit.python_params import returns as _returns
from policylang.emit.python_support import runtime, with_runtime
from policylang.emit.python_text import comment as _comment
from policylang.emit.python_text import docstring as _docstring
from policylang.emit.python_text import text as _text
from policylang.emit.reuse import reuse_lets
from policylang.values import format_decimal, report

# Names the template defines or imports (the runtime's own are added): enum classes must
# not shadow them.
_TEMPLATE_NAMES = frozenset({
    "Annotated", "Case", "Context", "Decimal", "Evaluation", "InvalidOperation", "Params",
    "ROUND_DOWN", "ROUND_HALF_UP", "Self", "calendar", "datetime", "enum", "evaluate",
    "functools", "pydantic", "operator", "re"})
# Builtins that a model's class body names (in the annotations of `Params` properties).
_CLASS_BODY_BUILTINS = frozenset({"bool", "dict", "object", "str"})
_REPORT = {ir.Kind.MONEY: "_money_text({})", ir.Kind.PERCENT: "_decimal_text({})",
           ir.Kind.NUMBER: "_decimal_text({})", ir.Kind.DURATION: "_duration_text({})",
           ir.Kind.DATE: "{}.isoformat()", ir.Kind.BOOL: "{}", ir.Kind.ENUM: "{}.value"}
_ANNOTATION = {ir.Kind.MONEY: "MoneyField", ir.Kind.PERCENT: "PercentField",
               ir.Kind.NUMBER: "NumberField", ir.Kind.DURATION: "DurationField",
               ir.Kind.DATE: "DateField", ir.Kind.BOOL: "BoolField"}
_NEGATED = {"==": "!=", "!=": "=="}
# Python's precedence of what an expression renders to (higher binds tighter).
_IF, _OR, _AND, _NOT, _COMPARE, _ATOM = 1, 2, 3, 4, 5, 9
_UNUSED = "not read by any rule, limit, let or allocation of the policy"


def emit_python(policy: ir.Policy) -> str:
    return _format(_Module(reuse_lets(policy)).render())


def _field_namespace(shadowed: frozenset[str]) -> Namespace:
    """Pydantic treats `_x` as private and reserves `model_*` and BaseModel's attributes; a
    field named after a module-level name or builtin would shadow it in the rest of the
    class body (`pydantic.Field`, a property's decorator or annotation)."""
    def shape(name: str) -> str:
        forbidden = (name.startswith(("_", "model_")) or name in dir(BaseModel)
                     or name in shadowed)
        return f"field_{name}" if forbidden else name
    return Namespace(shape=shape)


class _Module(ParamsOnce, AllocationLines, MoneyRange, Emitter):
    def __init__(self, policy: ir.Policy):
        self.policy = policy
        classes = Namespace(_TEMPLATE_NAMES | set(runtime()[0]),
                            lambda name: f"E{name}" if name[0] == "_" else name)
        self.enum_classes = {e.name: classes[camel(e.name)] for e in policy.enums}
        # Module-level constants (built once, not on every case), after the enum classes
        # in one namespace: name → definition, in order of first use.
        self.module_names = classes
        self.constants: dict[str, str] = {}
        self.constant_names: dict[object, str] = {}  # a value's key → its constant
        self.members = {e.name: Namespace(frozenset({"name", "value"}),
                                          lambda n: f"m{n}" if n[0] == "_" else n)
                        for e in policy.enums}
        shadowed = frozenset(classes.taken | _CLASS_BODY_BUILTINS)
        self.fields, self.param_fields = _field_namespace(shadowed), _field_namespace(shadowed)
        for namespace, fields in ((self.fields, policy.inputs),
                                  (self.param_fields, policy.params)):
            # Names kept as they are go first, so a renamed field (`class` → `class_`) never
            # takes a name another field is known by (populate_by_name would be ambiguous).
            for field in sorted(fields, key=lambda f: namespace.shape(identifier(f.name))
                                != f.name):
                namespace[field.name]
        methods = Namespace(frozenset({"case", "params", "decision"}))
        self.lets = {let.name: methods[f"let_{let.name}"] for let in policy.lets}
        self.allocations = {a.name: methods[f"allocation_{a.name}"] for a in policy.allocations}
        self.checks = {c.name: methods[f"{_check_kind(c)}_{c.name}"] for c in policy.checks}
        self.fen_splits: set[str] = set()  # allocations computed by `_split_fen`
        # What is computed from the params alone: a cached property of `Params` each, by
        # the code that computes it (two equal expressions share one), named after where
        # it is used (`limit_rate_cap_bound`) apart from the params' own names.
        self.computed: dict[str, dict] = {}
        self.computed_names = Namespace(frozenset(self.param_fields.taken | {"model_copy"}),
                                        self.param_fields.shape)
        self.in_params = False  # rendering the body of one of those properties
        self.site: list = ["", 0]  # the method being rendered, and its properties so far
        self.param_only_lets: dict[str, bool] = {}

    # ── skeleton ──
    def render(self) -> str:
        policy = self.policy
        unused, unused_p = set(unused_inputs(policy)), set(unused_params(policy))
        methods, decision = self._methods(), self._decision()  # these collect the constants
        body = _template().render(
            # The file's name only: the module must not depend on where it was built from.
            policy=policy, meta=policy.meta, source_name=PurePath(policy.file).name,
            text=_text, docstring=_docstring, comment=_comment, enums=self._enums(),
            fields=[self._field(f, self.fields[f.name], f.name in unused)
                    for f in policy.inputs],
            params=[self._field(p, self.param_fields[p.name], p.name in unused_p)
                    for p in policy.params],
            constants=self.constants.items(), methods=methods, decision=decision,
            computed=list(self.computed.values()),
            book_rules=[f"{rule.kind} {rule.name}"
                        for rule in (policy.portfolio.rules if policy.portfolio else ())],
            computed_names=", ".join(_text(c["name"]) for c in self.computed.values())
            + "," * (len(self.computed) == 1))
        return with_runtime(body)

    def _enums(self) -> list[dict]:
        return [{"name": self.enum_classes[e.name], "title": e.name, "text": _text(e.name),
                 "members": [(self.members[e.name][m.name], _text(m.name), m.label)
                             for m in e.members]}
                for e in self.policy.enums]

    def _field(self, field: ir.Field, name: str, unused: bool) -> dict:
        kind = field.type.kind
        annotation = (self.enum_classes[field.type.enum] if kind is ir.Kind.ENUM
                      else _ANNOTATION[kind])
        arguments = [] if field.default is None else [self._value(field.default, field.type)]
        if name != field.name:
            arguments.append(f"alias={_text(field.name)}")
        if field.description:
            arguments.append(f"description={_text(field.description)}")
        declaration = f"{name}: {annotation}"
        if arguments == [] or field.default is None or len(arguments) > 1:
            declaration += f" = pydantic.Field({', '.join(arguments)})" if arguments else ""
        else:
            declaration += f" = {arguments[0]}"
        return {"declaration": declaration, "unused": _UNUSED if unused else None}

    def _methods(self) -> list[dict]:
        policy = self.policy
        # Only what another declaration reads is cached; the rest is computed once, by
        # `decision()`, and a plain method call is cheaper.
        read = _referenced(policy)
        methods = []
        for let in policy.lets:
            self.site = [self.lets[let.name], 0]
            ref = ir.LetRef(let.name, let.type, let.span)  # a param-only let: its property
            value = (f"self.params.{self._computed(ref)}" if self._param_only(let.expr)
                     else self.visit(let.expr))
            if let.type.kind is ir.Kind.MONEY:  # a DECIMAL(18,2) column in SQL
                value = self._money_in_range(let.expr, value, f"let {let.name}")
            methods.append({"name": self.lets[let.name], "returns": _returns(let.type),
                            "doc": _doc(f"let {let.name}", let.cite, let.says),
                            "lines": [f"return {value}"],
                            "cached": ("let", let.name) in read})
        for alloc in policy.allocations:
            self.site = [self.allocations[alloc.name], 0]
            methods.append({"name": self.allocations[alloc.name],
                            "returns": "tuple[Decimal, ...]",
                            "doc": _doc(f"{_alloc_kind(alloc)} {alloc.name}", alloc.cite,
                                        alloc.says)
                            + [f"Its parts, in order: {', '.join(alloc.parties)}."],
                            "lines": self._allocation(alloc),
                            "cached": ("allocation", alloc.name) in read})
        for check in policy.checks:
            self.site = [self.checks[check.name], 0]
            methods.append({"name": self.checks[check.name], "returns": "dict | None",
                            "doc": _doc(f"{_check_kind(check)} {check.name}", check.cite,
                                        check.says),
                            "lines": self._check_lines(check), "cached": False})
        return methods

    def _check_lines(self, check: ir.Check) -> list[str]:
        lines = []
        if check.guard is not None and self._param_only(check.guard):
            applies = self._computed(check.guard, "applies")
            lines += [f"if not self.params.{applies}:", "    return None"]
        elif check.guard is not None:
            lines += [f"if {self._negation(check.guard)}:", "    return None"]
        failure = {"rule": _text(check.name), "kind": _text(_check_kind(check)),
                   "cite": _text(check.cite), "message": _text(check.says or "")}
        match check:
            case ir.Rule(cond=cond):
                lines.append(f"if {self._visit_at(cond, 'holds')}:")
            case ir.Limit(subject=subject, bound=bound, op=op):
                sides = {"value": self._visit_at(subject, "value"),
                         "bound": self._visit_at(bound, "bound")}
                if subject.type.kind is ir.Kind.MONEY:  # both DECIMAL(18,2) columns in SQL
                    for (side, text), node in zip(sides.items(), (subject, bound), strict=True):
                        sides[side] = self._money_in_range(node, text,
                                                           f"limit {check.name}'s {side}")
                lines += [f"{side} = {text}" for side, text in sides.items()]
                match bound:
                    case ir.Const(value=ir.Duration(amount=amount, unit=unit)) if amount:
                        # A constant bound of one family: `_compare`'s test, written out.
                        lines += [f"if value.unit != {unit!r} and value.amount:",
                                  "    _family(value, bound, 'compare')  # raises: days, months",
                                  f"if value.amount {op} {amount}:"]
                    case _:
                        lines.append(f"if {self._compare(op, 'value', 'bound', subject.type)}:")
                failure |= {"value": self._reported(subject, "value"),
                            "bound": self._reported(bound, "bound")}
            case _:
                assert_never(check)
        items = ", ".join(f"{k!r}: {v}" for k, v in failure.items())
        return lines + ["    return None", f"return {{{items}}}"]

    def _decision(self) -> dict:
        """What `decision()` computes: the checks in order, then every reported let and
        allocation in the policy's evaluation order (so the first fault is the one the
        interpreter meets), then the report in declaration order."""
        policy = self.policy
        reported = [a.name for a in policy.allocations
                    if not (isinstance(a, ir.Shares) and a.amount is None)]
        read = _referenced(policy)
        computed = [(self.lets[name] if kind == "let" else self.allocations[name],
                     "" if (kind, name) in read else "()")
                    for kind, name in policy.order if kind == "let" or name in reported]
        values = [(_text(let.name), _REPORT[let.type.kind].format(self.lets[let.name]))
                  for let in policy.lets]
        allocations = [(_text(name), [(_text(party), self._part_text(name, party))
                                      for party in policy.allocation(name).parties])
                       for name in reported]
        return {"checks": [self.checks[c.name] for c in policy.checks], "computed": computed,
                "values": values, "allocations": allocations}

    def _part_text(self, allocation: str, party: str) -> str:
        """The reported text of a part: `_split_fen` gives whole fen, never negative, with
        exactly two places, which `str` writes as the decision shows money."""
        part = self._part(allocation, party)
        return f"str({part})" if allocation in self.fen_splits else f"_fen_text({part})"

    def _part(self, allocation: str, party: str) -> str:
        """A part of an allocation method's result: its tuple, indexed in party order."""
        index = self.policy.allocation(allocation).parties.index(party)
        return f"{self.allocations[allocation]}[{index}]"

    # ── values and expressions ──
    def _value(self, value: ir.Value, type_: ir.Type) -> str:
        match type_.kind:
            case ir.Kind.MONEY | ir.Kind.PERCENT | ir.Kind.NUMBER:
                return _decimal(value)
            case ir.Kind.DURATION:
                return f"Duration({value.amount}, {value.unit!r})"
            case ir.Kind.DATE:
                return f"datetime.date({value.year}, {value.month}, {value.day})"
            case ir.Kind.BOOL:
                return "True" if value else "False"
            case ir.Kind.ENUM:
                return f"{self.enum_classes[type_.enum]}.{self.members[type_.enum][value]}"
            case ir.Kind.ERROR:
                raise AssertionError("a checked policy has no error types")
            case _:
                assert_never(type_.kind)

    def _constant(self, value: ir.Value, type_: ir.Type) -> str:
        """A number, duration, date or enum member as a module-level constant (its name
        says its value and unit: `YUAN_10_000_000`, `PERCENT_1_POINT_5`, `YEARS_3`,
        `APPLICATION_NEW_LOAN`); others in place. A member is a constant because looking it
        up on its class costs as much as a comparison."""
        if type_.kind is ir.Kind.ENUM:
            # Keyed by the member itself: two members' names in capitals may be equal.
            key: object = (type_.enum, value)
            name = f"{self.enum_classes[type_.enum]}_{self.members[type_.enum][value]}".upper()
        else:
            key = name = _constant_name(value, type_)  # unique to the value and unit
            if name is None:
                return self._value(value, type_)
        return self._module_constant(key, name, lambda: self._value(value, type_))

    def _module_constant(self, key: object, name: str, definition) -> str:
        """The module-level constant for `key`, named `name` (made fresh) and defined by
        `definition()` the first time the key is asked for."""
        found = self.constant_names.get(key)
        if found is None:
            found = self.constant_names[key] = self.module_names.fresh(name)
            self.constants[found] = definition()
        return found

    def _reported(self, node: ir.Expr, variable: str) -> str:
        """How a limit's failure reports `variable`, the value of `node`: a constant's text
        is written out once, by the interpreter's own formatting; the text of a value
        computed from the params alone is computed once per `Params`, as the value is."""
        if isinstance(node, ir.Const):
            return _text(report(node.value, node.type))
        if self._param_only(node):
            value = self._computed(node, variable)
            text = _REPORT[node.type.kind].format(f"self.{value}")
            doc = f"The text of `{value}`, as a failure reports it."
            return f"self.params.{self._property(text, f'{value}_text', 'str', doc)}"
        return _REPORT[node.type.kind].format(variable)

    def _zero(self) -> str:
        return self._constant(Decimal(0), ir.MONEY)

    def _compare(self, op: str, left: str, right: str, type_: ir.Type) -> str:
        if type_.kind is ir.Kind.DURATION:
            return f"_compare({op!r}, {left}, {right})"
        return f"{left} {op} {right}"

    def _operand(self, node: ir.Expr, weakest: int) -> str:
        """The node rendered as an operand that must bind at least as tight as `weakest`."""
        text = self.visit(node)
        atom = not self.in_params and self._param_only(node)  # a `Params` property
        return text if atom or _precedence(node) >= weakest else f"({text})"

    def _negation(self, node: ir.Expr) -> str:
        return self.visit(ir.Not(node, ir.BOOL, node.span))

    def visit_Const(self, node: ir.Const) -> str:
        return self._constant(node.value, node.type)

    def visit_InputRef(self, node: ir.InputRef) -> str:
        return f"self.case.{self.fields[node.name]}"

    def visit_ParamRef(self, node: ir.ParamRef) -> str:
        if self.in_params:
            return f"self.{self.param_fields[node.name]}"
        return f"self.params.{self.param_fields[node.name]}"

    def visit_LetRef(self, node: ir.LetRef) -> str:
        if self.in_params:  # a param-only let: its own property, or its param or constant
            expr = self.policy.let(node.name).expr
            return f"self.{self._computed(node)}" if self._param_only(expr) else self.visit(expr)
        return f"self.{self.lets[node.name]}"

    def visit_PartRef(self, node: ir.PartRef) -> str:
        return f"self.{self._part(node.allocation, node.party)}"

    def visit_Neg(self, node: ir.Neg) -> str:
        operand = self._operand(node.operand, _ATOM)
        if node.type.kind is ir.Kind.DURATION:
            return f"_duration_negate({operand})"
        return f"{operand}.copy_negate()"

    def visit_Arith(self, node: ir.Arith) -> str:
        left, right = self.visit(node.left), self.visit(node.right)
        lt, rt = node.left.type.kind, node.right.type.kind
        temporal = (ir.Kind.DURATION, ir.Kind.DATE)
        if lt not in temporal and rt not in temporal:
            name = {"+": "_add", "-": "_sub", "*": "_mul", "/": "_div"}[node.op]
            return f"{name}({left}, {right})"
        sign = "1" if node.op == "+" else "-1"
        if lt is ir.Kind.DATE and rt is ir.Kind.DATE:
            return f"_date_diff({left}, {right})"
        if lt is ir.Kind.DATE:
            return f"_date_add({left}, {right}, {sign})"
        if rt is ir.Kind.DATE:
            return f"_date_add({right}, {left}, 1)"
        if lt is ir.Kind.DURATION and rt is ir.Kind.DURATION:
            return f"_duration_add({left}, {right}, {sign})"
        if lt is ir.Kind.DURATION:
            return f"_duration_scale({left}, {right})"
        return f"_duration_scale({right}, {left})"

    def visit_Compare(self, node: ir.Compare) -> str:
        return self._compare(node.op, self._operand(node.left, _ATOM),
                             self._operand(node.right, _ATOM), node.left.type)

    def visit_And(self, node: ir.And) -> str:
        return f"{self._operand(node.left, _AND)} and {self._operand(node.right, _AND)}"

    def visit_Or(self, node: ir.Or) -> str:
        return f"{self._operand(node.left, _OR)} or {self._operand(node.right, _OR)}"

    def visit_Not(self, node: ir.Not) -> str:
        match node.operand:
            case ir.Not(operand=inner):
                return self.visit(inner)
            case ir.InSet() as inset:
                return self.visit(dataclasses.replace(inset, negated=not inset.negated))
            case ir.Compare(op="==" | "!=") as compare:
                return self.visit(dataclasses.replace(compare, op=_NEGATED[compare.op]))
        return f"not {self._operand(node.operand, _NOT)}"

    def visit_InSet(self, node: ir.InSet) -> str:
        operand = self._operand(node.operand, _ATOM)
        if _lazy_set(node):
            # An item that computes may fault: evaluated only until one matches, as the
            # interpreter does (Python's tuple would evaluate every item first).
            items = ", ".join(f"lambda: {self._operand(i, _OR)}" for i in node.items)
            found = f"_in_lazily({self.visit(node.operand)}, {items})"
            return f"not {found}" if node.negated else found
        items = ", ".join(self.visit(i) for i in node.items)
        items += "," if len(node.items) == 1 else ""
        if node.operand.type.kind is ir.Kind.DURATION:
            found = f"any(_compare('==', item, {operand}) for item in ({items}))"
            return f"not {found}" if node.negated else found
        return f"{operand} {'not in' if node.negated else 'in'} ({items})"

    def visit_If(self, node: ir.If) -> str:
        return (f"{self._operand(node.then, _OR)} if {self._operand(node.cond, _OR)} "
                f"else {self._operand(node.otherwise, _OR)}")

    def visit_Call(self, node: ir.Call) -> str:
        args = [self.visit(a) for a in node.args]
        match node.func:
            case "min" | "max" if node.type.kind is not ir.Kind.DURATION:
                # Python's min and max keep the first of equal values, as the interpreter does.
                return f"{node.func}({', '.join(args)})"
            case "min" | "max":
                return f"{'_least' if node.func == 'min' else '_greatest'}({', '.join(args)})"
            case "round":
                return f"_round_step({args[0]}, {args[1]})"
            case "abs":
                return f"{self._operand(node.args[0], _ATOM)}.copy_abs()"
            case "years" | "months" | "days":
                return f"_duration_in({args[0]}, {node.func[:-1]!r})"
            case "year" | "month":
                return f"Decimal({self._operand(node.args[0], _ATOM)}.{node.func})"
        raise AssertionError(node.func)


def _lazy_set(node: ir.InSet) -> bool:
    """An `in` set with an item that computes (and so may fault): `_in_lazily`."""
    return not all(isinstance(i, ir.Const | ir.InputRef | ir.ParamRef) for i in node.items)


def _precedence(node: ir.Expr) -> int:
    """How tightly the rendering of `node` binds (see the visit methods)."""
    match node:
        case ir.If():
            return _IF
        case ir.Or():
            return _OR
        case ir.And():
            return _AND
        case ir.Not(operand=ir.Not(operand=inner)):
            return _precedence(inner)
        case ir.Not(operand=ir.InSet() as inset):
            return _precedence(dataclasses.replace(inset, negated=not inset.negated))
        case ir.Not(operand=ir.Compare(op="==" | "!=") as compare):
            return _precedence(compare)
        case ir.Not():
            return _NOT
        case ir.InSet(operand=operand, negated=negated) as inset:
            if operand.type.kind is ir.Kind.DURATION or _lazy_set(inset):
                return _NOT if negated else _ATOM
            return _COMPARE
        case ir.Compare(left=left):
            return _ATOM if left.type.kind is ir.Kind.DURATION else _COMPARE
    return _ATOM


_UNITS = {ir.Kind.MONEY: "YUAN", ir.Kind.PERCENT: "PERCENT", ir.Kind.NUMBER: "NUMBER"}


def _constant_name(value: ir.Value, type_: ir.Type) -> str | None:
    """The name of a constant, unique to its value and unit; None: not worth a name."""
    match type_.kind:
        case ir.Kind.MONEY | ir.Kind.PERCENT | ir.Kind.NUMBER if value == 0:
            return "ZERO"
        case ir.Kind.MONEY | ir.Kind.PERCENT | ir.Kind.NUMBER:
            text = format_decimal(value.scaleb(2) if type_.kind is ir.Kind.PERCENT else value)
            whole, _, fraction = text.lstrip("-").partition(".")
            digits = f"{int(whole):_}" + (f"_POINT_{fraction}" if fraction else "")
            return f"{_UNITS[type_.kind]}_{'MINUS_' if value < 0 else ''}{digits}"
        case ir.Kind.DURATION:
            count, unit = value.amount, "DAYS" if value.unit == "day" else "MONTHS"
            if unit == "MONTHS" and count % 12 == 0 and count != 0:
                count, unit = count // 12, "YEARS"
            return f"{unit}_{'MINUS_' if count < 0 else ''}{abs(count)}"
        case ir.Kind.DATE:
            return f"DATE_{value.year}_{value.month:02}_{value.day:02}"
    return None


def _referenced(policy: ir.Policy) -> set[tuple[str, str]]:
    """The lets and allocations that a rule, limit, let or allocation reads."""
    found: set[tuple[str, str]] = set()
    for node in ir.walk((policy.lets, policy.checks, policy.allocations)):
        match node:
            case ir.LetRef(name=name):
                found.add(("let", name))
            case ir.PartRef(allocation=allocation):
                found.add(("allocation", allocation))
    return found


def _check_kind(check: ir.Check) -> str:
    return "limit" if isinstance(check, ir.Limit) else "rule"


def _alloc_kind(alloc: ir.Allocation) -> str:
    return "shares" if isinstance(alloc, ir.Shares) else "waterfall"


def _decimal(value: Decimal) -> str:
    text = format_decimal(value)
    if text.lstrip("-").isdigit():
        return f"Decimal({int(text):_})"
    return f'Decimal("{text}")'


def _doc(head: str, cite: str | None, says: str | None) -> list[str]:
    """A declaration's docstring paragraphs: what it is and its citation, then its text."""
    return [head + (f" ({cite})" if cite else "") + "."] + ([says] if says else [])


@cache
def _template() -> jinja2.Template:
    source = resources.files("policylang").joinpath("emit/templates/python_module.py.j2")
    environment = jinja2.Environment(autoescape=False, keep_trailing_newline=True,
                                     trim_blocks=True, lstrip_blocks=True,
                                     undefined=jinja2.StrictUndefined)
    return environment.from_string(source.read_text(encoding="utf-8"))


def _format(code: str) -> str:
    """The module as the pinned ruff formats it (imports sorted, unused ones removed)."""
    from ruff.__main__ import find_ruff_bin

    ruff = find_ruff_bin()
    options = ["--isolated", "--line-length", "100"]
    fixed = subprocess.run([ruff, "check", *options, "--select", "I,F401", "--fix", "--quiet",
                            "--exit-zero", "-"], input=code, capture_output=True, text=True,
                           check=True).stdout
    return subprocess.run([ruff, "format", *options, "-"], input=fixed, capture_output=True,
                          text=True, check=True).stdout
