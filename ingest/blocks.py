"""Markup-independent page content: a flat list of headings, text lines and list items.

HTML and text dumps are both reduced to blocks, so one assembler turns any page into a record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import codes
from .record import ProcedureRecord
from .sections import (
    NAME_HEADING,
    SECTION_LABELS,
    SIMILAR_HEADING,
    custom_section_key,
    heading_key,
    normalize_heading,
)

HEADING, TEXT, ITEM = "heading", "text", "item"

# Words of site chrome that survive markup removal (and all of a text dump's chrome).
CHROME_LINE = re.compile(
    r"^(search all medical codes|skip to (main )?content|advertisement|sponsored( content)?|"
    r"accept( all)?( cookies)?|we use cookies.*|home|menu|log ?in|sign ?in|sign up|print|share|"
    r"back to top|related searches|popular codes)$",
    re.I,
)
_BULLET = re.compile(r"^\s*(?:[\u2022\u00b7\u25aa\u25cf\u2023\u2043*\u2013-]|\d{1,2}[.)])\s+")
_TECH_TERM = re.compile(r"^technical term\s*[:\-\u2013]\s*(.*)$", re.I)
_SIMILAR_LINE = re.compile(
    r"^\s*([0-9A-Za-z]{3,7}(?:\.[0-9A-Za-z]{1,4})?(?:-[0-9A-Z]{2})?)(?![\w.])\s*[-\u2013\u2014:]?\s*(.*)$")
_NOT_HEADINGS = frozenset({"pros", "cons", "note", "notes", "tip"})


@dataclass(frozen=True)
class Block:
    """One heading, paragraph or list item of a page, in page order, whatever the markup."""

    kind: str  # HEADING, TEXT or ITEM
    text: str
    level: int = 0  # 1 for the page's main heading (h1), else 0


@dataclass
class PageHints:
    """What the markup says beside the blocks: the <title>, code elements, the file name."""

    filename: str = ""
    title_tag: str = ""
    code_elements: list[str] = field(default_factory=list)


@dataclass
class Assembled:
    """A record made from a page's blocks, with the warnings met on the way."""

    record: ProcedureRecord
    warnings: list[str]


def split_bullet(line: str) -> tuple[bool, str]:
    """(is_list_item, text without its marker) for '• item', '- item', '3. step' lines."""
    m = _BULLET.match(line)
    if m:
        return True, line[m.end():].strip()
    return False, line.strip()


def is_chrome_line(text: str) -> bool:
    return bool(CHROME_LINE.match(text.strip()))


def could_be_heading(text: str) -> bool:
    """A short label, not a sentence: what an unknown heading looks like."""
    norm = normalize_heading(text)
    if not norm or norm in _NOT_HEADINGS:
        return False
    return len(norm.split()) <= 8 and not norm.endswith((".", "?", "!")) and len(norm) <= 80


def assemble(blocks: list[Block], hints: PageHints) -> Assembled:
    """Group blocks under their headings and pull out code, system, title, name and technical term."""
    warnings: list[str] = []
    preamble: list[Block] = []
    groups: list[tuple[str, str, list[Block]]] = []  # (key, heading text, blocks)
    for block in blocks:
        if block.kind == HEADING:
            key = heading_key(block.text)
            if key is None and groups and block.level != 1 and could_be_heading(block.text):
                key = custom_section_key(block.text)
            if key is not None:
                groups.append((key, block.text.strip().rstrip(":").strip(), []))
                continue
        if is_chrome_line(block.text):
            continue
        (groups[-1][2] if groups else preamble).append(block)

    body_keys = [key for key, _, _ in groups if key not in (NAME_HEADING, SIMILAR_HEADING)]
    if not body_keys:
        raise ValueError("no recognisable section (expected headings such as Summary, Indications)")

    technical_term = ""
    name = ""
    sections: list[tuple[str, str]] = []
    similar: list[tuple[str, str]] = []
    seen: set[str] = set()
    for block in preamble:
        m = _TECH_TERM.match(block.text)
        if m and not technical_term:
            technical_term = m.group(1).strip()
    for key, heading, content in groups:
        if key == NAME_HEADING:
            for block in content:
                m = _TECH_TERM.match(block.text)
                if m:
                    technical_term = technical_term or m.group(1).strip()
                elif not name:
                    name = block.text.strip()
            continue
        if key == SIMILAR_HEADING:
            similar.extend(_similar_codes(content))
            continue
        text = _section_text(content)
        label = SECTION_LABELS.get(key, heading)
        if not text:
            continue
        if label in seen:  # a repeated heading continues its section
            sections = [(k, v + "\n" + text) if k == label else (k, v) for k, v in sections]
            continue
        seen.add(label)
        sections.append((label, text))
        if key.startswith("x_"):
            warnings.append(f"unknown heading {heading!r} kept as its own section")

    if not sections:
        raise ValueError("sections are present but all of them are empty")

    code, modifier, system = _find_code(preamble, hints, warnings)
    title = _find_title(preamble, hints, code)
    if not title:
        title = name or technical_term
        warnings.append("no page heading; title taken from the procedure name")
    record = ProcedureRecord(
        code=code,
        code_system=system,
        title=title,
        name=name,
        technical_term=technical_term,
        sections=tuple(sections),
        similar_codes=tuple(similar),
        modifier=modifier,
    )
    return Assembled(record, warnings)


