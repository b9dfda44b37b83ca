"""Every compose file, with every profile and each config/*.env as .env, as a real Docker
Compose v2 resolves it (`docker compose config`), and what the resolved project promises."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from proxy.settings import parse_settings
from tests import compose
from tests.dockerfile import healthcheck_command, read_dockerfile

ENV_FILES = sorted(compose.CONFIG.glob("*.env"))
FILE_SETS = compose.file_sets()


def _label(files: tuple[str, ...]) -> str:
    return "+".join(files) or "default"


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One project copy per env file (and one with no .env at all)."""
    root = tmp_path_factory.mktemp("compose")
    made = {"(no .env)": compose.project(root / "none", None)}
    for env_file in ENV_FILES:
        made[env_file.name] = compose.project(root / env_file.stem, env_file)
    return made


def test_compose_is_a_real_compose_v2() -> None:
    done = subprocess.run([str(compose.BINARY), "version"], capture_output=True, text=True)
    assert done.returncode == 0
    assert re.match(r"Docker Compose version v2\.\d+", done.stdout), done.stdout


def test_the_default_files_are_there() -> None:
    names = [path.name for path in compose.compose_files()]
    assert set(compose.DEFAULT_FILES) <= set(names)


@pytest.mark.parametrize("files", FILE_SETS, ids=_label)
def test_every_file_profile_and_env_file_resolves_without_warnings(
    files: tuple[str, ...], projects: dict[str, Path]
) -> None:
    for env_name, folder in projects.items():
        every = compose.profiles(folder, files)
        # No profile, each profile alone, and all of them at once.
        for chosen in [(), *[(p,) for p in every], tuple(every)]:
            project = compose.model(folder, files, chosen)
            _check_proxies(project, env_name, folder)


def _proxies(project: dict[str, Any], folder: Path) -> dict[str, dict[str, Any]]:
    """The services that run the proxy's image (one, or a node each in a cluster)."""
    return {
        name: service
        for name, service in project["services"].items()
        if str(service.get("image", "")).startswith("preview-proxy")
        or (service.get("build") or {}).get("context") == str(folder)
    }


def _check_proxies(project: dict[str, Any], env_name: str, folder: Path) -> None:
    proxies = _proxies(project, folder)
    assert proxies, f"{env_name}: no proxy service"
    runtime = read_dockerfile()[-1]
    for name, service in proxies.items():
        env = {k: str(v) for k, v in (service.get("environment") or {}).items()}
        # Inside the container; the settings must parse as the proxy would parse them there.
        assert env.get("DATA_PATH") == "/data", f"{env_name}: {name}"
        settings = parse_settings({**env, "DATA_PATH": str(folder / "data")})
        if "healthcheck" in service:
            assert service["healthcheck"]["test"] == ["CMD", *healthcheck_command(runtime)]
        grace = service.get("stop_grace_period")
        if grace is not None:
            assert _seconds(grace) > settings.shutdown_timeout, f"{env_name}: {name}"


def _seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)([smh])", value)
    assert match, value
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2)]


def test_a_bare_storage_endpoint_is_a_service_of_the_profile_the_env_file_names(
    projects: dict[str, Path],
) -> None:
    """minio.env's STORAGE_ENDPOINT=minio names a service: the one its `Use:` line enables."""
    for env_file in ENV_FILES:
        folder = projects[env_file.name]
        every = tuple(compose.profiles(folder))
        project = compose.model(folder, (), every)
        endpoint = project["services"]["proxy"].get("environment", {}).get("STORAGE_ENDPOINT", "")
        host = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}").hostname or ""
        if not host or "." in host or host == "localhost":
            continue
        assert host in project["services"], f"{env_file.name}: no service {host!r}"
        needed = project["services"][host].get("profiles") or []
        text = env_file.read_text(encoding="utf-8")
        for profile in needed:
            assert f"docker compose --profile {profile} up" in text, env_file.name


def test_minio_profile_makes_what_minio_env_needs(projects: dict[str, Path]) -> None:
    folder = projects["minio.env"]
    project = compose.model(folder, (), ("minio",))
    services = project["services"]
    assert {"proxy", "minio", "minio-setup"} <= set(services)
    # The proxy starts once the buckets and its user exist; without the profile it does not wait.
    waits = services["proxy"]["depends_on"]["minio-setup"]
    assert waits["condition"] == "service_completed_successfully"
    assert waits["required"] is False
    setup = services["minio-setup"]
    env = setup["environment"]
    for name in ("MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "STORAGE_ACCESS_KEY", "STORAGE_BUCKETS"):
        assert env.get(name), f"minio-setup gets no {name} from minio.env"
    script = setup["command"][0].replace("$$", "$")  # compose's escape, undone as compose does
    for shell in ("sh", "bash"):
        parsed = subprocess.run([shell, "-n", "-c", script], capture_output=True, text=True)
        assert parsed.returncode == 0, f"{shell}: {parsed.stderr}"
    assert setup["entrypoint"] == ["/bin/sh", "-euc"]
    assert services["minio"]["healthcheck"]["test"] == ["CMD", "mc", "ready", "local"]


def test_monitoring_profile_mounts_files_that_exist(projects: dict[str, Path]) -> None:
    folder = projects["local.env"]
    project = compose.model(folder, (), ("monitoring",))
    for name in ("prometheus", "grafana"):
        for volume in project["services"][name]["volumes"]:
            if volume["type"] == "bind":
                source = Path(volume["source"])
                assert source.exists(), f"{name}: {source} does not exist"
                assert source.is_relative_to(folder / "config"), source


def test_every_profile_the_docs_mention_exists(projects: dict[str, Path]) -> None:
    folder = projects["(no .env)"]
    declared = {p for files in FILE_SETS for p in compose.profiles(folder, files)}
    docs = [compose.ROOT / "README.md", *ENV_FILES, *compose.compose_files()]
    for doc in docs:
        for profile in re.findall(r"--profile ([a-z0-9_-]+)", doc.read_text(encoding="utf-8")):
            assert profile in declared, f"{doc.name} mentions a profile {profile!r} there is not"
