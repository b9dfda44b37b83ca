"""imgproxy options/presets_test.go, options/parser/config_test.go, security/signature_test.go.

Presets are checked when the settings are: a bad one stops the start (imgproxy refuses to
start too). Our PREVIEWS_PRESETS separates presets with ';' and has no presets file.
"""

from collections.abc import Callable
from typing import Any

import pytest

from proxy.access.signature import verify
from proxy.errors import Forbidden
from proxy.services import validate
from proxy.settings import Settings, SettingsError
from tests.previews.imgproxy.cases import params

NO_FILE = "IMGPROXY_PRESETS_PATH (a presets file) is not offered"
SKIP = {
    "V4_PRESETS_CONFIG/TestPresetsFromFile": NO_FILE,
    "V4_PRESETS_CONFIG/TestPresetsFileEmpty": NO_FILE,
    "V4_PRESETS_CONFIG/TestPresetsFileNotFound": NO_FILE,
    "V4_PRESETS_CONFIG/TestPresetsFromBothSources": NO_FILE,
}


def _started(make_settings: Callable[..., Settings], presets: str) -> Settings | None:
    try:
        settings = make_settings(PREVIEWS_PRESETS=presets)
        validate(settings)
    except SettingsError as exc:
        assert all(line.startswith("PREVIEWS_PRESETS") for line in exc.problems)
        return None
    return settings


@pytest.mark.parametrize("row", params("V3_PRESETS", "V4_PRESETS"))
def test_presets(make_settings: Callable[..., Settings], row: dict[str, Any]) -> None:
    settings = _started(make_settings, ";".join(row["config_presets"]))
    assert (settings is not None) == row["expect_start"]
    if settings is not None and "expect_presets" in row:
        presets = settings.previews.presets
        assert set(presets) == set(row["expect_presets"])
        for name, options in row["expect_presets"].items():
            parsed = [tuple(part.split(":", 1)) for part in presets[name].split("/")]
            assert parsed == [(o, ":".join(args)) for o, args in options]


@pytest.mark.parametrize("row", params("V4_PRESETS_CONFIG", skip=SKIP))
def test_presets_list(make_settings: Callable[..., Settings], row: dict[str, Any]) -> None:
    # imgproxy's list items become our ';'-separated ones, each a preset of its own.
    items = [i for i in row["env"]["IMGPROXY_PRESETS"].split(",") if i]
    settings = _started(make_settings, ";".join(f"{item}=q:50" for item in items))
    assert settings is not None
    assert list(settings.previews.presets) == row["expect_presets_list"]


@pytest.mark.parametrize("row", params("V3_SIGNATURE", "V4_SIGNATURE"))
def test_signature(row: dict[str, Any]) -> None:
    config = row["config"]
    pairs = [
        (k.encode(), s.encode())
        for k, s in zip(config["keys_raw"], config["salts_raw"], strict=True)
    ]
    trusted = frozenset(config.get("trusted_signatures", ()))
    size = config.get("signature_size", 32)
    try:
        verify(row["signature"], row["signed_path"], pairs, size, trusted)
        valid = True
    except Forbidden:
        valid = False
    assert valid == row["expect_valid"]
