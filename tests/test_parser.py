"""The parser, checker and formatter on hostile input.

(a) A fuzz test: mutants of valid policies (tokens deleted, duplicated, swapped or
    replaced, random characters inserted, truncation at every point, an empty file, a
    ~1 MB file) each give a checked policy or a `PolicyError` — never another exception.
(b) The formatter is idempotent on every valid policy and on every mutant that parses,
    and the formatted source checks to the same IR (spans ignored).
(c) Syntax errors are worded for a drafter, never in grammar terminal names.
"""

from __future__ import annotations

import dataclasses
import random
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from policylang import api
from policylang import nodes as n
from policylang.checker import check
from policylang.diagnostics import PolicyError
from policylang.formatter import format_source
from policylang.messages import CODES
from policylang.parser import parse
from tests.policies import EVERY_CONSTRUCT, ROOT, design_example

PORTFOLIO = '''# 组合层面的规则
policy portfolio_demo "组合规则示例" {
  supersedes old_demo
  region "佛山"
  enum counter { collateral "抵押"  credit "信用" }
  input {
    insurer:           counter
    loan_amount:       money
    compensated:       money = 0元
    insured_principal: money
    claim_date:        date
    counter_guarantee: counter = credit,
    term:              duration = 12个月  # 期限
  }
  param cap: money = 6000万
  let rate = compensated / insured_principal  # 赔付率
  let tail: money = if term > 1年 then -1.5元 else round(loan_amount * 0.3%, 0.01元)
  shares fund ratio of loan_amount { province: 2, city: 1.5 }
  portfolio order by claim_date {
    monitor compensation_rate per insurer, year(claim_date) cite "三(七)"
      = sum(compensated) / sum(insured_principal) stop when > 5% says "暂停"
    budget annual per year(claim_date) cite "三(八)" = sum(compensated) <= cap
    limit collateral_share = sum(loan_amount where counter_guarantee == collateral)
      / sum(loan_amount) <= 10%
    limit few = count(where insurer != credit and not (loan_amount < 1万)) < 100
  }
  test "t" {
    given { insurer: credit, loan_amount: 1万, insured_principal: 1万, claim_date: 2021-01-01 }
    params { cap: 1亿 }
    expect rate == 0%
    expect fund.province > 0元 and tail != 0元
  }
}
'''


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.search(r"```pol\n(.*?)```", text, re.S).group(1)


def _corpus() -> dict[str, str]:
    corpus = {
        "design_example": design_example(),
        "every_construct": EVERY_CONSTRUCT,
        "portfolio": PORTFOLIO,
        "readme": _readme_example(),
    }
    for path in sorted((ROOT / "policies").rglob("*.pol")):
        source = path.read_text(encoding="utf-8")
        try:
            check(parse(source, str(path)), source)
        except PolicyError:
            continue
        corpus[str(path.relative_to(ROOT))] = source
    return corpus


CORPUS = _corpus()

_TOKEN = re.compile(
    r'"(?:\\.|[^"\\\n])*"'  # text
    r"|#[^\n]*"  # comment
    r"|\s+"
    r"|[0-9]+(?:\.[0-9]+)?(?:万元|亿元|万|亿|元|%|bp|个月|年|天|日)?"
    r"|\w+"
    r"|<=|>=|==|!="
    r"|.",
    re.S,
)


def _tokens(source: str) -> list[str]:
    tokens = _TOKEN.findall(source)
    assert "".join(tokens) == source
    return tokens


TOKENS = {name: _tokens(source) for name, source in CORPUS.items()}

# Characters worth inserting: the language's punctuation, quotes and escapes, CJK units,
# line breaks, control characters, a BOM and a full-width space.
_INTERESTING = list('"{}():,=#\\\n\r\t.-+*/%<>!') + [
    "万", "元", "亿", "年", "个月", "bp", "0", "9", "1.", "2021-02-30", "if", "not", "in",
    "when", "cite", "says", "policy", "\x00", "\ufeff", "\u3000", "\U0001f600", "é", "_",
]


def _kind(token: str) -> str:
    if token[:1] == '"':
        return "text"
    if token[:1].isdigit():
        return "literal"
    if re.fullmatch(r"\w+", token):
        return "word"
    return "punct"


