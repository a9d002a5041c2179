"""Builds and updates: parse in worker processes, each writing its own Whoosh segment.

Whoosh indexing is pure Python, so one writer process is the bottleneck of a naive build. Here
every worker parses its share of the corpus and writes a segment of its own (Whoosh's own
multi-process writer does the same, but forks from a process that may hold threads); the parent
then publishes all segments in one table of contents without merging them.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import PostingPool, SegmentWriter

from procsearch.ingest.corpus import Duplicate, Problem, find_pages, parse_one, resolve_duplicates
from procsearch.ingest.errors import PageError
from procsearch.ingest.files import read_page
from procsearch.ingest.page import ParsedPage
from procsearch.ingest.record import hash_bytes
from procsearch.ingest.workers import die_with_parent

from . import store
from .codec import InliningCodec
from .segments import BulkSegmentWriter
from .errors import IndexWriteError
from .lock import WriterLock
from .analysis import surface_words
from .schema import (RECORD_DICT_SAMPLE, SCHEMA_VERSION, SPELL_SOURCES, build_schema, record_dictionary,
                     record_to_document)
from .store import IndexMeta, ManifestEntry

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
_PROGRESS_EVERY = 250
# Documents per segment: a segment's postings are held in memory as arrays (about 20 bytes a
# posting, some 200 postings a page) until it is written. Large segments repeat fewer terms
# across segments (a smaller term dictionary) and make queries read fewer posting lists;
# this bound keeps a worker under about half a gigabyte.
DOCS_PER_SEGMENT = 40_000
POOL_LIMIT_MB = 256  # the unused sorting pool Whoosh's writer still creates
_progress_queue: "multiprocessing.Queue[int] | None" = None


@dataclass
class WriteReport:
    """What a build or update did, for the CLI and the benchmark."""

    action: str
    index_dir: str
    pages: int = 0
    indexed: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stale_lock_pid: int | None = None

    def lines(self) -> list[str]:
        out = [p.line("skipped") for p in self.skipped] + [p.line("warning") for p in self.warnings]
        out += [d.line() for d in self.duplicates]
        if self.ignored:
            out.append(f"ignored {len(self.ignored)} file(s) that are not pages: {', '.join(self.ignored[:5])}")
        if self.stale_lock_pid:
            out.append(f"cleared a stale lock left by process {self.stale_lock_pid}")
        if self.action == "build":
            out.append(f"built {self.index_dir}: {self.indexed} documents from {self.pages} pages, "
                       f"{len(self.skipped)} skipped, {sum(len(d.losers) for d in self.duplicates)} duplicate, "
                       f"{len(self.warnings)} warnings in {self.seconds:.1f}s")
        else:
            out.append(f"updated {self.index_dir}: {self.added} added, {self.changed} changed, "
                       f"{self.removed} removed, {self.unchanged} unchanged; {self.indexed} documents; "
                       f"{len(self.skipped)} skipped in {self.seconds:.1f}s")
        return out


def _init_worker(progress_queue: "multiprocessing.Queue[int] | None", parent: int) -> None:
    global _progress_queue
    die_with_parent(parent)
    _progress_queue = progress_queue


def _parse_entry(path: str) -> tuple[ManifestEntry, ParsedPage | None, Problem | None]:
    try:
        st = os.stat(path)
        mtime, size = st.st_mtime_ns, st.st_size
    except OSError:
        mtime, size = 0, 0
    result = parse_one(path)
    if isinstance(result, PageError):
        entry = ManifestEntry(path, mtime, size, _hash_file(path), status="skipped", reason=result.reason)
        return entry, None, Problem(path, result.reason)
    rec = result.record
    entry = ManifestEntry(path, mtime, size, rec.content_hash, rec.code, rec.code_system, len(rec.sections))
    return entry, result, None


def _hash_file(path: str) -> str:
    try:
        return hash_bytes(read_page(path))
    except PageError:
        return ""


@dataclass
class _PartitionResult:
    segments: list
    entries: list[ManifestEntry]
    skipped: list[Problem]
    warnings: list[Problem]
    vocab: Counter[str]


def _segment_writer(ix) -> SegmentWriter:
    """A lock-free writer of one new segment, with temp files of its own (Whoosh would share one
    temp dir between concurrent writers and delete the other's sort runs)."""
    writer = BulkSegmentWriter(ix, _lk=False, limitmb=POOL_LIMIT_MB, codec=InliningCodec())
    writer._tempstorage = ix.storage.temp_storage(f"{store.INDEX_NAME}.tmp-{os.getpid()}-{time.time_ns()}")
    writer.pool = PostingPool(writer._tempstorage, writer.newsegment, limitmb=POOL_LIMIT_MB)
    return writer


def _close_writer(writer: SegmentWriter) -> object | None:
    segment = writer._finalize_segment() if writer.doc_count() else None
    if segment is None:
        writer._close_segment()
    writer._finish()
    return segment


def _index_partition(work_dir: str, paths: list[str], progress: Progress | None = None) -> _PartitionResult:
    """Worker: parse pages and write them as new segments of the index in ``work_dir``.

    In a worker process progress goes through the queue; in-process (a small corpus) straight
    to ``progress``, so a bar is drawn whatever the corpus size."""
    ix = whoosh_index.open_dir(work_dir, indexname=store.INDEX_NAME)
    writer = _segment_writer(ix)
    result = _PartitionResult([], [], [], [], Counter())
    pending = 0
    for path in paths:
        entry, parsed, problem = _parse_entry(path)
        result.entries.append(entry)
        if problem:
            result.skipped.append(problem)
        elif parsed:
            doc = record_to_document(parsed.record)
            writer.add_document(**doc)
            add_vocab(result.vocab, doc)
            if writer.doc_count() >= DOCS_PER_SEGMENT:
                result.segments.append(_close_writer(writer))
                writer = _segment_writer(ix)
            result.warnings.extend(Problem(path, w) for w in parsed.warnings)
        pending += 1
        if progress is not None:
            progress(len(result.entries), len(paths))
        if pending >= _PROGRESS_EVERY and _progress_queue is not None:
            _progress_queue.put(pending)
            pending = 0
    if pending and _progress_queue is not None:
        _progress_queue.put(pending)
    segment = _close_writer(writer)
    if segment is not None:
        result.segments.append(segment)
    return result


def add_vocab(vocab: Counter[str], doc: dict[str, str]) -> None:
    """Count the surface words of a document's most telling fields into the spelling vocabulary."""
    for name in SPELL_SOURCES:
        text = doc.get(name)
        if text:
            vocab.update(surface_words(text))


def _run_partitions(work_dir: str, pages: list[str], workers: int,
                    progress: Progress | None) -> list[_PartitionResult]:
    if workers <= 1 or len(pages) < 400:
        return [_index_partition(work_dir, pages, progress)] if pages else []
    ctx = multiprocessing.get_context("spawn")
    progress_queue = ctx.Queue()
    parts = [pages[i::workers] for i in range(workers)]
    with ctx.Pool(workers, initializer=_init_worker, initargs=(progress_queue, os.getpid())) as pool:
        pending = [pool.apply_async(_index_partition, (work_dir, part)) for part in parts]
        done = 0
        while not all(p.ready() for p in pending):
            try:
                done += progress_queue.get(timeout=0.2)
                if progress:
                    progress(done, len(pages))
            except queue.Empty:
                pass
        if progress:
            progress(len(pages), len(pages))
        return [p.get() for p in pending]


def build_index(corpus: list[str], index_dir: str, workers: int | None = None,
                progress: Progress | None = None, lock_wait: float = 10.0) -> WriteReport:
    """Full build into a new generation, published atomically; the previous index stays live until then."""
    started = time.perf_counter()
    corpus = [os.path.abspath(c) for c in corpus]
    unreadable: list[Problem] = []
    pages, ignored = find_pages(corpus, unreadable)
    workers = workers or os.cpu_count() or 1
    report = WriteReport("build", index_dir, pages=len(pages), ignored=ignored)
    store.claim_index_dir(index_dir)  # before the lock: nothing is written into a user's folder
    with WriterLock(index_dir, wait=lock_wait) as lock:
        report.stale_lock_pid = lock.stale_pid
        store.prune(index_dir)
        with _work_dir(index_dir) as work:
            results, duplicates = _build_into(work, corpus, pages, workers, progress, report)
            store.publish(index_dir, work)
    report.skipped = unreadable + [p for r in results for p in r.skipped]
    report.warnings = [p for r in results for p in r.warnings]
    report.duplicates = duplicates
    report.seconds = time.perf_counter() - started
    return report


@contextmanager
def _work_dir(index_dir: str) -> Iterator[str]:
    """A work dir that is removed when the build fails in any way (disk full, Ctrl-C, a bug);
    a write error becomes one line naming the path."""
    try:
        work = store.new_work_dir(index_dir)
    except OSError as exc:
        raise IndexWriteError(index_dir, exc) from None
    try:
        yield work
    except BaseException as exc:
        if os.path.isdir(work):
            store.discard_work_dir(index_dir, work)
        if isinstance(exc, OSError) and not isinstance(exc, (BlockingIOError, InterruptedError)):
            raise IndexWriteError(index_dir, exc) from None
        raise


def _build_into(work: str, corpus: list[str], pages: list[str], workers: int, progress: Progress | None,
                report: WriteReport) -> tuple[list[_PartitionResult], list[Duplicate]]:
    schema = build_schema(record_dictionary(_sample_records(pages)))
    whoosh_index.create_in(work, schema, indexname=store.INDEX_NAME)
    results = _run_partitions(work, pages, workers, progress)
    for name in os.listdir(work):
        if ".tmp" in name and os.path.isdir(os.path.join(work, name)):
            shutil.rmtree(os.path.join(work, name), ignore_errors=True)
    entries = {e.path: e for r in results for e in r.entries}
    segments = [seg for r in results for seg in r.segments]
    storage = FileStorage(work)
    whoosh_index.TOC(schema, segments, 1).write(storage, store.INDEX_NAME)
    whoosh_index.clean_files(storage, store.INDEX_NAME, 1, segments)
    entries, losers, duplicates = _apply_duplicates(entries)
    if losers:
        ix = whoosh_index.open_dir(work, indexname=store.INDEX_NAME)
        with ix.writer() as w:
            w.mergetype = _no_merge
            for path in losers:
                w.delete_by_term("source", path)
    report.indexed = sum(1 for e in entries.values() if e.status == "indexed")
    now = time.time()
    vocab: Counter[str] = Counter()
    for r in results:
        vocab.update(r.vocab)
    store.write_vocab(work, dict(vocab))
    store.write_manifest(work, entries)
    store.write_meta(work, IndexMeta(SCHEMA_VERSION, corpus, now, now, report.indexed,
                                     store.count_systems(entries)))
    return results, duplicates


def _sample_records(pages: list[str]) -> list[str]:
    """JSON of a few records spread over the corpus, to make the stored records' dictionary from."""
    step = max(1, len(pages) // RECORD_DICT_SAMPLE)
    out = []
    for path in pages[::step][:RECORD_DICT_SAMPLE]:
        result = parse_one(path)
        if not isinstance(result, PageError):
            out.append(result.record.to_json())
    return out


def _no_merge(writer: SegmentWriter, segments: list) -> list:
    return segments


def _apply_duplicates(entries: dict[str, ManifestEntry]) -> tuple[dict[str, ManifestEntry], list[str], list[Duplicate]]:
    """Mark duplicate-code pages; returns entries, paths to drop from the index, and the duplicates."""
    candidates = [(e.code, e.path, e.sections) for e in entries.values() if e.status in ("indexed", "duplicate")]
    winners, duplicates = resolve_duplicates(candidates)
    losers = []
    for path, e in list(entries.items()):
        if e.status == "skipped":
            continue
        status = "indexed" if winners[e.code] == path else "duplicate"
        if status == "duplicate":
            losers.append(path)
        if status != e.status:
            entries[path] = replace(e, status=status, reason="" if status == "indexed" else f"duplicate of {winners[e.code]}")
    return entries, losers, duplicates
