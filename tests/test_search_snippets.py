"""Snippets: section-labelled fragments whose highlights mark the query's words (upper-case formatter)."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from procsearch.index.analysis import terms
from procsearch.search.cli import cli
from procsearch.search.searcher import Hit, Searcher
from procsearch.search.snippets import SNIPPET_CHARS, Snippet
from search_fixtures import bundled_index, codes, searcher  # noqa: F401  (fixtures)


def hit_for(searcher: Searcher, query: str, code: str, **kw) -> Hit:
    for hit in searcher.search(query, limit=20, **kw).hits:
        if hit.code == code:
            return hit
    raise AssertionError(f"{code} not in the results of {query!r}")


def query_terms(query: str, expansions=()) -> set[str]:
    found = set(terms(query))
    for e in expansions:
        found.update(terms(e.target))
    return found


def test_lumbar_puncture_headache_on_the_blood_patch_page(searcher: Searcher) -> None:
    hit = hit_for(searcher, "lumbar puncture headache", "62273")
    first = hit.snippets[0]
    assert first.section == "Indications"  # the section saying all three words, not merely the first
    shown = first.render(str.upper)
    assert "Post-dural PUNCTURE HEADACHE (PDPH)" in shown
    assert "after a LUMBAR PUNCTURE (LP)" in shown
    assert "Indications" in hit.matched_sections
    assert shown.lower() == first.text.lower()  # marking changes case only


def test_render_marks_exactly_the_highlights(searcher: Searcher) -> None:
    snippet = hit_for(searcher, "epidural blood patch", "62273").snippets[0]
    assert snippet.highlights
    bracketed = snippet.render(lambda s: f"[{s}]")
    assert bracketed.count("[") == len(snippet.highlights)
    assert bracketed.replace("[", "").replace("]", "") == snippet.text
    marked = re.findall(r"\[([^\]]*)\]", bracketed)
    assert [m.lower() for m in marked][:3] == ["epidural", "blood", "patch"]
    assert snippet.render() == snippet.render(str.upper)  # upper case is the default mark


@pytest.mark.parametrize("query", ["lumbar puncture headache", "EBP", "knee replacement", "risks:infection knee",
                                   '"blood patch"', "cholecystecomy", "tubes in ears"])
def test_highlights_are_in_bounds_ordered_and_on_query_terms(searcher: Searcher, query: str) -> None:
    results = searcher.search(query, limit=5)
    allowed = query_terms(results.corrected_query or query, results.expansions)
    assert results.hits
    for hit in results.hits:
        assert 1 <= len(hit.snippets) <= 2
        for snippet in hit.snippets:
            assert snippet.section in hit.matched_sections
            assert "\n" not in snippet.text
            assert len(snippet.text) <= SNIPPET_CHARS + 2  # plus the two ellipses at most
            last = 0
            for start, end in snippet.highlights:
                assert last <= start < end <= len(snippet.text), (hit.code, snippet)
                last = end
                assert set(terms(snippet.text[start:end])) & allowed, (hit.code, snippet.text[start:end])


def test_snippet_of_a_section_scoped_search_comes_from_that_section(searcher: Searcher) -> None:
    for code in ("29881", "27130"):
        hit = hit_for(searcher, "crutches", code, sections=["recovery"])
        assert [s.section for s in hit.snippets] == ["Recovery"]
        assert "CRUTCHES" in hit.snippets[0].render(str.upper)
        assert hit.matched_sections == ("Recovery",)


def test_fragment_cut_from_the_middle_has_ellipses_and_shifted_offsets(searcher: Searcher) -> None:
    hit = hit_for(searcher, "crutches", "29881", sections=["recovery"])
    snippet = hit.snippets[0]
    assert snippet.text.startswith("\u2026")
    (start, end), = snippet.highlights
    assert snippet.text[start:end].lower() == "crutches"


def test_page_matched_only_by_its_similar_codes_shows_its_summary(searcher: Searcher) -> None:
    hit = hit_for(searcher, "62272", "62270")  # 62272 has no page; 62270 lists it
    assert hit.matched_sections == ()
    (snippet,) = hit.snippets
    assert snippet.section == "Summary" and snippet.highlights == ()
    assert snippet.text.startswith("A diagnostic lumbar puncture")


def test_code_in_page_text_is_highlighted(searcher: Searcher) -> None:
    snippet = hit_for(searcher, "E0601", "E0601").snippets[0]
    assert "E0601" in [snippet.text[s:e] for s, e in snippet.highlights]


def test_html_escapes_page_text() -> None:
    snippet = Snippet("Summary", 'knee <script>alert("x")</script> & more', ((0, 4), (33, 34)))
    assert snippet.html() == ('<mark>knee</mark> &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; '
                              '<mark>&amp;</mark> more')
    assert snippet.render(str.upper) == 'KNEE <script>alert("x")</script> & more'


def test_json_output_highlight_offsets_index_the_snippet_text(bundled_index: str) -> None:
    result = CliRunner().invoke(cli, ["search", "lumbar puncture headache", "--index", bundled_index,
                                      "--format", "json", "--limit", "5"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    allowed = set(terms(data["query"]))
    for e in data["expansions"]:
        allowed.update(terms(e["target"]))
    assert "62273" in [h["code"] for h in data["hits"]]
    checked = 0
    for hit in data["hits"]:
        for snippet in hit["snippets"]:
            text = snippet["text"]
            for start, end in snippet["highlights"]:
                assert 0 <= start < end <= len(text)
                assert set(terms(text[start:end])) & allowed, text[start:end]
                checked += 1
    assert checked >= 10
    blood_patch = next(h for h in data["hits"] if h["code"] == "62273")
    first = blood_patch["snippets"][0]
    marked = [first["text"][s:e].lower() for s, e in first["highlights"]]
    assert first["section"] == "Indications"
    assert {"puncture", "headache", "lumbar"} <= set(marked)


# -- how sections are weighed (search/snippets.py HighlightWords, Wording) -----------------------

def _sections_shown(sections: dict[str, str], wordings, highlight: set[str]) -> list[str]:
    from procsearch.ingest.record import ProcedureRecord
    from procsearch.search.snippets import HighlightWords, make_snippets

    record = ProcedureRecord("99901", "CPT", "Title", sections=tuple(sections.items()))
    words = HighlightWords(frozenset(highlight), wordings)
    snippets, _ = make_snippets(record, highlight, {}, words=words)
    return [s.section for s in snippets]


def test_an_expansion_never_outweighs_the_word_typed() -> None:
    from procsearch.search.snippets import Wording

    # "haemorrhage" typed (a common word here), "epistaxis" its expansion (rarer): the expansion
    # weighs its rarity times its weight, but never more than the typed word times that weight.
    typed, expansion = terms("haemorrhage")[0], terms("epistaxis")[0]
    wordings = [Wording("bleeding", {typed: 2.0}), Wording("bleeding", {expansion: 8.0 * 0.6}, cap=2.0 * 0.6)]
    sections = {"Recovery": "Some haemorrhage may occur.", "Risks and Complications": "Epistaxis may occur."}
    assert _sections_shown(sections, wordings, {typed, expansion}) == ["Recovery", "Risks and Complications"]
    uncapped = [wordings[0], Wording("bleeding", {expansion: 8.0 * 0.6})]
    assert _sections_shown(sections, uncapped, {typed, expansion})[0] == "Risks and Complications"


def test_a_concept_counts_once_in_a_section_at_its_best_wording() -> None:
    from procsearch.search.snippets import Wording

    # Three synonyms of one concept in one section do not beat one rarer word of another concept.
    a, b, c, rare = (terms(w)[0] for w in ("sling", "brace", "splint", "driving"))
    wordings = [Wording("support", {a: 1.0}), Wording("support", {b: 1.0}), Wording("support", {c: 1.0}),
                Wording("drive", {rare: 1.5})]
    sections = {"Recovery": "A sling, a brace or a splint is worn.", "Preparation": "Arrange driving home."}
    assert _sections_shown(sections, wordings, {a, b, c, rare})[0] == "Preparation"


def test_the_words_typed_add_up() -> None:
    from procsearch.search.snippets import Wording

    # All the words typed for one concept ("blood patch") say more than one of them.
    blood, patch, other = terms("blood")[0], terms("patch")[0], terms("headache")[0]
    wordings = [Wording("blood patch", {blood: 1.0, patch: 1.0}), Wording("headache", {other: 1.5})]
    sections = {"Summary": "A headache.", "Procedure Description": "The blood patch is placed."}
    assert _sections_shown(sections, wordings, {blood, patch, other})[0] == "Procedure Description"


def test_the_pages_topic_says_less_than_a_word_one_section_holds() -> None:
    from procsearch.search.snippets import Wording

    # "bunion" is in every section; "spacers" only in Alternatives, though rarer over pages it is not.
    topic, answer = terms("bunion")[0], terms("spacers")[0]
    wordings = [Wording("bunion", {topic: 3.0}), Wording("spacers", {answer: 2.0})]
    sections = {"Summary": "Bunion surgery.", "Indications": "A painful bunion.", "Risks and Complications":
                "The bunion comes back.", "Alternatives": "Toe spacers and wider shoes."}
    assert _sections_shown(sections, wordings, {topic, answer})[0] == "Alternatives"
