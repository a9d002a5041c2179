"""The indexes a user manages: listing them, finding each one's own corpus, keeping the bundled one current.

An index records the corpus it was built from (meta.json), so a rebuild or update without a
corpus argument uses that corpus, and the bundled corpus's index notices when the package (and
with it the bundled pages) moved, as after a reinstall, and rebuilds itself.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

from procsearch.ingest.errors import ProcsearchError

from . import store
from .errors import IndexBusyError, IndexCorruptError, IndexMissingError
from .location import bundled_index_dir, index_name, indexes_home, is_index
from .lock import LOCK_NAME, WriterLock, first_use_lock, pid_alive

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexEntry:
    """One index under the data directory, as ``procsearch index list`` shows it."""

    name: str
    index_dir: str
    corpus: tuple[str, ...]
    documents: int
    size_bytes: int
    updated_at: float
    corpus_present: bool  # False when a corpus directory recorded in the index is gone
    problem: str = ""  # why the index cannot be read, if it cannot


def list_indexes() -> list[IndexEntry]:
    """Every index under the data directory, by name; unreadable ones carry their problem."""
    home = indexes_home()
    if not home.is_dir():
        return []
    out = []
    for child in sorted(home.iterdir()):
        if not child.is_dir() or not is_index(str(child)):
            continue
        size = store.size_on_disk(str(child))
        try:
            meta = store.read_meta(store.current_generation(str(child)))
        except ProcsearchError as exc:
            out.append(IndexEntry(child.name, str(child), (), 0, size, 0.0, False, str(exc)))
            continue
        corpus = tuple(meta.corpus)
        out.append(IndexEntry(child.name, str(child), corpus, meta.doc_count, size, meta.updated_at,
                              all(os.path.exists(c) for c in corpus)))
    return out


_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def named_index_dir(name: str) -> str:
    """The directory of a new or existing index called ``name`` under the data directory."""
    if not _NAME_RE.match(name):
        raise ProcsearchError(f"index name {name!r} is not usable: use letters, digits, '.', '_' and '-' "
                              "(up to 64, starting with a letter or digit)")
    return str(indexes_home() / name)


def is_bundled(index_dir: str) -> bool:
    """True for the bundled corpus's own index directory."""
    return Path(index_dir).resolve() == Path(bundled_index_dir()).resolve()


def own_corpus(index_dir: str) -> list[str] | None:
    """The corpus to rebuild or update an index from when the user names none.

    The bundled index always takes the bundled corpus where it is installed now; another index
    takes the corpus recorded in it; None when there is no index yet. A recorded corpus that
    no longer exists is an error naming it, never an empty rebuild that would drop every page.
    """
    from procsearch.corpus import corpus_dir

    if is_bundled(index_dir):
        return [str(corpus_dir())]
    if not store.has_index(index_dir):
        return None
    meta = store.read_meta(store.current_generation(index_dir))
    gone = [c for c in meta.corpus if not os.path.exists(c)]
    if gone or not meta.corpus:
        where = ", ".join(gone) or "(none recorded)"
        raise ProcsearchError(f"the corpus of index {index_name(index_dir)} is gone: {where}; name it: "
                              f"procsearch index build CORPUS --index {shlex.quote(index_name(index_dir))}")
    return list(meta.corpus)


def bundled_rebuild_reason(index_dir: str) -> str | None:
    """Why the bundled index must be (re)built before use, or None when it is current."""
    from procsearch.corpus import corpus_dir

    if not store.has_index(index_dir):
        return "first use"
    from .schema import SCHEMA_VERSION  # only here: it loads Whoosh

    try:
        meta = store.read_meta(store.current_generation(index_dir))
    except (IndexCorruptError, IndexMissingError) as exc:
        return f"the index is unusable: {exc}"
    if meta.schema_version != SCHEMA_VERSION:
        return f"it was built by another version (schema {meta.schema_version}, now {SCHEMA_VERSION})"
    from .integrity import read_checksums

    if not read_checksums(store.current_generation(index_dir)):
        return "it was written by an older procsearch, without checksums"
    here = str(corpus_dir())
    if list(meta.corpus) != [here]:
        return f"the bundled corpus moved from {', '.join(meta.corpus)} to {here} (reinstalled)"
    return None


