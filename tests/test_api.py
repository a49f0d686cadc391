"""api.py: a backend that decides many cases at once (Spark) is asked once per set of
params for every per-case test of a policy, and judged exactly as a one-case backend; an
argument of the wrong type is a PolicyError naming the argument, never a TypeError."""

from __future__ import annotations

from pathlib import Path

import pytest

from policylang import api, backends
from policylang.diagnostics import PolicyError

BATCH = """policy batch "batch" {
  input {
    a: money
    b: number
  }

  param cap: money = 10元 "a cap"

  limit under: a <= cap cite "x"
  let ratio = a / b cite "y"

  test "default cap" {
    given {
      a: 5元
      b: 1
    }
    expect eligible
  }

  test "over the default cap" {
    given {
      a: 20元
      b: 2
    }
    expect not eligible
  }

  test "a cap of its own" {
    given {
      a: 20元
      b: 2
    }
    params {
      cap: 30元
    }
    expect eligible
  }

  test "a division by zero" {
    given {
      a: 1元
      b: 0
    }
    expect ratio == 1元
  }

  test "expected wrongly" {
    given {
      a: 5元
      b: 1
    }
    expect not eligible
  }
}
"""


def test_a_batching_backend_is_asked_once_per_set_of_params() -> None:
    policy = api.load_source(BATCH, "batch.pol")
    interpreter = backends.interpreter(policy)
    calls: list[int] = []

    def many(cases, params):
        calls.append(len(cases))
        answers: list = []
        for case in cases:
            try:
                answers.append(interpreter(case, params))
            except PolicyError as error:
                answers.append(error)
        return answers

    batched = api.run_tests(policy, {"b": backends.batched(many)})
    one_by_one = api.run_tests(policy, {"b": interpreter})
    assert sorted(calls) == [1, 4]  # the default params' four cases, then the one with a cap

    def outcome(result) -> tuple:
        return (result.test.name, result.passed, result.failures,
                result.error.code if result.error else None)

    assert [outcome(r) for r in batched] == [outcome(r) for r in one_by_one]
    assert [r.passed for r in batched] == [True, True, True, False, False]
    assert batched[3].error.code == "E610" and batched[4].failures


def test_a_case_file_python_cannot_read_is_an_input_error(tmp_path) -> None:
    """A whole number past Python's 4,300 digits or arrays nested past its recursion limit
    are E607 naming the file, not a ValueError or RecursionError."""
    for name, text in [("long.json", '{"loan": ' + "9" * 5000 + "}"),
                       ("deep.json", '{"loan": ' + "[" * 100_000 + "]" * 100_000 + "}")]:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        try:
            api.read_case(path)
        except PolicyError as error:
            assert error.code == "E607" and name in str(error)
        else:
            raise AssertionError(f"{name} was read")


def test_values_far_out_of_range_are_input_errors_not_overflows() -> None:
    policy = api.load_source('policy p "t" {\n  input { loan: money }\n  let x = loan\n}\n',
                             "p.pol")
    for raw in ["9" * 1000, "9" * 5000 + "万", "1E+9999999", 10**5000, "-" + "9" * 1000 + "元"]:
        try:
            api.decide(policy, {"loan": raw})
        except PolicyError as error:
            assert error.code == "E603" and len(str(error)) < 200, str(error)[:300]
        else:
            raise AssertionError(f"{str(raw)[:20]} was read")


def test_a_case_file_with_a_byte_order_mark_reads_as_without(tmp_path) -> None:
    path = tmp_path / "case.json"
    path.write_bytes(b"\xef\xbb\xbf" + '{"loan": "5万"}'.encode())
    assert api.read_case(path) == {"loan": "5万"}


def test_policy_files_takes_one_path_alone() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "policies"
    assert api.policy_files(str(root)) == api.policy_files([root]) == api.policy_files(root)
    assert len(api.policy_files(str(root))) == 11


# ── arguments of the wrong type ────────────────────────────────────────────

SOURCE = 'policy p "t" {\n  input { loan: money }\n  param cap: money "c"\n' \
    '  limit l: loan <= cap cite "x"\n}\n'
