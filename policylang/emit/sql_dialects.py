"""SQL dialects: which builder writes a policy's query for which database, and the static
translatability pass that refuses what a dialect cannot compute exactly.

A dialect is a `SqlDialect`: its sqlglot name, the builder class (a subclass of the DuckDB
`QueryBuilder` that overrides only the `visit_`/helper methods whose DuckDB form does not
carry over, or rewrites the finished tree), and `untranslatable(policy)`, the constructs it
refuses. `register()` adds one (the Spark backend registers its own builder this way).

PostgreSQL: NUMERIC is exact, so the DuckDB scheme carries over with NUMERIC for HUGEINT,
EXTRACT for DATEPART, `n * INTERVAL '1 day'` for TO_DAYS, and a run-time error raised by a
cast of the message to BOOLEAN behind a volatile CASE (PostgreSQL folds constant branches at
plan time, so a constant failing cast would fire even where the branch is never taken).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlglot import exp

from policylang import ir
from policylang.diagnostics import Diagnostic, PolicyError
from policylang.emit.sql import QueryBuilder, case, fn
from policylang.nodes import Span

NUMERIC_ANY = exp.DataType.build("NUMERIC")


@dataclass(frozen=True)
class Refusal:
    """One construct a dialect cannot translate exactly, with where it is."""

    construct: str
    why: str
    span: Span | None
    book_level: bool = False  # only a whole-book query needs it, not a per-case one


@dataclass(frozen=True)
class SqlDialect:
    name: str
    sqlglot: str
    builder: type[QueryBuilder]
    refuses: Callable[[ir.Policy], list[Refusal]] = field(default=lambda policy: [])
    header: str = ""  # put before the query text (what a reader must know to run it)
    # The most columns one SELECT may give: a query carries the inputs, every let, limit
    # operand and allocation step, and the outputs through its last layer.
    max_columns: int | None = None

    def untranslatable(self, policy: ir.Policy) -> list[Refusal]:
        return self.refuses(policy)


_DIALECTS: dict[str, SqlDialect] = {}


def register(dialect: SqlDialect) -> None:
    _DIALECTS[dialect.name] = dialect


def names() -> tuple[str, ...]:
    _load_optional()
    return tuple(_DIALECTS)


def dialect(name: str) -> SqlDialect:
    _load_optional()
    if name not in _DIALECTS:
        raise PolicyError.single("E612", f"unknown SQL dialect {name!r}; choose from "
                                 f"{', '.join(_DIALECTS)}")
    return _DIALECTS[name]


def check_translatable(policy: ir.Policy, name: str, per_case: bool = False) -> None:
    """The static pass: every construct of the policy must translate exactly, else E612
    at each construct that does not (never a silently dropped rule). `per_case`: the query
    decides cases one by one and book-level rules are evaluated elsewhere (the engines'
    per-case backends), so only per-case constructs count."""
    refusals = [r for r in dialect(name).untranslatable(policy)
                if not (per_case and r.book_level)]
    if refusals:
        raise PolicyError([Diagnostic("E612", f"{r.construct} cannot be translated to {name} "
                                      f"SQL: {r.why}", r.span, ()) for r in refusals])


def _load_optional() -> None:
    if "sqlite" not in _DIALECTS:
        from policylang.emit import sql_sqlite  # noqa: F401  (registers itself)
    if "spark" not in _DIALECTS:
        try:
            from policylang.emit.sql_spark import _spark_only, _SparkBuilder, session_header
        except ImportError:
            return

        class SparkBuilder(_SparkBuilder):
            """The Spark backend's builder (its build() ends with its own final rewrite)."""

            finish = staticmethod(_spark_only)

        register(SqlDialect("spark", "spark", SparkBuilder, refuses=portfolio_refusals,
                            header=session_header()))


def portfolio_refusals(policy: ir.Policy) -> list[Refusal]:
    """Book-level rules are window functions over a whole book, run by `run --book` (DuckDB
    or Spark), not part of one dialect's per-case query."""
    if policy.portfolio is None:
        return []
    return [Refusal(f"{rule.kind} {rule.name}", "book-level (portfolio) rules are not in the "
                    "per-case query: score a book with `policylang run --book` (DuckDB or "
                    "`--engine spark`)", rule.span, book_level=True)
            for rule in policy.portfolio.rules]


# ── PostgreSQL ──────────────────────────────────────────────────────────────


def raising_condition(message: exp.Expression, target: str) -> exp.Expression:
    """A boolean that raises an error whose text is `message` when evaluated."""
    if target == "postgres":
        volatile = case((exp.GTE(this=fn("RANDOM"), expression=exp.Literal.number(0)),
                         message), otherwise=exp.null())
        return exp.cast(volatile, exp.DataType.build("BOOLEAN"))
    # SQLite: an invalid JSON path fails with the path in the message; `random()` keeps
    # SQLite from computing the constant call once up front.
    path = exp.DPipe(this=message, expression=fn("SUBSTR", fn("RANDOM"),
                                                   exp.Literal.number(1),
                                                   exp.Literal.number(0)))
    return exp.EQ(this=fn("JSON_EXTRACT", exp.Literal.string("{}"), path),
                  expression=exp.Literal.number(1))