@st.composite
def mutants(draw) -> str:
    """A corpus policy with 1–4 mutations: token-level (deleted, duplicated, swapped,
    replaced by a token of the file or of the same kind), line-level (deleted, duplicated,
    swapped: mostly still parses, so the checker and formatter get exercised), random
    characters or bytes inserted, or a truncation."""
    name = draw(st.sampled_from(sorted(CORPUS)))
    tokens = list(TOKENS[name])
    for _ in range(draw(st.integers(1, 4))):
        if not tokens:
            tokens = [""]
        solid = [i for i, t in enumerate(tokens) if not t.isspace()] or [0]
        i = draw(st.sampled_from(solid))
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "replace", "same_kind",
                                     "insert", "bytes", "truncate", "delete_line",
                                     "duplicate_line", "swap_lines"]))
        if kind == "delete":
            del tokens[i:i + 1]
        elif kind == "duplicate":
            tokens.insert(i, tokens[i])
        elif kind == "swap":
            j = draw(st.sampled_from(solid))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif kind == "replace":
            tokens[i] = draw(st.sampled_from(TOKENS[name]))
        elif kind == "same_kind":
            alike = [t for t in TOKENS[name] if _kind(t) == _kind(tokens[i])]
            tokens[i] = draw(st.sampled_from(alike or [tokens[i]]))
        elif kind == "insert":
            tokens.insert(i, draw(st.sampled_from(_INTERESTING)))
        elif kind == "bytes":
            raw = draw(st.binary(min_size=1, max_size=6))
            tokens.insert(i, raw.decode("latin-1"))
        elif kind == "truncate":
            text = "".join(tokens)
            tokens = _tokens(text[:draw(st.integers(0, len(text)))])
        else:
            lines = "".join(tokens).split("\n")
            a = draw(st.integers(0, len(lines) - 1))
            if kind == "delete_line":
                del lines[a]
            elif kind == "duplicate_line":
                lines.insert(a, lines[a])
            else:
                b = draw(st.integers(0, len(lines) - 1))
                lines[a], lines[b] = lines[b], lines[a]
            tokens = _tokens("\n".join(lines))
    return "".join(tokens)


# ── helpers ────────────────────────────────────────────────────────────────

_GRAMMAR_NAME = re.compile(r"__ANON|ANON_|\$END|\b[A-Z][A-Z0-9]*_?[A-Z0-9_]*\b")


def _without_quotes(message: str) -> str:
    """The message with the user's own text (quoted or in backticks) removed."""
    return re.sub(r"'[^']*'|`[^`]*`|\"[^\"]*\"", "", message)


def _assert_well_formed(error: PolicyError, source: str) -> None:
    assert error.diagnostics, "a PolicyError without diagnostics"
    lines = source.count("\n") + 1
    for diag in error.diagnostics:
        assert diag.code in CODES
        assert diag.message
        assert diag.span is not None, f"{diag.code} without a position"
        assert 1 <= diag.span.line <= lines, diag
        assert diag.span.column >= 1, diag
        if diag.code.startswith("E1"):
            words = _without_quotes(diag.message)
            assert not _GRAMMAR_NAME.search(words.replace("E1", "")), diag.message
            assert "anon" not in words.lower(), diag.message


def outcome(source: str):
    """('parse', error) | ('check', tree, error) | ('ok', tree, policy)."""
    try:
        tree = parse(source, "fuzz.pol")
    except PolicyError as error:
        _assert_well_formed(error, source)
        return ("parse", error)
    try:
        policy = check(tree, source)
    except PolicyError as error:
        _assert_well_formed(error, source)
        return ("check", tree, error)
    return ("ok", tree, policy)


def strip_spans(value):
    """A comparable form of an IR (or AST) value with every source position left out."""
    if isinstance(value, n.Span):
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__,) + tuple(
            (f.name, strip_spans(getattr(value, f.name)))
            for f in dataclasses.fields(value)
            if f.name not in ("span", "file") and not f.name.endswith("_span"))
    if isinstance(value, tuple | list):
        return tuple(strip_spans(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, strip_spans(v)) for k, v in value.items())
    return value


