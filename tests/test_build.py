"""The main job: `policylang build policies` passes, and `generated/` is never stale.

The build is re-run into a temporary folder and compared file by file with the committed
`generated/`: any difference (a changed policy, a changed emitter) fails with the command
that regenerates it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from policylang.build import build_all
from policylang.cli import app

ROOT = Path(__file__).resolve().parents[1]


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file()}


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
