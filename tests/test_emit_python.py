"""Python backend: generated modules are lint-clean, deterministic, standalone, safe with
hostile names and texts, and agree exactly with the interpreter.

The differential test draws random cases from each policy's input schema (every limit's
edge included, see tests/strategies.py) and compares the module's decision with the
interpreter's, errors by code; POLICYLANG_DIFF_EXAMPLES raises the number of cases per
policy (default 500). Goldens of two generated modules live in tests/goldens/python/;
rewrite them with `pytest --update-goldens` after a deliberate change and review the diff.
"""

from __future__ import annotations

import ast
import datetime
import hashlib
import json
import os
import subprocess
import sys
import textwrap
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    Rounded,
    Underflow,
    localcontext,
)
from functools import cache
from pathlib import Path

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policylang import api, backends, ir
from policylang.deps import unused_inputs
from policylang.diagnostics import PolicyError
from policylang.emit.python import emit_python
from policylang.interpret import evaluate
from tests.policies import ROOT, all_policies
from tests.strategies import boundaries, cases, default_params
from tests.test_interpret import MONEY_COLUMNS, MONEY_INPUTS

POLICIES = all_policies()
CASES_PER_POLICY = int(os.environ.get("POLICYLANG_DIFF_EXAMPLES", "500"))
BATCH = 50
GOLDENS = Path(__file__).parent / "goldens" / "python"


def pol_text(text: str) -> str:
    """A `.pol` text literal for `text` (the language's escapes: \\\\ \\" \\n \\t)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("\t", "\\t") + '"'


# Every character that could end a string, docstring or comment early, and code that
# would run if it ever escaped one (it would create the file `pwned`).
EVIL = ('a """ b \'\'\' c \\ d \\" e\n__import__(\'os\').system("touch pwned") # f\r'
        'g = 1\n"""\n\'\'\' 贷款 end\\')
E = pol_text(EVIL)
HOSTILE = f'''policy hostile {E} {{
  issuer {E}
  document {E}
  version {E}
  enum for {{ from {E}  name "n"  value "v"  _hidden }}
  enum decimal {{ a  b }}
  input {{
    class:        money {E}
    from:         for = from
    贷款金额:      money = 0元 {E}
    class_:       bool = false
    _private:     number = 1
    model_config: money = 0元
    ｆｕｌｌ:       decimal = a
    full:         decimal = b
    ignored:      bool = false {E}
  }}
  param import: percent = 1% {E}
  rule def: from == for.from or class_ or ｆｕｌｌ == full cite {E} says {E}
  limit return: class <= 贷款金额 + 100万 cite {E} says {E}
  let lambda = class * import + model_config + _private * 1元 cite {E} says {E}
  shares None of class cite {E} {{ True: 50%  yield: 50% }}
  waterfall self(class) cite {E} {{
    take case up to 贷款金额
    rest params says {E}
  }}
}}
'''


@cache
def source(name: str) -> str:
    return emit_python(POLICIES[name])


@cache
def hostile() -> ir.Policy:
    return api.load_source(HOSTILE, "hostile.pol")


def json_case(policy: ir.Policy, values: dict[str, ir.Value]) -> dict:
    """Checked values back in case-JSON form (what a service would send)."""
    types = {f.name: f.type for f in [*policy.inputs, *policy.params]}
    return {name: backends._as_input(value, types[name]) for name, value in values.items()}


def interpret(policy: ir.Policy, case: dict, params: dict) -> dict | PolicyError:
    try:
        return evaluate(policy, case, params)
    except PolicyError as error:
        return error


def same(expected: dict | PolicyError, actual: dict | PolicyError) -> bool:
    if isinstance(expected, PolicyError) or isinstance(actual, PolicyError):
        return (isinstance(expected, PolicyError) and isinstance(actual, PolicyError)
                and expected.code == actual.code)
    return expected == actual


def run_python(run: backends.Backend, case: dict, params: dict) -> dict | PolicyError:
    try:
        return run(case, params)
    except PolicyError as error:
        return error


