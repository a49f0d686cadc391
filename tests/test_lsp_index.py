"""lsp_index: the index the language server answers from, on every state a half-typed
file passes through (in process; tests/test_lsp.py drives the server itself)."""

from __future__ import annotations

from pathlib import Path

import pytest

SEED_POLICY = Path(__file__).resolve().parent.parent / "policies" / "chongqing" / "zhubaodai.pol"


@pytest.mark.parametrize("cut", range(0, SEED_POLICY.stat().st_size, 211))
def test_half_typed_files_never_break_the_index(cut):
    from policylang.lsp_index import analyze

    text = SEED_POLICY.read_text(encoding="utf-8")
    text = text[:cut] + text[cut:].split("\n", 1)[0]  # typing stopped mid-line
    found = analyze(text, "zhubaodai.pol", run_tests=False)
    assert found.diagnostics or found.policy is not None
    for diagnostic in found.diagnostics:
        assert diagnostic.span is not None and diagnostic.code[0] == "E"
    for definition in found.definitions.values():
        under = found.at(definition.range.line, definition.range.column)
        assert found.definitions[under].range == definition.range
    for reference in found.references:
        assert reference.key in found.definitions or reference.key[0] == "name"


@pytest.mark.parametrize("separator", ["\f", "\u2028", "\x85"])
def test_parts_are_found_on_their_line_after_a_page_break_in_a_comment(separator):
    """A waterfall's or shares' parts are found by their name on the declaration's line;
    the index cut lines at a form feed or a Unicode line separator as well (splitlines),
    and after one in a comment every part's range landed on the line above."""
    from policylang.lsp_index import analyze

    page_break = f"\n# 第一页{separator}第二页\n"
    text = SEED_POLICY.read_text(encoding="utf-8").replace("\n", page_break, 1)
    lines = text.split("\n")
    found = analyze(text, "zhubaodai.pol", run_tests=False)
    parts = [d for d in found.definitions.values()
             if d.kind == "part" and d.name != "unallocated"]
    assert len(parts) >= 4
    for part in parts:
        assert lines[part.range.line][part.range.column:part.range.end_column] == part.name
