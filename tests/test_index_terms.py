"""A segment's term dictionary read straight from its buffer answers as Whoosh's reader does."""

from __future__ import annotations

import random

from whoosh import fields
from whoosh.filedb.filestore import FileStorage

from procsearch.index.codec import InliningCodec
from procsearch.index.terms import TermTable


def test_every_term_and_absent_ones_look_up_as_whoosh_does(tmp_path) -> None:
    schema = fields.Schema(text=fields.TEXT(phrase=True), plain=fields.TEXT(phrase=False),
                           code=fields.ID(stored=True), tags=fields.KEYWORD(scorable=True))
    storage = FileStorage(str(tmp_path)).create()
    ix = storage.create_index(schema)
    rng = random.Random(11)
    vocab = [f"w{i}" for i in range(300)] + ["épidural", "naïve", "x" * 200]
    writer = ix.writer(codec=InliningCodec(blocklimit=8))
    for n in range(400):
        words = [rng.choice(vocab) for _ in range(rng.randint(1, 15))]
        writer.add_document(text=" ".join(words), plain=" ".join(reversed(words)), code=f"C{n:04d}",
                            tags=" ".join(rng.sample(["a", "b", "c", "d"], rng.randint(1, 4))))
    writer.commit()
    with ix.reader() as reader:
        table = TermTable.of(reader)
        assert table is not None
        checked = 0
        for fieldname, tbytes in reader.all_terms():
            want = reader._terms.term_info(fieldname, tbytes)
            got = table.term_info(fieldname, tbytes)
            assert table.doc_frequency(fieldname, tbytes) == reader.doc_frequency(fieldname, tbytes) == got.doc_frequency()
            assert (got.is_inlined(), got.weight(), got.min_id(), got.max_id()) == \
                   (want.is_inlined(), want.weight(), want.min_id(), want.max_id())
            if got.is_inlined():
                assert got.inlined_postings() == want.inlined_postings()
            else:
                assert got.extent() == want.extent()
            checked += 1
        assert checked > 700
        for fieldname in ("code", "text", "tags"):
            for prefix in (b"", b"C00", b"C01", b"w1", b"Z", b"\xff"):
                want = [(t, i.doc_frequency(), i.min_id()) for t, i in reader.iter_prefix(fieldname, prefix)]
                assert list(table.first_docs(fieldname, prefix)) == want, (fieldname, prefix)
        assert len(list(table.first_docs("code", b"C01"))) == 100
        assert list(table.first_docs("nosuchfield", b"")) == []
        for fieldname, tbytes in [("text", b"absent"), ("text", b""), ("code", b"C9999"), ("nosuchfield", b"w1"),
                                  ("tags", b"w1"), ("text", "épidur".encode())]:
            assert table.find(fieldname, tbytes) is None
            assert table.doc_frequency(fieldname, tbytes) == 0
            assert table.term_info(fieldname, tbytes) is None
