"""The embeddable API: Searcher.open/search/get/similar/suggest, on real indexes in temp dirs."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from pathlib import Path

import pytest

from procsearch.index import update_index
from procsearch.index.boosts import load_ranking
from procsearch.index.errors import IndexMissingError
from procsearch.index.schema import FIELD_TO_LABEL, TEXT_FIELDS
from procsearch.ingest.errors import ProcsearchError
from procsearch.ingest.record import ProcedureRecord
from procsearch.search.cli import _count_line
from procsearch.search.searcher import Hit, Results, Searcher
from procsearch.search.snippets import Snippet
from search_fixtures import (bundled_index, build, codes, copy_pages, searcher,  # noqa: F401  (fixtures)
                             write_page)

# -- opening and closing ----------------------------------------------------------------------------

def test_searcher_is_a_context_manager_that_closes(bundled_index: str) -> None:
    class Spy(Searcher):
        closed = 0

        def close(self) -> None:
            type(self).closed += 1
            super().close()

    with Spy.open(bundled_index) as s:
        assert isinstance(s, Spy)
        assert codes(s.search("EBP"))[:1] == ["62273"]
        assert Spy.closed == 0
    assert Spy.closed == 1
    s.close()  # closing again is harmless


def test_context_manager_does_not_swallow_errors(bundled_index: str) -> None:
    with pytest.raises(KeyError):
        with Searcher.open(bundled_index):
            raise KeyError("boom")


def test_open_missing_index_is_a_procsearch_error(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError) as info:
        Searcher.open(str(tmp_path / "nowhere"))
    assert isinstance(info.value, ProcsearchError)
    assert str(tmp_path / "nowhere") in str(info.value)


# -- get() ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spelling, code", [
    ("62273", "62273"),
    ("62273-50", "62273"),
    (" 62273 ", "62273"),
    ("0FT44ZZ", "0FT44ZZ"),
    ("0ft44zz", "0FT44ZZ"),
    ("0FT 44ZZ", "0FT44ZZ"),
    ("E0601", "E0601"),
    ("e0601", "E0601"),
    ("g0008", "G0008"),
])
def test_get_accepts_code_spellings(searcher: Searcher, spelling: str, code: str) -> None:
    record = searcher.get(spelling)
    assert isinstance(record, ProcedureRecord)
    assert record.code == code
    assert record.title and record.sections


@pytest.mark.parametrize("spelling", ["99999", "0FT44ZY", "", "   ", "knee", "0FT4", "622*", "62270-62273"])
def test_get_unknown_or_not_a_code_is_none(searcher: Searcher, spelling: str) -> None:
    assert searcher.get(spelling) is None


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Three bundled pages plus an ICD-10-CM page whose code is written with a dot (E11.9)."""
    base = tmp_path_factory.mktemp("small")
    corpus = copy_pages(["62273", "62270", "47562"], base / "corpus")
    write_page(corpus, "E11.9", "Type 2 diabetes mellitus without complications",
               sections={"Summary": "A diagnosis code used when type 2 diabetes has no recorded complication."},
               similar=[("E11.65", "Type 2 diabetes mellitus with hyperglycemia")],
               system_line="ICD-10-CM code E11.9", filename="diabetes.txt")
    return build(corpus, base / "ix")


@pytest.mark.parametrize("spelling", ["E11.9", "e11.9", "E119", "E11.9 "])
def test_get_icd10cm_with_or_without_dot(small_index: str, spelling: str) -> None:
    with Searcher.open(small_index) as s:
        record = s.get(spelling)
        assert record is not None and record.code == "E119"
        assert record.code_system == "ICD-10-CM"
        assert codes(s.search(spelling))[:1] == ["E119"]
        assert codes(s.search("E11.65")) == ["E119"]  # no page of its own: the page that lists it


