"""Index: ProcedureRecords -> a Whoosh index, built atomically and updated incrementally.

Writers are imported on first use, so opening an index to search stays quick.
"""

from importlib import import_module

from .boosts import RankingConfig, default_fields, expansion_fields, field_boosts, load_ranking
from .errors import IndexBusyError, IndexCorruptError, IndexMissingError, IndexVersionError
from .location import default_index_dir
from .reader import open_live
from .schema import SCHEMA_VERSION

_LAZY = {
    "IndexStats": ".stats", "index_stats": ".stats",
    "WriteReport": ".writer", "build_index": ".writer", "update_index": ".writer",
}

__all__ = [
    "IndexBusyError", "IndexCorruptError", "IndexMissingError", "IndexVersionError", "RankingConfig", "SCHEMA_VERSION",
    "default_fields", "default_index_dir", "expansion_fields", "field_boosts", "load_ranking", "open_live", *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
