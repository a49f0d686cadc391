"""Incremental parsing for the language server: `IncrementalParser`, the compiler's own
`parse` reused piece by piece, so that an edit re-parses only the declarations it
touched (the AST is the same as a whole parse's: tests/test_lsp.py compares the two).
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from dataclasses import dataclass

from policylang import nodes as n
from policylang.diagnostics import PolicyError
from policylang.parser import parse

_FIELDS: dict[type, tuple[str, ...] | None] = {}


def field_names(value: object) -> tuple[str, ...] | None:
    """The fields of a dataclass instance (looked up once per class), None for other values."""
    kind = type(value)
    try:
        return _FIELDS[kind]
    except KeyError:
        names = _FIELDS[kind] = (tuple(f.name for f in dataclasses.fields(value))
                                 if dataclasses.is_dataclass(value) else None)
        return names


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


def _shift(value, delta: int):
    """An AST value with every span `delta` lines further down."""
    if isinstance(value, n.Span):
        return n.Span(value.file, value.line + delta, value.column, value.end_line + delta,
                      value.end_column)
    if isinstance(value, tuple):
        return tuple([_shift(item, delta) for item in value])
    names = field_names(value)
    if names is None:
        return value
    return type(value)(*[_shift(getattr(value, name), delta) for name in names])
