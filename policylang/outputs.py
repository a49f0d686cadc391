"""Where the files a command writes may go: every output path is checked before any work is
done for it, and text outputs are written whole or not at all.

A path that cannot be written (a file where a folder should be, a folder where a file
should be, no permission) is an E613 naming the path and the reason, found before a long
book run rather than after it. The writers that stream their output (DuckDB's COPY, Spark,
matplotlib) check first with `check_writable` and write beside the path themselves.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from policylang.diagnostics import PolicyError


def check_writable(path: Path, folder: bool = False) -> None:
    """Raise E613 unless `path` (a file, or with `folder` a folder of files) can be
    created or replaced: what exists of it is of the right kind, and its nearest existing
    ancestor is a folder this process may write in."""
    if path.exists() and path.is_dir() != folder:
        raise _refused(path, "is a folder; give a file name" if not folder
                       else "is a file, not a folder")
    ancestor = path if folder and path.exists() else path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise _refused(path, f"cannot be written: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK):
        raise _refused(path, f"cannot be written: no permission to write in {ancestor}")


def check_apart(inputs: dict[str, Path | None], outputs: dict[str, Path | None]) -> None:
    """Raise E613 where an output path names a file the command reads, or another output:
    `compile p.pol -o p.pol` would replace the policy with its module, and `--out` and
    `--report` naming one file would keep only the last written. `inputs` and `outputs`
    map a role (shown in the message: "the policy", "--report") to its path, or None."""
    read = {path.resolve(): role for role, path in inputs.items() if path is not None}
    written: dict[Path, str] = {}
    for role, path in outputs.items():
        if path is None:
            continue
        resolved = path.resolve()
        if resolved in read:
            raise _refused(path, f"is {read[resolved]}; an output never replaces what the "
                                 "command reads")
        if resolved in written:
            raise _refused(path, f"is given for both {written[resolved]} and {role}")
        written[resolved] = role


def write_text(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically: a reader sees the old file or the new
    one, and a failure leaves the old one whole and nothing beside it. A file replaced
    keeps its permissions, and a symbolic link keeps pointing at the file written."""
    check_writable(path)
    target, temporary = replaced(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(text, encoding="utf-8")
        put_in_place(temporary, target)
    except OSError as error:
        raise _refused(path, f"cannot be written: {error.strerror or error}") from None
    finally:
        temporary.unlink(missing_ok=True)


def replaced(path: Path) -> tuple[Path, Path]:
    """The file a write to `path` replaces (a symbolic link's target: the link keeps
    pointing at the file written) and the temporary file beside it that becomes it."""
    target = path.resolve() if path.is_symlink() else path
    return target, target.with_name(f".{target.name}.{os.getpid()}.tmp")


def put_in_place(temporary: Path, target: Path) -> None:
    """Rename the finished `temporary` onto `target`, keeping the permissions of a file
    it replaces."""
    if target.exists():
        os.chmod(temporary, stat.S_IMODE(target.stat().st_mode))
    temporary.replace(target)


def _refused(path: Path, reason: str) -> PolicyError:
    return PolicyError.single("E613", f"{path}: {reason}")
