"""What a search worker process does with each request: search, a record, similar codes, status.

The arguments arrive checked by the HTTP process (search/web/app.py); the answer leaves as a
status and a finished JSON body. Errors map to statuses in one place, ``error_answer``, which the
HTTP process's own exception handlers use too.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from procsearch.index.errors import IndexCorruptError, IndexMissingError, IndexVersionError
from procsearch.ingest.errors import ProcsearchError

from ..filters import FilterError
from ..payload import public_record_payload, search_payload, similar_payload, status_payload
from ..searcher import Searcher

log = logging.getLogger(__name__)


def json_body(obj: Any) -> bytes:
    """Compact UTF-8 JSON, as Starlette's JSONResponse renders it."""
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def error_body(message: str) -> bytes:
    """The one-line error every 4xx and 5xx carries."""
    return json_body({"error": " ".join(message.split())})


def error_answer(exc: BaseException) -> tuple[int, str]:
    """(status, one-line message) of an error met while answering: the client's fault is a 400, an
    unusable index a 503 (details in the server log only), anything else a 500."""
    if isinstance(exc, FilterError):
        return 400, str(exc)
    if isinstance(exc, (IndexMissingError, IndexCorruptError, IndexVersionError)):
        log.error("%s", exc)
        return 503, "the index is unavailable; see the server log"
    if isinstance(exc, ProcsearchError):
        return 400, str(exc)
    log.error("unexpected error", exc_info=exc)
    return 500, "internal error; see the server log"


class NotFound(Exception):
    """No page for the code asked about: a 404."""


class Handlers:
    """One worker's open index and the operations the HTTP process asks of it."""

    def __init__(self, index_dir: str) -> None:
        self.searcher = Searcher.open(index_dir)
        self.searcher.search("warm up", limit=1, facets=True)  # what the first real search would build
        self.searcher.warm()  # every page's header terms decoded once, before the first request

    def answer(self, request: dict) -> tuple[int, bytes]:
        op, args = request.get("op"), request.get("args") or {}
        method = getattr(self, f"op_{op}", None)
        if method is None:
            return 400, error_body(f"unknown operation {op!r}")
        try:
            return 200, json_body(method(**args))
        except NotFound as exc:
            return 404, error_body(str(exc))
        except Exception as exc:  # noqa: BLE001 - every error is answered, none ends the worker
            status, message = error_answer(exc)
            return status, error_body(message)

    def op_search(self, q: str, limit: int, offset: int, system: str | None, sections: list[str],
                  expand: bool) -> dict:
        results = self.searcher.search(q, limit=limit, offset=offset, code_system=system, sections=sections,
                                       expand=expand, facets=True)
        return search_payload(results)

    def op_record(self, code: str) -> dict:
        found = self.searcher.get(code)
        if found is None:
            raise NotFound(f"no page for code {code!r} in the index")
        return public_record_payload(found)

    def op_similar(self, code: str, limit: int) -> dict:
        page = self.searcher.get(code)
        if page is None:
            raise NotFound(f"no page for code {code!r} in the index")
        rows = self.searcher.similar(page.code, limit)
        indexed = {c for c, _, _ in rows if self.searcher.get(c) is not None}
        return similar_payload(page.code, rows, indexed)

    def op_status(self) -> dict:
        body = status_payload(self.searcher.status())
        body["worker"] = os.getpid()  # which worker answered: each one switches generations itself
        return body
