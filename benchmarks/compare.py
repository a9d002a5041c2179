"""``python -m benchmarks.compare``: this checkout against another on one index, query by query.

For work that must make a search cheaper without changing any answer. Each side runs in its own
process, importing procsearch from its own source tree, with the same index opened read-only;
every query goes to both sides in turn (which side goes first alternates), so a busy machine
slows both alike. Reported: how many answers differ (codes in order, scores as Hit rounds them,
snippets, matched sections, totals, corrections, expansions; optionally explanations and facets),
the first differences, and the CPU time (``time.process_time``) of one search per side: median,
p95 and mean per pass, and the shares of the query compiler and the ranking engine in it.
Exit status 1 when any answer differs.

    git worktree add /tmp/base main          # or: git archive main | tar -x -C /tmp/base
    python -m benchmarks.compare --base /tmp/base --index DIR --passes 2 --limit 20
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

if __package__:
    from .corpus_sample import DEFAULT_QUERIES, load_queries
    from .timing import percentile

HERE = Path(__file__).resolve()
CHECKOUT = HERE.parents[1]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.compare", description=(
        "Answers and CPU per search of this checkout against another source tree, on one index."))
    p.add_argument("--base", required=True, help="the other source tree (a checkout of the same repository)")
    p.add_argument("--index", required=True, help="index directory (opened read-only by both sides)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--queries", type=Path, default=None, help="queries JSON Lines (default: the dev queries)")
    which.add_argument("--questions", action="store_true", help="the question set of benchmarks/questions.py")
    which.add_argument("--lines", type=Path, help="a text file of queries, one a line")
    p.add_argument("--limit", type=int, default=20, help="hits per search (default: %(default)s)")
    p.add_argument("--passes", type=int, default=2, help="passes over the queries (default: %(default)s; "
                   "the first reads from disk what later passes find cached)")
    p.add_argument("--max-queries", type=int, default=0, help="at most this many queries")
    p.add_argument("--shuffle", type=int, default=None, metavar="SEED", help="a seeded random query order")
    p.add_argument("--skip", type=int, default=0, help="queries of each pass run but not timed (a warm-up)")
    p.add_argument("--explain", action="store_true", help="also compare explanations")
    p.add_argument("--facets", action="store_true", help="search with facets, and compare them")
    p.add_argument("--show", type=int, default=10, help="differences printed (default: %(default)s)")
    return p.parse_args(argv)


def query_texts(args: argparse.Namespace) -> list[str]:
    if args.lines:
        texts = [line.strip() for line in args.lines.read_text(encoding="utf-8").splitlines() if line.strip()]
    elif args.questions:
        from .questions import QUESTIONS
        texts = [q.text for q in QUESTIONS]
    else:
        texts = [q.text for q in load_queries(args.queries or DEFAULT_QUERIES)]
    if args.shuffle is not None:
        random.Random(args.shuffle).shuffle(texts)
    return texts[:args.max_queries] if args.max_queries else texts


class Side:
    """One source tree answering queries in a child process, one JSON line per query."""

    def __init__(self, name: str, source: str, index: str) -> None:
        self.name = name
        env = dict(os.environ, PYTHONPATH=source)
        self.proc = subprocess.Popen([sys.executable, str(HERE), "--worker", source, index],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
                                     cwd=os.path.dirname(os.path.abspath(index)))
        self.cpu: list[list[float]] = []
        self.stages: dict[str, float] = {"compile": 0.0, "run": 0.0, "total": 0.0}

    def ask(self, request: dict) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"{self.name} side stopped (see its error above)")
        return json.loads(line)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait()


def worker(source: str, index: str) -> None:
    """Answer queries from stdin with procsearch imported from ``source`` (spawned by main)."""
    import procsearch

    if not str(Path(procsearch.__file__).resolve()).startswith(str(Path(source).resolve())):
        raise SystemExit(f"procsearch imported from {procsearch.__file__}, not from {source}")
    from procsearch.search import compiler, engine
    from procsearch.search.searcher import Searcher

    spent = {"compile": 0.0, "run": 0.0}

    def timed(owner, name: str, key: str) -> None:
        original = getattr(owner, name)

        def inner(*a, **kw):
            start = time.process_time()
            try:
                return original(*a, **kw)
            finally:
                spent[key] += time.process_time() - start
        setattr(owner, name, inner)

    timed(compiler.Compiler, "compile", "compile")
    timed(engine.Engine, "run", "run")
    with Searcher.open(index) as searcher:
        for line in sys.stdin:
            req = json.loads(line)
            spent.update(compile=0.0, run=0.0)
            start = time.process_time()
            r = searcher.search(req["q"], limit=req["limit"], explain=req["explain"], facets=req["facets"])
            cpu = time.process_time() - start
            answer = {
                "hits": [[h.code, h.score, repr(h.snippets), list(h.matched_sections)] for h in r.hits],
                "totals": [r.total, r.matched, r.corrected_query, [repr(e) for e in r.expansions]],
            }
            if req["explain"]:
                answer["explain"] = [[list(c) for c in h.contributions] for h in r.hits]
            if req["facets"]:
                answer["facets"] = repr(r.facets)
            sys.stdout.write(json.dumps({"answer": answer, "cpu": cpu, **spent}) + "\n")
            sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    texts = query_texts(args)
    sides = [Side("base", args.base, args.index), Side("this", str(CHECKOUT), args.index)]
    differing = 0
    try:
        for p in range(args.passes):
            for side in sides:
                side.cpu.append([])
            for i, text in enumerate(texts):
                request = {"q": text, "limit": args.limit, "explain": args.explain, "facets": args.facets}
                order = sides if i % 2 == 0 else sides[::-1]
                got = {side.name: side.ask(request) for side in order}
                if got["base"]["answer"] != got["this"]["answer"]:
                    differing += 1
                    if differing <= args.show:
                        print(f"differs (pass {p + 1}): {text!r}\n  base {got['base']['answer']}\n"
                              f"  this {got['this']['answer']}")
                if i < args.skip:
                    continue
                for side in sides:
                    r = got[side.name]
                    side.cpu[-1].append(r["cpu"])
                    if p == args.passes - 1:
                        side.stages["compile"] += r["compile"]
                        side.stages["run"] += r["run"]
                        side.stages["total"] += r["cpu"]
    finally:
        for side in sides:
            side.close()
    print(f"{len(texts)} queries x {args.passes} passes, limit {args.limit}: {differing} differing answers")
    print("| side | pass | CPU p50 ms | CPU p95 ms | CPU mean ms |\n|---|---|---|---|---|")
    for side in sides:
        for p, cpu in enumerate(side.cpu):
            if cpu:
                print(f"| {side.name} | {p + 1} | {1000 * percentile(cpu, 50):.2f} | {1000 * percentile(cpu, 95):.2f} "
                      f"| {1000 * sum(cpu) / len(cpu):.2f} |")
    for side in sides:
        total = side.stages["total"] or 1.0
        print(f"{side.name}, last pass: compile {side.stages['compile'] / total:.0%}, ranking engine "
              f"{side.stages['run'] / total:.0%}, the rest (hits, snippets, facets) "
              f"{1 - (side.stages['compile'] + side.stages['run']) / total:.0%}")
    return 1 if differing else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3])
    else:
        sys.exit(main())
