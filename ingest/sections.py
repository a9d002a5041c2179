"""Canonical sections and the one alias table that maps heading variants onto them."""

from __future__ import annotations

import re
from functools import lru_cache

# Canonical sections in the seed page's order. The key is the index field name.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary"),
    ("purpose", "Purpose"),
    ("indications", "Indications"),
    ("preparation", "Preparation"),
    ("procedure", "Procedure Description"),
    ("duration", "Duration"),
    ("setting", "Setting"),
    ("personnel", "Personnel"),
    ("risks", "Risks and Complications"),
    ("benefits", "Benefits"),
    ("recovery", "Recovery"),
    ("alternatives", "Alternatives"),
    ("experience", "Patient Experience"),
)
SECTION_KEYS = tuple(key for key, _ in SECTIONS)
SECTION_LABELS = dict(SECTIONS)
# Not body sections, but headings the parser must recognise.
NAME_HEADING = "name"
SIMILAR_HEADING = "similar_codes"
TECH_HEADING = "technical_term"
CODE_HEADING = "code"
# Headings whose content belongs to the record's fields rather than to a body section.
FIELD_HEADINGS = frozenset({NAME_HEADING, SIMILAR_HEADING, TECH_HEADING, CODE_HEADING})

_ALIASES: dict[str, tuple[str, ...]] = {
    "summary": ("summary", "overview", "description", "about", "about the procedure", "introduction",
                "what is it", "what it is", "procedure summary", "at a glance", "in brief"),
    "purpose": ("purpose", "why it is done", "why it's done", "why is it done", "goal", "goals",
                "aim", "purpose of the procedure", "reason for the procedure", "why"),
    "indications": ("indications", "indication", "reasons for the procedure", "when it is used",
                    "who needs it", "who needs this procedure", "when is it needed", "used for", "uses"),
    "preparation": ("preparation", "preparing", "how to prepare", "before the procedure",
                    "getting ready", "pre-procedure", "preoperative preparation", "prep"),
    "procedure": ("procedure description", "procedure", "how it is done", "how it's done",
                  "how is it done", "how it is performed", "description of the procedure",
                  "procedure steps", "steps", "technique", "during the procedure", "the procedure",
                  "what happens", "what happens during the procedure"),
    "duration": ("duration", "how long it takes", "how long does it take", "length of procedure",
                 "time required", "procedure time"),
    "setting": ("setting", "where it is done", "where it's done", "where is it done", "location",
                "place of service", "site of service"),
    "personnel": ("personnel", "care team", "who performs it", "who does it", "staff",
                  "healthcare team", "medical team", "team", "providers"),
    "risks": ("risks and complications", "risks & complications", "risks", "complications",
              "possible complications", "risks and side effects", "side effects", "safety"),
    "benefits": ("benefits", "advantages", "expected benefits", "outcomes", "expected outcomes"),
    "recovery": ("recovery", "aftercare", "after the procedure", "recovery and aftercare",
                 "post-procedure care", "postoperative care", "after care", "follow-up", "recovering"),
    "alternatives": ("alternatives", "alternative treatments", "other options", "alternative options",
                     "treatment alternatives", "other treatments", "alternatives to the procedure"),
    "experience": ("patient experience", "what to expect", "what you will feel", "what patients feel",
                   "the patient experience", "experience", "what it feels like"),
    NAME_HEADING: ("name of the procedure", "procedure name", "name", "common name", "common names",
                   "also known as", "also called", "other names", "plain name", "lay term",
                   "patient-friendly name", "lay name", "plain-language name", "plain language name"),
    TECH_HEADING: ("technical term", "technical name", "medical term", "clinical name", "official description",
                   "long description", "code description", "descriptor", "official descriptor",
                   "full description"),
    CODE_HEADING: ("code", "procedure code", "billing code", "code number", "cpt code", "cpt4 code",
                   "cpt-4 code", "cpt® code", "hcpcs code", "hcpcs level ii code", "icd-10-pcs code",
                   "icd-10-cm code", "icd10pcs code", "pcs code"),
    SIMILAR_HEADING: ("similar codes", "related codes", "see also", "similar procedures", "related procedures",
                      "other related codes", "related cpt codes", "similar cpt codes", "related hcpcs codes",
                      "nearby codes", "neighboring codes", "neighbouring codes", "compare with"),
}

