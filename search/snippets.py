"""Section-labelled snippets with highlight offsets, chosen from the sections that matched best."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from procsearch.index.analysis import WORD_RE, analysed_word_terms, stem_prefix, word_terms
from procsearch.index.schema import LABEL_TO_FIELD
from procsearch.ingest.record import ProcedureRecord

SNIPPET_CHARS = 180


@dataclass(frozen=True)
class Snippet:
    """A fragment of one section; ``highlights`` are (start, end) offsets into ``text``."""

    section: str
    text: str
    highlights: tuple[tuple[int, int], ...] = ()

    def render(self, mark: "callable[[str], str]" = str.upper) -> str:
        """The text with each highlight passed through ``mark`` (bold on a terminal, upper case in tests)."""
        out, last = [], 0
        for start, end in self.highlights:
            out.append(self.text[last:start])
            out.append(mark(self.text[start:end]))
            last = end
        out.append(self.text[last:])
        return "".join(out)

    def html(self) -> str:
        """Escaped HTML with <mark> around highlights: page text is never trusted as markup."""
        return self.render_escaped("<mark>", "</mark>")

    def render_escaped(self, open_tag: str, close_tag: str) -> str:
        out, last = [], 0
        for start, end in self.highlights:
            out.append(html.escape(self.text[last:start]))
            out.append(open_tag + html.escape(self.text[start:end]) + close_tag)
            last = end
        out.append(html.escape(self.text[last:]))
        return "".join(out)


def _best_window(text: str, spans: list[tuple[int, int, str]], width: int) -> tuple[int, int]:
    """(start, end) of the fragment to show: the window of ``width`` characters opening at a
    highlight that holds the most distinct terms (then the most highlights). Spans do not overlap
    and come in text order, so the spans inside each window are a run that slides forward."""
    best_start, best_score = 0, -1.0
    counts: dict[str, int] = {}
    j, n = 0, len(spans)
    for i, (start, _, _) in enumerate(spans):
        if j < i:
            j = i
        limit = start + width
        while j < n and spans[j][1] <= limit:
            term = spans[j][2]
            counts[term] = counts.get(term, 0) + 1
            j += 1
        score = len(counts) + 0.1 * (j - i)
        if score > best_score:
            best_start, best_score = start, score
        if i < j:  # spans[i] leaves the window
            term = spans[i][2]
            if counts[term] == 1:
                del counts[term]
            else:
                counts[term] -= 1
    start = best_start
    # Open a little before the first hit, at a word boundary.
    lead = max(0, start - 40)
    if lead > 0:
        space = text.find(" ", lead)
        lead = space + 1 if 0 <= space < start else start
    end = min(len(text), lead + width)
    if end < len(text):
        space = text.rfind(" ", lead, end)
        end = space if space > start else end
    return lead, end


def make_snippets(record: ProcedureRecord, highlight: set[str], boosts: dict[str, float],
                  only_sections: tuple[str, ...] = (), limit: int = 2,
                  width: int = SNIPPET_CHARS,
                  words: "HighlightWords | None" = None) -> tuple[tuple[Snippet, ...], tuple[str, ...]]:
    """(snippets, matched section names) for one record and the query's highlight terms.
    ``words``: the query's HighlightWords (one per query, shared by its hits), when the caller keeps one."""
    if words is None or words.highlight != highlight:
        words = HighlightWords(frozenset(highlight))
    shown = [(label, text) for label, text in record.sections
             if not only_sections or LABEL_TO_FIELD.get(label, "other") in only_sections]
    matched = []
    holding: dict[object, int] = {}  # sections of the page holding each concept
    for label, text in shown:
        found = words.matching(text)
        if not found:
            continue
        values = words.concept_values(found)
        matched.append((label, text, found, values))
        for concept in values:
            holding[concept] = holding.get(concept, 0) + 1
    # A concept in every section of the page (its topic: "hemorrhoid" on a hemorrhoid page) says
    # little about which section answers; one in a single section says most: each concept counts
    # by its inverse frequency over the page's sections, as a word counts by its rarity over pages.
    spread = {concept: math.log(1 + len(shown) / n) for concept, n in holding.items()}
    scored = [(round(sum(v * spread[c] for c, v in values.items()), 9),
               boosts.get(LABEL_TO_FIELD.get(label, "other"), 1.0), label, text, found)
              for label, text, found, values in matched]
    matched_sections = [label for label, _, _, _ in matched]
    # The section saying most of what was asked comes first; of two saying as much, the one the
    # ranking weighs more (Summary before Alternatives).
    scored.sort(key=lambda s: (-s[0], -s[1]))
    snippets = []
    for _, _, label, text, found in scored[:limit]:
        spans = _find_spans(text, found, words.given)  # positions only for the sections shown
        flat = text.replace("\n", " \u2022 ")
        # Offsets shift by 2 for every newline replaced before them.
        spans2 = [(s + 2 * text.count("\n", 0, s), e + 2 * text.count("\n", 0, e), t) for s, e, t in spans] \
            if "\n" in text else spans
        lead, end = _best_window(flat, spans2, width)
        frag = flat[lead:end]
        marks = tuple(sorted({(s - lead, e - lead) for s, e, _ in spans2 if s >= lead and e <= end}))
        marks = _merge(marks)
        prefix = "\u2026" if lead > 0 else ""
        suffix = "\u2026" if end < len(flat) else ""
        marks = tuple((s + len(prefix), e + len(prefix)) for s, e in marks)
        snippets.append(Snippet(label, prefix + frag + suffix, marks))
    if not snippets and record.sections and not only_sections:
        label, text = record.sections[0]
        flat = text.replace("\n", " \u2022 ")
        snippets.append(Snippet(label, flat[:width] + ("\u2026" if len(flat) > width else "")))
    return tuple(snippets), tuple(matched_sections)


