"""Diagnostics: the one error type users see, and how it is rendered.

Every mistake a user can make surfaces as a `PolicyError` carrying one or more
`Diagnostic`s, each with a stable code from `messages.CODES`, a message and a source
span. Rendering follows the compiler convention
`path:line:col: error[E201]: message`, then the source line and carets under the span.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from policylang.messages import CODES
from policylang.nodes import Span


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    span: Span | None
    notes: tuple[str, ...] = ()
    severity: str = "error"

    def __post_init__(self) -> None:
        assert self.code in CODES, f"unregistered diagnostic code {self.code}"

    def headline(self) -> str:
        where = f"{self.span}: " if self.span else ""
        return f"{where}{self.severity}[{self.code}]: {self.message}"

    def to_json(self) -> dict:
        span = self.span
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "file": span.file if span else None,
            "line": span.line if span else None,
            "column": span.column if span else None,
            "end_line": span.end_line if span else None,
            "end_column": span.end_column if span else None,
            "notes": list(self.notes),
        }


@dataclass
class PolicyError(Exception):
    """One or more diagnostics that stop the current command."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.diagnostics[0].headline() if self.diagnostics else "")

    @classmethod
    def single(
        cls, code: str, message: str, span: Span | None = None, notes: Iterable[str] = ()
    ) -> PolicyError:
        return cls([Diagnostic(code, message, span, tuple(notes))])

    @property
    def code(self) -> str:
        return self.diagnostics[0].code

    def __str__(self) -> str:
        return "\n".join(d.headline() for d in self.diagnostics)


def first_line(error: BaseException) -> str:
    """A library error's first line (its type's name when it says nothing): the part a user
    can act on, without the library's trace or context lines."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


WINDOW = 120  # characters of a source line shown; a longer one is cut around the span


def render(diagnostic: Diagnostic, source: str | None, color: bool = False) -> str:
    """The headline, then the offending source line with carets under the span."""
    red, bold, blue, reset = ("\x1b[31m", "\x1b[1m", "\x1b[34m", "\x1b[0m") if color else ("",) * 4
    span = diagnostic.span
    where = f"{span}: " if span else ""
    lines = [f"{bold}{where}{red}{diagnostic.severity}[{diagnostic.code}]{reset}{bold}: "
             f"{diagnostic.message}{reset}"]
    if span and source is not None:
        # Spans count lines by \n only (the lexer's rule); str.splitlines would also
        # break at \f, U+2028 and the like and show the wrong line.
        source_lines = [line.removesuffix("\r") for line in source.split("\n")]
        if 1 <= span.line <= len(source_lines):
            text = _printable(source_lines[span.line - 1].expandtabs(1))
            gutter = f"{span.line:>4} | "
            end = span.end_column if span.end_line == span.line else len(text) + 1
            start, stop = span.column - 1, span.column - 1 + max(1, end - span.column)
            text, start, stop = _window(text, start, stop)
            lines.append(f"{blue}{gutter}{reset}{text}")
            pad = " " * (len(gutter) + _display_width(text[:start]))
            carets = "^" * _display_width(text[start:stop] or " ")
            lines.append(f"{pad}{red}{carets}{reset}")
    lines += [f"     = note: {note}" for note in diagnostic.notes]
    return "\n".join(lines)


def _window(text: str, start: int, stop: int) -> tuple[str, int, int]:
    """A line longer than WINDOW characters cut to WINDOW around the span's start (a cut
    end shown as `…`), with the span's start and stop in the cut text."""
    if len(text) <= WINDOW:
        return text, start, stop
    first = max(0, min(start - WINDOW // 4, len(text) - WINDOW))
    last = first + WINDOW
    lead = "…" if first > 0 else ""
    shown = lead + text[first:last] + ("…" if last < len(text) else "")
    return shown, start - first + len(lead), min(stop, last) - first + len(lead)


def _printable(text: str) -> str:
    """The line with control and line-separator characters (\\f, U+2028, …) shown as one
    space each, so they neither break the rendered line nor shift the carets."""
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)


def _display_width(text: str) -> int:
    """Terminal columns: CJK characters take two, so carets line up under Chinese text."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
