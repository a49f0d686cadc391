"""`policylang diff`: what changed between two versions of a policy, and whom it affects.

Owns the structural comparison of two typed IRs and the search for witnesses.

Structural: declarations are matched by name (enum members, share parties and portfolio
rules too; waterfall steps by kind and party). A change is reported once, at the
most specific place (`aspect`): a limit whose bound changed is one change `limit x` /
`bound`, not also a changed limit. Expressions are compared in their canonical `.pol`
form (`expression_text`), so layout, comments and spans never count as changes.
`renamed_inputs` pairs an input removed with one added as the same field renamed.

Behavioural (`witnesses`): both versions are encoded with `smt` over shared case
variables; for each changed declaration in turn (then for any difference at all) z3 is
asked for a case where eligibility, a rule's or limit's outcome, a let's value or an
allocation part differs. Each case is re-run in the interpreter under both versions and
kept only if the decisions really differ, so rounding or an encoding gap can never
produce a false witness. Parts outside the linear fragment are skipped with a note.
`WitnessSearch` says how the search ended, and why when it found nothing: none asked
for, no case decides differently, none found (something was not searched), or no case
could be valid under both versions at once.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, assert_never

from policylang import ir
from policylang import values as v
from policylang.diff_text import book_expression_text, expression_text, value_text
from policylang.formatter import quote

ChangeKind = Literal["added", "removed", "changed"]


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    item: str  # the declaration's keyword and name: `limit amount_cap`, `meta version`
    aspect: str | None  # the part that changed (`bound`, `party insurer`); None: all of it
    old: str | None
    new: str | None
    cite_old: str | None = None
    cite_new: str | None = None
    # The declaration's item in the old version where it differs from `item`: a limit
    # turned into a rule of the same name is one change `rule x` / `kind`, old `limit x`.
    item_old: str | None = None

    @property
    def keyword(self) -> str:
        """`limit`, `book limit`, `meta`, … (`portfolio` for the portfolio's own clauses)."""
        return self.item.rsplit(" ", 1)[0] if " " in self.item else self.item

    @property
    def effect(self) -> ChangeKind:
        """What happened to the part named by `aspect` (or the whole declaration)."""
        return "added" if self.old is None else "removed" if self.new is None else "changed"

    @property
    def name(self) -> str:
        return self.item.rsplit(" ", 1)[1] if " " in self.item else ""

    def to_json(self) -> dict:
        item_old = None if self.kind == "added" else self.item_old or self.item
        return {"kind": self.kind, "item": self.item, "aspect": self.aspect, "old": self.old,
                "new": self.new, "cite_old": self.cite_old, "cite_new": self.cite_new,
                "item_old": item_old}


@dataclass(frozen=True, slots=True)
class Witness:
    case: dict  # for `policylang run NEW --case`
    params: dict
    old: dict  # the decisions (DESIGN.md §4)
    new: dict
    about: str  # the change it shows (`diff_cause`), or "any difference"
    differences: tuple[str, ...]
    case_old: dict | None = None  # when the old version takes other fields
    params_old: dict | None = None

    def to_json(self) -> dict:
        out = {"case": self.case, "params": self.params, "old": self.old, "new": self.new,
               "about": self.about, "differences": list(self.differences)}
        if self.case_old is not None:
            out["case_old"] = self.case_old
        if self.params_old is not None:
            out["params_old"] = self.params_old
        return out


# How a witness search ended. `none_differ` is a claim (every difference the linear
# fragment can express was ruled out by the solver); `none_found` is not (a part was
# skipped, the solver gave up, or a candidate was not confirmed); `no_shared_case` means
# nothing was searched, because no one case is valid under both versions.
SearchStatus = Literal["not_searched", "found", "none_differ", "none_found", "no_shared_case"]


@dataclass(frozen=True, slots=True)
class WitnessSearch:
    status: SearchStatus
    reason: str | None = None  # why there is no witness, as a sentence; None when found
    inputs: tuple[str, ...] = ()  # no_shared_case: the inputs no one case can give both

    def to_json(self) -> dict:
        return {"status": self.status, "reason": self.reason, "inputs": list(self.inputs)}


NOT_SEARCHED = WitnessSearch("not_searched", "none were asked for (--witnesses N)")


@dataclass(frozen=True, slots=True)
class Diff:
    old: ir.Policy
    new: ir.Policy
    changes: tuple[Change, ...]
    witnesses: tuple[Witness, ...] = ()
    notes: tuple[str, ...] = ()  # what the witness search had to skip, and why
    search: WitnessSearch = NOT_SEARCHED

    def to_json(self) -> dict:
        return {
            "old": {"policy": self.old.name, "version": self.old.meta.version},
            "new": {"policy": self.new.name, "version": self.new.meta.version},
            "changes": [c.to_json() for c in self.changes],
            "witnesses": [w.to_json() for w in self.witnesses],
            "notes": list(self.notes),
            "witness_search": self.search.to_json(),
        }


def diff(old: ir.Policy, new: ir.Policy, witnesses: int = 0) -> Diff:
    changes = tuple(structural_changes(old, new))
    if witnesses <= 0:
        return Diff(old, new, changes)
    from policylang.diff_witness import find_witnesses

    found, notes, search = find_witnesses(old, new, changes, witnesses)
    return Diff(old, new, changes, tuple(found), tuple(notes), search)


# ── structural comparison ──────────────────────────────────────────────────


def structural_changes(old: ir.Policy, new: ir.Policy) -> list[Change]:
    out: list[Change] = []
    out += _meta(old, new)
    out += _matched(old.enums, new.enums, "enum", _enum_text, _enum_aspects)
    out += _matched(old.inputs, new.inputs, "input", _field_text, _field_aspects)
    out += _matched(old.params, new.params, "param", _field_text, _field_aspects)
    out += _kind_changed(_matched(old.checks, new.checks, None, _check_text, _check_aspects),
                         old, new)
    out += _matched(old.lets, new.lets, "let", _let_text, _let_aspects)
    out += _matched(old.allocations, new.allocations, None, _allocation_text,
                    _allocation_aspects)
    out += _portfolio(old.portfolio, new.portfolio)
    return out


def _meta(old: ir.Policy, new: ir.Policy) -> list[Change]:
    out = []
    pairs = [("title", old.title, new.title)] + [
        (name, getattr(old.meta, name), getattr(new.meta, name))
        for name in ("issuer", "document", "region", "version", "effective", "supersedes")]
    for name, a, b in pairs:
        a, b = (None if x is None else str(x) for x in (a, b))
        if a != b:
            kind = "added" if a is None else "removed" if b is None else "changed"
            out.append(Change(kind, f"meta {name}", None, a, b))
    return out


def keyword(decl) -> str:
    match decl:
        case ir.Rule():
            return "rule"
        case ir.Limit():
            return "limit"
        case ir.Shares():
            return "shares"
        case ir.Waterfall():
            return "waterfall"
        case ir.BookRule(kind=kind):
            return "book limit" if kind == "limit" else kind
    raise AssertionError(decl)


def _matched(olds, news, word: str | None, text, aspects) -> list[Change]:
    """Added, removed and changed declarations, matched by keyword and name."""
    def key(decl) -> tuple[str, str]:
        return (word or keyword(decl), decl.name)

    old_by, new_by = {key(d): d for d in olds}, {key(d): d for d in news}
    old_keys, new_keys = list(old_by), list(new_by)
    # Removed declarations are reported where they stood, between their neighbours.
    matcher = difflib.SequenceMatcher(a=old_keys, b=new_keys, autojunk=False)
    out: list[Change] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for name_key in old_keys[i1:i2]:
            if tag != "equal" and name_key not in new_by:
                decl = old_by[name_key]
                out.append(Change("removed", _item(name_key), None, text(decl), None,
                                  _cite(decl), None))
        for name_key in new_keys[j1:j2]:
            decl = new_by[name_key]
            if name_key not in old_by:
                out.append(Change("added", _item(name_key), None, None, text(decl), None,
                                  _cite(decl)))
                continue
            before = old_by[name_key]
            # The declaration is changed even where a part of it (a guard, a member, a
            # party, a step) was added or removed: `old` or `new` is then None.
            for _, aspect, a, b in aspects(before, decl):
                out.append(Change("changed", _item(name_key), aspect, a, b, _cite(before),
                                  _cite(decl)))
    return out


def _item(name_key: tuple[str, str]) -> str:
    return f"{name_key[0]} {name_key[1]}"


def _cite(decl) -> str | None:
    return getattr(decl, "cite", None)


def _compare(aspect: str, a: str | None, b: str | None) -> list[tuple]:
    """One aspect's change, if any: (kind, aspect, old, new)."""
    if a == b:
        return []
    kind = "added" if a is None else "removed" if b is None else "changed"
    return [(kind, aspect, a, b)]


def _texts(a, b, *names: str) -> list[tuple]:
    """The `cite` and `says` clauses (and other plain texts) of two declarations."""
    out = []
    for name in names:
        out += _compare(name, getattr(a, name), getattr(b, name))
    return out


def _enum_text(e: ir.EnumDef) -> str:
    return "{" + ", ".join(m.name for m in e.members) + "}"


def _enum_aspects(a: ir.EnumDef, b: ir.EnumDef) -> list[tuple]:
    labels_a = {m.name: m.label for m in a.members}
    labels_b = {m.name: m.label for m in b.members}
    out = []
    for name, label in labels_b.items():
        if name not in labels_a:
            out.append(("added", f"member {name}", None, label or name))
        elif labels_a[name] != label:  # a label added or dropped is still a changed member
            out.append(("changed", f"member {name}", labels_a[name] or name, label or name))
    out += [("removed", f"member {name}", label or name, None)
            for name, label in labels_a.items() if name not in labels_b]
    return out


def _field_text(f: ir.Field) -> str:
    default = "" if f.default is None else f" = {value_text(f.default, f.type)}"
    return f"{f.type}{default}"


def _field_aspects(a: ir.Field, b: ir.Field) -> list[tuple]:
    out = _compare("type", str(a.type), str(b.type))
    out += _compare("default", None if a.default is None else value_text(a.default, a.type),
                    None if b.default is None else value_text(b.default, b.type))
    return out + _texts(a, b, "description")


def _guard_text(guard: ir.Expr | None) -> str:
    return "" if guard is None else f" when {expression_text(guard)}"


def _check_text(check: ir.Check) -> str:
    match check:
        case ir.Rule(cond=cond, guard=guard):
            return expression_text(cond) + _guard_text(guard)
        case ir.Limit(subject=subject, op=op, bound=bound, guard=guard):
            return (f"{expression_text(subject)} {op} {expression_text(bound)}"
                    + _guard_text(guard))
        case _:
            assert_never(check)


def _kind_changed(changes: list[Change], old: ir.Policy, new: ir.Policy) -> list[Change]:
    """A limit removed and a rule of the same name added (or the other way round) as one
    change of kind, `rule x` / `kind`, where the added one stood; its `cite` and `says`
    are compared as for any rule."""
    removed = {c.name: c for c in changes if c.effect == "removed" and c.aspect is None}
    olds, news = {c.name: c for c in old.checks}, {c.name: c for c in new.checks}
    merged: set[str] = set()
    out: list[Change] = []
    for change in changes:
        twin = removed.get(change.name)
        if change.effect != "added" or change.aspect is not None or twin is None:
            out.append(change)
            continue
        a, b = olds[change.name], news[change.name]
        merged.add(change.name)
        out += [Change("changed", change.item, aspect, x, y, a.cite, b.cite, twin.item)
                for _, aspect, x, y in [
                    ("changed", "kind", f"{twin.keyword} {twin.old}",
                     f"{change.keyword} {change.new}"), *_texts(a, b, "cite", "says")]]
    return [c for c in out if not (c.name in merged and c.effect == "removed"
                                   and c.aspect is None)]


def _optional(expr: ir.Expr | None) -> str | None:
    return None if expr is None else expression_text(expr)


def _check_aspects(a: ir.Check, b: ir.Check) -> list[tuple]:
    out: list[tuple] = []
    match a, b:
        case ir.Rule(), ir.Rule():
            out += _compare("condition", expression_text(a.cond), expression_text(b.cond))
        case ir.Limit(), ir.Limit():
            out += _compare("subject", expression_text(a.subject), expression_text(b.subject))
            out += _compare("operator", a.op, b.op)
            out += _compare("bound", expression_text(a.bound), expression_text(b.bound))
        case _:
            raise AssertionError("rules and limits are matched by keyword")
    out += _compare("guard", _optional(a.guard), _optional(b.guard))
    return out + _texts(a, b, "cite", "says")


def _let_text(let: ir.Let) -> str:
    return expression_text(let.expr)


def _let_aspects(a: ir.Let, b: ir.Let) -> list[tuple]:
    out = _compare("expression", expression_text(a.expr), expression_text(b.expr))
    return out + _texts(a, b, "cite", "says")


def _weight_text(shares: ir.Shares, weight: Decimal) -> str:
    return v.format_decimal(weight) if shares.ratio else value_text(weight, ir.PERCENT)


def _allocation_text(alloc: ir.Allocation) -> str:
    match alloc:
        case ir.Shares():
            of = "" if alloc.amount is None else f" of {expression_text(alloc.amount)}"
            parts = ", ".join(f"{p.party}: {_weight_text(alloc, p.weight)}" for p in alloc.parts)
            return ("ratio " if alloc.ratio else "") + "{" + parts + "}" + of
        case ir.Waterfall():
            steps = "; ".join(step_text(s) for s in alloc.steps)
            return f"({expression_text(alloc.amount)}) {{{steps}}}"
        case _:
            assert_never(alloc)


def step_text(step: ir.Step) -> str:
    says = "" if step.says is None else f" says {quote(step.says)}"
    match step:
        case ir.Take(party=party, cap=cap):
            return f"take {party} up to {expression_text(cap)}{says}"
        case ir.Split(parts=parts):
            return "split {" + ", ".join(
                f"{p.party}: {value_text(p.share, ir.PERCENT)}"
                + ("" if p.cap is None else f" up to {expression_text(p.cap)}")
                for p in parts) + "}" + says
        case ir.Rest(party=party):
            return f"rest {party}{says}"
        case _:
            assert_never(step)


def _allocation_aspects(a: ir.Allocation, b: ir.Allocation) -> list[tuple]:
    out: list[tuple] = []
    match a, b:
        case ir.Shares(), ir.Shares():
            out += _compare("form", "ratio" if a.ratio else "percent",
                            "ratio" if b.ratio else "percent")
            out += _compare("amount", _optional(a.amount), _optional(b.amount))
            weights_a = {p.party: _weight_text(a, p.weight) for p in a.parts}
            weights_b = {p.party: _weight_text(b, p.weight) for p in b.parts}
            for party in [*weights_b, *(p for p in weights_a if p not in weights_b)]:
                out += _compare(f"party {party}", weights_a.get(party), weights_b.get(party))
        case ir.Waterfall(), ir.Waterfall():
            out += _compare("amount", expression_text(a.amount), expression_text(b.amount))
            out += _step_aspects(a.steps, b.steps)
        case _:
            raise AssertionError("allocations are matched by keyword")
    return out + _texts(a, b, "cite", "says")


def _step_key(step: ir.Step) -> tuple:
    match step:
        case ir.Take(party=party) | ir.Rest(party=party):
            return (type(step).__name__, party)
        case ir.Split(parts=parts):
            return ("Split", tuple(p.party for p in parts))
        case _:
            assert_never(step)


def _step_label(step: ir.Step) -> str:
    match step:
        case ir.Take(party=party) | ir.Rest(party=party):
            return f"{'take' if isinstance(step, ir.Take) else 'rest'} {party}"
        case ir.Split(parts=parts):
            return "split {" + ", ".join(p.party for p in parts) + "}"
        case _:
            assert_never(step)


def _step_aspects(old: tuple[ir.Step, ...], new: tuple[ir.Step, ...]) -> list[tuple]:
    """Steps aligned by kind and party; a matched step whose cap or shares changed is one
    change; unmatched steps are added or removed (numbered from 1 in their version). The
    same steps in another order are one change, `order`, then each step's own."""
    keys_old, keys_new = [_step_key(s) for s in old], [_step_key(s) for s in new]
    if (keys_old != keys_new and len(set(keys_old)) == len(keys_old)
            and set(keys_old) == set(keys_new) and len(keys_old) == len(keys_new)):
        out = _compare("order", "; ".join(_step_label(s) for s in old),
                       "; ".join(_step_label(s) for s in new))
        at = {key: index for index, key in enumerate(keys_old)}
        for j, key in enumerate(keys_new):
            out += _compare(f"step {j + 1}", step_text(old[at[key]]), step_text(new[j]))
        return out
    matcher = difflib.SequenceMatcher(a=keys_old, b=keys_new, autojunk=False)
    out: list[tuple] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                out += _compare(f"step {j + 1}", step_text(old[i]), step_text(new[j]))
            continue
        out += [("removed", f"step {i + 1}", step_text(old[i]), None) for i in range(i1, i2)]
        out += [("added", f"step {j + 1}", None, step_text(new[j])) for j in range(j1, j2)]
    return out


def _book_text(rule: ir.BookRule) -> str:
    per = "" if not rule.per else " per " + ", ".join(expression_text(p) for p in rule.per)
    return f"{book_expression_text(rule.value)} {rule.op} {book_expression_text(rule.bound)}{per}"


def _book_aspects(a: ir.BookRule, b: ir.BookRule) -> list[tuple]:
    out = _compare("value", book_expression_text(a.value), book_expression_text(b.value))
    out += _compare("operator", a.op, b.op)
    out += _compare("bound", book_expression_text(a.bound), book_expression_text(b.bound))
    out += _compare("per", ", ".join(expression_text(p) for p in a.per) or None,
                    ", ".join(expression_text(p) for p in b.per) or None)
    return out + _texts(a, b, "cite", "says")


def _portfolio(old: ir.Portfolio | None, new: ir.Portfolio | None) -> list[Change]:
    out = _compare("order by", old and old.order_by, new and new.order_by)
    changes = [Change("changed", "portfolio", aspect, a, b) for _, aspect, a, b in out]
    return changes + _matched(old.rules if old else (), new.rules if new else (), None,
                              _book_text, _book_aspects)


def renamed_inputs(old: ir.Policy, new: ir.Policy) -> list[tuple[ir.Field, ir.Field]]:
    """(old field, new field) for inputs taken as one field renamed: removed from the old
    version and added in the new with the same type, where a declaration of one name reads
    the one in the old and the other in the new (most such declarations first), or where
    they are the only removed and added inputs of their type."""
    old_names, new_names = {f.name for f in old.inputs}, {f.name for f in new.inputs}
    removed = [f for f in old.inputs if f.name not in new_names]
    added = [f for f in new.inputs if f.name not in old_names]
    reads_old, reads_new = _reads(old), _reads(new)

    def evidence(a: ir.Field, b: ir.Field) -> int:
        return sum(1 for key, names in reads_old.items()
                   if a.name in names and b.name in reads_new.get(key, ()))

    def sole(a: ir.Field, b: ir.Field) -> bool:
        return (sum(f.type == a.type for f in removed) == 1
                and sum(f.type == b.type for f in added) == 1)

    ranked = sorted(((evidence(a, b), i, j) for i, a in enumerate(removed)
                     for j, b in enumerate(added) if a.type == b.type),
                    key=lambda t: (-t[0], t[1], t[2]))
    pairs, used_old, used_new = [], set(), set()
    for score, i, j in ranked:
        if i in used_old or j in used_new or not (score or sole(removed[i], added[j])):
            continue
        used_old.add(i)
        used_new.add(j)
        pairs.append((removed[i], added[j]))
    return sorted(pairs, key=lambda pair: old.inputs.index(pair[0]))


def _reads(policy: ir.Policy) -> dict[tuple[str, str], set[str]]:
    """The inputs each declaration reads, by its keyword and name."""
    decls = [*((keyword(d), d) for d in (*policy.checks, *policy.allocations)),
             *(("let", d) for d in policy.lets),
             *((keyword(r), r) for r in (policy.portfolio.rules if policy.portfolio else ()))]
    return {(word, d.name): {n.name for n in ir.walk(d) if isinstance(n, ir.InputRef)}
            for word, d in decls}


def summary(changes: tuple[Change, ...] | list[Change]) -> str:
    """`12 changes: 4 limits, 3 inputs, …` (kinds by count, then in order of first use)."""
    if not changes:
        return "no changes"
    counts: dict[str, int] = {}
    for change in changes:
        word = change.keyword
        counts[word] = counts.get(word, 0) + 1
    order = sorted(counts, key=lambda w: -counts[w])
    parts = ", ".join(f"{counts[w]} {_plural(w, counts[w])}" for w in order)
    total = len(changes)
    return f"{total} change{'s' if total != 1 else ''}: {parts}"


def _plural(word: str, count: int) -> str:
    if count == 1 or word in ("meta", "shares"):
        return word
    return word + ("es" if word.endswith("s") else "s")
