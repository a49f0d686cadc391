"""The practical limits for 重庆 助保贷: the policy written by hand, exactly, as a DuckDB
query and as a `decimal.Decimal` Python function (the interface of handwritten.py).

22 outputs per case: eligible, the 11 rule/limit verdicts, the three deposit lets and the
seven waterfall parts, money to the fen. Specialised to the synthetic book's shapes (money
≥ 0 with at most 2 places, `term` in months, the delays in days). The 第十七条 waterfall's
split halves what is left, so its parts are whole half-fen: the hand-written query counts
in half-fen and gives a missing fen to the first listed part with half a fen left, which
is the largest-remainder rule when every remainder is a half.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np

from benchmarks import handwritten as common

POLICY = "chongqing_zhubaodai"
RULES = ["in_zone_rule", "sme_rule", "tech_rule", "purpose_rule", "increase_rule",
         "normal_cap", "maximum_cap", "term_cap", "rate_cap", "notice_deadline",
         "compensation_deadline"]
MONEY = ["deposit_base", "guarantee_deposit", "refundable_deposit", "overdue__pool",
         "overdue__risk_fund", "overdue__bank", "overdue__escalated", "recovery__bank",
         "recovery__risk_fund", "recovery__unallocated"]
OUTPUTS = ["eligible"] + [f"rule__{r}" for r in RULES] + MONEY
# The peers doing the same work (benchmarks/peers/).
OPENFISCA, CEL = "openfisca_chongqing", "cel_chongqing"
BENCHMARK_RATE = Decimal("0.0435")  # the policy's default param
_RATE_CAP = BENCHMARK_RATE * Decimal("1.2")
_COLUMNS = ("in_zone, sme, high_tech, tech_listed, owns_ip, revenue_last_year, "
            "working_capital, kind, previous_amount, loan_amount, above_normal_approved, "
            "CAST(split_part(term, ' ', 1) AS INTEGER) AS months, interest_rate, "
            "CAST(split_part(bank_notice_delay, ' ', 1) AS INTEGER) AS notice_days, "
            "overdue_amount, pool_balance, risk_fund_balance, "
            "CAST(split_part(compensation_delay, ' ', 1) AS INTEGER) AS compensation_days, "
            "recovered_amount, recovery_costs, bank_loss, risk_fund_paid")
_MONEY_INPUTS = ["revenue_last_year", "previous_amount", "loan_amount", "overdue_amount",
                 "pool_balance", "risk_fund_balance", "recovered_amount", "recovery_costs",
                 "bank_loss", "risk_fund_paid"]

# --- DuckDB ---------------------------------------------------------------------------


def _fen(column: str) -> str:
    return f"CAST({column} * 100 AS BIGINT)"


def _query(table: str, carry: bool = False) -> str:
    fen = ", ".join(f"{_fen(m)} AS f_{m}" for m in _MONEY_INPUTS)
    verdicts = f"""
      in_zone AS rule__in_zone_rule, sme AS rule__sme_rule,
      high_tech OR (tech_listed AND owns_ip AND revenue_last_year >= 5000000) AS rule__tech_rule,
      working_capital AS rule__purpose_rule,
      kind <> 'increase' OR loan_amount > previous_amount AS rule__increase_rule,
      above_normal_approved OR loan_amount <= 5000000 AS rule__normal_cap,
      loan_amount <= 10000000 AS rule__maximum_cap,
      months <= 12 AS rule__term_cap,
      interest_rate <= {_RATE_CAP} AS rule__rate_cap,
      notice_days <= 5 AS rule__notice_deadline,
      overdue_amount <= 0 OR pool_balance < overdue_amount OR compensation_days <= 15
        AS rule__compensation_deadline"""
    base = f"SELECT *, {verdicts}, {fen} FROM {table}"
    deposits = """CASE kind WHEN 'new_loan' THEN f_loan_amount
                       WHEN 'increase' THEN greatest(f_loan_amount - f_previous_amount, 0)
                       ELSE 0 END"""
    # Half-fen units for the 第十七条 waterfall: pool, then half each to the risk fund
    # (capped) and the bank, the rest escalated.
    staged = f"""SELECT *, {deposits} AS deposit_base,
        least(f_overdue_amount, f_pool_balance) AS pool,
        least(f_overdue_amount - least(f_overdue_amount, f_pool_balance),
              2 * f_risk_fund_balance) AS risk2,
        f_overdue_amount - least(f_overdue_amount, f_pool_balance) AS bank2,
        greatest(f_recovered_amount - f_recovery_costs, 0) AS recovered FROM ({base})"""
    waterfall = f"""SELECT *, 2 * (f_overdue_amount - pool) - risk2 - bank2 AS escalated2,
        least(recovered, f_bank_loss) AS rec_bank FROM ({staged})"""
    verdict_names = ", ".join(f"rule__{r}" for r in RULES)
    internal = [f"f_{m}" for m in _MONEY_INPUTS] + [f"rule__{r}" for r in RULES] + [
        "deposit_base", "pool", "risk2", "bank2", "recovered", "escalated2", "rec_bank"]
    carried = f"* EXCLUDE ({', '.join(internal)}), " if carry else ""
    return f"""SELECT {carried}{verdict_names},
        {" AND ".join(f"rule__{r}" for r in RULES)} AS eligible,
        deposit_base, (deposit_base * 25 + 500) // 1000 AS guarantee_deposit,
        0 AS refundable_deposit, pool AS overdue__pool,
        risk2 // 2 + CASE WHEN risk2 % 2 = 1 THEN 1 ELSE 0 END AS overdue__risk_fund,
        bank2 // 2 + CASE WHEN bank2 % 2 = 1 AND risk2 % 2 = 0 THEN 1 ELSE 0 END
            AS overdue__bank,
        escalated2 // 2 + CASE WHEN escalated2 % 2 = 1 AND risk2 % 2 = 0 AND bank2 % 2 = 0
            THEN 1 ELSE 0 END AS overdue__escalated,
        rec_bank AS recovery__bank,
        least(recovered - rec_bank, f_risk_fund_paid) AS recovery__risk_fund,
        recovered - rec_bank - least(recovered - rec_bank, f_risk_fund_paid)
            AS recovery__unallocated
      FROM ({waterfall})"""


def duckdb_load(connection, book: Path) -> None:
    connection.execute(f"CREATE OR REPLACE TEMP TABLE hand_cases AS SELECT {_COLUMNS} "
                       f"FROM read_parquet('{book}')")


def duckdb_evaluate(connection) -> None:
    connection.execute(f"CREATE OR REPLACE TEMP TABLE hand_result AS {_query('hand_cases')}")


def duckdb_end_to_end(connection, book: Path, out: Path) -> None:
    reader = (f"read_csv('{book}', header = true, all_varchar = true)" if book.suffix == ".csv"
              else f"read_parquet('{book}')")
    typed = _COLUMNS if book.suffix != ".csv" else _typed_text()
    source = f"(SELECT loan_id, loan_date, {typed} FROM {reader})"
    connection.execute(f"COPY ({_query(source, carry=True)}) TO '{out}' (FORMAT parquet)")


_BOOK_COLUMNS = ["loan_id", "in_zone", "sme", "high_tech", "tech_listed", "owns_ip",
                 "revenue_last_year", "working_capital", "kind", "previous_amount",
                 "loan_amount", "above_normal_approved", "term", "interest_rate", "loan_date",
                 "bank_notice_delay", "overdue_amount", "pool_balance", "risk_fund_balance",
                 "compensation_delay", "recovered_amount", "recovery_costs", "bank_loss",
                 "risk_fund_paid", "outstanding_balance"]


def _days_text(days: str) -> str:
    return (f"CAST({days} AS VARCHAR) || CASE WHEN {days} = 1 THEN ' day' ELSE ' days' END")


def _every_output(durations: str, limit_values: bool = True) -> str:
    """Every column policylang's query adds, in its order and types, over `_query`'s rows
    (which keep `months`, `notice_days`, `compensation_days` and the typed inputs);
    durations as `interval`s (the query's own type) or as `text` (the output file's);
    without the limits' values and bounds unless `limit_values`."""
    guarded = "overdue_amount > 0 AND pool_balance >= overdue_amount"
    if durations == "text":
        term = common._months_text("months")
        notice, compensation = _days_text("notice_days"), _days_text("compensation_days")
        bounds = ("'1 year'", "'5 days'", "'15 days'")
    else:
        term = "to_months(months)"
        notice, compensation = "to_days(notice_days)", "to_days(compensation_days)"
        bounds = ("INTERVAL 12 MONTH", "INTERVAL 5 DAY", "INTERVAL 15 DAY")
    verdicts = ["in_zone_rule", "sme_rule", "tech_rule", "purpose_rule", "increase_rule"]
    return common.selected([
        *((f"rule__{r}", f"rule__{r}") for r in verdicts),
        ("rule__normal_cap", "rule__normal_cap"),
        ("rule__normal_cap__value", "CASE WHEN NOT above_normal_approved THEN loan_amount END"),
        ("rule__normal_cap__bound", "CASE WHEN NOT above_normal_approved THEN "
                                    "CAST(5000000 AS DECIMAL(18,2)) END"),
        ("rule__maximum_cap", "rule__maximum_cap"),
        ("rule__maximum_cap__value", "loan_amount"),
        ("rule__maximum_cap__bound", "CAST(10000000 AS DECIMAL(18,2))"),
        ("rule__term_cap", "rule__term_cap"), ("rule__term_cap__value", term),
        ("rule__term_cap__bound", bounds[0]),
        ("rule__rate_cap", "rule__rate_cap"),
        ("rule__rate_cap__value", "CAST(interest_rate AS DECIMAL(38,10))"),
        ("rule__rate_cap__bound", f"CAST({_RATE_CAP} AS DECIMAL(38,10))"),
        ("rule__notice_deadline", "rule__notice_deadline"),
        ("rule__notice_deadline__value", notice),
        ("rule__notice_deadline__bound", bounds[1]),
        ("rule__compensation_deadline", "rule__compensation_deadline"),
        ("rule__compensation_deadline__value", f"CASE WHEN {guarded} THEN {compensation} END"),
        ("rule__compensation_deadline__bound", f"CASE WHEN {guarded} THEN {bounds[2]} END"),
        *((m, common._yuan(m)) for m in MONEY), ("eligible", "eligible")], limit_values)


