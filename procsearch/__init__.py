"""procsearch: full-text search over medical procedure pages.

    import procsearch
    with procsearch.Searcher.open() as searcher:          # the bundled corpus
        for hit in searcher.search("spinal headache after epidural").hits:
            print(hit.code, hit.title)

The sub-packages follow the data: ``procsearch.ingest`` (pages -> records), ``procsearch.index``
(records -> a Whoosh index) and ``procsearch.search`` (index -> results, the CLI). Names are
imported on first use, so ``procsearch --version`` loads neither Whoosh nor the HTML parser.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

# In a source checkout the sub-packages are the repository's top-level folders (an install maps
# them into this package); a checkout is recognised by its pyproject.toml naming this project.
_ROOT = Path(__file__).resolve().parent.parent
if (_ROOT / "ingest" / "__init__.py").is_file() and (_ROOT / "pyproject.toml").is_file() \
        and str(_ROOT) not in __path__:
    __path__.append(str(_ROOT))

_LAZY = {
    "ProcsearchError": "procsearch.ingest.errors", "PageError": "procsearch.ingest.errors",
    "ProcedureRecord": "procsearch.ingest.record",
    "parse_page": "procsearch.ingest.page", "ingest_corpus": "procsearch.ingest.corpus",
    "build_index": "procsearch.index.writer", "update_index": "procsearch.index.update",
    "index_stats": "procsearch.index.stats",
    "Searcher": "procsearch.search.searcher", "Results": "procsearch.search.searcher",
    "Hit": "procsearch.search.searcher", "Snippet": "procsearch.search.snippets",
}

__all__ = ["__version__", *_LAZY]

if TYPE_CHECKING:
    from procsearch.index.stats import index_stats
    from procsearch.index.update import update_index
    from procsearch.index.writer import build_index
    from procsearch.ingest.corpus import ingest_corpus
    from procsearch.ingest.errors import PageError, ProcsearchError
    from procsearch.ingest.page import parse_page
    from procsearch.ingest.record import ProcedureRecord
    from procsearch.search.searcher import Hit, Results, Searcher
    from procsearch.search.snippets import Snippet


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
