"""HTML pages in any reasonable markup -> blocks.

lxml walks the tree directly (bs4's tree is several times slower on large corpora); bs4's
UnicodeDammit decodes the bytes in page.py. Main content is found by the project's own rules
(chrome tags, roles and class words, chrome headings and lines, link-dense lists): measured against
trafilatura, readability-lxml and jusText, they keep every section and drop more chrome, several
times faster (benchmarks/main_content.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import lxml.html
from lxml import etree

from .codes import find_codes
from .blocks import HEADING, ITEM, TEXT, Block, PageHints, split_bullet
from .sections import SIMILAR_HEADING, heading_key, is_chrome_heading

_SKIP_TAGS = frozenset({
    "script", "style", "noscript", "nav", "footer", "aside", "form", "button", "iframe", "svg",
    "select", "input", "template", "head", "object", "embed", "canvas", "menu", "dialog",
})
_BLOCK_TAGS = frozenset({
    "p", "div", "li", "dd", "dt", "ul", "ol", "dl", "section", "article", "main", "body", "table",
    "tr", "td", "th", "blockquote", "pre", "figure", "figcaption", "address", "header", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6", "center", "caption", "summary", "details", "tbody", "thead",
})
_HEADING_TAGS = {"h1": 1, "h2": 0, "h3": 0, "h4": 0, "h5": 0, "h6": 0, "dt": 0}
# Class and id words (split on - and _) that mark site chrome.
_CHROME_WORDS = frozenset({
    "cookie", "cookies", "consent", "gdpr", "ad", "ads", "adsbygoogle", "advert", "advertisement", "adslot",
    "sponsor", "sponsored", "promo", "promotion", "sidebar", "sidebox", "breadcrumb", "breadcrumbs",
    "topnav", "navbar", "nav", "navigation", "menu", "share", "sharing", "social", "newsletter",
    "subscribe", "signup", "popup", "modal", "footer", "masthead", "disclaimer", "copyright", "legal",
    "toolbar", "skip", "popular", "trending", "widget", "comments", "banner", "related", "rail",
})
# Whole class names of chrome whose words alone are not ("card-header" is content, "site-header" is not).
_CHROME_NAMES = frozenset({"header", "site-header", "global-header", "top-header", "page-footer", "site-info",
                           "site-branding", "primary-menu"})
_CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search", "dialog",
                           "alertdialog", "menu", "menubar", "toolbar"})
_HEADING_CANDIDATES = frozenset({"p", "div", "span", "th", "td", "legend", "caption", "summary", "label", "b",
                                 "strong", "font", "section"})
_PLAIN_INLINE = frozenset({"a", "em", "i", "u", "small", "abbr", "sup", "sub", "code", "cite", "q", "time", "mark",
                           "var", "kbd", "samp", "dfn", "s", "ins", "del", "bdi", "bdo", "wbr"})
_ARIA_TAGS = frozenset({"section", "article", "div", "dl", "ul", "ol", "table"})
_LINK_LIST_TAGS = frozenset({"ul", "ol", "table", "td", "div"})
_CLASS_PARTS = re.compile(r"[-_]+")
_HEADING_CLASS = re.compile(r"(head|hdr|title|label|caption|heading)", re.I)
_BOLD_STYLE = re.compile(r"font-weight\s*:\s*(bold|[6-9]00)|font-size\s*:\s*(1\.[2-9]|[2-9])\d*\s*(em|rem)", re.I)
_INLINE = frozenset({"b", "strong", "em", "i", "u", "span", "font", "a", "small", "big", "label", "abbr", "br"})
_BOLD = frozenset({"strong", "b"})
_MAX_HEADING_WORDS = 10
_CODE_META = re.compile(r"(^|[\W_])(code|cpt|hcpcs|icd)", re.I)


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
        self.last_key: str | None = None  # key of the last recognised heading

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
            key = heading_key(text)
            if key is not None:
                self.last_key = key


def _chrome_class(el: etree._Element) -> bool:
    for name in _classes(el):
        name = name.lower()
        if name in _CHROME_WORDS or name in _CHROME_NAMES:
            return True
        if ("-" in name or "_" in name) and any(part in _CHROME_WORDS for part in _CLASS_PARTS.split(name)):
            return True
    return False


def _holds_content(el: etree._Element) -> bool:
    """A wrapper with a chrome-sounding class that holds the page's h1 or a section heading is content."""
    if el.find(".//h1") is not None:
        return True
    for h in el.iter("h2", "h3", "h4", "dt", "th"):
        if heading_key(_text(h)):
            return True
    return False


