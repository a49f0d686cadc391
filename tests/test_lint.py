"""`policylang lint`: the planted-problem catalogue (`tests/lint/*.pol`), allow comments,
the command line, the README's warning table, and the seed policies being lint-clean.

Each file under `tests/lint/` is one small policy with its expected warnings written
inline, like the bad-program catalogue (tests/bad/, see test_checker.py):

    limit old_cap: loan_amount <= 1000万   # warning: W106 @3

expects a warning with that code on THAT line at that (1-based) column; a line

    # warning-at 5:32: W109

expects one at line 5, column 32 (for places where a trailing comment would change what
is linted, e.g. an allow comment). The SET of (code, line, column) lint reports must equal
the expected set exactly. Files whose comment says "Control" expect no warning at all:
they pin down where lint must stay silent (non-linear parts, a gap a rule closes).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policylang import api
from policylang.cases import parse_case
from policylang.cli import app
from policylang.diagnostics import render
from policylang.formatter import format_source
from policylang.lint import lint, lint_files
from policylang.messages import WARNINGS, warnings_table

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = sorted((ROOT / "tests" / "lint").glob("*.pol"))

_TRAILING = re.compile(r"#\s*warning:\s*(?P<items>.*)$")
_ITEM = re.compile(r"^(?P<code>W\d{3})\s*@(?P<col>\d+)$")
_AT = re.compile(r"#\s*warning-at\s+(?P<line>\d+):(?P<col>\d+):\s*(?P<codes>.*)$")


def expected_warnings(path: Path) -> set[tuple[str, int, int]]:
    expected: set[tuple[str, int, int]] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        at = _AT.search(line)
        if at:
            codes = [c.strip() for c in at["codes"].split(",")]
            assert all(re.fullmatch(r"W\d{3}", c) for c in codes), f"{path.name}:{number}"
            expected |= {(c, int(at["line"]), int(at["col"])) for c in codes}
            continue
        trailing = _TRAILING.search(line)
        if trailing:
            for item in trailing["items"].split(","):
                match = _ITEM.match(item.strip())
                assert match, f"{path.name}:{number}: bad expectation {item.strip()!r}"
                expected.add((match["code"], number, int(match["col"])))
    return expected


def reported_warnings(path: Path) -> set[tuple[str, int, int]]:
    source = path.read_text(encoding="utf-8")
    result = lint(api.load_source(source, str(path)), source)
    assert result.solver, "z3 is not installed"
    return {(w.code, w.span.line, w.span.column) for w in result.warnings}


@pytest.mark.parametrize("path", CATALOGUE, ids=[p.stem for p in CATALOGUE])
def test_catalogue(path: Path) -> None:
    expected, reported = expected_warnings(path), reported_warnings(path)
    missing = "\n".join(f"  {line}:{c} {code}" for code, line, c in sorted(expected - reported))
    extra = "\n".join(f"  {line}:{c} {code}" for code, line, c in sorted(reported - expected))
    assert expected == reported, f"{path.name}\nmissing:\n{missing}\nunexpected:\n{extra}"


def test_catalogue_is_large_and_covers_every_code() -> None:
    planted = [p for p in CATALOGUE if expected_warnings(p)]
    assert len(planted) >= 25
    covered = {code for p in CATALOGUE for code, _, _ in expected_warnings(p)}
    assert covered == set(WARNINGS)
    controls = [p for p in CATALOGUE if not expected_warnings(p)]
    # A file without expectations either pins down a silence or shows an allow at work.
    assert all(re.search(r"Control|lint: allow", p.read_text(encoding="utf-8"))
               for p in controls)


def test_warnings_name_declarations_and_give_an_example_for_a_gap() -> None:
    path = ROOT / "tests" / "lint" / "redundant_guarded_subset.pol"
    source = path.read_text("utf-8")
    [warning] = lint(api.load_source(source, "p.pol"), source).warnings
    assert "`enterprise_cap`" in warning.message and "`wide_cap`" in warning.message
    [(_, line, column)] = expected_warnings(path)  # where the file's annotation puts it
    assert warning.headline().startswith(f"p.pol:{line}:{column}: warning[W106]: ")
    source = (ROOT / "tests" / "lint" / "enum_gap.pol").read_text("utf-8")
    policy = api.load_source(source, "p.pol")
    [gap] = lint(policy, source).warnings
    assert gap.example is not None and dict(gap.example)["borrower"] == "micro_owner"
    # The example is a real case that every cap would reject, yet it is eligible.
    decision = api.decide(policy, dict(gap.example))
    assert decision["eligible"] is True
    assert parse_case(policy, dict(gap.example))["loan_amount"] > Decimal(10_000_000)
    # A band edge: the example sits exactly on it, where neither rate cap applies.
    source = (ROOT / "tests" / "lint" / "range_gap.pol").read_text("utf-8")
    policy = api.load_source(source, "p.pol")
    [gap] = lint(policy, source).warnings
    assert "gap in `loan_amount`" in gap.message
    example = dict(gap.example)
    assert parse_case(policy, example)["loan_amount"] == Decimal(1_000_000)
    assert api.decide(policy, {**example, "rate": "50%"})["eligible"] is True


def test_the_silent_control_really_has_failing_cases() -> None:
    """Why lint's encoding has no value grid and allows for rounding (unlike the diff's,
    which looks for witnesses and re-runs them): these cases fail in the interpreter."""
    policy = api.load(ROOT / "tests" / "lint" / "sub_fen_and_rounding.pol")
    assert [f["rule"] for f in api.decide(policy, {"x": "1.005元"})["failures"]] == ["r"]
    assert [f["rule"] for f in api.decide(policy, {"x": "0.0000000001元"})["failures"]] \
        == ["l"]


def test_the_allowed_warning_is_kept_aside() -> None:
    source = (ROOT / "tests" / "lint" / "allow_suppresses.pol").read_text("utf-8")
    result = lint(api.load_source(source, "p.pol"), source)
    assert result.warnings == ()
    assert [w.code for w in result.allowed] == ["W101"]


def test_without_z3_the_other_checks_run_and_allows_are_not_judged_unused() -> None:
    source = (ROOT / "tests" / "lint" / "allow_above.pol").read_text("utf-8")
    result = lint(api.load_source(source, "p.pol"), source, use_solver=False)
    assert (result.solver, result.warnings, result.allowed) == (False, (), ())
    source = (ROOT / "tests" / "lint" / "several_warnings.pol").read_text("utf-8")
    result = lint(api.load_source(source, "p.pol"), source, use_solver=False)
    assert [w.code for w in result.warnings] == ["W101", "W102", "W107", "W106"]


def test_an_allow_inside_a_text_is_no_comment() -> None:
    source = ('policy p "t" {\n  input { a: money  b: money "# lint: allow W101 no" }\n'
              '  rule r: a > 0元\n}\n')
    result = lint(api.load_source(source, "p.pol"), source)
    assert [(w.code, w.span.line) for w in result.warnings] == [("W101", 2)]
    # Only a comment that starts with `lint: allow` is an allow.
    source = source.replace('"# lint: allow W101 no" }', '"#" }  # see lint: allow W101 x')
    result = lint(api.load_source(source, "p.pol"), source)
    assert [(w.code, w.span.line) for w in result.warnings] == [("W101", 2)]
    source = source.replace("# see lint", "# lint")
    result = lint(api.load_source(source, "p.pol"), source)
    assert (result.warnings, [w.code for w in result.allowed]) == ((), ["W101"])


def test_an_allow_after_a_text_with_an_escaped_quote_is_read() -> None:
    """`\\"` inside a text is a quote, not its end: it used to hide the allow after the
    text (the warning was shown), and to expose a `# lint: allow` inside a text."""
    source = ('policy p "t" {\n  input {\n    a: money\n'
              '    b: money "5\\" screen"  # lint: allow W101 kept for the diff\n'
              '    c: money "one \\" # lint: allow W101 not a comment"\n  }\n'
              '  rule r: a > 0元\n}\n')
    result = lint(api.load_source(source, "p.pol"), source)
    assert [(w.code, w.span.line) for w in result.warnings] == [("W101", 5)]
    assert [(w.code, w.span.line) for w in result.allowed] == [("W101", 4)]


def test_an_allow_naming_an_unknown_code_says_so() -> None:
    """`W910` for `W101`: "matches no warning here; remove it" sent the reader the wrong way."""
    source = ('policy p "t" {\n  input {\n    a: money\n'
              '    b: money  # lint: allow W910 kept for the diff\n  }\n  rule r: a > 0元\n}\n')
    result = lint(api.load_source(source, "p.pol"), source)
    assert [(w.code, w.message) for w in result.warnings if w.code == "W109"] == [
        ("W109", "`lint: allow W910`: W910 is no warning code (they are W101–W109)")]


def test_an_allow_in_any_case_allows() -> None:
    """`# lint: allow w101 …` was W109 "names no warning code" and left the warning shown;
    `# LINT: Allow W102 …` was no allow at all. A code is a code in any case."""
    source = (ROOT / "tests" / "lint" / "allow_any_case.pol").read_text("utf-8")
    result = lint(api.load_source(source, "p.pol"), source)
    assert result.warnings == ()
    assert [w.code for w in result.allowed] == ["W101", "W102"]
    unknown = source.replace("allow w101", "allow w910")
    assert [w.message for w in lint(api.load_source(unknown, "p.pol"), unknown).warnings
            if w.code == "W109"] == [
        "`lint: allow W910`: W910 is no warning code (they are W101–W109)"]


def _hints(item) -> list[str]:
    return [note for note in item.notes if not note.startswith("example case: ")]


@pytest.mark.parametrize("path", CATALOGUE, ids=[p.stem for p in CATALOGUE])
def test_every_warning_says_how_to_fix_it(path: Path) -> None:
    """A note with the fix, in one line, as W107's (W109 says it in its message: `remove
    it`, `say why…`); the other warnings said what was wrong and left the reader there."""
    source = path.read_text(encoding="utf-8")
    result = lint(api.load_source(source, str(path)), source)
    for item in (*result.warnings, *result.allowed):
        if item.code == "W109":
            assert re.search(r"remove it|say why|write `|they are W", item.message), item
            continue
        [hint] = _hints(item)
        assert "\n" not in hint and len(hint) < 200, hint
        # Specific: it names what to change (W107's names the member or the gap).
        assert item.code == "W107" or any(re.search(rf"\b{name}\b", hint) for name in item.names), \
            (item.headline(), hint)


