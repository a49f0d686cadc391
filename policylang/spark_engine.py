"""Running a policy's Spark SQL on Apache Spark: a session with the settings exactness needs,
cases as DataFrames (the conformance and differential tests), and whole books read from CSV
or Parquet and written as Parquet (`run --book … --engine spark`).

pyspark is optional (`pip install "policylang[spark]"`) and imported only here, only when
the Spark engine is asked for; a missing pyspark or Java runtime is an `EngineUnavailable`
with a message saying what to install. A book's cells become the typed `cases` view in
policylang/spark_cells.py, by the DuckDB engine's rules. Rows are numbered consecutively in
file order (`_numbered`), which the messages, the portfolio's ties and its report rows rely
on; a policy's portfolio rules are evaluated by policylang/spark_portfolio.py.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from policylang import book_shape, ir
from policylang.book import BookSummary
from policylang.diagnostics import PolicyError, first_line
from policylang.emit.sql_spark import build_spark_query, session_conf
from policylang.engine import decision_from_row, out_of_range, output_columns
from policylang.outputs import check_writable, replaced
from policylang.portfolio import portfolio_columns

ROW = "__pl_book_row"
RAW = "__pl_raw_"
_FILE, _START, _ID, _BASE = "__pl_file", "__pl_start", "__pl_id", "__pl_base"
_LOG_CONFIG = ("rootLogger.level = off\nrootLogger.appenderRef.stderr.ref = console\n"
               "appender.console.type = Console\nappender.console.name = console\n"
               "appender.console.target = SYSTEM_ERR\n"
               "appender.console.layout.type = PatternLayout\n"
               # Unset, Spark gives PySpark's gateway WARN and says so on stderr
               # ("Setting default log level to "WARN"", with how to change it) at every run.
               "logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer\n"
               "logger.gateway.level = off\n")


class EngineUnavailable(Exception):
    """The Spark engine cannot start here (no pyspark, no Java); the message says why."""


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


@functools.lru_cache(maxsize=4)
def session(master: str = "local[*]"):
    """The process's SparkSession (Spark allows one per JVM), with exact-decimal settings."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineUnavailable(
            "the Spark engine needs pyspark: pip install \"policylang[spark]\"") from None
    java_home = os.environ.get("JAVA_HOME")
    if not shutil.which("java") and not (java_home and Path(java_home, "bin", "java").exists()):
        raise EngineUnavailable(
            "the Spark engine needs a Java runtime (17 or later): install one (Debian: "
            "apt-get install default-jre-headless) or set JAVA_HOME")
    log_config = Path(tempfile.gettempdir()) / "policylang-spark-log4j2.properties"
    log_config.write_text(_LOG_CONFIG, encoding="utf-8")
    builder = (SparkSession.builder.master(master).appName("policylang")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "4" if master.startswith("local")
                       else "200")
               .config("spark.driver.extraJavaOptions",
                       f"-Dlog4j2.configurationFile=file:{log_config}"))
    # Spark's SQL parser (ANTLR) caches what it learnt from every query it parsed and never
    # lets go: a session scoring many policies' deeply nested CASEs filled a 4 GB heap with
    # it (the GC then took most of the time, and a broadcast join ran out of memory).
    # Spark 4 can flush the cache past a share of the driver's memory.
    builder = (builder.config("spark.sql.parser.manageParserCaches", "true")
               .config("spark.sql.parser.parserDfaCacheFlushRatio", "10"))
    if master.startswith("local"):
        builder = builder.config("spark.driver.memory",
                                 os.environ.get("POLICYLANG_SPARK_MEMORY", "4g"))
    for key, value in session_conf().items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as error:  # the JVM did not start: say so, not a Java trace
        raise EngineUnavailable(f"Spark did not start ({master}): "
                                f"{first_line(error)}") from None
    spark.sparkContext.setLogLevel("OFF")  # a failing case is an answer, not a log line
    # PySpark logs every query error with its Java stack as a JSON line on stderr before
    # raising it; the error is translated (E610/E611 at its row), the log line would be a
    # traceback beside the message.
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        logging.getLogger(name).disabled = True
    for key, value in session_conf().items():
        spark.conf.set(key, value)
    # book_portfolio's window functions (shared with DuckDB, SQLite and PostgreSQL) quote
    # names the standard way, in double quotes; string literals here are single-quoted.
    spark.conf.set("spark.sql.ansi.doubleQuotedIdentifiers", "true")
    return spark


