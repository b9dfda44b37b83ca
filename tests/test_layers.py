"""Imports flow one way: entry points -> web -> composition root -> features -> jobs -> cache ->
storage -> base.

A module imports from its own layer or lower ones, never from a higher one, so no feature
knows the web layer, the cache knows no feature, and storage knows no cache.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "proxy"

# Highest first. A module's layer is that of the longest prefix that names it.
LAYERS = {
    "entry": (
        "proxy.server", "proxy.cli", "proxy.__main__", "proxy.jobs.child",
        "proxy.admin", "proxy.checks", "proxy.demo", "proxy.warm", "proxy.migrate",
        "proxy.healthcheck", "proxy.sign", "proxy.purge_nodes",
    ),
    "web": ("proxy.web",),
    # The web layer is handed what the composition root builds, so it knows its type.
    "root": ("proxy.services",),
    "features": (
        "proxy.previews", "proxy.converter", "proxy.info", "proxy.originals", "proxy.sources", "proxy.health",
        "proxy.access", "proxy.invalidation",
    ),
    "jobs": ("proxy.jobs",),
    "cache": ("proxy.cache",),
    "storage": ("proxy.storage",),
    "base": (
        "proxy.errors", "proxy.settings", "proxy.units", "proxy.formats", "proxy.sniff",
        "proxy.limits", "proxy.blob", "proxy.metrics", "proxy.metrics_export", "proxy.logs",
        "proxy.progress", "proxy",
    ),
}  # fmt: skip
ORDER = list(LAYERS)


def layer_of(module: str) -> str:
    best, length = "", -1
    for layer, prefixes in LAYERS.items():
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > length:
                best, length = layer, len(prefix)
    assert best, f"{module} is in no layer: add it to LAYERS"
    return best


def modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {name for name in names if name == "proxy" or name.startswith("proxy.")}


def test_imports_flow_one_way():
    wrong = []
    for module, path in modules().items():
        mine = ORDER.index(layer_of(module))
        for imported in imports_of(path):
            theirs = ORDER.index(layer_of(imported))
            if theirs < mine:
                wrong.append(f"{module} ({ORDER[mine]}) imports {imported} ({ORDER[theirs]})")
    assert wrong == []


def test_no_feature_imports_the_web_layer():
    for module, path in modules().items():
        if layer_of(module) not in ("web", "entry"):
            assert not any(i.startswith("proxy.web") for i in imports_of(path)), module
