"""Quoted phrases in fields the index keeps no word positions for.

Only the header fields keep positions (index/schema.py, POSITION_FIELDS). In any other field a
phrase matches a page when the page holds every word of it in that field (the posting lists say
which) and the stored text of the field, analysed as at indexing time, has the words at
successive positions: exactly what Whoosh's Phrase query (slop 1) matches on positions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TYPE_CHECKING

from procsearch.index.analysis import term_positions
from procsearch.index.schema import POSITION_FIELDS, RecordReader, field_texts

if TYPE_CHECKING:  # a ranked search never loads the query language (start-up time)
    from whoosh import query as wq


def needs_text_check(q: wq.Query) -> bool:
    """Whether ``q`` is a phrase Whoosh cannot answer from positions."""
    from whoosh import query as wq

    return isinstance(q, wq.Phrase) and q.fieldname not in POSITION_FIELDS and len(q.words) > 1


# Stored texts one search reads to check its quoted phrases (0.1-0.2 ms a page): a phrase of
# words most pages share ("of the") would otherwise read and analyse the whole corpus.
PHRASE_CHECK_PAGES = 2_000


class PhraseCheck:
    """The phrase checks of one search. Candidates are the live pages holding every word of the
    phrase in a field (``docs_with_all(field, words)``); they are read in index order until
    ``budget`` pages are read in all (None: no bound). ``note`` says when the bound cut a check
    short, so a reader knows those matches are a sample."""

    def __init__(self, reader, docs_with_all: Callable[[str, Sequence[str]], Iterable[int]],
                 budget: int | None = PHRASE_CHECK_PAGES,
                 in_positions: Callable[[str, Sequence[str]], Iterable[int] | None] | None = None) -> None:
        self.records = RecordReader(reader)
        self.docs_with_all = docs_with_all
        self.in_positions = in_positions  # pages with a phrase in a field with positions, or None
        self.budget = budget
        self.cut_short = False

    def docs(self, words: Sequence[str], fields: Collection[str], skip: Collection[int] = (),
             within: Collection[int] | None = None) -> set[int]:
        """Pages having the phrase (index terms, in order) in any of ``fields``, checked on their
        stored text; pages in ``skip`` (already matched) are not read, nor pages outside ``within``
        (what the rest of an AND allows) when given."""
        in_field: dict[str, set[int]] = {}
        for field in fields:
            docs = set(self.docs_with_all(field, words)).difference(skip)
            if within is not None:
                docs.intersection_update(within)
            in_field[field] = docs
        order = sorted(set().union(*in_field.values()))
        if self.budget is not None:
            if len(order) > self.budget:
                self.cut_short = True
                order = order[:max(0, self.budget)]
            self.budget -= len(order)
        found: set[int] = set()
        for doc in order:
            stored = self.records.json(doc)
            texts = field_texts(json.loads(stored)) if stored else {}
            if any(doc in docs and has_phrase(texts.get(f, ""), words) for f, docs in in_field.items()):
                found.add(doc)
        return found

    @property
    def note(self) -> str | None:
        if not self.cut_short:
            return None
        return (f"a quoted phrase's words are on more pages than one search reads ({PHRASE_CHECK_PAGES:,}): "
                "its matches in sections come from those pages only")


def phrase_docs(searcher, words: Sequence[str], fields: Collection[str], skip: Collection[int] = ()) -> set[int]:
    """Live pages having the phrase in any of ``fields`` (PhraseCheck.docs), every candidate read,
    candidates found by Whoosh's matcher: for tools and tests holding a bare Whoosh searcher."""
    from whoosh import query as wq

    def docs_with_all(field: str, terms: Sequence[str]) -> Iterable[int]:
        return searcher.docs_for_query(wq.And([wq.Term(field, w) for w in terms]))

    return PhraseCheck(searcher.reader(), docs_with_all, budget=None).docs(words, fields, skip)


def has_phrase(text: str, words: Sequence[str]) -> bool:
    """Whether the analysed ``text`` has the terms ``words`` at successive positions (analyze()'s
    numbering, from the cached analysis of each word: a check reads every word of a section)."""
    positions = term_positions(text)
    if not all(w in positions for w in words):
        return False
    later = [set(positions[w]) for w in words[1:]]
    return any(all(p + i in found for i, found in enumerate(later, 1)) for p in positions[words[0]])
