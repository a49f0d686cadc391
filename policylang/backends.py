"""Backends as callables: (case values, param values) → decision JSON.

The interpreter, the generated Python module (compiled and loaded in memory) and, when
present, the generated SQL on DuckDB all take the same inputs and return the same JSON, so
`policylang test`, `build` and the conformance suite hold every backend to one bar.
"""

from __future__ import annotations

import types
from collections.abc import Callable

from policylang import ir
from policylang.diagnostics import PolicyError
from policylang.interpret import evaluate
from policylang.values import literal

Backend = Callable[[dict[str, ir.Value], dict[str, ir.Value]], dict]


def interpreter(policy: ir.Policy) -> Backend:
    return lambda case, params: evaluate(policy, case, params)


def load_python_module(policy: ir.Policy, source: str | None = None) -> types.ModuleType:
    """The generated Python module of a policy, compiled and loaded without a file."""
    from policylang.emit.python import emit_python

    code = source if source is not None else emit_python(policy)
    module = types.ModuleType(f"policylang_generated_{policy.name}")
    # dont_inherit: this file's `from __future__ import annotations` must not leak into the
    # module (pydantic would then see its annotations as strings it cannot resolve).
    exec(compile(code, f"<generated {policy.name}.py>", "exec", dont_inherit=True),  # noqa: S102
         module.__dict__)
    return module


def python(policy: ir.Policy) -> Backend:
    module = load_python_module(policy)
    types_by_name = {f.name: f.type for f in policy.inputs}
    param_types = {p.name: p.type for p in policy.params}

    def run(case: dict[str, ir.Value], params: dict[str, ir.Value]) -> dict:
        raw_case = {name: _as_input(value, types_by_name[name]) for name, value in case.items()}
        raw_params = {name: _as_input(value, param_types[name]) for name, value in params.items()}
        try:
            return module.evaluate(raw_case, **raw_params)
        except Exception as error:  # the generated module's own error type carries a code
            code = getattr(error, "code", None)
            if isinstance(code, str) and code.startswith("E6"):
                raise PolicyError.single(code, str(getattr(error, "message", error))) from None
            raise

    return run


def _as_input(value: ir.Value, type_: ir.Type) -> object:
    """A run-time value in the literal form every backend's case input accepts."""
    if type_.kind in (ir.Kind.BOOL, ir.Kind.ENUM):
        return value
    return literal(value, type_)


SPARK_MASTER = "local[2]"


def spark(policy: ir.Policy) -> Backend:
    """The policy's Spark SQL on a local Spark, many cases per query (`batched`). Spark
    spends about a second on any query, so this checks that the Spark engine agrees with
    the others rather than serving an edit loop: it is not in `available()` (`build` and
    a bare `policylang test` never start a JVM) and runs when asked for by name. Raises
    `spark_engine.EngineUnavailable` (no pyspark, no Java) before any case runs."""
    from policylang.spark_engine import run_many, session

    session(SPARK_MASTER)

    def many(cases: list[dict[str, ir.Value]], params: dict[str, ir.Value]
             ) -> list[dict | PolicyError]:
        return run_many(policy, cases, params, master=SPARK_MASTER)

    return batched(many)


def batched(many: Callable[[list[dict[str, ir.Value]], dict[str, ir.Value]],
                           list[dict | PolicyError]]) -> Backend:
    """A Backend over `many` (cases → each one's decision or PolicyError, in one query),
    whose `.many` lets a caller that knows every case beforehand (`api.run_tests`) ask for
    them at once."""
    def run(case: dict[str, ir.Value], params: dict[str, ir.Value]) -> dict:
        (result,) = many([case], params)
        if isinstance(result, PolicyError):
            raise result
        return result

    run.many = many  # type: ignore[attr-defined]
    return run


def on_request() -> dict[str, Callable[[ir.Policy], Backend]]:
    """Every backend `policylang test --backend` takes: `available()` and Spark."""
    return {**available(), "spark": spark}


class BackendUnavailable(Exception):
    """A `--backend` list naming a backend that does not exist or cannot run here; the
    message says what to do."""


def requested(text: str) -> list[str]:
    """The names in a `--backend` list (`interp,sql`), each one `on_request()` offers."""
    known = on_request()
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    # postgres is known by name, offered only with a server to run on; a list naming it
    # and a misspelt one is told about the misspelling first, then about the server.
    misspelt = [name for name in unknown if name != "postgres"]
    if misspelt or not names:
        server = "" if "postgres" in known else (
            ", and postgres with a server named by POLICYLANG_POSTGRES")
        raise BackendUnavailable(f"unknown backend {misspelt[0] if misspelt else text!r}; "
                                 f"choose from {', '.join(known)}{server}")
    if unknown:
        raise BackendUnavailable("backend postgres needs a PostgreSQL server: set "
                                 "POLICYLANG_POSTGRES to its connection string (host=… port=… "
                                 "dbname=…)")
    return names


def made(policy: ir.Policy, names: list[str]) -> dict[str, Backend]:
    """The named backends for one policy; Spark's modules load only when it is named."""
    makers = on_request()
    if "spark" not in names:
        return {name: makers[name](policy) for name in names}
    from policylang.spark_engine import EngineUnavailable

    try:
        return {name: makers[name](policy) for name in names}
    except EngineUnavailable as error:
        raise BackendUnavailable(f"--backend spark: {error}") from None


def available() -> dict[str, Callable[[ir.Policy], Backend]]:
    from policylang import emit

    found: dict[str, Callable[[ir.Policy], Backend]] = {"interp": interpreter}
    targets = emit.targets()
    if "python" in targets:
        found["python"] = python
    if "sql" in targets:
        from policylang.engine import sql_backend

        found["sql"] = sql_backend
        found["sql-narrow"] = lambda policy: sql_backend(policy, "duckdb-narrow")
        found["sqlite"] = lambda policy: sql_backend(policy, "sqlite")
        from policylang.engine import postgres_conninfo

        if postgres_conninfo() is not None:  # a server named by POLICYLANG_POSTGRES
            found["postgres"] = lambda policy: sql_backend(policy, "postgres")
    return found


def book_backend(name: str, policy: ir.Policy, case_backend: Backend):
    """A book test's backend: (cases, params) → (decisions, portfolio columns, report).

    The interpreter, DuckDB and Spark evaluate the whole book themselves; SQLite and PostgreSQL
    decide each case with their per-case query and run the portfolio's window functions on
    the book; any other backend decides each case itself and takes the portfolio columns
    from the interpreter."""
    from policylang.portfolio import evaluate_book

    def interpreted(cases, params):
        result = evaluate_book(policy, cases, params, where="test book")
        return result.decisions, result.columns, result.report

    if name == "interp":
        return interpreted
    if name == "sql":
        from policylang.book import score_cases

        return lambda cases, params: score_cases(policy, cases, params)

    if name == "spark":
        from policylang.spark_portfolio import score_cases as score_on_spark

        return lambda cases, params: score_on_spark(policy, cases, params,
                                                    master=SPARK_MASTER, where="test book")

    if name in ("sqlite", "postgres"):
        from policylang.book_portfolio import score_cases_on

        def on_database(cases, params):
            columns, report = score_cases_on(name, policy, cases, params, where="test book")
            return [case_backend(case, params) for case in cases], columns, report

        return on_database

    def per_case(cases, params):
        _, columns, report = interpreted(cases, params)
        return [case_backend(case, params) for case in cases], columns, report

    return per_case
