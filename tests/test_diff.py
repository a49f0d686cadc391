"""`policylang diff` (policylang/diff.py, diff_witness.py, diff_render.py): the exact change
list of hand-made version pairs, nothing for a policy against itself or its formatted
copy, confirmed witnesses, the 佛山 revision, the HTML report and the command line."""

from __future__ import annotations

import ast
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
import z3
from typer.testing import CliRunner

from policylang import api, diff_plain
from policylang import diff as diff_module
from policylang.cli import app
from policylang.diff import Change, WitnessSearch, diff, summary
from policylang.diff_render import render_html, render_json, render_text
from policylang.formatter import format_source

ROOT = Path(__file__).parent.parent
BASE = (Path(__file__).parent / "diff_pairs" / "base.pol").read_text(encoding="utf-8")
FOSHAN = (ROOT / "policies/foshan/microloan_previous.pol",
          ROOT / "policies/foshan/microloan_2022.pol")
NATIONAL = (ROOT / "policies/national/erba_fenxian.pol",
            ROOT / "policies/national/tech_innovation_2024.pol")


def _edited(*edits: tuple[str, str]) -> str:
    source = BASE
    for old, new in edits:
        assert old in source, old
        source = source.replace(old, new)
    return source


def _changes(new_source: str, old_source: str = BASE) -> list[tuple]:
    old, new = api.load_source(old_source, "old.pol"), api.load_source(new_source, "new.pol")
    return [(c.kind, c.item, c.aspect, c.old, c.new) for c in diff(old, new).changes]


# base.pol's portfolio block, whole (the policy ends after it)
PORTFOLIO = BASE[BASE.index("  portfolio order by"):BASE.rindex("}")]

