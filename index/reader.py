"""Opening the live generation for reading, with clear errors for missing, old or broken indexes."""

from __future__ import annotations

import logging
import os

from whoosh import index as whoosh_index
from whoosh.index import EmptyIndexError, Index
from whoosh.reading import IndexReader

from . import integrity, mapped, safe_pickle, store
from .errors import IndexCorruptError, IndexMissingError, IndexVersionError
from .schema import SCHEMA_VERSION

log = logging.getLogger(__name__)
mapped.install()
safe_pickle.install()  # no index file can name code to run


def open_live(index_dir: str, attempts: int = 5) -> tuple[str, Index]:
    """(generation path, Whoosh index) of the live generation, every segment checked."""
    gen, ix, reader = open_reader(index_dir, attempts)
    reader.close()
    return gen, ix


def open_reader(index_dir: str, attempts: int = 5) -> tuple[str, Index, IndexReader]:
    """(generation, Whoosh index, open reader) of the live generation; refuses other schema versions.

    A writer may publish (and prune) generations between our reading CURRENT and opening the
    files it names; then CURRENT has moved on and we simply open the new one.
    """
    for attempt in range(attempts):
        token = generation_token(index_dir)
        try:
            return _open_once(index_dir)
        except (IndexCorruptError, IndexMissingError, OSError):
            if attempt == attempts - 1 or generation_token(index_dir) == token:
                raise
    raise AssertionError("unreachable")


def _open_once(index_dir: str) -> tuple[str, Index, IndexReader]:
    if not os.path.isdir(index_dir):
        raise IndexMissingError(index_dir)
    gen = store.current_generation(index_dir)
    meta = store.read_meta(gen)
    if meta.schema_version != SCHEMA_VERSION:
        raise IndexVersionError(index_dir, meta.schema_version, SCHEMA_VERSION, meta.corpus)
    integrity.check_before_open(index_dir, gen)
    try:
        ix = whoosh_index.open_dir(gen, indexname=store.INDEX_NAME, readonly=True)
        reader = ix.reader()  # opens every segment: damage shows here, not in the first query
    except EmptyIndexError:
        raise IndexCorruptError(index_dir, "no table of contents in the live generation", meta.corpus) from None
    except Exception as exc:  # Whoosh raises many types for damaged files
        integrity.raise_if_damaged(index_dir, exc)  # names the file when the checksums tell which
        raise IndexCorruptError(index_dir, f"{type(exc).__name__}: {exc}", meta.corpus) from None
    return gen, ix, reader


def generation_token(index_dir: str) -> str:
    """Cheap check of which generation is live, so readers notice a new one (read on every
    request of a server, so with bare system calls: a fifth of the cost of a text file object)."""
    try:
        fd = os.open(os.path.join(index_dir, store.CURRENT), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return ""
    try:
        return os.read(fd, 65536).decode("utf-8", "replace").strip()
    except OSError:
        return ""
    finally:
        os.close(fd)
