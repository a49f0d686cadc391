"""Syntax highlighting: a Pygments lexer for `.pol` files.

Registered as the `pygments.lexers` entry point `policylang`, so Sphinx, MkDocs and
`pygmentize -l pol` find it once policylang is installed; `policylang doc` uses it for the
highlighted source. It mirrors the token classes of `grammar/policy.lark` (keywords,
literals with their units, text, comments); it highlights, it does not parse — errors are
the parser's job.
"""

from __future__ import annotations

from pygments.formatters import HtmlFormatter
from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
)

DECLARATION_KEYWORDS = ("policy", "enum", "input", "param", "let", "rule", "limit", "shares",
                        "waterfall", "test", "portfolio", "monitor", "budget")
METADATA_KEYWORDS = ("issuer", "document", "region", "version", "effective", "supersedes")
CLAUSE_KEYWORDS = ("when", "cite", "says", "of", "ratio", "take", "up", "to", "split", "rest",
                   "given", "params", "expect", "eligible", "fails", "passes", "book", "case",
                   "trips", "suspended", "order", "by", "per", "stop", "where", "if", "then",
                   "else")
OPERATOR_WORDS = ("and", "or", "not", "in")
TYPE_NAMES = ("money", "percent", "number", "duration", "date", "bool")
CONSTANTS = ("true", "false")
BUILTIN_FUNCTIONS = ("min", "max", "round", "years", "months", "days", "year", "sum", "count")
DURATION_UNITS = ("years", "year", "months", "month", "days", "day")

# Every keyword a drafter can type (completion in the language server uses this list too).
KEYWORDS = (DECLARATION_KEYWORDS + METADATA_KEYWORDS + CLAUSE_KEYWORDS + OPERATOR_WORDS
            + TYPE_NAMES + CONSTANTS)

_NAME = r"[^\W\d]\w*"


class PolicyLexer(RegexLexer):
    """Lexer for policylang `.pol` policy files."""

    name = "policylang"
    aliases = ["policylang", "pol"]
    filenames = ["*.pol"]
    mimetypes = ["text/x-policylang"]
    url = "https://github.com/policylang/policylang"

    tokens = {
        "root": [
            (r"\s+", Whitespace),
            (r"#[^\n]*", Comment.Single),
            (r'"(\\[^\n]|[^"\\\n])*"', String.Double),
            (r"[0-9]{4}-[0-9]{2}-[0-9]{2}", Number.Other),  # a date
            (r"[0-9]+(\.[0-9]+)?(万元|亿元|万|亿|元)", Number.Float),  # money
            (r"[0-9]+(\.[0-9]+)?(%|bp)", Number.Float),  # percent, basis points
            (r"[0-9]+(个月|年|天|日)", Number.Integer),  # a CJK duration
            (r"([0-9]+)(\s+)(" + "|".join(DURATION_UNITS) + r")\b",
             bygroups(Number.Integer, Whitespace, Keyword.Type)),
            (r"[0-9]+(\.[0-9]+)?", Number),
            (words(DECLARATION_KEYWORDS, suffix=r"\b"), Keyword.Declaration),
            (words(METADATA_KEYWORDS, suffix=r"\b"), Keyword.Reserved),
            (words(CONSTANTS, suffix=r"\b"), Keyword.Constant),
            (words(OPERATOR_WORDS, suffix=r"\b"), Operator.Word),
            (words(CLAUSE_KEYWORDS, suffix=r"\b"), Keyword),
            (words(TYPE_NAMES, suffix=r"\b"), Keyword.Type),
            (r"(" + "|".join(BUILTIN_FUNCTIONS) + r")(?=\s*\()", Name.Builtin),
            (r"(" + _NAME + r")(\s*)(:)", bygroups(Name.Variable, Whitespace, Punctuation)),
            (_NAME, Name),
            (r"==|!=|<=|>=|[<>+\-*/=]", Operator),
            (r"[{}(),.:]", Punctuation),
            (r".", Text),
        ],
    }


def highlight_html(source: str) -> str:
    """The source as highlighted HTML (`<div class="highlight">…`), CSS classes only."""
    from pygments import highlight

    return highlight(source, PolicyLexer(), HtmlFormatter(cssclass="highlight"))


def highlight_inline(fragment: str) -> str:
    """A formula as highlighted HTML spans, no wrapper (for inline use in a page)."""
    from pygments import highlight

    return highlight(fragment, PolicyLexer(), HtmlFormatter(nowrap=True)).rstrip("\n")


def highlight_css() -> str:
    """The stylesheet for `highlight_html`'s classes."""
    return HtmlFormatter(style="friendly", cssclass="highlight").get_style_defs(".highlight")
