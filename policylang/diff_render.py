"""Rendering a `diff.Diff`: text for the terminal, JSON (DESIGN.md §6), HTML for a browser.

Returns strings; the CLI prints them. Text groups the changes by the declaration keyword
with a one-line summary first (ANSI colours only when asked); the HTML report is one
self-contained page (jinja2 template `templates/diff.html.j2`, every text escaped) with
old and new side by side, both citations, and each witness as small tables. When
witnesses were asked for and none is given, all three say why (`Diff.search`).
"""

from __future__ import annotations

import json

from policylang.diff import Change, Diff, Witness, summary

_MARK = {"added": "+", "removed": "-", "changed": "~"}
_COLOUR = {"added": "\x1b[32m", "removed": "\x1b[31m", "changed": "\x1b[33m"}
_BOLD, _DIM, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"


def render_json(result: Diff) -> str:
    return json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n"


def groups(changes: tuple[Change, ...]) -> dict[str, list[Change]]:
    """Changes by declaration keyword (`limit`, `input`, …), in order of first appearance."""
    out: dict[str, list[Change]] = {}
    for change in changes:
        out.setdefault(change.keyword, []).append(change)
    return out


def citation(change: Change) -> str:
    if change.kind != "changed" or change.cite_old == change.cite_new:
        return change.cite_new or change.cite_old or ""
    if change.aspect == "cite":  # the change itself shows both
        return ""
    return f"{change.cite_old or '—'} → {change.cite_new or '—'}"


def render_text(result: Diff, color: bool = False) -> str:
    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    old, new = result.old, result.new
    lines = [paint(_BOLD, f"{old.name} ({old.meta.version or '?'}) → "
                          f"{new.name} ({new.meta.version or '?'})"),
             summary(result.changes)]
    for keyword, changes in groups(result.changes).items():
        lines += ["", paint(_BOLD, keyword)]
        for change in changes:
            where = " ".join(part for part in (change.name, change.aspect) if part)
            match change.effect:
                case "added":
                    body = f"{where}: {change.new}"
                case "removed":
                    body = f"{where}: {change.old}"
                case _:
                    body = f"{where}: {change.old} → {change.new}"
            cite = citation(change)
            lines.append("  " + paint(_COLOUR[change.effect], f"{_MARK[change.effect]} {body}")
                         + (paint(_DIM, f"  [{cite}]") if cite else ""))
    if result.witnesses:
        lines += ["", paint(_BOLD, f"witnesses ({len(result.witnesses)} confirmed by the "
                                   "interpreter)")]
        for number, witness in enumerate(result.witnesses, 1):
            lines.append(f"  {number}. for {witness.about}: " + "; ".join(
                (*witness.differences, *_alike(witness))))
            lines.append("     case: " + json.dumps(witness.case, ensure_ascii=False))
            if witness.case_old is not None:
                lines.append("     case (old version): "
                             + json.dumps(witness.case_old, ensure_ascii=False))
    if _without_witness(result):
        lines += ["", paint(_BOLD, f"no witness: {result.search.reason}")]
    for note in result.notes:
        lines.append(paint(_DIM, f"note: {note}"))
    return "\n".join(lines) + "\n"


def _alike(witness: Witness) -> tuple[str, ...]:
    """`eligible in both versions` (or not, and what fails in both), when that is not what
    differs: a limit that newly fails a borrower another rule turns away in both versions
    costs the borrower nothing."""
    if witness.old["eligible"] != witness.new["eligible"]:
        return ()
    if witness.new["eligible"]:
        return ("eligible in both versions",)
    failed = {f["rule"] for f in witness.old["failures"]}
    both = [f"{f['kind']} {f['rule']}" for f in witness.new["failures"] if f["rule"] in failed]
    return ("not eligible in either version"
            + (f" ({', '.join(both)} failing in both)" if both else ""),)


def _without_witness(result: Diff) -> bool:
    """Witnesses were asked for and there are none: the reader is owed the reason."""
    return not result.witnesses and result.search.status not in ("not_searched", "found")


def render_html(result: Diff) -> str:
    from importlib import resources

    import jinja2

    template = resources.files("policylang").joinpath("templates/diff.html.j2").read_text(
        encoding="utf-8")
    environment = jinja2.Environment(autoescape=True)
    return environment.from_string(template).render(
        diff=result, groups=groups(result.changes), summary=summary(result.changes),
        citation=citation, dumps=lambda value: json.dumps(value, ensure_ascii=False),
        without_witness=_without_witness(result))
