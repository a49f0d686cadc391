"""Rendering diagnostics: `path:line:col: error[E201]: message`, the source line, and
carets under the span (CJK characters are two columns wide), in order, without colour
codes when the output is not a terminal."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata

import pytest

from policylang import api
from policylang.diagnostics import WINDOW, Diagnostic, PolicyError, render
from policylang.nodes import Span


def diagnostics(source: str, file: str = "p.pol") -> list[Diagnostic]:
    with pytest.raises(PolicyError) as info:
        api.load_source(source, file)
    return info.value.diagnostics


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def caret_columns(rendered: str) -> tuple[int, int]:
    """(display column where the carets start, how many) on the caret line."""
    line = next(x for x in rendered.splitlines() if x.strip() and set(x.strip()) == {"^"})
    start = len(line) - len(line.lstrip(" "))
    return start, len(line.strip())


def source_row(rendered: str) -> tuple[str, str]:
    """(gutter, source text) of the rendered source line."""
    row = rendered.splitlines()[1]
    gutter, _, text = row.partition(" | ")
    return gutter + " | ", text


POLICY = '''policy p "t" {
  input {
    loan_amount: money
    rate:        percent
    term:        duration
  }
  let fee = loan_amount + rate
  limit term_cap: term <= 500万
}
'''


def test_headline_format() -> None:
    first, second = diagnostics(POLICY, "policies/demo.pol")
    assert render(first, POLICY).splitlines()[0] == (
        "policies/demo.pol:7:13: error[E201]: cannot compute money + percent")
    assert first.headline() == render(first, None).splitlines()[0]
    assert second.headline().startswith("policies/demo.pol:8:19: error[E202]: ")


def test_source_line_and_carets_under_the_span() -> None:
    first, second = diagnostics(POLICY)
    rendered = render(first, POLICY)
    lines = rendered.splitlines()
    gutter, text = source_row(rendered)
    assert gutter == "   7 | "
    assert text == "  let fee = loan_amount + rate"
    start, count = caret_columns(rendered)
    assert start == len(gutter) + len("  let fee = ")
    assert count == len("loan_amount + rate")
    assert lines[3] == "     = note: a percent of money is written `amount * rate`"

    rendered = render(second, POLICY)
    start, count = caret_columns(rendered)
    gutter, text = source_row(rendered)
    # a limit of two types: the whole comparison, subject to bound (either may be wrong)
    assert text[start - len(gutter):].startswith("term <= 500万")
    assert count == width("term <= 500万")


CJK = '''policy 佛山 "佛山市政策性小额贷款保证保险" {
  input {
    贷款金额: money
    期限:     duration
  }
  limit 期限上限: 期限 <= 500万 cite "三（二）"
  rule  首贷:     首次贷款
}
'''


def test_carets_under_cjk_text_count_two_columns_per_character() -> None:
    first, second = diagnostics(CJK)
    assert (first.code, first.span.line, first.span.column) == ("E202", 6, 15)
    rendered = render(first, CJK)
    gutter, text = source_row(rendered)
    start, count = caret_columns(rendered)
    # `  limit 期限上限: ` is 8 ASCII + 4 CJK + ':' + ' ' = 18 display columns
    assert start == len(gutter) + width("  limit 期限上限: ") == len(gutter) + 18
    assert count == width("期限 <= 500万") == 13

    assert (second.code, second.span.line, second.span.column) == ("E402", 7, 17)
    rendered = render(second, CJK)
    gutter, _ = source_row(rendered)
    start, count = caret_columns(rendered)
    assert start == len(gutter) + width("  rule  首贷:     ")
    assert count == width("首次贷款") == 8


def test_carets_under_a_full_width_character() -> None:
    source = 'policy p "t" {\n  input { 金额: money }\n  limit 上限: 金额 ＜= 1000万\n}\n'
    [diag] = diagnostics(source)
    assert (diag.code, diag.span.line, diag.span.column) == ("E101", 3, 16)
    rendered = render(diag, source)
    gutter, _ = source_row(rendered)
    assert caret_columns(rendered) == (len(gutter) + width("  limit 上限: 金额 "), 2)


def test_a_multi_line_span_is_underlined_to_the_end_of_its_first_line() -> None:
    source = ('policy p "t" {\n  input { loss: money }\n  shares first_loss of loss {\n'
              '    bank:    10%\n    insurer: 80%\n  }\n}\n')
    [diag] = diagnostics(source)
    assert diag.code == "E301"
    assert (diag.span.line, diag.span.end_line) == (3, 6)
    rendered = render(diag, source)
    gutter, text = source_row(rendered)
    assert text == "  shares first_loss of loss {"
    assert caret_columns(rendered) == (len(gutter) + 2, len("shares first_loss of loss {"))
    assert "90%" in diag.message
    assert len(rendered.splitlines()) == 3  # headline, source line, carets


@pytest.mark.parametrize("before, literal, after", [
    ("", "1" * 1200 + "万", ""),  # a span longer than the window: carets to its cut end
    ("x" * 300 + " + ", "1" * 19 + "元", " + " + "y" * 300),  # cut on both sides
    ("", "1" * 19 + "元", " + " + "y" * 300),  # cut after only
], ids=["long span", "cut both sides", "cut after"])
def test_a_long_line_is_cut_around_the_span(before: str, literal: str, after: str) -> None:
    names = "".join(f"    {n}: money\n" for n in ("x" * 300, "y" * 300) if n in before + after)
    source = (f'policy p "t" {{\n  input {{\n{names}    a: money\n  }}\n'
              f"  rule r: a <= {before}{literal}{after}\n}}\n")
    [diag] = [d for d in diagnostics(source) if d.code == "E105"]
    rendered = render(diag, source)
    gutter, text = source_row(rendered)
    assert len(text) <= WINDOW + 2
    assert text.startswith("…") == bool(before) and text.endswith("…") == (len(
        f"  rule r: a <= {before}{literal}{after}") - diag.span.column > WINDOW)
    start, count = caret_columns(rendered)
    at = start - len(gutter)  # the text before the span is one column a character
    if len(literal) < WINDOW:
        assert text[at:at + len(literal)] == literal and count == width(literal)
    else:  # carets run to the cut end of the line
        assert set(text[at:-1]) == {"1"} and count == len(text) - 1 - at
    assert len(diag.message) < 120 and ("characters)" in diag.message) == (len(literal) > 40)


def test_tabs_keep_the_carets_aligned() -> None:
    source = 'policy p "t" {\n\tinput { a: money }\n\trule r:\ta > 1%\n}\n'
    [diag] = diagnostics(source)
    assert (diag.span.line, diag.span.column) == (3, 10)
    rendered = render(diag, source)
    gutter, text = source_row(rendered)
    start, count = caret_columns(rendered)
    assert text[start - len(gutter):][:count] == "a > 1%"


def test_crlf_line_endings() -> None:
    source = POLICY.replace("\n", "\r\n")
    first, _ = diagnostics(source)
    assert (first.span.line, first.span.column) == (7, 13)
    gutter, text = source_row(render(first, source))
    assert text == "  let fee = loan_amount + rate"


@pytest.mark.parametrize("extra", ["\x0c", "  # 注释\u2028续\n", "  # a\x85b\n"],
                         ids=["form-feed", "line-separator", "next-line"])
def test_the_source_line_shown_is_the_line_of_the_span(extra: str) -> None:
    source = POLICY.replace("  let fee", extra + "  let fee")
    first, _ = diagnostics(source)
    _, text = source_row(render(first, source))
    assert text.strip() == "let fee = loan_amount + rate"


def test_end_of_file_without_a_newline_gets_a_caret_after_the_last_character() -> None:
    source = 'policy p "t" {\n  input { a: money }\n  rule r: a > 0元'
    [diag] = diagnostics(source)
    assert (diag.code, diag.span.line, diag.span.column) == ("E103", 3, 17)
    rendered = render(diag, source)
    gutter, text = source_row(rendered)
    assert caret_columns(rendered) == (len(gutter) + width(text), 1)


def test_several_diagnostics_come_in_source_order() -> None:
    source = '''policy p "t" {
  input { a: money  b: percent }
  rule z: b > 1元
  let y = nope
  shares s { x: 10% }
  rule w: a + b > 0元
  let v: bool = 1元
}
'''
    error = None
    try:
        api.load_source(source, "p.pol")
    except PolicyError as caught:
        error = caught
    assert error is not None
    positions = [(d.span.line, d.span.column) for d in error.diagnostics]
    assert positions == sorted(positions)
    assert [d.code for d in error.diagnostics] == ["E202", "E402", "E301", "E201", "E207"]
    assert str(error).splitlines() == [d.headline() for d in error.diagnostics]
    assert str(error).splitlines()[0] == (
        "p.pol:3:11: error[E202]: cannot compare percent with money")


def test_no_colour_unless_asked() -> None:
    [diag, *_] = diagnostics(POLICY)
    assert "\x1b[" not in render(diag, POLICY)
    assert "\x1b[" not in render(diag, POLICY, color=False)
    coloured = render(diag, POLICY, color=True)
    assert "\x1b[31m" in coloured
    # the colours wrap the same text
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == render(diag, POLICY)


def test_a_diagnostic_without_a_span_or_source() -> None:
    diag = Diagnostic("E607", "policy.pol: cannot read the file", None)
    assert render(diag, None) == "error[E607]: policy.pol: cannot read the file"
    with_span = Diagnostic("E402", "unknown name `x`", Span("p.pol", 99, 1, 99, 2))
    assert render(with_span, "one line\n") == "p.pol:99:1: error[E402]: unknown name `x`"


def test_json_form() -> None:
    first, _ = diagnostics(POLICY, "p.pol")
    data = first.to_json()
    assert data["code"] == "E201" and data["file"] == "p.pol"
    assert (data["line"], data["column"], data["end_line"], data["end_column"]) == (7, 13, 7, 31)
    json.dumps(data, ensure_ascii=False)


def test_check_command_output_when_not_a_terminal(tmp_path) -> None:
    bad = tmp_path / "bad.pol"
    bad.write_text(POLICY, encoding="utf-8")
    cjk = tmp_path / "佛山.pol"
    cjk.write_text(CJK, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "policylang", "check", str(bad), str(cjk)],
                            capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert result.returncode == 1
    assert "\x1b[" not in result.stderr and "\x1b[" not in result.stdout
    lines = result.stderr.splitlines()
    headlines = [line for line in lines if "error[" in line]
    assert headlines == [
        f"{bad}:7:13: error[E201]: cannot compute money + percent",
        f"{bad}:8:19: error[E202]: cannot compare duration with money",
        f"{cjk}:6:15: error[E202]: cannot compare duration with money",
        f"{cjk}:7:17: error[E402]: unknown name `首次贷款`",
    ]
    first = lines.index(headlines[0])
    assert lines[first + 1] == "   7 |   let fee = loan_amount + rate"
    assert lines[first + 2] == " " * 19 + "^" * 18
