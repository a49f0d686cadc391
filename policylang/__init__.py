"""policylang: a compiler for government financing-guarantee policies.

The pipeline, one module per stage: `parser` (source → `nodes` AST), `checker`
(AST → typed `ir`), then `interpret`, `emit.*` and `diff` over the IR. `api` is the
small public surface for embedding; `cli` is the command line.
"""

__version__ = "0.1.0"