# ── the code itself ──
def test_generated_modules_pass_ruff_check_and_format(tmp_path: Path) -> None:
    for name in POLICIES:
        (tmp_path / f"{POLICIES[name].name}.py").write_text(source(name), encoding="utf-8")
    (tmp_path / "hostile.py").write_text(emit_python(hostile()), encoding="utf-8")
    config = ["--config", str(ROOT / "pyproject.toml"), "--no-cache"]
    checked = subprocess.run([sys.executable, "-m", "ruff", "check", *config, str(tmp_path)],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    formatted = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", *config, str(tmp_path)],
        capture_output=True, text=True)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_generation_is_deterministic_across_processes() -> None:
    """Byte-identical in two fresh interpreters with different hash seeds (set order)."""
    script = textwrap.dedent("""
        import hashlib, sys
        sys.path.insert(0, sys.argv[1])
        from tests.policies import all_policies
        from policylang.emit.python import emit_python
        for name, policy in all_policies().items():
            print(name, hashlib.sha256(emit_python(policy).encode()).hexdigest())
    """)
    digests = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        digests.append(subprocess.run([sys.executable, "-c", script, str(ROOT)], env=env,
                                      capture_output=True, text=True, check=True).stdout)
    here = "".join(f"{name} {hashlib.sha256(source(name).encode()).hexdigest()}\n"
                   for name in POLICIES)
    assert digests[0] == digests[1] == here


@pytest.mark.parametrize("name", ["every_construct", "design_example"])
def test_generated_module_matches_golden(name: str, update_goldens: bool) -> None:
    golden = GOLDENS / f"{name}.py"
    if update_goldens:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(source(name), encoding="utf-8")
    assert golden.exists(), f"no golden {golden}; run pytest --update-goldens"
    assert source(name) == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", list(POLICIES))
def test_one_method_per_declaration_with_its_citation(name: str) -> None:
    policy = POLICIES[name]
    tree = ast.parse(source(name))
    evaluation = next(node for node in tree.body
                      if isinstance(node, ast.ClassDef) and node.name == "Evaluation")
    methods = {node.name: ast.get_docstring(node) or "" for node in evaluation.body
               if isinstance(node, ast.FunctionDef)}
    declarations = [("let", d) for d in policy.lets] + [
        ("limit" if isinstance(c, ir.Limit) else "rule", c) for c in policy.checks] + [
        ("allocation", a) for a in policy.allocations]
    for prefix, declaration in declarations:
        method = f"{prefix}_{declaration.name}"
        assert method in methods, f"no method {method}"
        if declaration.cite:
            assert declaration.cite in " ".join(methods[method].split()), method


@pytest.mark.parametrize("name", list(POLICIES))
def test_no_dead_code(name: str) -> None:
    """Every top-level definition of a module is used, except the public interface."""
    tree = ast.parse(source(name))
    defined = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            defined.append(node.name)
        elif isinstance(node, ast.Assign):
            defined += [t.id for t in node.targets if isinstance(t, ast.Name)]
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(
        n.ctx, ast.Load)}
    public = {"evaluate", "EvaluationError", "Case", "Params"}
    assert [d for d in defined if d not in used and d not in public] == []


def test_unused_inputs_are_marked_in_the_case_model() -> None:
    policy = hostile()
    assert unused_inputs(policy) == ["ignored"]
    lines = emit_python(policy).splitlines()
    marked = [lines[i + 1].split(":")[0].strip() for i, line in enumerate(lines)
              if line.strip() == "# not read by any rule, limit, let or allocation of the policy"]
    assert marked == ["ignored"]


# ── standalone: pydantic but no policylang ──
_STANDALONE = textwrap.dedent("""
    import json, sys
    sys.modules["policylang"] = None  # `import policylang` now fails
    try:
        import policylang
    except ImportError:
        pass
    else:
        raise SystemExit("policylang is importable")
    sys.path.insert(0, sys.argv[1])
    out = []
    for module_name, case, params in json.load(sys.stdin):
        module = __import__(module_name)
        try:
            out.append(module.evaluate(case, **params))
        except module.EvaluationError as error:
            out.append({"error": error.code})
    loaded = sorted(m for m, v in sys.modules.items() if v and m.startswith("policylang"))
    print(json.dumps({"decisions": out, "policylang": loaded}, ensure_ascii=False))
""")