def ensure_bundled_index() -> str:
    """The bundled corpus's index directory, (re)built first when missing, outdated or moved.
    Concurrent first uses build it once: one process builds, the others wait and reuse it."""
    index_dir = bundled_index_dir()
    if bundled_rebuild_reason(index_dir) is None:
        return index_dir
    with first_use_lock(index_dir):
        reason = bundled_rebuild_reason(index_dir)
        if reason is not None:
            from procsearch.corpus import corpus_dir

            from .writer import build_index  # only when building: it loads the page parser

            log.warning("building the index of the bundled corpus in %s (%s)", index_dir, reason)
            build_index([str(corpus_dir())], index_dir)
            prune_leftovers()
    return index_dir


_OWN_PREFIXES = ("gen-", "building-")  # the only entries (with CURRENT and LOCK) procsearch makes in an index dir


def _ours(name: str) -> bool:
    return name in (store.CURRENT, LOCK_NAME, store.MARKER, store.OWNED) or name.startswith(_OWN_PREFIXES)


def _dead_work_dir(name: str) -> bool:
    parts = name.split("-")
    return name.startswith("building-") and len(parts) > 1 and parts[1].isdigit() and not pid_alive(int(parts[1]))


def prune_leftovers() -> list[str]:
    """Remove what interrupted or superseded writes left under the data directory: work dirs of
    dead writers and old generations (store.prune), and index dirs whose first build never
    finished. Only entries procsearch creates are removed; returns the directories removed."""
    home = indexes_home()
    removed: list[str] = []
    if not home.is_dir():
        return removed
    for child in sorted(home.iterdir()):
        try:
            entries = os.listdir(child) if child.is_dir() else None
            if not entries or not all(_ours(e) for e in entries):
                continue  # not a directory procsearch made: leave it alone
            with WriterLock(str(child), wait=0):
                if is_index(str(child)):
                    store.prune(str(child))
                    continue
                work = [e for e in os.listdir(child) if e not in (LOCK_NAME, store.MARKER, store.OWNED)]
                mine = set(store.owned(str(child)))
                if not all(_dead_work_dir(e) and e in mine for e in work):
                    continue  # a first build still running, or a folder its OWNED list does not name
                for e in work:
                    shutil.rmtree(child / e)
                for e in (store.OWNED, store.MARKER):
                    if (child / e).exists():
                        os.unlink(child / e)
            os.unlink(child / LOCK_NAME)
            os.rmdir(child)
            removed.append(str(child))
            log.info("removed %s, left by a build that never finished", child)
        except (IndexBusyError, OSError):
            continue  # being written now, or not ours to remove
    return removed


def remove_index(index_dir: str) -> None:
    """Delete an index: only the entries procsearch made (CURRENT, LOCK, generations, work dirs);
    a directory holding anything else keeps it and the message says so."""
    if not is_index(index_dir):
        raise ProcsearchError(f"no index at {index_dir}; see: procsearch index list")
    with WriterLock(index_dir, wait=0):
        for name in store.owned(index_dir):  # only what procsearch recorded making
            shutil.rmtree(os.path.join(index_dir, name), ignore_errors=True)
        for name in (store.CURRENT, store.OWNED, store.MARKER):
            if os.path.exists(os.path.join(index_dir, name)):
                os.unlink(os.path.join(index_dir, name))
    os.unlink(os.path.join(index_dir, LOCK_NAME))
    others = os.listdir(index_dir)
    if others:
        raise ProcsearchError(f"removed the index in {index_dir} but kept the directory: it also holds "
                              f"{', '.join(sorted(others)[:5])}, which procsearch did not create")
    os.rmdir(index_dir)
