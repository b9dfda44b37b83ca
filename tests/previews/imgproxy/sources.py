"""Equivalents of imgproxy's test images, generated: same size, kind, depth, alpha, layout.

`make(name)` gives the encoded bytes for an entry of cases.json's SOURCES. Contents follow
the entries' descriptions where the tests depend on them (trim frames, orientation tags,
the coordinate-encoding geometry image), else they are photographic-ish gradients.
BMP and ICO files are written here byte by byte (variants no library writes), so the
decoders under test never read files made by their own writers.
"""

from __future__ import annotations

import functools
import io
import struct

import numpy as np
import pyvips

WHITE = 255


def photo(width: int, height: int, seed: int = 1, noise: float = 24) -> pyvips.Image:
    """8-bit sRGB gradients with noise: compresses and decodes like a photograph."""
    xy = pyvips.Image.xyz(width, height)
    r = xy[0] * (255 / max(width - 1, 1))
    g = xy[1] * (255 / max(height - 1, 1))
    noise = pyvips.Image.gaussnoise(width, height, sigma=noise, mean=128, seed=seed)
    return r.bandjoin([g, noise]).cast("uchar").copy(interpretation="srgb")


def geometry() -> pyvips.Image:
    """200x100 whose pixels tell where they are: R = 55 + x, G = 2 y, B = 100."""
    xy = pyvips.Image.xyz(200, 100)
    image = (xy[0] + 55).bandjoin([xy[1] * 2, xy[0] * 0 + 100])
    return image.cast("uchar").copy(interpretation="srgb")


def frames_trim1() -> pyvips.Image:
    """350x250 grey: frames 255, 204, 153, 102, 51 (10 px left/top, 20 right/bottom), 0 core."""
    pixels = np.zeros((250, 350), np.uint8)
    for i, value in enumerate((255, 204, 153, 102, 51)):
        pixels[:, :] = np.where(_ring(i, 250, 350), value, pixels)
    return pyvips.Image.new_from_array(pixels).copy(interpretation="b-w")


