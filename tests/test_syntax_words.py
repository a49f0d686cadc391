"""The words syntax errors are written in (policylang/syntax_words.py): every terminal
named there is one of the grammar's, and every known mistake's snippet is reported in
that mistake's sentence."""

from __future__ import annotations

import pytest

from policylang import parser
from policylang.diagnostics import PolicyError
from policylang.syntax_words import KNOWN_MISTAKES, TOKEN_WORDS


def test_every_named_terminal_is_one_of_the_grammar() -> None:
    terminals = {terminal.name for terminal in parser._lark().terminals} | {"$END"}
    assert set(TOKEN_WORDS) <= terminals, set(TOKEN_WORDS) - terminals


@pytest.mark.parametrize(("sentence", "snippet"), [
    (sentence, snippet) for sentence, snippets in KNOWN_MISTAKES.items()
    for snippet in snippets])
def test_each_known_mistake_is_reported_in_its_sentence(sentence: str, snippet: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parser.parse(snippet, "mistake.pol")
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.code == "E102" and diagnostic.message.startswith(f"{sentence}; found")


# Declarations a mistake may come after: lark compares stack depths as well as states,
# which once gave a known mistake its words only as a policy's first declaration.
PRECEDING = ['version "1" ', 'enum k { a b } ', "input { a: money } ",
             'version "1" enum k { a b } input { a: money } let x = a ']


@pytest.mark.parametrize("preceding", PRECEDING)
def test_every_known_mistake_reads_the_same_after_any_declarations(preceding: str) -> None:
    head = 'policy p "t" { '
    for sentence, snippets in KNOWN_MISTAKES.items():
        for snippet in snippets:
            if not snippet.startswith(head):
                continue
            moved = head + preceding + snippet[len(head):]
            with pytest.raises(PolicyError) as caught:
                parser.parse(moved, "mistake.pol")
            message = caught.value.diagnostics[0].message
            assert message.startswith(f"{sentence}; found"), (moved, message)
