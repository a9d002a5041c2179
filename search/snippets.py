"""Section-labelled snippets with highlight offsets, chosen from the sections that matched best."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache

from procsearch.index.analysis import WORD_RE, analysed_word_terms, fold, stem_prefix, word_terms
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
    best = (0, -1.0, 0)
    for i, (start, _, _) in enumerate(spans):
        seen = {term for s, e, term in spans[i:] if e <= start + width}
        score = len(seen) + 0.1 * sum(1 for s, e, _ in spans[i:] if e <= start + width)
        if score > best[1]:
            best = (start, score, i)
    start = best[0]
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
                  width: int = SNIPPET_CHARS) -> tuple[tuple[Snippet, ...], tuple[str, ...]]:
    """(snippets, matched section names) for one record and the query's highlight terms."""
    scored = []
    matched_sections = []
    # Porter stems keep the first letters of their words, so a section containing none of the
    # stems' first three letters cannot match and is not analysed at all.
    probes = {t[:3] for t in highlight if t}
    for label, text in record.sections:
        key = LABEL_TO_FIELD.get(label, "other")
        if only_sections and key not in only_sections:
            continue
        lowered = text.lower()
        if not lowered.isascii():
            lowered = fold(lowered)
        lowered = lowered.replace(".", "").replace("-", "")  # codes (E11.9) and joined words
        if not any(p in lowered for p in probes):
            continue
        words = _matching_words(text, highlight)
        if not words:
            continue
        matched_sections.append(label)
        distinct = len({t for w in words for t in word_terms(w) if t in highlight})
        scored.append((distinct * boosts.get(key, 1.0), label, text, words))
    scored.sort(key=lambda s: -s[0])
    snippets = []
    for _, label, text, words in scored[:limit]:
        spans = _spans(text, highlight, words)  # positions only for the sections shown
        flat = text.replace("\n", " \u2022 ")
        # Offsets shift by 2 for every newline replaced before them.
        spans2 = [(s + 2 * text.count("\n", 0, s), e + 2 * text.count("\n", 0, e), t) for s, e, t in spans]
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


def _matching_words(text: str, highlight: set[str]) -> set[str]:
    """The distinct words of the text that hold a highlighted term; a word already analysed is looked
    up, any other is stemmed only when it starts like a highlighted term."""
    maybe = _candidates(frozenset(highlight)).match
    words = set()
    for w in set(WORD_RE.findall(text)):
        found = analysed_word_terms(w)
        if found is None:
            if not maybe(w):
                continue  # cannot give a highlighted term: not worth stemming
            found = word_terms(w)
        if not highlight.isdisjoint(found):
            words.add(w)
    return words


def _spans(text: str, highlight: set[str], words: set[str] | None = None) -> list[tuple[int, int, str]]:
    """(start, end, term) of each highlighted term in text order, as analyze() would give them;
    ``words``: the text's words holding one (see _matching_words), when already known."""
    if words is None:
        words = _matching_words(text, highlight)
    if not words:
        return []
    return [(m.start(), m.end(), t) for m in WORD_RE.finditer(text) if m.group() in words
            for t in word_terms(m.group()) if t in highlight]


@lru_cache(maxsize=64)
def _candidates(highlight: frozenset[str]) -> re.Pattern[str]:
    """Matches the words that may give a highlighted term, so the others are never stemmed: a word
    of ASCII letters only has one term, its stem, which starts with the word's stem_prefix (any
    case); any other word (digits, joiners, accents) is analysed."""
    fronts = sorted({re.escape(stem_prefix(t)) for t in highlight if t})
    return re.compile((f"(?i:{'|'.join(fronts)})|" if fronts else "") + "[a-zA-Z]*[^a-zA-Z]")


def _merge(marks: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for s, e in marks:
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return tuple(out)
