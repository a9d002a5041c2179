"""Reading a page file safely: regular files only, bounded in size, never blocking."""

from __future__ import annotations

import errno
import os
import stat

from .errors import PageError

# Larger than any procedure page by a factor of hundreds; a bigger "page" is a mistake (a log,
# a disk image, a symlink to /dev/zero) and is skipped with a line saying so.
MAX_PAGE_BYTES = 16 * 1024 * 1024


def read_page(path: str) -> bytes:
    """A page's bytes: regular files only, at most MAX_PAGE_BYTES, never blocking (a FIFO or a
    device named like a page is refused, not waited on or read forever)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a FIFO with no writer
            raise PageError(path, "not a regular file (a named pipe)") from None
        raise PageError(path, f"unreadable ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise PageError(path, f"not a regular file ({_file_kind(st.st_mode)})")
        if st.st_size > MAX_PAGE_BYTES:
            raise PageError(path, f"too large for a page ({st.st_size:,} bytes; the limit is {MAX_PAGE_BYTES:,})")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(MAX_PAGE_BYTES + 1)
        if len(data) > MAX_PAGE_BYTES:
            raise PageError(path, f"too large for a page (over {MAX_PAGE_BYTES:,} bytes)")
        return data
    except OSError as exc:
        raise PageError(path, f"unreadable ({exc.strerror or exc})") from None
    finally:
        os.close(fd)


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "a special file"
