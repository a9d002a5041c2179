"""Shared setup for the search tests: the bundled corpus indexed once per session, and small corpora.

Import the fixtures into a test module (``from search_fixtures import bundled_index, searcher``).
The index is built once per test session whichever modules import it (a module-level cache,
since pytest registers an imported fixture once per module).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from procsearch.corpus import corpus_dir
from procsearch.index import build_index
from procsearch.search.searcher import Searcher

CORPUS = Path(corpus_dir())
_CACHE: dict[str, object] = {}


def bundled_page(code: str) -> Path:
    """Path of one bundled page by its code (pages-a or pages-b, .html or .txt)."""
    for sub in ("pages-a", "pages-b"):
        for ext in (".html", ".txt"):
            path = CORPUS / sub / f"{code}{ext}"
            if path.exists():
                return path
    raise FileNotFoundError(code)


def copy_pages(codes: list[str], dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for code in codes:
        src = bundled_page(code)
        shutil.copyfile(src, dest / src.name)
    return dest


def write_page(dest: Path, code: str, title: str, name: str = "", sections: dict[str, str] | None = None,
               similar: list[tuple[str, str]] | None = None, system_line: str = "CPT4 code",
               filename: str | None = None) -> Path:
    """A procedure page in the plain-text dump format of the bundled corpus."""
    dest.mkdir(parents=True, exist_ok=True)
    lines = ["Search all medical codes", "", title, "", system_line, ""]
    if name:
        lines += ["Name of the Procedure:", "", name, f"Technical Term: {title}", ""]
    for label, text in (sections or {"Summary": title}).items():
        lines += [label, "", text, ""]
    if similar:
        lines += ["Similar Codes", ""] + [f"{c} - {label}" for c, label in similar] + [""]
    path = dest / (filename or f"{code}.txt")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def build(corpus: Path, index_dir: Path) -> str:
    build_index([str(corpus)], str(index_dir), workers=1)
    return str(index_dir)


@pytest.fixture(scope="session")
def bundled_index(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The bundled corpus (72 pages) indexed once into a temp dir."""
    if "index" not in _CACHE:
        target = tmp_path_factory.mktemp("bundled-index") / "ix"
        build_index([str(CORPUS)], str(target), workers=1)
        _CACHE["index"] = str(target)
    return _CACHE["index"]  # type: ignore[return-value]


@pytest.fixture(scope="session")
def searcher(bundled_index: str):
    """One Searcher on the bundled index shared by every search test (it is thread-safe and read-only)."""
    if "searcher" not in _CACHE:
        _CACHE["searcher"] = Searcher.open(bundled_index)
    yield _CACHE["searcher"]


def codes(results) -> list[str]:
    return [h.code for h in results.hits]