def _section_text(content: list[Block]) -> str:
    lines = [" ".join(block.text.split()) for block in content]
    return "\n".join(line for line in lines if line)


def _similar_codes(content: list[Block]) -> list[tuple[str, str]]:
    pairs = []
    for block in content:
        for piece in block.text.split("\n"):
            m = _SIMILAR_LINE.match(piece)
            if not m or not codes.looks_like_code(m.group(1)):
                continue
            code = codes.normalize_code(m.group(1)).code
            pairs.append((code, m.group(2).strip()))
    return pairs


def _find_code(preamble: list[Block], hints: PageHints, warnings: list[str]) -> tuple[str, str, str]:
    """The page's code, modifier and code system: code elements, then the code line, then <title>, then file name."""
    system_words = ""
    for block in preamble:
        system_words = system_words or codes.system_from_words(block.text)
    candidates: list[str] = []
    for text in hints.code_elements:
        candidates.extend(codes.find_codes(text) or ([text.strip()] if codes.looks_like_code(text.strip()) else []))
    for block in preamble:
        if block.level != 1 and codes.system_from_words(block.text):
            candidates.extend(codes.find_codes(block.text))
    candidates.extend(codes.find_codes(hints.title_tag))
    file_code = codes.normalize_code(hints.filename) if hints.filename else None
    if file_code and codes.is_code_shaped(file_code.code):
        candidates.append(hints.filename)
    if not candidates:
        raise ValueError("no procedure code in the page, its <title> or its file name")
    code, modifier = codes.normalize_code(candidates[0])
    if file_code and codes.is_code_shaped(file_code.code) and file_code.code != code:
        warnings.append(f"page says code {code} but the file is named {hints.filename}; using {code}")
    system_words = system_words or codes.system_from_words(hints.title_tag)
    if system_words and codes.system_matches_shape(system_words, code):
        system = system_words
    else:
        system = codes.system_from_shape(code)
    return code, modifier, system


def _find_title(preamble: list[Block], hints: PageHints, code: str) -> str:
    def usable(text: str) -> bool:
        return bool(text) and not is_chrome_line(text) and not codes.system_from_words(text) \
            and not _TECH_TERM.match(text)

    for level in (1, 0):
        for block in preamble:
            if block.kind == HEADING and block.level == level and usable(block.text):
                return block.text.strip()
    for block in preamble:
        if usable(block.text) and code not in block.text:
            return block.text.strip()
    title = hints.title_tag
    if title:
        title = re.split(r"\s+[|]\s+", title)[0]
        title = title.replace(code, "").strip(" -\u2013\u2014:|")
        for m in codes.find_codes(title):
            title = title.replace(m, "")
        return re.sub(r"^(CPT4?|HCPCS|ICD-10-(PCS|CM))\b\W*", "", title.strip(" -\u2013\u2014:|"), flags=re.I)
    return ""
