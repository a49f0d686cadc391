"""`policylang fmt --check` on every `.pol` in the repository (issue 2): each file is in
the canonical layout (`format_source(text) == text`) and formatting it is idempotent.

Every `.pol` under the repository is found (policies/, tests/, docs/, editors/, …; not
.git, generated output or build directories), so a new file is held to the same bar
without being listed anywhere. The only files exempt are those that do not parse, on
purpose: bad programs of the catalogue (tests/bad/, see test_checker.py) whose expected
diagnostic is a syntax error. They are listed below by name, each with the code the
parser reports and why; a test keeps the list exact (no file listed that parses, none
that fails to parse left out). No file is exempt for its layout: the catalogues'
expected positions are those of the formatted files.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policylang import api
from policylang import nodes as n
from policylang.cli import app
from policylang.diagnostics import PolicyError
from policylang.formatter import format_source
from policylang.nodes import Span
from policylang.parser import parse
from tests.test_checker import expected_diagnostics

ROOT = Path(__file__).resolve().parents[1]

# Directories whose .pol files are not sources: generated output, builds, tool caches.
SKIPPED_DIRS = {".git", "generated", "build", "dist", "node_modules", ".venv", "venv",
                ".tox", ".hypothesis", ".pytest_cache", ".ruff_cache", "__pycache__"}

# Files that cannot be formatted because they do not parse, on purpose: "CODE: why".
# The code is the one the parser reports, and the file's inline expectation names it.
UNPARSEABLE: dict[str, str] = {
    "tests/bad/names_clause_twice.pol": "E406: a `says` clause given twice",
    "tests/bad/syntax_bad_date.pol": "E105: a date that is not on the calendar",
    "tests/bad/syntax_bad_escape.pol": "E105: an unknown escape in a text",
    "tests/bad/syntax_chained_comparison.pol": "E102: a chained comparison",
    "tests/bad/syntax_duration_out_of_range.pol": "E105: a duration of 10^8 months or more",
    "tests/bad/syntax_cite_without_quotes.pol": "E102: a citation without quotes",
    "tests/bad/syntax_clause_twice.pol": "E406: a `cite` clause given twice",
    "tests/bad/syntax_comment_only.pol": "E103: a file holding only a comment",
    "tests/bad/syntax_eof_missing_brace.pol": "E103: the file ends before its `}`",
    "tests/bad/syntax_eof_no_newline.pol": "E103: the file ends mid-expression, no newline",
    "tests/bad/syntax_fractional_duration.pol": "E105: a fractional number of years",
    "tests/bad/syntax_literal_out_of_range.pol": "E105: a literal of 10^18 or more",
    "tests/bad/syntax_fullwidth_operator.pol": "E101: a full-width comparison sign",
    "tests/bad/syntax_keyword_as_name.pol": "E102: a keyword read as a name",
    "tests/bad/syntax_limit_equality.pol": "E102: a limit with ==",
    "tests/bad/syntax_limit_missing_colon.pol": "E102: a limit without its ':'",
    "tests/bad/syntax_missing_expression.pol": "E102: a let without an expression",
    "tests/bad/syntax_missing_title.pol": "E102: a policy without its title",
    "tests/bad/syntax_missing_type.pol": "E102: an input without its type",
    "tests/bad/syntax_misspelt_keyword.pol": "E102: a misspelt keyword",
    "tests/bad/syntax_nested_too_deeply.pol": "E107: an expression nested past the bound",
    "tests/bad/syntax_no_policy_header.pol": "E102: a file without `policy NAME \"title\" {`",
    "tests/bad/syntax_test_without_given.pol": "E102: a test without `given`",
    "tests/bad/syntax_too_many_decimals.pol": "E105: a number with too many decimals",
    "tests/bad/syntax_two_policies.pol": "E106: two policies in one file",
    "tests/bad/syntax_unexpected_character.pol": "E101: a character outside the language",
    "tests/bad/syntax_unterminated_text.pol": "E104: a text whose quote is not closed",
}


def _pol_files() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.pol")
                  if not any(part in SKIPPED_DIRS or part.endswith(".egg-info")
                             for part in p.relative_to(ROOT).parts[:-1]))


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


FILES = _pol_files()
FORMATTABLE = [p for p in FILES if _name(p) not in UNPARSEABLE]


def _parse_error(path: Path) -> PolicyError | None:
    try:
        parse(path.read_text(encoding="utf-8"), _name(path))
    except PolicyError as error:
        return error
    return None


def test_every_directory_with_policies_is_searched() -> None:
    found = {_name(p).split("/")[0] for p in FILES}
    assert {"policies", "tests"} <= found
    assert any(_name(p).startswith("tests/bad/") for p in FILES)
    assert any(_name(p).startswith("tests/lint/") for p in FILES)
    assert "tests/diff_pairs/base.pol" in {_name(p) for p in FILES}


@pytest.mark.parametrize("path", FORMATTABLE, ids=_name)
def test_file_is_formatted_and_formatting_is_idempotent(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    error = _parse_error(path)
    assert error is None, (f"{_name(path)} does not parse ({error.code}); format it, or "
                           "list it in UNPARSEABLE if that is its point")
    formatted = format_source(source, _name(path))
    assert format_source(formatted, _name(path)) == formatted, "fmt is not idempotent"
    assert formatted == source, f"`policylang fmt --check {_name(path)}` fails"


@pytest.mark.parametrize("name", sorted(UNPARSEABLE))
def test_exemption_is_not_stale(name: str) -> None:
    """Listed, so it must exist and fail to parse with the code its reason names, and, in
    the bad-program catalogue, that is the diagnostic the file expects."""
    path = ROOT / name
    assert path in FILES, f"{name} is exempt but no longer there"
    error = _parse_error(path)
    assert error is not None, f"{name} parses now: format it and take it off the list"
    code = UNPARSEABLE[name].split(":")[0]
    assert {d.code for d in error.diagnostics} == {code}, UNPARSEABLE[name]
    if name.startswith("tests/bad/"):
        assert code in {c for c, _, _ in expected_diagnostics(path)}


def test_every_catalogue_file_expecting_a_syntax_error_is_exempt() -> None:
    """The list, derived the other way: a bad program that expects an E1xx (syntax)
    diagnostic cannot be formatted, so it must be exempt — and nothing else in the
    catalogue is (E406 is a clause given twice, which the parser finds)."""
    syntax = {_name(p) for p in FILES if _name(p).startswith("tests/bad/")
              and any(c.startswith("E1") for c, _, _ in expected_diagnostics(p))}
    assert syntax <= set(UNPARSEABLE)
    assert {n for n, why in UNPARSEABLE.items() if not why.startswith("E1")} == {
        "tests/bad/names_clause_twice.pol", "tests/bad/syntax_clause_twice.pol"}


def test_fmt_check_passes_on_the_repository() -> None:
    """The command itself, on every formattable file at once."""
    result = CliRunner().invoke(app, ["fmt", "--check", *map(str, FORMATTABLE)])
    assert result.exit_code == 0, result.output


TEST_BLOCK_COMMENTS = '''policy c "t" {
  input {
    a: money
    d: date = 2022-01-01
  }
  rule r: a > 0元
  portfolio order by d {
    budget b = sum(a) <= 100元
  }
  test "t" {
    given {  # the case
      a: 1元
    }  # end of case
    params {}  # none
    expect eligible
  }
  test "b" {
    book {  # two cases
      given {  # first
        a: 1元
      }
      given {  # second
        a: 2元
        # last binding
      }
    }  # end of book
    expect case 1 eligible
  }
}
'''


def test_comments_at_the_end_of_a_tests_block_lines_stay_there() -> None:
    assert format_source(TEST_BLOCK_COMMENTS, "c.pol") == TEST_BLOCK_COMMENTS
    # An empty `params {` block written over two lines closes on its opening line.
    spread = TEST_BLOCK_COMMENTS.replace("    params {}  # none\n", "    params {  # none\n    }\n")
    assert format_source(spread, "c.pol") == TEST_BLOCK_COMMENTS


# Comments inside declarations written over several lines, and after an item that shares a
# line with its block's opening: each stays with the item it was written beside.
SPREAD_COMMENTS = '''policy p "t" {
  enum k { a  # after a
    b
  }
  input {
    x: money
    y: k
  }
  limit cap: x <= 500万  # the document's figure
    when y == a
  limit low: x <= 100万  # head
    when y == b  # lint: allow W104 kept for the record
  let z = x +  # a long sum
    1元  # tail
  test "t" {
    given { x: 1万  # g1
      y: a
    }
    expect eligible
  }
}
'''

SPREAD_COMMENTS_FORMATTED = '''policy p "t" {
  enum k {
    a  # after a
    b
  }
  input {
    x: money
    y: k
  }
  limit cap: x <= 500万 when y == a  # the document's figure
  # head
  limit low: x <= 100万 when y == b  # lint: allow W104 kept for the record
  # a long sum
  let z = x + 1元  # tail
  test "t" {
    given {
      x: 1万  # g1
      y: a
    }
    expect eligible
  }
}
'''


def test_comments_stay_with_the_declaration_they_were_written_in() -> None:
    assert format_source(SPREAD_COMMENTS, "c.pol") == SPREAD_COMMENTS_FORMATTED
    assert format_source(SPREAD_COMMENTS_FORMATTED, "c.pol") == SPREAD_COMMENTS_FORMATTED


def test_a_lint_allow_on_a_continuation_line_still_allows_after_formatting() -> None:
    """The audit's case: `fmt` moved the allow below its limit, which then warned."""
    from policylang import api, lint

    source = ('policy p "t" {\n  input { x: money  y: bool }\n  limit big: x <= 1000万\n'
              '  limit cap: x <= 2000万  # the old figure\n'
              '    when y  # lint: allow W106 kept for the record\n}\n')
    for text in (source, format_source(source, "c.pol")):
        result = lint.lint(api.load_source(text, "c.pol"), text)
        assert [w.code for w in result.warnings] == [], (text, result.warnings)
        assert [w.code for w in result.allowed] == ["W106"]


