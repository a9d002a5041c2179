"""Parsed query -> a scoring plan, plus for structured queries the Whoosh query deciding which pages match.

Every query is ranked by the one scorer (engine.py). Free words are optional and their thesaurus
expansions may bring pages. Phrases, AND/OR/NOT, field scopes and code prefixes mixed with words
decide the set of matching pages from the user's own words only (as corrected, and their
spelling variants): an expansion never makes a page satisfy a required or excluded clause.

Free words become *concepts*: the word as typed (weight 1) plus its thesaurus expansions (lower
weights). A concept counts once however many of its synonyms a page contains (the best
alternative wins); concepts add up, so pages matching more of them rank higher, and a coverage
factor rewards that further. Whoosh's OrGroup.factory is never used: it scores 0.0 when only one
query term is live in a field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from procsearch.index.analysis import fold, stem_word, terms
from procsearch.index.boosts import RankingConfig
from procsearch.index.schema import HEADER_FIELDS

from .engine import Alt, Concept, Plan
from .parse import Bool, Code, CodePrefix, CodeRange, Not, ParsedQuery, Phrase, Seq, Word
from .spelling import Speller
from .thesaurus import (ADJECTIVE_ENDINGS, APPROACHES, STEM_KIND, WEIGHTS, Entry, Thesaurus, key_of,
                        split_axes)

if TYPE_CHECKING:  # Whoosh queries are built (and whoosh.query loaded) only for structured queries
    from whoosh import query as wq
    from whoosh.reading import IndexReader

# Function words, and the filler of code-set descriptions ("Other ... not otherwise specified"),
# dropped from free text; still searchable inside quotes or with a field scope.
QUERY_STOP = frozenset("""the of an and to in on for by at from into is are was be as its this that or
other unspecified specified otherwise nos nec elsewhere classified mention
i me my we our you your it they their he she his her how what when why where which who whom
can could will would should shall do does did am been""".split())
# "site" after these words says nothing about the procedure ("of other specified site").
FILLER_NOUNS = frozenset(["site", "sites"])
QUALIFYING_STOP = frozenset(["other", "unspecified", "specified", "multiple", "any"])
UNSEARCHED = frozenset(t for w in QUERY_STOP for t in terms(w))
APPROACH_TERMS = frozenset(t for a in APPROACHES for t in terms(a)) - UNSEARCHED
EXCLUDING = frozenset(["without", "except", "excluding"])
MAX_EXCLUDED_WORDS = 4


@dataclass(frozen=True)
class Expansion:
    """An expansion applied to the query, as reported by --explain and the JSON output."""

    source: str
    target: str
    weight: float
    kind: str


@dataclass
class Compiled:
    """A plan for the scorer (or a code listing), the Whoosh query deciding the matching pages of a
    structured query, and what the searcher reports."""

    plan: Plan | None = None
    match: wq.Query | None = None
    concepts: list[frozenset[str]] = field(default_factory=list)
    highlight: set[str] = field(default_factory=set)
    expansions: list[Expansion] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)
    code_listing: list[CodePrefix | CodeRange] = field(default_factory=list)


def is_simple(node) -> bool:
    """Free words and codes only: optional words whose expansions may bring pages. Anything else
    (NOT, phrases, AND/OR, scopes) decides its matching pages from the user's words first."""
    items = flatten(node)
    return any(isinstance(i, (Word, Code)) for i in items) and \
        all(isinstance(i, Code) or (isinstance(i, Word) and i.field is None) for i in items)


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


def positive_items(node) -> list:
    """The words, phrases and codes a structured query asks for (not those under NOT), in order:
    what ranks the pages its Whoosh query matches."""
    if isinstance(node, Not):
        return []
    if isinstance(node, Bool):
        return [x for n in node.items for x in positive_items(n)]
    if isinstance(node, Seq):
        return [x for n in node.items for x in positive_items(n)]
    if isinstance(node, (CodePrefix, CodeRange)):
        return []
    return [node]


