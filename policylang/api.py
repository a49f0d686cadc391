"""The public Python API: load a policy, decide a case, run its tests.

    from policylang import api
    policy = api.load("policies/chongqing/zhubaodai.pol")
    decision = api.decide(policy, {"loan_amount": "300万", ...}, {"benchmark_rate": "4.35%"})

Every user mistake raises `PolicyError` (with `.diagnostics`, each with a stable code).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path

from policylang import ir
from policylang.cases import parse_case, parse_params
from policylang.checker import check
from policylang.diagnostics import PolicyError
from policylang.interpret import evaluate
from policylang.parser import parse
from policylang.testing import TestResult, run_test

__all__ = ["PolicyError", "load", "load_source", "decide", "interpreter_backend", "run_tests",
           "policy_files", "read_case", "read_source"]


def read_source(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        raise PolicyError.single("E607", f"{path}: cannot read the file: {reason}") from None


def read_case(path: str | Path) -> object:
    """A case JSON file, its numbers kept exact (`Decimal`, never float)."""
    text = read_source(path).removeprefix("\ufeff")  # a byte-order mark, as a CSV may have
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise PolicyError.single("E607", f"{path}:{error.lineno}:{error.colno}: not valid JSON: "
                                 f"{error.msg}") from None
    except ValueError:  # Python reads at most 4,300 digits of a whole number
        raise PolicyError.single("E607", f"{path}: a number in it has more than 4,300 "
                                 "digits") from None
    except RecursionError:
        raise PolicyError.single("E607", f"{path}: its arrays or objects nest too deeply")\
            from None


def load_source(source: str, file: str = "<string>") -> ir.Policy:
    return check(parse(source, file), source)


def load(path: str | Path) -> ir.Policy:
    return load_source(read_source(path), str(path))


def decide(policy: ir.Policy, case: Mapping[str, object],
           params: Mapping[str, object] | None = None, *, case_name: str = "case",
           params_name: str = "params") -> dict:
    """The decision JSON (DESIGN.md §4) for one case given as JSON-like values; an input
    error names the case and the params as `case_name` and `params_name` say."""
    return evaluate(policy, parse_case(policy, case, where=case_name),
                    parse_params(policy, params or {}, where=params_name))


def interpreter_backend(policy: ir.Policy):
    return lambda case, params: evaluate(policy, case, params)


def run_tests(policy: ir.Policy, backends: Mapping[str, object] | None = None
              ) -> list[TestResult]:
    """Run every test block of the policy on each backend (default: the interpreter)."""
    from policylang.backends import book_backend
    from policylang.testing import run_book_test

    backends = {name: _answering_every_case(policy, backend) for name, backend in
                (backends or {"interp": interpreter_backend(policy)}).items()}
    results = []
    for test in policy.tests:
        for name, backend in backends.items():
            if test.book is None:
                results.append(run_test(policy, test, name, backend))
            else:
                results.append(run_book_test(policy, test, name,
                                             book_backend(name, policy, backend)))
    return results


def _answering_every_case(policy: ir.Policy, backend):
    """`backend`, or, for one that decides many cases at once (`.many`, such as Spark,
    whose every query costs about a second), a backend that decided every per-case test's
    case beforehand: one query per set of params."""
    from policylang.testing import test_case

    many = getattr(backend, "many", None)
    if many is None:
        return backend
    groups: dict[tuple, tuple[dict, list[dict]]] = {}
    for test in policy.tests:
        if test.book is not None:
            continue
        try:
            case, params = test_case(policy, test)
        except PolicyError:
            continue  # run_test reports it
        groups.setdefault(_key(params), (params, []))[1].append(case)
    answers = {}
    for params, cases in groups.values():
        for case, answer in zip(cases, many(cases, params), strict=True):
            answers[_key(case), _key(params)] = answer

    def answer(case: dict, params: dict) -> dict:
        found = answers.get((_key(case), _key(params)))
        if found is None:
            return backend(case, params)
        if isinstance(found, PolicyError):
            raise found
        return found

    return answer


def _key(values: dict) -> tuple:
    return tuple(sorted(values.items()))


def policy_files(paths: Iterable[str | Path] | str | Path) -> list[Path]:
    """The .pol files named, or found under the directories named, in a stable order (one
    path may be given alone: a string is not read as its characters)."""
    if isinstance(paths, str | Path):
        paths = [paths]
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(path.rglob("*.pol"))
        elif path.exists():
            files.append(path)
        else:
            raise PolicyError.single("E607", f"{path}: no such file or directory")
    return files
