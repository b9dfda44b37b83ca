"""What keep_copyright keeps of IPTC and XMP blocks (proxy.previews.copyright)."""

import struct

from proxy.previews.copyright import PS3_HEADER, filter_iptc, filter_xmp


def record(tag: int, text: str, number: int = 2) -> bytes:
    data = text.encode()
    return b"\x1c" + bytes([number, tag]) + struct.pack(">H", len(data)) + data


def resource(kind: bytes, body: bytes, name: bytes = b"") -> bytes:
    pascal = bytes([len(name)]) + name
    pascal += b"\x00" * (len(pascal) % 2)
    return b"8BIM" + kind + pascal + struct.pack(">I", len(body)) + body + b"\x00" * (len(body) % 2)


def block(*resources: bytes) -> bytes:
    return PS3_HEADER + b"".join(resources)


def records_of(filtered: bytes) -> bytes:
    assert filtered.startswith(PS3_HEADER + b"8BIM\x04\x04\x00\x00")
    (size,) = struct.unpack_from(">I", filtered, len(PS3_HEADER) + 8)
    body = filtered[len(PS3_HEADER) + 12 :]
    assert len(body) == size + size % 2  # padded to an even length
    return body[:size]


def test_only_by_line_credit_and_copyright_stay_of_record_2() -> None:
    by_line, credit, notice = record(80, "Jane Doe"), record(110, "Agency"), record(116, "(c)")
    envelope = record(90, "\x1b%G", number=1)  # other records stay whole
    records = [envelope, record(5, "Secret title"), by_line, record(25, "keyword"), credit]
    records += [record(120, "caption"), notice]
    data = block(resource(b"\x04\x04", b"".join(records)))
    assert records_of(filter_iptc(data) or b"") == envelope + by_line + credit + notice


def test_other_photoshop_resources_are_dropped_and_named_resources_skipped() -> None:
    thumbnail = resource(b"\x04\x0c", b"\xff\xd8 a thumbnail", name=b"thumb")
    iptc = resource(b"\x04\x04", record(116, "(c)"), name=b"abc")
    filtered = filter_iptc(block(thumbnail, iptc)) or b""
    assert records_of(filtered) == record(116, "(c)")
    assert b"thumbnail" not in filtered


def test_nothing_to_keep_is_none() -> None:
    assert filter_iptc(block(resource(b"\x04\x04", record(5, "title")))) is None
    assert filter_iptc(block(resource(b"\x04\x0c", b"no iptc here"))) is None
    assert filter_iptc(b"8BIM\x04\x04" + bytes(20)) is None  # no Photoshop header
    assert filter_iptc(PS3_HEADER) is None


def test_extended_sizes_are_read_and_bad_ones_stop_the_walk() -> None:
    text = b"x" * 40
    extended = b"\x1c\x02\x74" + struct.pack(">H", 0x8004) + struct.pack(">I", len(text)) + text
    data = block(resource(b"\x04\x04", extended + record(80, "Jane")))
    assert records_of(filter_iptc(data) or b"") == extended + record(80, "Jane")
    bad_width = b"\x1c\x02\x74" + struct.pack(">H", 0x8003) + b"\x00\x00\x00"
    data = block(resource(b"\x04\x04", record(80, "Jane") + bad_width + record(116, "(c)")))
    assert records_of(filter_iptc(data) or b"") == record(80, "Jane")


def test_truncated_data_keeps_only_whole_records() -> None:
    whole = record(80, "Jane Doe")
    cut = record(116, "(c) 2024 someone")[:-4]
    assert records_of(filter_iptc(block(resource(b"\x04\x04", whole + cut))) or b"") == whole
    truncated_block = block(resource(b"\x04\x04", whole))[:-6]
    assert filter_iptc(truncated_block) is None  # its one record is cut


RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


def xmp(description: str, attributes: str = "") -> bytes:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        f'<rdf:RDF xmlns:rdf="{RDF}"><rdf:Description rdf:about="" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/" '
        f'xmlns:cc="http://creativecommons.org/ns#"{attributes}>{description}'
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()


def test_xmp_keeps_dublin_core_rights_and_the_rights_namespaces() -> None:
    data = xmp(
        "<dc:rights>(c) Jane</dc:rights><dc:creator>Jane</dc:creator>"
        "<dc:title>Secret title</dc:title><xmp:CreatorTool>Secret Tool</xmp:CreatorTool>"
        "<xmpRights:Marked>True</xmpRights:Marked><cc:license>by</cc:license>",
        ' xmp:Rating="5" xmpRights:WebStatement="https://x/"',
    )
    out = filter_xmp(data) or b""
    for kept in (b"(c) Jane", b">Jane<", b"Marked", b"license", b"WebStatement", b"rdf:about"):
        assert kept in out
    for dropped in (b"Secret", b"Rating", b"CreatorTool"):
        assert dropped not in out


def test_xmp_with_nothing_to_keep_or_not_parsing_is_none() -> None:
    assert filter_xmp(xmp("<xmp:CreatorTool>Tool</xmp:CreatorTool>")) is None
    assert filter_xmp(b"<x:xmpmeta><unclosed>") is None
    assert filter_xmp(b"\x00\x01 not xml") is None


def test_xmp_padding_is_allowed_entities_are_not() -> None:
    rights = xmp("<dc:rights>(c)</dc:rights>")
    assert b"(c)" in (filter_xmp(rights + b"\x00" * 8) or b"")
    bomb = b'<!DOCTYPE x [<!ENTITY a "(c)">]>' + rights.replace(b"(c)", b"&a;")
    assert filter_xmp(bomb) is None
