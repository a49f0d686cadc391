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

import bisect
import dataclasses
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from policylang import ir
from policylang import nodes as n
from policylang.checker import check
from policylang.diagnostics import Diagnostic, PolicyError
from policylang.formatter import format_expr
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

    `parser` is `parse` or an `IncrementalParser` (same result, faster on an edited text)."""
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
    """Each failing test block as an E506 diagnostic on its `test` line."""
    return [diagnostic for _, diagnostic in failing_tests(policy)]


def failing_tests(policy: ir.Policy) -> list[tuple[str, Diagnostic]]:
    """Each failing test block's name and its diagnostic (E506; E507 if it cannot run)."""
    from policylang.api import run_tests

    found = []
    for result in run_tests(policy):
        if result.error is not None:
            first = result.error.diagnostics[0]
            found.append((result.test.name, Diagnostic(
                "E507", f"test “{result.test.name}”: {first.message}", result.test.span)))
        elif result.failures:
            found.append((result.test.name, Diagnostic(
                "E506", f"test “{result.test.name}” fails: " + "; ".join(result.failures),
                result.test.span)))
    return found


def moved_to(failing: list[tuple[str, Diagnostic]], policy: ir.Policy) -> list[Diagnostic]:
    """Earlier test results on the tests of the same name in `policy`, wherever they are now.

    What the server shows for failing tests until they have run again on the new text."""
    spans = {test.name: test.span for test in policy.tests}
    return [dataclasses.replace(diagnostic, span=spans[name])
            for name, diagnostic in failing if name in spans]


# ── incremental parsing ───────────────────────────────────────────────────

# A line that starts a top-level declaration (every declaration starts with a keyword).
# `limit NAME :` and not `limit NAME per`/`=` (a portfolio's book limit); a field, binding
# or enum member spelt like a keyword is followed by ':' or ',' or a text, not a name.
_ITEM_START = re.compile(
    r"[ \t]*(?:(?:let|param|rule|enum|shares|waterfall)[ \t]+[^\W\d]"
    r"|limit[ \t]+[^\W\d]\w*[ \t]*:|input[ \t]*\{|portfolio[ \t]+order\b|test[ \t]*\""
    r"|(?:issuer|document|region|version)[ \t]*\"|effective[ \t]+\d|supersedes[ \t]+[^\W\d])")
# A middle or last piece is parsed inside this header, on line 1, after a stand-in
# declaration when the file has declarations before the piece: lark's parser state after
# `{` differs from its state between declarations (one more entry on its stack), and
# parser.py matches known mistakes by that state, so a syntax error's message would.
_WRAPPER, _AFTER_ITEMS = 'policy _ "" {', 'policy _ "" { enum _ {}'

_Piece = tuple[str, str]  # (role: "head", "middle" or "tail"; the piece's text)


@dataclass(slots=True)
class _Parsed:
    """What the parser made of one piece: its items and comments, positioned at `line`."""

    line: int  # 0-based line the piece starts on
    items: tuple[n.Decl, ...]
    comments: tuple[n.Comment, ...]
    head: tuple[str, n.Text, n.Span, n.Span] | None = None  # the policy's name, title, spans
    end: tuple[int, int] | None = None  # where the policy's closing brace ends