def assert_format_round_trip(source: str, result) -> None:
    formatted = format_source(source, "fuzz.pol")
    try:
        parse(formatted, "fmt.pol")
    except PolicyError as error:
        raise AssertionError(f"the formatted source does not parse: {error}") from None
    assert format_source(formatted, "fmt.pol") == formatted, "the formatter is not idempotent"
    again = outcome(formatted)
    if result[0] == "ok":
        assert again[0] == "ok", f"the formatted source does not check: {again[-1]}"
        assert strip_spans(again[2]) == strip_spans(result[2]), "formatting changed the IR"
    else:
        assert again[0] == "check", "formatting made a policy that did not parse or check"
        codes = sorted(d.code for d in result[2].diagnostics)
        assert sorted(d.code for d in again[2].diagnostics) == codes


# ── (a) fuzzing ────────────────────────────────────────────────────────────


@settings(max_examples=2000, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutants())
@example("")
@example("policy")
@example('policy p "t" {')
@example('policy p "t" { }')
@example('policy p "t" { rule r: "')
@example("\ufeffpolicy p \"t\" { }")
def test_mutants_give_a_policy_or_a_policy_error(source: str) -> None:
    result = outcome(source)
    if result[0] != "parse":
        assert_format_round_trip(source, result)


def _cuts(source: str) -> list[int]:
    """Where to truncate. Parsing every prefix is O(n²), so a file is cut at every point
    when it is small (every_construct's 2,000 characters: every kind of token cut short);
    a large one at every point of its first 300 characters (the header and the start of
    the first block), at both ends of 200 seeded lines, and at 150 seeded random points.
    (Every line of every seed was 2 minutes of CI for cuts that repeat one another: a
    seed's lines are a few shapes many times.)"""
    if len(source) <= 2500:
        return list(range(len(source) + 1))
    rng = random.Random(len(source))
    line_ends = [m.start() for m in re.finditer("\n", source)]
    chosen = rng.sample(line_ends, min(200, len(line_ends)))
    return sorted(set(range(301)) | set(chosen) | {e + 1 for e in chosen}
                  | {rng.randrange(len(source)) for _ in range(150)} | {len(source)})


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_truncation_at_every_point(name: str) -> None:
    source = CORPUS[name]
    for cut in _cuts(source):
        result = outcome(source[:cut])
        if cut == len(source):
            assert result[0] == "ok"


@pytest.mark.parametrize("source", ["", " ", "\n\n\n", "# 只有注释\n", "\t\r\n", "\ufeff"],
                         ids=["empty", "space", "newlines", "comment", "whitespace", "bom"])
def test_nearly_empty_files(source: str) -> None:
    result = outcome(source)
    assert result[0] == "parse"
    assert result[1].code in ("E101", "E103")


def test_a_megabyte_of_repeated_declarations() -> None:
    head = 'policy big "大文件" {\n  input {\n    loan_amount: money\n  }\n'
    let = '  let fee = loan_amount * 2.5% + 1元 cite "第五条"  # 助保金\n'
    copies = 1_000_000 // len(let.encode())
    source = head + let * copies + "}\n"
    assert len(source.encode()) >= 1_000_000
    result = outcome(source)
    assert result[0] == "check"
    diagnostics = result[2].diagnostics
    assert len(diagnostics) == copies - 1
    assert {d.code for d in diagnostics} == {"E403"}
    assert [d.span.line for d in diagnostics] == list(range(6, 5 + copies))


@pytest.mark.parametrize("expr", ["not " * 600 + "true", " + ".join(["1元"] * 600) + " > 0元",
                                  "-" * 600 + "1元 > 0元"], ids=["not", "sum", "neg"])
def test_deeply_nested_expressions(expr: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse(f'policy p "t" {{\n  input {{ a: money }}\n  rule r: {expr}\n}}', "p.pol")
    [diagnostic] = info.value.diagnostics
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.column) == ("E107", 3, 3)


def test_nesting_within_the_bound_reaches_every_stage() -> None:
    policy = api.load_source('policy p "t" {\n  input { a: money }\n  rule r: '
                             + "(" * 40 + "a" + ")" * 40 + " + " + " + ".join(["1元"] * 40)
                             + ' > 0元 cite "x"\n}\n')
    assert api.decide(policy, {"a": "1元"})["eligible"] is True


