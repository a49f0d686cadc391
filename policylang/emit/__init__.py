"""Code generation: one module per target, all reading the typed IR.

`targets()` maps a target name to `emit(policy, dialect=…, params=…) -> str`; `build` and
`compile` use it, so a new backend plugs in here.
"""

from __future__ import annotations


def targets() -> dict:
    found = {}
    try:
        from policylang.emit.python import emit_python
    except ImportError:
        pass
    else:
        found["python"] = lambda policy, dialect=None, params=None: emit_python(policy)
    try:
        from policylang.emit.sql import emit_sql
    except ImportError:
        pass
    else:
        found["sql"] = lambda policy, dialect="duckdb", params=None: emit_sql(
            policy, dialect=dialect, params=params or {})
    return found
