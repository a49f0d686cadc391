"""Seeded synthetic books for a policy: tests, benchmarks, and trying a policy on volume.

Every input column is drawn from a hash of (row, column, seed), not from a random-number
generator, so a book is the same on every machine and with any number of threads. Money
and percents take every step (a fen, a basis point) of their range, and half of them sit
at or one step beside a constant bound a limit compares them with, so that every limit
both holds and fails in a large book. A portfolio's ordering date is non-decreasing down
the book.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import duckdb

from policylang import ir
from policylang.diagnostics import PolicyError
from policylang.engine import connect, quote_identifier
from policylang.interpret import evaluate_constant
from policylang.outputs import check_writable

FORMATS = {".csv": "FORMAT csv, HEADER true", ".parquet": "FORMAT parquet"}
SEEDS = 2**32  # seeds are below this in size: DuckDB's 64-bit arithmetic holds the hashing


def write_book(policy: ir.Policy, rows: int, path: Path, seed: int = 1) -> Path:
    """A book of `rows` cases for the policy, written atomically as CSV or Parquet."""
    options = FORMATS.get(path.suffix.lower())
    if options is None:
        raise PolicyError.single("E607", f"{path}: a book is a .csv or .parquet file")
    if not -SEEDS < seed < SEEDS:  # it is added to 64-bit row hashes inside DuckDB
        raise PolicyError.single("E607", f"seed {seed}: a seed is a whole number from "
                                 f"{-SEEDS + 1} to {SEEDS - 1}")
    check_writable(path)
    connection = connect()
    columns = ["i + 1 AS loan_id"]
    for index, field in enumerate(policy.inputs):
        column = _column(policy, field, index, seed, rows)
        columns.append(f"{column} AS {quote_identifier(field.name)}")
    order = (f" ORDER BY {quote_identifier(policy.portfolio.order_by)}, loan_id"
             if policy.portfolio is not None else " ORDER BY loan_id")
    query = f"SELECT {', '.join(columns)} FROM range({int(rows)}) AS t(i){order}"
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    quoted = "'" + str(temporary).replace("'", "''") + "'"
    try:  # whole or not at all: a failed or interrupted COPY leaves nothing beside `path`
        connection.execute(f"COPY ({query}) TO {quoted} ({options})")
        temporary.replace(path)
    except (OSError, duckdb.IOException) as error:
        raise PolicyError.single("E613", f"{path}: cannot be written: {error}") from None
    finally:
        temporary.unlink(missing_ok=True)
    return path


def _pick(index: int, seed: int, count: int, salt: int = 0) -> str:
    return f"CAST({_hash(index, seed, salt)} % {count} AS INTEGER)"


def _hash(index: int, seed: int, salt: int) -> str:
    # One integer per (row, column, salt, seed), hashed alone and shifted: DuckDB's hash
    # of several values shares its low bits across columns.
    stream = (index * 64 + salt) * 1_000_003 + seed
    return f"(hash(i * 1000000007 + {stream}) >> 13)"


def _column(policy: ir.Policy, field: ir.Field, index: int, seed: int, rows: int) -> str:
    kind = field.type.kind
    match kind:
        case ir.Kind.MONEY | ir.Kind.PERCENT | ir.Kind.NUMBER:
            places, spread, step = {ir.Kind.MONEY: (2, Decimal(20_000_000), Decimal("0.01")),
                                    ir.Kind.PERCENT: (4, Decimal("0.2"), Decimal("0.0001")),
                                    ir.Kind.NUMBER: (2, Decimal(100), Decimal("0.01"))}[kind]
            edges = _edges(policy, field.name, step)
            # Every step from 0 to the spread equally likely, counted in whole steps (no
            # float): money carries its fen, so splits leave remainders to round.
            steps = int(spread / step) + 1
            free = (f"CAST(CAST({_hash(index, seed, 0)} % {steps} AS DECIMAL(18,0)) * {step} "
                    f"AS DECIMAL(18,{places}))")
            if not edges:
                return free
            listed = "[" + ", ".join(f"CAST('{e:f}' AS DECIMAL(18,{places}))"
                                     for e in edges) + "]"
            return (f"CASE WHEN {_pick(index, seed, 2, 1)} = 0 THEN {free} "
                    f"ELSE {listed}[{_pick(index, seed, len(edges), 2)} + 1] END")
        case ir.Kind.DURATION:
            if _in_days(policy, field):
                return f"CAST({_pick(index, seed, 31)} AS VARCHAR) || ' days'"
            return f"CAST({_pick(index, seed, 72)} + 1 AS VARCHAR) || ' months'"
        case ir.Kind.DATE:
            days = f"{_pick(index, seed, 365)}"
            if policy.portfolio is not None and policy.portfolio.order_by == field.name:
                days = f"CAST(floor(i * 365 / {max(rows, 1)}) AS INTEGER)"
            return f"DATE '2022-01-01' + {days}"
        case ir.Kind.BOOL:
            return f"{_pick(index, seed, 20)} < 17"  # mostly true: conditions hold more often
        case ir.Kind.ENUM:
            members = [m.name for m in policy.enum(field.type.enum).members]
            listed = "[" + ", ".join("'" + m.replace("'", "''") + "'" for m in members) + "]"
            return f"{listed}[{_pick(index, seed, len(members))} + 1]"
        case ir.Kind.ERROR:
            raise AssertionError("a checked policy has no ERROR-typed input")
    raise AssertionError(kind)


def _in_days(policy: ir.Policy, field: ir.Field) -> bool:
    """Whether a duration field counts days: its default does, or a limit compares it with
    a constant that does (days never compare with months, so months would only fail)."""
    bounds = [field.default] if field.default is not None else []
    for check in policy.checks:
        if isinstance(check, ir.Limit) and isinstance(check.subject, ir.InputRef) \
                and check.subject.name == field.name:
            try:
                bounds.append(evaluate_constant(check.bound))
            except Exception:  # noqa: BLE001 - a bound that needs inputs or params
                continue
    return any(getattr(b, "unit", None) == "day" and b.amount != 0 for b in bounds) or (
        bool(bounds) and all(getattr(b, "unit", None) == "day" for b in bounds))


def _edges(policy: ir.Policy, name: str, step: Decimal) -> list[Decimal]:
    """Values at and one step either side of every constant bound a limit sets on `name`."""
    edges: list[Decimal] = []
    for check in policy.checks:
        if isinstance(check, ir.Limit) and isinstance(check.subject, ir.InputRef) \
                and check.subject.name == name:
            try:
                bound = evaluate_constant(check.bound)
            except Exception:  # noqa: BLE001 - a bound that needs inputs or params
                continue
            edges += [bound - step, bound, bound + step]
    return [e for e in edges if e >= 0]
