import subprocess
import sys
from pathlib import Path

import pytest

from proxy.settings import SETTINGS, SettingsError, load_settings, parse_settings


def test_defaults_match_the_design(tmp_path):
    s = parse_settings({"DATA_PATH": str(tmp_path)})
    assert s.storage.provider == "http"
    assert s.caches["storage"].size == 10 << 30
    assert s.caches["storage"].expires == 7 * 86400
    assert s.caches["previews"].size == 1 << 30
    assert s.caches["previews"].expires == 12 * 3600
    assert s.caches["image_converter"].size == 10 << 30
    assert s.caches["image_converter"].expires == 7 * 86400
    assert s.caches["storage"].path == tmp_path / "proxy_cache" / "storage"
    assert s.caches["image_converter"].path == tmp_path / "proxy_cache" / "image_converter"


def test_local_buckets_default_to_the_folders_under_storage(tmp_path):
    for name in ("abc-public", "abc-private"):
        (tmp_path / "storage" / name).mkdir(parents=True)
    (tmp_path / "storage" / "not a bucket").mkdir()
    s = parse_settings({"DATA_PATH": str(tmp_path)})
    assert s.storage.buckets == ("abc-private", "abc-public")
    s = parse_settings({"DATA_PATH": str(tmp_path), "STORAGE_BUCKETS": "abc-public"})
    assert s.storage.buckets == ("abc-public",)


@pytest.mark.parametrize(
    ("name", "value", "form"),
    [
        ("CACHE_STORAGE_SIZE", "lots", "k, m, g or t suffix"),
        ("CACHE_PREVIEWS_EXPIRES", "soon", "duration"),
        ("STORAGE_PROVIDER", "ftp", "http, minio or azure"),
        ("STORAGE_PORT", "99999", "port"),
        ("STORAGE_BUCKETS", "../etc", "bucket"),
        ("LOG_LEVEL", "loud", "debug, info"),
        ("SIGNATURE_KEY", "zz", "hex"),
        ("PREVIEWS_QUALITY", "101", "1-100"),
    ],
)
def test_a_bad_value_names_the_variable_and_the_form(tmp_path, name, value, form):
    with pytest.raises(SettingsError) as err:
        parse_settings({"DATA_PATH": str(tmp_path), name: value})
    assert len(err.value.problems) >= 1
    line = err.value.problems[0]
    assert line.startswith(name)
    assert form in line


def test_remote_providers_need_their_settings(tmp_path):
    with pytest.raises(SettingsError) as err:
        parse_settings({"DATA_PATH": str(tmp_path), "STORAGE_PROVIDER": "minio"})
    text = "\n".join(err.value.problems)
    assert "STORAGE_BUCKETS" in text
    assert "STORAGE_ACCESS_KEY" in text
    assert "STORAGE_SECRET_KEY" in text


def test_env_file_then_environment(tmp_path):
    env_file = tmp_path / "proxy.env"
    env_file.write_text(f"DATA_PATH={tmp_path}\nCACHE_PREVIEWS_SIZE=2g\nCACHE_STORAGE_SIZE=1g\n")
    s = load_settings(env_file, environ={"CACHE_STORAGE_SIZE": "3g", "UNRELATED": "x"})
    assert s.env_file == env_file
    assert s.caches["previews"].size == 2 << 30
    assert s.caches["storage"].size == 3 << 30  # the environment wins, as in compose


def test_dot_env_in_the_working_directory_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path(".env").write_text(f"DATA_PATH={tmp_path}/d\nCACHE_STORAGE_EXPIRES=1h\n")
    s = load_settings(environ={})
    assert s.caches["storage"].expires == 3600
    assert s.data_path == tmp_path / "d"


def test_missing_env_file_is_an_error(tmp_path):
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.env", environ={})


def test_every_setting_is_documented():
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    for setting in SETTINGS:
        assert setting.form and setting.help


def _cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "proxy", *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        cwd=cwd,
        timeout=60,
    )


def test_where_prints_locations_and_masks_secrets(tmp_path):
    env_file = tmp_path / "remote.env"
    env_file.write_text(
        f"DATA_PATH={tmp_path}\nSTORAGE_PROVIDER=minio\nSTORAGE_BUCKETS=abc-public,abc-private\n"
        "STORAGE_ENDPOINT=s3.amazonaws.com\nSTORAGE_PORT=443\nSTORAGE_ACCESS_KEY=AKIAEXAMPLE\n"
        "STORAGE_SECRET_KEY=very-secret-value-1234\nSIGNATURE_KEY=abcd\nSIGNATURE_SALT=ef01\n"
    )
    done = _cli("where", "--env-file", str(env_file), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert str(env_file) in out
    assert str(tmp_path) in out
    assert str(tmp_path / "proxy_cache" / "previews") in out
    assert "minio" in out and "abc-public,abc-private" in out
    assert "very-secret-value-1234" not in out
    assert "abcd" not in out.replace(str(tmp_path), "")
    assert "****" in out


def test_a_bad_setting_stops_the_start_with_one_line(tmp_path):
    done = _cli(
        "serve", env={"DATA_PATH": str(tmp_path), "CACHE_STORAGE_SIZE": "huge"}, cwd=tmp_path
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "CACHE_STORAGE_SIZE" in lines[0]
    assert "Traceback" not in done.stderr


def test_check_reports_ok_and_problems(tmp_path):
    (tmp_path / "storage" / "abc-public").mkdir(parents=True)
    done = _cli("check", env={"DATA_PATH": str(tmp_path)}, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK" in done.stdout
    # A missing folder would be created by serve (so check only notes it); a file in its
    # place is a problem.
    (tmp_path / "storage" / "abc-missing").write_text("not a folder")
    done = _cli(
        "check",
        env={"DATA_PATH": str(tmp_path), "STORAGE_BUCKETS": "abc-public,abc-missing"},
        cwd=tmp_path,
    )
    assert done.returncode == 1
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    assert "abc-missing" in lines[0] and "bucket missing" in lines[0]
