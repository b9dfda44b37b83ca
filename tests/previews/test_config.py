"""Preview settings are checked at start: a bad one stops it with a line naming it."""

from __future__ import annotations

import pytest

from proxy.cli import main
from proxy.services import build_services, validate
from proxy.settings import SettingsError
from tests.conftest import encode_image
from tests.previews.conftest import fetcher, size_of


def problems(make_settings, **env: str) -> list[str]:  # type: ignore[no-untyped-def]
    try:
        validate(make_settings(**env))
    except SettingsError as exc:
        return exc.problems
    return []


def test_good_settings_pass(make_settings):
    assert problems(make_settings, PREVIEWS_PRESETS="default=q:70;t=rs:fit:100:100") == []


@pytest.mark.parametrize(
    "presets, says",
    [
        ("t=resize:fit:-1:-2", "preset 't': invalid option resize: -1 is out of range"),
        ("default=bogus:1", "preset 'default': unknown option 'bogus'"),
        ("t=w:10/", "preset 't': '' is not an option"),
        ("t=w:10/blur", "preset 't': 'blur' is not an option"),
        ("t=pr:missing", "preset 't': invalid option pr: unknown preset 'missing'"),
        ("t=exp:1000", "preset 't': expires 1000 is in the past"),
        ("t=msr:10", "preset 't': security option msr is not allowed"),
    ],
)
def test_bad_presets_stop_the_start(make_settings, presets, says):
    lines = problems(make_settings, PREVIEWS_PRESETS=presets)
    assert len(lines) == 1 and lines[0].startswith("PREVIEWS_PRESETS: ")
    assert says in lines[0]


def test_build_refuses_bad_settings(make_settings):
    with pytest.raises(SettingsError):
        build_services(make_settings(PREVIEWS_PRESETS="t=w:x"))


async def test_a_preset_cycle_is_skipped_not_an_error(make_client, make_settings, put_file):
    put_file("a.jpg", encode_image(200, 100))
    settings = make_settings(PREVIEWS_PRESETS="a=w:50/pr:b;b=h:10/pr:a")
    assert problems(make_settings, PREVIEWS_PRESETS="a=w:50/pr:b;b=h:10/pr:a") == []
    fetch = fetcher(await make_client(settings))
    status, body, _ = await fetch("/previews/q/pr:a/plain/abc-public/a.jpg@png")
    assert status == 200 and size_of(body) == (20, 10)  # both applied, each once


@pytest.mark.parametrize(
    "content, says",
    [
        (None, "cannot be read"),
        (b"not an image at all", "not an image libvips reads"),
        (encode_image(64, 48, ".png")[:200], "cannot be decoded"),
    ],
)
def test_the_watermark_image_is_checked(make_settings, tmp_path, content, says):
    path = tmp_path / "mark.png"
    if content is not None:
        path.write_bytes(content)
    lines = problems(make_settings, PREVIEWS_WATERMARK_PATH=str(path))
    assert len(lines) == 1 and lines[0].startswith("PREVIEWS_WATERMARK_PATH=")
    assert says in lines[0]


@pytest.mark.parametrize(
    "name, value",
    [
        ("PREVIEWS_MAX_ANIMATION_FRAMES", "0"),
        ("PREVIEWS_MAX_ANIMATION_FRAME_RESOLUTION", "-1"),
        ("PREVIEWS_SKIP_PROCESSING_FORMATS", "png,foo"),
        ("PREVIEWS_WATERMARK_OPACITY", "2"),
        ("PREVIEWS_MAX_SVG_FILE_SIZE", "1g5"),
        ("PREVIEWS_PRESERVE_HDR", "maybe"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(make_settings, name, value):
    with pytest.raises(SettingsError) as caught:
        make_settings(**{name: value})
    assert caught.value.problems[0].startswith(f"{name}=")


def test_the_cli_stops_with_the_problem(data_path, tmp_path, capsys):
    env_file = tmp_path / "bad.env"
    env_file.write_text(f"DATA_PATH={data_path}\nPREVIEWS_PRESETS=t=resize:fit:-1:-2\n")
    # `serve` stops as on any bad setting (2, on stderr); `check` reports it as a problem (1).
    assert main(["serve", "--env-file", str(env_file)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: PREVIEWS_PRESETS: preset 't': invalid option resize")
    assert main(["check", "--env-file", str(env_file)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("PREVIEWS_PRESETS: preset 't': invalid option resize")
