"""The bearer secret: `Authorization: Bearer <token>`, compared in constant time."""

from __future__ import annotations

import pytest

from proxy.access.bearer import Bearer
from proxy.access.refusals import BadBearer, NoBearer

TOKEN = "s3cr3t-t0ken-0123456789"


@pytest.mark.parametrize("header", [f"Bearer {TOKEN}", f"bearer  {TOKEN} ", f"BEARER {TOKEN}"])
def test_the_token_passes_whatever_the_scheme_case(header):
    Bearer(TOKEN).check(header)


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", f"Basic {TOKEN}", TOKEN])
def test_no_bearer_token_is_a_401_with_a_challenge(header):
    with pytest.raises(NoBearer) as refused:
        Bearer(TOKEN).check(header)
    assert refused.value.status == 401
    assert refused.value.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("given", [TOKEN[:-1], TOKEN + "x", TOKEN.upper(), "x" * len(TOKEN)])
def test_a_wrong_token_is_a_401_saying_invalid_token(given):
    with pytest.raises(BadBearer) as refused:
        Bearer(TOKEN).check(f"Bearer {given}")
    assert 'error="invalid_token"' in refused.value.headers["WWW-Authenticate"]
    assert TOKEN not in str(refused.value) and given not in str(refused.value)
