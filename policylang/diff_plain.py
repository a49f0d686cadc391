"""What makes a `policylang diff` witness show its change plainly (used by `diff_witness`).

A regulator reads a witness to see whom a revision affects, so each one should show the
change and nothing else. Two parts:

*Preferences*, soft facts the solver keeps as many of as it can, in order of importance;
when they cannot all hold, one is dropped at a time and the solver asked again, and a
preference goes only when it conflicts with the more important ones still kept (`solve`:
z3's unsat core, which is not minimal, is narrowed to the first preferences that conflict):

1. eligibility differs between the versions (for a rule, a limit, a param and "any
   difference": the reader's first question is who gains or loses eligibility);
2. every other rule and limit holds in both versions, one preference each, in the order
   of the new version (so that no unrelated rule decides the case);
3. amounts are plausible: money at least 1万, a rate at least 0.01%, a number or a
   duration at least 1, a date after 2020 (or the field at its default);
4. each input at its default (the field is then left out of the case), the last one
   declared kept longest: a reader expects a case to state the borrower and the amount,
   declared first, and the later inputs (a fee rate, a date) to stay at their defaults;
5. values are round: money in whole 万, rates in whole basis points, numbers whole,
   durations in whole years (or the field at its default): dropped first, so a boundary
   case may read 5000000.01元 rather than leave a rule failing or a field off its default.

*Aspects*, what a witness is about: for a changed declaration, the outcome of each
comparison in it (both versions', through the lets it reads; a limit's `subject op bound`
and guard too) and the value of each enum and bool input it reads; for a param, those of
the declarations reading it; for "any difference", which rules and limits newly hold and
which newly fail (not whether an allocation part differs: a loss of 0.02元 would count as
another case by the fen's rounding). A later witness for a target must differ in one of
them from every earlier witness that shows the target's difference, so that it shows
another way the change decides (the other side of a boundary, another member), not the
same borrower with an unrelated field changed (501万 vs 502万); when there is none, the
search for that target ends.
"""

from __future__ import annotations

import datetime
from typing import assert_never

import z3

from policylang import ir, smt

_RECENT = datetime.date(2020, 1, 1).toordinal()


def preferences(new: smt.Encoding, old: smt.Encoding,
                shared: list[tuple[ir.Field, ir.Field]]) -> list[z3.BoolRef]:
    """Tiers 3–5 above (the inputs' plausible, default and round values), in order of
    importance: the new version's default where both versions have one."""
    plausible: list[z3.BoolRef] = []
    at_defaults: list[z3.BoolRef] = []
    round_: list[z3.BoolRef] = []
    done = {a.name for a, b in shared if a.name != b.name}  # one field: the new one
    unfit: dict[str, tuple[list, list]] = {}  # a default in another unit than the term
    for encoding in (new, old):
        for field in encoding.policy.inputs:
            if field.name in done:
                continue
            term = encoding.inputs[field.name]
            default = None if field.default is None \
                else encoding.constant(field.default, field.type)
            if default is not None and getattr(default, "unit", None) not in (
                    getattr(term, "unit", None), "any"):
                # 30 days is not 30 months: the other version's default, if it fits
                unfit[field.name] = _round_value(field.type, term)
                continue
            done.add(field.name)
            likely, whole = _round_value(field.type, term)
            if default is None:
                plausible += likely
                round_ += whole
                continue
            at_default = smt.same(term, default)
            at_defaults.append(at_default)
            # off its default, a field still takes a plausible, round value
            plausible += [z3.Or(at_default, z3.And(likely))] if likely else []
            round_ += [z3.Or(at_default, z3.And(whole))] if whole else []
    for name, (likely, whole) in unfit.items():
        if name not in done:
            plausible += likely
            round_ += whole
    # The first inputs declared (the borrower, the amount) leave their defaults first: a
    # reader expects a case to state them; the later ones (a fee rate, a date) refine it.
    return plausible + at_defaults[::-1] + round_


def solve(solver: z3.Solver, flags: list[z3.BoolRef]
          ) -> z3.ModelRef | z3.CheckSatResult | None:
    """A model of what `solver` holds, keeping the preferences (`flags`, most important
    first) as above: None when there is none, `z3.unknown` when the solver gave up.

    A preference is dropped only when it cannot hold with every more important one still
    kept: of a conflict, the one dropped is the last of the shortest run of `flags` from
    the first that conflicts. z3's unsat core names a conflict, but not a minimal one, and
    its least important member may hold with all the more important ones (a changed
    limit's guard: the core of "eligibility flips", which no case could, named the
    preferences that two other limits hold too, and they went first); so the flags before
    it are asked again, and a conflict among them moves the search there, until they hold
    together: one more check per preference dropped where the core was right, none where
    the core is one preference (it goes whatever else is kept)."""
    possible = False  # known to have a model without preferences
    ids = [flag.get_id() for flag in flags]
    while True:
        result = _check(solver, flags)
        if result == z3.sat:
            return solver.model()
        if result == z3.unknown:
            return z3.unknown
        core = {c.get_id() for c in solver.unsat_core()}
        last = _last(ids, core)
        if last is not None and not possible:  # none at all: nothing to drop one by one
            result = solver.check()
            if result != z3.sat:
                return z3.unknown if result == z3.unknown else None
            possible = True
        if last is None:
            return None
        while last > 0 and len(core) > 1:
            result = _check(solver, flags[:last])
            if result == z3.sat:
                break
            if result == z3.unknown:
                return z3.unknown
            core = {c.get_id() for c in solver.unsat_core()}
            last = _last(ids[:last], core)
            assert last is not None, "no preference at all has a model"
        flags, ids = flags[:last] + flags[last + 1:], ids[:last] + ids[last + 1:]