@pytest.mark.parametrize(("file", "hint"), [
    ("unused_input_only_in_tests.pol", "use `first_loan` in the rule, limit or let it was "
     "meant for, or delete it from `input { … }` and from the tests' `given` that set it"),
    ("unused_param.pol", "write `lpr` where the policy means it (in place of the constant it "
     "stands for?), or delete `param lpr`"),
    ("redundant_constant.pol", "delete `limit old_cap` (`cap` already enforces it); if its "
     "bound is the one meant, correct `cap` instead"),
    ("rule_never_passes.pol", "correct `band`'s condition so that some case passes (a wrong "
     "figure, or a comparison the wrong way round?)"),
    ("zero_take_cap.pol", "give `pool` a cap above 0元, or delete its step"),
])
def test_a_hint_names_what_to_change(file: str, hint: str) -> None:
    source = (ROOT / "tests" / "lint" / file).read_text(encoding="utf-8")
    [item] = lint(api.load_source(source, file), source).warnings
    assert _hints(item) == [hint]
    rendered = render(item, source)
    assert rendered.splitlines()[-1] == f"     = note: {hint}"
    [shown] = json.loads(CliRunner().invoke(app, ["lint", "--format", "json", str(
        ROOT / "tests" / "lint" / file)]).output)["files"][0]["warnings"]
    assert shown["notes"] == [hint]


