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
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from procsearch.index.analysis import terms
from procsearch.index.schema import HEADER_FIELDS, HEADER_TERMS, RESCORE_FIELDS, decode_header_terms

from .postings import POSTINGS_CACHE_MAX, Postings, PostingsCache, new_postings
from .thesaurus import APPROACHES

K1 = 1.2
B = 0.75
CANDIDATES = 250  # pages re-scored with common terms
FALLBACK_SHARE = 60  # of the CANDIDATES, places kept for pages brought by common terms
FALLBACK_TERMS = 1  # common terms read in full for a concept that has no rare term (its least common)
CANDIDATE_DF_MAX = 0.25  # ...unless even its least common term is on more pages than this share
PHRASE_BOOST = 1.5
CODE_BOOST = 1000.0
SIMILAR_BOOST = 20.0
HEADER_COVER = 2.0  # final score *= 1 + HEADER_COVER * share of the best header field's words matched
COORD_BASE = 0.2  # final score = score * (COORD_BASE + share of query concepts matched)
PHRASE_SPREAD = 0.5  # an n-word alternative weighs weight / n ** PHRASE_SPREAD per word
# A query that names no approach ranks the open approach first among variants (score *= 1 +
# OPEN_PRIOR): an operation is open unless said otherwise, as ICD-9-CM and coders take it.
OPEN_PRIOR = 0.1
VARIANT_FACTOR = 0.9  # see _spread_variants
# Title words that tell variants of one procedure apart: the side and the approach.
VARIANT_TERMS = frozenset(t for text in (*APPROACHES, "approach", "right", "left", "bilateral")
                          for t in terms(text))


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
    # The concept of the typed word this one was derived from (an axis of its thesaurus entry, a
    # word part): a page with the typed word itself has what the derived concept asks for.
    parent: Concept | None = None


