"""Pages' stored header terms as integer ids, decoded once per page and kept between queries.

Re-scoring reads the header terms (title, name, technical term, summary: the ``header_terms``
column) of each of a query's few hundred candidates, and queries sharing a body part or an
operation share most of them. A page is decoded once (column read, inflate, split: about 30 µs)
into int32 term ids, about 300 bytes where Python strings in dicts took 2 KB, so every page of a
large corpus stays decoded. A query's candidates then become one flat array of term ids with the
candidate and field of each, which the rescorer counts with a few numpy calls instead of a Python
loop per page.
"""

from __future__ import annotations

import bisect
from array import array
from itertools import chain
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from procsearch.index.analysis import terms
from procsearch.index.schema import HEADER_FIELDS, RESCORE_FIELDS, header_word_lists

from .thesaurus import APPROACHES

# Title words that tell variants of one procedure apart: the side and the approach.
VARIANT_TERMS = frozenset(t for text in (*APPROACHES, "approach", "right", "left", "bilateral")
                          for t in terms(text))
OPEN_APPROACH = ("open", "approach")  # a title saying it is the open approach (see the open prior)
# Bytes of decoded pages kept (ids, variant keys and their Python objects: about 550 bytes a page,
# so a 68,000-page corpus fits in 40 MB and stays decoded; a larger one keeps the most recent pages).
HEADER_CACHE_BYTES = 48 * 1024 * 1024
_PAGE_OVERHEAD = 200  # bytes of a cached page besides its ids: tuple, two bytes objects, dict entry
FIELD_AT = {f: i for i, f in enumerate(RESCORE_FIELDS)}
HEADER_AT = tuple(FIELD_AT[f] for f in HEADER_FIELDS)
IS_HEADER = np.array([f in HEADER_FIELDS for f in RESCORE_FIELDS])  # by field index
_ID_CODE = "i"  # term ids as C ints (numpy's intc)


class Vocabulary(dict):
    """Term -> id, giving the next id to a term seen for the first time (``vocab[term]``);
    ``get`` looks up without adding, for query terms that may be on no page."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []  # id -> term

    def __missing__(self, term: str) -> int:
        found = self[term] = len(self.words)
        self.words.append(term)
        return found


def has_phrase(tokens: Sequence, phrase: Sequence, slop: int = 2) -> bool:
    """Whether the phrase's terms appear in order with at most ``slop`` extra words between them
    (terms or their ids: only equality is used)."""
    first = phrase[0]
    if first not in tokens:  # most pages: one C-level scan
        return False
    for i, tok in enumerate(tokens):
        if tok != first:
            continue
        pos, ok = i, True
        for term in phrase[1:]:
            window = tokens[pos + 1: pos + 2 + slop]
            if term not in window:
                ok = False
                break
            pos = pos + 1 + window.index(term)
        if ok:
            return True
    return False


@dataclass(frozen=True)
class PoolHeaders:
    """The header terms of a list of pages (a query's candidates) as flat arrays: each term's id,
    the place of its page in the list and of its field in RESCORE_FIELDS, in page then field then
    text order; and per page its term count per field, title variant key and open-approach flag."""

    tokens: np.ndarray  # term ids (intc)
    page: np.ndarray  # intp, index into the list of pages
    field: np.ndarray  # intp, index into RESCORE_FIELDS
    lengths: np.ndarray  # (pages, len(RESCORE_FIELDS)) int32 term counts
    variants: tuple[bytes, ...]  # the title's ids without side and approach (b"": none)
    open_title: np.ndarray  # bool per page
    vocab: Vocabulary

    def ids(self, words: Sequence[str]) -> list[int | None]:
        """Each word's id (None: on no page's header)."""
        return [self.vocab.get(w) for w in words]

    def holding(self, ids: Sequence[int]) -> np.ndarray:
        """A bool per token: whether it is one of the ids (a table look-up, not a search)."""
        table = np.zeros(len(self.vocab.words), dtype=bool)
        table[list(ids)] = True
        return table[self.tokens]

    def field_terms(self, i: int, f: str) -> list[int]:
        """Page i's term ids in field f, in text order."""
        lengths = self.lengths
        start = int(lengths[:i].sum()) + int(lengths[i, :FIELD_AT[f]].sum())
        return self.tokens[start:start + int(lengths[i, FIELD_AT[f]])].tolist()

    def words(self, i: int) -> dict[str, list[str]]:
        """Page i's header terms per non-empty field (as decode_header_terms gives them)."""
        names = self.vocab.words
        out = {}
        for f in RESCORE_FIELDS:
            ids = self.field_terms(i, f)
            if ids:
                out[f] = [names[t] for t in ids]
        return out


