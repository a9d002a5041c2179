"""On-disk layout of an index directory: generations, the CURRENT pointer, meta and manifest.

    INDEX_DIR/PROCSEARCH-INDEX  marks a folder procsearch created (it writes into no other)
    INDEX_DIR/OWNED          the generations and work dirs procsearch made: the only ones it deletes
    INDEX_DIR/CURRENT        name of the live generation (replaced atomically)
    INDEX_DIR/LOCK           writer lock (see lock.py)
    INDEX_DIR/gen-*/         one complete Whoosh index + meta.json + manifest.sqlite3 + checksums.json
    INDEX_DIR/building-*/    a build or update in progress (left over only if it was killed)

A build or update writes a new generation and then switches CURRENT, so readers never see a
half-written index and a killed writer leaves the previous generation untouched.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
import time
from dataclasses import asdict, dataclass, field

from . import integrity, manifest
from .errors import IndexCorruptError, IndexDirError, IndexMissingError
from .lock import LOCK_NAME, pid_alive
from .manifest import ManifestEntry, Manifest

log = logging.getLogger(__name__)
CURRENT = "CURRENT"
META = "meta.json"
VOCAB = "vocab.json"
INDEX_NAME = "MAIN"
MARKER = "PROCSEARCH-INDEX"
OWNED = "OWNED"
KEEP_GENERATIONS = 2  # the live one and the one before, for readers still on it


@dataclass
class IndexMeta:
    """A generation's meta.json: schema version, the corpus it was built from, times and counts."""

    schema_version: int
    corpus: list[str]
    built_at: float
    updated_at: float
    doc_count: int = 0
    systems: dict[str, int] = field(default_factory=dict)


def write_atomic(path: str, text: str) -> None:
    """Write by temp file + rename: a crash leaves the old file or the new, never half of one."""
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)  # a full disk must not keep our half-written temp file
        except OSError:
            pass
        raise


def current_generation(index_dir: str) -> str:
    """Path of the live generation; IndexMissingError / IndexCorruptError say how to fix a bad one."""
    pointer = os.path.join(index_dir, CURRENT)
    try:
        with open(pointer, encoding="utf-8") as fh:
            name = fh.read().strip()
    except FileNotFoundError:
        raise IndexMissingError(index_dir) from None
    except OSError as exc:
        raise IndexCorruptError(index_dir, f"cannot read {CURRENT}: {exc.strerror}") from None
    gen = os.path.join(index_dir, name)
    if not name or os.sep in name or not os.path.isdir(gen):
        raise IndexCorruptError(index_dir, f"{CURRENT} points at missing generation {name!r}")
    return gen


def has_index(index_dir: str) -> bool:
    return os.path.exists(os.path.join(index_dir, CURRENT))


def claim_index_dir(index_dir: str) -> None:
    """Make sure ``index_dir`` is procsearch's own: created here, empty, or already marked.

    A non-empty folder without the mark (or an index of an older procsearch) is refused, so a
    mistyped --index never mixes an index into, or prunes anything from, a user's folder.
    """
    try:
        os.makedirs(index_dir, exist_ok=True)
        entries = set(os.listdir(index_dir))
    except OSError as exc:
        raise IndexDirError(f"{index_dir}: cannot create the index folder ({exc.strerror or exc})") from None
    if MARKER in entries:
        return
    if entries - {LOCK_NAME} and CURRENT not in entries:
        raise IndexDirError(f"{index_dir} is not empty and is not a procsearch index; "
                            f"give a new or empty folder for --index")
    try:
        mode = stat.S_IMODE(os.stat(index_dir).st_mode)
        if mode & stat.S_IWOTH:  # readers refuse a folder every user can write
            os.chmod(index_dir, mode & ~stat.S_IWOTH)
        write_atomic(os.path.join(index_dir, MARKER), "procsearch index folder: its contents are managed by procsearch\n")
    except OSError as exc:
        raise IndexDirError(f"{index_dir}: cannot write the index folder ({exc.strerror or exc})") from None


def owned(index_dir: str) -> list[str]:
    """Names of the generations and work dirs procsearch created in this folder."""
    try:
        with open(os.path.join(index_dir, OWNED), encoding="utf-8") as fh:
            return [n for n in json.load(fh) if isinstance(n, str)]
    except FileNotFoundError:
        return _legacy_owned(index_dir)
    except (OSError, ValueError, TypeError):
        return []


def _legacy_owned(index_dir: str) -> list[str]:
    """An index written before OWNED existed: its generations are the folders holding our files."""
    out = []
    for name in os.listdir(index_dir):
        gen = os.path.join(index_dir, name)
        if name.startswith("gen-") and os.path.isfile(os.path.join(gen, META)) and manifest.exists(gen):
            out.append(name)
    return out


def _set_owned(index_dir: str, names: list[str]) -> None:
    write_atomic(os.path.join(index_dir, OWNED), json.dumps(sorted(set(names))))


def new_work_dir(index_dir: str) -> str:
    """A fresh building-* folder, recorded as ours before anything is written into it."""
    claim_index_dir(index_dir)
    name = f"building-{os.getpid()}-{time.time_ns()}"
    _set_owned(index_dir, owned(index_dir) + [name])
    path = os.path.join(index_dir, name)
    os.mkdir(path)
    return path


