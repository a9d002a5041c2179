"""Stage 4 of the ranking: final scores of a query's candidates, all candidates at once.

Each concept's best alternative with its common terms counted in the page's stored header terms,
code matches, the header phrase bonus, the open-approach prior, the coverage factor and the
header-cover factor. The candidates' header terms come from the HeaderStore as flat arrays of
term ids, so counting is a few numpy calls per query, not Python per page and term. Every score
is the same sequence of floating-point operations, page by page, as adding the terms up one page
at a time: a term absent from a page adds exactly 0.0, so rankings do not depend on the method.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from procsearch.index.schema import HEADER_FIELDS, RESCORE_FIELDS

from .headers import FIELD_AT, HEADER_AT, IS_HEADER, PoolHeaders, has_phrase

if TYPE_CHECKING:
    from .engine import Engine, Plan

_FIELDS = len(RESCORE_FIELDS)


@dataclass(frozen=True)
class ConceptRescore:
    """One concept on the candidates (arrays in candidate order): its best rare score, and per
    alternative its rare scores, the factors of its common ((term, field), factor) pairs, and
    whether it counts only on pages with its key word (see Engine.key_term)."""

    best_rare: np.ndarray
    alts: list[tuple[np.ndarray, list[tuple[tuple[str, str], float]], bool]]
    keys: frozenset[tuple[str, str]]


class Rescorer:
    """Final scores of a list of candidates (``scores()``, in the list's order), and what the
    variant spreading and explanations need of them."""

    def __init__(self, engine: Engine, plan: Plan, concepts: list[ConceptRescore],
                 code_scores: dict[int, float], docs: list[int]) -> None:
        cfg = engine.config
        self.config = cfg
        self.concepts = concepts
        self.docs = docs
        index = {id(c): i for i, c in enumerate(plan.concepts)}
        # A derived concept a page lacks still counts as covered when the page has the typed word
        # it came from ("Colonoscopy, flexible" covers the inspection and large intestine of it).
        self.parents = [index.get(id(c.parent), -1) if c.parent is not None else -1 for c in plan.concepts]
        self.code_scores = code_scores
        self.n_codes = len(plan.codes)
        self.n_parts = len(plan.concepts) + len(plan.codes)
        self.phrase = plan.phrase if len(plan.phrase) >= 2 else ()
        wanted: dict[str, set[str]] = defaultdict(set)  # field -> common terms to count there
        for concept in concepts:
            for term, f in concept.keys:
                wanted[f].add(term)
        self.pairs = [(t, f) for f, ts in wanted.items() for t in ts]
        self.column = {pair: k for k, pair in enumerate(self.pairs)}
        needs_header = bool(wanted) or bool(self.phrase or cfg.header_cover)
        self.query_terms = frozenset(t for c in plan.concepts for a in c.alts for t in a.terms)
        self.unsearched = plan.unsearched
        self.open_prior = 0.0 if plan.names_approach else cfg.open_prior
        self.avg = {f: engine.reader.field_length(f) / engine.n or 1.0 for f in wanted}
        self.phrase_bonus = [(f, cfg.phrase_boost * engine.boosts.get(f, 1.0)) for f in HEADER_FIELDS]
        self.pool: PoolHeaders | None = engine.headers.pool(docs) if needs_header and docs else None
        # page -> its title without side and approach (the key of variant spreading)
        self.variants: dict[int, bytes] = dict(zip(docs, self.pool.variants)) if self.pool else {}
        self.tf, self.den = self._common_counts()
        self._phrase_where: list[str] | None = None

    # -- the scores -----------------------------------------------------------------------------

    def scores(self) -> np.ndarray:
        """Every candidate's final score."""
        cfg = self.config
        n = len(self.docs)
        total = np.zeros(n)
        hits = np.zeros(n, dtype=np.intp)
        typed_hit: dict[int, np.ndarray] = {}
        for ci, concept in enumerate(self.concepts):
            best = self._concept_best(concept)
            scored = best > 0
            total += np.where(scored, best, 0.0)
            hits += scored
            p = self.parents[ci]
            if p >= 0:
                if p not in typed_hit:
                    typed_hit[p] = self._alt_score(*self.concepts[p].alts[0][:2]) > 0
                hits += ~scored & typed_hit[p]
        codes = np.array([self.code_scores.get(d, 0.0) for d in self.docs]) if self.code_scores else None
        if codes is not None:
            coded = codes != 0.0
            total = np.where(coded, total + codes, total)
            hits += self.n_codes * coded
        total += self._phrase_bonus()
        if self.open_prior and self.pool is not None:
            total = np.where(self.pool.open_title, total * (1 + self.open_prior), total)
        coverage = np.minimum(1.0, hits / self.n_parts) if self.n_parts else 1.0
        cover = cfg.header_cover
        named = self._header_cover() if cover else 0.0
        return total * (cfg.coord_base + coverage) * (1 + cover * named)

    def _alt_score(self, rare: np.ndarray, pairs: list[tuple[tuple[str, str], float]]) -> np.ndarray:
        """An alternative's rare scores plus its common terms' BM25 in the header fields."""
        s = rare.copy()
        tf, den = self.tf, self.den
        for key, factor in pairs:
            k = self.column[key]
            s += factor * tf[:, k] / den[:, k]
        return s

    def _concept_best(self, concept: ConceptRescore) -> np.ndarray:
        """The concept's best alternative on each page; with none of its common terms on a page,
        its best rare score there."""
        cols = [self.column[key] for key in concept.keys]
        if not cols:
            return concept.best_rare
        present = (self.tf[:, cols] > 0).any(axis=1)
        if not present.any():
            return concept.best_rare
        best = np.zeros(len(self.docs))
        for rare, pairs, keyed in concept.alts:
            s = self._alt_score(rare, pairs)
            if keyed:  # counts only where its key word is (it has a rare score there)
                s = np.where(rare != 0.0, s, 0.0)
            np.maximum(best, s, out=best)
        return np.where(present, best, concept.best_rare)

    # -- what the pages hold ----------------------------------------------------------------------

    def _common_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Per candidate and common (term, field) pair: the term's count in the field and
        tf + K1 * length norm (1.0 where the count is 0, so a BM25 share is 0.0 there)."""
        n, width = len(self.docs), len(self.pairs)
        tf = np.zeros((n, width))
        if not width:
            return tf, np.ones((n, 0))
        pool = self.pool
        if pool is not None and len(pool.tokens):
            size = len(pool.vocab.words)
            wanted, cols = [], []  # one number per (field, term)
            for k, (term, f) in enumerate(self.pairs):
                i = pool.vocab.get(term)
                if i is not None:
                    wanted.append(FIELD_AT[f] * size + i)
                    cols.append(k)
            if wanted:
                order = np.argsort(wanted)
                keys = np.asarray(wanted)[order]
                at = np.flatnonzero(pool.holding([w % size for w in wanted]))
                codes = pool.field[at] * size + pool.tokens[at]
                place = np.minimum(np.searchsorted(keys, codes), len(keys) - 1)
                right = keys[place] == codes  # the term, and in that field
                at, place = at[right], place[right]
                if len(at):
                    col = np.asarray(cols)[order][place]
                    tf = np.bincount(pool.page[at] * width + col, minlength=n * width).reshape(n, width).astype(float)
        k1, b = self.config.k1, self.config.b
        den = np.ones((n, width))
        lengths = pool.lengths if pool is not None else np.zeros((n, _FIELDS), dtype=np.int32)
        for k, (_, f) in enumerate(self.pairs):
            norm = k1 * ((1 - b) + b * lengths[:, FIELD_AT[f]] / self.avg[f])
            column = tf[:, k]
            den[:, k] = np.where(column > 0, column + norm, 1.0)
        return tf, den

    def _phrase_bonus(self) -> np.ndarray:
        """Per candidate the bonus of the first header field holding the typed words in order (a
        little slop allowed), else 0.0."""
        n = len(self.docs)
        where = [""] * n
        bonus = np.zeros(n)
        pool = self.pool
        ids = pool.ids(self.phrase) if self.phrase and pool is not None else [None]
        if None not in ids:
            distinct = sorted(set(ids))
            rows = np.flatnonzero(pool.holding(distinct))
            # pages holding every word of the phrase in a field: only they can hold the phrase
            slot = (pool.page[rows] * _FIELDS + pool.field[rows]) * len(distinct) + np.searchsorted(
                distinct, pool.tokens[rows])
            seen = np.bincount(slot, minlength=n * _FIELDS * len(distinct)).reshape(n, _FIELDS, len(distinct))
            holds = (seen > 0).all(axis=2)
            for i in np.flatnonzero(holds[:, list(HEADER_AT)].any(axis=1)).tolist():
                for f, value in self.phrase_bonus:
                    if holds[i, FIELD_AT[f]] and has_phrase(pool.field_terms(i, f), ids):
                        where[i], bonus[i] = f, value
                        break
        self._phrase_where = where
        return bonus

    def _header_cover(self) -> np.ndarray:
        """Per candidate the largest share of a header field's words that the query names. Of two
        pages matching the same words, the one whose title says little else is the closer match
        ("Excision of Skull" rather than "Excision of Skull, Diagnostic"; a short CPT name rather
        than a long descriptor). Words a query never searches are not counted."""
        n = len(self.docs)
        pool = self.pool
        if pool is None or not len(pool.tokens):
            return np.zeros(n)
        skip = [i for i in pool.ids(sorted(self.unsearched)) if i is not None]
        named = [i for i in pool.ids(sorted(self.query_terms)) if i is not None]
        counted = IS_HEADER[pool.field]
        if skip:
            counted &= ~pool.holding(skip)
        slot = pool.page * _FIELDS + pool.field
        words = np.bincount(slot[counted], minlength=n * _FIELDS).reshape(n, _FIELDS)
        hit = counted & pool.holding(named) if named else np.zeros(len(counted), dtype=bool)
        named_words = np.bincount(slot[hit], minlength=n * _FIELDS).reshape(n, _FIELDS)
        share = np.divide(named_words, words, out=np.zeros((n, _FIELDS)), where=words > 0)
        return share.max(axis=1)

    # -- one page, for explanations ---------------------------------------------------------------

    def counts_at(self, i: int) -> dict[tuple[str, str], tuple[int, float]]:
        """(tf, tf + K1 * length norm) of each common query term present in each header field of
        the i-th candidate."""
        row = self.tf[i]
        return {self.pairs[k]: (int(row[k]), float(self.den[i, k])) for k in np.flatnonzero(row > 0).tolist()}

    def phrase_at(self, i: int) -> tuple[str, float]:
        """(field, bonus) of the phrase bonus of the i-th candidate, or ("", 0.0)."""
        if self._phrase_where is None:
            self._phrase_bonus()
        f = self._phrase_where[i]
        return (f, dict(self.phrase_bonus)[f]) if f else ("", 0.0)
