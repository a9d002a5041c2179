"""Index: ProcedureRecords -> a Whoosh index, built atomically and updated incrementally."""

from .boosts import default_fields, expansion_fields, field_boosts
from .errors import IndexBusyError, IndexCorruptError, IndexMissingError, IndexVersionError
from .location import default_index_dir
from .reader import open_live
from .schema import SCHEMA_VERSION
from .stats import IndexStats, index_stats
from .writer import WriteReport, build_index, update_index

__all__ = [
    "IndexBusyError", "IndexCorruptError", "IndexMissingError", "IndexStats", "IndexVersionError",
    "SCHEMA_VERSION", "WriteReport", "build_index", "default_fields", "default_index_dir", "expansion_fields", "field_boosts", "index_stats",
    "open_live", "update_index",
]
