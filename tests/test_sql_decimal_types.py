"""DuckDB's DECIMAL types as the narrowed query's builder infers them
(emit/sql_decimal_types.py), against DuckDB's own `typeof`:
- each rule on its own (sums, products capped at 18 digits, LEAST/GREATEST/CASE/COALESCE,
  ROUND/TRUNC, ABS, negation, an ERROR branch, a CASE without ELSE);
- random trees of those nodes over typed columns;
- what the inference is for: 重庆's book query casts no computed value to fewer digits
  than DuckDB holds it in (a cast DuckDB checks value by value), only the inputs.
"""

from __future__ import annotations

import re

import duckdb
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from policylang import api
from policylang.cases import parse_params
from policylang.emit.sql_decimal_types import DecimalType, type_of
from policylang.emit.sql_tree import case, fail, fn, paren
from policylang.engine import book_query, measure_bounds

COLUMNS = {"a": DecimalType(10, 2), "b": DecimalType(11, 3), "c": DecimalType(18, 2),
           "d": DecimalType(5, 4), "e": DecimalType(18, 10), "f": DecimalType(30, 2),
           "g": DecimalType(1, 0)}


def _duckdb_type(e: exp.Expression) -> DecimalType | None:
    columns = ", ".join(f"CAST(1 AS DECIMAL({t.precision},{t.scale})) AS {name}"
                        for name, t in COLUMNS.items())
    found = duckdb.connect().execute(
        f"SELECT typeof({e.sql('duckdb')}) FROM (SELECT {columns}, random() < 2 AS p)"
    ).fetchone()[0]
    match = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", found)
    return DecimalType(int(match[1]), int(match[2])) if match else None


def _c(name: str) -> exp.Column:
    return exp.column(name)


def _cast(value: str, precision: int, scale: int) -> exp.Expression:
    return exp.Cast(this=exp.Literal.number(value),
                    to=exp.DataType.build(f"DECIMAL({precision},{scale})"))


CASES = {
    "sum of two scales": exp.Add(this=_c("a"), expression=_c("b")),
    "sum past 18 digits": exp.Add(this=_c("c"), expression=_c("c")),
    "difference with a constant": exp.Sub(this=_c("a"), expression=_cast("0", 1, 0)),
    "product in 64 bits": exp.Mul(this=_c("a"), expression=_c("d")),
    "product capped to 18 digits": exp.Mul(this=_c("c"), expression=_c("a")),
    "product of many places": exp.Mul(this=_c("e"), expression=_c("e")),
    "product of 18 places": exp.Mul(this=_c("e"), expression=exp.Cast(
        this=_c("a"), to=exp.DataType.build("DECIMAL(18,8)"))),
    "product of a 128-bit operand": exp.Mul(this=_c("f"), expression=_c("a")),
    "LEAST": fn("LEAST", _c("a"), _c("b")),
    "GREATEST with zero": fn("GREATEST", _c("a"), _cast("0", 1, 0)),
    "CASE": case((_c("p"), _c("a")), otherwise=_c("b")),
    "CASE with an ERROR branch": case((_c("p"), fail("E611", "no")), otherwise=_c("b")),
    "CASE without ELSE": exp.Case(ifs=[exp.If(this=_c("p"), true=_c("d"))]),
    "COALESCE": exp.func("COALESCE", _c("a"), _cast("0", 12, 5)),
    "ROUND": fn("ROUND", exp.Mul(this=_c("a"), expression=_c("d")), exp.Literal.number(2)),
    "TRUNC": fn("TRUNC", _c("b"), exp.Literal.number(2)),
    "ABS": fn("ABS", _c("b")),
    "negation in parentheses": exp.Neg(this=paren(_c("a"))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_rule_gives_duckdbs_type(name: str) -> None:
    e = CASES[name]
    assert type_of(e, COLUMNS) == _duckdb_type(e)


def test_what_is_not_a_decimal_is_unknown() -> None:
    assert type_of(exp.Cast(this=_c("a"), to=exp.DataType.build("BIGINT")), COLUMNS) is None
    assert type_of(_c("missing"), COLUMNS) is None
    assert type_of(fn("SIGN", _c("a")), COLUMNS) is None


def _tree() -> st.SearchStrategy[exp.Expression]:
    leaves = st.sampled_from(sorted(COLUMNS)).map(_c) | st.builds(
        _cast, st.sampled_from(["0", "1", "0.5"]), st.integers(3, 12), st.just(1))

    def extend(inner: st.SearchStrategy[exp.Expression]) -> st.SearchStrategy[exp.Expression]:
        # sqlglot writes no parentheses of its own: `a * (b + c)` needs its Paren.
        two = st.tuples(inner.map(paren), inner.map(paren))
        return st.one_of(
            two.map(lambda p: exp.Add(this=p[0], expression=p[1])),
            two.map(lambda p: exp.Sub(this=p[0], expression=p[1])),
            two.map(lambda p: exp.Mul(this=p[0], expression=p[1])),
            two.map(lambda p: fn("LEAST", *p)),
            two.map(lambda p: fn("GREATEST", *p)),
            two.map(lambda p: case((_c("p"), p[0]), otherwise=p[1])),
            inner.map(lambda x: fn("ABS", x)),
        )

    return st.recursive(leaves, extend, max_leaves=6)


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(e=_tree())
def test_random_trees_get_duckdbs_type(e: exp.Expression) -> None:
    try:
        wanted = _duckdb_type(e)
    except duckdb.Error:
        return  # a type DuckDB cannot bind (wider than 38 digits): never built
    assert type_of(e, COLUMNS) == wanted


def test_chongqing_narrows_only_its_inputs(tmp_path) -> None:
    """Every DECIMAL cast in 重庆's book query past its input layer widens, keeps the
    type, or rounds to fewer places; none narrows a value DuckDB already holds in 64
    bits (the cast DuckDB checks value by value, which the bounds make needless)."""
    from policylang import book
    from policylang.synthetic import write_book

    policy = api.load("policies/chongqing/zhubaodai.pol")
    connection = duckdb.connect()
    book.load_cases(connection, policy, write_book(policy, 200, tmp_path / "book.parquet"))
    query = book_query(policy, parse_params(policy, {}), (book.ROW,),
                       measure_bounds(connection, policy))
    narrowing, checked = [], 0
    for select in sqlglot.parse_one(query, read="duckdb").find_all(exp.Select):
        source = select.args["from_"].this
        if isinstance(source, exp.Table):
            continue  # the input layer: the book's DECIMAL(18,2) to each input's bounds
        for cast in select.find_all(exp.Cast):
            if cast.find_ancestor(exp.Select) is not select:
                continue
            want = DecimalType.of(cast.to)
            if want is None or isinstance(cast.this, exp.Literal):
                continue
            found = connection.execute(f"SELECT typeof({cast.this.sql('duckdb')}) FROM "
                                       f"{source.sql('duckdb')} LIMIT 1").fetchone()[0]
            have = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", found)
            checked += 1
            if have and int(have[2]) == want.scale and int(have[1]) > want.precision and \
                    int(have[1]) <= 18:
                narrowing.append(f"{cast.this.sql('duckdb')}: {found} → {want}")
    assert checked > 10 and narrowing == []
