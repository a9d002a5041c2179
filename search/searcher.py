"""The embeddable search API: ``Searcher.open()``, ``.search()``, ``.get()``, ``.similar()``, ``.suggest()``.

Results are this module's frozen dataclasses, never Whoosh objects. One Searcher is safe to share
between threads (Whoosh readers are not, so calls are serialised) and picks up a new index
generation as soon as a build or update publishes one.
"""

from __future__ import annotations

import functools
import math
import logging
import os
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

import numpy as np

from procsearch.index import integrity
from procsearch.index.boosts import RankingConfig, load_ranking
from procsearch.index.reader import open_reader
from procsearch.index import store
from procsearch.index.catalog import ensure_bundled_index
from procsearch.index.errors import IndexMissingError
from procsearch.index.location import INDEX_ENV, resolve_index
from procsearch.index.reader import generation_token
from procsearch.index.schema import FIELD_TO_LABEL, POSITION_FIELDS, SECTION_FIELDS, TEXT_FIELDS, RecordReader
from procsearch.index.view import IndexView
from procsearch.index.analysis import fold
from procsearch.ingest.codes import normalize_code
from procsearch.ingest.errors import ProcsearchError
from procsearch.ingest.record import ProcedureRecord

from .arguments import check_count, check_search_args, check_text
from .compiler import Compiler, Expansion
from .engine import Contribution, Engine
from .completion import Completer, Completion
from .facets import FacetCounter, Facets
from .phrases import PhraseCheck, needs_text_check
from .parse import CodePrefix, CodeRange, parse_query
from .snippets import HighlightWords, Snippet, Wording, make_snippets
from .spelling import Speller
from .thesaurus import Thesaurus, load_thesaurus

if TYPE_CHECKING:
    from whoosh import query as wq

log = logging.getLogger(__name__)


class SearcherClosedError(ProcsearchError):
    """A query on a Searcher after close(): open a new one instead."""


