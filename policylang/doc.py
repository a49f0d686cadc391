"""The policy page: `policylang doc` — one self-contained HTML page per policy.

For a reader who knows the source document, not the language: the metadata; each rule,
limit, let, share and waterfall in words and as a formula, beside its citation (and, with
the seed text, the cited article itself); the inputs and params with types, units and
descriptions; the test blocks as worked examples with the interpreter's results; the
highlighted source. Rendered by jinja2 (`templates/doc.html.j2`, every text escaped).
Formulas come from the AST, so literals read as written (`1000万`, not 10000000).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import assert_never

from policylang import ir
from policylang import nodes as n
from policylang.diagnostics import PolicyError
from policylang.formatter import format_expr
from policylang.highlight import highlight_css, highlight_html, highlight_inline
from policylang.parser import parse
from policylang.values import literal

UNIT_WORDS = {ir.Kind.MONEY: "元", ir.Kind.PERCENT: "%", ir.Kind.DURATION: "months / days",
              ir.Kind.NUMBER: "—", ir.Kind.DATE: "date", ir.Kind.BOOL: "yes / no"}
_LIMIT_WORDS = {"<=": "at most", "<": "less than", ">=": "at least", ">": "more than"}
_BOOK_KINDS = {"monitor": "monitor", "budget": "budget", "limit": "book limit"}
_COMPARE_WORDS = {"==": "is", "!=": "is not", "<=": "is at most", "<": "is less than",
                  ">=": "is at least", ">": "is more than"}


@dataclass(frozen=True, slots=True)
class Entry:
    """One declaration as the page shows it."""

    kind: str
    name: str
    words: str
    formula: str
    cite: str | None
    says: str | None
    guard: str | None
    parts: tuple[tuple[str, str], ...]  # (party, share or step) for shares and waterfalls
    sources: tuple[tuple[str, str], ...]  # (cited article, its text) from the seed
    terms: tuple[tuple[str, str], ...] = ()  # (input or param it reads, its description)

    @property
    def anchor(self) -> str:
        """The section's id: a book rule may share a name with a per-case one."""
        return f"{'book' if self.kind in _BOOK_KINDS.values() else 'rule'}-{self.name}"

    @property
    def formula_html(self) -> str:
        """The formula highlighted (Pygments escapes the text)."""
        return highlight_inline(self.formula)


def render_doc(policy: ir.Policy, source: str, seed_text: str | None = None) -> str:
    """The HTML page of a checked policy (and its source, for formulas as written)."""
    from importlib import resources

    import jinja2

    ast = parse(source, policy.file)
    articles = SeedArticles(seed_text) if seed_text else None
    described = {f.name: f.description for f in (*policy.inputs, *policy.params)
                 if f.description}
    entries = [_with_terms(_entry(item, articles), item, described) for item in ast.items
               if isinstance(item, n.RuleDecl | n.LimitDecl | n.LetDecl | n.SharesDecl
                             | n.WaterfallDecl)]
    portfolio = next((item for item in ast.items if isinstance(item, n.PortfolioDecl)), None)
    book_entries = [_with_terms(_book_entry(rule, articles), rule, described)
                    for rule in (portfolio.rules if portfolio else ())]
    template_text = resources.files("policylang").joinpath("templates/doc.html.j2").read_text(
        "utf-8")
    environment = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    template = environment.from_string(template_text)
    return template.render(
        policy=policy, meta=_meta_rows(policy.meta), entries=entries,
        book_entries=book_entries,
        order_by=policy.portfolio.order_by if policy.portfolio else None,
        inputs=[_field_row(f) for f in policy.inputs],
        params=[_field_row(f) for f in policy.params],
        enums=[(e.name, [(m.name, m.label or "") for m in e.members]) for e in policy.enums],
        examples=worked_examples(policy, ast), source_html=highlight_html(source),
        highlight_css=highlight_css(), with_seed=seed_text is not None)


def _meta_rows(meta: ir.Meta) -> list[tuple[str, str]]:
    rows = [("issuer", meta.issuer), ("document", meta.document), ("region", meta.region),
            ("version", meta.version),
            ("effective", meta.effective.isoformat() if meta.effective else None),
            ("supersedes", meta.supersedes)]
    return [(key, value) for key, value in rows if value]


def _field_row(f: ir.Field) -> dict[str, str]:
    default = "required" if f.default is None else literal(f.default, f.type)
    return {"name": f.name, "type": str(f.type), "unit": UNIT_WORDS.get(f.type.kind, "enum"),
            "default": str(default), "description": f.description or ""}


# ── declarations in words ──────────────────────────────────────────────────


