"""The bad-program catalogue (`tests/bad/*.pol`) and direct tests of the checker.

Each file under `tests/bad/` is one small complete policy with its expected diagnostics
written inline, in the style of mypy's test-data:

    limit cap: term <= 500万   # error: E202 @14
    rule r: a + 1%             # error: E201 @11, E203 @11

expects a diagnostic with that code on THAT line at that (1-based) column. An item may
add a quoted fragment, `# error: E207 @20 "`4.95%`"`: that diagnostic's message or one of
its notes must then contain it (how the message words the mistake is pinned too). Where a
trailing comment is impossible or would change the error (end of file, unterminated text,
an error on a comment line), a line

    # error-at 12:5: E103 "a '}' is missing"

anywhere in the file expects the diagnostic at line 12, column 5. The test asserts that
the SET of (code, line, column) reported by parse + check equals the expected set
exactly: nothing missing, nothing extra. A file that checks clean has its test blocks run
on the interpreter, as `policylang test` does: a test that fails (E506) or cannot be run
(E507) is reported at its `test` keyword, so the codes found only by running the tests
have bad programs too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policylang import api
from policylang.checker import check
from policylang.diagnostics import PolicyError
from policylang.messages import CODES
from policylang.parser import parse

BAD = Path(__file__).resolve().parent / "bad"
BAD_FILES = sorted(BAD.glob("*.pol"))

_TRAILING = re.compile(r"#\s*error:\s*(?P<items>.*)$")
_ITEM = re.compile(r'(?P<code>E\d{3})\s*@(?P<col>\d+)(?:\s*"(?P<words>[^"]*)")?')
_CODE = re.compile(r'(?P<code>E\d{3})(?:\s*"(?P<words>[^"]*)")?')
_AT = re.compile(r"#\s*error-at\s+(?P<line>\d+):(?P<col>\d+):\s*(?P<codes>.*)$")

# Codes that a check of one file (parse + check) never reports but running its test
# blocks does; the catalogue runs the tests of a file that checks clean.
TEST_TIME: dict[str, str] = {
    "E506": "a test expectation failing is found by running the tests (`policylang test`)",
    "E507": "a test that cannot be evaluated (a param without a default and not given) is "
            "found by running the tests",
}
# Codes that neither a check of one file nor running its tests can report, and why.
NOT_CHECK_TIME: dict[str, str] = {
    "E601": "case input: an unknown field in a case JSON / book",
    "E602": "case input: a required field missing from a case JSON / book",
    "E603": "case input: a value of the wrong type in a case JSON / book",
    "E604": "case input: an unknown enum member in a case JSON / book",
    "E605": "case input: an unknown --param",
    "E606": "case input: a param with no default not given at evaluation",
    "E607": "an unreadable file, case or book (I/O, not the policy's text)",
    "E608": "a book column that cannot be used (book evaluation)",
    "E609": "a book out of date order (portfolio evaluation)",
    "E612": "a construct a SQL dialect cannot translate (`compile --target sql --dialect`)",
    "E613": "an output path that cannot be written (`-o`, `--out`, `--report`, `--charts`)",
}
# E610 (division by zero) and E611 (evaluation error) are evaluation errors, but the
# checker folds constants (defaults, shares, test values), so they do occur at check
# time and are in the catalogue.


def expected_diagnostics(path: Path) -> set[tuple[str, int, int]]:
    return set(expected_words(path))


def _items(text: str) -> list[re.Match[str]] | None:
    """The `CODE @COL ["words"]` items of a trailing expectation, or None if anything else
    stands between them (a malformed expectation)."""
    items = list(_ITEM.finditer(text))
    rest = _ITEM.sub("", text)
    return items if items and not rest.replace(",", "").strip() else None


def _codes(text: str) -> list[re.Match[str]] | None:
    """The `CODE ["words"]` items of an `error-at` expectation, or None if malformed."""
    items = list(_CODE.finditer(text))
    rest = _CODE.sub("", text)
    return items if items and not rest.replace(",", "").strip() else None


def expected_words(path: Path) -> dict[tuple[str, int, int], list[str]]:
    """Each expected (code, line, column), with the fragments its message must contain."""
    expected: dict[tuple[str, int, int], list[str]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        at = _AT.search(line)
        if at:
            codes = _codes(at["codes"])
            assert codes, f"{path.name}:{number}: bad expectation {at['codes']!r}"
            for match in codes:
                words = expected.setdefault((match["code"], int(at["line"]), int(at["col"])), [])
                if match["words"] is not None:
                    words.append(match["words"])
            continue
        trailing = _TRAILING.search(line)
        if trailing:
            items = _items(trailing["items"])
            assert items, f"{path.name}:{number}: bad expectation {trailing['items']!r}"
            for match in items:
                words = expected.setdefault((match["code"], number, int(match["col"])), [])
                if match["words"] is not None:
                    words.append(match["words"])
    return expected


def reported_diagnostics(source: str, file: str) -> set[tuple[str, int, int]] | None:
    """(code, line, column) of every diagnostic of parse + check; for a file that checks,
    of running its tests (TEST_TIME); None if it checks and its tests pass."""
    words = reported_words(source, file)
    return None if words is None else set(words)


def reported_words(source: str, file: str) -> dict[tuple[str, int, int], str] | None:
    """reported_diagnostics, each with its message and notes as one text."""
    try:
        policy = api.load_source(source, file)
    except PolicyError as error:
        found: dict[tuple[str, int, int], str] = {}
        for d in error.diagnostics:
            at = (d.code, d.span.line, d.span.column) if d.span else (d.code, 0, 0)
            found[at] = found.get(at, "") + "\n".join((d.message, *d.notes)) + "\n"
        return found
    found = {}
    for result in api.run_tests(policy):
        at = (result.test.span.line, result.test.span.column)
        if result.error is not None:
            for d in result.error.diagnostics:
                key = (d.code, *((d.span.line, d.span.column) if d.span else at))
                found[key] = found.get(key, "") + "\n".join((d.message, *d.notes)) + "\n"
        elif result.failures:
            found[("E506", *at)] = "a test expectation failed\n"
    return found or None


def _format(diagnostics: set[tuple[str, int, int]]) -> str:
    return "\n".join(f"  {line}:{col} {code}" for code, line, col in
                     sorted(diagnostics, key=lambda d: (d[1], d[2], d[0]))) or "  (none)"


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=p.name) for p in BAD_FILES],
)
def test_bad_program(path: Path) -> None:
    expected_texts = expected_words(path)
    expected = set(expected_texts)
    assert expected, f"{path.name} states no expected diagnostic"
    texts = reported_words(path.read_text(encoding="utf-8"), path.name)
    assert texts is not None, f"{path.name} checks without any diagnostic"
    reported = set(texts)
    assert reported == expected, (
        f"{path.name}\nmissing:\n{_format(expected - reported)}\n"
        f"unexpected:\n{_format(reported - expected)}")
    for at, fragments in expected_texts.items():
        for fragment in fragments:
            assert fragment in texts[at], (
                f"{path.name}:{at[1]}:{at[2]} {at[0]} does not say {fragment!r}:\n{texts[at]}")


def test_catalogue_is_large_enough() -> None:
    assert len(BAD_FILES) >= 55


def test_every_check_time_and_test_time_code_is_in_the_catalogue() -> None:
    covered = set()
    for path in BAD_FILES:
        covered |= {code for code, _, _ in expected_diagnostics(path)}
    assert set(NOT_CHECK_TIME) | set(TEST_TIME) <= set(CODES), "a listed code is not registered"
    assert not set(NOT_CHECK_TIME) & set(TEST_TIME)
    assert not covered & set(NOT_CHECK_TIME), "a code said not to occur at check time does"
    missing = set(CODES) - set(NOT_CHECK_TIME) - covered
    assert not missing, f"codes without a bad program: {sorted(missing)}"


def test_expectations_name_registered_codes() -> None:
    for path in BAD_FILES:
        for code, _, _ in expected_diagnostics(path):
            assert code in CODES, f"{path.name}: {code} is not a registered code"


# ── direct tests of checker behaviour ──────────────────────────────────────

HEAD = '''policy p "t" {
  input {
    loan_amount: money
    rate: percent
  }
'''


def _errors(body: str) -> list:
    with pytest.raises(PolicyError) as info:
        api.load_source(HEAD + body + "}\n", "p.pol")
    return info.value.diagnostics


def test_cycle_is_named_in_order() -> None:
    [diag] = _errors("  let a = b + 1元\n  let b = c + 1元\n  let c = a + 1元\n")
    assert diag.code == "E401"
    # the whole cycle, in dependency order, closed on the name it starts with
    names = diag.message.removeprefix("cycle: ").split(" → ")
    assert names[0] == names[-1]
    assert " ".join(names[:-1]) in ("a b c", "b c a", "c a b")
    # reported on the name of the let the cycle starts with
    line = {"a": 6, "b": 7, "c": 8}[names[0]]
    assert (diag.span.line, diag.span.column) == (line, 7)


def test_self_cycle() -> None:
    [diag] = _errors("  let a = a + 1元\n")
    assert diag.code == "E401"
    assert "a → a" in diag.message


def test_cycle_through_an_allocation() -> None:
    [diag] = _errors("  let amount = s.bank\n  shares s of amount { bank: 40%  fund: 60% }\n")
    assert diag.code == "E401"
    assert "amount" in diag.message and "s" in diag.message


def test_shares_sum_gives_the_actual_sum() -> None:
    [diag] = _errors("  shares s { bank: 20%  fund: 70.5% }\n")
    assert diag.code == "E301"
    assert "90.5%" in diag.message and "100%" in diag.message


def test_split_sum_gives_the_actual_sum() -> None:
    [diag] = _errors("  waterfall w(loan_amount) {\n    split { a: 60%  b: 60% }\n  }\n")
    assert diag.code == "E302"
    assert "120%" in diag.message


def test_unknown_name_suggests_a_close_one() -> None:
    [diag] = _errors("  rule r: loan_amont > 0元\n")
    assert diag.code == "E402"
    assert any("loan_amount" in note for note in diag.notes)


def test_unit_error_says_which_units() -> None:
    [diag] = _errors("  let x = loan_amount + rate\n")
    assert diag.code == "E201"
    assert "money + percent" in diag.message
    assert any("amount * rate" in note for note in diag.notes)


def test_a_limit_comparing_two_types_underlines_the_whole_comparison() -> None:
    """Which side is wrong is the drafter's call: the carets run from subject to bound, as
    under a rule's comparison, not under the subject alone."""
    [diag] = _errors("  limit cap: loan_amount <= 10% cite \"一\"\n")
    assert diag.code == "E202"
    span = diag.span
    assert (span.line, span.column, span.end_line, span.end_column) == (6, 14, 6, 32)


