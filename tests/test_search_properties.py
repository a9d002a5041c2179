"""Property tests: any query string gives Results; snippets escape any text and highlight only query terms."""

from __future__ import annotations

import html
import re

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from procsearch.index import field_boosts
from procsearch.index.analysis import analyze, terms
from procsearch.ingest.record import ProcedureRecord
from procsearch.search.searcher import Results, Searcher
from procsearch.search.snippets import Snippet, _spans, make_snippets
from search_fixtures import bundled_index, searcher  # noqa: F401  (fixtures)

# Pieces of the query language and of awkward text, glued together in any order.
ATOMS = [
    "AND", "OR", "NOT", "&&", "||", "(", ")", '"', ":", "-", "*", "+", "|", " ", " ", " ",
    "knee", "EBP", "spinal tap", "epidural", "cholecystecomy", "colonscopy", "womb", "pad", "PET",
    "62273", "62273-50", "0FT44ZZ", "0ft4", "622*", "62270-62273", "E11.9", "E0601", "99999",
    "risks:", "risks:infection", "system:", "system:HCPCS", "system:bogus", "section:recovery", "section:",
    "title:", "code:", "foo:bar", "-knee", "NOT(", '"blood', 'patch"', "::", "*:*",
    "résumé", "日本語", "İ", "ﬁ", "ß", "🙂", "\u200b", "\u202e", "\x00", "\t", "\n", "\x1b[31m", "\ud7ff",
]
QUERIES = st.one_of(
    st.text(),
    st.lists(st.sampled_from(ATOMS), max_size=12).map("".join),
    st.lists(st.one_of(st.sampled_from(ATOMS), st.text(max_size=4)), max_size=8).map(" ".join),
)


@settings(max_examples=10_000, deadline=None, database=None, phases=[Phase.explicit, Phase.generate, Phase.shrink],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(query=QUERIES)
def test_any_query_returns_results(searcher: Searcher, query: str) -> None:
    results = searcher.search(query, limit=1)
    assert isinstance(results, Results)
    assert results.query == query
    assert len(results.hits) <= 1 and results.total >= len(results.hits)
    assert all(h.score > 0 for h in results.hits)


# -- snippets ---------------------------------------------------------------------------------------

BOOSTS = field_boosts()
WORDS = ["knee", "Knee", "KNEES", "infection", "knee-replacement", "<script>", "</script>", "alert(1)", "&",
         "&amp;", "<mark>", "</mark>", '"', "'", "<", ">", "\n", "  ", "é", "naïve", "E11.9", "62273", "x", "•"]
TEXT = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=6)), max_size=90).map(" ".join),
)
SECTIONS = st.lists(st.tuples(st.sampled_from(["Summary", "Indications", "Risks and Complications", "Recovery",
                                               "Odd Heading"]), TEXT), min_size=1, max_size=4)
QUERY_WORDS = st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=5)), min_size=1, max_size=4)
TAG = re.compile(r"</?mark>")


def _check_snippet(snippet: Snippet, highlight: set[str]) -> None:
    text = snippet.text
    # html(): page text is never markup, and unescaping it gives the text back
    rendered = snippet.html()
    assert "<script>" not in rendered and "</script>" not in rendered
    assert TAG.sub("", rendered).count("<") == 0 and TAG.sub("", rendered).count(">") == 0
    assert html.unescape(TAG.sub("", rendered)) == text
    assert rendered.count("<mark>") == len(snippet.highlights)
    # highlights: ordered, disjoint, inside the text, each on a query term
    last = 0
    for start, end in snippet.highlights:
        assert last <= start < end <= len(text), (snippet.highlights, len(text))
        last = end
        assert set(terms(text[start:end])) & highlight, text[start:end]
    # and every whole word of the fragment that is a query term is highlighted
    cut_end = len(text) - 1 if text.endswith("\u2026") else None
    for piece in analyze(text):
        if piece.term not in highlight or (cut_end is not None and piece.end >= cut_end):
            continue
        assert any(s <= piece.start and piece.end <= e for s, e in snippet.highlights), (text, piece)


@settings(max_examples=600, deadline=None, database=None)
@given(sections=SECTIONS, words=QUERY_WORDS)
def test_snippets_escape_any_text_and_highlight_query_terms(sections, words) -> None:
    highlight = {t for w in words for t in terms(w)}
    record = ProcedureRecord("99901", "CPT", "Title", sections=tuple(sections))
    snippets, matched = make_snippets(record, highlight, BOOSTS)
    assert len(snippets) <= 2
    labels = [label for label, _ in sections]
    assert set(matched) <= set(labels)
    for snippet in snippets:
        assert snippet.section in labels
        assert "\n" not in snippet.text
        _check_snippet(snippet, highlight)
    if matched:
        assert snippets[0].highlights  # a matching section is shown with its match
    else:
        assert all(s.highlights == () for s in snippets)


@settings(max_examples=300, deadline=None, database=None)
@given(text=st.text(), spans=st.lists(st.tuples(st.integers(0, 50), st.integers(1, 20)), max_size=5))
def test_snippet_html_escapes_arbitrary_text(text: str, spans) -> None:
    marks, last = [], 0
    for gap, width in spans:  # ordered, disjoint spans inside the text
        start = last + gap
        end = min(len(text), start + width)
        if start >= end:
            break
        marks.append((start, end))
        last = end
    snippet = Snippet("Summary", text, tuple(marks))
    rendered = snippet.html()
    assert html.unescape(TAG.sub("", rendered)) == text
    assert "<" not in TAG.sub("", rendered) and ">" not in TAG.sub("", rendered)
    assert snippet.render(lambda s: s) == text


@settings(max_examples=2_000, deadline=None, database=None)
@given(text=TEXT, words=QUERY_WORDS)
def test_snippet_spans_are_what_analysis_gives(text, words) -> None:
    highlight = {t for w in words for t in terms(w)}
    expected = [(p.start, p.end, p.term) for p in analyze(text) if p.term in highlight]
    assert _spans(text, highlight) == expected
