"""Incremental updates: re-index only what changed, at a cost that grows with the change.

An update reads the manifest rows it needs (all of them only as (mtime, size) pairs when it walks
the corpus; none but the listed ones when the caller names the changed paths), parses the added
and changed pages, settles duplicate codes among the codes those pages had or have, and writes a
new generation: the previous Whoosh files hard-linked, one small new segment, and a copy of the
manifest changed row by row. A killed update leaves the live generation untouched.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from whoosh import index as whoosh_index

from procsearch.ingest.corpus import Problem, find_pages, is_page_name, scan_pages, skipped_name
from procsearch.ingest.errors import ProcsearchError
from procsearch.ingest.page import ParsedPage

from . import integrity, store
from .errors import IndexMissingError, IndexVersionError
from .lock import WriterLock
from .manifest import Manifest, has_legacy
from .schema import SCHEMA_VERSION, record_to_document
from .store import IndexMeta, ManifestEntry
from .writer import Progress, WriteReport, _apply_duplicates, _hash_file, _init_worker, _parse_entry, _work_dir, add_vocab

log = logging.getLogger(__name__)
_PARALLEL_FROM = 200  # pages: below this, starting worker processes costs more than it saves


class PathOutsideCorpusError(ProcsearchError):
    """A changed path (``update --paths``) that is not inside the index's corpus."""


@dataclass
class _Plan:
    """What an update found to do, before any page is parsed."""

    to_parse: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    touched: dict[str, ManifestEntry] = field(default_factory=dict)  # same content, new mtime/size
    before: dict[str, ManifestEntry] = field(default_factory=dict)  # old rows of every path above
    pages: int = 0


def update_index(corpus: list[str] | None, index_dir: str, workers: int | None = None,
                 progress: Progress | None = None, lock_wait: float = 10.0,
                 changed: Sequence[str] | None = None) -> WriteReport:
    """Re-parse only added and changed pages, drop removed ones, and publish a new generation.

    Without ``changed`` the corpus is walked: unchanged files are recognised by size and mtime
    first and by content hash when those moved. With ``changed`` (files or folders the caller
    knows changed; one that no longer exists is a deletion) nothing else is looked at.
    """
    started = time.perf_counter()
    if not store.has_index(index_dir):  # fail before the lock creates a directory
        raise IndexMissingError(index_dir)
    with WriterLock(index_dir, wait=lock_wait) as lock:
        live = store.current_generation(index_dir)
        meta = store.read_meta(live)
        if meta.schema_version != SCHEMA_VERSION:
            raise IndexVersionError(index_dir, meta.schema_version, SCHEMA_VERSION, meta.corpus)
        integrity.check_before_open(index_dir, live)
        roots = [os.path.abspath(c) for c in (corpus or meta.corpus)]
        report = WriteReport("update", index_dir, stale_lock_pid=lock.stale_pid)
        legacy = has_legacy(live)
        with Manifest.open(live) as old:
            total = old.count_all()
            if changed is None:
                plan = _plan_walk(roots, old, report)
            else:
                plan = _plan_paths(changed, roots, old, report)
            indexed_before = old.count("indexed")
            if plan.to_parse or plan.removed:
                changes = _settle(plan, old, report, workers, progress)
            else:
                changes = None
        report.pages = plan.pages
        report.removed = len(plan.removed)
        report.added = sum(1 for p in plan.to_parse if p not in plan.before)
        report.changed = len(plan.to_parse) - report.added
        report.unchanged = total - report.removed - report.changed
        if changes is None and not plan.touched and not legacy:  # nothing moved: no new generation
            report.indexed = indexed_before
            report.seconds = time.perf_counter() - started
            return report
        if legacy:
            log.warning("converted the manifest of %s to SQLite (once; later updates read only what they need)", live)
        _publish(index_dir, live, meta, roots, plan, changes, report)
    report.seconds = time.perf_counter() - started
    return report


# -- finding what changed -------------------------------------------------------------------