@functools.lru_cache(maxsize=64)
def policy_query(policy: ir.Policy, param_items: tuple, limit_values: bool = True) -> str:
    """The query text; `limit_values` false: for a reader that selects no limit's value
    or bound column (sql_spark.build_spark_query)."""
    return build_spark_query(policy, dict(param_items), limit_values).sql(dialect="spark")


# ── errors ─────────────────────────────────────────────────────────────────

_CODE = re.compile(r"\[USER_RAISED_EXCEPTION\] (E6\d\d): (.*?)(?: SQLSTATE: \w+)?$",
                   re.MULTILINE)
_OVERFLOW = ("NUMERIC_VALUE_OUT_OF_RANGE", "ARITHMETIC_OVERFLOW", "DATETIME_OVERFLOW",
             "DIVIDE_BY_ZERO", "CAST_OVERFLOW", "NUMERIC_OUT_OF_SUPPORTED_RANGE")



def _is_evaluation_error(error: Exception) -> bool:
    """A row's failure at run time (raise_error, an overflow), not a query Spark rejects
    (whose text may quote the query's own messages)."""
    if type(error).__name__ == "AnalysisException":
        return False
    text = str(error)
    return bool(_CODE.search(text)) or any(name in text for name in _OVERFLOW)


def translate_error(error: Exception) -> PolicyError:
    """A Spark error raised by a policy's query → PolicyError with policylang's code."""
    text = str(error)
    match = _CODE.search(text) if _is_evaluation_error(error) else None
    if match:
        return PolicyError.single(match.group(1), match.group(2).strip())
    if _is_evaluation_error(error):
        # Not what follows `== SQL`: Spark quotes the query around the failing spot there.
        return PolicyError.single("E611", out_of_range(text.split("== SQL", 1)[0]))
    raise error


# ── cases as DataFrames ────────────────────────────────────────────────────


def _spark_type(type_: ir.Type):
    from pyspark.sql import types as T

    match type_.kind:
        case ir.Kind.MONEY | ir.Kind.PERCENT | ir.Kind.NUMBER:
            return T.DecimalType(38, 10)
        case ir.Kind.DURATION:
            return T.StructType([T.StructField("months", T.IntegerType()),
                                 T.StructField("days", T.IntegerType())])
        case ir.Kind.DATE:
            return T.DateType()
        case ir.Kind.BOOL:
            return T.BooleanType()
        case ir.Kind.ENUM:
            return T.StringType()
    raise AssertionError(type_)


def _cell(value: ir.Value, type_: ir.Type) -> object:
    if type_.kind is ir.Kind.DURATION:
        return (value.amount, 0) if value.unit == "month" else (0, value.amount)
    return value


def cases_frame(spark, policy: ir.Policy, cases: list[dict[str, ir.Value]]):
    from pyspark.sql import types as T

    fields = [T.StructField(ROW, T.LongType(), False)]
    fields += [T.StructField(f.name, _spark_type(f.type)) for f in policy.inputs]
    rows = [(index, *(_cell(case[f.name], f.type) for f in policy.inputs))
            for index, case in enumerate(cases)]
    return spark.createDataFrame(rows, T.StructType(fields))


def _result_columns(policy: ir.Policy) -> list[str]:
    columns = [quote(ROW)]
    for name, type_ in output_columns(policy):
        if type_.kind is ir.Kind.DURATION:
            columns += [f"{quote(name)}.months AS {quote(name)}",
                        f"{quote(name)}.days AS {quote(name + '__days')}"]
        else:
            columns.append(quote(name))
    return columns