def errors_as_conditions(tree: exp.Expression, target: str) -> exp.Expression:
    """`CASE WHEN c THEN ERROR(m) …` → `CASE WHEN (CASE WHEN c THEN <raises m> ELSE FALSE
    END) THEN NULL …`: the error fires exactly where DuckDB's ERROR() would, and the CASE
    takes its type from its other branches (NULL fits any type)."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.If) and _is_error(node.args.get("true")):
            message = node.args["true"].expressions[0]
            condition = case((node.this, raising_condition(message, target)),
                             otherwise=exp.false())
            return exp.If(this=condition, true=exp.null())
        return node

    return bottom_up(tree, rewrite)


def bottom_up(tree: exp.Expression, rewrite: Callable[[exp.Expression], exp.Expression]
              ) -> exp.Expression:
    """A copy of the tree with `rewrite` applied to every node, children first (sqlglot's
    `transform` does not descend into a node it has replaced)."""
    root = tree.copy()
    for node in reversed(list(root.walk(bfs=False))):
        new = rewrite(node)
        if new is not node:
            if node is root:
                root = new
            else:
                node.replace(new)
    return root


def _is_error(node: exp.Expression | None) -> bool:
    return isinstance(node, exp.Anonymous) and str(node.this).upper() == "ERROR"


class PostgresBuilder(QueryBuilder):
    """The DuckDB builder with PostgreSQL's names for 128-bit integers, interval parts,
    day/month intervals and run-time errors."""

    star_except = False

    def build(self) -> exp.Select:
        return self.finish(super().build())

    @staticmethod
    def finish(tree: exp.Expression) -> exp.Expression:
        return errors_as_conditions(bottom_up(tree, _postgres_node), "postgres")

    # Every column of `cases` comes back through the row's own value (`cases AS r`, a
    # composite), expanded by `(r).*` in the final SELECT, whatever `cases` holds.
    def row_handle(self) -> exp.Expression:
        return exp.alias_(exp.column("cases"), ROW, quoted=True)

    def row_back(self, source: str | exp.Expression, eligible: exp.Expression,
                 ctes: list[tuple[str, exp.Select]]) -> exp.Select:
        row = exp.Dot(this=exp.Paren(this=exp.column(ROW, quoted=True)), expression=exp.Star())
        final = exp.select(row, *[exp.column(name, quoted=True) for name in self.reported],
                           exp.alias_(eligible, "eligible", quoted=True)).from_(source)
        return self._with(final, ctes)


ROW = "__pl_row"


def _postgres_node(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.INT128:
        return NUMERIC_ANY.copy()
    if isinstance(node, exp.Mul) and (typed := _product_type(node)) is not None:
        # NUMERIC multiplies without bound: the product takes DuckDB's DECIMAL product type,
        # so it overflows (E611) where DuckDB's does, e.g. DECIMAL(38,10)² at 10^18.
        return exp.cast(node, typed)
    if isinstance(node, exp.Anonymous):
        name, args = str(node.this).upper(), node.expressions
        if name == "DATEPART":
            return paren_extract(args[0].name, args[1])
        if name in ("YEAR", "MONTH"):
            return paren_extract(name, args[0])
        if name in ("TO_DAYS", "TO_MONTHS"):
            unit = "DAY" if name == "TO_DAYS" else "MONTH"
            return exp.Paren(this=exp.Mul(this=exp.Paren(this=args[0]), expression=exp.Interval(
                this=exp.Literal.string("1"), unit=exp.Var(this=unit))))
    return node


def _product_type(node: exp.Mul) -> exp.DataType | None:
    """DECIMAL(p1,s1) × DECIMAL(p2,s2) is DECIMAL(min(p1+p2, 38), s1+s2) in DuckDB."""
    sizes = []
    for operand in (node.this, node.expression):
        if not (isinstance(operand, exp.Cast) and operand.to.this == exp.DataType.Type.DECIMAL
                and len(operand.to.expressions) == 2):
            return None
        sizes.append([int(e.this.name) for e in operand.to.expressions])
    (p1, s1), (p2, s2) = sizes
    return exp.DataType.build(f"NUMERIC({min(p1 + p2, 38)},{s1 + s2})", dialect="postgres")


def paren_extract(part: str, value: exp.Expression) -> exp.Expression:
    return exp.Extract(this=exp.Var(this=part.upper()), expression=value)


register(SqlDialect("duckdb", "duckdb", QueryBuilder))
register(SqlDialect("postgres", "postgres", PostgresBuilder, refuses=portfolio_refusals,
                   max_columns=1664))  # PostgreSQL's most target-list entries
