"""Term-at-a-time BM25F scoring straight off Whoosh's posting blocks.

Whoosh's matcher tree costs microseconds per document per query node; an expanded query of a
hundred term-field leaves then takes a second on 68,000 pages. This scorer reads each rare term's
postings a block at a time into a dict of scores, takes the best candidates, and adds the common
terms ("approach", "removal": on thousands of pages) only for those candidates, from the stored
header terms of each page. Queries with phrases or explicit boolean operators use Whoosh's own
matchers instead (see searcher.py).
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import defaultdict
from dataclasses import dataclass, field

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from index.schema import HEADER_FIELDS, HEADER_TERMS, RESCORE_FIELDS, decode_header_terms

K1 = 1.2
B = 0.75
CANDIDATES = 400  # pages re-scored with common terms
FALLBACK_SHARE = 100  # of the CANDIDATES, places kept for pages brought by common terms
FALLBACK_TERMS = 2  # common terms read in full for a concept that has no rare term
CANDIDATE_DF_MAX = 0.12  # ...unless even its least common term is on more pages than this share
PHRASE_BOOST = 1.5
CODE_BOOST = 1000.0
SIMILAR_BOOST = 20.0
HEADER_COVER = 2.0  # final score *= 1 + HEADER_COVER * share of the best header field's words matched
COORD_BASE = 0.2  # final score = score * (COORD_BASE + share of query concepts matched)


PHRASE_SPREAD = 0.5  # an n-word alternative weighs weight / n ** PHRASE_SPREAD per word


@dataclass(frozen=True)
class Alt:
    """One way of saying a concept: its index terms, weight against typed words, and fields."""

    terms: tuple[str, ...]
    weight: float
    fields: tuple[str, ...]

    @property
    def per_term(self) -> float:
        """Each word's share: a page with all n words scores more than one with a few, but a
        long alternative does not outweigh a typed word by its length alone."""
        return self.weight / len(self.terms) ** PHRASE_SPREAD


@dataclass
class Concept:
    alts: list[Alt]


@dataclass
class Plan:
    """A free-text query reduced to what the scorer needs."""

    concepts: list[Concept] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    negatives: list[Concept] = field(default_factory=list)
    phrase: tuple[str, ...] = ()  # typed words' terms, for the header phrase bonus
    unsearched: frozenset[str] = frozenset()  # words a query never searches (of, and): not counted in a title


@dataclass(frozen=True)
class Scored:
    docnum: int
    score: float


class _Segment:
    """One Whoosh segment reader with its global doc offset and lazily loaded field lengths."""

    def __init__(self, reader, offset: int) -> None:
        self.reader = reader
        self.offset = offset
        self.doc_count = reader.doc_count_all()
        self.deleted: set[int] | None = None
        if reader.has_deletions():
            self.deleted = {d for d in range(self.doc_count) if reader.is_deleted(d)}
        self._lengths: dict[str, bytes] = {}
        self._header = None

    def header(self, doc: int) -> bytes:
        if self._header is None:
            self._header = self.reader.column_reader(HEADER_TERMS, translate=False)
        return self._header[doc]

    def lengths(self, fieldname: str) -> bytes:
        raw = self._lengths.get(fieldname)
        if raw is None:
            col = self.reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            raw = col._dbfile.get(col._basepos, col._count) if col is not None and col._count else b""
            raw = raw + bytes(self.doc_count - len(raw))
            self._lengths[fieldname] = raw
        return raw

    def blocks(self, fieldname: str, term: bytes):
        """(local docnums, term frequencies) of a posting list, a whole Whoosh block at a time."""
        try:
            m = self.reader.postings(fieldname, term)
        except TermNotFound:
            return
        if hasattr(m, "_read_ids") and hasattr(m, "_next_block"):
            while not m._atend:
                m._read_ids()
                m._read_weights()
                yield m._ids, m._weights
                if m._lastblock:
                    break
                m._next_block()
        else:  # postings Whoosh keeps inline in the term dictionary
            ids, tfs = [], []
            while m.is_active():
                ids.append(m.id())
                tfs.append(m.weight())
                m.next()
            yield ids, tfs

    def postings(self, fieldname: str, term: bytes):
        """(local docnum, term frequency) pairs."""
        for ids, tfs in self.blocks(fieldname, term):
            yield from zip(ids, tfs)


class Engine:
    """BM25F over one open Whoosh searcher; cheap to create, caches lengths per segment."""

    def __init__(self, searcher, boosts: dict[str, float], common_df: int) -> None:
        self.searcher = searcher
        self.boosts = boosts
        self.common_df = common_df
        reader = searcher.reader()
        self.n = max(1, reader.doc_count_all())
        subs = getattr(searcher, "subsearchers", None) or [(searcher, 0)]
        self.segments = [_Segment(s.reader(), offset) for s, offset in subs]
        self._offsets = [seg.offset for seg in self.segments]
        self.reader = reader
        self._norms: dict[str, list[float]] = {}
        self._idf: dict[tuple[str, str], float] = {}
        self._df: dict[tuple[str, tuple[str, ...]], int] = {}

    # -- statistics -----------------------------------------------------------------------------

    def norm_table(self, fieldname: str) -> list[float]:
        """K1 * length normalisation for each of Whoosh's 256 length bytes."""
        table = self._norms.get(fieldname)
        if table is None:
            avg = self.reader.field_length(fieldname) / self.n or 1.0
            table = [K1 * ((1 - B) + B * byte_to_length(b) / avg) for b in range(256)]
            self._norms[fieldname] = table
        return table

    def idf(self, fieldname: str, term: str) -> float:
        key = (fieldname, term)
        value = self._idf.get(key)
        if value is None:
            df = self.reader.doc_frequency(fieldname, term)
            value = math.log(1 + (self.n - df + 0.5) / (df + 0.5)) if df else 0.0
            self._idf[key] = value
        return value

    def df(self, term: str, fields: tuple[str, ...]) -> int:
        """Pages with the term in the likeliest of the fields (cached per term and fields, so a
        section-scoped query does not change what later queries count as common)."""
        key = (term, fields)
        value = self._df.get(key)
        if value is None:
            value = max((self.reader.doc_frequency(f, term) for f in fields), default=0)
            self._df[key] = value
        return value

    # -- scoring --------------------------------------------------------------------------------

    def term_scores(self, term: str, fieldname: str, weight: float, out: dict[int, float]) -> None:
        """Add weight * BM25 of one term in one field to ``out`` for every page containing it."""
        idf = self.idf(fieldname, term)
        if not idf:
            return
        factor = idf * weight * self.boosts.get(fieldname, 1.0) * (K1 + 1)
        norms = self.norm_table(fieldname)
        tb = term.encode("utf-8")
        get = out.get
        for seg in self.segments:
            lengths = seg.lengths(fieldname)
            offset = seg.offset
            deleted = seg.deleted
            for ids, tfs in seg.blocks(fieldname, tb):
                for doc, tf in zip(ids, tfs):
                    if deleted and doc in deleted:
                        continue
                    d = doc + offset
                    out[d] = get(d, 0.0) + factor * tf / (tf + norms[lengths[doc]])

    def docs_in_systems(self, systems: list[str]) -> set[int]:
        """Pages of the given code systems (for --system filters)."""
        docs: dict[int, float] = {}
        for system in systems:
            self._postings_any("code_system", system, docs)
        return set(docs)

    def docs_with(self, term: str, fields: tuple[str, ...]) -> set[int]:
        docs: dict[int, float] = {}
        for f in fields:
            self.term_scores(term, f, 1.0, docs)
        return set(docs)

    def run(self, plan: Plan, allowed: set[int] | None, explain: bool) -> tuple[list[Scored], int]:
        """(scored candidates best first, number of pages matched)."""
        rescore_fields = set(RESCORE_FIELDS)
        rare: list[list[dict[int, float]]] = []  # [concept][alt] -> page -> score of rare terms
        common: list[list[list[str]]] = []  # [concept][alt] -> common terms, scored on candidates only
        partial: dict[int, float] = defaultdict(float)
        for concept in plan.concepts:
            alt_scores, alt_common = [], []
            for alt in concept.alts:
                scores: dict[int, float] = {}
                per_term = alt.per_term
                deferred = []
                for term in alt.terms:
                    if self.df(term, alt.fields) > self.common_df and rescore_fields & set(alt.fields):
                        deferred.append(term)
                        continue
                    for f in alt.fields:
                        self.term_scores(term, f, per_term, scores)
                alt_scores.append(scores)
                alt_common.append(deferred)
            rare.append(alt_scores)
            common.append(alt_common)
            for d, s in _best_of(alt_scores).items():
                partial[d] += s
        code_scores: dict[int, float] = defaultdict(float)
        for code in plan.codes:
            docnum = self.searcher.document_number(code=code)
            if docnum is not None:
                code_scores[docnum] += CODE_BOOST
            listed: dict[int, float] = {}
            self._postings_any("similar_codes", code, listed)
            for d in listed:
                code_scores[d] += SIMILAR_BOOST
        for d, s in code_scores.items():
            partial[d] += s
        deferred_terms = [t for alts in common for terms in alts for t in terms]
        # A concept said only in common words ("vein", "excision") still has to bring candidates:
        # its least common term, read in the title only, adds to the candidate scores (final
        # scores below come from every header field). So does a common alternative that outweighs
        # the concept's rare ones: typed "excision" must not leave the candidates to its rarer
        # synonym "resection".
        fallback: set[int] = set()  # pages brought by common terms: some of them are always re-scored
        only_common = not partial  # nothing rare anywhere ("drainage"): the common terms must do
        for ci, alts in enumerate(common):
            concept = plan.concepts[ci]
            rare_weight = max((a.weight for a, r in zip(concept.alts, rare[ci]) if r), default=0.0)
            chosen = [(a, ts) for a, ts, r in zip(concept.alts, alts, rare[ci]) if not r and a.weight > rare_weight]
            weights = {t: alt.weight for alt, ts in chosen for t in ts}
            dfs = {t: self.df(t, ("title",)) for t in weights}
            ranked = sorted(weights, key=dfs.__getitem__)
            if not ranked or (dfs[ranked[0]] > self.n * CANDIDATE_DF_MAX and not only_common):
                continue
            best: dict[int, float] = {}
            for term in ranked[:FALLBACK_TERMS]:
                one: dict[int, float] = {}
                self.term_scores(term, "title", weights[term], one)
                for d, v in one.items():
                    if v > best.get(d, 0.0):
                        best[d] = v
            for d, v in best.items():
                partial[d] += v
            fallback.update(best)
        excluded: set[int] = set()
        for concept in plan.negatives:
            for alt in concept.alts:
                for term in alt.terms:
                    excluded |= self.docs_with(term, alt.fields)
        pool = [(s, d) for d, s in partial.items() if d not in excluded and (allowed is None or d in allowed)]
        candidates = heapq.nlargest(CANDIDATES, pool)
        if fallback:
            # Rare terms score in every header field, common ones here only in the title: without
            # a reserved share, a rare synonym's pages could fill every place.
            chosen = {d for _, d in candidates}
            reserved = heapq.nlargest(FALLBACK_SHARE, ((s, d) for s, d in pool if d in fallback and d not in chosen))
            candidates = candidates[:CANDIDATES - len(reserved)] + reserved
        n_parts = len(plan.concepts) + len(plan.codes)
        needs_header = bool(deferred_terms) or len(plan.phrase) >= 2 or HEADER_COVER > 0
        query_terms = frozenset(t for c in plan.concepts for a in c.alts for t in a.terms)
        # Per concept and alternative: its rare scores, and its common (term, field, factor) triples.
        rescoring = [[(rare[ci][ai], [(t, f, self.idf(f, t) * alt.per_term
                                       * self.boosts.get(f, 1.0) * (K1 + 1))
                                      for t in common[ci][ai] for f in alt.fields if f in rescore_fields])
                      for ai, alt in enumerate(concept.alts)]
                     for ci, concept in enumerate(plan.concepts)]
        avg = {f: self.reader.field_length(f) / self.n or 1.0 for f in rescore_fields}
        phrase_bonus = [(f, PHRASE_BOOST * self.boosts.get(f, 1.0)) for f in HEADER_FIELDS]
        results = []
        for _, d in candidates:
            header = self._header_terms(d) if needs_header else {}
            norms = {f: K1 * ((1 - B) + B * len(toks) / avg[f]) for f, toks in header.items()}
            total, hits = 0.0, 0
            for alts in rescoring:
                best = 0.0
                for rare_scores, triples in alts:
                    s = rare_scores.get(d, 0.0)
                    for term, f, factor in triples:
                        toks = header.get(f)
                        if toks:
                            tf = toks.count(term)
                            if tf:
                                s += factor * tf / (tf + norms[f])
                    if s > best:
                        best = s
                if best > 0:
                    total += best
                    hits += 1
            if code_scores.get(d):
                total += code_scores[d]
                hits += len(plan.codes)
            if len(plan.phrase) >= 2:
                for f, bonus in phrase_bonus:
                    if f in header and _has_phrase(header[f], plan.phrase):
                        total += bonus
                        break
            coverage = min(1.0, hits / n_parts) if n_parts else 1.0
            named = _header_cover(header, query_terms, plan.unsearched)
            results.append(Scored(d, total * (COORD_BASE + coverage) * (1 + HEADER_COVER * named)))
        results.sort(key=lambda r: (-r.score, r.docnum))
        return results, len(pool)

    def _postings_any(self, fieldname: str, term: str, out: dict[int, float]) -> None:
        tb = term.encode("utf-8")
        for seg in self.segments:
            for doc, tf in seg.postings(fieldname, tb):
                if not (seg.deleted and doc in seg.deleted):
                    out[doc + seg.offset] = out.get(doc + seg.offset, 0.0) + tf

    def _header_terms(self, docnum: int) -> dict[str, list[str]]:
        seg = self.segments[bisect.bisect_right(self._offsets, docnum) - 1]
        raw = seg.header(docnum - seg.offset)
        return decode_header_terms(raw) if raw else {}

    def explain(self, plan: Plan, docnums: list[int]) -> dict[int, dict[str, float]]:
        """Per-field BM25 of every query term on the given pages (before concept max and coverage)."""
        out: dict[int, dict[str, float]] = {d: defaultdict(float) for d in docnums}
        terms = {(t, f, alt.per_term)
                 for c in plan.concepts for alt in c.alts for t in alt.terms for f in alt.fields}
        for term, f, w in terms:
            scores: dict[int, float] = {}
            self.term_scores(term, f, w, scores)
            for d in docnums:
                if scores.get(d):
                    out[d][f] += scores[d]
        return {d: dict(v) for d, v in out.items()}


