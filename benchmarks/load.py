"""``python -m benchmarks.load``: `procsearch serve` under concurrent clients, on loopback only.

For each worker count, a real server process is started on a free 127.0.0.1 port over an existing
index. For each client count, that many clients, each on its own keep-alive connection, share a
fixed number of requests (and stop early at a time limit): first /api/v1/search with query texts,
then /api/v1/suggest with what a user has typed of them. Reported per phase: requests per second,
p50/p95/p99 latency as the client sees it, errors (non-200 answers, failed connections), and the
CPU the server and the client used, so that a slow figure can be told apart from a busy machine.

The clients are coroutines of one asyncio loop in this process, speaking HTTP/1.1 over raw
streams: the client must not take the CPU it measures (a thread per client with http.client cost
several times more per request). Queries are drawn from the query file in a seeded random order
without repeating one within a phase, so the server's per-worker answer cache never answers a
measured request.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .corpus_sample import DEFAULT_QUERIES, Query, load_queries
from .machine import machine_info
from .timing import percentile

HOST = "127.0.0.1"  # never anything but loopback
START_TIMEOUT = 180.0
REQUEST_TIMEOUT = 30.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.load", description=(
        "Load-test `procsearch serve` on loopback: requests/s, p50/p95/p99, errors and CPU for search and "
        "suggest, with each worker count and client count."))
    p.add_argument("--index", required=True, help="index directory to serve (build it first with procsearch index build)")
    p.add_argument("--queries", type=Path, default=DEFAULT_QUERIES, help="queries JSON Lines (default: %(default)s)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to measure (default: 1 2)")
    p.add_argument("--clients", type=int, nargs="+", default=[8],
                   help="concurrent client counts, each measured in turn (default: 8; `1 8` also shows what one "
                        "request costs without queueing)")
    p.add_argument("--requests", type=int, default=800, help="requests per phase (default: %(default)s)")
    p.add_argument("--max-seconds", type=float, default=120.0, help="a phase stops here even if requests remain")
    p.add_argument("--warmup", type=int, default=20, help="untimed requests before each phase (default: %(default)s)")
    p.add_argument("--seed", type=int, default=15, help="order in which queries are drawn (default: %(default)s)")
    p.add_argument("--server-python", default=sys.executable,
                   help="the Python whose procsearch is served (default: this one; another checkout's venv "
                        "measures it with the same client)")
    p.add_argument("--out", type=Path, required=True, help="directory for results.json and results.md")
    args = p.parse_args(argv)
    if min(args.clients) < 1 or args.requests < 1 or min(args.workers) < 1 or args.warmup < 0:
        p.error("--clients, --requests and --workers must be at least 1, --warmup at least 0")
    if not args.queries.is_file():
        p.error(f"--queries {args.queries}: no such file")
    return args


# -- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def get_json(port: int, path: str) -> tuple[int, dict]:
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def start_server(index_dir: str, workers: int, python: str = sys.executable) -> tuple[subprocess.Popen, int]:
    """`procsearch serve` on a free loopback port, once every worker answers. Its log goes to a
    temporary file (a pipe nobody reads would stall it) and is shown if it fails to start."""
    port = free_port()
    log = tempfile.TemporaryFile(mode="w+")
    index_dir = os.path.abspath(index_dir)
    proc = subprocess.Popen([python, "-m", "procsearch", "serve", "--index", index_dir, "--host", HOST,
                             "--port", str(port), "--workers", str(workers)],
                            stdout=subprocess.DEVNULL, stderr=log, text=True,
                            cwd=os.path.dirname(index_dir))  # not a checkout: -m imports the installed one
    deadline = time.monotonic() + START_TIMEOUT
    ready: set[int] = set()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise SystemExit(f"procsearch serve exited {proc.returncode}: {log.read()[-2000:]}")
        try:
            status, body = get_json(port, "/healthz")  # a fresh connection each time: any worker may answer
            if status == 200:
                ready.add(body.get("worker", 0))
                if len(ready) >= workers:  # every worker has opened the index and warmed up
                    return proc, port
        except (OSError, ValueError, http.client.HTTPException):
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"procsearch serve did not start within {START_TIMEOUT:.0f} s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def process_tree_cpu(root: int) -> tuple[float, float]:
    """CPU seconds (user + system) used so far by a process alone and with its descendants that
    are still running (Linux /proc; zeros elsewhere). The server's workers live for the whole run."""
    try:
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat", "rb") as f:
                        raw = f.read()
                except OSError:
                    continue
                fields = raw[raw.rfind(b")") + 2:].split()  # after "pid (comm) "
                stats[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    except OSError:
        return 0.0, 0.0
    wanted, changed = {root}, True
    while changed:
        changed = False
        for pid, (ppid, _) in stats.items():
            if ppid in wanted and pid not in wanted:
                wanted.add(pid)
                changed = True
    total = sum(stats[pid][1] for pid in wanted if pid in stats)
    return stats.get(root, (0, 0))[1] / CLOCK_TICKS, total / CLOCK_TICKS


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- the requests -------------------------------------------------------------------------------


def typed_prefix(text: str, i: int) -> str:
    """What a user has typed of a query when completions are asked for: the first one to three
    words, the last cut to 2-6 letters (varied by ``i``)."""
    words = text.split()
    keep = words[: 1 + i % 3]
    cut = keep[-1][: 2 + i % 5]
    return " ".join(keep[:-1] + [cut])


@dataclass(frozen=True)
class Mix:
    """The requests of one run: measured paths per endpoint and the untimed warm-up paths."""

    search: list[str]
    suggest: list[str]
    warm_search: list[str]
    warm_suggest: list[str]
    description: dict


def request_mix(queries: list[Query], requests: int, warmup: int, seed: int) -> Mix:
    """Queries in a seeded random order; the measured ones are distinct (while the file has enough)
    and the warm-up ones are others, so nothing measured was asked before."""
    order = list(queries)
    random.Random(seed).shuffle(order)
    warm = order[len(order) - warmup:] if 0 < warmup < len(order) else []
    pool = order[: len(order) - len(warm)]
    measured = [pool[i % len(pool)] for i in range(requests)]
    searches = ["/api/v1/search?" + urllib.parse.urlencode({"q": q.text}) for q in measured]
    prefixes = [typed_prefix(q.text, i) for i, q in enumerate(measured)]
    suggests = ["/api/v1/suggest?" + urllib.parse.urlencode({"q": p}) for p in prefixes if len(p.strip()) >= 2]
    words = [len(q.text.split()) for q in measured]
    description = {
        "query_file": "",
        "distinct_queries": len({q.text for q in measured}),
        "repeated_requests": requests - len({q.text for q in measured}),
        "kinds": dict(Counter(q.kind for q in measured)),
        "words_per_query": {"min": min(words), "median": percentile(words, 50), "max": max(words)},
        "distinct_prefixes": len(set(prefixes)),
        "prefix_chars": {"min": min(map(len, prefixes)), "median": percentile([len(p) for p in prefixes], 50),
                         "max": max(map(len, prefixes))},
        "examples": [q.text for q in measured[:3]],
        "prefix_examples": prefixes[:5],
    }
    return Mix(searches, suggests,
               ["/api/v1/search?" + urllib.parse.urlencode({"q": q.text}) for q in warm],
               ["/api/v1/suggest?" + urllib.parse.urlencode({"q": typed_prefix(q.text, i)}) for i, q in enumerate(warm)],
               description)


class Connection:
    """One keep-alive HTTP/1.1 connection: GET and read the answer by its Content-Length."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, int]:
        """(status, body length) of one GET."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        self.writer.write(b"GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (path.encode("ascii"), HOST.encode(), self.port))
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, close = None, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        if length is None:
            raise http.client.HTTPException("answer without Content-Length")
        body = await self.reader.readexactly(length)
        if close:
            self.close()
        return status, len(body)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _phase(port: int, paths: list[str], clients: int, max_seconds: float) -> dict:
    """``clients`` coroutines take the paths in turn until none is left or time is up."""
    queue = iter(paths)
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + max_seconds
    stopped = {"by_time": False}

    async def client() -> None:
        conn = Connection(port)
        for path in queue:
            if time.monotonic() > deadline:
                stopped["by_time"] = True
                break
            start = time.perf_counter()
            try:
                status, size = await asyncio.wait_for(conn.get(path), REQUEST_TIMEOUT)
                latencies.append(time.perf_counter() - start)
                if status != 200 or not size:
                    errors.append(f"{status} {path}")
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                    http.client.HTTPException, ValueError) as exc:
                errors.append(f"{type(exc).__name__} {path}")
                conn.close()
        conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return {"wall": time.perf_counter() - started, "latencies": latencies, "errors": errors,
            "stopped_by_time": stopped["by_time"]}


