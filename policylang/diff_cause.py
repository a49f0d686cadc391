"""Which one change explains a `policylang diff` witness found for "any difference".

The search for any difference (`diff_witness`) finds a case whose decision differs, with
no change in mind. Often one listed change alone explains it: a let's formula changed, and
a limit reading the let newly fails; a limit's guard and bound changed, and a borrower the
new guard reaches newly fails it. A regulator reads such a witness under that change.

`cause` says which, by running the witness's case in the interpreter on two hybrid
versions per changed declaration (a rule, limit, let, shares or waterfall, or a param's
default): the new version with that declaration taken back to the old, which must decide
as the old version did (each difference goes when it is undone), and the old version with
that declaration alone changed, which must decide as the new version does (it makes each
difference by itself) where the case can be run on it at all. The change is named only
when exactly one declaration passes; when none does (the case shows two changes at once)
or a hybrid cannot be made (the declaration reads an input, param, let or part the other
version lacks or types otherwise), the witness stays "any difference".
"""

from __future__ import annotations

import dataclasses

from policylang import ir
from policylang.cases import parse_case, parse_params
from policylang.diagnostics import PolicyError
from policylang.diff import Change, Witness
from policylang.diff_outcome import differences
from policylang.interpret import evaluate

_FIELDS = {"rule": "checks", "limit": "checks", "let": "lets", "shares": "allocations",
           "waterfall": "allocations"}


def cause(old: ir.Policy, new: ir.Policy, changes: tuple[Change, ...],
          witness: Witness) -> str | None:
    """The item of the one changed declaration that alone explains the witness, or None."""
    case_old = witness.case_old if witness.case_old is not None else witness.case
    params_old = witness.params_old if witness.params_old is not None else witness.params
    found = []
    for item, keyword, name in _candidates(changes):
        if keyword == "param":
            if name not in witness.params or name not in params_old:
                continue
            back = _decide(new, witness.case, witness.params | {name: params_old[name]})
            forth = _decide(old, case_old, params_old | {name: witness.params[name]})
        else:
            back = _decide(_swapped(new, old, keyword, name), witness.case, witness.params)
            forth = _decide(_swapped(old, new, keyword, name), case_old, params_old)
        if back is not None and not differences(witness.old, back, {}) and (
                forth is None or not differences(forth, witness.new, {})):
            found.append(item)
    return found[0] if len(found) == 1 else None


def _candidates(changes: tuple[Change, ...]) -> list[tuple[str, str, str]]:
    """(item, keyword, name) of each changed declaration a case's decision can show, once."""
    out: dict[str, tuple[str, str, str]] = {}
    for change in changes:
        keyword = change.keyword
        if keyword in _FIELDS or (keyword == "param" and change.aspect == "default"
                                  and None not in (change.old, change.new)):
            out.setdefault(change.item, (change.item, keyword, change.name))
    return list(out.values())


def _decide(policy: ir.Policy | None, case: dict, params: dict) -> dict | None:
    """The decision of the case under the policy, None where it cannot be run."""
    if policy is None:
        return None
    try:
        return evaluate(policy, parse_case(policy, case), parse_params(policy, params))
    except PolicyError:
        return None


def _swapped(base: ir.Policy, other: ir.Policy, keyword: str, name: str) -> ir.Policy | None:
    """`base` with its declaration `name` as `other` has it (added where `base` lacks it,
    removed where `other` does), None when the result reads what it does not declare."""
    field = _FIELDS[keyword]
    mine, theirs = getattr(base, field), getattr(other, field)
    wanted = next((d for d in theirs if d.name == name), None)
    at = next((i for i, d in enumerate(mine) if d.name == name), None)
    if wanted is None:
        items = tuple(d for d in mine if d.name != name)
    elif at is None:
        items = (*mine, wanted)
    else:
        items = (*mine[:at], wanted, *mine[at + 1:])
    order = base.order
    if field != "checks":
        kind = "let" if field == "lets" else "allocation"
        order = tuple(o for o in order if o != (kind, name))
        order += ((kind, name),) if wanted is not None else ()
    policy = dataclasses.replace(base, **{field: items}, order=order)
    return policy if _coherent(policy) else None


