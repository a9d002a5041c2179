"""Parsed query -> Whoosh query, with vocabulary expansion, typo correction and code handling.

Free words become *concepts*: the word itself plus its thesaurus expansions, joined by a
DisjunctionMax so a concept counts once however many of its synonyms a page contains. Concepts
are summed, so pages matching more of them rank higher; a coordination factor on the top hits
(searcher.py) rewards coverage further. Whoosh's OrGroup.factory is avoided: it scores 0.0 when
only one term of a query is live in a field.

Speed: terms found on many pages ("approach", "removal") never drive the search. Rare terms
select candidate pages; common terms only add to the scores of those candidates (AndMaybe), so
a query costs what its rare words cost, not a walk over most of the index.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from whoosh import query as wq
from whoosh.reading import IndexReader

from index.analysis import fold, terms
from index.schema import HEADER_FIELDS

from .parse import Bool, Code, CodePrefix, CodeRange, Not, ParsedQuery, Phrase, Seq, Word
from .spelling import Speller
from .thesaurus import Entry, Thesaurus, words_of

CODE_BOOST = 1000.0
SIMILAR_BOOST = 20.0
PHRASE_BOOST = 1.5
COMMON_FRACTION = 0.04  # a term on more than this share of pages only re-scores candidates
DF_FIELDS = ("title", "summary", "procedure")
# Function words dropped from free text (still searchable inside quotes).
QUERY_STOP = frozenset("the of an and to in on for by at from into is are was be as its this that or".split())


@dataclass(frozen=True)
class Expansion:
    """An expansion applied to the query, as reported by --explain and the JSON output."""

    source: str
    target: str
    weight: float
    kind: str


@dataclass
class Compiled:
    query: wq.Query
    concepts: list[frozenset[str]] = field(default_factory=list)  # term sets, one per free concept
    highlight: set[str] = field(default_factory=set)
    expansions: list[Expansion] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)
    code_only: bool = False
    codes: list[str] = field(default_factory=list)


@dataclass
class _Part:
    """A scored piece of a free-text query, split into its rare (driving) and common halves."""

    rare: wq.Query | None
    common: wq.Query | None
    df: int


@dataclass
class Settings:
    boosts: dict[str, float]
    default_fields: tuple[str, ...]
    expansion_fields: tuple[str, ...]


class Compiler:
    """Turns one parsed query into a Whoosh query; collects what the searcher reports."""

    def __init__(self, settings: Settings, reader: IndexReader, thesaurus: Thesaurus | None,
                 speller: Speller | None, fields: tuple[str, ...] | None = None,
                 df_cache: dict[str, int] | None = None) -> None:
        self.boosts = settings.boosts
        self.reader = reader
        self.thesaurus = thesaurus
        self.speller = speller
        self.fields = fields or settings.default_fields
        self.expansion_fields = tuple(f for f in self.fields if f in settings.expansion_fields) or self.fields
        self.df_cache = df_cache if df_cache is not None else {}
        self.common_df = max(50, int(reader.doc_count_all() * COMMON_FRACTION))
        self.out = Compiled(wq.NullQuery)

    def compile(self, parsed: ParsedQuery) -> Compiled:
        q = self.node(parsed.root)
        self.out.query = q if q is not None else wq.NullQuery
        items = parsed.root.items
        self.out.code_only = bool(items) and all(isinstance(i, (Code, CodePrefix, CodeRange)) for i in items)
        return self.out

    # -- nodes --------------------------------------------------------------------------------

    def node(self, node) -> wq.Query | None:
        if isinstance(node, Seq):
            return self.seq(node)
        if isinstance(node, Bool):
            parts = [q for q in (self.node(n) for n in node.items) if q is not None]
            if not parts:
                return None
            return (wq.And if node.op == "and" else wq.Or)(parts) if len(parts) > 1 else parts[0]
        if isinstance(node, Not):
            inner = self.node(node.child)
            return wq.Not(inner) if inner is not None else None
        return self.seq(Seq((node,)))

    def seq(self, seq: Seq) -> wq.Query | None:
        parts: list[_Part] = []
        negative: list[wq.Query] = []
        run: list[Word] = []

        def flush() -> None:
            if run:
                parts.extend(self.free_words([w.text for w in run]))
                run.clear()

        for item in seq.items:
            if isinstance(item, Word) and item.field is None:
                run.append(item)
                continue
            flush()
            if isinstance(item, Not):
                q = self.node(item.child)
                if q is not None:
                    negative.append(q)
            elif isinstance(item, Word):
                part = self.concept([self.correct(item.text)], None, (item.field,))
                if part is not None:
                    parts.append(part)
            elif isinstance(item, Phrase):
                parts.append(_Part(self.phrase(item.text, (item.field,) if item.field else self.fields), None, 0))
            elif isinstance(item, (Code, CodePrefix, CodeRange)):
                parts.append(_Part(self.code(item), None, 0))
            else:
                q = self.node(item)
                if q is not None:
                    parts.append(_Part(q, None, 0))
        flush()
        base = _combine(parts)
        if base is None and not negative:
            return None
        base = base or wq.Every()
        if negative:
            return wq.AndNot(base, wq.Or(negative) if len(negative) > 1 else negative[0])
        return base

    # -- free text ----------------------------------------------------------------------------

    def free_words(self, words: list[str]) -> list[_Part]:
        """Concepts for a run of plain words, thesaurus phrases matched longest first."""
        words = [self.correct(w) for w in words]
        words = [w for i, w in enumerate(words)
                 if fold(w) not in QUERY_STOP and not (fold(w) == "a" and i + 1 < len(words))]
        folded = [(words_of(w)[:1] or (fold(w),))[0] for w in words]
        spans = self.thesaurus.lookup(folded, words) if self.thesaurus else []
        covered = {start: (end, entries) for start, end, entries in spans}
        parts: list[_Part] = []
        i = 0
        while i < len(words):
            end, entries = covered.get(i, (i + 1, []))
            part = self.concept(words[i:end], entries, None)
            if part is not None:
                parts.append(part)
            i = end
        if 2 <= len(words) <= 6:
            phrase_terms = [t for w in words for t in terms(w)]
            if len(phrase_terms) >= 2:
                parts.append(_Part(None, wq.Or([
                    wq.Phrase(f, phrase_terms, slop=2, boost=PHRASE_BOOST * self.boosts.get(f, 1.0))
                    for f in HEADER_FIELDS if f in self.fields]), 0))
        return parts

    def correct(self, word: str) -> str:
        """The word, or its correction when neither the index nor the thesaurus knows it."""
        if self.speller is None or len(word) < 4 or not word.isalpha() or self.is_known(word):
            return word
        if self.thesaurus and (words_of(word) in self.thesaurus.phrases or self.thesaurus.word_parts(word)):
            return word
        fixed = self.speller.correct(fold(word))
        if fixed and fixed != fold(word):
            self.out.corrections[word] = fixed
            return fixed
        return word

    def is_known(self, word: str) -> bool:
        folded = fold(word)
        if self.speller is not None and self.speller.known(folded):
            return True
        return any(self.df(t) for t in terms(word))

    def df(self, term: str) -> int:
        """Pages containing a term (largest count over a few fields), cached per index generation."""
        cached = self.df_cache.get(term)
        if cached is None:
            cached = max(self.reader.doc_frequency(f, term) for f in DF_FIELDS)
            self.df_cache[term] = cached
        return cached

    def concept(self, words: list[str], entries: list[Entry] | None,
                fields: tuple[str | None, ...] | None) -> _Part | None:
        """What the user typed at weight 1 and its expansions lower, one DisjunctionMax per half."""
        use_fields = tuple(f for f in (fields or ()) if f) or self.fields
        typed = [t for w in words for t in terms(w)]
        if not typed:
            return None
        alternatives: list[tuple[list[str], float, tuple[str, ...]]] = [(typed, 1.0, use_fields)]
        expansions = list(entries or [])
        if self.thesaurus and not expansions and len(words) == 1:
            expansions = self.thesaurus.word_parts(words[0])
        exp_fields = tuple(f for f in use_fields if f in self.expansion_fields) or use_fields
        shown = " ".join(words)
        for entry in expansions:
            alt_terms = terms(entry.target)
            if alt_terms and alt_terms != typed:
                alternatives.append((alt_terms, entry.weight, exp_fields))
                self.out.expansions.append(Expansion(shown, entry.target, entry.weight, entry.kind))
        rare_alts, common_alts = [], []
        all_terms: set[str] = set()
        min_df = None
        for alt_terms, weight, alt_fields in alternatives:
            all_terms.update(alt_terms)
            per_term = weight / len(alt_terms) ** 0.5
            rare, common = [], []
            for t in alt_terms:
                df = self.df(t)
                min_df = df if min_df is None else min(min_df, df)
                (common if df > self.common_df else rare).append(self.term_any_field(t, per_term, alt_fields))
            if rare:
                rare_alts.append(_or(rare))
            if common:
                common_alts.append(_or(common))
        self.out.highlight.update(all_terms)
        self.out.concepts.append(frozenset(all_terms))
        return _Part(_dismax(rare_alts), _dismax(common_alts), min_df or 0)

    def term_any_field(self, term: str, weight: float, fields: tuple[str, ...]) -> wq.Query:
        return _or([wq.Term(f, term, boost=weight * self.boosts.get(f, 1.0)) for f in fields])

    def phrase(self, text: str, fields: tuple[str, ...]) -> wq.Query:
        """Quoted words in order, in any of the fields; never expanded."""
        phrase_terms = terms(text)
        self.out.highlight.update(phrase_terms)
        self.out.concepts.append(frozenset(phrase_terms))
        if len(phrase_terms) == 1:
            return self.term_any_field(phrase_terms[0], 1.0, fields)
        return _or([wq.Phrase(f, phrase_terms, boost=self.boosts.get(f, 1.0)) for f in fields])

    # -- codes --------------------------------------------------------------------------------

    def code(self, item: Code | CodePrefix | CodeRange) -> wq.Query:
        """Exact code first, then pages listing it among Similar Codes; codes are never fuzzed."""
        if isinstance(item, Code):
            self.out.codes.append(item.code)
            self.out.highlight.add(item.code.lower())
            return wq.Or([wq.Term("code", item.code, boost=CODE_BOOST),
                          wq.Term("similar_codes", item.code, boost=SIMILAR_BOOST)])
        if isinstance(item, CodePrefix):
            return wq.Prefix("code", item.prefix, boost=CODE_BOOST)
        return wq.TermRange("code", item.low, item.high, boost=CODE_BOOST)


def _or(queries: list[wq.Query]) -> wq.Query | None:
    if not queries:
        return None
    return queries[0] if len(queries) == 1 else wq.Or(queries)


def _dismax(queries: list[wq.Query]) -> wq.Query | None:
    if not queries:
        return None
    return queries[0] if len(queries) == 1 else wq.DisjunctionMax(queries, tiebreak=0.2)


def _combine(parts: list[_Part]) -> wq.Query | None:
    """Rare halves drive (Or); common halves only add to their scores (AndMaybe)."""
    drivers = [p.rare for p in parts if p.rare is not None]
    optional = [p.common for p in parts if p.common is not None]
    if not drivers:
        if not optional:
            return None
        # Nothing rare: the least common concept has to drive.
        ranked = sorted((p for p in parts if p.common is not None), key=lambda p: p.df)
        drivers = [ranked[0].common]
        optional = [p.common for p in ranked[1:]]
    driver = _or(drivers)
    return wq.AndMaybe(driver, _or(optional)) if optional else driver
