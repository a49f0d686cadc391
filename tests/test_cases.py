"""Case input: the plain-literal fast paths read exactly what the grammar reads.

`literals.plain_value` skips lark for the common literal forms; for every text it takes,
the node must equal the grammar's (spans aside), and every text it declines must still be
read (or refused) by the grammar. `literals.plain_number` skips the nodes as well for a
case's numbers; for every text it takes, its value (digits and exponent) must be the one
the full reading gives for that type. Random texts are built from the pieces of literals.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policylang import api, ir
from policylang import nodes as n
from policylang.cases import _NUMBER_UNITS, _literal, parse_case
from policylang.diagnostics import PolicyError
from policylang.literals import plain_number, plain_value
from policylang.parser import _lark, _ToAst, parse_value

PIECES = ["0", "5", "12", "007", "2021", "-", " ", "  ", ".", "5.25", "0.0000000001",
          "1.00000000001", "万", "万元", "亿", "亿元", "元", "%", "bp", "years", "year",
          "months", "day", "days", "年", "个月", "天", "日", "-02-24", "-02-30", "(", ")",
          "e5", "\t", "１", "true"]


def _without_spans(node: object) -> object:
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return tuple((f.name, _without_spans(getattr(node, f.name)))
                     for f in dataclasses.fields(node) if f.name != "span")
    return node


def _by_grammar(text: str) -> object:
    try:
        return _without_spans(_ToAst("<value>").transform(_lark().parse(text, start="value")))
    except Exception as error:  # noqa: BLE001 - any refusal counts as "not a value"
        return type(error).__name__


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=4).map("".join))
def test_fast_path_agrees_with_grammar(text: str) -> None:
    fast = plain_value(text)
    if fast is not None:
        assert _without_spans(fast) == _by_grammar(text), text


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=4).map("".join),
       st.sampled_from([ir.MONEY, ir.PERCENT, ir.NUMBER]))
def test_plain_number_agrees_with_the_full_reading(text: str, type_: ir.Type) -> None:
    fast = plain_number(text, _NUMBER_UNITS[type_.kind])
    if fast is None:
        return
    slow = _literal(parse_value(text.strip()), type_)
    assert slow is not None and fast.as_tuple() == slow.as_tuple(), (text, type_, fast, slow)


def test_plain_number_takes_the_common_forms_and_declines_the_rest() -> None:
    money, percent = _NUMBER_UNITS[ir.Kind.MONEY], _NUMBER_UNITS[ir.Kind.PERCENT]
    assert plain_number("-5万", money) == Decimal("-50000")
    assert plain_number("1234.56元", money) == Decimal("1234.56")
    assert plain_number("3.45%", percent) == Decimal("0.0345")
    assert plain_number("150bp", percent) == Decimal("0.015")
    for text, units in [("3.45%", money), ("5万", percent), ("5万", {}), (" 5", money),
                        ("- 5", money), ("1.00000000001", money), ("0.000000001%", percent)]:
        assert plain_number(text, units) is None, text


def test_fast_path_takes_the_common_forms() -> None:
    for text in ["500万", "-1234.56元", "3.45%", "150bp", "2 years", "18个月", "15天",
                 "2021-02-24", "1.5", "- 5万"]:
        node = plain_value(text)
        assert node is not None, text
        assert _without_spans(node) == _by_grammar(text), text
    assert isinstance(plain_value("-5万"), n.Neg)


def test_declined_forms_still_read_by_grammar() -> None:
    policy = api.load_source('policy p "p" { input { a: money  d: duration } }', "p.pol")
    decision_input = {"a": "5万 ", "d": "2  years"}
    assert plain_value("5万 ") is None
    assert api.decide(policy, decision_input)["eligible"] is True
    try:
        api.decide(policy, {"a": "1.00000000001万", "d": "1 year"})
    except PolicyError as error:
        assert error.code == "E603" and "decimal places" in error.diagnostics[0].message
    else:
        raise AssertionError("an 11-place mantissa must be refused")


HINTED = api.load_source('''policy hinted "hinted" {
  enum kind { enterprise "企业"  individual "个体工商户" }
  input { amount: money  rate: percent  term: duration  start: date  first: bool
          borrower: kind }
}''', "hinted.pol")


@pytest.mark.parametrize(("field", "text", "note"), [
    # Excel's and core-banking exports' forms of a number.
    ("amount", "(500.00)", "write `-500.00`: a spreadsheet's parentheses mark a negative"),
    ("amount", "1,000,000.00", "write `1000000.00`: without thousands separators"),
    ("amount", "1,200万", "write `1200万`: without thousands separators"),
    ("amount", "3.00E+06", "write `3000000`: written out, not in scientific notation"),
    ("amount", "３００万", "write `300万`: in ASCII characters, not full-width ones"),
    ("amount", "¥300000", "write `300000`: without the currency sign"),
    ("amount", "300 万元", "write `300万元`: with no space before the unit"),
    ("amount", "NULL", "`NULL` is text, not a missing value: leave the cell empty"),
    ("amount", "-", "`-` is text, not a missing value"),
    ("rate", "4.35 %", "write `4.35%`: with no space before the unit"),
    ("rate", "4.35％", "write `4.35%`: in ASCII characters"),
    # Dates as spreadsheets show them.
    ("start", "2024/6/1", "write `2024-06-01`: as YYYY-MM-DD"),
    ("start", "2024年6月1日", "write `2024-06-01`: as YYYY-MM-DD"),
    ("start", "20240601", "write `2024-06-01`: as YYYY-MM-DD"),
    ("start", "2024-06-01 00:00:00", "write `2024-06-01`: the date alone, without a time"),
    ("start", "2024/6/1 9:30", "write `2024-06-01`: the date alone, without a time of day, "
     "as YYYY-MM-DD"),
    ("start", "45444", "write `2024-06-01`: `45444` looks like an Excel date serial number"),
    # Durations without their unit, or in a unit no reader takes.
    ("term", "12", "a duration needs its unit: `12 months` (`12个月`)"),
    ("term", "12月", "write `12个月`: `月` alone is no unit"),
    ("term", "1年6个月", "write `18个月`: a duration has one unit"),
    ("term", "12 个月", "write `12个月`: with no space before the unit"),
    # Bools and enum members as exports write them.
    ("first", "TRUE", "write `true`: a bool is `true` or `false`, in lower case"),
    ("first", "否", "write `false`"),
    ("borrower", "企业", "`企业` is the label of member `enterprise`; write `enterprise`"),
    ("borrower", "Enterprise", "did you mean `enterprise`?"),
    ("borrower", "enterprize", "did you mean `enterprise`?"),
])
def test_a_refused_value_in_an_exports_form_says_how_to_write_it(field: str, text: str,
                                                                note: str) -> None:
    case = {"amount": "1万", "rate": "4%", "term": "1 year", "start": "2024-01-01",
            "first": "true", "borrower": "enterprise", field: text}
    with pytest.raises(PolicyError) as caught:
        api.decide(HINTED, case)
    assert caught.value.code in ("E603", "E604")
    notes = caught.value.diagnostics[0].notes
    assert any(note in said for said in notes), notes
    assert f"field `{field}`" in caught.value.diagnostics[0].message


@pytest.mark.parametrize(("field", "text"), [
    ("amount", "abc"), ("amount", "1e20"), ("start", "2024/2/30"), ("start", "99"),
    ("rate", "1,2%"), ("borrower", "bank"), ("first", "maybe")])
def test_no_note_suggests_a_value_that_would_not_be_read(field: str, text: str) -> None:
    case = {"amount": "1万", "rate": "4%", "term": "1 year", "start": "2024-01-01",
            "first": "true", "borrower": "enterprise", field: text}
    with pytest.raises(PolicyError) as caught:
        api.decide(HINTED, case)
    assert not [note for note in caught.value.diagnostics[0].notes
                if note.startswith(("write", "did you mean"))], caught.value.diagnostics


@pytest.mark.parametrize("text", ["(500.00)", "(5万)", "-(5万)", "--5", "- -5", "5万 # 待核实"])
def test_a_value_is_one_literal_not_an_expression(text: str) -> None:
    """The grammar reads `(500.00)` as 500.00 (a spreadsheet's -500.00), `--5` as 5 and
    `5万 # …` as 5万; the generated module and the book cells' patterns refuse them, and
    so does the case reader."""
    with pytest.raises(PolicyError) as caught:
        api.decide(HINTED, {"amount": text, "rate": "4%", "term": "1 year",
                            "start": "2024-01-01", "first": "true", "borrower": "enterprise"})
    assert caught.value.code == "E603", caught.value


@pytest.mark.parametrize(("raw", "percent", "fraction"), [
    ("4.35", "435", "0.0435"), ("1.5", "150", "0.015"), (" -2 ", "-200", "-0.02")])
def test_a_percent_as_text_without_its_sign_beyond_one_is_refused(raw: str, percent: str,
                                                                   fraction: str) -> None:
    """`4.35` in a percent field would be 435%: an export's or a `--param`'s rate nearly
    always means 4.35%, so text without `%` is taken as a fraction only within ±1."""
    policy = api.load_source('policy p "p" {\n  input { rate: percent }\n}\n', "p.pol")
    with pytest.raises(PolicyError) as refused:
        parse_case(policy, {"rate": raw})
    [diagnostic] = refused.value.diagnostics
    assert diagnostic.code == "E603"
    assert f"would be {percent}%; a percent above 100% is written with its `%`" in \
        diagnostic.message
    assert diagnostic.notes[0] == (f"for {raw.strip()}%, write `{raw.strip()}%` "
                                   f"(or the fraction `{fraction}`)")
    for taken, value in (("0.0435", "0.0435"), ("1", "1"), ("-1", "-1"), ("150%", "1.5"),
                         ("4.35%", "0.0435"), ("15000bp", "1.5")):
        assert parse_case(policy, {"rate": taken})["rate"] == Decimal(value)
    assert parse_case(policy, {"rate": Decimal("4.35")})["rate"] == Decimal("4.35")  # JSON


def test_a_misspelt_field_or_param_gets_a_did_you_mean() -> None:
    from policylang.cases import parse_params

    policy = api.load_source('policy p "p" {\n  input { loan_amount: money }\n'
                             '  param lpr: percent = 3.45%\n}\n', "p.pol")
    with pytest.raises(PolicyError) as refused:
        parse_case(policy, {"loan_amout": "1万"})
    assert list(refused.value.diagnostics[0].notes) == ["did you mean `loan_amount`?",
                                                  "input fields: loan_amount"]
    with pytest.raises(PolicyError) as refused:
        parse_params(policy, {"lp": "3%"})
    assert list(refused.value.diagnostics[0].notes) == ["did you mean `lpr`?", "params: lpr"]
    with pytest.raises(PolicyError) as refused:
        parse_params(policy, {"zzz": "3%"})
    assert list(refused.value.diagnostics[0].notes) == ["params: lpr"]
