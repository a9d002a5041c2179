"""The ranking configuration: field boosts, searched fields and every ranking constant, in one
frozen RankingConfig read from index/boosts.toml (or a file the user names, or PROCSEARCH_BOOSTS).

A user file may set only some values; the rest come from the bundled file.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from procsearch.ingest.errors import ProcsearchError

DEFAULT_BOOSTS_FILE = Path(__file__).with_name("boosts.toml")
BOOSTS_ENV = "PROCSEARCH_BOOSTS"
# Tables of a boosts file and the settings of RankingConfig each fills.
_LISTS = ("default_fields", "expansion_fields", "page_df_fields")


@dataclass(frozen=True)
class RankingConfig:
    """Everything ranking depends on besides the index and the thesaurus (documented in boosts.toml)."""

    fields: Mapping[str, float]
    default_fields: tuple[str, ...]
    expansion_fields: tuple[str, ...]
    # Thesaurus expansion weights by kind (abbreviation, synonym, spelling, word part).
    expansion_weights: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    page_df_fields: tuple[str, ...] = ("title", "summary", "procedure")
    k1: float = 1.2
    b: float = 0.75
    idf_page_share: float = 0.25
    candidates: int = 200
    fallback_share: int = 50
    fallback_terms: int = 1
    candidate_df_max: float = 0.25
    common_fraction: float = 0.04
    common_min: int = 50
    phrase_boost: float = 1.5
    code_boost: float = 1000.0
    similar_boost: float = 20.0
    header_cover: float = 2.0
    coord_base: float = 0.2
    phrase_spread: float = 0.5
    open_prior: float = 0.1
    variant_factor: float = 0.9
    match_floor: float = 0.001
    absent_scale: float = 1.4
    absent_cap: float = 0.75
    max_stem_words: int = 4
    min_mixed_prefix: int = 3

    def boost(self, fieldname: str) -> float:
        return self.fields.get(fieldname, 1.0)

    def common_df(self, pages: int) -> int:
        """Pages a term must be on to count as common (scored on candidates only)."""
        return max(self.common_min, int(pages * self.common_fraction))

    def expansion_weight(self, kind: str) -> float | None:
        """How much an expansion of this thesaurus kind counts against a typed word (None: not set)."""
        return self.expansion_weights.get(kind)


_NUMBERS = {f.name: f.type for f in dataclasses.fields(RankingConfig)
            if f.name not in ("fields", "expansion_weights") + _LISTS}


@lru_cache(maxsize=8)
def _load(path: str) -> dict:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        fields = {str(k): float(v) for k, v in data.get("fields", {}).items()}
        expansion = {str(k): float(v) for k, v in data.get("expansion", {}).items()}
        search = {str(k): tuple(str(f) for f in v) for k, v in data.get("search", {}).items()}
        unknown = set(search) - set(_LISTS)
        if unknown:
            raise ValueError(f"unknown search setting {sorted(unknown)[0]!r}")
        ranking = {}
        for key, value in data.get("ranking", {}).items():
            kind = _NUMBERS.get(key)
            if kind is None:
                raise ValueError(f"unknown ranking setting {key!r}")
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"ranking setting {key!r} must be a number")
            ranking[key] = int(value) if kind in ("int", int) else float(value)
        return {"fields": fields, "expansion": expansion, "search": search, "ranking": ranking}
    except (OSError, ValueError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise ProcsearchError(f"{path}: not a usable boosts file ({exc}); see index/boosts.toml") from None


def load_ranking(path: str | os.PathLike | None = None) -> RankingConfig:
    """The bundled configuration, overridden by ``path`` (else by $PROCSEARCH_BOOSTS) where it says so."""
    override = os.fspath(path) if path is not None else os.environ.get(BOOSTS_ENV)
    return _config(str(DEFAULT_BOOSTS_FILE), override or None)


def bundled_ranking() -> RankingConfig:
    """index/boosts.toml alone, whatever the environment says (what the thesaurus is parsed with)."""
    return _config(str(DEFAULT_BOOSTS_FILE), None)


def _config(base_path: str, override: str | None) -> RankingConfig:
    base = _load(base_path)
    tables = {name: dict(base[name]) for name in ("fields", "expansion", "search", "ranking")}
    if override:
        extra = _load(override)
        for name, values in tables.items():
            values.update(extra[name])
    search = tables["search"]
    lists = {name: tuple(search[name]) for name in _LISTS if name in search}
    return RankingConfig(MappingProxyType(tables["fields"]), lists.pop("default_fields", ()),
                         lists.pop("expansion_fields", ()), MappingProxyType(tables["expansion"]),
                         **lists, **tables["ranking"])


def field_boosts() -> dict[str, float]:
    """Boost per searchable field; a user file may set some fields and inherit the rest."""
    return dict(load_ranking().fields)


def default_fields() -> tuple[str, ...]:
    """Fields free text searches when the query names none."""
    return load_ranking().default_fields


def expansion_fields() -> tuple[str, ...]:
    """Fields in which thesaurus expansions are matched."""
    return load_ranking().expansion_fields
