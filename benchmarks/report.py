"""results.md, results.json and the PNG plots (matplotlib, headless)."""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from benchmarks.harness import RESULTS, Section

PALETTE = ["#2b6cb0", "#718096", "#dd6b20", "#38a169", "#805ad5", "#e53e3e"]
# The same server keeps its colour in every plot.
COLOURS = {
    "proxy": "#2b6cb0",
    "nginx static": "#4a5568",
    "nginx": "#a0aec0",
    "thumbor": "#38a169",
    "pyvips": "#dd6b20",
}


def colour(name: str, i: int) -> str:
    low = name.lower()
    for key, value in COLOURS.items():
        if low.startswith(key):
            return value
    return PALETTE[i % len(PALETTE)]


def fmt(value: float, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def ratio(a: float, b: float) -> str:
    if not a or not b or math.isnan(a) or math.isnan(b):
        return "-"
    return f"{a / b:.2f}x"


def grouped_bars(
    filename: str,
    title: str,
    groups: list[str],
    series: dict[str, list[float]],
    ylabel: str,
    log: bool = False,
) -> str:
    """A grouped bar chart: one group per x label, one bar per series. Returns the file name."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(max(7.5, 1.6 * len(groups) + 4), 4.2), dpi=110)
    n = max(1, len(series))
    width = 0.8 / n
    for i, (name, values) in enumerate(series.items()):
        xs = [g + (i - (n - 1) / 2) * width for g in range(len(groups))]
        vals = [0 if (v is None or math.isnan(v)) else v for v in values]
        bars = ax.bar(xs, vals, width, label=name, color=colour(name, i))
        for bar, v in zip(bars, values, strict=False):
            if v is not None and not math.isnan(v) and v > 0:
                ax.annotate(
                    fmt(v, 1 if v < 100 else 0),
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if log:
        ax.set_yscale("log")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(RESULTS / filename)
    plt.close(fig)
    return filename


def table_md(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def previous_sections(rerun: set[str]) -> dict[str, tuple[str, dict]]:
    """The last results' sections for scenarios this run does not measure again, by key:
    (markdown, results.json entry). A run of some scenarios (--only) keeps the others."""
    md_path, json_path = RESULTS / "results.md", RESULTS / "results.json"
    if not md_path.exists() or not json_path.exists():
        return {}
    old = json.loads(json_path.read_text())
    blocks = {
        part.splitlines()[0][3:]: part.rstrip() + "\n"
        for part in re.split(r"\n(?=## )", md_path.read_text())
        if part.startswith("## ")
    }
    kept = {}
    for key, entry in old.get("scenarios", {}).items():
        block = blocks.get(entry["title"])
        if key in rerun or block is None:
            continue
        if "_Kept from the run of" not in block:
            block += (
                f"\n_Kept from the run of {old['meta']['when']} (`{old['meta']['command']}`)._\n"
            )
        kept[key] = (block, entry)
    return kept


def write(
    sections: list[Section],
    machine: dict,
    versions: dict,
    settings: dict,
    meta: dict,
    order: list[str] | None = None,
) -> Path:
    """`order`: every scenario key in report order; sections of the last run that this run
    did not measure again are kept in their place (see previous_sections)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Benchmarks: the proxy side by side with nginx, thumbor and raw libvips",
        "",
        f"Run {meta['when']} ({meta['mode']} mode, {meta['seconds']:.0f} s) with "
        f"`{meta['command']}`. Everything runs on this one machine over loopback, the load "
        "generators included, so absolute numbers are low and noisy; the ratios are what to read.",
        "",
        "## Machine",
        "",
        table_md(["", ""], [[k, str(v)] for k, v in machine.items()]),
        "",
        "## Versions",
        "",
        table_md(["", ""], [[k, str(v)] for k, v in versions.items()]),
        "",
        "## Proxy settings",
        "",
        "Every proxy instance reads an env file under `benchmarks/work/` with these values "
        "(others at their defaults):",
        "",
        table_md(["setting", "value"], [[k, f"`{v}`"] for k, v in settings.items()]),
        "",
    ]
    if meta.get("notes"):
        lines += ["## Notes", ""] + [f"- {n}" for n in meta["notes"]] + [""]
    kept = previous_sections({sec.key for sec in sections}) if order else {}
    fresh = {sec.key: sec for sec in sections}
    scenarios = {}
    for key in order or list(fresh):
        if key in kept:
            block, entry = kept[key]
            lines += [block]
            scenarios[key] = entry
            continue
        if key not in fresh:
            continue
        sec = fresh[key]
        scenarios[key] = {
            "title": sec.title,
            "skipped": sec.skipped,
            "notes": sec.notes,
            "data": sec.data,
        }
        lines += [f"## {sec.title}", ""]
        if sec.intro:
            lines += [sec.intro, ""]
        if sec.skipped:
            lines += [f"**Skipped:** {sec.skipped}", ""]
        for caption, headers, rows in sec.tables:
            if caption:
                lines += [caption, ""]
            lines += [table_md(headers, rows), ""]
        for plot in sec.plots:
            lines += [f"![{plot}]({plot})", ""]
        for note in sec.notes:
            lines += [f"- {note}"]
        if sec.notes:
            lines += [""]
        lines += [f"_Scenario time: {sec.seconds:.0f} s._", ""]
    md = RESULTS / "results.md"
    md.write_text("\n".join(lines))
    raw = {
        "meta": meta,
        "machine": machine,
        "versions": versions,
        "settings": settings,
        "scenarios": scenarios,
        "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (RESULTS / "results.json").write_text(json.dumps(raw, indent=2, default=str))
    return md
