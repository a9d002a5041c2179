"""Index errors: each message says what to run next, naming the index's real corpus when known."""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from pathlib import Path

from procsearch.ingest.errors import ProcsearchError

from .location import bundled_index_dir, index_name


def rebuild_hint(index_dir: str, corpus: Sequence[str] | None = None) -> str:
    """The command that (re)builds an index: the bundled one needs no arguments; another names its corpus."""
    try:
        if Path(index_dir).resolve() == Path(bundled_index_dir()).resolve():
            return "procsearch index build"
    except OSError:
        pass
    source = " ".join(shlex.quote(c) for c in corpus) if corpus else "CORPUS"
    return f"procsearch index build {source} --index {shlex.quote(index_name(index_dir))}"


class IndexMissingError(ProcsearchError):
    """No index where one was expected (never built, or the path is wrong)."""

    def __init__(self, index_dir: str) -> None:
        bare_name = os.sep not in str(index_dir)  # perhaps meant as a name: say where names are listed
        super().__init__(f"no index at {index_dir}; run: {rebuild_hint(index_dir)}"
                         + (" (procsearch index list shows the indexes there are)" if bare_name else ""))
        self.index_dir = index_dir


class IndexCorruptError(ProcsearchError):
    """An index whose files cannot be read; rebuilding it is the fix."""

    def __init__(self, index_dir: str, reason: str, corpus: Sequence[str] | None = None) -> None:
        super().__init__(f"index at {index_dir} is unusable ({reason}); rebuild it: {rebuild_hint(index_dir, corpus)}")
        self.index_dir = index_dir


class IndexVersionError(ProcsearchError):
    """An index written with another schema version: refused rather than misread."""

    def __init__(self, index_dir: str, found: int, wanted: int, corpus: Sequence[str] | None = None) -> None:
        super().__init__(f"index at {index_dir} has schema version {found}, this procsearch needs {wanted}; "
                         f"rebuild it: {rebuild_hint(index_dir, corpus)}")
        self.index_dir = index_dir


class IndexBusyError(ProcsearchError):
    """Another process holds the index's writer lock."""


class IndexUntrustedError(ProcsearchError):
    """An index another user could have written: its files are not read (they hold pickles)."""

    def __init__(self, index_dir: str, reason: str) -> None:
        super().__init__(f"index at {index_dir} is not trusted ({reason}); an index folder is code-like "
                         f"data, so procsearch reads only one that no other user can write")
        self.index_dir = index_dir


class IndexDirError(ProcsearchError):
    """A folder procsearch did not create: it is never written into or cleaned up."""


class IndexWriteError(ProcsearchError):
    """A build or update could not write (disk full, permissions); names the path."""

    def __init__(self, path: str, exc: OSError) -> None:
        where = exc.filename or path
        super().__init__(f"cannot write the index at {path}: {exc.strerror or exc} ({where}); "
                         f"the live index is unchanged")
        self.path = path

