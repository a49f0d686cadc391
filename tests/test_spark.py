"""The Spark engine: the policy's Spark SQL gives exactly the interpreter's decisions, and
its portfolio rules exactly the interpreter's book columns and report.

One SparkSession (local[2]) for the whole test session; Spark's per-query cost is high, so
every policy's random cases run as ONE DataFrame through one query, and the conformance
suite runs one query per distinct policy. Books are batched too: many books become one
book whose rules group by a book number first (`_one_book_of_many`), merged in date order
(a stable sort keeps each book's own order and mixes ties across books), and the result is
split back per book. A missing Java runtime is installed from Debian's packages
(`default-jre-headless`) by the session fixture; pyspark comes with the `dev` extra.
POLICYLANG_SPARK_EXAMPLES raises the number of random cases per policy,
POLICYLANG_SPARK_BOOKS the number of random books.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from policylang import api, ir, testing
from policylang.cases import parse_case, parse_params
from policylang.diagnostics import PolicyError
from policylang.interpret import evaluate
from tests import apt
from tests.conformance.loader import load_cases
from tests.policies import ROOT, all_policies, design_example
from tests.strategies import cases, default_params

POLICIES = all_policies()
CASES_PER_POLICY = int(os.environ.get("POLICYLANG_SPARK_EXAMPLES", "200"))
BOOKS = int(os.environ.get("POLICYLANG_SPARK_BOOKS", "200"))
CONFORMANCE = load_cases(Path(__file__).parent / "conformance")
# One test process runs every Spark test: one JVM (4 GB) for the suite, not one each.
pytestmark = pytest.mark.xdist_group("spark")


def _ensure_java() -> None:
    if shutil.which("java") or os.environ.get("JAVA_HOME"):
        return
    if shutil.which("apt-get") is None:
        pytest.fail("no Java runtime and no apt-get to install one (default-jre-headless)")
    apt.install("default-jre-headless", recommends=False)


@pytest.fixture(scope="session")
def spark_engine():
    _ensure_java()
    pytest.importorskip("pyspark", reason="pyspark is installed by the dev/spark extras")
    from policylang import spark_engine

    spark_engine.session("local[2]")
    return spark_engine


def _interpret(policy, case, params):
    try:
        return evaluate(policy, case, params)
    except PolicyError as error:
        return error


@pytest.mark.parametrize("name", list(POLICIES))
def test_spark_agrees_with_interpreter(name: str, spark_engine) -> None:
    policy = POLICIES[name]
    params = default_params(policy)
    if any(value is None for value in params.values()):
        pytest.skip("a param without default cannot be bound for random cases")
    drawn: list[dict] = []

    @settings(max_examples=max(1, CASES_PER_POLICY // 25), deadline=None, derandomize=True,
              database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(batch=st.lists(cases(policy), min_size=25, max_size=25))
    def draw(batch):
        drawn.extend(batch)

    draw()
    assert len(drawn) >= CASES_PER_POLICY
    expected = [_interpret(policy, case, params) for case in drawn]
    good = [c for c, e in zip(drawn, expected, strict=True) if not isinstance(e, PolicyError)]
    wanted = [e for e in expected if not isinstance(e, PolicyError)]
    for case, want, got in zip(good, wanted, spark_engine.run_many(policy, good, params),
                               strict=True):
        assert want == got, f"case {case}:\ninterp {want}\nspark  {got}"
    bad = [(c, e) for c, e in zip(drawn, expected, strict=True) if isinstance(e, PolicyError)]
    if bad:
        # One error aborts a Spark query and each costs a query: the first failing case
        # must fail alone with exactly the interpreter's code.
        alone = spark_engine.run_many(policy, [bad[0][0]], params)[0]
        assert isinstance(alone, PolicyError) and alone.code == bad[0][1].code, (
            f"case {bad[0][0]}: interp {bad[0][1]}, spark {alone}")


def _conformance_groups():
    groups: dict[tuple[str, str], list] = {}
    for case in CONFORMANCE:
        groups.setdefault((case.policy_source, case.file), []).append(case)
    return list(groups.values())


def test_conformance_suite_on_spark(spark_engine) -> None:
    """Every conformance case whose policy checks, through Spark (one query per policy
    and params for the cases that decide, one per case that must fail at run time)."""
    ran, wrong = 0, []
    for group in _conformance_groups():
        try:
            policy = api.load_source(group[0].policy_source, group[0].file)
        except PolicyError:
            continue  # check-time errors never reach a backend
        deciding: dict[str, list] = {}
        for case in group:
            try:
                values = parse_case(policy, case.case)
                params = parse_params(policy, case.params)
            except PolicyError as error:
                assert case.error_code == error.code, f"{case.title}: {error}"
                continue
            if case.error_code is not None:
                outcome = spark_engine.run_many(policy, [values], params)[0]
                if not (isinstance(outcome, PolicyError) and outcome.code == case.error_code):
                    wrong.append(f"{case.title}: expected {case.error_code}, got {outcome}")
                ran += 1
                continue
            deciding.setdefault(repr(sorted(params.items())), []).append((case, values,
                                                                         params))
        for items in deciding.values():
            params = items[0][2]
            try:
                outcomes = spark_engine.run_many(policy, [values for _, values, _ in items],
                                                 params)
            except Exception as error:  # a query Spark rejects: every case of it is wrong
                wrong += [f"{case.title}: {str(error)[:300]}" for case, _, _ in items]
                continue
            for (case, _, _), outcome in zip(items, outcomes, strict=True):
                ran += 1
                if isinstance(outcome, PolicyError):
                    wrong.append(f"{case.title}: unexpected {outcome}")
                    continue
                wrong += [f"{case.title}: {key}: expected {expected}, got {outcome[key]}"
                          for key, expected in case.expect.items() if outcome[key] != expected]
    assert not wrong, "\n".join(wrong)
    assert ran >= 100


def test_run_book_on_spark_matches_duckdb(tmp_path: Path, spark_engine) -> None:
    """`run --book --engine spark` over a synthetic book: the same summary as DuckDB, and
    a Parquet directory written atomically; without the limits' values and bounds, the
    same columns and rows as DuckDB writes."""
    import duckdb

    from policylang.book import score_book
    from policylang.synthetic import write_book

    policy = POLICIES["design_example"]  # 助保贷 without portfolio rules: a waterfall
    book = tmp_path / "book.csv"
    write_book(policy, 500, book, 7)
    params = default_params(policy)
    duck = score_book(policy, book, params)
    out = tmp_path / "decisions"
    spark = spark_engine.score_book(policy, book, params, out, master="local[2]")
    assert (spark.cases, spark.eligible, spark.failures, spark.totals) == \
        (duck.cases, duck.eligible, duck.failures, duck.totals)
    assert any(p.suffix == ".parquet" for p in out.iterdir())
    assert not list(tmp_path.glob(".decisions.*"))  # no temporary directory left behind
    score_book(policy, book, params, tmp_path / "duck.parquet", limit_values=False)
    spark_engine.score_book(policy, book, params, tmp_path / "slim", master="local[2]",
                            limit_values=False)
    ours = duckdb.sql(f"SELECT * FROM read_parquet('{tmp_path / 'slim'}/*.parquet')")
    theirs = duckdb.sql(f"SELECT * FROM read_parquet('{tmp_path / 'duck.parquet'}')")
    assert ours.columns == theirs.columns
    assert not [c for c in ours.columns if c.endswith(("__value", "__bound"))]
    assert ours.types == theirs.types
    assert ours.fetchall() == theirs.fetchall()


def test_out_through_a_symbolic_link_writes_its_target_and_keeps_the_link(
        tmp_path: Path, spark_engine) -> None:
    """`--out` naming a link (to the last run's folder, or to a path not yet written): the
    folder it points at is replaced, keeping its permissions, and the link stays; a run
    that fails leaves the folder as it was, and nothing beside it."""
    policy = api.load_source('policy p "p" {\n input { a: money  b: money }\n'
                             ' let r = a / b\n}\n', "p.pol")
    book, failing = tmp_path / "book.csv", tmp_path / "failing.csv"
    book.write_text("a,b\n1元,2元\n3元,4元\n", encoding="utf-8")
    failing.write_text("a,b\n1元,2元\n5元,0元\n", encoding="utf-8")
    results = tmp_path / "results"
    real = results / "decisions"
    real.mkdir(parents=True)
    (real / "old.parquet").write_text("old", encoding="utf-8")
    os.chmod(real, 0o750)
    link = tmp_path / "decisions"
    link.symlink_to(real)
    fresh = tmp_path / "fresh"
    fresh.symlink_to(results / "fresh")
    for out in (link, fresh):
        summary = spark_engine.score_book(policy, book, {}, out, master="local[2]")
        assert summary.cases == 2
        assert out.is_symlink()
    assert os.readlink(link) == str(real) and os.readlink(fresh) == str(results / "fresh")
    written = sorted(p.name for p in real.iterdir())
    assert "old.parquet" not in written and any(n.endswith(".parquet") for n in written)
    assert oct(real.stat().st_mode & 0o777) == oct(0o750)
    assert any(p.suffix == ".parquet" for p in (results / "fresh").iterdir())
    with pytest.raises(PolicyError) as raised:
        spark_engine.score_book(policy, failing, {}, link, master="local[2]")
    assert raised.value.code == "E610"
    assert link.is_symlink() and sorted(p.name for p in real.iterdir()) == written
    assert sorted(p.name for p in results.iterdir()) == ["decisions", "fresh"]
    assert sorted(p.name for p in tmp_path.iterdir()) == \
        ["book.csv", "decisions", "failing.csv", "fresh", "results"]


def test_cli_engine_spark(tmp_path: Path, spark_engine) -> None:
    from policylang.cli import app
    from policylang.synthetic import write_book

    source = tmp_path / "zhubaodai.pol"
    source.write_text(design_example(), encoding="utf-8")
    policy = api.load(source)
    book = tmp_path / "book.csv"
    write_book(policy, 50, book, 3)
    result = CliRunner().invoke(app, ["run", str(source), "--book", str(book), "--engine",
                                      "spark", "--master", "local[2]", "--out",
                                      str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "50 cases" in result.output


def test_cli_engine_spark_writes_the_report_and_charts(tmp_path: Path, spark_engine) -> None:
    """`--report` and `--charts` with `--engine spark`: the JSON DuckDB writes, and a chart
    per monitor and budget."""
    import json

    from policylang.cli import app
    from policylang.synthetic import write_book

    source = ROOT / "policies" / "foshan" / "microloan_2022.pol"
    book = tmp_path / "book.csv"
    write_book(api.load(source), 80, book, 5)
    reports = {}
    for engine in ("duckdb", "spark"):
        report, charts = tmp_path / f"{engine}.json", tmp_path / f"{engine}-charts"
        result = CliRunner().invoke(app, ["run", str(source), "--book", str(book),
                                          "--engine", engine, "--master", "local[2]",
                                          "--report", str(report), "--charts", str(charts)])
        assert result.exit_code == 0, result.output
        reports[engine] = json.loads(report.read_text(encoding="utf-8"))
        assert sorted(p.name for p in charts.glob("*.png")) == [
            "budget__annual_compensation.png", "monitor__compensation_rate.png"], engine
    assert reports["spark"] == reports["duckdb"] and reports["duckdb"]


@pytest.mark.parametrize("declarations, content, code, row", [
    pytest.param(" input { amount: money }\n limit cap: amount <= 100万\n",
                 "amount\n5万\n12 apples\n", "E603", "row 2, column `amount`", id="bad cell"),
    # As on DuckDB: `4.35` would be 435%; fractions within ±1 are read as they are.
    pytest.param(" input { rate: percent }\n limit cap: rate <= 5%\n",
                 "rate\n0.0435\n-1\n1\n4.35\n", "E603", "row 4, column `rate`",
                 id="percent beyond one without its sign"),
    pytest.param(" input { a: money  b: money }\n let r = a / b\n",
                 "a,b\n1元,2元\n3元,4元\n5元,0元\n7元,0元\n", "E610", "row 3",
                 id="first failing row"),
])
def test_a_refused_book_names_its_row(declarations: str, content: str, code: str, row: str,
                                      tmp_path: Path, spark_engine) -> None:
    policy = api.load_source(f'policy p "p" {{\n{declarations}}}\n', "p.pol")
    book = tmp_path / "book.csv"
    book.write_text(content, encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        spark_engine.score_book(policy, book, {}, master="local[2]")
    assert raised.value.code == code
    assert row in raised.value.diagnostics[0].message


BIG_LIMITS = """policy big_limits "大额限额" {
  input {
    a: money
    n: number
    m: number = 1
    g: bool = true
  }
  limit cap: a * n <= 1亿 when g cite "c"
  limit floor: a <= a * m when not g cite "f"
}
"""


@pytest.mark.parametrize("row, refused", [
    ("999999999999999.9995元,10,,", True),  # cap's value: 9999999999999999.995
    ("-999999999999999.9995元,10,,", True),  # cap's value, negative
    ("999999999999999.9995元,1,-10,false", True),  # floor's bound
    ("999999999999999.9994元,10,,", False),  # cap's value rounds to 9999999999999999.99
    ("999999999999999.9995元,10,1,false", False),  # cap's value of 10^16 where cap applies not
])
def test_a_limit_side_of_10_to_the_16_is_refused_without_the_limit_columns_on_spark(
        tmp_path: Path, row: str, refused: bool, spark_engine) -> None:
    """`run --book --engine spark --no-limit-values` refuses a limit side of 10^16 yuan or
    more where the limit applies, with DuckDB's code, row and message (tests/test_book.py
    runs these rows on DuckDB). Spark prunes the limits' unselected columns, and their
    DECIMAL(18,2) casts with them: it scored these rows."""
    from policylang.cli import app

    policy = tmp_path / "big_limits.pol"
    policy.write_text(BIG_LIMITS, encoding="utf-8")
    book = tmp_path / "book.csv"
    book.write_text(f"a,n,m,g\n1元,2,,\n{row}\n", encoding="utf-8")

    def run(*engine: str):
        return CliRunner().invoke(app, ["run", str(policy), "--book", str(book),
                                        "--no-limit-values", *engine])

    spark, duck = run(*SPARK), run()
    assert not isinstance(spark.exception, Exception), spark.output
    assert spark.exit_code == duck.exit_code == (1 if refused else 0), \
        (spark.output, duck.output)
    if not refused:
        assert "2 cases" in spark.output, spark.output
        return
    assert spark.output == duck.output, (spark.output, duck.output)
    assert "error[E611]" in spark.output and "row 2" in spark.output, spark.output
    assert "must stay below 10,000,000,000,000,000元" in spark.output, spark.output


def test_a_refused_row_is_one_message_without_pysparks_logged_java_stack(
        tmp_path: Path, capfd, spark_engine) -> None:
    """A row refused by a failing cast (a limit's value of 10^16 yuan): PySpark logged the
    error with its Java stack as a JSON line on stderr before policylang's message."""
    from policylang.cli import app

    policy = tmp_path / "big_limits.pol"
    policy.write_text(BIG_LIMITS, encoding="utf-8")
    book = tmp_path / "book.csv"
    book.write_text("a,n,m,g\n1元,2,,\n999999999999999.9995元,11,,\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(policy), "--book", str(book), *SPARK])
    logged = capfd.readouterr().err
    assert result.exit_code == 1 and "error[E611]" in result.output, result.output
    for text in (result.output, logged):
        assert "QueryContextLogger" not in text and "\tat org.apache" not in text, text


def test_spark_starts_without_telling_stderr_its_log_level(spark_engine) -> None:
    """Spark says "Setting default log level to "WARN"" (and how to change it) on stderr
    at every start unless PySpark's gateway logger has a level of its own: the session's
    log configuration, loaded by the JVM, sets it off."""
    name = "org.apache.spark.api.python.PythonGatewayServer"
    log4j = spark_engine.session("local[2]")._jvm.org.apache.logging.log4j
    # What Spark asks (Logging.loggerWithCustomConfig): a configuration of its very name.
    own = log4j.LogManager.getContext(False).getConfiguration().getLoggerConfig(name)
    assert own.getName() == name and own.getLevel().toString() == "OFF"


@pytest.mark.parametrize("name", list(POLICIES))
def test_without_the_limit_columns_a_seeds_spark_query_is_the_one_it_was(name: str) -> None:
    """No seed's limit side may reach 10^16 yuan (tests/test_sql_money.py): its Spark query
    for a book scored without the limits' columns has no test added (no JVM needed)."""
    from policylang.emit.sql_spark import build_spark_query

    policy = POLICIES[name]
    params = default_params(policy)
    if any(value is None for value in params.values()):
        pytest.skip("a param without default")
    slim = build_spark_query(policy, params, limit_values=False).sql(dialect="spark")
    assert slim == build_spark_query(policy, params).sql(dialect="spark")


def test_without_the_limit_columns_the_spark_query_tests_the_sides_near_the_edge() -> None:
    from policylang.emit.sql_spark import build_spark_query

    big = api.load_source(BIG_LIMITS, "big_limits.pol")
    tested = build_spark_query(big, {}, limit_values=False).sql(dialect="spark")
    test = "E611: value out of range (a money let"  # the message's quote is escaped in SQL
    assert tested.count(test) == 2  # cap's value (a * n), floor's bound (a * m)
    assert test not in build_spark_query(big, {}).sql(dialect="spark")


def test_percent_cells_within_one_or_with_their_sign_are_read(tmp_path: Path,
                                                             spark_engine) -> None:
    policy = api.load_source('policy p "p" {\n input { rate: percent }\n'
                             ' limit cap: rate <= 5%\n}\n', "p.pol")
    book = tmp_path / "book.csv"
    book.write_text("rate\n0.0435\n-1\n1\n4.35%\n", encoding="utf-8")
    summary = spark_engine.score_book(policy, book, {}, master="local[2]")
    assert (summary.cases, summary.eligible) == (4, 3)


def test_missing_pyspark_is_a_clear_message(monkeypatch) -> None:
    import sys

    from policylang import spark_engine

    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(spark_engine.EngineUnavailable, match=r'pip install "policylang\[spark\]"'):
        spark_engine.session.__wrapped__("local[1]")


def test_missing_java_is_a_clear_message(monkeypatch) -> None:
    pytest.importorskip("pyspark", reason="pyspark is installed by the dev/spark extras")
    from policylang import spark_engine

    monkeypatch.setattr(spark_engine.shutil, "which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(spark_engine.EngineUnavailable, match="default-jre-headless"):
        spark_engine.session.__wrapped__("local[1]")


TINY_POLICY = """policy tiny "tiny" {
  input {
    a: money
  }

  limit cap: a <= 10元 cite "x"
  let double = a * 2 cite "y"

  test "under the cap" {
    given {
      a: 5元
    }
    expect eligible
    expect double == 10元
  }

  test "over the cap, expected wrongly" {
    given {
      a: 11元
    }
    expect eligible
  }

  test "a book" {
    book {
      given {
        a: 1元
      }
      given {
        a: 20元
      }
    }
    expect case 1 eligible
    expect case 2 not eligible
  }
}
"""


def test_policylang_test_runs_the_test_blocks_on_spark(tmp_path: Path, spark_engine) -> None:
    from policylang.cli import app

    source = tmp_path / "tiny.pol"
    source.write_text(TINY_POLICY, encoding="utf-8")
    result = CliRunner().invoke(app, ["test", str(source), "--backend", "interp,spark"])
    assert result.exit_code == 1, result.output
    said = " ".join(result.output.split())
    # The wrong expectation fails on Spark as on the interpreter; the rest, book included,
    # passes on both.
    assert "test 'over the cap, expected wrongly' [spark]" in said
    assert "test 'over the cap, expected wrongly' [interp]" in said
    assert "cap (value 11.00, bound 10.00)" in said
    assert "4 passed, 2 failed" in said


def test_backend_spark_without_spark_is_a_usage_error(tmp_path: Path, monkeypatch) -> None:
    from policylang import backends, spark_engine
    from policylang.cli import app

    def unavailable(policy):
        raise spark_engine.EngineUnavailable("the Spark engine needs pyspark: pip install x")

    monkeypatch.setattr(backends, "spark", unavailable)
    source = tmp_path / "tiny.pol"
    source.write_text(TINY_POLICY, encoding="utf-8")
    result = CliRunner().invoke(app, ["test", str(source), "--backend", "spark"])
    assert result.exit_code == 2, result.output
    assert "error: --backend spark: the Spark engine needs pyspark" in result.output
    assert "Traceback" not in result.output


def test_engine_spark_without_spark_says_so_as_backend_spark_does(tmp_path: Path,
                                                                     monkeypatch) -> None:
    from policylang import spark_engine
    from policylang.cli import app

    def unavailable(*args, **kwargs):
        raise spark_engine.EngineUnavailable("the Spark engine needs pyspark: pip install x")

    monkeypatch.setattr(spark_engine, "score_book", unavailable)
    source, book = tmp_path / "tiny.pol", tmp_path / "book.csv"
    source.write_text(TINY_POLICY, encoding="utf-8")
    book.write_text("a\n1元\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(source), "--book", str(book),
                                      "--engine", "spark"])
    assert result.exit_code == 2, result.output
    assert "error: --engine spark: the Spark engine needs pyspark" in result.output


# ── portfolio rules ──────────────────────────────────────────────────────────

BOOK_KEY = "pl_test_book"  # the batch's extra group key: which book a case belongs to


def _one_book_of_many(policy: ir.Policy) -> ir.Policy:
    """The policy with a number input BOOK_KEY leading every book rule's group keys, so
    that the books of a batch are each their own groups: one Spark evaluation for all."""
    span = policy.portfolio.span
    key = ir.InputRef(BOOK_KEY, ir.NUMBER, span)
    rules = tuple(dataclasses.replace(rule, per=(key,) + rule.per)
                  for rule in policy.portfolio.rules)
    return dataclasses.replace(
        policy, inputs=policy.inputs + (ir.Field(BOOK_KEY, ir.NUMBER, None, None, span),),
        portfolio=dataclasses.replace(policy.portfolio, rules=rules))


def _merged(books: list[list], date_of) -> list[tuple[int, int]]:
    """(book, index) of every case, in date order; a stable sort, so each book keeps its
    own order (it is sorted already) and equal dates of different books interleave."""
    return sorted(((b, i) for b, book in enumerate(books) for i in range(len(book))),
                  key=lambda at: date_of(books[at[0]][at[1]]))


def _split_report(report: dict, merged: list[tuple[int, int]], count: int) -> list[dict]:
    """The batch's report as each book's own: its groups, without the book key, with
    rows counted in the book."""
    def own(group: dict) -> dict:
        group = dict(group, key=group["key"][1:])
        for field in ("tripped_row", "exhausted_row"):
            if group.get(field) is not None:
                group[field] = merged[group[field] - 1][1] + 1
        return group

    split: list[dict] = [{section: {} for section in report} for _ in range(count)]
    for section, rules in report.items():
        for name, rule in rules.items():
            for b in range(count):
                split[b][section][name] = {
                    "per": rule["per"][1:], "cite": rule["cite"],
                    "groups": [own(g) for g in rule["groups"] if Decimal(g["key"][0]) == b]}
    return split


def _score_books_at_once(policy: ir.Policy, books: list[list[dict]],
                         params: dict) -> list[tuple[list, list, dict]]:
    """Each book's (decisions, portfolio columns, report), from one `score_cases` on Spark."""
    from policylang import spark_portfolio

    order_by = policy.portfolio.order_by
    merged = _merged(books, lambda case: case[order_by])
    cases = [books[b][i] | {BOOK_KEY: Decimal(b)} for b, i in merged]
    decisions, columns, report = spark_portfolio.score_cases(_one_book_of_many(policy), cases,
                                                             params)
    results = [([None] * len(book), [None] * len(book)) for book in books]
    for at, (b, i) in enumerate(merged):
        results[b][0][i], results[b][1][i] = decisions[at], columns[at]
    reports = _split_report(report, merged, len(books))
    return [(d, c, r) for (d, c), r in zip(results, reports, strict=True)]


SEED_BOOK_TESTS = {name: policy for name, policy in POLICIES.items()
                   if any(test.book is not None for test in policy.tests)}


@pytest.mark.parametrize("name", list(SEED_BOOK_TESTS))
def test_seed_book_tests_pass_on_spark(name: str, spark_engine) -> None:
    """Every `test` with a `book { … }` of the seed policies, judged on Spark's decisions,
    portfolio columns and report (the books of one policy and params in one batch)."""
    policy = SEED_BOOK_TESTS[name]
    tests = [test for test in policy.tests if test.book is not None]
    batches: dict[str, list[tuple[ir.Test, list[dict]]]] = {}
    for test in tests:
        _, params = testing.test_case(policy, test)
        cases = [{f.name: dict(given).get(f.name, f.default) for f in policy.inputs}
                 for given in test.book]
        batches.setdefault(repr(sorted(params.items())), []).append((test, cases))
    scored = {}
    for batch in batches.values():
        _, params = testing.test_case(policy, batch[0][0])
        found = _score_books_at_once(policy, [cases for _, cases in batch], params)
        scored |= {test.name: result for (test, _), result in zip(batch, found, strict=True)}
    for test in tests:
        result = testing.run_book_test(policy, test, "spark",
                                       lambda cases, params, test=test: scored[test.name])
        assert result.error is None and result.failures == [], (test.name, result.failures,
                                                                 result.error)


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _random_books() -> list[list[dict[str, str]]]:
    from tests.test_portfolio import books

    drawn: list[list[dict[str, str]]] = []

    @settings(max_examples=max(1, BOOKS * 3 // 2 // 25 + 1), deadline=None,
              derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(batch=st.lists(books(), min_size=25, max_size=25))
    def draw(batch):
        drawn.extend(batch)

    draw()
    return drawn


def test_random_books_agree_with_interpreter(tmp_path: Path, spark_engine) -> None:
    """At least 200 random books (tests/test_portfolio.py's: ties, empty books and groups,
    zero denominators, budgets that run out), as ONE CSV book through `score_book` on
    Spark: every book's report and portfolio columns are the interpreter's. Books the
    interpreter refuses give the same code and row on Spark, each run alone."""
    from pyspark.sql import functions as F

    from tests.test_portfolio import CLAIMS, COLUMNS, _interpret

    policy = api.load_source(CLAIMS, "claims.pol")
    params = {"annual_cap": Decimal(300000)}
    good, expected, refused = [], [], []
    for rows in _random_books():
        try:
            expected.append(_interpret(policy, rows))
            good.append(rows)
        except PolicyError as error:
            refused.append((rows, error))
    assert len(good) >= BOOKS and any(not rows for rows in good)
    assert any(len({r["claim_date"] for r in rows}) < len(rows) for rows in good)  # ties
    merged = _merged(good, lambda row: row["claim_date"])
    book = _write_csv(tmp_path / "books.csv", ["seq", BOOK_KEY] + COLUMNS,
                      [good[b][i] | {"seq": at, BOOK_KEY: b}
                       for at, (b, i) in enumerate(merged)])
    batch = _one_book_of_many(policy)
    out = tmp_path / "scored"
    summary = spark_engine.score_book(batch, book, params, out, master="local[2]")
    assert summary.cases == len(merged)
    scored = spark_engine.session("local[2]").read.parquet(str(out)) \
        .orderBy(F.col("seq").cast("int")).collect()
    assert [row["seq"] for row in scored] == [str(at) for at in range(len(merged))]
    reports = _split_report(summary.report, merged, len(good))
    for b, (rows, want) in enumerate(zip(good, expected, strict=True)):
        assert reports[b] == want.report, (b, rows)
    for row, (b, i) in zip(scored, merged, strict=True):
        for name, value in expected[b].columns[i].items():
            assert _same(value, row[name]), (b, i, name, row[name], value)
    for rows, error in refused[:2]:
        lone = _write_csv(tmp_path / "refused.csv", COLUMNS, rows)
        with pytest.raises(PolicyError) as raised:
            spark_engine.score_book(policy, lone, params, master="local[2]")
        assert raised.value.code == error.code
        assert raised.value.diagnostics[0].message.split(":")[1] == \
            error.diagnostics[0].message.split(":")[1]  # the same "row N"


def _same(reported: object, cell: object) -> bool:
    """An output cell (bool or DECIMAL) is the value the interpreter reports."""
    if isinstance(reported, bool):
        return cell is reported
    return isinstance(cell, Decimal) and cell == Decimal(str(reported))


def test_a_seed_book_on_spark_is_duckdbs(tmp_path: Path, spark_engine) -> None:
    """佛山 2022's monitor and budget over a synthetic book through `score_book` on both
    engines: the same summary and report, the same output columns with the same types and
    values, the same charts."""
    import duckdb

    from policylang.book import score_book
    from policylang.synthetic import write_book

    policy = POLICIES["policies/foshan/microloan_2022.pol"]
    params = default_params(policy)
    book = write_book(policy, 300, tmp_path / "book.csv", 5)
    duck = score_book(policy, book, params, tmp_path / "duck.parquet",
                      charts=tmp_path / "duck_charts")
    spark = spark_engine.score_book(policy, book, params, tmp_path / "spark", master="local[2]",
                                    charts=tmp_path / "spark_charts")
    assert (spark.cases, spark.eligible, spark.failures, spark.totals, spark.report) == \
        (duck.cases, duck.eligible, duck.failures, duck.totals, duck.report)
    assert spark.report["monitors"] and spark.report["budgets"]
    assert sorted(p.name for p in (tmp_path / "spark_charts").iterdir()) == \
        sorted(p.name for p in (tmp_path / "duck_charts").iterdir())
    ours = duckdb.sql(f"SELECT * FROM read_parquet('{tmp_path / 'spark'}/*.parquet')")
    theirs = duckdb.sql(f"SELECT * FROM read_parquet('{tmp_path / 'duck.parquet'}')")
    assert ours.columns == theirs.columns
    assert ours.types == theirs.types
    assert ours.fetchall() == theirs.fetchall()  # in book order


def _cli(tmp_path: Path, book: Path, *engine: str):
    from policylang.cli import app
    from tests.test_portfolio import _policy_file

    return CliRunner().invoke(app, ["run", str(_policy_file(tmp_path)), "--book", str(book),
                                    *engine])


SPARK = ("--engine", "spark", "--master", "local[2]")


def _bad_books():
    from tests.test_portfolio import BAD_BOOKS

    return BAD_BOOKS + [("no ordering column", "a,1万", "E602", None)]


@pytest.mark.parametrize("bad", _bad_books(), ids=lambda bad: bad[0])
def test_bad_books_name_the_row_on_spark(bad, tmp_path: Path, spark_engine) -> None:
    """tests/test_portfolio.py's bad books through `run --engine spark`: the error and the
    row DuckDB names (E609 unsorted, E602 no date or group key, E603/E604 bad cells); a
    book that scores prints DuckDB's summary, portfolio tables included."""
    what, lines, code, row = bad
    header = "insurer,principal" if what == "no ordering column" else \
        "insurer,claim_date,principal"
    book = tmp_path / "book.csv"
    book.write_text(header + "\n" + lines + "\n" * bool(lines), encoding="utf-8")
    result = _cli(tmp_path, book, *SPARK)
    assert not isinstance(result.exception, Exception), result.output
    if code is None:
        assert result.exit_code == 0, result.output
        duck = _cli(tmp_path, book)
        assert result.output.splitlines()[1:] == duck.output.splitlines()[1:]
        assert "monitors: compensation_rate" in result.output
        return
    assert result.exit_code == 2, result.output
    assert f"error[{code}]" in result.output, result.output
    assert f"row {row}" in result.output if row else "no column `claim_date`" in result.output


def test_an_evaluation_error_in_a_rule_names_the_first_failing_row(tmp_path: Path,
                                                                   spark_engine) -> None:
    """A zero denominator in a monitor: E610 at the row where it first fails, as on
    DuckDB (the rows before it score)."""
    book = tmp_path / "book.csv"
    book.write_text("insurer,claim_date,principal,compensated\na,2022-01-05,1万,1元\n"
                    "a,2022-01-06,1万,1元\nb,2022-01-06,0元,1元\nb,2022-01-07,0元,1元\n",
                    encoding="utf-8")
    result = _cli(tmp_path, book, *SPARK)
    assert result.exit_code == 1, result.output
    assert "error[E610]" in result.output and "row 3" in result.output, result.output


def test_rows_are_numbered_in_file_order_across_splits(tmp_path: Path, spark_engine) -> None:
    """A book read as many splits (a small split size) and as several Parquet files: the
    row index counts every row once, consecutively, in file order."""
    spark = spark_engine.session("local[2]")
    book = tmp_path / "book.csv"
    book.write_text("n\n" + "".join(f"{i}\n" for i in range(5000)), encoding="utf-8")
    previous = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "4096")
    try:
        raw = spark_engine._read(spark, book)
        assert raw.rdd.getNumPartitions() > 4
        numbered = spark_engine._numbered(spark, raw).collect()
        parts = tmp_path / "parts.parquet"
        raw.repartition(3).write.parquet(str(parts))
        from_parts = spark_engine._numbered(spark, spark.read.parquet(str(parts))).collect()
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", previous)
    assert sorted((row[spark_engine.ROW], int(row["n"])) for row in numbered) == \
        [(i, i) for i in range(5000)]
    import duckdb

    in_file_order = [n for part in sorted(parts.glob("*.parquet"))
                     for (n,) in duckdb.sql(f"SELECT n FROM '{part}'").fetchall()]
    assert len(list(parts.glob("*.parquet"))) == 3
    assert [row["n"] for row in sorted(from_parts, key=lambda row: row[spark_engine.ROW])] == \
        in_file_order
    assert sorted(row[spark_engine.ROW] for row in from_parts) == list(range(5000))


@pytest.mark.parametrize(("content", "code", "words"), [
    (b"insurer,claim_date,principal\na,2022-01-05,1\xe4\xb8\x87\na,2022-01-06\n", "E607",
     "row 2 has 2 fields, where the header has 3"),
    (b"insurer,claim_date,principal\na,2022-01-05,1\xe4\xb8\x87\n\xb1\xa3,2022-01-06,1\n",
     "E607", "row 2, column `insurer`: the file is not UTF-8"),
    (b"insurer,claim_date,principal,Principal\na,2022-01-05,1,2\n", "E608",
     "column `Principal` has the name of column `principal` (columns 3 and 4; names ignore "
     "case)"),
], ids=["short row", "gbk cell", "repeated name"])
def test_misshapen_csv_books_name_the_row_on_spark(content: bytes, code: str, words: str,
                                                   tmp_path: Path, spark_engine) -> None:
    """book_shape's checks, on the Spark engine: its FAILFAST read stops at the bad row
    without naming it, and it renames a repeated column its own way (`principal3`)."""
    book = tmp_path / "book.csv"
    book.write_bytes(content)
    result = _cli(tmp_path, book, *SPARK)
    assert result.exit_code == 2, result.output
    assert f"error[{code}]: {book}: {words}" in result.output, result.output


def test_a_failed_rename_into_place_puts_the_old_output_back(tmp_path: Path,
                                                             monkeypatch) -> None:
    # No JVM: a stand-in for the DataFrame writes the new folder; the last rename fails.
    from policylang import spark_engine

    class Written:
        write = property(lambda self: self)

        def mode(self, _mode: str):
            return self

        def parquet(self, folder: str) -> None:
            Path(folder).mkdir()
            (Path(folder) / "part-0.parquet").write_text("new", encoding="utf-8")

    out = tmp_path / "scored"
    out.mkdir()
    (out / "part-0.parquet").write_text("old", encoding="utf-8")
    renamed = Path.rename

    def rename(self: Path, target: Path) -> Path:
        if Path(target) == out and "old" not in self.name:
            raise OSError("disk gone")
        return renamed(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(OSError, match="disk gone"):
        spark_engine._write_atomically(Written(), out)
    assert (out / "part-0.parquet").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scored"]
