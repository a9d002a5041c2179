"""Measurements shared by procsearch and the baselines: builds in child processes, in-process
query latency after a short warm-up, and the CLI's cold-start and batch throughput."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .corpus_sample import Query
from .relevance import score_query, summarize
from .timing import child_env, latency_summary, median, run_json_child

SearchFn = Callable[[str], list[str]]
# Run before timing to open files and load lazily read structures. Not the timed queries: a system
# that keeps results or postings between queries must not be timed on answers it has already seen.
WARMUP_QUERIES = ("knee arthroscopy", "biopsy of skin lesion", "cataract surgery", "heart valve repair",
                  "colonoscopy with polyp removal")


def build_in_child(job: str, source: str, target: str, workers: int | None = None, runs: int = 1) -> dict:
    """Build ``runs`` times, each in a fresh process into an empty target, keeping the last build.

    Reports the median seconds, the largest peak RSS, and pages/s at the median.
    """
    args = [job, source, target] + ([str(workers or 0)] if job == "procsearch" else [])
    reports = []
    for _ in range(runs):
        remove(target)
        reports.append(run_json_child(args))
    result = dict(reports[-1])
    result["runs"] = runs
    result["runs_seconds"] = [r["seconds"] for r in reports]
    result["seconds"] = median(result["runs_seconds"])
    result["peak_rss_bytes"] = max(r["peak_rss_bytes"] for r in reports)
    result["pages_per_s"] = result["pages"] / result["seconds"] if result["seconds"] else 0.0
    return result


def remove(path: str) -> None:
    """Delete a previous build's index directory or database file, if any."""
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.unlink(path)


def query_pass(search: SearchFn, queries: Sequence[Query]) -> tuple[list[float], list[list[str]]]:
    """Per-query wall seconds and top codes of one pass over the queries."""
    latencies: list[float] = []
    ranked: list[list[str]] = []
    for q in queries:
        start = time.perf_counter()
        codes = search(q.text)
        latencies.append(time.perf_counter() - start)
        ranked.append(codes)
    return latencies, ranked


def speed_and_relevance(search: SearchFn, queries: Sequence[Query]) -> tuple[dict, dict]:
    """A few warm-up queries that are not in ``queries``, then one timed pass over the queries in
    order, whose results are also scored: any cache only helps where different queries share words."""
    timed = {q.text.casefold() for q in queries}
    for text in WARMUP_QUERIES:
        if text.casefold() not in timed:
            search(text)
    latencies, ranked = query_pass(search, queries)
    scores = [(q.kind, score_query(codes, q.relevant)) for q, codes in zip(queries, ranked)]
    return latency_summary(latencies), summarize(scores)


def procsearch_command() -> list[str]:
    """The installed ``procsearch`` next to this interpreter, else the module run by this interpreter."""
    exe = Path(sys.executable).parent / "procsearch"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("procsearch")
    return [found] if found else [sys.executable, "-m", "procsearch"]


def _run_cli(cmd: list[str]) -> tuple[float, str]:
    """(wall seconds, stdout) of one command-line run; a failure raises with its stderr."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=child_env())
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return seconds, proc.stdout


def cli_cold_query(query: str, index_dir: str, runs: int) -> dict:
    """Median wall time of ``procsearch search QUERY --index DIR``, a new process each run."""
    cmd = [*procsearch_command(), "search", query, "--index", index_dir]
    times = [_run_cli(cmd)[0] for _ in range(runs)]
    return {"query": query, "runs": runs, "median_ms": median(times) * 1000.0,
            "runs_ms": [t * 1000.0 for t in times]}


def cli_batch(queries: Sequence[Query], index_dir: str, work_dir: Path, runs: int) -> dict:
    """Queries/s of ``procsearch search --batch FILE --format jsonl`` (process start included), median of runs."""
    batch_file = work_dir / "batch-queries.txt"
    batch_file.write_text("".join(q.text + "\n" for q in queries), encoding="utf-8")
    cmd = [*procsearch_command(), "search", "--batch", str(batch_file), "--format", "jsonl", "--index", index_dir]
    times = []
    for _ in range(runs):
        seconds, stdout = _run_cli(cmd)
        times.append(seconds)
        lines = [line for line in stdout.splitlines() if line.strip()]
        if len(lines) != len(queries):
            raise RuntimeError(f"batch mode printed {len(lines)} results for {len(queries)} queries")
    seconds = median(times)
    return {"queries": len(queries), "runs": runs, "median_seconds": seconds,
            "queries_per_s": len(queries) / seconds if seconds else 0.0}


def file_size(path: str) -> int:
    return os.path.getsize(path) if os.path.exists(path) else 0
