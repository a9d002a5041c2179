"""Two baselines indexing the same parsed records as procsearch, to show what its analysis,
boosts, expansion and parallel build buy over an off-the-shelf setup.

* naive Whoosh: one TEXT field per record field with Whoosh's StemmingAnalyzer, a single writer,
  MultifieldParser over all text fields with a plain OrGroup, default BM25F, no boosts.
* SQLite FTS5 (standard library): one row per record, porter + unicode61 tokenizer, the query as
  an OR of its quoted words, ranked by bm25 with column weights.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterable
from types import TracebackType

from whoosh import fields, index, qparser
from whoosh.analysis import StemmingAnalyzer

from procsearch.index.schema import LABEL_TO_FIELD, SECTION_FIELDS
from procsearch.ingest.record import ProcedureRecord

HEADER_FIELDS = ("title", "name", "technical_term")
TEXT_FIELDS = HEADER_FIELDS + SECTION_FIELDS  # sections: one field each, "other" for the rest
FTS5_WEIGHTS = {"title": 5.0, "name": 5.0, "technical_term": 3.0}  # every other column 1.0
_WORD = re.compile(r"\w+")


def record_fields(record: ProcedureRecord) -> dict[str, str]:
    """The record's text by field name: the three headers and one entry per canonical section."""
    out = {"title": record.title, "name": record.name, "technical_term": record.technical_term}
    other: list[str] = []
    for label, text in record.sections:
        key = LABEL_TO_FIELD.get(label)
        if key:
            out[key] = f"{out[key]}\n{text}" if out.get(key) else text
        else:
            other.append(f"{label}\n{text}")
    out["other"] = "\n".join(other)
    return {name: out.get(name, "") for name in TEXT_FIELDS}


def dir_size(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


# -- naive Whoosh ---------------------------------------------------------------------------------

def naive_schema() -> fields.Schema:
    analyzer = StemmingAnalyzer()
    text = {name: fields.TEXT(analyzer=analyzer) for name in TEXT_FIELDS}
    return fields.Schema(code=fields.ID(stored=True), **text)


def build_naive_whoosh(records: Iterable[ProcedureRecord], index_dir: str) -> int:
    """Index records with one default writer; returns the number of documents."""
    os.makedirs(index_dir, exist_ok=True)
    ix = index.create_in(index_dir, naive_schema())
    count = 0
    with ix.writer() as writer:
        for record in records:
            writer.add_document(code=record.code, **{k: v for k, v in record_fields(record).items() if v})
            count += 1
    return count


class NaiveWhooshSearcher:
    """The naive index opened once; ``search`` returns the top codes."""

    def __init__(self, index_dir: str) -> None:
        self._ix = index.open_dir(index_dir)
        self._searcher = self._ix.searcher()
        self._parser = qparser.MultifieldParser(list(TEXT_FIELDS), self._ix.schema, group=qparser.OrGroup)

    def search(self, text: str, limit: int = 10) -> list[str]:
        query = self._parser.parse(text)
        return [hit["code"] for hit in self._searcher.search(query, limit=limit)]

    def close(self) -> None:
        self._searcher.close()

    def __enter__(self) -> "NaiveWhooshSearcher":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


# -- SQLite FTS5 ----------------------------------------------------------------------------------

def _fts5_columns() -> list[str]:
    return ["code", *TEXT_FIELDS]


def build_fts5(records: Iterable[ProcedureRecord], db_path: str) -> int:
    """One row per record in an FTS5 table, then FTS5's own 'optimize' (merges its b-trees)."""
    columns = ", ".join(["code UNINDEXED", *TEXT_FIELDS])
    con = sqlite3.connect(db_path)
    try:
        con.execute(f"CREATE VIRTUAL TABLE pages USING fts5({columns}, tokenize='porter unicode61')")
        placeholders = ", ".join("?" for _ in _fts5_columns())
        rows = ((record.code, *record_fields(record).values()) for record in records)
        with con:
            con.executemany(f"INSERT INTO pages VALUES ({placeholders})", rows)
        with con:
            con.execute("INSERT INTO pages(pages) VALUES ('optimize')")
        count = con.execute("SELECT count(*) FROM pages").fetchone()[0]
    finally:
        con.close()
    return count


def fts5_match(text: str) -> str:
    """An FTS5 MATCH expression: OR of the query's distinct words, each quoted so no word is syntax."""
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(text)))
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in words)


class Fts5Searcher:
    """The FTS5 database opened once; ``search`` returns the top codes by weighted bm25."""

    def __init__(self, db_path: str) -> None:
        self._con = sqlite3.connect(db_path)
        weights = ", ".join(str(FTS5_WEIGHTS.get(c, 1.0)) for c in _fts5_columns())
        self._sql = (f"SELECT code FROM pages WHERE pages MATCH ? "
                     f"ORDER BY bm25(pages, {weights}) LIMIT ?")

    def search(self, text: str, limit: int = 10) -> list[str]:
        match = fts5_match(text)
        if not match:
            return []
        return [row[0] for row in self._con.execute(self._sql, (match, limit))]

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "Fts5Searcher":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
