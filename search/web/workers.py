"""Search worker processes and the dispatcher that hands each request to an idle one.

The HTTP process (one uvicorn process, one event loop) parses requests, answers completions and
static files itself, and hands every search, record, similar-codes and health request to a worker
process over a private socket pair. Requests, not connections, are balanced: a request goes to
the worker that has been idle longest, or waits for the first one to finish. (With uvicorn's own
multi-process mode each keep-alive connection stays with the process that accepted it, so eight
connections split five to three queue five deep on one core while the other idles.)

Each worker opens the index itself (the segment files are memory mapped, so N workers share one
copy in the page cache), switches to a newly published generation on its own, and answers with
the finished JSON body, so the HTTP process only copies bytes. Workers ignore SIGINT and SIGTERM:
the HTTP process stops them after the requests in flight are answered, and a worker whose HTTP
process is gone sees its socket close and exits.

Frames are length-prefixed: a request is a JSON object {"op", "args"}; a reply is a status code
and a body. Nothing is unpickled: both ends are this package, but the format needs nothing more.
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
import signal
import socket
import struct
from dataclasses import dataclass, field

from procsearch.ingest.errors import ProcsearchError

from . import REQUEST_TIMEOUT

log = logging.getLogger(__name__)

HEADER = struct.Struct("!IH")  # body length, status
REQUEST = struct.Struct("!I")  # request length
READY_TIMEOUT = 600.0  # a worker opening a large index on a busy machine
STOP_TIMEOUT = 10.0


class WorkerError(ProcsearchError):
    """A worker could not start, or stopped while answering: the request gets a 503."""


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    pid: int = 0
    killed: bool = False  # stopped for taking too long: never handed another request


@dataclass
class WorkerPool:
    """N worker processes over one index; ``call(op, args)`` answers with (status, JSON body)."""

    index_dir: str
    size: int = 1
    timeout: float = REQUEST_TIMEOUT  # seconds a worker may take over one request
    _idle: asyncio.Queue | None = field(default=None, repr=False)  # idle workers; None: none left
    _workers: list[_Worker] = field(default_factory=list, repr=False)
    _stopping: bool = False

    async def start(self) -> None:
        """Start every worker and wait until each has opened the index and warmed up."""
        self._idle = asyncio.Queue()
        try:
            started = await asyncio.gather(*(self._spawn() for _ in range(self.size)))
        except BaseException:
            await self.stop()
            raise
        for worker in started:
            self._idle.put_nowait(worker)

    async def call(self, op: str, args: dict) -> tuple[int, bytes]:
        """One request on the worker idle longest (FIFO), waiting for one when all are busy. The
        exchange runs as its own task, so a cancelled request never leaves its reply unread."""
        if self._idle is None or self._stopping:
            raise WorkerError("the server is stopping")
        worker = await self._idle.get()
        if worker is None:  # every worker is gone and none could be started again
            self._idle.put_nowait(None)  # for the next caller too
            raise WorkerError("no search worker is running; see the server log")
        exchange = asyncio.ensure_future(self._exchange(worker, json.dumps({"op": op, "args": args}).encode()))
        try:
            return await asyncio.wait_for(asyncio.shield(exchange), self.timeout)
        except asyncio.TimeoutError:
            # Killing the worker ends the exchange (its read fails), which starts a replacement.
            exchange.add_done_callback(lambda done: done.cancelled() or done.exception())
            log.error("search worker %d took over %g s to answer a %s request; stopping it", worker.pid,
                      self.timeout, op)
            worker.killed = True
            worker.process.kill()
            raise WorkerError(f"the request took longer than {self.timeout:g} s and was stopped; "
                              "try fewer or rarer words") from None

    async def _exchange(self, worker: _Worker, request: bytes) -> tuple[int, bytes]:
        try:
            worker.writer.write(REQUEST.pack(len(request)) + request)
            head = await worker.reader.readexactly(HEADER.size)
            length, status = HEADER.unpack(head)
            body = await worker.reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError) as exc:
            if not self._stopping:
                log.error("search worker %d stopped while answering (%s); starting another", worker.pid,
                          type(exc).__name__)
                asyncio.ensure_future(self._replace(worker))
            raise WorkerError("a search worker stopped while answering; try again") from None
        if worker.killed:  # answered as it was being stopped: replaced all the same
            asyncio.ensure_future(self._replace(worker))
        else:
            self._idle.put_nowait(worker)
        return status, body

    async def _replace(self, worker: _Worker) -> None:
        """A worker that died (killed, out of memory) is replaced; its request got a 503."""
        worker.writer.close()
        self._workers.remove(worker)
        await asyncio.get_running_loop().run_in_executor(None, worker.process.join, STOP_TIMEOUT)
        if self._stopping:
            return
        try:
            self._idle.put_nowait(await self._spawn())
        except WorkerError as exc:
            log.error("%s", exc)
            if not self._workers:  # requests waiting for a worker get a 503 rather than wait forever
                self._idle.put_nowait(None)

    async def _spawn(self) -> _Worker:
        ours, theirs = socket.socketpair()
        ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no copy of this event loop
        process = ctx.Process(target=worker_main, args=(theirs, self.index_dir), daemon=True,
                              name="procsearch-search")
        process.start()
        theirs.close()
        reader, writer = await asyncio.open_connection(sock=ours)
        worker = _Worker(process, reader, writer)
        try:
            head = await asyncio.wait_for(reader.readexactly(HEADER.size), READY_TIMEOUT)
            length, status = HEADER.unpack(head)
            body = await reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
            writer.close()
            process.kill()
            raise WorkerError(f"a search worker for {self.index_dir} did not start") from None
        if status != 200:
            writer.close()
            process.join(STOP_TIMEOUT)
            raise WorkerError(json.loads(body)["error"])
        worker.pid = json.loads(body)["pid"]
        self._workers.append(worker)
        return worker

    async def stop(self) -> None:
        """Close every worker's socket (each exits when it has answered its request) and wait."""
        self._stopping = True
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.writer.close()
        loop = asyncio.get_running_loop()
        for worker in workers:
            await loop.run_in_executor(None, worker.process.join, STOP_TIMEOUT)
            if worker.process.is_alive():
                worker.process.kill()

    @property
    def pids(self) -> list[int]:
        return [w.pid for w in self._workers]


# -- the worker side ----------------------------------------------------------------------------


def worker_main(sock: socket.socket, index_dir: str) -> None:
    """A worker process: open the index, say so, then answer requests until the socket closes."""
    for sig in (signal.SIGINT, signal.SIGTERM):  # the HTTP process decides when workers stop
        signal.signal(sig, signal.SIG_IGN)
    from .handlers import Handlers  # imported here: the HTTP process does not load the engine twice

    try:
        handlers = Handlers(index_dir)
    except Exception as exc:  # the index cannot be opened: said in the reply, and in the server log
        _send(sock, 503, json.dumps({"error": " ".join(str(exc).split())}).encode())
        return
    _send(sock, 200, json.dumps({"pid": os.getpid()}).encode())
    with sock:
        while True:
            request = _receive(sock)
            if request is None:
                return
            status, body = handlers.answer(request)
            _send(sock, status, body)


def _receive(sock: socket.socket) -> dict | None:
    head = _read(sock, REQUEST.size)
    if head is None:
        return None
    body = _read(sock, REQUEST.unpack(head)[0])
    return None if body is None else json.loads(body)


def _read(sock: socket.socket, n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _send(sock: socket.socket, status: int, body: bytes) -> None:
    try:
        sock.sendall(HEADER.pack(len(body), status) + body)
    except OSError:  # the HTTP process is gone; the next read ends the loop
        pass

