"""``python -m benchmarks.load``: `procsearch serve` under concurrent clients, on loopback only.

For each worker count, a real server process is started on a free 127.0.0.1 port over an existing
index; N client threads, each on its own keep-alive connection, share a fixed number of requests
(and stop early at a time limit), first /api/v1/search with the query texts, then
/api/v1/suggest with prefixes of them as a user types them. Reported per phase: requests per
second, p50/p95/p99 latency as the client sees it, and errors (non-200 answers and failed
connections). Written to results.json and results.md in --out.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

from .corpus_sample import DEFAULT_QUERIES, load_queries
from .machine import machine_info
from .timing import percentile

HOST = "127.0.0.1"  # never anything but loopback
START_TIMEOUT = 180.0
REQUEST_TIMEOUT = 30.0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.load", description=(
        "Load-test `procsearch serve` on loopback: requests/s, p50/p95/p99 and errors for search and "
        "suggest, with each worker count."))
    p.add_argument("--index", required=True, help="index directory to serve (build it first with procsearch index build)")
    p.add_argument("--queries", type=Path, default=DEFAULT_QUERIES, help="queries JSON Lines (default: %(default)s)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to measure (default: 1 2)")
    p.add_argument("--clients", type=int, default=8, help="concurrent clients (default: %(default)s)")
    p.add_argument("--requests", type=int, default=800, help="requests per phase (default: %(default)s)")
    p.add_argument("--max-seconds", type=float, default=120.0, help="a phase stops here even if requests remain")
    p.add_argument("--warmup", type=int, default=20, help="untimed requests before each phase (default: %(default)s)")
    p.add_argument("--out", type=Path, required=True, help="directory for results.json and results.md")
    args = p.parse_args(argv)
    if args.clients < 1 or args.requests < 1 or min(args.workers) < 1:
        p.error("--clients, --requests and --workers must be at least 1")
    if not args.queries.is_file():
        p.error(f"--queries {args.queries}: no such file")
    return args


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(index_dir: str, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "procsearch", "serve", "--index", index_dir, "--host", HOST,
                             "--port", str(port), "--workers", str(workers)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + START_TIMEOUT
    ready: set[int] = set()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"procsearch serve exited {proc.returncode}: {proc.stderr.read()}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            body = json.loads(response.read())
            conn.close()
            if response.status == 200:
                ready.add(body.get("worker", 0))
                if len(ready) >= workers:  # every worker has opened the index and warmed up
                    return proc, port
        except (OSError, ValueError):
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


def typed_prefixes(texts: list[str]) -> list[str]:
    """What a user has typed when completions are asked for: the first words and part of the next."""
    out = []
    for i, text in enumerate(texts):
        words = text.split()
        keep = words[: 1 + i % 3]
        cut = keep[-1][: 2 + i % 5]
        out.append(" ".join(keep[:-1] + [cut]))
    return [p for p in out if len(p.strip()) >= 2]


def run_phase(port: int, paths: list[str], clients: int, total: int, max_seconds: float) -> dict:
    """N threads share ``total`` requests over ``paths`` (in turn); latencies as the client sees them."""
    lock = threading.Lock()
    state = {"next": 0}
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + max_seconds

    def take() -> str | None:
        with lock:
            if state["next"] >= total or time.monotonic() > deadline:
                return None
            path = paths[state["next"] % len(paths)]
            state["next"] += 1
            return path

    def client() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
        while (path := take()) is not None:
            start = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                elapsed = time.perf_counter() - start
                if response.status != 200 or not body:
                    with lock:
                        errors.append(f"{response.status} {path}")
                with lock:
                    latencies.append(elapsed)
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors.append(f"{type(exc).__name__} {path}")
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ms = [x * 1000 for x in latencies]
    return {"requests": len(latencies) + sum(1 for e in errors if not e[0].isdigit()), "errors": len(errors),
            "error_examples": errors[:5], "seconds": round(wall, 2),
            "requests_per_s": round(len(latencies) / wall, 1) if wall else 0.0,
            "p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1),
            "p99_ms": round(percentile(ms, 99), 1), "stopped_by_time": time.monotonic() > deadline}


def warm(port: int, paths: list[str], n: int) -> None:
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    for path in paths[-n:] if n else []:
        conn.request("GET", path)
        conn.getresponse().read()
    conn.close()


def render(results: dict) -> str:
    m = results["machine"]
    lines = [f"# procsearch serve under load", "",
             f"{results['index_documents']:,} documents; {results['clients']} concurrent clients on loopback; "
             f"{results['requests']} requests per phase (at most {results['max_seconds']:.0f} s); "
             f"{m['cores']} cores, Python {m['python']}, load average at start "
             f"{', '.join(str(x) for x in m['load_average_at_start'] or [])}; {m['date']}.", "",
             "| workers | endpoint | requests | errors | req/s | p50 ms | p95 ms | p99 ms |",
             "|---|---|---|---|---|---|---|---|"]
    for row in results["runs"]:
        lines.append(f"| {row['workers']} | {row['endpoint']} | {row['requests']} | {row['errors']} | "
                     f"{row['requests_per_s']} | {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    texts = [q.text for q in load_queries(args.queries)]
    searches = ["/api/v1/search?" + urllib.parse.urlencode({"q": t}) for t in texts]
    suggests = ["/api/v1/suggest?" + urllib.parse.urlencode({"q": p}) for p in typed_prefixes(texts)]
    results: dict = {"machine": machine_info(), "index": os.path.abspath(args.index), "clients": args.clients,
                     "requests": args.requests, "max_seconds": args.max_seconds, "runs": []}
    for workers in args.workers:
        print(f"starting procsearch serve with {workers} worker(s)", file=sys.stderr, flush=True)
        proc, port = start_server(args.index, workers)
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
            conn.request("GET", "/healthz")
            results["index_documents"] = json.loads(conn.getresponse().read())["documents"]
            conn.close()
            for endpoint, paths in (("search", searches), ("suggest", suggests)):
                warm(port, paths, args.warmup)
                row = run_phase(port, paths, args.clients, args.requests, args.max_seconds)
                row.update(workers=workers, endpoint=endpoint)
                results["runs"].append(row)
                print(f"  {endpoint}: {row['requests_per_s']} req/s, p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms, "
                      f"p99 {row['p99_ms']} ms, {row['errors']} errors", file=sys.stderr, flush=True)
        finally:
            stop_server(proc)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    (args.out / "results.md").write_text(render(results))
    print(render(results))


if __name__ == "__main__":
    main()
