"""Every `# type: ignore` under proxy/ names its error code and says why, on the same line."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "proxy"
REASONED = re.compile(r"# type: ignore\[[a-z-]+(, [a-z-]+)*\]  # \S")


def test_every_type_ignore_has_a_code_and_a_reason() -> None:
    bare = [
        f"{path.relative_to(ROOT.parent)}:{number}"
        for path in sorted(ROOT.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "type: ignore" in line and not REASONED.search(line)
    ]
    assert bare == []