def _typed_text() -> str:
    """`_COLUMNS` from text cells (a CSV read as text)."""
    return ", ".join(
        [f"CAST({c} AS BOOLEAN) AS {c}" for c in ("in_zone", "sme", "high_tech",
                                                  "tech_listed", "owns_ip", "working_capital",
                                                  "above_normal_approved")] +
        [f"CAST({c} AS DECIMAL(18,2)) AS {c}" for c in _MONEY_INPUTS] +
        ["kind", "CAST(interest_rate AS DECIMAL(18,4)) AS interest_rate",
         "CAST(split_part(term, ' ', 1) AS INTEGER) AS months",
         "CAST(split_part(bank_notice_delay, ' ', 1) AS INTEGER) AS notice_days",
         "CAST(split_part(compensation_delay, ' ', 1) AS INTEGER) AS compensation_days"])


def same_output_query(book: Path, limit_values: bool = True) -> str:
    """Book file → the very file `run --book --out` writes (with `--no-limit-values`
    unless `limit_values`): the book's columns as read, then every column policylang's
    query adds (limit values and bounds, durations as text, money to the fen)."""
    csv = book.suffix == ".csv"
    raw = (f"read_csv('{book}', all_varchar = true, header = true)" if csv
           else f"read_parquet('{book}')")
    carried = ", ".join(f"{c} AS book_{c}" for c in _BOOK_COLUMNS)
    source = f"(SELECT {carried}, {_typed_text() if csv else _COLUMNS} FROM {raw})"
    shown = ", ".join(f"book_{c} AS {c}" for c in _BOOK_COLUMNS)
    return (f"SELECT {shown}, {_every_output('text', limit_values)} "
            f"FROM ({_query(source, carry=True)})")


