"""Posting lists read straight from a segment's postings file, for ranking.

Whoosh's matcher reads a posting block through a file object (several Python calls per pickle
opcode), decodes ids with a generator and keeps per-block state for skipping; a ranking that reads
whole lists pays that on every first read of a term. ``posting_blocks`` reads the same blocks
(Whoosh 3's format, the one every segment of an index is written in) with one slice of the memory
map each and hands back numpy arrays.

A block is a protocol-2 pickle of (delta-coded ids, weights, values). Ranking needs the first two,
and a pickle that holds only numbers and tuples cannot name or call anything, so ``decode_block``
matches that much of it against the grammar of exactly those opcodes, decodes the ids straight
from the bytes when they share one integer opcode (else the C unpickler reads the matched bytes
alone), and never reads the values (positions in the title fields: most of a block's opcodes).
Anything outside that grammar goes through the restricted unpickler, as every other index pickle.
"""

from __future__ import annotations

import io
import pickle
import re
import zlib
from collections.abc import Iterator

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermsReader
from whoosh.reading import TermNotFound
from whoosh.system import _INT_SIZE, unpack_int

from . import safe_pickle
from .terms import TermTable

Block = tuple[np.ndarray, np.ndarray]  # doc numbers (int64, ascending), weights (float64)


def posting_blocks(reader, fieldname: str, tbytes: bytes, table: TermTable | None = None) -> Iterator[Block] | None:
    """(doc numbers, weights) of a term's postings in one segment reader, a block at a time, as
    Whoosh's matcher would give them (deleted documents included, as in the file); nothing when
    the term is absent; None when the segment is not in Whoosh 3's format (use the matcher).
    ``table``: the segment's TermTable, when the caller keeps one."""
    terms = getattr(reader, "_terms", None)
    if not isinstance(terms, W3TermsReader):
        return None
    info = _term_info(reader, fieldname, tbytes, table)
    if info is None:
        return iter(())
    if info.is_inlined():  # a short list kept in the term dictionary (index/codec.py)
        ids, weights, _ = info.inlined_postings()
        return iter(((np.asarray(ids, dtype=np.int64),
                      np.asarray(weights, dtype=np.float64) if weights else np.ones(len(ids))),))
    return _blocks(terms._postfile, info.extent()[0])


def _blocks(postfile, offset: int) -> Iterator[Block]:
    """Decoded blocks of the posting list at ``offset`` (see _raw_blocks)."""
    return (decode_block(block) for block in _raw_blocks(postfile, offset))


def _raw_blocks(postfile, offset: int) -> Iterator[bytes]:
    """Blocks from ``offset``: a tag, then per block its signed length (negative for the last), a
    pickled info tuple (count, last id, max weight, compression, length bytes) and the pickled
    (delta-coded ids, weights, values), deflated when the info says so."""
    get = postfile.get
    if get(offset, len(WHOOSH3_HEADER_MAGIC)) != WHOOSH3_HEADER_MAGIC:
        raise ValueError(f"no posting block at offset {offset} of the postings file")
    pos = offset + len(WHOOSH3_HEADER_MAGIC)
    while True:
        length = unpack_int(get(pos, _INT_SIZE))[0]
        yield get(pos + _INT_SIZE, abs(length))
        if length < 0:
            return
        pos += _INT_SIZE + length


def _term_info(reader, fieldname: str, tbytes: bytes, table: TermTable | None):
    """A term's info in a Whoosh 3 segment, or None when the term is absent."""
    table = table or TermTable.of(reader)
    if table is not None:
        return table.term_info(fieldname, tbytes)
    try:
        return reader._terms.term_info(fieldname, tbytes)
    except (TermNotFound, KeyError):
        return None


# Protocol-2 opcodes of a tuple of small ints or of floats, and of the memo entry after a tuple.
_INT = rb"(?:K.|M..|J....)"  # BININT1, BININT2, BININT (signed 4 bytes)
_FLOAT = rb"G.{8}"  # BINFLOAT
_MEMO = rb"(?:q.|r....)?"  # BINPUT, LONG_BINPUT


def _tuple_of(item: bytes, name: str) -> bytes:
    """An empty tuple, MARK items TUPLE, or one to three items and TUPLE1/2/3; then its memo entry.
    The items are the group ``name`` + "_long" or + "_short"."""
    return (rb"(?:\)|\((?P<" + name.encode() + rb"_long>(?:" + item + rb")*)t" + _MEMO + rb"|(?P<" + name.encode()
            + rb"_short>(?:" + item + rb"){1,3})[\x85-\x87]" + _MEMO + rb")")


_HEADER = re.compile(rb"\x80\x02\((?:" + _INT + rb"|" + _FLOAT + rb"){6}t" + _MEMO + rb"\.", re.DOTALL)
# The tuple of weights is tried before the lone float: a tuple of up to three floats starts as one.
_IDS_AND_WEIGHTS = re.compile(rb"\x80\x02(?P<ids>" + _tuple_of(_INT, "id") + rb")(?P<weights>"
                              + _tuple_of(_FLOAT, "w") + rb"|N|" + _FLOAT + rb")", re.DOTALL)