# ── (b) the formatter ─────────────────────────────────────────────────────


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_formatter_is_idempotent_and_keeps_the_ir(name: str) -> None:
    source = CORPUS[name]
    result = outcome(source)
    assert result[0] == "ok"
    assert_format_round_trip(source, result)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_formatter_keeps_every_comment(name: str) -> None:
    source = CORPUS[name]
    comments = [c.text.rstrip() for c in parse(source).comments]
    formatted = format_source(source)
    assert [c.text.rstrip() for c in parse(formatted).comments] == comments


def test_strip_spans_ignores_positions_only() -> None:
    a = check(parse(CORPUS["design_example"], "a.pol"))
    moved = "\n\n# moved\n" + CORPUS["design_example"].replace("  ", "    ")
    b = check(parse(moved, "b.pol"))
    assert a.tests[0].span != b.tests[0].span
    assert strip_spans(a) == strip_spans(b)
    c = check(parse(CORPUS["design_example"].replace("1000万", "900万"), "c.pol"))
    assert strip_spans(a) != strip_spans(c)


@pytest.mark.parametrize("source", [
    'policy p "t" { input { a: money, supersedes: money } }',
    'policy p "t" { input { a: money } test "t" { given { a: 1万, version: 1万 } } }',
    'policy p "t" { shares s { a: 1%, input: 99% } }',
    'policy p "t" { enum e { a, supersedes } input { x: e } }',
    'policy p "t" { input { l: money } waterfall w(l) { split { a: 50%, input: 50% } } }',
], ids=["input", "given", "shares", "enum", "split"])
def test_formatter_keeps_keywords_used_as_names(source: str) -> None:
    result = outcome(source)
    assert result[0] != "parse"
    assert_format_round_trip(source, result)


@pytest.mark.parametrize("source", [
    'policy p "t" { input { a: money = 1元  a: percent } }',
    'policy p "t" {\n  param a: money = 1元\n  param a: percent\n}\n',
], ids=["input", "param"])
def test_formatter_keeps_duplicate_fields(source: str) -> None:
    formatted = format_source(source)
    assert "a: money = 1元" in formatted and "a: percent" in formatted
    assert_format_round_trip(source, outcome(source))


# ── (c) syntax errors in words ─────────────────────────────────────────────

HEAD = 'policy p "t" {\n  input { loan_amount: money }\n'


def _syntax_error(source: str) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        parse(source, "p.pol")
    _assert_well_formed(info.value, source)
    return info.value


@pytest.mark.parametrize("source, words", [
    ('policy p "t" { limit cap loan_amount <= 1 }', "expected ':' after the limit's name"),
    ('policy p "t" { rule r loan_amount }', "expected ':' after the rule's name"),
    ('policy p { }', "expected the policy's title in quotes"),
    ('policy p "t" { input { a money } }', "expected ':' and a type after the field's name"),
    ('policy p "t" { limit cap: a == 1 }', "use a rule for == and !="),
    ('policy p "t" { rule r: a < b < c }', "a comparison cannot be chained"),
    ('policy p "t" { let x = }', "expected an expression"),
    ('policy p "t" { rule r: a cite x }', "expected the text in quotes after `cite`"),
    ('policy p "t" { test "t" { expect eligible } }', "a test starts with `given"),
])
def test_known_mistakes_are_explained(source: str, words: str) -> None:
    error = _syntax_error(source)
    assert error.code == "E102"
    assert words in error.diagnostics[0].message


@pytest.mark.parametrize("body, words", [
    ("  limit cap loan_amount <= 1000万\n", "expected ':' after the limit's name"),
    ("  limit cap: loan_amount == 1000万\n", "use a rule for == and !="),
    ("  rule r: 0元 < loan_amount < 1000万\n", "a comparison cannot be chained"),
    ("  let x =\n}\n", "expected an expression"),
])
def test_known_mistakes_are_explained_after_other_declarations(body: str, words: str) -> None:
    error = _syntax_error(HEAD + body + "}\n")
    assert words in error.diagnostics[0].message


