"""Installing the Debian packages a test needs (PostgreSQL, a Java runtime, chromium), one
test process at a time: the suite runs in several processes (pytest-xdist), and apt-get
refuses to run while another holds dpkg's lock."""

from __future__ import annotations

import fcntl
import os
import subprocess
import tempfile
from pathlib import Path

LOCK = Path(tempfile.gettempdir()) / "policylang-apt.lock"


def install(*packages: str, recommends: bool = True) -> None:
    """`apt-get update` and `apt-get install -y PACKAGES`, as root (through `sudo -n` for
    another user), holding a lock the other test processes wait for."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    as_root = [] if os.geteuid() == 0 else ["sudo", "-n", "-E"]
    options = [] if recommends else ["--no-install-recommends"]
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run([*as_root, "apt-get", "update", "-q"], check=True, env=env,
                       capture_output=True)
        subprocess.run([*as_root, "apt-get", "install", "-y", "-q", *options, *packages],
                       check=True, env=env, capture_output=True)
