"""Content hashes of a generation's files, written at publish and checked before Whoosh reads them.

``checksums.json`` lists every file of a generation with its size and BLAKE2b hash. Opening an
index checks, before any Whoosh code runs, that the folders are not writable by other users,
that the tables of contents are exactly the ones procsearch wrote and that no listed file changed
size; ``procsearch index verify`` hashes every file and names any that changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterable

from .errors import IndexCorruptError, IndexUntrustedError

CHECKSUMS = "checksums.json"
_CHUNK = 1 << 20


def file_hash(path: str) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _is_toc(name: str) -> bool:
    return name.startswith("_") and name.endswith(".toc")


def _listed_files(gen: str) -> Iterable[str]:
    for name in sorted(os.listdir(gen)):
        if name == CHECKSUMS or name.endswith(("_LOCK", ".lock")) or ".tmp" in name:
            continue
        if os.path.isfile(os.path.join(gen, name)):
            yield name


def write_checksums(gen: str, reuse_from: str | None = None) -> None:
    """Hash every file of a finished generation. Files hard-linked from ``reuse_from`` (an update)
    keep that generation's hashes: Whoosh never rewrites a file, so only new files are read."""
    from .store import write_atomic

    previous = read_checksums(reuse_from) if reuse_from else {}
    files: dict[str, list] = {}
    for name in _listed_files(gen):
        path = os.path.join(gen, name)
        st = os.stat(path)
        if st.st_mode & stat.S_IWOTH:  # a umask of 0 must not make our own index untrusted
            os.chmod(path, stat.S_IMODE(st.st_mode) & ~stat.S_IWOTH)
        old = previous.get(name)
        if old and reuse_from and old[0] == st.st_size and _same_file(path, os.path.join(reuse_from, name)):
            files[name] = list(old)
        else:
            files[name] = [st.st_size, file_hash(path)]
    write_atomic(os.path.join(gen, CHECKSUMS), json.dumps({"format": 1, "files": files}, indent=0))
    mode = stat.S_IMODE(os.stat(gen).st_mode)
    if mode & stat.S_IWOTH:
        os.chmod(gen, mode & ~stat.S_IWOTH)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def read_checksums(gen: str) -> dict[str, tuple[int, str]]:
    """{file name: (size, hash)}; {} when the generation has no readable checksums file."""
    try:
        with open(os.path.join(gen, CHECKSUMS), encoding="utf-8") as fh:
            data = json.load(fh)
        return {str(k): (int(v[0]), str(v[1])) for k, v in data["files"].items()}
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return {}


def check_trust(index_dir: str, gen: str) -> None:
    """Refuse an index another user could have written: its folders must belong to this user (or
    root) and must not be writable by everyone (check_before_open checks each file the same way)."""
    for path in (index_dir, gen):
        try:
            st = os.stat(path)
        except OSError as exc:
            raise IndexCorruptError(index_dir, f"cannot read {path}: {exc.strerror}") from None
        _check_owner(index_dir, path, st)


def _check_owner(index_dir: str, path: str, st: os.stat_result) -> None:
    if st.st_uid not in (os.getuid(), 0):
        raise IndexUntrustedError(index_dir, f"{path} belongs to another user")
    if st.st_mode & stat.S_IWOTH:
        raise IndexUntrustedError(index_dir, f"{path} is writable by every user")


def check_before_open(index_dir: str, gen: str) -> None:
    """The cheap checks run before every open: trust, the TOC hashes, and every file's size."""
    check_trust(index_dir, gen)
    sums = read_checksums(gen)
    if not sums:
        raise IndexCorruptError(index_dir, f"no readable {CHECKSUMS} in {os.path.basename(gen)} "
                                           f"(written by an older procsearch, or damaged)")
    tocs = {n for n in os.listdir(gen) if _is_toc(n)}
    listed_tocs = {n for n in sums if _is_toc(n)}
    if tocs != listed_tocs:
        extra = sorted(tocs - listed_tocs) or sorted(listed_tocs - tocs)
        raise IndexCorruptError(index_dir, f"table of contents {extra[0]} is not the one procsearch wrote")
    for name, (size, digest) in sums.items():
        path = os.path.join(gen, name)
        try:
            st = os.stat(path)
        except OSError:
            raise IndexCorruptError(index_dir, f"{path} is missing") from None
        _check_owner(index_dir, path, st)
        if st.st_size != size:
            raise IndexCorruptError(index_dir, f"{path} changed size since it was written")
        if _is_toc(name) and file_hash(path) != digest:
            raise IndexCorruptError(index_dir, f"{path} is not the table of contents procsearch wrote")


def verify_generation(gen: str) -> tuple[int, list[str]]:
    """(files checked, one line per problem naming the file): every byte of every file is hashed."""
    sums = read_checksums(gen)
    if not sums:
        return 0, [f"{os.path.join(gen, CHECKSUMS)}: missing or unreadable"]
    problems = []
    for name, (size, digest) in sorted(sums.items()):
        path = os.path.join(gen, name)
        try:
            actual = os.path.getsize(path)
            if actual != size:
                problems.append(f"{path}: size {actual} bytes, {size} when written")
            elif file_hash(path) != digest:
                problems.append(f"{path}: content changed since it was written (checksum mismatch)")
        except OSError as exc:
            problems.append(f"{path}: {exc.strerror or exc}")
    for name in _listed_files(gen):
        if name not in sums:
            problems.append(f"{os.path.join(gen, name)}: not written by procsearch (not in {CHECKSUMS})")
    return len(sums), problems


def verify_index(index_dir: str) -> tuple[str, int, list[str]]:
    """(live generation, files checked, problems) of ``procsearch index verify``."""
    from .store import current_generation

    gen = current_generation(index_dir)
    check_trust(index_dir, gen)
    checked, problems = verify_generation(gen)
    return gen, checked, problems


def raise_if_damaged(index_dir: str, exc: BaseException) -> None:
    """After an unexpected error while reading: IndexCorruptError naming the damaged file when
    the live generation no longer matches its checksums; otherwise return (the error is a bug)."""
    from .store import current_generation

    try:
        _, problems = verify_generation(current_generation(index_dir))
    except Exception:  # noqa: BLE001 - a check that fails must not hide the original error
        return
    if problems:
        raise IndexCorruptError(index_dir, f"{problems[0]}; seen as {type(exc).__name__} while reading") from None