@dataclass(frozen=True)
class Wording:
    """One way a query asks for one of its concepts (the words typed, or an expansion), as
    snippets weigh a section holding some of its terms: the sum of their ``weights`` times
    ``share``, at most ``cap``. A section counts each ``concept`` once, at its best wording."""

    concept: object
    weights: Mapping[str, float]
    share: float = 1.0
    cap: float = math.inf


class HighlightWords:
    """Which words of a text hold one of a query's highlighted terms, learned as the query's pages
    are shown. Texts are cut at white space first (a WORD_RE match never spans it): the pages of
    one result share most of their pieces ("Approach,", "procedure"), so each distinct piece is
    tokenised and each distinct word analysed once per query, and every later section is a few set
    operations in C. A word that cannot give a highlighted term (see _candidates) is never stemmed."""

    def __init__(self, highlight: frozenset[str], wordings: Sequence[Wording] = ()) -> None:
        self.highlight = highlight
        # How sections are weighed (see concept_values); with none given, each term is a concept of weight 1.
        self.wordings = tuple(wordings) or tuple(Wording(t, {t: 1.0}) for t in sorted(highlight))
        self._wordings_of: dict[str, list[Wording]] = {}
        self._valued: dict[frozenset[str], dict[object, float]] = {}
        for wording in self.wordings:
            for term in wording.weights:
                self._wordings_of.setdefault(term, []).append(wording)
        self.given: dict[str, tuple[str, ...]] = {}  # word -> the highlighted terms it gives, in order
        self._words_in: dict[str, tuple[str, ...]] = {}  # piece -> its words that give one
        self._seen: set[str] = set()  # every piece looked at so far
        self._maybe = _candidates(highlight)

    def matching(self, text: str) -> set[str]:
        """The distinct words of the text (as WORD_RE finds them) that hold a highlighted term."""
        pieces = set(text.split())
        new = pieces.difference(self._seen)
        if new:
            self._learn(new)
        hit = pieces.intersection(self._words_in)
        words_in = self._words_in
        return {w for piece in hit for w in words_in[piece]}

    def terms_of(self, words: set[str]) -> set[str]:
        """The distinct highlighted terms the words give."""
        given = self.given
        return {t for w in words for t in given[w]}

    def concept_values(self, words: set[str]) -> dict[object, float]:
        """What a section holding these words says of each concept of the query it holds: the
        best of the concept's wordings, each the weights of the terms it holds times its share,
        up to its cap."""
        present = frozenset(self.terms_of(words))
        found = self._valued.get(present)
        if found is None:
            found = self._valued[present] = self._values(present)  # sections of one query's pages repeat
        return found

    def _values(self, present: frozenset[str]) -> dict[object, float]:
        totals: dict[int, float] = {}
        by_id: dict[int, Wording] = {}
        for term in sorted(present):
            for wording in self._wordings_of.get(term, ()):
                key = id(wording)
                totals[key] = totals.get(key, 0.0) + wording.weights[term]
                by_id[key] = wording
        best: dict[object, float] = {}
        for key, total in totals.items():
            wording = by_id[key]
            value = min(wording.cap, total * wording.share)
            if value > best.get(wording.concept, -1.0):
                best[wording.concept] = value
        return best

    def _learn(self, pieces: set[str]) -> None:
        highlight, maybe, given, words_in = self.highlight, self._maybe, self.given, self._words_in
        for piece in pieces:
            known = _PIECES.get(piece) or _piece(piece)
            tokens, terms = known
            if terms is not None and terms.isdisjoint(highlight):
                continue  # the common case, once a piece's words are analysed: one set operation
            holding = []
            collected: list[str] | None = [] if terms is None else None
            for w in tokens:
                hit = given.get(w)
                if hit is None or collected is not None:
                    found = analysed_word_terms(w)
                    if found is None:
                        if not maybe(w):
                            collected = None  # not analysed: the piece's terms stay unknown
                            continue  # cannot give a highlighted term: not worth stemming
                        found = word_terms(w)
                    if collected is not None:
                        collected.extend(found)
                    if hit is None:
                        hit = given[w] = tuple(t for t in found if t in highlight)
                if hit:
                    holding.append(w)
            if holding:
                words_in[piece] = tuple(holding)
            if collected is not None:
                _PIECES[piece] = (tokens, frozenset(collected))
        self._seen |= pieces


