"""The record type: the shared vocabulary between ingest, index and search."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

# Characters a page's text never needs and a terminal would obey: C0 controls but tab and
# newline, DEL, C1 controls (8-bit CSI/OSC), and bidirectional overrides that reorder shown text.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_BREAKS = {"\r": "\n", "\x0b": " ", "\x0c": " "}


# ASCII characters clean_text keeps: printable ones, tab and newline.
_ASCII_KEPT = bytes([9, 10, *range(32, 127)])


def has_control(text: str) -> bool:
    """Whether clean_text would change the text. Records read back from an index are checked on
    every search, so plain ASCII (nearly every page) is checked by one C pass over its bytes, and
    other text settled without the regex when it is printable but for line breaks and tabs."""
    if text.isascii():
        return bool(text.encode("ascii").translate(None, _ASCII_KEPT))
    if text.replace("\n", "").replace("\t", "").isprintable():  # every character removed is unprintable
        return False
    return _CONTROL.search(text) is not None


def clean_text(text: str) -> str:
    """Page text without control characters (an escape sequence becomes its harmless rest);
    carriage returns become newlines and vertical tabs and form feeds spaces."""
    if not _CONTROL.search(text):
        return text
    text = text.replace("\r\n", "\n")
    return _CONTROL.sub(lambda m: _BREAKS.get(m.group(), ""), text)


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

    def __post_init__(self) -> None:
        # The one place records are made: whatever a parser extracted, no control character
        # reaches the index, a terminal or a spreadsheet. ``source`` is a path and stays exact
        # (it identifies the file); it is escaped when printed.
        scalars = ("code", "code_system", "title", "name", "technical_term", "modifier")
        values = [getattr(self, name) for name in scalars]
        if all(isinstance(v, str) for v in values) and not has_control(
                "".join(values) + "".join(t for pairs in (self.sections, self.similar_codes) for pair in pairs
                                          for t in pair)):
            return  # nearly every record: one check of all its text
        for name, value in zip(scalars, values):
            if isinstance(value, str) and has_control(value):
                object.__setattr__(self, name, clean_text(value))
        for name in ("sections", "similar_codes"):
            pairs = getattr(self, name)
            if any(has_control(a) or has_control(b) for a, b in pairs):
                object.__setattr__(self, name, tuple((clean_text(a), clean_text(b)) for a, b in pairs))

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
