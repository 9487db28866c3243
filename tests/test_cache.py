"""The answer cache: LRU bound, normalised keys, and never an answer from another catalog version."""

from __future__ import annotations

from domainlm.cache import AnswerCache, cache_key, normalise
from domainlm.generate import GenerationParams


def test_key_normalises_the_conversation_and_separates_what_matters():
    p = GenerationParams(max_new_tokens=32)
    assert normalise("  How much is   Lagavulin?? ") == "how much is lagavulin"
    k = cache_key("product-expert", [], "How much is Lagavulin?", "v1", p)
    assert k == cache_key("product-expert", [], " how much is lagavulin ", "v1", p)
    assert k != cache_key("support-agent", [], "How much is Lagavulin?", "v1", p)
    assert k != cache_key("product-expert", [], "How much is Lagavulin?", "v2", p)
    assert k != cache_key("product-expert", [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
                          "How much is Lagavulin?", "v1", p)
    assert k != cache_key("product-expert", [], "How much is Lagavulin?", "v1", GenerationParams(max_new_tokens=64))


def test_lru_bound_and_recency():
    cache = AnswerCache(2)
    cache.put("a", "v1", 1)
    cache.put("b", "v1", 2)
    assert cache.get("a", "v1") == 1  # a is now the most recent
    cache.put("c", "v1", 3)
    assert cache.get("b", "v1") is None and cache.get("a", "v1") == 1 and cache.get("c", "v1") == 3
    assert len(cache) == 2


def test_never_serves_an_answer_from_an_older_catalog_version():
    cache = AnswerCache(8)
    cache.put("k", "old", "price $89.99")
    assert cache.get("k", "new") is None  # even under the same key
    assert cache.drop_other_versions("new") == 1 and len(cache) == 0


def test_size_zero_disables():
    cache = AnswerCache(0)
    cache.put("k", "v", 1)
    assert cache.get("k", "v") is None and len(cache) == 0