def _plan_walk(roots: list[str], old: Manifest, report: WriteReport) -> _Plan:
    unreadable: list[Problem] = []
    pages, report.ignored = scan_pages(roots, unreadable)
    report.ignored.sort()
    report.skipped.extend(unreadable)
    states = old.file_states()
    plan = _Plan(pages=len(pages))
    moved = [(path, st) for path, st in pages.items()
             if st is None or states.get(path) != (st.st_mtime_ns, st.st_size)]
    plan.removed = [p for p in states if p not in pages]
    plan.before = old.get([p for p, _ in moved if p in states] + plan.removed)
    _compare(sorted(moved, key=lambda m: m[0]), plan)
    return plan


def _compare(moved: Iterable[tuple[str, os.stat_result | None]], plan: _Plan) -> None:
    """Files whose size or mtime moved: parse them unless their content hash is the one indexed."""
    for path, st in moved:
        entry = plan.before.get(path)
        if entry is None or st is None:
            plan.to_parse.append(path)
        elif entry.mtime_ns == st.st_mtime_ns and entry.size == st.st_size:
            continue
        elif entry.content_hash == _hash_file(path):
            plan.touched[path] = replace(entry, mtime_ns=st.st_mtime_ns, size=st.st_size)
        else:
            plan.to_parse.append(path)


def _plan_paths(paths: Sequence[str], roots: list[str], old: Manifest, report: WriteReport) -> _Plan:
    plan = _Plan()
    listed: dict[str, None] = {}  # ordered set of page paths to compare
    removed: dict[str, None] = {}
    for raw in paths:
        path, root = _inside(raw, roots)
        if os.path.isdir(path):
            unreadable: list[Problem] = []
            found, ignored = find_pages([path], unreadable)
            report.skipped.extend(unreadable)
            report.ignored.extend(ignored)
            found = [p for p in found if _walk_finds(p, root)]
            listed.update(dict.fromkeys(found))
            present = set(found)
            removed.update(dict.fromkeys(p for p in old.under(path) if p not in present))
        elif os.path.exists(path):
            if _walk_finds(path, root):
                listed[path] = None
            else:
                report.ignored.append(path)
        else:
            gone = [path] + old.under(path)  # a deleted file, or a deleted folder's pages
            known = old.get(gone)
            if not known:
                report.warnings.append(Problem(path, "no such file, and the index has no page there"))
            removed.update(dict.fromkeys(known))
    for path in list(removed):
        listed.pop(path, None)
    plan.pages = len(listed)
    plan.removed = list(removed)
    plan.before = old.get(list(listed) + plan.removed)
    moved = []
    for path in listed:
        try:
            moved.append((path, os.stat(path)))
        except OSError:
            moved.append((path, None))
    _compare(moved, plan)
    return plan


def _inside(raw: str, roots: list[str]) -> tuple[str, str]:
    """(path as the index names it, its corpus root); PathOutsideCorpusError when in none."""
    path = os.path.abspath(raw)
    for root in roots:
        if path == root or path.startswith(root.rstrip(os.sep) + os.sep):
            return path, root
    # The same file reached through a symlinked folder: name it the way the corpus walk does.
    real = os.path.realpath(path)
    for root in roots:
        real_root = os.path.realpath(root)
        if real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep):
            rel = os.path.relpath(real, real_root)
            return (root if rel == "." else os.path.join(root, rel)), root
    raise PathOutsideCorpusError(f"{raw}: not inside the index's corpus ({', '.join(roots)}); "
                                 f"build an index of it, or update with that corpus")


def _walk_finds(path: str, root: str) -> bool:
    """Whether walking ``root`` would index ``path``: the rules of find_pages, so a listed file and
    a later full walk agree on what the corpus holds."""
    if path == root:
        return True  # a corpus given as single files
    parts = os.path.relpath(path, root).split(os.sep)
    return not any(skipped_name(p) for p in parts) and is_page_name(parts[-1])


# -- parsing and duplicate codes ------------------------------------------------------------


@dataclass
class _Changes:
    """The rows and documents an update writes."""

    after: dict[str, ManifestEntry]  # new rows of every path whose row changes
    parsed: dict[str, ParsedPage]
    to_delete: list[str]
    to_add: list[str]


