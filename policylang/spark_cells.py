"""A book's cells as typed inputs on Spark: the `cases` view that `run --book --engine spark`
scores, read with the DuckDB engine's rules (policylang/book_cells.py) so a book means the
same on both engines.

Owns the strict patterns in Spark SQL (`fast_expression`: policylang/cell_patterns.py in
Spark's dialect, `SPARK`): a text cell in a common literal form (`500万`, `3.45%`, `150bp`,
`2 years`, `2021-02-24`, an enum member) and a typed Parquet cell (DECIMAL, integer, DATE,
BOOLEAN) become their value inside Spark; every other distinct text is read once by the
case reader (`cases.convert`) and joined back in, so its value, or its error with the row
and column, is the case JSON's. Also owns the checks a column fails as a whole: a required
input without a column or with a missing value (E602), and a column whose type cannot hold
the input's values (E608).
"""

from __future__ import annotations

from pathlib import Path

from policylang import ir
from policylang.cases import convert
from policylang.cell_patterns import Dialect, duration_forms, text_forms
from policylang.diagnostics import PolicyError
from policylang.emit.sql_spark import literal_sql
from policylang.spark_engine import RAW, ROW, _cell, _row_number, _spark_type, quote
from policylang.values import INPUT_LIMIT

_NUMERIC = ("ByteType", "ShortType", "IntegerType", "LongType", "DecimalType")


def sql_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def create_cases(spark, policy: ir.Policy, book: Path, raw) -> None:
    """The typed `cases` view: every book column (inputs kept raw as __pl_raw_<i>), the
    inputs converted to their types, and the row id."""
    types = {f.name: type(f.dataType).__name__ for f in raw.schema.fields}
    decimal_scale = {f.name: getattr(f.dataType, "scale", 0) for f in raw.schema.fields}
    fast: dict[str, str] = {}
    for f in policy.inputs:
        if f.name in types:
            fast[f.name] = fast_expression(quote(f.name), f, types[f.name],
                                           decimal_scale[f.name], book, policy)
        elif f.default is None:
            raise PolicyError.single(
                "E602", f"{book}: no column `{f.name}` ({f.type}), which the policy requires",
                notes=["columns: " + ", ".join(raw.columns)])
    # One pass: the first row missing each required value, and how many cells each column
    # leaves to the case reader.
    probes = []
    for i, f in enumerate(policy.inputs):
        if f.name not in fast:
            continue
        q = quote(f.name)
        probes.append(f"min(CASE WHEN {q} IS NULL THEN {quote(ROW)} END) AS missing_{i}")
        probes.append(f"count(CASE WHEN {q} IS NOT NULL AND ({fast[f.name]}) IS NULL "
                      f"THEN 1 END) AS pending_{i}")
    found = spark.sql(f"SELECT {', '.join(probes)} FROM __pl_book").first().asDict() \
        if probes else {}
    joins: list[str] = []
    selects = ["__pl_book.*"]
    for i, f in enumerate(policy.inputs):
        q = quote(f.name)
        if f.name not in fast:
            selects.append(f"{_default(policy, f)} AS {q}")
            continue
        missing = found[f"missing_{i}"]
        if missing is not None and f.default is None:
            raise PolicyError.single("E602", f"{book}: row {_row_number(missing)}, "
                                     f"column `{f.name}`: no value, and the field ({f.type}) "
                                     "has no default")
        value = fast[f.name]
        if found[f"pending_{i}"]:
            table = _slow_values(spark, q, value, f, book, policy, i)
            joins.append(f"LEFT JOIN {table} ON {table}.raw = CAST(__pl_book.{q} AS STRING)")
            value = f"COALESCE({value.replace(q, '__pl_book.' + q)}, {table}.value)"
        else:
            value = value.replace(q, "__pl_book." + q)
        if f.default is not None:
            # `cases` holds each case as the case reader gives it, defaults filled in, as
            # on DuckDB: the ordering check (E609) and the charts read these columns.
            value = f"COALESCE({value}, {_default(policy, f)})"
        selects.append(f"{value} AS {quote(RAW + str(i))}")
    typed = spark.sql(f"SELECT {', '.join(selects)} FROM __pl_book {' '.join(joins)}")
    for i, f in enumerate(policy.inputs):
        if f.name in fast:
            typed = typed.withColumnRenamed(f.name, f"__pl_text_{i}") \
                .withColumnRenamed(RAW + str(i), f.name).withColumnRenamed(f"__pl_text_{i}",
                                                                          RAW + str(i))
    typed.createOrReplaceTempView("cases")


