"""`policylang build`: check, format-check, test on every backend, and compile every policy.

Collects everything into a `BuildReport` (the CLI prints it). Generated files are written
only when the whole build succeeds, each atomically. The output folder's `manifest.json`
lists every file a build wrote with the policy file it came from (relative to the project's
folder, so the manifest is the same wherever the output is written); a listed file is
removed when its policy file is gone, or lies in the folder being built and no longer
yields it (a renamed policy).
So `generated/` always matches `policies/`, a build of one subfolder leaves the other
policies' files alone, and a file the build did not write is never touched.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from policylang import api, backends, emit, ir
from policylang.diagnostics import PolicyError
from policylang.formatter import format_source
from policylang.lint import lint
from policylang.outputs import check_writable, write_text
from policylang.testing import TestResult

_EXTENSIONS = {"python": ".py", "sql": ".sql"}
MANIFEST = "manifest.json"
_ABOUT = ("Written by `policylang build`: each file it generated, with the policy file it "
          "comes from (relative to the project's folder). A build removes a listed file "
          "when that policy file is gone, or lies in the folder built and no longer yields "
          "it; it never removes a file not listed here.")


@dataclass
class BuildReport:
    rows: list[tuple] = field(default_factory=list)
    policies: dict[Path, ir.Policy] = field(default_factory=dict)
    errors: list[PolicyError] = field(default_factory=list)
    test_failures: list[tuple[Path, TestResult]] = field(default_factory=list)
    unformatted: list[Path] = field(default_factory=list)
    lint: list = field(default_factory=list)  # lint.LintResult per policy (never fails a build)
    outputs: dict[Path, str] = field(default_factory=dict)
    sources: dict[Path, Path] = field(default_factory=dict)  # output file → policy file
    removed: list[Path] = field(default_factory=list)  # stale generated files removed
    warnings: list[str] = field(default_factory=list)  # never fail a build
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
        if self.removed:
            written += f", {len(self.removed)} stale ones removed"
        return (f"{status}: {len(self.policies)} policies, {self.tests_run - failed}/"
                f"{self.tests_run} test runs passed on {', '.join(self.backends)}; "
                f"compiled to {compiled}; {written}; {len(self.errors)} with errors, "
                f"{len(self.unformatted)} unformatted")


def build_all(directory: Path, output: Path) -> BuildReport:
    check_writable(output, folder=True)
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
            path = output / target / f"{policy.name}{_EXTENSIONS[target]}"
            report.outputs[path], report.sources[path] = code, file
        checks = policy.checks
        report.rows.append((
            policy.name, str(file),
            sum(isinstance(c, ir.Rule) for c in checks),
            sum(isinstance(c, ir.Limit) for c in checks),
            len(policy.lets), len(policy.allocations), len(policy.tests) * len(runners),
            passed, ",".join(runners)))
    _check_unique_names(report)
    if report.ok:
        _write(report, directory, output)
    return report


def _check_unique_names(report: BuildReport) -> None:
    seen: dict[str, Path] = {}
    for file, policy in report.policies.items():
        if policy.name in seen:
            report.errors.append(PolicyError.single(
                "E403", f"policy `{policy.name}` is also declared in {seen[policy.name]}; "
                "generated files are named after policies", _name_span(policy)))
        seen[policy.name] = file


def _name_span(policy: ir.Policy):
    from policylang.nodes import Span

    return policy.name_span or Span(policy.file, 1, 1, 1, 1)


def _write(report: BuildReport, directory: Path, output: Path) -> None:
    for path, text in report.outputs.items():
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        write_text(path, text)
    listed = {}
    listed_before, problem = _load_manifest(output)
    if problem is not None:
        report.warnings.append(f"{output / MANIFEST}: {problem}; no file was removed as "
                               "stale, and the manifest is written anew")
    root = project_root(directory, output)
    built = directory.resolve().relative_to(root)
    for name, source in listed_before.items():
        generated = output / name
        if not _stale(generated, PurePosixPath(source), root, built, report.outputs):
            listed[name] = source
        elif generated.is_file():
            generated.unlink()
            report.removed.append(generated)
    for path, source in report.sources.items():
        listed[path.relative_to(output).as_posix()] = (
            source.resolve().relative_to(root).as_posix())
    manifest = json.dumps({"about": _ABOUT, "files": dict(sorted(listed.items()))},
                          ensure_ascii=False, indent=2) + "\n"
    manifest_path = output / MANIFEST
    if not manifest_path.exists() or manifest_path.read_text(encoding="utf-8") != manifest:
        write_text(manifest_path, manifest)


def _stale(generated: Path, source: PurePosixPath, root: Path, built: Path,
           written: dict) -> bool:
    """Whether this build made `generated` stale: its policy file is gone, or lies in the
    folder built (`built`, like `source` relative to `root`) and did not yield it this
    time. Another folder's policy keeps its files: a build of that folder decides."""
    if generated in written:
        return False
    return not (root / source).exists() or source.is_relative_to(built.as_posix())


def project_root(directory: Path, output: Path) -> Path:
    """What the manifest's policy paths are relative to, so that it reads the same wherever
    the output is written: the nearest folder holding the policies with a `.git` or a
    `pyproject.toml`, else the folder holding both the policies and the output."""
    policies = directory.resolve()
    for folder in (policies, *policies.parents):
        if (folder / ".git").exists() or (folder / "pyproject.toml").is_file():
            return folder
    return Path(os.path.commonpath([policies, output.resolve()]))


def read_manifest(output: Path) -> dict[str, str]:
    """Generated file (relative to `output`) → its policy file (relative to the project's
    folder, see `project_root`), as the last build left them; empty when there is no
    manifest or it cannot be read (then no file is removed as stale)."""
    return _load_manifest(output)[0]


def _load_manifest(output: Path) -> tuple[dict[str, str], str | None]:
    """`read_manifest`, and what is wrong with the manifest if it exists but cannot be
    read (entries naming a place outside `output` or above the project are dropped
    silently)."""
    path = output / MANIFEST
    if not path.exists():
        return {}, None
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
    except (OSError, UnicodeDecodeError) as error:
        return {}, f"cannot be read ({error.__class__.__name__})"
    except (ValueError, KeyError, TypeError):
        return {}, "is not a manifest written by `policylang build`"
    if not isinstance(files, dict):
        return {}, "is not a manifest written by `policylang build`"
    return {name: source for name, source in files.items()
            if isinstance(name, str) and isinstance(source, str)
            and _inside(output, name) and _plain_relative(source)}, None


def _plain_relative(source: str) -> bool:
    """A policy path below the project's folder (an entry naming `..` or an absolute path,
    hand-edited or from an older manifest, is dropped: its file is then never removed)."""
    path = PurePosixPath(source)
    return not path.is_absolute() and ".." not in path.parts


def _inside(output: Path, name: str) -> bool:
    """A listed name that stays inside `output` (a hand-edited `../x` is ignored)."""
    return (output / name).resolve().is_relative_to(output.resolve())

