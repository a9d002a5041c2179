"""Running the application under uvicorn: one HTTP process and N search worker processes.

The HTTP process hands each search to whichever worker is idle (search/web/workers.py), so the
workers share the requests, not the connections. Each worker opens the index itself: the segment
files are memory mapped, so the workers share the page cache rather than holding copies, and
each one switches to a newly published generation on its next request (generations are
immutable directories; CURRENT names the live one). The server only reads the index, so stopping
it, even mid-request, cannot damage anything; on SIGINT or SIGTERM uvicorn stops accepting
connections, lets requests in flight finish, and then stops the workers (it exits 0 after
Ctrl-C, or by SIGTERM's own status, as process managers expect).
"""

from __future__ import annotations

import os
import socket

from procsearch.ingest.errors import ProcsearchError

from . import REQUEST_TIMEOUT

GRACEFUL_SECONDS = 10  # requests in flight get this long to finish when the server is stopped


def url_of(host: str, port: int) -> str:
    """The address to open in a browser (IPv6 hosts in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def check_address(host: str, port: int) -> None:
    """Fail in one line, before any worker starts, when the address cannot be listened on."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        raise ProcsearchError(f"cannot listen on {host} port {port}: {exc.strerror or exc}; "
                              f"choose another with --port or --host") from None


def serve(index_dir: str, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          log_level: str = "warning", request_timeout: float = REQUEST_TIMEOUT) -> None:
    """Serve the index until interrupted. Blocks; the index must exist (the caller builds it)."""
    import uvicorn

    from .app import create_app

    check_address(host, port)
    try:
        uvicorn.run(create_app(os.path.abspath(index_dir), workers, request_timeout), host=host, port=port, log_level=log_level,
                    timeout_graceful_shutdown=GRACEFUL_SECONDS, server_header=False,
                    access_log=False)  # warnings and errors only: no per-request logger call
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C once it has stopped cleanly: a normal end
        pass
