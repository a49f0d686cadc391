"""The message registry: every diagnostic code policylang can report, with its title.

Codes are stable: tests, editors and users' scripts match on them. A code is never
reused for a different meaning; retired codes stay listed. The README's error table is
generated from this registry (`python -m policylang.messages`).
"""

from __future__ import annotations

CODES: dict[str, str] = {
    # E1xx: syntax
    "E101": "unexpected character",
    "E102": "unexpected token",
    "E103": "unexpected end of file",
    "E104": "unterminated text",
    "E105": "invalid literal",
    "E106": "a file holds exactly one policy",
    "E107": "an expression is nested too deeply",
    # E2xx: types and units
    "E201": "operands have incompatible units",
    "E202": "comparison of values of different types",
    "E203": "a condition must be bool",
    "E204": "branches of an if have different types",
    "E205": "wrong arguments to a function",
    "E206": "unknown function",
    "E207": "value does not have the declared type",
    "E208": "unknown type",
    "E209": "type has no order",
    "E210": "value must be a constant",
    "E211": "a set's items must have the operand's type",
    "E212": "an expectation must be bool",
    "E213": "an aggregate out of place",
    "E214": "a portfolio is ordered by a date input",
    "E215": "a budget caps a money sum",
    # E3xx: shares and waterfalls
    "E301": "shares do not sum to 100%",
    "E302": "split does not sum to 100%",
    "E303": "a share must be a percent (a number in a ratio)",
    "E304": "a party is listed twice",
    "E305": "`rest` must be the last step",
    "E306": "an allocated amount or cap must be money",
    "E307": "an allocation needs at least one part",
    "E308": "a share must be positive",
    # E4xx: names, cycles and duplicates
    "E401": "cycle among lets",
    "E402": "unknown name",
    "E403": "name declared twice",
    "E404": "ambiguous enum member",
    "E405": "unknown member",
    "E406": "clause given twice",
    "E407": "metadata given twice",
    "E408": "not a value",
    "E409": "clause not allowed here",
    # E5xx: tests
    "E501": "unknown input in a test",
    "E502": "missing input in a test",
    "E503": "unknown rule or limit in a test",
    "E504": "test name used twice",
    "E505": "unknown param in a test",
    "E506": "test expectation failed",
    "E507": "test could not be evaluated",
    "E508": "a book expectation out of place",
    # E6xx: input data and evaluation
    "E601": "unknown input field",
    "E602": "missing required input field",
    "E603": "value has the wrong type",
    "E604": "unknown enum member",
    "E605": "unknown param",
    "E606": "missing param",
    "E607": "unreadable input",
    "E609": "a book is not in order",
    "E608": "a book column cannot be used",
    "E610": "division by zero",
    "E611": "evaluation error",
    "E612": "a construct the chosen SQL dialect cannot compute exactly",
    "E613": "an output cannot be written",
}


def title(code: str) -> str:
    return CODES[code]


def markdown_table() -> str:
    rows = ["| code | meaning |", "|---|---|"]
    rows += [f"| `{code}` | {text} |" for code, text in CODES.items()]
    return "\n".join(rows)


# W1xx: lint warnings (`policylang lint`): stable like the E-codes, but never an error.
# Kept apart from CODES so that the error catalogue's coverage rules do not apply to them;
# the README's lint section lists them (`warnings_table()`, kept in sync by a test).
WARNINGS: dict[str, str] = {
    "W101": "an input nothing uses",
    "W102": "a param nothing uses",
    "W103": "a guard that can never hold",
    "W104": "a rule or limit that can never fail",
    "W105": "a rule or limit that can never pass",
    "W106": "a limit made redundant by another on the same subject",
    "W107": "guarded limits on one subject leave a gap",
    "W108": "an allocation part that is always zero",
    "W109": "a `lint: allow` without a code or reason, or that matches nothing",
}


def warnings_table() -> str:
    rows = ["| code | warns about |", "|---|---|"]
    rows += [f"| `{code}` | {text} |" for code, text in WARNINGS.items()]
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
