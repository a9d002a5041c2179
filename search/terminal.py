"""Untrusted text made safe to print: to a terminal, in a one-line report, in a spreadsheet cell.

Page text, titles, file names and queries can hold escape sequences (ESC, 8-bit CSI/OSC) that a
terminal would obey, and a csv cell starting with ``=`` is a formula to a spreadsheet. Records are
cleaned at ingest; everything printed still goes through here, because file names, queries and
indexes written by older versions are not.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# C0 controls (tab and newline kept), DEL, C1 controls, bidi overrides, lone surrogates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_UNSAFE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# A cell starting with one of these is a formula (or DDE call) to Excel, LibreOffice, Sheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _visible(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def text(value: str) -> str:
    """Multi-line text for a terminal: control characters shown as \\x1b, newlines and tabs kept."""
    return _UNSAFE.sub(_visible, value) if _UNSAFE.search(value) else value


def line(value: object) -> str:
    """One line for a terminal or a report (a title, a file name, a query): newlines escaped too."""
    value = str(value)
    return _UNSAFE_LINE.sub(_visible, value) if _UNSAFE_LINE.search(value) else value


def csv_cell(value: object) -> object:
    """A csv cell a spreadsheet shows as text: a leading = + - @ gets an apostrophe in front.
    Numbers pass unchanged (a negative score is a number, not a formula)."""
    if not isinstance(value, str):
        return value
    value = line(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def snippet(text_: str, highlights: tuple[tuple[int, int], ...], mark: Callable[[str], str]) -> str:
    """A snippet with its highlights passed through ``mark`` and every part escaped first."""
    out, last = [], 0
    for start, end in highlights:
        out.append(line(text_[last:start]))
        out.append(mark(line(text_[start:end])))
        last = end
    out.append(line(text_[last:]))
    return "".join(out)