def duckdb_end_to_end_same_output(connection, book: Path, out: Path,
                                  limit_values: bool = True) -> None:
    """`same_output_query` → Parquet, in one statement."""
    connection.execute(f"COPY ({same_output_query(book, limit_values)}) TO '{out}' "
                       "(FORMAT parquet)")


def duckdb_evaluate_same_output(connection, limit_values: bool = True) -> None:
    """Every column policylang's query gives (without the limits' values and bounds
    unless `limit_values`), from the loaded `hand_cases`, as `same_output_table`."""
    connection.execute(
        f"CREATE OR REPLACE TEMP TABLE {same_output_table(limit_values)} AS SELECT "
        f"{_every_output('interval', limit_values)} FROM ({_query('hand_cases', carry=True)})")


same_output_table = common.same_output_table


def duckdb_outputs(connection) -> dict[str, np.ndarray]:
    found = connection.execute(f"SELECT {', '.join(OUTPUTS)} FROM hand_result").fetchnumpy()
    return {name: np.asarray(found[name]) for name in OUTPUTS}


# --- Decimal Python ---------------------------------------------------------------------

_HALF = Decimal("0.5")
_ZERO = Decimal(0)
_DEPOSIT_RATE = Decimal("0.025")


def decimal_inputs(book: Path) -> list[tuple]:
    import duckdb

    return duckdb.connect().execute(f"SELECT {_COLUMNS} FROM read_parquet('{book}')").fetchall()


