"""Where indexes live when the user does not say, and what an ``--index`` value names.

Order: ``--index DIR|NAME``; the PROCSEARCH_INDEX environment variable; otherwise a directory per
corpus under the per-user data dir (platformdirs; PROCSEARCH_HOME overrides it), so the bundled
corpus is indexed once per user even when the package sits in a read-only site-packages.
Indexes under the data dir are known by their directory name (``procsearch index list``).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

INDEX_ENV = "PROCSEARCH_INDEX"
HOME_ENV = "PROCSEARCH_HOME"
BUNDLED_NAME = "bundled"
_CURRENT = "CURRENT"  # the live-generation pointer every index has (store.CURRENT)


def data_home() -> Path:
    """The per-user data directory (PROCSEARCH_HOME, else the platform's user data dir)."""
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override)
    import platformdirs  # only when needed: it costs start-up time of every command

    return Path(platformdirs.user_data_dir("procsearch"))


def indexes_home() -> Path:
    """The directory holding the indexes a user did not place with ``--index``."""
    return data_home() / "indexes"


def bundled_index_dir() -> str:
    """The bundled corpus's index (built on first use)."""
    return str(indexes_home() / BUNDLED_NAME)


def default_index_dir(corpus: list[str] | None = None) -> str:
    """Index directory for a corpus (the bundled one when ``corpus`` is None)."""
    env = os.environ.get(INDEX_ENV)
    if env:
        return resolve_index(env)
    if not corpus:
        return bundled_index_dir()
    key = "\n".join(sorted(os.path.abspath(c) for c in corpus))
    slug = re.sub(r"[^A-Za-z0-9]+", "-", Path(corpus[0]).resolve().name).strip("-")[:40] or "corpus"
    return str(indexes_home() / f"{slug}-{hashlib.sha1(key.encode()).hexdigest()[:10]}")


def is_index(path: str) -> bool:
    """True when ``path`` holds a published index (a generation pointer)."""
    return os.path.isfile(os.path.join(path, _CURRENT))


def resolve_index(value: str | os.PathLike[str]) -> str:
    """An ``--index`` value -> a directory: an index at that path, else the index of that name
    under the data dir (as ``procsearch index list`` shows it), else the path as given."""
    value = os.fspath(value)
    if is_index(value) or os.sep in value or (os.altsep and os.altsep in value) or value in (".", ".."):
        return value
    named = indexes_home() / value
    return str(named) if is_index(str(named)) else value


def index_name(index_dir: str) -> str:
    """How a user names an index: its name when it lives under the data dir, else its path."""
    path = Path(index_dir).resolve()
    home = indexes_home().resolve()
    return path.name if path.parent == home else str(index_dir)
