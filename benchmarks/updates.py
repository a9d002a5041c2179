"""Incremental update workload: edit or delete pages of the temporary corpus, then time update_index.

Edited pages are copies: the symlink into the cache is replaced by a new file holding the page
with one sentence appended to its Summary, so the cache is never written to.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Iterator, Sequence

from procsearch.index import update_index

from .timing import median

_SUMMARY_END = re.compile(r"(<h2[^>]*>\s*Summary\s*</h2>.*?)(</p>)", re.IGNORECASE | re.DOTALL)


def append_sentence(html: str, sentence: str) -> str:
    """The page with a sentence appended to the Summary paragraph (or, lacking one, a new paragraph at the end)."""
    edited, n = _SUMMARY_END.subn(lambda m: f"{m.group(1)} {sentence}{m.group(2)}", html, count=1)
    if n:
        return edited
    tail = html.lower().rfind("</body>")
    insert = f"<p>{sentence}</p>\n"
    return html[:tail] + insert + html[tail:] if tail >= 0 else html + insert


def edit_page(path: str, sentence: str) -> None:
    """Replace the corpus entry at ``path`` by an edited copy; a symlink is unlinked, never written through."""
    with open(path, encoding="utf-8", errors="surrogateescape") as fh:
        html = fh.read()
    os.unlink(path)
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as fh:
        fh.write(append_sentence(html, sentence))


class PagePicker:
    """Seeded, non-repeating choice of corpus pages, so each run touches pages no earlier run did
    (as long as there are enough); deleted pages are never offered again."""

    def __init__(self, pages: Sequence[str], seed: int) -> None:
        self._pages = list(pages)
        random.Random(seed).shuffle(self._pages)
        self._deleted: set[str] = set()
        self._cursor = self._cycle()

    def _cycle(self) -> Iterator[str]:
        while True:
            alive = [p for p in self._pages if p not in self._deleted]
            if not alive:
                return
            yield from alive

    def take(self, n: int) -> list[str]:
        out: list[str] = []
        seen: set[str] = set()
        for page in self._cursor:
            if page in self._deleted or page in seen:
                continue
            out.append(page)
            seen.add(page)
            if len(out) == n:
                break
        return out

    def delete(self, pages: Sequence[str]) -> None:
        self._deleted.update(pages)

    @property
    def alive(self) -> int:
        return len(self._pages) - len(self._deleted)


def _timed_update(corpus_dir: str, index_dir: str, workers: int | None,
                  changed: Sequence[str] | None) -> tuple[float, object]:
    report = update_index([corpus_dir], index_dir, workers=workers, changed=changed)
    return report.seconds, report


def run_updates(corpus_dir: str, index_dir: str, pages: Sequence[str], workers: int | None,
                edit_sizes: Sequence[int], delete_size: int, repeats: int, seed: int,
                listed_sizes: Sequence[int] = ()) -> list[dict]:
    """One row per workload: edits of each size found by walking the corpus, then edits whose
    paths are given (``update --paths``, no walk), then deletions; the median of ``repeats`` runs
    each, every run on fresh pages. Sizes above half the corpus are skipped and say so."""
    picker = PagePicker(pages, seed)
    rows: list[dict] = []
    serial = 0
    workloads = ([("edit", n, False) for n in edit_sizes] + [("edit", n, True) for n in listed_sizes]
                 + [("delete", delete_size, False)])
    for action, size, listed in workloads:
        row: dict = {"action": action, "pages": size, "listed": listed, "runs": 0, "seconds": None,
                     "runs_seconds": []}
        if size > picker.alive // 2:
            row["skipped"] = f"corpus has only {picker.alive} pages"
            rows.append(row)
            continue
        detected = []
        for _ in range(repeats):
            chosen = picker.take(size)
            if action == "edit":
                for path in chosen:
                    serial += 1
                    edit_page(path, f"Benchmark revision {serial} notes a minor wording change.")
            else:
                for path in chosen:
                    os.unlink(path)
                picker.delete(chosen)
            seconds, report = _timed_update(corpus_dir, index_dir, workers, chosen if listed else None)
            row["runs_seconds"].append(seconds)
            detected.append(report.changed if action == "edit" else report.removed)
        row["runs"] = len(row["runs_seconds"])
        row["seconds"] = median(row["runs_seconds"])
        row["detected"] = detected  # pages update_index saw as changed / removed, per run
        rows.append(row)
    return rows
