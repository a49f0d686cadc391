"""The public Python API: load a policy, decide a case, run its tests.

    from policylang import api
    policy = api.load("policies/chongqing/zhubaodai.pol")
    decision = api.decide(policy, {"loan_amount": "300万", ...}, {"benchmark_rate": "4.35%"})
    tree, error = api.explain(policy, {"loan_amount": "300万", ...})  # why, as a tree

Every user mistake raises `PolicyError` (with `.diagnostics`, each with a stable code),
including a call with an argument of the wrong type: each public function checks its
arguments here, at the boundary, and says which one is wrong (E607), rather than leaving a
TypeError or AttributeError to surface from deep inside the compiler.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path

from policylang import ir
from policylang.cases import parse_case, parse_params
from policylang.checker import check
from policylang.diagnostics import PolicyError
from policylang.explain import Node, explain_failure
from policylang.explain import explain as explain_case
from policylang.interpret import EvaluationError, evaluate
from policylang.parser import parse
from policylang.testing import TestResult, run_test

__all__ = ["PolicyError", "load", "load_source", "decide", "explain", "interpreter_backend",
           "run_tests", "policy_files", "read_case", "read_source"]


# How a missing param is given through this API (E606's hint); the command line's `run`
# decides through `decide` too, naming its params "--param", and keeps its own wording.
_PARAMS_HOW = 'in the `params=` argument, e.g. params={{"{name}": VALUE}}'


def _misuse(argument: str, expected: str, got: object) -> PolicyError:
    return PolicyError.single("E607", f"{argument}: expected {expected}, got "
                              f"{type(got).__name__}")


def _path(value: object, argument: str = "path") -> Path:
    if isinstance(value, str | os.PathLike):
        text = os.fspath(value)  # a PathLike may give bytes, which Path refuses
        if isinstance(text, str):
            return Path(text)
    raise _misuse(argument, "a path (str or os.PathLike)", value)


def _policy(value: object) -> ir.Policy:
    if not isinstance(value, ir.Policy):
        raise _misuse("policy", "a policy from api.load or api.load_source", value)
    return value


def _text(value: object, argument: str) -> str:
    if not isinstance(value, str):
        raise _misuse(argument, "str", value)
    return value


def _keyed_by_names(value: Mapping, argument: str, what: str) -> None:
    """The keys of `value` are names (str), as a JSON object's are: another key would be
    reported as an unknown name, or fail inside the reader."""
    for key in value:
        if not isinstance(key, str):
            raise PolicyError.single("E607", f"{argument}: keys are {what} names (str), got "
                                     f"{type(key).__name__} {key!r}")


def read_source(path: str | Path, keep_line_breaks: bool = False) -> str:
    """A UTF-8 text file; its CRLF and CR line breaks read as `\\n` unless `keep_line_breaks`
    (the formatter keeps a file's own)."""
    try:
        with _path(path).open(encoding="utf-8", newline="" if keep_line_breaks else None) as f:
            return f.read()
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
    if isinstance(source, bytes | bytearray):
        raise _misuse("source", "str (decode bytes first: source.decode('utf-8'))", source)
    if isinstance(file, os.PathLike):  # the name spans carry, as text
        file = os.fspath(file)
    return check(parse(_text(source, "source"), _text(file, "file")), source)


def load(path: str | Path) -> ir.Policy:
    return load_source(read_source(path), str(path))


def decide(policy: ir.Policy, case: Mapping[str, object],
           params: Mapping[str, object] | None = None, *, case_name: str = "case",
           params_name: str = "params") -> dict:
    """The decision JSON (DESIGN.md §4) for one case given as JSON-like values; an input
    error names the case and the params as `case_name` and `params_name` say."""
    return evaluate(policy, *_read_inputs(policy, case, params, case_name, params_name))


def explain(policy: ir.Policy, case: Mapping[str, object],
            params: Mapping[str, object] | None = None, *, case_name: str = "case",
            params_name: str = "params") -> tuple[Node, EvaluationError | None]:
    """Why `case` is decided as it is: (its tree, None). A case with no decision (E610,
    E611) gives the tree of what could be computed and the error that stopped it. Input
    errors raise, as in `decide`."""
    values, bound = _read_inputs(policy, case, params, case_name, params_name)
    try:
        return explain_case(policy, values, bound), None
    except EvaluationError as error:
        return explain_failure(policy, values, bound, error), error


def _read_inputs(policy: ir.Policy, case: Mapping[str, object],
                 params: Mapping[str, object] | None, case_name: str, params_name: str):
    _policy(policy)
    _text(case_name, "case_name")
    _text(params_name, "params_name")
    if isinstance(case, Mapping):  # anything else parse_case words, as for a case file
        _keyed_by_names(case, case_name, "input field")
    if params is not None:
        if not isinstance(params, Mapping):
            raise _misuse(params_name, "a mapping of param names to values (a dict)", params)
        _keyed_by_names(params, params_name, "param")
    how = None if params_name.startswith("--") else _PARAMS_HOW
    return (parse_case(policy, case, where=case_name),
            parse_params(policy, params or {}, where=params_name, how=how))


def interpreter_backend(policy: ir.Policy):
    _policy(policy)
    return lambda case, params: evaluate(policy, case, params)


def run_tests(policy: ir.Policy, backends: Mapping[str, object] | None = None
              ) -> list[TestResult]:
    """Run every test block of the policy on each backend (default: the interpreter)."""
    from policylang.backends import book_backend
    from policylang.testing import run_book_test

    _policy(policy)
    if backends is not None:
        if not isinstance(backends, Mapping):
            raise _misuse("backends", "a mapping of names to backends (a dict)", backends)
        for name, backend in backends.items():
            if not isinstance(name, str) or not callable(backend):
                raise PolicyError.single("E607", f"backends: expected backend names (str) "
                                         f"mapped to callables (case, params) → decision, got "
                                         f"{name!r}: {type(backend).__name__}")
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
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    elif not isinstance(paths, Iterable) or isinstance(paths, bytes | bytearray):
        raise _misuse("paths", "a path or an iterable of paths", paths)
    files: list[Path] = []
    for path in (_path(item, "paths") for item in paths):
        if path.is_dir():
            files += sorted(path.rglob("*.pol"))
        elif path.exists():
            files.append(path)
        else:
            raise PolicyError.single("E607", f"{path}: no such file or directory")
    return files
