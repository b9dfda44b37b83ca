"""Copy the latest tables and plots from benchmarks/results/results.md into README.md.

Run after ./benchmarks/run.sh: `.venv/bin/python -m benchmarks.readme_section`. The README
section sits between the two markers below, so nothing else in the README is touched.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "results.md"
README = ROOT / "README.md"
START = "<!-- benchmark results: start -->"
END = "<!-- benchmark results: end -->"


def section(results: str) -> str:
    run_line = next(line for line in results.splitlines() if line.startswith("Run "))
    out = [f"_{run_line}_", ""]
    for part in re.split(r"\n(?=## )", results):
        title = part.splitlines()[0]
        if not re.match(r"## \d+[a-z]?\.", title):
            continue
        lines = part.splitlines()
        out += [f"#### {title[3:]}", ""]
        out += _tables(lines)
        for line in lines:
            if line.startswith(("- **PASS**", "- **FAIL**", "_Kept from the run of")):
                out += [line, ""]
        for alt, name in re.findall(r"!\[([^\]]+)\]\(([^)]+)\)", part):
            out.append(f"![{alt}](benchmarks/results/{name})")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _tables(lines: list[str]) -> list[str]:
    """Every table, each after a blank line (two tables run together are one to Markdown);
    a table after the first is headed by the first sentence of its caption."""
    out: list[str] = []
    caption, tables = "", 0
    for i, line in enumerate(lines):
        if not line.startswith("|"):
            if line.strip():
                caption = line
            continue
        if i == 0 or not lines[i - 1].startswith("|"):  # a table starts
            if tables and caption:
                first = re.split(r"(?<=[.:])\s", caption, maxsplit=1)[0].rstrip(":.")
                out += [f"_{first}:_", ""]
            tables += 1
        out.append(line)
        if i + 1 == len(lines) or not lines[i + 1].startswith("|"):
            out.append("")
    return out


def main() -> int:
    readme = README.read_text(encoding="utf-8")
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    if not rest:
        raise SystemExit(f"README.md has no {START!r} marker")
    body = section(RESULTS.read_text(encoding="utf-8"))
    README.write_text(f"{head}{START}\n{body}{END}{tail}", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