def run_standalone(tmp_path: Path, modules: dict[str, str], runs: list) -> list:
    for module_name, text in modules.items():
        (tmp_path / f"{module_name}.py").write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    result = subprocess.run([sys.executable, "-c", _STANDALONE, str(tmp_path)],
                            input=json.dumps(runs, ensure_ascii=False), capture_output=True,
                            text=True, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["policylang"] == []
    return report["decisions"]


def expected_json(policy: ir.Policy, case: dict, params: dict) -> dict:
    outcome = interpret(policy, case, params)
    return {"error": outcome.code} if isinstance(outcome, PolicyError) else outcome


def test_modules_run_standalone_and_agree_on_test_blocks_and_random_cases(tmp_path) -> None:
    modules, runs, expected = {}, [], []
    for index, (name, policy) in enumerate(POLICIES.items()):
        module_name = f"generated_{index}"
        modules[module_name] = source(name)
        params = default_params(policy)
        examples = [(dict(t.given), {**params, **dict(t.params)}) for t in policy.tests
                    if t.book is None]
        if all(value is not None for value in params.values()):
            draws = st.lists(cases(policy), min_size=20, max_size=20)
            examples += [(case, params) for case in _examples(draws)]
        for case, case_params in examples:
            full = {f.name: f.default for f in policy.inputs if f.default is not None} | case
            runs.append((module_name, json_case(policy, case), json_case(policy, case_params)))
            expected.append(expected_json(policy, full, case_params))
    assert len(runs) > 100
    assert run_standalone(tmp_path, modules, runs) == expected


def _examples(strategy: st.SearchStrategy) -> list:
    found = []

    @settings(max_examples=1, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def draw(value):
        found.extend(value)

    draw()
    return found


# ── hostile names and texts ──
def test_hostile_names_and_texts_round_trip_verbatim(tmp_path: Path) -> None:
    policy = hostile()
    text = emit_python(policy)
    case = {"class": "2000万", "from": "for.value", "贷款金额": "500万", "_private": "2",
            "model_config": "1元", "ｆｕｌｌ": "b", "full": "a"}
    params = {"import": "2%"}
    decision = run_standalone(tmp_path, {"hostile": text}, [("hostile", case, params)])[0]
    assert not (tmp_path / "pwned").exists()
    from policylang.cases import parse_case, parse_params

    values, param_values = parse_case(policy, case), parse_params(policy, params)
    assert decision == evaluate(policy, values, param_values)
    assert decision["version"] == EVIL
    assert [f["message"] for f in decision["failures"]] == [EVIL, EVIL]
    assert [f["cite"] for f in decision["failures"]] == [EVIL, EVIL]
    assert decision["values"] == {"lambda": "400003.00"}
    assert decision["allocations"] == {
        "None": {"True": "10000000.00", "yield": "10000000.00"},
        "self": {"case": "5000000.00", "params": "15000000.00"}}
    module = backends.load_python_module(policy, text)
    flat = " ".join(EVIL.replace("\r", " ").split())
    assert flat in " ".join(module.__doc__.split())
    assert module.Case.model_fields["field_model_config"].alias == "model_config"
    assert module.Case.model_fields["class__"].alias == "class"
    assert module.Case.model_fields["class_"].alias is None
    assert module.Case.model_fields["ignored"].description == EVIL


def test_keyword_names_are_accepted_by_name_and_by_alias() -> None:
    module = backends.load_python_module(hostile())
    by_alias = module.evaluate({"class": "1元"}, **{"import": "1%"})
    assert by_alias["values"]["lambda"] == "1.01"
    assert module.Case(class__=Decimal(1), class_=True).class__ == Decimal(1)


# ── bad cases ──
@pytest.mark.parametrize(("case", "field"), [
    ({"in_zone": "yes"}, "in_zone"),
    ({"loan_amount": "300 dollars"}, "loan_amount"),
    ({"loan_amount": "5%"}, "loan_amount"),
    ({"loan_amount": 10**16}, "loan_amount"),
    ({"term": "forever"}, "term"),
    ({"interest_rate": True}, "interest_rate"),
    ({"not_a_field": 1}, "not_a_field"),
    ({"sme": None}, "sme"),
])
def test_bad_case_raises_validation_error_naming_the_field(case: dict, field: str) -> None:
    module = backends.load_python_module(POLICIES["design_example"])
    good = {"in_zone": True, "sme": True, "high_tech": True, "tech_listed": False,
            "owns_ip": True, "revenue_last_year": "800万", "loan_amount": "300万",
            "term": "1 year", "interest_rate": "5%"}
    assert module.evaluate(good)["eligible"] is True
    with pytest.raises(pydantic.ValidationError) as raised:
        module.evaluate(good | case)
    assert [error["loc"] for error in raised.value.errors()] == [(field,)]
    assert field in str(raised.value)


def test_null_takes_the_default_as_in_policylang_run() -> None:
    """A field given as null is absent: its default where it has one (as the case reader
    does), else missing, named by the error; and an impossible date says so."""
    policy = api.load_source('policy p "p" {\n  input {\n    x: money\n    flag: bool = true\n'
                             '    day: date = 2024-01-31\n  }\n  let y = x\n}\n', "p.pol")
    module = backends.load_python_module(policy)
    case = {"x": "5元", "flag": None, "day": None}
    assert module.evaluate(case) == api.decide(policy, case)
    with pytest.raises(pydantic.ValidationError) as raised:
        module.evaluate({"x": None})
    assert [(e["loc"], e["type"]) for e in raised.value.errors()] == [(("x",), "missing")]
    with pytest.raises(pydantic.ValidationError, match="'2021-02-30' is not a calendar date"):
        module.evaluate({"x": "5元", "day": "2021-02-30"})


def test_missing_field_and_bad_member_name_the_field() -> None:
    module = backends.load_python_module(hostile())
    with pytest.raises(pydantic.ValidationError) as raised:
        module.evaluate({})
    assert [e["loc"] for e in raised.value.errors()] == [("class",)]
    with pytest.raises(pydantic.ValidationError) as raised:
        module.evaluate({"class": "1元", "from": "other"})
    assert [e["loc"] for e in raised.value.errors()] == [("from",)]
    with pytest.raises(pydantic.ValidationError) as raised:
        module.evaluate({"class": "1元"}, **{"import": "1万"})
    assert [e["loc"] for e in raised.value.errors()] == [("import",)]


# ── differential ──
def _base_case(policy: ir.Policy) -> dict[str, ir.Value]:
    simple = {ir.Kind.MONEY: Decimal(1_000_000), ir.Kind.PERCENT: Decimal("0.01"),
              ir.Kind.NUMBER: Decimal(1), ir.Kind.DURATION: ir.Duration(12, "month"),
              ir.Kind.DATE: datetime.date(2024, 1, 31), ir.Kind.BOOL: True}
    return {f.name: f.default if f.default is not None else (
        policy.enum(f.type.enum).members[0].name if f.type.kind is ir.Kind.ENUM
        else simple[f.type.kind]) for f in policy.inputs}


def limit_edges(name: str):
    """The policy, its default params, the module's runner and each limit's edge case as
    (what it varies, the case): a base case with one input at a limit's boundary."""
    policy = POLICIES[name]
    params = default_params(policy)
    if any(value is None for value in params.values()):
        pytest.skip("a param without default cannot be bound for generated cases")
    base = _base_case(policy)
    edges = [(f"{field}={value}", base | {field: value})
             for field, values in boundaries(policy).items() for value in values]
    return policy, params, backends.python(policy), edges


@pytest.mark.parametrize("name", list(POLICIES))
def test_every_limit_edge_agrees_with_interpreter(name: str) -> None:
    policy, params, run, edges = limit_edges(name)
    for varied, case in edges:
        want, got = interpret(policy, case, params), run_python(run, case, params)
        assert same(want, got), f"{varied}:\ninterp {want}\npython {got}"


# What an application embedding a policy might have set for its own purposes: few digits,
# another rounding, a tiny exponent range, and a trap on any rounding at all (a module that
# computed one step in it, such as negating a constant, raised Overflow or Rounded).
CALLERS_CONTEXT = Context(prec=3, rounding=ROUND_HALF_EVEN, Emax=5, Emin=-5,
                          traps=[Rounded, Inexact, Overflow, Underflow, InvalidOperation,
                                 DivisionByZero])


@pytest.mark.parametrize("name", list(POLICIES))
def test_a_callers_decimal_context_changes_no_decision(name: str) -> None:
    """Both the interpreter and the module compute in their own exact context: every limit's
    edge decides the same under a caller's 3-digit, half-even context."""
    policy, params, run, edges = limit_edges(name)
    for varied, case in edges:
        want = interpret(policy, case, params)
        with localcontext(CALLERS_CONTEXT):
            interpreted = interpret(policy, case, params)
            generated = run_python(run, case, params)
        assert same(want, interpreted), f"interpreter, {varied}: {interpreted}"
        assert same(want, generated), f"module, {varied}: {generated}"


@pytest.mark.parametrize("name", list(POLICIES))
def test_python_agrees_with_interpreter(name: str) -> None:
    policy = POLICIES[name]
    params = default_params(policy)
    if any(value is None for value in params.values()):
        pytest.skip("a param without default cannot be bound for random cases")
    run = backends.python(policy)

    @settings(max_examples=max(1, CASES_PER_POLICY // BATCH), deadline=None, derandomize=True,
              database=None, suppress_health_check=list(HealthCheck))
    @given(batch=st.lists(cases(policy), min_size=BATCH, max_size=BATCH))
    def check(batch):
        for case in batch:
            want, got = interpret(policy, case, params), run_python(run, case, params)
            assert same(want, got), f"case {case}:\ninterp {want}\npython {got}"

    check()


TRICKY_INPUTS = ["1.5万", "1e5元", "１２元", "²元", ".5元", "5.元", "-5元", "1_000元", " 5元 ",
                 "5 元", "0.00000000001元", "0.0000000001元", "Infinity", "NaN", "3.45%",
                 "1.23456789012%", "1.2345678901%", "150bp", "5", "-0.5", "1000000000000000元",
                 "999999999999999.99元", "5%", "2 years", "", 5, 5.5, -2, True, None, "true",
                 # a percent as text without `%` is a fraction, within ±1 (JSON numbers any)
                 "4.35", "1", "1.0000000000", "1.0000000001", "-1", " 2 ", "-1.5",
                 # far out of range: refused, never an Overflow or a 5,000-digit message
                 "9" * 1000, "9" * 5000 + "万", "9" * 5000 + "%", "1E+9999999",
                 Decimal("1E+9999999"), 10**5000, "1" + "0" * 19 + "bp"]


def _short_id(raw: object) -> str:
    """A parameter's test id: the repr, cut short (and a 5,000-digit int has none)."""
    try:
        text = repr(raw)
    except ValueError:
        return f"int of {len(str(Decimal(raw)))} digits"
    return text if len(text) <= 30 else f"{text[:12]}…{text[-8:]} ({len(text)})"


@pytest.mark.parametrize("raw", TRICKY_INPUTS, ids=_short_id)
@pytest.mark.parametrize("kind", ["money", "percent", "number", "bool"])
def test_module_reads_values_exactly_as_the_case_reader(kind: str, raw: object) -> None:
    from policylang.cases import parse_case

    policy = api.load_source(f'policy p "p" {{\n  input {{ x: {kind} }}\n}}\n', "p.pol")
    module = backends.load_python_module(policy)
    try:
        expected = parse_case(policy, {"x": raw})["x"]
    except PolicyError:
        expected = None
    try:
        actual = module.Case.model_validate({"x": raw}).x
    except pydantic.ValidationError:
        actual = None
    assert actual == expected and type(actual) is type(expected)


def test_module_does_not_depend_on_where_the_policy_was_read_from(tmp_path: Path) -> None:
    file = ROOT / "policies" / "chongqing" / "zhubaodai.pol"
    relative = api.load_source(file.read_text(encoding="utf-8"), "policies/chongqing/zhubaodai.pol")
    absolute = api.load(file)
    assert emit_python(relative) == emit_python(absolute)


def test_params_validated_once_are_exactly_as_strict_as_every_time() -> None:
    """`evaluate` reuses a validated `Params` for the same texts, numbers and bools; a value
    equal to another but of another type (True and 1) or a bad one is never served from it."""
    policy = api.load_source('policy p "p" {\n  input { x: number }\n  param k: number\n'
                             '  let y = x * k\n}\n', "p.pol")
    module = backends.load_python_module(policy)
    assert module.evaluate({"x": "2"}, k=1)["values"] == {"y": "2"}
    assert module.evaluate({"x": "2"}, k=1)["values"] == {"y": "2"}
    for bad in (True, "1.00000000001", "1元"):
        for _ in range(2):
            with pytest.raises(pydantic.ValidationError) as raised:
                module.evaluate({"x": "2"}, k=bad)
            assert [e["loc"] for e in raised.value.errors()] == [("k",)]
    assert module.evaluate({"x": "2"}, k="3")["values"] == {"y": "6"}
    assert module.evaluate({"x": "2"}, k=Decimal("1.5"))["values"] == {"y": "3"}


TRICKY_DURATIONS = ["12 months", "1 year", "3 years", "15 days", "1 day", "0 days", "3 年",
                    "3年", "18个月", "15天", "1  year", "1\tyear", "-1 year", "- 2 months",
                    "12 Months", "１２ months", " 2 years", "2 years ", "007 months",
                    "1.5 years", "1 fortnight", "years", " ", 12, True, None,
                    # a duration stays below 10^8 months or days
                    "99999999 days", "100000000 days", "8333333 years", "8333334 years",
                    "99999999个月", "9" * 5000 + " days", "-100000000 days"]


@pytest.mark.parametrize("raw", TRICKY_DURATIONS, ids=_short_id)
def test_module_reads_durations_exactly_as_the_case_reader(raw: object) -> None:
    from policylang.cases import parse_case

    policy = api.load_source('policy p "p" {\n  input { x: duration }\n}\n', "p.pol")
    module = backends.load_python_module(policy)
    try:
        expected = parse_case(policy, {"x": raw})["x"]
    except PolicyError:
        expected = None
    try:
        read = module.Case.model_validate({"x": raw}).x
        actual = ir.Duration(read.amount, read.unit)
    except pydantic.ValidationError:
        actual = None
    assert actual == expected



# ── what is computed from the params alone ──
# `rate / per` is read by a rule under an input's guard and as a limit's bound (one
# property serves both); `cap / share` behind `y or` and under a guard on a param.
PARAM_ONLY = api.load_source('''policy p "p" {
  input { x: number  y: bool = true }
  param rate: number = 6
  param per: number = 2
  param cap: number = 1
  param share: number = 1
  param on: bool = false
  rule below: x < rate / per when y
  limit under: x <= rate / per
  rule either: y or x < cap / share
  limit capped: x <= cap / share when on
}
''', "p.pol")


def counting_module(divisions: list) -> object:
    """The module of PARAM_ONLY, its `_div` recording (dividend, divisor) of each division
    it is asked to do in `divisions`, whether or not it faults."""
    module = backends.load_python_module(PARAM_ONLY)
    divide = module._div

    def counted(a: Decimal, b: Decimal) -> Decimal:
        divisions.append((a, b))
        return divide(a, b)

    module._div = counted
    return module


def outcome_of(module: object, case: dict, params: dict) -> dict | str:
    try:
        return module.evaluate(case, **params)
    except module.EvaluationError as error:
        return error.code


def test_param_only_expressions_become_params_properties() -> None:
    text = emit_python(PARAM_ONLY)
    # rate / per, cap / share and the text of each as a limit's bound; not `not on`
    assert text.count("@functools.cached_property") == 4
    assert "self.params.rate" not in text and "self.params.cap" not in text
    assert "if not self.params.on:" in text


@pytest.mark.parametrize("frozen", [True, False])
def test_a_param_only_expression_is_computed_once_per_params(frozen: bool) -> None:
    divisions: list = []
    module = counting_module(divisions)
    params_model = module.Params
    if not frozen:  # the cache does not rely on the model being frozen
        params_model = type("Params", (module.Params,), {
            "model_config": {**module.Params.model_config, "frozen": False}})
    params = params_model()
    for x in range(4, 12):  # every case fails `below` and `under` (bound 3)
        decision = module.Evaluation(module.Case(x=Decimal(x)), params).decision()
        assert [f["rule"] for f in decision["failures"]] == ["below", "under"]
        assert decision["failures"][-1]["bound"] == "3"
    assert divisions == [(6, 2)]  # once, for the rule, the limit and every case
    other = params_model(rate=Decimal(9))
    assert module.Evaluation(module.Case(x=5), other).decision()["failures"][-1]["bound"] == "4.5"
    assert divisions == [(6, 2), (9, 2)]
    assert params.model_dump() == {"rate": 6, "per": 2, "cap": 1, "share": 1, "on": False}
    assert params == params_model() and params.model_fields_set == set()
    changed = params.model_copy(update={"rate": Decimal(8)})  # nothing computed is copied
    assert module.Evaluation(module.Case(x=5), changed).decision()["failures"][-1]["bound"] == "4"
    assert module.evaluate({"x": "5"})["failures"][-1]["bound"] == "3"  # evaluate() too
    assert module.evaluate({"x": "6"})["failures"][-1]["bound"] == "3"
    assert divisions[2:] == [(8, 2), (6, 2)]


@pytest.mark.parametrize(("params", "code"), [
    ({"per": "0"}, "E610"),  # division by zero
    ({"rate": "999999999999999", "per": "0.0001"}, "E611"),  # out of range
])
def test_a_faulting_param_only_expression_faults_on_every_case(params: dict, code: str) -> None:
    divisions: list = []
    module = counting_module(divisions)
    cases = [{"x": "1"}, {"x": "2"}, {"x": "3", "y": "false"}]  # the rule's, the limit's
    assert [outcome_of(module, case, params) for case in cases] == [code] * 3
    assert len(divisions) == 3  # tried again on every case: no fault is kept
    kept = module._params(params).__dict__  # the `Params` every case above was given
    assert set(kept) == set(module.Params.model_fields)


@pytest.mark.parametrize(("case", "params", "expected"), [
    ({"x": "0"}, {"share": "0"}, True),  # `y or`, and `when on` does not hold
    ({"x": "5"}, {"share": "0"}, False),
    ({"x": "0"}, {"share": "0", "on": "true"}, "E610"),  # now the guard holds
    ({"x": "0", "y": "false"}, {"share": "0"}, "E610"),  # and now `y or` does not stop it
    ({"x": "0"}, {"per": "0", "share": "0"}, "E610"),  # the first fault, as the interpreter
])
def test_a_param_only_expression_that_is_not_reached_is_never_computed(
        case: dict, params: dict, expected: bool | str) -> None:
    from policylang.cases import parse_case, parse_params

    divisions: list = []
    module = counting_module(divisions)
    want = interpret(PARAM_ONLY, parse_case(PARAM_ONLY, case), parse_params(PARAM_ONLY, params))
    for _ in range(3):
        got = outcome_of(module, case, params)
        assert got == (want.code if isinstance(want, PolicyError) else want)
        assert (got if isinstance(got, str) else got["eligible"]) == expected
    if expected != "E610":
        assert all(divisor != 0 for _, divisor in divisions)  # `cap / share` never tried


def test_params_named_after_what_the_class_body_uses_shadow_nothing() -> None:
    """A param named `functools`, `Decimal`, `str`… gets another Python name (its policy
    name is the alias): as a class attribute it would hide the module's name from the
    rest of the class body (`pydantic.Field`, `@functools.cached_property`, `-> str`)."""
    names = ["functools", "Decimal", "pydantic", "str", "Self", "model_copy", "limit_cap_bound"]
    params = "\n".join(f"  param {name}: number = 2" for name in names)
    policy = api.load_source(f'policy p "p" {{\n  input {{ x: number }}\n{params}\n'
                             f'  limit cap: x <= {" + ".join(names)}\n}}\n', "p.pol")
    module = backends.load_python_module(policy)
    for case, changed in [({"x": "14"}, {}), ({"x": "15"}, {}), ({"x": "15"}, {"str": "3"})]:
        want = evaluate(policy, {"x": Decimal(case["x"])},
                        {n: Decimal(changed.get(n, "2")) for n in names})
        assert module.evaluate(case, **changed) == want


def test_a_module_names_the_book_level_rules_it_leaves_out() -> None:
    """As the SQL target's `-- NOT IN THIS QUERY` lines: never a silently dropped rule."""
    policy = api.load(ROOT / "policies" / "foshan" / "microloan_2022.pol")
    module = backends.load_python_module(policy)
    leaves_out = module.__doc__.split("Not in this module:")[1]
    assert [f"{r.kind} {r.name}" for r in policy.portfolio.rules] == [
        line.removeprefix("- ") for line in leaves_out.splitlines() if line.startswith("- ")]
    assert "Not in this module" not in backends.load_python_module(
        POLICIES["design_example"]).__doc__


@pytest.mark.parametrize(("declaration", "what", "below", "at"), MONEY_COLUMNS)
def test_module_refuses_money_of_10_to_the_16_as_the_interpreter(declaration: str, what: str,
                                                                  below: str, at: str) -> None:
    """A money let, part, or limit's value or bound (a DECIMAL(18,2) column in SQL) of
    10^16 yuan or more at the fen is E611, with the interpreter's message; not where a
    limit does not apply (tests/test_interpret.py holds the interpreter to it)."""
    from policylang.cases import parse_case

    policy = api.load_source(f'policy p "p" {{\n{MONEY_INPUTS}{declaration}\n}}\n', "p.pol")
    module = backends.load_python_module(policy)
    for case in ({"a": below}, {"a": at}, {"a": f"-{at}"}, {"a": at, "b": "false"}):
        if case["a"].startswith("-") and "limit" not in what:
            continue  # an allocated amount is never negative
        want = interpret(policy, parse_case(policy, case), {})
        try:
            got = module.evaluate(case)
        except module.EvaluationError as error:
            assert isinstance(want, PolicyError), f"{case}: {error}"
            assert (error.code, error.message) == (want.code, want.diagnostics[0].message)
        else:
            assert got == want, case
    with pytest.raises(module.EvaluationError, match=f"^E611: {what}: 10,000,000"):
        module.evaluate({"a": at})


def test_module_tests_only_money_that_may_reach_10_to_the_16() -> None:
    """What the policy alone bounds below needs no test: an input or a given param (below
    10^15), a let or a part (tested where computed), a constant, and sums, products and
    quotients by constants, min, max, abs and `if` of those (emit/python_money.py)."""
    policy = api.load_source(
        'policy p "p" {\n  input { a: money  c: money  n: number }\n  param k: money = 10万\n'
        "  let plain = max(a, -c, abs(k), if n > 0 then 1亿 else plain_too)\n"
        "  let plain_too = a\n  let fee = a * 2.5% + c / 3 - k\n  let product = a * n\n"
        "  shares s of a { x: 60%  y: 40% }\n  waterfall w(product) { take x up to a  rest y }\n"
        "  waterfall v(a * n * 2) { take x up to a  rest y }\n"
        "  limit c1: a * n <= s.x\n  limit c2: a * 11 <= 9999999999999999.99元\n"
        "  limit c3: a <= 10000000000000000元\n}\n", "p.pol")
    text = emit_python(policy)
    methods = text[text.index("class Evaluation:"):]
    tested = [line.strip() for line in methods.splitlines() if "_in_range(" in line]
    assert tested == [  # `a * n` is read as the let `product` (emit/reuse.py)
        'return _money_in_range(_mul(self.case.a, self.case.n), "let product")',
        # v's two returns: its amount may reach 2 × 10^16 (w's is the let's)
        'return _parts_in_range((fen_x, fen_y), amount, "v", ("x", "y"))',
        "return _parts_in_range(",
        "value = _money_in_range(_mul(self.case.a, NUMBER_11), \"limit c2's value\")",
        "bound = _money_in_range(YUAN_10_000_000_000_000_000, \"limit c3's bound\")"], text
