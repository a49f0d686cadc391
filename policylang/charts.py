"""PNG charts of a book's portfolio rules over time (matplotlib, no display needed).

One chart per monitor (its running value per group, with the trigger bound) and per
budget (cumulative payout per group, with the cap). Values are exact decimals until the
moment they are drawn: plotting is the one place they become floats.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from policylang import ir


def write_charts(policy: ir.Policy, series: dict[str, dict[str, list[tuple]]],
                 params: dict[str, ir.Value], folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    from policylang.portfolio import book_value

    _use_a_cjk_font(matplotlib)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for rule in policy.portfolio.rules if policy.portfolio else ():
        name = f"{rule.kind}__{rule.name}"
        if name not in series:
            continue
        figure, axes = pyplot.subplots(figsize=(9, 4.5), dpi=100)
        for label, points in series[name].items():
            axes.step([p[0] for p in points], [float(p[1]) for p in points], where="post",
                      label=label)
        bound = book_value(rule.bound, {}, params)
        axes.axhline(float(bound), color="crimson", linestyle="--",
                     label=("cap" if rule.kind == "budget" else f"trigger {rule.op} bound"))
        axes.set_title(f"{rule.kind} {rule.name}" + (f"  ({rule.cite})" if rule.cite else ""))
        axes.set_xlabel(policy.portfolio.order_by)
        axes.set_ylabel("cumulative payout (yuan)" if rule.kind == "budget" else "value")
        axes.legend(loc="best", fontsize="small")
        figure.autofmt_xdate()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Glyph .* missing")
            figure.tight_layout()
        path = folder / f"{name}.png"
        temporary = path.with_name(f".{path.name}.tmp.png")
        with warnings.catch_warnings():  # no CJK font here: boxes, not a warning per glyph
            warnings.filterwarnings("ignore", message="Glyph .* missing")
            figure.savefig(temporary)
        pyplot.close(figure)
        temporary.replace(path)
        written.append(path)
    return written


def _use_a_cjk_font(matplotlib) -> None:
    """Chinese citations and group names need a CJK font; use one if the machine has one
    (e.g. Debian's fonts-noto-cjk), else matplotlib draws boxes for those characters."""
    from matplotlib import font_manager

    for font in font_manager.fontManager.ttflist:
        if any(mark in font.name for mark in ("CJK", "WenQuanYi", "Hei", "Song", "Ming")):
            matplotlib.rcParams["font.family"] = [font.name, "DejaVu Sans"]
            return