# ── comments at every place: the formatter's properties, exhaustively ─────────────────

def _meaning(value: object) -> object:
    """A checked policy (or any part of it) without its source positions."""
    if isinstance(value, Span):
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, *((f.name, _meaning(getattr(value, f.name)))
                                        for f in dataclasses.fields(value)
                                        if f.name != "file" and not f.name.endswith("span")))
    if isinstance(value, tuple | list):
        return tuple(_meaning(item) for item in value)
    return value


def _places(policy: n.Policy) -> list[Span]:
    """Every declaration and every item of a block (members, fields, parts, steps,
    portfolio rules, a test's given/params/book blocks, bindings and expectations), in
    source order: what a comment can belong to."""
    out: list[Span] = []

    def visit(node: object) -> None:
        if isinstance(node, tuple):
            for item in node:
                visit(item)
        elif dataclasses.is_dataclass(node) and not isinstance(
                node, n.Expr | n.Text | n.TypeRef | n.Clauses | Span):
            out.append(node.span)
            if isinstance(node, n.TestDecl):
                out.extend(s for s in (*node.given_spans, node.book_span, node.params_span)
                           if s is not None)
            for item in dataclasses.fields(node):
                visit(getattr(node, item.name))

    visit(policy.items)
    return out


def _owners(source: str) -> dict[str, list[int]]:
    """Each comment → the places it belongs to, as `lint: allow` reads it: those whose
    lines hold it, counting the comment lines directly above a place that starts its
    line as its own."""
    policy = parse(source, "c.pol")
    lines = source.split("\n")
    regions = []
    for span in _places(policy):
        first = span.line
        starts_line = not lines[first - 1][: span.column - 1].strip()
        while starts_line and first > 1 and lines[first - 2].lstrip().startswith("#"):
            first -= 1
        regions.append((first, span.end_line))
    return {c.text.rstrip(): [i for i, (first, last) in enumerate(regions)
                              if first <= c.span.line <= last] for c in policy.comments}


