"""Search: ranked, code-aware, highlighted results over a procsearch index.

    from procsearch.search import Searcher
    with Searcher.open() as s:
        for hit in s.search("spinal headache after epidural").hits:
            print(hit.code, hit.title)

Names are imported on first use, so the command line starts without loading Whoosh.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_LAZY = {
    "Expansion": ".compiler", "Hit": ".searcher", "Results": ".searcher", "Searcher": ".searcher",
    "Snippet": ".snippets",
}

__all__ = list(_LAZY)

if TYPE_CHECKING:
    from .compiler import Expansion
    from .searcher import Hit, Results, Searcher
    from .snippets import Snippet


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
