"""HTML pages in any reasonable markup -> blocks.

lxml walks the tree directly (bs4's tree is several times slower on large corpora); bs4's
UnicodeDammit decodes the bytes in page.py.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from .blocks import HEADING, ITEM, TEXT, Block, PageHints, split_bullet
from .sections import heading_key

_SKIP_TAGS = frozenset({
    "script", "style", "noscript", "nav", "footer", "aside", "form", "button", "iframe", "svg",
    "select", "input", "template", "head", "object", "embed", "canvas", "menu", "dialog",
})
_BLOCK_TAGS = frozenset({
    "p", "div", "li", "dd", "dt", "ul", "ol", "dl", "section", "article", "main", "body", "table",
    "tr", "td", "th", "blockquote", "pre", "figure", "figcaption", "address", "header", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6", "center",
})
_HEADING_TAGS = {"h1": 1, "h2": 0, "h3": 0, "h4": 0, "h5": 0, "h6": 0, "dt": 0}
_CHROME_CLASS = re.compile(
    r"^(cookies?|cookie[-_]\w+|consent|gdpr|banner|ad|ads|advert\w*|ad[-_]\w+|adsbygoogle|sponsor\w*|"
    r"promo\w*|sidebar|side[-_]?bar|breadcrumbs?|topnav|navbar|nav|site[-_]nav|menu|share|"
    r"social|newsletter|popup|modal|footer|site[-_]footer|header|site[-_]header|masthead|related)$",
    re.I,
)
_HEADING_CLASS = re.compile(r"(head|title|label|caption)", re.I)
_BOLD = frozenset({"strong", "b"})
_MAX_HEADING_WORDS = 10


def _classes(el: etree._Element) -> list[str]:
    return (el.get("class", "") + " " + el.get("id", "")).split()


def _text(el: etree._Element) -> str:
    return " ".join(el.text_content().split())


class _Sink:
    """Collects blocks while the walk goes; inline text accumulates until a block boundary."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.buf: list[str] = []
        self.item_depth = 0

    def add_text(self, text: str | None) -> None:
        if text:
            self.buf.append(text)

    def flush(self) -> None:
        line = " ".join("".join(self.buf).split())
        self.buf = []
        if not line:
            return
        is_item, stripped = split_bullet(line)
        kind = ITEM if (self.item_depth or is_item) else TEXT
        if stripped:
            self.blocks.append(Block(kind, stripped))

    def heading(self, text: str, level: int) -> None:
        self.flush()
        if text:
            self.blocks.append(Block(HEADING, text, level))


def _is_chrome(el: etree._Element, tag: str) -> bool:
    if tag in _SKIP_TAGS:
        return True
    if tag == "header" and el.find(".//h1") is None:
        return True
    return any(_CHROME_CLASS.match(c) for c in _classes(el))


def _heading_level(el: etree._Element, tag: str) -> int | None:
    """Level (1 main, 0 section) if the element acts as a heading in this markup, else None."""
    if tag in _HEADING_TAGS:
        return _HEADING_TAGS[tag]
    if tag not in ("p", "div", "span", "th", "td", "legend"):
        return None
    children = [c for c in el if isinstance(c.tag, str) and c.tag != "br"]
    if tag == "span" or tag in ("td", "th"):
        return 0 if heading_key(_text(el)) and not children else None
    words = _text(el)
    if not words or len(words.split()) > _MAX_HEADING_WORDS:
        return None
    if any(_HEADING_CLASS.search(c) for c in _classes(el)) and not any(c.tag in _BLOCK_TAGS for c in children):
        return 0
    if len(children) == 1 and children[0].tag in _BOLD and (el.text or "").strip() == "" \
            and (children[0].tail or "").strip() == "":
        return 0
    return None


def _walk(el: etree._Element, sink: _Sink) -> None:
    tag = el.tag.lower() if isinstance(el.tag, str) else ""
    if not tag:  # comment or processing instruction
        return
    if _is_chrome(el, tag):
        # Chrome whose whole text is a section heading is a heading that was styled oddly.
        if tag not in _SKIP_TAGS and heading_key(_text(el)) and len(el) <= 1:
            sink.heading(_text(el), 0)
        return
    if tag == "br":
        sink.flush()
        return
    level = _heading_level(el, tag)
    if level is not None:
        sink.heading(_text(el), level)
        return
    block = tag in _BLOCK_TAGS
    if block:
        sink.flush()
    if tag == "li":
        sink.item_depth += 1
    sink.add_text(el.text)
    for child in el:
        _walk(child, sink)
        sink.add_text(child.tail)
    if block:
        sink.flush()
    if tag == "li":
        sink.item_depth -= 1


def html_blocks(text: str, filename: str) -> tuple[list[Block], PageHints]:
    """Parse HTML text into blocks plus the hints (title tag, code elements) the assembler needs."""
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise ValueError(f"not parseable as HTML ({exc})") from None
    hints = PageHints(filename=filename)
    title = root.find(".//title")
    if title is not None:
        hints.title_tag = " ".join((title.text_content() or "").split())
    for el in root.iter("code", "span", "div", "p", "strong", "b"):
        if any("code" == c.lower() or c.lower().startswith("code-") or c.lower().endswith("-code")
               for c in _classes(el)) or el.tag == "code":
            hints.code_elements.append(_text(el))
    body = root.find("body")
    sink = _Sink()
    _walk(body if body is not None else root, sink)
    sink.flush()
    return sink.blocks, hints
