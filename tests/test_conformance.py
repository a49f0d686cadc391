"""The shared conformance suite (tests/conformance/*.test), run on every backend.

Each case is a small policy, a case and params, and either the expected decision (every
top-level key given is compared exactly, key order included) or the expected error code
(and, for check errors, its line and column). The format is described in
tests/conformance/loader.py. Backends listed in SKIPS may skip named cases; the list
must stay empty for a finished backend, and a test asserts that it is.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from policylang import api, backends, ir
from policylang.cases import parse_case, parse_params
from policylang.diagnostics import PolicyError
from tests.conformance.loader import ConformanceCase, load_cases

CASES = load_cases(Path(__file__).parent / "conformance")
BACKENDS = backends.available()
# backend → titles of cases it may skip, each with the reason. Finished backends: empty.
SKIPS: dict[str, dict[str, str]] = {name: {} for name in BACKENDS}


def test_suite_is_large_enough() -> None:
    assert len(CASES) >= 150


def test_finished_backends_skip_nothing() -> None:
    assert all(not skips for skips in SKIPS.values())


@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.parametrize("case", CASES, ids=[f"{c.file}:{c.line}" for c in CASES])
def test_conformance(case: ConformanceCase, backend: str) -> None:
    if case.title in SKIPS[backend]:
        pytest.skip(SKIPS[backend][case.title])
    outcome = run_case(case, backend)
    if case.error_code is not None:
        assert isinstance(outcome, PolicyError), (
            f"{case.title}: expected {case.error_code}, got a decision {outcome}")
        codes = [(d.code, d.span.line if d.span else None, d.span.column if d.span else None)
                 for d in outcome.diagnostics]
        assert case.error_code in [code for code, _, _ in codes], f"{case.title}: {outcome}"
        if case.error_line is not None:
            assert (case.error_code, case.error_line, case.error_col) in codes, (
                f"{case.title}: expected {case.error_code} at {case.error_line}:"
                f"{case.error_col}, got {codes}")
        return
    assert not isinstance(outcome, PolicyError), f"{case.title}: unexpected error {outcome}"
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


@functools.cache
def compile_policy(source: str, file: str, backend: str
                   ) -> tuple[ir.Policy, backends.Backend] | PolicyError:
    """A policy checked and compiled once per backend: several cases share one policy."""
    try:
        policy = api.load_source(source, file)
        return policy, BACKENDS[backend](policy)
    except PolicyError as error:
        return error
