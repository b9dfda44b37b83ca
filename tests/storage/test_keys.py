import pytest

from proxy.storage.errors import InvalidKey
from proxy.storage.keys import validate_key


@pytest.mark.parametrize(
    "key",
    ["", "/abs", "a/../b", "..", "./a", "a/./b", "a//b", "a\\b", "a\x00b", "a\nb", "x" * 1100],
)
def test_keys_that_could_escape_or_no_provider_holds_are_refused(key):
    with pytest.raises(InvalidKey):
        validate_key(key)


@pytest.mark.parametrize(
    "key", ["a.jpg", "images/original/2/X/Re/photo.jpg", "x/y..z/..a", "ünïcödé/名前.png", "%2e%2e"]
)
def test_ordinary_keys_pass(key):
    validate_key(key)
