"""One file -> one ProcedureRecord, or a PageError that names the file and the reason."""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from .blocks import assemble
from .errors import PageError
from .files import read_page
from .html_page import html_blocks
from .record import ProcedureRecord, clean_text, hash_bytes
from .text_page import text_blocks

_CONTROL_BYTES = re.compile(rb"[\x01-\x08\x0b\x0e-\x1f]")
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
TEXT_SUFFIXES = frozenset({".txt"})
PAGE_SUFFIXES = HTML_SUFFIXES | TEXT_SUFFIXES


@dataclass(frozen=True)
class ParsedPage:
    """A parsed page's record with the warnings about it (nothing lost goes unreported)."""

    record: ProcedureRecord
    warnings: tuple[str, ...] = ()


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
# What browsers do with these labels: ISO-8859-1 and ASCII pages are read as windows-1252.
_CHARSET_AS = {"iso-8859-1": "windows-1252", "latin-1": "windows-1252", "latin1": "windows-1252",
               "us-ascii": "windows-1252", "ascii": "windows-1252", "iso8859-1": "windows-1252"}


def declared_charset(data: bytes) -> str | None:
    """The charset a page's <meta> declares, if Python knows it (first 4 KB, as browsers look)."""
    m = _META_CHARSET.search(data[:4096])
    if not m:
        return None
    name = m.group(1).decode("ascii", "replace").lower()
    name = _CHARSET_AS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode(data: bytes) -> str:
    """UTF-8 (BOM or not) first, as nearly every page is; then the <meta> charset; then UnicodeDammit, cp1252 last."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = declared_charset(data)
    if declared and declared not in ("utf-8", "utf-16", "utf-16-le", "utf-16-be"):
        try:
            return data.decode(declared)
        except UnicodeDecodeError:
            pass
    from bs4 import UnicodeDammit  # imported here: most pages are UTF-8 and never need it

    dammit = UnicodeDammit(data, ["windows-1252", "latin-1"], is_html=data.lstrip()[:1] == b"<")
    if dammit.unicode_markup is not None:
        return dammit.unicode_markup
    return data.decode("windows-1252", errors="replace")


def utf16_encoding(data: bytes) -> str | None:
    """'utf-16' with a BOM; 'utf-16-le'/'-be' when every other byte of mostly-ASCII text is NUL; else None."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    head = data[:4096]
    if len(head) < 8 or len(head) % 2:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def looks_binary(data: bytes) -> bool:
    """NUL bytes or mostly control characters: not a page, whatever its name says."""
    head = data[:4096]
    if b"\x00" in head:
        return True
    return len(_CONTROL_BYTES.findall(head)) > len(head) // 10


def is_html(path: str, text: str) -> bool:
    suffix = Path(path).suffix.lower()
    if suffix in HTML_SUFFIXES:
        return True
    if suffix in TEXT_SUFFIXES:
        return False
    head = text.lstrip()[:500].lower()
    return head.startswith("<") and ("<html" in head or "<body" in head or "<!doctype" in head)


def parse_bytes(data: bytes, path: str) -> ParsedPage:
    """Parse a page's bytes; every failure becomes a PageError naming ``path``."""
    if not data.strip():
        raise PageError(path, "empty file")
    utf16 = utf16_encoding(data)
    if utf16:  # NUL bytes are expected in UTF-16
        try:
            data = data.decode(utf16).lstrip("\ufeff").encode("utf-8")
        except UnicodeDecodeError:
            raise PageError(path, "invalid UTF-16 text") from None
    if looks_binary(data):
        raise PageError(path, "binary file, not an HTML page or text dump")
    text = clean_text(decode(data))
    stem = Path(path).stem
    try:
        blocks, hints = (html_blocks if is_html(path, text) else text_blocks)(text, stem)
        hints.path = path
        assembled = assemble(blocks, hints)
    except ValueError as exc:
        raise PageError(path, str(exc)) from None
    except RecursionError:
        raise PageError(path, "markup nested too deeply to parse") from None
    record = replace(assembled.record, source=path, content_hash=hash_bytes(data))
    return ParsedPage(record, tuple(assembled.warnings))


def parse_page(path: str | os.PathLike[str]) -> ParsedPage:
    """Read and parse one file."""
    path = os.fspath(path)
    return parse_bytes(read_page(path), path)
