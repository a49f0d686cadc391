"""Canonical formatting: AST (+ the source, for comments and blank lines) → text.

The layout: two-space indentation; one declaration per line; inside a block and across a
run of consecutive declarations of one kind the colons' right-hand sides are aligned (by
characters); clauses follow on the same line unless it would pass 100 columns, counted as
a terminal or an editor's monospace font shows them: a Chinese character (East Asian Width
W or F) takes two (`display_width`). Comments are kept: a comment on its own line stays
before the next thing printed, a comment at the end of a line stays at the end of the
thing printed from that line. A single blank line between
declarations is kept, and one on either side of a comment between them. A quoted text is
printed as written, byte for byte. `format_source(format_source(x)) == format_source(x)`.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from functools import lru_cache
from typing import assert_never

from policylang import literals
from policylang import nodes as n
from policylang.parser import keywords, parse

WIDTH = 100
INDENT = "  "

# Binding strength of each expression form (higher binds tighter).
_IF, _OR, _AND, _NOT, _CMP, _SUM, _TERM, _NEG, _ATOM = range(1, 10)


def format_source(source: str, file: str = "<string>") -> str:
    """The canonical layout of `source`, its lines broken as the source's are: a text whose
    first line break is `\r\n` (or a lone `\r`) comes back with that break throughout."""
    newline, source = line_break(source), by_lf(source)
    formatted = format_policy(parse(source, file), source)
    return formatted if newline == "\n" else formatted.replace("\n", newline)


def line_break(text: str) -> str:
    """The line break a text uses: its first one (`\r\n`, `\r` or `\n`); `\n` when it
    has none."""
    found = re.search(r"\r\n?|\n", text)
    return found.group() if found else "\n"


def by_lf(text: str) -> str:
    """The text with every line break a `\n`: `\r\n`, `\n` and a lone `\r` are line
    breaks (LSP counts them so, and the CLI's reading of a file makes the same change), the
    parser's spans count `\n` only; no line's characters move."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def display_width(text: str) -> int:
    """The columns `text` takes on screen: two for a wide or full-width character (East
    Asian Width W or F: 中, 万, （, ：), one for any other."""
    if text.isascii():
        return len(text)
    return sum(_char_width(c) for c in text)


@lru_cache(maxsize=4096)
def _pad(text: str, width: int) -> str:
    """`text` with spaces after it to fill `width` columns on screen (`str.ljust` counts
    characters: a column after `保费:` stood two short of one after `premium:`)."""
    return text + " " * (width - display_width(text))


def _char_width(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def quote(text: str) -> str:
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\t", "\\t"))
    return f'"{escaped}"'


def format_expr(e: n.Expr, context: int = 0) -> str:
    """An expression with the fewest parentheses that parse back to the same tree."""
    text, strength = _expr(e)
    return f"({text})" if strength < context else text


def _expr(e: n.Expr) -> tuple[str, int]:
    match e:
        case n.MoneyLit(text=text) | n.PercentLit(text=text) | n.NumberLit(text=text) | \
                n.DurationLit(text=text) | n.DateLit(text=text):
            return text, _ATOM
        case n.BoolLit(value=value):
            return ("true" if value else "false"), _ATOM
        case n.Name(name=name):
            return name, _ATOM
        case n.Member(base=base, member=member):
            return f"{base}.{member}", _ATOM
        case n.Call(func=func, args=args, where=where):
            inside = ", ".join(format_expr(a) for a in args)
            if where is not None:
                inside = " ".join(filter(None, [inside, "where", format_expr(where)]))
            return f"{func}({inside})", _ATOM
        case n.Neg(operand=operand):
            return f"-{format_expr(operand, _NEG)}", _NEG
        case n.Binary(op=op, left=left, right=right):
            level = _SUM if op in "+-" else _TERM
            return f"{format_expr(left, level)} {op} {format_expr(right, level + 1)}", level
        case n.Compare(op=op, left=left, right=right):
            return f"{format_expr(left, _SUM)} {op} {format_expr(right, _SUM)}", _CMP
        case n.InSet(operand=operand, items=items, negated=negated):
            keyword = "not in" if negated else "in"
            inner = ", ".join(format_expr(i) for i in items)
            return f"{format_expr(operand, _SUM)} {keyword} {{{inner}}}", _CMP
        case n.Not(operand=operand):
            return f"not {format_expr(operand, _NOT)}", _NOT
        case n.And(left=left, right=right):
            return f"{format_expr(left, _AND)} and {format_expr(right, _NOT)}", _AND
        case n.Or(left=left, right=right):
            # `and` under `or` keeps its parentheses: correct without them, but misread.
            return f"{_or_operand(left, _OR)} or {_or_operand(right, _AND)}", _OR
        case n.If(cond=cond, then=then, otherwise=otherwise):
            return (f"if {format_expr(cond, _OR)} then {format_expr(then, _OR)} "
                    f"else {format_expr(otherwise)}"), _IF
        case _:
            assert_never(e)


def _or_operand(e: n.Expr, context: int) -> str:
    return f"({format_expr(e)})" if isinstance(e, n.And) else format_expr(e, context)


def format_policy(policy: n.Policy, source: str) -> str:
    return _Printer(policy, source).run()


class _Printer:
    def __init__(self, policy: n.Policy, source: str):
        self.policy = policy
        # Split at "\n" only, as the parser counts lines (`splitlines` also splits at
        # U+2028, \x0c, … which a text or comment may hold, and would shift every line).
        self.source_lines = source.split("\n")
        self.comments = sorted(policy.comments, key=lambda c: (c.span.line, c.span.column))
        self.out: list[str] = []

    def run(self) -> str:
        p = self.policy
        self._leading(p.span.line, "")
        self._emit(f"policy {p.name} {self._quote(p.title)} {{", "", p.name_span.line)
        previous: n.Decl | None = None
        for group in self._groups(p.items):
            for item in group:
                if previous is not None:
                    self._between(previous.span.end_line, item.span.line)
                self._item(item, group)
                previous = item
        self._leading(p.span.end_line, INDENT)
        self._emit("}", "", p.span.end_line)
        self._leading(10**9, "")
        return "\n".join(self.out) + "\n"

    def _quote(self, text: n.Text) -> str:
        """A text as written, byte for byte (a tab stays a tab, `\\t` stays `\\t`); one
        without a source position (or not found there) is quoted afresh."""
        span = text.span
        if span.line == span.end_line and 0 < span.line <= len(self.source_lines):
            written = self.source_lines[span.line - 1][span.column - 1:span.end_column - 1]
            if len(written) >= 2 and written[0] == written[-1] == '"' and \
                    _unescaped(written) == text.value:
                return written
        return quote(text.value)

    def _clause_texts(self, clauses: n.Clauses) -> list[str]:
        out = []
        if clauses.when is not None:
            out.append(f"when {format_expr(clauses.when)}")
        if clauses.cite is not None:
            out.append(f"cite {self._quote(clauses.cite)}")
        if clauses.says is not None:
            out.append(f"says {self._quote(clauses.says)}")
        return out

    # ── comments, blank lines, emitting ──
    def _leading(self, line: int, indent: str) -> None:
        while self.comments and self.comments[0].span.line < line:
            comment = self.comments.pop(0)
            self.out.append(f"{indent}{comment.text.rstrip()}")

    def _emit(self, text: str, indent: str, end_line: int) -> None:
        trailing = ""
        if self.comments and self.comments[0].span.line == end_line:
            trailing = "  " + self.comments.pop(0).text.rstrip()
        self.out.append(f"{indent}{text}{trailing}".rstrip())

    def _inside(self, span: n.Span, indent: str, one_line: bool) -> None:
        """Before a declaration spanning several source lines is printed: the comments on
        its lines but the last go above it (a `lint: allow` there still belongs to it),
        and the last line's stays for `_emit` to put at the end. When the declaration now
        takes one line and had a single comment, that comment stays at its end."""
        inside = []
        while self.comments and self.comments[0].span.line <= span.end_line:
            inside.append(self.comments.pop(0))
        if one_line and len(inside) == 1:
            inside[0] = n.Comment(inside[0].text, dataclasses.replace(
                inside[0].span, line=span.end_line, end_line=span.end_line))
        for comment in inside:
            if comment.span.line == span.end_line:
                self.comments.insert(0, comment)
            else:
                self.out.append(f"{indent}{comment.text.rstrip()}")

    def _between(self, after: int, before: int) -> None:
        """The comments between two declarations (lines `after` and `before`), each blank
        line of the source around them kept as one: a blank after a comment keeps it
        apart from the declaration below (a section heading; an allow that is not
        directly above, and so allows nothing, does not start to)."""
        while self.comments and self.comments[0].span.line < before:
            comment = self.comments.pop(0)
            if self._blank(after, comment.span.line):
                self.out.append("")
            self.out.append(f"{INDENT}{comment.text.rstrip()}")
            after = comment.span.line
        if self._blank(after, before):
            self.out.append("")

    def _blank(self, after: int, before: int) -> bool:
        """Whether a blank line stands between source lines `after` and `before`."""
        return any(not self.source_lines[i - 1].strip() for i in range(after + 1, before)
                   if 0 < i <= len(self.source_lines))

    def _blank_between(self, before: n.Span, after: n.Span) -> bool:
        return self._blank(before.end_line, after.line)

    def _groups(self, items: tuple[n.Decl, ...]) -> list[list[n.Decl]]:
        """Runs of consecutive declarations of one kind, not broken by a blank line."""
        groups: list[list[n.Decl]] = []
        for item in items:
            if groups and type(groups[-1][-1]) is type(item) and \
                    not self._blank_between(groups[-1][-1].span, item.span):
                groups[-1].append(item)
            else:
                groups.append([item])
        return groups

    def _line(self, node_span: n.Span, text: str, indent: str = INDENT) -> None:
        self._leading(node_span.line, indent)
        self._inside(node_span, indent, one_line=True)
        self._emit(text, indent, node_span.end_line)

    # ── declarations ──
    def _item(self, item: n.Decl, group: list[n.Decl]) -> None:
        match item:
            case n.Meta(key=key, value=value):
                width = max(display_width(m.key) for m in group) + 1
                shown = (self._quote(n.Text(value, item.value_span))
                         if key not in ("effective", "supersedes") else value)
                self._line(item.span, f"{_pad(key, width)}{shown}")
            case n.EnumDecl(name=name, members=members):
                self._block_open(item.span, f"enum {name} {{", first_inside=_first(members))
                width = max(display_width(m.name) for m in members) + 1 if members else 0
                for m, next_m in _with_next(members):
                    label = (f"{_pad(m.name, width)}{self._quote(m.label)}" if m.label
                             else m.name)
                    self._line(m.span, label + _separator(next_m and next_m.name), INDENT * 2)
                self._block_close(item.span)
            case n.InputBlock(fields=fields):
                self._block_open(item.span, "input {", first_inside=_first(fields))
                self._fields(fields, INDENT * 2, "")
                self._block_close(item.span)
            case n.ParamDecl():
                self._fields([g.field for g in group], INDENT, "param ", only=item.field)
            case n.LetDecl(name=name, type=type_ref, expr=expr, clauses=clauses):
                head = f"let {name}" + (f": {type_ref.name}" if type_ref else "")
                self._declaration(item, group, head, " = ", format_expr(expr), clauses)
            case n.RuleDecl(name=name, cond=cond, clauses=clauses):
                self._declaration(item, group, f"rule {name}", ": ", format_expr(cond), clauses)
            case n.LimitDecl(name=name, subject=subject, op=op, bound=bound, clauses=clauses):
                body = f"{format_expr(subject, _SUM)} {op} {format_expr(bound, _SUM)}"
                self._declaration(item, group, f"limit {name}", ": ", body, clauses)
            case n.SharesDecl():
                self._shares(item)
            case n.WaterfallDecl():
                self._waterfall(item)
            case n.PortfolioDecl():
                self._portfolio(item)
            case n.TestDecl():
                self._test(item)
            case _:
                assert_never(item)

    def _block_open(self, span: n.Span, text: str, indent: str = INDENT,
                    first_inside: n.Span | None = None) -> None:
        """A block's first line; the comment at its end stays there unless the block's
        first item starts on that line too (`enum k { a  # …`): then the item takes it."""
        self._leading(span.line, indent)
        if first_inside is not None and first_inside.line == span.line:
            self.out.append(f"{indent}{text}")
        else:
            self._emit(text, indent, span.line)

    def _block_close(self, span: n.Span, indent: str = INDENT) -> None:
        self._leading(span.end_line, indent + INDENT)
        self._emit("}", indent, span.end_line)

    def _fields(self, fields, indent: str, keyword: str, only: n.Field | None = None) -> None:
        if not fields:  # `input { }`
            return
        width = max(display_width(f.name) for f in fields) + 2
        # Positional, not keyed by name: a field declared twice keeps both declarations.
        heads = [_pad(f"{f.name}:", width) + f.type.name
                 + (f" = {format_expr(f.default)}" if f.default is not None else "")
                 for f in fields]
        col = max(display_width(h) for h in heads) + 1
        for (f, next_f), text in zip(_with_next(fields), heads, strict=True):
            if only is not None and f is not only:
                continue
            if f.description is not None:
                text = _pad(text, col) + self._quote(f.description)
            if not keyword:  # a brace list (`input { … }`), not `param` declarations
                text += _separator(next_f and next_f.name)
            self._line(f.span, keyword + text, indent)

    def _declaration(self, item, group, head: str, sep: str, body: str,
                     clauses: n.Clauses) -> None:
        width = max(display_width(_head_of(g)) for g in group)
        if sep == ": ":
            text = _pad(f"{head}:", width + 1) + " " + body
        else:
            text = _pad(head, width) + sep + body
        self._with_clauses(item.span, text, self._clause_texts(clauses), INDENT)

    def _with_clauses(self, span: n.Span, text: str, clauses: list[str], indent: str) -> None:
        one_line = " ".join([text, *clauses])
        if len(indent) + display_width(one_line) <= WIDTH or not clauses:
            self._line(span, one_line, indent)
            return
        self._leading(span.line, indent)
        self._inside(span, indent, one_line=False)
        self.out.append(f"{indent}{text}")
        for clause in clauses[:-1]:
            self.out.append(f"{indent}{INDENT * 2}{clause}")
        self._emit(clauses[-1], indent + INDENT * 2, span.end_line)

    def _shares(self, item: n.SharesDecl) -> None:
        head = f"shares {item.name}" + (" ratio" if item.ratio else "")
        if item.amount is not None:
            head += f" of {format_expr(item.amount)}"
        head = " ".join([head, *self._clause_texts(item.clauses)])
        self._block_open(item.span, head + " {", first_inside=_first(item.parts))
        width = max((display_width(p.party) for p in item.parts), default=0) + 2
        for part, next_part in _with_next(item.parts):
            text = _pad(f"{part.party}:", width) + format_expr(part.value)
            self._line(part.span, text + _separator(next_part and next_part.party), INDENT * 2)
        self._block_close(item.span)

    def _waterfall(self, item: n.WaterfallDecl) -> None:
        head = " ".join([f"waterfall {item.name}({format_expr(item.amount)})",
                         *self._clause_texts(item.clauses)])
        self._block_open(item.span, head + " {", first_inside=_first(item.steps))
        inner = INDENT * 2
        for step in item.steps:
            match step:
                case n.TakeStep(party=party, cap=cap, clauses=clauses):
                    self._with_clauses(step.span, f"take {party} up to {format_expr(cap)}",
                                       self._clause_texts(clauses), inner)
                case n.SplitStep(parts=parts, clauses=clauses):
                    self._block_open(step.span, "split {", inner, _first(parts))
                    width = max((display_width(p.party) for p in parts), default=0) + 2
                    for part, next_part in _with_next(parts):
                        text = _pad(f"{part.party}:", width) + format_expr(part.share)
                        if part.cap is not None:
                            text += f" up to {format_expr(part.cap)}"
                        text += _separator(next_part and next_part.party)
                        self._line(part.span, text, inner + INDENT)
                    closing = " ".join(["}", *self._clause_texts(clauses)])
                    self._leading(step.span.end_line, inner + INDENT)
                    self._emit(closing, inner, step.span.end_line)
                case n.RestStep(party=party, clauses=clauses):
                    self._with_clauses(step.span, f"rest {party}", self._clause_texts(clauses),
                                       inner)
                case _:
                    assert_never(step)
        self._block_close(item.span)

    def _portfolio(self, item: n.PortfolioDecl) -> None:
        order = f" order by {item.order_by}" if item.order_by is not None else ""
        self._block_open(item.span, f"portfolio{order} {{", first_inside=_first(item.rules))
        for rule in item.rules:
            head = f"{rule.kind} {rule.name}"
            if rule.per:
                head += " per " + ", ".join(format_expr(e) for e in rule.per)
            value = format_expr(rule.value, _SUM)
            bound = format_expr(rule.bound, _SUM)
            body = (f"{value} stop when {rule.op} {bound}" if rule.kind == "monitor"
                    else f"{value} {rule.op} {bound}")
            indent = INDENT * 2
            clauses = self._clause_texts(rule.clauses)
            if len(indent) + display_width(" ".join([head, "=", body, *clauses])) <= WIDTH:
                self._line(rule.span, " ".join([head, "=", body, *clauses]), indent)
                continue
            self._leading(rule.span.line, indent)
            self._inside(rule.span, indent, one_line=False)
            self.out.append(f"{indent}{head}")
            lines = [f"= {body}", *clauses]
            for text in lines[:-1]:
                self.out.append(f"{indent}{INDENT * 2}{text}")
            self._emit(lines[-1], indent + INDENT * 2, rule.span.end_line)
        self._block_close(item.span)

    def _test(self, item: n.TestDecl) -> None:
        inside = [s for s in (*item.given_spans, item.book_span, item.params_span,
                              *(e.span for e in item.expectations)) if s is not None]
        self._block_open(item.span, f"test {self._quote(item.name)} {{",
                         first_inside=min(inside, key=lambda s: (s.line, s.column), default=None))
        inner = INDENT * 2
        spans = iter(item.given_spans)
        if item.book is None:
            self._bindings(item, "given", item.given, inner, next(spans, None))
        else:
            self._open(item.book_span, "book {", inner, next(iter(item.given_spans), None))
            for case in item.book:
                self._bindings(item, "given", case, inner + INDENT, next(spans, None))
            self._close(item.book_span, "}", inner)
        if item.params is not None:
            self._bindings(item, "params", item.params, inner, item.params_span)
        for expectation in item.expectations:
            case = f"case {expectation.case} " if expectation.case is not None else ""
            match expectation:
                case n.ExpectEligible(eligible=eligible):
                    body = "eligible" if eligible else "not eligible"
                case n.ExpectOutcome(passes=passes, rule=rule):
                    body = f"{'passes' if passes else 'fails'} {rule}"
                case n.ExpectExpr(expr=expr):
                    body = format_expr(expr)
                case n.ExpectMonitor(state=state, monitor=monitor):
                    body = f"{state} {monitor}"
                case _:
                    assert_never(expectation)
            self._line(expectation.span, f"expect {case}{body}", inner)
        self._block_close(item.span)

    def _bindings(self, item: n.TestDecl, keyword: str, bindings, indent: str,
                  span: n.Span | None) -> None:
        if not bindings:  # `params {}`: a comment at its opening line stays at its end
            at = span or item.span
            self._leading(at.line, indent)
            self._emit(f"{keyword} {{}}", indent, at.line)
            return
        self._open(span, f"{keyword} {{", indent, _first(bindings))
        width = max(len(b.name) for b in bindings) + 2
        for b, next_b in _with_next(bindings):
            text = f"{b.name}:".ljust(width) + format_expr(b.value)
            self._line(b.span, text + _separator(next_b and next_b.name), indent + INDENT)
        self._close(span, "}", indent)

    def _open(self, span: n.Span | None, text: str, indent: str,
              first_inside: n.Span | None = None) -> None:
        """A block's first line, keeping the comments before it and at its end (a block
        built without a source position has none)."""
        if span is None:
            self.out.append(f"{indent}{text}")
        else:
            self._block_open(span, text, indent, first_inside)

    def _close(self, span: n.Span | None, text: str, indent: str) -> None:
        if span is None:
            self.out.append(f"{indent}{text}")
        else:
            self._leading(span.end_line, indent + INDENT)
            self._emit(text, indent, span.end_line)


def _unescaped(written: str) -> str | None:
    try:
        return literals.unescape(written, n.Span("", 0, 0, 0, 0))
    except literals.SourceError:
        return None


def _first(items) -> n.Span | None:
    """The span of a block's first item, if it has one."""
    return items[0].span if items else None


def _with_next(items):
    """Each item with the one after it (None after the last)."""
    items = list(items)
    return zip(items, [*items[1:], None][: len(items)], strict=True)


def _separator(next_name: str | None) -> str:
    """`,` before an item named like a keyword (`a: money, supersedes: money`): without it
    the keyword reading wins and the formatted file would not parse."""
    return "," if next_name is not None and next_name in keywords() else ""


def _head_of(item: n.Decl) -> str:
    match item:
        case n.LetDecl(name=name, type=type_ref):
            return f"let {name}" + (f": {type_ref.name}" if type_ref else "")
        case n.RuleDecl(name=name):
            return f"rule {name}"
        case n.LimitDecl(name=name):
            return f"limit {name}"
    return ""
