"""SQL backend: a checked policy → one query over a table `cases` (DuckDB first).

The query is built as a sqlglot expression tree, never by pasting policy text, so every
identifier and literal is quoted by sqlglot. Exactness scheme (docs/semantics.md):
money, percent and number are DECIMAL(38,10); `+`/`-` are exact; `*` is the exact
DECIMAL(38,20) product rounded half away from zero to 10 places; `/` is done on 128-bit
integers (HUGEINT) with an exact half-up remainder test, because DuckDB divides DECIMALs
in DOUBLE. Durations are INTERVALs holding only months or only days, compared only within
one family. Lets and allocation stages become columns of layered CTEs (`__pl_<n>`): each
column in the first layer after every column it reads, so there are as many layers as the
longest chain of them (not one per declaration: a 2,000-line policy's 1,672 layers passed
DuckDB's expression depth limit; it has 43). The final SELECT reports rules (`rule__NAME`),
lets, parts (`alloc__party`) and `eligible`, and carries every other column of `cases`
through unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import assert_never

from sqlglot import exp

from policylang import ir
from policylang.cases import parse_params
from policylang.diagnostics import Diagnostic, PolicyError
from policylang.emit.sql_allocations import AllocationColumns
from policylang.emit.sql_evaluation import evaluation_contexts, magnitude, may_fail
from policylang.emit.sql_money import MoneyChecks
from policylang.emit.sql_tree import (
    BOUNDED,
    HUGEINT,
    MONEY_OUT,
    NUMERIC,
    PREFIX,
    SCALE,
    case,
    col,
    constant_of,
    fail,
    fn,
    input_column,
    integer,
    let_column,
    limit_column,
    narrow,
    number,
    paren,
    part_column,
    places,
)
from policylang.values import MAGNITUDE_LIMIT, div


def emit_sql(policy: ir.Policy, dialect: str = "duckdb", params: dict | None = None,
             per_case: bool = False) -> str:
    """The query text for a dialect, with params bound (their defaults unless given as
    `--param` texts). Refuses (E612) a policy with a construct the dialect cannot run.

    Book-level (portfolio) rules are not one query: `run --book` evaluates them in stages
    of window functions. So a policy that has them compiles only with `per_case`, and the
    text then opens by naming every rule it leaves to `run --book` (never silently)."""
    from policylang.emit.sql_dialects import dialect as find

    # The usage errors first: a wrong dialect or param says so, whatever the policy holds.
    target = find(dialect)
    values = parse_params(policy, params or {}, where="--param")
    book_rules = policy.portfolio.rules if policy.portfolio else ()
    if book_rules and not per_case:
        raise PolicyError([Diagnostic(
            "E612", f"{rule.kind} {rule.name} is a book-level rule: it is evaluated over a "
            "whole book by `policylang run --book`, not by one query; compile with "
            "--per-case for the per-case columns only", rule.span, ()) for rule in book_rules])
    # The tree is written once and dropped: not copied first (`copy=False`), which was a
    # sixth of building a 2,000-line policy's query.
    text = build_query(policy, values, dialect, per_case=per_case).sql(
        dialect=target.sqlglot, pretty=True, copy=False)
    omitted = "".join(f"-- NOT IN THIS QUERY: {rule.kind} {_comment(rule.name)} (book-level; "
                      "evaluated by `policylang run --book`)\n" for rule in book_rules)
    return target.header + omitted + text + ";\n"


def _comment(text: str) -> str:
    """A name safe inside a `--` comment (no line break can end the comment early)."""
    return " ".join(text.split())


def build_query(policy: ir.Policy, param_values: dict[str, ir.Value],
                dialect: str = "duckdb", per_case: bool = False,
                carry: tuple[str, ...] = (), only_carried: bool = False,
                limit_values: bool = True) -> exp.Select:
    """The query tree for a dialect, after the static translatability pass (E612);
    `per_case`: for an engine that evaluates book-level rules by other means;
    `only_carried`: the result holds the `carry` columns and the outputs, no other input
    (less to materialise when the engine joins the book back by row);
    `limit_values`: whether each limit's value and bound are output columns."""
    from policylang.emit.sql_dialects import check_translatable
    from policylang.emit.sql_dialects import dialect as find

    check_translatable(policy, dialect, per_case)
    target = find(dialect)
    builder = target.builder(policy, param_values)
    builder.carry = carry
    if only_carried:
        builder.star_except, builder.carry_inputs = False, False
    builder.limit_values = limit_values
    tree = builder.build()
    # The last layer holds the inputs, every internal column and the outputs.
    widest = len(policy.inputs) + len(carry) + len(builder.internal) + len(builder.reported)
    if target.max_columns is not None and widest > target.max_columns:
        raise PolicyError.single(
            "E612", f"policy {policy.name}: its {dialect} query carries {widest:,} columns "
            f"through one SELECT, and {dialect} allows {target.max_columns:,}; DuckDB (the "
            "default dialect) has no such limit")
    return tree


