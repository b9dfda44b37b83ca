"""Print the README's settings table (Markdown) from proxy.settings.SETTINGS.

.venv/bin/python scripts/settings_table.py            # print the table
.venv/bin/python scripts/settings_table.py README.md  # exit 1 if README.md lacks it verbatim
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from proxy.settings import SETTINGS


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def settings_table() -> str:
    lines = ["| variable | default | accepted form | meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = f"`{s.default}`" if s.default else "(empty)"
        meaning = s.help + (" (secret: masked in `where`)" if s.secret else "")
        lines.append(f"| `{s.name}` | {default} | {_cell(s.form)} | {_cell(meaning)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    table = settings_table()
    if not argv:
        sys.stdout.write(table)
        return 0
    readme = Path(argv[0]).read_text(encoding="utf-8")
    if table not in readme:
        print(
            f"{argv[0]}: the settings table is out of date; regenerate it with "
            "python scripts/settings_table.py",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
