"""Posting lists read straight from the postings file give exactly what Whoosh's matcher gives."""

from __future__ import annotations

import random

import numpy as np
from whoosh import fields
from whoosh.filedb.filestore import FileStorage

from procsearch.index.blocks import posting_blocks
from procsearch.index.codec import InliningCodec


def _matcher_postings(reader, fieldname: str, tbytes: bytes) -> tuple[list[int], list[float]]:
    m = reader._terms.matcher(fieldname, tbytes, reader.schema[fieldname].format)
    ids, weights = [], []
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        m.next()
    return ids, weights


def test_every_term_reads_as_whoosh_reads_it(tmp_path) -> None:
    """Short (inlined) lists, single blocks, many blocks, weights all 1, all equal and mixed,
    with and without positions."""
    schema = fields.Schema(text=fields.TEXT(phrase=True), plain=fields.TEXT(phrase=False),
                           tags=fields.KEYWORD(scorable=True))
    storage = FileStorage(str(tmp_path)).create()
    ix = storage.create_index(schema)
    rng = random.Random(7)
    vocab = [f"w{i}" for i in range(40)]
    writer = ix.writer(codec=InliningCodec(blocklimit=8))
    for n in range(300):
        words = [rng.choice(vocab[: 5 + n % 35]) for _ in range(rng.randint(1, 12))]
        writer.add_document(text=" ".join(words), plain=" ".join(reversed(words)),
                            tags="every" + (" even" if n % 2 == 0 else "") + (" rare" if n in (3, 250) else ""))
    writer.commit()
    with ix.reader() as reader:
        checked = 0
        for fieldname, tbytes in reader.all_terms():
            want_ids, want_weights = _matcher_postings(reader, fieldname, tbytes)
            blocks = list(posting_blocks(reader, fieldname, tbytes))
            ids = np.concatenate([b[0] for b in blocks]).tolist()
            weights = np.concatenate([b[1] for b in blocks]).tolist()
            assert ids == want_ids, (fieldname, tbytes)
            assert weights == want_weights, (fieldname, tbytes)
            checked += 1
        assert checked > 80
        assert len(list(posting_blocks(reader, "tags", b"every"))) > 30  # many blocks of 8
        assert len(list(posting_blocks(reader, "tags", b"rare"))) == 1  # inlined in the dictionary
        assert list(posting_blocks(reader, "text", b"absent")) == []
