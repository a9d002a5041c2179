"""Index: ProcedureRecords -> a Whoosh index, built atomically and updated incrementally.

Every name is imported on first use, so a command that only needs the index location (or
``procsearch --version``) does not load Whoosh.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_LAZY = {
    "default_fields": ".boosts", "expansion_fields": ".boosts", "field_boosts": ".boosts",
    "RankingConfig": ".boosts", "load_ranking": ".boosts",
    "IndexBusyError": ".errors", "IndexCorruptError": ".errors", "IndexMissingError": ".errors",
    "IndexVersionError": ".errors",
    "default_index_dir": ".location", "open_live": ".reader", "SCHEMA_VERSION": ".schema",
    "IndexStats": ".stats", "index_stats": ".stats",
    "IndexEntry": ".catalog", "list_indexes": ".catalog",
    "WriteReport": ".writer", "build_index": ".writer", "update_index": ".update",
}

__all__ = list(_LAZY)

if TYPE_CHECKING:
    from .boosts import RankingConfig, default_fields, expansion_fields, field_boosts, load_ranking
    from .catalog import IndexEntry, list_indexes
    from .errors import IndexBusyError, IndexCorruptError, IndexMissingError, IndexVersionError
    from .location import default_index_dir
    from .reader import open_live
    from .schema import SCHEMA_VERSION
    from .stats import IndexStats, index_stats
    from .update import update_index
    from .writer import WriteReport, build_index


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