def test_duplicate_names_the_first_declaration() -> None:
    [diag] = _errors("  let x = 1元\n  let x = 2元\n")
    assert diag.code == "E403"
    assert "line 6" in diag.message
    assert (diag.span.line, diag.span.column) == (7, 7)


def test_all_diagnostics_are_collected_and_sorted() -> None:
    diags = _errors("  rule b: rate + 1元 > 0元\n  rule a: nope\n  let c: bool = 1元\n")
    assert [d.code for d in diags] == ["E201", "E402", "E207"]
    positions = [(d.span.line, d.span.column) for d in diags]
    assert positions == sorted(positions)


def test_one_mistake_gives_one_diagnostic() -> None:
    # an unknown name deep in an expression does not also give unit or bool errors
    [diag] = _errors("  rule r: (nope + 1元) * 2 > loan_amount and rate < 5%\n")
    assert diag.code == "E402"


def test_checks_without_source_text() -> None:
    tree = parse(HEAD + "  rule r: rate > 1元\n}\n", "p.pol")
    with pytest.raises(PolicyError) as info:
        check(tree)
    assert info.value.code == "E202"


def test_a_test_that_cannot_be_run_names_the_param_it_lacks() -> None:
    """E507 (test-time): its message and place, on the interpreter and from the command
    line; the catalogue file pins the code and position of both tests it hits."""
    from typer.testing import CliRunner

    from policylang.cli import app

    path = BAD / "tests_param_without_default.pol"
    policy = api.load(path)
    results = {r.test.name: r for r in api.run_tests(policy)}
    assert results["给出上限"].passed
    message = "param `cap` has no default; give it in the test's `params { … }`"
    for name in ("没有上限", "一本账没有上限"):
        [diag] = results[name].error.diagnostics
        assert (diag.code, diag.message) == ("E507", message)
        assert diag.span == results[name].test.span
    [(_, line, column), _] = sorted(expected_diagnostics(path), key=lambda d: d[1])
    [first] = results["没有上限"].error.diagnostics
    assert (first.span.line, first.span.column) == (line, column) == (14, 3)
    output = CliRunner().invoke(app, ["test", str(path)])
    assert output.exit_code == 1
    assert f"{path}:14: test '没有上限'" in output.output
    assert f"error[E507]: {message}" in output.output
    assert "1 passed, 2 failed" in output.output