class IncrementalParser:
    """`parse`, reusing what the previous text's parse made of the lines that did not change.

    The text is cut into pieces at lines that start a top-level declaration: the head (the
    `policy` header and what precedes the first cut), middle pieces, and the tail (ending
    with the policy's closing brace). A piece whose text was in the previous version is not
    parsed again (its spans are moved if lines were inserted or deleted above it); one that
    is new is parsed alone, by the compiler's `parse`, inside a stand-in header padded with
    newlines so that its positions are the file's. The grammar is LALR and every declaration
    starts with a keyword, so a file whose pieces each parse has the AST of their items in
    order, the same as `parse` of the whole file (tests/test_lsp.py compares the two). The
    whole file is parsed instead when most of it is new, and whenever a piece does not parse
    or the pieces cannot be matched to the whole parse's items. A text that does not parse
    gets the diagnostic `parse` gives: the first failing piece's syntax error when it is at
    a token on that piece's lines (the pieces before it parse, so the whole parse fails at
    the same token in the same way), else the whole parse's.
    """

    def __init__(self) -> None:
        self.file: str | None = None
        self.known: dict[_Piece, _Parsed] = {}
        self.whole_parses = 0  # for tests: how often the whole text was parsed
        self.piece_parses = 0

    def __call__(self, source: str, file: str) -> n.Policy:
        if file != self.file:
            self.file, self.known = file, {}
        lines = source.split("\n")
        cuts = [0] + [i for i in range(1, len(lines)) if _ITEM_START.match(lines[i])]
        ends = [*cuts[1:], len(lines)]
        pieces = [("head" if k == 0 else "tail" if k == len(cuts) - 1 else "middle",
                   "\n".join(lines[start:ends[k]]), start) for k, start in enumerate(cuts)]
        new_lines = sum(ends[k] - start for k, (role, text, start) in enumerate(pieces)
                        if (role, text) not in self.known)
        if len(pieces) < 3 or new_lines * 2 > len(lines):
            return self._whole(source, file, pieces)
        parsed: list[_Parsed] = []
        for k, (role, text, start) in enumerate(pieces):
            found = self.known.get((role, text))
            if found is None:
                try:
                    first = k == 1 and not parsed[0].items  # the file's first declaration
                    found = self._piece(role, text, start, file, first)
                except PolicyError as error:
                    if _in_piece(error, ends[k]):
                        raise  # the whole file's first error: the pieces before it parse
                    return self._whole(source, file, pieces)
            elif found.line != start:
                found = _moved(found, start - found.line)
            parsed.append(found)
        self.known = {(role, text): parsed[k] for k, (role, text, _) in enumerate(pieces)}
        head, tail = parsed[0].head, parsed[-1].end
        assert head is not None and tail is not None
        name, title, span, name_span = head
        return n.Policy(name, title, tuple(item for p in parsed for item in p.items),
                        tuple(comment for p in parsed for comment in p.comments),
                        n.Span(span.file, span.line, span.column, *tail), name_span)

    def _piece(self, role: str, text: str, start: int, file: str, first: bool) -> _Parsed:
        self.piece_parses += 1
        if role == "head":
            ast = parse(text + "\n}", file)
            return _Parsed(0, ast.items, ast.comments,
                           head=(ast.name, ast.title, ast.span, ast.name_span))
        wrapped = ((_WRAPPER if first else _AFTER_ITEMS) + "\n" * start + text
                   + ("" if role == "tail" else "\n}"))
        ast = parse(wrapped, file)
        end = (ast.span.end_line, ast.span.end_column) if role == "tail" else None
        return _Parsed(start, ast.items if first else ast.items[1:], ast.comments, end=end)

    def _whole(self, source: str, file: str, pieces: list[tuple[str, str, int]]) -> n.Policy:
        """Parse the whole text; remember what each piece of it holds for the next edit."""
        self.whole_parses += 1
        ast = parse(source, file)  # raises the file's syntax error, as `policylang check`
        self.known = {}  # (a text that does not parse keeps what the last one that did knew)
        starts = [start for _, _, start in pieces]
        items: list[list[n.Decl]] = [[] for _ in pieces]
        comments: list[list[n.Comment]] = [[] for _ in pieces]
        for bucket, things in ((items, ast.items), (comments, ast.comments)):
            for thing in things:
                k = bisect.bisect_right(starts, thing.span.line - 1) - 1
                last = starts[k + 1] if k + 1 < len(starts) else float("inf")
                if k < 0 or thing.span.end_line - 1 >= last:
                    return ast  # a cut inside a declaration: nothing to remember
                bucket[k].append(thing)
        if any(not found for found in items[1:]):
            return ast
        for k, (role, text, start) in enumerate(pieces):
            self.known[(role, text)] = _Parsed(
                start, tuple(items[k]), tuple(comments[k]),
                head=(ast.name, ast.title, ast.span, ast.name_span) if k == 0 else None,
                end=(ast.span.end_line, ast.span.end_column) if k == len(pieces) - 1 else None)
        return ast


# Errors of the LALR parser at a token, which depend only on the tokens before it in the
# same declaration. Not: the end of the text (E103; the stand-in `}` of a middle piece is
# not the file's), a literal or nesting error (the whole file reports them only when all
# of it parses).
_TOKEN_ERRORS = frozenset({"E101", "E102", "E104", "E106"})


def _in_piece(error: PolicyError, end: int) -> bool:
    """Whether a piece's error is the whole file's: a token error on the piece's own lines.

    The pieces before it parse, so the whole parse reaches the piece's first line in the
    state the stand-in header leaves it in (between declarations), lexes the same tokens
    and fails at the same one, with the same expected tokens and message."""
    (first, *others) = error.diagnostics
    return (not others and first.code in _TOKEN_ERRORS and first.span is not None
            and first.span.end_line - 1 < end)


def _moved(parsed: _Parsed, delta: int) -> _Parsed:
    """The same piece `delta` lines further down (up, if negative)."""
    end = parsed.end and (parsed.end[0] + delta, parsed.end[1])
    return _Parsed(parsed.line + delta, _shift(parsed.items, delta),
                   _shift(parsed.comments, delta), parsed.head, end)


_FIELDS: dict[type, tuple[str, ...] | None] = {}


def _field_names(value: object) -> tuple[str, ...] | None:
    """The fields of a dataclass instance (looked up once per class), None for other values."""
    kind = type(value)
    try:
        return _FIELDS[kind]
    except KeyError:
        names = _FIELDS[kind] = (tuple(f.name for f in dataclasses.fields(value))
                                 if dataclasses.is_dataclass(value) else None)
        return names


def _shift(value, delta: int):
    """An AST value with every span `delta` lines further down."""
    if isinstance(value, n.Span):
        return n.Span(value.file, value.line + delta, value.column, value.end_line + delta,
                      value.end_column)
    if isinstance(value, tuple):
        return tuple([_shift(item, delta) for item in value])
    names = _field_names(value)
    if names is None:
        return value
    return type(value)(*[_shift(getattr(value, name), delta) for name in names])


# ── the index ──────────────────────────────────────────────────────────────


def _nodes(value: object) -> Iterator[object]:
    """Every AST (or IR) node under `value`, depth first, parents before their children."""
    stack = [value]
    while stack:
        value = stack.pop()
        if isinstance(value, tuple):
            stack.extend(reversed(value))
        elif not isinstance(value, n.Span) and (names := _field_names(value)) is not None:
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
        self.lines = source.splitlines()
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
