"""The ASGI application: JSON endpoints under /api/v1 (and /api, the current version), /healthz,
and the search page with its static files.

This process parses requests, checks their parameters, answers completions and static files, and
keeps recent search answers; searches, records, similar codes and health checks are answered by
search worker processes (search/web/workers.py), one request at a time each, whichever is idle.
Every error is a 4xx (or 503 when the index itself is unusable) with a one-line JSON body
``{"error": "..."}``; nothing a client sends produces a traceback. Page text is untrusted: the
API returns it as JSON strings, the page inserts it as text nodes, and every response carries a
Content-Security-Policy that allows only this server's own script and style files.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from procsearch import __version__
from procsearch.index.reader import generation_token

from ..filters import resolve_section, resolve_system
from ..payload import completions_payload
from ..searcher import Searcher
from .handlers import error_answer, error_body, json_body
from . import REQUEST_TIMEOUT
from .workers import WorkerError, WorkerPool

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 500  # longer than any procedure description; a longer query is refused, not cut
MAX_CODE_CHARS = 40
MAX_LIMIT = 100
MAX_OFFSET = 10_000
ANSWER_CACHE_SIZE = 256  # search answers kept (a few kB each)
STATIC = files("procsearch.search") / "web" / "static"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class AnswerCache:
    """Recent search answers, keyed by index generation and parameters: going back, paging back
    and switching a facet off repeat a request, and a search costs tens of ms."""

    def __init__(self, size: int = ANSWER_CACHE_SIZE) -> None:
        self.size = size
        self._answers: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            body = self._answers.get(key)
            if body is not None:
                self._answers.move_to_end(key)
            return body

    def put(self, key: tuple, body: bytes) -> None:
        with self._lock:
            self._answers[key] = body
            while len(self._answers) > self.size:
                self._answers.popitem(last=False)


class ApiError(Exception):
    """A request the API refuses: status and a one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error(status: int, message: str) -> Response:
    return Response(error_body(message), status_code=status, media_type="application/json")


def answer(status: int, body: bytes, headers: dict[str, str] | None = None) -> Response:
    """A worker's answer as it came: its status and finished JSON body."""
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _query_text(q: str, what: str = "query") -> str:
    text = q.strip()
    if not text:
        raise ApiError(400, f"empty {what}: type words or a code")
    if len(text) > MAX_QUERY_CHARS:
        raise ApiError(400, f"{what} is {len(text)} characters long; the limit is {MAX_QUERY_CHARS}")
    return text


def _code(code: str) -> str:
    text = code.strip()
    if not text or len(text) > MAX_CODE_CHARS:
        raise ApiError(400, f"not a code: {text[:MAX_CODE_CHARS]!r}")
    return text


def _workers(request: Request) -> WorkerPool:
    return request.app.state.workers


def api_router() -> APIRouter:
    """The JSON endpoints. They run on the event loop: a search waits for a worker process without
    holding a thread, and completions are a few binary searches in this process."""
    router = APIRouter()

    @router.get("/search", summary="Search pages",
                description="Ranked hits with section-labelled snippets and highlight offsets (the object "
                            "`procsearch search --format json` prints, less the local file paths), plus "
                            "`facets`: matched pages per code system and per matched section.")
    async def search(request: Request,
                     q: Annotated[str, Query(description="Words, \"phrases\", codes, prefixes (0FT4*), ranges, scopes")],
                     limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
                     offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
                     system: Annotated[str | None, Query(description="CPT, HCPCS, ICD-10-PCS or ICD-10-CM")] = None,
                     section: Annotated[list[str] | None, Query(description="Search only these sections (repeatable)")] = None,
                     expand: Annotated[bool, Query(description="Thesaurus expansion")] = True) -> Response:
        text = _query_text(q)
        code_system = resolve_system(system) if system else None
        sections = [resolve_section(s) for s in section or () if s.strip()]
        app = request.app
        key = (generation_token(app.state.index_dir), text, limit, offset, code_system, tuple(sections), expand)
        body = app.state.answers.get(key)
        if body is not None:
            return answer(200, body)
        status, body = await _workers(request).call("search", {
            "q": text, "limit": limit, "offset": offset, "system": code_system, "sections": sections,
            "expand": expand})
        if status == 200:
            app.state.answers.put(key, body)
        return answer(status, body)

    @router.get("/codes/{code}", summary="One page's whole record",
                description="The record `procsearch show --format json` prints, less the local file path.",
                responses={404: {"description": "No page for this code"}})
    async def record(request: Request, code: str) -> Response:
        return answer(*await _workers(request).call("record", {"code": _code(code)}))

    @router.get("/codes/{code}/similar", summary="Related codes",
                description="The page's own Similar Codes first, then pages with similar wording.",
                responses={404: {"description": "No page for this code"}})
    async def similar(request: Request, code: str,
                      limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10) -> Response:
        return answer(*await _workers(request).call("similar", {"code": _code(code), "limit": limit}))

    @router.get("/suggest", summary="Completions of a half-typed query",
                description="Codes with the typed prefix, titles that begin with the typed words, and "
                            "words that finish the last one.")
    async def suggest(request: Request, q: Annotated[str, Query()],
                      limit: Annotated[int, Query(ge=1, le=20)] = 8) -> Response:
        # Answered here, on the event loop (a few binary searches; no search worker is involved),
        # unless the completion table of a new generation has to be built first.
        _query_text(q)
        completer: Searcher = request.app.state.completer
        if completer.completion_ready():
            found = completer.complete(q, limit)
        else:
            found = await run_in_threadpool(completer.complete, q, limit)
        return answer(200, json_body(completions_payload(q, found)))

    return router


