"""Plain-text dumps of procedure pages -> blocks. Headings are lines that name a known section."""

from __future__ import annotations

import re

from .blocks import HEADING, ITEM, TEXT, Block, PageHints, split_bullet
from .sections import SIMILAR_HEADING, ALIAS_TO_KEY, heading_key, normalize_heading

_SIMILAR_PREFIXES = tuple(alias for alias, key in ALIAS_TO_KEY.items() if key == SIMILAR_HEADING)


def _line_heading(line: str, prev_blank: bool) -> tuple[str, str] | None:
    """(heading, trailing rest) when a dump line is a heading. Unknown headings need a colon or capitals."""
    stripped = line.strip()
    if heading_key(stripped):
        return stripped, ""
    norm = normalize_heading(stripped)
    for alias in _SIMILAR_PREFIXES:  # dumps glue the list's first token onto "Similar Codes"
        if norm.startswith(alias) and len(norm) > len(alias):
            return stripped[: len(alias)], stripped[len(alias):].strip()
    words = stripped.rstrip(":").split()
    if prev_blank and 0 < len(words) <= 6 and not split_bullet(stripped)[0]:
        if stripped.endswith(":") and ":" not in stripped[:-1] and stripped[0].isupper():
            return stripped, ""
        if stripped.isupper() and any(ch.isalpha() for ch in stripped) and len(stripped) > 3:
            return stripped, ""
    return None


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1|(?<![\w*])\*(?!\s)([^*]+?)\*(?!\w)")


def _unmark(line: str) -> str:
    """A Markdown line as plain text: links keep their words, emphasis marks go."""
    if "[" in line:
        line = _MD_LINK.sub(r"\1", line)
    if "*" in line or "__" in line:
        line = _MD_EMPHASIS.sub(lambda m: m.group(2) or m.group(3) or "", line)
    return line


def text_blocks(text: str, filename: str) -> tuple[list[Block], PageHints]:
    """Split a dump (plain or Markdown) into blocks; the assembler finds the page heading among the first lines."""
    blocks: list[Block] = []
    prev_blank = True
    for raw in text.splitlines():
        if not raw.strip():
            prev_blank = True
            continue
        md = _MD_HEADING.match(raw)
        if md:  # "# Title" is the page heading, "## Summary" a section heading
            prev_blank = False
            blocks.append(Block(HEADING, _unmark(md.group(2)), 1 if len(md.group(1)) == 1 else 0))
            continue
        raw = _unmark(raw)
        found = _line_heading(raw, prev_blank)
        prev_blank = False
        if found:
            heading, rest = found
            blocks.append(Block(HEADING, heading))
            if rest and re.search(r"\d", rest) and not rest.lower().startswith("total"):
                blocks.append(Block(TEXT, rest))
            continue
        is_item, stripped = split_bullet(raw)
        if not stripped:
            continue
        blocks.append(Block(ITEM if is_item else TEXT, stripped))
    return blocks, PageHints(filename=filename)
