"""Posting lists read straight from the postings file give exactly what Whoosh's matcher gives."""

from __future__ import annotations

import io
import pickle
import random
import zlib

import numpy as np
import pytest
from whoosh import fields
from whoosh.filedb.filestore import FileStorage

from procsearch.index import blocks, safe_pickle
from procsearch.index.blocks import decode_block, posting_blocks
from procsearch.index.safe_pickle import UnsafePickleError
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


def _block(ids: list[int], weights, values, compression: int = 3) -> bytes:
    """One block as Whoosh 3 writes it: pickled info, then the pickled data (deflated or not)."""
    gaps = tuple(b - a for a, b in zip([0] + ids[:-1], ids))
    data = pickle.dumps((gaps, weights, values), 2)
    info = pickle.dumps((len(ids), ids[-1], 1.0, compression, 3, 40), 2)
    return info + (zlib.compress(data, compression) if compression else data)


def _safe_decode(block: bytes) -> tuple[np.ndarray, np.ndarray]:
    """What the restricted unpickler reads from the block, in the decoder's types."""
    stream = io.BytesIO(block)
    count, _, _, compression, _, _ = safe_pickle.load(stream)
    data = block[stream.tell():]
    gaps, weights, _ = safe_pickle.loads(zlib.decompress(data) if compression else data)
    if weights is None:
        tfs = np.ones(count)
    elif isinstance(weights, float):
        tfs = np.full(count, np.float32(weights), dtype=np.float64)
    else:
        tfs = np.asarray(weights, dtype=np.float64)
    return np.cumsum(np.asarray(gaps, dtype=np.int64)), tfs


@pytest.mark.parametrize("seed", range(40))
def test_blocks_decode_as_the_unpickler_reads_them(seed: int, monkeypatch) -> None:
    """Gaps of every integer opcode (one byte, two, four; mixed or all alike), one to 128
    postings (short tuples pickle without a MARK), weights all 1, all equal or mixed (a tuple of
    up to three floats starts like one float), and values of every kind the formats write."""
    rng = random.Random(seed)
    count = rng.choice([1, 2, 3, 4, 5, 127, 128])
    width = rng.choice([1 << 8, 1 << 16, 1 << 24, 1 << 31, 3 << 31])  # K, M, J, J, beyond J (LONG1)
    mixed = rng.random() < 0.5
    ids, at = [], rng.randrange(width)
    for _ in range(count):
        ids.append(at)
        at += rng.randrange(1, 1 + (rng.choice([200, 60_000, width]) if mixed else min(width, 255)))
    weights = rng.choice([None, float(rng.randint(2, 9)), tuple(float(rng.randint(1, 9)) for _ in ids)])
    values = rng.choice([None, b"\x00" * (4 * count), tuple(pickle.dumps([i], 2) for i in range(count)),
                         tuple(range(count))])
    block = _block(ids, weights, values, compression=rng.choice([0, 3]))
    if ids[-1] < 1 << 31:  # within the grammar: the unpickler is not needed
        for name in ("load", "loads"):
            monkeypatch.setattr(blocks.safe_pickle, name, _refuse)
    docs, tfs = decode_block(block)
    monkeypatch.undo()
    want_docs, want_tfs = _safe_decode(block)
    assert docs.tolist() == ids == want_docs.tolist()
    assert docs.dtype == np.int64 and tfs.dtype == np.float64
    assert tfs.tolist() == want_tfs.tolist()


def _refuse(*_):
    raise AssertionError("the restricted unpickler was used on a numbers-only block")


class _Planted:
    def __reduce__(self):
        return (print, ("ran",))


def test_a_block_that_names_a_callable_is_refused(capsys) -> None:
    """Values are never unpickled; anything else outside the numbers-only grammar goes through
    the restricted unpickler, which refuses a callable. Nothing planted ever runs."""
    docs, _ = decode_block(_block([1, 2, 3, 4], None, (_Planted(),) * 4))
    assert docs.tolist() == [1, 2, 3, 4]
    head = pickle.dumps((4, 4, 1.0, 0, 3, 40), 2)
    poisoned = head + pickle.dumps((_Planted(), None, None), 2)
    with pytest.raises(UnsafePickleError):
        decode_block(poisoned)
    assert "ran" not in capsys.readouterr().out