@dataclass
class _Layer:
    columns: dict[str, exp.Expression] = field(default_factory=dict)


# A book's query nests at most this many layers as subqueries before a CTE (see
# `QueryBuilder._assemble`): sqlglot writes a query recursively, a dozen frames a level,
# and a policy of 100 chained lets passed Python's recursion limit nested whole.
NESTED_LAYERS = 16


class QueryBuilder(AllocationColumns, MoneyChecks):
    """The DuckDB query; a dialect subclasses it and overrides only what differs."""

    # Whether `SELECT * EXCEPT (…)` carries the `cases` columns through; else the final
    # SELECT lists the policy's inputs (the only columns the engines' `cases` tables hold).
    star_except = True

    def __init__(self, policy: ir.Policy, params: dict[str, ir.Value]):
        self.policy = policy
        self.params = params
        self.layers: list[_Layer] = [_Layer()]
        self.level: dict[str, int] = {}  # the layer of each column added
        self.internal: list[str] = []
        self.inputs = {f.name: f for f in policy.inputs}
        self.reported: list[str] = []
        self.carry: tuple[str, ...] = ()  # other `cases` columns an engine reads back
        self.carry_inputs = True  # whether a result without `* EXCLUDE` lists the inputs
        # Whether each limit's value and bound are output columns: a book scored for its
        # decisions alone leaves them out (they are a third of 重庆's columns, and a
        # duration's INTERVAL is slow to store).
        self.limit_values = True
        # Where a value the SQL of one operation reads several times may become a column
        # of its own (`shared`): IR node id → the conditions it is evaluated under.
        self.contexts = evaluation_contexts(self.policy)
        self.shared_count = 0

    @staticmethod
    def finish(tree: exp.Expression) -> exp.Expression:
        """The dialect's last rewrite of a tree written in DuckDB's vocabulary."""
        return tree

    # ── layers ──
    def add(self, name: str, expression: exp.Expression) -> exp.Column:
        """`expression` as the column `name`, in the first layer after every column it
        reads (a column reading only `cases`, or nothing, is in the inputs' layer 0)."""
        level = 1 + max((self.level[c.name] for c in expression.find_all(exp.Column)
                         if c.name in self.level), default=-1)
        while len(self.layers) <= level:
            self.layers.append(_Layer())
        self.layers[level].columns[name] = expression
        self.level[name] = level
        self.internal.append(name)
        return col(name)

    def build(self) -> exp.Select:
        policy = self.policy
        for f in policy.inputs:
            self.add(input_column(f.name), self._checked(f, self._input(f)))
        for kind, name in policy.order:
            if kind == "let":
                let = policy.let(name)
                self.add(let_column(name), self.expr(let.expr))
            else:
                self._allocation(policy.allocation(name))
        for check in policy.checks:
            if isinstance(check, ir.Limit) and (self.limit_values or self.unsafe_sides(check)):
                self._limit_operands(check)
        outputs: list[exp.Expression] = []
        for check in policy.checks:
            outputs.append(exp.alias_(self._check(check), f"rule__{check.name}", quoted=True))
            if isinstance(check, ir.Limit) and self.limit_values:
                for side, type_ in (("value", check.subject.type), ("bound", check.bound.type)):
                    outputs.append(exp.alias_(
                        self.report(col(limit_column(check.name, side)), type_),
                        f"rule__{check.name}__{side}", quoted=True))
        for let in policy.lets:
            outputs.append(exp.alias_(self.report(col(let_column(let.name)), let.type),
                                      let.name, quoted=True))
        for alloc in policy.allocations:
            if isinstance(alloc, ir.Shares) and alloc.amount is None:
                continue
            parties = alloc.parties
            for party in parties:
                outputs.append(exp.alias_(exp.cast(col(part_column(alloc.name, party)),
                                                   MONEY_OUT), f"{alloc.name}__{party}",
                                          quoted=True))
        rule_columns = [col(f"rule__{c.name}") for c in policy.checks]
        self.reported = [output.alias for output in outputs]
        return self._assemble(outputs, rule_columns)

    def _assemble(self, outputs: list[exp.Expression],
                  rule_columns: list[exp.Column]) -> exp.Select:
        # A book's query (the carried columns and the outputs alone) is DuckDB's to run
        # and nobody's to read. Its first layer keeps, of the columns of `cases`, only the
        # carried ones: carried through every layer by `*`, the others made each layer
        # wider to bind and to pass on. Its layers nest as subqueries, not CTEs: DuckDB
        # plans the same tree, but binds it in two thirds of the time. Together they took
        # 28% off 重庆's query on a 10k-row book (where planning was most of its time),
        # 11% on 100k; 13% and 6% off 佛山's. A query that gives the inputs back keeps
        # one readable CTE per layer.
        for_book = not self.star_except and not self.carry_inputs
        # Without `* EXCEPT` the result still gives back every column of `cases` (a loan
        # id, a branch: the README's "other columns are carried through"), by a handle on
        # the row that the first layer keeps and the final SELECT expands.
        whole_row = not self.star_except and self.carry_inputs
        first_star = tuple(col(name) for name in self.carry) if for_book else (exp.Star(),)
        source: str | exp.Expression = "cases"  # what the next layer reads
        ctes: list[tuple[str, exp.Select]] = []
        nested = 0

        def then(name: str, select: exp.Select) -> str | exp.Expression:
            """What the next layer reads `select` from: the subquery itself, or its name
            as a CTE (every layer of a query for reading; for a book every
            NESTED_LAYERS-th, as sqlglot and DuckDB recurse once per level)."""
            nonlocal nested
            if for_book and nested < NESTED_LAYERS - 1:
                nested += 1
                return select.subquery(name, copy=False)
            nested = 0
            ctes.append((name, select))
            return name

        for index, layer in enumerate(self.layers):
            if not layer.columns:
                continue
            kept = first_star if isinstance(source, str) and source == "cases" else (
                exp.Star(),)
            if whole_row and isinstance(source, str) and source == "cases":
                kept = (*kept, self.row_handle())
            # Each layer's expressions are used here once: not copied (by default each
            # `alias_` and `from_` deep-copies, which was half of building a large policy's
            # query).
            source = then(f"{PREFIX}{index}", exp.select(
                *kept, *[exp.alias_(e, c, quoted=True, copy=False)
                         for c, e in layer.columns.items()]
            ).from_(source, copy=False))
        source = then(f"{PREFIX}checks",
                      exp.select("*", *outputs).from_(source, copy=False))
        eligible = exp.and_(*rule_columns) if rule_columns else exp.true()
        if self.star_except:
            carried: list[exp.Expression] = [
                exp.Star(except_=[col(name) for name in self.internal]) if self.internal
                else exp.Star()]
        elif whole_row:
            return self.row_back(source, eligible, ctes)
        else:
            carried = [col(name) for name in self.carry]
            carried += [col(name) for name in self.reported]
        final = exp.select(*carried, exp.alias_(eligible, "eligible", quoted=True)
                           ).from_(source)
        # In place: by default each `with_` deep-copies the query built so far, which made
        # building a query quadratic in its layers (0.1 s for 重庆's 23).
        return self._with(final, ctes)

    @staticmethod
    def _with(final: exp.Select, ctes: list[tuple[str, exp.Select]]) -> exp.Select:
        for name, select in ctes:
            final = final.with_(name, as_=select, copy=False)
        return final

    def row_handle(self) -> exp.Expression:
        """What the first layer keeps of each `cases` row for `row_back` (a dialect
        without `* EXCEPT`)."""
        raise NotImplementedError

    def row_back(self, source: str | exp.Expression, eligible: exp.Expression,
                 ctes: list[tuple[str, exp.Select]]) -> exp.Select:
        """The final SELECT of a dialect without `* EXCEPT`: every column of `cases`, then
        the outputs and `eligible`."""
        raise NotImplementedError

    def shared(self, value: exp.Expression, node: ir.Expr) -> exp.Expression:
        """`value`, the SQL of IR `node`, as an operation that reads it several times
        should read it: a column of its own where that is safe, else the expression.

        The SQL of a duration or date operation repeats its operands (the family test
        reads each side's months and days, `max` of durations compares each argument
        with the best so far), so nested operations grew exponentially: `max(d1 * n,
        d2 * 3, d1 + d2)` was 150 kB of SQLite, beyond its parser's stack. A column is
        computed on every row, so `node` becomes one only under the conditions the
        interpreter evaluates it under (`evaluation_contexts`: guards, `if` branches,
        the right side of `and`/`or`, an `in` set's later items), as a CASE that is NULL
        elsewhere; where those are not known, the expression stays inline."""
        context = self.contexts.get(id(node))
        if context is None or sum(1 for _ in value.walk()) <= 4:
            return value
        for cond, holds in reversed(context[1]):
            test = self.expr(cond)
            value = case((test if holds else exp.Not(this=paren(test)), value),
                         otherwise=exp.null())
        self.shared_count += 1
        return self.add(f"{PREFIX}shared_{self.shared_count}", value)

    @staticmethod
    def report(value: exp.Expression, type_: ir.Type) -> exp.Expression:
        """An output column in its DESIGN §5 type (money to the fen)."""
        if type_.kind is ir.Kind.MONEY:
            return exp.cast(value, MONEY_OUT)
        return value

    # ── inputs, checks, allocations ──
    def _checked(self, f: ir.Field, read: exp.Expression) -> exp.Expression:
        """An input read so that a cell a case file could not hold raises, as the case
        reader and a book's reader do: a NULL without default is E602 (left to flow on, it
        made a guard's comparison NULL, its check `ELSE TRUE`, and a loan with no amount
        eligible), an enum cell naming no member E604 (it made every `==` false). A book's
        query (`run --book`) is not checked here: its reader refuses such cells."""
        if not self.star_except and not self.carry_inputs:
            return read
        branches = []
        if f.default is None:
            branches.append((exp.Is(this=col(f.name), expression=exp.null()),
                             fail("E602", f"cases column `{f.name}`: no value, and the field "
                                  f"({f.type}) has no default")))
        if f.type.kind is ir.Kind.ENUM:
            members = [m.name for m in self.policy.enum(f.type.enum).members]
            branches.append((exp.Not(this=exp.In(this=col(f.name), expressions=[
                exp.Literal.string(m) for m in members])),
                fail("E604", f"cases column `{f.name}`: a value that is not a member of "
                     f"enum `{f.type.enum}` (members: {', '.join(members)})")))
        return case(*branches, otherwise=read) if branches else read

    def _input(self, f: ir.Field) -> exp.Expression:
        raw: exp.Expression = col(f.name)
        if f.default is not None:
            raw = exp.func("COALESCE", raw, self._const(f.default, f.type))
        if f.type.numeric:
            return exp.cast(raw, NUMERIC)
        if f.type.kind is ir.Kind.DATE:
            return exp.cast(raw, exp.DataType.build("DATE"))
        return raw

    def _limit_operands(self, limit: ir.Limit) -> None:
        """A limit's subject and bound as columns (NULL where its guard does not hold)."""
        guard = self.expr(limit.guard) if limit.guard is not None else None
        for side, operand in (("value", limit.subject), ("bound", limit.bound)):
            value = self.expr(operand)
            if guard is not None:
                value = exp.Case(ifs=[exp.If(this=guard, true=value)])
            self.add(limit_column(limit.name, side), value)

    def limit_operand(self, limit: ir.Limit, side: str) -> exp.Expression:
        """A limit's subject ("value") or bound as its check reads it: its column, or,
        when it has none (`limit_values` off), the expression itself, which the check's
        own guard keeps from running where the guard does not hold."""
        if limit_column(limit.name, side) in self.level:
            return col(limit_column(limit.name, side))
        return self.expr(limit.subject if side == "value" else limit.bound)

    def _check(self, check: ir.Check) -> exp.Expression:
        from policylang.emit.sql_temporal import compare

        match check:
            case ir.Rule(cond=cond):
                holds = self.expr(cond)
            case ir.Limit(op=op, subject=subject):
                holds = compare(op, self.limit_operand(check, "value"),
                                self.limit_operand(check, "bound"), subject.type)
                holds = self.money_checked(check, holds)
            case _:
                assert_never(check)
        if check.guard is None:
            return holds
        return case((self.expr(check.guard), holds), otherwise=exp.true())

    # ── expressions ──
    def expr(self, e: ir.Expr) -> exp.Expression:
        return getattr(self, f"visit_{type(e).__name__}")(e)

    def visit_Const(self, e: ir.Const) -> exp.Expression:
        return self._const(e.value, e.type)

    def _const(self, value: ir.Value, type_: ir.Type) -> exp.Expression:
        match type_.kind:
            case ir.Kind.MONEY | ir.Kind.PERCENT | ir.Kind.NUMBER:
                return number(value)
            case ir.Kind.DURATION:
                unit = "MONTH" if value.unit == "month" else "DAY"
                return exp.Interval(this=exp.Literal.string(str(value.amount)),
                                    unit=exp.Var(this=unit))
            case ir.Kind.DATE:
                return exp.cast(exp.Literal.string(value.isoformat()),
                                exp.DataType.build("DATE"))
            case ir.Kind.BOOL:
                return exp.true() if value else exp.false()
            case ir.Kind.ENUM:
                return exp.Literal.string(value)
        raise AssertionError(type_)

    def visit_InputRef(self, e: ir.InputRef) -> exp.Expression:
        return col(input_column(e.name))

    def visit_ParamRef(self, e: ir.ParamRef) -> exp.Expression:
        return self._const(self.params[e.name], e.type)

    def visit_LetRef(self, e: ir.LetRef) -> exp.Expression:
        return col(let_column(e.name))

    def visit_PartRef(self, e: ir.PartRef) -> exp.Expression:
        alloc = self.policy.allocation(e.allocation)
        if isinstance(alloc, ir.Shares) and alloc.amount is None:
            weight = next(p.weight for p in alloc.parts if p.party == e.party)
            return number(div(weight, alloc.total_weight) if alloc.ratio else weight)
        return col(part_column(e.allocation, e.party))

    def visit_Neg(self, e: ir.Neg) -> exp.Expression:
        return exp.Neg(this=paren(self.expr(e.operand)))

    def visit_Arith(self, e: ir.Arith) -> exp.Expression:
        left, right = e.left, e.right
        if {left.type.kind, right.type.kind} & {ir.Kind.DURATION, ir.Kind.DATE}:
            return self._temporal(e)
        a, b = self.expr(left), self.expr(right)
        match e.op:
            case "+":
                return self._bounded(exp.Add(this=a, expression=b), e)
            case "-":
                return self._bounded(exp.Sub(this=a, expression=b), e)
            case "*":
                return self._mul(a, b)
            case "/":
                if may_fail(left) and constant_of(b) is None:
                    # The dividend's own fault comes first, as in the interpreter: as a
                    # column of its own it is computed before the zero test reads the
                    # divisor (`round(q, 0元) / 0` was E610 here, E611 there).
                    a = self.shared(a, left)
                return self._div(a, b)
        raise AssertionError(e.op)

    def _bounded(self, sum_: exp.Expression, e: ir.Arith) -> exp.Expression:
        """A sum whose magnitude might reach the limit gets a run-time check."""
        checked = paren(sum_)
        if magnitude(e) < MAGNITUDE_LIMIT:
            return checked
        return case((exp.GTE(this=fn("ABS", checked), expression=number(MAGNITUDE_LIMIT)),
                     fail("E611", "value out of range")), otherwise=checked)

    @staticmethod
    def _mul(a: exp.Expression, b: exp.Expression) -> exp.Expression:
        """a * b rounded half away from zero to 10 places. A constant factor is cast only
        as wide as its digits, so the product has 10 + its places and needs no rounding
        when it is a whole number (DuckDB multiplies DECIMALs exactly, checking overflow)."""
        for x, y in ((a, b), (b, a)):
            factor = constant_of(y)
            if factor is not None and places(factor) <= 10:
                product = exp.Mul(this=exp.cast(x, NUMERIC), expression=narrow(factor))
                if places(factor) > 0:
                    product = fn("ROUND", product, exp.Literal.number(10))
                # The narrow product's type holds 10^18 and more: the cast keeps the range
                # error (E611) a DECIMAL(38,20) product raised by overflowing.
                return exp.cast(exp.cast(product, BOUNDED), NUMERIC)
        product = exp.Mul(this=exp.cast(a, NUMERIC), expression=exp.cast(b, NUMERIC))
        return exp.cast(fn("ROUND", product, exp.Literal.number(10)), NUMERIC)

    @staticmethod
    def _div(a: exp.Expression, b: exp.Expression) -> exp.Expression:
        """Exact a / b rounded half away from zero to 10 places, on 128-bit integers."""
        divisor = constant_of(b)
        if divisor is not None and divisor != 0 and places(divisor) <= 10:
            return _div_by_constant(a, divisor)
        if divisor == 0:  # no division written at all: PostgreSQL would fold a constant
            # DIV(…, 0) while planning and raise its own error, whichever branch runs
            return case((exp.EQ(this=exp.cast(b, NUMERIC), expression=number(0)),
                         fail("E610", "division by zero")),
                        otherwise=exp.cast(exp.Null(), NUMERIC))
        scaled_a = exp.cast(exp.Mul(this=exp.cast(a, NUMERIC),
                                    expression=exp.Literal.number(str(SCALE))), HUGEINT)
        scaled_b = exp.cast(exp.Mul(this=exp.cast(b, NUMERIC),
                                    expression=exp.Literal.number(str(SCALE))), HUGEINT)
        numerator = fn("ABS", exp.Mul(this=scaled_a, expression=integer(SCALE)))
        denominator = fn("ABS", scaled_b)
        quotient = exp.IntDiv(this=numerator, expression=denominator)
        remainder = exp.Mod(this=numerator, expression=denominator)
        rounded = exp.Add(this=quotient, expression=case(
            (exp.GTE(this=exp.Mul(this=integer(2), expression=remainder),
                     expression=denominator), integer(1)), otherwise=integer(0)))
        signed = exp.Mul(this=exp.Mul(this=fn("SIGN", scaled_a), expression=fn("SIGN", scaled_b)),
                         expression=paren(rounded))
        return quotient_of_count(signed, exp.EQ(this=exp.cast(b, NUMERIC),
                                                expression=number(0)))

    def _temporal(self, e: ir.Arith) -> exp.Expression:
        from policylang.emit.sql_temporal import temporal_arith

        return temporal_arith(e, self.expr(e.left), self.expr(e.right), self.shared)

    def visit_Compare(self, e: ir.Compare) -> exp.Expression:
        return self._compare(e.op, e.left, e.right)

    def _compare(self, op: str, left: ir.Expr, right: ir.Expr) -> exp.Expression:
        from policylang.emit.sql_temporal import compare

        a, b = self.expr(left), self.expr(right)
        if left.type.kind is ir.Kind.DURATION:  # the family test reads both sides again
            a, b = self.shared(a, left), self.shared(b, right)
        return compare(op, a, b, left.type)

    # `and` / `or` evaluate their left side first and the right only if needed: a CASE
    # where either side may fail. DuckDB's optimizer folds `x OR TRUE` to TRUE and `x AND
    # FALSE` to FALSE, dropping x and the error it raises (`(d < 3 years) or 2017-07-26 <
    # 2023-02-28` decided a case of 257 days), and may test the cheap side first.
    def visit_And(self, e: ir.And) -> exp.Expression:
        a, b = self.expr(e.left), self.expr(e.right)
        if may_fail(e.right) or may_fail(e.left):
            return case((a, b), otherwise=exp.false())
        return paren(exp.And(this=a, expression=b))

    def visit_Or(self, e: ir.Or) -> exp.Expression:
        a, b = self.expr(e.left), self.expr(e.right)
        if may_fail(e.right) or may_fail(e.left):
            return case((a, exp.true()), otherwise=b)
        return paren(exp.Or(this=a, expression=b))

    def visit_Not(self, e: ir.Not) -> exp.Expression:
        return exp.Not(this=paren(self.expr(e.operand)))

    def visit_InSet(self, e: ir.InSet) -> exp.Expression:
        if e.operand.type.kind is ir.Kind.DURATION:
            # Each test may fail (days against months): one CASE branch per item, so an
            # item is compared only while no earlier one matched, as in the interpreter
            # (DuckDB evaluates both sides of an OR).
            found = case(*[(self._compare("==", e.operand, item), exp.true())
                           for item in e.items], otherwise=exp.false())
        elif any(may_fail(item) for item in e.items[1:]):
            # `n in {0, 1 / n}` holds for n = 0: DuckDB's IN evaluates every item first.
            value = paren(self.shared(self.expr(e.operand), e.operand))
            found = case(*[(exp.EQ(this=value, expression=paren(self.expr(item))), exp.true())
                           for item in e.items], otherwise=exp.false())
        else:
            # In parentheses: `NOT x IN (…)` is NOT (x IN (…)), and `(not b) in {…}` was
            # read so (a rule held where the interpreter failed it).
            found = exp.In(this=paren(self.expr(e.operand)),
                           expressions=[self.expr(item) for item in e.items])
        return exp.Not(this=paren(found)) if e.negated else found

    def visit_If(self, e: ir.If) -> exp.Expression:
        return case((self.expr(e.cond), self.expr(e.then)), otherwise=self.expr(e.otherwise))

    def visit_Call(self, e: ir.Call) -> exp.Expression:
        from policylang.emit.sql_temporal import call

        return call(e, [self.expr(a) for a in e.args], self)


