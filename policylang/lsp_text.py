"""A document's text as LSP counts it: its lines, positions converted between the client's
units (UTF-16 by default) and the parser's code points, and edits (didChange) applied.

Lines break at `\n`, `\r\n` and `\r` only, as LSP and the parser (`by_lf`) count them.
pygls breaks them at a form feed, \x85, \u2028 ... too (str.splitlines), both when it
converts a position and when it applies an edit: after a page break copied from a PDF into
a comment, every position was read, and every edit made, on the wrong line.
"""

from __future__ import annotations

import re

from lsprotocol import types as lsp
from pygls.workspace import TextDocument

from policylang.formatter import by_lf
from policylang.lsp_index import Range

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Text:
    """A document's lines as the parser and LSP count them, and positions converted on them.
    Columns are code points here and the units the client negotiated in the protocol."""

    def __init__(self, document: TextDocument) -> None:
        self.lines = by_lf(document.source).split("\n")
        self.units = document.position_codec.client_num_units

    def position(self, line: int, column: int) -> lsp.Position:
        if line >= len(self.lines):  # past the end: the end (the parser's spans never are)
            line, column = len(self.lines) - 1, len(self.lines[-1])
        return lsp.Position(line=line, character=self.units(self.lines[line][:column]))

    def range(self, r: Range) -> lsp.Range:
        """A range of the index for the client; a text that ends with a line break ends on
        the empty line after it, where the parser and `policylang check` put an E103."""
        return lsp.Range(start=self.position(r.line, r.column),
                         end=self.position(r.end_line, r.end_column))

    def end(self) -> lsp.Position:
        return self.position(len(self.lines) - 1, len(self.lines[-1]))

    def cursor(self, position: lsp.Position) -> tuple[int, int] | None:
        """The client's position as a line and a code-point column. A character past the
        end of its line is the line's end (as LSP says); a line past the last is None, no
        place in the text the server has (pygls made it the end of the text)."""
        if position.line >= len(self.lines):
            return None
        text, units = self.lines[position.line], 0
        for column, char in enumerate(text):
            if units >= position.character:
                return position.line, column
            units += self.units(char)
        return position.line, len(text)


def apply_change(document: TextDocument, change: lsp.TextDocumentContentChangeEvent) -> None:
    """One change of a didChange, made to the document's text (its line breaks kept)."""
    if not isinstance(change, lsp.TextDocumentContentChangePartial):
        new = change.text
    else:
        source, units = document.source, document.position_codec.client_num_units
        start = _offset(source, change.range.start, units)
        end = max(start, _offset(source, change.range.end, units))
        new = source[:start] + change.text + source[end:]
    document._apply_full_change(lsp.TextDocumentContentChangeWholeDocument(text=new))


def _offset(source: str, position: lsp.Position, units) -> int:
    """Where a client's position is in `source`: a character past its line's end is the
    line's end (before its break), a line past the last the end of the text."""
    breaks = _LINE_BREAK.finditer(source)
    line_start = 0
    for _ in range(position.line):
        found = next(breaks, None)
        if found is None:
            return len(source)
        line_start = found.end()
    found = next(breaks, None)
    line_end = found.start() if found is not None else len(source)
    at, counted = line_start, 0
    while at < line_end and counted < position.character:
        counted += units(source[at])
        at += 1
    return at
