"""The manifest: what the index knows of each corpus file, kept in SQLite so an update reads and
writes only the rows it touches.

Each generation holds its own ``manifest.sqlite3``. A generation is immutable once published, so
an update copies the file into its work dir (a byte copy, not a parse of every row) and changes
only the rows of added, changed and removed pages there. Published manifests are opened
read-only and ``immutable``, so reading one never creates a journal file in a generation.

Generations written before this format hold ``manifest.json``; they are still read, and the next
update converts them (``LEGACY`` below).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path

from .errors import IndexCorruptError

FILE = "manifest.sqlite3"
LEGACY = "manifest.json"  # the whole-file JSON manifest of procsearch before the SQLite one
FORMAT = 1
_BATCH = 500  # SQLite binds at most 32,766 variables; small batches keep IN (...) lists cheap


@dataclass(frozen=True)
class ManifestEntry:
    """What the index knows of one corpus file, so updates re-parse only what changed."""

    path: str
    mtime_ns: int
    size: int
    content_hash: str
    code: str = ""
    code_system: str = ""
    sections: int = 0
    status: str = "indexed"  # indexed | duplicate | skipped
    reason: str = ""


COLUMNS = tuple(f.name for f in fields(ManifestEntry))
_SCHEMA = f"""
CREATE TABLE entries (path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL,
    content_hash TEXT NOT NULL, code TEXT NOT NULL, code_system TEXT NOT NULL,
    sections INTEGER NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX entries_code ON entries (code);
CREATE TABLE info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO info VALUES ('format', '{FORMAT}');
"""
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM entries"
_INSERT = f"INSERT OR REPLACE INTO entries VALUES ({', '.join('?' * len(COLUMNS))})"


def _row(entry: ManifestEntry) -> tuple:
    return tuple(getattr(entry, c) for c in COLUMNS)  # not astuple(): it deep-copies every field


def _batches(items: list, size: int = _BATCH) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def has_legacy(gen: str) -> bool:
    """True for a generation written before the SQLite manifest (it has only manifest.json)."""
    return not os.path.exists(os.path.join(gen, FILE)) and os.path.exists(os.path.join(gen, LEGACY))


def exists(gen: str) -> bool:
    return os.path.exists(os.path.join(gen, FILE)) or os.path.exists(os.path.join(gen, LEGACY))


def _read_legacy(gen: str) -> dict[str, ManifestEntry]:
    path = os.path.join(gen, LEGACY)
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        return {row[0]: ManifestEntry(*row) for row in data["rows"]}
    except (OSError, ValueError, TypeError, KeyError, IndexError) as exc:
        raise IndexCorruptError(os.path.dirname(gen), f"{LEGACY} unreadable: {exc}") from None


class Manifest:
    """One generation's manifest table. Read-only for a published generation; writable only in a
    work dir (``create`` or ``copy_into``). Errors reading it name the file and say to rebuild."""

    def __init__(self, conn: sqlite3.Connection, path: str, writable: bool) -> None:
        self._conn = conn
        self.path = path
        self.writable = writable

    # -- opening ------------------------------------------------------------------------------

    @classmethod
    def open(cls, gen: str) -> "Manifest":
        """A published generation's manifest, read-only (a legacy JSON one is loaded in memory)."""
        if has_legacy(gen):
            return cls._from_entries(":memory:", _read_legacy(gen).values(), writable=False)
        path = os.path.join(gen, FILE)
        if not os.path.isfile(path):
            raise IndexCorruptError(os.path.dirname(gen), f"{FILE} is missing from {os.path.basename(gen)}")
        uri = Path(os.path.abspath(path)).as_uri() + "?mode=ro&immutable=1"
        return cls._checked(sqlite3.connect(uri, uri=True), path, writable=False)

    @classmethod
    def create(cls, work_dir: str, entries: Iterable[ManifestEntry]) -> "Manifest":
        """A new manifest in a work dir holding ``entries`` (a build, or converting a legacy one)."""
        return cls._from_entries(os.path.join(work_dir, FILE), entries, writable=True)

    @classmethod
    def copy_into(cls, gen: str, work_dir: str) -> "Manifest":
        """A writable copy of ``gen``'s manifest in ``work_dir``: the published file is never written."""
        target = os.path.join(work_dir, FILE)
        if has_legacy(gen):
            return cls.create(work_dir, _read_legacy(gen).values())
        shutil.copyfile(os.path.join(gen, FILE), target)
        conn = sqlite3.connect(target)
        return cls._checked(conn, target, writable=True)

    @classmethod
    def _from_entries(cls, path: str, entries: Iterable[ManifestEntry], writable: bool) -> "Manifest":
        conn = sqlite3.connect(path)
        cls._tune(conn)
        conn.executescript(_SCHEMA)
        conn.executemany(_INSERT, (_row(e) for e in entries))
        conn.commit()
        return cls(conn, path, writable)

    @classmethod
    def _checked(cls, conn: sqlite3.Connection, path: str, writable: bool) -> "Manifest":
        try:
            found = conn.execute("SELECT value FROM info WHERE key = 'format'").fetchone()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise IndexCorruptError(os.path.dirname(os.path.dirname(path)), f"{path} unreadable: {exc}") from None
        if not found or found[0] != str(FORMAT):
            conn.close()
            raise IndexCorruptError(os.path.dirname(os.path.dirname(path)),
                                    f"{path} has manifest format {found[0] if found else '?'}, not {FORMAT}")
        if writable:
            cls._tune(conn)
        return cls(conn, path, writable)

    @staticmethod
    def _tune(conn: sqlite3.Connection) -> None:
        # A work dir is discarded whole when its writer dies, so no rollback journal is needed;
        # close() syncs the finished file once.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")

    def close(self) -> None:
        """Commit (when writable), close, and make the file durable before it is published."""
        if self.writable:
            self._conn.commit()
        self._conn.close()
        if self.writable and self.path != ":memory:":
            fd = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def __enter__(self) -> "Manifest":
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None and self.writable:
            self._conn.close()  # the work dir is being discarded
            return
        self.close()

    # -- reading ------------------------------------------------------------------------------

    def _query(self, sql: str, params: Iterable = ()) -> list:
        try:
            return self._conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise IndexCorruptError(os.path.dirname(os.path.dirname(self.path)),
                                    f"{self.path} unreadable: {exc}") from None

    def all(self) -> dict[str, ManifestEntry]:
        """Every entry (for statistics and tests; updates read only the rows they need)."""
        return {row[0]: ManifestEntry(*row) for row in self._query(_SELECT)}

    def file_states(self) -> dict[str, tuple[int, int]]:
        """{path: (mtime_ns, size)}: the one whole-table read of an update that walks the corpus."""
        return {p: (m, s) for p, m, s in self._query("SELECT path, mtime_ns, size FROM entries")}

    def get(self, paths: Iterable[str]) -> dict[str, ManifestEntry]:
        out: dict[str, ManifestEntry] = {}
        for batch in _batches(sorted(set(paths))):
            rows = self._query(f"{_SELECT} WHERE path IN ({', '.join('?' * len(batch))})", batch)
            out.update((row[0], ManifestEntry(*row)) for row in rows)
        return out

    def with_codes(self, codes: Iterable[str]) -> dict[str, ManifestEntry]:
        """Entries (any status) of the given codes: the pages a duplicate contest is decided among."""
        out: dict[str, ManifestEntry] = {}
        for batch in _batches(sorted(set(c for c in codes if c))):
            rows = self._query(f"{_SELECT} WHERE code IN ({', '.join('?' * len(batch))})", batch)
            out.update((row[0], ManifestEntry(*row)) for row in rows)
        return out

    def under(self, folder: str) -> list[str]:
        """Paths of entries inside ``folder`` (at any depth)."""
        prefix = folder.rstrip(os.sep) + os.sep
        # Every path starting with prefix sorts between prefix and prefix with its last character
        # raised by one; no LIKE, so '%' and '_' in folder names are plain characters.
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return [r[0] for r in self._query("SELECT path FROM entries WHERE path >= ? AND path < ?", (prefix, upper))]

    def count_all(self) -> int:
        return self._query("SELECT count(*) FROM entries")[0][0]

    def count(self, status: str) -> int:
        return self._query("SELECT count(*) FROM entries WHERE status = ?", (status,))[0][0]

    def systems(self) -> dict[str, int]:
        """Indexed documents per code system."""
        rows = self._query("SELECT code_system, count(*) FROM entries WHERE status = 'indexed' "
                           "GROUP BY code_system ORDER BY code_system")
        return {system: n for system, n in rows}

    # -- writing (work dirs only) -------------------------------------------------------------

    def put(self, entries: Iterable[ManifestEntry]) -> None:
        """Insert or replace entries by path."""
        assert self.writable, "a published manifest is never written"
        self._conn.executemany(_INSERT, (_row(e) for e in entries))

    def remove(self, paths: Iterable[str]) -> None:
        assert self.writable, "a published manifest is never written"
        self._conn.executemany("DELETE FROM entries WHERE path = ?", ((p,) for p in paths))
