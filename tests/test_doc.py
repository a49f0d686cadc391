"""`policylang doc`: the HTML page of a policy, its seed-text lookup and the command."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

from policylang import api
from policylang.doc import SeedArticles, chinese_numeral, in_words, render_doc
from policylang.parser import parse

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"
ZHUBAODAI = ROOT / "policies" / "chongqing" / "zhubaodai.pol"

DEMO = """\
policy doc_demo "演示<政策> & 说明" {
  issuer   "某市财政局"
  version  "2022"
  effective 2022-01-01
  enum borrower_kind { enterprise "企业"  individual_business "个体工商户" }
  input {
    borrower:    borrower_kind
    loan_amount: money "贷款本金<script>alert(1)</script>"
    term:        duration = 1 year
  }
  param lpr: percent = 3.45% "同期LPR"
  let premium = loan_amount * 1% cite "第五条"
  rule kind_rule: borrower in {enterprise, individual_business} and not (term > 3 years)
      cite "第三条" says "须为企业或个体工商户"
  limit enterprise_cap: loan_amount <= 1000万 when borrower == enterprise cite "第八条（二）"
  shares loss of loan_amount cite "三(六)" { bank: 10%  insurer: 90% }
  waterfall claim(premium) { take bank up to 1万  split { a: 50%  b: 50% up to 1元 } rest c }
  test "企业 1000万" {
    given { borrower: enterprise  loan_amount: 1000万 }
    expect eligible
    expect premium == 10万
  }
  test "错误的期望" {
    given { borrower: enterprise  loan_amount: 1200万 }
    expect eligible
  }
}
"""

SEED = """\
第一章  总则

第三条  本办法所称企业，是指

在本市登记的企业和个体工商户。

第五条  保费按贷款本金的 1%

收取。
第八条  贷款额度：
（一）个人不超过300万元；
（二）企业不超过1000万

