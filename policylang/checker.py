"""Checking: AST (`nodes.Policy`) → typed IR (`ir.Policy`).

Resolves every name, applies the unit algebra of DESIGN.md §3, folds constants, checks
shares and waterfalls, finds cycles among lets and allocations and orders them, and checks
test blocks. It collects every diagnostic of a file before raising one `PolicyError`.
Expression typing lives in `typing_rules`; this module owns declarations and names.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from policylang import ir
from policylang import nodes as n
from policylang.diagnostics import Diagnostic, PolicyError
from policylang.portfolio_check import check_portfolio
from policylang.typing_rules import ERROR, Scope, Typer, fold_constant, is_error
from policylang.values import format_decimal


def check(policy: n.Policy, source: str | None = None) -> ir.Policy:
    """Type-check a parsed policy; raise PolicyError with every diagnostic found."""
    return _Checker(policy, source).run()


@dataclass
class _Declared:
    kind: str  # "input", "param", "let", "shares", "waterfall", "rule", "limit", "enum"
    node: object
    span: n.Span


class _Checker(Scope):
    def __init__(self, policy: n.Policy, source: str | None):
        self.policy = policy
        self.source = source
        self.diagnostics: list[Diagnostic] = []
        self.names: dict[str, _Declared] = {}
        self.enums: dict[str, ir.EnumDef] = {}
        self.members: dict[str, list[str]] = {}  # bare member → enums declaring it
        self.inputs: dict[str, ir.Field] = {}
        self.params: dict[str, ir.Field] = {}
        # Inputs declared without a default: required in every test, even when a
        # declared default failed to check (that failure is reported once, at the default).
        self.required_inputs: set[str] = set()
        self.let_nodes: dict[str, n.LetDecl] = {}
        self.let_types: dict[str, ir.Type] = {}
        self.lets: dict[str, ir.Let] = {}
        self.let_stack: list[str] = []
        self.allocation_parts: dict[str, dict[str, ir.Type]] = {}
        self.dependencies: dict[ir.OrderItem, set[ir.OrderItem]] = {}
        self.current_refs: set[ir.OrderItem] | None = None
        self.typer = Typer(self)
        self.book_columns: dict[tuple[str, str], tuple[str, ir.Type]] = {}
        self.portfolio: ir.Portfolio | None = None

    # ── diagnostics ──
    def error(self, code: str, message: str, span: n.Span | None, *notes: str) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, notes))

    # ── driver ──
    def run(self) -> ir.Policy:
        items = self.policy.items
        meta = self._meta([i for i in items if isinstance(i, n.Meta)])
        self._declare_names(items)
        for item in items:
            if isinstance(item, n.EnumDecl):
                self._enum(item)
        for item in items:
            match item:
                case n.InputBlock(fields=fields):
                    for field in fields:
                        self.inputs[field.name] = self._field(field)
                        if field.default is None:
                            self.required_inputs.add(field.name)
                case n.ParamDecl(field=field):
                    self.params[field.name] = self._field(field)
                case n.SharesDecl() | n.WaterfallDecl():
                    self.allocation_parts[item.name] = self._part_types(item)
                case n.LetDecl():
                    self.let_nodes[item.name] = item
        for name in self.let_nodes:
            self.let_type(name)
        checks: list[ir.Check] = []
        allocations: list[ir.Allocation] = []
        tests: list[n.TestDecl] = []
        portfolio: ir.Portfolio | None = None
        for item in items:
            match item:
                case n.RuleDecl():
                    checks.append(self._rule(item))
                case n.LimitDecl():
                    checks.append(self._limit(item))
                case n.SharesDecl():
                    allocations.append(self._tracked(("allocation", item.name), self._shares, item))
                case n.WaterfallDecl():
                    allocations.append(
                        self._tracked(("allocation", item.name), self._waterfall, item))
                case n.PortfolioDecl():
                    if portfolio is not None:
                        self.error("E403", "a policy has one portfolio block (the first is on "
                                   f"line {portfolio.span.line})", item.span)
                        continue
                    portfolio = check_portfolio(item, self, self.typer, self.inputs)
                    self.portfolio = portfolio
                case n.TestDecl():
                    tests.append(item)
        order = self._order()
        checked_tests = self._tests(tests, checks)
        if self.diagnostics:
            raise PolicyError(sorted(self.diagnostics, key=_position))
        return ir.Policy(
            name=self.policy.name,
            title=self.policy.title.value,
            meta=meta,
            enums=tuple(self.enums.values()),
            inputs=tuple(self.inputs.values()),
            params=tuple(self.params.values()),
            lets=tuple(self.lets[name] for name in self.let_nodes),
            checks=tuple(checks),
            allocations=tuple(allocations),
            tests=checked_tests,
            order=order,
            file=self.policy.span.file,
            portfolio=portfolio,
            name_span=self.policy.name_span,
        )

    # ── metadata and names ──
    def _meta(self, metas: list[n.Meta]) -> ir.Meta:
        seen: dict[str, str] = {}
        for meta in metas:
            if meta.key in seen:
                self.error("E407", f"`{meta.key}` is given twice", meta.span)
            seen[meta.key] = meta.value
        import datetime

        effective = seen.get("effective")
        return ir.Meta(
            issuer=seen.get("issuer"),
            document=seen.get("document"),
            region=seen.get("region"),
            version=seen.get("version"),
            effective=datetime.date.fromisoformat(effective) if effective else None,
            supersedes=seen.get("supersedes"),
        )

    def _declare_names(self, items: tuple[n.Decl, ...]) -> None:
        for kind, name, span, node in _declarations(items):
            if name in self.names:
                first = self.names[name]
                article = "an" if first.kind[0] in "aeiou" else "a"
                self.error("E403", f"`{name}` is already declared as {article} {first.kind} "
                           f"(line {first.span.line})", span)
                continue
            self.names[name] = _Declared(kind, node, span)

    def _enum(self, decl: n.EnumDecl) -> None:
        members: dict[str, ir.EnumMember] = {}
        for member in decl.members:
            if member.name in members:
                self.error("E403", f"member `{member.name}` is listed twice in enum "
                           f"`{decl.name}`", member.span)
                continue
            members[member.name] = ir.EnumMember(member.name,
                                                 member.label.value if member.label else None)
            self.members.setdefault(member.name, []).append(decl.name)
        if not members:
            self.error("E307", f"enum `{decl.name}` has no members", decl.name_span)
        self.enums[decl.name] = ir.EnumDef(decl.name, tuple(members.values()), decl.span)

    def resolve_type(self, ref: n.TypeRef) -> ir.Type:
        if ref.name in ir.BUILTIN_TYPES:
            return ir.BUILTIN_TYPES[ref.name]
        if ref.name in self.enums:
            return ir.Type(ir.Kind.ENUM, ref.name)
        self.error("E208", f"unknown type `{ref.name}`", ref.span,
                   *did_you_mean(ref.name, [*ir.BUILTIN_TYPES, *self.enums], _TYPE_WORDS),
                   "types are money, percent, number, duration, date, bool or a declared enum")
        return ERROR

    def _field(self, field: n.Field) -> ir.Field:
        type_ = self.resolve_type(field.type)
        default = None
        if field.default is not None and not is_error(type_):
            default = self.constant(field.default, type_, f"the default of `{field.name}`")
            if type_.numeric and isinstance(default, Decimal):
                # A default is a value as a case or `--param` gives it, and holds to the
                # same range: the generated module refused 1532851900亿 with pydantic's
                # ValidationError while the interpreter and SQL used it.
                from policylang.cases import scale_problem

                problem = scale_problem(default, format_decimal(default))
                if problem is not None:
                    self.error("E207", f"the default of `{field.name}`: {problem}",
                               field.default.span)
                    default = None
        return ir.Field(field.name, type_, default,
                        field.description.value if field.description else None, field.span)

    def constant(self, expr: n.Expr, expected: ir.Type, what: str) -> ir.Value | None:
        """A compile-time value of the expected type (defaults, shares, test values)."""
        typed = self.typer.expr(expr, constant=True)
        if is_error(typed.type) or is_error(expected):  # already reported
            return None
        if typed.type != expected:
            self.error("E207", f"{what} must be {expected}, not {typed.type}", expr.span,
                       *_literal_hint(expr, expected))
            return None
        return fold_constant(typed, self)

    def _part_types(self, decl: n.SharesDecl | n.WaterfallDecl) -> dict[str, ir.Type]:
        if isinstance(decl, n.SharesDecl):
            part_type = ir.PERCENT if decl.amount is None else ir.MONEY
            return {part.party: part_type for part in decl.parts}
        parties: dict[str, ir.Type] = {}
        for step in decl.steps:
            for party in _step_parties(step):
                parties[party] = ir.MONEY
        if not any(isinstance(step, n.RestStep) for step in decl.steps):
            parties[ir.UNALLOCATED] = ir.MONEY
        return parties

    # ── Scope: what names mean inside expressions ──
    def lookup(self, name: str, span: n.Span) -> ir.Expr:
        if name in self.inputs:
            return ir.InputRef(name, self.inputs[name].type, span)
        if name in self.params:
            return ir.ParamRef(name, self.params[name].type, span)
        if name in self.let_nodes:
            if self.current_refs is not None:
                self.current_refs.add(("let", name))
            return ir.LetRef(name, self.let_type(name), span)
        if name in self.members:
            enums = self.members[name]
            if len(enums) > 1:
                self.error("E404", f"`{name}` is a member of several enums "
                           f"({', '.join(enums)}); write `{enums[0]}.{name}`", span)
                return ir.Const(name, ERROR, span)
            return ir.Const(name, ir.Type(ir.Kind.ENUM, enums[0]), span)
        declared = self.names.get(name)
        if declared is not None:
            self.error("E408", f"`{name}` is a {declared.kind}, not a value", span,
                       *(["refer to one of its parts: " + ", ".join(
                           f"{name}.{p}" for p in self.allocation_parts[name])]
                         if name in self.allocation_parts else []))
        else:
            self.error("E402", f"unknown name `{name}`", span, *self._suggest(name))
        return ir.Const(name, ERROR, span)

    def lookup_member(self, node: n.Member) -> ir.Expr:
        column = self.book_columns.get((node.base, node.member))
        if column is not None:  # `monitor.NAME`, `budget.NAME` in a book test's expectation
            return ir.InputRef(column[0], column[1], node.span)
        if node.base in self.enums:
            if node.member in {m.name for m in self.enums[node.base].members}:
                return ir.Const(node.member, ir.Type(ir.Kind.ENUM, node.base), node.span)
            members = [m.name for m in self.enums[node.base].members]
            self.error("E405", f"enum `{node.base}` has no member `{node.member}`",
                       node.member_span, *did_you_mean(node.member, members),
                       "its members are " + ", ".join(members))
            return ir.Const(node.member, ERROR, node.span)
        if node.base in self.allocation_parts:
            parts = self.allocation_parts[node.base]
            if node.member in parts:
                if self.current_refs is not None:
                    self.current_refs.add(("allocation", node.base))
                return ir.PartRef(node.base, node.member, parts[node.member], node.span)
            self.error("E405", f"`{node.base}` has no part `{node.member}`", node.member_span,
                       "its parts are " + ", ".join(parts))
            return ir.Const(node.member, ERROR, node.span)
        return self.lookup(node.base, node.span)

    def _suggest(self, name: str) -> list[str]:
        candidates = list(self.inputs) + list(self.params) + list(self.let_nodes) + list(
            self.members)
        return did_you_mean(name, candidates)

    # ── lets and dependencies ──
    def let_type(self, name: str) -> ir.Type:
        if name in self.let_types:
            return self.let_types[name]
        if name in self.let_stack:
            return ERROR  # a cycle; reported once by _order
        decl = self.let_nodes[name]
        self.let_stack.append(name)
        saved = self.current_refs
        self.current_refs = set()
        expr = self.typer.expr(decl.expr)
        self.dependencies[("let", name)] = self.current_refs
        self.current_refs = saved
        self.let_stack.pop()
        type_ = expr.type
        if decl.type is not None:
            declared = self.resolve_type(decl.type)
            if not is_error(declared) and not is_error(type_) and declared != type_:
                self.error("E207", f"`{name}` is declared {declared} but its value is {type_}",
                           decl.expr.span)
            type_ = declared
        if decl.clauses.when is not None:
            self.error("E409", "a let has no `when`; use `if … then … else`",
                       decl.clauses.when.span)
        self.let_types[name] = type_
        self.lets[name] = ir.Let(name, type_, expr, _text(decl.clauses.cite),
                                 _text(decl.clauses.says), decl.span)
        return type_

    def _tracked(self, key: ir.OrderItem, build, decl):
        saved = self.current_refs
        self.current_refs = set()
        result = build(decl)
        self.dependencies[key] = self.current_refs
        self.current_refs = saved
        return result

    def _order(self) -> tuple[ir.OrderItem, ...]:
        """Lets and allocations in an order that respects dependencies (E401 on a cycle)."""
        order: list[ir.OrderItem] = []
        state: dict[ir.OrderItem, str] = {}
        path: list[ir.OrderItem] = []

        def visit(item: ir.OrderItem) -> None:
            if state.get(item) == "done":
                return
            if state.get(item) == "active":
                cycle = path[path.index(item):] + [item]
                first = cycle[0]
                span = (self.let_nodes[first[1]].name_span if first[0] == "let"
                        else self.names[first[1]].span)
                self.error("E401", "cycle: " + " → ".join(name for _, name in cycle), span)
                return
            state[item] = "active"
            path.append(item)
            for dependency in sorted(self.dependencies.get(item, ())):
                visit(dependency)
            path.pop()
            state[item] = "done"
            order.append(item)

        for item in self.dependencies:
            visit(item)
        return tuple(order)

    # ── rules and limits ──
    def _guard(self, clauses: n.Clauses) -> ir.Expr | None:
        if clauses.when is None:
            return None
        return self.typer.condition(clauses.when, "a `when` guard")

    def _rule(self, decl: n.RuleDecl) -> ir.Rule:
        cond = self.typer.condition(decl.cond, f"rule `{decl.name}`'s condition")
        return ir.Rule(decl.name, cond, self._guard(decl.clauses), _text(decl.clauses.cite),
                       _text(decl.clauses.says), decl.span)

    def _limit(self, decl: n.LimitDecl) -> ir.Limit:
        subject = self.typer.expr(decl.subject)
        bound = self.typer.expr(decl.bound)
        first, last = decl.subject.span, decl.bound.span  # the whole comparison
        whole = n.Span(first.file, first.line, first.column, last.end_line, last.end_column)
        self.typer.comparable(decl.op, subject, bound, whole, decl.bound.span)
        return ir.Limit(decl.name, subject, decl.op, bound, self._guard(decl.clauses),
                        _text(decl.clauses.cite), _text(decl.clauses.says), decl.span)

    # ── allocations (shares, waterfall) ──
    def _amount(self, expr: n.Expr, what: str) -> ir.Expr:
        typed = self.typer.expr(expr)
        if not is_error(typed.type) and typed.type != ir.MONEY:
            self.error("E306", f"{what} must be money, not {typed.type}", expr.span)
        return typed

    def _shares(self, decl: n.SharesDecl) -> ir.Shares:
        self._no_guard(decl.clauses)
        amount = self._amount(decl.amount, "the amount shared") if decl.amount else None
        expected = ir.NUMBER if decl.ratio else ir.PERCENT
        parts: list[ir.SharePart] = []
        seen: set[str] = set()
        for part in decl.parts:
            if part.party in seen:
                self.error("E304", f"party `{part.party}` is listed twice", part.span)
                continue
            seen.add(part.party)
            weight = self._share(part.value, expected, "a ratio" if decl.ratio else "shares")
            if weight is None:
                continue
            if weight < 0 or (decl.ratio and weight == 0):
                self.error("E308", f"the share of `{part.party}` must be positive",
                           part.value.span)
            parts.append(ir.SharePart(part.party, weight))
        if not decl.parts:
            self.error("E307", f"shares `{decl.name}` has no parts", decl.name_span)
        elif not decl.ratio and len(parts) == len(decl.parts):
            total = sum((p.weight for p in parts), Decimal(0))
            if total != 1:
                self.error("E301", f"the shares of `{decl.name}` sum to "
                           f"{_percent_text(total)}, not 100%", decl.span)
        return ir.Shares(decl.name, decl.ratio, tuple(parts), amount,
                         _text(decl.clauses.cite), _text(decl.clauses.says), decl.span)

    def _waterfall(self, decl: n.WaterfallDecl) -> ir.Waterfall:
        self._no_guard(decl.clauses)
        amount = self._amount(decl.amount, "the amount of a waterfall")
        steps: list[ir.Step] = []
        if not decl.steps:
            self.error("E307", f"waterfall `{decl.name}` has no steps", decl.name_span)
        for index, step in enumerate(decl.steps):
            self._no_guard(step.clauses)
            says = _text(step.clauses.says)
            match step:
                case n.TakeStep(party=party, cap=cap):
                    steps.append(ir.Take(party, self._amount(cap, "a cap"), says, step.span))
                case n.SplitStep(parts=parts):
                    steps.append(self._split(parts, says, step.span))
                case n.RestStep(party=party):
                    if index != len(decl.steps) - 1:
                        self.error("E305", "`rest` must be the last step of a waterfall",
                                   step.span)
                    steps.append(ir.Rest(party, says, step.span))
        return ir.Waterfall(decl.name, amount, tuple(steps), _text(decl.clauses.cite),
                            _text(decl.clauses.says), decl.span)

    def _split(self, parts: tuple[n.SplitPart, ...], says: str | None, span: n.Span) -> ir.Split:
        checked: list[ir.SplitPart] = []
        seen: set[str] = set()
        for part in parts:
            if part.party in seen:
                self.error("E304", f"party `{part.party}` is listed twice in one split",
                           part.span)
                continue
            seen.add(part.party)
            share = self._share(part.share, ir.PERCENT, "a split")
            cap = self._amount(part.cap, "a cap") if part.cap is not None else None
            if share is not None:
                if share < 0:
                    self.error("E308", f"the share of `{part.party}` must be positive",
                               part.share.span)
                checked.append(ir.SplitPart(part.party, share, cap))
        if not parts:
            self.error("E307", "a split needs at least one part", span)
        elif len(checked) == len(parts):
            total = sum((p.share for p in checked), Decimal(0))
            if total != 1:
                self.error("E302", f"the split sums to {_percent_text(total)}, not 100%", span)
        return ir.Split(tuple(checked), says, span)

    def _share(self, value: n.Expr, expected: ir.Type, where: str) -> Decimal | None:
        """A share's constant weight, or None (reported): E303 when it has the wrong type,
        the same in `shares`, `ratio` and a waterfall's `split`."""
        typed = self.typer.expr(value, constant=True)
        if is_error(typed.type):
            return None
        if typed.type != expected:
            hint = (["the parts of a `ratio` are plain numbers (`2 : 4 : 2.5`); without "
                     "`ratio`, shares are percents"] if _ratio_of_percents(where, typed.type)
                    else _literal_hint(value, expected))
            self.error("E303", f"a share in {where} must be a {expected}, not {typed.type}",
                       value.span, *hint)
            return None
        return fold_constant(typed, self)

    def _no_guard(self, clauses: n.Clauses) -> None:
        if clauses.when is not None:
            self.error("E409", "an allocation has no `when`; put the condition in its amount",
                       clauses.when.span)

    # ── tests ──
    def _tests(self, tests: list[n.TestDecl], checks: list[ir.Check]) -> tuple[ir.Test, ...]:
        from policylang.testing import check_tests

        return check_tests(self, tests, {c.name for c in checks})


