"""Witnesses for `policylang diff`: concrete cases whose decision differs between versions.

Both versions are encoded (`smt.Encoding`) over one set of case variables, with every
param pinned to its own version's default (a param either version leaves without one is
one value in both, the other's default if it has one). A
*target* is a formula saying "this differs": a rule's or limit's outcome, eligibility, a
let's value (by at least a fen for money), an allocation part. Targets come one per
changed declaration first, in the order of the changes (a param whose default changed:
where a declaration reading it decides otherwise), then "any difference"; the search goes
round them until N are confirmed or none is left. A candidate is kept only if the
interpreter, run on the case under both versions, reports a different eligibility, failed
rule, let value or allocation part. A case found for any difference that one change alone
explains (`diff_cause`) is listed under that change.

`diff_plain` makes each case show its change plainly: the preferences (eligibility
differs, the other rules hold, plausible amounts, defaults, round values) are dropped one
at a time, least important first; a later case for a target differs from the earlier ones
showing it in what the target turns on, not in an unrelated field. When the targets run
out before N, a note says so.

A witness is one borrower: an input both versions read takes one value in both cases,
and so does an input taken as renamed (`diff.renamed_inputs`), so that the decisions
differ by the policy alone and never by two different amounts.
Before searching, the inputs are checked for one a single case cannot state for both
versions (its type changed, its enum shares no member, or one version reads a duration in
months and the other in days); then nothing is searched and `WitnessSearch` says why.
How a search that found nothing ended (ruled out, or not fully searched) is told apart.
"""

from __future__ import annotations

import dataclasses
import re

import z3

from policylang import ir, smt
from policylang.cases import parse_case, parse_params
from policylang.deps import dependencies
from policylang.diagnostics import PolicyError
from policylang.diff import Change, Witness, WitnessSearch, renamed_inputs, value_text
from policylang.diff import keyword as declaration_keyword
from policylang.diff_cause import cause, reached
from policylang.diff_outcome import differences as outcome_differences
from policylang.diff_outcome import types as outcome_types
from policylang.diff_plain import aspects, declaration, preferences, solve, unique
from policylang.diff_units import duration_needs, duration_units, unit_splits
from policylang.interpret import evaluate

_TIMEOUT_MS = 4000
_ATTEMPTS = 3  # candidates tried per target and round before moving on
_ANY = "any difference"
_BOOK_KEYWORDS = ("monitor", "budget", "book limit", "portfolio")
_CASE_KEYWORDS = ("rule", "limit", "let", "shares", "waterfall", "input", "param")


