"""Where indexes live when the user does not say.

Order: ``--index DIR``; the PROCSEARCH_INDEX environment variable; otherwise a directory per
corpus under the per-user data dir (platformdirs; PROCSEARCH_HOME overrides it), so the bundled
corpus is indexed once per user even when the package sits in a read-only site-packages.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import platformdirs

INDEX_ENV = "PROCSEARCH_INDEX"
HOME_ENV = "PROCSEARCH_HOME"


def data_home() -> Path:
    override = os.environ.get(HOME_ENV)
    return Path(override) if override else Path(platformdirs.user_data_dir("procsearch"))


def default_index_dir(corpus: list[str] | None = None) -> str:
    """Index directory for a corpus (the bundled one when ``corpus`` is None)."""
    env = os.environ.get(INDEX_ENV)
    if env:
        return env
    if not corpus:
        return str(data_home() / "indexes" / "bundled")
    key = "\n".join(sorted(os.path.abspath(c) for c in corpus))
    slug = re.sub(r"[^A-Za-z0-9]+", "-", Path(corpus[0]).resolve().name).strip("-")[:40] or "corpus"
    return str(data_home() / "indexes" / f"{slug}-{hashlib.sha1(key.encode()).hexdigest()[:10]}")