def _is_chrome(el: etree._Element, tag: str, sink: _Sink) -> bool:
    if tag in _SKIP_TAGS:
        return True
    if tag in _INLINE:  # chrome comes in containers; a link or a span is judged with its container
        return False
    if tag == "header" and el.find(".//h1") is None \
            and not any(a.tag in ("main", "article") for a in el.iterancestors()):
        return True  # a site header; an article's own header holds its title and code
    if el.get("class") or el.get("id"):
        if _chrome_class(el) and not _holds_content(el):
            return True
    role = el.get("role")
    if role and role.lower() in _CHROME_ROLES:
        return True
    if el.get("aria-hidden") == "true" or el.get("hidden") is not None:
        return True
    return tag in _LINK_LIST_TAGS and sink.last_key != SIMILAR_HEADING and _link_list(el)


def _link_list(el: etree._Element) -> bool:
    """Navigation written as plain lists: at least four links making up nearly all of the text."""
    if (el.tag in ("ul", "ol") and len(el) < 4) or el.find(".//a") is None:
        return False
    links = el.findall(".//a")
    if len(links) < 4:
        return False
    total = len("".join(el.text_content().split()))
    linked = sum(len("".join(a.text_content().split())) for a in links)
    return total > 0 and linked / total > 0.8


def _heading_level(el: etree._Element, tag: str) -> int | None:
    """Level (1 main, 0 section) if the element acts as a heading in this markup, else None."""
    if tag in _HEADING_TAGS:
        return _HEADING_TAGS[tag]
    if tag not in _HEADING_CANDIDATES:
        return None
    if el.get("role") == "heading":
        return 1 if el.get("aria-level") == "1" else 0
    children = [c for c in el if isinstance(c.tag, str) and c.tag != "br"]
    if any(c.tag not in _INLINE for c in children):
        return None
    if tag in _INLINE and not _opens_block(el):
        return None  # a bold word inside a sentence is emphasis, not a heading
    words = _text(el)
    if not words or len(words.split()) > _MAX_HEADING_WORDS:
        return None
    if tag == "th":  # a row heading, or a full-width heading row; a row of column titles is not
        row = el.getparent()
        cells = [c for c in row if isinstance(c.tag, str)] if row is not None else [el]
        if len(cells) == 1 or any(c.tag == "td" for c in cells):
            return 0
        return None
    if heading_key(words) and (tag != "td" or not (el.tail or "").strip()):
        return 0  # the whole text is a section name, however it is styled
    if tag in ("summary", "legend", "caption"):
        return 0  # the label of a disclosure widget, fieldset or table
    if tag in ("td", "b", "strong", "font", "label"):
        return None
    if tag != "span" and any(_HEADING_CLASS.search(c) for c in _classes(el)):
        return 0
    if _BOLD_STYLE.search(el.get("style", "")):
        return 0
    if len(children) == 1 and children[0].tag in _BOLD and (el.text or "").strip() == "" \
            and (children[0].tail or "").strip() == "" and tag != "span":
        return 0
    if tag in ("p", "div") and words.isupper() and re.search(r"[A-Z]{3}", words) and not find_codes(words) \
            and not words.rstrip().endswith("."):
        return 0  # a paragraph in capitals: "CONTRAINDICATIONS"
    return None


def _opens_block(el: etree._Element) -> bool:
    """Whether an inline element starts its line: nothing but white space or a <br> before it."""
    prev = el.getprevious()
    if prev is not None:
        return prev.tag == "br" and not (prev.tail or "").strip()
    parent = el.getparent()
    return parent is None or not (parent.text or "").strip()


def _walk(el: etree._Element, sink: _Sink) -> None:
    tag = el.tag
    if not isinstance(tag, str):  # comment or processing instruction
        return
    tag = tag.lower()
    if tag in _PLAIN_INLINE:  # links and emphasis: their text joins the line, nothing to judge
        if el.text:
            sink.buf.append(el.text)
        for child in el:
            _walk(child, sink)
            if child.tail:
                sink.buf.append(child.tail)
        return
    if _is_chrome(el, tag, sink):
        # Chrome whose whole text is a section heading is a heading that was styled oddly; a chrome
        # heading ("Trending codes") is kept as a heading so that what follows it is dropped too.
        if tag not in _SKIP_TAGS and len(el) <= 1:
            text = _text(el)
            if heading_key(text) or (len(text.split()) <= 5 and ". " not in text and is_chrome_heading(text)):
                sink.heading(text, 0)
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
    label = el.get("aria-label") if tag in _ARIA_TAGS else None
    if label and heading_key(label) and not _starts_with_heading(el):
        sink.heading(label, 0)  # <section aria-label="Risks"> without a visible heading
    if tag == "li":
        sink.item_depth += 1
    if el.text:
        sink.buf.append(el.text)
    for child in el:
        _walk(child, sink)
        if child.tail:
            sink.buf.append(child.tail)
    if block:
        sink.flush()
    if tag == "li":
        sink.item_depth -= 1


