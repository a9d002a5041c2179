"""The benchmark's data: locating (and once unpacking) the page corpus, loading the queries, and
drawing a deterministic sample that still contains every page relevant to the sampled queries.

Pages are never modified in place: the benchmark works on a temporary directory of symlinks to
them, and update runs replace a link by an edited copy.
"""

from __future__ import annotations

import bisect
import json
import os
import random
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from procsearch.ingest import find_pages

# The benchmark data sits beside the repository, in ../shared/data/pcs.
DATA_DIR = Path(os.environ.get("PROCSEARCH_BENCH_DATA",
                               Path(__file__).resolve().parents[2] / "shared" / "data" / "pcs"))
DEFAULT_TARBALL = DATA_DIR / "pages-a.tar.gz"
DEFAULT_QUERIES = DATA_DIR / "queries-dev.jsonl"
DEFAULT_CACHE = Path(os.environ.get("PROCSEARCH_BENCH_CACHE", Path.home() / ".cache" / "procsearch-bench"))
TARBALL_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz")
# In a sample, at most this fraction of the pages is spent on pages relevant to the queries; the
# rest are random other pages, so the ranking still has to pick the right pages out of a crowd.
RELEVANT_SHARE = 0.5


class DataMissing(Exception):
    """The benchmark data is not on this machine: the benchmark is skipped, not failed."""


@dataclass(frozen=True)
class Query:
    id: str
    text: str
    relevant: tuple[str, ...]
    kind: str


@dataclass(frozen=True)
class Selection:
    """The pages and queries one run uses."""

    pages: list[str]  # page file paths
    queries: list[Query]
    relevant_pages: int  # pages in ``pages`` relevant to at least one query
    sampled: bool
    seed: int


def is_tarball(path: Path) -> bool:
    return path.is_file() and path.name.endswith(TARBALL_SUFFIXES)


def _cache_for(tarball: Path) -> Path:
    if tarball.resolve() == DEFAULT_TARBALL.resolve():
        return DEFAULT_CACHE
    stem = tarball.name
    for suffix in TARBALL_SUFFIXES:
        stem = stem.removesuffix(suffix)
    return DEFAULT_CACHE.parent / f"procsearch-bench-{stem}"


def _has_pages(directory: Path) -> bool:
    return directory.is_dir() and any(True for _ in directory.glob("*.htm*"))


def unpack_once(tarball: Path, cache: Path) -> Path:
    """Unpack a tarball into ``cache`` unless it is there already; atomic, so a killed run leaves no half cache."""
    if _has_pages(cache):
        return cache
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.parent / f".{cache.name}.partial-{os.getpid()}"
    with tarfile.open(tarball) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(partial, filter="data")
        else:  # Python without extraction filters: the tarball is our own data set
            tar.extractall(partial)
    if cache.exists():  # an empty or foreign leftover
        cache.rmdir()
    os.rename(partial, cache)
    return cache


def resolve_corpus(corpus: str | None) -> Path:
    """The corpus directory: a given directory as is, a tarball unpacked once into the cache, or by
    default the cache of the shared tarball. DataMissing when the default data is absent."""
    if corpus is None:
        if _has_pages(DEFAULT_CACHE):
            return DEFAULT_CACHE
        if not DEFAULT_TARBALL.is_file():
            raise DataMissing(f"no corpus: {DEFAULT_CACHE} is empty and {DEFAULT_TARBALL} does not exist")
        return unpack_once(DEFAULT_TARBALL, DEFAULT_CACHE)
    path = Path(corpus).expanduser()
    if path.is_dir():
        return path
    if is_tarball(path):
        return unpack_once(path, _cache_for(path))
    raise FileNotFoundError(f"--corpus {corpus}: not a directory or a tarball")


def load_queries(path: Path) -> list[Query]:
    """Queries from JSON Lines ``{"id", "query", "relevant", "kind"}``; blank lines are ignored."""
    out: list[Query] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            text = " ".join(str(row["query"]).split())  # one line each, for the CLI's batch mode
            relevant = tuple(str(r).strip().upper() for r in row.get("relevant", ()) if str(r).strip())
            out.append(Query(str(row["id"]), text, relevant, str(row.get("kind", "unknown"))))
    return out


