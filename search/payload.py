"""JSON shapes of results and records: one definition for the CLI, the Python API and HTTP.

Every face that prints JSON (``search --format json``, ``show --format json``, the web API)
builds it here, so one test table can check them all.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from procsearch.ingest.record import ProcedureRecord

from .searcher import Hit, Results


def hit_payload(hit: Hit, full: bool = True) -> dict[str, Any]:
    """A hit as JSON; ``full=False`` is the short form (one "Section: text" snippet) of csv and --batch."""
    d: dict[str, Any] = {"code": hit.code, "code_system": hit.code_system, "title": hit.title, "name": hit.name,
                         "score": hit.score}
    if full:
        d["technical_term"] = hit.technical_term
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


def results_payload(results: Results) -> dict[str, Any]:
    """The object ``procsearch search --format json`` prints."""
    return {
        "query": results.query,
        "corrected_query": results.corrected_query,
        "expansions": [asdict(e) for e in results.expansions],
        "notes": list(results.notes),
        "total": results.total,
        "offset": results.offset,
        "hits": [hit_payload(h, True) for h in results.hits],
        "suggestions": list(results.suggestions),
    }


def record_payload(record: ProcedureRecord) -> dict[str, Any]:
    """The object ``procsearch show --format json`` prints: the whole record."""
    return record.to_dict()