def _coherent(policy: ir.Policy) -> bool:
    """Every input, param, let and part the policy reads is declared, with that type,
    and no let or allocation reads itself through others."""
    inputs = {f.name: f.type for f in policy.inputs}
    params = {p.name: p.type for p in policy.params}
    lets = {let.name: let.type for let in policy.lets}
    parts = {a.name: set(a.parties) for a in policy.allocations}
    reads: dict[str, set[str]] = {}  # `let x` / `allocation x` → those it reads
    for decl in (*policy.checks, *policy.lets, *policy.allocations):
        # a check is read by none: only lets and allocations can close a cycle
        reader = f"{'let' if isinstance(decl, ir.Let) else 'allocation'} {decl.name}" \
            if not isinstance(decl, ir.Rule | ir.Limit) else "check"
        for node in ir.walk(decl):
            match node:
                case ir.InputRef(name=n, type=t) if inputs.get(n) != t:
                    return False
                case ir.ParamRef(name=n, type=t) if params.get(n) != t:
                    return False
                case ir.LetRef(name=n, type=t) if lets.get(n) != t:
                    return False
                case ir.PartRef(allocation=a, party=p) if p not in parts.get(a, ()):
                    return False
                case ir.LetRef(name=n) if reader != "check":
                    reads.setdefault(reader, set()).add(f"let {n}")
                case ir.PartRef(allocation=a) if reader != "check":
                    reads.setdefault(reader, set()).add(f"allocation {a}")
    return not _cyclic(reads)


def _cyclic(reads: dict[str, set[str]]) -> bool:
    done: set[str] = set()
    active: set[str] = set()

    def visit(name: str) -> bool:
        if name in active:
            return True
        if name in done:
            return False
        active.add(name)
        cyclic = any(visit(n) for n in reads.get(name, ()))
        active.discard(name)
        done.add(name)
        return cyclic

    return any(visit(name) for name in list(reads))


def reached(old: ir.Policy, new: ir.Policy, changes: tuple[Change, ...]) -> set[str]:
    """The rules, limits, lets and allocations (`let fee`) whose value a change can reach:
    each one changed, and each one reading, in either version, through lets and
    allocations, one changed or a param whose default or type changed. Any other one reads
    the same in both versions and decides every case both take alike: where it is outside
    the linear fragment, nothing goes unsearched."""
    changed = {c.item for c in changes if c.keyword in _FIELDS or (
        c.keyword == "param" and c.aspect in ("default", "type", None))}
    out = set()
    for policy in (old, new):
        keyword = {a.name: "shares" if isinstance(a, ir.Shares) else "waterfall"
                   for a in policy.allocations}
        direct: dict[str, set[str]] = {}
        for decl in (*policy.checks, *policy.lets, *policy.allocations):
            item = (f"let {decl.name}" if isinstance(decl, ir.Let) else
                    f"limit {decl.name}" if isinstance(decl, ir.Limit) else
                    f"rule {decl.name}" if isinstance(decl, ir.Rule) else
                    f"{keyword[decl.name]} {decl.name}")
            direct[item] = {f"let {n.name}" if isinstance(n, ir.LetRef) else
                            f"param {n.name}" if isinstance(n, ir.ParamRef) else
                            f"{keyword.get(n.allocation, 'shares')} {n.allocation}"
                            for n in ir.walk(decl)
                            if isinstance(n, ir.LetRef | ir.ParamRef | ir.PartRef)}
        hit = {i for i, read in direct.items() if i in changed or read & changed}
        while True:  # readers of a reached let or allocation are reached
            more = {i for i, read in direct.items() if read & hit} - hit
            if not more:
                break
            hit |= more
        out |= hit
    return out
