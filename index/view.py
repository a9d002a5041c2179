"""The calls a search makes on an open index, without loading Whoosh's searching module first.

``whoosh.searching`` loads the whole query language, highlighting, classification and scoring
(the English morphology tables among them): a tenth of a cold command's start, for a ranked
search that reads postings, stored fields and one term's first page itself. An IndexView answers
those calls from the reader and builds Whoosh's Searcher on the first call that needs one (a
structured query's matching set, ``more_like``); from then on every other call goes to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from whoosh.reading import IndexReader, TermNotFound

if TYPE_CHECKING:
    from whoosh.index import Index
    from whoosh.searching import Searcher as WhooshSearcher


class IndexView:
    """An open reader with the Searcher methods a ranked search uses; Whoosh's Searcher on demand."""

    def __init__(self, reader: IndexReader, fromindex: Index | None = None,
                 parent: IndexView | None = None, leaf: int = 0) -> None:
        self._reader = reader
        self._ix = fromindex
        self._parent = parent
        self._leaf = leaf  # this segment's place among the parent's subsearchers
        self._whoosh: WhooshSearcher | None = None
        self.is_closed = False
        # Whoosh's own shape: None for a single segment, else (view of a segment, its doc offset).
        self.subsearchers: list[tuple[IndexView, int]] | None = None
        if not reader.is_atomic():
            self.subsearchers = [(IndexView(r, fromindex, self, i), offset)
                                 for i, (r, offset) in enumerate(reader.leaf_readers())]

    def reader(self) -> IndexReader:
        return self._reader

    def doc_count(self) -> int:
        """Live (undeleted) documents."""
        return self._reader.doc_count()

    def doc_count_all(self) -> int:
        return self._reader.doc_count_all()

    def stored_fields(self, docnum: int) -> dict[str, Any]:
        return self._reader.stored_fields(docnum)

    def document_number(self, **kw: Any) -> int | None:
        """The document with this term (a unique key such as code=...), or None; as Whoosh's."""
        if len(kw) != 1:
            return self.whoosh().document_number(**kw)
        (fieldname, value), = kw.items()
        try:
            return self._reader.first_id(fieldname, self._reader.schema[fieldname].to_bytes(value))
        except TermNotFound:
            return None

    def whoosh(self) -> WhooshSearcher:
        """Whoosh's Searcher over the same reader (for a segment: its parent's subsearcher)."""
        if self._whoosh is None:
            if self._parent is not None:
                self._whoosh = self._parent.whoosh().subsearchers[self._leaf][0]
            else:
                from whoosh import scoring
                from whoosh.searching import Searcher

                self._whoosh = Searcher(self._reader, weighting=scoring.BM25F(), fromindex=self._ix)
        return self._whoosh

    def close(self) -> None:
        """Close the reader (through Whoosh's Searcher when one was made, which closes it)."""
        if self._whoosh is not None and self._parent is None:
            self._whoosh.close()
        elif self._parent is None:
            self._reader.close()
        self.is_closed = True

    def __getattr__(self, name: str) -> Any:
        # Any other Searcher method (docs_for_query, more_like, document, ...) is Whoosh's own.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.whoosh(), name)
