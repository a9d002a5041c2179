"""Text analysis facts other modules rely on: stems start like their words, folding drops only marks."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from procsearch.index.analysis import analyze, fold, stem_prefix, stem_word, terms
from procsearch.search.snippets import _spans

ROOT = Path(__file__).resolve().parent.parent
# Suffixes every Porter step rewrites or removes, and fronts whose y, vowels and doubled
# consonants change which rule applies: glued together they reach every rule and chain of rules.
SUFFIXES = ["ational", "tional", "enci", "anci", "izer", "bli", "alli", "entli", "eli", "ousli", "ization", "ation",
            "ator", "alism", "iveness", "fulness", "ousness", "aliti", "iviti", "biliti", "logi", "icate", "ative",
            "alize", "iciti", "ical", "ful", "ness", "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement",
            "ment", "ent", "ou", "ism", "ate", "iti", "ous", "ive", "ize", "sion", "tion", "e", "ll", "y", "ies",
            "sses", "s", "ed", "ing", "eed", "ly", "ying", "ied", "bly", "at", "bl", "iz"]
FRONTS = ["", "a", "e", "y", "o", "b", "t", "oy", "ey", "ay", "hop", "tr", "sky", "fall", "yy", "ic", "ab", "cr"]
WORDS = st.one_of(
    st.text(alphabet="aeiouyybcdlmnrstz", min_size=1, max_size=14),
    st.builds(lambda f, s: f + "".join(s), st.sampled_from(FRONTS), st.lists(st.sampled_from(SUFFIXES), min_size=1,
                                                                          max_size=3)),
)


def _reference_fold(word: str) -> str:
    word = word.lower()
    if word.isascii():
        return word
    return "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))


@settings(max_examples=3_000, deadline=None, database=None)
@given(word=WORDS)
def test_every_word_starts_with_the_stem_prefix_of_its_stem(word: str) -> None:
    assert word.startswith(stem_prefix(stem_word(word)))


def test_words_of_the_bundled_pages_and_thesaurus_start_with_their_stem_prefix() -> None:
    files = [*(ROOT / "corpus").rglob("*.html"), *(ROOT / "search" / "thesaurus").glob("*.txt")]
    words = {w for f in files for w in re.findall(r"[a-z]+", f.read_text(encoding="utf-8", errors="replace").lower())}
    assert len(words) > 3000
    assert [w for w in words if not w.startswith(stem_prefix(stem_word(w)))] == []


def test_stem_prefix_keeps_the_first_letter_and_drops_at_most_two() -> None:
    assert stem_prefix("epidur") == "epid"
    assert stem_prefix("ble") == "b"
    assert stem_prefix("a") == "a"
    assert stem_word("eyed") == "ei" and "eyed".startswith(stem_prefix("ei"))  # -y- rewritten to -i


@settings(max_examples=1_000, deadline=None, database=None)
@given(text=st.lists(st.one_of(WORDS, st.sampled_from([" ", ", ", "-", ".", "\n", "É", "62273"])), max_size=40)
       .map(" ".join), query=st.lists(WORDS, min_size=1, max_size=4))
def test_snippet_spans_of_inflected_words_are_what_analysis_gives(text: str, query: list[str]) -> None:
    highlight = {t for w in query for t in terms(w)}
    assert _spans(text, highlight) == [(p.start, p.end, p.term) for p in analyze(text) if p.term in highlight]


@settings(max_examples=2_000, deadline=None, database=None)
@given(text=st.text(max_size=40))
def test_fold_removes_combining_marks_only(text: str) -> None:
    assert fold(text) == _reference_fold(text)


def test_fold_of_every_character() -> None:
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert fold(every) == _reference_fold(every)
    assert fold("Sjögren naïve") == "sjogren naive"
