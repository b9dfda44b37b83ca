from proxy.previews.formats import AUTO, choose, resolve


def test_explicit_format_wins_over_accept():
    assert choose("png", "image/avif,image/webp", True, True) == (choose("png", "", False, False))
    assert not choose("png", "image/webp", True, True).vary_accept


def test_accept_negotiation_only_when_enabled():
    assert choose(None, "image/avif,image/webp", True, True).format == "avif"
    assert choose(None, "image/avif,image/webp", True, False).format == "webp"
    assert choose(None, "image/avif,image/webp", False, False).format == AUTO
    assert not choose(None, "image/webp", False, False).vary_accept
    negotiated = choose(None, "*/*", True, False)
    assert negotiated.format == AUTO and negotiated.vary_accept


def test_auto_resolution():
    assert resolve(AUTO, "jpeg", False) == "jpeg"
    assert resolve(AUTO, "gif", True) == "gif"
    assert resolve(AUTO, "tiff", False) == "jpeg"
    assert resolve(AUTO, "webp", True) == "png"
    assert resolve("webp", "jpeg", False) == "webp"
