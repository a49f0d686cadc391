"""What differs between two decisions of a witness's case, in words, for `policylang diff`.

`differences(old_decision, new_decision, types)` lists eligibility, each rule or limit that
holds in one version and fails in the other (a limit with its value and the bound of the
version it fails in), each let value and each allocation part that differs; `types(old,
new)` gives the types that make a value read as the policy writes it (`4.79%`, not the
decision JSON's fraction `0.0479`; `501万`, not `5010000.00`). Empty when the decisions agree.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from policylang import ir
from policylang import values as v
from policylang.diff_text import value_text


def types(*policies: ir.Policy) -> dict[str, ir.Type]:
    """The type of each limit's subject and each let, by name, the newer version's first."""
    types: dict[str, ir.Type] = {}
    for policy in reversed(policies):
        types |= {let.name: let.type for let in policy.lets}
        types |= {c.name: c.subject.type for c in policy.checks if isinstance(c, ir.Limit)}
    return types


def _readable(text: object, type_: ir.Type | None) -> object:
    """A reported value as the policy and the witness's case write it: a percent as
    `4.79%`, not the fraction `0.0479` the decision JSON carries; money in 万 or 亿 where
    that is exact (`501万`, not `5010000.00`), else in 元 (`5000000.01元`)."""
    if isinstance(text, str) and type_ is not None and type_.kind is ir.Kind.PERCENT:
        return v.literal(Decimal(text), type_)
    if isinstance(text, str) and type_ is not None and type_.kind is ir.Kind.MONEY:
        return value_text(Decimal(text), type_)
    return text


def differences(a: dict, b: dict, types: dict[str, ir.Type]) -> list[str]:
    """What differs between two decisions, in words; empty when nothing does."""
    out: list[str] = []
    word: Callable[[bool], str] = lambda flag: "eligible" if flag else "not eligible"  # noqa: E731
    if a["eligible"] != b["eligible"]:
        out.append(f"{word(a['eligible'])} → {word(b['eligible'])}")
    failed_a = {f["rule"]: f for f in a["failures"]}
    failed_b = {f["rule"]: f for f in b["failures"]}
    for name in [*failed_b, *(n for n in failed_a if n not in failed_b)]:
        if (name in failed_a) != (name in failed_b):
            failure = failed_b.get(name) or failed_a[name]
            version = "new" if name in failed_b else "old"
            shown = {key: _readable(failure.get(key), types.get(name))
                     for key in ("value", "bound")}
            where = f" (value {shown['value']}, {version} bound {shown['bound']})" \
                if failure["kind"] == "limit" else ""
            out.append(f"{failure['kind']} {name}: "
                       + ("holds → fails" if name in failed_b else "fails → holds") + where)
    for name, value in b["values"].items():
        if name in a["values"] and a["values"][name] != value:
            out.append(f"let {name}: {_readable(a['values'][name], types.get(name))} → "
                       f"{_readable(value, types.get(name))}")
    for name in [*b["allocations"], *(n for n in a["allocations"] if n not in b["allocations"])]:
        parts_a, parts_b = a["allocations"].get(name, {}), b["allocations"].get(name, {})
        for party in [*parts_b, *(p for p in parts_a if p not in parts_b)]:
            before, after = parts_a.get(party, "0.00"), parts_b.get(party, "0.00")
            if before != after:
                out.append(f"{name}.{party}: {_readable(before, ir.MONEY)} → "
                           f"{_readable(after, ir.MONEY)}")
    return out