def _assert_formats_well(source: str, meaning: object) -> None:
    formatted = format_source(source, "c.pol")
    assert format_source(formatted, "c.pol") == formatted, "fmt is not idempotent"
    assert _meaning(api.load_source(formatted, "c.pol")) == meaning, "fmt changed the meaning"
    before, after = _owners(source), _owners(formatted)
    assert sorted(after) == sorted(before), "fmt lost or changed a comment"
    moved = {text: (before[text], after[text]) for text in before
             if before[text] != after[text]}
    assert not moved, f"fmt moved comments to other declarations: {moved}\n{formatted}"


def _with_comment(lines: list[str], index: int, trailing: bool) -> str | None:
    """`lines` with a comment on its own line before line `index` (indented like it), or
    at the end of that line; None where there is no line to end."""
    lines = list(lines)
    tag = f"# c{index}{'t' if trailing else 'o'} lint: allow W101 why"
    if trailing:
        if index >= len(lines) or not lines[index].strip():
            return None
        lines[index] += "  " + tag
    else:
        line = lines[index] if index < len(lines) else ""
        lines.insert(index, line[: len(line) - len(line.lstrip())] + tag)
    return "\n".join(lines) + "\n"


# Every form a policy can take, several written over more lines than their formatted
# layout: a multi-line limit, a block opened on the line of its first item, a long
# portfolio rule, book and params blocks, blank lines around a comment.
EVERY_FORM = '''policy every_form "每一种形式" {
  document  "文件"
  effective 2022-01-01

  enum kind { a "甲"
    b "乙"
  }
  input {
    k:      kind
    amount: money "金额"
    d:      date
    rate:   percent = 1%
  }
  param lpr: percent = 3.45% "同期LPR"

  # ── checks ──

  let fee = amount * rate cite "一"
  rule r: k in {a, b} cite "二" says "必须"
  limit long_one: amount <= 1000万
      when k == a and rate <= lpr + 150bp and d >= 2022-01-01
      cite "这是一个非常长的引用文字，用来让这一行超过一百列的宽度限制"
  limit short:    amount >= 1元
    when k == b
  shares loss of amount cite "三" {
    bank: 10%
    fund: 90%
  }
  waterfall w(amount) {
    take bank up to 10万
    split {
      fund:  50% up to 5万
      other: 50%
    } cite "五"
    rest me
  }
  portfolio order by d {
    budget bud = sum(amount where amount > 1元) <= 100万
    limit total_cap
        = sum(amount where rate >= lpr + 150bp and d >= 2022-01-01) <= 10000000万
        cite "很长的引用"
  }
  test "one" {
    given { k: a
      amount: 1万
      d:      2022-01-02
    }
    params {
      lpr: 3%
    }
    expect eligible
  }
  test "book" {
    book {
      given {
        k:      b
        amount: 2万
        d:      2022-01-03
      }
    }
    expect case 1 eligible
  }
}'''