@dataclass
class Plan:
    """A free-text query reduced to what the scorer needs."""

    concepts: list[Concept] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    negatives: list[Concept] = field(default_factory=list)
    phrase: tuple[str, ...] = ()  # typed words' terms, for the header phrase bonus
    unsearched: frozenset[str] = frozenset()  # words a query never searches (of, and): not counted in a title
    names_approach: bool = False  # some word or expansion of the query is an approach


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
    """BM25F over one open Whoosh searcher; caches lengths per segment and recently read postings
    (an Engine lives as long as its index generation, so nothing cached outlives the data)."""

    def __init__(self, searcher, boosts: dict[str, float], common_df: int,
                 cache_postings: int = POSTINGS_CACHE_MAX) -> None:
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
        self._postings = PostingsCache(cache_postings)

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
        postings = self.postings(fieldname, term)
        if not out:  # 0.0 + x is x: the first term fills the dict in one go
            out.update(zip(postings.docs, [factor * tf / den for tf, den in zip(postings.tfs, postings.dens)]))
            return
        get = out.get
        for d, tf, den in zip(postings.docs, postings.tfs, postings.dens):
            out[d] = get(d, 0.0) + factor * tf / den

    def postings(self, fieldname: str, term: str) -> Postings:
        """A term's live postings in one field, from the cache or read from every segment."""
        key = (fieldname, term)
        found = self._postings.get(key)
        if found is None:
            found = self._read_postings(fieldname, term)
            self._postings.put(key, found)
        return found

    def _read_postings(self, fieldname: str, term: str) -> Postings:
        norms = self.norm_table(fieldname)
        tb = term.encode("utf-8")
        out = new_postings()
        for seg in self.segments:
            lengths = seg.lengths(fieldname)
            offset = seg.offset
            for ids, tfs in seg.blocks(fieldname, tb):
                if seg.deleted:
                    ids, tfs = _live(ids, tfs, seg.deleted)
                out.docs.fromlist([doc + offset for doc in ids])
                out.tfs.fromlist(list(tfs))
                out.dens.fromlist([tf + norms[lengths[doc]] for doc, tf in zip(ids, tfs)])
        return out

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

    def run(self, plan: Plan, allowed: set[int] | None, explain: bool,
            on_match: Callable[[dict[int, float]], None] | None = None) -> tuple[list[Scored], int]:
        """(scored candidates best first, number of pages matched); ``on_match`` is given every
        page the query matched before the code-system filter (for facet counts)."""
        rescore_fields = set(RESCORE_FIELDS)
        rare: list[list[dict[int, float]]] = []  # [concept][alt] -> page -> score of rare terms
        common: list[list[list[str]]] = []  # [concept][alt] -> common terms, scored on candidates only
        best_rare: list[dict[int, float]] = []  # [concept] -> page -> best alternative's rare score
        partial: dict[int, float] = {}
        for concept in plan.concepts:
            alt_scores, alt_common = [], []
            for alt in concept.alts:
                scores: dict[int, float] = {}
                per_term = alt.per_term
                deferred = []
                key = self.key_term(alt)
                for term in (alt.terms if key is None else (key,) + tuple(t for t in alt.terms if t != key)):
                    if self.df(term, alt.fields) > self.common_df and rescore_fields & set(alt.fields):
                        deferred.append(term)
                        continue
                    if key is None or term == key:
                        for f in alt.fields:
                            self.term_scores(term, f, per_term, scores)
                        continue
                    more: dict[int, float] = {}
                    for f in alt.fields:
                        self.term_scores(term, f, per_term, more)
                    for d, v in more.items():
                        if d in scores:
                            scores[d] += v
                alt_scores.append(scores)
                alt_common.append(deferred)
            rare.append(alt_scores)
            common.append(alt_common)
            best_rare.append(_best_of(alt_scores))
            _add_into(partial, best_rare[-1])
        code_scores: dict[int, float] = defaultdict(float)
        for code in plan.codes:
            docnum = self.searcher.document_number(code=code)
            if docnum is not None:
                code_scores[docnum] += CODE_BOOST
            listed: dict[int, float] = {}
            self._postings_any("similar_codes", code, listed)
            for d in listed:
                code_scores[d] += SIMILAR_BOOST
        _add_into(partial, code_scores)
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
            _add_into(partial, best)
            fallback.update(best)
        excluded: set[int] = set()
        for concept in plan.negatives:
            for alt in concept.alts:
                for term in alt.terms:
                    excluded |= self.docs_with(term, alt.fields)
        if excluded:
            partial = {d: s for d, s in partial.items() if d not in excluded}
        if on_match is not None:
            on_match(partial)
        if allowed is not None:
            partial = {d: s for d, s in partial.items() if d in allowed}
        if excluded or allowed is not None:
            fallback.intersection_update(partial)
        concepts = [self._concept_rescore(concept, rare[ci], common[ci], best_rare[ci])
                    for ci, concept in enumerate(plan.concepts)]
        rescorer = _Rescorer(self, plan, concepts, code_scores)
        ranked = sorted(((-rescorer.score(d), d) for d in _candidates(partial, fallback)))
        if VARIANT_FACTOR < 1.0:
            ranked = _spread_variants(ranked, rescorer.variants)
        return [Scored(d, -neg) for neg, d in ranked], len(partial)

    def key_term(self, alt: Alt) -> str | None:
        """The rarest word of a multi-word expansion, when it is not a common one: a page must
        contain it for the expansion to count ("lid margin" -> "upper eyelid" must not find "Upper
        Femur"). Words the user typed are left to BM25 as they are."""
        if len(alt.terms) < 2 or alt.weight >= 1.0:
            return None
        # Of equally rare words the last: English puts the head noun last ("lower eyelid").
        key = min(reversed(alt.terms), key=lambda t: self.df(t, alt.fields))
        return key if self.df(key, alt.fields) <= self.common_df else None

    def _concept_rescore(self, concept: Concept, rare: list[dict[int, float]], common: list[list[str]],
                         best_rare: dict[int, float]) -> _ConceptRescore:
        """A concept's alternatives with the BM25 factor of each common term in each header field."""
        alts = [(rare[ai], [((t, f), self.idf(f, t) * alt.per_term
                             * self.boosts.get(f, 1.0) * (K1 + 1))
                            for t in common[ai] for f in alt.fields if f in RESCORE_FIELDS],
                 self.key_term(alt) is not None)
                for ai, alt in enumerate(concept.alts)]
        keys = frozenset(key for _, pairs, _ in alts for key, _ in pairs)
        return _ConceptRescore(best_rare, alts, keys)

    def _postings_any(self, fieldname: str, term: str, out: dict[int, float]) -> None:
        tb = term.encode("utf-8")
        for seg in self.segments:
            for doc, tf in seg.postings(fieldname, tb):
                if not (seg.deleted and doc in seg.deleted):
                    out[doc + seg.offset] = out.get(doc + seg.offset, 0.0) + tf

    def _header_terms(self, docnum: int, fields: set[str]) -> dict[str, list[str]]:
        seg = self.segments[bisect.bisect_right(self._offsets, docnum) - 1]
        raw = seg.header(docnum - seg.offset)
        return decode_header_terms(raw, fields) if raw else {}

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


