"""Parsed query -> a scoring plan (free text, codes) or a Whoosh query (phrases, boolean logic).

Free words become *concepts*: the word as typed (weight 1) plus its thesaurus expansions (lower
weights). A concept counts once however many of its synonyms a page contains (the best
alternative wins); concepts add up, so pages matching more of them rank higher, and a coverage
factor rewards that further. Whoosh's OrGroup.factory is never used: it scores 0.0 when only one
query term is live in a field.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from whoosh import query as wq
from whoosh.reading import IndexReader

from procsearch.index.analysis import fold, stem_word, terms
from procsearch.index.schema import HEADER_FIELDS

from .engine import CODE_BOOST, PHRASE_BOOST, SIMILAR_BOOST, Alt, Concept, Plan
from .parse import Bool, Code, CodePrefix, CodeRange, Not, ParsedQuery, Phrase, Seq, Word
from .spelling import Speller
from .thesaurus import (ADJECTIVE_ENDINGS, APPROACHES, STEM_KIND, WEIGHTS, Entry, Thesaurus, key_of,
                        split_axes)

# Function words, and the filler of code-set descriptions ("Other ... not otherwise specified"),
# dropped from free text; still searchable inside quotes or with a field scope.
QUERY_STOP = frozenset("""the of an and to in on for by at from into is are was be as its this that or
other unspecified specified otherwise nos nec elsewhere classified mention""".split())
# "site" after these words says nothing about the procedure ("of other specified site").
FILLER_NOUNS = frozenset(["site", "sites"])
QUALIFYING_STOP = frozenset(["other", "unspecified", "specified", "multiple", "any"])
UNSEARCHED = frozenset(t for w in QUERY_STOP for t in terms(w))
APPROACH_TERMS = frozenset(t for a in APPROACHES for t in terms(a)) - UNSEARCHED
DF_FIELDS = ("title", "summary", "procedure")
MAX_STEM_WORDS = 4
EXCLUDING = frozenset(["without", "except", "excluding"])
MAX_EXCLUDED_WORDS = 4
# Expansions of typed words that no page header uses are worth more (see absent_scale), up to
# ABSENT_CAP: still less than a typed word that matches.
ABSENT_SCALE = 1.4
ABSENT_CAP = 0.75


@dataclass(frozen=True)
class Expansion:
    """An expansion applied to the query, as reported by --explain and the JSON output."""

    source: str
    target: str
    weight: float
    kind: str


@dataclass
class Settings:
    """The ranking inputs read once per index: field boosts, default and expansion fields."""

    boosts: dict[str, float]
    default_fields: tuple[str, ...]
    expansion_fields: tuple[str, ...]


@dataclass
class Compiled:
    """Either a plan for the fast scorer or a Whoosh query, plus what the searcher reports."""

    plan: Plan | None = None
    query: wq.Query | None = None
    concepts: list[frozenset[str]] = field(default_factory=list)
    highlight: set[str] = field(default_factory=set)
    expansions: list[Expansion] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)
    code_listing: list[CodePrefix | CodeRange] = field(default_factory=list)


def is_simple(node) -> bool:
    """Free words, scoped words, codes and negated words, with at least one positive item:
    what the fast scorer handles. Anything else goes to Whoosh's matchers."""
    items = flatten(node)
    if not any(isinstance(i, (Word, Code)) for i in items):
        return False
    for item in items:
        if isinstance(item, Not):
            child = flatten(item.child)
            if not all(isinstance(c, (Word, Code)) for c in child):
                return False
        elif not isinstance(item, (Word, Code)):
            return False
    return True


def drop_excluded(words: list[Word]) -> list[str]:
    """The words' texts without what follows "without" or "except", up to the next comma:
    "valvuloplasty without replacement" does not ask for replacements, though pages say "without
    replacement" too often for the words to be excluded outright."""
    out: list[str] = []
    skipping = 0
    for word in words:
        if skipping:
            skipping = 0 if word.pause else skipping - 1
            continue
        if fold(word.text) in EXCLUDING:
            skipping = 0 if word.pause else MAX_EXCLUDED_WORDS
            continue
        out.append(word.text)
    return out


def flatten(node) -> list:
    """Items of nested sequences in order ("(all components)" is just two more words)."""
    if isinstance(node, Seq):
        return [x for n in node.items for x in flatten(n)]
    return [node]


