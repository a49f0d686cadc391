"""The run-time support of a generated Python module: of the definitions in
`python_runtime.py` and `python_readers.py`, exactly those the module uses (and what they
use), copied into it in those files' order, so that it imports nothing of policylang.
"""

from __future__ import annotations

import ast
from functools import cache
from importlib import resources

# The run-time support, in the order a module holds it (the readers import the rest).
_RUNTIME_FILES = ("emit/python_runtime.py", "emit/python_readers.py")


@cache
def runtime() -> tuple[dict[str, str], dict[str, set[str]]]:
    """The runtime's top-level definitions by name, in file order, and what each uses."""
    definitions: dict[str, str] = {}
    uses: dict[str, set[str]] = {}
    for file in _RUNTIME_FILES:
        source = resources.files("policylang").joinpath(file).read_text(encoding="utf-8")
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                name = node.name
            elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                name = node.targets[0].id
            else:
                continue  # the docstring and the imports
            definitions[name] = ast.get_source_segment(source, node)
            uses[name] = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    return definitions, uses


def with_runtime(body: str) -> str:
    """The module with the run-time definitions it needs (transitively) in place of the
    marker, in the runtime's order (consecutive constants without blank lines)."""
    definitions, uses = runtime()
    wanted = {n.id for n in ast.walk(ast.parse(body)) if isinstance(n, ast.Name)}
    wanted &= set(definitions)
    queue = list(wanted)
    while queue:
        for name in uses[queue.pop()] & set(definitions):
            if name not in wanted:
                wanted.add(name)
                queue.append(name)
    pieces = [(text, text.startswith(("def ", "class "))) for name, text in definitions.items()
              if name in wanted]
    support = pieces[0][0]
    for (text, block), (_, after_block) in zip(pieces[1:], pieces, strict=False):
        support += ("\n\n\n" if block or after_block else "\n") + text
    return body.replace("# ── run-time support ──\n", "# ── run-time support ──\n\n"
                        + support + "\n", 1)
