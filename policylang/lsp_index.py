"""What the language server knows about one document: diagnostics, symbols, hovers.

`analyze(source, file)` parses and checks with the compiler's own parser and checker (no
second parser) and returns an `Analysis`: the diagnostics (every `PolicyError` of the
file, and failing test blocks as E506), and an index of every declaration and every use
of a name, keyed so that an input, a param, a let, an enum and its members, an
allocation and its parts each find their definition and references. Positions here are
0-based lines and 0-based code-point columns; `lsp.py` converts them for the client.
Nothing here speaks LSP; it hands plain values to the server.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from policylang import ir
from policylang import nodes as n
from policylang.checker import check
from policylang.diagnostics import Diagnostic, PolicyError
from policylang.formatter import by_lf, format_expr
from policylang.lsp_incremental import field_names
from policylang.parser import parse

# A key identifies what a name denotes: ("name", x) for a top-level declaration,
# ("member", enum, member) for an enum member, ("part", allocation, party) for a part.
Key = tuple[str, ...]

UNITS = {ir.Kind.MONEY: "元 (yuan; 万 = 10⁴, 亿 = 10⁸)",
         ir.Kind.PERCENT: "% (a fraction; bp = 0.01%)",
         ir.Kind.DURATION: "months or days (1 year = 12 months)", ir.Kind.NUMBER: "a plain number",
         ir.Kind.DATE: "a calendar date", ir.Kind.BOOL: "true or false"}


@dataclass(frozen=True, slots=True)
class Range:
    """0-based start and end (exclusive), columns in code points."""

    line: int
    column: int
    end_line: int
    end_column: int

    def contains(self, line: int, column: int) -> bool:
        after_start = (line, column) >= (self.line, self.column)
        return after_start and (line, column) <= (self.end_line, self.end_column)


def to_range(span: n.Span | None) -> Range:
    if span is None:
        return Range(0, 0, 0, 0)
    return Range(span.line - 1, span.column - 1, span.end_line - 1, span.end_column - 1)


@dataclass(frozen=True, slots=True)
class Definition:
    key: Key
    kind: str  # input, param, let, rule, limit, enum, member, shares, waterfall, part, test
    name: str
    range: Range  # the name
    full_range: Range  # the whole declaration
    hover: str  # markdown


@dataclass(frozen=True, slots=True)
class Reference:
    key: Key
    range: Range


@dataclass
class Analysis:
    """Diagnostics at once; the index of names is built on first use (not on every edit)."""

    diagnostics: list[Diagnostic]
    ast: n.Policy | None
    policy: ir.Policy | None
    source: str = ""
    _definitions: dict[Key, Definition] = field(default_factory=dict)
    _references: list[Reference] = field(default_factory=list)
    _indexed: bool = False

    def _index(self) -> None:
        if not self._indexed:
            self._indexed = True
            if self.ast is not None:
                _Indexer(self, self.source).run()

    @property
    def definitions(self) -> dict[Key, Definition]:
        self._index()
        return self._definitions

    @property
    def references(self) -> list[Reference]:
        self._index()
        return self._references

    def at(self, line: int, column: int) -> Key | None:
        """The key of the name under the cursor (a use or a declaration)."""
        for ref in self.references:
            if ref.range.contains(line, column):
                return ref.key
        for definition in self.definitions.values():
            if definition.range.contains(line, column):
                return definition.key
        return None

    def uses(self, key: Key) -> list[Range]:
        return [ref.range for ref in self.references if ref.key == key]


def analyze(source: str, file: str, run_tests: bool = True,
            parser: Callable[[str, str], n.Policy] = parse) -> Analysis:
    """Parse, check and index one document; failing tests become E506 diagnostics.

    `parser` is `parse` or an `lsp_incremental.IncrementalParser` (the same result, faster
    on an edited text)."""
    try:
        ast = parser(source, file)
    except PolicyError as error:
        return Analysis(list(error.diagnostics), None, None)
    policy: ir.Policy | None = None
    diagnostics: list[Diagnostic] = []
    try:
        policy = check(ast, source)
    except PolicyError as error:
        diagnostics = list(error.diagnostics)
    analysis = Analysis(diagnostics, ast, policy, source)
    if policy is not None and run_tests:
        analysis.diagnostics += test_diagnostics(policy)
    return analysis


def test_diagnostics(policy: ir.Policy) -> list[Diagnostic]:
    """Each failed expectation as an E506 diagnostic on its line (a test that cannot run:
    E507 on its `test` line)."""
    return [diagnostic for _, diagnostic in failing_tests(policy)]


# A failing test's diagnostic, keyed by the test's name and how many lines below the test's
# `test` line it sits: where `moved_to` puts it again once the text above has moved.
Failing = list[tuple[tuple[str, int], Diagnostic]]


def failing_tests(policy: ir.Policy) -> Failing:
    """Each failing test block's diagnostics: E506 at each failed expectation, E507 at the
    test if it cannot run."""
    from policylang.api import run_tests

    found: Failing = []
    for result in run_tests(policy):
        test = result.test
        if result.error is not None:
            first = result.error.diagnostics[0]
            found.append(((test.name, 0), Diagnostic(
                "E507", f"test “{test.name}”: {first.message}", test.span)))
            continue
        spans = {e.span.line: e.span for e in test.expectations}
        lines = result.failure_lines or [test.span.line] * len(result.failures)
        for failure, line in zip(result.failures, lines, strict=True):
            span = spans.get(line, test.span)
            found.append(((test.name, span.line - test.span.line), Diagnostic(
                "E506", f"test “{test.name}” fails: {failure}", span)))
    return found


def moved_to(failing: Failing, policy: ir.Policy) -> list[Diagnostic]:
    """Earlier test results on the tests of the same name in `policy`, wherever they are now
    (each as far below its test's line as it was).

    What the server shows for failing tests until they have run again on the new text."""
    spans = {test.name: test.span for test in policy.tests}
    moved = []
    for (name, below), diagnostic in failing:
        if name not in spans or diagnostic.span is None:
            continue
        line = spans[name].line + below
        old = diagnostic.span
        moved.append(dataclasses.replace(diagnostic, span=dataclasses.replace(
            old, file=spans[name].file, line=line, end_line=line + old.end_line - old.line)))
    return moved


def carried_to(parsed: Analysis, source: str) -> Analysis:
    """The index of `parsed` (an earlier text that parsed) moved onto `source`, the text now.

    While a drafter types, most texts do not parse; the server answers from the last one
    that did. Its positions were that text's: after a line was typed or deleted above, a
    hover over `loan_amount` showed another name, and a definition's or reference's range
    fell on other characters. Here each name keeps its place if its line is still there
    (moved as lines were inserted or deleted above it), or was edited only after the name;
    a name on a line that changed before or into it is dropped, and with it (a
    definition) what it declares."""
    old_lines = parsed.source.split("\n")
    new_lines = source.split("\n")
    lines: dict[int, int] = {}  # an old line → the same line now (its text may have changed)
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "equal" or old_end - old_start == new_end - new_start:
            lines.update(zip(range(old_start, old_end), range(new_start, new_end), strict=True))

    def kept(line: int, column: int) -> int | None:
        """Where the text up to (line, column) is the same now: that line now."""
        now = lines.get(line)
        if now is None or old_lines[line][:column] != new_lines[now][:column]:
            return None
        return now

    def name(r: Range) -> Range | None:
        now = kept(r.line, r.end_column)
        if now is None or r.line != r.end_line or _WORD.match(new_lines[now], r.end_column):
            return None  # (a name typed on: `loan_amount` made `loan_amountx`)
        return Range(now, r.column, now, r.end_column)

    def declaration(r: Range) -> Range | None:
        start, end = kept(r.line, r.column), lines.get(r.end_line)
        if start is None or end is None:
            return None
        end_column = (r.end_column if kept(r.end_line, r.end_column) is not None
                      else len(new_lines[end]))  # the last line edited: all of it now
        return Range(start, r.column, end, end_column)

    moved = Analysis(parsed.diagnostics, parsed.ast, parsed.policy, source, _indexed=True)
    for key, definition in parsed.definitions.items():
        at, whole = name(definition.range), declaration(definition.full_range)
        if at is not None and whole is not None:
            moved._definitions[key] = dataclasses.replace(definition, range=at,
                                                          full_range=whole)
    for reference in parsed.references:
        if (at := name(reference.range)) is not None:
            moved._references.append(Reference(reference.key, at))
    return moved


_WORD = re.compile(r"\w")


# ── the index ──────────────────────────────────────────────────────────────


def _nodes(value: object) -> Iterator[object]:
    """Every AST (or IR) node under `value`, depth first, parents before their children."""
    stack = [value]
    while stack:
        value = stack.pop()
        if isinstance(value, tuple):
            stack.extend(reversed(value))
        elif not isinstance(value, n.Span) and (names := field_names(value)) is not None:
            yield value
            stack.extend(getattr(value, name) for name in reversed(names))


def _word_range(source_lines: list[str], span: n.Span, word: str, skip: int = 0) -> Range:
    """Where `word` (a whole name) first occurs inside `span`, after `skip` characters."""
    line = source_lines[span.line - 1] if span.line - 1 < len(source_lines) else ""
    start = span.column - 1 + skip
    pattern = re.compile(r"(?<!\w)" + re.escape(word) + r"(?!\w)")
    found = pattern.search(line, start)
    column = found.start() if found else span.column - 1
    return Range(span.line - 1, column, span.line - 1, column + len(word))


def _name_range(span: n.Span, name: str) -> Range:
    """A name at the start of a span."""
    return Range(span.line - 1, span.column - 1, span.line - 1, span.column - 1 + len(name))


class _Indexer:
    def __init__(self, analysis: Analysis, source: str):
        self.analysis = analysis
        # Lines as the parser counts them: str.splitlines also breaks at a form feed,
        # \u2028, \x85 ..., which put every part after one on the wrong line.
        self.lines = by_lf(source).split("\n")
        assert analysis.ast is not None
        self.ast = analysis.ast
        self.enums = {item.name: item for item in self.ast.items if isinstance(item, n.EnumDecl)}
        self.allocations = {item.name for item in self.ast.items
                            if isinstance(item, n.SharesDecl | n.WaterfallDecl)}
        self.bare_members: dict[str, list[str]] = {}
        for enum in self.enums.values():
            for member in enum.members:
                self.bare_members.setdefault(member.name, []).append(enum.name)

    def define(self, key: Key, kind: str, name: str, name_range: Range, span: n.Span,
               hover: str) -> None:
        self.analysis._definitions.setdefault(
            key, Definition(key, kind, name, name_range, to_range(span), hover))

    def refer(self, key: Key, at: Range) -> None:
        self.analysis._references.append(Reference(key, at))

    def run(self) -> None:
        self.hovers = _Hovers(self.analysis.policy, self.ast)
        for item in self.ast.items:
            self.declare(item)
        declared = {key[1] for key in self.analysis._definitions if key[0] == "name"}
        for node in _nodes(self.ast.items):
            self.use(node, declared)

    # ── declarations ──
    def declare(self, item: n.Decl) -> None:
        hovers = self.hovers
        match item:
            case n.InputBlock(fields=fields):
                for f in fields:
                    self.define(("name", f.name), "input", f.name, to_range(f.name_span), f.span,
                                hovers.field("input", f))
            case n.ParamDecl(field=f):
                self.define(("name", f.name), "param", f.name, to_range(f.name_span), item.span,
                            hovers.field("param", f))
            case n.LetDecl() | n.RuleDecl() | n.LimitDecl():
                kind = {n.LetDecl: "let", n.RuleDecl: "rule", n.LimitDecl: "limit"}[type(item)]
                self.define(("name", item.name), kind, item.name, to_range(item.name_span),
                            item.span, hovers.declaration(item))
            case n.EnumDecl(name=name, members=members):
                self.define(("name", name), "enum", name, to_range(item.name_span), item.span,
                            hovers.enum(item))
                for member in members:
                    label = f" — {member.label.value}" if member.label else ""
                    self.define(("member", name, member.name), "member", member.name,
                                _name_range(member.span, member.name), member.span,
                                f"enum member `{name}.{member.name}`{label}")
            case n.SharesDecl() | n.WaterfallDecl():
                kind = "shares" if isinstance(item, n.SharesDecl) else "waterfall"
                self.define(("name", item.name), kind, item.name, to_range(item.name_span),
                            item.span, hovers.allocation(item))
                for party, span, skip in _parties(item):
                    self.define(("part", item.name, party), "part", party,
                                _word_range(self.lines, span, party, skip), span,
                                hovers.part(item, party))
                if isinstance(item, n.WaterfallDecl) and not any(
                        isinstance(step, n.RestStep) for step in item.steps):
                    self.define(("part", item.name, ir.UNALLOCATED), "part", ir.UNALLOCATED,
                                to_range(item.name_span), item.span,
                                f"**part** `{item.name}.{ir.UNALLOCATED}`: what no step of "
                                "the waterfall takes (it has no `rest`); type `money`")
            case n.TestDecl(name=name):
                self.define(("test", name.value), "test", name.value, to_range(name.span),
                            item.span, f"test “{name.value}”")
            case n.PortfolioDecl(rules=rules):
                for rule in rules:
                    self.define(("name", rule.name), rule.kind, rule.name,
                                to_range(rule.name_span), rule.span,
                                f"{rule.kind} `{rule.name}`" + _cite_line(rule.clauses))
            case n.Meta():
                pass

    # ── uses ──
    def use(self, node: object, declared: set[str]) -> None:
        match node:
            case n.Name(name=name, span=span):
                if name in declared:
                    self.refer(("name", name), to_range(span))
                elif len(self.bare_members.get(name, [])) == 1:
                    self.refer(("member", self.bare_members[name][0], name), to_range(span))
            case n.Member(base=base, member=member, span=span, member_span=member_span):
                if base in self.enums:
                    self.refer(("name", base), _name_range(span, base))
                    self.refer(("member", base, member), to_range(member_span))
                elif base in self.allocations:
                    self.refer(("name", base), _name_range(span, base))
                    self.refer(("part", base, member), to_range(member_span))
            case n.TypeRef(name=name, span=span) if name in self.enums:
                self.refer(("name", name), to_range(span))
            case n.Binding(name=name, span=span) if name in declared:
                self.refer(("name", name), _name_range(span, name))
            case n.ExpectOutcome(rule=rule, rule_span=span):
                self.refer(("name", rule), to_range(span))
            case n.ExpectMonitor(monitor=monitor, monitor_span=span):
                self.refer(("name", monitor), to_range(span))
            case n.PortfolioDecl(order_by=str() as order_by, order_span=span):
                self.refer(("name", order_by), to_range(span))


def _parties(item: n.SharesDecl | n.WaterfallDecl) -> Iterator[tuple[str, n.Span, int]]:
    """Each party with the span its name is in and how far into it the name starts."""
    if isinstance(item, n.SharesDecl):
        for part in item.parts:
            yield part.party, part.span, 0
        return
    for step in item.steps:
        match step:
            case n.TakeStep(party=party, span=span):
                yield party, span, len("take")
            case n.RestStep(party=party, span=span):
                yield party, span, len("rest")
            case n.SplitStep(parts=parts):
                for part in parts:
                    yield part.party, part.span, 0


def _cite_line(clauses: n.Clauses) -> str:
    lines = ""
    if clauses.cite:
        lines += f"\n\n**cite** {clauses.cite.value}"
    if clauses.says:
        lines += f"\n\n*{clauses.says.value}*"
    return lines


class _Hovers:
    """Markdown for each declaration: type and unit, description, formula, citation."""

    def __init__(self, policy: ir.Policy | None, ast: n.Policy):
        self.policy = policy
        self.ast = ast
        # Looked up by name once here, not searched for each declaration.
        self.lets = {let.name: let for let in policy.lets} if policy else {}
        self.limits = ({c.name: c for c in policy.checks if isinstance(c, ir.Limit)}
                       if policy else {})
        self.defaults = {p.name: p.default for p in policy.params} if policy else {}
        self.let_params_only: dict[str, bool] = {}

    def _params_only(self, expr: object) -> bool:
        """Whether an IR expression reads only constants and params that have defaults."""
        for node in _nodes(expr):
            match node:
                case ir.InputRef() | ir.PartRef():
                    return False
                case ir.ParamRef(name=name) if self.defaults.get(name) is None:
                    return False
                case ir.LetRef(name=name) if not self._let_params_only(name):
                    return False
        return True

    def _let_params_only(self, name: str) -> bool:
        if name not in self.let_params_only:  # each let walked once, however often used
            self.let_params_only[name] = False  # (a cycle was reported by the checker)
            let = self.lets.get(name)
            self.let_params_only[name] = let is not None and self._params_only(let.expr)
        return self.let_params_only[name]

    def _type_line(self, type_name: str) -> str:
        kind = ir.BUILTIN_TYPES.get(type_name)
        unit = UNITS.get(kind.kind) if kind else None
        return f"type `{type_name}`" + (f", unit {unit}" if unit else " (enum)")

    def field(self, kind: str, f: n.Field) -> str:
        text = f"**{kind}** `{f.name}`: {self._type_line(f.type.name)}"
        if f.description:
            text += f"\n\n{f.description.value}"
        text += (f"\n\ndefault `{format_expr(f.default)}`" if f.default is not None
                 else ("\n\nrequired" if kind == "input" else "\n\nno default: supply it"))
        return text

    def declaration(self, item: n.LetDecl | n.RuleDecl | n.LimitDecl) -> str:
        match item:
            case n.LetDecl(name=name, expr=expr):
                type_name = item.type.name if item.type else self._let_type(name)
                head = f"**let** `{name}`" + (f": {self._type_line(type_name)}" if type_name
                                                else "")
                body = f"```pol\n{name} = {format_expr(expr)}\n```"
            case n.RuleDecl(name=name, cond=cond):
                head = f"**rule** `{name}`"
                body = f"```pol\n{format_expr(cond)}\n```"
            case n.LimitDecl(name=name, subject=subject, op=op, bound=bound):
                head = f"**limit** `{name}`"
                body = (f"```pol\n{format_expr(subject)} {op} {format_expr(bound)}\n```"
                        f"\n\nbound: `{format_expr(bound)}`" + self._bound_value(name))
        if item.clauses.when is not None:
            body += f"\n\napplies when `{format_expr(item.clauses.when)}`"
        return f"{head}\n\n{body}{_cite_line(item.clauses)}"

    def _bound_value(self, limit: str) -> str:
        """` = 5.22%` when the bound depends on params only (evaluated at their defaults)."""
        if self.policy is None:
            return ""
        found = self.limits.get(limit)
        defaults = self.defaults
        if found is None or isinstance(found.bound, ir.Const) or not self._params_only(
                found.bound):
            return ""
        from policylang.interpret import Evaluator
        from policylang.values import literal

        try:
            value = Evaluator(self.policy, {}, defaults).expr(found.bound)
        except PolicyError:  # e.g. a division by zero at the defaults
            return ""
        return f" = `{literal(value, found.bound.type)}` at the params' defaults"

    def _let_type(self, name: str) -> str | None:
        let = self.lets.get(name)
        return str(let.type) if let is not None else None

    def enum(self, item: n.EnumDecl) -> str:
        members = "\n".join(f"- `{m.name}`" + (f" — {m.label.value}" if m.label else "")
                            for m in item.members)
        return f"**enum** `{item.name}`\n\n{members}"

    def allocation(self, item: n.SharesDecl | n.WaterfallDecl) -> str:
        parties = ", ".join(dict.fromkeys(party for party, _, _ in _parties(item)))
        if isinstance(item, n.SharesDecl):
            of = f" of `{format_expr(item.amount)}`" if item.amount is not None else ""
            head = f"**shares** `{item.name}`{of}" + (" (ratio)" if item.ratio else "")
        else:
            head = f"**waterfall** `{item.name}`(`{format_expr(item.amount)}`)"
        return f"{head}\n\nparts: {parties}{_cite_line(item.clauses)}"

    def part(self, item: n.SharesDecl | n.WaterfallDecl, party: str) -> str:
        money = isinstance(item, n.WaterfallDecl) or item.amount is not None
        type_name = "money" if money else "percent"
        return (f"**part** `{item.name}.{party}`: {self._type_line(type_name)}"
                + _cite_line(item.clauses))
