"""What `procsearch index stats` reports about an index."""

from __future__ import annotations

from dataclasses import dataclass

from . import store
from .manifest import Manifest


@dataclass(frozen=True)
class IndexStats:
    """What `procsearch index stats` shows about one index, read from its live generation."""

    index_dir: str
    generation: str
    schema_version: int
    corpus: tuple[str, ...]
    built_at: float
    updated_at: float
    documents: int
    systems: dict[str, int]
    skipped: int
    duplicates: int
    size_bytes: int


def index_stats(index_dir: str) -> IndexStats:
    gen = store.current_generation(index_dir)
    meta = store.read_meta(gen)
    with Manifest.open(gen) as manifest:  # counted by SQLite, not loaded row by row
        skipped, duplicates = manifest.count("skipped"), manifest.count("duplicate")
    return IndexStats(
        index_dir=index_dir,
        generation=gen,
        schema_version=meta.schema_version,
        corpus=tuple(meta.corpus),
        built_at=meta.built_at,
        updated_at=meta.updated_at,
        documents=meta.doc_count,
        systems=dict(meta.systems),
        skipped=skipped,
        duplicates=duplicates,
        size_bytes=store.size_on_disk(gen),
    )
