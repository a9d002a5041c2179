"""A segment's term dictionary, probed straight from its memory map.

Whoosh finds a term through a generator over its on-disk hash table (a hex digest turned into an
int, a file read per slot); a query looks each word up in many fields of every segment, most of
them absent, so those probes were a tenth of a search's CPU. ``TermTable`` reads the same table
(Whoosh's HashReader format: 256 sub-tables of (hash, position) slots, each key stored with its
value) with ``struct.unpack_from`` over the segment's buffer and gives the same answers.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from hashlib import md5

from whoosh.codec.whoosh3 import W3TermInfo, W3TermsReader
from whoosh.filedb.filetables import md5_hash

_POINTER = struct.Struct("!Iq")  # a slot: the key's hash, the position of its entry (0: empty)
_LENGTHS = struct.Struct("!ii")  # an entry: key length, value length, then both
_FIELD = struct.Struct("!H")  # a key: the field's number, then the term's bytes
_DOC_FREQ = struct.Struct("!I")  # in a term's value, after its flags byte and total weight
_DOC_FREQ_AT = 1 + struct.calcsize("!f")
_NO_ID = 0xFFFFFFFF  # a term info's first id when it has none


class TermTable:
    """Look-ups in one segment's term dictionary; ``of`` gives None for a segment not in Whoosh
    3's format with its table in a memory-mapped or in-memory buffer (callers use Whoosh's)."""

    __slots__ = ("_buf", "_tables", "_fields", "_hashfn", "_tindex")

    def __init__(self, terms: W3TermsReader) -> None:
        tindex = terms._tindex
        self._buf = tindex.dbfile._buf
        self._tables = tindex.tables
        self._fields = terms._fieldmap
        self._hashfn = None if tindex.hashfn is md5_hash else tindex.hashfn
        self._tindex = tindex

    @classmethod
    def of(cls, reader) -> TermTable | None:
        terms = getattr(reader, "_terms", None)
        if not isinstance(terms, W3TermsReader) or getattr(terms._tindex.dbfile, "_buf", None) is None:
            return None
        return cls(terms)

    def find(self, fieldname: str, tbytes: bytes) -> tuple[int, int] | None:
        """(position, length) of the term's value in the buffer, or None when it is absent."""
        fnum = self._fields.get(fieldname)
        if fnum is None:
            return None
        key = _FIELD.pack(fnum) + tbytes
        keyhash = int.from_bytes(md5(key, usedforsecurity=False).digest()[-4:], "big") \
            if self._hashfn is None else self._hashfn(key)
        start, slots = self._tables[keyhash & 255]
        if not slots:
            return None
        buf, unpack_pointer, unpack_lengths = self._buf, _POINTER.unpack_from, _LENGTHS.unpack_from
        keylen = len(key)
        slot = (keyhash >> 8) % slots
        for _ in range(slots):
            slothash, entry = unpack_pointer(buf, start + slot * _POINTER.size)
            if not entry:
                return None
            if slothash == keyhash:
                klen, vlen = unpack_lengths(buf, entry)
                at = entry + _LENGTHS.size
                if klen == keylen and buf[at:at + klen] == key:
                    return at + klen, vlen
            slot += 1
            if slot == slots:
                slot = 0
        return None

    def doc_frequency(self, fieldname: str, tbytes: bytes) -> int:
        found = self.find(fieldname, tbytes)
        return 0 if found is None else _DOC_FREQ.unpack_from(self._buf, found[0] + _DOC_FREQ_AT)[0]

    def term_info(self, fieldname: str, tbytes: bytes) -> W3TermInfo | None:
        found = self.find(fieldname, tbytes)
        if found is None:
            return None
        pos, length = found
        return W3TermInfo.from_bytes(bytes(self._buf[pos:pos + length]))

    def first_docs(self, fieldname: str, prefix: bytes) -> Iterator[tuple[bytes, int, int | None]]:
        """(term, doc frequency, first doc) of each term of the field starting with ``prefix``, in
        term order, read off the ordered table without building term infos (a code prefix lists
        thousands of codes of one page each). The first doc may be a deleted one."""
        fnum = self._fields.get(fieldname)
        if fnum is None:
            return
        keyprefix = _FIELD.pack(fnum) + prefix
        buf, n, unpack_info = self._buf, len(keyprefix), W3TermInfo._struct.unpack_from
        for keypos, keylen, datapos, _ in self._tindex.ranges_from(keyprefix):
            if buf[keypos:keypos + n] != keyprefix:
                return
            _, _, df, _, _, _, first, _ = unpack_info(buf, datapos)
            yield bytes(buf[keypos + _FIELD.size:keypos + keylen]), df, None if first == _NO_ID else first
