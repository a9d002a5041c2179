"""Markup-independent page content: a flat list of headings, text lines and list items.

HTML and text dumps are both reduced to blocks, so one assembler turns any page into a record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import codes
from .record import ProcedureRecord
from .sections import (
    CODE_HEADING,
    FIELD_HEADINGS,
    NAME_HEADING,
    SECTION_LABELS,
    SIMILAR_HEADING,
    TECH_HEADING,
    custom_section_key,
    heading_key,
    is_chrome_heading,
    normalize_heading,
    split_label,
)

HEADING, TEXT, ITEM = "heading", "text", "item"

# Words of site chrome that survive markup removal (and all of a text dump's chrome): whole lines ...
CHROME_LINE = re.compile(
    r"^(search all medical codes|skip to (main )?content|skip navigation|advertisement|sponsored( content)?|"
    r"accept( all)?( cookies)?|reject( all)?|manage (cookies|preferences)|cookie settings|got it|"
    r"we use cookies.*|home|menu|log ?in|sign ?in|sign up|subscribe|print|share|email|tweet|"
    r"back to top|related searches|popular codes|close|next|previous|\W+)$",
    re.I,
)
# ... and lines that are chrome wherever they appear: copyright, disclaimers, cookie and newsletter prompts.
_CHROME_PHRASE = re.compile(
    r"^(\u00a9|\(c\) \d{4}|copyright\b)|\u00a9 ?\d{4}|all rights reserved|this (site|website) uses cookies|we use cookies|"
    r"(for|are for) (general )?(informational|educational|reference) purposes only|not (intended as |a substitute for )"
    r"(professional )?medical advice|is not medical advice|(is a )?registered trademark of the american medical"
    r"|subscribe to our|sign up for our|join our (mailing list|newsletter)|enter your email|"
    r"^by continuing to (use|browse)|^last (updated|reviewed)\b",
    re.I,
)
_BULLET = re.compile(r"^\s*(?:[\u2022\u00b7\u25aa\u25cf\u2023\u2043*\u2013-]|\d{1,2}[.)])\s+")
_TECH_TERM = re.compile(r"^technical term\s*[:\-\u2013]\s*(.*)$", re.I)
_SIMILAR_LINE = re.compile(
    r"^\s*([0-9A-Za-z]{3,7}(?:\.[0-9A-Za-z]{1,4})?(?:-[0-9A-Z]{2})?)(?![\w.])\s*[-\u2013\u2014:|]?\s*(.*)$")
_TRAILING_CODE = re.compile(r"^(.*?)\s*[(\[]\s*([0-9A-Za-z]{3,7}(?:\.[0-9A-Za-z]{1,4})?)\s*[)\]]\s*$")
# A line that is a code alone or "CODE - description": what a list of similar codes looks like.
_CODE_LINE_START = re.compile(r"^(?:\d|[A-Z][^\W_]{0,2}\d)", re.M)
_CODE_LINE = re.compile(codes.CODE_IN_TEXT.pattern + r"(?:\s*[-\u2013\u2014:|]\s*.{1,200})?$")
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

    filename: str = ""  # the file name's stem, as messages name it
    title_tag: str = ""
    # Codes the markup marks as codes: JSON-LD/microdata codeValue, <meta>, class="code", <code>.
    code_elements: list[str] = field(default_factory=list)
    system_hints: list[str] = field(default_factory=list)  # codingSystem values, <meta> names
    url: str = ""  # canonical URL (<link rel=canonical>, og:url)
    path: str = ""  # the whole path, whose slug or folders may carry the code


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


# Cheap test before the phrase search: most lines hold none of these.
_CHROME_HINTS = ("\u00a9", "(c)", "(C)", "opyright", "ights reserved", "ookie", "urposes only", "edical advice",
                 "rademark", "ubscribe", "ign up", "oin our", "our email", "y continuing", "ast updated",
                 "ast reviewed", "COPYRIGHT", "COOKIE")


def is_chrome_line(text: str, phrases: bool = True) -> bool:
    """A line of site chrome: a whole-line label ("Back to top"), or with ``phrases`` a notice anywhere."""
    text = text.strip()
    if CHROME_LINE.match(text):
        return True
    if not phrases or len(text) > 400:  # a paragraph of content, not a notice
        return False
    return any(hint in text for hint in _CHROME_HINTS) and bool(_CHROME_PHRASE.search(text))


def could_be_heading(text: str) -> bool:
    """A short label, not a sentence: what an unknown heading looks like."""
    norm = normalize_heading(text)
    if not norm or norm in _NOT_HEADINGS:
        return False
    return len(norm.split()) <= 8 and not norm.endswith((".", "?", "!")) and len(norm) <= 80


def _group(blocks: list[Block]) -> tuple[list[Block], list[tuple[str, str, list[Block]]]]:
    """(preamble, [(key, heading text, blocks)]): blocks under their headings, chrome dropped."""
    preamble: list[Block] = []
    groups: list[tuple[str, str, list[Block]]] = []
    target = preamble  # where the next blocks go; a throw-away list under a chrome heading
    for block in blocks:
        if block.kind == TEXT and ":" in block.text[:41]:
            found = split_label(block.text)
            if found:  # "Technical Term: ...", "Duration: about an hour": a heading and its value
                block = Block(HEADING, found[1])
                value = Block(TEXT, found[2])
            else:
                value = None
        else:
            value = None
        if block.kind == HEADING:
            key = heading_key(block.text)
            if key is None and block.level != 1 and is_chrome_heading(block.text):
                target = []  # "Popular procedures", "Newsletter": dropped up to the next heading
                continue
            if key is None and groups and block.level != 1 and could_be_heading(block.text):
                key = custom_section_key(block.text)
            if key is not None:
                if key == CODE_HEADING and not groups:
                    preamble.append(Block(TEXT, block.text))  # "CPT4 code" under the title, as in the seed
                groups.append((key, block.text.strip().rstrip(":").strip(), []))
                target = groups[-1][2]
                if value is not None:
                    target.append(value)
                continue
            target = groups[-1][2] if groups else preamble  # an unknown heading ends the chrome
        if is_chrome_line(block.text, phrases=block.kind == TEXT):  # notices are paragraphs, not list items
            continue
        target.append(block)
        if value is not None:
            target.append(value)
    return preamble, groups


def assemble(blocks: list[Block], hints: PageHints) -> Assembled:
    """Group blocks under their headings and pull out code, system, title, name and technical term."""
    warnings: list[str] = []
    preamble, groups = _group(blocks)

    body_keys = [key for key, _, _ in groups if key not in FIELD_HEADINGS]
    if not body_keys:
        raise ValueError("no recognisable section (expected headings such as Summary, Indications)")

    technical_term = ""
    name = ""
    sections: list[tuple[str, str]] = []
    similar: list[tuple[str, str]] = []
    code_texts: list[str] = []  # content of "Code" headings
    code_headings: list[str] = []
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
        if key == TECH_HEADING:
            technical_term = technical_term or (content[0].text.strip() if content else "")
            continue
        if key == CODE_HEADING:
            code_headings.append(heading)
            code_texts.extend(block.text for block in content)
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

    code, modifier, system = _find_code(preamble, hints, code_texts, code_headings, warnings)
    title = _find_title(preamble, hints, code)
    if not title:
        title = name or technical_term
        warnings.append("no page heading; title taken from the procedure name")
    _check(title, sections, warnings)
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


def _check(title: str, sections: list[tuple[str, str]], warnings: list[str]) -> None:
    """Warn about what usually means a mis-parse, so it is never silent."""
    if heading_key(title) or is_chrome_heading(title):
        warnings.append(f"title {title!r} is a heading word, not the procedure's name")
    if len(sections) < 3:
        warnings.append(f"only {len(sections)} section(s) found ({', '.join(k for k, _ in sections)})")
    for label, text in sections:
        if not _CODE_LINE_START.search(text):  # most sections: no line starts like a code
            continue
        line = next((line for line in text.split("\n") if _is_code_line(line)), None)
        if line:
            warnings.append(f"section {label!r} holds code-like lines ({line[:60]!r}): "
                            f"similar codes under an unrecognised heading?")
            break


def _is_code_line(line: str) -> bool:
    """A code alone or 'CODE - description': codes start with a digit, or a capital with a digit soon after."""
    first = line[:1]
    if not (first.isdigit() or (first.isupper() and any(ch.isdigit() for ch in line[1:4]))):
        return False
    m = _CODE_LINE.match(line)
    return bool(m) and any(ch.isdigit() for ch in m.group(1))


def _section_text(content: list[Block]) -> str:
    lines = [" ".join(block.text.split()) for block in content]
    return "\n".join(line for line in lines if line)


def _similar_codes(content: list[Block]) -> list[tuple[str, str]]:
    """(code, label) pairs from a list, a table (code cell, then label cell), links or 'CODE - label' lines."""
    pairs: list[tuple[str, str]] = []
    pending = ""  # a code alone on its line (a table cell, a link) waits for its label
    for block in content:
        for piece in block.text.split("\n"):
            piece = piece.strip()
            m = _SIMILAR_LINE.match(piece)
            if m and codes.looks_like_code(m.group(1)):
                if pending:
                    pairs.append((pending, ""))
                code = codes.normalize_code(m.group(1)).code  # looks_like_code accepted it: cheap now
                label = m.group(2).strip()
                if label:
                    pairs.append((code, label))
                    pending = ""
                else:
                    pending = code
                continue
            m = _TRAILING_CODE.match(piece) if piece.endswith((")", "]")) else None
            if m and codes.looks_like_code(m.group(2)):
                if pending:
                    pairs.append((pending, ""))
                    pending = ""
                pairs.append((codes.normalize_code(m.group(2)).code, m.group(1).strip(" -\u2013\u2014:")))
                continue
            if pending and piece:
                pairs.append((pending, piece.strip(" -\u2013\u2014:|")))
                pending = ""
    if pending:
        pairs.append((pending, ""))
    return pairs


def _find_code(preamble: list[Block], hints: PageHints, code_texts: list[str], code_headings: list[str],
               warnings: list[str]) -> tuple[str, str, str]:
    """The page's code, modifier and code system, from the strongest source that has one.

    Order: code elements (JSON-LD, microdata, <meta>, class="code"), a "Code" heading's value, a
    line naming a code system, the <title>, the canonical URL, then the file name and folders.
    """
    candidates: list[str] = []
    for text in hints.code_elements:
        candidates.extend(codes.find_codes(text) or ([text.strip()] if codes.looks_like_code(text.strip()) else []))
    for text in code_texts:
        candidates.extend(codes.find_codes(text))
    for block in preamble:
        if block.level != 1 and codes.system_from_words(block.text):
            candidates.extend(codes.find_codes(block.text))
    candidates.extend(codes.find_codes(hints.title_tag))
    url_code = codes.code_from_path(hints.url.split("?")[0].split("#")[0].rstrip("/")) if hints.url else None
    if url_code:
        candidates.append(url_code.code + (f"-{url_code.modifier}" if url_code.modifier else ""))
    path_code = None
    if candidates:
        code, modifier = codes.normalize_code(candidates[0])
        named = codes.normalize_code(hints.filename).code
        if codes.is_code_shaped(named) and named != code:
            warnings.append(f"page says code {code} but the file is named {hints.filename}; using {code}")
    elif path_code := codes.code_from_path(hints.path or hints.filename):
        code, modifier = path_code.code, path_code.modifier
        if not path_code.whole:
            warnings.append(f"code {code} taken from the file name or folder only; the page does not state it")
    else:
        key = re.sub(r"[^0-9A-Za-z_-]+", "-", hints.filename).strip("-").upper() or "PAGE"
        warnings.append("no procedure code in the page, its <title>, its URL or its file name; "
                        f"indexed as {key} with code system unknown")
        return key, "", codes.UNKNOWN

    words = [*hints.system_hints, *code_headings, *(b.text for b in preamble), hints.title_tag]
    if url_code and url_code.system:
        words.append(url_code.system)
    if path_code and path_code.system:
        words.append(path_code.system)
    for text in words:
        system = codes.system_from_words(text)
        if system and codes.system_matches_shape(system, code):
            return code, modifier, system
    return code, modifier, codes.system_from_shape(code)


def _find_title(preamble: list[Block], hints: PageHints, code: str) -> str:
    def usable(text: str) -> bool:
        return bool(text) and not is_chrome_line(text) and not codes.system_from_words(text) \
            and not _TECH_TERM.match(text) and heading_key(text) is None

    for level in (1, 0):
        for block in preamble:
            if block.kind == HEADING and block.level == level and usable(block.text):
                return block.text.strip()
    for before, block in zip(preamble, preamble[1:]):  # a dump's title stands just above "CPT4 code"
        if codes.system_from_words(block.text) and usable(before.text) and code not in before.text:
            return before.text.strip()
    tag = " ".join(hints.title_tag.lower().split())
    in_tag = [b.text.strip() for b in preamble if usable(b.text) and code not in b.text and len(b.text) > 3
              and " ".join(b.text.lower().split()) in tag]
    if in_tag:  # the line the <title> repeats, not the site name above it
        return max(in_tag, key=len)
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