def test_a_comment_at_every_place_of_every_form_stays_where_it_was() -> None:
    """Exhaustive: a comment on its own line before each line, and at the end of each,
    of a policy holding every form (and at the end of a file without a newline)."""
    meaning = _meaning(api.load_source(EVERY_FORM, "c.pol"))
    lines = EVERY_FORM.split("\n")
    for index in range(len(lines) + 1):
        for trailing in (False, True):
            source = _with_comment(lines, index, trailing)
            if source is not None:
                _assert_formats_well(source, meaning)
    _assert_formats_well(EVERY_FORM + "\n# the end, no newline", meaning)


SEEDS = sorted((ROOT / "policies").rglob("*.pol"))


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_a_comment_anywhere_in_a_seed_policy_stays_where_it_was(path: Path) -> None:
    """Hypothesis: comments at random places of each seed policy, on their own lines and
    at line ends (CRLF line ends too), keep their declarations, the meaning, idempotence."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    source = path.read_text(encoding="utf-8")
    meaning = _meaning(api.load_source(source, "c.pol"))
    lines = source.rstrip("\n").split("\n")

    @settings(max_examples=6, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(st.integers(0, len(lines)), st.booleans()), min_size=1,
                    max_size=4, unique_by=lambda place: place[0]))
    def check(places) -> None:
        text = lines
        for index, trailing in sorted(places, reverse=True):
            with_comment = _with_comment(text, index, trailing)
            if with_comment is not None:
                text = with_comment.rstrip("\n").split("\n")
        _assert_formats_well("\n".join(text) + "\n", meaning)

    check()


def test_text_inside_quotes_is_kept_byte_for_byte() -> None:
    """A tab typed inside a text stays a tab (it was printed as `\\t`), an escape stays an
    escape, a line separator (U+2028, pasted from a document) stays."""
    source = ('policy p "题目\t(tab)" {\n  input {\n    x: money "金额\t万元"\n  }\n'
              '  rule r: x > 0元 cite "第一条\\t\t(二)" says "\\"必须\\"\u2028为正"\n}\n')
    assert format_source(source, "c.pol") == source


def test_a_line_separator_in_a_text_does_not_shift_the_blank_lines() -> None:
    """The blank line before `tt` was looked up one line off (U+2028 counted as a line
    end), so it was dropped and all three rules aligned as one run."""
    source = ('policy p "t" {\n  input {\n    x: money\n  }\n'
              '  rule r: x > 0元 cite "第\u2028一"\n  rule s: x < 1元\n\n'
              '  rule tt: x < 2元\n}\n')
    assert format_source(source, "c.pol") == source


def test_blank_lines_around_a_comment_between_declarations_are_kept() -> None:
    """A section heading keeps the blank line below it, and a comment the source kept
    apart from the declaration below (so an allow in it allows nothing: W109) is not
    moved up against it, where it would start to allow that declaration's warning."""
    from policylang import lint

    source = ('policy p "t" {\n  input {\n    x: money\n    y: money\n  }\n'
              '  rule r: x > 0元\n\n  # ── caps ──\n\n  limit cap: x <= 1元\n'
              '  # lint: allow W106 an old note, about nothing here\n\n'
              '  limit old_cap: x <= 2元\n}\n')
    assert format_source(source, "c.pol") == source
    result = lint.lint(api.load_source(source, "c.pol"), source)
    assert sorted(w.code for w in result.warnings) == ["W101", "W106", "W109"]