def discard_work_dir(index_dir: str, work_dir: str) -> None:
    """Remove a failed writer's folder at once, so a full disk is freed for the next try."""
    shutil.rmtree(work_dir, ignore_errors=True)
    name = os.path.basename(work_dir)
    try:
        _set_owned(index_dir, [n for n in owned(index_dir) if n != name])
    except OSError:
        pass  # the next writer's prune retries


def publish(index_dir: str, work_dir: str, previous: str | None = None) -> str:
    """Hash a finished work dir, rename it into a generation and switch CURRENT to it atomically.

    ``previous`` is the generation an update started from: its hashes of shared files are reused.
    """
    integrity.write_checksums(work_dir, reuse_from=previous)
    name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 1_000_000_000:09d}"
    final = os.path.join(index_dir, name)
    _set_owned(index_dir, owned(index_dir) + [name])
    os.rename(work_dir, final)
    write_atomic(os.path.join(index_dir, CURRENT), name + "\n")
    prune(index_dir)
    return final


def prune(index_dir: str) -> None:
    """Drop our generations older than the last KEEP_GENERATIONS and work dirs of dead writers.

    Only names listed in OWNED are ever deleted: a user's own ``gen-2019-photos/`` is left alone.
    """
    try:
        live = current_generation(index_dir)
    except (IndexMissingError, IndexCorruptError):
        live = ""
    mine = [n for n in owned(index_dir) if os.sep not in n and n not in ("", ".", "..")]
    present = set(os.listdir(index_dir))
    gens = sorted(n for n in mine if n.startswith("gen-") and n in present)
    keep = set(gens[-KEEP_GENERATIONS:]) | {os.path.basename(live)}
    gone = []
    for name in gens:
        if name not in keep:
            shutil.rmtree(os.path.join(index_dir, name), ignore_errors=True)
            gone.append(name)
    for name in mine:
        if name.startswith("building-") and name in present:
            pid = int(name.split("-")[1]) if name.split("-")[1].isdigit() else 0
            if pid == os.getpid() or pid_alive(pid):
                continue
            log.warning("removed %s left by an interrupted build (process %d)", name, pid)
            shutil.rmtree(os.path.join(index_dir, name), ignore_errors=True)
            gone.append(name)
    remaining = [n for n in mine if n not in gone and n in present]
    if remaining != mine or not os.path.exists(os.path.join(index_dir, OWNED)):
        _set_owned(index_dir, remaining)


def copy_generation(src: str, dst: str) -> None:
    """Hard-link a generation's files into a work dir: Whoosh never rewrites a file in place."""
    for name in os.listdir(src):
        if name.endswith(("_LOCK", ".lock")) or name in (META, manifest.FILE, manifest.LEGACY, VOCAB,
                                                         integrity.CHECKSUMS):
            continue
        s, d = os.path.join(src, name), os.path.join(dst, name)
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)


def link_file(src: str, dst: str, name: str) -> None:
    """Share one unchanged file of a generation with the next (hard link, else a copy)."""
    s, d = os.path.join(src, name), os.path.join(dst, name)
    if not os.path.exists(s):
        return
    try:
        os.link(s, d)
    except OSError:
        shutil.copy2(s, d)


def write_meta(gen: str, meta: IndexMeta) -> None:
    write_atomic(os.path.join(gen, META), json.dumps(asdict(meta), indent=1))


def read_meta(gen: str) -> IndexMeta:
    path = os.path.join(gen, META)
    try:
        with open(path, encoding="utf-8") as fh:
            return IndexMeta(**json.load(fh))
    except (OSError, ValueError, TypeError) as exc:
        raise IndexCorruptError(os.path.dirname(gen), f"{META} unreadable: {exc}") from None


def write_manifest(gen: str, entries: dict[str, ManifestEntry]) -> None:
    """The manifest of a new generation (a build); updates change a copy row by row instead."""
    Manifest.create(gen, (entries[p] for p in sorted(entries))).close()


def read_manifest(gen: str) -> dict[str, ManifestEntry]:
    """Every entry of a generation's manifest (either format)."""
    with Manifest.open(gen) as m:
        return m.all()


def write_vocab(gen: str, vocab: dict[str, int]) -> None:
    write_atomic(os.path.join(gen, VOCAB), json.dumps(vocab, separators=(",", ":"), sort_keys=True))


def read_vocab(gen: str) -> dict[str, int]:
    """Surface words of the indexed pages with their counts ({} for an index without one)."""
    try:
        with open(os.path.join(gen, VOCAB), encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}


def count_systems(entries: dict[str, ManifestEntry]) -> dict[str, int]:
    """Documents per code system, from the manifest (indexed pages only)."""
    counts: dict[str, int] = {}
    for e in entries.values():
        if e.status == "indexed":
            counts[e.code_system] = counts.get(e.code_system, 0) + 1
    return dict(sorted(counts.items()))


def size_on_disk(path: str) -> int:
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(dirpath, name))
            except OSError:
                pass
    return total
