"""The README stays true: its error table matches the registry, its example checks, and its
two commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from policylang import api
from policylang.formatter import format_source
from policylang.messages import markdown_table

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_error_table_matches_the_registry() -> None:
    table = README.split("<!-- error-codes:start -->")[1].split("<!-- error-codes:end -->")[0]
    assert table.strip() == markdown_table()


def test_readme_policy_examples_check_and_pass_their_tests() -> None:
    blocks = re.findall(r"```pol\n(.*?)```", README, re.S)
    assert blocks
    for block in blocks:
        policy = api.load_source(block, "README.md")
        assert all(result.passed for result in api.run_tests(policy))
        # copied into policies/, an example must pass `build`, which refuses unformatted files
        assert format_source(block, "README.md") == block


def test_ci_runs_the_readme_test_command() -> None:
    command = 'pip install -e ".[dev]" && python -m pytest'
    assert command in README
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