# The white-space-free pieces of page text seen so far: their WORD_RE matches and, once every one
# of those is analysed, all their terms (None before). A bounded cache: templated pages repeat
# their pieces, and a piece known to give none of a query's terms is skipped in one set operation.
_PIECES: dict[str, tuple[tuple[str, ...], frozenset[str] | None]] = {}
_PIECES_MAX = 50_000  # about 20 MB at most; the 68k-page corpus shows under 3,000 in 1,148 queries


def _piece(piece: str) -> tuple[tuple[str, ...], frozenset[str] | None]:
    found = (tuple(WORD_RE.findall(piece)), None)
    if len(_PIECES) >= _PIECES_MAX:
        _PIECES.clear()
    _PIECES[piece] = found
    return found


def _matching_words(text: str, highlight: set[str]) -> set[str]:
    """The distinct words of the text that hold a highlighted term."""
    return HighlightWords(frozenset(highlight)).matching(text)


def _spans(text: str, highlight: set[str], words: set[str] | None = None) -> list[tuple[int, int, str]]:
    """(start, end, term) of each highlighted term in text order, as analyze() would give them;
    ``words``: the text's words holding one (see _matching_words), when already known."""
    finder = HighlightWords(frozenset(highlight))
    found = finder.matching(text) if words is None else words
    for w in found:
        if w not in finder.given:
            finder.given[w] = tuple(t for t in word_terms(w) if t in highlight)
    return _find_spans(text, found, finder.given)


_JOINER_CHARS = "-.\u2010\u2011"  # what WORD_RE joins words with


def _find_spans(text: str, words: set[str], given: dict[str, tuple[str, ...]]) -> list[tuple[int, int, str]]:
    """(start, end, term) of each highlighted term of ``words`` (each a WORD_RE match of the text)
    in text order. Only the occurrences of these words are visited, by str.find, and one counts
    where WORD_RE would match it whole: a word character (str.isalnum is [^\\W_]) or a joiner
    between word characters on either side would make it part of a longer match."""
    n = len(text)
    out: list[tuple[int, int, str]] = []
    for w in words:
        terms = given[w]
        size = len(w)
        at = text.find(w)
        while at >= 0:
            end = at + size
            if _starts_word(text, at) and _ends_word(text, end, n):
                out.extend((at, end, t) for t in terms)
                at = text.find(w, end)
            else:
                at = text.find(w, at + 1)
    out.sort(key=lambda s: s[0])  # stable: a word's terms stay in analysis order
    return out


def _starts_word(text: str, at: int) -> bool:
    if at == 0:
        return True
    before = text[at - 1]
    if before.isalnum():
        return False
    return not (before in _JOINER_CHARS and at >= 2 and text[at - 2].isalnum())


def _ends_word(text: str, end: int, n: int) -> bool:
    if end == n:
        return True
    after = text[end]
    if after.isalnum():
        return False
    return not (after in _JOINER_CHARS and end + 1 < n and text[end + 1].isalnum())


def _candidates(highlight: frozenset[str]) -> Callable[[str], bool]:
    """Whether a word may give a highlighted term, so the others are never stemmed: a word of ASCII
    letters only has one term, its stem, which starts with the word's stem_prefix (in lower case);
    any other word (digits, joiners, accents) is analysed."""
    fronts = tuple(sorted({stem_prefix(t) for t in highlight if t}))

    def maybe(word: str) -> bool:
        return not (word.isascii() and word.isalpha()) or word.lower().startswith(fronts)

    return maybe


def _merge(marks: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for s, e in marks:
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return tuple(out)