@dataclass(frozen=True)
class _ConceptRescore:
    """One concept on the candidates: its best rare score per page, and per alternative its rare
    scores, the factors of its common ((term, field), factor) pairs, and whether it counts only
    on pages with its key word (see Engine.key_term)."""

    best_rare: dict[int, float]
    alts: list[tuple[dict[int, float], list[tuple[tuple[str, str], float]], bool]]
    keys: frozenset[tuple[str, str]]


class _Rescorer:
    """Final scores of candidates: each concept's best alternative with its common terms counted in
    the page's stored header terms, code matches, the header phrase bonus, and the coverage factor."""

    def __init__(self, engine: Engine, plan: Plan, concepts: list[_ConceptRescore],
                 code_scores: dict[int, float]) -> None:
        self.engine = engine
        self.concepts = concepts
        index = {id(c): i for i, c in enumerate(plan.concepts)}
        # A derived concept a page lacks still counts as covered when the page has the typed word
        # it came from ("Colonoscopy, flexible" covers the inspection and large intestine of it).
        self.parents = [index.get(id(c.parent), -1) if c.parent is not None else -1 for c in plan.concepts]
        self.code_scores = code_scores
        self.n_codes = len(plan.codes)
        self.n_parts = len(plan.concepts) + len(plan.codes)
        self.phrase = plan.phrase if len(plan.phrase) >= 2 else ()
        self.wanted: dict[str, set[str]] = defaultdict(set)  # field -> common terms to count there
        for concept in concepts:
            for term, f in concept.keys:
                self.wanted[f].add(term)
        self.header_fields = set(self.wanted) | (set(HEADER_FIELDS) if self.phrase or HEADER_COVER else set())
        self.query_terms = frozenset(t for c in plan.concepts for a in c.alts for t in a.terms)
        self.unsearched = plan.unsearched
        self.open_prior = 0.0 if plan.names_approach else OPEN_PRIOR
        self.variants: dict[int, tuple[str, ...]] = {}  # page -> its title without side and approach
        self.avg = {f: engine.reader.field_length(f) / engine.n or 1.0 for f in self.wanted}
        self.phrase_bonus = [(f, PHRASE_BOOST * engine.boosts.get(f, 1.0)) for f in HEADER_FIELDS]

    def score(self, d: int) -> float:
        header = self.engine._header_terms(d, self.header_fields) if self.header_fields else {}
        found = self._common_counts(header)
        total, hits = 0.0, 0
        typed_hit: dict[int, bool] = {}
        for ci, concept in enumerate(self.concepts):
            best = _concept_best(concept, d, found)
            if best > 0:
                total += best
                hits += 1
            elif self.parents[ci] >= 0:
                p = self.parents[ci]
                if p not in typed_hit:
                    typed_hit[p] = _typed_score(self.concepts[p], d, found) > 0
                if typed_hit[p]:
                    hits += 1
        if self.code_scores.get(d):
            total += self.code_scores[d]
            hits += self.n_codes
        if self.phrase:
            for f, bonus in self.phrase_bonus:
                if f in header and _has_phrase(header[f], self.phrase):
                    total += bonus
                    break
        if self.open_prior and _has_phrase(header.get("title", ()), ("open", "approach"), 0):
            total *= 1 + self.open_prior
        self.variants[d] = tuple([t for t in header.get("title", ()) if t not in VARIANT_TERMS])
        coverage = min(1.0, hits / self.n_parts) if self.n_parts else 1.0
        named = _header_cover(header, self.query_terms, self.unsearched) if HEADER_COVER else 0.0
        return total * (COORD_BASE + coverage) * (1 + HEADER_COVER * named)

    def _common_counts(self, header: dict[str, list[str]]) -> dict[tuple[str, str], tuple[int, float]]:
        """(tf, tf + K1 * length norm) of each common query term present in each header field."""
        found = {}
        for f, terms in self.wanted.items():
            toks = header.get(f)
            present = terms.intersection(toks) if toks else ()
            if present:
                norm = K1 * ((1 - B) + B * len(toks) / self.avg[f])
                for term in present:
                    tf = toks.count(term)
                    found[(term, f)] = (tf, tf + norm)
        return found


