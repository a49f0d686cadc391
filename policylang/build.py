"""`policylang build`: check, format-check, test on every backend, and compile every policy.

Collects everything into a `BuildReport` (the CLI prints it). Generated files are written
only when the whole build succeeds, each atomically, and stale generated files of a
target are removed, so `generated/` always matches `policies/` exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from policylang import api, backends, emit, ir
from policylang.diagnostics import PolicyError
from policylang.formatter import format_source
from policylang.lint import lint
from policylang.testing import TestResult

_EXTENSIONS = {"python": ".py", "sql": ".sql"}


@dataclass
class BuildReport:
    rows: list[tuple] = field(default_factory=list)
    policies: dict[Path, ir.Policy] = field(default_factory=dict)
    errors: list[PolicyError] = field(default_factory=list)
    test_failures: list[tuple[Path, TestResult]] = field(default_factory=list)
    unformatted: list[Path] = field(default_factory=list)
    lint: list = field(default_factory=list)  # lint.LintResult per policy (never fails a build)
    outputs: dict[Path, str] = field(default_factory=dict)
    tests_run: int = 0
    backends: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not (self.errors or self.test_failures or self.unformatted)

    def summary(self) -> str:
        failed = len(self.test_failures)
        status = "ok" if self.ok else "FAILED"
        compiled = ", ".join(self.targets) if self.targets else "no code generators yet"
        written = f"{len(self.outputs)} generated files" if self.ok else "nothing written"
        return (f"{status}: {len(self.policies)} policies, {self.tests_run - failed}/"
                f"{self.tests_run} test runs passed on {', '.join(self.backends)}; "
                f"compiled to {compiled}; {written}; {len(self.errors)} with errors, "
                f"{len(self.unformatted)} unformatted")


def build_all(directory: Path, output: Path) -> BuildReport:
    report = BuildReport()
    makers = backends.available()
    targets = emit.targets()
    report.backends, report.targets = tuple(makers), tuple(targets)
    for file in api.policy_files([directory]):
        try:
            source = api.read_source(file)
            policy = api.load_source(source, str(file))
        except PolicyError as error:
            report.errors.append(error)
            continue
        report.policies[file] = policy
        report.lint.append(lint(policy, source))
        if format_source(source, str(file)) != source:
            report.unformatted.append(file)
        passed = 0
        try:
            runners = {name: make(policy) for name, make in makers.items()}
        except PolicyError as error:
            report.errors.append(error)
            runners = {"interp": backends.interpreter(policy)}
        for result in api.run_tests(policy, runners):
            report.tests_run += 1
            if result.passed:
                passed += 1
            else:
                report.test_failures.append((file, result))
        for target, emit_fn in targets.items():
            try:
                # generated/sql holds each policy's per-case query; its header names the
                # book-level rules that `run --book` evaluates (emit_sql)
                code = emit_fn(policy, per_case=True)
            except PolicyError as error:
                report.errors.append(error)
                continue
            report.outputs[output / target / f"{policy.name}{_EXTENSIONS[target]}"] = code
        checks = policy.checks
        report.rows.append((
            policy.name, str(file),
            sum(isinstance(c, ir.Rule) for c in checks),
            sum(isinstance(c, ir.Limit) for c in checks),
            len(policy.lets), len(policy.allocations), len(policy.tests) * len(runners),
            passed, ",".join(runners)))
    _check_unique_names(report)
    if report.ok:
        _write(report.outputs, output, tuple(targets))
    return report


def _check_unique_names(report: BuildReport) -> None:
    seen: dict[str, Path] = {}
    for file, policy in report.policies.items():
        if policy.name in seen:
            report.errors.append(PolicyError.single(
                "E403", f"policy `{policy.name}` is also declared in {seen[policy.name]}; "
                "generated files are named after policies", policy_span(policy)))
        seen[policy.name] = file


def policy_span(policy: ir.Policy):
    from policylang.nodes import Span

    return Span(policy.file, 1, 1, 1, 1)


def _write(outputs: dict[Path, str], output: Path, targets: tuple[str, ...]) -> None:
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    for target in targets:
        folder = output / target
        if folder.is_dir():
            for stale in folder.iterdir():
                if stale.is_file() and stale not in outputs:
                    stale.unlink()
