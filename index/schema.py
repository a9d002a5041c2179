"""The index schema: one field per thing a user searches or sees, named as in ProcedureRecord."""

from __future__ import annotations

import re
import zlib
from bisect import bisect_right
from collections import Counter
from collections.abc import Collection, Iterable
from typing import Any

from whoosh import columns, fields
from whoosh.system import pack_uint

from procsearch.ingest.record import ProcedureRecord
from procsearch.ingest.sections import SECTION_KEYS, SECTIONS

from .analysis import medical_analyzer, recent_term_list, term_positions

# Bump when the schema or analysis changes: older indexes are then rebuilt or refused.
SCHEMA_VERSION = 5

HEADER_FIELDS = ("title", "name", "technical_term")
# A column per page with the analysed terms of these fields, so ranking re-scores candidates
# with common words without walking those words' long posting lists.
HEADER_TERMS = "header_terms"
RESCORE_FIELDS = HEADER_FIELDS + ("summary",)
SECTION_FIELDS = SECTION_KEYS + ("other",)  # "other" holds headings outside the canonical set
TEXT_FIELDS = HEADER_FIELDS + SECTION_FIELDS
# Fields whose postings keep word positions. Positions of the long section fields were half of
# an index's bytes and a good part of its build, for quoted phrases only: a phrase in a section
# is checked on the stored text of the pages holding all its words (search/phrases.py).
POSITION_FIELDS = HEADER_FIELDS
LABEL_TO_FIELD = {label: key for key, label in SECTIONS}
FIELD_TO_LABEL = {key: label for key, label in SECTIONS}
# Fields whose surface words feed the spelling vocabulary.
SPELL_SOURCES = ("title", "name", "technical_term", "summary", "purpose", "indications")
RECORD = "record"
RECORD_LEVEL = 3  # deflate level of stored records: 6 saves 7% more for a third more time
RECORD_DICT_BYTES = 32 * 1024  # deflate's window: a larger preset dictionary is not used
RECORD_DICT_SAMPLE = 64  # pages parsed to make the dictionary
# A piece of record JSON: up to and including a sentence end, a line break or a quote.
_PIECE = re.compile(r'[^."\n\\]*(?:\\n|[."]|$)')
_INDEX_CACHE_MAX = 20_000
_INDEX_CACHE_VALUE_MAX = 4_000


class MedicalText(fields.TEXT):
    """TEXT whose analysed postings are cached by value: templated pages repeat whole sections,
    and analysing the same paragraph once instead of thousands of times shortens builds."""

    # One cache per posting format: the same text in a field with positions and in one without
    # is encoded differently.
    _caches: dict[tuple[type, float], dict[str, list]] = {}

    def index(self, value, **kwargs):  # noqa: D102 - Whoosh's signature
        if kwargs or not isinstance(value, str):
            return super().index(value, **kwargs)
        key = (type(self.format), self.format.field_boost)
        cache = self._caches.get(key)
        if cache is None:
            cache = self._caches[key] = {}
        cached = cache.get(value)
        if cached is None:
            cached = self._postings(value)
            if len(value) <= _INDEX_CACHE_VALUE_MAX:
                if len(cache) >= _INDEX_CACHE_MAX:
                    cache.clear()
                cache[value] = cached
        return iter(cached)

    def _postings(self, value: str) -> list[tuple[bytes, int, float, bytes]]:
        """What Whoosh's Positions or Frequency format yields, computed straight from analyze()
        (no Token objects)."""
        boost = self.format.field_boost
        if not self.format.supports("positions"):
            counts = Counter(recent_term_list(value))
            return [(term.encode("utf-8"), n, n * boost, pack_uint(n)) for term, n in counts.items()]
        positions = term_positions(value)
        encode = self.format.encode
        return [(term.encode("utf-8"), len(poslist), len(poslist) * boost, encode(poslist))
                for term, poslist in positions.items()]


class RecordField(fields.COLUMN):
    """The whole record as JSON, deflated against a preset dictionary of text common to the
    corpus's pages: templated pages repeat most of their sentences, and a dictionary made from a
    sample of them halves what each page stores. The dictionary is part of the schema, so every
    segment of an index (and every update of it) reads and writes records the same way."""

    def __init__(self, zdict: bytes = b"") -> None:
        super().__init__(columns.VarBytesColumn())
        self.zdict = zdict

    def to_column_value(self, value: str) -> bytes:  # noqa: D102 - Whoosh's signature
        packer = zlib.compressobj(RECORD_LEVEL, zdict=self.zdict) if self.zdict else zlib.compressobj(RECORD_LEVEL)
        return packer.compress(value.encode("utf-8")) + packer.flush()

    def from_column_value(self, value: bytes) -> str:  # noqa: D102 - Whoosh's signature
        if not value:
            return ""
        unpacker = zlib.decompressobj(zdict=self.zdict) if self.zdict else zlib.decompressobj()
        return (unpacker.decompress(value) + unpacker.flush()).decode("utf-8")


