"""Parsing: source text → AST (`nodes.Policy`).

The only module that imports lark. The grammar is `grammar/policy.lark`, loaded as LALR(1)
with strict=True. The lark parse tree never leaves this module: `parse` returns the AST
or raises a `PolicyError` whose message is written for a drafter (expected tokens in
words, and, for known mistakes, a sentence found by matching known mistakes' parser states).
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from lark import Lark, Token, Transformer, Tree, v_args
from lark import __version__ as lark_version
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from policylang import literals
from policylang import nodes as n
from policylang import syntax_words as sw
from policylang.diagnostics import Diagnostic, PolicyError
from policylang.literals import DURATION_UNITS, SourceError, plain_value
from policylang.syntax_words import KNOWN_MISTAKES, TOKEN_WORDS
from policylang.values import in_exact_context

_comments = threading.local()


def _collect_comment(token: Token) -> None:
    _comments.items.append(token)


@cache
def _lark() -> Lark:
    grammar = resources.files("policylang").joinpath("grammar/policy.lark").read_text("utf-8")
    return Lark(
        grammar,
        parser="lalr",
        strict=True,
        propagate_positions=True,
        maybe_placeholders=True,
        start=["start", "value"],
        lexer_callbacks={"COMMENT": _collect_comment},
        cache=_parser_cache(),
    )


def _parser_cache() -> str | bool:
    """Where lark keeps the analysed grammar from one run to the next (building it takes
    about 0.4 s, every command's start): a file in the user's own cache folder, which lark
    uses only while its grammar and options are the ones it was made from. Not lark's
    default, a name anyone can predict in the shared temporary folder: the file is
    unpickled. False (no cache) where that folder cannot be made private and written."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(base) / "policylang"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if folder.stat().st_mode & 0o077 or not os.access(folder, os.W_OK):
            return False
    except OSError:
        return False
    python = f"{sys.version_info[0]}{sys.version_info[1]}"
    return str(folder / f"parser-lark{lark_version}-py{python}.cache")


@cache
def keywords() -> frozenset[str]:
    """The grammar's word-like keywords (`input`, `supersedes`, `money`, …): a name spelt
    like one needs a comma before it in a brace list, where the keyword may also stand."""
    from lark.lexer import PatternStr

    return frozenset(t.pattern.value for t in _lark().terminals
                     if isinstance(t.pattern, PatternStr) and t.pattern.value.isidentifier())


@in_exact_context
def parse(source: str, file: str = "<string>") -> n.Policy:
    """Parse one policy file. Raises PolicyError (E1xx, E406) on a syntax error."""
    if source.startswith("\ufeff"):  # a byte-order mark some editors write: no character
        source = " " + source[1:]  # …but kept as a column, so spans match the text shown
    _comments.items = []
    try:
        tree = _lark().parse(source, start="start")
    except UnexpectedInput as error:
        raise _syntax_error(error, source, file) from None
    comments = tuple(
        n.Comment(str(tok), _token_span(tok, file)) for tok in _comments.items
    )
    _check_nesting(tree, file)
    try:
        policy = _ToAst(file, policy_source=True).transform(tree)
    except VisitError as wrapped:
        error = wrapped.orig_exc
        if not isinstance(error, SourceError):
            raise
        raise PolicyError.single(error.code, error.message, error.span) from None
    return n.Policy(
        policy.name, policy.title, policy.items, comments, policy.span, policy.name_span
    )


# Every later stage (AST building, checking, evaluation, emitters) walks expressions
# recursively; bounding the depth here keeps them all far from Python's recursion limit.
MAX_NESTING = 100


def _check_nesting(tree: Tree, file: str) -> None:
    """E107 for each declaration whose parse tree is deeper than MAX_NESTING (iteratively,
    so that the check itself cannot overflow)."""
    policy = tree.children[0]
    diagnostics = []
    for item in policy.children:
        if not isinstance(item, Tree):
            continue
        depth, stack = 0, [(item, 1)]
        while stack and depth <= MAX_NESTING:
            node, level = stack.pop()
            depth = max(depth, level)
            stack.extend((child, level + 1) for child in node.children if isinstance(child, Tree))
        if depth > MAX_NESTING:
            span = n.Span(file, item.meta.line, item.meta.column, item.meta.end_line,
                          item.meta.end_column)
            diagnostics.append(Diagnostic(
                "E107", f"this declaration nests expressions more than {MAX_NESTING} levels "
                "deep (each operator of a long chain such as `a + b + c + …` is a level); "
                "split it into lets", span))
    if diagnostics:
        raise PolicyError(diagnostics)


@in_exact_context
def parse_value(text: str) -> n.Expr:
    """Parse one literal value (`500万`, `3.45%`, `2 years`, `enterprise`, `-5万`).

    Raises PolicyError E105 if the text is not a single value."""
    plain = plain_value(text)
    if plain is not None:
        return plain
    _comments.items = []
    try:
        tree = _lark().parse(text, start="value")
        return _ToAst("<value>").transform(tree)
    except UnexpectedInput:
        raise PolicyError.single("E105", f"{text!r} is not a value") from None
    except VisitError as wrapped:
        error = wrapped.orig_exc
        if not isinstance(error, SourceError):
            raise
        raise PolicyError.single("E105", error.message) from None


# ── syntax errors in words ─────────────────────────────────────────────────

@cache
def _example_errors() -> tuple[tuple[str, UnexpectedInput], ...]:
    """Each known-mistake example's parse error, computed once: lark's match_examples
    re-parses every example on every error, which made a file's syntax errors cost as
    much as parsing ~80 small policies."""
    errors = []
    for words, examples in KNOWN_MISTAKES.items():
        for example in examples:
            try:
                _lark().parse(example, start="start")
            except UnexpectedInput as error:
                errors.append((words, error))
    return tuple(errors)


def _top_state(error: UnexpectedInput) -> object:
    """The LALR state the parser was in. lark's own comparison of parser states also
    compares the depth of the stack, so one mistake read differently after one declaration
    or after two; the state alone decides which tokens could have come."""
    return getattr(error.state, "position", error.state)


def _known_mistake(error: UnexpectedInput) -> str | None:
    """The sentence of the example whose error is in the same parser state (and, for an
    unexpected token, accepts the same tokens): lark's match_examples, over cached errors."""
    candidate = None
    for words, example in _example_errors():
        if _top_state(example) != _top_state(error):
            continue
        if (isinstance(error, UnexpectedToken) and isinstance(example, UnexpectedToken)
                and example.accepts != error.accepts):
            continue
        if (isinstance(error, (UnexpectedToken, UnexpectedEOF))
                and isinstance(example, (UnexpectedToken, UnexpectedEOF))
                and example.token == error.token):
            return words
        candidate = candidate or words
    return candidate


def _syntax_error(error: UnexpectedInput, source: str, file: str) -> PolicyError:
    line, column = error.line, error.column
    if isinstance(error, UnexpectedCharacters):
        char = source[error.pos_in_stream] if error.pos_in_stream < len(source) else ""
        span = n.Span(file, line, column, line, column + 1)
        if char == '"':
            return PolicyError.single(
                "E104", "text is not closed: a '\"' is missing on this line", span)
        return PolicyError.single("E101", f"unexpected character {char!r}", span,
                                  sw.character_notes(char))
    if isinstance(error, UnexpectedEOF) or (
        isinstance(error, UnexpectedToken) and error.token.type == "$END"
    ):
        last_line = source.count("\n") + 1
        last_col = len(source.rsplit("\n", 1)[-1]) + 1
        expected = _expected_words(getattr(error, "expected", None) or error.accepts or [])
        brace = sw.unclosed_brace(source)
        return PolicyError.single(
            "E103", f"the file ends too early; expected {sw.join_words(expected)}",
            n.Span(file, last_line, last_col, last_line, last_col),
            [f"the '{{' on line {brace} is not closed: a '}}' is missing"] if brace else [])
    assert isinstance(error, UnexpectedToken)
    token = error.token
    span = _token_span(token, file)
    if set(error.accepts or error.expected) == {"$END"}:
        return PolicyError.single(
            "E106", f"unexpected {sw.describe_token(token.type, str(token))} after the end of "
            "the policy; a file holds exactly one policy", span)
    known, found = _known_mistake(error), sw.describe_token(token.type, str(token))
    expected = _expected_words(error.accepts or error.expected)
    message = (f"{known}; found {found}" if known
               else f"unexpected {found}; expected {sw.join_words(expected)}")
    return PolicyError.single("E102", message, span, sw.token_notes(
        source, token.start_pos, token.type, str(token), expected, known is not None))


def _expected_words(terminals) -> list[str]:
    words = []
    for name in sorted(terminals):
        if name in TOKEN_WORDS:
            words.append(TOKEN_WORDS[name])
        else:
            pattern = _lark().get_terminal(name).pattern
            words.append(f"'{pattern.value}'" if pattern.type == "str" else name.lower())
    return words


def _token_span(token: Token, file: str) -> n.Span:
    return n.Span(file, token.line, token.column, token.end_line, token.end_column)


# ── parse tree → AST ───────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class _Block:
    """A test's `given {…}` or `params {…}` while the tree is built (never leaves here)."""

    bindings: tuple[n.Binding, ...]
    span: n.Span


@dataclass(frozen=True, slots=True)
class _BookBlock:
    cases: tuple[_Block, ...]
    span: n.Span


@v_args(meta=True)
class _ToAst(Transformer):
    def __init__(self, file: str, policy_source: bool = False):
        super().__init__(visit_tokens=False)
        self.file = file
        self.policy_source = policy_source

    # helpers
    def _span(self, meta) -> n.Span:
        return n.Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tspan(self, token: Token) -> n.Span:
        return _token_span(token, self.file)

    def _text(self, token: Token) -> n.Text:
        span = self._tspan(token)
        return n.Text(literals.unescape(str(token), span), span)

    def _clauses(self, items) -> n.Clauses:
        found: dict[str, object] = {}
        for kind, value, span in items:
            if kind in found:
                raise SourceError("E406", f"`{kind}` is given twice", span)
            found[kind] = value
        return n.Clauses(found.get("when"), found.get("cite"), found.get("says"))

    # policy and items
    def start(self, meta, children):
        return children[0]

    def value(self, meta, children):
        return children[0]

    def policy(self, meta, children):
        name, title, *items = children
        return n.Policy(str(name), self._text(title), tuple(items), (), self._span(meta),
                        self._tspan(name))

    def meta_text(self, meta, children):
        key, value = children
        span = self._tspan(value)
        return n.Meta(str(key), literals.unescape(str(value), span), self._span(meta), span)

    def meta_date(self, meta, children):
        key, value = children
        return n.Meta("effective", self._date(value).value.isoformat(), self._span(meta),
                      self._tspan(value))

    def meta_name(self, meta, children):
        key, value = children
        return n.Meta("supersedes", str(value), self._span(meta), self._tspan(value))

    def enum_decl(self, meta, children):
        name, *members = children
        return n.EnumDecl(str(name), tuple(members), self._span(meta), self._tspan(name))

    def enum_member(self, meta, children):
        name, label = children
        return n.EnumMember(str(name), self._text(label) if label else None, self._span(meta))

    def input_block(self, meta, children):
        return n.InputBlock(tuple(children), self._span(meta))

    def field(self, meta, children):
        name, type_ref, default, description = children
        return n.Field(str(name), type_ref, default,
                       self._text(description) if description else None,
                       self._span(meta), self._tspan(name))

    def default(self, meta, children):
        return children[0]

    def param_decl(self, meta, children):
        return n.ParamDecl(self.field(meta, children), self._span(meta))

    def type_ref(self, meta, children):
        token = children[0]
        return n.TypeRef(str(token), self._tspan(token))

    def let_type(self, meta, children):
        return children[0]

    def let_decl(self, meta, children):
        name, type_ref, expr, *clauses = children
        return n.LetDecl(str(name), type_ref, expr, self._clauses(clauses), self._span(meta),
                         self._tspan(name))

    def rule_decl(self, meta, children):
        name, cond, *clauses = children
        return n.RuleDecl(str(name), cond, self._clauses(clauses), self._span(meta),
                          self._tspan(name))

    def limit_decl(self, meta, children):
        name, subject, op, bound, *clauses = children
        return n.LimitDecl(str(name), subject, str(op), bound, self._clauses(clauses),
                           self._span(meta), self._tspan(name))

    def when_clause(self, meta, children):
        return ("when", children[0], self._span(meta))

    def cite_clause(self, meta, children):
        return ("cite", self._text(children[0]), self._span(meta))

    def says_clause(self, meta, children):
        return ("says", self._text(children[0]), self._span(meta))

    def shares_decl(self, meta, children):
        name, ratio, amount, *rest = children
        clauses = [c for c in rest if isinstance(c, tuple)]
        parts = [p for p in rest if isinstance(p, n.SharePart)]
        return n.SharesDecl(str(name), ratio is not None, amount, self._clauses(clauses),
                            tuple(parts), self._span(meta), self._tspan(name))

    def of_amount(self, meta, children):
        return children[0]

    def share_part(self, meta, children):
        party, value = children
        return n.SharePart(str(party), value, self._span(meta))

    def waterfall_decl(self, meta, children):
        name, amount, *rest = children
        clauses = [c for c in rest if isinstance(c, tuple)]
        steps = [s for s in rest if not isinstance(s, tuple)]
        return n.WaterfallDecl(str(name), amount, self._clauses(clauses), tuple(steps),
                               self._span(meta), self._tspan(name))

    def take_step(self, meta, children):
        party, cap, *clauses = children
        return n.TakeStep(str(party), cap, self._clauses(clauses), self._span(meta))

    def split_step(self, meta, children):
        parts = [p for p in children if isinstance(p, n.SplitPart)]
        clauses = [c for c in children if isinstance(c, tuple)]
        return n.SplitStep(tuple(parts), self._clauses(clauses), self._span(meta))

    def split_part(self, meta, children):
        party, share, cap = children
        return n.SplitPart(str(party), share, cap, self._span(meta))

    def up_to(self, meta, children):
        return children[0]

    def rest_step(self, meta, children):
        party, *clauses = children
        return n.RestStep(str(party), self._clauses(clauses), self._span(meta))

    def test_decl(self, meta, children):
        name, cases, params, *expectations = children
        if isinstance(cases, _BookBlock):
            given, book, book_span = (), tuple(b.bindings for b in cases.cases), cases.span
            given_spans = tuple(b.span for b in cases.cases)
        else:
            given, book, book_span, given_spans = cases.bindings, None, None, (cases.span,)
        params_bindings, params_span = (None, None) if params is None else (params.bindings,
                                                                             params.span)
        return n.TestDecl(self._text(name), given, params_bindings, tuple(expectations),
                          self._span(meta), book, given_spans, params_span, book_span)

    def given(self, meta, children):
        return _Block(tuple(children), self._span(meta))

    def book_cases(self, meta, children):
        return _BookBlock(tuple(children), self._span(meta))

    def params_block(self, meta, children):
        return _Block(tuple(children), self._span(meta))

    def binding(self, meta, children):
        name, value = children
        return n.Binding(str(name), value, self._span(meta))

    def case_ref(self, meta, children):
        return int(str(children[0])) if str(children[0]).isdigit() else 0

    def expect_eligible(self, meta, children):
        return n.ExpectEligible(True, self._span(meta), children[0])

    def expect_not_eligible(self, meta, children):
        return n.ExpectEligible(False, self._span(meta), children[0])

    def expect_fails(self, meta, children):
        case, rule = children
        return n.ExpectOutcome(False, str(rule), self._span(meta), self._tspan(rule), case)

    def expect_passes(self, meta, children):
        case, rule = children
        return n.ExpectOutcome(True, str(rule), self._span(meta), self._tspan(rule), case)

    def expect_suspended(self, meta, children):
        case, monitor = children
        return n.ExpectMonitor("suspended", str(monitor), case, self._span(meta),
                               self._tspan(monitor))

    def expect_trips(self, meta, children):
        case, monitor = children
        return n.ExpectMonitor("trips", str(monitor), case, self._span(meta),
                               self._tspan(monitor))

    def expect_expr(self, meta, children):
        case, expr = children
        return n.ExpectExpr(expr, self._span(meta), case)

    # expressions
    def if_expr(self, meta, children):
        return n.If(*children, self._span(meta))

    def or_op(self, meta, children):
        return n.Or(*children, self._span(meta))

    def and_op(self, meta, children):
        return n.And(*children, self._span(meta))

    def not_op(self, meta, children):
        return n.Not(children[0], self._span(meta))

    def compare(self, meta, children):
        left, op, right = children
        return n.Compare(str(op), left, right, self._span(meta))

    def in_set(self, meta, children):
        return n.InSet(children[0], children[1], False, self._span(meta))

    def not_in_set(self, meta, children):
        return n.InSet(children[0], children[1], True, self._span(meta))

    def expr_list(self, meta, children):
        return tuple(children)

    def binary(self, meta, children):
        left, op, right = children
        return n.Binary(str(op), left, right, self._span(meta))

    def neg(self, meta, children):
        return n.Neg(children[0], self._span(meta))

    def name(self, meta, children):
        return n.Name(str(children[0]), self._span(meta))

    def member(self, meta, children):
        base, member = children
        return n.Member(str(base), str(member), self._span(meta), self._tspan(member))

    def call(self, meta, children):
        func, args = children
        return n.Call(str(func), args or (), self._span(meta))

    def filtered_call(self, meta, children):
        func, arg, where = children
        return n.Call(str(func), (arg,) if arg is not None else (), self._span(meta), where)

    def portfolio_decl(self, meta, children):
        order, *rules = children
        span = self._span(meta)
        if order is None:
            keyword = n.Span(span.file, span.line, span.column, span.line,
                             span.column + len("portfolio"))
            return n.PortfolioDecl(None, tuple(rules), span, keyword)
        return n.PortfolioDecl(str(order), tuple(rules), span, self._tspan(order))

    def per(self, meta, children):
        return tuple(children[0])

    def _book_rule(self, kind, meta, children):
        name, per, *rest = children
        clauses = [c for c in rest if isinstance(c, tuple)]
        value, *tail = [c for c in rest if not isinstance(c, tuple)]
        op_token, bound = tail
        return n.BookRuleDecl(kind, str(name), per or (), value, str(op_token), bound,
                              self._clauses(clauses), self._span(meta), self._tspan(name))

    def monitor_decl(self, meta, children):
        return self._book_rule("monitor", meta, children)

    def budget_decl(self, meta, children):
        return self._book_rule("budget", meta, children)

    def book_limit_decl(self, meta, children):
        return self._book_rule("limit", meta, children)

    def money_lit(self, meta, children):
        return self._unit_literal(n.MoneyLit, children[0])

    def percent_lit(self, meta, children):
        return self._unit_literal(n.PercentLit, children[0])

    def bp_lit(self, meta, children):
        return self._unit_literal(n.PercentLit, children[0])

    def _unit_literal(self, node, token: Token):
        span = self._tspan(token)
        value = literals.unit_value(str(token), span)
        return node(self._in_range(value, str(token), span), str(token), span)

    def number_lit(self, meta, children):
        token = children[0]
        span = self._tspan(token)
        value = literals.number(str(token), span)
        return n.NumberLit(self._in_range(value, str(token), span), str(token), span)

    def _in_range(self, value, text: str, span: n.Span):
        """A policy's literal at 10^18 or beyond is out of every value's range
        (docs/semantics.md). A case's value is held to the inputs' own range by its reader."""
        if self.policy_source:
            literals.check_magnitude(value, text, span)
        return value

    def duration_lit(self, meta, children):
        number, unit = children
        span = self._span(meta)
        if not str(number).isdigit():
            raise SourceError("E105", f"a duration is a whole number of {unit}", span)
        kind, factor = DURATION_UNITS[str(unit)]
        written = f"{number} {unit}"
        return n.DurationLit(literals.duration_count(str(number), factor, written, span), kind,
                             written, span)

    def cjk_duration_lit(self, meta, children):
        token = children[0]
        text = str(token)
        digits = text.rstrip("年个月天日")
        kind, factor = DURATION_UNITS[text[len(digits):]]
        span = self._tspan(token)
        return n.DurationLit(literals.duration_count(digits, factor, text, span), kind, text,
                             span)

    def date_lit(self, meta, children):
        return self._date(children[0])

    def _date(self, token: Token) -> n.DateLit:
        span = self._tspan(token)
        return n.DateLit(literals.date_value(str(token), span), str(token), span)

    def true_lit(self, meta, children):
        return n.BoolLit(True, self._span(meta))

    def false_lit(self, meta, children):
        return n.BoolLit(False, self._span(meta))

    def __default__(self, data, children, meta):  # pragma: no cover - grammar/AST drift
        raise AssertionError(f"no AST conversion for grammar rule {data!r}")

