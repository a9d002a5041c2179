"""Completions of a half-typed query (Searcher.complete): codes, title starts, words."""

from __future__ import annotations

from pathlib import Path

from procsearch.index import build_index, update_index
from procsearch.index.analysis import terms
from procsearch.search.searcher import Searcher
from search_fixtures import bundled_index, copy_pages, searcher, write_page  # noqa: F401 - fixtures


def test_code_prefix_lists_codes_in_order_with_titles(searcher) -> None:
    found = [c for c in searcher.complete("6227") if c.kind == "code"]
    indexed = [h.code for h in searcher.search("6227*", limit=100).hits]  # the prefix listing, in code order
    assert len(indexed) >= 2 and [c.code for c in found] == indexed
    assert all(c.title and c.text == c.code for c in found)
    assert found[0].title == searcher.get(found[0].code).title


def test_code_completion_comes_first_for_a_code_being_typed(searcher) -> None:
    assert searcher.complete("622")[0].kind == "code"


def test_title_start_completes_whole_titles(searcher) -> None:
    found = [c for c in searcher.complete("colono") if c.kind == "title"]
    assert found and all(c.title.lower().startswith("colonoscopy") for c in found)
    assert all(searcher.get(c.code).title == c.title for c in found)
    # Shortest titles (in index terms) first.
    assert [len(terms(c.title)) for c in found] == sorted(len(terms(c.title)) for c in found)


def test_title_words_are_matched_as_index_terms(searcher) -> None:
    """Case, plurals and a stem-changing half word ("Spinal punctur") still find the title."""
    found = [c.title for c in searcher.complete("SPINAL PUNCTUR") if c.kind == "title"]
    assert any(t.startswith("Spinal puncture") for t in found), found


def test_last_word_is_completed_from_page_words(searcher) -> None:
    words = [c.text for c in searcher.complete("lumbar punc") if c.kind == "word"]
    assert "lumbar puncture" in words
    # One form of each word, not its inflections as well.
    assert "lumbar punctures" not in words


def test_nothing_to_complete(searcher) -> None:
    assert searcher.complete("") == []
    assert searcher.complete("   ") == []
    assert searcher.complete("zzqqxxv") == []
    assert searcher.complete("62273", limit=0) == []


def test_completions_are_unique_and_limited(searcher) -> None:
    found = searcher.complete("e", limit=5) + searcher.complete("ep", limit=3)
    assert len(searcher.complete("ep", limit=3)) <= 3
    assert len({(c.kind, c.text) for c in found}) == len(found)


def test_a_new_generation_brings_new_completions(tmp_path: Path) -> None:
    corpus = copy_pages(["62273", "62270"], tmp_path / "corpus")
    index_dir = str(tmp_path / "ix")
    build_index([str(corpus)], index_dir, workers=1)
    with Searcher.open(index_dir) as s:
        assert not [c for c in s.complete("Zygomatic") if c.kind == "title"]
        write_page(corpus, "21356", "Zygomatic arch fracture repair", sections={"Summary": "Open repair of the arch."})
        update_index([str(corpus)], index_dir)
        titles = [c for c in s.complete("Zygomatic") if c.kind == "title"]
        assert [(c.code, c.title) for c in titles] == [("21356", "Zygomatic arch fracture repair")]
        assert [c.code for c in s.complete("2135") if c.kind == "code"] == ["21356"]
