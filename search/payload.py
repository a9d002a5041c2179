"""JSON shapes of results and records: one definition for the CLI, the Python API and HTTP.

Every face that prints JSON (``search --format json``, ``--batch``, ``show --format json``,
``similar --format json``, the web API) builds it here, so one test table can check them all.
Times are ISO 8601 in UTC.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import asdict
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # type names only: this module must not load Whoosh
    from procsearch.index.catalog import IndexEntry
    from procsearch.ingest.record import ProcedureRecord

    from .completion import Completion
    from .facets import Facets
    from .searcher import Hit, IndexStatus, Results

BATCH_HIT_KEYS = ("code", "title", "score", "snippet")


def hit_payload(hit: Hit, full: bool = True, local: bool = True) -> dict[str, Any]:
    """A hit as JSON; ``full=False`` is the short form (one "Section: text" snippet) of csv and --batch.
    ``local=False`` leaves out the page's file path (``source``): it names a folder of the machine
    that built the index, which is no business of an HTTP client."""
    d: dict[str, Any] = {"code": hit.code, "code_system": hit.code_system, "title": hit.title, "name": hit.name,
                         "score": hit.score}
    if full:
        d["technical_term"] = hit.technical_term
        if local:
            d["source"] = hit.source
        d["matched_sections"] = list(hit.matched_sections)
        d["snippets"] = [{"section": s.section, "text": s.text, "highlights": [list(h) for h in s.highlights]}
                         for s in hit.snippets]
        if hit.explanation:
            d["explanation"] = {k: v for k, v in hit.explanation}
        if hit.contributions:
            d["contributions"] = [{"word": w, "field": f, "score": v} for w, f, v in hit.contributions]
    else:
        d["snippet"] = f"{hit.snippets[0].section}: {hit.snippets[0].text}" if hit.snippets else ""
    return d


def results_payload(results: Results, local: bool = True) -> dict[str, Any]:
    """The object ``procsearch search --format json`` prints (``local``: see hit_payload)."""
    return {
        "query": results.query,
        "corrected_query": results.corrected_query,
        "expansions": [_flat(e) for e in results.expansions],
        "notes": list(results.notes),
        "total": results.total,
        "matched": results.matched,
        "offset": results.offset,
        "hits": [hit_payload(h, True, local) for h in results.hits],
        "suggestions": list(results.suggestions),
    }


def record_payload(record: ProcedureRecord) -> dict[str, Any]:
    """The object ``procsearch show --format json`` prints: the whole record."""
    return record.to_dict()


def public_record_payload(record: ProcedureRecord) -> dict[str, Any]:
    """The record as the web API sends it: without the page's local file path."""
    d = record.to_dict()
    d.pop("source", None)
    return d


def batch_payload(results: Results) -> dict[str, Any]:
    """One line of ``search --batch`` (JSON Lines): the query, its total and offset, and short hits
    (code, title, score, one "Section: text" snippet; plus the per-field explanation with --explain)."""
    hits = []
    for hit in results.hits:
        short = hit_payload(hit, False)
        d = {k: short[k] for k in BATCH_HIT_KEYS}
        if hit.explanation:
            d["explanation"] = {k: v for k, v in hit.explanation}
        hits.append(d)
    return {"query": results.query, "total": results.total, "matched": results.matched, "offset": results.offset,
            "hits": hits}


def similar_payload(code: str, rows: Iterable[tuple[str, str, str]], indexed: Collection[str]) -> dict[str, Any]:
    """The object ``procsearch similar --format json`` and the web API send: the code asked about and
    its related pages in order, each with why it is related ("listed on the page" or "similar
    wording") and whether the index has a page for it (a page may list codes it does not)."""
    return {"code": code, "similar": [{"code": c, "title": t, "why": why, "indexed": c in indexed}
                                      for c, t, why in rows]}


def index_entry_payload(entry: IndexEntry) -> dict[str, Any]:
    """One index of ``procsearch index list --format json``."""
    return asdict(entry) | {"corpus": list(entry.corpus)}


def facets_payload(facets: Facets | None) -> dict[str, Any]:
    """Facet counts as the web API sends them: ``{"code_system": [...], "section": [...]}``, each
    entry ``{"value", "label", "count"}`` where ``value`` is what the matching filter takes."""
    if facets is None:
        return {"code_system": [], "section": []}
    return {"code_system": [_flat(c) for c in facets.code_systems],
            "section": [_flat(c) for c in facets.sections]}


def search_payload(results: Results) -> dict[str, Any]:
    """The web API's search object: what ``search --format json`` prints, less the local file
    paths, plus ``facets``."""
    out = results_payload(results, local=False)
    out["facets"] = facets_payload(results.facets)
    return out


def completions_payload(text: str, completions: list[Completion]) -> dict[str, Any]:
    """Completions of a half-typed query, in the order to show them."""
    return {"query": text, "completions": [_flat(c) for c in completions]}


def status_payload(status: IndexStatus) -> dict[str, Any]:
    """What a health check reports: the generation served, its size and when it was built."""
    return {"status": "ok", "generation": status.generation, "documents": status.documents,
            "built_at": _iso(status.built_at), "updated_at": _iso(status.updated_at),
            "schema_version": status.schema_version}


def _flat(record: Any) -> dict[str, Any]:
    """A dataclass of plain values (a completion, a facet count, an expansion) as a dict: what
    dataclasses.asdict gives, without its deep copy of every value (a quarter of a completion's cost)."""
    return dict(vars(record))


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat(timespec="seconds")
