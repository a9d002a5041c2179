"""``python -m benchmarks.run``: build, update, query speed and relevance of procsearch and two
baselines on the same pages and queries, in one run, written to results.json and results.md.

Query and relevance numbers are taken on the freshly built index; the update workload runs last
because it edits and deletes pages of the (temporary) corpus.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from procsearch.index import index_stats
from procsearch.ingest import ingest_corpus
from procsearch.search import Searcher

from .baselines import Fts5Searcher, NaiveWhooshSearcher, dir_size
from .corpus_sample import (DEFAULT_QUERIES, DataMissing, Query, Selection, load_queries, materialize,
                            pages_by_code, resolve_corpus, select_all, select_sample)
from .machine import machine_info
from .measure import build_in_child, cli_batch, cli_cold_query, file_size, speed_and_relevance
from .questions import measure as measure_questions
from .report import render
from .timing import median, timed
from .updates import run_updates

RESULTS_DIR = Path(__file__).resolve().parent / "results"
EDIT_SIZES = (10, 100, 1000)
LISTED_SIZES = (10, 1000)  # the same edits with their paths given (update --paths): no corpus walk
DELETE_SIZE = 10
_started = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _started:7.1f}s] {message}", file=sys.stderr, flush=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=(
        "Benchmark procsearch's build, updates, query speed and relevance against two baselines; "
        "writes results.json and results.md."))
    p.add_argument("--corpus", help="page directory or tarball (default: the unpacked shared tarball in "
                                    "~/.cache/procsearch-bench, unpacked there on first use)")
    p.add_argument("--queries", type=Path, help=f"queries JSON Lines (default: {DEFAULT_QUERIES})")
    p.add_argument("--sample", type=int, metavar="N", help="use N pages: every page relevant to the sampled "
                                                           "queries plus seeded random others")
    p.add_argument("--max-queries", type=int, metavar="K", help="use at most K queries (seeded, kinds alternating)")
    p.add_argument("--seed", type=int, default=20240601, help="seed of every random choice (default: %(default)s)")
    p.add_argument("--out", type=Path, default=RESULTS_DIR, help="directory for results.json and results.md "
                                                                   "(default: benchmarks/results/)")
    p.add_argument("--skip-baselines", action="store_true", help="measure procsearch only")
    p.add_argument("--workers", type=int, help="build/parse processes (default: CPU count)")
    p.add_argument("--repeats", type=int, default=3, help="runs of each build, parse, update workload and "
                                                          "batch mode; medians are reported (default: %(default)s)")
    p.add_argument("--cli-runs", type=int, default=5, help="cold CLI query runs (default: %(default)s)")
    p.add_argument("--keep-temp", action="store_true", help="keep the temporary corpus and indexes")
    args = p.parse_args(argv)
    for name in ("sample", "max_queries", "workers", "repeats", "cli_runs"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.queries is not None and not args.queries.is_file():
        p.error(f"--queries {args.queries}: no such file")
    return args


def select(args: argparse.Namespace, pages: dict[str, str], queries: list[Query]) -> Selection:
    if args.sample:
        return select_sample(pages, queries, args.sample, args.max_queries, args.seed)
    return select_all(pages, queries, args.max_queries, args.seed)


def bench_procsearch(corpus: Path, work: Path, queries: list[Query], args: argparse.Namespace,
                     results: dict) -> Path:
    """Build (child process), query speed and relevance with and without expansion, and the CLI."""
    index_dir = work / "procsearch-index"
    log("procsearch: building the index")
    build = build_in_child("procsearch", str(corpus), str(index_dir), args.workers, args.repeats)
    build["index_size_bytes"] = index_stats(str(index_dir)).size_bytes
    results["build"]["procsearch"] = build
    for key, expand in (("procsearch", True), ("procsearch_no_expand", False)):
        log(f"{key}: warm-up, then {len(queries)} timed queries")
        # A fresh Searcher for each pass: the second must not reuse postings the first cached.
        with Searcher(str(index_dir), expand=expand) as searcher:

            def search(text: str) -> list[str]:
                return [hit.code for hit in searcher.search(text, limit=10).hits]

            results["queries"][key], results["relevance"][key] = speed_and_relevance(search, queries)
    log("procsearch: command-line cold query and batch mode")
    results["cli"] = {"cold": cli_cold_query(queries[0].text, str(index_dir), args.cli_runs),
                      "batch": cli_batch(queries, str(index_dir), work, args.repeats)}
    return index_dir


def bench_baselines(corpus: Path, work: Path, queries: list[Query], args: argparse.Namespace,
                    results: dict) -> None:
    """Parse once with ingest (timed on its own), then index the same records twice."""
    log("baselines: parsing the pages with ingest")
    parse_runs = []
    for _ in range(args.repeats):
        records = []  # let the previous run's records go before parsing again
        seconds, (records, report) = timed(lambda: ingest_corpus([str(corpus)], workers=args.workers))
        parse_runs.append(seconds)
    parse_seconds = median(parse_runs)
    records_path = work / "records.jsonl"
    with open(records_path, "w", encoding="utf-8") as fh:
        fh.writelines(record.to_json() + "\n" for record in records)
    results["parse"] = {"seconds": parse_seconds, "runs_seconds": parse_runs, "records": len(records),
                        "skipped": len(report.skipped),
                        "pages_per_s": len(records) / parse_seconds if parse_seconds else 0.0}
    del records
    systems = (("naive_whoosh", "naive-whoosh", work / "naive-whoosh", NaiveWhooshSearcher, dir_size),
               ("sqlite_fts5", "fts5", work / "fts5.sqlite3", Fts5Searcher, file_size))
    for key, job, target, searcher_cls, size in systems:
        log(f"{key}: indexing the records")
        build = build_in_child(job, str(records_path), str(target), runs=args.repeats)
        build["parse_seconds"] = parse_seconds
        build["index_seconds"] = build["seconds"]
        build["seconds"] = parse_seconds + build["index_seconds"]
        build["pages_per_s"] = build["pages"] / build["seconds"] if build["seconds"] else 0.0
        build["index_size_bytes"] = size(str(target))
        results["build"][key] = build
        log(f"{key}: warm-up, then {len(queries)} timed queries")
        with searcher_cls(str(target)) as searcher:
            results["queries"][key], results["relevance"][key] = speed_and_relevance(searcher.search, queries)


def ratios(results: dict) -> dict:
    """procsearch ÷ each baseline, for build, memory, size, latency and two relevance measures."""
    ps_build = results["build"]["procsearch"]
    ps_query = results["queries"]["procsearch"]
    ps_rel = results["relevance"]["procsearch"]["all"]

    def div(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    out = {}
    for key in ("naive_whoosh", "sqlite_fts5"):
        if key not in results["build"]:
            continue
        b, q, rel = results["build"][key], results["queries"][key], results["relevance"][key]["all"]
        out[key] = {
            "build_seconds": div(ps_build["seconds"], b["seconds"]),
            "peak_rss": div(ps_build["peak_rss_bytes"], b["peak_rss_bytes"]),
            "index_size": div(ps_build["index_size_bytes"], b["index_size_bytes"]),
            "p50_ms": div(ps_query["p50_ms"], q["p50_ms"]),
            "p95_ms": div(ps_query["p95_ms"], q["p95_ms"]),
            "mrr_at_10": div(ps_rel["mrr_at_10"], rel["mrr_at_10"]),
            "success_at_10": div(ps_rel["success_at_10"], rel["success_at_10"]),
        }
    return out


def run(args: argparse.Namespace, corpus_dir: Path, queries: list[Query], work: Path) -> dict:
    pages = pages_by_code(corpus_dir)
    selection = select(args, pages, queries)
    if not selection.queries:
        raise SystemExit("no query has a relevant page in the selected corpus; raise --sample")
    log(f"{len(selection.pages):,} pages, {len(selection.queries)} queries; temporary files in {work}")
    corpus = work / "corpus"
    links = materialize(selection.pages, corpus)
    by_kind: dict[str, int] = {}
    for q in selection.queries:
        by_kind[q.kind] = by_kind.get(q.kind, 0) + 1
    results: dict = {
        "machine": machine_info(),
        "run": {"corpus": str(corpus_dir), "corpus_pages": len(pages), "pages": len(links),
                "sampled": selection.sampled, "seed": selection.seed, "relevant_pages": selection.relevant_pages,
                "queries": len(selection.queries), "queries_by_kind": dict(sorted(by_kind.items())),
                "workers": args.workers or "CPU count", "query_ids": [q.id for q in selection.queries]},
        "build": {}, "queries": {}, "relevance": {},
    }
    index_dir = bench_procsearch(corpus, work, selection.queries, args, results)
    log("procsearch: the question set on the bundled corpus")
    results["questions"] = measure_questions(str(work))
    if not args.skip_baselines:
        bench_baselines(corpus, work, selection.queries, args, results)
    log("procsearch: incremental updates")
    results["updates"] = run_updates(str(corpus), str(index_dir), links, args.workers, EDIT_SIZES,
                                     DELETE_SIZE, args.repeats, args.seed, LISTED_SIZES)
    results["ratios"] = ratios(results)
    results["run"]["wall_seconds"] = time.perf_counter() - _started
    return results


def write_results(results: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    (out / "results.md").write_text(render(results), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    global _started
    _started = time.perf_counter()
    args = parse_args(argv)
    try:
        corpus_dir = resolve_corpus(args.corpus)
        queries_path = args.queries or DEFAULT_QUERIES
        if not queries_path.is_file():
            raise DataMissing(f"no queries: {queries_path} does not exist")
    except DataMissing as exc:
        print(f"benchmark skipped: {exc} (the shared benchmark data is not on this machine)", file=sys.stderr)
        return 0
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    queries = load_queries(queries_path)
    work = Path(tempfile.mkdtemp(prefix="procsearch-bench-"))
    try:
        results = run(args, corpus_dir, queries, work)
    finally:
        if not args.keep_temp:
            shutil.rmtree(work, ignore_errors=True)
    write_results(results, args.out)
    log(f"wrote {args.out / 'results.md'} and results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
