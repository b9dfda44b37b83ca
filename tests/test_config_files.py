"""The shipped configuration means what it says: config/*.env, the compose files, the Grafana
dashboard and the README's settings table all agree with proxy.settings and proxy.metrics."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client import Counter, Gauge, Histogram

from proxy import metrics
from proxy.settings import SETTINGS, Settings, parse_settings, read_env_file
from proxy.settings.catalog import BY_NAME

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config"
BUCKETS = ("abc-public", "abc-private")
GIB = 1024**3
HOUR, DAY = 3600, 86400

# What each env file must configure: provider, endpoint, port, and which credential it uses.
ENV_FILES = {
    "local.env": {"provider": "http", "endpoint": "", "port": None, "auth": None},
    "aws-s3.env": {
        "provider": "minio",
        "endpoint": "s3.eu-central-1.amazonaws.com",
        "port": 443,
        "auth": "keys",
    },
    "aws-s3-iam-role.env": {
        "provider": "minio",
        "endpoint": "s3.eu-central-1.amazonaws.com",
        "port": 443,
        "auth": "iam",
    },
    "minio.env": {"provider": "minio", "endpoint": "minio", "port": 9000, "auth": "keys"},
    "azure.env": {
        "provider": "azure",
        "endpoint": "https://myaccount.blob.core.windows.net",
        "port": None,
        "auth": "keys",
    },
}


# Variables an env file may set for another service of the compose project (with a profile),
# which the proxy ignores.
FOR_OTHER_SERVICES = {"minio.env": {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"}}
OTHER_SECRETS = {"MINIO_ROOT_PASSWORD"}


def _parse(env: dict[str, str], data_path: Path) -> Settings:
    # DATA_PATH points at a temporary folder so nothing is created in the tree or at /data.
    return parse_settings({**env, "DATA_PATH": str(data_path)})


def _assert_default_caches(settings: Settings) -> None:
    caches = settings.caches
    assert (caches["storage"].size, caches["storage"].expires) == (10 * GIB, 7 * DAY)
    assert (caches["previews"].size, caches["previews"].expires) == (1 * GIB, 12 * HOUR)
    assert (caches["image_converter"].size, caches["image_converter"].expires) == (
        10 * GIB,
        7 * DAY,
    )


def test_every_env_file_in_config_is_checked() -> None:
    assert sorted(p.name for p in CONFIG.glob("*.env")) == sorted(ENV_FILES)


@pytest.mark.parametrize("name", sorted(ENV_FILES))
def test_env_file_parses_and_means_what_it_says(name: str, tmp_path: Path) -> None:
    env = read_env_file(CONFIG / name)
    unknown = set(env) - set(BY_NAME) - FOR_OTHER_SERVICES.get(name, set())
    assert not unknown, f"{name} sets variables the proxy does not know: {unknown}"

    settings = _parse(env, tmp_path)  # raises SettingsError naming any bad value
    expected = ENV_FILES[name]
    storage = settings.storage
    assert storage.provider == expected["provider"]
    assert storage.buckets == BUCKETS
    assert storage.endpoint == expected["endpoint"]
    assert storage.port == expected["port"]
    if expected["auth"] == "keys":
        assert storage.access_key and storage.secret_key and not storage.iam_role
    elif expected["auth"] == "iam":
        assert storage.iam_role and not storage.access_key and not storage.secret_key
    else:
        assert not (storage.access_key or storage.secret_key or storage.iam_role)
    _assert_default_caches(settings)


@pytest.mark.parametrize("name", sorted(ENV_FILES))
def test_env_files_hold_placeholders_not_secrets(name: str) -> None:
    env = read_env_file(CONFIG / name)
    secrets = {s.name for s in SETTINGS if s.secret} | OTHER_SECRETS
    for variable in secrets:
        if env.get(variable):
            assert env[variable].startswith("REPLACE_WITH_"), (
                f"{name}: {variable} must be a placeholder, never a real secret"
            )


def test_azure_env_names_one_account() -> None:
    env = read_env_file(CONFIG / "azure.env")
    assert env["STORAGE_ENDPOINT"] == f"https://{env['STORAGE_ACCESS_KEY']}.blob.core.windows.net"


def _compose(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "environment: must be a map, not a list"
    # Compose passes every value as a string; YAML may have read a bare 443 as a number.
    return {k: str(v) for k, v in env.items()}


def test_compose_service(tmp_path: Path) -> None:
    proxy = _compose("docker-compose.yml")["services"]["proxy"]
    assert proxy["build"] == "."
    assert proxy["image"]
    assert proxy["ports"] == ["8080:8080"]
    assert proxy["env_file"] == [{"path": ".env", "required": False}]
    assert proxy["restart"] in ("always", "unless-stopped")
    assert any(v.endswith(":/data") for v in proxy["volumes"])
    assert proxy["healthcheck"]["test"][:4] == ["CMD", "python", "-m", "proxy.healthcheck"]

    env = _environment(proxy)
    assert env["DATA_PATH"] == "/data"
    assert set(env) <= set(BY_NAME)
    settings = parse_settings(env)  # /data does not exist here: the local provider allows that
    assert settings.storage.provider == "http"

    # A stop must give in-flight requests all of SHUTDOWN_TIMEOUT before the SIGKILL.
    grace = proxy["stop_grace_period"]
    assert grace.endswith("s") and int(grace[:-1]) > settings.shutdown_timeout


def test_compose_override_has_the_design_cache_settings(tmp_path: Path) -> None:
    env = _environment(_compose("docker-compose.override.yml")["services"]["proxy"])
    # Exactly the block DESIGN.md shows, in the same order.
    assert env == {
        "CACHE_PREVIEWS_SIZE": "1g",
        "CACHE_PREVIEWS_EXPIRES": "12h",
        "CACHE_STORAGE_SIZE": "10g",
        "CACHE_STORAGE_EXPIRES": "7d",
        "CACHE_IMAGE_CONVERTER_SIZE": "10g",
        "CACHE_IMAGE_CONVERTER_EXPIRES": "7d",
    }
    assert list(env) == [
        "CACHE_PREVIEWS_SIZE",
        "CACHE_PREVIEWS_EXPIRES",
        "CACHE_STORAGE_SIZE",
        "CACHE_STORAGE_EXPIRES",
        "CACHE_IMAGE_CONVERTER_SIZE",
        "CACHE_IMAGE_CONVERTER_EXPIRES",
    ]
    _assert_default_caches(_parse(env, tmp_path))


def _commented_storage_examples() -> Iterator[tuple[str, dict[str, str]]]:
    """The override's commented storage blocks, each uncommented as a user would."""
    text = (ROOT / "docker-compose.override.yml").read_text(encoding="utf-8")
    title, block = "", {}
    for line in text.splitlines():
        stripped = line.strip()
        match = re.match(r"^# ([A-Z_]+): (.+)$", stripped)
        if match:
            block[match.group(1)] = yaml.safe_load(match.group(2))
        elif stripped.startswith("# ") and stripped.endswith(":") and not block:
            title = stripped[2:-1]
        elif block:
            yield title, block
            title, block = "", {}
    if block:
        yield title, block


