"""SVG sources: the sanitiser's rules, entity refusal, and rasterising at a scale (proxy.previews.svg)."""

import pytest

from proxy.errors import Unprocessable
from proxy.previews.svg import load as load_svg
from proxy.previews.svg import sanitise

NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


def clean(inner: str, attributes: str = "") -> str:
    return sanitise(f"<svg {NS}{attributes}>{inner}</svg>".encode()).decode()


def test_a_clean_svg_passes_through_byte_for_byte() -> None:
    source = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg {NS} width="20" height="10" viewBox="0 0 20 10">\n'
        "  <!-- a comment -->\n"
        '  <defs><linearGradient id="g"><stop offset="0" stop-color="#f00"/></linearGradient>'
        '<filter id="f"><feGaussianBlur stdDeviation="1"/></filter></defs>\n'
        '  <rect width="20" height="10" fill="url(#g)" filter="url(#f)"/>\n'
        '  <text x="1" y="9">a &lt; b &amp; c</text>\n'
        "  <style><![CDATA[ rect > x { fill: red } ]]></style>\n"
        "</svg>\n"
    ).encode()
    assert sanitise(source) == source


@pytest.mark.parametrize("element", ["script", "iframe", "form"])
def test_removed_elements_go_with_their_whole_subtree(element: str) -> None:
    out = clean(f'<g><{element} id="x"><a href="#y"><rect/></a>evil()</{element}><circle/></g>')
    assert out == f"<svg {NS}><g><circle/></g></svg>"


def test_a_namespaced_script_is_removed_too() -> None:
    out = clean('<svg:script xmlns:svg="http://www.w3.org/2000/svg">alert(1)</svg:script><rect/>')
    assert "alert" not in out and out.endswith("<rect/></svg>")


def test_every_event_handler_attribute_goes() -> None:
    out = clean('<rect onclick="a()" ONLOAD="b()" onfoo="c()" width="1"/>', ' onload="d()"')
    assert out == f'<svg {NS}><rect width="1"/></svg>'


@pytest.mark.parametrize(
    "href, kept",
    [
        ("#local", True),
        ("https://example.com/x.svg#a", True),
        ("http://example.com/", True),
        ("relative/page.html", True),
        ("javascript:alert(1)", False),
        ("  JavaScript:alert(1)", False),
        ("&#106;avascript:alert(1)", False),  # an entity-escaped scheme is still a scheme
        ("data:text/html;base64,PHNjcmlwdD4=", False),
        ("file:///etc/passwd", False),
    ],
)
def test_links_keep_only_http_relative_or_local_references(href: str, kept: bool) -> None:
    out = clean(f'<a href="{href}"><rect/></a><a xlink:href="{href}"/>')
    assert ("href=" in out) is kept
    assert out.count("href=") == (2 if kept else 0)


@pytest.mark.parametrize(
    "href, kept",
    [
        ("data:image/png;base64,iVBORw0KGgo=", True),
        ("https://example.com/a.png", True),
        ("a.png", True),
        ("file:///etc/passwd", False),
        ("ftp://example.com/a.png", False),
    ],
)
def test_images_may_also_use_data_urls(href: str, kept: bool) -> None:
    assert ("href=" in clean(f'<image href="{href}" width="1" height="1"/>')) is kept


@pytest.mark.parametrize(
    "href, kept",
    [("#shape", True), ("", True), ("other.svg#shape", False), ("https://x/y#z", False)],
)
def test_use_may_only_point_into_the_document(href: str, kept: bool) -> None:
    assert ("href=" in clean(f'<use xlink:href="{href}"/>')) is kept


def test_attribute_values_are_escaped_again_when_written() -> None:
    out = clean("<text title=\"a &quot;b&quot; &lt;c&gt; &amp; 'd'\"/>")
    assert "title=\"a &quot;b&quot; &lt;c&gt; &amp; 'd'\"" in out


def test_a_plain_doctype_is_dropped_an_internal_subset_refused() -> None:
    public = (
        '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
    )
    assert sanitise(f"{public}<svg {NS}/>".encode()) == f"<svg {NS}/>".encode()
    bomb = f'<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]><svg {NS}>&b;</svg>'
    with pytest.raises(Unprocessable) as caught:
        sanitise(bomb.encode())
    assert caught.value.status == 422 and "entity" in caught.value.reason


def test_not_well_formed_xml_is_422() -> None:
    for data in (b"<svg><rect></svg>", b"", b"\x89PNG\r\n\x1a\n"):
        with pytest.raises(Unprocessable) as caught:
            sanitise(data)
        assert "not well-formed" in caught.value.reason


def test_the_declaration_is_rewritten_as_utf8() -> None:
    source = f'<?xml version="1.0" encoding="ISO-8859-1" standalone="no"?><svg {NS}><text>\xe9</text></svg>'
    out = sanitise(source.encode("latin-1"))
    assert (
        out
        == (
            f'<?xml version="1.0" encoding="UTF-8" standalone="no"?><svg {NS}><text>\xe9</text></svg>'
        ).encode()
    )


def test_load_renders_one_svg_pixel_per_pixel_at_scale_one() -> None:
    data = f'<svg {NS} width="40" height="20"><rect width="40" height="20" fill="#00f"/></svg>'
    image = load_svg(data.encode())
    assert (image.width, image.height) == (40, 20)  # 96 dpi, not libvips's 72
    assert image.getpoint(20, 10)[:3] == [0, 0, 255]
    doubled = load_svg(data.encode(), 2.0)
    assert (doubled.width, doubled.height) == (80, 40)