def _starts_with_heading(el: etree._Element) -> bool:
    for child in el:
        if isinstance(child.tag, str):
            return child.tag in _HEADING_TAGS or heading_key(_text(child)) is not None
    return False


def _json_ld_codes(root: etree._Element, hints: PageHints) -> None:
    """codeValue / codingSystem of schema.org MedicalCode in JSON-LD blocks (bad JSON is ignored)."""
    for script in root.iter("script"):
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        for node in _json_nodes(data):
            value = node.get("codeValue")
            if isinstance(value, (str, int)):
                hints.code_elements.append(str(value))
                system = node.get("codingSystem")
                if isinstance(system, str):
                    hints.system_hints.append(system)
            url = node.get("url") or node.get("@id")
            if isinstance(url, str) and not hints.url and node.get("@type") not in ("WebSite", "Organization"):
                hints.url = url


def _json_nodes(data: object, depth: int = 0) -> Iterator[dict]:
    if depth > 20:
        return
    if isinstance(data, dict):
        yield data
        for value in data.values():
            yield from _json_nodes(value, depth + 1)
    elif isinstance(data, list):
        for value in data:
            yield from _json_nodes(value, depth + 1)


def _head_hints(root: etree._Element, hints: PageHints, text: str) -> None:
    """<title>, <meta> codes, the canonical URL, microdata and JSON-LD codes."""
    head = root.find("head")
    if head is None:
        head = root
    title = head.find(".//title")
    if title is not None:
        hints.title_tag = " ".join((title.text_content() or "").split())
    for meta in head.iter("meta"):
        if meta.get("content") is None:
            continue
        name = meta.get("name") or meta.get("property") or meta.get("itemprop") or ""
        content = (meta.get("content") or "").strip()
        if not content:
            continue
        if name.lower() in ("og:url", "twitter:url") and not hints.url:
            hints.url = content
        elif name == "codeValue" or (_CODE_META.search(name) and len(content) <= 20):
            hints.code_elements.append(content)
            hints.system_hints.append(name)
        elif name == "codingSystem":
            hints.system_hints.append(content)
    if "canonical" in text:
        for link in head.iter("link"):
            if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
                hints.url = link.get("href")
    if "codeValue" in text:  # microdata or JSON-LD; most pages have neither, so skip the searches
        for el in root.iterfind(".//*[@itemprop]"):
            prop = el.get("itemprop")
            if prop == "codeValue":
                hints.code_elements.append(el.get("content") or _text(el))
            elif prop == "codingSystem":
                hints.system_hints.append(el.get("content") or _text(el))
    if "ld+json" in text:
        _json_ld_codes(root, hints)


def html_blocks(text: str, filename: str) -> tuple[list[Block], PageHints]:
    """Parse HTML text into blocks plus the hints (title tag, code elements) the assembler needs."""
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise ValueError(f"not parseable as HTML ({exc})") from None
    hints = PageHints(filename=filename)
    _head_hints(root, hints, text)
    for el in root.iter("code", "span", "div", "p", "strong", "b", "td"):
        if any("code" == c.lower() or c.lower().startswith("code-") or c.lower().endswith("-code")
               for c in _classes(el)) or el.tag == "code":
            text = _text(el)
            if len(text) <= 60 and len(find_codes(text)) == 1:  # one code, not a list of codes
                hints.code_elements.append(text)
    body = root.find("body")
    sink = _Sink()
    main = _main_element(root)
    if main is not None:
        if main.find(".//h1") is None:  # the page heading often sits in a <header> above <main>
            h1 = root.find(".//h1")
            if h1 is not None:
                sink.heading(_text(h1), 1)
        _walk(main, sink)
    else:
        _walk(body if body is not None else root, sink)
    sink.flush()
    return sink.blocks, hints


def _main_element(root: etree._Element) -> etree._Element | None:
    """The one <main> (or role=main) element holding a recognised section heading, if the page has one."""
    mains = root.findall(".//main") or root.findall(".//*[@role='main']")
    if len(mains) != 1:
        return None
    main = mains[0]
    return main if _holds_content(main) else None
