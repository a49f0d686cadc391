"""The Python backend's allocations: the lines of each `shares` and `waterfall` method.

A mixin of the module emitter (python.py), which gives it `visit`, `_constant` and
`_zero`. An allocation's method returns its parts as a tuple, in the order of its
parties (each tested to stay below 10^16 yuan, `_parts_in_range`, where the amount may
reach it). Constant shares of whole fen are split in integers (`_split_fen`); other shares
and every waterfall keep each party's exact share in a local of its own (`to_pool`) and
round them together to the fen (largest remainder): truncated in place, and only when the
truncated parts fall short of the amount is the rest left to `_allocate_missing`. A
waterfall writes `min(remaining, max(cap, 0))` out as comparisons with the builtins' tie
behaviour, which is cheaper than the calls.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import assert_never

from policylang import ir
from policylang.emit.base import Namespace
from policylang.emit.python_text import text as _text
from policylang.values import format_decimal

# Constant shares with at most this many places split whole fen in integers (`_split_fen`).
FEN_SPLIT_PLACES = 8


class AllocationLines:
    """`_allocation(alloc)`: the body of an allocation's method, as lines."""

    fen_splits: set[str]  # allocations computed by `_split_fen` (their parts are whole fen)
    _module_constant: Callable[[object, str, Callable[[], str]], str]
    _money_bounded: Callable[[ir.Expr], bool]  # known below 10^16 yuan at the fen

    def _allocation(self, alloc: ir.Allocation) -> list[str]:
        match alloc:
            case ir.Shares(amount=None, parts=parts, ratio=ratio):
                total = self._constant(alloc.total_weight, ir.NUMBER) if ratio else None
                shares = [f"_div({self._constant(p.weight, ir.NUMBER)}, {total})" if ratio
                          else self._constant(p.weight, ir.PERCENT) for p in parts]
                return [f"return {_listed(shares)}"]
            case ir.Shares(amount=amount, parts=parts, ratio=False) if all(
                    -p.weight.as_tuple().exponent <= FEN_SPLIT_PLACES for p in parts):
                scale = 10 ** max(-p.weight.as_tuple().exponent for p in parts)
                numerators = tuple(int(p.weight * scale) for p in parts)
                self.fen_splits.add(alloc.name)
                split = self._module_constant(
                    ("fen split", numerators, scale),
                    "SHARES_" + "_".join(map(str, numerators)) + f"_OF_{scale}",
                    lambda: f"_FenSplit({_listed(list(map(str, numerators)))}, {scale})")
                return [f"amount = _allocated({self.visit(amount)}, {_text(alloc.name)})",
                        f"return {self._parts(alloc, f'_split_fen(amount, {split})')}"]
            case ir.Shares(amount=amount, parts=parts, ratio=ratio):
                total = self._constant(alloc.total_weight, ir.NUMBER) if ratio else None
                parties = Namespace(shape=lambda name: f"to_{name}")
                lines = [f"amount = _allocated({self.visit(amount)}, {_text(alloc.name)})"]
                for p in parts:
                    share = (f"_div(_mul(amount, {self._constant(p.weight, ir.NUMBER)}), {total})"
                             if ratio else f"_mul(amount, {self._constant(p.weight, ir.PERCENT)})")
                    lines.append(f"{parties[p.party]} = {share}")
                return lines + _rounded([parties[p.party] for p in parts],
                                        lambda found: self._parts(alloc, found))
            case ir.Waterfall(amount=amount, steps=steps):
                # Each party's exact share is a local (`to_pool`): a party's first share is
                # assigned, later ones added. The parts are rounded together, in the order
                # of first appearance, the order the decision reports.
                parties = Namespace(shape=lambda name: f"to_{name}")
                seen: set[str] = set()
                lines = [f"amount = _allocated({self.visit(amount)}, {_text(alloc.name)})",
                         "remaining = amount"]
                for step in steps:
                    lines += self._step(step, seen, parties)
                if ir.UNALLOCATED in alloc.parties:
                    lines.append(_give(parties[ir.UNALLOCATED], "remaining", ir.UNALLOCATED,
                                       seen))
                return lines + _rounded([parties[party] for party in alloc.parties],
                                        lambda found: self._parts(alloc, found))
            case _:
                assert_never(alloc)

    def _parts(self, alloc: ir.Allocation, parts: str) -> str:
        """`parts`, the rounded parts of `alloc`, each tested to stay below 10^16 yuan
        (DECIMAL(18,2) columns in SQL), unless its amount is known to (no part is more)."""
        if self._money_bounded(alloc.amount):
            return parts
        parties = _listed([_text(party) for party in alloc.parties])
        return f"_parts_in_range({parts}, amount, {_text(alloc.name)}, {parties})"

    def _step(self, step: ir.Step, seen: set[str], parties: Namespace) -> list[str]:
        # min(remaining, max(cap, 0)) written out: the builtins cost more than the
        # comparisons. `min` keeps its first argument of equal ones, and so does this.
        match step:
            case ir.Take(party=party, cap=cap):
                # A party's first share is taken straight into its local.
                first = party not in seen
                taken = parties[party] if first else "taken"
                lines = [f"cap = {self.visit(cap)}",
                         f"if cap < {self._zero()}:  # a negative cap takes nothing",
                         f"    cap = {self._zero()}",
                         f"{taken} = cap if cap < remaining else remaining"]
                if first:
                    seen.add(party)
                else:
                    lines.append(_give(parties[party], "taken", party, seen))
                # What is taken is within [0, remaining] (or is all of a negative
                # remaining), so the difference needs no range check.
                return lines + [f"remaining = _exact_sub(remaining, {taken})"]
            case ir.Split(parts=split):
                # Each distinct percent's product is computed once (a 50/50 split
                # multiplies once): `base_times_50`, `base_times_12_point_5`.
                lines = ["base = remaining"]
                products: dict[Decimal, str] = {}
                for index, part in enumerate(split):
                    product = products.get(part.share)
                    if product is None:
                        text = format_decimal(part.share.scaleb(2))
                        product = products[part.share] = "base_times_" + text.replace(
                            "-", "minus_").replace(".", "_point_")
                        lines.append(f"{product} = _mul(base, "
                                     f"{self._constant(part.share, ir.PERCENT)})")
                    lines.append(f"share = {product}")
                    if part.cap is not None:
                        lines += [f"cap = {self.visit(part.cap)}",
                                  f"if cap < {self._zero()}:",
                                  f"    cap = {self._zero()}",
                                  "if cap < share:",
                                  "    share = cap"]
                    lines += [_give(parties[part.party], "share", part.party, seen),
                              "given = _add(given, share)" if index else "given = share"]
                return lines + ["remaining = _sub(base, given)"]
            case ir.Rest(party=party):
                # `rest` is the last step (the checker ensures it): nothing remains after it.
                return [_give(parties[party], "remaining", party, seen)]
            case _:
                assert_never(step)


