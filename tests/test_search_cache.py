"""The posting list and header caches: answers identical whether lists and header terms come from
disk or from the cache, and what they hold stays within its bound; candidate selection matches
heapq's."""

from __future__ import annotations

import heapq
import random

import numpy as np

from procsearch.index.schema import RESCORE_FIELDS, decode_header_terms, header_word_lists
from procsearch.search.engine import Engine, _top
from procsearch.search.postings import Postings, PostingsCache
from procsearch.search.searcher import Searcher
from search_fixtures import bundled_index  # noqa: F401  (fixture)

QUERIES = ["EBP", "epidural blood patch", "knee replacement", "removal of gallbladder", "spinal headache",
           "colonoscopy biopsy", "excision of lesion", "risks:infection knee", "heart valve", "62273"]


def _answers(s: Searcher) -> list[tuple]:
    return [tuple((h.code, h.score, h.snippets, h.matched_sections) for h in s.search(q, limit=10).hits)
            for q in QUERIES]


def _with_cache(index_dir: str, max_postings: int, max_header_bytes: int = 48 << 20) -> Searcher:
    s = Searcher(index_dir)
    s._engine = Engine(s._searcher, s.ranking, cache_postings=max_postings, cache_headers=max_header_bytes)
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


def test_a_small_header_cache_gives_the_same_answers(bundled_index: str) -> None:
    with _with_cache(bundled_index, 0) as full, _with_cache(bundled_index, 0, 2_000) as small:
        expected = _answers(full)
        assert _answers(small) == expected  # pages decoded again after their eviction
        assert _answers(small) == expected
        assert 0 < len(small._engine.headers) < len(full._engine.headers)
        assert small._engine.headers.held <= 2_000


def test_header_terms_as_ids_read_back_as_stored(bundled_index: str) -> None:
    with Searcher(bundled_index) as s:
        engine = s._engine
        docs = list(range(engine.n))[::-1]  # not in index order
        pool = engine.headers.pool(docs)
        assert pool.lengths.sum() == len(pool.tokens)
        for i, d in enumerate(docs):
            seg = [g for g in engine.segments if g.offset <= d][-1]
            assert pool.words(i) == decode_header_terms(seg.header(d - seg.offset))
        again = engine.headers.pool(docs[:5])  # from the cache
        assert [again.words(i) for i in range(5)] == [pool.words(i) for i in range(5)]


def test_header_word_lists_read_every_shape_as_decode_header_terms() -> None:
    raws = [b"title words\n\ntech\nsummary one two", b"", b"only a title", b"a\nb\nc\nd\nextra line",
            "caf\u00e9 \u00e9tude\nn\n\n".encode("utf-8")]
    lists = header_word_lists(raws)
    width = len(RESCORE_FIELDS)
    assert len(lists) == width * len(raws)
    for i, raw in enumerate(raws):
        expected = decode_header_terms(raw) if raw else {}
        assert {f: ws for f, ws in zip(RESCORE_FIELDS, lists[i * width:(i + 1) * width]) if ws} == expected
    uniform = [b"a b\nc\n\nd", b"e\n\nf g\nh"]  # every page in the usual shape: one split for all
    assert header_word_lists(uniform) == [["a", "b"], ["c"], [], ["d"], ["e"], [], ["f", "g"], ["h"]]


def test_warming_decodes_every_page_and_changes_no_answer(bundled_index: str) -> None:
    with Searcher(bundled_index) as cold, Searcher(bundled_index) as warm:
        assert len(warm._engine.headers) == 0
        assert warm.warm() == warm._engine.n == len(warm._engine.headers)
        assert _answers(warm) == _answers(cold)


def test_warming_stops_at_the_cache_bound(bundled_index: str) -> None:
    with _with_cache(bundled_index, 0, 4_000) as small:
        kept = small.warm()
        assert 0 < kept < small._engine.n and small._engine.headers.held <= 4_000
        with Searcher(bundled_index) as full:
            assert _answers(small) == _answers(full)
