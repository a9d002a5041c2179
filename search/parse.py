"""The user query language, parsed leniently: bad syntax degrades to plain words, never an error.

    free words          all optional; more matches rank higher
    "a phrase"          words in this order
    a AND b, a OR b     explicit boolean (upper case); NOT x and -x exclude
    ( ... )             grouping
    risks:infection     a field scope; section:recovery and system:HCPCS filter the whole query
    62273 0FT44ZZ E11.9 an exact code; 622* and 0FT4 are prefixes; 62270-62273 a range
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace

from procsearch.ingest.codes import is_code_shaped, normalize_code, parse_system
from procsearch.ingest.sections import SECTION_KEYS, heading_key, normalize_heading

MAX_QUERY_CHARS = 2000
MAX_ATOMS = 64

# Scopes a user can write before a colon -> index field (or a filter).
FIELD_SCOPES: dict[str, str] = {
    "title": "title", "name": "name", "term": "technical_term", "technical": "technical_term",
    "technical_term": "technical_term", "other": "other",
    **{key: key for key in SECTION_KEYS},
    "risk": "risks", "complications": "risks", "prep": "preparation", "steps": "procedure",
    "description": "procedure", "alternative": "alternatives", "indication": "indications",
}
FILTER_SCOPES = ("system", "section", "code")
SCOPE_FIELDS = tuple(dict.fromkeys(FIELD_SCOPES.values()))  # every field a search can be restricted to


def section_field(name: str) -> str | None:
    """A user's spelling of a section or field -> its index field: keys, scopes and display names in
    any case ("risks", "Risks and Complications", "risks & complications", "technical term"), or None."""
    norm = normalize_heading(name.strip('"'))
    key = FIELD_SCOPES.get(re.sub(r"[\s-]+", "_", norm)) or heading_key(norm.replace("_", " "))
    return key if key in SCOPE_FIELDS else None


@dataclass(frozen=True)
class Word:
    """A free word of the query, optionally scoped to a field."""

    text: str
    field: str | None = None
    pause: bool = False  # written with a comma, semicolon, full stop or closing bracket after it


def _paused(node: Node | None) -> Node | None:
    """A bracketed group ends like a clause: "repair (without graft) of knee" excludes graft only."""
    if isinstance(node, Word):
        return replace(node, pause=True)
    if isinstance(node, Seq) and node.items and isinstance(node.items[-1], Word):
        return Seq(node.items[:-1] + (replace(node.items[-1], pause=True),))
    return node


@dataclass(frozen=True)
class Phrase:
    """Quoted words that must appear in this order (never expanded)."""

    text: str
    field: str | None = None


@dataclass(frozen=True)
class Code:
    """An exact code typed in the query."""

    code: str
    modifier: str = ""


@dataclass(frozen=True)
class CodePrefix:
    """Codes starting with ``prefix``. ``bare``: typed without a star and shaped like a word too
    ("6227", "J1"): the compiler reads it as a word when no code starts with it."""

    prefix: str
    bare: bool = False


@dataclass(frozen=True)
class CodeRange:
    """All codes from low to high (62270-62273)."""

    low: str
    high: str


@dataclass(frozen=True)
class Not:
    """An excluded part of the query (NOT x, -x, without x)."""

    child: "Node"


@dataclass(frozen=True)
class Seq:
    """Juxtaposed items: all optional, scored together."""

    items: tuple["Node", ...]


@dataclass(frozen=True)
class Bool:
    """Explicit AND / OR between parts of the query."""

    op: str  # "and" | "or"
    items: tuple["Node", ...]


Node = Word | Phrase | Code | CodePrefix | CodeRange | Not | Seq | Bool


@dataclass(frozen=True)
class ParsedQuery:
    """The query tree plus the filters and notes the parser found."""

    root: Seq
    systems: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


_TOKEN = re.compile(r'-?"[^"]*"?|[()]|[^\s()"]+')
_RANGE = re.compile(r"^([0-9A-Z]{5})-([0-9A-Z]{5})$")
_PREFIX_STAR = re.compile(r"^([0-9A-Z][0-9A-Z.]{0,7})\*$")
_PCS_TABLE = re.compile(r"^[0-9][0-9A-HJ-NP-Z]{2,5}$")
# The first characters of a CPT code ("6227") or of an HCPCS / ICD-10-CM code ("J1", "E11."),
# typed without a star.
_BARE_PREFIX = re.compile(r"^(\d{3,4}|[A-Z]\d{1,3}\.?)$")


def clean(text: str) -> str:
    """Drop control and format characters, cap the length: anything at all may arrive here."""
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text[:MAX_QUERY_CHARS])
    return " ".join(text.split())


def code_atom(token: str) -> Code | CodePrefix | CodeRange | None:
    """A code, code prefix or code range written by the user, or None for an ordinary word."""
    raw = token.strip().upper()
    m = _RANGE.match(raw)
    if m and is_code_shaped(m.group(1)) and is_code_shaped(m.group(2)) and not m.group(2).isalpha():
        low, high = sorted((m.group(1), m.group(2)))
        return CodeRange(low, high)
    m = _PREFIX_STAR.match(raw)
    if m and (len(m.group(1)) == 1 or any(ch.isdigit() for ch in m.group(1))):
        return CodePrefix(m.group(1).replace(".", ""))
    if _BARE_PREFIX.match(raw) and not is_code_shaped(raw.rstrip(".")):
        return CodePrefix(raw.rstrip("."), bare=True)
    code = normalize_code(raw)
    if any(ch.isdigit() for ch in code.code) and is_code_shaped(code.code):
        return Code(code.code, code.modifier)
    if _PCS_TABLE.match(raw) and any(ch.isalpha() for ch in raw):
        return CodePrefix(raw)
    return None


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.i = 0
        self.systems: list[str] = []
        self.sections: list[str] = []
        self.notes: list[str] = []
        self.atoms = 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> str:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse_or(self, depth: int) -> Node | None:
        items = [self.parse_and(depth)]
        while self.peek() in ("OR", "||"):
            self.take()
            items.append(self.parse_and(depth))
        items = [x for x in items if x is not None]
        if not items:
            return None
        return items[0] if len(items) == 1 else Bool("or", tuple(items))

    def parse_and(self, depth: int) -> Node | None:
        items = [self.parse_seq(depth)]
        while self.peek() in ("AND", "&&"):
            self.take()
            items.append(self.parse_seq(depth))
        items = [x for x in items if x is not None]
        if not items:
            return None
        return items[0] if len(items) == 1 else Bool("and", tuple(items))

    def parse_seq(self, depth: int) -> Node | None:
        items: list[Node] = []
        while True:
            tok = self.peek()
            if tok is None or tok in ("OR", "||", "AND", "&&"):
                break
            if tok == ")":
                if depth > 0:
                    break
                self.take()  # an unbalanced ")" is dropped
                continue
            node = self.parse_unary(depth)
            if node is not None:
                items.append(node)
        if not items:
            return None
        return items[0] if len(items) == 1 and not isinstance(items[0], Word) else Seq(tuple(items))

    def parse_unary(self, depth: int) -> Node | None:
        tok = self.take()
        if tok == "NOT":
            if self.peek() is None or self.peek() in ("OR", "AND", ")"):
                return None
            child = self.parse_unary(depth)
            return Not(child) if child is not None else None
        if tok == "(":
            inner = self.parse_or(depth + 1) if depth < 8 else None
            if self.peek() == ")":
                self.take()
                return _paused(inner)
            return inner
        if tok.startswith("-") and len(tok) > 1 and not tok[1:2].isdigit():
            child = self.atom(tok[1:])
            return Not(child) if child is not None else None
        return self.atom(tok)

    def atom(self, tok: str) -> Node | None:
        self.atoms += 1
        if self.atoms > MAX_ATOMS:
            return None
        if tok.startswith('"'):
            text = tok.strip('"').strip()
            return Phrase(text) if text else None
        if ":" in tok and not tok.startswith(":"):
            scope, _, value = tok.partition(":")
            scoped = self.scoped(scope.lower(), value)
            if scoped is not False:
                return scoped
        text = tok.strip("+*:,;!?'`") if not tok.endswith("*") else tok.strip("+:,;!?'`")
        if not code_atom(text):
            text = text.strip(".")
        if not text or text in ("-", "&", "|"):
            return None
        code = code_atom(text)
        if code is not None:
            return code
        text = text.rstrip("*")
        return Word(text, pause=tok.rstrip("'\"`)]").endswith((",", ";", ".", "!", "?"))) if text else None

    def scoped(self, scope: str, value: str) -> Node | None | bool:
        """A ``scope:value`` token; False when the scope is unknown (then it is plain words)."""
        if not value and self.peek() and self.peek().startswith('"'):
            value = self.take()
        value = value.strip()
        if scope == "system":
            system = parse_system(value.strip('"'))
            if system:
                self.systems.append(system)
            else:
                self.notes.append(f"unknown code system {value!r} ignored (use CPT, HCPCS, ICD-10-PCS, ICD-10-CM)")
            return None
        if scope == "section":
            key = section_field(value)
            if key:
                self.sections.append(key)
            else:
                self.notes.append(f"unknown section {value!r} ignored")
            return None
        if scope == "code":
            return code_atom(value) or (Word(value) if value else None)
        fieldname = FIELD_SCOPES.get(scope)
        if fieldname is None:
            return False
        if not value:
            return None
        if value.startswith('"'):
            text = value.strip('"').strip()
            return Phrase(text, fieldname) if text else None
        return Word(value.strip(",;.!?"), fieldname) if value.strip(",;.!?") else None


def parse_query(text: str) -> ParsedQuery:
    """Parse any string into a query tree; never raises."""
    tokens = _TOKEN.findall(clean(text))
    parser = _Parser(tokens)
    root = parser.parse_or(0)
    while parser.peek() is not None:  # leftovers after a stray ")" or operator
        parser.take()
        more = parser.parse_or(0)
        if more is not None:
            root = Seq(((root,) if root is not None else ()) + (more,))
    if root is None:
        seq = Seq(())
    elif isinstance(root, Seq):
        seq = root
    else:
        seq = Seq((root,))
    return ParsedQuery(seq, tuple(dict.fromkeys(parser.systems)), tuple(dict.fromkeys(parser.sections)),
                       tuple(parser.notes))
