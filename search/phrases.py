"""Quoted phrases in fields the index keeps no word positions for.

Only the header fields keep positions (index/schema.py, POSITION_FIELDS). In any other field a
phrase matches a page when the page holds every word of it in that field (the posting lists say
which) and the stored text of the field, analysed as at indexing time, has the words at
successive positions: exactly what Whoosh's Phrase query (slop 1) matches on positions.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from procsearch.index.analysis import analyze
from procsearch.index.schema import POSITION_FIELDS, RecordReader, field_texts

if TYPE_CHECKING:  # a ranked search never loads the query language (start-up time)
    from whoosh import query as wq


def needs_text_check(q: wq.Query) -> bool:
    """Whether ``q`` is a phrase Whoosh cannot answer from positions."""
    from whoosh import query as wq

    return isinstance(q, wq.Phrase) and q.fieldname not in POSITION_FIELDS and len(q.words) > 1


def phrase_docs(searcher, words: Sequence[str], fields: Collection[str], skip: Collection[int] = ()) -> set[int]:
    """Live pages having the phrase (index terms, in order) in any of ``fields``, checked on their
    stored text; pages in ``skip`` (already matched) are not read."""
    from whoosh import query as wq

    candidates: dict[int, list[str]] = {}
    for field in fields:
        docs = set(searcher.docs_for_query(wq.And([wq.Term(field, w) for w in words])))
        for doc in docs.difference(skip):
            candidates.setdefault(doc, []).append(field)
    found: set[int] = set()
    if not candidates:
        return found
    records = RecordReader(searcher.reader())
    for doc, in_fields in candidates.items():
        record = records.record(doc)
        texts = field_texts(record) if record else {}
        if any(has_phrase(texts.get(f, ""), words) for f in in_fields):
            found.add(doc)
    return found


def has_phrase(text: str, words: Sequence[str]) -> bool:
    """Whether the analysed ``text`` has the terms ``words`` at successive positions."""
    positions: dict[str, set[int]] = {}
    wanted = set(words)
    for piece in analyze(text):
        if piece.term in wanted:
            positions.setdefault(piece.term, set()).add(piece.pos)
    if len(positions) < len(wanted):
        return False
    first, rest = words[0], list(enumerate(words[1:], 1))
    return any(all(p + i in positions[w] for i, w in rest) for p in positions[first])