def _entry(item: n.RuleDecl | n.LimitDecl | n.LetDecl | n.SharesDecl | n.WaterfallDecl,
           articles: SeedArticles | None) -> Entry:
    clauses = item.clauses
    parts: tuple[tuple[str, str], ...] = ()
    match item:
        case n.RuleDecl(cond=cond):
            kind, formula = "rule", format_expr(cond)
            words = f"Eligible only if {in_words(cond)}."
        case n.LimitDecl(subject=subject, op=op, bound=bound):
            kind, formula = "limit", f"{format_expr(subject)} {op} {format_expr(bound)}"
            words = (f"{format_expr(subject)} must be {_LIMIT_WORDS[op]} "
                     f"{format_expr(bound)}.")
        case n.LetDecl(name=name, expr=expr):
            kind, formula = "let", f"{name} = {format_expr(expr)}"
            words = f"{name} is {in_words(expr)}."
        case n.SharesDecl(parts=share_parts, amount=amount, ratio=ratio):
            kind = "shares"
            joined = " : " if ratio else " + "
            formula = joined.join(format_expr(p.value) for p in share_parts)
            of = f" of {format_expr(amount)}" if amount is not None else ""
            words = (f"The risk{of} is split {'in the ratio' if ratio else 'as'} "
                     + ", ".join(f"{p.party} {format_expr(p.value)}" for p in share_parts) + ".")
            parts = tuple((p.party, format_expr(p.value)) for p in share_parts)
        case n.WaterfallDecl(amount=amount, steps=steps):
            kind, formula = "waterfall", f"{item.name}({format_expr(amount)})"
            words = f"{format_expr(amount)} is allocated in order:"
            parts = tuple(_step_words(step) for step in steps)
        case _:
            assert_never(item)
    guard = in_words(clauses.when) if clauses.when is not None else None
    cite = clauses.cite.value if clauses.cite else None
    sources = tuple(articles.lookup(cite)) if articles and cite else ()
    return Entry(kind, item.name, words, formula, cite,
                 clauses.says.value if clauses.says else None, guard, parts, sources)


def _book_entry(rule: n.BookRuleDecl, articles: SeedArticles | None) -> Entry:
    """A portfolio rule (monitor, budget, book limit): what it does to a book in words."""
    value, bound, op = format_expr(rule.value), format_expr(rule.bound), rule.op
    per = ", ".join(format_expr(key) for key in rule.per)
    groups = f"Per {per}" if per else "Over the whole book"
    if rule.kind == "monitor":
        formula = f"{value} stop when {op} {bound}"
        words = (f"{groups}, {value} is recomputed after each case; the first case at which "
                 f"it is {_LIMIT_WORDS[op]} {bound} trips the monitor, and the group's later "
                 "cases are suspended.")
    elif rule.kind == "budget":
        formula = f"{value} {op} {bound}"
        words = (f"{groups}, {value} is paid out up to {bound}: the case that crosses it is "
                 "paid what is left, and the group's later cases nothing.")
    else:
        formula = f"{value} {op} {bound}"
        over = f"Per {per}, {value} over each group's cases" if per else \
            f"{value} over the whole book"
        words = f"{over} must be {_LIMIT_WORDS[op]} {bound}."
    cite = rule.clauses.cite.value if rule.clauses.cite else None
    sources = tuple(articles.lookup(cite)) if articles and cite else ()
    return Entry(_BOOK_KINDS[rule.kind], rule.name, words, formula, cite,
                 rule.clauses.says.value if rule.clauses.says else None, None, (), sources)


def _with_terms(entry: Entry, item: n.Decl, described: dict[str, str]) -> Entry:
    """The entry with the descriptions of the inputs and params its declaration reads."""
    used = dict.fromkeys(node.name for node in _walk(item) if isinstance(node, n.Name))
    terms = tuple((name, described[name]) for name in used if name in described)
    return dataclasses.replace(entry, terms=terms)


def _walk(value: object):
    """Every AST node under `value`, depth first."""
    if isinstance(value, tuple):
        for item in value:
            yield from _walk(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, n.Span):
        yield value
        for f in dataclasses.fields(value):
            yield from _walk(getattr(value, f.name))


def _step_words(step: n.Step) -> tuple[str, str]:
    match step:
        case n.TakeStep(party=party, cap=cap):
            return party, f"takes up to {format_expr(cap)}"
        case n.SplitStep(parts=parts):
            shares = ", ".join(
                f"{p.party} {format_expr(p.share)}"
                + (f" (up to {format_expr(p.cap)})" if p.cap is not None else "")
                for p in parts)
            return "split", f"what remains is split: {shares}"
        case n.RestStep(party=party, clauses=clauses):
            says = f" — {clauses.says.value}" if clauses.says else ""
            return party, f"takes whatever remains{says}"
        case _:
            assert_never(step)