def _concept_best(concept: _ConceptRescore, d: int, found: dict[tuple[str, str], tuple[int, float]]) -> float:
    """The concept's best alternative on page d; with none of its common terms there, the best rare score."""
    if not found or concept.keys.isdisjoint(found):
        return concept.best_rare.get(d, 0.0)
    best = 0.0
    for rare_scores, pairs, keyed in concept.alts:
        s = rare_scores.get(d, 0.0)
        if keyed and not s:
            continue
        for key, factor in pairs:
            hit = found.get(key)
            if hit:
                s += factor * hit[0] / hit[1]
        if s > best:
            best = s
    return best


def _typed_score(concept: _ConceptRescore, d: int, found: dict[tuple[str, str], tuple[int, float]]) -> float:
    """The score of a concept's first alternative (the words as typed) on page d."""
    rare_scores, pairs, _ = concept.alts[0]
    s = rare_scores.get(d, 0.0)
    for key, factor in pairs:
        hit = found.get(key)
        if hit:
            s += factor * hit[0] / hit[1]
    return s


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


def _candidates(partial: dict[int, float], fallback: set[int]) -> list[int]:
    """The CANDIDATES best pages, FALLBACK_SHARE of the places kept for pages that common terms
    brought: rare terms score in every header field, common ones here only in the title, so
    without the reserve a rare synonym's pages could fill every place."""
    chosen = _top(partial, CANDIDATES)
    if not fallback:
        return chosen
    rest_docs = list(fallback.difference(chosen))  # fallback holds only pages of partial
    rest = dict(zip(rest_docs, itemgetter(*rest_docs)(partial))) if len(rest_docs) > 1 else \
        {d: partial[d] for d in rest_docs}
    reserved = _top(rest, FALLBACK_SHARE)
    if not reserved:
        return chosen
    keep = _top({d: partial[d] for d in chosen}, CANDIDATES - len(reserved))
    return keep + reserved


def _spread_variants(ranked: list[tuple[float, int]], variants: dict[int, tuple[str, ...]]) -> list[tuple[float, int]]:
    """Each further variant of a procedure already listed (the other side, another approach)
    scores VARIANT_FACTOR times less than the one before it, so different procedures are not
    pushed off the first page by the variants of one. The best variant keeps its score.
    ``ranked`` holds (-score, docnum) pairs, best first."""
    seen: dict[tuple[str, ...], int] = {}
    out = []
    for neg, d in ranked:
        key = variants.get(d)
        if key:
            n = seen.get(key, 0)
            seen[key] = n + 1
            if n:
                neg *= VARIANT_FACTOR ** n
        out.append((neg, d))
    out.sort()
    return out


def _add_into(total: dict[int, float], scores: dict[int, float]) -> None:
    """total[d] += scores[d] for every page; an empty total takes the scores as they are (0.0 + s is s)."""
    if not total:
        total.update(scores)
        return
    get = total.get
    for d, s in scores.items():
        total[d] = get(d, 0.0) + s


def _top(scores: dict[int, float], n: int) -> list[int]:
    """The n pages of highest (score, docnum), as heapq.nlargest would pick them, comparing bare floats."""
    if len(scores) <= n:
        return list(scores)
    cut = heapq.nlargest(n, scores.values())[-1]
    chosen = [d for d, s in scores.items() if s >= cut]
    if len(chosen) == n:
        return chosen
    above = [d for d in chosen if scores[d] > cut]  # more pages tie at the cut than fit: largest docnums
    ties = sorted((d for d in chosen if scores[d] == cut), reverse=True)
    return above + ties[:n - len(above)]


def _live(ids, tfs, deleted: set[int]) -> tuple[list[int], list[float]]:
    """A block's postings without deleted pages."""
    live = [(doc, tf) for doc, tf in zip(ids, tfs) if doc not in deleted]
    return [doc for doc, _ in live], [tf for _, tf in live]


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


def _has_phrase(tokens: list[str], phrase: tuple[str, ...], slop: int = 2) -> bool:
    """Whether the phrase's terms appear in order with at most ``slop`` extra words between them."""
    first = phrase[0]
    if first not in tokens:  # most pages: one C-level scan
        return False
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
