"""User spellings of the code-system and section filters -> the values the Searcher takes.

Every face (command line, HTTP) accepts the same spellings and refuses the same ones with the
same one-line message, which lists what would have worked.
"""

from __future__ import annotations

from procsearch.index.schema import FIELD_TO_LABEL, SECTION_FIELDS
from procsearch.ingest.codes import CODE_SYSTEMS, UNKNOWN, parse_system
from procsearch.ingest.errors import ProcsearchError
from procsearch.ingest.sections import heading_key

from .parse import FIELD_SCOPES

OTHER_SECTIONS_LABEL = "Other sections"  # the label of the field holding non-canonical headings


class FilterError(ProcsearchError):
    """A code system or section name that means nothing; the message names the accepted ones."""


def resolve_system(name: str) -> str:
    """"cpt", "ICD-10-PCS", "pcs" -> the canonical code system name."""
    system = parse_system(name)
    if system is None:
        known = ", ".join(s for s in CODE_SYSTEMS if s != UNKNOWN)
        raise FilterError(f"unknown code system {name!r}; use {known}")
    return system


def resolve_section(name: str) -> str:
    """A section's field key from its key, label or a heading alias ("risks", "Risks and
    Complications", "complications", "How it is done") -> "risks", "procedure"."""
    text = name.strip()
    key = FIELD_SCOPES.get(text.lower().replace(" ", "_")) or heading_key(text)
    if key is None and text.lower() == OTHER_SECTIONS_LABEL.lower():
        key = "other"
    if key is None:
        raise FilterError(f"unknown section {name!r}; use one of {', '.join(sorted(set(FIELD_SCOPES.values())))}")
    return key


def section_label(key: str) -> str:
    """The label shown for a section field ("risks" -> "Risks and Complications")."""
    if key == "other":
        return OTHER_SECTIONS_LABEL
    return FIELD_TO_LABEL.get(key, key)


def section_key(label: str) -> str:
    """The field a record's section label is indexed in (a heading outside the canonical set: "other")."""
    for key in SECTION_FIELDS:
        if FIELD_TO_LABEL.get(key) == label:
            return key
    return "other"
