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