元。
第九条  其他。
三、主要修订内容
（五）保费补贴。
（六）风险分担：银行10%，保险公司90%。
四、依据
（六）不相关的第六项。
"""


@pytest.fixture(scope="module")
def page() -> str:
    return render_doc(api.load_source(DEMO, "demo.pol"), DEMO, SEED)


def _text(markup: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup)))


def _section(markup: str, anchor: str) -> str:
    start = markup.index(f'id="{anchor}"')
    return markup[start:markup.index("</section>", start)]


def test_the_page_is_utf8_with_a_cjk_font_stack(page):
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page
    assert '"Noto Sans CJK SC"' in page and "Microsoft YaHei" in page
    assert "<title>演示&lt;政策&gt; &amp; 说明 — doc_demo</title>" in page


def test_everything_from_the_policy_is_escaped(page):
    assert "<script>" not in page
    assert "贷款本金&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_metadata_header(page):
    header = _text(page[page.index("<header>"):page.index("</header>")])
    for fragment in ("演示<政策> & 说明", "policy doc_demo", "issuer 某市财政局", "version 2022",
                     "effective 2022-01-01"):
        assert fragment in header


@pytest.mark.parametrize(("anchor", "fragments"), [
    ("rule-premium", ["let premium", "premium is loan_amount * 1%.",
                      "premium = loan_amount * 1%", "第五条", "保费按贷款本金的 1%收取。"]),
    ("rule-kind_rule", ["须为企业或个体工商户",
                        "Eligible only if borrower is one of enterprise, individual_business "
                        "and not term is more than 3 years.", "第三条",
                        "本办法所称企业，是指在本市登记的企业和个体工商户。"]),
    ("rule-enterprise_cap", ["loan_amount 贷款本金<script>alert(1)</script>",
                             "limit enterprise_cap", "loan_amount must be at most 1000万.",
                             "loan_amount <= 1000万", "Applies only when borrower is enterprise.",
                             "第八条（二） 企业不超过1000万元。"]),
    ("rule-loss", ["shares loss", "The risk of loan_amount is split as bank 10%, insurer 90%.",
                   "三(六)", "三（六） 风险分担：银行10%，保险公司90%。"]),
    ("rule-claim", ["premium is allocated in order:", "bank takes up to 1万",
                    "what remains is split: a 50%, b 50% (up to 1元)", "c takes whatever remains"]),
])
def test_each_declaration_in_words_and_formula_beside_its_citation(page, anchor, fragments):
    section = _text(_section(page, anchor))
    for fragment in fragments:
        assert fragment in section


def test_a_section_citation_does_not_take_the_same_item_of_another_section(page):
    assert "不相关的第六项" not in _section(page, "rule-loss")


def test_inputs_and_params_tables(page):
    inputs = _text(page[page.index('id="inputs"'):page.index('id="params"')])
    assert "loan_amount money 元 required 贷款本金<script>" in inputs
    assert "term duration months / days 1 year" in inputs
    assert "borrower borrower_kind enum required" in inputs
    params = _text(page[page.index('id="params"'):page.index('id="enums"')])
    assert "lpr percent % 3.45% 同期LPR" in params


def test_tests_are_worked_examples_with_their_results(page):
    passing = _text(_section(page, "test-1"))
    assert "企业 1000万 passes — eligible" in passing
    assert "loan_amount 1000万" in passing
    assert "premium == 10万" in passing
    assert "premium 100000.00" in passing and "loss.insurer 9000000.00" in passing
    failing = _text(_section(page, "test-2"))
    assert "错误的期望 fails — not eligible" in failing
    assert "expected eligible, but it is not eligible: enterprise_cap" in failing


def test_the_source_is_highlighted(page):
    assert '<div class="highlight">' in page
    assert '<span class="kd">limit</span>' in page


def test_without_a_seed_text_only_the_citation_is_shown():
    policy = api.load_source(DEMO, "demo.pol")
    section = _text(_section(render_doc(policy, DEMO), "rule-enterprise_cap"))
    assert "第八条（二）" in section and "企业不超过" not in section
    assert "not found" not in section


@pytest.mark.parametrize(("cite", "expected"), [
    ("第三条", [("第三条", "第三条  本办法所称企业，是指在本市登记的企业和个体工商户。")]),
    ("第8条（二）", [("第八条（二）", "企业不超过1000万元。")]),
    ("第八条(一)", [("第八条（一）", "个人不超过300万元；")]),
    ("第三条、第五条", [("第三条", "第三条  本办法所称企业，是指在本市登记的企业和个体工商户。"),
                     ("第五条", "第五条  保费按贷款本金的 1%收取。")]),
    ("三(五)", [("三（五）", "保费补贴。")]),
    ("第四十条", []),
    ("“代偿补偿机制”段", []),
])
def test_seed_lookup(cite, expected):
    assert SeedArticles(SEED).lookup(cite) == expected


@pytest.mark.parametrize(("number", "numeral"), [
    (1, "一"), (10, "十"), (11, "十一"), (17, "十七"), (20, "二十"), (25, "二十五")])
def test_chinese_numerals(number, numeral):
    assert chinese_numeral(number) == numeral


@pytest.mark.parametrize(("expr", "words"), [
    ("a and (b or c)", "a and (b or c)"),
    ("not (a and b)", "not (a and b)"),
    ("if a then x else y", "x if a, otherwise y"),
    ("x not in {p, q}", "x is not one of p, q"),
    ("x * 2 >= 5万", "x * 2 is at least 5万"),
])
def test_in_words(expr, words):
    (rule,) = parse(f'policy p "t" {{ rule r: {expr} }}').items
    assert in_words(rule.cond) == words


def test_the_seed_policy_page_quotes_its_articles():
    seed = SEEDS / "002_bf8c83dbe5a34d1a.txt"
    if not seed.exists():
        pytest.skip("the seed texts are not next to this checkout")
    page = render_doc(api.load(ZHUBAODAI), api.read_source(ZHUBAODAI),
                      seed.read_text(encoding="utf-8"))
    assert "最高不超过 1000万元" in _text(_section(page, "rule-maximum_cap"))
    assert "工商注册、税务登记和统计关系均在重庆高新区直管园范围内" in _text(
        _section(page, "rule-in_zone_rule"))


def test_the_command_writes_the_page(tmp_path):
    policy = tmp_path / "demo.pol"
    policy.write_text(DEMO, encoding="utf-8")
    seed = tmp_path / "seed.txt"
    seed.write_text(SEED, encoding="utf-8")
    out = tmp_path / "out" / "demo.html"
    done = subprocess.run([sys.executable, "-m", "policylang", "doc", str(policy), "-o", str(out),
                           "--source", str(seed)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "企业不超过1000万元。" in out.read_text(encoding="utf-8")
    to_stdout = subprocess.run([sys.executable, "-m", "policylang", "doc", str(policy)],
                               capture_output=True, check=False)
    assert to_stdout.returncode == 0
    assert to_stdout.stdout.decode("utf-8").startswith("<!DOCTYPE html>")
    assert "演示&lt;政策&gt;" in to_stdout.stdout.decode("utf-8")


def test_the_command_reports_a_bad_policy(tmp_path):
    policy = tmp_path / "bad.pol"
    policy.write_text(DEMO.replace("loan_amount * 1%", "loan_amount + 1%"), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "policylang", "doc", str(policy)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "error[E2" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("path", sorted((ROOT / "policies").rglob("*.pol")), ids=lambda p: p.name)
def test_every_seed_policy_has_a_page(path):
    policy = api.load(path)
    page = render_doc(policy, api.read_source(path))
    for check in policy.checks:
        assert f'id="rule-{check.name}"' in page
    for rule in policy.portfolio.rules if policy.portfolio else ():  # 佛山's 6000万 cap, …
        assert f'id="book-{rule.name}"' in page
    assert page.count('class="example"') == len(policy.tests)
    assert 'class="badge fail"' not in page  # the seed policies' tests all pass


def test_the_command_writes_html_only_to_an_html_path(tmp_path):
    policy = tmp_path / "demo.pol"
    policy.write_text(DEMO, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "policylang", "doc", str(policy), "-o",
                           str(tmp_path / "demo.pdf")], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 2 and "doc writes an HTML page" in done.stderr
    assert not (tmp_path / "demo.pdf").exists()


BOOK_DEMO = """\
policy book_demo "赔付台账" {
  enum insurer_kind { a "甲保险"  b "乙保险" }
  input {
    insurer:     insurer_kind
    claim_date:  date
    principal:   money "在保本金"
    compensated: money = 0元
  }
  limit cap: principal <= 1000万 cite "第五条"
  portfolio order by claim_date {
    monitor rate per insurer, year(claim_date) = sum(compensated) / sum(principal)
        stop when > 5% cite "第八条（二）" says "暂停与该合作保险公司合作"
    budget annual per year(claim_date) = sum(compensated) <= 6000万 cite "第十条"
    limit cap = sum(principal where compensated > 0元) / sum(principal) <= 10%
  }
  test "第二笔赔付后暂停" {
    book {
      given { insurer: a  claim_date: 2022-01-05  principal: 100万  compensated: 2万 }
      given { insurer: a  claim_date: 2022-02-05  principal: 100万  compensated: 9万 }
      given { insurer: a  claim_date: 2022-03-05  principal: 100万 }
    }
    expect case 2 trips rate
    expect fails cap
  }
}
"""


def test_portfolio_rules_are_on_the_page_beside_their_citations():
    """A regulator reads the stop-loss monitor and the annual cap as well as the per-case
    rules: each book rule in words, as a formula, with its citation and the cited item."""
    page = render_doc(api.load_source(BOOK_DEMO, "book.pol"), BOOK_DEMO, SEED)
    assert "taken in order of claim_date" in _text(page)
    monitor = _text(_section(page, "book-rate"))
    for fragment in ("monitor rate", "暂停与该合作保险公司合作",
                     "Per insurer, year(claim_date), sum(compensated) / sum(principal) is "
                     "recomputed after each case; the first case at which it is more than 5% "
                     "trips the monitor", "stop when > 5%", "第八条（二） 企业不超过1000万元。",
                     "principal 在保本金"):
        assert fragment in monitor
    budget = _text(_section(page, "book-annual"))
    assert "Per year(claim_date), sum(compensated) is paid out up to 6000万" in budget
    assert "sum ( compensated ) <= 6000万" in budget and "(this citation is not found" in budget
    limit = _text(_section(page, "book-cap"))  # beside the per-case limit of the same name
    assert "book limit cap" in limit and "no citation" in limit
    assert "sum(principal where compensated > 0元) / sum(principal) over the whole book must " \
        "be at most 10%." in limit
    assert "limit cap" in _text(_section(page, "rule-cap"))


def test_a_book_test_shows_its_cases_and_what_the_portfolio_rules_made_of_them():
    page = render_doc(api.load_source(BOOK_DEMO, "book.pol"), BOOK_DEMO)
    example = _text(_section(page, "test-1"))
    for fragment in ("a book of 3 cases", "case 1 insurer a claim_date 2022-01-05 principal "
                     "100万 compensated 2万", "case 3 insurer a claim_date 2022-03-05",
                     "case 2: monitor.rate 0.055 (trips)", "case 3: monitor.rate "
                     "0.0366666667 (suspended)", "case 2: budget.annual 90000.00",
                     "book limit cap 0.6666666667 against 0.1: fails"):
        assert fragment in example
