"""Term-at-a-time BM25F scoring straight off Whoosh's posting blocks.

Whoosh's matcher tree costs microseconds per document per query node; an expanded query of a
hundred term-field leaves then takes a second on 68,000 pages. This scorer reads each rare term's
postings a block at a time into numpy arrays, adds them into an array of page scores in one
vectorised step (no Python loop per posting), takes the best candidates, and adds the common
terms ("approach", "removal": on thousands of pages) only for those candidates, from the stored
header terms of each page. Every query is ranked here: for phrases, boolean operators and scopes,
Whoosh's matchers only decide which pages match (the ``allowed`` set), and this scorer ranks them.

``Engine.run`` is a pipeline of named stages over typed records: candidates (rare terms, codes,
common-term fallback), filtering, re-scoring (common terms, coverage, priors: search/rescoring.py,
all candidates at once over their header terms from search/headers.py) and diversification
(variants of one procedure). Every constant comes from the frozen RankingConfig (index/boosts.toml).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from procsearch.index.analysis import terms
from procsearch.index.blocks import posting_blocks, term_positions
from procsearch.index.boosts import RankingConfig
from procsearch.index.terms import TermTable
from procsearch.index.schema import HEADER_TERMS, RESCORE_FIELDS

from .headers import HEADER_CACHE_BYTES, HeaderStore
from .postings import EMPTY_POSTINGS, POSTINGS_CACHE_MAX, Postings, PostingsCache
from .rescoring import ConceptRescore, Rescorer

FIELD_DF_CACHE_MAX = 500_000  # (field, term) document frequencies kept (about 100 bytes each)


@dataclass(frozen=True)
class Alt:
    """One way of saying a concept: its index terms, weight against typed words, and fields;
    ``text`` is how the user (or the thesaurus) wrote it, for explanations."""

    terms: tuple[str, ...]
    weight: float
    fields: tuple[str, ...]
    text: str = ""

    def per_term(self, spread: float) -> float:
        """Each word's share: a page with all n words scores more than one with a few, but a
        long alternative does not outweigh a typed word by its length alone."""
        return self.weight / len(self.terms) ** spread

    def word_of(self, term: str) -> str:
        """The written word an index term came from ("colonoscopi" -> "colonoscopy")."""
        for word in self.text.split():
            if term in terms(word):
                return word.strip("\"'(),;.")
        return term


@dataclass
class Concept:
    """One query idea: the typed word and its expansions, counted once however many match."""

    alts: list[Alt]
    # The concept of the typed word this one was derived from (an axis of its thesaurus entry, a
    # word part): a page with the typed word itself has what the derived concept asks for.
    parent: Concept | None = None


@dataclass
class Plan:
    """A query reduced to what the scorer needs."""

    concepts: list[Concept] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    negatives: list[Concept] = field(default_factory=list)
    phrase: tuple[str, ...] = ()  # typed words' terms, for the header phrase bonus
    phrase_text: str = ""  # the same words as typed, for explanations
    unsearched: frozenset[str] = frozenset()  # words a query never searches (of, and): not counted in a title
    names_approach: bool = False  # some word or expansion of the query is an approach


@dataclass(frozen=True)
class Scored:
    """A candidate page and its score, before the hit is built."""

    docnum: int
    score: float


@dataclass(frozen=True)
class Contribution:
    """One word's share of a page's score in one field (after the page's multipliers)."""

    word: str
    field: str
    score: float


@dataclass(frozen=True)
class ConceptMatch:
    """A concept after the candidate stage: per alternative, the scores of its rare terms per page
    (None: no page) and the common terms left for re-scoring; and the best alternative's rare
    score per page."""

    rare: tuple[np.ndarray | None, ...]
    common: tuple[tuple[str, ...], ...]
    best: np.ndarray | None


def bm25_idf(n: int, df: int) -> float:
    """BM25's inverse document frequency of a term on ``df`` of ``n`` pages (never negative)."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


@dataclass(frozen=True)
class Candidates:
    """What the candidate stages found: a first score per page, which pages matched, the pages
    only common terms brought (some places are kept for them; None: none), and code scores."""

    partial: np.ndarray
    matched: np.ndarray  # bool per page
    fallback: np.ndarray | None  # bool per page, within ``matched``
    codes: dict[int, float]


class _Segment:
    """One Whoosh segment reader with its global doc offset and lazily loaded field lengths."""

    def __init__(self, reader, offset: int) -> None:
        self.reader = reader
        self.offset = offset
        self.doc_count = reader.doc_count_all()
        self.terms = TermTable.of(reader)  # None: look terms up through Whoosh
        self.deleted: set[int] | None = None
        self.live: np.ndarray | None = None  # bool per page when some are deleted
        if reader.has_deletions():
            self.deleted = {d for d in range(self.doc_count) if reader.is_deleted(d)}
            self.live = np.ones(self.doc_count, dtype=bool)
            self.live[list(self.deleted)] = False
        self._lengths: dict[str, np.ndarray] = {}
        self._header = None

    def header(self, doc: int) -> bytes:
        if self._header is None:
            self._header = self.reader.column_reader(HEADER_TERMS, translate=False)
        return self._header[doc]

    def lengths(self, fieldname: str) -> np.ndarray:
        """Whoosh's length byte of the field for every page of the segment."""
        found = self._lengths.get(fieldname)
        if found is None:
            col = self.reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            raw = col._dbfile.get(col._basepos, col._count) if col is not None and col._count else b""
            raw = raw + bytes(self.doc_count - len(raw))
            found = np.frombuffer(raw, dtype=np.uint8)
            self._lengths[fieldname] = found
        return found

    def blocks(self, fieldname: str, term: bytes):
        """(local docnums, term frequencies) of a posting list, a whole block at a time, deleted
        pages included (callers skip ``deleted``)."""
        direct = posting_blocks(self.reader, fieldname, term, self.terms)
        if direct is not None:
            yield from direct
            return
        try:
            m = self.reader.postings(fieldname, term)
        except TermNotFound:
            return
        ids, tfs = [], []
        while m.is_active():
            ids.append(m.id())
            tfs.append(m.weight())
            m.next()
        yield np.asarray(ids, dtype=np.int64), np.asarray(tfs, dtype=np.float64)

    def postings(self, fieldname: str, term: bytes):
        """(local docnum, term frequency) pairs."""
        for ids, tfs in self.blocks(fieldname, term):
            yield from zip(ids.tolist(), tfs.tolist())


class Engine:
    """BM25F over one open Whoosh searcher; caches lengths per segment and recently read postings
    (an Engine lives as long as its index generation, so nothing cached outlives the data)."""

    def __init__(self, searcher, config: RankingConfig, cache_postings: int = POSTINGS_CACHE_MAX,
                 cache_headers: int = HEADER_CACHE_BYTES) -> None:
        self.searcher = searcher
        self.config = config
        self.boosts = config.fields
        reader = searcher.reader()
        self.n = max(1, reader.doc_count_all())
        self.common_df = config.common_df(self.n)
        subs = getattr(searcher, "subsearchers", None) or [(searcher, 0)]
        self.segments = [_Segment(s.reader(), offset) for s, offset in subs]
        self._offsets = [seg.offset for seg in self.segments]
        tables = [seg.terms for seg in self.segments]
        self._tables = tables if all(t is not None for t in tables) else None  # else Whoosh's look-ups
        self.reader = reader
        self._norms: dict[str, np.ndarray] = {}
        self._field_df: dict[tuple[str, str], int] = {}
        self._idf: dict[tuple[str, str], float] = {}
        self._df: dict[tuple[str, tuple[str, ...]], int] = {}
        self._postings = PostingsCache(cache_postings)
        self.headers = HeaderStore(self.segments, self.n, cache_headers)

    # -- statistics -----------------------------------------------------------------------------

    def norm_table(self, fieldname: str) -> np.ndarray:
        """K1 * length normalisation for each of Whoosh's 256 length bytes."""
        table = self._norms.get(fieldname)
        if table is None:
            k1, b = self.config.k1, self.config.b
            avg = self.reader.field_length(fieldname) / self.n or 1.0
            table = np.array([k1 * ((1 - b) + b * byte_to_length(x) / avg) for x in range(256)])
            self._norms[fieldname] = table
        return table

    def field_df(self, fieldname: str, term: str) -> int:
        """Pages with the term in the field, cached: every query looks terms up in many fields,
        and each look-up costs a hash probe in every segment."""
        key = (fieldname, term)
        value = self._field_df.get(key)
        if value is None:
            if len(self._field_df) >= FIELD_DF_CACHE_MAX:  # words users type are unbounded
                self._field_df.clear()
            value = self._field_df[key] = self._read_df(fieldname, term)
        return value

    def _read_df(self, fieldname: str, term: str) -> int:
        if self._tables:
            tb = term.encode("utf-8")
            return sum(table.doc_frequency(fieldname, tb) for table in self._tables)
        return self.reader.doc_frequency(fieldname, term)

    def idf(self, fieldname: str, term: str) -> float:
        key = (fieldname, term)
        value = self._idf.get(key)
        if value is None:
            df = self.field_df(fieldname, term)
            value = bm25_idf(self.n, df) if df else 0.0
            self._idf[key] = value
        return value

    def page_idf(self, term: str) -> float:
        """IDF of a term over whole pages (its df in the field where it is most frequent)."""
        key = ("", term)
        value = self._idf.get(key)
        if value is None:
            df = self.df(term, self.config.page_df_fields)
            value = bm25_idf(self.n, df) if df else 0.0
            self._idf[key] = value
        return value

    def rarity(self, term: str, fields: tuple[str, ...]) -> float:
        """IDF of a term over the pages holding it in the likeliest of the fields it was searched
        in (all looked up by the ranking already): how much a highlighted word says, for snippets."""
        df = self.df(term, fields)
        return bm25_idf(self.n, df)

    def df(self, term: str, fields: tuple[str, ...]) -> int:
        """Pages with the term in the likeliest of the fields (cached per term and fields, so a
        section-scoped query does not change what later queries count as common)."""
        key = (term, fields)
        value = self._df.get(key)
        if value is None:
            value = max((self.field_df(f, term) for f in fields), default=0)
            self._df[key] = value
        return value

    def factor(self, term: str, fieldname: str, weight: float) -> float:
        """weight * idf * field boost * (K1 + 1): BM25 of one term in one field is factor * tf / den.
        The IDF blends the term's rarity in the field with its rarity over whole pages
        (``idf_page_share``): a word most pages use ("surgery", "pain") weighs little even where
        few pages have it in that field, while a body part rare in titles keeps its weight there."""
        share = self.config.idf_page_share
        idf = self.idf(fieldname, term) * (1 - share) + self.page_idf(term) * share if share else \
            self.idf(fieldname, term)
        return idf * weight * self.boosts.get(fieldname, 1.0) * (self.config.k1 + 1)

    # -- scoring --------------------------------------------------------------------------------

    def term_scores(self, term: str, fieldname: str, weight: float, out: np.ndarray | None) -> np.ndarray | None:
        """``out`` plus weight * BM25 of one term in one field on every page containing it (a new
        array when ``out`` is None and some page has the term; None when none has it)."""
        factor = self.factor(term, fieldname, weight)
        if not factor:
            return out
        postings = self.postings(fieldname, term)
        if not len(postings):
            return out
        if out is None:
            out = np.zeros(self.n)
        out[postings.docs] += factor * postings.ratios  # doc numbers are unique within a list
        return out

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
        docs, ratios = [], []
        for seg in self.segments:
            lengths = seg.lengths(fieldname)
            for ids, tfs in seg.blocks(fieldname, tb):
                if seg.live is not None:
                    keep = seg.live[ids]
                    ids, tfs = ids[keep], tfs[keep]
                docs.append(ids + seg.offset)
                ratios.append(tfs / (tfs + norms[lengths[ids]]))
        if not docs:
            return EMPTY_POSTINGS
        return Postings(np.concatenate(docs), np.concatenate(ratios))

    def docs_in_systems(self, systems: list[str]) -> set[int]:
        """Pages of the given code systems (for --system filters)."""
        docs: dict[int, float] = {}
        for system in systems:
            self._postings_any("code_system", system, docs)
        return set(docs)

    def docs_with(self, term: str, fields: tuple[str, ...]) -> set[int]:
        docs: set[int] = set()
        for f in fields:
            docs.update(self.postings(f, term).docs.tolist())
        return docs

    def docs_with_all(self, fieldname: str, terms: Sequence[str]) -> np.ndarray:
        """Live pages holding every term in the field, ascending: the rarest list is read first
        and the others only while some page is left, so a phrase of common words costs a few
        array intersections rather than a matcher stepping through every list."""
        docs: np.ndarray | None = None
        for term in sorted(set(terms), key=lambda t: self.field_df(fieldname, t)):
            if not self.field_df(fieldname, term):
                return EMPTY_POSTINGS.docs
            found = self.postings(fieldname, term).docs
            docs = found if docs is None else docs[np.isin(docs, found, assume_unique=True)]
            if not len(docs):
                break
        return EMPTY_POSTINGS.docs if docs is None else docs

    def docs_with_phrase(self, fieldname: str, terms: Sequence[str]) -> list[int] | None:
        """Live pages with the terms at successive positions in a field that keeps positions (what
        Whoosh's Phrase with slop 1 matches): the pages holding every term, then the positions of
        just those pages, block by block (Whoosh's matcher decodes every posting on the way).
        None when a segment is not in a format read here (ask Whoosh)."""
        if self._tables is None:
            return None
        candidates = self.docs_with_all(fieldname, terms)
        encoded = [t.encode("utf-8") for t in terms]
        found: list[int] = []
        for seg in self.segments:
            lo, hi = np.searchsorted(candidates, [seg.offset, seg.offset + seg.doc_count])
            local = candidates[lo:hi] - seg.offset
            if not len(local):
                continue
            where = {t: term_positions(seg.reader, fieldname, t, local, seg.terms) for t in set(encoded)}
            for doc in local.tolist():
                per = [where[t].get(doc) for t in encoded]
                if all(per) and any(all(p + i in per[i] for i in range(1, len(per))) for p in per[0]):
                    found.append(doc + seg.offset)
        return found

    def mask(self, docs) -> np.ndarray:
        """A bool per page: True for the given doc numbers."""
        out = np.zeros(self.n, dtype=bool)
        if len(docs):
            out[np.fromiter(docs, dtype=np.int64, count=len(docs))] = True
        return out

    def docs_with_code_prefix(self, prefix: str) -> set[int]:
        """Pages whose code starts with the prefix."""
        return {doc for _, doc in self.code_pages(prefix)}

    def code_pages(self, prefix: str) -> list[tuple[str, int]]:
        """(code, page) of every live page whose code starts with ``prefix``, in code order (for a
        code on live pages of several segments, the first segment's). Each code's page is its
        term's first doc, read off the term dictionary; a posting list is read only when that
        page is deleted or the code is on several pages."""
        pages: dict[str, int] = {}
        pb = prefix.encode("utf-8")
        for seg in self.segments:
            if seg.terms is None:
                terms = ((t, 0, None) for t in seg.reader.expand_prefix("code", prefix))
            else:
                terms = seg.terms.first_docs("code", pb)
            for tbytes, df, first in terms:
                code = tbytes.decode("utf-8")
                if code in pages:
                    continue
                if first is None or df != 1 or (seg.deleted and first in seg.deleted):
                    first = next((d for d, _ in seg.postings("code", tbytes)
                                  if not (seg.deleted and d in seg.deleted)), None)
                if first is not None:
                    pages[code] = first + seg.offset
        return sorted(pages.items())

    # -- the pipeline ---------------------------------------------------------------------------

    def run(self, plan: Plan, allowed: set[int] | frozenset[int] | None, required: bool = False,
            on_match: Callable[[np.ndarray], None] | None = None) -> tuple[list[Scored], int]:
        """(scored candidates best first, number of pages matched). ``allowed``: the only pages that
        may match; with ``required`` every one of them matches (a structured query's Whoosh set),
        whatever the plan's words score on it. ``on_match`` is given every page the words matched
        before ``allowed`` applies, as a mask (for facet counts)."""
        matches = self.match_concepts(plan)
        found = self.candidates(plan, matches)
        found = self.restrict(found, plan, allowed, required, on_match)
        pool = _candidates(found, self.config)
        rescorer = self.rescorer(plan, matches, found.codes, pool)
        # A page the query's structure matched but none of its words scores (a pure exclusion, a
        # code prefix among words it lacks) still matched: it follows the scored pages.
        floor = self.config.match_floor if required else 0.0
        ranked = sorted((-(score or floor), d) for score, d in zip(rescorer.scores().tolist(), pool))
        if self.config.variant_factor < 1.0:
            ranked = _spread_variants(ranked, rescorer.variants, self.config.variant_factor)
        return [Scored(d, -neg) for neg, d in ranked], int(np.count_nonzero(found.matched))

    def match_concepts(self, plan: Plan) -> list[ConceptMatch]:
        """Stage 1 for every concept; with nothing rare anywhere, common words are promoted."""
        matches = [self.match_concept(concept) for concept in plan.concepts]
        if not plan.codes and all(scores is None for m in matches for scores in m.rare):
            matches = self.promote_common(plan, matches)
        return matches

    def match_concept(self, concept: Concept) -> ConceptMatch:
        """Stage 1: each alternative's rare terms read in full; common ones are left for re-scoring."""
        rescore_fields = set(RESCORE_FIELDS)
        alt_scores, alt_common = [], []
        for alt in concept.alts:
            scores: np.ndarray | None = None
            per_term = alt.per_term(self.config.phrase_spread)
            deferred = []
            key = self.key_term(alt)
            for term in (alt.terms if key is None else (key,) + tuple(t for t in alt.terms if t != key)):
                if self.df(term, alt.fields) > self.common_df and rescore_fields & set(alt.fields):
                    deferred.append(term)
                    continue
                if key is None or term == key:
                    for f in alt.fields:
                        scores = self.term_scores(term, f, per_term, scores)
                    continue
                more = None
                for f in alt.fields:
                    more = self.term_scores(term, f, per_term, more)
                if more is not None and scores is not None:  # counted only on pages with the key word
                    more[scores == 0.0] = 0.0
                    scores += more
            alt_scores.append(scores)
            alt_common.append(tuple(deferred))
        return ConceptMatch(tuple(alt_scores), tuple(alt_common), _best_of(alt_scores))

    def promote_common(self, plan: Plan, matches: list[ConceptMatch]) -> list[ConceptMatch]:
        """A query of common words only ("patient", "pain") that no title holds: each concept's
        least common typed term is read in full, in every field, so its pages are found and ranked."""
        if any(self.df(t, ("title",)) for m in matches for ts in m.common for t in ts):
            return matches  # the title fallback finds candidates
        out = []
        for concept, match in zip(plan.concepts, matches):
            rare = list(match.rare)
            common = list(match.common)
            for ai, alt in enumerate(concept.alts[:1]):
                if not common[ai]:
                    continue
                term = min(common[ai], key=lambda t: self.df(t, alt.fields))
                scores = None
                for f in alt.fields:
                    scores = self.term_scores(term, f, alt.per_term(self.config.phrase_spread), scores)
                rare[ai] = scores
                common[ai] = tuple(t for t in common[ai] if t != term)
            out.append(ConceptMatch(tuple(rare), tuple(common), _best_of(rare)))
        return out

    def candidates(self, plan: Plan, matches: list[ConceptMatch]) -> Candidates:
        """Stage 2: first scores from rare terms and codes, plus pages common terms bring.

        A concept said only in common words ("vein", "excision") still has to bring candidates:
        its least common term, read in the title only, adds to the candidate scores (final scores
        come from every header field). So does a common alternative that outweighs the concept's
        rare ones: typed "excision" must not leave the candidates to its rarer synonym "resection".
        """
        cfg = self.config
        partial = np.zeros(self.n)
        for match in matches:
            if match.best is not None:
                partial += match.best
        code_scores: dict[int, float] = defaultdict(float)
        for code in plan.codes:
            docnum = self.searcher.document_number(code=code)
            if docnum is not None:
                code_scores[docnum] += cfg.code_boost
            listed: dict[int, float] = {}
            self._postings_any("similar_codes", code, listed)
            for d in listed:
                code_scores[d] += cfg.similar_boost
        for d, s in code_scores.items():
            partial[d] += s
        matched = partial > 0.0
        if code_scores:
            matched[list(code_scores)] = True
        fallback: np.ndarray | None = None
        only_common = not matched.any()  # nothing rare anywhere ("drainage"): the common terms must do
        for concept, match in zip(plan.concepts, matches):
            rare_weight = max((a.weight for a, r in zip(concept.alts, match.rare) if r is not None), default=0.0)
            chosen = [(a, ts) for a, ts, r in zip(concept.alts, match.common, match.rare)
                      if r is None and a.weight > rare_weight]
            weights = {t: alt.weight for alt, ts in chosen for t in ts}
            dfs = {t: self.df(t, ("title",)) for t in weights}
            ranked = sorted(weights, key=dfs.__getitem__)
            if not ranked or (dfs[ranked[0]] > self.n * cfg.candidate_df_max and not only_common):
                continue
            best: np.ndarray | None = None
            for term in ranked[:cfg.fallback_terms]:
                one = self.term_scores(term, "title", weights[term], None)
                if one is not None:
                    best = one if best is None else np.maximum(best, one)
            if best is not None:
                partial += best
                brought = best > 0.0
                matched |= brought
                fallback = brought if fallback is None else fallback | brought
        return Candidates(partial, matched, fallback, dict(code_scores))

    def restrict(self, found: Candidates, plan: Plan, allowed: set[int] | frozenset[int] | None,
                 required: bool = False, on_match: Callable[[np.ndarray], None] | None = None) -> Candidates:
        """Stage 3: only pages the query's filters and boolean structure allow, none it excludes."""
        if required and allowed is not None:
            matched = self.mask(allowed)
            fallback = found.fallback & matched if found.fallback is not None else None
            return Candidates(found.partial, matched, fallback, found.codes)
        excluded: np.ndarray | None = None
        for concept in plan.negatives:
            for alt in concept.alts:
                for term in alt.terms:
                    for f in alt.fields:
                        docs = self.postings(f, term).docs
                        if len(docs):
                            if excluded is None:
                                excluded = np.zeros(self.n, dtype=bool)
                            excluded[docs] = True
        matched = found.matched if excluded is None else found.matched & ~excluded
        if on_match is not None:
            on_match(matched)
        if excluded is None and allowed is None:
            return found
        if allowed is not None:
            matched = matched & self.mask(allowed)
        fallback = found.fallback & matched if found.fallback is not None else None
        return Candidates(found.partial, matched, fallback, found.codes)

    def rescorer(self, plan: Plan, matches: list[ConceptMatch], codes: dict[int, float],
                 docs: list[int]) -> Rescorer:
        """Stage 4's scorer of the given pages: common terms counted in each one's stored header terms."""
        at = np.asarray(docs, dtype=np.int64)
        concepts = [self._concept_rescore(concept, match, at) for concept, match in zip(plan.concepts, matches)]
        return Rescorer(self, plan, concepts, codes, docs)

    def key_term(self, alt: Alt) -> str | None:
        """The rarest word of a multi-word expansion, when it is not a common one: a page must
        contain it for the expansion to count ("lid margin" -> "upper eyelid" must not find "Upper
        Femur"). Words the user typed are left to BM25 as they are."""
        if len(alt.terms) < 2 or alt.weight >= 1.0:
            return None
        # Of equally rare words the last: English puts the head noun last ("lower eyelid").
        key = min(reversed(alt.terms), key=lambda t: self.df(t, alt.fields))
        return key if self.df(key, alt.fields) <= self.common_df else None

    def _concept_rescore(self, concept: Concept, match: ConceptMatch, at: np.ndarray) -> ConceptRescore:
        """A concept's alternatives on the given pages: rare scores, and the BM25 factor of each
        common term in each header field."""
        spread = self.config.phrase_spread
        none = np.zeros(len(at))

        def on_docs(scores: np.ndarray | None) -> np.ndarray:
            return scores[at] if scores is not None else none

        alts = [(on_docs(match.rare[ai]), [((t, f), self.factor(t, f, alt.per_term(spread)))
                                           for t in match.common[ai] for f in alt.fields if f in RESCORE_FIELDS],
                 self.key_term(alt) is not None)
                for ai, alt in enumerate(concept.alts)]
        keys = frozenset(key for _, pairs, _ in alts for key, _ in pairs)
        return ConceptRescore(on_docs(match.best), alts, keys)

    def _term_score_on(self, term: str, fieldname: str, weight: float, d: int) -> float:
        """weight * BM25 of one term in one field on page d (postings hold sorted doc numbers)."""
        post = self.postings(fieldname, term)
        i = int(np.searchsorted(post.docs, d))
        if i < len(post.docs) and post.docs[i] == d:
            return self.factor(term, fieldname, weight) * float(post.ratios[i])
        return 0.0

    def _postings_any(self, fieldname: str, term: str, out: dict[int, float]) -> None:
        tb = term.encode("utf-8")
        for seg in self.segments:
            for doc, tf in seg.postings(fieldname, tb):
                if not (seg.deleted and doc in seg.deleted):
                    out[doc + seg.offset] = out.get(doc + seg.offset, 0.0) + tf

    # -- explanations ---------------------------------------------------------------------------

    def explain(self, plan: Plan, scored: list[Scored]) -> dict[int, tuple[Contribution, ...]]:
        """Per word and field, each page's share of its final score: the contributions of the
        alternative that counted for each concept (in the words the user or thesaurus wrote),
        code matches and the phrase bonus, scaled by the page's multipliers (coverage, title
        cover, priors, variant spreading) so that they add up to the score."""
        spread = self.config.phrase_spread
        matches = self.match_concepts(plan)
        rescorer = self.rescorer(plan, matches, self.candidates(plan, matches).codes, [s.docnum for s in scored])
        out: dict[int, tuple[Contribution, ...]] = {}
        for i, item in enumerate(scored):
            d = item.docnum
            parts: list[Contribution] = []
            found = rescorer.counts_at(i)
            for concept, match, cr in zip(plan.concepts, matches, rescorer.concepts):
                best_i, best = -1, 0.0
                for ai, (rare_scores, pairs, keyed) in enumerate(cr.alts):
                    s = float(rare_scores[i])
                    if keyed and not s:
                        continue
                    s += sum(factor * found[k][0] / found[k][1] for k, factor in pairs if k in found)
                    if s > best:
                        best_i, best = ai, s
                if best_i < 0:
                    continue
                alt = concept.alts[best_i]
                common = set(match.common[best_i])
                for term in alt.terms:
                    for f in alt.fields:
                        if term in common:  # counted in the stored header terms, as the rescorer does
                            hit = found.get((term, f))
                            value = self.factor(term, f, alt.per_term(spread)) * hit[0] / hit[1] if hit else 0.0
                        else:
                            value = self._term_score_on(term, f, alt.per_term(spread), d)
                        if value:
                            parts.append(Contribution(alt.word_of(term), f, value))
            code = rescorer.code_scores.get(d)
            if code:
                parts.append(Contribution("code", "code", code))
            raw = sum(p.score for p in parts)
            where, phrase = rescorer.phrase_at(i)
            if phrase:
                parts.append(Contribution(plan.phrase_text or "phrase", where, phrase))
                raw += phrase
            scale = item.score / raw if raw else 0.0
            out[d] = tuple(Contribution(p.word, p.field, p.score * scale) for p in parts)
        return out


def _candidates(found: Candidates, cfg: RankingConfig) -> list[int]:
    """The config's ``candidates`` best matched pages, ``fallback_share`` of the places kept for
    pages that common terms brought: rare terms score in every header field, common ones here only
    in the title, so without the reserve a rare synonym's pages could fill every place."""
    partial = found.partial
    docs = np.flatnonzero(found.matched)
    chosen = _top(docs, partial[docs], cfg.candidates)
    if found.fallback is None:
        return chosen.tolist()
    rest = found.fallback.copy()
    rest[chosen] = False
    rest_docs = np.flatnonzero(rest)
    reserved = _top(rest_docs, partial[rest_docs], cfg.fallback_share)
    if not len(reserved):
        return chosen.tolist()
    keep = _top(chosen, partial[chosen], cfg.candidates - len(reserved))
    return keep.tolist() + reserved.tolist()


def _spread_variants(ranked: list[tuple[float, int]], variants: dict[int, tuple[str, ...]],
                     factor: float) -> list[tuple[float, int]]:
    """Each further variant of a procedure already listed (the other side, another approach)
    scores ``factor`` times less than the one before it, so different procedures are not
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
                neg *= factor ** n
        out.append((neg, d))
    out.sort()
    return out


def _top(docs: np.ndarray, scores: np.ndarray, n: int) -> np.ndarray:
    """The n of ``docs`` (ascending doc numbers) of highest (score, docnum), ascending: pages tied
    at the cut are taken from the largest doc numbers, as heapq.nlargest over pairs would."""
    if len(docs) <= n:
        return docs
    if n <= 0:
        return docs[:0]
    cut = np.partition(scores, len(scores) - n)[len(scores) - n]
    above = docs[scores > cut]
    ties = docs[scores == cut]
    return np.sort(np.concatenate([above, ties[len(ties) - (n - len(above)):]]))


def _best_of(alt_scores: list[np.ndarray | None]) -> np.ndarray | None:
    """Per page, the best alternative's score: a concept counts once however it was said."""
    found = [s for s in alt_scores if s is not None]
    if len(found) <= 1:
        return found[0] if found else None
    return np.maximum.reduce(found)
