"""The Pygments lexer for `.pol`: token classes, and that Pygments finds it by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Comment, Error, Keyword, Name, Number, Operator, String

from policylang.highlight import PolicyLexer, highlight_html, highlight_inline

ROOT = Path(__file__).resolve().parent.parent


def _tokens(text: str) -> list[tuple[object, str]]:
    return [(kind, value) for kind, value in PolicyLexer().get_tokens(text) if value.strip()]


@pytest.mark.parametrize(("text", "expected"), [
    ("limit cap: loan_amount <= 1000万 when borrower == enterprise",
     [(Keyword.Declaration, "limit"), (Name.Variable, "cap"), (Operator, "<="),
      (Number.Float, "1000万"), (Keyword, "when"), (Operator, "==")]),
    ("rate <= lpr + 150bp", [(Number.Float, "150bp")]),
    ("term <= 1 year", [(Number.Integer, "1"), (Keyword.Type, "year")]),
    ("term <= 18个月", [(Number.Integer, "18个月")]),
    ("effective 2021-02-24", [(Keyword.Reserved, "effective"), (Number.Other, "2021-02-24")]),
    ('cite "第十条" # 助保金', [(String.Double, '"第十条"'), (Comment.Single, "# 助保金")]),
    ("x and not y or z in {a}", [(Operator.Word, "and"), (Operator.Word, "not"),
                                 (Operator.Word, "or"), (Operator.Word, "in")]),
    ("round(x, 1元)", [(Name.Builtin, "round")]),
    ("贷款金额: money", [(Name.Variable, "贷款金额"), (Keyword.Type, "money")]),
    ("input_total in_zone", [(Name, "input_total"), (Name, "in_zone")]),
])
def test_token_classes(text, expected):
    tokens = _tokens(text)
    for pair in expected:
        assert pair in tokens, tokens


def test_pygments_finds_the_lexer_through_the_entry_point():
    assert isinstance(get_lexer_by_name("policylang"), PolicyLexer)
    assert isinstance(get_lexer_for_filename("microloan_2022.pol"), PolicyLexer)


@pytest.mark.parametrize("path", sorted((ROOT / "policies").rglob("*.pol")),
                         ids=lambda p: p.name)
def test_every_seed_policy_lexes_without_errors_and_round_trips(path):
    text = path.read_text(encoding="utf-8")
    tokens = list(PolicyLexer().get_tokens(text))
    assert not [value for kind, value in tokens if kind is Error]
    assert "".join(value for _, value in tokens) == text if text.endswith("\n") else True


def test_html_output():
    markup = highlight_html('rule r: a > 5万 cite "第五条"\n')
    assert markup.startswith('<div class="highlight">')
    assert '<span class="kd">rule</span>' in markup and "第五条" in markup


def test_inline_formula_is_escaped_and_unwrapped():
    markup = highlight_inline('a < 5万 and b == "<x>"')
    assert not markup.startswith("<div") and "\n" not in markup
    assert "&lt;x&gt;" in markup and "<x>" not in markup
    assert '<span class="mf">5万</span>' in markup