POLICY = api.load_source(SOURCE, "p.pol")
# Each public function's arguments: how to call it with `bad` in that argument's place,
# and the kinds of value that argument takes (those are not tried as bad ones).
CALLS = {
    ("load", "path"): (lambda bad: api.load(bad), {"text"}),
    ("read_source", "path"): (lambda bad: api.read_source(bad), {"text"}),
    ("read_case", "path"): (lambda bad: api.read_case(bad), {"text"}),
    ("load_source", "source"): (lambda bad: api.load_source(bad), {"text"}),
    ("load_source", "file"): (lambda bad: api.load_source(SOURCE, bad), {"text"}),
    ("decide", "policy"): (lambda bad: api.decide(bad, {"loan": "5元"}), set()),
    ("decide", "case"): (lambda bad: api.decide(POLICY, bad, {"cap": "1元"}), set()),
    ("decide", "params"): (lambda bad: api.decide(POLICY, {"loan": "5元"}, bad), {"none"}),
    ("decide", "case_name"): (lambda bad: api.decide(POLICY, {"loan": "5元"}, {"cap": "1元"},
                                                     case_name=bad), {"text"}),
    ("decide", "params_name"): (lambda bad: api.decide(POLICY, {"loan": "5元"},
                                                       {"cap": "1元"}, params_name=bad),
                                {"text"}),
    ("explain", "policy"): (lambda bad: api.explain(bad, {"loan": "5元"}), set()),
    ("explain", "case"): (lambda bad: api.explain(POLICY, bad, {"cap": "1元"}), set()),
    ("explain", "params"): (lambda bad: api.explain(POLICY, {"loan": "5元"}, bad), {"none"}),
    ("interpreter_backend", "policy"): (lambda bad: api.interpreter_backend(bad), set()),
    ("run_tests", "policy"): (lambda bad: api.run_tests(bad), set()),
    ("run_tests", "backends"): (lambda bad: api.run_tests(POLICY, bad), {"none"}),
    ("policy_files", "paths"): (lambda bad: api.policy_files(bad), {"text"}),
}
BAD = {"none": None, "int": 123, "bytes": b"p.pol", "text": "not a mapping", "list": [1, 2],
       "int_keys": {1: "5元"}}


@pytest.mark.parametrize(("function", "argument", "kind"), [
    (function, argument, kind) for (function, argument), (_, takes) in CALLS.items()
    for kind in BAD if kind not in takes])
def test_an_argument_of_the_wrong_type_is_a_policy_error_naming_it(
        function: str, argument: str, kind: str) -> None:
    call, _ = CALLS[function, argument]
    with pytest.raises(PolicyError) as raised:
        call(BAD[kind])
    assert raised.value.code == "E607"
    assert str(raised.value).startswith(f"error[E607]: {argument}: "), str(raised.value)


def test_valid_arguments_still_work_as_before(tmp_path: Path) -> None:
    path = tmp_path / "p.pol"
    path.write_text(SOURCE, encoding="utf-8")
    assert api.load(path) == api.load(str(path)) == api.load_source(SOURCE, str(path))
    assert api.load_source(SOURCE, path).inputs[0].span.file == str(path)
    assert api.decide(POLICY, {"loan": "5元"}, {"cap": "1元"})["eligible"] is False
    with pytest.raises(PolicyError, match=r"^error\[E607\]: \./nope\.pol: cannot read"):
        api.read_source("./nope.pol")  # the path as given, not normalised
    assert api.policy_files(p for p in [tmp_path]) == [path]


# ── a missing param: the API's way to give it, and the command line's ──────


def test_a_missing_param_says_how_to_give_it_through_the_api() -> None:
    with pytest.raises(PolicyError) as raised:
        api.decide(POLICY, {"loan": "5元"})
    assert raised.value.code == "E606"
    assert str(raised.value) == ('error[E606]: params: param `cap` (money) has no default; '
                                 'give it in the `params=` argument, e.g. '
                                 'params={"cap": VALUE}')
    assert "--param" not in str(raised.value)


def test_a_missing_param_says_how_to_give_it_on_the_command_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from policylang.cli import app

    policy, case = tmp_path / "p.pol", tmp_path / "case.json"
    policy.write_text(SOURCE, encoding="utf-8")
    case.write_text('{"loan": "5元"}', encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(policy), "--case", str(case)])
    assert result.exit_code == 2
    assert ("error[E606]: --param: param `cap` (money) has no default; give it with --param "
            "cap=VALUE") in result.output
    assert "params=" not in result.output


def test_explain_gives_the_tree_and_for_a_case_without_a_decision_its_error() -> None:
    tree, error = api.explain(POLICY, {"loan": "5元"}, {"cap": "1元"})
    assert error is None
    assert (tree.kind, tree.value, tree.children[0].status) == ("eligibility", False, "fails")
    divides = api.load_source('policy d "t" {\n  input { a: money\n n: number }\n'
                              '  let each: money = a / n cite "x"\n'
                              '  limit l: each <= 5元 cite "x"\n}\n', "d.pol")
    tree, error = api.explain(divides, {"a": "5元", "n": 0})
    assert error is not None and error.code == "E610"
    assert (tree.status, tree.children[0].status) == ("error", "error")
    with pytest.raises(PolicyError, match="E603"):  # an input error raises, as in decide
        api.explain(divides, {"a": "lots", "n": 0})
