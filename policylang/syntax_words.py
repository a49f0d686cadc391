"""The words syntax errors are written in (parser.py builds the errors; this is plain data,
so it can be read and extended without lark): what each grammar terminal is called, and
the known mistakes a drafter makes, each with snippets that show it.
"""

from __future__ import annotations

# A terminal's name in the grammar → how an error names it ("expected a money amount").
TOKEN_WORDS = {
    "NAME": "a name",
    "TEXT": "a quoted text",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LPAR": "'('",
    "RPAR": "')'",
    "COLON": "':'",
    "COMMA": "','",
    "EQUAL": "'='",
    "DOT": "'.'",
    "MONEY": "a money amount (500万)",
    "PERCENT": "a percent (2.5%)",
    "BASIS_POINTS": "basis points (150bp)",
    "NUMBER": "a number",
    "CJK_DURATION": "a duration (3年)",
    "DATE": "a date (2021-02-24)",
    "ORD_OP": "a comparison (<=, <, >=, >)",
    "EQ_OP": "'==' or '!='",
    "ADD_OP": "'+' or '-'",
    "MUL_OP": "'*' or '/'",
    "MINUS": "'-'",
    "$END": "the end of the file",
}

# Known mistakes: the sentence a syntax error gives, and snippets that each fail in the
# parser state where that mistake is made (parser.py matches an error's state to them).
KNOWN_MISTAKES: dict[str, list[str]] = {
    "expected ':' after the limit's name": ['policy p "t" { limit cap loan <= 1 }'],
    "expected ':' after the rule's name": ['policy p "t" { rule r a }'],
    "a limit compares its subject with <=, <, >= or > (use a rule for == and !=)": [
        'policy p "t" { limit cap: a }',
        'policy p "t" { limit cap: a == 1 }',
        'policy p "t" { limit cap: a != 1 }',
    ],
    "expected the policy's title in quotes after its name": ['policy p { }'],
    "a file starts with `policy NAME \"title\" {`": ["rule r: a", "input { }", 'x'],
    "expected a type (money, percent, number, duration, date, bool or an enum) after ':'": [
        'policy p "t" { input { a: } }',
        'policy p "t" { input { a: 1 } }',
        'policy p "t" { param a: = 1 }',
    ],
    "expected ':' and a type after the field's name": [
        'policy p "t" { input { a money } }',
        'policy p "t" { param a money }',
    ],
    "expected 'up to' and a cap after the party's name": [
        'policy p "t" { waterfall w(a) { take pool pool_balance } }'
    ],
    "expected '=' and an expression after the let's name": ['policy p "t" { let x x }'],
    "a test starts with `given { … }`": ['policy p "t" { test "t" { expect eligible } }'],
    "expected the test's name in quotes": ['policy p "t" { test t { } }'],
    "expected an expression": [
        'policy p "t" { rule r: }',
        'policy p "t" { let x = }',
        'policy p "t" { rule r: a and }',
        'policy p "t" { rule r: a + }',
    ],
    "expected the text in quotes after `cite`": ['policy p "t" { rule r: a cite x }'],
    "expected the text in quotes after `says`": ['policy p "t" { rule r: a says x }'],
    "a comparison cannot be chained: write `a < b and b < c`": [
        'policy p "t" { rule r: a < b < c }',
        'policy p "t" { rule r: a == b == c }',
    ],
}