def record_dictionary(samples: Iterable[str], size: int = RECORD_DICT_BYTES) -> bytes:
    """A preset dictionary for RecordField: the pieces (sentences, lines, JSON keys) that recur
    in the sample records, most frequent last (deflate reaches the end of a dictionary cheapest)."""
    counts: Counter[str] = Counter()
    for text in samples:
        counts.update(set(_PIECE.findall(text)))
    chosen: list[bytes] = []
    used = 0
    for piece, n in counts.most_common():
        data = piece.encode("utf-8")
        if n < 2 or len(data) < 4 or used + len(data) > size:
            continue
        chosen.append(data)
        used += len(data)
    return b"".join(reversed(chosen))


class RecordReader:
    """The stored records of an open Whoosh reader; each segment's column is opened once (opening
    one reads its whole offset table), so keep one of these per reader."""

    def __init__(self, reader) -> None:
        leaves = reader.leaf_readers()
        self._offsets = [offset for _, offset in leaves]
        self._leaves = [leaf for leaf, _ in leaves]
        self._columns: list = [None] * len(leaves)
        self._field = reader.schema[RECORD]

    def json(self, docnum: int) -> str:
        """The record of a document as JSON ("" when it has none)."""
        i = bisect_right(self._offsets, docnum) - 1
        column = self._columns[i]
        if column is None:
            column = self._columns[i] = self._leaves[i].column_reader(RECORD, translate=False)
        return self._field.from_column_value(column[docnum - self._offsets[i]])

    def record(self, docnum: int) -> ProcedureRecord | None:
        text = self.json(docnum)
        return ProcedureRecord.from_json(text) if text else None


def build_schema(record_zdict: bytes = b"") -> fields.Schema:
    analyzer = medical_analyzer()
    text_fields = {name: MedicalText(analyzer=analyzer, phrase=name in POSITION_FIELDS) for name in TEXT_FIELDS}
    return fields.Schema(
        code=fields.ID(stored=True, unique=True),  # normalised upper-case codes
        code_system=fields.ID(stored=True),
        similar_codes=fields.KEYWORD(scorable=True),
        source=fields.ID(unique=True),  # updates delete a page's document by its file
        record=RecordField(record_zdict),
        header_terms=fields.COLUMN(columns.CompressedBytesColumn()),
        **text_fields,
    )


def encode_header_terms(doc: dict) -> bytes:
    """One line of analysed terms per RESCORE_FIELDS field, in that order (a column value)."""
    return "\n".join(" ".join(recent_term_list(doc.get(f) or "")) for f in RESCORE_FIELDS).encode("utf-8")


def decode_header_terms(raw: bytes, fields: Collection[str] = RESCORE_FIELDS) -> dict[str, list[str]]:
    """The terms of the wanted fields (splitting only those: re-scoring often needs one or two)."""
    return {f: line.split() for f, line in zip(RESCORE_FIELDS, raw.decode("utf-8").split("\n"))
            if line and f in fields}


def header_word_lists(raws: list[bytes]) -> list[list[str]]:
    """decode_header_terms for many pages in one pass: per page, one list of terms per
    RESCORE_FIELDS field in that order (empty for an empty or missing field), all in one flat list."""
    width = len(RESCORE_FIELDS)
    if all(raw.count(b"\n") == width - 1 for raw in raws):  # the usual case: one split for all pages
        return [line.split() for line in b"\n".join(raws).decode("utf-8").split("\n")] if raws else []
    out: list[list[str]] = []
    for raw in raws:
        lines = raw.decode("utf-8").split("\n") if raw else []
        out.extend(line.split() for line in (lines + [""] * width)[:width])
    return out


def field_texts(record: ProcedureRecord | dict[str, Any]) -> dict[str, str]:
    """The text each TEXT_FIELDS field indexes for a record (fields it lacks are absent): what a
    phrase is checked against where the index keeps no positions. ``record``: a record, or the
    JSON object it is stored as (a phrase check reads thousands and skips building records)."""
    if isinstance(record, dict):
        title, name = record.get("title", ""), record.get("name", "")
        technical, sections = record.get("technical_term", ""), record.get("sections", ())
    else:
        title, name, technical, sections = record.title, record.name, record.technical_term, record.sections
    texts = {
        "title": title,
        # A name identical to the title would only double-count the same words.
        "name": name if name != title else "",
        "technical_term": technical,
    }
    other: list[str] = []
    for label, text in sections:
        key = LABEL_TO_FIELD.get(label)
        if key:
            texts[key] = text
        else:
            other.append(f"{label}\n{text}")
    if other:
        texts["other"] = "\n".join(other)
    return {k: v for k, v in texts.items() if v}


def record_to_document(record: ProcedureRecord) -> dict[str, object]:
    """The document Whoosh indexes for a record; the record itself is stored whole as JSON."""
    doc: dict[str, object] = {
        "code": record.code,
        "code_system": record.code_system,
        "source": record.source,
        "record": record.to_json(),
        "similar_codes": " ".join(code for code, _ in record.similar_codes),
        **field_texts(record),
    }
    doc[HEADER_TERMS] = encode_header_terms(doc)
    return {k: v for k, v in doc.items() if v}