def find_witnesses(old: ir.Policy, new: ir.Policy, changes: tuple[Change, ...],
                   wanted: int) -> tuple[list[Witness], list[str], WitnessSearch]:
    notes = []
    if any(c.keyword in _BOOK_KEYWORDS for c in changes):
        notes.append("portfolio rules decide over a book of cases, not one case: "
                     "no witnesses are searched for their changes")
    shared = _shared_inputs(old, new)
    book = _book_changes(old, new, changes, {a.name: b.name for a, b in shared})
    notes += [f"{item} is read by portfolio rules ({', '.join(rules)}), which decide over a "
              "book of cases: its change there is not searched for witnesses"
              for item, rules in book.items() if rules]
    conflicts = _conflicts(old, new, shared)
    if conflicts:
        return [], notes, _no_shared_case(conflicts)
    notes += [f"input {a.name} → {b.name}: removed and added with the same type ({b.type}), "
              "taken as one field renamed: a witness gives both the same value"
              for a, b in shared if a.name != b.name]
    search = _Search(old, new, shared)
    notes += search.param_notes
    if search.solver.check() == z3.unsat:  # no case within both versions' domains
        return [], notes, WitnessSearch(
            "no_shared_case", "no case is valid under both versions: the values each "
            "allows for its inputs exclude each other")
    targets = search.targets(changes)
    # A check one version reads a duration in days and the other in months: unsearchable,
    # but because no case where it applies is valid under both, not for want of a solver.
    split = unit_splits(old, new, shared, search.old.unsupported | search.new.unsupported)
    # Outside the linear fragment but read the same by both versions: nothing unsearched.
    reach = reached(old, new, changes)
    notes = [note for item, note in search.notes() if item in reach and item not in split
             ] + notes
    found: list[Witness] = []
    exhausted: set[str] = set()
    while len(found) < wanted and len(exhausted) < len(targets):
        progress = False
        for about, formula in targets.items():
            if len(found) >= wanted:
                break
            if about in exhausted:
                continue
            try:
                witness = search.witness(about, formula)
            except z3.Z3Exception as error:  # a solver failure costs this target only
                notes.append(f"the solver failed while searching for {about}: {error}")
                search.failed.append(about)
                witness = None
            if witness is None:
                exhausted.add(about)
            else:
                found.append(witness)
                progress = True
        if not progress:
            break
    # A case found for any difference that one change alone explains is listed under it.
    found = [w if w.about != _ANY or (item := cause(old, new, changes, w)) is None
             else dataclasses.replace(w, about=item) for w in found]
    notes += [f"the solver ran out of time ({_TIMEOUT_MS} ms) searching for {about}"
              for about in search.gave_up]
    if found and len(found) < wanted and not (search.gave_up or search.failed
                                              or search.unconfirmed):
        notes.append(f"{len(found)} of {wanted} witnesses: every other case decided "
                     "differently repeats a witness shown in what the changes turn on (the "
                     "outcome of each changed comparison, the enum and bool inputs read), "
                     "differing only in other inputs, and is left out")
    defaults = [c.item for c in changes if c.item.startswith("input ") and c.aspect == "default"]
    notes += [f"{item}: a changed default shows only in a case that leaves the field out, "
              "which the shared case cannot: not searched" for item in defaults]
    renamed = [f"{b.name} is {a.name} renamed" for a, b in shared if a.name != b.name]
    one_sided = _one_sided_members(old, new, shared)
    if found:  # else the reason says it
        notes += [f"{member}: its cases are valid under one version only, and not compared"
                  for member in one_sided]
        notes += [f"{item}: where it applies, {why}, which do not convert: no case there is "
                  "valid under both versions, and none is compared"
                  for item, why in split.items()]
    return found, notes, _outcome(search, found, defaults, renamed, list(book), one_sided,
                                  split, reach)


def _book_changes(old: ir.Policy, new: ir.Policy, changes: tuple[Change, ...],
                  renamed: dict[str, str]) -> dict[str, list[str]]:
    """The changes that can change how a book is judged but no one case's decision: a
    portfolio rule's (→ []), unless it only reads a renamed input by its new name, and a
    param's default or type where portfolio rules read it (→ those rules)."""
    def renaming(text: str) -> str:
        return re.sub(r"\b\w+\b", lambda m: renamed.get(m.group(), m.group()), text)

    readers: dict[str, list[str]] = {}
    for policy in (old, new):
        for rule in policy.portfolio.rules if policy.portfolio else ():
            for node in ir.walk((rule.value, rule.bound, rule.per)):
                if isinstance(node, ir.ParamRef):
                    names = readers.setdefault(node.name, [])
                    item = f"{declaration_keyword(rule)} {rule.name}"
                    if item not in names:
                        names.append(item)
    out: dict[str, list[str]] = {}
    for change in changes:
        if change.keyword in _BOOK_KEYWORDS:
            if None in (change.old, change.new) or renaming(change.old) != change.new:
                out.setdefault(change.item, [])
        elif (change.keyword == "param" and change.aspect in ("default", "type")
              and change.name in readers):  # an added or removed one: its readers changed
            out.setdefault(change.item, readers[change.name])
    return out


def _one_sided_members(old: ir.Policy, new: ir.Policy,
                       shared: list[tuple[ir.Field, ir.Field]]) -> list[str]:
    """`input kind = extension (new version only)` for each member of a shared enum input
    that only one version has: a case with it is valid under that version alone."""
    out = []
    for a, b in shared:
        if a.type.kind is ir.Kind.ENUM and b.type.kind is ir.Kind.ENUM:
            members = [[m.name for m in policy.enum(field.type.enum).members]
                       for policy, field in ((old, a), (new, b))]
            out += [f"input {b.name} = {m} (new version only)"
                    for m in members[1] if m not in members[0]]
            out += [f"input {a.name} = {m} (old version only)"
                    for m in members[0] if m not in members[1]]
    return out


