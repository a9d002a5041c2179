"""Index errors: each message says what to run next."""

from __future__ import annotations

from procsearch.ingest.errors import ProcsearchError


class IndexMissingError(ProcsearchError):
    def __init__(self, index_dir: str) -> None:
        super().__init__(f"no index at {index_dir}; run: procsearch index build CORPUS --index {index_dir}")
        self.index_dir = index_dir


class IndexCorruptError(ProcsearchError):
    def __init__(self, index_dir: str, reason: str) -> None:
        super().__init__(f"index at {index_dir} is unusable ({reason}); "
                         f"rebuild it: procsearch index build CORPUS --index {index_dir}")
        self.index_dir = index_dir


class IndexVersionError(ProcsearchError):
    def __init__(self, index_dir: str, found: int, wanted: int) -> None:
        super().__init__(f"index at {index_dir} has schema version {found}, this procsearch needs {wanted}; "
                         f"rebuild it: procsearch index build CORPUS --index {index_dir}")
        self.index_dir = index_dir


class IndexBusyError(ProcsearchError):
    pass


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

