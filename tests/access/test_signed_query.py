"""Query signatures (`?exp=&sig=`): what they cover, expiry against the clock, rotation."""

from __future__ import annotations

import pytest

from proxy.access.refusals import BadSignature, Expired, NoSignature
from proxy.access.signature import sign
from proxy.access.signed_query import QuerySignatures, sign_query, take_apart

PAIRS = ((b"secret", b"hello"),)


def signed(path: str, query: str = "", key: bytes = b"secret", salt: bytes = b"hello") -> str:
    return sign_query(path, query, key, salt, 32)


def test_the_issue_example_is_signed_as_it_stands():
    query = signed("/acme-private/secret.jpg", "exp=1767225600")
    expected = sign(b"secret", b"hello", "/acme-private/secret.jpg?exp=1767225600")
    assert query == f"exp=1767225600&sig={expected}"


def test_sig_is_left_out_of_what_it_covers_wherever_it_stands():
    parts = take_apart("/b/k", "a=1&sig=XYZ&exp=5")
    assert (parts.signature, parts.signed, parts.expires) == ("XYZ", "/b/k?a=1&exp=5", "5")
    assert take_apart("/b/k", "sig=XYZ").signed == "/b/k"


def test_a_valid_signature_passes_and_the_signature_of_another_path_does_not():
    checks = QuerySignatures(PAIRS, 32)
    checks.verify("/b/k.jpg", signed("/b/k.jpg"))
    with pytest.raises(BadSignature):
        checks.verify("/b/other.jpg", signed("/b/k.jpg"))


def test_changing_any_parameter_breaks_the_signature():
    checks = QuerySignatures(PAIRS, 32, clock=lambda: 0.0)
    query = signed("/image-converter/videoframe/33p/b/v.mp4", "videoStreamIndex=0&exp=100")
    checks.verify("/image-converter/videoframe/33p/b/v.mp4", query)
    for tampered in (query.replace("exp=100", "exp=200"), query.replace("Index=0", "Index=1")):
        with pytest.raises(BadSignature):
            checks.verify("/image-converter/videoframe/33p/b/v.mp4", tampered)


@pytest.mark.parametrize("query", ["", "exp=1", "sig=", "a=1&sig="])
def test_no_signature_is_refused_as_missing(query):
    with pytest.raises(NoSignature):
        QuerySignatures(PAIRS, 32).verify("/b/k", query)


@pytest.mark.parametrize("query", ["sig=a&sig=b", "exp=1&exp=2&sig=a"])
def test_doubled_parameters_are_refused(query):
    with pytest.raises(BadSignature):
        QuerySignatures(PAIRS, 32).verify("/b/k", query)


@pytest.mark.parametrize("exp", ["soon", "-5", "1e9", "١٢٣", "9" * 13])
def test_a_malformed_expiry_is_refused_even_when_signed(exp):
    with pytest.raises(BadSignature, match="exp"):
        QuerySignatures(PAIRS, 32).verify("/b/k", signed("/b/k", f"exp={exp}"))


def test_the_expiry_is_held_against_the_clock_on_every_request():
    now = [1000.0]
    checks = QuerySignatures(PAIRS, 32, clock=lambda: now[0])
    query = signed("/b/k", "exp=1500")
    checks.verify("/b/k", query)
    now[0] = 1500.0
    checks.verify("/b/k", query)  # valid up to and including its second
    now[0] = 1501.0
    with pytest.raises(Expired):
        checks.verify("/b/k", query)  # the memo of its signature does not keep it alive


def test_rotation_accepts_every_configured_pair():
    checks = QuerySignatures(((b"new", b"s2"), (b"old", b"s1")), 32)
    checks.verify("/b/k", signed("/b/k", key=b"old", salt=b"s1"))
    checks.verify("/b/k", signed("/b/k", key=b"new", salt=b"s2"))
    with pytest.raises(BadSignature):
        checks.verify("/b/k", signed("/b/k", key=b"gone", salt=b"s0"))


def test_signature_size_and_trusted_signatures_as_for_previews():
    short = sign_query("/b/k", "", b"secret", b"hello", 8)
    QuerySignatures(PAIRS, 8).verify("/b/k", short)
    with pytest.raises(BadSignature):
        QuerySignatures(PAIRS, 32).verify("/b/k", short)
    QuerySignatures(PAIRS, 32, trusted={"letmein"}).verify("/any/thing", "sig=letmein")


def test_a_refusal_is_not_memoised():
    checks = QuerySignatures(PAIRS, 32)
    for _ in range(3):
        with pytest.raises(BadSignature):
            checks.verify("/b/k", "sig=wrong")
    assert checks._checked.cache_info().currsize == 0
