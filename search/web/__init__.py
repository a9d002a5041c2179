"""The web face: an HTTP JSON API and a search page over one index, served by uvicorn.

Like the command line it is a thin layer: each endpoint checks its input, makes one Searcher
call and returns a shape from ``procsearch.search.payload``. Importing this package loads
FastAPI; the command line imports it only inside ``procsearch serve``.
"""

# A request a search worker has not answered by then gets a 503, and that worker is stopped and
# replaced (no query known takes over a few seconds: this bounds what an unknown one can hold).
REQUEST_TIMEOUT = 30.0
