"""Typo correction against the index's own words and the thesaurus's words.

Candidates share the first letter and a similar length, then a Damerau-Levenshtein distance
(optimal string alignment: a swap of two neighbours counts as one edit) picks the closest (ties go
to the more frequent word). Allowed distance grows with word length. Distances are computed by
rapidfuzz in compiled code, a whole bucket of candidates per call: a word to correct is compared
with a few hundred known words, which took milliseconds in Python.
"""

from __future__ import annotations

from collections import defaultdict

# rapidfuzz is imported on the first correction: most searches need none, and its import is a
# few percent of a cold command's start.


def max_distance(word: str) -> int:
    """Edit distance allowed for a word of this length: short words are easy to turn into others."""
    n = len(word)
    return 0 if n < 5 else 1 if n <= 7 else 2


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance, or limit + 1 when it exceeds ``limit``."""
    from rapidfuzz.distance import OSA

    return OSA.distance(a, b, score_cutoff=limit)


class Speller:
    """Closest known words for an unknown one, from the index and thesaurus vocabulary."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        self.buckets: dict[tuple[str, int], list[str]] = defaultdict(list)
        for word in counts:
            if len(word) >= 3:
                self.buckets[(word[0], len(word))].append(word)

    def known(self, word: str) -> bool:
        return word in self.counts

    def on_pages(self, word: str) -> bool:
        """Whether the word occurs on indexed pages (not only in the thesaurus)."""
        return self.counts.get(word, 0) > 0

    def suggest(self, word: str, limit: int = 5) -> list[str]:
        """Closest known words, nearest first, then most frequent."""
        dist = max_distance(word)
        if not dist or not word:
            return []
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        scored = []
        for n in range(len(word) - dist, len(word) + dist + 1):
            bucket = self.buckets.get((word[0], n))
            if not bucket:
                continue
            for cand, d, _ in process.extract(word, bucket, scorer=OSA.distance, processor=None,
                                              score_cutoff=dist, limit=None):
                if cand != word:
                    scored.append((d, -self.counts[cand], cand))
        scored.sort()
        return [c for _, _, c in scored[:limit]]

    def correct_with_distance(self, word: str) -> tuple[str | None, int]:
        """The closest known word and its edit distance, or (None, 0)."""
        found = self.suggest(word, 1)
        if not found:
            return None, 0
        return found[0], edit_distance(word, found[0], max_distance(word))
