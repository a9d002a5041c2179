"""Scale check: build time, index size, memory and query latency as the corpus grows to 200k pages.

    python -m benchmarks.scale [--sizes 20000,68367,200000] [--max-queries K] [--out DIR]

The pages beyond the shared corpus are renderings of its records under new codes (each code
changed in its last characters, keeping its format: a digit stays a digit, a letter a letter),
in the markups of benchmarks/markups.py taken in turn. They are written to a temporary folder,
never to the repository, and removed afterwards (unless --keep-temp). Each size is built in a
fresh process (its peak memory is its own, and the whole process tree's is sampled too), then
the dev queries are timed on it in this process after a warm-up, as benchmarks.run does.
The corpora are nested: the smaller sizes are seeded samples of the shared pages.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from procsearch.index import index_stats
from procsearch.ingest import ingest_corpus
from procsearch.ingest.record import ProcedureRecord
from procsearch.search import Searcher

from .corpus_sample import DEFAULT_QUERIES, DataMissing, interleave_kinds, load_queries, pages_by_code, resolve_corpus
from .machine import machine_info
from .markups import STYLES, file_name
from .measure import speed_and_relevance
from .timing import child_env

DEFAULT_SIZES = (20_000, 68_367, 200_000)
DIGITS = "0123456789"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O: code sets avoid them beside 1 and 0
_started = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _started:7.1f}s] {message}", file=sys.stderr, flush=True)


def new_code(code: str, used: set[str]) -> str | None:
    """A code not in ``used``, differing from ``code`` in as few trailing characters as possible
    and keeping each character's kind, so it still reads as a code of the same system."""
    for pos in range(len(code) - 1, -1, -1):
        ch = code[pos]
        alphabet = DIGITS if ch.isdigit() else LETTERS if ch.isalpha() else ""
        for alt in alphabet:
            candidate = code[:pos] + alt + code[pos + 1:]
            if candidate not in used:
                return candidate
    return None


def renderings(records: Sequence[ProcedureRecord], count: int, used: set[str]) -> Iterator[tuple[str, bytes]]:
    """``count`` (file name, bytes) pages: the records again and again, under new codes, in each markup in turn."""
    styles = list(STYLES)
    made = 0
    round_no = 0
    while made < count:
        round_no += 1
        progressed = False
        for rec in records:
            if made >= count:
                return
            code = new_code(rec.code, used)
            if code is None:
                continue
            used.add(code)
            style = styles[(made + round_no) % len(styles)]
            synthetic = replace(rec, code=code, source="")
            suffix, data = STYLES[style](synthetic)
            yield file_name(synthetic, style, suffix, by_code=True), data
            made += 1
            progressed = True
        if not progressed:
            raise SystemExit(f"cannot make {count} new codes from {len(records)} records")


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as fh:
                out += [int(c) for c in fh.read().split()]
    except OSError:
        pass
    return out


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants (shared pages counted in each)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += _children(p)
        try:
            with open(f"/proc/{p}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
    return total


def build(corpus: Path, index_dir: Path, workers: int | None) -> dict:
    """Build in a fresh process, sampling the memory of its whole process tree twice a second."""
    cmd = [sys.executable, "-m", "benchmarks.child", "procsearch", str(corpus), str(index_dir), str(workers or 0)]
    load_before = os.getloadavg()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env())
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss_bytes(proc.pid))
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-4000:]}")
    result = json.loads([line for line in out.splitlines() if line.strip()][-1])
    result["tree_peak_rss_bytes"] = peak[0]
    result["load_before"] = load_before
    result["load_after"] = os.getloadavg()
    return result


def link_all(paths: Sequence[str], dest: Path) -> None:
    dest.mkdir(parents=True)
    for path in paths:
        os.symlink(os.path.abspath(path), dest / os.path.basename(path))


