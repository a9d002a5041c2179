"""The record type: the shared vocabulary between ingest, index and search."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ProcedureRecord:
    """One procedure page, parsed. Field names are the same in the index schema and results."""

    code: str
    code_system: str
    title: str
    name: str = ""
    technical_term: str = ""
    # Ordered (canonical section name, text) pairs; list items are kept as lines.
    sections: tuple[tuple[str, str], ...] = ()
    similar_codes: tuple[tuple[str, str], ...] = ()
    modifier: str = ""
    source: str = ""
    content_hash: str = ""

    def section(self, name: str) -> str:
        """Text of one section ("" when the page lacks it), so callers need no loop."""
        for key, text in self.sections:
            if key == name:
                return text
        return ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict; sections stay an ordered list so order survives."""
        return {
            "code": self.code,
            "code_system": self.code_system,
            "title": self.title,
            "name": self.name,
            "technical_term": self.technical_term,
            "sections": [[k, v] for k, v in self.sections],
            "similar_codes": [[c, label] for c, label in self.similar_codes],
            "modifier": self.modifier,
            "source": self.source,
            "content_hash": self.content_hash,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ProcedureRecord":
        return cls(
            code=data["code"],
            code_system=data["code_system"],
            title=data.get("title", ""),
            name=data.get("name", ""),
            technical_term=data.get("technical_term", ""),
            sections=tuple((k, v) for k, v in data.get("sections", ())),
            similar_codes=tuple((c, label) for c, label in data.get("similar_codes", ())),
            modifier=data.get("modifier", ""),
            source=data.get("source", ""),
            content_hash=data.get("content_hash", ""),
        )

    @classmethod
    def from_json(cls, text: str) -> "ProcedureRecord":
        return cls.from_dict(json.loads(text))


def hash_bytes(data: bytes) -> str:
    """Content hash of a page's raw bytes: what incremental updates compare."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()
