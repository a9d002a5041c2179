"""Snippets show the section that answered: pages written for these tests in five markups (a
definition list, an old windows-1252 table layout, a blog's bold capital headings, a text dump,
styled div headings), indexed with the bundled corpus, and questions each answered by one section
other than the Summary. The page's topic words ("hemorrhoid", "bunion") are in most of its sections
and in the question too; the words that say which section answers are rarer, and that section
must come first. A question naming only the topic shows the Summary.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from procsearch.corpus import corpus_dir
from procsearch.index import build_index
from procsearch.search.searcher import Hit, Searcher

ANSWERS = Path(__file__).resolve().parent / "pages" / "answers"


@pytest.fixture(scope="module")
def answers(tmp_path_factory) -> Searcher:
    index_dir = tmp_path_factory.mktemp("answers") / "index"
    build_index([corpus_dir(), str(ANSWERS)], str(index_dir), workers=1)
    with Searcher.open(str(index_dir)) as searcher:
        yield searcher


def hit_for(searcher: Searcher, question: str, code: str) -> Hit:
    for hit in searcher.search(question, limit=10).hits:
        if hit.code == code:
            return hit
    raise AssertionError(f"{code} not among the first hits of {question!r}")


@pytest.mark.parametrize("question, code, section", [
    ("enema before hemorrhoid banding", "46221", "Preparation"),
    ("how many minutes does hemorrhoid banding take", "46221", "Duration"),
    ("someone to drive me home after a nerve root injection", "64483", "Recovery"),
    ("wider shoes or toe spacers instead of bunion surgery", "28296", "Alternatives"),
    ("how many minutes does a flexible laryngoscopy take", "31575", "Duration"),
    ("less breathless and tired after cardioversion", "92960", "Benefits"),
    ("no driving after cardioversion sedation", "92960", "Recovery"),
])
def test_the_section_holding_the_rare_words_asked_comes_first(answers: Searcher, question: str, code: str,
                                                                 section: str) -> None:
    hit = hit_for(answers, question, code)
    assert hit.snippets[0].section == section, [(s.section, s.text) for s in hit.snippets]
    assert hit.snippets[0].highlights
    # The topic's sections matched too: the choice was made between them, not by default.
    assert len(hit.matched_sections) >= 3, hit.matched_sections


@pytest.mark.parametrize("question, code", [
    ("hemorrhoid banding", "46221"),
    ("bunion surgery with osteotomy", "28296"),
    ("flexible laryngoscopy", "31575"),
])
def test_a_question_naming_only_the_topic_shows_the_summary(answers: Searcher, question: str, code: str) -> None:
    hit = hit_for(answers, question, code)
    assert hit.snippets[0].section == "Summary", [(s.section, s.text) for s in hit.snippets]


def test_a_thesaurus_word_does_not_outweigh_the_word_typed(answers: Searcher) -> None:
    # "nosebleed" brings "epistaxis" and "nose bleed" as expansions; the section with the word as
    # typed comes before sections that only hold its expansions' words ("nose").
    hit = hit_for(answers, "small nosebleed after laryngoscopy", "31575")
    assert hit.snippets[0].section == "Risks and Complications", [(s.section, s.text) for s in hit.snippets]
