"""The practical limits: 佛山 2022 written by hand, exactly, as a DuckDB query and as a
`decimal.Decimal` Python function, and the common output form every path is compared in.

Both compute the policy's 14 outputs per case (eligible, the six rule/limit verdicts, the
two subsidies and the five allocation parts) with the semantics of docs/semantics.md:
each `*` and `/` rounded half-up to 10 places, money reported half-up to the fen, an
allocation's parts truncated to the fen with the missing fen going to the largest
remainders (ties to the part listed first). They are specialised to the synthetic book's
shapes (money ≥ 0 with at most 2 places, terms in whole months), which a hand-written
version is allowed to assume and policylang is not.

An output is a numpy array per name, aligned with the book's rows: booleans, or money as
integer fen.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np

POLICY = "foshan_microloan_2022"
RULES = ["purpose_rule", "enterprise_cap", "individual_cap", "term_cap", "rate_cap",
         "premium_cap"]
MONEY = ["insurer_subsidy", "borrower_subsidy", "first_loan_loss__bank",
         "first_loan_loss__insurer", "first_loan_burden__bank", "first_loan_burden__insurer",
         "first_loan_burden__fund"]
OUTPUTS = ["eligible"] + [f"rule__{r}" for r in RULES] + MONEY
# The peers doing the same work (benchmarks/peers/).
OPENFISCA, CEL = "openfisca_foshan", "cel_foshan"
LPR = Decimal("0.037")  # the policy's default `lpr`

# --- DuckDB ---------------------------------------------------------------------------

_TYPED = ("loan_amount, premium_paid, principal_loss, interest_rate, premium_rate, borrower, "
          "purpose, first_loan, CAST(split_part(term, ' ', 1) AS INTEGER) AS months")
_CSV_TYPES = ("{'loan_id': 'BIGINT', 'borrower': 'VARCHAR', 'first_loan': 'BOOLEAN', "
              "'purpose': 'VARCHAR', 'loan_amount': 'DECIMAL(18,2)', 'term': 'VARCHAR', "
              "'interest_rate': 'DECIMAL(18,4)', 'premium_rate': 'DECIMAL(18,4)', "
              "'premium_paid': 'DECIMAL(18,2)', 'principal_loss': 'DECIMAL(18,2)', "
              "'insurer': 'VARCHAR', 'loan_date': 'DATE', 'compensated': 'DECIMAL(18,2)'}")


def _outputs_sql() -> str:
    """The 14 outputs over columns of `_TYPED`, in integer arithmetic (exact: 10^-10 units
    for intermediate results, fen for money), HUGEINT where products pass 2^63."""
    years = "((CAST(months AS HUGEINT) * 20000000000 + 12) // 24)"  # months/12, 10 places
    loan = "CAST(loan_amount * 100 AS HUGEINT)"  # fen
    product = f"(({loan} * {years} + 50) // 100)"  # loan × years, 10 places
    subsidy = f"(({product} + 50) // 100)"  # × 1%, 10 places
    premium = "CAST(premium_paid * 100 AS HUGEINT) * 100000000"
    lost = "CAST(CASE WHEN first_loan THEN principal_loss * 100 ELSE 0 END AS BIGINT)"
    return f"""
      purpose <> 'other' AS rule__purpose_rule,
      borrower <> 'enterprise' OR loan_amount <= 10000000 AS rule__enterprise_cap,
      borrower NOT IN ('individual_business', 'micro_owner') OR loan_amount <= 3000000
          AS rule__individual_cap,
      months <= 36 AS rule__term_cap,
      interest_rate <= {LPR + Decimal('0.015')} AS rule__rate_cap,
      premium_rate <= 0.01 AS rule__premium_cap,
      CAST(({subsidy} + 50000000) // 100000000 AS BIGINT) AS insurer_subsidy,
      CAST(CASE WHEN NOT first_loan THEN 0
                WHEN {subsidy} < {premium} THEN ({subsidy} + 50000000) // 100000000
                ELSE {premium} // 100000000 END AS BIGINT) AS borrower_subsidy,
      {lost} AS lost"""


def _allocations_sql(source: str) -> str:
    """Largest-remainder parts of 10%/90% and 10%/45%/45% of `lost` (fen)."""
    return f"""
    SELECT * EXCLUDE (lost, r1, r2, rb, ri, missing),
      lost // 10 + CASE WHEN r1 <> 0 AND r1 >= r2 THEN 1 ELSE 0 END AS first_loan_loss__bank,
      9 * lost // 10 + CASE WHEN r1 <> 0 AND r1 < r2 THEN 1 ELSE 0 END
          AS first_loan_loss__insurer,
      lost // 10 + CASE WHEN missing >= 1 AND rb >= ri THEN 1 ELSE 0 END
          AS first_loan_burden__bank,
      45 * lost // 100 + CASE WHEN missing = 2 OR (missing = 1 AND rb < ri) THEN 1 ELSE 0 END
          AS first_loan_burden__insurer,
      45 * lost // 100 + CASE WHEN missing = 2 AND rb < ri THEN 1 ELSE 0 END
          AS first_loan_burden__fund
    FROM (SELECT *, (10 * lost) % 100 AS rb, (45 * lost) % 100 AS ri,
                 ((10 * lost) % 100 + 2 * ((45 * lost) % 100)) // 100 AS missing
          FROM (SELECT *, lost % 10 AS r1, (9 * lost) % 10 AS r2 FROM ({source})))"""


def _query(table: str, carry: bool = False) -> str:
    per_case = f"SELECT {'*, ' if carry else ''}{_outputs_sql()} FROM {table}"
    allocated = _allocations_sql(per_case)
    rules = " AND ".join(f"rule__{r}" for r in RULES)
    return f"SELECT *, {rules} AS eligible FROM ({allocated})"


def duckdb_load(connection, book: Path) -> None:
    """The book as the hand-written query's typed table `hand_cases`."""
    connection.execute(f"CREATE OR REPLACE TEMP TABLE hand_cases AS SELECT {_TYPED} "
                       f"FROM read_parquet('{book}')")


def duckdb_evaluate(connection) -> None:
    connection.execute(f"CREATE OR REPLACE TEMP TABLE hand_result AS {_query('hand_cases')}")


def duckdb_end_to_end(connection, book: Path, out: Path) -> None:
    """Book file → the book's columns and the outputs → Parquet, in one statement."""
    reader = (f"read_csv('{book}', header = true, columns = {_CSV_TYPES})"
              if book.suffix == ".csv" else f"read_parquet('{book}')")
    months = "CAST(split_part(term, ' ', 1) AS INTEGER) AS months"
    connection.execute(f"COPY ({_query(f'(SELECT *, {months} FROM {reader})', carry=True)}) "
                       f"TO '{out}' (FORMAT parquet)")


def _months_text(months: str) -> str:
    """A whole number of months as policylang writes a duration (`1 year`, `26 months`)."""
    def counted(amount: str, unit: str) -> str:
        return (f"CAST({amount} AS VARCHAR) || CASE WHEN {amount} = 1 THEN ' {unit}' "
                f"ELSE ' {unit}s' END")
    return (f"CASE WHEN {months} = 0 THEN '0 days' WHEN {months} % 12 = 0 THEN "
            f"{counted(f'({months} // 12)', 'year')} ELSE {counted(months, 'month')} END")


def _yuan(fen: str) -> str:
    return f"CAST(CAST({fen} AS DECIMAL(18,0)) * CAST(0.01 AS DECIMAL(2,2)) AS DECIMAL(18,2))"


def _every_output(durations: str, limit_values: bool = True) -> str:
    """Every column policylang's query adds, in its order and types, over `_query`'s rows
    (which keep the typed inputs and `months`): rule verdicts, each limit's value and
    bound (NULL where its guard does not hold; left out unless `limit_values`), the lets
    and parts to the fen, `eligible`; durations as `interval`s (the query's own type) or
    as `text` (the output file's)."""
    enterprise = "borrower = 'enterprise'"
    individual = "borrower IN ('individual_business', 'micro_owner')"
    rate_bound = f"CAST({LPR + Decimal('0.015')} AS DECIMAL(38,10))"
    term, term_bound = (("to_months(months)", "INTERVAL 36 MONTH") if durations == "interval"
                        else (_months_text("months"), "'3 years'"))
    return selected([
        ("rule__purpose_rule", "rule__purpose_rule"),
        ("rule__enterprise_cap", "rule__enterprise_cap"),
        ("rule__enterprise_cap__value", f"CASE WHEN {enterprise} THEN loan_amount END"),
        ("rule__enterprise_cap__bound",
         f"CASE WHEN {enterprise} THEN CAST(10000000 AS DECIMAL(18,2)) END"),
        ("rule__individual_cap", "rule__individual_cap"),
        ("rule__individual_cap__value", f"CASE WHEN {individual} THEN loan_amount END"),
        ("rule__individual_cap__bound",
         f"CASE WHEN {individual} THEN CAST(3000000 AS DECIMAL(18,2)) END"),
        ("rule__term_cap", "rule__term_cap"), ("rule__term_cap__value", term),
        ("rule__term_cap__bound", term_bound),
        ("rule__rate_cap", "rule__rate_cap"),
        ("rule__rate_cap__value", "CAST(interest_rate AS DECIMAL(38,10))"),
        ("rule__rate_cap__bound", rate_bound),
        ("rule__premium_cap", "rule__premium_cap"),
        ("rule__premium_cap__value", "CAST(premium_rate AS DECIMAL(38,10))"),
        ("rule__premium_cap__bound", "CAST(0.01 AS DECIMAL(38,10))"),
        *((m, _yuan(m)) for m in MONEY), ("eligible", "eligible")], limit_values)


def selected(columns: list[tuple[str, str]], limit_values: bool) -> str:
    """A SELECT list of (name, expression) pairs; without the limits' value and bound
    columns unless `limit_values` (what `run --book --no-limit-values` leaves out)."""
    return ",\n      ".join(
        expression if expression == name else f"{expression} AS {name}"
        for name, expression in columns
        if limit_values or not name.endswith(("__value", "__bound")))


def same_output_query(book: Path, limit_values: bool = True) -> str:
    """Book file → the very file `run --book --out` writes (with `--no-limit-values`
    unless `limit_values`): the book's columns as read (text, for a CSV), then every
    column policylang's query adds (`_every_output`)."""
    raw = (f"read_csv('{book}', all_varchar = true, header = true)" if book.suffix == ".csv"
           else f"read_parquet('{book}')")
    typed = ("CAST(loan_amount AS DECIMAL(18,2)) AS loan_amount, "
             "CAST(premium_paid AS DECIMAL(18,2)) AS premium_paid, "
             "CAST(principal_loss AS DECIMAL(18,2)) AS principal_loss, "
             "CAST(interest_rate AS DECIMAL(18,4)) AS interest_rate, "
             "CAST(premium_rate AS DECIMAL(18,4)) AS premium_rate, borrower, purpose, "
             "CAST(first_loan AS BOOLEAN) AS first_loan, "
             "CAST(split_part(term, ' ', 1) AS INTEGER) AS months")
    book_columns = ["loan_id", "borrower", "first_loan", "purpose", "loan_amount", "term",
                    "interest_rate", "premium_rate", "premium_paid", "principal_loss",
                    "insurer", "loan_date", "compensated"]
    carried = ", ".join(f"{c} AS book_{c}" for c in book_columns)
    scored = _query(f"(SELECT {carried}, {typed} FROM {raw})", carry=True)
    shown = ", ".join(f"book_{c} AS {c}" for c in book_columns)
    return f"SELECT {shown}, {_every_output('text', limit_values)} FROM ({scored})"


def duckdb_evaluate_same_output(connection, limit_values: bool = True) -> None:
    """Every column policylang's query gives (without the limits' values and bounds
    unless `limit_values`), from the loaded `hand_cases`, as `same_output_table`."""
    connection.execute(
        f"CREATE OR REPLACE TEMP TABLE {same_output_table(limit_values)} AS SELECT "
        f"{_every_output('interval', limit_values)} FROM ({_query('hand_cases', carry=True)})")


def same_output_table(limit_values: bool) -> str:
    return "hand_same_result" if limit_values else "hand_decisions_result"


def duckdb_end_to_end_same_output(connection, book: Path, out: Path,
                                  limit_values: bool = True) -> None:
    """`same_output_query` → Parquet, in one statement."""
    connection.execute(f"COPY ({same_output_query(book, limit_values)}) TO '{out}' "
                       "(FORMAT parquet)")


def differing_rows(connection, ours: Path, theirs: Path) -> int:
    """Rows of one Parquet file not in the other (both ways), or -1 if the columns or
    their types differ."""
    described = [connection.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')")
                 .fetchall() for path in (ours, theirs)]
    if described[0] != described[1]:
        return -1
    return sum(connection.execute(
        f"SELECT count(*) FROM (SELECT * FROM read_parquet('{a}') EXCEPT ALL "
        f"SELECT * FROM read_parquet('{b}'))").fetchone()[0]
        for a, b in ((ours, theirs), (theirs, ours)))


def duckdb_outputs(connection) -> dict[str, np.ndarray]:
    names = ", ".join(OUTPUTS)
    found = connection.execute(f"SELECT {names} FROM hand_result").fetchnumpy()
    return {name: np.asarray(found[name]) for name in OUTPUTS}


# --- Decimal Python ---------------------------------------------------------------------

_TEN = Decimal("1e-10")
_ONE = Decimal(1)
_ZERO = Decimal(0)
_RATE_CAP = LPR + Decimal("0.015")
_PERCENT_1 = Decimal("0.01")
_YEARS: dict[int, Decimal] = {}  # months → years, half-up to 10 places (terms take few values)


def _mul(a: Decimal, b: Decimal) -> Decimal:
    return (a * b).quantize(_TEN, rounding=ROUND_HALF_UP)


def _fen(x: Decimal) -> int:
    return int((x * 100).quantize(_ONE, rounding=ROUND_HALF_UP))


def _years(months: int) -> Decimal:
    years = _YEARS.get(months)
    if years is None:
        years = _YEARS[months] = (Decimal(months) / 12).quantize(_TEN, rounding=ROUND_HALF_UP)
    return years


def _largest_remainder(amount_fen: int, numerators: tuple[int, ...], scale: int) -> list[int]:
    """Whole fen for the constant shares `numerator / scale` (summing to 100%)."""
    parts = [amount_fen * n // scale for n in numerators]
    missing = amount_fen - sum(parts)
    if missing:
        remainders = [amount_fen * n % scale for n in numerators]
        for i in sorted(range(len(parts)), key=lambda i: (-remainders[i], i))[:missing]:
            parts[i] += 1
    return parts


def _largest_remainder_exact(parts: list[Decimal]) -> list[int]:
    """Exact parts (yuan, ≥ 0, summing to whole fen) → fen, by the largest remainder."""
    exact = [x * 100 for x in parts]
    fen = [int(x) for x in exact]  # ≥ 0: `int` truncates
    missing = int(sum(exact)) - sum(fen)
    if missing:
        order = sorted(range(len(parts)), key=lambda i: (-(exact[i] - fen[i]), i))
        for i in order[:missing]:
            fen[i] += 1
    return fen


def decimal_inputs(book: Path) -> list[tuple]:
    """The book's rows as the Decimal function takes them (parsed once, not timed)."""
    import duckdb

    rows = duckdb.connect().execute(
        f"SELECT borrower, purpose, first_loan, loan_amount, "
        f"CAST(split_part(term, ' ', 1) AS INTEGER), interest_rate, premium_rate, "
        f"premium_paid, principal_loss FROM read_parquet('{book}')").fetchall()
    return rows


def decide(borrower: str, purpose: str, first_loan: bool, loan_amount: Decimal, months: int,
           interest_rate: Decimal, premium_rate: Decimal, premium_paid: Decimal,
           principal_loss: Decimal) -> tuple:
    """The 14 outputs of one case, exactly (booleans and integer fen)."""
    rules = (purpose != "other",
             borrower != "enterprise" or loan_amount <= 10_000_000,
             borrower not in ("individual_business", "micro_owner") or loan_amount <= 3_000_000,
             months <= 36,
             interest_rate <= _RATE_CAP,
             premium_rate <= _PERCENT_1)
    subsidy = _mul(_mul(loan_amount, _years(months)), _PERCENT_1)
    if first_loan:
        borrower_subsidy = min(subsidy, premium_paid)
        lost = _fen(principal_loss)
    else:
        borrower_subsidy, lost = _ZERO, 0
    loss = _largest_remainder(lost, (10, 90), 100)
    burden = _largest_remainder(lost, (10, 45, 45), 100)
    return (all(rules), *rules, _fen(subsidy), _fen(borrower_subsidy), *loss, *burden)


def decimal_outputs(results: list[tuple], rules: list[str] = RULES,
                    money: list[str] = MONEY) -> dict[str, np.ndarray]:
    """Tuples in the order eligible, rules, money → the common output form."""
    outputs = ["eligible"] + [f"rule__{r}" for r in rules] + money
    columns = list(zip(*results, strict=True)) if results else [()] * len(outputs)
    return {name: np.asarray(column, dtype=bool if i <= len(rules) else np.int64)
            for i, (name, column) in enumerate(zip(outputs, columns, strict=True))}


# --- comparing --------------------------------------------------------------------------

def from_decisions(decisions: list[dict], rules: list[str] = RULES,
                   money: list[str] = MONEY) -> dict[str, np.ndarray]:
    """Decision JSON (interpreter, generated module) in the common output form."""
    out: dict[str, list] = {name: [] for name in
                            ["eligible"] + [f"rule__{r}" for r in rules] + money}
    for decision in decisions:
        failed = {f["rule"] for f in decision["failures"]}
        out["eligible"].append(decision["eligible"])
        for rule in rules:
            out[f"rule__{rule}"].append(rule not in failed)
        values = decision["values"] | {f"{a}__{p}": x for a, parts in
                                       decision["allocations"].items() for p, x in parts.items()}
        for name in money:
            out[name].append(_fen(Decimal(values[name])))
    return {name: np.asarray(column, dtype=bool if name not in money else np.int64)
            for name, column in out.items()}


def from_sql_result(connection, table: str, rules: list[str] = RULES,
                    money: list[str] = MONEY) -> dict[str, np.ndarray]:
    """policylang's SQL result table (DECIMAL money) in the common output form."""
    selected = ["eligible"] + [f"rule__{r}" for r in rules] + [
        f"CAST(round({m}, 2) * 100 AS BIGINT) AS {m}" for m in money]
    found = connection.execute(
        f"SELECT {', '.join(selected)} FROM {table} ORDER BY __pl_book_row").fetchnumpy()
    return {name: np.asarray(found[name]) for name in found}


def wrong_outputs(expected: dict[str, np.ndarray], actual: dict[str, np.ndarray]) -> int:
    """How many (case, output) values differ, money to the fen, over the rows both have."""
    rows = min(len(expected["eligible"]), len(actual["eligible"]))
    return int(sum(np.count_nonzero(np.asarray(actual[n][:rows]) != expected[n][:rows])
                   for n in expected))
