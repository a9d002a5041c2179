"""Whoosh's segment format with short posting lists kept in the term dictionary.

Most terms of a code reference occur on one page only (its code, its file, the codes it lists
as similar): written as a posting block of their own, each costs a block header and a deflate
stream in the postings file. Whoosh's format can keep such lists inside the term's dictionary
entry ("inlined"), and its readers read them, but its writer never does (it calls a method the
term info does not have). This codec's writer does, for lists of up to INLINE_LIMIT postings;
everything else, and how every segment is read, stays Whoosh's own.
"""

from __future__ import annotations

from whoosh.codec.whoosh3 import W3Codec, W3PostingsWriter

INLINE_LIMIT = 2  # postings kept in the term dictionary; longer lists get blocks


class InliningCodec(W3Codec):
    """W3Codec whose postings writer inlines short posting lists."""

    def __init__(self, blocklimit: int = 128, compression: int = 3, inlinelimit: int = INLINE_LIMIT) -> None:
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=inlinelimit)

    def postings_writer(self, dbfile, byteids=False):  # noqa: D102 - Whoosh's signature
        return InliningPostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                                      compression=self._compression, inlinelimit=self._inlinelimit)


class InliningPostingsWriter(W3PostingsWriter):
    """W3PostingsWriter that puts a term's postings in its dictionary entry when they are few."""

    def finish_postings(self):  # noqa: D102 - Whoosh's signature
        if self.written() or len(self) > self._inlinelimit:
            return super().finish_postings()
        terminfo = self._terminfo
        terminfo.add_block(self)
        terminfo.set_inlined(self._ids, self._weights, self._values)
        self._terminfo = None
        return terminfo
