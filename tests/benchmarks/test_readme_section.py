"""The README's copy of the benchmark results: tables stay apart, each with its caption."""

from benchmarks.readme_section import section

RESULTS = """Run 2026-12-01 (full mode) with `./benchmarks/run.sh`.

## 1. Cache hits: a preview

What the scenario does.

| server | rps |
|---|---|
| a | 1 |

Event-loop lag, p99 over each run: how late a loop ran. More words.

| server | lag |
|---|---|
| a | under 2 ms |

![plot.png](plot.png)
"""


def test_two_tables_stay_two_and_the_second_keeps_its_caption():
    lines = section(RESULTS).splitlines()
    first, second = lines.index("| server | rps |"), lines.index("| server | lag |")
    assert lines[first - 1] == "" and lines[second - 1] == ""  # Markdown needs the blank line
    assert lines[second - 2] == "_Event-loop lag, p99 over each run:_"
    assert "What the scenario does." not in lines  # the first table needs no caption
    assert "![plot.png](benchmarks/results/plot.png)" in lines
