"""The main job: `policylang build policies` passes, and `generated/` is never stale.

The build is re-run into a temporary folder and compared file by file with the committed
`generated/`: any difference (a changed policy, a changed emitter) fails with the command
that regenerates it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from policylang.build import MANIFEST, build_all, read_manifest
from policylang.cli import app

ROOT = Path(__file__).resolve().parents[1]


def _files(folder: Path) -> dict[str, str]:
    # Python's own caches (importing a generated module from generated/python writes one
    # where PYTHONDONTWRITEBYTECODE is not set) are no output of build.
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*"))
            if p.is_file() and "__pycache__" not in p.relative_to(folder).parts}


@pytest.fixture(scope="module")
def seed_build(tmp_path_factory: pytest.TempPathFactory):
    """`policylang build policies` into a fresh folder, once for this module's tests (it
    runs every test block on every backend)."""
    folder = tmp_path_factory.mktemp("generated")
    return build_all(ROOT / "policies", folder), folder


def test_generated_is_up_to_date(seed_build) -> None:
    report, folder = seed_build
    assert report.ok, report.summary()
    committed = _files(ROOT / "generated")
    fresh = _files(folder)
    # The manifest too: it names policy files from the project's folder, so a build into
    # any other folder writes the same bytes.
    assert MANIFEST in committed, "generated/ has no manifest"
    stale = sorted(set(committed) ^ set(fresh) | {n for n in fresh if
                                                  committed.get(n) != fresh[n]})
    assert not stale, f"generated/ is stale ({', '.join(stale)}): run `policylang build policies`"


def test_seed_policies_meet_the_bar(seed_build) -> None:
    report, _ = seed_build
    assert len(report.policies) >= 9
    assert report.tests_run // len(report.backends) >= 45
    for policy in report.policies.values():
        for declaration in (*policy.checks, *policy.lets, *policy.allocations):
            assert declaration.cite, f"{policy.name}: {declaration.name} has no cite"
        for rule in policy.portfolio.rules if policy.portfolio else ():
            assert rule.cite, f"{policy.name}: {rule.name} has no cite"


def test_build_of_a_broken_policy_writes_nothing(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "bad.pol").write_text('policy bad "bad" { input { a: money } '
                                      'limit cap: a <= 5% cite "x" }\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["build", str(policies), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "error[E202]" in result.output
    assert not (tmp_path / "out").exists()


def test_portfolio_rules_are_never_silently_left_out_of_compiled_sql() -> None:
    policy = ROOT / "policies" / "foshan" / "microloan_2022.pol"
    refused = CliRunner().invoke(app, ["compile", str(policy), "--target", "sql"])
    assert refused.exit_code != 0
    assert "E612" in refused.output
    assert "monitor compensation_rate" in refused.output
    assert "budget annual_compensation" in refused.output
    per_case = CliRunner().invoke(app, ["compile", str(policy), "--target", "sql",
                                        "--per-case"])
    assert per_case.exit_code == 0, per_case.output
    header = [line for line in per_case.output.splitlines() if line.startswith("--")]
    assert any("monitor compensation_rate" in line for line in header)
    assert any("budget annual_compensation" in line for line in header)
    committed = (ROOT / "generated" / "sql" / "foshan_microloan_2022.sql").read_text("utf-8")
    assert "-- NOT IN THIS QUERY: monitor compensation_rate" in committed


def test_build_of_a_directory_without_policies_is_a_usage_error(tmp_path: Path) -> None:
    for missing, says in ((tmp_path, "no .pol files found"),
                          (tmp_path / "nowhere", "no such file or directory")):
        result = CliRunner().invoke(app, ["build", str(missing), "-o", str(tmp_path / "out")])
        assert result.exit_code == 2, result.output
        assert "error[E607]" in result.output and says in result.output
        assert not (tmp_path / "out").exists()


def test_two_files_of_one_policy_name_point_at_the_second_name(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    _policy(policies / "a", "same")
    _policy(policies / "b", "same")
    result = CliRunner().invoke(app, ["build", str(policies), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert "error[E403]" in result.output and "also declared in" in result.output
    # the policy's name on its first line, not 1:1
    assert "b/same.pol:1:8" in result.output.replace("\\", "/"), result.output
    assert not (tmp_path / "out").exists()


def _policy(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / f"{name}.pol"
    file.write_text(f'policy {name} "{name}" {{\n  input {{\n    a: money\n  }}\n\n'
                    '  limit cap: a <= 10元 cite "x"\n}\n', encoding="utf-8")
    return file


def _build(directory: Path, output: Path) -> str:
    result = CliRunner().invoke(app, ["build", str(directory), "-o", str(output)])
    assert result.exit_code == 0, result.output
    return result.output


def _generated(output: Path) -> set[str]:
    return {str(p.relative_to(output)) for p in output.rglob("*") if p.is_file()}


def test_a_build_removes_what_it_made_stale_and_nothing_else(tmp_path: Path) -> None:
    policies, out = tmp_path / "policies", tmp_path / "out"
    first = _policy(policies / "a", "first")
    _policy(policies / "b", "second")
    _build(policies, out)
    assert _generated(out) == {"manifest.json", "python/first.py", "python/second.py",
                               "sql/first.sql", "sql/second.sql"}
    own = {out / "python" / "__init__.py": "", out / "sql" / "README.md": "mine\n"}
    for path, text in own.items():
        path.write_text(text, encoding="utf-8")

    # Building one subfolder leaves the other folder's files (and the user's) alone.
    _build(policies / "a", out)
    assert {"python/second.py", "sql/second.sql"} <= _generated(out)
    assert set(read_manifest(out)) == {"python/first.py", "python/second.py",
                                       "sql/first.sql", "sql/second.sql"}

    # A policy renamed in its file: the old name's files go, from a build of its folder.
    first.write_text(first.read_text("utf-8").replace("policy first", "policy renamed"),
                     encoding="utf-8")
    said = _build(policies / "a", out)
    assert "2 stale ones removed" in said
    assert not {"python/first.py", "sql/first.sql"} & _generated(out)
    assert {"python/renamed.py", "python/second.py"} <= _generated(out)

    # A deleted policy file: its files go at the next build, whatever folder it builds.
    (policies / "b" / "second.pol").unlink()
    _build(policies / "a", out)
    assert _generated(out) == {"manifest.json", "python/renamed.py", "sql/renamed.sql",
                               "python/__init__.py", "sql/README.md"}
    assert all(path.read_text("utf-8") == text for path, text in own.items())
    # Paths from the folder holding both the policies and the output (no project marker).
    assert read_manifest(out) == {"python/renamed.py": "policies/a/first.pol",
                                  "sql/renamed.sql": "policies/a/first.pol"}


def test_an_unreadable_manifest_makes_a_build_remove_nothing(tmp_path: Path) -> None:
    policies, out = tmp_path / "policies", tmp_path / "out"
    _policy(policies, "kept")
    _build(policies, out)
    (policies / "kept.pol").unlink()
    _policy(policies, "other")
    for broken, warned in (("{", True), ('{"files": ["python/kept.py"]}', True),
                           ('{"files": {"../../x": "y"}}', False),
                           ('{"files": {"python/kept.py": "../policies/kept.pol"}}', False)):
        (out / MANIFEST).write_text(broken, encoding="utf-8")
        said = _build(policies, out)
        assert ("is not a manifest written by `policylang build`; no file was removed as "
                "stale" in " ".join(said.split())) is warned, said
        assert {"python/kept.py", "python/other.py"} <= _generated(out)
        assert set(read_manifest(out)) == {"python/other.py", "sql/other.sql"}
