"""The programs function's answer cache keeps the answers used last, up to its size."""

from affiliate_matrix.handlers.answer_cache import AnswerCache


def test_the_least_recently_used_answer_makes_room():
    cache = AnswerCache(size=2)
    cache.put("a", {"n": 1})
    cache.put("b", {"n": 2})
    assert cache.get("a") == {"n": 1}  # a hit makes "a" the most recently used
    cache.put("c", {})
    assert "b" not in cache and "a" in cache and "c" in cache
    cache.put("a", {"n": 3})  # replacing an answer uses it too
    cache.put("d", {})
    assert "c" not in cache and cache.get("a") == {"n": 3} and cache.get("d") == {}
    assert cache.get("missing") is None


def test_one_caller_takes_on_each_generations_warm_up():
    cache = AnswerCache(size=2)
    assert cache.claim_warm_up("g1") and not cache.claim_warm_up("g1") and cache.claim_warm_up("g2")