def test_cli_lint_exit_codes_and_formats(tmp_path: Path) -> None:
    runner = CliRunner()
    planted = ROOT / "tests" / "lint" / "redundant_constant.pol"
    result = runner.invoke(app, ["lint", str(planted)])
    assert result.exit_code == 0, result.output
    [(_, line, column)] = expected_warnings(planted)
    assert f"{planted}:{line}:{column}: warning[W106]: limit `old_cap` is redundant" \
        in result.output
    assert "1 warning in 1 file" in result.output
    assert "`# lint: allow CODE reason`" in result.output  # how to keep one on purpose
    assert runner.invoke(app, ["lint", "--strict", str(planted)]).exit_code == 1
    clean = ROOT / "tests" / "lint" / "enum_gap_excluded_by_rule.pol"
    assert runner.invoke(app, ["lint", "--strict", str(clean)]).exit_code == 0
    data = json.loads(runner.invoke(app, ["lint", "--format", "json", str(planted)]).output)
    assert data["warnings"] == 1
    assert data["files"][0]["warnings"][0]["code"] == "W106"
    broken = tmp_path / "broken.pol"
    broken.write_text('policy p "t" { rule r: nope }\n', encoding="utf-8")
    result = runner.invoke(app, ["lint", str(broken)])
    assert result.exit_code == 1
    assert runner.invoke(app, ["lint", "--format", "xml", str(planted)]).exit_code == 2



