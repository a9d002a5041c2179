"""Code formats: the one place that knows what CPT, HCPCS, ICD-10-PCS and ICD-10-CM codes look like."""

from __future__ import annotations

import re
from typing import NamedTuple

CPT = "CPT"
HCPCS = "HCPCS"
ICD10PCS = "ICD-10-PCS"
ICD10CM = "ICD-10-CM"
UNKNOWN = "unknown"
CODE_SYSTEMS = (CPT, HCPCS, ICD10PCS, ICD10CM, UNKNOWN)

# Shapes, on normalised (upper-case, no dots or spaces) codes.
_CPT_RE = re.compile(r"^\d{4}[0-9FTU]$")  # Category I, II (F), III (T), PLA (U)
_HCPCS_RE = re.compile(r"^[A-V]\d{4}$")
_PCS_RE = re.compile(r"^[0-9A-HJ-NP-Z]{7}$")
_CM_RE = re.compile(r"^[A-TV-Z]\d[0-9A-Z][0-9A-Z]{0,4}$")

# A code as written in running text: 62273, 62273-50, 0FT44ZZ, J1885, E11.9, E119.
CODE_IN_TEXT = re.compile(
    r"(?<![\w.])("
    r"\d{4}[0-9FTU](?:-[0-9A-Z]{2})?"
    r"|[A-V]\d{4}(?:-[0-9A-Z]{2})?"
    r"|[0-9][0-9A-HJ-NP-Z]{6}"
    r"|[A-HJ-NP-Z][0-9A-HJ-NP-Z]{6}"
    r"|[A-TV-Z]\d[0-9A-Z]\.[0-9A-Z]{1,4}"
    r")(?![\w])"
)

# The page's own words for its code system, checked in this order.
_SYSTEM_WORDS = (
    (re.compile(r"\bICD[- ]?10[- ]?PCS\b", re.I), ICD10PCS),
    (re.compile(r"\bICD[- ]?10[- ]?CM\b", re.I), ICD10CM),
    (re.compile(r"\bHCPCS\b", re.I), HCPCS),
    (re.compile(r"\bCPT\s*[-®4]?", re.I), CPT),
)


class Code(NamedTuple):
    """A normalised code and its modifier split off (62273-50 -> 62273, 50)."""

    code: str
    modifier: str


def normalize_code(raw: str) -> Code:
    """Canonical form: upper case, no spaces or dots (E11.9 = E119), modifier split off (62273-50)."""
    text = _SPACES.sub("", raw).upper().replace(".", "")
    modifier = ""
    if "-" in text:
        m = _WITH_MODIFIER.match(text)
        if m:
            text, modifier = m.group(1), m.group(2)
    return Code(text, modifier)


_SPACES = re.compile(r"\s+")
_WITH_MODIFIER = re.compile(r"^([0-9A-Z]{5})-([0-9A-Z]{2})$")


def looks_like_code(token: str) -> bool:
    """True for a token shaped like any supported code (used to keep codes away from stemming and fuzzing)."""
    code = normalize_code(token).code
    if len(code) < 3 or len(code) > 7 or not any(ch.isdigit() for ch in code):
        return False
    return bool(_CPT_RE.match(code) or _HCPCS_RE.match(code) or _PCS_RE.match(code) or _CM_RE.match(code))


def system_from_shape(code: str) -> str:
    """Best guess of the code system from the code alone, for pages that do not say."""
    if _CPT_RE.match(code):
        return CPT
    if _HCPCS_RE.match(code):
        return HCPCS
    if len(code) == 7 and code[0].isdigit() and _PCS_RE.match(code):
        return ICD10PCS
    if _CM_RE.match(code):
        return ICD10CM
    if _PCS_RE.match(code):
        return ICD10PCS
    return UNKNOWN


def system_from_words(text: str) -> str:
    """The code system a page names for itself ("CPT4 code", "ICD-10-PCS code"), or ""."""
    for pattern, system in _SYSTEM_WORDS:
        if pattern.search(text):
            return system
    return ""


def system_matches_shape(system: str, code: str) -> bool:
    """Whether a code's shape is possible in a system (guards against words of other pages' chrome)."""
    return {
        CPT: bool(_CPT_RE.match(code)),
        HCPCS: bool(_HCPCS_RE.match(code)),
        ICD10PCS: bool(_PCS_RE.match(code)),
        ICD10CM: bool(_CM_RE.match(code)),
    }.get(system, True)


