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


def describe_token(kind: str, text: str) -> str:
    """How an error names the token it found: "name 'x'", "'}'"."""
    if kind in ("NAME", "TEXT", "NUMBER", "MONEY", "PERCENT", "DATE"):
        words = TOKEN_WORDS.get(kind, kind.lower())
        return f"{words.removeprefix('a ')} {text!r}"  # "unexpected name 'x'"
    return f"{text!r}"


def join_words(words: list[str]) -> str:
    """`a, b or c`, sorted, cut after eight."""
    words = sorted(set(words))
    if len(words) > 8:
        return ", ".join(words[:8]) + f" or one of {len(words) - 8} more"
    return " or ".join(words) if len(words) <= 2 else ", ".join(words[:-1]) + " or " + words[-1]


# ── notes: how to fix a syntax error, beyond what the parser expected ──────────

_QUOTES = 'a text is written between ASCII double quotes: "…"'
# A character outside the language that a drafter types for one inside it.
CHARACTER_NOTES = {
    "“": _QUOTES, "”": _QUOTES, "‘": _QUOTES, "’": _QUOTES, "'": _QUOTES, "「": _QUOTES,
    "」": _QUOTES, "《": _QUOTES, "》": _QUOTES, "。": "a decimal point is the ASCII '.'",
    "、": "items of a list are separated by the ASCII ',' (or by nothing)",
    "≤": "write '<='", "≥": "write '>='", "≠": "write '!='", "×": "write '*'",
    "÷": "write '/'", "&": "write `and`", "|": "write `or`", "!": "write `not` (or '!=')",
    ";": "declarations need no separator: remove the ';'",
    "；": "declarations need no separator: remove the '；'",
}


def character_notes(char: str) -> list[str]:
    """What to type instead of `char`, an unexpected character: a full-width form typed by
    a Chinese input method (，：（）％１) is the ASCII one."""
    import unicodedata

    if char in CHARACTER_NOTES:
        return [CHARACTER_NOTES[char]]
    ascii_form = unicodedata.normalize("NFKC", char)
    if ascii_form != char and ascii_form.isascii() and ascii_form.isprintable():
        return [f"'{char}' is a full-width character (as a Chinese input method types it); "
                f"type the ASCII '{ascii_form}'"]
    return []


_UNITS = ("万元", "亿元", "万", "亿", "元", "个月", "年", "天", "日", "月")
_UNIT_WORDS = {"percent": "%", "yuan": "元", "pct": "%"}
_DECLARATIONS = ("rule", "limit", "let", "shares", "waterfall", "test", "input", "param",
                 "enum", "portfolio")
_CHINESE_WORDS = {"且": "and", "并且": "and", "和": "and", "与": "and", "或": "or",
                  "或者": "or", "非": "not", "不": "not"}


def token_notes(source: str, start: int, kind: str, text: str, expected: list[str],
                known: bool) -> list[str]:
    """Hints for an unexpected token `text` (grammar terminal `kind`) at offset `start`
    of `source`, given the words of the tokens that could have come."""
    import difflib
    import re

    before, after = source[max(0, start - 200):start], source[start + len(text):][:200]
    notes = []
    units = [re.search(r"([0-9.]+)\s+(\S+)\s*$", t) for t in (before + text, before)]
    unit = next((u for u in units if u and (u[2] in _UNITS or u[2] in _UNIT_WORDS)), None)
    if unit:
        written = _UNIT_WORDS.get(unit[2], unit[2])
        notes.append(f"write the unit right after the number, with no space: "
                     f"`{unit[1]}{written}`")
    month = next((m for t in (before + text, before) if (m := re.search(r"([0-9]+)月\s*$", t))),
                 None)
    if month:
        notes.append(f"months are written `{month[1]}个月` or `{month[1]} months`")
    if text == "," and re.search(r"[0-9]$", before) and re.match(r"[0-9]{3}", after):
        notes.append("write a number without thousands separators: `10000000元`, or `1000万`")
    if kind == "NUMBER" and re.search(r"[0-9]{4}年$", before) and re.match(r"[0-9]*月", after):
        notes.append("a date is written year-month-day: `2022-06-01`")
    if text in _CHINESE_WORDS:
        notes.append(f"write `{_CHINESE_WORDS[text]}`")
    keywords = [w.strip("'") for w in expected if w.startswith("'") and w[1:-1].isidentifier()]
    close = difflib.get_close_matches(text, keywords, n=1) if kind == "NAME" else []
    if close and close[0] != text:
        notes.append(f"did you mean `{close[0]}`?")
    if text == "=" and "'='" not in expected and not known:
        notes.append("to compare two values write `==`; `=` gives a let or a default its value")
    if text in _DECLARATIONS and "'}'" in expected:
        notes.append(f"is a '}}' missing before this `{text}`?")
    return notes


def unclosed_brace(source: str) -> int | None:
    """The line of the innermost '{' the source leaves open (texts and comments skipped)."""
    import re

    opened: list[int] = []
    for match in re.finditer(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[{}]', source):
        if match[0] == "{":
            opened.append(source.count("\n", 0, match.start()) + 1)
        elif match[0] == "}" and opened:
            opened.pop()
    return opened[-1] if opened else None