class Compiler:
    """Turns a parsed query into what the engine runs: plan, concepts, highlights, corrections."""

    def __init__(self, config: RankingConfig, reader: IndexReader, thesaurus: Thesaurus | None,
                 speller: Speller | None, fields: tuple[str, ...] | None = None,
                 doc_frequency: Callable[[str, str], int] | None = None) -> None:
        self.config = config
        settings = config
        self.reader = reader
        # (field, term) -> pages: the engine's cached look-ups when given (a query asks about its
        # words in every searched field, and each uncached look-up probes every segment).
        self.doc_frequency = doc_frequency or reader.doc_frequency
        self.thesaurus = thesaurus
        self.speller = speller
        self.fields = fields or settings.default_fields
        self.expansion_fields = tuple(f for f in self.fields if f in settings.expansion_fields) or self.fields
        self.out = Compiled()

    def compile(self, parsed: ParsedQuery) -> Compiled:
        root = self.resolve_codes(parsed.root)
        items = flatten(root)
        listing = [i for i in items if isinstance(i, (CodePrefix, CodeRange))]
        if listing and all(isinstance(i, (CodePrefix, CodeRange)) for i in items):
            self.out.code_listing = listing
        elif is_simple(root):
            self.out.plan = self.plan(items)
        else:
            from whoosh import query as wq

            self.out.plan = self.plan(positive_items(root), negatives=False)
            q = self.match_node(root)
            self.out.match = q if q is not None else wq.NullQuery
        return self.out

    def resolve_codes(self, node):
        """Code atoms as the index can answer them: a code with no page of its own but codes under
        it lists them ("E11."); a bare prefix no code starts with, or a short one among words, is a
        word ("L4 fusion")."""
        if isinstance(node, Seq):
            mixed = any(not isinstance(i, (Code, CodePrefix, CodeRange)) for i in flatten(node))
            return Seq(tuple(self.resolve_code(i, mixed) for i in node.items))
        if isinstance(node, Bool):
            return Bool(node.op, tuple(self.resolve_codes(i) for i in node.items))
        if isinstance(node, Not):
            return Not(self.resolve_codes(node.child))
        return self.resolve_code(node, True)

    def resolve_code(self, node, mixed: bool):
        if isinstance(node, (Seq, Bool, Not)):
            return self.resolve_codes(node)
        if isinstance(node, Code) and not node.modifier and not self.doc_frequency("code", node.code) \
                and not self.doc_frequency("similar_codes", node.code) and self.has_codes_under(node.code):
            return CodePrefix(node.code)
        if isinstance(node, CodePrefix) and node.bare:
            if not self.has_codes_under(node.prefix) or (mixed and len(node.prefix) < self.config.min_mixed_prefix):
                return Word(node.prefix.lower())
        return node

    def has_codes_under(self, prefix: str) -> bool:
        return any(True for _ in self.reader.expand_prefix("code", prefix))

    # -- the fast path ------------------------------------------------------------------------

    def plan(self, items: list, negatives: bool = True) -> Plan:
        """The scorer's plan for the items' words, phrases and codes (and NOT words, when the
        scorer rather than a Whoosh query applies them)."""
        plan = Plan(unsearched=UNSEARCHED)
        run: list[Word] = []

        def flush() -> None:
            if run:
                words = drop_excluded(run)
                plan.concepts.extend(self.free_words(words))
                typed = [t for w in words if fold(w) not in QUERY_STOP for t in terms(w)]
                if 2 <= len(typed) <= 6 and not plan.phrase:
                    plan.phrase = tuple(typed)
                    plan.phrase_text = " ".join(w for w in words if fold(w) not in QUERY_STOP)
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
            elif isinstance(item, Phrase):
                concept = self.phrase_concept(item)
                if concept:
                    plan.concepts.append(concept)
                    typed = concept.alts[0].terms
                    if 2 <= len(typed) <= 6 and not plan.phrase:
                        plan.phrase = typed
                        plan.phrase_text = item.text
            elif isinstance(item, Not) and negatives:
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
            source = " ".join(span or words[i:end])
            derived = [c for c in (self.concept([], g, None, typed=False, scale=scale, source=source)
                                   for g in groups) if c]
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
        if typed and not any(self.doc_frequency(f, t) for t in typed for f in HEADER_FIELDS):
            return self.config.absent_scale
        return 1.0

    def concept(self, words: list[str], entries: list[Entry] | None,
                fields: tuple[str | None, ...] | None, typed: bool = True, scale: float = 1.0,
                source: str = "") -> Concept | None:
        """What the user typed at weight 1, its expansions at theirs times `scale` (a word part has
        no typed form)."""
        use_fields = tuple(f for f in (fields or ()) if f) or self.fields
        typed_terms = tuple(t for w in words for t in terms(w))
        alts = [Alt(typed_terms, 1.0, use_fields, " ".join(words))] if typed and typed_terms else []
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
                weight = self.expansion_weight(entry)
                if scale != 1.0 and entry.kind != "spelling":
                    weight = max(weight, min(self.config.absent_cap, weight * scale))
                alts.append(Alt(alt_terms, weight, use_fields if entry.kind == "spelling" else exp_fields,
                                entry.target))
                self.out.expansions.append(Expansion(" ".join(words) or source or " ".join(entry.source), entry.target,
                                                     weight, entry.kind))
        if not alts:
            return None
        all_terms = frozenset(t for a in alts for t in a.terms)
        self.out.highlight.update(all_terms)
        self.out.concepts.append(all_terms)
        return Concept(alts)

    def expansion_weight(self, entry: Entry) -> float:
        """The entry's weight under this ranking configuration: the thesaurus is parsed with the
        bundled weights (WEIGHTS), which a configuration of its own may change per kind."""
        kind = "word part" if entry.kind == STEM_KIND else entry.kind
        base = WEIGHTS.get(kind)
        wanted = self.config.expansion_weight(kind)
        if not base or wanted is None or wanted == base:
            return entry.weight
        return entry.weight * wanted / base

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
        if self.doc_frequency("title", stem_word(folded)):
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
            found.append((self.doc_frequency("title", text), text))
        found.sort(reverse=True)
        return [Entry(entry.source, text, entry.weight, "word part") for _, text in found[:self.config.max_stem_words]]

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
        # Any searched section counts: a word only Recovery uses ("scabs") is not a typo.
        return any(self.doc_frequency(f, t) for t in terms(word) for f in self.fields)

    def phrase_concept(self, item: Phrase) -> Concept | None:
        """Quoted words: a concept of the typed words only, never expanded."""
        phrase_terms = tuple(terms(item.text))
        if not phrase_terms:  # only punctuation between the quotes
            return None
        self.out.highlight.update(phrase_terms)
        self.out.concepts.append(frozenset(phrase_terms))
        return Concept([Alt(phrase_terms, 1.0, (item.field,) if item.field else self.fields, item.text)])

    # -- which pages a structured query matches (the user's words only) ----------------------

    def match_node(self, node) -> wq.Query | None:
        from whoosh import query as wq

        if isinstance(node, Bool):
            parts = [q for q in (self.match_node(n) for n in node.items) if q is not None]
            if not parts:
                return None
            return (wq.And if node.op == "and" else wq.Or)(parts) if len(parts) > 1 else parts[0]
        if isinstance(node, Not):
            inner = self.match_node(node.child)
            if isinstance(inner, wq.Not):  # NOT NOT x is x (Whoosh fails on a negated negation)
                return inner.query
            return wq.Not(inner) if inner is not None else None
        if not isinstance(node, Seq):
            node = Seq((node,))
        positive: list[wq.Query] = []
        negative: list[wq.Query] = []
        filters: list[wq.Query] = []
        run: list[Word] = []

        def flush() -> None:
            if run:
                words = [w for w in drop_excluded(run) if fold(w) not in QUERY_STOP]
                positive.extend(q for q in (self.word_query(w, self.fields) for w in words) if q is not None)
                run.clear()

        for item in node.items:
            if isinstance(item, Word) and item.field is None:
                run.append(item)
                continue
            flush()
            if isinstance(item, Not):
                q = self.match_node(item.child)
                if isinstance(q, wq.Not):  # NOT NOT x is x
                    positive.append(q.query)
                elif q is not None:
                    negative.append(q)
            elif isinstance(item, Word):
                q = self.word_query(item.text, (item.field,))
                if q is not None:
                    positive.append(q)
            elif isinstance(item, Phrase):
                q = self.phrase_query(item.text, (item.field,) if item.field else self.fields)
                if q is not None:
                    positive.append(q)
            elif isinstance(item, (CodePrefix, CodeRange)):
                filters.append(self.code_query(item))
            elif isinstance(item, Code):
                positive.append(self.code_query(item))
            else:
                q = self.match_node(item)
                if q is not None:
                    positive.append(q)
        flush()
        if not positive and not negative and not filters:
            return None
        # Code prefixes among words filter; the words then only rank ("6227 lumbar").
        base = _or(filters) or _or(positive) or wq.Every()
        if negative:
            return wq.AndNot(base, _or(negative))
        return base

    def word_query(self, word: str, fields: tuple[str, ...]) -> wq.Query | None:
        """A word as typed (or as corrected, or its spelling variant) in any of the fields."""
        from whoosh import query as wq

        forms = dict.fromkeys([word, self.correct(word)])
        if self.thesaurus:
            forms.update(dict.fromkeys(e.target for e in self.thesaurus.phrases.get(key_of(word), ())
                                       if e.kind == "spelling"))
        alts = []
        for form in forms:
            ts = terms(form)
            if ts:
                alts.extend(wq.Term(f, ts[0]) if len(ts) == 1 else wq.And([wq.Term(f, t) for t in ts]) for f in fields)
        return _or(alts)

    def phrase_query(self, text: str, fields: tuple[str, ...]) -> wq.Query | None:
        """Quoted words in this order, in any of the fields."""
        from whoosh import query as wq

        phrase_terms = terms(text)
        if not phrase_terms:
            return None
        if len(phrase_terms) == 1:
            return _or([wq.Term(f, phrase_terms[0]) for f in fields])
        return _or([wq.Phrase(f, phrase_terms) for f in fields])

    @staticmethod
    def code_query(item: Code | CodePrefix | CodeRange) -> wq.Query:
        """The code itself or pages listing it among Similar Codes; codes under a prefix or in a range."""
        from whoosh import query as wq

        if isinstance(item, Code):
            return wq.Or([wq.Term("code", item.code), wq.Term("similar_codes", item.code)])
        if isinstance(item, CodePrefix):
            return wq.Prefix("code", item.prefix)
        return wq.TermRange("code", item.low, item.high)


def _or(queries: list[wq.Query]) -> wq.Query | None:
    from whoosh import query as wq

    if not queries:
        return None
    return queries[0] if len(queries) == 1 else wq.Or(queries)


__all__ = ["Compiled", "Compiler", "Expansion"]