def decide(in_zone, sme, high_tech, tech_listed, owns_ip, revenue, working_capital, kind,
           previous, loan, above_normal, months, rate, notice_days, overdue, pool_balance,
           risk_fund_balance, compensation_days, recovered, costs, bank_loss,
           risk_fund_paid) -> tuple:
    """The 22 outputs of one case, exactly (booleans and integer fen)."""
    rules = (in_zone, sme, high_tech or (tech_listed and owns_ip and revenue >= 5_000_000),
             working_capital, kind != "increase" or loan > previous,
             above_normal or loan <= 5_000_000, loan <= 10_000_000, months <= 12,
             rate <= _RATE_CAP, notice_days <= 5,
             overdue <= 0 or pool_balance < overdue or compensation_days <= 15)
    base = loan if kind == "new_loan" else max(loan - previous, _ZERO) \
        if kind == "increase" else _ZERO
    deposit = common._mul(base, _DEPOSIT_RATE)
    if overdue:
        pool = min(overdue, max(pool_balance, _ZERO))
        left = overdue - pool
        risk_fund = min(left * _HALF, max(risk_fund_balance, _ZERO))
        bank = left * _HALF
        overdue_parts = common._largest_remainder_exact(
            [pool, risk_fund, bank, left - risk_fund - bank])
    else:
        overdue_parts = [0, 0, 0, 0]
    amount = max(recovered - costs, _ZERO)
    to_bank = min(amount, max(bank_loss, _ZERO))
    to_fund = min(amount - to_bank, max(risk_fund_paid, _ZERO))
    money = [common._fen(base), common._fen(deposit), 0, *overdue_parts,
             common._fen(to_bank), common._fen(to_fund), common._fen(amount - to_bank - to_fund)]
    return (all(rules), *rules, *money)


def decimal_outputs(results: list[tuple]) -> dict[str, np.ndarray]:
    return common.decimal_outputs(results, RULES, MONEY)


def from_decisions(decisions: list[dict]) -> dict[str, np.ndarray]:
    return common.from_decisions(decisions, RULES, MONEY)


def from_sql_result(connection, table: str) -> dict[str, np.ndarray]:
    return common.from_sql_result(connection, table, RULES, MONEY)


wrong_outputs = common.wrong_outputs