def pages_by_code(corpus_dir: Path) -> dict[str, str]:
    """{code: page path}, the code being the file name's stem (``<CODE>.html``)."""
    pages, _ = find_pages([str(corpus_dir)])
    out: dict[str, str] = {}
    for path in pages:
        out.setdefault(Path(path).stem.upper(), path)
    return out


class CodeTable:
    """Sorted codes, for finding every code under a prefix by bisection."""

    def __init__(self, codes: Iterable[str]) -> None:
        self.codes = sorted(codes)

    def under(self, prefix: str) -> list[str]:
        i = bisect.bisect_left(self.codes, prefix)
        out = []
        while i < len(self.codes) and self.codes[i].startswith(prefix):
            out.append(self.codes[i])
            i += 1
        return out

    def relevant_to(self, query: Query) -> set[str]:
        return {code for entry in query.relevant for code in self.under(entry)}


def interleave_kinds(queries: Sequence[Query], seed: int) -> list[Query]:
    """Queries in a seeded order that alternates kinds, so even a handful covers every kind."""
    by_kind: dict[str, list[Query]] = {}
    for q in queries:
        by_kind.setdefault(q.kind, []).append(q)
    rng = random.Random(seed)
    lists = []
    for kind in sorted(by_kind):
        group = list(by_kind[kind])
        rng.shuffle(group)
        lists.append(group)
    out: list[Query] = []
    for i in range(max((len(g) for g in lists), default=0)):
        out.extend(g[i] for g in lists if i < len(g))
    return out


def select_all(pages: dict[str, str], queries: Sequence[Query], max_queries: int | None, seed: int) -> Selection:
    """The whole corpus, with every query (or a seeded, kind-balanced subset of ``max_queries``)."""
    chosen = list(queries) if not max_queries else interleave_kinds(queries, seed)[:max_queries]
    table = CodeTable(pages)
    relevant = set().union(*(table.relevant_to(q) for q in chosen)) if chosen else set()
    return Selection(sorted(pages.values()), chosen, len(relevant), False, seed)


def select_sample(pages: dict[str, str], queries: Sequence[Query], n_pages: int,
                  max_queries: int | None, seed: int) -> Selection:
    """N pages and the queries they can answer, deterministic for a seed.

    Queries are taken in a seeded, kind-balanced order; each is kept when all the pages relevant to
    it still fit in RELEVANT_SHARE of N, so every page that can answer a sampled query is present.
    The remaining slots are filled with a seeded random choice of other pages. Queries whose answer
    spans thousands of pages (three-character prefixes) rarely fit and are under-represented.
    """
    if n_pages >= len(pages):
        return select_all(pages, queries, max_queries, seed)
    table = CodeTable(pages)
    budget = max(1, int(n_pages * RELEVANT_SHARE))
    chosen: list[Query] = []
    needed: set[str] = set()
    for q in interleave_kinds(queries, seed):
        if max_queries and len(chosen) >= max_queries:
            break
        wanted = table.relevant_to(q)
        if not wanted or len(needed | wanted) > budget:
            continue
        chosen.append(q)
        needed |= wanted
    others = sorted(set(pages) - needed)
    fill = random.Random(seed).sample(others, min(len(others), n_pages - len(needed)))
    codes = sorted(needed | set(fill))
    order = {q.id: i for i, q in enumerate(queries)}
    chosen.sort(key=lambda q: order[q.id])  # report queries in file order
    return Selection([pages[c] for c in codes], chosen, len(needed), True, seed)


def materialize(pages: Sequence[str], dest: Path) -> list[str]:
    """Symlink pages into ``dest`` (flat); returns the link paths, which are what gets indexed."""
    dest.mkdir(parents=True, exist_ok=True)
    links = []
    for page in pages:
        link = dest / Path(page).name
        if link.exists() or link.is_symlink():
            link = dest / f"{Path(page).parent.name}-{Path(page).name}"
        os.symlink(os.path.abspath(page), link)
        links.append(str(link))
    return links
