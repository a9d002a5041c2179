"""Typo correction against the index's own words and the thesaurus's words.

Candidates share the first letter and a similar length, then a Damerau-Levenshtein distance
picks the closest (ties go to the more frequent word). Allowed distance grows with word length.
"""

from __future__ import annotations

from collections import defaultdict


def max_distance(word: str) -> int:
    """Edit distance allowed for a word of this length: short words are easy to turn into others."""
    n = len(word)
    return 0 if n < 5 else 1 if n <= 7 else 2


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance, giving up (limit + 1) once it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        best = cur[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            best = min(best, v)
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


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
        scored = []
        for n in range(len(word) - dist, len(word) + dist + 1):
            for cand in self.buckets.get((word[0], n), ()):
                d = edit_distance(word, cand, dist)
                if d <= dist and cand != word:
                    scored.append((d, -self.counts[cand], cand))
        scored.sort()
        return [c for _, _, c in scored[:limit]]

    def correct_with_distance(self, word: str) -> tuple[str | None, int]:
        """The closest known word and its edit distance, or (None, 0)."""
        found = self.suggest(word, 1)
        if not found:
            return None, 0
        return found[0], edit_distance(word, found[0], max_distance(word))