# (edits to base.pol, the exact change list)
PAIRS = {
    "meta": ([('version  "1"', 'version  "2"\n  effective 2024-07-01'),
              ('document "甲发〔2023〕1号"', 'document "甲发〔2024〕9号"')],
             [("changed", "meta document", None, "甲发〔2023〕1号", "甲发〔2024〕9号"),
              ("changed", "meta version", None, "1", "2"),
              ("added", "meta effective", None, None, "2024-07-01")]),
    "meta: the title, a field removed, fields added": (
        [('policy base "基准政策"', 'policy base "基准政策（修订）"'),
         ('  issuer   "甲"\n', '  region   "佛山"\n'),
         ('version  "1"', 'version  "1"\n  supersedes base_2023')],
        [("changed", "meta title", None, "基准政策", "基准政策（修订）"),
         ("removed", "meta issuer", None, "甲", None),
         ("added", "meta region", None, None, "佛山"),
         ("added", "meta supersedes", None, None, "base_2023")]),
    "enum members": ([('    a "A"\n    b "B"\n', '    a "甲"\n    c "C"\n')],
                     [("changed", "enum kind", "member a", "A", "甲"),
                      ("changed", "enum kind", "member c", None, "C"),
                      ("changed", "enum kind", "member b", "B", None)]),
    "an enum member's label dropped: the member changed, not removed": (
        [('    a "A"\n', '    a\n')],
        [("changed", "enum kind", "member a", "A", "a")]),
    "an enum renamed: one removed, one added, and the input it types": (
        [("enum kind {", "enum size {"), ("k:          kind", "k:          size")],
        [("removed", "enum kind", None, "{a, b}", None),
         ("added", "enum size", None, None, "{a, b}"),
         ("changed", "input k", "type", "kind", "size")]),
    "inputs": ([('    rate:       percent = 1%      "利率"', '    rate:       percent = 2%'),
                ('    loss:       money = 0元', '    loss:       money'),
                ('    start_date: date = 2024-01-01',
                 '    start_date: date = 2024-01-01\n    first: bool = false')],
               [("changed", "input rate", "default", "1%", "2%"),
                ("changed", "input rate", "description", "利率", None),
                ("changed", "input loss", "default", "0元", None),
                ("added", "input first", None, None, "bool = false")]),
    "an input removed, with the limit on it": (
        [("    term:       duration\n", ""), ('  limit term_cap: term <= 1 year cite "三"\n', "")],
        [("removed", "input term", None, "duration", None),
         ("removed", "limit term_cap", None, "term <= 1 year", None)]),
    "an input's default and description added, a description changed": (
        [("    amount:     money\n", '    amount:     money = 0元 "金额"\n'),
         ('"利率"', '"年利率"')],
        [("changed", "input amount", "default", None, "0元"),
         ("changed", "input amount", "description", None, "金额"),
         ("changed", "input rate", "description", "利率", "年利率")]),
    "params": ([('param lpr: percent = 3.45% "LPR"',
                 'param lpr: percent = 3.7% "LPR"\n  param floor: money')],
               [("changed", "param lpr", "default", "3.45%", "3.7%"),
                ("added", "param floor", None, None, "money")]),
    "a param removed": (
        [('  param lpr: percent = 3.45% "LPR"\n', ""), ("lpr + 150bp", "4.95%")],
        [("removed", "param lpr", None, "percent = 3.45%", None),
         ("changed", "limit rate_cap", "bound", "lpr + 1.5%", "4.95%")]),
    "a param's type": (
        [('param lpr: percent = 3.45% "LPR"', 'param lpr: number = 3.45 "LPR"'),
         ("lpr + 150bp", "lpr * 1% + 150bp")],
        [("changed", "param lpr", "type", "percent", "number"),
         ("changed", "param lpr", "default", "3.45%", "3.45"),
         ("changed", "limit rate_cap", "bound", "lpr + 1.5%", "lpr * 1% + 1.5%")]),
    "a param's default removed, its description changed": (
        [('param lpr: percent = 3.45% "LPR"', 'param lpr: percent "贷款市场报价利率"')],
        [("changed", "param lpr", "default", "3.45%", None),
         ("changed", "param lpr", "description", "LPR", "贷款市场报价利率")]),
    "rule condition, guard, citation, says": (
        [('rule kind_rule: k == a cite "一" says "只支持 a"',
          'rule kind_rule: k in {a, b} when amount > 0元 cite "一(1)" says "a 或 b"')],
        [("changed", "rule kind_rule", "condition", "k == a", "k in {a, b}"),
         ("changed", "rule kind_rule", "guard", None, "amount > 0元"),
         ("changed", "rule kind_rule", "cite", "一", "一(1)"),
         ("changed", "rule kind_rule", "says", "只支持 a", "a 或 b")]),
    "an `and` inside an `or` is bracketed, for a reader who does not know it binds tighter": (
        [("kind_rule: k == a cite", "kind_rule: k == a or amount > 0元 and term <= 1 year cite")],
        [("changed", "rule kind_rule", "condition", "k == a",
          "k == a or (amount > 0元 and term <= 1 year)")]),
    "a limit turned into a rule of the same name: one change of kind": (
        [('limit cap:      amount <= 500万 when k == a cite "二"',
          'rule cap: amount <= 500万 when k == a cite "二(1)"')],
        [("changed", "rule cap", "kind", "limit amount <= 500万 when k == a",
          "rule amount <= 500万 when k == a"),
         ("changed", "rule cap", "cite", "二", "二(1)")]),
    "a rule turned into a limit, its says dropped": (
        [('rule kind_rule: k == a cite "一" says "只支持 a"',
          'limit kind_rule: amount <= 100万 cite "一"')],
        [("changed", "limit kind_rule", "kind", "rule k == a", "limit amount <= 100万"),
         ("changed", "limit kind_rule", "says", "只支持 a", None)]),
    "a rule removed": (
        [('  rule kind_rule: k == a cite "一" says "只支持 a"\n', "")],
        [("removed", "rule kind_rule", None, "k == a", None)]),
    "limit subject, operator, bound, guard separately": (
        [("limit cap:      amount <= 500万 when k == a",
          "limit cap:      amount - loss < 1000万 when k == b")],
        [("changed", "limit cap", "subject", "amount", "amount - loss"),
         ("changed", "limit cap", "operator", "<=", "<"),
         ("changed", "limit cap", "bound", "500万", "1000万"),
         ("changed", "limit cap", "guard", "k == a", "k == b")]),
    "a bound alone": ([("term <= 1 year", "term <= 3 years")],
                      [("changed", "limit term_cap", "bound", "1 year", "3 years")]),
    "checks added and removed": (
        [('  limit term_cap: term <= 1 year cite "三"\n', ''),
         ('  let fee', '  rule positive: amount > 0元 cite "八"\n\n  let fee')],
        [("removed", "limit term_cap", None, "term <= 1 year", None),
         ("added", "rule positive", None, None, "amount > 0元")]),
    "a limit added; a guard and a citation removed, a says added": (
        [('amount <= 500万 when k == a cite "二"', 'amount <= 500万 says "单户上限"'),
         ("  limit term_cap", '  limit floor:    amount >= 1万 cite "二"\n  limit term_cap')],
        [("changed", "limit cap", "guard", "k == a", None),
         ("changed", "limit cap", "cite", "二", None),
         ("changed", "limit cap", "says", None, "单户上限"),
         ("added", "limit floor", None, None, "amount >= 1万")]),
    "lets": ([('let fee = amount * 1% cite "四"',
               'let fee = amount * 1.5% cite "四"\n  let tax = fee * 6%')],
             [("changed", "let fee", "expression", "amount * 1%", "amount * 1.5%"),
              ("added", "let tax", None, None, "fee * 6%")]),
    "a let's citation removed, a says added": (
        [('let fee = amount * 1% cite "四"', 'let fee = amount * 1% says "手续费"')],
        [("changed", "let fee", "cite", "四", None),
         ("changed", "let fee", "says", None, "手续费")]),
    "shares: each party's percent": (
        [("    bank: 20%\n    fund: 80%", "    bank: 10%\n    fund: 80%\n    city: 10%")],
        [("changed", "shares split", "party bank", "20%", "10%"),
         ("changed", "shares split", "party city", None, "10%")]),
    "shares: a party removed": (
        [("    bank: 20%\n    fund: 80%", "    fund: 100%")],
        [("changed", "shares split", "party fund", "80%", "100%"),
         ("changed", "shares split", "party bank", "20%", None)]),
    "shares given as a ratio": (
        [("shares split of loss", "shares split ratio of loss"),
         ("    bank: 20%\n    fund: 80%", "    bank: 1\n    fund: 4")],
        [("changed", "shares split", "form", "percent", "ratio"),
         ("changed", "shares split", "party bank", "20%", "1"),
         ("changed", "shares split", "party fund", "80%", "4")]),
    "a shares block's amount and citation removed, a says added": (
        [('shares split of loss cite "五"', 'shares split says "风险分担"')],
        [("changed", "shares split", "amount", "loss", None),
         ("changed", "shares split", "cite", "五", None),
         ("changed", "shares split", "says", None, "风险分担")]),
    "a shares block removed and another added": (
        [('  shares split of loss cite "五" {\n    bank: 20%\n    fund: 80%\n  }\n',
          '  shares burden of amount cite "五" {\n    bank: 30%\n    fund: 70%\n  }\n')],
        [("removed", "shares split", None, "{bank: 20%, fund: 80%} of loss", None),
         ("added", "shares burden", None, None, "{bank: 30%, fund: 70%} of amount")]),
    "waterfall steps": (
        [("take pool up to 10万", "take pool up to 20万"), ("    rest z\n", "")],
        [("changed", "waterfall w", "step 1", "take pool up to 10万", "take pool up to 20万"),
         ("changed", "waterfall w", "step 3", "rest z", None)]),
    "waterfall steps reordered: one change, not a step added and one removed": (
        [("    take pool up to 10万\n    split {\n      x: 50%\n      y: 50%\n    }\n",
          "    split {\n      x: 50%\n      y: 50%\n    }\n    take pool up to 20万\n")],
        [("changed", "waterfall w", "order", "take pool; split {x, y}; rest z",
          "split {x, y}; take pool; rest z"),
         ("changed", "waterfall w", "step 2", "take pool up to 10万", "take pool up to 20万")]),
    "a waterfall step added": (
        [("    rest z\n", "    take extra up to 1万\n    rest z\n")],
        [("changed", "waterfall w", "step 3", None, "take extra up to 1万")]),
    "a waterfall step's says": (
        [("    rest z\n", '    rest z says "余额"\n')],
        [("changed", "waterfall w", "step 3", "rest z", 'rest z says "余额"')]),
    "a waterfall's amount, citation and says": (
        [('waterfall w(loss) cite "六"', 'waterfall w(loss - 1万) cite "六(一)" says "代偿顺序"')],
        [("changed", "waterfall w", "amount", "loss", "loss - 1万"),
         ("changed", "waterfall w", "cite", "六", "六(一)"),
         ("changed", "waterfall w", "says", None, "代偿顺序")]),
    "a waterfall block removed and another added": (
        [('  waterfall w(loss) cite "六" {\n    take pool up to 10万\n    split {\n'
          "      x: 50%\n      y: 50%\n    }\n    rest z\n  }\n",
          '  waterfall v(amount) cite "六" {\n    take bank up to 1万\n    rest firm\n  }\n')],
        [("removed", "waterfall w", None,
          "(loss) {take pool up to 10万; split {x: 50%, y: 50%}; rest z}", None),
         ("added", "waterfall v", None, None, "(amount) {take bank up to 1万; rest firm}")]),
    "an input's type": ([("    term:       duration", "    term:       number"),
                         ("term <= 1 year", "term <= 12")],
                        [("changed", "input term", "type", "duration", "number"),
                         ("changed", "limit term_cap", "bound", "1 year", "12")]),
    "enums, params and lets removed or added whole": (
        [('  enum kind {', '  enum size {\n    small "小"\n  }\n\n  enum kind {'),
         ('param lpr: percent = 3.45% "LPR"', 'param lpr: percent = 3.45%'),
         ('  let fee = amount * 1% cite "四"\n', '')],
        [("added", "enum size", None, None, "{small}"),
         ("changed", "param lpr", "description", "LPR", None),
         ("removed", "let fee", None, "amount * 1%", None)]),
    "an allocation's amount and a split's percents": (
        [("shares split of loss", "shares split of loss - 1万"),
         ("      x: 50%\n      y: 50%", "      x: 40%\n      y: 60%")],
        [("changed", "shares split", "amount", "loss", "loss - 1万"),
         ("changed", "waterfall w", "step 2", "split {x: 50%, y: 50%}",
          "split {x: 40%, y: 60%}")]),
    "the portfolio's order": (
        [("    start_date: date = 2024-01-01",
          "    start_date: date = 2024-01-01\n    end_date: date"),
         ("portfolio order by start_date", "portfolio order by end_date")],
        [("added", "input end_date", None, None, "date"),
         ("changed", "portfolio", "order by", "start_date", "end_date")]),
    "portfolio rules": (
        [("stop when > 5%", "stop when > 4%"),
         ('cite "七"\n', 'cite "七"\n    budget paid per k = sum(loss) <= 6000万\n')],
        [("changed", "monitor ratio", "bound", "5%", "4%"),
         ("added", "budget paid", None, None, "sum(loss) <= 6000万 per k")]),
    "portfolio rules removed": (
        [('    monitor ratio per k = sum(loss) / sum(amount) stop when > 5% cite "七"\n', ""),
         ("    limit share_a = sum(amount where k == a) / sum(amount) <= 50%\n", "")],
        [("removed", "monitor ratio", None, "sum(loss) / sum(amount) > 5% per k", None),
         ("removed", "book limit share_a", None,
          "sum(amount where k == a) / sum(amount) <= 50%", None)]),
    "a monitor's value, operator, per, citation and says": (
        [("monitor ratio per k =", "monitor ratio per k, year(start_date) ="),
         ("sum(amount) stop when > 5%", "sum(amount where k == a) stop when >= 5%"),
         ('cite "七"', 'cite "七(一)" says "暂停"')],
        [("changed", "monitor ratio", "value", "sum(loss) / sum(amount)",
          "sum(loss) / sum(amount where k == a)"),
         ("changed", "monitor ratio", "operator", ">", ">="),
         ("changed", "monitor ratio", "per", "k", "k, year(start_date)"),
         ("changed", "monitor ratio", "cite", "七", "七(一)"),
         ("changed", "monitor ratio", "says", None, "暂停")]),
    "a monitor's per removed": ([("monitor ratio per k =", "monitor ratio =")],
                                [("changed", "monitor ratio", "per", "k", None)]),
    "a budget's value, bound, per, citation and says": (
        [('budget payouts per year(start_date) = sum(loss) <= 1000万 says "每年赔付上限"',
          'budget payouts = sum(fee) <= 2000万 cite "八"')],
        [("changed", "budget payouts", "value", "sum(loss)", "sum(fee)"),
         ("changed", "budget payouts", "bound", "1000万", "2000万"),
         ("changed", "budget payouts", "per", "year(start_date)", None),
         ("changed", "budget payouts", "cite", None, "八"),
         ("changed", "budget payouts", "says", "每年赔付上限", None)]),
    "a book limit's value, operator, bound, per, citation and says": (
        [("limit share_a = sum(amount where k == a) / sum(amount) <= 50%",
          'limit share_a per k = sum(loss where k == a) / sum(amount) < 60% cite "九" '
          'says "占比上限"')],
        [("changed", "book limit share_a", "value", "sum(amount where k == a) / sum(amount)",
          "sum(loss where k == a) / sum(amount)"),
         ("changed", "book limit share_a", "operator", "<=", "<"),
         ("changed", "book limit share_a", "bound", "50%", "60%"),
         ("changed", "book limit share_a", "per", None, "k"),
         ("changed", "book limit share_a", "cite", None, "九"),
         ("changed", "book limit share_a", "says", None, "占比上限")]),
    "the portfolio removed": (
        [(PORTFOLIO, "")],
        [("changed", "portfolio", "order by", "start_date", None),
         ("removed", "monitor ratio", None, "sum(loss) / sum(amount) > 5% per k", None),
         ("removed", "budget payouts", None, "sum(loss) <= 1000万 per year(start_date)", None),
         ("removed", "book limit share_a", None,
          "sum(amount where k == a) / sum(amount) <= 50%", None)]),
}


