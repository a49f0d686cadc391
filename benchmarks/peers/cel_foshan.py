"""佛山 2022 as one CEL expression (cel-python): a map of the 14 outputs, compiled once and
evaluated per case. CEL has no decimal type, so money and percents are doubles; money is
reported by rounding to the fen, and the benchmark counts where that is wrong."""

from __future__ import annotations

import celpy
from celpy import celtypes

LPR = 0.037
_SUBSIDY = "loan_amount * (double(term_months) / 12.0) * 0.01"
_LOST = "(first_loan ? principal_loss : 0.0)"
EXPRESSION = f"""{{
  "rule__purpose_rule": purpose != "other",
  "rule__enterprise_cap": borrower != "enterprise" || loan_amount <= 10000000.0,
  "rule__individual_cap": !(borrower in ["individual_business", "micro_owner"])
                          || loan_amount <= 3000000.0,
  "rule__term_cap": term_months <= 36,
  "rule__rate_cap": interest_rate <= {LPR} + 0.015,
  "rule__premium_cap": premium_rate <= 0.01,
  "insurer_subsidy": {_SUBSIDY},
  "borrower_subsidy": first_loan ? ({_SUBSIDY} < premium_paid ? {_SUBSIDY} : premium_paid)
                                 : 0.0,
  "first_loan_loss__bank": {_LOST} * 0.1,
  "first_loan_loss__insurer": {_LOST} * 0.9,
  "first_loan_burden__bank": {_LOST} * 0.1,
  "first_loan_burden__insurer": {_LOST} * 0.45,
  "first_loan_burden__fund": {_LOST} * 0.45
}}"""
RULES = ["rule__purpose_rule", "rule__enterprise_cap", "rule__individual_cap",
         "rule__term_cap", "rule__rate_cap", "rule__premium_cap"]


def program():
    environment = celpy.Environment()
    return environment.program(environment.compile(EXPRESSION))


def activation(borrower, purpose, first_loan, loan_amount, months, interest_rate,
               premium_rate, premium_paid, principal_loss) -> dict:
    """One case's CEL values (the book's values as a CEL host would pass them)."""
    return {"borrower": celtypes.StringType(borrower), "purpose": celtypes.StringType(purpose),
            "first_loan": celtypes.BoolType(first_loan),
            "loan_amount": celtypes.DoubleType(float(loan_amount)),
            "term_months": celtypes.IntType(months),
            "interest_rate": celtypes.DoubleType(float(interest_rate)),
            "premium_rate": celtypes.DoubleType(float(premium_rate)),
            "premium_paid": celtypes.DoubleType(float(premium_paid)),
            "principal_loss": celtypes.DoubleType(float(principal_loss))}


def decide(compiled, values: dict) -> tuple:
    """The 14 outputs in the common order: eligible, rules, money in fen (rounded)."""
    result = compiled.evaluate(values)
    rules = [bool(result[celtypes.StringType(r)]) for r in RULES]
    money = [round(float(result[celtypes.StringType(m)]) * 100) for m in MONEY]
    return (all(rules), *rules, *money)


MONEY = ["insurer_subsidy", "borrower_subsidy", "first_loan_loss__bank",
         "first_loan_loss__insurer", "first_loan_burden__bank", "first_loan_burden__insurer",
         "first_loan_burden__fund"]