def _give(name: str, amount: str, party: str, seen: set[str]) -> str:
    """The line giving `amount` to a waterfall party, the local `name` (assigned first,
    then added to)."""
    if party in seen:
        return f"{name} = _add({name}, {amount})"
    seen.add(party)
    return f"{name} = {amount}"


def _rounded(exact: list[str], returned: Callable[[str], str]) -> list[str]:
    """The lines returning the parts held in the locals `exact` (`to_pool`), rounded
    together to the fen, each as `returned` gives it. Each is truncated to the fen
    (`fen_pool`); most often these already sum to the amount, and the rest (largest
    remainder) is left to `_allocate_missing`. Written out because the call and its tuple
    cost more than the truncations."""
    truncated = ["fen_" + name.removeprefix("to_") for name in exact]
    lines = [f"{fen} = _truncate({name}, _FEN)" for fen, name in zip(truncated, exact,
                                                                     strict=True)]
    lines.append(f"truncated_sum = {truncated[0]}")
    lines += [f"truncated_sum = _exact_add(truncated_sum, {fen})" for fen in truncated[1:]]
    missing = (f"_allocate_missing(amount, {_listed(exact)}, [{', '.join(truncated)}], "
               "truncated_sum)")
    return lines + ["if truncated_sum == amount:  # the common case",
                    f"    return {returned(_listed(truncated))}",
                    f"return {returned(missing)}"]


def _listed(items: list[str]) -> str:
    """A tuple display of `items` (a one-item tuple keeps its comma)."""
    return "(" + ", ".join(items) + "," * (len(items) == 1) + ")"
