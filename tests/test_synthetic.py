"""Synthetic books: deterministic, edge-seeking, scorable, and sorted for portfolios."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from policylang import api
from policylang.book import score_book
from policylang.cli import app
from policylang.synthetic import write_book
from tests.policies import design_example
from tests.test_portfolio import CLAIMS


def test_same_seed_same_book_and_every_limit_both_ways(tmp_path: Path) -> None:
    policy = api.load_source(design_example(), "design.pol")
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    write_book(policy, 5000, first, seed=7)
    write_book(policy, 5000, second, seed=7)
    assert first.read_bytes() == second.read_bytes()
    write_book(policy, 5000, second, seed=8)
    assert first.read_bytes() != second.read_bytes()
    summary = score_book(policy, first, {"benchmark_rate": api.load_source(
        design_example(), "d.pol").params[0].default})
    assert summary.cases == 5000 and 0 < summary.eligible < 5000
    for name, failing in summary.failures.items():
        assert 0 < failing < 5000, name


def test_portfolio_books_are_in_date_order(tmp_path: Path) -> None:
    policy = api.load_source(CLAIMS, "claims.pol")
    book = tmp_path / "claims.parquet"
    result = CliRunner().invoke(app, ["synth", str(tmp_path / "claims.pol"), "-n", "10",
                                      "-o", str(book)])
    assert result.exit_code == 2  # no such policy file yet: a clean error, no traceback
    (tmp_path / "claims.pol").write_text(CLAIMS, encoding="utf-8")
    result = CliRunner().invoke(app, ["synth", str(tmp_path / "claims.pol"), "-n", "3000",
                                      "-o", str(book)])
    assert result.exit_code == 0, result.output
    summary = score_book(policy, book, {"annual_cap": policy.params[0].default})
    assert summary.cases == 3000
    groups = summary.report["monitors"]["compensation_rate"]["groups"]
    assert len(groups) == 3 and sum(g["cases"] for g in groups) == 3000


def test_day_durations_stay_days_and_seed_books_score(tmp_path: Path) -> None:
    # 重庆 compares bank_notice_delay with 5 days: months there could only fail (E611).
    policy = api.load("policies/chongqing/zhubaodai.pol")
    book = write_book(policy, 2000, tmp_path / "chongqing.csv")
    with book.open(encoding="utf-8") as file:
        header, first = file.readline().strip().split(","), file.readline().strip().split(",")
    row = dict(zip(header, first, strict=True))
    assert row["bank_notice_delay"].endswith(" days") and row["term"].endswith(" months")
    summary = score_book(policy, book, {p.name: p.default for p in policy.params})
    assert summary.cases == 2000 and 0 < summary.failures["notice_deadline"] < 2000


def test_money_takes_every_fen_and_percents_every_basis_point(tmp_path: Path) -> None:
    """Values drawn in whole steps of the smallest unit (no float scaled up): money with
    odd fen, so 重庆's 50/50 split leaves half fen for the largest remainder rule."""
    import duckdb

    policy = api.load("policies/chongqing/zhubaodai.pol")
    book = write_book(policy, 4000, tmp_path / "chongqing.parquet")
    odd_fen, whole_yuan, odd_basis_points, fen_given = duckdb.connect().execute(
        "SELECT avg(CAST(CAST(overdue_amount * 100 AS BIGINT) % 2 AS DOUBLE)), "
        "avg(CAST(CAST(overdue_amount * 100 AS BIGINT) % 100 = 0 AS INTEGER)), "
        "avg(CAST(CAST(interest_rate * 10000 AS BIGINT) % 2 AS DOUBLE)), "
        "avg(CAST(CAST((overdue_amount - least(overdue_amount, pool_balance)) * 100 "
        "AS BIGINT) % 2 AS DOUBLE)) "
        f"FROM read_parquet('{book}')").fetchone()
    assert 0.3 < odd_fen < 0.7 and whole_yuan < 0.1 and 0.2 < odd_basis_points < 0.8
    assert fen_given > 0.2  # an odd-fen rest after the pool: one half fen each side


def test_a_seed_too_large_for_the_hashing_is_refused_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "claims.pol").write_text(CLAIMS, encoding="utf-8")
    book = tmp_path / "book.csv"
    for seed in (2**63 - 1, -(2**40)):
        result = CliRunner().invoke(app, ["synth", str(tmp_path / "claims.pol"), "-n", "5",
                                          "--seed", str(seed), "-o", str(book)])
        assert result.exit_code == 2, result.output
        assert "error[E607]" in result.output and f"seed {seed}" in result.output
        assert list(tmp_path.iterdir()) == [tmp_path / "claims.pol"]
    result = CliRunner().invoke(app, ["synth", str(tmp_path / "claims.pol"), "-n", "5",
                                      "--seed", str(2**32 - 1), "-o", str(book)])
    assert result.exit_code == 0, result.output


def test_a_write_that_fails_leaves_nothing_beside_the_book(tmp_path: Path, monkeypatch) -> None:
    """A COPY that stops part way (the disk fills, Ctrl-C) leaves no temporary file."""
    import duckdb

    from policylang import synthetic

    class Interrupted:
        def __init__(self) -> None:
            self.connection = duckdb.connect()

        def execute(self, query: str):
            self.connection.execute(query)  # the temporary file is written ...
            raise KeyboardInterrupt  # ... and the user stops the command

    monkeypatch.setattr(synthetic, "connect", Interrupted)
    policy = api.load_source(CLAIMS, "claims.pol")
    try:
        write_book(policy, 10, tmp_path / "book.csv")
    except KeyboardInterrupt:
        pass
    assert list(tmp_path.iterdir()) == []
