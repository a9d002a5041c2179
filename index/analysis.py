"""Text analysis for medical pages and queries: one tokenizer shared by the index, queries and snippets.

Codes (62273, 0FT44ZZ, J1885, E11.9 -> e119) stay single unstemmed tokens; words are accent-folded
and stemmed; hyphenated words index both their parts and the joined form ("post-dural" -> post,
dural, postdural); nothing is dropped as a stop word ("with", "without", "no", "A" all matter).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from typing import NamedTuple

from whoosh.analysis import Token, Tokenizer
from whoosh.lang.porter import stem as porter_stem

from procsearch.ingest.codes import looks_like_code, normalize_code

WORD_RE = re.compile(r"[^\W_]+(?:[-.\u2010\u2011][^\W_]+)*", re.UNICODE)
_JOINERS = re.compile(r"[-.\u2010\u2011]")
# Words the Porter stemmer mangles into another medical word's stem; kept as written.
_NO_STEM = frozenset({"news", "bias", "gas", "lens", "pons", "os", "anus", "iris", "pelvis", "testis", "axis",
                      "penis", "uterus", "fetus", "sinus", "thorax", "ileus", "bronchus", "humerus"})


class Piece(NamedTuple):
    """One analysed token: its index term, position, and character span in the original text."""

    term: str
    pos: int
    start: int
    end: int


def fold(word: str) -> str:
    """Lower case without accents (naïve -> naive, Sjögren -> sjogren)."""
    word = word.lower()
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word)
    # Whole sections are folded for snippets: remove each distinct mark in one C pass rather
    # than test every character in Python.
    for ch in set(decomposed):
        if unicodedata.combining(ch):
            decomposed = decomposed.replace(ch, "")
    return decomposed


@lru_cache(maxsize=200_000)
def stem_word(word: str) -> str:
    """Stem of a folded word; codes and numbers are never stemmed."""
    if word in _NO_STEM or any(ch.isdigit() for ch in word):
        return word
    return porter_stem(word)


# Porter's steps keep a word's front and rewrite at most its last two letters: each step cuts a
# suffix and appends a replacement that differs from the cut letters in at most two places
# ("-biliti" -> "-ble"; "-ational" -> "-ate", "-y" -> "-i" in one), and a later step only cuts
# what an earlier one wrote. The first letter is never rewritten. So every word stemming to a
# term starts with the term less its last two letters (tests check it on millions of words).
STEM_REWRITES_AT_MOST = 2


def stem_prefix(term: str) -> str:
    """What every lower-case word whose stem_word() is ``term`` starts with: a test, without
    stemming, that a word cannot give the term (snippets skip most words of a page this way)."""
    return term[:max(1, len(term) - STEM_REWRITES_AT_MOST)]


@lru_cache(maxsize=200_000)
def _expand(raw: str) -> tuple[tuple[str, ...], str]:
    """(parts, joined) for one regex match: parts are stemmed terms at successive positions."""
    word = fold(raw)
    if not _JOINERS.search(word):
        if word.isalpha():
            return (stem_word(word),), ""
        if looks_like_code(word):
            return (normalize_code(word).code.lower(),), ""
        return (word,), ""
    joined = _JOINERS.sub("", word)
    if looks_like_code(word):
        return (normalize_code(word).code.lower(),), ""
    if "." in word and "-" not in word and not any(c.isalpha() for c in word):
        return (joined,), ""  # 1.5 -> 15 keeps decimals as one token
    parts = tuple(stem_word(p) for p in _JOINERS.split(word) if p)
    return parts, stem_word(joined) if len(parts) > 1 else ""


_WORD_TERMS: dict[str, tuple[str, ...]] = {}
_WORD_TERMS_MAX = 200_000


def word_terms(raw: str) -> tuple[str, ...]:
    """The index terms of one ``WORD_RE`` match in analyze()'s order (a joined form first); each
    spans the whole match, so this is all a highlighter needs."""
    found = _WORD_TERMS.get(raw)
    if found is None:
        parts, joined = _expand(raw)
        found = (joined, *parts) if joined else parts
        if len(_WORD_TERMS) >= _WORD_TERMS_MAX:
            _WORD_TERMS.clear()
        _WORD_TERMS[raw] = found
    return found


# The terms of the words word_terms() has already analysed, or None: a look-up without analysing.
analysed_word_terms = _WORD_TERMS.get


def analyze(text: str, stem: bool = True) -> Iterator[Piece]:
    """Tokens of ``text`` with positions and spans; the joined form of a hyphenated word shares its first position."""
    pos = 0
    for m in WORD_RE.finditer(text):
        raw = m.group()
        if stem:
            parts, joined = _expand(raw)
        else:
            word = fold(raw)
            parts, joined = tuple(p for p in _JOINERS.split(word) if p), ""
        if joined:
            yield Piece(joined, pos, m.start(), m.end())
        if len(parts) == 1:
            yield Piece(parts[0], pos, m.start(), m.end())
            pos += 1
            continue
        offset = m.start()
        for part in parts:
            yield Piece(part, pos, offset, m.end())
            pos += 1


_LETTERS3 = re.compile(r"(?<![^\W\d_])[^\W\d_]{3,}(?![^\W\d_])")


def term_list(text: str) -> list[str]:
    """The terms analyze() yields, without positions or spans: what a field without positions
    indexes, computed from cached per-word results (indexing analyses every word of a corpus)."""
    return [term for raw in WORD_RE.findall(text) for term in word_terms(raw)]


def term_positions(text: str) -> dict[str, list[int]]:
    """Each term's positions in analyze()'s numbering, in the order analyze() first yields them."""
    positions: dict[str, list[int]] = {}
    pos = 0
    for raw in WORD_RE.findall(text):
        parts, joined = _expand(raw)
        if joined:
            positions.setdefault(joined, []).append(pos)
        for part in parts:
            positions.setdefault(part, []).append(pos)
            pos += 1
    return positions


def recent_term_list(text: str) -> list[str]:
    """term_list() remembered for the last few texts: indexing analyses each header field twice
    (postings and the re-scoring column), and this keeps that to once."""
    found = _RECENT_TERMS.get(text)
    if found is None:
        if len(_RECENT_TERMS) >= 32:
            _RECENT_TERMS.clear()
        found = _RECENT_TERMS[text] = term_list(text)
    return found


_RECENT_TERMS: dict[str, list[str]] = {}


def surface_words(text: str) -> list[str]:
    """Folded, unstemmed words of 3+ letters: the spelling vocabulary a typo is corrected against."""
    text = text.lower()
    if not text.isascii():
        text = fold(text)
    return [w for w in _LETTERS3.findall(text) if w.isalpha()]


def terms(text: str) -> list[str]:
    """Index terms of a text, in order (what a query word becomes)."""
    return [p.term for p in analyze(text)]


class MedicalTokenizer(Tokenizer):
    """Whoosh adapter for :func:`analyze` (a whole analyzer in one step, so indexing stays fast)."""

    def __init__(self, stem: bool = True) -> None:
        self.stem = stem

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MedicalTokenizer) and other.stem == self.stem

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        for piece in analyze(value, stem=self.stem):
            token.text = piece.term
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[piece.start:piece.end]
            if positions:
                token.pos = start_pos + piece.pos
            if chars:
                token.startchar = start_char + piece.start
                token.endchar = start_char + piece.end
            yield token


def medical_analyzer() -> MedicalTokenizer:
    return MedicalTokenizer(stem=True)
