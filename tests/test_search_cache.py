"""The posting list cache: answers identical whether lists come from disk or from the cache, and
the number of postings it holds stays within its bound; candidate selection matches heapq's."""

from __future__ import annotations

import heapq
import random

import numpy as np

from procsearch.search.engine import Engine, _top
from procsearch.search.postings import Postings, PostingsCache
from procsearch.search.searcher import Searcher
from search_fixtures import bundled_index  # noqa: F401  (fixture)

QUERIES = ["EBP", "epidural blood patch", "knee replacement", "removal of gallbladder", "spinal headache",
           "colonoscopy biopsy", "excision of lesion", "risks:infection knee", "heart valve", "62273"]


def _answers(s: Searcher) -> list[tuple]:
    return [tuple((h.code, h.score, h.snippets, h.matched_sections) for h in s.search(q, limit=10).hits)
            for q in QUERIES]


def _with_cache(index_dir: str, max_postings: int) -> Searcher:
    s = Searcher(index_dir)
    s._engine = Engine(s._searcher, s.ranking, cache_postings=max_postings)
    return s


def test_cached_postings_give_the_same_answers(bundled_index: str) -> None:
    with _with_cache(bundled_index, 0) as uncached, _with_cache(bundled_index, 1_000_000) as cached:
        expected = _answers(uncached)
        assert len(uncached._engine._postings) == 0
        assert _answers(cached) == expected  # cold: lists read and kept
        assert len(cached._engine._postings) > 0
        assert _answers(cached) == expected  # warm: every list from the cache


def test_a_small_cache_stays_within_its_bound(bundled_index: str) -> None:
    with _with_cache(bundled_index, 1_000_000) as full, _with_cache(bundled_index, 50) as small:
        expected = _answers(full)
        assert _answers(small) == expected
        assert 0 < small._engine._postings.held <= 50
        assert full._engine._postings.held > 50


def _postings(n: int) -> Postings:
    return Postings(np.arange(n, dtype=np.int64), np.full(n, 0.5))


def test_least_recently_used_lists_go_first() -> None:
    cache = PostingsCache(10)
    cache.put(("title", "a"), _postings(4))
    cache.put(("title", "b"), _postings(4))
    assert cache.get(("title", "a")) is not None  # now b is the least recently used
    cache.put(("title", "c"), _postings(4))
    assert cache.get(("title", "b")) is None
    assert cache.get(("title", "a")) is not None and cache.get(("title", "c")) is not None
    assert cache.held == 8
    cache.put(("title", "huge"), _postings(11))  # larger than the whole bound: not kept
    assert cache.get(("title", "huge")) is None and cache.held == 8


def test_top_pages_are_those_heapq_picks() -> None:
    rng = random.Random(7)
    for size in (3, 50, 500):
        scores = {d: float(rng.randrange(20)) for d in rng.sample(range(10_000), size)}  # many ties
        expected = [d for _, d in heapq.nlargest(40, [(s, d) for d, s in scores.items()])]
        docs = np.array(sorted(scores), dtype=np.int64)
        assert _top(docs, np.array([scores[d] for d in docs.tolist()]), 40).tolist() == sorted(expected)
