"""Policy texts inside generated Python: string literals, docstrings and comments.

Every text from a policy reaches generated code through one of these: `text` as a
`repr` literal (quotes, backslashes and line breaks escaped), `docstring` and `comment`
with line breaks and control characters made spaces and quotes escaped, so no policy text
can end a string or a comment early. Lines are wrapped by display width (CJK characters
count two columns) to stay readable.
"""

from __future__ import annotations

import unicodedata

_TEXT_WIDTH = 60  # display columns of one piece of a long string literal
_DOC_WIDTH = 92  # display columns of a docstring or comment line, indentation included


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _printable(text: str) -> str:
    """Line breaks and control characters as spaces: in a comment or docstring they would
    end the line (Python also breaks lines at a lone carriage return)."""
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
                   for ch in text)


def _wrapped(units: list[str], width: int) -> list[str]:
    """Lines of at most `width` display columns, broken at spaces where possible; a unit
    (one character, or its escape) is never split."""
    lines: list[list[str]] = []
    line: list[str] = []
    for unit in units:
        if _width("".join(line) + unit) > width:
            if " " in line[1:]:
                cut = len(line) - line[::-1].index(" ")
                lines.append(line[:cut - 1])
                line = line[cut:]
            else:
                lines.append(line)
                line = []
            if unit == " " and not line:
                continue
        line.append(unit)
    lines.append(line)
    return ["".join(units).rstrip() for units in lines if "".join(units).strip()] or [""]


def text(value: str | None) -> str:
    """A Python literal for a policy text (repr escapes quotes, backslashes, line breaks),
    in pieces of a readable width when long: implicitly concatenated, in parentheses."""
    if value is None:
        return "None"
    if _width(repr(value)) <= _TEXT_WIDTH:
        return repr(value)
    pieces, piece = [], ""
    for ch in value:
        if _width(repr(piece + ch)) > _TEXT_WIDTH:
            pieces.append(piece)
            piece = ""
        piece += ch
    return "(" + " ".join(repr(p) for p in [*pieces, piece]) + ")"


def docstring(paragraphs: list[str] | str, indent: int, closing: bool = False) -> str:
    """Docstring content: backslashes and quotes escaped, lines wrapped to fit; with
    `closing`, a multi-line docstring ends on a line of its own for the closing quotes."""
    if isinstance(paragraphs, str):
        paragraphs = [paragraphs]
    width = _DOC_WIDTH - indent
    escape = {"\\": "\\\\", '"': '\\"'}
    blocks = [_wrapped([escape.get(ch, ch) for ch in _printable(p)], width)
              for p in paragraphs]
    lines = [line for block in blocks for line in [*block, ""]][:-1]
    if len(lines) == 1:
        return lines[0]
    pad = " " * indent
    return "\n".join([lines[0]] + [pad + line if line else "" for line in lines[1:]]
                     + ([pad] if closing else []))


def comment(text: str, indent: int) -> list[str]:
    """A comment's lines (without `# `), wrapped to fit at `indent`."""
    return _wrapped(list(_printable(text)), _DOC_WIDTH - indent - 2)
