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


def test_the_last_parsed_index_is_carried_onto_the_text_being_typed():
    """Each name keeps its place on the new text if its line is still there, or was edited
    after the name only; a name typed on, or on a line deleted, is dropped."""
    from policylang.lsp_index import analyze, carried_to

    text = SEED_POLICY.read_text(encoding="utf-8")
    parsed = analyze(text, "zhubaodai.pol", run_tests=False)
    let = next(d for d in parsed.definitions.values()
               if d.kind == "let" and d.full_range.line == d.full_range.end_line)
    line = text.split("\n")[let.full_range.line]
    typed = (text.replace(line, line + " +", 1)  # typing at the end of a let's line
             .replace("\n", "\n  # 注释😀\n  let 半 =\n", 1)  # two lines above everything
             .replace("policy ", "policy x", 1))  # and the policy's name typed on
    assert analyze(typed, "zhubaodai.pol", run_tests=False).ast is None
    moved = carried_to(parsed, typed)
    lines = typed.split("\n")

    def at(r):
        assert r.line == r.end_line
        return lines[r.line][r.column:r.end_column]

    for key, definition in parsed.definitions.items():
        if key not in moved.definitions:
            continue
        now = moved.definitions[key]
        assert now.range.line == definition.range.line + 2
        if definition.kind != "test" and definition.name != "unallocated":
            assert at(now.range) == definition.name
    assert len(moved.definitions) == len(parsed.definitions)
    assert len(moved.references) == len(parsed.references)
    for reference in moved.references:
        assert at(reference.range) == reference.key[-1]
    let_name = let.name
    let_line = lines.index(line + " +")
    assert moved.definitions[("name", let_name)].full_range.end_line == let_line
    assert moved.definitions[("name", let_name)].full_range.end_column == len(line)

    renamed = typed.replace(f"let {let_name} ", f"let {let_name}x ", 1)
    assert ("name", let_name) not in carried_to(parsed, renamed).definitions