# A drafter's slip the parser cannot read, and the note that says how to write it.
@pytest.mark.parametrize("body, code, note", [
    ("  limit cap: loan_amount <= 1000万 cite “三(二)”\n", "E101",
     'a text is written between ASCII double quotes: "…"'),
    ("  limit cap: loan_amount <= 1000万 cite '三(二)'\n", "E101", "ASCII double quotes"),
    ("  shares s { bank: 10%，fund: 90% }\n", "E101", "type the ASCII ','"),
    ("  shares s { bank： 10%  fund: 90% }\n", "E101", "type the ASCII ':'"),
    ("  let x = min（loan_amount, 1万）\n", "E101", "type the ASCII '('"),
    ("  limit cap: loan_amount <= １０００万\n", "E101", "type the ASCII '1'"),
    ("  limit cap: loan_amount <= 10％ * 1亿\n", "E101", "type the ASCII '%'"),
    ("  limit cap: loan_amount <= 1000。5万\n", "E101", "a decimal point is the ASCII '.'"),
    ("  limit cap: loan_amount ≤ 1000万\n", "E101", "write '<='"),
    ("  rule r: loan_amount > 0元 && loan_amount < 1万\n", "E101", "write `and`"),
    ("  rule r: loan_amount > 0元 且 loan_amount < 1万\n", "E102", "write `and`"),
    ("  limit cap: loan_amount <= 1000 万元\n", "E102", "no space: `1000万元`"),
    ('  test "t" { given { loan_amount: 1000 万 } expect eligible }\n', "E102",
     "no space: `1000万`"),
    ('  test "t" { given { loan_amount: 1万  term: 1 年 } expect eligible }\n', "E102",
     "no space: `1年`"),
    ('  test "t" { given { loan_amount: 1万  term: 12月 } expect eligible }\n', "E102",
     "`12个月` or `12 months`"),
    ("  limit cap: loan_amount <= 10,000,000元\n", "E102", "without thousands separators"),
    ("  input { start: date = 2022年6月1日 }\n", "E102", "`2022-06-01`"),
    ('  test "t" { given { loan_amount: 1万 } expect loan_amount = 1万 }\n', "E102",
     "write `==`"),
    ("  rul r: loan_amount > 0元\n", "E102", "did you mean `rule`?"),
    ("  limti cap: loan_amount > 0元\n", "E102", "did you mean `limit`?"),
    ("  waterfall w(loan_amount) {\n    rest bank\n  rule r: loan_amount > 0元\n", "E102",
     "is a '}' missing before this `rule`?"),
    ("  rule r: loan_amount > 0元\n", "E103", "the '{' on line 1 is not closed"),
])
def test_syntax_errors_say_how_to_fix_them(body: str, code: str, note: str) -> None:
    source = HEAD + body + ("" if code == "E103" else "}\n")
    error = _syntax_error(source)
    [diag] = error.diagnostics
    assert diag.code == code
    assert any(note in text for text in (diag.message, *diag.notes)), (diag.message, diag.notes)


def test_expected_tokens_are_listed_in_words() -> None:
    error = _syntax_error(HEAD + "  shares s { bank 50% }\n}\n")
    message = error.diagnostics[0].message
    assert error.code == "E102"
    assert "':'" in message
    assert "COLON" not in message and "__ANON" not in message


def test_unexpected_end_of_file_lists_expected_tokens_in_words() -> None:
    error = _syntax_error('policy p "t" {\n  input {')
    assert error.code == "E103"
    message = error.diagnostics[0].message
    assert "ends too early" in message and "'}'" in message and "a name" in message
    assert not _GRAMMAR_NAME.search(_without_quotes(message))


def test_unterminated_text_is_reported_at_its_quote() -> None:
    error = _syntax_error(HEAD + '  rule r: loan_amount > 0元 says "须大于零\n}\n')
    [diag] = error.diagnostics
    assert diag.code == "E104"
    assert (diag.span.line, diag.span.column) == (3, 33)
    assert "'\"'" in diag.message


def test_unexpected_character_is_named() -> None:
    error = _syntax_error(HEAD + "  rule r: loan_amount ≥ 0元\n}\n")
    [diag] = error.diagnostics
    assert diag.code == "E101"
    assert "'≥'" in diag.message
    assert (diag.span.line, diag.span.column) == (3, 23)


def test_found_token_reads_as_english() -> None:
    error = _syntax_error(HEAD + "  limit cap loan_amount <= 1000万\n}\n")
    assert "unexpected a " not in error.diagnostics[0].message


def test_formatter_keeps_an_empty_input_block_and_its_comments() -> None:
    source = 'policy p "t" {\n  input {\n  # 待补充\n  }\n  rule r: true cite "一"\n}\n'
    formatted = format_source(source)
    assert formatted == ('policy p "t" {\n  input {\n    # 待补充\n  }\n'
                         '  rule r: true cite "一"\n}\n')
    assert format_source(formatted) == formatted