def _best_of(alt_scores: list[dict[int, float]]) -> dict[int, float]:
    """Per page, the best alternative's score: a concept counts once however it was said."""
    if len(alt_scores) == 1:
        return alt_scores[0]
    best: dict[int, float] = {}
    for scores in alt_scores:
        for d, s in scores.items():
            if s > best.get(d, 0.0):
                best[d] = s
    return best


def _header_cover(header: dict[str, list[str]], query_terms: frozenset[str], skip: frozenset[str]) -> float:
    """The largest share of a header field's words that the query names. Of two pages matching the
    same words, the one whose title says little else is the closer match ("Excision of Skull"
    rather than "Excision of Skull, Diagnostic"; a short CPT name rather than a long descriptor)."""
    best = 0.0
    for f in HEADER_FIELDS:
        words = [t for t in header.get(f, ()) if t not in skip]
        if words:
            best = max(best, sum(1 for t in words if t in query_terms) / len(words))
    return best


def _has_phrase(tokens: list[str], phrase: tuple[str, ...], slop: int = 2) -> bool:
    """Whether the phrase's terms appear in order with at most ``slop`` extra words between them."""
    first = phrase[0]
    for i, tok in enumerate(tokens):
        if tok != first:
            continue
        pos, ok = i, True
        for term in phrase[1:]:
            window = tokens[pos + 1: pos + 2 + slop]
            if term not in window:
                ok = False
                break
            pos = pos + 1 + window.index(term)
        if ok:
            return True
    return False
