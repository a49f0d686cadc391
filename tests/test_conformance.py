"""The shared conformance suite (tests/conformance/*.test), run on every backend.

Each case is a small policy, a case and params, and either the expected decision (every
top-level key given is compared exactly, key order included) or the expected error code
(and, for check errors, its line and column). The format is described in
tests/conformance/loader.py. Backends listed in SKIPS may skip named cases; the list
must stay empty for a finished backend, and a test asserts that it is.

Backends: the interpreter, the generated Python, SQL on DuckDB and on SQLite, and SQL on
PostgreSQL, always: the `postgres_server` fixture gives a real server (the one named by
POLICYLANG_POSTGRES, else a private cluster it starts). PostgreSQL is batched: the cases
of one policy (and params) run through one query, a failing batch halved until its
failing cases stand alone, all in one pass before the first PostgreSQL test; each test
then compares its own case's outcome.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from policylang import api, backends, ir
from policylang.cases import parse_case, parse_params
from policylang.diagnostics import PolicyError
from tests.conformance.loader import ConformanceCase, FormatError, load_cases, load_file
from tests.pg_server import postgres_server  # noqa: F401  (a fixture)

CASES = load_cases(Path(__file__).parent / "conformance")
# Backends deciding one case per call; PostgreSQL runs batched (postgres_outcomes).
BACKENDS = {name: make for name, make in backends.available().items() if name != "postgres"}
BATCHED = ("postgres",)
# backend → titles of cases it may skip, each with the reason. Finished backends: empty.
SKIPS: dict[str, dict[str, str]] = {name: {} for name in [*BACKENDS, *BATCHED]}


def test_suite_is_large_enough() -> None:
    assert len(CASES) >= 150


def test_finished_backends_skip_nothing() -> None:
    assert all(not skips for skips in SKIPS.values())


def test_loader_wraps_declarations_and_counts_lines_from_the_header(tmp_path: Path) -> None:
    path = tmp_path / "sample.test"
    path.write_text('# about\n\n=== bad name\ninput { a: money }\nlet x = y\nerror: E402 at 2:9\n'
                    '\n=== two outcomes\ninput { a: money }\nlet x = a\n'
                    'case: {"a": 1}\nexpect: {"values":\n  {"x": "1.00"}}\n'
                    'case: {"a": 2}\nparams: {}\nexpect: {"eligible": true}\n', encoding="utf-8")
    bad, first, second = load_file(path)
    assert bad.policy_source.splitlines()[0] == 'policy conformance "conformance" {'
    assert (bad.error_code, bad.error_line, bad.error_col) == ("E402", 3, 9)
    assert (first.title, first.line) == ("two outcomes", 11)
    assert first.expect == {"values": {"x": "1.00"}}
    assert (second.title, second.case, second.expect) == ("two outcomes (2)", {"a": 2},
                                                           {"eligible": True})


@pytest.mark.parametrize("text", [
    "=== no outcome\ninput { a: money }\ncase: {}\n",
    "=== bad json\ninput { a: money }\nexpect: {values}\n",
    "=== bad error\ninput { a: money }\nerror: E4 at here\n",
    "=== twice\ninput { a: money }\nexpect: {\"eligible\": true}\nerror: E402\n",
])
def test_loader_refuses_malformed_cases(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.test"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FormatError):
        load_file(path)


def test_every_backend_runs_sql_on_all_three_databases() -> None:
    assert {"interp", "python", "sql", "sqlite", "postgres"} <= {*BACKENDS, *BATCHED}


@pytest.mark.parametrize("backend", [*BACKENDS, *BATCHED])
@pytest.mark.parametrize("case", CASES, ids=[f"{c.file}:{c.line}" for c in CASES])
def test_conformance(case: ConformanceCase, backend: str, request: pytest.FixtureRequest
                     ) -> None:
    if case.title in SKIPS[backend]:
        pytest.skip(SKIPS[backend][case.title])
    if backend in BATCHED:
        outcome = request.getfixturevalue(f"{backend}_outcomes")[(case.file, case.line)]
    else:
        outcome = run_case(case, backend)
    if case.error_code is not None:
        assert isinstance(outcome, PolicyError), (
            f"{case.title}: expected {case.error_code}, got {outcome!r}")
        codes = [(d.code, d.span.line if d.span else None, d.span.column if d.span else None)
                 for d in outcome.diagnostics]
        assert case.error_code in [code for code, _, _ in codes], f"{case.title}: {outcome}"
        if case.error_line is not None:
            assert (case.error_code, case.error_line, case.error_col) in codes, (
                f"{case.title}: expected {case.error_code} at {case.error_line}:"
                f"{case.error_col}, got {codes}")
        return
    assert not isinstance(outcome, Exception), f"{case.title}: unexpected error {outcome!r}"
    for key, expected in case.expect.items():
        assert outcome[key] == expected, f"{case.title}: {key}"
        # DESIGN.md §4: keys keep declaration order (lets, allocations, parties, failures).
        assert in_order(outcome[key]) == in_order(expected), f"{case.title}: {key} order"


def in_order(value: object) -> object:
    """A JSON value with every object as its list of (key, value) pairs, so == sees order."""
    if isinstance(value, dict):
        return [(key, in_order(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [in_order(item) for item in value]
    return value


def run_case(case: ConformanceCase, backend: str) -> dict | PolicyError:
    compiled = compile_policy(case.policy_source, case.file, backend)
    if isinstance(compiled, PolicyError):
        return compiled
    policy, decide = compiled
    try:
        values = parse_case(policy, case.case)
        params = parse_params(policy, case.params)
        return decide(values, params)
    except PolicyError as error:
        return error


@pytest.fixture(scope="module")
def postgres_outcomes(request: pytest.FixtureRequest
                      ) -> dict[tuple[str, int], dict | PolicyError]:
    request.getfixturevalue("postgres_server")  # sets POLICYLANG_POSTGRES
    return batched_outcomes("postgres")


def batched_outcomes(dialect: str) -> dict[tuple[str, int], dict | PolicyError]:
    """Every case's outcome on a dialect's database, by (file, line), in as few queries as
    can be: one per policy and params (more where `run_many` halves a batch that fails)."""
    from policylang.engine import open_database, run_many

    database = open_database(dialect)
    outcomes: dict[tuple[str, int], dict | PolicyError] = {}
    groups: dict[tuple[str, str, str], tuple[ir.Policy, dict, list]] = {}
    for case in CASES:
        key = (case.file, case.line)
        assert key not in outcomes
        try:
            policy = compile_policy(case.policy_source, case.file, "interp")
            if isinstance(policy, PolicyError):
                raise policy
            values, params = parse_case(policy[0], case.case), parse_params(policy[0],
                                                                             case.params)
        except PolicyError as error:
            outcomes[key] = error
            continue
        group = groups.setdefault((case.file, case.policy_source, repr(params)),
                                  (policy[0], params, []))
        group[2].append((key, values))
    for policy, params, members in groups.values():
        try:
            decided = run_many(policy, [values for _, values in members], params,
                               database=database)
        except PolicyError as error:  # the policy cannot be written in PostgreSQL's SQL
            decided = [error] * len(members)
        except Exception:  # an error the engine does not translate: find whose, alone
            database.recover()
            decided = [_alone(policy, values, params, database) for _, values in members]
        for (key, _), outcome in zip(members, decided, strict=True):
            outcomes[key] = outcome
    return outcomes


def _alone(policy: ir.Policy, values: dict, params: dict, database) -> object:
    """One case's outcome; an untranslated database error is kept as the outcome itself
    (its test then fails naming it)."""
    from policylang.engine import run_many

    try:
        return run_many(policy, [values], params, database=database)[0]
    except Exception as error:  # noqa: BLE001
        database.recover()
        return error


@functools.cache
def compile_policy(source: str, file: str, backend: str
                   ) -> tuple[ir.Policy, backends.Backend] | PolicyError:
    """A policy checked and compiled once per backend: several cases share one policy."""
    try:
        policy = api.load_source(source, file)
        return policy, BACKENDS[backend](policy)
    except PolicyError as error:
        return error
