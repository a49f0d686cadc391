"""The benchmark's results as a Markdown table (for the README) and a PNG chart of
throughput against book size. Reads only the dict benchmarks/run.py produces."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

# (key, label, the limit it is compared with)
WHOLE_BOOK = [
    ("sql_eval", "policylang SQL on DuckDB, evaluation only",
     ("hand_sql_same_output_eval", "hand_sql_eval")),
    ("hand_sql_same_output_eval", "hand-written exact DuckDB query giving every column "
     "policylang's gives, evaluation only (limit)", "hand_sql_same_output_eval"),
    ("sql_eval_decisions", "policylang SQL on DuckDB, decision columns (no limit values), "
     "evaluation only", ("hand_sql_decisions_eval", "hand_sql_eval")),
    ("hand_sql_decisions_eval", "hand-written exact DuckDB query giving policylang's decision "
     "columns, evaluation only (limit)", "hand_sql_decisions_eval"),
    ("hand_sql_eval", "hand-written exact DuckDB query, outputs only in integer fen, "
     "evaluation only", "hand_sql_eval"),
    ("run_book_parquet_without_portfolio", "`run --book` Parquet → Parquet, per-case rules "
     "(the hand-written query's work)", ("hand_sql_same_output_parquet",
                                         "hand_sql_end_to_end_parquet")),
    ("run_book_parquet_decisions", "`run --book --no-limit-values` Parquet → Parquet",
     ("hand_sql_decisions_parquet", "hand_sql_end_to_end_parquet")),
    ("run_book_parquet", "`run --book` Parquet → Parquet, with the portfolio rules",
     ("hand_sql_same_output_parquet", "hand_sql_end_to_end_parquet")),
    ("hand_sql_same_output_parquet", "hand-written DuckDB writing `run --book`'s very file, "
     "Parquet → Parquet (limit)", "hand_sql_same_output_parquet"),
    ("hand_sql_decisions_parquet", "hand-written DuckDB writing `run --book "
     "--no-limit-values`'s very file, Parquet → Parquet (limit)", "hand_sql_decisions_parquet"),
    ("hand_sql_end_to_end_parquet", "hand-written DuckDB, outputs only in integer fen, "
     "Parquet → Parquet", "hand_sql_end_to_end_parquet"),
    ("run_book_csv_without_portfolio", "`run --book` CSV → Parquet, per-case rules "
     "(the hand-written query's work)", ("hand_sql_same_output_csv", "hand_sql_end_to_end_csv")),
    ("run_book_csv_decisions", "`run --book --no-limit-values` CSV → Parquet",
     ("hand_sql_decisions_csv", "hand_sql_end_to_end_csv")),
    ("run_book_csv", "`run --book` CSV → Parquet, with the portfolio rules",
     ("hand_sql_same_output_csv", "hand_sql_end_to_end_csv")),
    ("hand_sql_same_output_csv", "hand-written DuckDB writing `run --book`'s very file, "
     "CSV → Parquet (limit)", "hand_sql_same_output_csv"),
    ("hand_sql_decisions_csv", "hand-written DuckDB writing `run --book --no-limit-values`'s "
     "very file, CSV → Parquet (limit)", "hand_sql_decisions_csv"),
    ("hand_sql_end_to_end_csv", "hand-written DuckDB, outputs only in integer fen, "
     "CSV → Parquet", "hand_sql_end_to_end_csv"),
    ("openfisca_eval", "OpenFisca 46, evaluation only (float32)", None),
    ("openfisca_load_eval", "OpenFisca 46, load + evaluation (float32)", None),
]
PER_CASE = [
    ("python_module", "generated Python module (per case, from case JSON)", "hand_decimal"),
    ("python_module_eval", "generated Python module (per case, evaluation only)",
     "hand_decimal"),
    ("interpreter", "interpreter (per case, from case JSON)", "hand_decimal"),
    ("interpreter_eval", "interpreter (per case, evaluation only)", "hand_decimal"),
    ("hand_decimal", "hand-written `Decimal` function (limit, per case)", "hand_decimal"),
    ("cel", "cel-python 0.5 (per case, doubles)", None),
]


def _rate(entry: dict | None) -> float | None:
    return entry.get("cases_per_s") if isinstance(entry, dict) else None


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}×" if a and b else "—"


def _count(value: float | None) -> str:
    return f"{value:,.0f}" if value is not None else "—"


def _versus(rate: float | None, limit: str | tuple[str, ...] | None, entries: dict) -> str:
    """The ratio to the path's limit; `run --book` against the hand-written query that
    writes the same file, then (in brackets) against the one writing the outputs only in
    integer fen."""
    if limit is None:
        return "—"
    if isinstance(limit, str):
        return _ratio(rate, _rate(entries.get(limit)))
    same_file, outputs_only = (_ratio(rate, _rate(entries.get(key))) for key in limit)
    if same_file == "—":
        return f"{outputs_only} integer fen" if outputs_only != "—" else "—"
    return same_file + (f" ({outputs_only} integer fen)" if outputs_only != "—" else "")


def table(results: dict) -> str:
    out = []
    for policy in results["policies"]:
        sizes = list(policy["sizes"])
        largest = policy["sizes"][sizes[-1]]
        per_case = policy["per_case"]
        entries = {**largest, **per_case}
        openfisca = _rate(largest.get("openfisca_load_eval"))
        cel = _rate(per_case.get("cel"))
        out.append(f"**{policy['policy']}** ({policy['file']}), {int(sizes[-1]):,} cases; "
                   f"per-case paths on a sample of {per_case['sample']:,} "
                   f"(cel-python: {per_case.get('cel', {}).get('sample', '—')}):\n")
        out.append("| path | cases/s | vs its limit | vs OpenFisca load+eval | vs cel-python | "
                   "wrong outputs (sample / whole book) | peak MB |")
        out.append("|---|---:|---:|---:|---:|---:|---:|")
        for key, label, limit in WHOLE_BOOK + PER_CASE:
            entry = entries.get(key)
            if not isinstance(entry, dict):
                continue
            if "error" in entry:
                out.append(f"| {label} | not run: {entry['error'][:80]} | | | | | |")
                continue
            rate = _rate(entry)
            wrong = f"{_count(entry.get('wrong'))} / {_count(entry.get('wrong_full'))}"
            out.append(f"| {label} | {_count(rate)} | {_versus(rate, limit, entries)} | "
                       f"{_ratio(rate, openfisca)} | {_ratio(rate, cel)} | {wrong} | "
                       f"{_megabytes(entry.get('peak_mb'))} |")
        out.append("")
        if len(sizes) > 1 or "run_book_parquet_without_portfolio" in largest:
            out.append("| cases/s by book size | " + " | ".join(f"{int(s):,}" for s in sizes)
                       + " |")
            out.append("|---|" + "---:|" * len(sizes))
            for key, label, _ in WHOLE_BOOK:
                if key in largest and "error" not in largest[key]:
                    out.append(f"| {label} | " + " | ".join(
                        _count(_rate(policy["sizes"][s].get(key))) for s in sizes) + " |")
            if "run_book_parquet_without_portfolio" in largest:
                out.append("| portfolio cost: `run --book` time with ÷ without | " + " | ".join(
                    _ratio(_rate(policy["sizes"][s].get("run_book_parquet_without_portfolio")),
                           _rate(policy["sizes"][s].get("run_book_parquet"))) for s in sizes)
                    + " |")
            out.append("")
    out += goals(results)
    front = results["front_end"]
    out.append(f"Front end (parse + check): all {front['policies']} policies in `policies/` "
               f"({front['lines']:,} lines) in {front['every_policy_s'] * 1000:.0f} ms; a "
               f"generated 2,000-rule policy ({front['rules_2000_lines']:,} lines) in "
               f"{front['rules_2000_s'] * 1000:.0f} ms.")
    machine = results["versions"]
    out.append("")
    out.append("Measured on " + ", ".join(f"{k} {v}" for k, v in machine.items() if v) +
               f"; whole run {results['total_s']} s.")
    return "\n".join(out) + "\n"


# Issue 8's "Done when", as time ratios at the largest book (policylang ÷ the limit). Each
# goal is read three ways, as the reviewer has not yet said which is meant: against the
# hand-written query doing all of policylang's work (every column, the same file); the
# same with `--no-limit-values` on both sides (the decision columns alone, in DESIGN §5's
# types: money DECIMAL(18,2)); and policylang's decision columns against the outputs-only
# query in integer fen (BIGINT fen, a half-fen trick for 重庆's 50/50 split).
RATIO_GOALS = [
    ("SQL evaluation within 1.5× of the hand-written query",
     [("sql_eval", "hand_sql_same_output_eval", "all columns"),
      ("sql_eval_decisions", "hand_sql_decisions_eval", "decision columns"),
      ("sql_eval_decisions", "hand_sql_eval", "vs integer fen")]),
    ("`run --book` Parquet within 1.5× of the hand-written query end to end",
     [("run_book_parquet_without_portfolio", "hand_sql_same_output_parquet", "all columns"),
      ("run_book_parquet_decisions", "hand_sql_decisions_parquet", "decision columns"),
      ("run_book_parquet_decisions", "hand_sql_end_to_end_parquet", "vs integer fen")]),
    ("`run --book` CSV within 1.5× of the hand-written query end to end",
     [("run_book_csv_without_portfolio", "hand_sql_same_output_csv", "all columns"),
      ("run_book_csv_decisions", "hand_sql_decisions_csv", "decision columns"),
      ("run_book_csv_decisions", "hand_sql_end_to_end_csv", "vs integer fen")]),
]


def _megabytes(peak: float | None) -> str:
    """A peak as the sampler can see it: a per-case path decides one case at a time, and
    the resident set moves by less than the 0.1 MB it is rounded to."""
    return "—" if peak is None else "< 0.1" if peak < 0.1 else f"{peak:,.1f}"


def _seconds(entry: dict | None) -> float | None:
    return entry.get("seconds") if isinstance(entry, dict) and "error" not in entry else None


def _verdict(ok: bool | None, rounds: list[float] = (),
             meets: Callable[[float], bool] | None = None) -> str:
    """met or not met; "borderline" when some round's ratio (`rounds`, judged by `meets`)
    would have given the other verdict: that goal is within the machine's noise."""
    if ok is None:
        return "—"
    said = "met" if ok else "**not met**"
    if meets is not None and any(meets(ratio) != ok for ratio in rounds):
        said += " (borderline)"
    return said


