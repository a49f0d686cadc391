"""重庆 助保贷 as one CEL expression (cel-python): a map of the 21 rule verdicts and money
outputs, compiled once and evaluated per case. CEL has no decimal type, so money and
percents are doubles; each waterfall part is rounded to the fen on its own (no
largest-remainder step), and the benchmark counts where that is wrong."""

from __future__ import annotations

import celpy
from celpy import celtypes

from benchmarks.handwritten_chongqing import MONEY, RULES

RATE_CAP = 0.0435 * 1.2  # the policy's default benchmark rate × 1.2
_BASE = ('(kind == "new_loan" ? loan_amount : kind == "increase" ? '
         '(loan_amount > previous_amount ? loan_amount - previous_amount : 0.0) : 0.0)')
_POOL = "(overdue_amount < pool_balance ? overdue_amount : pool_balance)"
_REST = f"(overdue_amount - {_POOL})"
_RISK = (f"({_REST} * 0.5 < risk_fund_balance ? {_REST} * 0.5 : risk_fund_balance)")
_RECOVERED = ("(recovered_amount > recovery_costs ? recovered_amount - recovery_costs "
              ": 0.0)")
_TO_BANK = f"({_RECOVERED} < bank_loss ? {_RECOVERED} : bank_loss)"
_TO_FUND = (f"({_RECOVERED} - {_TO_BANK} < risk_fund_paid ? {_RECOVERED} - {_TO_BANK} "
            ": risk_fund_paid)")
EXPRESSION = f"""{{
  "rule__in_zone_rule": in_zone,
  "rule__sme_rule": sme,
  "rule__tech_rule": high_tech || (tech_listed && owns_ip && revenue_last_year >= 5000000.0),
  "rule__purpose_rule": working_capital,
  "rule__increase_rule": kind != "increase" || loan_amount > previous_amount,
  "rule__normal_cap": above_normal_approved || loan_amount <= 5000000.0,
  "rule__maximum_cap": loan_amount <= 10000000.0,
  "rule__term_cap": term_months <= 12,
  "rule__rate_cap": interest_rate <= {RATE_CAP},
  "rule__notice_deadline": notice_days <= 5,
  "rule__compensation_deadline": overdue_amount <= 0.0 || pool_balance < overdue_amount
    || compensation_days <= 15,
  "deposit_base": {_BASE},
  "guarantee_deposit": {_BASE} * 0.025,
  "refundable_deposit": 0.0,
  "overdue__pool": {_POOL},
  "overdue__risk_fund": {_RISK},
  "overdue__bank": {_REST} * 0.5,
  "overdue__escalated": {_REST} - {_RISK} - {_REST} * 0.5,
  "recovery__bank": {_TO_BANK},
  "recovery__risk_fund": {_TO_FUND},
  "recovery__unallocated": {_RECOVERED} - {_TO_BANK} - {_TO_FUND}
}}"""
_BOOLS = ["in_zone", "sme", "high_tech", "tech_listed", "owns_ip", "working_capital",
          "above_normal_approved"]


def program():
    environment = celpy.Environment()
    return environment.program(environment.compile(EXPRESSION))


def activation(in_zone, sme, high_tech, tech_listed, owns_ip, revenue, working_capital,
               kind, previous, loan, above_normal, months, rate, notice_days, overdue,
               pool_balance, risk_fund_balance, compensation_days, recovered, costs,
               bank_loss, risk_fund_paid) -> dict:
    """One case's CEL values, from a row of handwritten_chongqing.decimal_inputs."""
    double, whole = celtypes.DoubleType, celtypes.IntType
    flags = dict(zip(_BOOLS, (in_zone, sme, high_tech, tech_listed, owns_ip,
                              working_capital, above_normal), strict=True))
    return {**{name: celtypes.BoolType(value) for name, value in flags.items()},
            "kind": celtypes.StringType(kind),
            "revenue_last_year": double(float(revenue)),
            "previous_amount": double(float(previous)), "loan_amount": double(float(loan)),
            "term_months": whole(months), "interest_rate": double(float(rate)),
            "notice_days": whole(notice_days), "overdue_amount": double(float(overdue)),
            "pool_balance": double(float(pool_balance)),
            "risk_fund_balance": double(float(risk_fund_balance)),
            "compensation_days": whole(compensation_days),
            "recovered_amount": double(float(recovered)),
            "recovery_costs": double(float(costs)), "bank_loss": double(float(bank_loss)),
            "risk_fund_paid": double(float(risk_fund_paid))}


def decide(compiled, values: dict) -> tuple:
    """The 22 outputs in the common order: eligible, rules, money in fen (rounded)."""
    result = compiled.evaluate(values)
    rules = [bool(result[celtypes.StringType(f"rule__{r}")]) for r in RULES]
    money = [round(float(result[celtypes.StringType(m)]) * 100) for m in MONEY]
    return (all(rules), *rules, *money)
