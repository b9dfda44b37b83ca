"""Where a preview's source comes from: parsing it, and opening it through the right cache (proxy.previews.source_loader)."""

from pathlib import Path

import pytest
import pyvips

from proxy.errors import NotFound, PayloadTooLarge
from proxy.previews.source_loader import SourceLoader
from proxy.sources import SourceRef
from proxy.storage.errors import ObjectMissing
from proxy.web.app import SERVICES
from tests.conftest import encode_image
from tests.converter import media


async def loader(make_client, settings) -> SourceLoader:  # type: ignore[no-untyped-def]
    client = await make_client(settings)
    return client.server.app[SERVICES].previews.sources


async def test_parse_an_original(make_client, make_settings) -> None:  # type: ignore[no-untyped-def]
    sources = await loader(make_client, make_settings())
    assert sources.parse("abc-public/images/a b.jpg", []) == SourceRef(
        "abc-public", "images/a b.jpg"
    )
    for source in ("nobucket/a.jpg", "abc-public", "abc-public/", "/abc-public/a.jpg"):
        with pytest.raises(NotFound):
            sources.parse(source, [])


async def test_parse_a_conversion_with_its_query(make_client, make_settings) -> None:  # type: ignore[no-untyped-def]
    sources = await loader(make_client, make_settings())
    ref = sources.parse("image-converter/convert/abc-public/scans/g.tif", [("format", "jpg")])
    assert (ref.bucket, ref.key, ref.converter) == ("abc-public", "scans/g.tif", "convert")
    assert ref.args == (("format", "jpeg"),)
    with pytest.raises(NotFound):
        sources.parse("image-converter/convert/nobucket/g.tif", [])


async def test_a_small_original_is_handed_over_in_memory(
    make_client, make_settings, put_file
) -> None:  # type: ignore[no-untyped-def]
    body = encode_image(16, 16)
    put_file("a.jpg", body)
    sources = await loader(make_client, make_settings())
    async with sources.open(SourceRef("abc-public", "a.jpg")) as loaded:
        assert loaded.blob.path is None and loaded.blob.body == body
        assert loaded.meta.content_type == "image/jpeg"


async def test_open_a_cached_original_by_a_pinned_path(
    make_client, make_settings, put_file
) -> None:  # type: ignore[no-untyped-def]
    body = encode_image(500, 500, ".png")
    assert len(body) > 256 * 1024  # over what the cache reads whole into memory
    put_file("a.png", body)
    sources = await loader(make_client, make_settings())
    async with sources.open(SourceRef("abc-public", "a.png")) as loaded:
        assert loaded.blob.size == len(body) == loaded.meta.size
        assert loaded.blob.read() == body
        path = loaded.blob.path
        assert path is not None and path.exists()
    assert not path.exists()  # the pin goes with the render


async def test_a_source_too_large_to_cache_is_spooled_then_removed(
    make_client, make_settings, put_file
) -> None:  # type: ignore[no-untyped-def]
    body = encode_image(300, 300)
    assert len(body) > 1024
    put_file("big.jpg", body)
    sources = await loader(make_client, make_settings(CACHE_MAX_OBJECT_SIZE="1k"))
    async with sources.open(SourceRef("abc-public", "big.jpg")) as loaded:
        path = loaded.blob.path
        assert path is not None and path.parent == sources.spool_dir and ".src." in path.name
        assert path.read_bytes() == body and loaded.blob.size == len(body)
    assert not path.exists()
    assert not list(sources.spool_dir.glob("*.src.*"))


async def test_the_file_size_limit_applies_to_cached_and_spooled_sources(
    make_client, make_settings, put_file
) -> None:  # type: ignore[no-untyped-def]
    put_file("big.jpg", encode_image(300, 300))
    for env in ({}, {"CACHE_MAX_OBJECT_SIZE": "1k"}):
        sources = await loader(make_client, make_settings(PREVIEWS_MAX_SRC_FILE_SIZE="2k", **env))
        with pytest.raises(PayloadTooLarge) as caught:
            async with sources.open(SourceRef("abc-public", "big.jpg")):
                pytest.fail("opened a source over the limit")
        assert caught.value.status == 413
        assert not list(Path(sources.spool_dir).glob("*.src.*"))


async def test_a_missing_original_is_404(make_client, make_settings) -> None:  # type: ignore[no-untyped-def]
    sources = await loader(make_client, make_settings())
    with pytest.raises(ObjectMissing) as caught:
        async with sources.open(SourceRef("abc-public", "missing.jpg")):
            pytest.fail("opened a missing source")
    assert caught.value.status == 404


async def test_a_conversion_is_opened_as_the_converted_image(
    make_client, make_settings, put_file
) -> None:  # type: ignore[no-untyped-def]
    put_file("scans/g.tif", media.tiff16(media.gradient16()))
    sources = await loader(make_client, make_settings())
    ref = sources.parse("image-converter/convert/abc-public/scans/g.tif", [])
    async with sources.open(ref) as loaded:
        assert loaded.meta.content_type == "image/png"
        image = pyvips.Image.new_from_buffer(loaded.blob.read(), "")
        assert (image.width, image.height, image.format) == (256, 8, "uchar")