def test_compose_override_storage_examples_parse(tmp_path: Path) -> None:
    examples = {t: b for t, b in _commented_storage_examples() if "STORAGE_PROVIDER" in b}
    assert len(examples) == 4, list(examples)
    providers = []
    for title, block in examples.items():
        # ${VAR} is filled in by compose from the shell or .env; any non-empty text will do here.
        env = {k: re.sub(r"\$\{\w+\}", "secret", str(v)) for k, v in block.items()}
        assert set(env) <= set(BY_NAME), title
        settings = _parse(env, tmp_path)
        assert settings.storage.buckets == BUCKETS, title
        providers.append(settings.storage.provider)
    assert sorted(providers) == ["azure", "minio", "minio", "minio"]


# --- Grafana dashboard ---------------------------------------------------------------------

DASHBOARD = CONFIG / "grafana" / "proxy-dashboard.json"
# Labels Prometheus adds (job, instance) or that histograms carry (le).
ADDED_LABELS = {"job", "instance", "le"}
# Series Prometheus itself makes for every target.
PROMETHEUS_SERIES = {"up"}
SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum")}


def _exported() -> dict[str, tuple[str, ...]]:
    """Every series name proxy/metrics.py exports, with its label names."""
    names: dict[str, tuple[str, ...]] = {}
    for value in vars(metrics).values():
        if not isinstance(value, (Counter, Gauge, Histogram)):
            continue
        for family in value.describe():
            for suffix in SUFFIXES[family.type]:
                names[family.name + suffix] = tuple(value._labelnames)
    return names


