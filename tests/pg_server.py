"""A real PostgreSQL server for the SQL backend's tests (a session-scoped fixture).

Uses the server named by POLICYLANG_POSTGRES when it answers; otherwise starts a private
cluster (`initdb` + `pg_ctl`, a unix socket in a temporary directory, a free port), as
the `postgres` user when running as root (initdb refuses root), installing Debian's
`postgresql` package first when no PostgreSQL binaries are present. Stopped at session end.
Import the fixture into a test module with `from tests.pg_server import postgres_server`.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import apt


def _answers(conninfo: str) -> bool:
    import psycopg

    try:
        psycopg.connect(conninfo, connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def _binaries() -> Path:
    """The directory holding initdb and pg_ctl, installing PostgreSQL if there is none."""
    for attempt in range(2):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if found:
            return Path(found[-1]).parent
        on_path = shutil.which("initdb")
        if on_path:
            return Path(on_path).resolve().parent
        if attempt == 0:
            apt.install("postgresql")
    raise RuntimeError("PostgreSQL binaries not found after installing postgresql")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_owner(command: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *command] if owner else command


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A libpq connection string to a running server; also put in POLICYLANG_POSTGRES so
    the engine's `postgres` backend finds it."""
    given = os.environ.get("POLICYLANG_POSTGRES")
    if given and _answers(given):
        yield given
        return
    binaries = _binaries()
    owner = "postgres" if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="policylang-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    if owner:
        shutil.chown(folder, owner)
        shutil.chown(sockets, owner)
    port = _free_port()
    subprocess.run(_as_owner([str(binaries / "initdb"), "-D", str(data), "-A", "trust",
                              "-U", "postgres", "--no-sync", "-E", "UTF8"], owner),
                   check=True, capture_output=True)
    options = f"-k {sockets} -p {port} -c listen_addresses='' -c fsync=off"
    subprocess.run(_as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-o", options,
                              "-l", str(folder / "log"), "-w", "start"], owner),
                   check=True, capture_output=True)
    conninfo = f"host={sockets} port={port} user=postgres dbname=postgres"
    previous = os.environ.get("POLICYLANG_POSTGRES")
    os.environ["POLICYLANG_POSTGRES"] = conninfo
    try:
        yield conninfo
    finally:
        if previous is None:
            os.environ.pop("POLICYLANG_POSTGRES", None)
        else:
            os.environ["POLICYLANG_POSTGRES"] = previous
        subprocess.run(_as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast",
                                  "stop"], owner), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