# ── the width of a line on screen ──


def _rule_with_cite(citation: str) -> str:
    return ('policy p "t" {\n  input {\n    x: money\n  }\n'
            f'  rule r: x > 0元 cite "{citation}"\n}}\n')


def test_line_width_counts_display_columns_not_characters() -> None:
    """A Chinese character is two columns wide on screen (East Asian Width W/F): a line of
    90 characters, 30 of them Chinese, is 121 columns, so its clauses go on lines of their
    own like any long line's; the same line in ASCII (91 columns) stays whole."""
    from policylang.formatter import display_width

    assert display_width("第7条：减半") == 11 and display_width("abc 1元") == 7
    citation = "第" * 30 + "a" * 36
    chinese = _rule_with_cite(citation)
    line = chinese.split("\n")[4]
    assert (len(line), display_width(line)) == (90, 121)
    assert format_source(chinese, "c.pol").split("\n")[4:6] == [
        "  rule r: x > 0元", f'      cite "{citation}"']
    ascii_only = _rule_with_cite("a" * 66)
    assert format_source(ascii_only, "c.pol") == ascii_only


def test_columns_line_up_on_screen_beside_chinese_names() -> None:
    """Names may be Chinese (NAME is any word): the colons' right-hand sides of a group
    line up in display columns, a Chinese character counting two."""
    from policylang.formatter import display_width

    source = ('policy p "t" {\n  input {\n    保费: money\n    amount: money\n  }\n'
              '  let 担保费 = 保费\n  let total = amount\n'
              '  shares 分担 of amount { 银行: 20%  guarantor: 80% }\n}\n')
    formatted = format_source(source, "c.pol")
    lines = formatted.split("\n")

    def column_after(prefix: str, mark: str) -> int:
        (line,) = [x for x in lines if x.strip().startswith(prefix)]
        return display_width(line[:line.index(mark, len(line) - len(line.lstrip()))])

    assert column_after("保费:", "money") == column_after("amount:", "money")
    assert column_after("let 担保费", "=") == column_after("let total", "=")
    assert column_after("银行:", "20%") == column_after("guarantor:", "80%")
    assert format_source(formatted, "c.pol") == formatted


