"""佛山 2022 as OpenFisca variables: one `loan` entity, the inputs as input variables and
the 14 outputs as formulas over numpy arrays (OpenFisca's `float` is float32).

Enums are integer codes (OpenFisca's `Enum` type would only add a conversion on load).
Money is reported by rounding float32 yuan to the fen, as an OpenFisca user would; the
benchmark counts where that differs from the exact answer.
"""

from __future__ import annotations

import numpy as np
from openfisca_core.entities import build_entity
from openfisca_core.periods import DateUnit
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

Loan = build_entity(key="loan", plural="loans", label="贷款", is_person=True)
BORROWERS = ["enterprise", "individual_business", "micro_owner"]
PURPOSES = ["production", "no_principal_renewal", "repay_special_fund", "other"]
LPR = 0.037
PERIOD = "2022"  # the book's year


def variable(name: str, value_type: type, formula=None) -> type:
    namespace = {"value_type": value_type, "entity": Loan,
                 "definition_period": DateUnit.YEAR, "label": name}
    if formula is not None:
        namespace["formula"] = formula
    return type(name, (Variable,), namespace)


def _inputs() -> list[type]:
    return [variable("borrower", int), variable("purpose", int),
            variable("first_loan", bool), variable("loan_amount", float),
            variable("term_months", int), variable("interest_rate", float),
            variable("premium_rate", float), variable("premium_paid", float),
            variable("principal_loss", float)]


def _share(name: str, share: float):
    return lambda loan, period: np.where(loan("first_loan", period),
                                         loan("principal_loss", period), 0) * share


def _formulas() -> list[type]:
    def subsidy(loan, period):
        return loan("loan_amount", period) * (loan("term_months", period) / 12) * 0.01

    rules = {
        "rule__purpose_rule": lambda loan, p: loan("purpose", p) != 3,
        "rule__enterprise_cap": lambda loan, p: (loan("borrower", p) != 0)
        + (loan("loan_amount", p) <= 10_000_000),
        "rule__individual_cap": lambda loan, p: (loan("borrower", p) == 0)
        + (loan("loan_amount", p) <= 3_000_000),
        "rule__term_cap": lambda loan, p: loan("term_months", p) <= 36,
        "rule__rate_cap": lambda loan, p: loan("interest_rate", p) <= LPR + 0.015,
        "rule__premium_cap": lambda loan, p: loan("premium_rate", p) <= 0.01,
    }
    variables = rule_variables(rules)
    variables.append(variable("insurer_subsidy", float, subsidy))
    variables.append(variable("borrower_subsidy", float, lambda loan, p: np.where(
        loan("first_loan", p), np.minimum(subsidy(loan, p), loan("premium_paid", p)), 0)))
    for name, share in (("first_loan_loss__bank", 0.1), ("first_loan_loss__insurer", 0.9),
                        ("first_loan_burden__bank", 0.1), ("first_loan_burden__insurer", 0.45),
                        ("first_loan_burden__fund", 0.45)):
        variables.append(variable(name, float, _share(name, share)))
    return variables


def book_query(book) -> str:
    """The Parquet book's columns as this system loads them."""
    return ("SELECT borrower, purpose, first_loan, "
            "CAST(split_part(term, ' ', 1) AS INTEGER) AS term_months, " +
            ", ".join(f"CAST({c} AS FLOAT) AS {c}" for c in (
                "loan_amount", "interest_rate", "premium_rate", "premium_paid",
                "principal_loss")) + f" FROM read_parquet('{book}')")


def rule_variables(rules: dict) -> list[type]:
    """A bool variable per rule (name → formula), and `eligible`: every rule holds."""
    def eligible(loan, period):
        result = np.ones(loan.count, dtype=bool)
        for name in rules:
            result = result * loan(name, period)
        return result

    return ([variable(name, bool, formula) for name, formula in rules.items()]
            + [variable("eligible", bool, eligible)])


def system() -> TaxBenefitSystem:
    return build_system(_inputs() + _formulas())


def load(tbs: TaxBenefitSystem, columns: dict[str, np.ndarray]):
    return load_columns(tbs, columns, {"borrower": BORROWERS, "purpose": PURPOSES})


def build_system(variables: list[type]) -> TaxBenefitSystem:
    tbs = TaxBenefitSystem([Loan])
    for variable in variables:
        tbs.add_variable(variable)
    return tbs


def load_columns(tbs: TaxBenefitSystem, columns: dict[str, np.ndarray],
                 codes: dict[str, list[str]]):
    """A simulation over the book's columns (numpy arrays from the Parquet file), each
    enum column (`codes`) as the integer codes of its members."""
    count = len(next(iter(columns.values())))
    simulation = SimulationBuilder().build_default_simulation(tbs, count)
    for name, values in columns.items():
        if name in codes:
            lookup = {member: i for i, member in enumerate(codes[name])}
            values = np.fromiter((lookup[x] for x in values), dtype=np.int32, count=count)
        simulation.set_input(name, PERIOD, values)
    return simulation


def evaluate(simulation, outputs: list[str]) -> dict[str, np.ndarray]:
    return {name: simulation.calculate(name, PERIOD) for name in outputs}


def as_common(results: dict[str, np.ndarray], money: list[str]) -> dict[str, np.ndarray]:
    return {name: (np.round(values.astype(np.float64) * 100).astype(np.int64)
                   if name in money else values.astype(bool))
            for name, values in results.items()}
