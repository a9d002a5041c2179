"""The project's one error hierarchy: every failure a user can cause ends up as one of these."""

from __future__ import annotations


class ProcsearchError(Exception):
    """Base class: the CLI catches this once and prints its message as one line."""


class PageError(ProcsearchError):
    """A page could not be turned into a record; carries the file and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
