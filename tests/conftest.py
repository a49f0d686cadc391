"""Shared pytest options: `--update-goldens` rewrites golden files instead of comparing;
how many processes `-n auto` (pyproject's addopts, pytest-xdist) starts.

A golden test asks for the `update_goldens` fixture (or reads the option itself); the
environment variable POLICYLANG_UPDATE_GOLDENS=1 does the same as the switch.
"""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite golden files from the current output, then review the diff")


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens")
                or os.environ.get("POLICYLANG_UPDATE_GOLDENS"))


# Every process starts its own PostgreSQL cluster and, for a Spark test, its own JVM
# (4 GB): more than four cost more to start than they save on this suite.
MAX_PROCESSES = 4


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    return max(1, min(MAX_PROCESSES, os.cpu_count() or 1))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Grouped tests (Spark's, one process for them all) first, each group in file order:
    the group is the longest piece of work one process must do alone, so it starts while
    the other processes share everything else (collected last, it was the run's tail)."""
    items.sort(key=lambda item: item.get_closest_marker("xdist_group") is None)
