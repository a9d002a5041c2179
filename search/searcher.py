"""The embeddable search API: ``Searcher.open()``, ``.search()``, ``.get()``, ``.similar()``, ``.suggest()``.

Results are this module's frozen dataclasses, never Whoosh objects. One Searcher is safe to share
between threads (Whoosh readers are not, so calls are serialised) and picks up a new index
generation as soon as a build or update publishes one.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Collection
from dataclasses import dataclass
from types import TracebackType

from whoosh import query as wq
from whoosh import scoring
from whoosh import searching as whoosh_searching

from procsearch.index import default_fields, expansion_fields, field_boosts
from procsearch.index.reader import open_reader
from procsearch.index import store
from procsearch.index.errors import IndexMissingError
from procsearch.index.location import default_index_dir
from procsearch.index.reader import generation_token
from procsearch.index.schema import FIELD_TO_LABEL, SECTION_FIELDS, TEXT_FIELDS
from procsearch.index.analysis import fold
from procsearch.ingest.codes import normalize_code
from procsearch.ingest.record import ProcedureRecord

from .compiler import Compiler, Expansion, Settings
from .engine import COORD_BASE, Engine
from .completion import Completer, Completion
from .facets import FacetCounter, Facets
from .parse import CodePrefix, CodeRange, parse_query
from .snippets import Snippet, make_snippets
from .spelling import Speller
from .thesaurus import Thesaurus, load_thesaurus

log = logging.getLogger(__name__)
RERANK_DEPTH = 50  # hits re-scored for coverage; also keeps Whoosh's limit (and so scores) stable
COMMON_FRACTION = 0.04  # a term on more than this share of pages only re-scores candidates


@dataclass(frozen=True)
class Hit:
    code: str
    code_system: str
    title: str
    name: str
    technical_term: str
    score: float
    snippets: tuple[Snippet, ...]
    matched_sections: tuple[str, ...]
    source: str
    explanation: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Results:
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

    def __init__(self, index_dir: str, thesaurus_files: list[str] | None = None, expand: bool = True) -> None:
        self.index_dir = index_dir
        self.expand = expand
        self._thesaurus_files = thesaurus_files
        self._lock = threading.RLock()
        self._searcher = None
        self._open()

    @classmethod
    def open(cls, index_dir: str | None = None, thesaurus_files: list[str] | None = None,
             expand: bool = True) -> "Searcher":
        """Open an index; with no directory, the bundled corpus's index (built on first use)."""
        if index_dir is None:
            index_dir = ensure_bundled_index()
        return cls(index_dir, thesaurus_files, expand)

    def __enter__(self) -> "Searcher":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
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
        self._searcher = whoosh_searching.Searcher(reader, weighting=scoring.BM25F(), fromindex=ix)
        self._thesaurus: Thesaurus = load_thesaurus(self._thesaurus_files)
        vocab = dict(store.read_vocab(gen))
        for word in self._thesaurus.vocabulary():
            vocab.setdefault(word, 0)  # known, but not on any page
        self._speller = Speller(vocab)
        self._settings = Settings(field_boosts(), default_fields(), expansion_fields())
        self._boosts = self._settings.boosts
        n = self._searcher.doc_count_all()
        self._engine = Engine(self._searcher, self._boosts, max(50, int(n * COMMON_FRACTION)))
        self._facets = FacetCounter(self._engine)
        self._ix = ix
        # Built on the first complete() of a generation. The old one is not closed here: a
        # completion may still be running on it (they do not take this lock); it goes with its last user.
        self._completer: Completer | None = None
        if old is not None:
            old.close()

    def _refresh(self) -> None:
        token = generation_token(self.index_dir)
        if token and token != self._token:
            self._open()

    # -- queries ------------------------------------------------------------------------------

    def search(self, query: str, limit: int = 10, offset: int = 0, code_system: str | None = None,
               sections: list[str] | tuple[str, ...] | None = None, expand: bool | None = None,
               explain: bool = False, facets: bool = False) -> Results:
        """Ranked hits with snippets; any string is accepted (bad syntax falls back to words).
        ``facets=True`` also counts the matched pages per code system and section (Results.facets)."""
        limit = max(0, int(limit))
        offset = max(0, int(offset))
        parsed = parse_query(query)
        expand = self.expand if expand is None else expand
        systems = list(parsed.systems) + ([code_system] if code_system else [])
        section_fields = tuple(dict.fromkeys(list(parsed.sections) + list(sections or ())))
        with self._lock:
            self._refresh()
            s = self._searcher
            fields = tuple(f for f in section_fields if f in TEXT_FIELDS) or None
            compiler = Compiler(self._settings, s.reader(), self._thesaurus if expand else None,
                                self._speller, fields)
            compiled = compiler.compile(parsed)
            explained: dict[int, dict[str, float]] = {}
            matched: list[Collection[int]] = []  # every matched page, before the system filter
            if compiled.code_listing:
                ranked = self._list_codes(s, compiled.code_listing, systems)
                total = len(ranked)
                if facets:
                    matched.append({d for d, _, _ in (self._list_codes(s, compiled.code_listing, [])
                                                      if systems else ranked)})
            elif compiled.plan is not None:
                allowed = self._engine.docs_in_systems(systems) if systems else None
                scored, total = self._engine.run(compiled.plan, allowed, explain,
                                                 matched.append if facets else None)
                ranked = [(r.docnum, r.score, None) for r in scored]
                if explain:
                    explained = self._engine.explain(compiled.plan, [d for d, _, _ in ranked[offset:offset + limit]])
            else:
                flt = wq.Or([wq.Term("code_system", x) for x in systems]) if systems else None
                depth = max(RERANK_DEPTH, offset + limit)
                raw = s.search(compiled.query, limit=depth, filter=flt, terms=bool(compiled.concepts))
                ranked = self._rerank(raw, compiled.concepts)
                total = raw.scored_length() if raw.scored_length() < depth else raw.estimated_length()
                if explain:
                    explained = {d: self._explain(s, d, compiled.query) for d, _, _ in ranked[offset:offset + limit]}
                if facets:  # the exact count comes with the pages; Whoosh's total past `depth` is an estimate
                    docs = set(s.docs_for_query(compiled.query))
                    matched.append(docs)
                    total = len(self._in_systems(docs, systems)) if systems else len(docs)
            page = ranked[offset:offset + limit]
            hits = tuple(self._hit(s, docnum, score, compiled, fields, explained.get(docnum))
                         for docnum, score, _ in page)
            counted = self._count_facets(matched[0], systems, compiled, fields) if matched else None
        corrected = None
        if compiled.corrections:
            corrected = query
            for wrong, right in compiled.corrections.items():
                corrected = corrected.replace(wrong, right)
        suggestions = tuple(self.suggest(query)) if not hits else ()
        return Results(query, hits, max(total, len(ranked)), offset, corrected,
                       tuple(compiled.corrections.items()), tuple(_unique(compiled.expansions)),
                       parsed.notes, suggestions, counted)

    def _in_systems(self, docs: Collection[int], systems: list[str]) -> set[int]:
        pages = self._facets.systems()
        return set().union(*(pages.get(x, ()) for x in systems)).intersection(docs)

    def _count_facets(self, matched: Collection[int], systems: list[str], compiled,
                      fields: tuple[str, ...] | None) -> Facets:
        """Facets of one search (called under the lock): systems over every matched page, sections
        over the pages the system filter keeps, in the sections searched (the default fields' when
        the query names none)."""
        counter = self._facets
        if not isinstance(matched, (set, frozenset, dict)):
            matched = set(matched)
        kept = self._in_systems(matched, systems) if systems else matched
        searched = fields or self._settings.default_fields
        sections = tuple(f for f in searched if f in SECTION_FIELDS)
        return Facets(counter.count_systems(matched),
                      counter.count_sections(kept, _typed_terms(compiled, tuple(searched)), sections))

    def _list_codes(self, s, items, systems: list[str]) -> list[tuple[int, float, None]]:
        """Codes under prefixes and in ranges, in code order, read off the term list (no scoring)."""
        reader = s.reader()
        codes: set[str] = set()
        for item in items:
            if isinstance(item, CodePrefix):
                for term in reader.expand_prefix("code", item.prefix):
                    codes.add(term.decode() if isinstance(term, bytes) else term)
                    if len(codes) > 100_000:
                        break
            elif isinstance(item, CodeRange):
                for term in reader.terms_from("code", item.low):
                    text = term[1].decode() if isinstance(term[1], bytes) else term[1]
                    if term[0] != "code" or text > item.high:
                        break
                    codes.add(text)
        out = []
        for code in sorted(codes):
            docnum = s.document_number(code=code)
            if docnum is None:
                continue
            if systems and s.stored_fields(docnum).get("code_system") not in systems:
                continue
            out.append((docnum, 1.0, None))
        return out

    def _rerank(self, raw, concepts: list[frozenset[str]]) -> list[tuple[int, float, object]]:
        """Multiply scores by how many of the query's concepts each page matched."""
        out = []
        for hit in raw:
            score = hit.score
            if concepts and hit.results.has_matched_terms():
                matched = {t.decode("utf-8") if isinstance(t, bytes) else t for _, t in hit.matched_terms()}
                coverage = sum(1 for c in concepts if c & matched) / len(concepts)
                score *= COORD_BASE + coverage
            out.append((hit.docnum, score, hit))
        out.sort(key=lambda x: -x[1])
        return out

    def _hit(self, s, docnum: int, score: float, compiled, fields, explained: dict[str, float] | None) -> Hit:
        stored = s.stored_fields(docnum)
        record = ProcedureRecord.from_json(stored["record"])
        snippets, matched = make_snippets(record, compiled.highlight, self._boosts, fields or ())
        explanation = tuple(sorted(((FIELD_TO_LABEL.get(k, k), round(v, 3)) for k, v in explained.items()),
                                   key=lambda kv: -kv[1])) if explained else ()
        return Hit(record.code, record.code_system, record.title, record.name, record.technical_term,
                   round(score, 4), snippets, matched, record.source, explanation)

    def _explain(self, s, docnum: int, q: wq.Query) -> dict[str, float]:
        """Per-field sum of the term scores that matched this page (before concept max and coverage)."""
        totals: dict[str, float] = {}
        for leaf in q.leaves():
            fieldname = getattr(leaf, "fieldname", None)
            if fieldname is None:
                continue
            try:
                m = leaf.matcher(s, s.context())
                if m.is_active():
                    m.skip_to(docnum)
                if m.is_active() and m.id() == docnum:
                    totals[fieldname] = totals.get(fieldname, 0.0) + m.score()
            except Exception:  # a leaf that cannot score alone (e.g. a range) is left out
                continue
        return totals

    def get(self, code: str) -> ProcedureRecord | None:
        """The whole record of a code (62273, E11.9, 62273-50 all work), or None."""
        wanted = normalize_code(code).code
        with self._lock:
            self._refresh()
            stored = self._searcher.document(code=wanted)
        return ProcedureRecord.from_json(stored["record"]) if stored else None

    def similar(self, code: str, limit: int = 10) -> list[tuple[str, str, str]]:
        """(code, title, why) of related pages: the page's own Similar Codes first, then look-alikes."""
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
            s = self._searcher
            docnum = s.document_number(code=record.code)
            text = " ".join([record.title, record.name, record.section("Summary")])
            for hit in s.more_like(docnum, "summary", text=text, top=limit + len(seen)):
                if hit["code"] in seen:
                    continue
                seen.add(hit["code"])
                out.append((hit["code"], ProcedureRecord.from_json(hit["record"]).title, "similar wording"))
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

    def suggest(self, text: str) -> list[str]:
        """Spelling corrections for the unknown words of a query, best first."""
        out = []
        with self._lock:
            reader = self._searcher.reader()
            compiler = Compiler(self._settings, reader, self._thesaurus, self._speller)
            for raw in text.split():
                word = raw.strip("\"'()[]{}.,;:!?*-+")
                if len(word) >= 4 and word.isalpha() and not compiler.is_known(word):
                    for s in self._speller.suggest(fold(word), 3):
                        out.append(text.replace(word, s))
        return list(dict.fromkeys(out))


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


def ensure_bundled_index() -> str:
    """The bundled corpus's index directory, built first if it does not exist yet."""
    from procsearch.corpus import corpus_dir
    from procsearch.index import build_index

    index_dir = default_index_dir()
    if not store.has_index(index_dir):
        log.warning("building the index of the bundled corpus in %s (first use)", index_dir)
        build_index([str(corpus_dir())], index_dir)
    return index_dir


__all__ = ["Completion", "Hit", "IndexMissingError", "IndexStatus", "Results", "Searcher", "Snippet", "ensure_bundled_index"]
