"""The unit a duration input is read in, per version, for `policylang diff`'s witnesses.

A duration is whole months or whole days, and the interpreter compares one with the other
only at zero (E611). A case states each duration in one unit, so the shared case of the
two versions (`diff_witness`) must read each duration input in a unit both can use:
`duration_needs` finds, per version, the units an input is used in and whether every
case evaluates that use; `duration_units` picks the unit the input is encoded in.
"""

from __future__ import annotations

import dataclasses

from policylang import ir


def duration_units(old: ir.Policy, new: ir.Policy, shared: list[tuple[ir.Field, ir.Field]]
                   ) -> dict[str, str]:
    """The unit each duration input is encoded in: one a version needs for every case,
    else one it needs for some, else its default's; the old version's first; a renamed
    input's two names in one unit. Without it, the first version encoded would fix
    months, and the other's uses in days (or a default in days) would go unsearched."""
    needs = [duration_needs(policy) for policy in (old, new)]
    for policy, need in zip((old, new), needs, strict=True):
        for field in policy.inputs:
            if isinstance(field.default, ir.Duration) and field.default.amount:
                need.setdefault(field.name, {field.default.unit: False})
    twin = {a.name: b.name for a, b in shared} | {b.name: a.name for a, b in shared}
    out: dict[str, str] = {}
    for always in (True, False):
        for need in needs:
            for name, units in need.items():
                for unit, every in units.items():
                    if (every or not always) and name not in out:
                        out[name] = out[twin.get(name, name)] = unit
    return out


def duration_needs(policy: ir.Policy) -> dict[str, dict[str, bool]]:
    """Duration input → {unit it is used in: whether every case evaluates that use}.
    A use is an input compared with, added to or bounded by a constant of a unit, or
    given to days()/months()/years() (the interpreter's E611 otherwise). What an `if`
    branch, the right side of `and`/`or`, a guarded check's condition or an allocation
    evaluates is not evaluated for every case."""
    found: dict[str, dict[str, bool]] = {}

    def use(name: str, unit: str, always: bool) -> None:
        units = found.setdefault(name, {})
        units[unit] = units.get(unit, False) or always

    def pair(ref: object, other: object, always: bool) -> None:
        if (isinstance(ref, ir.InputRef) and ref.type.kind is ir.Kind.DURATION
                and isinstance(other, ir.Const) and isinstance(other.value, ir.Duration)
                and other.value.amount != 0):
            use(ref.name, other.value.unit, always)

    def visit(node: object, always: bool) -> None:
        match node:
            case ir.Call(func=func, args=(ir.InputRef(name=name),)) \
                    if func in ("days", "months", "years"):
                use(name, "day" if func == "days" else "month", always)
            case ir.Compare(left=left, right=right) | ir.Arith(left=left, right=right):
                pair(left, right, always)
                pair(right, left, always)
            case ir.If(cond=cond, then=then, otherwise=otherwise):
                visit(cond, always)
                visit(then, False)
                visit(otherwise, False)
                return
            case ir.And(left=left, right=right) | ir.Or(left=left, right=right):
                visit(left, always)
                visit(right, False)
                return
            case ir.InSet(operand=operand, items=items):  # stops at the first match
                visit(operand, always)
                for index, item in enumerate(items):
                    pair(operand, item, always and index == 0)
                    visit(item, always and index == 0)
                return
        for child in _children(node):
            visit(child, always)

    for let in policy.lets:
        visit(let.expr, True)
    for check in policy.checks:
        always = check.guard is None
        if check.guard is not None:
            visit(check.guard, True)
        if isinstance(check, ir.Limit):
            pair(check.subject, check.bound, always)
            pair(check.bound, check.subject, always)
            visit(check.subject, always)
            visit(check.bound, always)
        else:
            visit(check.cond, always)
    for allocation in policy.allocations:
        visit(allocation, False)
    return found


def _children(node: object) -> list[object]:
    """The IR nodes directly inside `node` (not its type or span)."""
    if not dataclasses.is_dataclass(node):
        return []
    out = []
    for field in dataclasses.fields(node):
        value = getattr(node, field.name)
        for item in value if isinstance(value, tuple) else (value,):
            if dataclasses.is_dataclass(item) and not isinstance(item, ir.Type | ir.Span):
                out.append(item)
    return out


def unit_splits(old: ir.Policy, new: ir.Policy, shared: list[tuple[ir.Field, ir.Field]],
                unsupported: dict[str, str]) -> dict[str, str]:
    """Declaration → why no case where it applies is valid under both versions, for each
    one skipped as "months compared with days" that reads a duration input one version
    uses only in days and the other only in months, but not for every case (else no case
    at all is shared: `diff_witness._conflicts`). Where it does not apply, the input is
    free and the declaration decides nothing, so there is nothing left to search."""
    needs = duration_needs(old), duration_needs(new)
    split: dict[str, str] = {}
    for a, b in shared:
        units = [set(n.get(f.name, {})) for n, f in zip(needs, (a, b), strict=True)]
        if len(units[0]) == 1 and len(units[1]) == 1 and units[0] != units[1]:
            new_name = "" if a.name == b.name else f" `{b.name}`"
            split[a.name] = split[b.name] = (
                f"the old version reads `{a.name}` in {units[0].pop()}s and the new"
                f"{new_name} in {units[1].pop()}s")
    out: dict[str, str] = {}
    for item, reason in unsupported.items():
        keyword, _, name = item.rpartition(" ")
        if reason != "months compared with days" or keyword not in ("rule", "limit", "let"):
            continue
        decls = [d for policy in (old, new) for d in (*policy.checks, *policy.lets)
                 if d.name == name]
        read = {node.name for node in ir.walk(tuple(decls)) if isinstance(node, ir.InputRef)}
        whys = [split[n] for n in sorted(read) if n in split]
        if whys:
            out[item] = "; ".join(dict.fromkeys(whys))
    return out