def _outcome(search: _Search, found: list[Witness], defaults: list[str],
             renamed: list[str], book: list[str], one_sided: list[str],
             split: dict[str, str], reach: set[str]) -> WitnessSearch:
    """`found`, or why not: ruled out by the solver, or something was left unsearched
    (a part outside the linear fragment that a change can reach: `diff_cause.reached`).
    A member only one version has, or a check where it applies one version reads a
    duration in days and the other in months (`split`), is never compared: the reason
    says so."""
    if found:
        return WitnessSearch("found")
    unshared = "" if not one_sided else (
        "; a case with " + ", or ".join(one_sided)
        + " is valid under one version only, and not compared")
    unshared += "".join(f"; where {item} applies, {why}: no case there is valid under both "
                        "versions, and none is compared" for item, why in split.items())
    skipped = []
    outside = sorted({what for encoding in (search.old, search.new)
                      for what in encoding.unsupported} & reach - set(split))
    if outside:
        skipped.append("outside the linear fragment: " + ", ".join(outside))
    if search.gave_up or search.failed:
        skipped.append("the solver gave up on "
                       + ", ".join(dict.fromkeys(search.gave_up + search.failed)))
    if search.unconfirmed:
        skipped.append("the interpreter refuted the solver's cases for "
                       + ", ".join(dict.fromkeys(search.unconfirmed)))
    if defaults:
        skipped.append("a changed default: " + ", ".join(defaults))
    if book:  # a book's monitors, budgets and limits are not one case's decision
        skipped.append("judged over a book of cases, not one case: " + ", ".join(book))
    if skipped:
        return WitnessSearch("none_found", "none found, but the search was not complete ("
                             + "; ".join(skipped) + ")" + unshared)
    # A rename is the search's assumption, not a fact: the claim holds only under it.
    assuming = f", if input {' and input '.join(renamed)}" if renamed else ""
    # A member one version lacks is a change no shared case shows: not "no change".
    claim = "" if unshared else "no behavioural change: "
    return WitnessSearch("none_differ", f"{claim}no case valid under both versions decides "
                         f"differently{assuming}{unshared}")


def _no_shared_case(conflicts: list[tuple[str, str]]) -> WitnessSearch:
    return WitnessSearch("no_shared_case", "no case is valid under both versions because "
                         + "; and ".join(why for _, why in conflicts),
                         tuple(name for name, _ in conflicts))


# ── the shared case ──


def _shared_inputs(old: ir.Policy, new: ir.Policy) -> list[tuple[ir.Field, ir.Field]]:
    """(old field, new field) for each input both versions read: by name, or renamed."""
    news = {field.name: field for field in new.inputs}
    same = [(field, news[field.name]) for field in old.inputs if field.name in news]
    return same + renamed_inputs(old, new)


def _conflicts(old: ir.Policy, new: ir.Policy, shared: list[tuple[ir.Field, ir.Field]]
               ) -> list[tuple[str, str]]:
    """(input, why) for each shared input that no one value is valid for in both."""
    needs = duration_needs(old), duration_needs(new)
    out = []
    for a, b in shared:
        what = f"input `{b.name}`" if a.name == b.name \
            else f"input `{a.name}` (old) / `{b.name}` (new)"
        if a.type.kind is not b.type.kind:
            out.append((b.name, f"{what} is {a.type} in the old and {b.type} in the new"))
        elif a.type.kind is ir.Kind.ENUM:
            members = [[m.name for m in p.enum(f.type.enum).members]
                       for p, f in ((old, a), (new, b))]
            if not set(members[0]) & set(members[1]):
                out.append((b.name, f"{what} is {a.type} {{{', '.join(members[0])}}} in the "
                                    f"old and {b.type} {{{', '.join(members[1])}}} in the "
                                    "new, with no member in common"))
        elif a.type.kind is ir.Kind.DURATION:
            units = [{u for u, always in n.get(f.name, {}).items() if always}
                     for n, f in zip(needs, (a, b), strict=True)]
            if len(units[0]) == 1 and len(units[1]) == 1 and units[0] != units[1]:
                out.append((b.name, f"{what} is a duration in {units[0].pop()}s in the old "
                                    f"and in {units[1].pop()}s in the new, which do not "
                                    "convert (only a zero duration is valid in both)"))
    return out