@asynccontextmanager
async def _lifespan(app: FastAPI):
    """Open the index for completions, start the search workers (each opens it too and warms up),
    and stop them once the requests in flight are answered."""
    completer = await run_in_threadpool(Searcher.open, app.state.index_dir)
    await run_in_threadpool(completer.complete, "warm up")
    app.state.completer = completer
    workers = WorkerPool(app.state.index_dir, app.state.worker_count, app.state.request_timeout)
    try:
        await workers.start()
        app.state.workers = workers
        yield
    finally:
        await workers.stop()
        completer.close()


def create_app(index_dir: str, workers: int = 1, request_timeout: float = REQUEST_TIMEOUT) -> FastAPI:
    """The application over one index directory (opened when the server starts) with ``workers``
    search worker processes; a request a worker has not answered in ``request_timeout`` seconds
    gets a 503 and the worker is replaced."""
    app = FastAPI(title="procsearch", version=__version__, lifespan=_lifespan,
                  description="Search medical procedure pages by code, lay words or clinical words.",
                  openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None)
    app.state.index_dir = index_dir
    app.state.worker_count = workers
    app.state.request_timeout = request_timeout
    app.state.answers = AnswerCache()
    router = api_router()
    app.include_router(router, prefix="/api/v1", tags=["v1"])
    app.include_router(router, prefix="/api", include_in_schema=False)  # the current version

    @app.get("/healthz", summary="Index generation, documents, build time")
    async def healthz(request: Request) -> Response:
        # Answered by the next idle search worker: `worker` says which, `generation` what it serves.
        return answer(*await _workers(request).call("status", {}), headers={"cache-control": "no-store"})

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    page = STATIC / "index.html"

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(str(page), media_type="text/html; charset=utf-8", headers={"cache-control": "no-cache"})

    @app.get("/code/{code}", include_in_schema=False)
    def code_page(code: str) -> FileResponse:
        return FileResponse(str(page), media_type="text/html; charset=utf-8", headers={"cache-control": "no-cache"})

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    _handle_errors(app)
    app.add_middleware(SecurityHeaders)
    return app


def _handle_errors(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return error(exc.status, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return error(400, _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return error(404, f"not found: {request.url.path[:200]}")
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(WorkerError)
    async def worker_error(request: Request, exc: WorkerError) -> Response:
        return error(503, str(exc))

    @app.exception_handler(Exception)
    async def library_error(request: Request, exc: Exception) -> Response:
        return error(*error_answer(exc))


def _validation_message(exc: RequestValidationError) -> str:
    """FastAPI's list of validation errors as one line naming the parameter: "limit: must be <= 100"."""
    parts = []
    for err in exc.errors()[:3]:
        loc = [str(x) for x in err.get("loc", ()) if x not in ("query", "path", "body")]
        name = ".".join(loc) or "request"
        kind = err.get("type", "")
        ctx: dict[str, Any] = err.get("ctx") or {}
        if kind == "missing":
            parts.append(f"{name}: required")
        elif "ge" in ctx or "le" in ctx:
            parts.append(f"{name}: must be between {ctx.get('ge', ctx.get('gt', ''))} and {ctx.get('le', ctx.get('lt', ''))}"
                         if "ge" in ctx and "le" in ctx else f"{name}: {err.get('msg', 'invalid')}")
        else:
            parts.append(f"{name}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


class SecurityHeaders:
    """Adds the CSP and related headers to every response (a plain ASGI wrapper: no per-request
    task or body buffering, unlike BaseHTTPMiddleware)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [h for h in SECURITY_HEADERS if h[0] not in names]
            await send(message)

        await self.app(scope, receive, with_headers)