_QueryBuilder = QueryBuilder  # the name the Spark builder subclasses


def quotient_of_count(count: exp.Expression, divisor_is_zero: exp.Expression
                      ) -> exp.Expression:
    """A quotient computed as a whole `count` of 10^-10, as DECIMAL(38,10); E610 (division
    by zero) where `divisor_is_zero` holds."""
    value = exp.cast(exp.Mul(this=exp.cast(count, NUMERIC),
                             expression=exp.cast(exp.Literal.number("0.0000000001"),
                                                 NUMERIC)), NUMERIC)
    return case((divisor_is_zero, fail("E610", "division by zero")), otherwise=value)


def _div_by_constant(a: exp.Expression, divisor: Decimal) -> exp.Expression:
    """a / d for a nonzero constant d (d·10^10 = P, an integer): no zero test, and one
    integer division, half up on the magnitude: ⌊(2·|A|·10^10 + |P|) / (2·|P|)⌋ with
    A = a·10^10, numerator and denominator divided by their common factor. An integer
    numerator (`CAST(n AS INT)`, e.g. a duration's months) is scaled without a DECIMAL."""
    p = int(abs(divisor) * SCALE)
    if isinstance(a, exp.Cast) and a.to.this in (exp.DataType.Type.INT,
                                                 exp.DataType.Type.BIGINT):
        magnitude_, factor = exp.cast(a.this, HUGEINT), 2 * SCALE * SCALE
    else:
        magnitude_ = exp.cast(exp.Mul(this=exp.cast(a, NUMERIC),
                                      expression=exp.Literal.number(str(SCALE))), HUGEINT)
        factor = 2 * SCALE
    common = math.gcd(factor, p)
    rounded = exp.IntDiv(this=paren(exp.Add(
        this=exp.Mul(this=fn("ABS", magnitude_), expression=integer(factor // common)),
        expression=integer(p // common))), expression=integer(2 * p // common))
    signed = exp.Mul(this=fn("SIGN", magnitude_), expression=paren(rounded))
    if divisor < 0:
        signed = exp.Neg(this=paren(signed))
    value = exp.Mul(this=exp.cast(signed, exp.DataType.build("DECIMAL(38,0)")),
                    expression=narrow(Decimal("0.0000000001")))
    return exp.cast(exp.cast(value, BOUNDED), NUMERIC)  # |x| ≥ 10^18: out of range (E611)
