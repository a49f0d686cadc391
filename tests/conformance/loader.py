"""Reading the conformance suite's `*.test` files into cases every backend runs.

The format (one file per feature, in the spirit of mypy's test-data files)::

    # A comment line outside a case (or any line before the first `===`).

    === money in 万 keeps its fractional yuan
    input { amount: money }
    let twice = amount * 2
    case: {"amount": "1.5万"}
    expect: {"values": {"twice": "30000.00"}}

    === a let referring to an unknown name
    let x = y + 1
    error: E402 at 1:9

A case starts with a line `=== TITLE`. The lines after it, up to the first directive,
are the policy. When the policy does not start with `policy NAME "title" {` the loader
wraps it in `policy conformance "conformance" { … }`, so most cases list only the
declarations they need. Directives start at the beginning of a line:

- `case: {JSON}` — the case's input values as in case JSON (DESIGN.md §4); `{}` if absent.
- `params: {JSON}` — the `--param` values (strings, as given on the command line, or
  JSON values); `{}` if absent, so params take their defaults.
- `expect: {JSON}` — the expected decision: every top-level key given (`eligible`,
  `failures`, `values`, `allocations`, …) must equal the backend's decision exactly,
  the order of object keys included (DESIGN.md §4: declaration order); keys not given
  are not compared.
- `error: CODE [at LINE:COL]` — instead of `expect:`, the case must fail with a
  PolicyError carrying a diagnostic with CODE (check errors E1xx–E4xx, input errors E6xx,
  evaluation errors E610/E611). LINE:COL, given for check errors, is the start of the
  diagnostic's span, LINE counted from 1 at the first line after the `===` header
  (whatever the wrapping). Run-time errors carry no position here: generated code
  reports the code and message only; the interpreter's spans are tested in
  tests/test_interpret.py.

A directive's JSON may continue on the following lines that start with whitespace.
Several outcomes may follow one policy: each `case:` [`params:`] `expect:`/`error:` group
(a new group starts at each `case:`) is a case of its own, titled `TITLE (2)`, `TITLE (3)`, …
after the first. Titles are unique across the suite (skip lists name cases by title).
Expected values are worked out by hand from DESIGN.md §3–4 and docs/semantics.md, never
copied from a backend's output: the suite exists to catch a wrong backend.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

_WRAP_HEADER = 'policy conformance "conformance" {\n'
_DIRECTIVE = re.compile(r"^(case|params|expect|error):(.*)$")
_ERROR = re.compile(r"^(E\d{3})(?:\s+at\s+(\d+):(\d+))?$")


@dataclass(frozen=True)
class ConformanceCase:
    file: str  # the .test file's name
    line: int  # the line of this case's first directive (or its header) in that file
    title: str
    policy_source: str
    case: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    expect: dict = field(default_factory=dict)
    error_code: str | None = None
    error_line: int | None = None  # in policy_source, adjusted for any wrapping
    error_col: int | None = None


class FormatError(ValueError):
    """A malformed .test file: names the file and line."""


def load_cases(directory: Path) -> list[ConformanceCase]:
    cases = [case for path in sorted(directory.glob("*.test")) for case in load_file(path)]
    seen: dict[str, str] = {}
    for case in cases:
        where = f"{case.file}:{case.line}"
        if case.title in seen:
            raise FormatError(f"{where}: title {case.title!r} already used at {seen[case.title]}")
        seen[case.title] = where
    return cases


def load_file(path: Path) -> list[ConformanceCase]:
    lines = path.read_text(encoding="utf-8").splitlines()
    starts = [i for i, text in enumerate(lines) if text.startswith("===")]
    cases: list[ConformanceCase] = []
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        cases += _read_block(path.name, lines, start, end)
    return cases


def _read_block(file: str, lines: list[str], start: int, end: int) -> list[ConformanceCase]:
    title = lines[start].removeprefix("===").strip()
    if not title:
        raise FormatError(f"{file}:{start + 1}: a case needs a title after ===")
    body_end = next((i for i in range(start + 1, end) if _DIRECTIVE.match(lines[i])), end)
    policy_lines = lines[start + 1:body_end]
    wrapped = not any(text.strip().startswith("policy ") for text in policy_lines
                      if text.strip() and not text.strip().startswith("#"))
    source = "\n".join(policy_lines) + "\n"
    if wrapped:
        source = _WRAP_HEADER + source + "}\n"
    groups = _directive_groups(file, lines, body_end, end)
    if not groups:
        raise FormatError(f"{file}:{start + 1}: case {title!r} has no expect: or error:")
    cases = []
    for number, (line, directives) in enumerate(groups, start=1):
        cases.append(_case(file, line, title if number == 1 else f"{title} ({number})",
                           source, directives, 1 if wrapped else 0))
    return cases


def _directive_groups(file: str, lines: list[str], begin: int, end: int
                      ) -> list[tuple[int, dict[str, str]]]:
    """Each group's first line number and its directives (name → raw text)."""
    groups: list[tuple[int, dict[str, str]]] = []
    i = begin
    while i < end:
        text = lines[i]
        match = _DIRECTIVE.match(text)
        if match is None:
            if text.strip() and not text.lstrip().startswith("#"):
                raise FormatError(f"{file}:{i + 1}: expected case:, params:, expect: or "
                                  f"error:, got {text!r}")
            i += 1
            continue
        name, value = match.group(1), match.group(2)
        j = i + 1
        while j < end and lines[j][:1].isspace() and lines[j].strip():
            value += "\n" + lines[j]
            j += 1
        if groups and "outcome" in groups[-1][1] and name != "case":
            raise FormatError(f"{file}:{i + 1}: after expect: or error:, the next case starts "
                              f"with case:, got {name}:")
        if not groups or name == "case":
            if groups and "outcome" not in groups[-1][1]:
                raise FormatError(f"{file}:{i + 1}: the case before has no expect: or error:")
            groups.append((i + 1, {}))
        directives = groups[-1][1]
        key = "outcome" if name in ("expect", "error") else name
        if key in directives:
            raise FormatError(f"{file}:{i + 1}: {name}: given twice for one case")
        directives[key] = f"{name}:{value.strip()}" if key == "outcome" else value.strip()
        i = j
    if groups and "outcome" not in groups[-1][1]:
        raise FormatError(f"{file}:{groups[-1][0]}: the case has no expect: or error:")
    return groups


def _case(file: str, line: int, title: str, source: str, directives: dict[str, str],
          line_offset: int) -> ConformanceCase:
    def json_object(name: str) -> dict:
        if name not in directives:
            return {}
        try:
            value = json.loads(directives[name])
        except json.JSONDecodeError as error:
            raise FormatError(f"{file}:{line}: {name}: is not JSON: {error}") from None
        if not isinstance(value, dict):
            raise FormatError(f"{file}:{line}: {name}: must be a JSON object")
        return value

    kind, _, outcome = directives["outcome"].partition(":")
    common = dict(file=file, line=line, title=title, policy_source=source,
                  case=json_object("case"), params=json_object("params"))
    if kind == "expect":
        directives["expect"] = outcome
        expect = json_object("expect")
        if not expect:
            raise FormatError(f"{file}:{line}: expect: must name at least one key")
        return ConformanceCase(**common, expect=expect)
    match = _ERROR.match(outcome)
    if match is None:
        raise FormatError(f"{file}:{line}: write error: CODE or error: CODE at LINE:COL, "
                          f"got {outcome!r}")
    code, error_line, error_col = match.groups()
    return ConformanceCase(**common, error_code=code,
                           error_line=int(error_line) + line_offset if error_line else None,
                           error_col=int(error_col) if error_col else None)