def new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop  # the server's own event loop: the lightest client available here
        return uvloop.new_event_loop()
    except ImportError:
        return asyncio.new_event_loop()


def run_phase(port: int, server_pid: int, paths: list[str], warm: list[str], clients: int, max_seconds: float) -> dict:
    """Warm up (untimed), then measure: latencies, errors, and the CPU of server and client."""
    loop = new_loop()
    try:
        if warm:
            loop.run_until_complete(_phase(port, warm, 1, max_seconds))
        load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
        (main_before, server_before), client_before = process_tree_cpu(server_pid), own_cpu()
        out = loop.run_until_complete(_phase(port, paths, clients, max_seconds))
        main_after, server_after = process_tree_cpu(server_pid)
        server_cpu, main_cpu, client_cpu = server_after - server_before, main_after - main_before, own_cpu() - client_before
    finally:
        loop.close()
    wall, ms, errors = out["wall"], [x * 1000 for x in out["latencies"]], out["errors"]
    answered = len(ms)
    failed = sum(1 for e in errors if not e[0].isdigit())  # no answer at all
    return {"clients": clients, "requests": answered + failed, "errors": len(errors), "error_examples": errors[:5],
            "seconds": round(wall, 2), "requests_per_s": round(answered / wall, 1) if wall else 0.0,
            "p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1),
            "p99_ms": round(percentile(ms, 99), 1),
            "server_cpu_ms_per_request": round(1000 * server_cpu / answered, 2) if answered else None,
            # the process `procsearch serve` started as (with uvicorn's own workers, only their supervisor)
            "main_process_cpu_ms_per_request": round(1000 * main_cpu / answered, 2) if answered else None,
            "client_cpu_ms_per_request": round(1000 * client_cpu / answered, 2) if answered else None,
            "client_cpu_share": round(client_cpu / wall, 3) if wall else None,
            "load_average_at_start": round(load[0], 2), "stopped_by_time": out["stopped_by_time"]}