def test_lint_json_lists_the_files_that_did_not_parse_with_their_errors(tmp_path: Path) -> None:
    """A tool reading `lint --format json` sees every file given: one that does not parse
    or check has an entry, in its place, with its diagnostics under `errors` (the shape of
    a warning's), as well as on stderr; the exit code stays 1."""
    broken = tmp_path / "a_broken.pol"
    broken.write_text('policy p "t" {\n  rule r: (\n}\n', encoding="utf-8")
    planted = tmp_path / "b_planted.pol"
    planted.write_text((ROOT / "tests" / "lint" / "redundant_constant.pol").read_text(
        encoding="utf-8"), encoding="utf-8")
    unknown = tmp_path / "c_unknown.pol"
    unknown.write_text('policy p "t" { rule r: nope }\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["lint", "--format", "json", str(tmp_path)])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [entry["file"] for entry in data["files"]] == [str(broken), str(planted),
                                                          str(unknown)]
    first, linted, last = data["files"]
    [error] = first["errors"]
    assert error["code"].startswith("E1") and error["severity"] == "error"
    assert (error["file"], error["line"]) == (str(broken), 3)
    assert set(error) == {"code", "severity", "message", "file", "line", "column", "end_line",
                          "end_column", "notes"}
    assert first["warnings"] == first["allowed"] == []
    assert linted["errors"] == [] and [w["code"] for w in linted["warnings"]] == ["W106"]
    assert [(e["code"], e["message"], e["line"], e["column"]) for e in last["errors"]] == [
        ("E402", "unknown name `nope`", 1, 24)]
    assert (data["warnings"], data["errors"]) == (1, 2)
    assert "error[E402]" in result.stderr  # still shown to a person too


def test_lint_json_puts_an_unreadable_files_error_in_that_file(tmp_path: Path) -> None:
    latin = tmp_path / "latin.pol"
    latin.write_bytes('policy p "caf\u00e9" { }\n'.encode("latin-1"))
    result = CliRunner().invoke(app, ["lint", "--format", "json", str(latin)])
    [entry] = json.loads(result.stdout)["files"]
    [error] = entry["errors"]
    assert (error["code"], error["file"], error["line"]) == ("E607", str(latin), None)

def test_seed_policies_are_lint_clean_with_commented_allows() -> None:
    linted = lint_files(api.policy_files([ROOT / "policies"]))
    assert not linted.errors
    assert [w.headline() for r in linted.results for w in r.warnings] == []
    # The intended exceptions: inputs kept so that two versions diff input by input.
    allowed = sorted((Path(r.file).name, w.code) for r in linted.results for w in r.allowed)
    assert allowed == [("erba_fenxian.pol", "W101")] * 2 + [("microloan_previous.pol",
                                                             "W101")] * 4


def test_readme_lists_every_warning_code() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- warning-codes:start -->")[1].split("<!-- warning-codes:end -->")[0]
    assert table.strip() == warnings_table()


# ── the solver's claims against the interpreter ────────────────────────────

SOLVER_CODES = {"W103", "W104", "W105", "W106", "W108"}
CLAIMS = [p for p in CATALOGUE if any(c in SOLVER_CODES for c, _, _ in expected_warnings(p))]


def _claim_survives(policy, warning, decision) -> bool:
    """Whether one decision agrees with what a warning claims is impossible."""
    evaluator, outcomes = decision.evaluator, decision.outcomes
    if warning.code == "W108":
        parts = evaluator.allocation(warning.names[0])
        return all(parts[party] == 0 for party in warning.names[1:])
    check = next(c for c in policy.checks if c.name == warning.names[0])
    applies = check.guard is None or bool(evaluator.expr(check.guard))
    if not all(outcomes[name] for name in warning.names[1:]):
        return True  # the claim is about cases where the named others hold
    match warning.code:
        case "W103":
            return not applies
        case "W104" | "W106":
            return not applies or outcomes[check.name]
        case "W105":
            return not applies or not outcomes[check.name]
    raise AssertionError(warning.code)


def _try_to_refute(policy, claims, examples: int) -> None:
    """Random cases (the edges of every constant bound included) against the claims."""
    from hypothesis import HealthCheck, given, settings

    from policylang.diagnostics import PolicyError
    from policylang.interpret import Decision
    from tests.strategies import cases, default_params

    params = default_params(policy)

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(cases(policy))
    def check(case) -> None:
        try:
            decision = Decision.of(policy, case, params)
        except PolicyError:
            return  # an evaluation error: no decision to contradict anything
        for claim in claims:
            assert _claim_survives(policy, claim, decision), (claim.headline(), case)

    check()


@pytest.mark.parametrize("path", CLAIMS, ids=[p.stem for p in CLAIMS])
def test_no_random_case_contradicts_a_solver_warning(path: Path) -> None:
    """Random cases (edges of every constant bound included) never refute a claim."""
    source = path.read_text(encoding="utf-8")
    policy = api.load_source(source, str(path))
    claims = [w for w in lint(policy, source).warnings if w.code in SOLVER_CODES]
    assert claims
    _try_to_refute(policy, claims, 150)