def test_no_seed_line_with_clauses_passes_100_columns_on_screen() -> None:
    """What the formatter can wrap (a declaration's clauses) it wraps at 100 display
    columns in every seed policy; a line it cannot break (an input with its description,
    the policy's title, a clause alone on its line) may stay longer."""
    from policylang.formatter import display_width

    for path in sorted((ROOT / "policies").rglob("*.pol")):
        for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
            code = line.split("  #")[0]
            if line.split()[:1] in (["cite"], ["says"], ["when"]):
                continue
            if display_width(code) > 100 and (" cite " in code or " says " in code
                                              or " when " in code):
                pytest.fail(f"{_name(path)}:{number} is {display_width(code)} columns")


def test_fmt_check_passes_a_formatted_crlf_file(tmp_path: Path) -> None:
    path = tmp_path / "p.pol"
    formatted = format_source('policy p "题目" {\n  input { x: money }\n  rule r: x > 0元\n}\n')
    path.write_bytes(formatted.replace("\n", "\r\n").encode("utf-8"))
    result = CliRunner().invoke(app, ["fmt", "--check", str(path)])
    assert result.exit_code == 0, result.output


# ── line breaks ──


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["CRLF", "lone CR"])
def test_a_crlf_source_is_formatted_with_crlf(newline: str) -> None:
    """A file written on Windows keeps its line breaks (they were all turned into `\\n`:
    the whole file showed as changed in version control)."""
    messy = 'policy p "题目" {\n  input { x: money }\n  rule   r :x>0元  # 注释\n}\n'
    formatted = format_source(messy, "c.pol")
    assert "\r" not in formatted
    assert format_source(messy.replace("\n", newline), "c.pol") == \
        formatted.replace("\n", newline)
    assert format_source(formatted.replace("\n", newline), "c.pol") == \
        formatted.replace("\n", newline)


def test_a_mixed_source_takes_its_first_line_break() -> None:
    source = 'policy p "t" {\r\n  input {\n    x: money\n  }\r\n  rule r: x > 0元\n}\n'
    assert format_source(source, "c.pol") == source.replace("\r\n", "\n").replace("\n", "\r\n")


def test_fmt_keeps_a_crlf_file_crlf(tmp_path: Path) -> None:
    messy = 'policy p "题目" {\n  input { x: money }\n  rule   r :x>0元\n}\n'
    path = tmp_path / "p.pol"
    path.write_bytes(messy.replace("\n", "\r\n").encode("utf-8"))
    result = CliRunner().invoke(app, ["fmt", str(path)])
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == format_source(messy).replace("\n", "\r\n").encode("utf-8")
