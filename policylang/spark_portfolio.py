"""A policy's `portfolio` block on Spark: book_portfolio's window functions, run by Spark.

Owns the Spark side of book-level rules (monitors, budgets, book limits) and nothing of
their construction: book_portfolio.py writes the same window functions, stage policies
and report queries for DuckDB, SQLite, PostgreSQL and Spark (its `SPARK` engine), and the
stage policies compile with the Spark SQL backend (policylang/emit/sql_spark.py), so a
running sum, a division or a rounding is exactly the interpreter's (policylang/portfolio.py).

What is Spark's here:
- `SparkConnection`, the connection book_portfolio talks to: `execute` runs a query and
  fetches its rows; `replace(table, select)` evaluates the select at once and keeps it as
  a temporary view over the materialised rows (Spark has no CREATE TEMP TABLE; a lazy view
  would re-run every stage at each later use, and an evaluation error would surface far
  from the statement that caused it; materialised, it surfaces where DuckDB's does);
- the per-case query with the portfolio's hidden lets (group keys, addends, filters);
- `evaluate_book`: a typed `cases` view (with the book's consecutive row index) → the
  ordering check (E609), `__pl_result`, `__pl_portfolio` and the report;
- `score_cases`: a list of checked cases through all of that (book tests, the
  differential test), returning what `book.score_cases` returns on DuckDB.

Work partitions by the rules' group keys: each window is a shuffle by `per` keys and a sort
by row within each group; a rule without `per` is one group, so one partition.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from policylang import ir
from policylang.book_portfolio import (
    SPARK,
    _column_value,
    check_order,
    evaluate,
    with_hidden_lets,
)
from policylang.diagnostics import PolicyError
from policylang.portfolio import check_cases, portfolio_columns

Failing = Callable[[str, Exception], PolicyError]


class SparkConnection:
    """book_portfolio's connection protocol over a SparkSession."""

    # Computed at once and kept: the per-case results and a rule's value at every case are
    # read more than once, and theirs are the expressions that can fail (a division by
    # zero), which then fails in the statement that DuckDB's fails in. Running totals and
    # the portfolio columns joined rule by rule stay lazy views over them.
    MATERIALISED = ("__pl_result", "__pl_stage")

    def __init__(self, spark):
        self.spark = spark

    def execute(self, query: str, params: list | None = None) -> _Fetched:
        return _Fetched(self.spark.sql(query, args=list(params) if params else None))

    def replace(self, table: str, select: str) -> None:
        """`table` becomes a temporary view of `select` as the views it reads are now (a
        view made from a DataFrame keeps its plan, so `__pl_portfolio` may be rebuilt from
        itself); materialised with every column if it is one of MATERIALISED."""
        frame = self.spark.sql(select)
        if table in self.MATERIALISED:
            frame = frame.localCheckpoint(eager=True)
        frame.createOrReplaceTempView(table)


class _Fetched:
    def __init__(self, frame):
        self.frame = frame

    def fetchone(self) -> tuple | None:
        row = self.frame.first()
        return None if row is None else tuple(row)

    def fetchall(self) -> list[tuple]:
        return [tuple(row) for row in self.frame.collect()]


@functools.lru_cache(maxsize=16)
def book_query(policy: ir.Policy, param_items: tuple) -> str:
    """The per-case Spark query with the portfolio's hidden lets; every `cases` column is
    carried through (the book's own columns go to the output)."""
    from policylang.emit.sql import build_query

    return build_query(with_hidden_lets(policy), dict(param_items), "spark",
                       per_case=True).sql(dialect="spark")


def evaluate_book(spark, policy: ir.Policy, params: dict[str, ir.Value], where: str,
                  failing: Failing) -> dict:
    """From the `cases` view (typed inputs, defaults filled, the row index): check the
    order (E609), materialise `__pl_result` (every `cases` column, the outputs and hidden
    lets) and `__pl_portfolio` (the row index and the portfolio columns); return the
    report. `failing(query, error)` names the first row on which `query` fails."""
    from policylang.spark_engine import _is_evaluation_error

    connection = SparkConnection(spark)
    if policy.portfolio is not None:
        check_order(connection, policy, where, SPARK)
    query = book_query(policy, tuple(params.items()))
    try:
        connection.replace("__pl_result", query)
    except Exception as error:
        if not _is_evaluation_error(error):
            raise
        raise failing(query, error) from None
    if policy.portfolio is None:
        connection.replace("__pl_portfolio", f"SELECT {SPARK.row} FROM __pl_result")
        return {}
    return evaluate(connection, policy, params, failing, SPARK)


def portfolio_output(spark, policy: ir.Policy, selection: list):
    """`selection` (columns of `__pl_result`) then the portfolio columns, in book order."""
    from pyspark.sql import functions as F

    from policylang.spark_engine import quote

    joined = spark.table("__pl_result").join(spark.table("__pl_portfolio"), SPARK.row)
    return joined.orderBy(SPARK.row).select(
        *selection, *[F.col(quote(name)) for name, _ in portfolio_columns(policy)])


def score_cases(policy: ir.Policy, cases: list[dict[str, ir.Value]],
                params: dict[str, ir.Value], master: str = "local[2]",
                where: str = "book") -> tuple[list[dict], list[dict], dict]:
    """A book of checked cases on Spark: each case's decision JSON, its portfolio columns
    (reported) and the portfolio report, as `book.score_cases` gives them on DuckDB. A
    book test's backend; errors name the row as the interpreter does."""
    from policylang.engine import decision_from_row
    from policylang.spark_engine import _result_columns, cases_frame, first_failing_row, quote
    from policylang.spark_engine import session as spark_session

    check_cases(policy, cases, where)
    spark = spark_session(master)
    cases_frame(spark, policy, cases).createOrReplaceTempView("cases")
    report = evaluate_book(spark, policy, params, where,
                           lambda query, error: first_failing_row(spark, query, where, error))
    names = portfolio_columns(policy)
    selected = _result_columns(policy) + [quote(name) for name, _ in names]
    rows = spark.sql(f"SELECT {', '.join(selected)} FROM __pl_result "
                     f"JOIN __pl_portfolio USING ({quote(SPARK.row)}) "
                     f"ORDER BY {quote(SPARK.row)}").collect()
    decisions = [decision_from_row(policy, row.asDict()) for row in rows]
    columns = [{name: _column_value(row[name], type_) for name, type_ in names}
               for row in rows]
    return decisions, columns, report
