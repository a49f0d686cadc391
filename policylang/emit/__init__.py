"""Code generation: one module per target, all reading the typed IR.

`targets()` maps a target name to `emit(policy, dialect=…, params=…, per_case=…) -> str`;
`build` and `compile` use it, so a new backend plugs in here. `per_case` asks for the
per-case part of a policy whose book-level rules only `run --book` evaluates (SQL).
"""

from __future__ import annotations


def targets() -> dict:
    found = {}
    try:
        from policylang.emit.python import emit_python
    except ImportError:
        pass
    else:
        found["python"] = lambda policy, dialect=None, params=None, per_case=False: \
            emit_python(policy)
    try:
        from policylang.emit.sql import emit_sql
    except ImportError:
        pass
    else:
        found["sql"] = lambda policy, dialect="duckdb", params=None, per_case=False: \
            emit_sql(policy, dialect=dialect, params=params or {}, per_case=per_case)
    return found
