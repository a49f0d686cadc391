"""lsp_text: a document's lines, positions and edits as LSP counts them (in process;
tests/test_lsp.py drives the server itself)."""

from __future__ import annotations

import pytest
from lsprotocol import types as lsp
from pygls.workspace import TextDocument

from policylang.lsp_text import Text, apply_change


def _edit(text: str, start: tuple[int, int], end: tuple[int, int], new: str) -> str:
    document = TextDocument("file:///tmp/t.pol", text)
    apply_change(document, lsp.TextDocumentContentChangePartial(
        range=lsp.Range(start=lsp.Position(line=start[0], character=start[1]),
                        end=lsp.Position(line=end[0], character=end[1])), text=new))
    return document.source


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("separator", ["\f", "\u2028", "\x85", "\x1c", "\v"])
def test_an_edit_is_made_on_lines_broken_at_line_breaks_only(newline, separator):
    text = newline.join([f"# 页{separator}页", "  let 费 = 1元 # 😀", "}"])
    # UTF-16: 😀 is two units; character 7 is after 费, 15 and 17 around the emoji.
    assert _edit(text, (1, 7), (1, 7), "用") == text.replace("let 费", "let 费用")
    assert _edit(text, (1, 15), (1, 17), "") == text.replace(" 😀", " ")
    assert _edit(text, (0, 4), (2, 0), "") == f"# 页{separator}}}"


def test_positions_past_a_line_or_the_text_are_their_ends():
    text = "第一行\n第二行\n"
    assert _edit(text, (0, 99), (0, 99), "!") == "第一行!\n第二行\n"
    assert _edit(text, (2, 0), (2, 0), "}") == text + "}"
    assert _edit(text, (9, 0), (9, 5), "}") == text + "}"


def test_a_change_without_a_range_is_the_whole_text():
    document = TextDocument("file:///tmp/t.pol", "旧")
    apply_change(document, lsp.TextDocumentContentChangeWholeDocument(text="新\f文"))
    assert document.source == "新\f文"


def test_columns_are_utf16_units_for_the_client_and_code_points_inside():
    text = Text(TextDocument("file:///tmp/t.pol", "a\f😀中\nb"))
    assert text.lines == ["a\f😀中", "b"]
    assert text.position(0, 3) == lsp.Position(line=0, character=4)
    assert text.cursor(lsp.Position(line=0, character=4)) == (0, 3)
    assert text.cursor(lsp.Position(line=5, character=0)) is None
