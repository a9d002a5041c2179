"""Writing one new segment of a build fast, in Whoosh's own format.

Whoosh's writer sends every posting through a sorting pool as a tuple, sorts them all, and hands
them one at a time to the postings writer: at about two hundred postings a page, that was most of
a build's time. Here a document's postings go straight into per-field, per-term arrays (pages are
added in document order, so each list is already sorted), and each term's list is handed to
Whoosh's postings writer a block at a time. The bytes written are the ones Whoosh's writer would
write (tests/test_index_segments.py compares them).
"""

from __future__ import annotations

from array import array

from whoosh.writing import SegmentWriter


class BulkSegmentWriter(SegmentWriter):
    """A SegmentWriter for a build's new segments: same per-document data, postings kept in
    arrays instead of the sorting pool."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # field -> term bytes -> (doc numbers, weights, values)
        self._inverted: dict[str, dict[bytes, tuple[array, array, list[bytes]]]] = {}
        self._lengths: dict[str, array] = {}

    def add_document(self, **fields) -> None:  # noqa: D102 - Whoosh's signature
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        names = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, names)
        perdocwriter.start_doc(docnum)
        try:
            for name in names:
                value = fields[name]
                if value is None:
                    continue
                field = schema[name]
                length = 0
                if field.indexed:
                    terms = self._inverted.get(name)
                    if terms is None:
                        terms = self._inverted[name] = {}
                    scorable = field.scorable
                    for tbytes, freq, weight, vbytes in field.index(value):
                        postings = terms.get(tbytes)
                        if postings is None:
                            postings = terms[tbytes] = (array("I"), array("f"), [])
                        postings[0].append(docnum)
                        postings[1].append(weight)
                        if vbytes:
                            postings[2].append(vbytes)
                        if scorable:
                            length += freq
                perdocwriter.add_field(name, field, value if field.stored else None, length)
                if field.column_type:
                    perdocwriter.add_column_value(name, field.column_type, field.to_column_value(value))
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        lengths = self.per_document_reader()
        fieldwriter = self.fieldwriter
        try:
            for name in sorted(self._inverted):
                terms = self._inverted[name]
                field = self.schema[name]
                column = _lengths(lengths, name, self.docnum) if field.scorable else None
                fieldwriter.start_field(name, field)
                postwriter = fieldwriter._postwriter
                for tbytes in sorted(terms):
                    fieldwriter.start_term(tbytes)
                    _add_postings(postwriter, *terms[tbytes], column)
                    fieldwriter.finish_term()
                fieldwriter.finish_field()
            self._inverted.clear()
            fieldwriter.close()
        finally:
            lengths.close()


def _lengths(perdoc, fieldname: str, doccount: int) -> list[int]:
    """A field's length of every document, as the segment stores them (quantised)."""
    read = perdoc.doc_field_length
    return [read(d, fieldname, 0) for d in range(doccount)]


def _add_postings(postwriter, ids: array, weights: array, values: list[bytes], column: list[int] | None) -> None:
    """What Whoosh's add_posting() builds posting by posting, a block at a time: the writer's
    block buffers and statistics are set, then its own code writes the block (or inlines it)."""
    limit = postwriter._blocklimit
    count = len(ids)
    has_values = len(values) == count
    for start in range(0, count, limit):
        end = min(count, start + limit)
        postwriter._ids = ids[start:end]
        block_weights = weights[start:end]
        postwriter._weights = block_weights
        postwriter._values = values[start:end] if has_values else []
        postwriter._maxweight = max(0, max(block_weights))
        if column is not None:
            block_lengths = [column[d] for d in postwriter._ids]
            nonzero = [n for n in block_lengths if n]
            postwriter._minlength = min(nonzero) if nonzero else None
            postwriter._maxlength = max(block_lengths)
        else:
            postwriter._minlength, postwriter._maxlength = None, 0
        if end < count:
            postwriter._write_block()
