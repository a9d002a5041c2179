"""Loads the field boost table (index/boosts.toml, or the file PROCSEARCH_BOOSTS names)."""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

from ingest.errors import ProcsearchError

DEFAULT_BOOSTS_FILE = Path(__file__).with_name("boosts.toml")
BOOSTS_ENV = "PROCSEARCH_BOOSTS"


@lru_cache(maxsize=8)
def _load(path: str) -> dict[str, float]:
    try:
        with open(path, "rb") as fh:
            table = tomllib.load(fh)["fields"]
        return {str(k): float(v) for k, v in table.items()}
    except (OSError, KeyError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise ProcsearchError(f"{path}: not a usable boosts file ({exc}); see index/boosts.toml") from None


def field_boosts() -> dict[str, float]:
    """Boost per searchable field; a user file may set some fields and inherit the rest."""
    boosts = dict(_load(str(DEFAULT_BOOSTS_FILE)))
    override = os.environ.get(BOOSTS_ENV)
    if override:
        boosts.update(_load(override))
    return boosts