def run_many(policy: ir.Policy, cases: list[dict[str, ir.Value]], params: dict[str, ir.Value],
             master: str = "local[2]") -> list[dict | PolicyError]:
    """Decisions for many cases in one Spark query; one case's error aborts a query, so a
    failing batch is halved until the failing cases stand alone."""
    spark = session(master)
    query = policy_query(policy, tuple(params.items()))
    columns = ", ".join(_result_columns(policy))

    def run(batch: list[dict[str, ir.Value]]) -> list[dict | PolicyError]:
        cases_frame(spark, policy, batch).createOrReplaceTempView("cases")
        try:
            rows = spark.sql(f"SELECT {columns} FROM ({query}) ORDER BY {quote(ROW)}").collect()
            return [decision_from_row(policy, row.asDict()) for row in rows]
        except Exception as error:
            if not _is_evaluation_error(error):
                raise
            if len(batch) == 1:
                return [translate_error(error)]
        middle = len(batch) // 2
        return run(batch[:middle]) + run(batch[middle:])

    return run(cases) if cases else []


# ── books ──────────────────────────────────────────────────────────────────


def score_book(policy: ir.Policy, book: Path, params: dict[str, ir.Value],
               out: Path | None = None, master: str = "local[*]",
               progress: Callable[[str], None] = lambda _: None,
               charts: Path | None = None, limit_values: bool = True) -> BookSummary:
    """Score every row of `book`, portfolio rules included; write `out` (a directory of
    Parquet files) only if all of it succeeds, by renaming a temporary directory; with each
    limit's value and bound columns unless `limit_values` is false."""
    started = time.perf_counter()
    if out is not None and out.suffix.lower() == ".csv":
        raise PolicyError.single("E607", f"{out}: the Spark engine writes Parquet: give a "
                                 "directory (or a name ending in .parquet)")
    if out is not None:
        check_writable(out, folder=out.is_dir())  # a directory of Parquet files replaces it
    if charts is not None:
        check_writable(charts, folder=True)
    repeated = book_shape.repeated_name(book) if book.suffix.lower() == ".csv" else None
    if repeated is not None:
        raise repeated
    spark = session(master)
    raw = _read(spark, book)
    columns = raw.columns
    outputs = output_columns(policy) + portfolio_columns(policy)
    clashes = sorted(set(columns) & {name for name, _ in outputs})
    if clashes:
        raise PolicyError.single("E608", f"{book}: column `{clashes[0]}` has the name of an "
                                 "output column of the policy; rename it in the book")
    from policylang.spark_cells import create_cases

    try:
        _numbered(spark, raw).createOrReplaceTempView("__pl_book")
        progress(f"reading {book}")
        create_cases(spark, policy, book, raw)
    except Exception as error:
        raise _as_read_error(book, error) from None
    progress(f"converted {len(policy.inputs)} input columns; scoring")
    report: dict = {}
    if policy.portfolio is None:
        query = policy_query(policy, tuple(params.items()), limit_values)
        output = spark.sql(query).select(*_output_selection(policy, columns, limit_values))
    else:
        from policylang import spark_portfolio

        progress("scoring and evaluating the portfolio rules")
        report = spark_portfolio.evaluate_book(
            spark, policy, params, str(book),
            lambda failing, error: first_failing_row(spark, failing, str(book), error))
        output = spark_portfolio.portfolio_output(
            spark, policy, _output_selection(policy, columns, limit_values))
    drawn: list[Path] = []
    if charts is not None and policy.portfolio is not None:
        from policylang.book_portfolio import SPARK, series
        from policylang.charts import write_charts
        from policylang.spark_portfolio import SparkConnection

        progress(f"drawing charts in {charts}")
        drawn = write_charts(policy, series(SparkConnection(spark), policy, SPARK), params,
                             charts)
    try:
        if out is not None:
            progress(f"writing {out}")
            _write_atomically(output, out)
            scored = spark.read.parquet(str(out))
        else:
            scored = output
        eligible, failures, totals, rows = _summarise(policy, scored, limit_values)
    except Exception as error:
        if not _is_evaluation_error(error):
            # FAILFAST stops at a misshapen CSV row; name it as the DuckDB engine does
            misshapen = book_shape.misshapen(book) if book.suffix.lower() == ".csv" else None
            raise misshapen or PolicyError.single("E607", f"{out or book}: Spark failed: "
                                                  f"{first_line(error)}") from None
        raise first_failing_row(spark, policy_query(policy, tuple(params.items()),
                                                    limit_values), str(book), error) from None
    return BookSummary(rows, eligible, failures, totals, out, time.perf_counter() - started,
                       tuple(c for c in columns if c not in {f.name for f in policy.inputs}),
                       report, tuple(drawn))


