"""Segment files are read from the memory map, with the file semantics Whoosh relies on."""

from __future__ import annotations

import io
import mmap
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from procsearch.index.mapped import ViewFile, _ViewReader
from procsearch.search.searcher import Searcher
from search_fixtures import bundled_index, codes  # noqa: F401  (fixtures)

ops = st.lists(st.one_of(
    st.tuples(st.just("read"), st.integers(-1, 40)),
    st.tuples(st.just("readline"), st.integers(-1, 40)),
    st.tuples(st.just("seek"), st.integers(0, 120)),
    st.tuples(st.just("tell"), st.just(0)),
), max_size=30)


@given(data=st.binary(max_size=100).map(lambda b: b.replace(b"x", b"\n")), steps=ops)
def test_view_reader_behaves_like_bytesio(data: bytes, steps) -> None:
    ours, theirs = _ViewReader(memoryview(data)), io.BytesIO(data)
    for op, arg in steps:
        if op == "tell":
            assert ours.tell() == theirs.tell()
        else:
            assert getattr(ours, op)(arg) == getattr(theirs, op)(arg)
    ours.seek(0)
    theirs.seek(0)
    assert list(ours) == list(theirs)


def test_view_file_reads_a_memory_map_without_copying(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"header\n" + bytes(range(256)) * 4)
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        view = memoryview(mapped)[7:]
        f = ViewFile(view)
        assert f.read_byte() == 0 and f.read(3) == b"\x01\x02\x03"
        assert f.get(255, 2) == b"\xff\x00"
        assert f.tell() == 4
        del f, view


def test_searching_uses_mapped_segment_files(bundled_index: str) -> None:
    from whoosh.filedb import compound
    with Searcher.open(bundled_index) as s:
        assert compound.BufferFile is ViewFile
        assert codes(s.search("epidural blood patch"))[:1] == ["62273"]
        assert s.get("62273").title