def _round_ratios(ours: dict | None, limit: dict | None) -> list[float]:
    """ours' time ÷ the limit's in each round (the two were timed in turn in every round,
    so a drift between rounds cancels); empty where either lacks its runs."""
    runs = [entry.get("runs") if isinstance(entry, dict) else None for entry in (ours, limit)]
    if not runs[0] or not runs[1] or len(runs[0]) != len(runs[1]):
        return []
    return [a / b for a, b in zip(*runs, strict=True) if b]


def _spread(ratios: list[float]) -> str:
    return f" (rounds {min(ratios):.2f}–{max(ratios):.2f})" if len(ratios) > 1 else ""


# Issue 8's reference figures for per-case Python, from its own machine: the hand-written
# `Decimal` function ran about 285k cases/s there, and the interpreter is to reach 20k
# cases/s. Shared machines differ by 2-3x from day to day, so the absolute goal is also
# read as that share of the same function timed in the same run.
REFERENCE_HAND_DECIMAL = 285_000
REFERENCE_INTERPRETER_SHARE = 20_000 / REFERENCE_HAND_DECIMAL


def goals(results: dict) -> list[str]:
    """Issue 8's goals, measured in this run: one row per goal and policy."""
    rows = ["| goal (issue 8, largest book) | policy | measured | met? |", "|---|---|---|---|"]
    for policy in results["policies"]:
        name = policy["policy"]
        largest = policy["sizes"][list(policy["sizes"])[-1]]
        per_case = policy["per_case"]
        for label, readings in RATIO_GOALS:
            measured, verdicts = [], []
            for ours, limit, reading in readings:
                taken, limit_taken = _seconds(largest.get(ours)), _seconds(largest.get(limit))
                if taken is not None and limit_taken:
                    rounds = _round_ratios(largest.get(ours), largest.get(limit))
                    measured.append(f"{taken / limit_taken:.2f}× {reading}{_spread(rounds)}")
                    verdicts.append(_verdict(taken / limit_taken <= 1.5, rounds,
                                             lambda ratio: ratio <= 1.5))
            if measured:
                rows.append(f"| {label} | {name} | {'; '.join(measured)} | "
                            f"{' / '.join(verdicts)} |")
        sql, openfisca = _seconds(largest.get("sql_eval")), _seconds(
            largest.get("openfisca_load_eval"))
        if sql is not None and openfisca is not None:
            rows.append(f"| SQL evaluation faster than OpenFisca's load + evaluation | {name} "
                        f"| {openfisca / sql:.2f}× faster | {_verdict(sql < openfisca)} |")
        wrong = largest.get("sql_eval", {}).get("wrong_full")
        if wrong is not None:
            rows.append(f"| SQL evaluation: 0 wrong outputs (whole book) | {name} | {wrong:,} "
                        f"| {_verdict(wrong == 0)} |")
        module, interpreter, hand = (_rate(per_case.get(k)) for k in (
            "python_module_eval", "interpreter_eval", "hand_decimal"))
        # Speed ratios, round by round: the limit's time ÷ the module's.
        if module and hand:
            rounds = [1 / r for r in _round_ratios(per_case.get("python_module_eval"),
                                                   per_case.get("hand_decimal"))]
            rows.append(f"| module at least half as fast as the hand-written `Decimal` "
                        f"function | {name} | {module / hand:.2f}×{_spread(rounds)} | "
                        f"{_verdict(module / hand >= 0.5, rounds, lambda r: r >= 0.5)} |")
        if module and interpreter:
            rounds = [1 / r for r in _round_ratios(per_case.get("python_module_eval"),
                                                   per_case.get("interpreter_eval"))]
            rows.append(f"| module at least 5× the interpreter (evaluating) | {name} | "
                        f"{module / interpreter:.2f}×{_spread(rounds)} | "
                        f"{_verdict(module / interpreter >= 5, rounds, lambda r: r >= 5)} |")
        if interpreter:
            measured, verdicts = f"{interpreter:,.0f}", [_verdict(interpreter >= 20_000)]
            if hand:
                measured += (f"; {interpreter / hand:.1%} of the hand-written function "
                             f"(goal {REFERENCE_INTERPRETER_SHARE:.1%})")
                verdicts.append(_verdict(interpreter / hand >= REFERENCE_INTERPRETER_SHARE))
            rows.append(f"| interpreter at least 20k cases/s (evaluating) | {name} | "
                        f"{measured} | {' / '.join(verdicts)} |")
    total = results.get("total_s")
    if total is not None:
        rows.append(f"| this whole benchmark run within 10 minutes | all | {total:.0f} s | "
                    f"{_verdict(total <= 600)} |")
    return ["Each ratio goal has three verdicts: against the hand-written query doing all "
            "of `run --book`'s work (every column: the very file); the same with "
            "`--no-limit-values` on both sides (the decision columns alone, money as "
            "DECIMAL(18,2)); and policylang's decision columns against the outputs-only "
            "query computing in integer fen. For the interpreter's cases/s, the first "
            "verdict is the absolute figure and the second the same goal on any machine: "
            "20k cases/s is "
            f"{REFERENCE_INTERPRETER_SHARE:.1%} of the hand-written `Decimal` function's "
            f"{REFERENCE_HAND_DECIMAL:,} cases/s on the issue's reference machine, and the "
            "interpreter is held to that share of the same function timed in this run. "
            "In brackets, the least and the greatest ratio of single rounds (each round "
            "times every path once, in turn); \"borderline\" marks a verdict that some "
            "round would have reversed, which is this machine's noise deciding it.",
            "", *rows, ""]


