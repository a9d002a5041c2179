"""Running the application under uvicorn, in one or several worker processes.

Each worker opens the index itself: the segment files are memory mapped, so the workers share
the page cache rather than holding copies, and each one switches to a newly published
generation on its next request (generations are immutable directories; CURRENT names the live
one). The server only reads the index, so stopping it, even mid-request, cannot damage anything;
on SIGINT or SIGTERM uvicorn stops accepting connections and lets requests in flight finish (then
exits 0 after Ctrl-C, or by SIGTERM's own status, as process managers expect).
"""

from __future__ import annotations

import os
import socket

from procsearch.ingest.errors import ProcsearchError

from .app import INDEX_ENV

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
          log_level: str = "warning") -> None:
    """Serve the index until interrupted. Blocks; the index must exist (the caller builds it)."""
    import uvicorn

    check_address(host, port)
    os.environ[INDEX_ENV] = os.path.abspath(index_dir)  # inherited by spawned workers
    try:
        _run(uvicorn, host, port, workers, log_level)
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C once it has stopped cleanly: a normal end
        pass


def _run(uvicorn, host: str, port: int, workers: int, log_level: str) -> None:
    uvicorn.run("procsearch.search.web.app:app_from_env", factory=True, host=host, port=port,
                workers=workers, log_level=log_level, timeout_graceful_shutdown=GRACEFUL_SECONDS,
                server_header=False)