def _damage_reported(method):
    """A Whoosh error from a damaged index file becomes IndexCorruptError naming the file."""

    @functools.wraps(method)
    def wrapper(self: "Searcher", *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except ProcsearchError:
            raise
        except Exception as exc:
            integrity.raise_if_damaged(self.index_dir, exc)
            raise

    return wrapper


@dataclass(frozen=True)
class Hit:
    """One ranked page: what it is, how well it matched, and where (snippets, sections, fields)."""

    code: str
    code_system: str
    title: str
    name: str
    technical_term: str
    score: float
    snippets: tuple[Snippet, ...]
    matched_sections: tuple[str, ...]
    source: str
    # With explain=True: per field, and per (word, field), the shares of ``score`` (they add up to it).
    explanation: tuple[tuple[str, float], ...] = ()
    contributions: tuple[tuple[str, str, float], ...] = ()


@dataclass(frozen=True)
class Results:
    """One page of hits plus what a user needs to read them: total, corrections, expansions, notes."""

    query: str
    hits: tuple[Hit, ...]
    total: int
    offset: int
    corrected_query: str | None = None
    corrections: tuple[tuple[str, str], ...] = ()
    expansions: tuple[Expansion, ...] = ()
    notes: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()
    facets: Facets | None = None  # with search(..., facets=True)
    # Pages the query matched (what facets count). The ranking re-scores a bounded number of the
    # best candidates, so a broad query can match more pages than it ranks: ``total`` is how many
    # hits paging can list (offsets below it), ``matched`` how many pages matched (never fewer).
    matched: int | None = None

    def __post_init__(self) -> None:
        if self.matched is None:
            object.__setattr__(self, "matched", self.total)

    def __len__(self) -> int:
        return len(self.hits)

    def __iter__(self):
        return iter(self.hits)


@dataclass(frozen=True)
class IndexStatus:
    """Which generation a Searcher serves: for health checks and for telling replicas apart."""

    index_dir: str
    generation: str
    documents: int
    built_at: float
    updated_at: float
    schema_version: int


class Searcher:
    """An open index plus thesaurus and speller; use as a context manager or call close()."""

    def __init__(self, index_dir: str, thesaurus_files: list[str] | None = None, expand: bool = True,
                 ranking: RankingConfig | str | None = None) -> None:
        self.index_dir = index_dir
        self.expand = expand
        # The ranking configuration: given, read from the named file, or index/boosts.toml.
        self.ranking = ranking if isinstance(ranking, RankingConfig) else load_ranking(ranking)
        self._thesaurus_files = thesaurus_files
        self._lock = threading.RLock()
        self._searcher = None
        self._open()

    @classmethod
    def open(cls, index_dir: str | os.PathLike[str] | None = None, thesaurus_files: list[str] | None = None,
             expand: bool = True, ranking: RankingConfig | str | None = None) -> "Searcher":
        """Open an index by directory or by the name ``procsearch index list`` shows; with neither,
        the one PROCSEARCH_INDEX names, else the bundled corpus's index (built on first use).
        ``ranking``: a RankingConfig or a boosts file overriding index/boosts.toml."""
        return cls(locate_index(index_dir), thesaurus_files, expand, ranking)

    def __enter__(self) -> "Searcher":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Release the index files; later queries raise SearcherClosedError."""
        with self._lock:
            if self._completer is not None:
                self._completer.close()
                self._completer = None
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None

    # -- opening and refreshing ---------------------------------------------------------------

    def _open(self) -> None:
        gen, ix, reader = open_reader(self.index_dir)
        self._token = generation_token(self.index_dir)
        self._generation = gen
        self._meta = store.read_meta(gen)  # read now: a generation two updates old may be pruned
        old = self._searcher
        self._searcher = IndexView(reader, ix)  # Whoosh's Searcher only once a query needs it
        self._thesaurus: Thesaurus = load_thesaurus(self._thesaurus_files)
        vocab = dict(store.read_vocab(gen))
        for word in self._thesaurus.vocabulary():
            vocab.setdefault(word, 0)  # known, but not on any page
        self._speller = Speller(vocab)
        self._boosts = dict(self.ranking.fields)
        self._engine = Engine(self._searcher, self.ranking)
        self._records = RecordReader(reader)
        self._facets = FacetCounter(self._engine)
        self._ix = ix
        # Built on the first complete() of a generation. The old one is not closed here: a
        # completion may still be running on it (they do not take this lock); it goes with its last user.
        self._completer: Completer | None = None
        if old is not None:
            old.close()

    def _refresh(self) -> None:
        if self._searcher is None:
            raise SearcherClosedError(f"this Searcher of {self.index_dir} is closed; open a new one with Searcher.open()")
        token = generation_token(self.index_dir)
        if token and token != self._token:
            self._open()

    # -- queries ------------------------------------------------------------------------------

    @_damage_reported
    def search(self, query: str, limit: int = 10, offset: int = 0, code_system: str | None = None,
               sections: list[str] | tuple[str, ...] | None = None, expand: bool | None = None,
               explain: bool = False, facets: bool = False) -> Results:
        """Ranked hits with snippets; any string is accepted (bad syntax falls back to words).

        ``code_system`` and ``sections`` take keys or display names in any case ("cpt",
        "ICD-10-PCS", "risks", "Risks and Complications"); a value that is not one raises
        InvalidArgumentError (a ProcsearchError), as do a negative limit or offset and a query
        that is not a string. ``facets=True`` also counts the matched pages per code system and
        section (Results.facets).
        """
        args = check_search_args(query, limit, offset, code_system, sections)
        query, limit, offset = encodable(args.query), args.limit, args.offset
        parsed = parse_query(query)
        expand = self.expand if expand is None else expand
        systems = list(parsed.systems) + ([args.code_system] if args.code_system else [])
        section_fields = tuple(dict.fromkeys(list(parsed.sections) + list(args.sections)))
        with self._lock:
            self._refresh()
            s = self._searcher
            fields = tuple(f for f in section_fields if f in TEXT_FIELDS) or None
            compiler = Compiler(self.ranking, s.reader(), self._thesaurus if expand else None,
                                self._speller, fields, self._engine.field_df)
            compiled = compiler.compile(parsed)
            explained: dict[int, tuple[Contribution, ...]] = {}
            notes: list[str] = []
            matched: list[Collection[int] | np.ndarray] = []  # every matched page, before the system filter
            if compiled.code_listing:
                ranked = self._list_codes(s, compiled.code_listing, systems)
                total = len(ranked)
                if facets:
                    matched.append({d for d, _, _ in (self._list_codes(s, compiled.code_listing, [])
                                                      if systems else ranked)})
            else:
                allowed = self._engine.docs_in_systems(systems) if systems else None
                if compiled.match is not None:
                    phrases = PhraseCheck(s.reader(), self._docs_with_all, in_positions=self._engine.docs_with_phrase)
                    structured = _matching(s, compiled.match, phrases)
                    if phrases.note:
                        notes.append(phrases.note)
                    if facets:
                        matched.append(structured)
                    allowed = structured if allowed is None else structured & allowed
                on_match = matched.append if facets and compiled.match is None else None
                scored, total = self._engine.run(compiled.plan, allowed, required=compiled.match is not None,
                                                 on_match=on_match)
                ranked = [(r.docnum, r.score, None) for r in scored]
                if explain:
                    explained = self._engine.explain(compiled.plan, scored[offset:offset + limit])
            page = ranked[offset:offset + limit]
            words = self._highlight_words(compiled)  # shared by the hits' snippets
            hits = tuple(self._hit(s, docnum, score, compiled, fields, explained.get(docnum), words)
                         for docnum, score, _ in page)
            counted = self._count_facets(matched[0], systems, compiled, fields) if matched else None
        corrected = None
        if compiled.corrections:
            corrected = query
            for wrong, right in compiled.corrections.items():
                corrected = corrected.replace(wrong, right)
        suggestions = tuple(self.suggest(query)) if not hits else ()
        return Results(query, hits, len(ranked), offset, corrected,
                       tuple(compiled.corrections.items()), tuple(_unique(compiled.expansions)),
                       parsed.notes + tuple(notes), suggestions, counted, max(total, len(ranked)))

    def _count_facets(self, matched: Collection[int] | np.ndarray, systems: list[str], compiled,
                      fields: tuple[str, ...] | None) -> Facets:
        """Facets of one search (called under the lock): systems over every matched page, sections
        over the pages the system filter keeps, in the sections searched (the default fields' when
        the query names none). ``matched``: doc numbers, or the engine's mask of them."""
        counter = self._facets
        matched = counter.mask(matched)
        kept = counter.in_systems(matched, systems) if systems else matched
        searched = fields or self.ranking.default_fields
        sections = tuple(f for f in searched if f in SECTION_FIELDS)
        return Facets(counter.count_systems(matched),
                      counter.count_sections(kept, _typed_terms(compiled, tuple(searched)), sections))

    def _highlight_words(self, compiled) -> HighlightWords:
        """The query's highlighted terms for its hits' snippets, weighed so that the section holding
        the rare words the user typed is shown first. The words typed for a concept count each by
        its rarity over the pages (IDF); an expansion stands in for them: the mean rarity of its
        terms a section holds (over all its terms), times its expansion weight (below 1), and never
        more than the typed words times that weight. A concept derived from another (a word part,
        an axis of a thesaurus entry) is that concept's, so a section counts each concept once."""
        engine = self._engine
        where = self.ranking.page_df_fields  # the same look-ups for every term (the ranking's own)
        plan = compiled.plan
        concepts = plan.concepts if plan is not None else []
        typed_total: dict[int, float] = {}
        for c in concepts:
            if c.parent is None and c.alts and c.alts[0].weight >= 1.0:
                typed_total[id(c)] = sum(engine.rarity(t, where) for t in c.alts[0].terms)
        wordings = []
        for c in concepts:
            root = _root(c)
            cap = typed_total.get(id(root))
            for alt in c.alts:
                weights = {t: engine.rarity(t, where) * alt.weight for t in alt.terms}
                if cap is not None and c is root and alt is c.alts[0]:
                    wordings.append(Wording(id(root), weights))  # the words typed
                else:
                    wordings.append(Wording(id(root), weights, 1 / len(alt.terms),
                                            math.inf if cap is None else cap * alt.weight))
        covered = {t for w in wordings for t in w.weights}
        for term in sorted(compiled.highlight - covered):  # codes
            wordings.append(Wording(term, {term: engine.rarity(term, where)}))
        return HighlightWords(frozenset(compiled.highlight), wordings)

    def _docs_with_all(self, fieldname: str, terms: Sequence[str]) -> list[int]:
        """Live pages holding every term in the field: a phrase's candidates (see phrase_docs)."""
        return self._engine.docs_with_all(fieldname, terms).tolist()

    def _list_codes(self, s, items, systems: list[str]) -> list[tuple[int, float, None]]:
        """Codes under prefixes and in ranges, in code order, read off the term dictionary (no
        scoring; a range is read as the prefix its ends share)."""
        pages: dict[str, int] = {}
        for item in items:
            if isinstance(item, CodePrefix):
                pages.update(self._engine.code_pages(item.prefix))
            elif isinstance(item, CodeRange):
                shared = os.path.commonprefix([item.low, item.high])
                pages.update((code, doc) for code, doc in self._engine.code_pages(shared)
                             if item.low <= code <= item.high)
        allowed = self._engine.docs_in_systems(systems) if systems else None
        return [(doc, 1.0, None) for _, doc in sorted(pages.items()) if allowed is None or doc in allowed]

    def _hit(self, s, docnum: int, score: float, compiled, fields,
             explained: tuple[Contribution, ...] | None, words: HighlightWords | None = None) -> Hit:
        record = self._records.record(docnum)
        snippets, matched = make_snippets(record, compiled.highlight, self._boosts, fields or (), words=words)
        per_field: dict[str, float] = {}
        for c in explained or ():
            label = _field_label(c.field)
            per_field[label] = per_field.get(label, 0.0) + c.score
        explanation = tuple(sorted(((k, round(v, 3)) for k, v in per_field.items()), key=lambda kv: -kv[1]))
        contributions = tuple(sorted(((c.word, _field_label(c.field), round(c.score, 3)) for c in explained or ()),
                                     key=lambda x: -x[2]))
        return Hit(record.code, record.code_system, record.title, record.name, record.technical_term,
                   round(score, 4), snippets, matched, record.source, explanation, contributions)

    @_damage_reported
    def warm(self) -> int:
        """Read ahead what every search reads from the pages' headers (within the cache's bound),
        so the first searches of a long-lived process are as fast as later ones; returns the
        number of pages made ready. A later index generation starts cold again."""
        with self._lock:
            self._refresh()
            return self._engine.headers.preload()

    @_damage_reported
    def get(self, code: str) -> ProcedureRecord | None:
        """The whole record of a code (62273, E11.9, 62273-50 all work), or None."""
        wanted = normalize_code(encodable(check_text("code", code))).code
        with self._lock:
            self._refresh()
            docnum = self._searcher.document_number(code=wanted)
            return self._records.record(docnum) if docnum is not None else None

    @_damage_reported
    def similar(self, code: str, limit: int = 10) -> list[tuple[str, str, str]]:
        """(code, title, why) of related pages: the page's own Similar Codes first, then look-alikes."""
        limit = check_count("limit", limit)
        record = self.get(code)
        if record is None:
            return []
        out: list[tuple[str, str, str]] = []
        seen = {record.code}
        for other, label in record.similar_codes:
            if other in seen:
                continue
            seen.add(other)
            page = self.get(other)
            out.append((other, page.title if page else label, "listed on the page"))
        with self._lock:
            self._refresh()
            s = self._searcher
            docnum = s.document_number(code=record.code)
            text = " ".join([record.title, record.name, record.section("Summary")])
            for hit in s.more_like(docnum, "summary", text=text, top=limit + len(seen)):
                if hit["code"] in seen:
                    continue
                seen.add(hit["code"])
                out.append((hit["code"], self._records.record(hit.docnum).title, "similar wording"))
        return out[:max(limit, len(record.similar_codes))]

    def complete(self, text: str, limit: int = 8) -> list[Completion]:
        """Completions of a half-typed query: codes with that prefix, titles that begin with it,
        words that finish its last word (search-as-you-type; a few binary searches each)."""
        completer = self._completer
        if completer is None or generation_token(self.index_dir) != self._token:
            with self._lock:
                self._refresh()
                if self._completer is None:
                    self._completer = Completer(self._engine, self._speller.counts, self._ix.reader())
                completer = self._completer
        return completer.complete(text, limit)

    def completion_ready(self) -> bool:
        """Whether complete() would answer at once (no generation switch or table to build first)."""
        return self._completer is not None and generation_token(self.index_dir) == self._token

    def status(self) -> IndexStatus:
        """The generation this Searcher answers from (switching first if a newer one was published)."""
        with self._lock:
            self._refresh()
            gen, meta = self._generation, self._meta
            documents = self._searcher.doc_count()
        return IndexStatus(self.index_dir, os.path.basename(gen), documents, meta.built_at, meta.updated_at,
                           meta.schema_version)

    @_damage_reported
    def suggest(self, text: str) -> list[str]:
        """Spelling corrections for the unknown words of a query, best first."""
        text = check_text("text", text)
        out = []
        text = encodable(text)
        with self._lock:
            self._refresh()
            reader = self._searcher.reader()
            compiler = Compiler(self.ranking, reader, self._thesaurus, self._speller,
                                doc_frequency=self._engine.field_df)
            for raw in text.split():
                word = raw.strip("\"'()[]{}.,;:!?*-+")
                if len(word) >= 4 and word.isalpha() and not compiler.is_known(word):
                    for s in self._speller.suggest(fold(word), 3):
                        out.append(text.replace(word, s))
        return list(dict.fromkeys(out))


def encodable(text: str) -> str:
    """Any str as valid Unicode: lone surrogates (undecodable bytes of a command line or file name)
    become U+FFFD, so index terms can be encoded and nothing raises."""
    text = str(text)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _matching(s, q: wq.Query, phrases: PhraseCheck, within: set[int] | None = None) -> set[int]:
    """The live pages a structured query matches, by set algebra over its leaves (Whoosh's own
    AndNot matcher over unions of many field terms can let excluded pages through). ``within``:
    the pages an enclosing AND still allows, the only ones a phrase check needs to read."""
    from whoosh import query as wq  # only structured queries get here

    if isinstance(q, wq.And):
        # Parts answered from the index first; phrases are then read only on the pages they allow.
        first = [sub for sub in q.subqueries if not _reads_text(sub)]
        found = within
        for sub in first + [sub for sub in q.subqueries if _reads_text(sub)]:
            part = _matching(s, sub, phrases, found)
            found = part if found is None else found & part
        return set() if found is None else found
    if isinstance(q, wq.Or):
        # A phrase in fields without positions is read from the pages' stored text, once per page
        # for all those fields, and not at all for pages another branch already matched.
        checked: dict[tuple[str, ...], list[str]] = {}
        found: set[int] = set()
        for sub in q.subqueries:
            if needs_text_check(sub):
                checked.setdefault(tuple(sub.words), []).append(sub.fieldname)
            else:
                found |= _matching(s, sub, phrases, within)
        for words, fields in checked.items():
            found |= phrases.docs(words, fields, skip=found, within=within)
        return found
    if needs_text_check(q):
        return phrases.docs(q.words, (q.fieldname,), within=within)
    if isinstance(q, wq.AndNot):
        kept = _matching(s, q.a, phrases, within)
        return kept - _matching(s, q.b, phrases, kept)
    if isinstance(q, wq.Not):
        return _matching(s, wq.Every(), phrases, within) - _matching(s, q.query, phrases, within)
    if q is wq.NullQuery:
        return set()
    if isinstance(q, wq.Phrase) and q.fieldname in POSITION_FIELDS and q.slop == 1 and phrases.in_positions:
        found = phrases.in_positions(q.fieldname, q.words)
        if found is not None:
            return set(found)
    if isinstance(q, wq.Term) and q.fieldname in TEXT_FIELDS and isinstance(q.text, str):
        return set(phrases.docs_with_all(q.fieldname, (q.text,)))  # the engine's cached posting arrays
    return set(s.docs_for_query(q))


def _reads_text(q: wq.Query) -> bool:
    """Whether answering ``q`` may read pages' stored text (a phrase without positions in it)."""
    return needs_text_check(q) or any(_reads_text(sub) for sub in q.children())


def _root(concept):
    """The concept a derived one (a word part, an axis of a thesaurus entry) comes from."""
    while concept.parent is not None:
        concept = concept.parent
    return concept


def _field_label(fieldname: str) -> str:
    """A field as users name it: the section's heading, or the header field's own name."""
    return FIELD_TO_LABEL.get(fieldname, fieldname)


def _typed_terms(compiled, searched: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """The terms of the words the user typed (as corrected) and of the codes, each with the fields
    it was searched in: what a section counts as matched by, for facets (expansions are matched
    in titles and summaries)."""
    if compiled.plan is None:
        return {t: searched for t in compiled.highlight}
    out: dict[str, tuple[str, ...]] = {}
    for c in compiled.plan.concepts:
        if c.parent is None and c.alts and c.alts[0].weight >= 1.0:
            for t in c.alts[0].terms:
                out.setdefault(t, c.alts[0].fields)
    for code in compiled.plan.codes:
        out.setdefault(code.lower(), searched)
    return out


def _unique(expansions: list[Expansion]) -> list[Expansion]:
    seen, out = set(), []
    for e in expansions:
        if (e.source, e.target) not in seen:
            seen.add((e.source, e.target))
            out.append(e)
    return out


def locate_index(index_dir: str | os.PathLike[str] | None = None) -> str:
    """The index a caller means: a directory or a listed name; with none, PROCSEARCH_INDEX, else the
    bundled corpus's index, (re)built first when it is missing, outdated or its corpus moved."""
    if index_dir:
        return resolve_index(index_dir)
    if os.environ.get(INDEX_ENV):
        return resolve_index(os.environ[INDEX_ENV])
    return ensure_bundled_index()


__all__ = ["Completion", "Hit", "IndexMissingError", "IndexStatus", "Results", "Searcher", "SearcherClosedError",
           "Snippet", "ensure_bundled_index", "locate_index"]
