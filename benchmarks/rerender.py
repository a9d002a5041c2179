"""Re-render a corpus into other markups with site chrome, to measure that ranking does not depend on markup.

    python -m benchmarks.rerender [--corpus DIR] [--out DIR] [--verify]

Every page is parsed, then written back in one of the styles of benchmarks/markups.py (taken in
turn, so the corpus mixes all of them) under its code's name (<CODE>.html, .htm or .txt, as the
benchmark expects). The output goes to a cache directory (default ~/.cache/procsearch-bench-rerendered),
never into the repository. With --verify every written page is parsed again and compared with the
record it was rendered from. Then run the benchmark on it:

    python -m benchmarks.run --corpus ~/.cache/procsearch-bench-rerendered --skip-baselines --repeats 1
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

from procsearch.ingest import ingest_corpus
from procsearch.ingest.corpus import parse_many

from .corpus_sample import DEFAULT_CACHE
from .markups import STYLES, file_name

DEFAULT_OUT = Path.home() / ".cache" / "procsearch-bench-rerendered"
FIELDS = ("code", "code_system", "title", "name", "technical_term", "sections", "similar_codes", "modifier")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default=str(DEFAULT_CACHE), help="pages to re-render (default: %(default)s)")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="output directory (default: %(default)s)")
    p.add_argument("--workers", type=int, default=None, help="parsing processes (default: CPU count)")
    p.add_argument("--verify", action="store_true", help="parse the written pages and compare the records")
    args = p.parse_args(argv)
    out = Path(args.out).expanduser()
    repo = Path(__file__).resolve().parent.parent
    if out.resolve().is_relative_to(repo):
        raise SystemExit(f"{out}: refusing to write inside the repository")
    if not Path(args.corpus).is_dir():
        print(f"benchmark skipped: no corpus at {args.corpus}")
        return 0
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()) and not (out / ".rerendered").exists():
        raise SystemExit(f"{out}: not empty and not written by rerender; choose another --out")
    (out / ".rerendered").write_text("written by python -m benchmarks.rerender\n")

    start = time.perf_counter()
    records, report = ingest_corpus([args.corpus], workers=args.workers)
    print(f"parsed {len(records)} records in {time.perf_counter() - start:.1f} s ({report.summary()})", file=sys.stderr)
    styles = list(STYLES)
    written: dict[str, object] = {}
    counts: Counter[str] = Counter()
    earlier: dict[str, list[Path]] = {}  # pages of an earlier run, perhaps in another style
    for old in out.iterdir():
        earlier.setdefault(old.name.split(".")[0], []).append(old)
    for i, rec in enumerate(sorted(records, key=lambda r: r.code)):
        style = styles[i % len(styles)]
        suffix, data = STYLES[style](rec)
        path = out / file_name(rec, style, suffix, by_code=True)
        for old in earlier.get(rec.code, ()):
            if old != path:
                old.unlink()
        path.write_bytes(data)
        written[str(path)] = rec
        counts[style] += 1
    print(f"wrote {len(written)} pages to {out}: " + ", ".join(f"{s} {n}" for s, n in counts.items()), file=sys.stderr)

    if args.verify:
        start = time.perf_counter()
        differ: Counter[str] = Counter()
        failed = 0
        for result in parse_many(sorted(written), args.workers):
            if not hasattr(result, "record"):
                failed += 1
                print(f"  {result}", file=sys.stderr)
                continue
            want = written[result.record.source]
            for field in FIELDS:
                if getattr(result.record, field) != getattr(want, field):
                    differ[field] += 1
                    if differ[field] <= 3:
                        print(f"  {result.record.source}: {field} differs", file=sys.stderr)
        same = len(written) - failed - (max(differ.values()) if differ else 0)
        print(f"verified in {time.perf_counter() - start:.1f} s: {failed} failed, fields differing: "
              f"{dict(differ) or 'none'}; at least {same} of {len(written)} identical", file=sys.stderr)
        return 1 if failed or differ else 0
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
