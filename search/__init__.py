"""Search: ranked, code-aware, highlighted results over a procsearch index.

    from search import Searcher
    with Searcher.open() as s:
        for hit in s.search("spinal headache after epidural").hits:
            print(hit.code, hit.title)
"""

from .compiler import Expansion
from .searcher import Hit, Results, Searcher
from .snippets import Snippet

__all__ = ["Expansion", "Hit", "Results", "Searcher", "Snippet"]
