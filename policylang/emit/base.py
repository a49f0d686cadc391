"""The base of every emitter: `visit_<Node>` dispatch over IR expressions, and names.

A target subclasses `Emitter` and defines one `visit_<ClassName>` per IR expression node;
a dialect overrides just the visits that differ. Identifiers from a policy go through a
`Namespace`, so a name never breaks out of the target's syntax and two policy names never
become one identifier.
"""

from __future__ import annotations

import keyword
import unicodedata
from collections.abc import Callable

from policylang import ir


class Emitter:
    def visit(self, node: ir.Expr) -> str:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise NotImplementedError(f"{type(self).__name__} cannot emit {type(node).__name__}")
        return method(node)


class Namespace:
    """Python identifiers for policy names, unique within one scope (a module, a class).

    Python compares identifiers after NFKC normalisation, so uniqueness is checked on the
    normalised form; `shape` adjusts a candidate (a prefix for names a scope forbids).
    """

    def __init__(self, taken: frozenset[str] = frozenset(),
                 shape: Callable[[str], str] = lambda name: name):
        self.taken = set(taken)
        self.shape = shape
        self.given: dict[str, str] = {}

    def __getitem__(self, name: str) -> str:
        if name not in self.given:
            self.given[name] = self.fresh(name)
        return self.given[name]

    def fresh(self, name: str) -> str:
        """A new identifier for `name`, taken from now on (whatever was given before)."""
        candidate = self.shape(identifier(name))
        while candidate in self.taken:
            candidate += "_"
        self.taken.add(candidate)
        return candidate


def identifier(name: str) -> str:
    """A Python identifier for a policy name: kept when valid, `_` appended to keywords,
    other characters replaced (policy names are letters, digits and `_`)."""
    text = unicodedata.normalize("NFKC", name)
    text = "".join(ch if (ch.isalnum() or ch == "_") else "_" for ch in text)
    if not text.isidentifier():
        text = f"n_{text}"
    if keyword.iskeyword(text) or keyword.issoftkeyword(text):
        text += "_"
    return text


def camel(name: str) -> str:
    """`borrower_kind` → `BorrowerKind` (names without ASCII letters are kept)."""
    parts = [p for p in name.split("_") if p]
    return "".join(p[:1].upper() + p[1:] for p in parts) or name