def in_words(e: n.Expr) -> str:
    """An expression read aloud: connectives and comparisons in words, arithmetic as is."""
    match e:
        case n.And(left=left, right=right):
            return f"{_grouped(left, n.Or)} and {_grouped(right, n.Or)}"
        case n.Or(left=left, right=right):
            return f"{_grouped(left, n.And)} or {_grouped(right, n.And)}"
        case n.Not(operand=operand):
            return f"not {_grouped(operand, n.And | n.Or)}"
        case n.Compare(op=op, left=left, right=right):
            return f"{format_expr(left)} {_COMPARE_WORDS[op]} {format_expr(right)}"
        case n.InSet(operand=operand, items=items, negated=negated):
            verb = "is not one of" if negated else "is one of"
            return f"{format_expr(operand)} {verb} " + ", ".join(map(format_expr, items))
        case n.If(cond=cond, then=then, otherwise=otherwise):
            return (f"{in_words(then)} if {in_words(cond)}, otherwise "
                    f"{in_words(otherwise)}")
        case _:
            return format_expr(e)


def _grouped(e: n.Expr, looser: type | object) -> str:
    text = in_words(e)
    return f"({text})" if isinstance(e, looser) else text  # type: ignore[arg-type]


# ── tests as worked examples ───────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Example:
    name: str
    given: tuple[tuple[str, str], ...]
    params: tuple[tuple[str, str], ...]
    expectations: tuple[str, ...]
    passed: bool
    failures: tuple[str, ...]
    eligible: bool | None
    values: tuple[tuple[str, str], ...]  # lets and parts the interpreter computed
    cases: int  # a book test's number of cases (0 for a one-case test)
    book: tuple[tuple[tuple[str, str], ...], ...] = ()  # a book test's cases, each as given


def worked_examples(policy: ir.Policy, ast: n.Policy | None = None) -> list[Example]:
    """Every test block run on the interpreter, with what it computed.

    With the AST, the given values read as written in the test (`1000万`)."""
    from policylang.api import run_tests
    from policylang.interpret import evaluate
    from policylang.testing import test_case

    examples = []
    for result in run_tests(policy):
        test = result.test
        failures = list(result.failures)
        if result.error is not None:
            failures.append(result.error.diagnostics[0].message)
        eligible, values = None, ()
        if test.book is not None and result.error is None:
            values = _book_values(policy, test)
        if test.book is None and result.error is None:
            try:
                decision = evaluate(policy, *test_case(policy, test))
            except PolicyError:
                decision = None
            if decision is not None:
                eligible = decision["eligible"]
                values = tuple(decision["values"].items()) + tuple(
                    (f"{alloc}.{party}", amount)
                    for alloc, amounts in decision["allocations"].items()
                    for party, amount in amounts.items())
        types = {f.name: f.type for f in (*policy.inputs, *policy.params)}
        declared = next((item for item in (ast.items if ast else ())
                         if isinstance(item, n.TestDecl) and item.name.value == test.name),
                        None)
        written = {binding.name: format_expr(binding.value)
                   for binding in ((*declared.given, *(declared.params or ()))
                                   if declared else ())}
        book = tuple(
            tuple((b.name, format_expr(b.value)) for b in case) for case in declared.book
        ) if declared is not None and declared.book is not None else tuple(
            tuple((k, _shown(v, types.get(k))) for k, v in case) for case in test.book or ())
        examples.append(Example(
            name=test.name,
            given=tuple((k, written.get(k) or _shown(v, types.get(k))) for k, v in test.given),
            params=tuple((k, written.get(k) or _shown(v, types.get(k)))
                         for k, v in test.params),
            expectations=tuple(_expectation_text(x) for x in test.expectations),
            passed=result.passed, failures=tuple(failures), eligible=eligible,
            values=tuple((k, str(v)) for k, v in values), cases=len(test.book or ()),
            book=book))
    return examples


def _book_values(policy: ir.Policy, test: ir.Test) -> tuple[tuple[str, str], ...]:
    """A book test's portfolio columns, case by case, as the interpreter computes them."""
    from policylang.portfolio import evaluate_book
    from policylang.testing import test_case

    try:
        _, params = test_case(policy, test)
        cases = [{f.name: dict(given).get(f.name, f.default) for f in policy.inputs}
                 for given in test.book or ()]
        result = evaluate_book(policy, cases, params)
    except PolicyError:
        return ()
    columns, shown = result.columns, []
    for index, case in enumerate(columns, 1):
        for rule in policy.portfolio.rules if policy.portfolio else ():
            if rule.kind == "monitor":
                state = (" (trips)" if case[f"monitor__{rule.name}__tripped"] else
                         " (suspended)" if case[f"suspended__{rule.name}"] else "")
                shown.append((f"case {index}: monitor.{rule.name}",
                              f"{case[f'monitor__{rule.name}']}{state}"))
            elif rule.kind == "budget":
                shown.append((f"case {index}: budget.{rule.name}",
                              str(case[f"budget__{rule.name}"])))
    for name, section in result.report["limits"].items():
        for group in section["groups"]:
            key = f" ({', '.join(map(str, group['key']))})" if group["key"] else ""
            shown.append((f"book limit {name}{key}", f"{group['value']} against "
                           f"{group['bound']}: {'holds' if group['holds'] else 'fails'}"))
    return tuple(shown)


