"""Output paths (policylang/outputs.py): every command that writes a file refuses a path it
cannot write with E613 and exit 2, before doing the work, and leaves nothing behind."""

from __future__ import annotations

import os
import pathlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policylang import outputs
from policylang.cli import app
from policylang.diagnostics import PolicyError

ROOT = Path(__file__).parent.parent
FOSHAN = ROOT / "policies" / "foshan" / "microloan_2022.pol"
PREVIOUS = ROOT / "policies" / "foshan" / "microloan_previous.pol"

# Each command with its output path last; `{}` is where the path goes.
COMMANDS = {
    "compile": ["compile", str(FOSHAN), "-o", "{}"],
    "explain": ["explain", str(FOSHAN), "--case", "case.json", "-o", "{}"],
    "diff": ["diff", str(PREVIOUS), str(FOSHAN), "-o", "{}"],
    "doc": ["doc", str(FOSHAN), "-o", "{}"],
    "run --out": ["run", str(FOSHAN), "--book", "book.csv", "--out", "{}.csv"],
    "run --report": ["run", str(FOSHAN), "--book", "book.csv", "--report", "{}"],
    "run --charts": ["run", str(FOSHAN), "--book", "book.csv", "--charts", "{}"],
    "synth": ["synth", str(FOSHAN), "--rows", "5", "-o", "{}.csv"],
    "build": ["build", str(FOSHAN.parent), "-o", "{}"],
}
# Where each command's path cannot be: below a file, or (for a file) an existing folder.
FOLDER_OUTPUTS = {"run --charts", "build"}


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a_file").write_text("not a folder", encoding="utf-8")
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "book.csv").write_text(
        "borrower,loan_amount,term,interest_rate\nenterprise,100万,1 year,5%\n",
        encoding="utf-8")
    (tmp_path / "case.json").write_text(
        '{"borrower": "enterprise", "loan_amount": "100万", "term": "1 year", '
        '"interest_rate": "5%"}', encoding="utf-8")
    return tmp_path


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_output_below_a_file_is_refused_before_any_work(workspace: Path,
                                                           command: str) -> None:
    before = _listing(workspace)
    arguments = [a.replace("{}", "a_file/sub/out") for a in COMMANDS[command]]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "error[E613]: a_file/sub/out" in result.stderr
    assert "a_file is a file, not a folder" in result.stderr
    assert result.stdout == ""  # refused first: no summary of a scored book, no "wrote"
    assert _listing(workspace) == before


@pytest.mark.parametrize("command", sorted(set(COMMANDS) - FOLDER_OUTPUTS))
def test_a_folder_where_a_file_goes_is_refused(workspace: Path, command: str) -> None:
    (workspace / "a_folder.csv").mkdir()  # where `run --out` and `synth` write
    before = _listing(workspace)
    arguments = [a.replace("{}", "a_folder") for a in COMMANDS[command]]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 2, result.output
    assert f"error[E613]: {arguments[-1]}: is a folder; give a file name" in result.stderr
    assert _listing(workspace) == before


@pytest.mark.parametrize("command", sorted(FOLDER_OUTPUTS))
def test_a_file_where_a_folder_goes_is_refused(workspace: Path, command: str) -> None:
    arguments = [a.replace("{}", "a_file") for a in COMMANDS[command]]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 2, result.output
    assert "error[E613]: a_file: is a file, not a folder" in result.stderr
    assert (workspace / "a_file").read_text(encoding="utf-8") == "not a folder"


def test_a_failed_write_keeps_the_old_file_whole_and_leaves_nothing_beside_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.py"
    target.write_text("old", encoding="utf-8")

    def full_disk(self, other):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pathlib.Path, "replace", full_disk)
    with pytest.raises(PolicyError) as raised:
        outputs.write_text(target, "new")
    assert raised.value.code == "E613"
    assert str(raised.value.diagnostics[0].message) == \
        f"{target}: cannot be written: No space left on device"
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.py"]


def test_a_file_rewritten_keeps_its_permissions_and_its_links(tmp_path: Path) -> None:
    real = tmp_path / "policies" / "p.pol"
    real.parent.mkdir()
    real.write_text("old", encoding="utf-8")
    os.chmod(real, 0o640)
    link = tmp_path / "p.pol"
    link.symlink_to(real)
    outputs.write_text(link, "new")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new"
    assert oct(real.stat().st_mode & 0o777) == oct(0o640)
    assert sorted(p.name for p in real.parent.iterdir()) == ["p.pol"]


def test_a_missing_folder_is_made(tmp_path: Path) -> None:
    outputs.check_writable(tmp_path / "new" / "deeper" / "out.sql")
    outputs.write_text(tmp_path / "new" / "deeper" / "out.sql", "SELECT 1\n")
    assert (tmp_path / "new" / "deeper" / "out.sql").read_text(encoding="utf-8") == "SELECT 1\n"


@pytest.mark.parametrize(("arguments", "refusal"), [
    (["compile", "p.pol", "-o", "p.pol"], "p.pol: is the policy"),
    (["compile", "p.pol", "-o", "./sub/../p.pol"], "sub/../p.pol: is the policy"),
    (["run", "p.pol", "--book", "book.csv", "--out", "book.csv"], "book.csv: is the book"),
    (["run", "p.pol", "--book", "book.csv", "--out", "o.csv", "--report", "o.csv"],
     "o.csv: is given for both --out and --report"),
    (["run", "p.pol", "--book", "book.csv", "--report", "case.json"], None),
    (["explain", "p.pol", "--case", "case.json", "-o", "case.json"], "case.json: is the case"),
    (["diff", "old.pol", "p.pol", "-o", "old.pol"], "old.pol: is the old policy"),
    (["doc", "p.pol", "--source", "seed.txt", "-o", "seed.txt"], "seed.txt: is the seed text"),
    (["synth", "p.pol", "-o", "book.csv"], None),
])
def test_an_output_never_replaces_what_the_command_reads(
        workspace: Path, arguments: list[str], refusal: str | None) -> None:
    """`compile p.pol -o p.pol` replaced the policy with its module; `--out` and `--report`
    on one file kept only the report. (Writing over a file the command does not read, as
    `--report case.json` or a new synthetic book, is allowed.)"""
    (workspace / "sub").mkdir()
    for name, source in (("p.pol", FOSHAN), ("old.pol", PREVIOUS)):
        (workspace / name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (workspace / "seed.txt").write_text("第一条", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in workspace.iterdir() if p.is_file()}
    result = CliRunner().invoke(app, arguments)
    if refusal is None:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 2, result.output
    assert f"error[E613]: {refusal}" in result.stderr
    assert {p.name: p.read_bytes() for p in workspace.iterdir() if p.is_file()} == before