def _settle(plan: _Plan, old: Manifest, report: WriteReport, workers: int | None,
            progress: Progress | None) -> _Changes:
    """Parse what changed and decide, among the codes involved only, which page holds each code."""
    fresh: dict[str, ManifestEntry] = {}
    parsed: dict[str, ParsedPage] = {}
    _parse_into(plan.to_parse, fresh, parsed, report, workers, progress)
    codes = {e.code for p in plan.to_parse + plan.removed if (e := plan.before.get(p))}
    codes |= {e.code for e in fresh.values() if e.status != "skipped"}
    before = old.with_codes(codes)
    before.update(plan.before)
    contest = {p: e for p, e in before.items() if e.code in codes and e.status != "skipped"}
    for path in plan.removed:
        contest.pop(path, None)
    for path, entry in plan.touched.items():
        if path in contest:
            contest[path] = entry
    for path, entry in fresh.items():
        contest.pop(path, None)
        if entry.status != "skipped":
            contest[path] = entry
    contest, _, report.duplicates = _apply_duplicates(contest)
    after = {**plan.touched, **{p: e for p, e in fresh.items() if e.status == "skipped"}, **contest}
    changed = set(plan.to_parse)
    gone = set(plan.removed)
    to_delete = [p for p, e in before.items() if e.status == "indexed"
                 and (p in gone or p in changed or after.get(p, e).status != "indexed")]
    to_add = [p for p, e in after.items() if e.status == "indexed"
              and (p in changed or p not in before or before[p].status != "indexed")]
    missing = [p for p in to_add if p not in parsed]  # pages that won a code back: parse them again
    if missing:
        again: dict[str, ManifestEntry] = {}
        _parse_into(missing, again, parsed, report, workers, None)
        for path, entry in again.items():
            if entry.status == "skipped":  # broken since it was indexed: keep it out
                after[path] = entry
                to_add.remove(path)
    return _Changes(after, parsed, to_delete, to_add)


def _parse_into(paths: list[str], entries: dict[str, ManifestEntry], parsed: dict[str, ParsedPage],
                report: WriteReport, workers: int | None, progress: Progress | None) -> None:
    """Parse pages (over processes when there are many) into manifest entries and records."""
    if not paths:
        return
    if len(paths) >= _PARALLEL_FROM and (workers or os.cpu_count() or 1) > 1:
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(workers or os.cpu_count(), initializer=_init_worker, initargs=(None, os.getpid())) as pool:
            # imap: progress as results arrive
            _collect_parsed(pool.imap(_parse_entry, paths, chunksize=32), len(paths), entries, parsed, report,
                            progress)
    else:
        _collect_parsed(map(_parse_entry, paths), len(paths), entries, parsed, report, progress)


def _collect_parsed(results: Iterable[tuple[ManifestEntry, ParsedPage | None, Problem | None]], total: int,
                    entries: dict[str, ManifestEntry], parsed: dict[str, ParsedPage], report: WriteReport,
                    progress: Progress | None) -> None:
    for i, (entry, page, problem) in enumerate(results, 1):
        entries[entry.path] = entry
        if page:
            parsed[entry.path] = page
            report.warnings.extend(Problem(entry.path, w) for w in page.warnings)
        if problem:
            report.skipped.append(problem)
        if progress:
            progress(i, total)


# -- writing the new generation -------------------------------------------------------------


def _publish(index_dir: str, live: str, meta: IndexMeta, roots: list[str], plan: _Plan,
             changes: _Changes | None, report: WriteReport) -> None:
    with _work_dir(index_dir) as work:
        store.copy_generation(live, work)
        if changes and (changes.to_delete or changes.to_add):
            vocab = Counter(store.read_vocab(live))
            ix = whoosh_index.open_dir(work, indexname=store.INDEX_NAME)
            with ix.writer(limitmb=128) as writer:
                for path in changes.to_delete:
                    writer.delete_by_term("source", path)
                for path in changes.to_add:
                    doc = record_to_document(changes.parsed[path].record)
                    writer.add_document(**doc)
                    add_vocab(vocab, doc)
            store.write_vocab(work, dict(vocab))
        else:
            store.link_file(live, work, store.VOCAB)
        with Manifest.copy_into(live, work) as manifest:
            manifest.remove(plan.removed)
            manifest.put(plan.touched.values())
            if changes:
                manifest.put(changes.after.values())
            report.indexed = manifest.count("indexed")
            systems = manifest.systems()
        store.write_meta(work, IndexMeta(SCHEMA_VERSION, roots, meta.built_at, time.time(), report.indexed, systems))
        store.publish(index_dir, work, previous=live)