def _random_policy(rng) -> str:
    """A small policy over every kind of input with random rules and guarded limits, built
    from pieces whose constants collide often, so that lint has claims to make."""
    money = ["x", "y", "x + y", "x - y", "x * 2%", "x / 2", "min(x, y)", "max(x, 0元)",
             "abs(x)", "if b then x else y", "fee", "round(x, 1元)", "w.fund", "s.bank"]
    amounts = ["0元", "1元", "100万", "100.01万", "99.99万", "500万", "-1元", "0.01元"]
    rates = ["0%", "5%", "5.01%", "10%", "4.99%"]
    ops = ["<=", "<", ">=", ">"]

    def cond() -> str:
        pick = rng.randrange(10)
        text = [
            f"{rng.choice(money)} {rng.choice(ops)} {rng.choice(amounts)}",
            f"{rng.choice(money)} {rng.choice(ops)} {rng.choice(money)}",
            f"r {rng.choice(ops)} {rng.choice(rates)}",
            f"r {rng.choice(ops)} lpr + 1%",
            f"t {rng.choice(ops)} {rng.choice(['12 months', '1 year', '2 years'])}",
            f"d {rng.choice(ops)} {rng.choice(['2021-01-01', '2022-06-30'])}",
            f"d + 30 days {rng.choice(ops)} e",
            f"k {rng.choice(['==', '!='])} {rng.choice('abc')}",
            f"k in {{{', '.join(rng.sample('abc', rng.randint(1, 2)))}}}",
            rng.choice(["b", "not b"])][pick]
        return f"{text} {rng.choice(['and', 'or'])} {cond()}" if rng.random() < 0.2 else text

    lines = ['policy p "t" {', '  enum kk { a "A"  b "B"  c "C" }',
             '  input { x: money  y: money  r: percent  t: duration  d: date  e: date  k: kk'
             '  b: bool }', '  param lpr: percent = 3.45%', '  let fee = x * 1.5% + 10元',
             '  waterfall w(max(x, 0元)) {',
             f'    take pool up to {rng.choice(["y", "100万", "0元", "x"])}',
             f'    split {{ fund: 50% up to {rng.choice(["y", "1万"])}  bank: 50% }}',
             '    rest escalated', '  }', '  shares s of max(y, 0元) { bank: 20%  fund: 80% }']
    for i in range(rng.randint(2, 6)):
        guard = f" when {cond()}" if rng.random() < 0.5 else ""
        if rng.random() < 0.5:
            subject = rng.choice(["x", "r", "t", "x + y"])
            bound = rng.choice({"x": amounts, "x + y": amounts, "r": rates,
                                "t": ["12 months", "2 years"]}[subject])
            lines.append(f"  limit l{i}: {subject} {rng.choice(ops)} {bound}{guard}")
        else:
            lines.append(f"  rule r{i}: {cond()}{guard}")
    return "\n".join([*lines, "}"]) + "\n"


def test_no_random_case_contradicts_a_warning_on_random_policies() -> None:
    """The encoding across lets, min/max/abs/round/if, dates plus days, durations, enums,
    params, waterfall and shares parts: random policies' solver claims, random cases."""
    import random

    from policylang.diagnostics import PolicyError

    rng = random.Random(2026)
    judged = 0
    for _ in range(40):
        source = _random_policy(rng)
        try:
            policy = api.load_source(source, "random.pol")
        except PolicyError:
            continue
        claims = [w for w in lint(policy, source).warnings if w.code in SOLVER_CODES]
        judged += len(claims)
        if claims:
            _try_to_refute(policy, claims, 40)
    assert judged >= 30


def test_build_prints_the_warnings_and_still_succeeds(tmp_path: Path, monkeypatch) -> None:
    from policylang import backends

    # The interpreter alone: this is about lint in the build, not about the backends.
    monkeypatch.setattr(backends, "available", lambda: {"interp": backends.interpreter})
    policies = tmp_path / "policies"
    policies.mkdir()
    source = format_source('policy p "t" {\n  input { loan_amount: money }\n'
                           '  limit cap: loan_amount <= 500万 cite "1"\n'
                           '  limit old_cap: loan_amount <= 1000万 cite "2"\n}\n', "p.pol")
    (policies / "p.pol").write_text(source, encoding="utf-8")
    result = CliRunner().invoke(app, ["build", str(policies), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "p.pol:6:3: warning[W106]: limit `old_cap` is redundant" in result.output
    assert "1 warning in 1 file" in result.output