@pytest.mark.parametrize("source", [
    'policy p "t" {\n  shares s {\n  }\n}\n',
    'policy p "t" {\n  enum e {\n  }\n}\n',
    'policy p "t" {\n  input {\n    l: money\n  }\n'
    '  waterfall w(l) {\n    split {\n    }\n  }\n}\n',
], ids=["shares", "enum", "split"])
def test_formatter_keeps_empty_brace_lists(source: str) -> None:
    assert format_source(source) == source


def test_the_analysed_grammar_is_kept_in_the_users_own_cache(tmp_path, monkeypatch) -> None:
    """Building lark's parser takes most of a command's start: it is kept in a private
    folder of the user's cache and used while it matches the grammar. A damaged file is
    built again, never an error; a folder others may write to is not used at all."""
    from policylang import parser

    source = (ROOT / "policies/chongqing/zhubaodai.pol").read_text(encoding="utf-8")
    expected = parse(source, "zhubaodai.pol")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache_file = tmp_path / "policylang" / parser._parser_cache().rsplit("/", 1)[-1]
    build = parser._lark.__wrapped__  # without the per-process memo
    built = build()  # analyses the grammar, writes the file
    assert cache_file.is_file() and (tmp_path / "policylang").stat().st_mode & 0o077 == 0
    with monkeypatch.context() as patched:  # read back: the grammar is not analysed again
        import lark.lark

        def analysed(*_args, **_kwargs):
            raise AssertionError("the grammar was analysed again")

        patched.setattr(lark.lark, "load_grammar", analysed)
        loaded = build()
    for lark in (built, loaded):
        monkeypatch.setattr(parser, "_lark", lambda lark=lark: lark)
        assert parse(source, "zhubaodai.pol") == expected
    cache_file.write_bytes(cache_file.read_bytes()[:200])  # cut short
    rebuilt = build()
    monkeypatch.setattr(parser, "_lark", lambda: rebuilt)
    assert parse(source, "zhubaodai.pol") == expected
    (tmp_path / "policylang").chmod(0o777)
    assert parser._parser_cache() is False


def test_a_byte_order_mark_is_no_character_but_keeps_its_column() -> None:
    """Editors on Windows write a UTF-8 BOM; the policy reads as without it, and a span on
    the first line still points at the text shown (the mark counted as one column)."""
    source = 'policy p "t" {\n  input { a: money }\n  rule r: a > 0元\n}\n'
    plain, marked = parse(source, "p.pol"), parse("\ufeff" + source, "p.pol")
    assert plain.items == marked.items
    assert (marked.name_span.line, marked.name_span.column) == (1, plain.name_span.column + 1)
    with pytest.raises(PolicyError) as raised:
        parse('\ufeffpolicy p "t" { rule r: }\n', "p.pol")
    assert raised.value.diagnostics[0].span.column == len('\ufeffpolicy p "t" { rule r: ') + 1


@pytest.mark.parametrize("literal, ok", [
    ("999999999999999999.99元", True), ("99999999999999.9999万", True),
    ("1000000000000000000元", False),
    ("100000000000000000万", False), ("1000000000000000000.5", False), ("10000亿", True),
    ("10000000000亿", False), ("10000000000000000000000%", False), ("1" + "0" * 22 + "bp", False),
    ("1" * 5000 + "万", False),
], ids=lambda value: value if isinstance(value, bool) or len(value) < 30 else "5000 digits")
def test_a_policy_literal_stays_below_ten_to_the_eighteen(literal: str, ok: bool) -> None:
    """docs/semantics.md: every value stays below 10^18; a literal past it is refused where
    it is written (the interpreter would compare it, SQL's DECIMAL could not hold it)."""
    source = f'policy p "t" {{\n  input {{ x: number }}\n  rule r: x <= {literal}\n}}\n'
    if ok:
        parse(source, "p.pol")
        return
    with pytest.raises(PolicyError) as raised:
        parse(source, "p.pol")
    [diagnostic] = raised.value.diagnostics
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.column) == ("E105", 3, 16)
    assert "out of range" in diagnostic.message and len(diagnostic.message) < 120