def _declarations(items: tuple[n.Decl, ...]) -> Iterator[tuple[str, str, n.Span, object]]:
    for item in items:
        match item:
            case n.EnumDecl():
                yield "enum", item.name, item.name_span, item
            case n.InputBlock(fields=fields):
                for field in fields:
                    yield "input", field.name, field.name_span, field
            case n.ParamDecl(field=field):
                yield "param", field.name, field.name_span, field
            case n.LetDecl():
                yield "let", item.name, item.name_span, item
            case n.RuleDecl():
                yield "rule", item.name, item.name_span, item
            case n.LimitDecl():
                yield "limit", item.name, item.name_span, item
            case n.SharesDecl():
                yield "shares", item.name, item.name_span, item
            case n.WaterfallDecl():
                yield "waterfall", item.name, item.name_span, item


def _step_parties(step: n.Step) -> list[str]:
    match step:
        case n.TakeStep(party=party) | n.RestStep(party=party):
            return [party]
        case n.SplitStep(parts=parts):
            return [p.party for p in parts]


# Words a drafter may write for a type (Chinese, or spelt another way) → the type meant.
_TYPE_WORDS = {"金额": "money", "货币": "money", "元": "money", "百分比": "percent",
               "比例": "percent", "利率": "percent", "费率": "percent", "数字": "number",
               "数值": "number", "期限": "duration", "时长": "duration", "日期": "date",
               "布尔": "bool", "是否": "bool", "boolean": "bool", "int": "number",
               "integer": "number", "decimal": "number", "amount": "money",
               "rate": "percent"}