class _Search:
    def __init__(self, old: ir.Policy, new: ir.Policy,
                 shared: list[tuple[ir.Field, ir.Field]]) -> None:
        self.policies = (old, new)
        self.types = outcome_types(old, new)  # how a witness's differences show values
        self.shared = shared
        variables = smt.Variables(ctx=z3.Context())  # same answers, whatever ran before
        variables.units.update(duration_units(old, new, shared))
        self.ctx = variables.ctx
        self.old = smt.Encoding(old, variables, "old")
        self.new = smt.Encoding(new, variables, "new")
        self.solver = z3.Solver(ctx=self.ctx)
        self.solver.set("timeout", _TIMEOUT_MS)
        for encoding in (self.old, self.new):
            # What is plausible for a loan is no test of a param's default (a negative
            # adjustment, a rate above 100%): such a fact left no case at all.
            pinned = {smt.plain(encoding.params[p.name]).get_id()
                      for p in encoding.policy.params if p.default is not None}
            self.solver.add(*encoding.domain, *(fact for fact in encoding.plausible
                                                if not _constants(fact) <= pinned),
                            *encoding.fix_params_to_defaults())
        # A param both versions take is one value where either leaves it open, so that a
        # witness never rests on a value the solver chose for one version alone.
        self.param_notes: list[str] = []
        new_params = {p.name: p for p in new.params}
        for param in old.params:
            twin = new_params.get(param.name)
            if twin is None or twin.type != param.type or None not in (param.default,
                                                                        twin.default):
                continue
            term_old, term_new = self.old.params[param.name], self.new.params[twin.name]
            if getattr(term_old, "unit", None) != getattr(term_new, "unit", None):
                continue
            self.solver.add(smt.same(term_old, term_new))
            if param.default is not None or twin.default is not None:
                version, other = ("new", param) if twin.default is None else ("old", twin)
                self.param_notes.append(
                    f"param {param.name} has no default in the {version} version: a witness "
                    f"takes the other's, {value_text(other.default, other.type)}")
        # One borrower: an input read under two names (or two types of one enum's members)
        # is two variables, and must hold one value.
        for a, b in shared:
            term_old, term_new = self.old.inputs[a.name], self.new.inputs[b.name]
            if not smt.plain(term_old).eq(smt.plain(term_new)):
                self.solver.add(smt.same(term_old, term_new))
        # Preferences are assumptions: a flag each, implying its preference, added once
        # (`diff_plain` gives their order of importance).
        self.flags = [self._flag(f"prefer:{index}", preference) for index, preference
                      in enumerate(preferences(self.new, self.old, shared))]
        eligible = self.old.eligible_or_none(), self.new.eligible_or_none()
        self.flip = None if None in eligible else self._flag("prefer:flip", z3.Xor(*eligible))
        self.case_terms = list({smt.plain(term).get_id(): smt.plain(term)
                                for encoding in (self.old, self.new)
                                for term in encoding.inputs.values()}.values())
        self.seen: list[z3.BoolRef] = []  # "differs from an earlier case", one per witness
        self.models: list[z3.ModelRef] = []  # of the witnesses found, in order
        self.holds: dict[str, z3.BoolRef] = {}  # check item → flag: it holds in both versions
        self.aspects: dict[str, list[z3.ExprRef]] = {}  # target → what a witness is about
        self.gave_up: list[str] = []  # targets where the solver answered `unknown`
        self.failed: list[str] = []  # targets where z3 raised
        self.unconfirmed: list[str] = []  # targets whose candidates the interpreter refuted

    # ── targets ──
    def targets(self, changes: tuple[Change, ...]) -> dict[str, z3.BoolRef]:
        old, new = self.old, self.new
        pieces: dict[str, z3.BoolRef] = {}
        outcomes: list[z3.BoolRef] = []  # each rule and limit: newly holds, newly fails
        checks_old = {c.name: c for c in old.policy.checks}
        checks_new = {c.name: c for c in new.policy.checks}
        for name in [*checks_new, *(n for n in checks_old if n not in checks_new)]:
            a = old.holds_or_none(name) if name in checks_old else z3.BoolVal(True, self.ctx)
            b = new.holds_or_none(name) if name in checks_new else z3.BoolVal(True, self.ctx)
            if a is not None and b is not None:
                item = _check_item(checks_new.get(name) or checks_old[name])
                pieces[item] = z3.Xor(a, b)
                outcomes += [z3.And(z3.Not(a), b), z3.And(a, z3.Not(b))]
                self.holds[item] = self._flag(f"prefer:holds:{item}", z3.And(a, b))
        lets_old = {let.name: let for let in old.policy.lets}
        for let in new.policy.lets:
            if let.name in lets_old and lets_old[let.name].type == let.type:
                a, b = old.let_or_none(let.name), new.let_or_none(let.name)
                if a is not None and b is not None:
                    pieces[f"let {let.name}"] = _differs(let.type, a, b)
        for name, keyword in _allocations(old.policy, new.policy):
            differs = self._parts_differ(name)
            if differs is not None:
                pieces[f"{keyword} {name}"] = differs
        eligible_old, eligible_new = old.eligible_or_none(), new.eligible_or_none()
        anything = list(pieces.values())
        if eligible_old is not None and eligible_new is not None:
            anything.append(z3.Xor(eligible_old, eligible_new))
        for item in pieces:
            self.aspects[item] = unique([a for e in (old, new) if (d := declaration(
                e.policy, item)) is not None for a in aspects(e, d)])
        targets: dict[str, z3.BoolRef] = {}
        read_by = [dependencies(old.policy), dependencies(new.policy)]
        for change in changes:
            if change.item in pieces and change.item not in targets:
                targets[change.item] = pieces[change.item]
            elif (change.keyword == "param" and change.aspect == "default"
                  and None not in (change.old, change.new) and change.item not in targets):
                # A param's new default: where a declaration reading it decides otherwise.
                readers = [item for item in pieces if any(
                    change.name in found[item].params
                    for found in read_by if item in found)]
                if readers:
                    targets[change.item] = z3.Or([pieces[r] for r in readers])
                    self.aspects[change.item] = unique(
                        [a for r in readers for a in self.aspects[r]])
        if anything:
            self.aspects[_ANY] = unique(outcomes)
            targets[_ANY] = z3.Or(anything)
        return targets

    def _parts_differ(self, name: str) -> z3.BoolRef | None:
        """Some part of the allocation differs by a fen (a missing part counts as 0)."""
        sides = []
        for encoding in (self.old, self.new):
            policy = encoding.policy
            alloc = next((a for a in policy.allocations if a.name == name), None)
            if alloc is None:
                sides.append({})
                continue
            if isinstance(alloc, ir.Shares) and alloc.amount is None:
                return None  # a split without an amount is not part of the decision
            parties = alloc.parties
            parts = {party: encoding.part_or_none(name, party) for party in parties}
            if any(term is None for term in parts.values()):
                return None
            sides.append(parts)
        zero = smt.real(0, self.ctx)
        parties = [*sides[1], *(p for p in sides[0] if p not in sides[1])]
        return z3.Or([_differs(ir.MONEY, sides[0].get(p, zero), sides[1].get(p, zero))
                      for p in parties])

    def notes(self) -> list[tuple[str, str]]:
        """(declaration, note) for each part outside the linear fragment."""
        out = []
        for label, encoding in (("old", self.old), ("new", self.new)):
            for what, reason in encoding.unsupported.items():
                out.append((what, f"{what} ({label} version) is outside the linear fragment "
                                  f"({reason}): not searched for witnesses"))
        return out

    # ── one witness ──
    def witness(self, about: str, target: z3.BoolRef) -> Witness | None:
        # Unlike every earlier witness that shows this target's difference in what the
        # target is about (`diff_plain`): the other side of a boundary, another member;
        # not an unrelated field changed.
        terms = self.aspects.get(about, [])
        new = [z3.Or([t != m.eval(t, model_completion=True) for t in terms], self.ctx)
               for m in self.models if z3.is_true(m.eval(target, model_completion=True))]
        for _ in range(_ATTEMPTS):
            model = self._solve(z3.And(target, *new), self._preferred(about))
            if model is None:
                return None
            if isinstance(model, z3.CheckSatResult):  # the solver gave up
                self.gave_up.append(about)
                return None
            witness = self._confirm(model, about)
            self.seen.append(self._block(model))
            if witness is not None:
                self.models.append(model)
                return witness
        self.unconfirmed.append(about)
        return None

    def _flag(self, name: str, preference: z3.BoolRef) -> z3.BoolRef:
        flag = z3.Bool(name, self.ctx)
        self.solver.add(z3.Implies(flag, preference))
        return flag

    def _preferred(self, about: str) -> list[z3.BoolRef]:
        """The preferences for a witness of `about`, most important first (`diff_plain`):
        eligibility differs (not for a let or an allocation: a case shows its value best
        where both versions decide alike), each other rule and limit holds in both
        versions, then the inputs' plausible, default and round values."""
        flip = [] if self.flip is None or about.startswith(
            ("let ", "shares ", "waterfall ")) else [self.flip]
        return [*flip, *(flag for item, flag in self.holds.items() if item != about),
                *self.flags]

    def _solve(self, target: z3.BoolRef, flags: list[z3.BoolRef]
               ) -> z3.ModelRef | z3.CheckSatResult | None:
        """A model of the target, None when there is none, `z3.unknown` when the solver
        gave up; as many preferences (`flags`, most important first) kept as
        `diff_plain.solve` can."""
        solver = self.solver
        solver.push()
        try:
            solver.add(target, *self.seen)
            return solve(solver, flags)
        finally:
            solver.pop()

    def _block(self, model: z3.ModelRef) -> z3.BoolRef:
        """The next case must differ from this one in some input."""
        return z3.Or([term != model.eval(term, model_completion=True)
                      for term in self.case_terms], self.ctx)

    def _confirm(self, model: z3.ModelRef, about: str) -> Witness | None:
        cases = [self._case(encoding, model) for encoding in (self.old, self.new)]
        params = [{p.name: _json(value, p.type) for p, value in
                   zip(e.policy.params, e.model_params(model).values(), strict=True)}
                  for e in (self.old, self.new)]
        decisions = []
        for policy, case, given in zip(self.policies, cases, params, strict=True):
            try:
                decisions.append(evaluate(policy, parse_case(policy, case),
                                          parse_params(policy, given)))
            except PolicyError:
                return None
        differences = outcome_differences(*decisions, self.types)
        if not differences:
            return None
        return Witness(cases[1], params[1], decisions[0], decisions[1], about,
                       tuple(differences),
                       case_old=None if cases[0] == cases[1] else cases[0],
                       params_old=None if params[0] == params[1] else params[0])

    def _case(self, encoding: smt.Encoding, model: z3.ModelRef) -> dict:
        """The fields a user would write: required in either version, or not at the
        default of either version that has the field."""
        values = encoding.model_values(model)
        defaults: dict[str, list] = {}
        for policy in self.policies:
            for field in policy.inputs:
                defaults.setdefault(field.name, []).append(field.default)
        for a, b in self.shared:  # a renamed field: both names' defaults
            if a.name != b.name:
                defaults[a.name] = defaults[b.name] = [a.default, b.default]
        out = {}
        for field in encoding.policy.inputs:
            value = values[field.name]
            if any(d is None or d != value for d in defaults[field.name]):
                out[field.name] = _json(value, field.type)
        return out


def _constants(fact: z3.ExprRef) -> set[int]:
    """The ids of the variables in a z3 formula (empty for none)."""
    out, stack = set(), [fact]
    while stack:
        term = stack.pop()
        if z3.is_const(term) and term.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            out.add(term.get_id())
        else:
            stack.extend(term.children())
    return out


def _json(value: ir.Value, type_: ir.Type) -> object:
    return value if isinstance(value, bool) else value_text(value, type_)


def _differs(type_: ir.Type, a, b) -> z3.BoolRef:
    if type_.kind is ir.Kind.MONEY:
        fen = smt.real("0.01", a.ctx)
        return z3.Or(a - b >= fen, b - a >= fen)
    if z3.is_bool(a):
        return z3.Xor(a, b)
    return a != b


def _check_item(check: ir.Check) -> str:
    return f"{'limit' if isinstance(check, ir.Limit) else 'rule'} {check.name}"


def _allocations(old: ir.Policy, new: ir.Policy) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for alloc in (*new.allocations, *old.allocations):
        seen.setdefault(alloc.name, "shares" if isinstance(alloc, ir.Shares) else "waterfall")
    return list(seen.items())
