import pytest

from proxy.access.signature import sign, verify
from proxy.errors import Forbidden

VECTOR_PATH = "/rs:fill:300:400:0/g:sm/aHR0cDovL2V4YW1w/bGUuY29tL2ltYWdl/cy9jdXJpb3NpdHku/anBn.png"


def test_imgproxy_vector():
    assert sign(b"secret", b"hello", VECTOR_PATH) == "oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8"


def test_vector_verifies_and_tampering_does_not():
    pairs = ((b"secret", b"hello"),)
    verify("oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8", VECTOR_PATH, pairs, 32)
    with pytest.raises(Forbidden):
        verify("oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8", VECTOR_PATH + "x", pairs, 32)


def test_rotation_accepts_any_configured_pair():
    pairs = ((b"old", b"salt1"), (b"secret", b"hello"))
    verify(sign(b"old", b"salt1", "/x"), "/x", pairs, 32)
    verify(sign(b"secret", b"hello", "/x"), "/x", pairs, 32)


def test_truncated_signature_size():
    short = sign(b"secret", b"hello", VECTOR_PATH, size=8)
    assert len(short) == 11
    verify(short, VECTOR_PATH, ((b"secret", b"hello"),), 8)
    with pytest.raises(Forbidden):
        verify(short, VECTOR_PATH, ((b"secret", b"hello"),), 32)


@pytest.mark.parametrize("signature", ["q", "_", "insecure", "anything"])
def test_without_a_key_any_plain_segment_passes(signature):
    verify(signature, "/w:1/plain/a/b", (), 32)


@pytest.mark.parametrize("signature", ["", "w:1"])
def test_without_a_key_the_segment_must_still_be_a_signature(signature):
    with pytest.raises(Forbidden):
        verify(signature, "/plain/a/b", (), 32)
