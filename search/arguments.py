"""The arguments of a search, checked in one place for the Python API, the command line and HTTP.

Code systems and sections are accepted as keys or display names in any case ("cpt", "ICD10PCS",
"icd-10-pcs", "risks", "Risks and Complications"). Anything else raises InvalidArgumentError with
a message listing what is accepted, so every face rejects the same values with the same words.
This module loads no Whoosh: the command line checks its options before opening an index.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass

from procsearch.ingest.codes import CODE_SYSTEMS, UNKNOWN, parse_system
from procsearch.ingest.errors import ProcsearchError

from .parse import SCOPE_FIELDS, section_field

SYSTEM_NAMES = tuple(s for s in CODE_SYSTEMS if s != UNKNOWN)


class InvalidArgumentError(ProcsearchError, ValueError):
    """A search argument with a value no face accepts; ``argument`` names the parameter."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument


@dataclass(frozen=True)
class SearchArgs:
    """Checked, canonical search arguments: code system name and index field keys."""

    query: str
    limit: int
    offset: int
    code_system: str | None
    sections: tuple[str, ...]


def check_search_args(query: object = "", limit: object = 10, offset: object = 0, code_system: object = None,
                      sections: object = None) -> SearchArgs:
    """The one validation of search arguments: canonical values, or InvalidArgumentError saying why."""
    return SearchArgs(check_text("query", query), _count("limit", limit), _count("offset", offset), _system(code_system),
                      _sections(sections))


def check_text(name: str, value: object) -> str:
    """A code or text argument of get/similar/suggest: a string, or InvalidArgumentError."""
    if not isinstance(value, str):
        raise InvalidArgumentError(name, f"the {name} must be text, not {_kind(value)}")
    return value


def check_count(name: str, value: object) -> int:
    """A limit or offset: a whole number of 0 or more, or InvalidArgumentError."""
    return _count(name, value)


def _kind(value: object) -> str:
    return "None" if value is None else type(value).__name__


def _count(name: str, value: object) -> int:
    try:  # any integer type (numpy's too), never a float, string or bool
        if isinstance(value, bool):
            raise TypeError
        value = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidArgumentError(name, f"{name} must be a whole number of 0 or more, not {value!r}") from None
    if value < 0:
        raise InvalidArgumentError(name, f"{name} must be 0 or more, not {value}")
    return value


def _system(value: object) -> str | None:
    if value is None:
        return None
    system = parse_system(value) if isinstance(value, str) else None
    if system is None:
        raise InvalidArgumentError("code_system", f"unknown code system {value!r}; use one of: {', '.join(SYSTEM_NAMES)}")
    return system


def _sections(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    names: Iterable[object] = (value,) if isinstance(value, str) else value  # type: ignore[assignment]
    try:
        items = list(names)
    except TypeError:
        raise InvalidArgumentError("sections", f"sections must be a list of section names, not {_kind(value)}") from None
    out = []
    for name in items:
        key = section_field(name) if isinstance(name, str) else None
        if key is None:
            raise InvalidArgumentError("sections", f"unknown section {name!r}; use one of: {', '.join(SCOPE_FIELDS)} "
                                                   "(or their display names, e.g. 'Risks and Complications')")
        out.append(key)
    return tuple(dict.fromkeys(out))