def _last(ids: list[int], core: set[int]) -> int | None:
    """The index of the least important flag (of those with these ids) in an unsat core
    (of ids), None for none."""
    return max((i for i, flag in enumerate(ids) if flag in core), default=None)


def _check(solver: z3.Solver, flags: list[z3.BoolRef]) -> z3.CheckSatResult:
    """`solver.check(*flags)` without z3py's cast of each flag to Bool (they are Bool
    constants already): with a flag per rule, the cast took most of a search's time."""
    assumptions = (z3.Ast * len(flags))(*(flag.as_ast() for flag in flags))
    return z3.CheckSatResult(z3.Z3_solver_check_assumptions(
        solver.ctx.ref(), solver.solver, len(flags), assumptions))


def _round_value(type_: ir.Type, term) -> tuple[list[z3.BoolRef], list[z3.BoolRef]]:
    """(plausible, round) facts for an input's value."""
    match type_.kind:
        case ir.Kind.MONEY:  # at least 1万, in whole 万
            return [term >= 10000], [z3.IsInt(term / 10000)]
        case ir.Kind.PERCENT:  # a positive rate in whole basis points
            return [term >= smt.real("0.01", term.ctx)], [z3.IsInt(term * 10000)]
        case ir.Kind.NUMBER:
            return [term >= 1], [z3.IsInt(term)]
        case ir.Kind.DURATION:  # whole years
            count = smt.plain(term)
            return [count >= 1], [count % 12 == 0] if term.unit == "month" else []
        case ir.Kind.DATE:
            return [term >= _RECENT], []
        case ir.Kind.BOOL | ir.Kind.ENUM | ir.Kind.ERROR:
            return [], []
        case _:
            assert_never(type_.kind)


def declaration(policy: ir.Policy, item: str) -> object | None:
    """The rule, limit, let or allocation named by a target's item, if the policy has it."""
    keyword, _, name = item.rpartition(" ")
    if keyword in ("rule", "limit"):
        return next((c for c in policy.checks if c.name == name), None)
    if keyword == "let":
        return next((let for let in policy.lets if let.name == name), None)
    if keyword in ("shares", "waterfall"):
        return next((a for a in policy.allocations if a.name == name), None)
    return None


def _nodes(policy: ir.Policy, decl: object) -> list[object]:
    """The IR nodes of a declaration and of the lets it reads, each let once."""
    out: list[object] = []
    seen: set[str] = set()
    stack = [decl]
    while stack:
        for node in ir.walk(stack.pop()):
            out.append(node)
            if isinstance(node, ir.LetRef) and node.name not in seen:
                seen.add(node.name)
                stack.append(policy.let(node.name))
    return out


def aspects(encoding: smt.Encoding, decl: object) -> list[z3.ExprRef]:
    """The terms a witness for this declaration is told apart by: each comparison's
    outcome (a limit's own `subject op bound` and guard too), each enum input's value and
    each bool input. A part outside the linear fragment is left out."""
    out: list[z3.ExprRef] = []
    if isinstance(decl, ir.Rule | ir.Limit):
        for part in (encoding.condition, encoding.guard):
            try:
                out.append(part(decl.name))
            except smt.Unsupported:
                pass
    for node in _nodes(encoding.policy, decl):
        if isinstance(node, ir.Compare | ir.InSet):
            try:
                out.append(encoding.formula(node))
            except smt.Unsupported:
                pass
    return out + inputs_read(encoding, decl)


def inputs_read(encoding: smt.Encoding, decl: object) -> list[z3.ExprRef]:
    """The enum and bool inputs a declaration reads, itself or through its lets."""
    return [encoding.inputs[node.name] for node in _nodes(encoding.policy, decl)
            if isinstance(node, ir.InputRef) and node.type.kind in (ir.Kind.ENUM, ir.Kind.BOOL)]


def unique(terms: list[z3.ExprRef]) -> list[z3.ExprRef]:
    return list({term.get_id(): term for term in terms}.values())
