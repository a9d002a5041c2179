"""Completions of what a user is typing: a code prefix, the start of a title, the last word.

Built once per index generation from what the index already holds, so each completion is a few
binary searches: the code field's term list (kept sorted by Whoosh), the analysed title terms
of every page (the ranking's header column, read once), and the spelling vocabulary's surface
words with their counts. Surface titles are read only for the few pages returned.
"""

from __future__ import annotations

import bisect
import heapq
import json
import os
import threading
from dataclasses import dataclass

from procsearch.index.analysis import fold, stem_word, terms
from procsearch.index.schema import RecordReader, decode_header_terms
from procsearch.ingest.codes import normalize_code

MAX_SCAN = 5_000  # entries of a word prefix's range looked at to pick the most frequent few (short prefixes)
MIN_TITLE_CHARS = 2  # a title completion needs this much typed


@dataclass(frozen=True)
class Completion:
    """One completion: ``text`` is what the search box holds once it is chosen; ``code`` and
    ``title`` name the page of a code or title completion."""

    kind: str  # "code" | "title" | "word"
    text: str
    code: str = ""
    title: str = ""


class Completer:
    """Completions over one index generation. It reads through a Whoosh reader of its own, under a
    lock of its own, so completions never wait for a search running in another thread."""

    def __init__(self, engine, vocab: dict[str, int], reader) -> None:
        self.reader = reader
        self._records = RecordReader(reader)
        self._lock = threading.Lock()
        # Per title length in words, the sorted (analysed title terms joined by spaces, docnum)
        # pairs: the shortest titles with a prefix are found by a few binary searches, however
        # many titles share it.
        by_length: dict[int, list[tuple[str, int]]] = {}
        for key, docnum in _title_keys(engine):
            by_length.setdefault(key.count(" "), []).append((key, docnum))
        self._titles = [(spaces, pairs, [key for key, _ in pairs]) for spaces, pairs in sorted(by_length.items())]
        self._pages: dict[int, tuple[str, str]] = {}  # docnum -> (code, title), at most one per page
        words = sorted((w, n) for w, n in vocab.items() if n > 0)
        self._words = [w for w, _ in words]
        self._counts = [n for _, n in words]

    def complete(self, text: str, limit: int = 8) -> list[Completion]:
        """Codes first when the last word has a digit, then titles, then words; no duplicates."""
        with self._lock:
            return self._complete(text, limit)

    def close(self) -> None:
        with self._lock:
            self.reader.close()

    def _complete(self, text: str, limit: int) -> list[Completion]:
        text = text.lstrip()
        if not text.strip() or limit <= 0:
            return []
        head, _, last = text.rpartition(" ")
        ended = text.endswith(" ")
        out: list[Completion] = []
        if not ended and any(ch.isdigit() for ch in last):
            out += self.codes(last, limit)
        out += self.titles(text, limit - len(out))
        if not ended:
            out += self.words(head, last, limit - len(out))
        seen, unique = set(), []
        for c in out:
            key = (c.kind, c.text.lower())
            if key not in seen:
                seen.add(key)
                unique.append(c)
        return unique[:limit]

    def codes(self, prefix: str, limit: int) -> list[Completion]:
        """Indexed codes starting with the typed code prefix, in code order."""
        wanted = normalize_code(prefix).code
        if not wanted or limit <= 0:
            return []
        out = []
        for term in self.reader.expand_prefix("code", wanted):
            code = term.decode("utf-8") if isinstance(term, bytes) else term
            title = self._title_of(self._live_doc(code))
            if title is None:  # deleted page
                continue
            out.append(Completion("code", code, code, title))
            if len(out) >= limit:
                break
        return out

    def titles(self, text: str, limit: int) -> list[Completion]:
        """Titles that begin with the typed words (compared as index terms, so "Epidural bl"
        finds "Epidural Blood Patch"), shortest titles first."""
        if limit <= 0 or len(text.strip()) < MIN_TITLE_CHARS:
            return []
        ended = text.endswith(" ")
        words = text.split()
        full = [t for w in (words if ended else words[:-1]) for t in terms(w)]
        partial = "" if ended else _partial_key(words[-1])
        if not ended and not partial:
            return []
        prefix = " ".join(full + [partial]) if partial else " ".join(full) + " "
        best: list[tuple[str, int]] = []
        typed = prefix.count(" ")
        for spaces, pairs, keys in self._titles:  # shortest first; alphabetical within a length
            if spaces < typed:  # fewer words than typed
                continue
            lo = bisect.bisect_left(keys, prefix)
            hi = bisect.bisect_left(keys, prefix + "\uffff", lo, min(len(keys), lo + limit * 3 - len(best)))
            best += pairs[lo:hi]
            if len(best) >= limit * 3:
                break
        out, seen = [], set()
        for _, docnum in best:
            page = self._page(docnum)
            if page is None or page[1].lower() in seen:
                continue
            code, title = page
            seen.add(title.lower())
            out.append(Completion("title", title, code, title))
            if len(out) >= limit:
                break
        return out

    def words(self, head: str, last: str, limit: int) -> list[Completion]:
        """Words of the pages beginning with the last typed word, most frequent first."""
        partial = fold(last.strip("\"'()[]{}.,;:!?*-+"))
        if limit <= 0 or len(partial) < 2 or not partial.isalpha():
            return []
        lo = bisect.bisect_left(self._words, partial)
        hi = bisect.bisect_left(self._words, partial + "\uffff", lo, min(len(self._words), lo + MAX_SCAN))
        best = heapq.nlargest(limit * 3, range(lo, hi), key=self._counts.__getitem__)
        lead = (head + " ") if head else ""
        out, stems = [], {stem_word(partial)}
        for i in best:  # one form of each word: "replacement", not also "replaces", "replacing"
            stem = stem_word(self._words[i])
            if stem not in stems:
                stems.add(stem)
                out.append(Completion("word", lead + self._words[i]))
        return out[:limit]

    def _live_doc(self, code: str) -> int | None:
        """The page of a code, unless it was deleted (a code term can outlive its page)."""
        try:
            postings = self.reader.postings("code", code)
        except Exception:  # TermNotFound
            return None
        while postings.is_active():
            if not self.reader.is_deleted(postings.id()):
                return postings.id()
            postings.next()
        return None

    def _page(self, docnum: int | None) -> tuple[str, str] | None:
        """(code, title) of a page, read from its stored record once per generation: short
        prefixes bring the same pages back keystroke after keystroke."""
        if docnum is None:
            return None
        found = self._pages.get(docnum)
        if found is None:
            text = self._records.json(docnum)
            if not text:
                return None
            record = json.loads(text)
            found = self._pages[docnum] = (record["code"], record["title"])
        return found

    def _title_of(self, docnum: int | None) -> str | None:
        page = self._page(docnum)
        return None if page is None else page[1]


def _partial_key(word: str) -> str:
    """A half-typed word as the start of an index term: its stem when the stem keeps the typed
    letters ("epidural" -> "epidur"), else as much of the word as the stem keeps ("happy" -> "happ")."""
    folded = fold(word)
    if not folded.isalnum():
        parts = terms(word)
        return parts[-1] if parts else ""
    if any(ch.isdigit() for ch in folded):
        return folded
    return os.path.commonprefix([folded, stem_word(folded)])


def _title_keys(engine) -> list[tuple[str, int]]:
    """(analysed title terms, docnum) of every live page, sorted, from the ranking's header column."""
    keys = []
    for seg in engine.segments:
        deleted = seg.deleted or ()
        for doc in range(seg.doc_count):
            if doc in deleted:
                continue
            raw = seg.header(doc)
            title = decode_header_terms(raw, ("title",)).get("title") if raw else None
            if title:
                keys.append((" ".join(title), seg.offset + doc))
    keys.sort()
    return keys