def _ring(i: int, height: int, width: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    inner = (x >= 10 * (i + 1)) & (y >= 10 * (i + 1))
    inner &= (x < width - 20 * (i + 1)) & (y < height - 20 * (i + 1))
    outer = (x >= 10 * i) & (y >= 10 * i) & (x < width - 20 * i) & (y < height - 20 * i)
    return outer & ~inner


def bands_trim(alpha: bool) -> pyvips.Image:
    """200x200: rows 0-29 red, 30-129 green, 130-199 blue (trim2) or transparent (trim3)."""
    pixels = np.zeros((200, 200, 4), np.uint8)
    pixels[:30] = (255, 0, 0, 255)
    pixels[30:130] = (0, 255, 0, 255)
    pixels[130:] = (0, 0, 0, 0) if alpha else (0, 0, 255, 255)
    image = pyvips.Image.new_from_array(pixels).copy(interpretation="srgb")
    return image if alpha else image[:3]


def orientation(tag: int | None) -> bytes:
    """200x100 RGBA, white with dark asymmetric marks, the same pixels whatever the tag."""
    canvas = pyvips.Image.black(200, 100).new_from_image([WHITE, WHITE, WHITE, 255])
    mark = pyvips.Image.black(60, 20).new_from_image([20, 30, 40, 255])
    image = canvas.insert(mark, 18, 36).insert(mark.crop(0, 0, 20, 20), 162, 54)
    image = image.cast("uchar").copy(interpretation="srgb")
    if tag is not None:
        image.set_type(pyvips.GValue.gint_type, "orientation", tag)
    return bytes(image.pngsave_buffer(keep="exif"))


def deep(image: pyvips.Image, linear: bool = False) -> pyvips.Image:
    if linear:
        image = image.colourspace("scrgb")
        return (image * 65535).cast("ushort").copy(interpretation="rgb16")
    space = "grey16" if image.bands == 1 else "rgb16"
    return (image.cast("ushort") * 257).cast("ushort").copy(interpretation=space)


# -- BMP and ICO, written by hand --------------------------------------------------------


def _rows(pixels: np.ndarray, bpp: int) -> bytes:
    """Bottom-up rows, 4-byte aligned; `pixels` already holds one byte a sample."""
    height = pixels.shape[0]
    if bpp < 8:
        per_byte = 8 // bpp
        flat = pixels.reshape(height, -1)
        padded = np.zeros((height, -(-flat.shape[1] // per_byte) * per_byte), np.uint8)
        padded[:, : flat.shape[1]] = flat
        grouped = padded.reshape(height, -1, per_byte)
        shifts = np.array([8 - bpp * (i + 1) for i in range(per_byte)], np.uint8)
        data = (grouped << shifts).sum(axis=2).astype(np.uint8)
    else:
        data = pixels.reshape(height, -1)
    stride = (data.shape[1] + 3) & ~3
    out = np.zeros((height, stride), np.uint8)
    out[:, : data.shape[1]] = data
    return out[::-1].tobytes()


def bmp_file(
    width: int,
    height: int,
    bpp: int,
    data: bytes,
    compression: int = 0,
    palette: bytes = b"",
    masks: tuple[int, int, int, int] | None = None,
    v5: bool = False,
) -> bytes:
    header = 124 if v5 or masks else 40
    colours = len(palette) // 4
    info = struct.pack(
        "<IiiHHIIiiII",
        header,
        width,
        height,
        1,
        bpp,
        compression,
        len(data),
        2835,
        2835,
        colours,
        0,
    )
    if header == 124:
        info += struct.pack("<IIII", *(masks or (0, 0, 0, 0))) + b"BGRs" + bytes(48 + 16)
    offset = 14 + header + len(palette)
    return b"BM" + struct.pack("<IHHI", offset + len(data), 0, 0, offset) + info + palette + data


def _grey_palette(levels: int) -> bytes:
    return b"".join(bytes((v, v, v, 0)) for v in np.linspace(25, 245, levels).astype(np.uint8))


def _indexed(width: int, height: int, levels: int) -> np.ndarray:
    xy = np.add.outer(np.arange(height), np.arange(width))
    return ((xy * levels // (width + height)) % levels).astype(np.uint8)


def _rle8(indices: np.ndarray, move: bool = False) -> bytes:
    """BI_RLE8: runs per row, bottom-up; `move` also uses delta escapes over a row's start."""
    out = bytearray()
    for row in indices[::-1]:
        start = 0
        if move and len(row) > 40:
            out += b"\x00\x02" + bytes((20, 0))  # skip 20 pixels (left as palette 0)
            start = 20
        x = start
        while x < len(row):
            run = 1
            while x + run < len(row) and run < 255 and row[x + run] == row[x]:
                run += 1
            out += bytes((run, row[x]))
            x += run
        out += b"\x00\x00"
    return bytes(out + b"\x00\x01")


def _bgr(image: pyvips.Image) -> np.ndarray:
    pixels = np.ndarray((image.height, image.width, image.bands), np.uint8, image.write_to_memory())
    return pixels[:, :, [2, 1, 0, 3][: image.bands]]


def bmp(name: str) -> bytes:
    stem = name.rsplit("/", 1)[-1].removesuffix(".bmp")
    if stem == "bmp-invalid-bpp":
        return bmp_file(512, 1, 40, bytes(2560))
    if stem in ("32-bpp-with-alpha", "32-bpp-with-alpha-self-gen"):
        width, height = (1080, 902) if stem == "32-bpp-with-alpha" else (100, 84)
        image = photo(width, height, noise=0)  # noise would make GIF outputs slow to test
        xy = pyvips.Image.xyz(width, height)
        rgba = image.bandjoin((xy[0] * (255 / (width - 1))).cast("uchar"))
        masks = (0x00FF0000, 0x0000FF00, 0x000000FF, 0xFF000000)
        return bmp_file(width, height, 32, _rows(_bgr(rgba), 32), 3, masks=masks)
    if stem in ("24-bpp", "24-bpp-no-alpha-mask", "8-bpp-rle-small"):
        width, height = (32, 32) if stem == "8-bpp-rle-small" else (1080, 902)
        data = _rows(_bgr(photo(width, height, noise=0)), 24)
        return bmp_file(width, height, 24, data, v5=stem == "24-bpp-no-alpha-mask")
    if stem == "16-bpp":
        image = photo(512, 512)
        rgb = np.ndarray((512, 512, 3), np.uint8, image.write_to_memory()).astype(np.uint16)
        packed = ((rgb[:, :, 0] >> 3) << 11) | ((rgb[:, :, 1] >> 2) << 5) | (rgb[:, :, 2] >> 3)
        data = _rows(packed.astype("<u2").view(np.uint8).reshape(512, 1024), 8)
        return bmp_file(512, 512, 16, data, 3, masks=(0xF800, 0x07E0, 0x001F, 0))
    width, height = {"1-bpp": (900, 600), "8-bpp-rle-move-to-x": (900, 700)}.get(stem, (512, 512))
    if stem == "8-bpp-rle-single-color":
        width, height = 1920, 1080
    bpp = {"1-bpp": 1, "4-bpp": 4}.get(stem, 8)
    levels = 1 << bpp
    indices = _indexed(width, height, levels)
    palette = _grey_palette(levels)
    if stem == "8-bpp-rle-single-color":
        return bmp_file(width, height, 8, _rle8(np.full((height, width), 7, np.uint8)), 1, palette)
    if stem.startswith("8-bpp-rle"):
        return bmp_file(width, height, 8, _rle8(indices, move="move" in stem), 1, palette)
    return bmp_file(width, height, bpp, _rows(indices, bpp), 0, palette)


def _dib(size: int, bpp: int) -> bytes:
    """An ICO entry's DIB: BITMAPINFOHEADER with a doubled height, pixels, AND mask."""
    if bpp == 32:
        image = photo(size, size).bandjoin(200)
        pixels, palette = _rows(_bgr(image), 32), b""
    else:
        pixels, palette = _rows(_indexed(size, size, 16), 4), _grey_palette(16)
    mask = bytes(((size + 31) // 32) * 4 * size)
    info = struct.pack("<IiiHHIIiiII", 40, size, size * 2, 1, bpp, 0, 0, 0, 0, 0, 0)
    return info + palette + pixels + mask


def ico(name: str) -> bytes:
    stem = name.rsplit("/", 1)[-1].removesuffix(".ico")
    entries: list[tuple[int, int, bytes]] = []
    if stem == "multi-bmp":
        entries = [(s, 32, _dib(s, 32)) for s in (16, 32, 70, 72, 96)]
    elif stem == "single-bmp":
        entries = [(s, 4, _dib(s, 4)) for s in (48, 32, 16)]
    else:
        count = 2 if stem == "multi-png" else 1
        png = bytes(photo(256, 256).bandjoin(255).pngsave_buffer())
        entries = [(256, 32, png)] * count
    out = struct.pack("<HHH", 0, 1, len(entries))
    offset = 6 + 16 * len(entries)
    body = b""
    for size, bpp, data in entries:
        out += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, bpp, len(data), offset)
        offset += len(data)
        body += data
    return out + body


# -- the rest ----------------------------------------------------------------------------

SVG_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="406" height="206">'
    '<rect x="3" y="3" width="400" height="200" rx="20" fill="#3a7" stroke="#123"/>'
    '<circle cx="100" cy="100" r="60" fill="#e42"/></svg>'
)


def _heic(image: pyvips.Image) -> bytes:
    import pillow_heif

    heif = pillow_heif.from_bytes("RGB", (image.width, image.height), image.write_to_memory())
    out = io.BytesIO()
    heif.save(out, quality=50, enc_params={"preset": "ultrafast"})  # a test source: quick
    return out.getvalue()


def _gif() -> bytes:
    frames = []
    for i in range(5):
        frame = photo(492, 229, seed=i + 2, noise=0).bandjoin(255)  # quick to quantise
        hole = pyvips.Image.black(60, 40).new_from_image([0, 0, 0, 0])
        frames.append(frame.insert(hole.cast("uchar"), 20 + 40 * i, 20))
    image = pyvips.Image.arrayjoin(frames, across=1).copy(interpretation="srgb")
    image.set_type(pyvips.GValue.gint_type, "page-height", 229)
    image.set_type(pyvips.GValue.array_int_type, "delay", [200, 100, 100, 100, 100])
    image.set_type(pyvips.GValue.gint_type, "loop", 0)
    return bytes(image.gifsave_buffer())


def _tiff(name: str) -> bytes:
    stem = name.rsplit("/", 1)[-1].removesuffix(".tiff")
    if stem == "8-bpp":
        return bytes(photo(73, 43).tiffsave_buffer())
    if stem == "16-bpp":
        return bytes(deep(photo(73, 43)).tiffsave_buffer())
    if stem == "16-bpp-grayscale":
        return bytes(deep(photo(73, 43).colourspace("b-w")).tiffsave_buffer())
    if stem == "8-bpp-grayscale":
        return bytes(photo(277, 339).colourspace("b-w").tiffsave_buffer())
    if stem == "32-bpp-linear":
        linear = photo(333, 225).colourspace("scrgb")
        return bytes(linear.tiffsave_buffer())
    if stem == "4-bpp-grayscale":
        page = photo(1512, 359).colourspace("b-w")
        pages = pyvips.Image.arrayjoin([page, page.invert()], across=1).copy()
        pages.set_type(pyvips.GValue.gint_type, "page-height", 359)
        return bytes(pages.tiffsave_buffer(bitdepth=4))
    image = photo(650, 434, noise=0).bandjoin(230).icc_transform("p3", input_profile="srgb")
    return bytes(image.tiffsave_buffer(keep="icc"))


def _png(name: str) -> bytes:
    stem = name.rsplit("/", 1)[-1].removesuffix(".png")
    image = {
        "png": lambda: photo(400, 400),
        "8-bpp": lambda: photo(400, 400),
        "16-bpp": lambda: deep(photo(600, 600)),
        "16-bpp-grayscale": lambda: deep(photo(1000, 1000).colourspace("b-w")),
        "8-bpp-grayscale": lambda: photo(150, 200).colourspace("b-w"),
        "16-bpp-linear": lambda: deep(photo(600, 600), linear=True),
        "1-bpp": lambda: (photo(400, 400).colourspace("b-w") > 128).ifthenelse(255, 0),
    }[stem]()
    bitdepth = 1 if stem == "1-bpp" else 16 if stem.startswith("16") else 8
    return bytes(
        image.cast("ushort" if bitdepth == 16 else "uchar").pngsave_buffer(bitdepth=bitdepth)
    )


@functools.cache
def make(name: str) -> bytes:
    """The encoded bytes of the source `name` (a key of cases.json's SOURCES)."""
    if name == "geometry.png":
        return bytes(geometry().pngsave_buffer())
    if name == "test2.jpg":
        return bytes(photo(200, 100).jpegsave_buffer(Q=75))
    if name == "test1.png":
        square = pyvips.Image.black(4, 4).new_from_image([0, 0, 0])
        white = pyvips.Image.black(10, 10).new_from_image([WHITE, WHITE, WHITE])
        image = white.insert(square, 3, 3).cast("uchar").copy(interpretation="srgb")
        return bytes(image.pngsave_buffer())
    if name == "test1.jpg":
        image = pyvips.Image.new_from_buffer(make("test1.png"), "").colourspace("b-w")
        return bytes(image.jpegsave_buffer())
    if name == "trim1.png":
        return bytes(frames_trim1().pngsave_buffer())
    if name in ("trim2.png", "trim3.png"):
        return bytes(bands_trim(name == "trim3.png").pngsave_buffer())
    if name.startswith("orientation-"):
        tag = int(name.removeprefix("orientation-").removesuffix(".png"))
        return orientation({0: None, 1: 3}.get(tag, tag))
    if name.endswith(".bmp"):
        return bmp(name)
    if name.endswith(".ico"):
        return ico(name)
    if name.endswith(".tiff"):
        return _tiff(name)
    if name.endswith(".png"):
        return _png(name)
    if name.endswith(".svg"):
        from tests.previews.imgproxy.cases import TEST1_SVG

        return (TEST1_SVG if name == "test1.svg" else SVG_SVG).encode()
    if name == "test-images/gif/gif.gif":
        return _gif()
    if name == "test-images/jpg/jpg.jpg":
        return bytes(photo(600, 800).colourspace("b-w").jpegsave_buffer(Q=85))
    if name == "test-images/webp/webp.webp":
        return bytes(photo(550, 368).webpsave_buffer())
    if name == "test-images/avif/avif.avif":
        return bytes(photo(400, 300).bandjoin(200).heifsave_buffer(compression="av1"))
    if name == "test-images/heif/8-bpp.heif":
        return _heic(photo(1920, 1080, noise=0))
    if name in ("test-images/heif/heif.heif", "test-images/heif/ios26.heic"):
        return _heic(photo(640, 426))
    raise LookupError(f"no generator for {name}")
