"""重庆 助保贷 as OpenFisca variables: one `loan` entity, the inputs as input variables and
the 22 outputs as formulas over numpy arrays (OpenFisca's `float` is float32).

The 第十七条 waterfall is written as an OpenFisca user would: each party's share computed
in float32 and rounded to the fen on its own (no largest-remainder step). `kind` is an
integer code; the durations are whole months and days. The benchmark counts where the
outputs differ from the exact answer.
"""

from __future__ import annotations

import numpy as np
from openfisca_core.taxbenefitsystems import TaxBenefitSystem

from benchmarks.peers.openfisca_foshan import (
    as_common,
    build_system,
    evaluate,
    load_columns,
    rule_variables,
    variable,
)

KINDS = ["new_loan", "increase", "renewal"]
RATE_CAP = 0.0435 * 1.2  # the policy's default benchmark rate × 1.2
BOOLS = ["in_zone", "sme", "high_tech", "tech_listed", "owns_ip", "working_capital",
         "above_normal_approved"]
MONEY_INPUTS = ["revenue_last_year", "previous_amount", "loan_amount", "overdue_amount",
                "pool_balance", "risk_fund_balance", "recovered_amount", "recovery_costs",
                "bank_loss", "risk_fund_paid"]
COUNTS = ["kind", "term_months", "notice_days", "compensation_days"]

__all__ = ["as_common", "book_query", "evaluate", "load", "system"]


def book_query(book) -> str:
    """The Parquet book's columns as this system loads them."""
    whole = "CAST(split_part({0}, ' ', 1) AS INTEGER) AS {1}"
    columns = (BOOLS + [f"CAST({c} AS FLOAT) AS {c}" for c in MONEY_INPUTS + ["interest_rate"]]
               + ["kind", whole.format("term", "term_months"),
                  whole.format("bank_notice_delay", "notice_days"),
                  whole.format("compensation_delay", "compensation_days")])
    return f"SELECT {', '.join(columns)} FROM read_parquet('{book}')"


def _inputs() -> list[type]:
    return ([variable(name, bool) for name in BOOLS] +
            [variable(name, float) for name in MONEY_INPUTS + ["interest_rate"]] +
            [variable(name, int) for name in COUNTS])


def _formulas() -> list[type]:
    def rest(loan, p):
        return loan("overdue_amount", p) - loan("overdue__pool", p)

    rules = {
        "rule__in_zone_rule": lambda loan, p: loan("in_zone", p),
        "rule__sme_rule": lambda loan, p: loan("sme", p),
        "rule__tech_rule": lambda loan, p: loan("high_tech", p) + (
            loan("tech_listed", p) * loan("owns_ip", p)
            * (loan("revenue_last_year", p) >= 5_000_000)),
        "rule__purpose_rule": lambda loan, p: loan("working_capital", p),
        "rule__increase_rule": lambda loan, p: (loan("kind", p) != 1)
        + (loan("loan_amount", p) > loan("previous_amount", p)),
        "rule__normal_cap": lambda loan, p: loan("above_normal_approved", p)
        + (loan("loan_amount", p) <= 5_000_000),
        "rule__maximum_cap": lambda loan, p: loan("loan_amount", p) <= 10_000_000,
        "rule__term_cap": lambda loan, p: loan("term_months", p) <= 12,
        "rule__rate_cap": lambda loan, p: loan("interest_rate", p) <= RATE_CAP,
        "rule__notice_deadline": lambda loan, p: loan("notice_days", p) <= 5,
        "rule__compensation_deadline": lambda loan, p: (loan("overdue_amount", p) <= 0)
        + (loan("pool_balance", p) < loan("overdue_amount", p))
        + (loan("compensation_days", p) <= 15),
    }
    variables = rule_variables(rules)

    def deposit_base(loan, p):
        kind, amount = loan("kind", p), loan("loan_amount", p)
        increase = np.maximum(amount - loan("previous_amount", p), 0)
        return np.where(kind == 0, amount, np.where(kind == 1, increase, 0))

    def recovered(loan, p):
        return np.maximum(loan("recovered_amount", p) - loan("recovery_costs", p), 0)

    def to_fund(loan, p):
        return np.minimum(recovered(loan, p) - loan("recovery__bank", p),
                          np.maximum(loan("risk_fund_paid", p), 0))

    money = {
        "deposit_base": deposit_base,
        "guarantee_deposit": lambda loan, p: loan("deposit_base", p) * 0.025,
        "refundable_deposit": lambda loan, p: np.zeros(loan.count),
        "overdue__pool": lambda loan, p: np.minimum(
            loan("overdue_amount", p), np.maximum(loan("pool_balance", p), 0)),
        "overdue__risk_fund": lambda loan, p: np.minimum(
            rest(loan, p) * 0.5, np.maximum(loan("risk_fund_balance", p), 0)),
        "overdue__bank": lambda loan, p: rest(loan, p) * 0.5,
        "overdue__escalated": lambda loan, p: rest(loan, p) - loan("overdue__risk_fund", p)
        - loan("overdue__bank", p),
        "recovery__bank": lambda loan, p: np.minimum(
            recovered(loan, p), np.maximum(loan("bank_loss", p), 0)),
        "recovery__risk_fund": to_fund,
        "recovery__unallocated": lambda loan, p: recovered(loan, p)
        - loan("recovery__bank", p) - loan("recovery__risk_fund", p),
    }
    variables += [variable(name, float, formula) for name, formula in money.items()]
    return variables


def system() -> TaxBenefitSystem:
    return build_system(_inputs() + _formulas())


def load(tbs: TaxBenefitSystem, columns: dict[str, np.ndarray]):
    return load_columns(tbs, columns, {"kind": KINDS})