ALIAS_TO_KEY: dict[str, str] = {alias: key for key, aliases in _ALIASES.items() for alias in aliases}
_ALL_KEYS = frozenset(ALIAS_TO_KEY.values())


@lru_cache(maxsize=8192)
def heading_key(text: str) -> str | None:
    """Canonical key of a heading's text ("Risks & Complications:" -> "risks"), or None if unknown.

    Cached: a corpus repeats the same few dozen headings on every page.
    """
    if len(text) > 100:
        return None
    norm = normalize_heading(text)
    return ALIAS_TO_KEY.get(norm)


def normalize_heading(text: str) -> str:
    """Lower case, single spaces, trailing colon and punctuation dropped, curly apostrophes straightened."""
    text = text.replace("\u2019", "'")
    text = " ".join(text.split()).lower()
    if text[:1] in _DECORATION_START:
        text = _DECORATION.sub("", text)
    return text.rstrip(":.-\u2013\u2014*_# ").strip()


# Numbering and Markdown marks around a heading: "2. Summary", "IV) Risks", "## Summary", "**Summary:**".
_DECORATION = re.compile(r"^(?:#{1,6}\s*|[*_]{1,3}|(?:\d{1,2}|[ivx]{1,4})[.)]\s+)+")
_DECORATION_START = frozenset("#*_0123456789ivx")


def custom_section_key(text: str) -> str:
    """Stable key for a heading not in the alias table: it becomes its own section, never dropped."""
    return "x_" + re.sub(r"[^a-z0-9]+", "_", normalize_heading(text)).strip("_")[:40]


# Headings of site chrome that slipped past the markup: their content is dropped up to the next
# recognised heading ("Popular procedures", "Subscribe to our newsletter", "Disclaimer").
_CHROME_HEADING = re.compile(
    r"^(popular|trending|most viewed|top) \w+|newsletter|subscribe|sign up|stay (informed|updated)|"
    r"^you (may|might) also|^recently viewed|^related (articles|searches|links|posts|topics|content)|"
    r"^advertis|^sponsored|cookie|^disclaimers?$|^medical disclaimer|^legal|^copyright|^privacy|^terms|"
    r"^share( this)?|^follow us|^about us|^contact( us)?$|^quick links|^more from|^latest|^recent (posts|articles)|"
    r"^comments?$|^leave a (comment|reply)|^site map|^browse|^search( codes)?$|^navigation$|^menu$|"
    r"^table of contents$|^on this page$|^in this article$|^jump to|^last (updated|reviewed)"
)


def is_chrome_heading(text: str) -> bool:
    """A heading that opens site chrome (sidebars, newsletters, disclaimers), not page content."""
    if len(text) > 60:  # chrome headings are short labels; a procedure's title is not one
        return False
    norm = normalize_heading(text)
    return heading_key(text) is None and bool(_CHROME_HEADING.search(norm))


def split_label(text: str) -> tuple[str, str, str] | None:
    """(key, label, value) for a one-line "Label: value" whose label names a field or a section exactly.

    "Technical Term: ...", "CPT code: 62273", "Duration: about an hour" are headings with their value;
    loose aliases ("Description: ...", "Uses: ...") inside running text are not.
    """
    head, sep, rest = text.partition(":")
    if not sep or not rest.strip() or len(head) > 40:
        return None
    key = heading_key(head)
    if key is None:
        return None
    if key not in FIELD_HEADINGS and normalize_heading(head) != SECTION_LABELS[key].lower():
        return None
    return key, head.strip(), rest.strip()


def section_label(key: str, heading: str = "") -> str:
    """Display name of a section key; unknown headings keep their own words."""
    return SECTION_LABELS.get(key) or heading or key


def is_known_key(key: str) -> bool:
    return key in _ALL_KEYS