def find_codes(text: str) -> list[str]:
    """Codes written in a piece of text, in order, as they were written."""
    return [m.group(1) for m in CODE_IN_TEXT.finditer(text) if any(ch.isdigit() for ch in m.group(1))]


def is_code_shaped(code: str) -> bool:
    """True for a normalised code of any supported shape."""
    return bool(_CPT_RE.match(code) or _HCPCS_RE.match(code) or _PCS_RE.match(code) or _CM_RE.match(code))


# Spellings of each system, compared lower case with everything but letters and digits dropped
# ("ICD-10-PCS", "icd 10 pcs" and "ICD10PCS" are all "icd10pcs").
SYSTEM_ALIASES = {
    "cpt": CPT, "cpt4": CPT, "hcpcs": HCPCS, "hcpcs2": HCPCS, "hcpcsii": HCPCS, "hcpcslevel2": HCPCS,
    "hcpcslevelii": HCPCS, "pcs": ICD10PCS, "icd10pcs": ICD10PCS, "cm": ICD10CM, "icd10cm": ICD10CM,
    "unknown": UNKNOWN,
}


def parse_system(name: str) -> str | None:
    """A user's spelling of a code system ("cpt", "ICD-10-PCS", "pcs") -> canonical name, or None."""
    return SYSTEM_ALIASES.get(re.sub(r"[^a-z0-9]", "", name.lower()))


# Words of a file or folder name that name a code system ("cpt-62273-...", "hcpcs/J1885.html").
_PATH_SYSTEM_WORDS = {
    "cpt": CPT, "cpt4": CPT, "hcpcs": HCPCS, "hcpcs2": HCPCS, "icd10pcs": ICD10PCS, "pcs": ICD10PCS,
    "icd10cm": ICD10CM,
}
_PATH_TOKEN = re.compile(r"[A-Za-z0-9]+(?:\.[A-Za-z0-9]{1,4})?")


class PathCode(NamedTuple):
    """A code read from a file or folder name, with what the name says of it."""

    code: str
    modifier: str
    system: str  # named by the slug ("cpt-62273-...") or folder ("hcpcs/..."), else ""
    whole: bool  # the whole file or folder name is the code (62273.txt, 62273/index.html), not a slug


def code_from_path(path: str) -> PathCode | None:
    """A code-shaped token in a file name or, failing that, in the folders just above it.

    Scrapers save pages under slugs (``cpt-62273-epidural-blood-patch.txt``,
    ``epidural_blood_patch_62273.htm``) or folders (``cpt/62273/index.html``). Only the file's own
    name and its two nearest folders are read, and in a folder only a token that is a whole folder
    name or stands beside a code-system word counts, so temporary or project folders are not codes.
    """
    parts = re.split(r"[\\/]", path)
    stem = re.sub(r"\.[A-Za-z]{2,5}$", "", parts[-1])
    whole = normalize_code(stem)
    if is_code_shaped(whole.code) and any(ch.isdigit() for ch in whole.code):
        return PathCode(whole.code, whole.modifier, _system_in_parts(parts[:-1]), True)
    for depth, part in enumerate([stem] + parts[-2:-4:-1]):
        tokens = _PATH_TOKEN.findall(part.replace("_", " "))
        system = next((_PATH_SYSTEM_WORDS[t.lower()] for t in tokens if t.lower() in _PATH_SYSTEM_WORDS), "")
        modifier_next = re.search(r"(?<![A-Za-z0-9])([0-9A-Za-z]{5})-(\d{2}|[A-Z]{2})(?![A-Za-z0-9])", part)
        for token in tokens:
            if not looks_like_code(token):
                continue
            if sum(ch.isdigit() for ch in token) < 2 and not token[0].isdigit() and not system:
                continue  # one digit after letters is a word ("backup1"), not a code
            if depth and not system and token != part:
                continue  # a folder's code must be its whole name or stand beside a system word
            code = normalize_code(token).code
            if system and not system_matches_shape(system, code):
                continue
            modifier = modifier_next.group(2).upper() if modifier_next and modifier_next.group(1) == token else ""
            # A folder named just the code (cpt/62273/index.html) names it as plainly as 62273.txt does.
            return PathCode(code, modifier, system or _system_in_parts(parts[:-1]), depth > 0 and token == part)
    return None


def _system_in_parts(parts: list[str]) -> str:
    for part in reversed(parts[-2:]):
        system = _PATH_SYSTEM_WORDS.get(part.lower().replace("-", "").replace("_", ""))
        if system:
            return system
    return ""
