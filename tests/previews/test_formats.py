from proxy.previews.formats import AUTO, allowed_by, choose, resolve


def test_explicit_format_wins_over_accept():
    assert choose("png", "image/avif,image/webp", True, True) == (choose("png", "", False, False))
    assert not choose("png", "image/webp", True, True).vary_accept


def test_accept_negotiation_only_when_enabled():
    assert choose(None, "image/avif,image/webp", True, True).format == "auto:avif:webp"
    assert choose(None, "image/avif,image/webp", True, False).format == "auto:webp"
    assert choose(None, "image/avif,image/webp", False, False).format == AUTO
    assert not choose(None, "image/webp", False, False).vary_accept
    negotiated = choose(None, "*/*", True, False)
    assert negotiated.format == AUTO and negotiated.vary_accept
    assert allowed_by("auto:avif:webp") == ("avif", "webp") and allowed_by("png") == ()


def test_auto_resolution_is_imgproxys_determine_output_format():
    # The source's format when it is a preferred one (jpeg, png, gif).
    assert resolve(AUTO, "jpeg", False, False) == "jpeg"
    assert resolve(AUTO, "gif", True, True) == "gif"
    # Else the first preferred format that can hold the result.
    assert resolve(AUTO, "tiff", False, False) == "jpeg"
    assert resolve(AUTO, "webp", True, False) == "png"
    assert resolve(AUTO, "tiff", True, False) == "png"  # e.g. padding without a background
    assert resolve(AUTO, "webp", False, True) == "gif"  # an animated WebP stays animated
    # Accept: AVIF unless animated (it cannot hold an animation), then WebP.
    assert resolve("auto:avif:webp", "jpeg", False, False) == "avif"
    assert resolve("auto:avif:webp", "gif", True, True) == "webp"
    assert resolve("auto:avif", "gif", True, True) == "gif"
    assert resolve("webp", "jpeg", False, False) == "webp"
