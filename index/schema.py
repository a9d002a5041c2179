"""The index schema: one field per thing a user searches or sees, named as in ProcedureRecord."""

from __future__ import annotations

from collections.abc import Collection

from whoosh import columns, fields

from procsearch.ingest.record import ProcedureRecord
from procsearch.ingest.sections import SECTION_KEYS, SECTIONS

from .analysis import analyze_recent, medical_analyzer

# Bump when the schema or analysis changes: older indexes are then rebuilt or refused.
SCHEMA_VERSION = 4

HEADER_FIELDS = ("title", "name", "technical_term")
# A column per page with the analysed terms of these fields, so ranking re-scores candidates
# with common words without walking those words' long posting lists.
HEADER_TERMS = "header_terms"
RESCORE_FIELDS = HEADER_FIELDS + ("summary",)
SECTION_FIELDS = SECTION_KEYS + ("other",)  # "other" holds headings outside the canonical set
TEXT_FIELDS = HEADER_FIELDS + SECTION_FIELDS
LABEL_TO_FIELD = {label: key for key, label in SECTIONS}
FIELD_TO_LABEL = {key: label for key, label in SECTIONS}
# Fields whose surface words feed the spelling vocabulary.
SPELL_SOURCES = ("title", "name", "technical_term", "summary", "purpose", "indications")
_INDEX_CACHE_MAX = 20_000
_INDEX_CACHE_VALUE_MAX = 4_000


class MedicalText(fields.TEXT):
    """TEXT whose analysed postings are cached by value: templated pages repeat whole sections,
    and analysing the same paragraph once instead of thousands of times shortens builds."""

    _cache: dict[str, list] = {}

    def index(self, value, **kwargs):  # noqa: D102 - Whoosh's signature
        if kwargs or not isinstance(value, str):
            return super().index(value, **kwargs)
        cached = self._cache.get(value)
        if cached is None:
            cached = self._postings(value)
            if len(value) <= _INDEX_CACHE_VALUE_MAX:
                if len(self._cache) >= _INDEX_CACHE_MAX:
                    self._cache.clear()
                self._cache[value] = cached
        return iter(cached)

    def _postings(self, value: str) -> list[tuple[bytes, int, float, bytes]]:
        """What Whoosh's Positions format yields, computed straight from analyze() (no Token objects)."""
        positions: dict[str, list[int]] = {}
        for piece in analyze_recent(value):
            positions.setdefault(piece.term, []).append(piece.pos)
        encode = self.format.encode
        boost = self.format.field_boost
        return [(term.encode("utf-8"), len(poslist), len(poslist) * boost, encode(poslist))
                for term, poslist in positions.items()]


def build_schema() -> fields.Schema:
    analyzer = medical_analyzer()
    text_fields = {name: MedicalText(analyzer=analyzer, phrase=True) for name in TEXT_FIELDS}
    return fields.Schema(
        code=fields.ID(stored=True, unique=True),  # normalised upper-case codes
        code_system=fields.ID(stored=True),
        similar_codes=fields.KEYWORD(scorable=True),
        source=fields.ID(stored=True, unique=True),
        content_hash=fields.ID(stored=True),
        record=fields.STORED(),
        header_terms=fields.COLUMN(columns.VarBytesColumn()),
        **text_fields,
    )


def encode_header_terms(doc: dict) -> bytes:
    """One line of analysed terms per RESCORE_FIELDS field, in that order (a column value)."""
    return "\n".join(" ".join(p.term for p in analyze_recent(doc.get(f) or "")) for f in RESCORE_FIELDS).encode("utf-8")


def decode_header_terms(raw: bytes, fields: Collection[str] = RESCORE_FIELDS) -> dict[str, list[str]]:
    """The terms of the wanted fields (splitting only those: re-scoring often needs one or two)."""
    return {f: line.split() for f, line in zip(RESCORE_FIELDS, raw.decode("utf-8").split("\n"))
            if line and f in fields}


def record_to_document(record: ProcedureRecord) -> dict[str, object]:
    """The document Whoosh indexes for a record; the record itself is stored whole as JSON."""
    doc: dict[str, object] = {
        "code": record.code,
        "code_system": record.code_system,
        "source": record.source,
        "content_hash": record.content_hash,
        "record": record.to_json(),
        "title": record.title,
        # A name identical to the title would only double-count the same words.
        "name": record.name if record.name != record.title else "",
        "technical_term": record.technical_term,
        "similar_codes": " ".join(code for code, _ in record.similar_codes),
    }
    other: list[str] = []
    for label, text in record.sections:
        key = LABEL_TO_FIELD.get(label)
        if key:
            doc[key] = text
        else:
            other.append(f"{label}\n{text}")
    if other:
        doc["other"] = "\n".join(other)
    doc[HEADER_TERMS] = encode_header_terms(doc)
    return {k: v for k, v in doc.items() if v}
