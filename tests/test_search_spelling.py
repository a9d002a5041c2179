"""Typo correction: the edit distance against a plain dynamic-programming definition, and the
order of suggestions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from procsearch.search.spelling import Speller, edit_distance


def osa(a: str, b: str) -> int:
    """Optimal string alignment distance by its textbook recurrence (no cut-off)."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


words = st.text(alphabet="abcde", max_size=9)


@settings(max_examples=400, deadline=None)
@given(words, words, st.integers(min_value=0, max_value=3))
def test_edit_distance_is_osa_with_a_cut_off(a: str, b: str, limit: int) -> None:
    exact = osa(a, b)
    assert edit_distance(a, b, limit) == (exact if exact <= limit else limit + 1)


def test_edit_distance_examples() -> None:
    assert edit_distance("cholecystecomy", "cholecystectomy", 2) == 1
    assert edit_distance("colonscopy", "colonoscopy", 1) == 1
    assert edit_distance("hernai", "hernia", 1) == 1  # a swap of neighbours is one edit
    assert edit_distance("ca", "abc", 5) == 3  # not two: a swapped pair is not edited again
    assert edit_distance("biopsy", "autopsy", 1) == 2


def test_suggest_nearest_first_then_most_frequent() -> None:
    speller = Speller({"colonoscopy": 5, "colonoscope": 50, "colostomy": 9, "cholecystectomy": 3,
                       "cholecystotomy": 40, "hernia": 7})
    assert speller.suggest("colonoscopi") == ["colonoscope", "colonoscopy"]  # both one edit away
    assert speller.suggest("cholecystecomy") == ["cholecystectomy", "cholecystotomy"]
    assert speller.correct_with_distance("cholecystecomy") == ("cholecystectomy", 1)
    assert speller.suggest("colonoscopy") == ["colonoscope"]  # never the word itself
    assert speller.suggest("hern") == []  # short words are not corrected
    assert speller.correct_with_distance("xylophone") == (None, 0)