# (edits to base.pol that make the OLD version, the exact change list from it to base.pol):
# what base.pol has and the edited copy lacks is reported as added.
PAIRS_INTO_BASE = {
    "the portfolio added": (
        [(PORTFOLIO, "")],
        [("changed", "portfolio", "order by", None, "start_date"),
         ("added", "monitor ratio", None, None, "sum(loss) / sum(amount) > 5% per k"),
         ("added", "budget payouts", None, None, "sum(loss) <= 1000万 per year(start_date)"),
         ("added", "book limit share_a", None, None,
          "sum(amount where k == a) / sum(amount) <= 50%")]),
    "a shares block's amount added": (
        [("shares split of loss", "shares split")],
        [("changed", "shares split", "amount", None, "loss")]),
}

# Every change diff.py can report, by the declaration's keyword: {aspect: its effects}. An
# aspect is named without the part it is about (`party bank` is `party`); None is the whole
# declaration (for `meta`, the whole field). An effect is what happened to the aspect
# (`Change.effect`): a guard added to a rule is a `changed` rule whose `old` is None.
ALL, WHOLE, CHANGED = ("added", "changed", "removed"), ("added", "removed"), ("changed",)
PARTS = ("member", "party", "step")  # the named (or numbered) parts of a declaration
_FIELD = {None: WHOLE, "type": CHANGED, "default": ALL, "description": ALL}
_CLAUSES = {"cite": ALL, "says": ALL}
_BOOK_RULE = {None: WHOLE, "value": CHANGED, "operator": CHANGED, "bound": CHANGED,
              "per": ALL, **_CLAUSES}
REPORTABLE = {
    "meta": {None: ALL},
    "enum": {None: WHOLE, "member": ALL},
    "input": _FIELD,
    "param": _FIELD,
    "rule": {None: WHOLE, "kind": CHANGED, "condition": CHANGED, "guard": ALL, **_CLAUSES},
    "limit": {None: WHOLE, "kind": CHANGED, "subject": CHANGED, "operator": CHANGED,
              "bound": CHANGED, "guard": ALL, **_CLAUSES},
    "let": {None: WHOLE, "expression": CHANGED, **_CLAUSES},
    "shares": {None: WHOLE, "form": CHANGED, "amount": ALL, "party": ALL, **_CLAUSES},
    "waterfall": {None: WHOLE, "amount": CHANGED, "step": ALL, "order": CHANGED, **_CLAUSES},
    "monitor": _BOOK_RULE,
    "budget": {a: e for a, e in _BOOK_RULE.items() if a != "operator"},  # always <= (E215)
    "book limit": _BOOK_RULE,
    "portfolio": {"order by": ALL},
}


@pytest.mark.parametrize("name", list(PAIRS))
def test_hand_made_pairs_report_exactly_their_changes(name):
    edits, expected = PAIRS[name]
    assert _changes(_edited(*edits)) == expected


@pytest.mark.parametrize("name", list(PAIRS_INTO_BASE))
def test_hand_made_pairs_into_base_report_exactly_their_changes(name):
    edits, expected = PAIRS_INTO_BASE[name]
    assert _changes(BASE, _edited(*edits)) == expected


def _in_the_tables() -> set[tuple[str, str | None, str]]:
    """(keyword, aspect, effect) of every change the two tables expect."""
    out = set()
    for _, expected in [*PAIRS.values(), *PAIRS_INTO_BASE.values()]:
        for change in (Change(*row) for row in expected):
            aspect = change.aspect
            if aspect is not None and aspect.split(" ")[0] in PARTS:
                aspect = aspect.split(" ")[0]
            out.add((change.keyword, aspect, change.effect))
    return out


def _uncovered(found: set[tuple[str, str | None, str]]) -> set[tuple[str, str | None, str]]:
    """What REPORTABLE has and `found` lacks: each kind of declaration added and removed,
    each part (member, party, step) added, changed and removed, each aspect of each kind,
    and each effect of each clause on some kind (one `_compare` reports it for all)."""
    missing = set()
    for keyword, aspects in REPORTABLE.items():
        for aspect, effects in aspects.items():
            if aspect is None or aspect in PARTS:
                missing |= {(keyword, aspect, effect) for effect in effects} - found
            elif not any((keyword, aspect, effect) in found for effect in effects):
                missing.add((keyword, aspect, "any effect"))
    clause_effects: dict[str, set[str]] = {}
    for aspects in REPORTABLE.values():
        for aspect, effects in aspects.items():
            if aspect is not None and aspect not in PARTS:
                clause_effects.setdefault(aspect, set()).update(effects)
    for aspect, effects in clause_effects.items():
        for effect in effects:
            if not any((k, aspect, effect) in found for k in REPORTABLE):
                missing.add(("any kind", aspect, effect))
    return missing


def test_the_tables_cover_every_change_diff_can_report():
    found = _in_the_tables()
    assert {t for t in found if t[2] not in REPORTABLE.get(t[0], {}).get(t[1], ())} == set()
    assert _uncovered(found) == set()