def run(args: argparse.Namespace, work: Path) -> dict:
    corpus = resolve_corpus(args.corpus)
    pages = sorted(pages_by_code(corpus).values())
    queries = interleave_kinds(load_queries(args.queries), args.seed)[:args.max_queries]
    sizes = sorted(args.sizes)
    rng = random.Random(args.seed)
    order = list(pages)
    rng.shuffle(order)
    log(f"{len(pages):,} shared pages; sizes {sizes}; {len(queries)} queries; temporary files in {work}")
    extra_needed = max(0, sizes[-1] - len(pages))
    rendered: list[str] = []
    if extra_needed:
        log("parsing the shared pages")
        records, _ = ingest_corpus([str(corpus)], workers=args.workers)
        records.sort(key=lambda r: r.code)
        used = {r.code for r in records} | {Path(p).stem.upper() for p in pages}
        out_dir = work / "rendered"
        out_dir.mkdir()
        log(f"rendering {extra_needed:,} pages under new codes")
        for name, data in renderings(records, extra_needed, used):
            target = out_dir / name
            target.write_bytes(data)
            rendered.append(str(target))
        del records
    results: dict = {"machine": machine_info(), "run": {"corpus": str(corpus), "shared_pages": len(pages),
                                                       "queries": len(queries), "seed": args.seed,
                                                       "workers": args.workers or "CPU count"}, "sizes": []}
    for size in sizes:
        chosen = (order[:size] if size <= len(order) else order + rendered[:size - len(order)])
        size_dir = work / f"corpus-{size}"
        link_all(chosen, size_dir)
        index_dir = work / f"index-{size}"
        log(f"{len(chosen):,} pages: building")
        row = {"pages": len(chosen), "build": build(size_dir, index_dir, args.workers)}
        row["index_size_bytes"] = index_stats(str(index_dir)).size_bytes
        log(f"{len(chosen):,} pages: built in {row['build']['seconds']:.0f} s; timing {len(queries)} queries")
        with Searcher(str(index_dir)) as searcher:
            row["queries"], _ = speed_and_relevance(
                lambda text: [hit.code for hit in searcher.search(text, limit=10).hits], queries)
        row["load_after_queries"] = os.getloadavg()
        results["sizes"].append(row)
        results["run"]["wall_seconds"] = time.perf_counter() - _started
        write_results(results, args.out)  # each size as soon as it is measured: a long run may be cut short
        log(f"{len(chosen):,} pages: p50 {row['queries']['p50_ms']:.0f} ms, p95 {row['queries']['p95_ms']:.0f} ms")
        if not args.keep_temp:
            shutil.rmtree(index_dir, ignore_errors=True)
            shutil.rmtree(size_dir, ignore_errors=True)
    results["run"]["wall_seconds"] = time.perf_counter() - _started
    return results


def render(results: dict) -> str:
    """The results as a Markdown table, with growth against the smallest size."""
    rows = results["sizes"]
    base = rows[0]
    lines = [f"# procsearch scale check ({results['machine'].get('cores', '?')} cores, "
             f"{results['run']['queries']} queries)", "",
             "| pages (indexed) | build | peak RSS (largest process / whole tree) | index size | query p50 / p95 "
             "| growth: pages / p50 / p95 | load avg (1 min) before / after build |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        b, q = row["build"], row["queries"]
        lines.append(
            f"| {row['pages']:,} ({b['indexed']:,}) | {b['seconds']:.0f} s | {b['peak_rss_bytes'] / 2**20:,.0f} MB / "
            f"{b['tree_peak_rss_bytes'] / 2**20:,.0f} MB | {row['index_size_bytes'] / 1e6:,.0f} MB | "
            f"{q['p50_ms']:.0f} / {q['p95_ms']:.0f} ms | {row['pages'] / base['pages']:.1f}x / "
            f"{q['p50_ms'] / base['queries']['p50_ms']:.1f}x / {q['p95_ms'] / base['queries']['p95_ms']:.1f}x | "
            f"{b['load_before'][0]:.1f} / {b['load_after'][0]:.1f} |")
    lines += ["", f"Wall time {results['run']['wall_seconds'] / 60:.0f} min. Pages beyond the "
              f"{results['run']['shared_pages']:,} shared ones are renderings of them under new codes.", ""]
    return "\n".join(lines)


def write_results(results: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    (out / "results.md").write_text(render(results), encoding="utf-8")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", help="shared page directory or tarball (default: as benchmarks.run)")
    p.add_argument("--queries", type=Path, default=DEFAULT_QUERIES, help="queries JSON Lines (default: the dev set)")
    p.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=list(DEFAULT_SIZES),
                   help="corpus sizes, comma-separated (default: 20000,68367,200000)")
    p.add_argument("--max-queries", type=int, default=None, metavar="K", help="time at most K queries")
    p.add_argument("--workers", type=int, help="build processes (default: CPU count)")
    p.add_argument("--seed", type=int, default=20240601)
    p.add_argument("--out", type=Path, required=True, help="directory for results.json and results.md")
    p.add_argument("--keep-temp", action="store_true", help="keep the generated corpus and indexes")
    args = p.parse_args(argv)
    if any(s < 1 for s in args.sizes):
        p.error("--sizes must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if not args.queries.is_file():
            raise DataMissing(f"no queries: {args.queries} does not exist")
        resolve_corpus(args.corpus)
    except DataMissing as exc:
        print(f"benchmark skipped: {exc} (the shared benchmark data is not on this machine)", file=sys.stderr)
        return 0
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="procsearch-scale-"))
    try:
        results = run(args, work)
    finally:
        if not args.keep_temp:
            shutil.rmtree(work, ignore_errors=True)
    write_results(results, args.out)
    log(f"wrote {args.out / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