def decode_block(block: bytes) -> Block:
    """(doc numbers, weights) of one block: its pickled info tuple (count, last id, max weight,
    compression, length bytes), then the pickled (ids, weights, values), deflated when the info
    says so. Bytes matched by the number-only grammars above are read without the unpickler's
    guard (they hold no name to resolve); anything else goes through it."""
    info, data = _block_info(block)
    count, data = info[0], _inflate(info, data)
    found = _IDS_AND_WEIGHTS.match(data)
    if found is None:
        ids, weights, _ = safe_pickle.loads(data)
    else:
        ids = _ints(found, count)
        weights = pickle.loads(b"\x80\x02" + found.group("weights") + b".")
    docs = np.cumsum(np.asarray(ids, dtype=np.int64))
    if weights is None:  # every weight 1.0
        tfs = np.ones(count)
    elif isinstance(weights, float):  # one weight for the block, as Whoosh holds it (float32)
        tfs = np.full(count, np.float32(weights), dtype=np.float64)
    else:
        tfs = np.asarray(weights, dtype=np.float64)
    return docs, tfs


def _block_info(block: bytes) -> tuple[tuple, bytes]:
    """A block's info tuple and its pickled data as stored (deflated when info[3] says so)."""
    head = _HEADER.match(block)
    if head is None:
        stream = io.BytesIO(block)
        info, start = safe_pickle.load(stream), stream.tell()
    else:
        info, start = pickle.loads(head.group()), head.end()
    return info, block[start:]


def _inflate(info: tuple, data: bytes) -> bytes:
    return zlib.decompress(data) if info[3] else data


_INT_WIDTH = {ord("K"): 1, ord("M"): 2, ord("J"): 4}  # argument bytes of each integer opcode
_INT_DTYPE = {1: np.dtype("u1"), 2: np.dtype("<u2"), 4: np.dtype("<i4")}


def _ints(found: re.Match, count: int) -> np.ndarray | tuple:
    """The ids of a matched block. The first is a doc number, the rest gaps: when every gap has
    the same integer opcode (dense lists: all BININT1), they are read straight from the bytes;
    else through the C unpickler."""
    items = found.group("id_long") or found.group("id_short") or b""
    if count and items:
        first = _INT_WIDTH[items[0]] + 1
        rest = items[first:]
        if rest:
            width = _INT_WIDTH.get(rest[0])
            if width is not None and len(rest) == (width + 1) * (count - 1) and \
                    rest[::width + 1] == rest[:1] * (count - 1):
                out = np.empty(count, dtype=np.int64)
                out[0] = _int(items[:first])
                out[1:] = np.frombuffer(rest, dtype=np.uint8).reshape(count - 1, width + 1)[:, 1:].copy() \
                    .view(_INT_DTYPE[width]).ravel()
                return out
        elif count == 1:
            return (_int(items),)
    return pickle.loads(b"\x80\x02" + found.group("ids") + b".")


def _int(op: bytes) -> int:
    """The value of one BININT1, BININT2 or BININT opcode."""
    return int.from_bytes(op[1:], "little", signed=op[:1] == b"J")


def term_positions(reader, fieldname: str, tbytes: bytes, docs: np.ndarray,
                   table: TermTable | None = None) -> dict[int, list[int]]:
    """Word positions of a term in the wanted local docs (ascending) of one segment reader, from
    a field that keeps positions; a doc without the term is absent. Only blocks holding a wanted
    doc are unpickled (whole, through the restricted unpickler: positions are pickled bytes)."""
    info = _term_info(reader, fieldname, tbytes, table)
    out: dict[int, list[int]] = {}
    if info is None or not len(docs):
        return out
    wanted = set(docs.tolist())
    if info.is_inlined():
        ids, _, values = info.inlined_postings()
        for doc, value in zip(ids, values):
            if doc in wanted:
                out[doc] = _positions(value)
        return out
    first_id, bound = 0, int(docs[-1])  # a block's ids run from the last one's last id + 1
    for block in _raw_blocks(reader._terms._postfile, info.extent()[0]):
        if first_id > bound:
            break
        info, data = _block_info(block)
        last_id = info[1]
        i = int(np.searchsorted(docs, first_id))
        if i < len(docs) and docs[i] <= last_id:  # a wanted doc may be in this block
            gaps, _, values = safe_pickle.loads(_inflate(info, data))
            doc = 0
            for gap, value in zip(gaps, values):
                doc += gap
                if doc in wanted:
                    out[doc] = _positions(value)
        first_id = last_id + 1
    return out


_INT_LIST = re.compile(rb"\x80\x02\]" + _MEMO + rb"(?:\((?:" + _INT + rb")*e|" + _INT + rb"a)?\.?\Z", re.DOTALL)


def _positions(value: bytes) -> list[int]:
    """Positions from a Positions value: a count, then the pickled list of gaps (as Whoosh's
    Positions.decode_positions reads it; a list of ints is read by the C unpickler, anything
    else by the restricted one)."""
    data = value[_INT_SIZE:]
    if not data.endswith(b"."):
        data += b"."
    gaps = pickle.loads(data) if _INT_LIST.match(data) else safe_pickle.loads(data)
    out, at = [], 0
    for gap in gaps:
        at += gap
        out.append(at)
    return out
