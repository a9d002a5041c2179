"""One build per fresh process, so its peak RSS (including its worker processes) is the build's own.

    python -m benchmarks.child procsearch CORPUS_DIR INDEX_DIR WORKERS
    python -m benchmarks.child naive-whoosh RECORDS.jsonl INDEX_DIR
    python -m benchmarks.child fts5 RECORDS.jsonl DB_PATH

Prints one JSON object: seconds, pages, indexed, peak_rss_bytes. For the baselines, loading the
records is not timed but their memory is part of the peak.
"""

from __future__ import annotations

import json
import sys
import time

from .timing import peak_rss_bytes


def _load_records(path: str) -> list:
    from procsearch.ingest.record import ProcedureRecord

    with open(path, encoding="utf-8") as fh:
        return [ProcedureRecord.from_json(line) for line in fh if line.strip()]


def build_procsearch(corpus: str, index_dir: str, workers: str) -> dict:
    from procsearch.index import build_index

    report = build_index([corpus], index_dir, workers=int(workers) or None)
    return {"seconds": report.seconds, "pages": report.pages, "indexed": report.indexed,
            "skipped": len(report.skipped)}


def build_baseline(kind: str, records_path: str, target: str) -> dict:
    from .baselines import build_fts5, build_naive_whoosh

    records = _load_records(records_path)
    build = build_naive_whoosh if kind == "naive-whoosh" else build_fts5
    start = time.perf_counter()
    indexed = build(records, target)
    return {"seconds": time.perf_counter() - start, "pages": len(records), "indexed": indexed}


def main(argv: list[str]) -> int:
    job, *args = argv
    if job == "procsearch":
        result = build_procsearch(*args)
    elif job in ("naive-whoosh", "fts5"):
        result = build_baseline(job, *args)
    else:
        print(f"unknown job {job!r}", file=sys.stderr)
        return 2
    result["peak_rss_bytes"] = peak_rss_bytes()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