def test_get_returns_the_whole_record(searcher: Searcher) -> None:
    record = searcher.get("62273")
    assert record.code_system == "CPT"
    assert record.name == "Epidural Blood Patch (EBP)"
    labels = [label for label, _ in record.sections]
    assert labels[0] == "Summary" and "Risks and Complications" in labels and "Recovery" in labels
    assert [c for c, _ in record.similar_codes] == ["62270", "62272", "62322", "62323", "64505"]
    assert record.source.endswith("62273.html")


# -- similar() --------------------------------------------------------------------------------------

def test_similar_lists_the_pages_own_similar_codes_first(searcher: Searcher) -> None:
    record = searcher.get("62273")
    listed = [c for c, _ in record.similar_codes]
    rows = searcher.similar("62273", limit=10)
    assert [c for c, _, _ in rows[:len(listed)]] == listed
    assert all(why == "listed on the page" for _, _, why in rows[:len(listed)])
    titles = {c: t for c, t, _ in rows}
    assert titles["62270"] == searcher.get("62270").title  # a page of its own: its title
    assert titles["62272"] == dict(record.similar_codes)["62272"]  # no page: the label on 62273's page
    rest = rows[len(listed):]
    assert rest, "look-alike pages should follow the listed codes"
    assert all(why == "similar wording" and searcher.get(c) is not None for c, _, why in rest)
    all_codes = [c for c, _, _ in rows]
    assert len(all_codes) == len(set(all_codes))
    assert "62273" not in all_codes


def test_similar_accepts_modifier_and_unknown_code(searcher: Searcher) -> None:
    assert searcher.similar("62273-50") == searcher.similar("62273")
    assert searcher.similar("99999") == []


def test_similar_of_a_page_without_similar_codes_respects_limit(searcher: Searcher) -> None:
    assert searcher.get("11042").similar_codes == ()
    rows = searcher.similar("11042", limit=3)
    assert 1 <= len(rows) <= 3
    assert all(why == "similar wording" for _, _, why in rows)
    assert "11042" not in [c for c, _, _ in rows]


# -- results are plain frozen values ----------------------------------------------------------------

def _check_plain(obj, path: str) -> None:
    assert not type(obj).__module__.startswith("whoosh"), f"{path}: Whoosh object {type(obj)!r}"
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return
    if isinstance(obj, tuple):
        for i, item in enumerate(obj):
            _check_plain(item, f"{path}[{i}]")
        return
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        assert obj.__dataclass_params__.frozen, f"{path}: {type(obj).__name__} is not frozen"
        for f in dataclasses.fields(obj):
            _check_plain(getattr(obj, f.name), f"{path}.{f.name}")
        return
    raise AssertionError(f"{path}: unexpected {type(obj).__name__} (only frozen dataclasses, tuples and scalars)")


@pytest.mark.parametrize("query, kwargs", [
    ("spinal headache after epidural", {"explain": True}),
    ('"blood patch" OR cholecystectomy', {"explain": True}),
    ("EBP", {}),
    ("62273", {}),
    ("622*", {}),
    ("cholecystecomy", {}),
    ("catarct system:HCPCS", {}),
    ("system:bogus knee", {}),
    ("risks:infection knee", {"code_system": "CPT", "sections": ["risks"]}),
])
def test_results_are_frozen_dataclasses_all_the_way_down(searcher: Searcher, query: str, kwargs: dict) -> None:
    results = searcher.search(query, **kwargs)
    assert isinstance(results, Results)
    _check_plain(results, "results")
    assert all(isinstance(h, Hit) for h in results.hits)
    assert all(isinstance(s, Snippet) for h in results.hits for s in h.snippets)
    with pytest.raises(dataclasses.FrozenInstanceError):
        results.total = 0  # type: ignore[misc]
    if results.hits:
        with pytest.raises(dataclasses.FrozenInstanceError):
            results.hits[0].score = 0.0  # type: ignore[misc]
    _check_plain(searcher.get("62273"), "record")


# -- threads ----------------------------------------------------------------------------------------

THREAD_QUERIES = ["spinal headache after epidural", "EBP", "knee replacement", '"blood patch"', "62273",
                  "622*", "cholecystecomy", "knee OR cataract", "system:HCPCS injection", "risks:infection knee"]