# -- the report ---------------------------------------------------------------------------------


def render(results: dict) -> str:
    m, mix = results["machine"], results["mix"]
    lines = ["# procsearch serve under load", "",
             f"{results['index_documents']:,} documents; clients on loopback (one asyncio process); "
             f"{results['requests']} requests per phase (at most {results['max_seconds']:.0f} s); "
             f"{m['cores']} cores, Python {m['python']}, load average at start "
             f"{', '.join(str(x) for x in m['load_average_at_start'] or [])}; {m['date']}.", "",
             f"Query mix: {mix['distinct_queries']} distinct queries of {Path(mix['query_file']).name} in a seeded "
             f"random order ({', '.join(f'{n} {k}' for k, n in sorted(mix['kinds'].items()))}; "
             f"{mix['words_per_query']['min']}-{mix['words_per_query']['max']} words, median "
             f"{mix['words_per_query']['median']:g}), {mix['repeated_requests']} repeated; suggest: "
             f"{mix['distinct_prefixes']} distinct prefixes of them, {mix['prefix_chars']['min']}-"
             f"{mix['prefix_chars']['max']} characters.", "",
             "server CPU ms/req: CPU time of all the server's processes per answered request (in brackets: "
             "of its main process, the HTTP process); client: the same for the load client, and its share of one "
             "core; load: the machine's 1-minute load average as the phase began.",
             "",
             "| workers | clients | endpoint | requests | errors | req/s | p50 ms | p95 ms | p99 ms "
             "| server CPU ms/req | client CPU ms/req | client % | load |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in results["runs"]:
        lines.append(f"| {row['workers']} | {row['clients']} | {row['endpoint']} | {row['requests']} | {row['errors']} | "
                     f"{row['requests_per_s']} | {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} | "
                     f"{row['server_cpu_ms_per_request']} ({row['main_process_cpu_ms_per_request']}) | "
                     f"{row['client_cpu_ms_per_request']} | "
                     f"{round(100 * (row['client_cpu_share'] or 0))} | {row['load_average_at_start']} |")
    return "\n".join(lines) + "\n"


def _stop_on_sigterm() -> None:
    """SIGTERM ends the run like Ctrl-C, so the server started last is stopped, not left running."""
    def stop(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    _stop_on_sigterm()
    mix = request_mix(load_queries(args.queries), args.requests, args.warmup, args.seed)
    mix.description["query_file"] = str(args.queries)
    results: dict = {"machine": machine_info(), "index": os.path.abspath(args.index), "requests": args.requests,
                     "server_python": args.server_python,
                     "max_seconds": args.max_seconds, "mix": mix.description, "runs": []}
    for workers in args.workers:
        for clients in args.clients:  # a new server each time: the same requests, none answered before
            print(f"starting procsearch serve with {workers} worker(s) for {clients} client(s)", file=sys.stderr,
                  flush=True)
            proc, port = start_server(args.index, workers, args.server_python)
            try:
                results["index_documents"] = get_json(port, "/healthz")[1]["documents"]
                for endpoint, paths, warm in (("search", mix.search, mix.warm_search),
                                              ("suggest", mix.suggest, mix.warm_suggest)):
                    row = run_phase(port, proc.pid, paths, warm, clients, args.max_seconds)
                    row.update(workers=workers, endpoint=endpoint)
                    results["runs"].append(row)
                    print(f"  {endpoint}: {row['requests_per_s']} req/s, p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms, "
                          f"p99 {row['p99_ms']} ms, {row['errors']} errors, server {row['server_cpu_ms_per_request']} "
                          f"CPU ms/req, client {row['client_cpu_ms_per_request']} CPU ms/req, load "
                          f"{row['load_average_at_start']}", file=sys.stderr, flush=True)
            finally:
                stop_server(proc)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    (args.out / "results.md").write_text(render(results))
    print(render(results))


if __name__ == "__main__":
    main()
