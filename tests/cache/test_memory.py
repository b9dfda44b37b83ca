from proxy.cache.entry import Meta
from proxy.cache.memory import MemoryTier, Remembered


def remembered(size: int) -> Remembered:
    return Remembered(Meta("t", "e", 0.0, size), b"x" * size, 1.0, 0.0, 0.0, "b/k", "e")


def test_the_least_recently_used_go_first_and_the_bound_holds():
    tier = MemoryTier(capacity=300, max_entry=200)
    for key in "abc":
        tier.put(key, remembered(100))
    tier.get("a")
    tier.put("d", remembered(100))
    assert tier.get("b") is None and tier.get("a") is not None
    assert tier.used <= 300


def test_large_bodies_are_not_kept_and_zero_turns_it_off():
    assert MemoryTier(capacity=1000, max_entry=10).put("k", remembered(11)) is None
    off = MemoryTier(capacity=0, max_entry=10)
    off.put("k", remembered(5))
    assert off.get("k") is None


def test_spaces_share_one_bound_and_keep_their_keys_apart():
    tier = MemoryTier(capacity=300, max_entry=200)
    storage, previews = tier.space("storage"), tier.space("previews")
    storage.put("k", remembered(100))
    previews.put("k", remembered(150))
    assert storage.get("k") is not None and previews.get("k").body == b"x" * 150
    previews.put("j", remembered(100))  # 350 over the one bound: the oldest of all goes
    assert storage.get("k") is None and tier.used == 250
    previews.clear()
    storage.put("k", remembered(10))
    assert (previews.get("j"), tier.used) == (None, 10)