def chart(results: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    policies = results["policies"]
    figure, axes = pyplot.subplots(len(policies), 1, figsize=(11, 4.6 * len(policies)),
                                   dpi=100, squeeze=False)
    for axis, policy in zip(axes[:, 0], policies, strict=True):
        sizes = [int(s) for s in policy["sizes"]]
        # More lines than the default colour cycle has colours: one of tab20's each, and a
        # marker per kind (a limit is a square, a peer a triangle).
        palette = pyplot.get_cmap("tab20")
        for index, (key, label, _) in enumerate(WHOLE_BOOK):
            rates = [_rate(policy["sizes"][str(s)].get(key)) for s in sizes]
            if all(rates):
                marker = "s" if key.startswith("hand_") else "^" if "openfisca" in key else "o"
                axis.plot(sizes, rates, marker=marker, color=palette(index % 20),
                          label=label.replace("`", ""))
        for (key, label, _), color in zip(PER_CASE, ("tab:blue", "tab:cyan", "tab:red",
                                                     "tab:orange", "black", "tab:purple"),
                                          strict=True):
            rate = _rate(policy["per_case"].get(key))
            if rate:  # per-case paths run on a sample: the same rate at every size
                axis.axhline(rate, linestyle="--", linewidth=1, color=color,
                             label=label.replace("`", ""))
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("book size (cases)")
        axis.set_ylabel("cases per second")
        axis.set_title(policy["policy"])
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    temporary = path.with_name(f".{path.name}.tmp.png")
    figure.savefig(temporary)
    pyplot.close(figure)
    temporary.replace(path)
    return path


def update_readme(readme: Path, table_text: str, start: str, end: str) -> None:
    """Replace the text between the markers (README.md's "Benchmarks" section)."""
    text = readme.read_text(encoding="utf-8")
    if start not in text or end not in text:
        raise SystemExit(f"{readme}: no {start} … {end} markers; add them to the Benchmarks "
                         "section")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{start}\n{table_text}{end}{tail}", encoding="utf-8")