class HeaderStore:
    """Decoded header terms of an index generation's pages, least recently used out first.

    Not locked: the Searcher serialises every call into its Engine."""

    def __init__(self, segments: Sequence, n: int, max_bytes: int = HEADER_CACHE_BYTES) -> None:
        self._segments = list(segments)  # objects with .offset and .header(local docnum) -> bytes
        self._offsets = [seg.offset for seg in self._segments]
        self.n = n
        self.max_bytes = max_bytes
        self.held = 0
        self.vocab = Vocabulary()
        self._pages: OrderedDict[int, tuple[bytes, bytes]] = OrderedDict()  # docnum -> (ids, variant key)
        self._lengths: np.ndarray | None = None  # per page: term counts per field (set on decoding)
        self._open: np.ndarray | None = None  # per page: whether its title says open approach

    def __len__(self) -> int:
        return len(self._pages)

    def pool(self, docs: Sequence[int]) -> PoolHeaders:
        """The header terms of the given pages, decoding those not kept yet."""
        if self._lengths is None:
            self._lengths = np.zeros((self.n, len(RESCORE_FIELDS)), dtype=np.int32)
            self._open = np.zeros(self.n, dtype=bool)
        pages = self._pages
        found: list[tuple[bytes, bytes] | None] = []
        missing: list[int] = []
        for d in docs:
            page = pages.get(d)
            if page is None:
                missing.append(d)
            else:
                pages.move_to_end(d)
            found.append(page)
        if missing:
            decoded = self._decode(missing)
            found = [page if page is not None else decoded[d] for page, d in zip(found, docs)]
        at = np.asarray(docs, dtype=np.intp)
        lengths = self._lengths[at]
        tokens = np.frombuffer(b"".join([ids for ids, _ in found]), dtype=np.intc)
        page = np.repeat(np.arange(len(at)), lengths.sum(axis=1))
        field = np.repeat(np.tile(np.arange(len(RESCORE_FIELDS)), len(at)), lengths.ravel())
        return PoolHeaders(tokens, page, field, lengths, tuple(v for _, v in found), self._open[at], self.vocab)

    def preload(self, chunk: int = 4096) -> int:
        """Decode every page not kept yet, in index order, while the byte bound allows; returns
        the number of pages kept. A server calls it once at start, so its first searches do not
        pay for decoding their candidates (about 3 s and 34 MB for 68k pages)."""
        if self._lengths is None:
            self.pool([])
        todo = [d for d in range(self.n) if d not in self._pages]
        for start in range(0, len(todo), chunk):
            if self.held and self.held / len(self._pages) * (len(self._pages) + chunk) > self.max_bytes:
                break  # the next chunk would push decoded pages out: a larger corpus keeps what it can
            self._decode(todo[start:start + chunk])
        return len(self._pages)

    def _decode(self, docnums: list[int]) -> dict[int, tuple[bytes, bytes]]:
        """Decode pages (all at once: one split and one pass of id look-ups for all) and keep them."""
        width = len(RESCORE_FIELDS)
        raws = []
        for d in docnums:
            seg = self._segments[bisect.bisect_right(self._offsets, d) - 1]
            raws.append(seg.header(d - seg.offset) or b"")
        lists = header_word_lists(raws)
        counts = np.fromiter(map(len, lists), dtype=np.int32, count=len(lists)).reshape(-1, width)
        self._lengths[docnums] = counts
        size = array(_ID_CODE).itemsize
        blob = array(_ID_CODE, map(self.vocab.__getitem__, chain.from_iterable(lists))).tobytes()
        ends = (np.cumsum(counts.sum(axis=1)) * size).tolist()
        vocab, title_at = self.vocab, FIELD_AT["title"]
        out = {}
        start = 0
        for i, d in enumerate(docnums):
            title = lists[i * width + title_at]
            variant = array(_ID_CODE, [vocab[t] for t in title if t not in VARIANT_TERMS]).tobytes()
            self._open[d] = has_phrase(title, OPEN_APPROACH, 0) if title else False
            page = out[d] = (blob[start:ends[i]], variant)
            start = ends[i]
            self._keep(d, page)
        return out

    def _keep(self, docnum: int, page: tuple[bytes, bytes]) -> None:
        self._pages[docnum] = page
        self.held += len(page[0]) + len(page[1]) + _PAGE_OVERHEAD
        while self.held > self.max_bytes and len(self._pages) > 1:
            _, (old, old_variant) = self._pages.popitem(last=False)
            self.held -= len(old) + len(old_variant) + _PAGE_OVERHEAD