def _default(policy: ir.Policy, f: ir.Field) -> str:
    if f.default is None:
        return f"CAST(NULL AS {_spark_type(f.type).simpleString()})"
    return literal_sql(policy, f.default, f.type)


def _slow_values(spark, q: str, fast: str, f: ir.Field, book: Path, policy: ir.Policy,
                 index: int) -> str:
    """Cells the SQL pattern does not take, read by the case reader; a mapping view."""
    from pyspark.sql import types as T

    pending = spark.sql(
        f"SELECT CAST({q} AS STRING) AS raw, min({quote(ROW)}) AS first FROM __pl_book "
        f"WHERE {q} IS NOT NULL AND ({fast}) IS NULL GROUP BY 1 ORDER BY first").collect()
    values = []
    for text, first in pending:
        where = f"{book}: row {_row_number(first)}, column `{f.name}`"
        values.append((text, _cell(convert(text, f.type, policy, where), f.type)))
    table = f"__pl_map_{index}"
    schema = T.StructType([T.StructField("raw", T.StringType()),
                           T.StructField("value", _spark_type(f.type))])
    spark.createDataFrame(values, schema).createOrReplaceTempView(table)
    return table


def fast_expression(q: str, f: ir.Field, spark_type: str, scale: int, book: Path,
                    policy: ir.Policy) -> str:
    """The cell's typed value where the strict pattern takes it, else NULL."""
    kind = f.type.kind
    if spark_type == "StringType":
        return _from_text(q, f, policy)
    if f.type.numeric and spark_type in _NUMERIC:
        if scale > 10:  # more places than policylang keeps: the case reader judges each
            return "CAST(NULL AS DECIMAL(38,10))"
        return (f"CASE WHEN abs({q}) < {int(INPUT_LIMIT)} THEN CAST({q} AS DECIMAL(38,10)) "
                "END")
    if kind is ir.Kind.DATE and spark_type == "DateType":
        return q
    if kind is ir.Kind.BOOL and spark_type == "BooleanType":
        return q
    hint = (" exact values need DECIMAL or text columns, never binary floating point"
            if spark_type in ("FloatType", "DoubleType") else "")
    raise PolicyError.single("E608", f"{book}: column `{f.name}` has type {spark_type}, which "
                             f"cannot hold {f.type} values;{hint or ' use a text column'}")


def _matches(text: str, pattern: str) -> str:
    return f"({text} RLIKE {sql_string('^' + pattern + '$')})"


SPARK = Dialect(string=sql_string, matches=_matches,
                cut=lambda text, n: f"substring({text}, 1, length({text}) - {n})", point="[.]")


def _from_text(q: str, f: ir.Field, policy: ir.Policy) -> str:
    """The DuckDB engine's strict literal patterns (cell_patterns.py) in Spark SQL."""
    if f.type.kind is ir.Kind.DURATION:
        return f"CASE {_duration_branches(f'trim({q})')} END"
    return text_forms(q, f, policy, SPARK)


def _duration_branches(text: str) -> str:
    branches = []
    for form in duration_forms():
        amount = f"CAST(regexp_extract({text}, '^(-?[0-9]+)', 1) AS INT) * {form.factor}"
        months, days = (amount, "0") if form.family == "month" else ("0", amount)
        branches.append(f"WHEN {_matches(text, form.pattern)} THEN "
                        f"named_struct('months', {months}, 'days', {days})")
    return " ".join(branches)
