"""Ingest: scraped procedure pages (HTML or text dumps) -> ProcedureRecord.

Names are imported on first use, so a program that only reads records (the searcher) does not
load the HTML parser.
"""

from importlib import import_module

from .errors import PageError, ProcsearchError

_LAZY = {
    "ProcedureRecord": ".record",
    "IngestReport": ".corpus", "Problem": ".corpus", "find_pages": ".corpus", "ingest_corpus": ".corpus",
    "parse_one": ".corpus", "resolve_duplicates": ".corpus",
    "ParsedPage": ".page", "parse_bytes": ".page", "parse_page": ".page",
}

__all__ = ["PageError", "ProcsearchError", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