def _fingerprint(results: Results) -> tuple:
    return (results.total, results.corrected_query,
            tuple((h.code, h.score, tuple((s.section, s.text, s.highlights) for s in h.snippets))
                  for h in results.hits))


def test_one_searcher_shared_by_threads_gives_serial_results(searcher: Searcher) -> None:
    expected = {q: _fingerprint(searcher.search(q)) for q in THREAD_QUERIES}
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []
    mismatches: list[str] = []

    def work(n: int) -> None:
        try:
            barrier.wait()
            for i in range(50):
                q = THREAD_QUERIES[(n + i) % len(THREAD_QUERIES)]
                if _fingerprint(searcher.search(q)) != expected[q]:
                    mismatches.append(q)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert not mismatches, sorted(set(mismatches))


# -- a new index generation is picked up ------------------------------------------------------------

def test_searcher_sees_pages_added_changed_and_removed_by_update(tmp_path: Path) -> None:
    corpus = copy_pages(["62273", "62270", "47562"], tmp_path / "corpus")
    index_dir = build(corpus, tmp_path / "ix")
    with Searcher.open(index_dir) as s:
        assert s.get("99901") is None
        assert codes(s.search("zygomatic widget")) == []
        assert codes(s.search("gallbladder"))[:1] == ["47562"]

        write_page(corpus, "99901", "Zygomatic widget insertion", "Cheek Widget Placement",
                   {"Summary": "A zygomatic widget is inserted under the cheek bone.",
                    "Recovery": "Soft food for a week."})
        update_index([str(corpus)], index_dir, workers=1)
        assert s.get("99901") is not None
        assert codes(s.search("zygomatic widget"))[:1] == ["99901"]

        page = corpus / "62270.html"
        time.sleep(0.01)  # a new mtime even on coarse clocks
        page.write_text(page.read_text(encoding="utf-8").replace(
            "Lumbar Puncture (Spinal Tap)", "Lumbar Puncture (Spinal Tap, Quillquoddy Test)"), encoding="utf-8")
        update_index([str(corpus)], index_dir, workers=1)
        assert codes(s.search("quillquoddy")) == ["62270"]
        assert "Quillquoddy" in s.get("62270").name

        os.remove(corpus / "47562.html")
        update_index([str(corpus)], index_dir, workers=1)
        assert s.get("47562") is None
        assert "47562" not in codes(s.search("gallbladder cholecystectomy"))


# -- paging -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["knee", "injection", "EBP OR TKA", '"blood patch"', "0*", "spinal tap"])
def test_offset_and_limit_page_through_the_same_ranking(searcher: Searcher, query: str) -> None:
    full = searcher.search(query, limit=200)
    assert full.hits
    assert full.total == len(full.hits)
    paged: list[str] = []
    for offset in range(0, len(full.hits) + 3, 3):
        page = searcher.search(query, limit=3, offset=offset)
        assert page.offset == offset
        assert page.total == full.total
        assert len(page.hits) <= 3
        paged += codes(page)
    assert paged == codes(full)
    assert searcher.search(query, limit=0).hits == ()
    assert searcher.search(query, limit=5, offset=len(full.hits) + 10).hits == ()


@pytest.mark.parametrize("query, kwargs", [
    ("knee", {"code_system": "HCPCS"}),
    ("colonoscopy system:HCPCS", {}),
    ("colonoscopy -screening", {}),
    ("toradol system:ICD-10-CM", {}),
])
def test_total_counts_only_pages_that_pass_filters_and_exclusions(searcher: Searcher, query: str,
                                                                  kwargs: dict) -> None:
    results = searcher.search(query, limit=500, **kwargs)
    assert results.total == len(results.hits), f"total={results.total} but {len(results.hits)} hits"


# -- explain and expansion ---------------------------------------------------------------------------

KNOWN_NAMES = set(TEXT_FIELDS) | set(FIELD_TO_LABEL.values()) | {"code", "similar_codes"}


