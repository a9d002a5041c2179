"""Posting lists read straight from a segment's postings file, for ranking.

Whoosh's matcher reads a posting block through a file object (several Python calls per pickle
opcode), decodes ids with a generator and keeps per-block state for skipping; a ranking that reads
whole lists pays that on every first read of a term. ``posting_blocks`` reads the same blocks
(Whoosh 3's format, the one every segment of an index is written in) with one slice of the memory
map each, through the same restricted unpickler, and hands back numpy arrays.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermsReader
from whoosh.reading import TermNotFound
from whoosh.system import _INT_SIZE, unpack_int

from . import safe_pickle

Block = tuple[np.ndarray, np.ndarray]  # doc numbers (int64, ascending), weights (float64)


def posting_blocks(reader, fieldname: str, tbytes: bytes) -> Iterator[Block] | None:
    """(doc numbers, weights) of a term's postings in one segment reader, a block at a time, as
    Whoosh's matcher would give them (deleted documents included, as in the file); nothing when
    the term is absent; None when the segment is not in Whoosh 3's format (use the matcher)."""
    terms = getattr(reader, "_terms", None)
    if not isinstance(terms, W3TermsReader):
        return None
    try:
        info = terms.term_info(fieldname, tbytes)
    except (TermNotFound, KeyError):
        return iter(())
    if info.is_inlined():  # a short list kept in the term dictionary (index/codec.py)
        ids, weights, _ = info.inlined_postings()
        return iter(((np.asarray(ids, dtype=np.int64),
                      np.asarray(weights, dtype=np.float64) if weights else np.ones(len(ids))),))
    return _blocks(terms._postfile, info.extent()[0])


def _blocks(postfile, offset: int) -> Iterator[Block]:
    """Blocks from ``offset``: a tag, then per block its signed length (negative for the last), a
    pickled info tuple (count, last id, max weight, compression, length bytes) and the pickled
    (delta-coded ids, weights, values), deflated when the info says so."""
    get = postfile.get
    if get(offset, len(WHOOSH3_HEADER_MAGIC)) != WHOOSH3_HEADER_MAGIC:
        raise ValueError(f"no posting block at offset {offset} of the postings file")
    pos = offset + len(WHOOSH3_HEADER_MAGIC)
    while True:
        length = unpack_int(get(pos, _INT_SIZE))[0]
        block = get(pos + _INT_SIZE, abs(length))
        stream = io.BytesIO(block)
        count, _, _, compression, _, _ = safe_pickle.load(stream)
        data = block[stream.tell():]
        ids, weights, _ = safe_pickle.loads(zlib.decompress(data) if compression else data)
        docs = np.cumsum(np.asarray(ids, dtype=np.int64))
        if weights is None:  # every weight 1.0
            tfs = np.ones(count)
        elif isinstance(weights, float):  # one weight for the block, as Whoosh holds it (float32)
            tfs = np.full(count, np.float32(weights), dtype=np.float64)
        else:
            tfs = np.asarray(weights, dtype=np.float64)
        yield docs, tfs
        if length < 0:
            return
        pos += _INT_SIZE + length