def _exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("expr", "definition") and isinstance(value, str):
                    exprs.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(dashboard)
    return exprs


def test_dashboard_names_only_exported_metrics() -> None:
    exported = _exported()
    used = set()
    for expr in _exprs():
        names = set(re.findall(r"\bproxy_[a-z0-9_]+", expr))
        own = {n for n in PROMETHEUS_SERIES if re.search(rf"\b{n}\{{", expr)}
        assert names or own, f"no proxy metric in {expr!r}"
        unknown = names - set(exported)
        assert not unknown, f"{expr!r} uses metrics that proxy/metrics.py does not export"
        labels = set(re.findall(r"\bby \(([^)]*)\)", expr))
        labels = {name.strip() for group in labels for name in group.split(",")}
        labels |= set(re.findall(r"[{,]\s*([a-z_]+)\s*!?=~?", expr))
        known = ADDED_LABELS.union(*(exported[n] for n in names))
        assert labels <= known, f"{expr!r} uses labels {labels - known} the metrics do not have"
        used |= names
    # Every metric family shows up somewhere.
    families = {re.sub(r"_(total|bucket|count|sum)$", "", n) for n in exported}
    missing = {f for f in families if not any(u.startswith(f) for u in used)}
    assert not missing, f"metrics without a dashboard panel: {missing}"


def test_every_panel_follows_the_job_and_node_variables() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["instance"]["label"] == "Node"
    assert "$job" in variables["instance"]["definition"]  # the nodes of the chosen jobs
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            for selector in re.findall(r"\{[^}]*\}", target["expr"]):
                if selector.startswith("{{"):
                    continue
                assert 'job=~"$job"' in selector and 'instance=~"$instance"' in selector, (
                    f"{panel['title']}: {selector} ignores the Job or Node variable"
                )
    titles = {p["title"] for p in dashboard["panels"]}
    assert {"Nodes", "Node up", "Request rate by node", "Latency p95 by node"} <= titles


def test_dashboard_is_importable_grafana_json() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["uid"] and dashboard["title"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["targets"] and panel["datasource"]["uid"] == "${datasource}"


# --- README settings table ------------------------------------------------------------------


def test_settings_table_lists_every_setting() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "settings_table.py")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [line for line in out.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == [s.name for s in SETTINGS]
    assert "| `CACHE_PREVIEWS_EXPIRES` | `12h` |" in out
    assert all(row.count(" | ") == 3 for row in rows), "a | inside a cell must be escaped"


def test_compose_override_access_example_parses(tmp_path: Path) -> None:
    (block,) = [b for _, b in _commented_storage_examples() if "SIGNATURE_KEY" in b]
    # compose fills ${VAR} from .env; hex serves the keys and is long enough for a token.
    env = {k: re.sub(r"\$\{\w+\}", "0123456789abcdef" * 2, str(v)) for k, v in block.items()}
    settings = _parse(env, tmp_path)
    assert settings.access.signature_scope == "all"
    assert settings.access.bearer_token
    assert settings.access.auth_request_url
