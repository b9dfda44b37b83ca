"""The libvips self-check behind /health and `check` (proxy.previews.health)."""

import pytest
import pyvips

from proxy.previews.health import libvips_problem


def test_a_working_libvips_has_no_problem() -> None:
    assert libvips_problem() == ""


def test_a_failing_libvips_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    # No real libvips can be broken on purpose: its first call is made to fail instead.
    def broken(*args: object, **kwargs: object) -> pyvips.Image:
        raise pyvips.Error("no operation black")

    monkeypatch.setattr(pyvips.Image, "black", broken)
    assert libvips_problem().strip() == "libvips does not work: no operation black"
