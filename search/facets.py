"""Facet counts: of the pages a query matched, how many are of each code system and how many
matched it in each section.

Code-system counts are exact over every matched page and ignore the query's own system filter,
so a search filtered to CPT still offers the other systems with their counts. Section counts are
over the pages the query matched with every filter, in the sections it searched (the default
fields, or the sections asked for): a page counts for a section holding one of the words typed.
Words on more pages than the ranking's common-word share (see Engine.common_df: "approach",
"procedure"; counted over the fields the word was searched in) are left out of the section counts: they are on nearly every page, and reading their
long posting lists in every section would cost a search several times over. Everything else is
read from the posting lists the ranking has just read (and cached).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from procsearch.index.schema import SECTION_FIELDS

from .filters import section_label


@dataclass(frozen=True)
class FacetCount:
    """One facet value: ``value`` is what the search filter takes (a system name, a section key)."""

    value: str
    label: str
    count: int


@dataclass(frozen=True)
class Facets:
    """Counts per code system and per matched section, largest first."""

    code_systems: tuple[FacetCount, ...] = ()
    sections: tuple[FacetCount, ...] = ()


class FacetCounter:
    """Counts over one index generation (an Engine's), as numpy masks of its pages (a bool per page):
    which pages belong to each code system is read once; section counts come from the typed words'
    posting lists in each section field. Not locked: the Searcher serialises calls, as it does for
    its Engine."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self._systems: dict[str, np.ndarray] | None = None

    def systems(self) -> dict[str, np.ndarray]:
        """The pages of each code system in the index, as masks."""
        if self._systems is None:
            reader = self.engine.reader
            names = [t.decode("utf-8") if isinstance(t, bytes) else t for t in reader.lexicon("code_system")]
            self._systems = {name: self.engine.mask(self.engine.docs_in_systems([name])) for name in names}
        return self._systems

    def mask(self, pages: Collection[int] | np.ndarray) -> np.ndarray:
        """Pages (a collection of doc numbers, or already a mask) as a mask."""
        return pages if isinstance(pages, np.ndarray) else self.engine.mask(pages)

    def in_systems(self, matched: np.ndarray, systems: Iterable[str]) -> np.ndarray:
        """The matched pages of the given systems."""
        found = self.systems()
        keep = np.zeros_like(matched)
        for name in systems:
            if name in found:
                keep |= found[name]
        return matched & keep

    def count_systems(self, matched: np.ndarray) -> tuple[FacetCount, ...]:
        """Matched pages per code system."""
        counts = {name: int(np.count_nonzero(matched & docs)) for name, docs in self.systems().items()}
        return tuple(FacetCount(name, name, n) for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                     if n > 0)

    def count_sections(self, matched: np.ndarray, terms: Mapping[str, tuple[str, ...]],
                       fields: Iterable[str] = SECTION_FIELDS) -> tuple[FacetCount, ...]:
        """Matched pages per section field holding at least one of the terms. ``terms`` maps each
        term to the fields it was searched in: its document frequency over those is what the
        ranking has already looked up, and a common term is left out of every section."""
        if not matched.any():
            return ()
        engine = self.engine
        rare = [(t, set(searched)) for t, searched in sorted(terms.items())
                if engine.df(t, searched) <= engine.common_df]
        out = []
        for f in fields:
            lists = [engine.postings(f, t).docs for t, searched in rare
                     # idf 0: the term is in no page's section f (the ranking has looked it up, so
                     # this costs nothing); its posting list would be an empty read per segment.
                     if f in searched and engine.idf(f, t) > 0]
            if not lists:
                continue
            pages = np.zeros_like(matched)
            for docs in lists:
                pages[docs] = True
            n = int(np.count_nonzero(pages & matched))
            if n:
                out.append(FacetCount(f, section_label(f), n))
        out.sort(key=lambda c: (-c.count, SECTION_FIELDS.index(c.value)))
        return tuple(out)