@pytest.mark.parametrize("query", ["spinal headache after epidural", '"blood patch"', "knee AND infection"])
def test_explain_names_fields_and_sections(searcher: Searcher, query: str) -> None:
    plain = searcher.search(query, limit=3)
    assert plain.hits and all(h.explanation == () for h in plain.hits)
    explained = searcher.search(query, limit=3, explain=True)
    assert codes(explained) == codes(plain)
    for hit in explained.hits:
        assert hit.explanation, hit.code
        names = [name for name, _ in hit.explanation]
        assert set(names) <= KNOWN_NAMES, names
        values = [v for _, v in hit.explanation]
        assert all(isinstance(v, float) and v > 0 for v in values)
        assert values == sorted(values, reverse=True)
    # a section label appears for a query answered from the page body
    assert any(n in FIELD_TO_LABEL.values() for h in explained.hits for n, _ in h.explanation)


def test_expand_false_searches_only_the_typed_words(searcher: Searcher, bundled_index: str) -> None:
    expanded = searcher.search("womb")
    assert expanded.expansions and "76805" in codes(expanded)  # "uterus" pages via the synonym
    assert not any("womb" in text.lower() for _, text in searcher.get("76805").sections)
    literal = searcher.search("womb", expand=False)
    assert literal.expansions == ()
    assert literal.hits == ()
    with Searcher.open(bundled_index, expand=False) as s:
        assert s.search("womb").hits == ()
        assert s.search("womb", expand=True).hits != ()


def test_expand_false_still_finds_pages_containing_the_abbreviation(searcher: Searcher) -> None:
    assert "EBP" in searcher.get("62273").name  # the page itself says EBP
    results = searcher.search("EBP", expand=False)
    assert results.expansions == ()
    assert codes(results)[:1] == ["62273"]
    assert {e.target for e in searcher.search("EBP").expansions} >= {"epidural blood patch"}


# -- nothing found -----------------------------------------------------------------------------------

def test_no_results(searcher: Searcher) -> None:
    results = searcher.search("xqzzvk")
    assert results.hits == () and results.total == 0 and len(results) == 0
    assert results.corrected_query is None and results.suggestions == ()


@pytest.mark.parametrize("query", ["catarct system:HCPCS", '"catarct"'])
def test_no_results_for_a_typo_suggests_the_spelling(searcher: Searcher, query: str) -> None:
    results = searcher.search(query)
    assert results.hits == ()
    assert any("cataract" in s for s in results.suggestions), results.suggestions


def test_suggest_orders_the_closest_word_first(searcher: Searcher) -> None:
    assert searcher.suggest("colonscopy")[:1] == ["colonoscopy"]
    assert searcher.suggest("spinal headache") == []
    assert searcher.suggest("EBP 62273") == []


# -- totals that paging can reach ----------------------------------------------------------------

def test_total_is_what_paging_lists_and_matched_what_the_query_matched(bundled_index: str) -> None:
    """The ranking re-scores a bounded number of candidates; with room for only a few, a word on
    many pages matches more than can be listed, and ``total`` says what paging reaches."""
    few = dataclasses.replace(load_ranking(), candidates=4, fallback_share=1)
    with Searcher.open(bundled_index, ranking=few) as s:
        whole = s.search("injection", limit=100, facets=True)
        assert whole.matched > whole.total == len(whole.hits) >= 2
        assert sum(c.count for c in whole.facets.code_systems) == whole.matched
        last = s.search("injection", limit=3, offset=whole.total - 1)
        assert codes(last) == codes(whole)[-1:] and (last.total, last.matched) == (whole.total, whole.matched)
        assert s.search("injection", limit=3, offset=whole.total).hits == ()
        line = _count_line(s.search("injection", limit=2))
        assert line == f"2 of {whole.total} hits, the best of {whole.matched} matching pages"


def test_total_equals_matched_when_every_match_is_ranked(searcher: Searcher) -> None:
    results = searcher.search("injection", limit=100)
    assert results.total == results.matched == len(results.hits) > 0
    assert _count_line(searcher.search("injection", limit=2)) == f"2 of {results.total} hits"
