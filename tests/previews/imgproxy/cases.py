"""cases.json, loaded once: the tables by name, and the sources they refer to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

_DATA: dict[str, Any] = json.loads((Path(__file__).parent / "cases.json").read_text())
SOURCES: dict[str, dict[str, Any]] = _DATA["SOURCES"]
TEST1_SVG: str = _DATA["SVG_SANITIZE"][1]["input"]
SANITISED_TEST1_SVG: str = _DATA["SVG_SANITIZE"][1]["expect"]


def table(name: str) -> list[dict[str, Any]]:
    return list(_DATA[name])


def params(*names: str, skip: dict[str, str] | None = None) -> list[Any]:
    """pytest params for the rows of these tables, ids `TABLE/name`; `skip`: by id, why."""
    skip = skip or {}
    out = []
    for name in names:
        for index, row in enumerate(_DATA[name]):
            case_id = f"{name}/{row.get('name') or row.get('path') or index}"
            marks = [pytest.mark.skip(reason=skip[case_id])] if case_id in skip else []
            out.append(pytest.param(row, id=case_id, marks=marks))
    return out