def _numbered(spark, raw):
    """The book with ROW, each row's index in the file (from 0, consecutive). Spark reads a
    file as splits (byte ranges): within a split rows come in file order, and
    monotonically_increasing_id counts them one by one within a task (its partition
    index sits in the high bits), so a row's index is the rows of the earlier splits
    (files in path order, splits by start) plus its id minus its split's first id. The ids
    are a function of the file listing, so every later scan gives each row the same."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    tagged = raw.select("*", F.col("_metadata.file_path").alias(_FILE),
                        F.col("_metadata.file_block_start").alias(_START),
                        F.monotonically_increasing_id().alias(_ID))
    splits = tagged.groupBy(_FILE, _START).agg(F.min(_ID), F.count(F.lit(1))).collect()
    bases, seen = [], 0
    for file, start, first, count in sorted(splits, key=lambda split: (split[0], split[1])):
        bases.append((file, start, seen - first))
        seen += count
    schema = T.StructType([T.StructField(_FILE, T.StringType()),
                           T.StructField(_START, T.LongType()),
                           T.StructField(_BASE, T.LongType())])
    table = spark.createDataFrame(bases, schema)
    return tagged.join(F.broadcast(table), [_FILE, _START]).select(
        *[F.col(quote(c)) for c in raw.columns], (F.col(_ID) + F.col(_BASE)).alias(ROW))


def _as_read_error(book: Path, error: Exception) -> Exception:
    """What stopped the reading of `book`: for a CSV, its first misshapen row where it has
    one (Spark's FAILFAST stops without naming it, and reads bytes that are not UTF-8 as
    U+FFFD, which a cell's message then shows); else the error itself, or E607."""
    if book.suffix.lower() == ".csv" and (not isinstance(error, PolicyError)
                                          or "\ufffd" in str(error)):
        misshapen = book_shape.misshapen(book)
        if misshapen is not None:
            return misshapen
    if isinstance(error, PolicyError):
        return error
    return PolicyError.single("E607", f"{book}: Spark could not read it: {first_line(error)}")


def _read(spark, book: Path):
    kind = {".csv": "csv", ".parquet": "parquet"}.get(book.suffix.lower())
    if kind is None:
        raise PolicyError.single("E607", f"{book}: the book must be a .csv or .parquet file")
    if not book.exists():
        raise PolicyError.single("E607", f"{book}: no such file")
    try:
        if kind == "csv":
            frame = (spark.read.option("header", "true").option("mode", "FAILFAST")
                     .option("encoding", "UTF-8").csv(str(book)))
        else:
            frame = spark.read.parquet(str(book))
        frame.schema  # noqa: B018 — resolve the schema now, so a bad file fails here
    except Exception as error:
        raise _as_read_error(book, error) from None
    return frame


def _row_number(row_id: int) -> int:
    """A row's number in the file (from 1 after a CSV's header), from its index."""
    return row_id + 1


def _output_selection(policy: ir.Policy, columns: list[str], limit_values: bool) -> list:
    """The book's columns as read, then the decision columns (durations as text)."""
    from pyspark.sql import functions as F

    inputs = {f.name: i for i, f in enumerate(policy.inputs)}
    selected = [F.col(quote(RAW + str(inputs[c]))).alias(c) if c in inputs else F.col(quote(c))
                 for c in columns]
    for name, type_ in output_columns(policy, limit_values):
        if type_.kind is ir.Kind.DURATION:
            selected.append(F.expr(_duration_text(quote(name))).alias(name))
        else:
            selected.append(F.col(quote(name)))
    return selected


def _duration_text(column: str) -> str:
    """A duration as the decision JSON writes it (`2 years`, `18 months`, `0 days`)."""
    months, days = f"{column}.months", f"{column}.days"

    def counted(amount: str, unit: str) -> str:
        return (f"CAST({amount} AS STRING) || CASE WHEN abs({amount}) = 1 THEN ' {unit}' "
                f"ELSE ' {unit}s' END")

    return (f"CASE WHEN {column} IS NULL THEN NULL "
            f"WHEN {days} <> 0 OR {months} = 0 THEN {counted(days, 'day')} "
            f"WHEN {months} % 12 = 0 THEN {counted(f'({months} div 12)', 'year')} "
            f"ELSE {counted(months, 'month')} END")


def _write_atomically(output, out: Path) -> None:
    """Write `output` as Parquet files in a temporary folder beside `out` and rename it
    into place: a failed write leaves what `out` was whole. Through a symbolic link the
    folder it points at is replaced and the link kept, as DuckDB's engine keeps it; a
    folder replaced keeps its permissions."""
    # absolute: a cluster's executors do not share this process's working directory
    target, temporary = replaced(out.absolute())
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(temporary, ignore_errors=True)
    try:
        output.write.mode("overwrite").parquet(str(temporary))
    except Exception:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    if target.is_dir():  # a file's permissions would not do for a folder (no x bit)
        os.chmod(temporary, stat.S_IMODE(target.stat().st_mode))
    previous = target.with_name(f".{target.name}.{os.getpid()}.old")
    if target.exists():
        target.rename(previous)
    try:
        temporary.rename(target)
    except OSError:  # the old output back where it was, nothing new beside it
        if previous.exists():
            previous.rename(target)
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    if previous.exists():
        shutil.rmtree(previous) if previous.is_dir() else previous.unlink()


def _summarise(policy: ir.Policy, scored, limit_values: bool) -> tuple[int, dict[str, int],
                                                    dict[str, dict[str, Decimal]], int]:
    checks = [c.name for c in policy.checks]
    parts = [(a.name, p) for a in policy.allocations
             if not (isinstance(a, ir.Shares) and a.amount is None) for p in a.parties]
    # Every decision column is read (hashed), so Spark computes each one and a row that
    # fails anywhere fails here, as it does on DuckDB, even when nothing is written.
    every = ", ".join(quote(name) for name, _ in output_columns(policy, limit_values))
    aggregates = ["count(*)", "count_if(eligible)", f"max(hash({every}))"]
    aggregates += [f"count_if(NOT {quote('rule__' + c)})" for c in checks]
    aggregates += [f"sum({quote(f'{a}__{p}')})" for a, p in parts]
    scored.createOrReplaceTempView("__pl_scored")
    values = scored.sparkSession.sql(f"SELECT {', '.join(aggregates)} FROM __pl_scored").first()
    rows, eligible = int(values[0]), int(values[1] or 0)
    failures = {c: int(v or 0) for c, v in zip(checks, values[3:3 + len(checks)], strict=True)}
    totals: dict[str, dict[str, Decimal]] = {}
    for (alloc, party), total in zip(parts, values[3 + len(checks):], strict=True):
        totals.setdefault(alloc, {})[party] = Decimal(total or 0).quantize(Decimal("0.01"))
    return eligible, failures, totals, rows


def first_failing_row(spark, query: str, where: str, error: Exception) -> PolicyError:
    """The evaluation error of the first row on which `query` (over the `cases` view) fails,
    found by halving the row indices; `cases` is restored afterwards."""
    first = translate_error(error)
    spark.table("cases").createOrReplaceTempView("__pl_all_cases")
    bounds = spark.sql(f"SELECT min({quote(ROW)}), max({quote(ROW)}) FROM __pl_all_cases").first()
    low, high = int(bounds[0]), int(bounds[1])
    try:
        while low < high:
            middle = (low + high) // 2
            spark.sql(f"SELECT * FROM __pl_all_cases WHERE {quote(ROW)} BETWEEN {low} AND "
                      f"{middle}").createOrReplaceTempView("cases")
            try:  # every column is hashed, so none is pruned
                spark.sql(f"SELECT max(hash(*)) FROM ({query}) t").collect()
                low = middle + 1
            except Exception as probe_error:
                first = translate_error(probe_error)
                high = middle
    finally:
        spark.table("__pl_all_cases").createOrReplaceTempView("cases")
    diagnostic = first.diagnostics[0]
    return PolicyError.single(diagnostic.code, f"{where}: row {_row_number(low)}: "
                              f"{diagnostic.message}")