def _aspects_named_in_diff_py() -> set[str]:
    """The aspects policylang/diff.py names: `_compare(ASPECT, …)`, `_texts(a, b, ASPECT…)`
    and the (effect, ASPECT, old, new) tuples it builds, a part's aspect without its name."""
    def name(node: ast.expr) -> str:
        if isinstance(node, ast.JoinedStr):  # f"party {party}"
            node = node.values[0]
        assert isinstance(node, ast.Constant) and isinstance(node.value, str), ast.dump(node)
        return node.value.strip()

    names = set()
    for node in ast.walk(ast.parse(Path(diff_module.__file__).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "_compare" and not isinstance(node.args[0], ast.Name):
                names.add(name(node.args[0]))  # (a Name: `_texts` passing its own on)
            elif node.func.id == "_texts":
                names |= {name(arg) for arg in node.args[2:]}
        elif (isinstance(node, ast.Tuple) and len(node.elts) == 4
              and isinstance(node.elts[0], ast.Constant) and node.elts[0].value in ALL):
            names.add(name(node.elts[1]))
    return names


def test_reportable_lists_every_kind_and_aspect_of_diff_py():
    """REPORTABLE is diff.py's own list: the aspects its source names, and the keywords of
    base.pol's declarations (one of every kind) when it is compared to an empty policy."""
    aspects = {a for kinds in REPORTABLE.values() for a in kinds if a is not None}
    assert aspects == _aspects_named_in_diff_py()
    empty = api.load_source('policy base "基准政策" {\n}\n', "empty.pol")
    keywords = {c.keyword for c in diff(empty, api.load_source(BASE, "base.pol")).changes}
    assert keywords == set(REPORTABLE)


def test_every_change_carries_both_citations():
    old = api.load_source(BASE, "old.pol")
    new = api.load_source(_edited(('cite "二"', 'cite "二(新)"'), ("500万", "800万")), "new.pol")
    [bound, cite] = diff(old, new).changes
    assert (bound.aspect, bound.cite_old, bound.cite_new) == ("bound", "二", "二(新)")
    assert cite.aspect == "cite"


def _unformatted(source: str) -> str:
    """The same policy laid out the way a drafter might type it: the alignment undone
    (runs of spaces between tokens made one, outside texts and comments), indentation
    doubled, blank lines doubled, and a monitor's `stop when` moved to a line of its own."""
    lines = []
    for line in source.split("\n"):
        body = line.lstrip(" ")
        lines.append(" " * (2 * (len(line) - len(body))) + _collapse_spaces(body))
    return "\n".join(lines).replace("\n\n", "\n\n\n").replace(
        " stop when ", "\n        stop when ")


def _collapse_spaces(line: str) -> str:
    out, quoted, index = [], False, 0
    while index < len(line):
        char = line[index]
        if quoted:
            if char == "\\":
                out.append(line[index:index + 2])
                index += 2
                continue
            quoted = char != '"'
        elif char == '"':
            quoted = True
        elif char == "#":
            out.append(line[index:])
            break
        elif char == " " and out and out[-1] == " ":
            index += 1
            continue
        out.append(char)
        index += 1
    return "".join(out)


@pytest.mark.parametrize("path", sorted((ROOT / "policies").rglob("*.pol")) + [
    Path(__file__).parent / "diff_pairs" / "base.pol"], ids=lambda p: p.stem)
def test_a_policy_against_itself_and_its_re_laid_out_copies_reports_nothing(path):
    source = path.read_text(encoding="utf-8")
    policy = api.load_source(source, str(path))
    assert diff(policy, policy).changes == ()
    formatted = format_source(source, str(path))
    assert diff(policy, api.load_source(formatted, "formatted.pol")).changes == ()
    messy = _unformatted(source)
    assert messy != source
    assert diff(policy, api.load_source(messy, "messy.pol")).changes == ()
    assert diff(api.load_source(messy, "messy.pol"), policy).changes == ()


def test_base_is_formatted_and_its_unformatted_copy_formats_back_to_it():
    """base.pol itself passes `fmt --check`; the layout the diff must ignore is made by
    `_unformatted`, which really differs from it and which the formatter undoes."""
    assert format_source(BASE, "base.pol") == BASE
    messy = _unformatted(BASE)
    assert messy != BASE
    assert format_source(messy, "messy.pol") == BASE


def _confirm(result) -> None:
    """Every witness's case, run again through the public API, gives the reported
    decisions, and they differ."""
    for witness in result.witnesses:
        old_case = witness.case_old if witness.case_old is not None else witness.case
        old_params = witness.params_old if witness.params_old is not None else witness.params
        assert api.decide(result.old, old_case, old_params) == witness.old
        assert api.decide(result.new, witness.case, witness.params) == witness.new
        assert witness.differences
        assert witness.old != witness.new


def test_witnesses_for_a_changed_bound_are_confirmed_and_one_per_change_first():
    old = api.load_source(BASE, "old.pol")
    new = api.load_source(_edited(("500万", "800万"), ("take pool up to 10万",
                                                      "take pool up to 20万")), "new.pol")
    result = diff(old, new, witnesses=4)
    assert [w.about for w in result.witnesses[:2]] == ["limit cap", "waterfall w"]
    cap = result.witnesses[0]
    assert cap.case["k"] == "a" and cap.old["eligible"] is False and cap.new["eligible"] is True
    [why] = [d for d in cap.differences if d.startswith("limit cap: fails → holds (value ")]
    assert why.endswith(", old bound 500万)")
    _confirm(result)


def test_non_linear_parts_are_skipped_with_a_note():
    old = api.load_source(BASE, "old.pol")
    new = api.load_source(_edited(("let fee = amount * 1%", "let fee = amount * rate")),
                          "new.pol")
    result = diff(old, new, witnesses=2)
    assert any("let fee (new version)" in note and "product of two variables" in note
               for note in result.notes)
    assert all(w.about != "let fee" for w in result.witnesses)
    _confirm(result)


def test_the_same_policy_has_no_witnesses():
    policy = api.load_source(BASE, "base.pol")
    assert diff(policy, policy, witnesses=3).witnesses == ()


# (edits to base.pol, the input no one case can give both versions, why): the new version
# reads it as a value the old cannot take.
NO_SHARED_CASE = {
    "an input's type changed": (
        [("    term:       duration", "    term:       number"), ("term <= 1 year", "term <= 12")],
        "term", "input `term` is duration in the old and number in the new"),
    "a duration read in days instead of months": (
        [("    term:       duration", "    term:       duration = 360 days"),
         ("term <= 1 year", "term <= 365 days")],
        "term", "input `term` is a duration in months in the old and in days in the new"),
    "an enum that keeps no member": (
        [('    a "A"\n    b "B"\n', '    c "C"\n    d "D"\n'), ("k == a", "k == c")],
        "k", "input `k` is kind {a, b} in the old and kind {c, d} in the new, with no member "
             "in common"),
}


@pytest.mark.parametrize("name", list(NO_SHARED_CASE))
def test_no_shared_case_is_said_with_its_reason_in_text_json_and_html(name):
    """A changed input type leaves no case valid under both versions: instead of an empty
    witness list, every rendering says so and names the input and both its types."""
    edits, field, why = NO_SHARED_CASE[name]
    old = api.load_source(BASE, "old.pol")
    result = diff(old, api.load_source(_edited(*edits), "new.pol"), witnesses=3)
    assert result.witnesses == ()
    assert result.search.status == "no_shared_case"
    assert result.search.inputs == (field,)
    expected = f"no case is valid under both versions because {why}"
    assert result.search.reason.startswith(expected)
    assert f"\nno witness: {expected}" in render_text(result)
    data = json.loads(render_json(result))
    assert data["witnesses"] == []
    assert data["witness_search"] == {"status": "no_shared_case",
                                      "reason": result.search.reason, "inputs": [field]}
    page = render_html(result)
    report = _Report()
    report.feed(page)
    assert f"No witness: {expected}" in "".join(report.text)
    assert 'data-status="no_shared_case"' in page


def test_a_duration_only_the_new_version_reads_in_days_is_searched_in_days():
    """The old version leaves `term` unread; the new bounds it in days. The shared case
    reads it in days (it used to take months from the old version, which left the new
    limit unsearched as "months compared with days")."""
    old = api.load_source(_edited(('  limit term_cap: term <= 1 year cite "三"\n', "")), "old.pol")
    new = api.load_source(_edited(("term <= 1 year", "term <= 365 days")), "new.pol")
    result = diff(old, new, witnesses=1)
    [witness] = result.witnesses
    assert witness.about == "limit term_cap" and witness.case["term"].endswith(" days")
    assert not any("months compared with days" in note for note in result.notes)
    _confirm(result)


def test_a_renamed_input_alone_changes_no_decision():
    """`amount` renamed `principal`, the logic the same: both versions' cases give the
    field one value, so no case decides differently (it used to show borrowers of
    1万 under the old version beside 501万 under the new one)."""
    old = api.load_source(BASE, "old.pol")
    new = api.load_source(_edited(*[(f"{word}amount", f"{word}principal")
                                    for word in ("\n    ", " ", "(")]), "new.pol")
    assert [c.item for c in diff(old, new).changes if c.keyword == "input"] == \
        ["input amount", "input principal"]
    result = diff(old, new, witnesses=3)
    assert result.witnesses == ()
    assert result.search.status == "none_differ"
    assert "\nno witness: no behavioural change: " in render_text(result)
    # the claim rests on the rename, and says so
    assert result.search.reason.endswith(", if input principal is amount renamed")
    assert any("input amount → principal" in note and "renamed" in note
               for note in result.notes)


def test_a_renamed_input_and_a_changed_threshold_give_one_borrower_per_witness():
    old = api.load_source(BASE, "old.pol")
    new = api.load_source(_edited(*[(f"{word}amount", f"{word}principal")
                                    for word in ("\n    ", " ", "(")], ("500万", "800万")),
                          "new.pol")
    result = diff(old, new, witnesses=4)
    assert result.witnesses
    for witness in result.witnesses:
        assert "amount" not in witness.case and "principal" not in witness.case_old
        assert witness.case_old["amount"] == witness.case["principal"]
        assert {k: v for k, v in witness.case_old.items() if k != "amount"} == \
            {k: v for k, v in witness.case.items() if k != "principal"}
        assert all(d.startswith(("not eligible → eligible", "limit cap: fails → holds"))
                   for d in witness.differences), witness.differences
    _confirm(result)


def test_an_enum_renamed_keeps_the_input_one_member_in_both_cases():
    old = api.load_source(BASE, "old.pol")
    new = api.load_source(_edited(*PAIRS["an enum renamed: one removed, one added, and the "
                                         "input it types"][0], ("500万", "800万")), "new.pol")
    result = diff(old, new, witnesses=4)
    assert result.witnesses
    for witness in result.witnesses:
        assert witness.case_old is None  # the same fields and values
        assert witness.about in ("limit cap", "any difference")
    _confirm(result)


def test_renamed_inputs_pair_by_the_declarations_that_read_them():
    """Two money inputs renamed at once pair by where each is read (`cap` read `amount`,
    `split` read `loss`), not by their order; a lone removed and added input of one type
    pair even unread; two of a type that no declaration relates do not."""
    edits = [("    amount:     money\n", "    damage:     money = 0元\n"),
             ("    loss:       money = 0元\n", "    principal:  money\n"),
             ("amount <= 500万", "principal <= 500万"), ("amount * 1%", "principal * 1%"),
             ("split of loss", "split of damage"), ("w(loss)", "w(damage)"),
             ("sum(loss)", "sum(damage)"), ("sum(amount", "sum(principal")]
    pairs = diff_module.renamed_inputs(api.load_source(BASE, "old.pol"),
                                       api.load_source(_edited(*edits), "new.pol"))
    assert [(a.name, b.name) for a, b in pairs] == [("amount", "principal"),
                                                    ("loss", "damage")]
    lone = _edited(("    rate:       percent = 1%      \"利率\"\n", ""),
                   ("rate <= lpr", "lpr <= lpr"),
                   ("    loss:       money = 0元", "    loss:       money = 0元\n"
                                                    "    fee_rate:   percent = 0%"))
    pairs = diff_module.renamed_inputs(api.load_source(BASE, "old.pol"),
                                       api.load_source(lone, "new.pol"))
    assert [(a.name, b.name) for a, b in pairs] == [("rate", "fee_rate")]
    two = lone.replace("    fee_rate:   percent = 0%", "    fee_rate:   percent = 0%\n"
                                                      "    tax_rate:   percent = 0%")
    two_old = _edited(("    rate:       percent = 1%      \"利率\"",
                       "    rate:       percent = 1%\n    spread:     percent = 0%"))
    assert diff_module.renamed_inputs(api.load_source(two_old, "old.pol"),
                                      api.load_source(two, "new.pol")) == []


def test_a_param_default_outside_plausible_loan_values_leaves_the_search_open():
    """A negative adjustment (or a rate above 100%) as a param's default is the policy's
    figure, not a value the solver picks: the facts that keep a loan's figures plausible
    left no case at all, so a changed cap had no witness."""
    adjusted = _edited(('param lpr: percent = 3.45% "LPR"',
                        'param lpr: percent = 3.45% "LPR"\n  param adj: money = -1万'),
                       ("let fee = amount * 1%", "let fee = amount * 1% + adj"))
    result = diff(api.load_source(adjusted, "old.pol"),
                  api.load_source(adjusted.replace("500万", "800万"), "new.pol"), witnesses=1)
    assert [w.about for w in result.witnesses] == ["limit cap"]
    _confirm(result)


def test_a_param_one_version_leaves_open_takes_the_others_default():
    """`lpr` loses its default: the new version's lpr was the solver's free choice (0%),
    and every rate between 1.5% and 4.95% "changed" its decision. It is the old default."""
    old = api.load_source(BASE, "old.pol")
    new = api.load_source(_edited(('param lpr: percent = 3.45% "LPR"', 'param lpr: percent')),
                          "new.pol")
    result = diff(old, new, witnesses=2)
    assert result.witnesses == () and result.search.status == "none_differ"
    assert "param lpr has no default in the new version: a witness takes the other's, 3.45%" \
        in result.notes
    raised = diff(old, api.load_source(_edited(("lpr + 150bp", "lpr + 200bp"),
                                               ('param lpr: percent = 3.45% "LPR"',
                                                'param lpr: percent')), "new.pol"), witnesses=1)
    [witness] = raised.witnesses
    assert witness.params == {"lpr": "3.45%"} and witness.params_old is None
    _confirm(raised)


def test_a_duration_whose_default_is_in_days_is_searched_in_days():
    """`grace` defaults to 30 days and is only added to a date: it was encoded in months
    (date arithmetic in calendar months: not searched), and its default preferred as 30
    months. Its default's unit is the encoding's now."""
    old = _edited(("    start_date: date = 2024-01-01",
                   "    start_date: date = 2024-01-01\n    grace:      duration = 30 days"),
                  ("  limit term_cap", "  rule on_time: start_date + grace <= 2024-06-01\n"
                                       "  limit term_cap"))
    result = diff(api.load_source(old, "old.pol"),
                  api.load_source(old.replace("2024-06-01", "2024-05-01"), "new.pol"),
                  witnesses=1)
    [witness] = result.witnesses
    assert witness.about == "rule on_time" and "grace" not in witness.case  # at its default
    assert not any("calendar months" in note for note in result.notes)
    _confirm(result)
    # A default of 1 month became 30 days: the case, which must state `grace` (its
    # default changed), prefers the old default, not 30 months.
    old = _edited(("    start_date: date = 2024-01-01",
                   "    start_date: date = 2024-01-01\n    grace:      duration = 1 month"))
    new = old.replace("= 1 month", "= 30 days").replace("500万", "800万")
    result = diff(api.load_source(old, "old.pol"), api.load_source(new, "new.pol"), witnesses=1)
    [witness] = result.witnesses
    assert witness.case["grace"] == "1 month"
    _confirm(result)


def test_a_search_without_witnesses_says_whether_it_ruled_them_out():
    """`none_differ` (the solver ruled every difference out), `none_found` (something was
    not searched) and `not_searched` (none asked for) are told apart; only a search that
    was asked for and found nothing prints its reason."""
    policy = api.load_source(BASE, "base.pol")
    same = diff(policy, policy, witnesses=3)
    assert (same.search.status, same.search.reason) == (
        "none_differ", "no behavioural change: no case valid under both versions decides "
        "differently")
    assert "\nno witness: no behavioural change" in render_text(same)
    asked_none = diff(policy, policy)
    assert asked_none.search.status == "not_searched"
    assert json.loads(render_json(asked_none))["witness_search"]["status"] == "not_searched"
    assert "no witness" not in render_text(asked_none)
    assert "no-witness" not in render_html(asked_none)
    default = diff(policy, api.load_source(_edited(("loss:       money = 0元",
                                                    "loss:       money = 1万")), "new.pol"),
                   witnesses=3)
    assert default.witnesses == () and default.search.status == "none_found"
    assert "a changed default: input loss" in default.search.reason
    nonlinear = diff(policy, api.load_source(_edited(("let fee = amount * 1%",
                                                      "let fee = amount * rate")), "new.pol"),
                     witnesses=3)
    assert nonlinear.witnesses == () and nonlinear.search.status == "none_found"
    assert "outside the linear fragment: let fee" in nonlinear.search.reason
    found = diff(policy, api.load_source(_edited(("500万", "800万")), "new.pol"), witnesses=1)
    assert found.witnesses and found.search == WitnessSearch("found")
    assert "no witness" not in render_text(found)


# ── 佛山 2019 → 2022: the revision points of seed 004 ───────────────────────

FOSHAN_REVISION = {
    "三(一) 首贷户 as a supported group": ("changed", "input first_loan", "description"),
    "三(二) enterprise cap 1000万": ("changed", "limit enterprise_cap", "bound", "500万", "1000万"),
    "三(二) individual/micro-owner cap 300万": ("changed", "limit individual_cap", "bound",
                                            "100万", "300万"),
    "三(二) micro-business owners added": ("removed", "rule borrower_rule", None),
    "三(三) purposes added": ("changed", "rule purpose_rule", "condition",
                          "purpose == production", "purpose != other"),
    "三(三) term up to 3 years": ("changed", "limit term_cap", "bound", "1 year", "3 years"),
    "三(四) rate cap LPR + 150bp": ("changed", "limit rate_cap", "bound",
                                 "benchmark_rate * 1.3", "lpr + 1.5%"),
    "三(四) LPR replaces the benchmark rate": ("added", "param lpr", None),
    "三(五) premium subsidy for first-loan borrowers": ("changed", "let borrower_subsidy",
                                                    "expression"),
    "三(六) first-loan risk split 10/90": ("added", "shares first_loan_loss", None),
    "三(六) fund compensates 45%": ("added", "shares first_loan_burden", None),
    "三(七) stop rule on the insurer's compensation rate": ("added", "monitor compensation_rate",
                                                         None),
    "三(七) the bank NPL stop rule goes": ("removed", "monitor npl_ratio", None),
    "三(八) compensation cap 6000万 a year": ("changed", "budget annual_compensation", "bound",
                                          "annual_special_fund", "6000万"),
}


@pytest.fixture(scope="module")
def foshan():
    return diff(api.load(FOSHAN[0]), api.load(FOSHAN[1]), witnesses=6)


@pytest.mark.parametrize("point", list(FOSHAN_REVISION))
def test_foshan_diff_lists_every_revision_point_of_seed_004(foshan, point):
    expected = FOSHAN_REVISION[point]
    found = [(c.kind, c.item, c.aspect, c.old, c.new)[:len(expected)] for c in foshan.changes]
    assert expected in found
    change = next(c for c in foshan.changes if (c.kind, c.item, c.aspect) == expected[:3])
    if not change.item.startswith(("input", "param")):  # those have no citation
        assert (change.cite_new or change.cite_old).startswith("三(")


def test_foshan_has_at_least_three_confirmed_witnesses(foshan):
    assert len(foshan.witnesses) >= 3
    abouts = [w.about for w in foshan.witnesses]
    assert len(set(abouts)) == len(abouts)  # diversified: one per changed declaration
    assert {"limit enterprise_cap", "limit term_cap"} <= set(abouts)
    _confirm(foshan)
    assert any("borrower_subsidy" in note for note in foshan.notes)


def test_summary_line():
    changes = diff(api.load(NATIONAL[0]), api.load(NATIONAL[1])).changes
    assert summary(changes).startswith(f"{len(changes)} changes: 5 meta, 4 limits, 3 inputs")
    assert summary(()) == "no changes"


# ── rendering ───────────────────────────────────────────────────────────────


class _Report(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict] = []
        self.witnesses: list[dict] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and attrs.get("class") == "change":
            self.rows.append(attrs)
        if tag == "div" and attrs.get("class") == "witness":
            self.witnesses.append(attrs)

    def handle_data(self, data):
        self.text.append(data)


def test_html_report_shows_every_change_and_witness(foshan):
    page = render_html(foshan)
    report = _Report()
    report.feed(page)
    assert [(r["data-kind"], r["data-item"], r["data-aspect"] or None) for r in report.rows] == \
        [(c.kind, c.item, c.aspect) for c in foshan.changes]
    assert [w["data-about"] for w in report.witnesses] == [w.about for w in foshan.witnesses]
    text = "".join(report.text)
    for change in foshan.changes:
        for value in (change.old, change.new, change.cite_old, change.cite_new):
            assert value is None or value in text
    for witness in foshan.witnesses:
        for value in witness.case.values():
            assert str(value) in text
        for difference in witness.differences:
            assert difference in text
    assert "Noto Sans CJK SC" in page and "<script" not in page and "http" not in page


def test_html_escapes_policy_texts():
    old = api.load_source(BASE, "old.pol")
    new = api.load_source(_edited(('says "只支持 a"', 'says "<b>a</b> & b"')), "new.pol")
    page = render_html(diff(old, new))
    assert "<b>a</b>" not in page and "&lt;b&gt;a&lt;/b&gt; &amp; b" in page


def test_json_has_the_shape_of_design_section_6(foshan):
    data = json.loads(render_json(foshan))
    assert data["old"] == {"policy": "foshan_microloan_previous", "version": "2019"}
    assert data["new"] == {"policy": "foshan_microloan_2022", "version": "2022"}
    assert {"kind", "item", "old", "new", "cite_old", "cite_new"} <= set(data["changes"][0])
    assert {"case", "params", "old", "new"} <= set(data["witnesses"][0])
    assert len(data["changes"]) == len(foshan.changes)
    # Fields are only ever added: these are the README's (Comparing versions).
    assert list(data) == ["old", "new", "changes", "witnesses", "notes", "witness_search"]
    assert data["witness_search"] == {"status": "found", "reason": None, "inputs": []}


def test_text_groups_by_kind_with_a_summary(foshan):
    text = render_text(foshan)
    lines = text.splitlines()
    assert lines[1] == summary(foshan.changes)
    assert "\nlimit\n  ~ enterprise_cap bound: 500万 → 1000万  [三(二)]\n" in text
    assert "\x1b[" not in text and "\x1b[" in render_text(foshan, color=True)


# ── command line ────────────────────────────────────────────────────────────

runner = CliRunner()


def test_cli_json_witnesses_feed_back_into_run(tmp_path):
    result = runner.invoke(app, ["diff", *map(str, NATIONAL), "--format", "json",
                                 "--witnesses", "3"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["witnesses"]) == 3
    witness = data["witnesses"][0]
    case = tmp_path / "case.json"
    case.write_text(json.dumps(witness["case"], ensure_ascii=False), encoding="utf-8")
    run = runner.invoke(app, ["run", str(NATIONAL[1]), "--case", str(case)])
    assert run.exit_code in (0, 1), run.output
    assert json.loads(run.stdout)["eligible"] == witness["new"]["eligible"]


def test_cli_html_to_a_file(tmp_path):
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["diff", *map(str, FOSHAN), "--format", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_cli_bad_input_gives_diagnostics_and_no_traceback(tmp_path):
    broken = tmp_path / "broken.pol"
    broken.write_text('policy x "t" {\n  limit a: 1元 <= 5%\n}\n', encoding="utf-8")
    result = runner.invoke(app, ["diff", str(broken), str(FOSHAN[1])])
    assert result.exit_code == 1
    assert "broken.pol:2:" in result.stderr and "error[E2" in result.stderr
    missing = runner.invoke(app, ["diff", str(tmp_path / "nope.pol"), str(FOSHAN[1])])
    assert missing.exit_code == 2 and "E607" in missing.stderr
    wrong = runner.invoke(app, ["diff", *map(str, FOSHAN), "--format", "xml"])
    assert wrong.exit_code == 2 and "--format" in wrong.stderr
    for outcome in (result, missing, wrong):
        assert outcome.exception is None or isinstance(outcome.exception, SystemExit)
        assert "Traceback" not in outcome.output


@pytest.mark.parametrize("pair, witnesses", [(FOSHAN, 4), (NATIONAL, 6)],
                         ids=["foshan", "national"])
def test_readme_shows_the_real_output_of_the_worked_examples(pair, witnesses):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    old, new = (path.relative_to(ROOT) for path in pair)
    command = f"$ policylang diff {old} {new} --witnesses {witnesses}\n"
    shown = readme.split(command)[1].split("```")[0]
    # The witness search runs in a z3 context of its own: the same cases in any process.
    assert shown == render_text(diff(api.load(pair[0]), api.load(pair[1]), witnesses))


SEEDS = sorted((ROOT / "policies").rglob("*.pol"))


@pytest.mark.parametrize("old, new", list(zip(SEEDS, SEEDS[1:] + SEEDS[:1], strict=True)),
                         ids=lambda p: p.stem)
def test_unrelated_policies_diff_render_and_confirm_without_error(old, new):
    result = diff(api.load(old), api.load(new), witnesses=2)
    assert result.changes
    for render in (render_text, render_json, render_html):
        assert render(result)
    _confirm(result)


def test_a_limit_turned_into_a_rule_is_one_change_of_kind_in_text_json_and_html():
    old = api.load_source(BASE, "old.pol")
    new = api.load_source(_edited(('limit cap:      amount <= 500万 when k == a',
                                   'rule cap: amount <= 800万 when k == a')), "new.pol")
    result = diff(old, new, witnesses=1)
    [change] = result.changes
    assert "  ~ cap kind: limit amount <= 500万 when k == a → rule amount <= 800万 when k == a"\
        "  [二]" in render_text(result)
    data = json.loads(render_json(result))["changes"]
    # Fields are only added: `item_old` names the declaration as the old version had it.
    assert data == [{"kind": "changed", "item": "rule cap", "aspect": "kind",
                     "old": "limit amount <= 500万 when k == a",
                     "new": "rule amount <= 800万 when k == a", "cite_old": "二",
                     "cite_new": "二", "item_old": "limit cap"}]
    assert 'data-item="rule cap" data-aspect="kind"' in render_html(result)
    [witness] = result.witnesses
    assert witness.about == "rule cap" and witness.old["eligible"] != witness.new["eligible"]
    _confirm(result)


def test_json_item_old_is_the_item_and_null_for_an_added_declaration():
    old = api.load_source(BASE, "old.pol")
    new = api.load_source(_edited(("500万", "800万"), ("param lpr", "param floor: money = 0元\n"
                                                     "  param lpr")), "new.pol")
    data = json.loads(render_json(diff(old, new)))["changes"]
    assert [(c["item"], c["item_old"]) for c in data] == [("param floor", None),
                                                         ("limit cap", "limit cap")]


LIAONING = (ROOT / "policies/liaoning/puhui_edai.pol").read_text(encoding="utf-8")


def _liaoning(*edits: tuple[str, str]) -> str:
    source = LIAONING
    for old, new in edits:
        assert old in source, old
        source = source.replace(old, new)
    return source


def test_a_witness_flips_eligibility_wherever_a_case_can():
    """辽宁 widens `credit_only` to guaranteed loans; its fee rate's default (1.2%) is above
    the fee cap. Every case that flips eligibility has the fee rate off its default: the
    solver used to drop the preference that the other rules hold together with the
    default, and gave a borrower ineligible in both versions (fee rate 1.01%)."""
    old = _liaoning(("percent = 1% ", "percent = 1.2%"))
    new = old.replace("rule credit_only: measure == credit",
                      "rule credit_only: measure != collateral")
    result = diff(api.load_source(old, "old.pol"), api.load_source(new, "new.pol"), 3)
    assert result.witnesses
    for witness in result.witnesses:
        assert witness.old["eligible"] is False and witness.new["eligible"] is True, witness
        assert witness.differences[0] == "not eligible → eligible"
        assert witness.case["measure"] == "surety" and witness.case["fee_rate"] == "1%"
    _confirm(result)


def test_a_changed_param_default_has_its_own_target():
    """LPR 3.45% → 3.1%: witnesses are searched for `param lpr` (the rules that read it,
    directly or through a let), not only for any difference."""
    old = api.load_source(BASE, "old.pol")
    new = api.load_source(_edited(('lpr: percent = 3.45%', 'lpr: percent = 3.1%')), "new.pol")
    result = diff(old, new, witnesses=1)
    [witness] = result.witnesses
    assert witness.about == "param lpr"
    assert witness.differences[0] == "eligible → not eligible"
    assert "limit rate_cap: holds → fails" in witness.differences[1]
    assert witness.params == {"lpr": "3.1%"} and witness.params_old == {"lpr": "3.45%"}
    assert "  1. for param lpr: eligible → not eligible" in render_text(result)
    _confirm(result)
    through_a_let = [("let fee = amount * 1%", "let fee = amount * 1%\n  let ceiling = lpr + 1%"),
                     ("rate <= lpr + 150bp", "rate <= ceiling")]
    old = api.load_source(_edited(*through_a_let), "old.pol")
    new = api.load_source(_edited(*through_a_let, ('lpr: percent = 3.45%', 'lpr: percent = 4%')),
                          "new.pol")
    result = diff(old, new, witnesses=1)
    assert [w.about for w in result.witnesses] == ["param lpr"]
    assert result.witnesses[0].differences[0] == "not eligible → eligible"
    _confirm(result)


def _gist(witness) -> tuple:
    """What a witness shows, without the amounts: its differences with a limit's value
    left out, and the enum and bool values of its case."""
    shown = tuple(d.split(" (value ")[0] for d in witness.differences)
    return shown, {k: v for k, v in witness.case.items()
                   if isinstance(v, bool) or v.replace("_", "").isalpha()}


def test_later_witnesses_differ_in_what_the_change_is_about_or_are_not_listed():
    """辽宁 widens `credit_only` to guaranteed loans: one kind of borrower gains
    eligibility, and the other 3 witnesses asked for used to be the same borrower with
    another amount or term (2万 vs 1万). They are left out, and a note says so."""
    new = _liaoning(("rule credit_only: measure == credit",
                     "rule credit_only: measure != collateral"))
    result = diff(api.load_source(LIAONING, "old.pol"), api.load_source(new, "new.pol"), 4)
    [witness] = result.witnesses
    assert witness.case["measure"] == "surety"
    assert "1 of 4 witnesses: every other case decided differently repeats a witness shown " \
        "in what the changes turn on" in render_text(result)
    assert result.search.status == "found"
    # Both sides of a change: `k == a` → `k == b` loses a and gains b, one witness each.
    old = api.load_source(BASE, "old.pol")
    result = diff(old, api.load_source(_edited(("kind_rule: k == a", "kind_rule: k == b")),
                                       "new.pol"), 4)
    assert sorted((w.case["k"], w.differences[0]) for w in result.witnesses) == [
        ("a", "eligible → not eligible"), ("b", "not eligible → eligible")]
    _confirm(result)


def test_no_two_witnesses_of_the_foshan_revision_show_the_same_thing():
    result = diff(api.load(FOSHAN[0]), api.load(FOSHAN[1]), witnesses=12)
    gists = [(w.about, _gist(w)) for w in result.witnesses]
    assert len(gists) == 12 and len({repr(g) for g in gists}) == 12, gists
    purposes = [w.case["purpose"] for w in result.witnesses if w.about == "rule purpose_rule"]
    assert len(purposes) == len(set(purposes)) == 2  # another purpose the revision allows
    _confirm(result)


def test_text_of_a_change_without_a_name():
    old = api.load_source(BASE, "old.pol")
    new = api.load_source(_edited(*PAIRS["the portfolio's order"][0]), "new.pol")
    assert "\nportfolio\n  ~ order by: start_date → end_date\n" in render_text(diff(old, new))


def test_a_change_only_a_book_can_show_is_not_called_no_behavioural_change():
    """A budget's cap raised, or a param's default changed that only portfolio rules read:
    no one case decides differently, but a book does. It was "no behavioural change"
    (`none_differ`); the search is incomplete, and says what it left to books."""
    old = api.load_source(BASE, "old.pol")
    budget = diff(old, api.load_source(_edited(("<= 1000万", "<= 2000万")), "new.pol"),
                  witnesses=2)
    assert budget.witnesses == () and budget.search.status == "none_found"
    assert budget.search.reason.endswith(
        "(judged over a book of cases, not one case: budget payouts)")
    assert "no behavioural change" not in render_text(budget)
    funded = _edited(('param lpr: percent = 3.45% "LPR"',
                      'param lpr: percent = 3.45% "LPR"\n  param fund: money = 1000万'),
                     ("<= 1000万", "<= fund"))
    result = diff(api.load_source(funded, "old.pol"),
                  api.load_source(funded.replace("= 1000万", "= 2000万"), "new.pol"), witnesses=2)
    assert [(c.item, c.aspect) for c in result.changes] == [("param fund", "default")]
    assert result.witnesses == () and result.search.status == "none_found"
    assert "judged over a book of cases, not one case: param fund" in result.search.reason
    assert "param fund is read by portfolio rules (budget payouts), which decide over a book " \
        "of cases: its change there is not searched for witnesses" in result.notes


def test_a_member_only_one_version_has_is_not_called_no_behavioural_change():
    """A new class `c` added to the enum and admitted by the rule: a case with k = c is
    invalid under the old version, so no shared case differs, but the change is real. It
    was "no behavioural change"; the reason now names the member left uncompared."""
    old = api.load_source(BASE, "old.pol")
    new = api.load_source(_edited(('    b "B"\n', '    b "B"\n    c "C"\n'),
                                  ("rule kind_rule: k == a", "rule kind_rule: k in {a, c}")),
                          "new.pol")
    assert [(c.item, c.aspect) for c in diff(old, new).changes] == [
        ("enum kind", "member c"), ("rule kind_rule", "condition")]
    result = diff(old, new, witnesses=2)
    assert result.witnesses == () and result.search.status == "none_differ"
    assert "no behavioural change" not in result.search.reason
    assert result.search.reason == (
        "no case valid under both versions decides differently; a case with input k = c "
        "(new version only) is valid under one version only, and not compared")
    assert "no behavioural change" not in render_text(result)
    # with a witness found, a note says it instead
    raised = diff(old, api.load_source(_edited(('    b "B"\n', '    b "B"\n    c "C"\n'),
                                               ("500万", "800万")), "new.pol"), witnesses=1)
    assert raised.witnesses and "input k = c (new version only): its cases are valid under " \
        "one version only, and not compared" in raised.notes


def test_a_guarded_deadline_from_days_to_a_month_says_no_case_there_is_shared():
    """15 days → 1 month on a limit that applies only when there is a loss: where it
    applies, the old version needs the delay in days and the new in months (E611 else),
    so no case there is valid under both. It said "none found, but the search was not
    complete (outside the linear fragment …)" as if the solver had fallen short."""
    old = _edited(("    start_date: date = 2024-01-01",
                   "    start_date: date = 2024-01-01\n    delay:      duration = 0 days"),
                  ("  limit term_cap", "  limit deadline: delay <= 15 days when loss > 0元\n"
                                       "  limit term_cap"))
    new = old.replace("delay <= 15 days", "delay <= 1 month")
    result = diff(api.load_source(old, "old.pol"), api.load_source(new, "new.pol"),
                  witnesses=2)
    assert [(c.item, c.aspect) for c in result.changes] == [("limit deadline", "bound")]
    assert result.witnesses == () and result.search.status == "none_differ"
    assert result.search.reason == (
        "no case valid under both versions decides differently; where limit deadline "
        "applies, the old version reads `delay` in days and the new in months: no case "
        "there is valid under both versions, and none is compared")
    assert not any("outside the linear fragment" in note for note in result.notes)
    # with another change found, a note says it
    both = diff(api.load_source(old, "old.pol"),
                api.load_source(new.replace("500万", "800万"), "new.pol"), witnesses=1)
    assert [w.about for w in both.witnesses] == ["limit cap"]
    assert "limit deadline: where it applies, the old version reads `delay` in days and the " \
        "new in months, which do not convert: no case there is valid under both versions, " \
        "and none is compared" in both.notes
    _confirm(both)


def test_a_preference_is_dropped_only_when_it_conflicts_with_more_important_ones_kept():
    """diff_plain.solve drops, of a conflict, the least important preference, one at a
    time; it used to drop every preference in z3's core at once (so the most important
    went with the rest). Alone, on a bare solver: x = 13 conflicts with x <= 5 and with
    x = 0, less important both; x = 13 is kept. Through the diff: a rule turned into a
    limit (amount <= 100万), and the case for any difference that newly fails it flips
    eligibility (dropping the whole core gave term 2 years, ineligible in both)."""
    x = z3.Real("x")
    solver = z3.Solver()
    flags = [z3.Bool(name) for name in ("thirteen", "small", "zero")]
    for flag, fact in zip(flags, (x == 13, x <= 5, x == 0), strict=True):
        solver.add(z3.Implies(flag, fact))
    model = diff_plain.solve(solver, flags)
    assert model is not None and model.eval(x).as_long() == 13
    solver.add(x > 100)  # every preference goes, but there is a case
    assert diff_plain.solve(solver, flags).eval(x).as_long() > 100
    solver.add(x < 0)  # no case at all
    assert diff_plain.solve(solver, flags) is None
    old = api.load_source(BASE, "old.pol")
    new = api.load_source(_edited(*PAIRS["a rule turned into a limit, its says dropped"][0]),
                          "new.pol")
    result = diff(old, new, witnesses=2)
    assert [w.differences[0] for w in result.witnesses] == [
        "not eligible → eligible", "eligible → not eligible"]
    assert result.witnesses[1].case["amount"] == "101万"
    _confirm(result)


def test_a_preference_no_conflict_needs_is_kept_though_z3s_core_names_it():
    """The limit `cap` gets a new subject, operator, bound and guard (k == a → k == b).
    A case that newly fails it has k = b, which `kind_rule` rejects in both versions, so
    eligibility cannot flip; z3's core for that conflict also named the preferences that
    term_cap and rate_cap hold, and they went, one by one, before the flip did: the case
    had a term of 2 years and a rate of 1.01%, failing term_cap in both versions."""
    old = api.load_source(BASE, "old.pol")
    new = api.load_source(
        _edited(*PAIRS["limit subject, operator, bound, guard separately"][0]), "new.pol")
    result = diff(old, new, witnesses=4)
    [newly_fails] = [w for w in result.witnesses if w.case["k"] == "b"]
    assert newly_fails.case == {"k": "b", "amount": "1000万", "term": "1 year"}
    assert newly_fails.differences == (
        "limit cap: holds → fails (value 1000万, new bound 1000万)",)
    assert {f["rule"] for f in newly_fails.old["failures"]} == {"kind_rule"}
    _confirm(result)


def test_a_case_for_any_difference_one_change_explains_is_listed_under_it():
    """A let's formula changes (fee 1% → 1.2% of the amount) and a limit reads the let.
    The let's own search shows its value (5000 → 6000); the search for any difference
    finds the borrower the limit now turns away. Only the let changed: the case is
    listed under it, not under "any difference". Two changes that each play a part (the
    佛山 revision: 101万 for 2 years needs both caps raised) stay "any difference"."""
    old = _edited(('  let fee = amount * 1% cite "四"',
                   '  let fee = amount * 1% cite "四"\n  limit fee_cap: fee <= 5万 cite "四"'))
    new = old.replace("amount * 1% cite", "amount * 1.2% cite")
    result = diff(api.load_source(old, "old.pol"), api.load_source(new, "new.pol"), 3)
    assert [w.about for w in result.witnesses] == ["let fee", "let fee"]
    turned_away = result.witnesses[1]
    assert turned_away.differences[:2] == (
        "eligible → not eligible",
        "limit fee_cap: holds → fails (value 5.004万, new bound 5万)")
    assert "  2. for let fee: eligible → not eligible" in render_text(result)
    assert json.loads(render_json(result))["witnesses"][1]["about"] == "let fee"
    _confirm(result)
    foshan = diff(api.load(FOSHAN[0]), api.load(FOSHAN[1]), witnesses=12)
    joint = [w for w in foshan.witnesses if w.about == "any difference"]
    assert joint and all(sum(d.endswith(("fails → holds", ")")) and ": " in d
                             for d in w.differences[1:]) >= 2 for w in joint)
    # the case is run on each hybrid: 2 changes at once is not one change
    from policylang.diff_cause import cause
    assert all(cause(foshan.old, foshan.new, foshan.changes, w) is None for w in joint)
    _confirm(foshan)


AMENDMENTS = json.loads((Path(__file__).parent / "diff_pairs" / "amendments.json")
                        .read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", list(AMENDMENTS))
def test_a_regulators_amendments_read_as_the_policy_writes_them(name):
    """Realistic amendments of two seeds (tests/diff_pairs/amendments.json: a cap raised, a
    rate lowered, a guard added, an enum member added, waterfall steps reordered, a param's
    default, `>=` to `>`, rounding moved): each change listed once as written, money in 万
    and 元 as the policy and the case write it (not the decision JSON's 5010000.00), an
    `and` inside an `or` bracketed, whether a borrower is eligible in both versions when
    that is not what differs, each witness confirmed, and "no witness" explained."""
    amendment = AMENDMENTS[name]
    source = (Path(__file__).parent / "diff_pairs" / amendment["policy"]).read_text(
        encoding="utf-8")
    versions = []
    for edits in (amendment.get("old_edits", []), amendment["edits"]):
        for old, new in edits:
            assert source.count(old) == 1, old
            source = source.replace(old, new)
        versions.append(api.load_source(source, f"v{len(versions)}.pol"))
    result = diff(*versions, witnesses=amendment["witnesses"])
    text = render_text(result).splitlines()
    for line in amendment["lines"]:
        assert line in text, (line, text)
    listed = [line for line in text if line.startswith(("  ~ ", "  + ", "  - "))]
    assert len(listed) == len(result.changes) == len(set(listed))
    assert result.search.status == amendment["status"]
    assert (result.search.status == "found") == bool(result.witnesses)
    html = render_html(result)
    assert all(f'data-item="{c.item}"' in html for c in result.changes)
    _confirm(result)


def test_a_search_is_not_called_incomplete_for_a_part_no_change_reaches():
    """A member added to 成都's class enum: `reguarantee_fee` (amount times a let) is outside
    the linear fragment but unchanged and reads nothing changed, so it decides every case
    both versions take alike. The reason said "none found, but the search was not
    complete (outside the linear fragment: let reguarantee_fee)". Where a changed param's
    default reaches it, it still does."""
    source = (Path(__file__).parent / "diff_pairs" / "reguarantee_fee.pol").read_text(
        encoding="utf-8")
    old = api.load_source(source, "old.pol")
    added = diff(old, api.load_source(source.replace(
        '    none              "不属于以上8类"\n',
        '    green             "绿色企业"\n    none              "不属于以上8类"\n'), "new.pol"), 2)
    assert added.search.status == "none_differ" and "linear" not in added.search.reason
    assert not any("linear" in note for note in added.notes)
    # standard_rate 0.5% → 0.4%: due_rate reads it, and reguarantee_fee reads due_rate
    param = diff(old, api.load_source(source.replace("percent = 0.5%", "percent = 0.4%"),
                                      "new.pol"), 1)
    assert "let reguarantee_fee (new version) is outside the linear fragment (a product of " \
        "two variables): not searched for witnesses" in param.notes
