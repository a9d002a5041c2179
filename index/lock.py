"""One writer per index directory: a flock'ed LOCK file that also records the holder's pid.

The kernel drops a flock when its process dies, so a lock left by a killed build never blocks;
the pid inside lets us say that a stale lock was found and cleared.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from .errors import IndexBusyError

log = logging.getLogger(__name__)
LOCK_NAME = "LOCK"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class WriterLock:
    """Context manager: waits up to ``wait`` seconds for the index, then fails with one clear line."""

    def __init__(self, index_dir: str, wait: float = 10.0) -> None:
        self.index_dir = index_dir
        self.path = os.path.join(index_dir, LOCK_NAME)
        self.wait = wait
        self.fd: int | None = None
        self.stale_pid: int | None = None

    def __enter__(self) -> "WriterLock":
        os.makedirs(self.index_dir, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _flock_within(fd, self.wait, 0.05):
            holder = _read_pid(fd)
            os.close(fd)
            who = f"process {holder}" if holder else "another process"
            raise IndexBusyError(f"index {self.index_dir} is being written by {who}; "
                                 f"waited {self.wait:g}s, try again when it finishes")
        old = _read_pid(fd)
        if old and old != os.getpid() and not pid_alive(old):
            self.stale_pid = old
            log.warning("cleared a stale lock on %s left by process %d, which is no longer running",
                        self.index_dir, old)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def _flock_within(fd: int, seconds: float, poll: float) -> bool:
    """Take an exclusive lock on fd, polling (a blocking flock cannot time out); False on timeout."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode().strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None


@contextmanager
def first_use_lock(index_dir: str, wait: float = 900.0) -> Iterator[None]:
    """Serialise first-use builds of one index: a lock file beside the index folder (inside it
    would need the folder first), held while the first process builds and the others wait."""
    parent = os.path.dirname(os.path.abspath(index_dir))
    os.makedirs(parent, exist_ok=True)
    fd = os.open(os.path.join(parent, f".{os.path.basename(index_dir)}.first-use.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not _flock_within(fd, wait, 0.1):
            raise IndexBusyError(f"index {index_dir} is being built by another process; "
                                 f"waited {wait:g}s, try again when it finishes")
        yield
    finally:
        os.close(fd)
