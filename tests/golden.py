"""Golden perceptual hashes of encoder outputs, after imgproxy's image hash cache matcher.

An output is decoded and reduced to its perceptual hash: the image shrunk to SIDE x SIDE
pixels, 8 bits per band (R, G, B, and alpha when there is one). A stored hash matches when,
in every band, the pixels differ by at most MAX_DIFFERENCE levels (of 255) on average.
Measured on the test picture: one JPEG quality step (90 to 89) is 1.2 at most, ten steps
(90 to 80) 2.4, chroma subsampling 10.6, a colour shift of 12 levels 12. So a libvips bump
that re-rounds pixels passes, one that shifts colours, changes chroma subsampling or maps
qualities otherwise fails. (A 256-bit difference hash was tried first: on smooth gradients
its bits flip with every quality step, so it could not tell a re-rounding from a change.)

The hashes live in tests/previews/golden.json with the settings each came from and the
library versions that made them. `GOLDEN_UPDATE=1` (re)writes every hash a run computes
(missing ones are only ever written that way, never silently): for a deliberate library bump,
after looking at the outputs.
"""

from __future__ import annotations

import base64
import json
import os
import zlib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyvips

SIDE = 64
MAX_DIFFERENCE = 1.5  # mean absolute difference per band, in levels of 255
UPDATE = os.environ.get("GOLDEN_UPDATE") == "1"
LIBRARIES = ("pyvips", "pyvips-binary", "pillow-heif", "pillow")


@dataclass(frozen=True)
class Hash:
    pixels: bytes  # SIDE x SIDE x bands, uchar
    bands: int

    def as_json(self) -> dict[str, Any]:
        packed = base64.b64encode(zlib.compress(self.pixels, 9)).decode()
        return {"bands": self.bands, "pixels": packed}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Hash:
        return cls(zlib.decompress(base64.b64decode(data["pixels"])), data["bands"])

    def array(self) -> np.ndarray[Any, Any]:
        return np.frombuffer(self.pixels, np.uint8).reshape(SIDE, SIDE, self.bands).astype(float)

    def distance(self, other: Hash) -> float:
        """The largest mean absolute difference of one band's pixels."""
        if self.bands != other.bands:
            return 255.0
        difference = np.abs(self.array() - other.array()).mean(axis=(0, 1))
        return float(difference.max())


def decode(body: bytes) -> pyvips.Image:
    try:
        return pyvips.Image.new_from_buffer(body, "").copy_memory()
    except pyvips.Error:  # HEIC: libvips here has no HEVC decoder, pillow-heif has
        import pillow_heif

        heif = pillow_heif.open_heif(body, convert_hdr_to_8bit=True)
        array = np.asarray(heif)
        return pyvips.Image.new_from_array(array, interpretation="srgb").cast("uchar")


def perceptual_hash(body: bytes) -> Hash:
    image = decode(body)
    if image.interpretation not in ("srgb", "b-w") or image.format != "uchar":
        image = image.colourspace("srgb").cast("uchar")
    if image.bands < 3:  # grey, with alpha or not: as colour
        alpha = image[1:] if image.bands == 2 else None
        image = image[0].bandjoin([image[0], image[0]])
        if alpha is not None:
            image = image.bandjoin(alpha)
    small = image.resize(SIDE / image.width, vscale=SIDE / image.height, kernel="linear")
    return Hash(small.write_to_memory(), small.bands)


def versions() -> dict[str, str]:
    found = {name: metadata.version(name) for name in LIBRARIES}
    found["libvips"] = f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"
    return found


class Goldens:
    """The stored hashes of one file; written back at the end of a run that updated any."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = (
            json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        )
        self.changed = False

    def check(self, name: str, settings: dict[str, Any], body: bytes) -> None:
        actual = perceptual_hash(body)
        cases = self.data.setdefault("cases", {})
        stored = cases.get(name)
        if UPDATE:
            cases[name] = {"settings": settings, "hash": actual.as_json()}
            self.data["versions"] = versions()
            self.data["threshold"] = {"side": SIDE, "max_mean_difference": MAX_DIFFERENCE}
            self.changed = True
            return
        assert stored is not None, f"no golden hash for {name}: run with GOLDEN_UPDATE=1"
        assert stored["settings"] == settings, f"{name}: the settings changed; GOLDEN_UPDATE=1"
        distance = Hash.from_json(stored["hash"]).distance(actual)
        assert distance <= MAX_DIFFERENCE, (
            f"{name}: {distance:.2f} levels apart (at most {MAX_DIFFERENCE}) from the hash "
            f"made with {self.data.get('versions')}; now {versions()}. A deliberate bump: "
            "look at the outputs, then GOLDEN_UPDATE=1"
        )

    def save(self) -> None:
        if self.changed:
            text = json.dumps(self.data, indent=2, sort_keys=True) + "\n"
            self.path.write_text(text, encoding="utf-8")