def did_you_mean(name: str, candidates: list[str],
                 words: dict[str, str] | None = None) -> list[str]:
    """`did you mean …?` for a misspelt name, when a candidate is close enough."""
    import difflib

    meant = (words or {}).get(name.lower())
    if meant is not None:
        return [f"did you mean `{meant}`?"]
    close = difflib.get_close_matches(name, candidates, n=1)
    return [f"did you mean `{close[0]}`?"] if close else []


def _literal_hint(expr: n.Expr, expected: ir.Type) -> list[str]:
    """How to write a plain number (or a date) as the value of the expected type."""
    if isinstance(expr, n.NumberLit):
        text = expr.text
        return {ir.MONEY: [f"write it with a unit: `{text}元` or `{text}万`"],
                ir.PERCENT: [f"write it with a unit: `{text}%`"],
                ir.DURATION: [f"write it with a unit: `{text} months` or `{text} days`"],
                }.get(expected, [])
    if expected == ir.DATE and isinstance(expr, n.Binary):  # 2022-6-1, 2022/06/01
        return ["a date is written year-month-day with two-digit month and day: `2022-06-01`"]
    return []


def _ratio_of_percents(where: str, got: ir.Type) -> bool:
    return where == "a ratio" and got == ir.PERCENT


def _text(text: n.Text | None) -> str | None:
    return text.value if text is not None else None


def _percent_text(fraction: Decimal) -> str:
    from policylang.values import EXACT, format_decimal

    return f"{format_decimal(fraction.scaleb(2, EXACT))}%"


def _position(d: Diagnostic) -> tuple[int, int]:
    return (d.span.line, d.span.column) if d.span else (0, 0)
