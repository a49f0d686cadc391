"""lsp_incremental: the incremental parser gives what `parse` gives, after every kind of
edit a drafter makes, and parses only the declarations an edit touched."""

from __future__ import annotations

from pathlib import Path

import pytest

SEED_POLICY = Path(__file__).resolve().parent.parent / "policies" / "chongqing" / "zhubaodai.pol"


def _parsed(parser, text: str):
    from policylang.diagnostics import PolicyError

    try:
        return parser(text, "edited.pol")
    except PolicyError as error:
        return [d.headline() for d in error.diagnostics]


def _edits(text: str) -> list[str]:
    """Edits a drafter makes: a value changed, lines added and removed, mistakes typed."""
    lines = text.split("\n")
    middle, late = len(lines) // 2, len(lines) * 4 // 5

    def at(index: int, change) -> str:
        return "\n".join(lines[:index] + change(lines[index]) + lines[index + 1:])

    return [
        at(middle, lambda line: [line.replace("0", "1", 1)]),  # a value
        at(middle, lambda line: [line + "  # 注释"]),  # a comment
        at(3, lambda line: [line, ""]),  # a line inserted near the top
        at(3, lambda line: []),  # a line deleted near the top
        at(late, lambda line: [line + " ="]),  # a syntax error near the end
        at(middle, lambda line: [line.replace(":", "", 1)]),  # a missing ':'
        at(late, lambda line: [line.replace("{", "", 1)]),  # an unclosed brace
        at(late, lambda line: [line.replace("}", "", 1)]),  # a brace too few
        at(middle, lambda line: [line, "  let half = 1.123456789012元"]),  # E105
        at(middle, lambda line: [line, "  enum half {"]),  # a declaration half typed
        at(len(lines) - 2, lambda line: [line, "}", "let after = 1"]),  # E106
        at(middle, lambda line: [line.replace("e", "é", 1)]),  # a name misspelt
        text,
    ]


@pytest.mark.parametrize("path", sorted(SEED_POLICY.parent.parent.glob("*/*.pol")),
                         ids=lambda path: path.stem)
def test_the_incremental_parser_parses_as_parse_does(path):
    from policylang.lsp_incremental import IncrementalParser
    from policylang.parser import parse

    text = path.read_text(encoding="utf-8")
    parser = IncrementalParser()
    assert _parsed(parser, text) == _parsed(parse, text)
    for edited in _edits(text):
        for version in (edited, text):  # the edit, then back (each from the one before)
            assert _parsed(parser, version) == _parsed(parse, version)


def test_an_edit_parses_only_the_declaration_it_touched():
    from policylang.lsp_incremental import IncrementalParser

    text = SEED_POLICY.read_text(encoding="utf-8")
    parser = IncrementalParser()
    parser(text, "edited.pol")
    assert (parser.whole_parses, parser.piece_parses) == (1, 0)
    limit = next(line for line in text.split("\n") if line.lstrip().startswith("limit "))
    parser(text.replace(limit, limit + " # edited"), "edited.pol")
    moved = ("# a line above everything\n" + text).replace(limit, limit + " # edited")
    parser(moved, "edited.pol")  # the head parsed again, the rest moved down a line
    assert (parser.whole_parses, parser.piece_parses) == (1, 2)
    # A syntax error inside a declaration: that piece alone parsed, the file's error given.
    broken = moved.replace(limit + " # edited", limit.replace(":", "", 1))
    assert _parsed(parser, broken)[0].split("error[")[1].startswith("E102")
    assert (parser.whole_parses, parser.piece_parses) == (1, 3)
