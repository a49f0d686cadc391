"""The Spark engine: the policy's Spark SQL gives exactly the interpreter's decisions.

One SparkSession (local[2]) for the whole test session; Spark's per-query cost is high, so
every policy's random cases run as ONE DataFrame through one query, and the conformance
suite runs one query per distinct policy. A missing Java runtime is installed from
Debian's packages (`default-jre-headless`) by the session fixture; pyspark comes with the
`dev` extra. POLICYLANG_SPARK_EXAMPLES raises the number of random cases per policy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from policylang import api
from policylang.cases import parse_case, parse_params
from policylang.diagnostics import PolicyError
from policylang.interpret import evaluate
from tests.conformance.loader import load_cases
from tests.policies import all_policies, design_example
from tests.strategies import cases, default_params

POLICIES = all_policies()
CASES_PER_POLICY = int(os.environ.get("POLICYLANG_SPARK_EXAMPLES", "200"))
CONFORMANCE = load_cases(Path(__file__).parent / "conformance")
SKIPS: dict[str, str] = {}  # conformance titles the Spark engine may skip: none


def _ensure_java() -> None:
    if shutil.which("java") or os.environ.get("JAVA_HOME"):
        return
    if shutil.which("apt-get") is None:
        pytest.fail("no Java runtime and no apt-get to install one (default-jre-headless)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends",
                    "default-jre-headless"], check=True, env=env, capture_output=True)


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
    if policy.portfolio is not None:
        # The per-case part of a policy with portfolio rules is still compared.
        import dataclasses

        policy = dataclasses.replace(policy, portfolio=None)
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
        if policy.portfolio is not None:
            continue  # book-level rules are not per-case decisions
        deciding: dict[str, list] = {}
        for case in group:
            if case.title in SKIPS:
                continue
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


def test_skip_list_is_empty() -> None:
    assert SKIPS == {}


def test_run_book_on_spark_matches_duckdb(tmp_path: Path, spark_engine) -> None:
    """`run --book --engine spark` over a synthetic book: the same summary as DuckDB, and
    a Parquet directory written atomically."""
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


def test_portfolio_rules_are_refused_not_dropped(tmp_path: Path, spark_engine) -> None:
    from policylang.synthetic import write_book

    policy = POLICIES["policies/chongqing/zhubaodai.pol"]
    assert policy.portfolio is not None
    book = tmp_path / "book.csv"
    write_book(policy, 10, book, 3)
    with pytest.raises(spark_engine.EngineUnavailable, match="portfolio"):
        spark_engine.score_book(policy, book, default_params(policy), master="local[2]")


def test_a_bad_cell_names_its_row_and_column(tmp_path: Path, spark_engine) -> None:
    policy = api.load_source('policy p "p" {\n input { amount: money }\n'
                             ' limit cap: amount <= 100万\n}\n', "p.pol")
    book = tmp_path / "book.csv"
    book.write_text("amount\n5万\n12 apples\n", encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        spark_engine.score_book(policy, book, {}, master="local[2]")
    assert raised.value.code == "E603"
    assert "row 2, column `amount`" in str(raised.value.diagnostics[0].message)


def test_an_evaluation_error_names_the_first_failing_row(tmp_path: Path,
                                                         spark_engine) -> None:
    policy = api.load_source('policy p "p" {\n input { a: money  b: money }\n'
                             ' let r = a / b\n}\n', "p.pol")
    book = tmp_path / "book.csv"
    book.write_text("a,b\n1元,2元\n3元,4元\n5元,0元\n7元,0元\n", encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        spark_engine.score_book(policy, book, {}, master="local[2]")
    assert raised.value.code == "E610"
    assert "row 3" in raised.value.diagnostics[0].message


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
