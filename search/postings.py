"""Decoded posting lists kept between queries, least recently used first out.

Reading a posting list means unpickling and decompressing Whoosh blocks (positions included) in
Python, and the same words ("excision", "percutaneous", body parts) recur from query to query.
A list is kept in the form the scorer needs (numpy arrays it adds into a page-score array in one
vectorised step), so a repeated term costs no Python loop at all.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

POSTINGS_CACHE_MAX = 3_000_000  # postings held in all (16 bytes each: about 48 MB at most)


@dataclass(frozen=True)
class Postings:
    """One term in one field over all segments: global doc numbers (ascending) and the BM25 ratio
    tf / (tf + K1 * length norm) of each (a page's score is then factor * ratio, as if read afresh)."""

    docs: np.ndarray  # int64
    ratios: np.ndarray  # float64

    def __len__(self) -> int:
        return len(self.docs)


EMPTY_POSTINGS = Postings(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


class PostingsCache:
    """An LRU map of (field, term) to Postings bounded by the number of postings held.

    Not locked: the Searcher serialises every call into its Engine.
    """

    def __init__(self, max_postings: int = POSTINGS_CACHE_MAX) -> None:
        self.max_postings = max_postings
        self.held = 0
        self._lists: OrderedDict[tuple[str, str], Postings] = OrderedDict()

    def __len__(self) -> int:
        return len(self._lists)

    def get(self, key: tuple[str, str]) -> Postings | None:
        found = self._lists.get(key)
        if found is not None:
            self._lists.move_to_end(key)
        return found

    def put(self, key: tuple[str, str], postings: Postings) -> None:
        """Keep a list, evicting the least recently used ones; a list larger than the bound is not kept."""
        size = _cost(postings)
        if size > self.max_postings or key in self._lists:
            return
        while self.held + size > self.max_postings:
            _, old = self._lists.popitem(last=False)
            self.held -= _cost(old)
        self._lists[key] = postings
        self.held += size


def _cost(postings: Postings) -> int:
    """Postings counted against the bound; an empty list counts as one so entries stay bounded too."""
    return max(1, len(postings))