def _shown(value: ir.Value, type_: ir.Type | None) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(literal(value, type_)) if type_ is not None else str(value)


def _expectation_text(x: ir.Expectation) -> str:
    case = f"case {x.case}: " if x.case is not None else ""
    match x:
        case ir.ExpectEligible(eligible=eligible):
            return case + ("eligible" if eligible else "not eligible")
        case ir.ExpectOutcome(passes=passes, rule=rule):
            return case + f"{'passes' if passes else 'fails'} {rule}"
        case ir.ExpectExpr(source=source):
            return case + source
        case ir.ExpectMonitor(state=state, monitor=monitor):
            return case + f"{state} {monitor}"
        case _:
            assert_never(x)


# ── the cited articles in the seed text ────────────────────────────────────

_DIGITS = "零一二三四五六七八九"
_NUMERAL = "[一二三四五六七八九十百零0-9]+"
_BLOCK_START = re.compile(rf"^(第{_NUMERAL}[条章节]|{_NUMERAL}、|[（(]{_NUMERAL}[）)])")


def chinese_numeral(number: int) -> str:
    """1 → 一, 10 → 十, 17 → 十七, 25 → 二十五 (articles and items go up to 99)."""
    tens, ones = divmod(number, 10)
    text = ("" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens] + "十"))
    return text + (_DIGITS[ones] if ones or not text else "")


def _numeral(text: str) -> str:
    return chinese_numeral(int(text)) if text.isdigit() else text


class SeedArticles:
    """The seed text cut into paragraphs, each starting with 第N条, 第N章, N、 or （N）.

    PDF extraction breaks lines mid-sentence and leaves blank lines; the lines of one
    paragraph are joined without spaces (the text is Chinese).
    """

    def __init__(self, text: str):
        self.blocks: list[str] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line:
                continue
            if _BLOCK_START.match(line) or not self.blocks:
                self.blocks.append(line)
            else:
                self.blocks[-1] += line

    def lookup(self, cite: str) -> list[tuple[str, str]]:
        """The seed passages a citation names: 第十条, 第八条(一), 第8条（二）, 三(六)."""
        found = []
        for piece in re.split(r"[、，,]\s*(?=第|[一二三四五六七八九十]+[（(])", cite):
            passage = self._passage(piece.strip())
            if passage is not None:
                found.append(passage)
        return found

    def _passage(self, cite: str) -> tuple[str, str] | None:
        article = re.match(rf"第({_NUMERAL})条\s*(?:[（(]({_NUMERAL})[）)])?", cite)
        if article:
            number, item = _numeral(article.group(1)), article.group(2)
            blocks = self._following(rf"第({number}|{_arabic(number)})条", rf"第{_NUMERAL}[条章]")
            label = f"第{number}条"
        else:
            section = re.match(rf"({_NUMERAL})[（(]({_NUMERAL})[）)]", cite)
            if not section:
                return None
            number, item = section.group(1), section.group(2)
            blocks = self._following(rf"{number}、", rf"{_NUMERAL}、")
            label = number
        if not blocks:
            return None
        if item is not None:
            item = _numeral(item)
            inner = [b for b in blocks if re.match(rf"[（(]{item}[）)]", b)]
            if inner:  # the item's own marker is dropped: the label says it
                return f"{label}（{item}）", re.sub(r"^[（(][^）)]*[）)]\s*", "", inner[0])
        return (label if article else f"{label}、"), "".join(blocks)

    def _following(self, start: str, stop: str) -> list[str]:
        """The block starting with `start` and the blocks after it up to one matching stop."""
        for index, block in enumerate(self.blocks):
            if re.match(start, block):
                taken = [block]
                for later in self.blocks[index + 1:]:
                    if re.match(stop, later):
                        break
                    taken.append(later)
                return taken
        return []


def _arabic(numeral: str) -> str:
    """The Arabic form of a Chinese numeral up to 99 (for seeds that write 第8条)."""
    for number in range(1, 100):
        if chinese_numeral(number) == numeral:
            return str(number)
    return numeral