class Compiler:
    """Turns a parsed query into what the engine runs: plan, concepts, highlights, corrections."""

    def __init__(self, settings: Settings, reader: IndexReader, thesaurus: Thesaurus | None,
                 speller: Speller | None, fields: tuple[str, ...] | None = None) -> None:
        self.boosts = settings.boosts
        self.reader = reader
        self.thesaurus = thesaurus
        self.speller = speller
        self.fields = fields or settings.default_fields
        self.expansion_fields = tuple(f for f in self.fields if f in settings.expansion_fields) or self.fields
        self.out = Compiled()

    def compile(self, parsed: ParsedQuery) -> Compiled:
        items = flatten(parsed.root)
        listing = [i for i in items if isinstance(i, (CodePrefix, CodeRange))]
        if listing and all(isinstance(i, (CodePrefix, CodeRange)) for i in items):
            self.out.code_listing = listing
        elif is_simple(parsed.root):
            self.out.plan = self.plan(items)
        else:
            q = self.node(parsed.root)
            self.out.query = q if q is not None else wq.NullQuery
        return self.out

    # -- the fast path ------------------------------------------------------------------------

    def plan(self, items: list) -> Plan:
        plan = Plan(unsearched=UNSEARCHED)
        run: list[Word] = []

        def flush() -> None:
            if run:
                words = drop_excluded(run)
                plan.concepts.extend(self.free_words(words))
                typed = [t for w in words if fold(w) not in QUERY_STOP for t in terms(w)]
                if 2 <= len(typed) <= 6 and not plan.phrase:
                    plan.phrase = tuple(typed)
                run.clear()

        for item in items:
            if isinstance(item, Word) and item.field is None:
                run.append(item)
                continue
            flush()
            if isinstance(item, Word):
                concept = self.concept([self.correct(item.text)], [], (item.field,))
                if concept:
                    plan.concepts.append(concept)
            elif isinstance(item, Code):
                plan.codes.append(item.code)
                self.out.highlight.add(item.code.lower())
            elif isinstance(item, Not):
                for word in flatten(item.child):
                    text = word.text if isinstance(word, Word) else word.code
                    fields = (word.field,) if isinstance(word, Word) and word.field else self.fields
                    plan.negatives.append(Concept([Alt(tuple(terms(text)), 1.0, fields)]))
        flush()
        plan.names_approach = any(t in APPROACH_TERMS for c in plan.concepts for a in c.alts for t in a.terms)
        return plan

    def free_words(self, words: list[str]) -> list[Concept]:
        """Concepts for a run of plain words, thesaurus phrases matched longest first; a compound
        word also brings one concept per word part."""
        words = [self.correct(w) for w in words]
        words = [self.respell(w) for w in words]
        # Thesaurus phrases are looked up with their small words ("circle of willis"); outside
        # a phrase, small words are dropped.
        keys = [(key_of(w)[:1] or (fold(w),))[0] for w in words]
        spans = self.thesaurus.lookup(keys, words) if self.thesaurus else []
        covered = {start: (end, entries) for start, end, entries in spans}
        concepts: list[Concept] = []
        i = 0
        while i < len(words):
            end, entries = covered.get(i, (i + 1, []))
            span = [w for j, w in enumerate(words[i:end], i) if not self.is_stop(words, j)]
            if not span and not entries:
                i = end
                continue
            plain, groups = split_axes(self.with_variants(entries))
            if end == i + 1 and self.thesaurus:
                plain += [Entry((fold(words[i]),), w, WEIGHTS["word part"], "word part")
                          for w in self.thesaurus.sub_compounds(words[i]) if self.is_known(w)]
            scale = self.absent_scale(span or words[i:end])
            concept = self.concept(span or words[i:end], plain, None, scale=scale)
            if concept:
                concepts.append(concept)
            if end == i + 1 and self.thesaurus:
                groups += self.thesaurus.word_parts(words[i]) or ([] if entries else self.adjective_stem(words[i]))
            derived = [c for c in (self.concept([], g, None, typed=False, scale=scale) for g in groups) if c]
            for c in derived:
                c.parent = concept
            concepts.extend(derived)
            i = end
        return concepts

    def respell(self, word: str) -> str:
        """The spelling the pages use most, when a word has UK/US variants (oesophagus -> esophagus)."""
        if not self.thesaurus or self.speller is None:
            return word
        variants = self.thesaurus.spellings(word)
        if not variants:
            return word
        counts = self.speller.counts
        best = max(variants, key=lambda v: counts.get(fold(v), 0))  # first listed wins a tie
        if counts.get(fold(word), 0) == 0 or counts.get(fold(best), 0) > counts.get(fold(word), 0):
            self.out.expansions.append(Expansion(word, best, 1.0, "spelling"))
            return best
        return word

    @staticmethod
    def is_stop(words: list[str], i: int) -> bool:
        """A function word (or the article "a" before another word; "hepatitis A" keeps its A), or
        the filler noun of a code-set phrase ("unspecified site", "other sites")."""
        word = fold(words[i])
        if word in FILLER_NOUNS and i and fold(words[i - 1]) in QUALIFYING_STOP:
            return True
        return word in QUERY_STOP or (word == "a" and i + 1 < len(words))

    def absent_scale(self, words: list[str]) -> float:
        """How much more the expansions of typed words count when no title, name or technical
        term uses them: "humerus" can only be found as "Humeral Head" or "Humeral Shaft"."""
        typed = [t for w in words for t in terms(w)]
        if typed and not any(self.reader.doc_frequency(f, t) for t in typed for f in HEADER_FIELDS):
            return ABSENT_SCALE
        return 1.0

    def concept(self, words: list[str], entries: list[Entry] | None,
                fields: tuple[str | None, ...] | None, typed: bool = True, scale: float = 1.0) -> Concept | None:
        """What the user typed at weight 1, its expansions at theirs times `scale` (a word part has
        no typed form)."""
        use_fields = tuple(f for f in (fields or ()) if f) or self.fields
        typed_terms = tuple(t for w in words for t in terms(w))
        alts = [Alt(typed_terms, 1.0, use_fields)] if typed and typed_terms else []
        if typed and not alts:
            return None
        exp_fields = tuple(f for f in use_fields if f in self.expansion_fields) or use_fields
        seen = {typed_terms}
        entries = [x for e in entries or [] for x in (self.stem_entries(e) if e.kind == STEM_KIND else [e])]
        for entry in entries:
            alt_terms = tuple(terms(entry.target))
            if alt_terms and alt_terms not in seen:
                seen.add(alt_terms)
                # A spelling variant is the same word: it is looked for wherever typed words are.
                weight = entry.weight
                if scale != 1.0 and entry.kind != "spelling":
                    weight = max(weight, min(ABSENT_CAP, weight * scale))
                alts.append(Alt(alt_terms, weight, use_fields if entry.kind == "spelling" else exp_fields))
                self.out.expansions.append(Expansion(" ".join(words) or " ".join(entry.source), entry.target,
                                                     weight, entry.kind))
        if not alts:
            return None
        all_terms = frozenset(t for a in alts for t in a.terms)
        self.out.highlight.update(all_terms)
        self.out.concepts.append(all_terms)
        return Concept(alts)

    def with_variants(self, entries: list[Entry]) -> list[Entry]:
        """The entries plus those of their spelling variants: oesophagus expands as esophagus does."""
        entries = list(entries)
        if self.thesaurus:
            for entry in [e for e in entries if e.kind == "spelling"]:
                entries.extend(e for e in self.thesaurus.phrases.get(key_of(entry.target), ()) if e not in entries)
        return entries

    def adjective_stem(self, word: str) -> list[list[Entry]]:
        """An adjective no title uses, unknown to the thesaurus, as the stem of title words:
        "bronchial" finds "Bronchus", "tracheal" finds "Trachea"."""
        folded = fold(word)
        if self.reader.doc_frequency("title", stem_word(folded)):
            return []
        for ending in ADJECTIVE_ENDINGS:
            if folded.endswith(ending) and len(folded) - len(ending) >= 4:
                return [[Entry((folded,), folded[:-len(ending)], WEIGHTS["word part"], STEM_KIND)]]
        return []

    def stem_entries(self, entry: Entry) -> list[Entry]:
        """Indexed title words that begin with an unknown word stem, most frequent first."""
        found = []
        for term in self.reader.expand_prefix("title", entry.target):
            text = term.decode("utf-8") if isinstance(term, bytes) else term
            found.append((self.reader.doc_frequency("title", text), text))
        found.sort(reverse=True)
        return [Entry(entry.source, text, entry.weight, "word part") for _, text in found[:MAX_STEM_WORDS]]

    # -- spelling -----------------------------------------------------------------------------

    def correct(self, word: str) -> str:
        """The word, or its correction when neither the index nor the thesaurus knows it."""
        if self.speller is None or len(word) < 5 or not word.isalpha() or self.is_known(word):
            return word
        if self.thesaurus and key_of(word) in self.thesaurus.phrases:
            return word
        fixed, distance = self.speller.correct_with_distance(fold(word))
        # A compound the word-part table can split is kept, unless one slip away is a word the
        # pages themselves use ("colonscopy" on a corpus that says "colonoscopy").
        splits = bool(self.thesaurus and self.thesaurus.word_parts(word))
        if fixed and (not splits or (distance <= 1 and self.speller.on_pages(fixed))):
            self.out.corrections[word] = fixed
            return fixed
        return word

    def is_known(self, word: str) -> bool:
        if self.speller is not None and self.speller.known(fold(word)):
            return True
        return any(self.reader.doc_frequency(f, t) for t in terms(word) for f in DF_FIELDS)

    # -- the Whoosh path (phrases, AND/OR, parentheses with operators) --------------------------

    def node(self, node) -> wq.Query | None:
        if isinstance(node, Bool):
            parts = [q for q in (self.node(n) for n in node.items) if q is not None]
            if not parts:
                return None
            return (wq.And if node.op == "and" else wq.Or)(parts) if len(parts) > 1 else parts[0]
        if isinstance(node, Not):
            inner = self.node(node.child)
            if isinstance(inner, wq.Not):  # NOT NOT x is x (Whoosh fails on a negated negation)
                return inner.query
            return wq.Not(inner) if inner is not None else None
        if not isinstance(node, Seq):
            node = Seq((node,))
        positive: list[wq.Query] = []
        negative: list[wq.Query] = []
        run: list[Word] = []

        def flush() -> None:
            if run:
                positive.extend(self.whoosh_concept(c) for c in self.free_words(drop_excluded(run)))
                run.clear()

        for item in node.items:
            if isinstance(item, Word) and item.field is None:
                run.append(item)
                continue
            flush()
            if isinstance(item, Not):
                q = self.node(item.child)
                if isinstance(q, wq.Not):  # NOT NOT x is x
                    positive.append(q.query)
                elif q is not None:
                    negative.append(q)
            elif isinstance(item, Word):
                concept = self.concept([self.correct(item.text)], [], (item.field,))
                if concept:
                    positive.append(self.whoosh_concept(concept))
            elif isinstance(item, Phrase):
                q = self.phrase(item.text, (item.field,) if item.field else self.fields)
                if q is not None:
                    positive.append(q)
            elif isinstance(item, (Code, CodePrefix, CodeRange)):
                positive.append(self.code(item))
            else:
                q = self.node(item)
                if q is not None:
                    positive.append(q)
        flush()
        if not positive and not negative:
            return None
        base = _or(positive) or wq.Every()
        if negative:
            return wq.AndNot(base, _or(negative))
        return base

    def whoosh_concept(self, concept: Concept) -> wq.Query:
        alts = []
        for alt in concept.alts:
            per_term = alt.per_term
            alts.append(_or([self.term_any_field(t, per_term, alt.fields) for t in alt.terms]))
        return alts[0] if len(alts) == 1 else wq.DisjunctionMax(alts)

    def term_any_field(self, term: str, weight: float, fields: tuple[str, ...]) -> wq.Query:
        return _or([wq.Term(f, term, boost=weight * self.boosts.get(f, 1.0)) for f in fields])

    def phrase(self, text: str, fields: tuple[str, ...]) -> wq.Query | None:
        """Quoted words in order, in any of the fields; never expanded."""
        phrase_terms = terms(text)
        if not phrase_terms:  # only punctuation between the quotes
            return None
        self.out.highlight.update(phrase_terms)
        self.out.concepts.append(frozenset(phrase_terms))
        if len(phrase_terms) == 1:
            return self.term_any_field(phrase_terms[0], 1.0, fields)
        return _or([wq.Phrase(f, phrase_terms, boost=PHRASE_BOOST * self.boosts.get(f, 1.0)) for f in fields])

    def code(self, item: Code | CodePrefix | CodeRange) -> wq.Query:
        """Exact code first, then pages listing it among Similar Codes; codes are never fuzzed."""
        if isinstance(item, Code):
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


__all__ = ["Compiled", "Compiler", "Expansion", "Settings"]
