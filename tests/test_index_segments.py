"""The build's segment writer, codec and stored records against Whoosh's own writer and reader."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import SegmentWriter

import procsearch.index.reader  # noqa: F401 - installs the safe unpickler used when reading back
from procsearch.index.codec import InliningCodec
from procsearch.index.schema import (POSITION_FIELDS, TEXT_FIELDS, RecordReader, build_schema, record_dictionary,
                                     record_to_document)
from procsearch.index.segments import BulkSegmentWriter
from procsearch.ingest.corpus import ingest_corpus
from procsearch.search.phrases import has_phrase, phrase_docs

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.fixture(scope="module")
def records():
    found, _ = ingest_corpus([str(CORPUS)], workers=1)
    assert len(found) > 50
    return found


def _segment_files(directory: Path) -> dict[str, bytes]:
    """The files inside the one compound segment of an index, by kind (.pst, .trm, columns)."""
    storage = FileStorage(str(directory))
    [seg] = [n for n in os.listdir(directory) if n.endswith(".seg")]
    compound = CompoundStorage(storage.open_file(seg), use_mmap=False)
    return {name.split(".", 1)[1]: compound.open_file(name).read() for name in compound.list()}


def _write(directory: Path, schema, docs: list[dict], writer_class) -> dict[str, bytes]:
    directory.mkdir()
    ix = whoosh_index.create_in(str(directory), schema)
    writer = writer_class(ix, codec=InliningCodec())
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()
    return _segment_files(directory)


def test_bulk_writer_writes_the_bytes_whoosh_writes(records, tmp_path: Path) -> None:
    schema = build_schema(record_dictionary(r.to_json() for r in records[:10]))
    docs = [record_to_document(r) for r in records]
    ours = _write(tmp_path / "bulk", schema, docs, BulkSegmentWriter)
    whoosh = _write(tmp_path / "stock", schema, docs, SegmentWriter)
    assert set(ours) == set(whoosh)
    assert {"pst", "trm", "record.col", "header_terms.col", "_stored.col"} <= set(ours)
    for kind in ours:
        assert ours[kind] == whoosh[kind], kind


def test_short_posting_lists_are_inlined_and_read_back(records, tmp_path: Path) -> None:
    schema = build_schema()
    docs = [record_to_document(r) for r in records]
    files = _write(tmp_path / "ix", schema, docs, BulkSegmentWriter)
    ix = whoosh_index.open_dir(str(tmp_path / "ix"))
    with ix.searcher() as s:
        reader = s.reader()
        infos = [reader.term_info("code", r.code) for r in records]
        assert all(info.is_inlined() for info in infos)
        for r in records:  # every page is found by its own code, and by its source file
            [doc] = list(s.docs_for_query(wq.Term("code", r.code)))
            assert list(s.docs_for_query(wq.Term("source", r.source))) == [doc]
            assert RecordReader(reader).record(doc) == r
    assert len(files["pst"]) > 0


def test_records_round_trip_with_and_without_a_dictionary(records) -> None:
    for zdict in (b"", record_dictionary(r.to_json() for r in records[:20])):
        field = build_schema(zdict)["record"]
        for r in records:
            packed = field.to_column_value(r.to_json())
            assert field.from_column_value(packed) == r.to_json()
    plain = build_schema()["record"]
    primed = build_schema(record_dictionary(r.to_json() for r in records[:20]))["record"]
    rest = [r.to_json() for r in records[20:]]
    # Pages outside the sample share some of its wording (these hand-written pages little; the
    # templated pages of a code reference site most of it): the dictionary must pay for itself.
    assert sum(len(primed.to_column_value(t)) for t in rest) < sum(len(plain.to_column_value(t)) for t in rest)


def test_text_checked_phrases_match_what_positions_match(records, tmp_path: Path) -> None:
    """Every two- and three-word run of section text, and the same words shuffled, are matched on
    stored text exactly where Whoosh's positional Phrase query matches them."""
    schema = build_schema()
    positional = build_schema()
    for name in TEXT_FIELDS:  # the same analysis with positions in every field
        if name not in POSITION_FIELDS:
            positional._fields[name] = positional["title"].__class__(analyzer=positional["title"].analyzer,
                                                                       phrase=True)
    docs = [record_to_document(r) for r in records]
    for directory, sch in (("text", schema), ("positions", positional)):
        _write(tmp_path / directory, sch, docs, BulkSegmentWriter)
    text_ix = whoosh_index.open_dir(str(tmp_path / "text"))
    pos_ix = whoosh_index.open_dir(str(tmp_path / "positions"))
    from procsearch.index.analysis import terms

    phrases = set()
    for r in records[::7]:
        for _, text in r.sections[:4]:
            words = terms(text)
            for i in range(0, max(0, len(words) - 3), 11):
                phrases.add(tuple(words[i:i + 2]))
                phrases.add(tuple(words[i:i + 3]))
                phrases.add((words[i + 2], words[i]))
    assert len(phrases) > 100
    with text_ix.searcher() as ts, pos_ix.searcher() as ps:
        for words in sorted(phrases):
            for field in ("summary", "procedure", "risks", "other"):
                expected = set(ps.docs_for_query(wq.Phrase(field, list(words))))
                assert phrase_docs(ts, words, (field,)) == expected, (field, words)


def test_has_phrase_follows_analysis() -> None:
    from procsearch.index.analysis import terms

    assert has_phrase("An epidural blood patch (EBP) helps", terms("blood patch"))
    assert not has_phrase("blood and a patch", terms("blood patch"))
    assert not has_phrase("patch blood", terms("blood patch"))
    assert has_phrase("a post-dural puncture headache", terms("dural puncture"))
    assert has_phrase("Injections, epidural", terms("injection epidural"))
    assert not has_phrase("Injections, epidural", terms("injection epidural steroid"))


def test_indexing_fast_paths_equal_analyze(records) -> None:
    from procsearch.index.analysis import analyze, term_list, term_positions

    texts = [text for r in records for _, text in r.sections] + [r.title for r in records]
    texts += ["post-dural E11.9 1.5 x-ray naïve 62273-50 a.b.c Sjögren's 0FT4-4ZZ", "", "—", "a-b-c d"]
    for text in texts:
        pieces = list(analyze(text))
        assert term_list(text) == [p.term for p in pieces]
        expected: dict[str, list[int]] = {}
        for p in pieces:
            expected.setdefault(p.term, []).append(p.pos)
        assert list(term_positions(text).items()) == list(expected.items())


def test_same_text_in_fields_with_and_without_positions(records, tmp_path: Path) -> None:
    """A section whose text is also a page's title: each field gets postings of its own format."""
    from dataclasses import replace

    base = records[0]
    text = "Lumbar puncture needle"
    page = replace(base, title=text, sections=(("Summary", text),) + base.sections[1:])
    _write(tmp_path / "ix", build_schema(), [record_to_document(page)], BulkSegmentWriter)
    ix = whoosh_index.open_dir(str(tmp_path / "ix"))
    with ix.searcher() as s:
        assert list(s.docs_for_query(wq.Phrase("title", ["lumbar", "punctur"]))) == [0]
        assert phrase_docs(s, ["lumbar", "punctur"], ("summary",)) == {0}
