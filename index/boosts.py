"""Loads the field boost table (index/boosts.toml, or the file PROCSEARCH_BOOSTS names)."""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

from procsearch.ingest.errors import ProcsearchError

DEFAULT_BOOSTS_FILE = Path(__file__).with_name("boosts.toml")
BOOSTS_ENV = "PROCSEARCH_BOOSTS"


@lru_cache(maxsize=8)
def _load(path: str) -> dict:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        fields = {str(k): float(v) for k, v in data.get("fields", {}).items()}
        search = {str(k): tuple(str(f) for f in v) for k, v in data.get("search", {}).items()}
        return {"fields": fields, "search": search}
    except (OSError, ValueError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise ProcsearchError(f"{path}: not a usable boosts file ({exc}); see index/boosts.toml") from None


def _merged() -> dict:
    base = _load(str(DEFAULT_BOOSTS_FILE))
    fields, search = dict(base["fields"]), dict(base["search"])
    override = os.environ.get(BOOSTS_ENV)
    if override:
        extra = _load(override)
        fields.update(extra["fields"])
        search.update(extra["search"])
    return {"fields": fields, "search": search}


def field_boosts() -> dict[str, float]:
    """Boost per searchable field; a user file may set some fields and inherit the rest."""
    return _merged()["fields"]


def default_fields() -> tuple[str, ...]:
    """Fields free text searches when the query names none."""
    return _merged()["search"].get("default_fields", ())


def expansion_fields() -> tuple[str, ...]:
    """Fields in which thesaurus expansions are matched."""
    return _merged()["search"].get("expansion_fields", ())
