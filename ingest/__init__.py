"""Ingest: scraped procedure pages (HTML or text dumps) -> ProcedureRecord."""

from .corpus import IngestReport, Problem, find_pages, ingest_corpus, parse_one, resolve_duplicates
from .errors import PageError, ProcsearchError
from .page import ParsedPage, parse_bytes, parse_page
from .record import ProcedureRecord

__all__ = [
    "IngestReport", "PageError", "ParsedPage", "Problem", "ProcedureRecord", "ProcsearchError",
    "find_pages", "ingest_corpus", "parse_bytes", "parse_one", "parse_page", "resolve_duplicates",
]
