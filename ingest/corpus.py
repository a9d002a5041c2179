"""A corpus (directories and files) -> records plus a report in which every file is accounted for."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from .errors import PageError, ProcsearchError
from .workers import die_with_parent
from .page import PAGE_SUFFIXES, ParsedPage, parse_page
from .record import ProcedureRecord


@dataclass(frozen=True)
class Problem:
    """A file that was skipped or warned about, and why: one report line."""

    path: str
    reason: str

    def line(self, kind: str) -> str:
        return f"{kind}: {self.path}: {self.reason}"


@dataclass(frozen=True)
class Duplicate:
    """Pages sharing one code: which file won and which lost."""

    code: str
    winner: str
    losers: tuple[str, ...]

    def line(self) -> str:
        return (f"duplicate: code {self.code} in {len(self.losers) + 1} files; kept {self.winner}, "
                f"skipped {', '.join(self.losers)}")


@dataclass(frozen=True)
class IngestReport:
    """What parsing a corpus did: counts, skipped files, warnings and duplicates."""

    parsed: int
    skipped: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    duplicates: tuple[Duplicate, ...]
    ignored: tuple[str, ...]

    @property
    def problems(self) -> int:
        return len(self.skipped) + len(self.warnings) + len(self.duplicates)

    def lines(self) -> list[str]:
        """One diagnostic line per problem, then the summary: nothing disappears silently."""
        out = [p.line("skipped") for p in self.skipped]
        out += [p.line("warning") for p in self.warnings]
        out += [d.line() for d in self.duplicates]
        if self.ignored:
            out.append(f"ignored {len(self.ignored)} file(s) that are not pages "
                       f"(not {', '.join(sorted(PAGE_SUFFIXES))}): {', '.join(self.ignored[:5])}"
                       + (" ..." if len(self.ignored) > 5 else ""))
        out.append(self.summary())
        return out

    def summary(self) -> str:
        dup_losers = sum(len(d.losers) for d in self.duplicates)
        return (f"{self.parsed} parsed, {len(self.skipped) + dup_losers} skipped "
                f"({len(self.skipped)} unreadable or invalid, {dup_losers} duplicate), "
                f"{len(self.warnings)} warnings")


def skipped_name(name: str) -> bool:
    """Hidden entries and Python package files (the bundled corpus is a package) are not pages."""
    return name.startswith((".", "__"))


def is_page_name(name: str) -> bool:
    """Whether a file name has a page suffix: os.path.splitext's rule, without its cost per file."""
    dot = name.rfind(".")
    return dot > 0 and name[dot:].lower() in PAGE_SUFFIXES and name[:dot].strip(".") != ""


def find_pages(paths: Iterable[str | os.PathLike[str]],
               unreadable: list[Problem] | None = None) -> tuple[list[str], list[str]]:
    """(page files, ignored files) under the given files and directories, sorted so runs are repeatable.

    Folders that cannot be listed are appended to ``unreadable`` (when given) so their pages are
    reported, not silently missing.
    """
    pages: list[str] = []
    ignored: list[str] = []

    def folder_error(exc: OSError) -> None:
        if unreadable is not None:
            unreadable.append(Problem(exc.filename or "?", f"unreadable folder ({exc.strerror or exc})"))

    for entry in paths:
        entry = os.fspath(entry)
        if os.path.isdir(entry):
            for dirpath, dirnames, filenames in os.walk(entry, onerror=folder_error):
                dirnames[:] = [d for d in dirnames if not skipped_name(d)]
                for name in filenames:
                    if skipped_name(name):
                        continue
                    full = os.path.join(dirpath, name)
                    (pages if is_page_name(name) else ignored).append(full)
        elif os.path.exists(entry):
            pages.append(entry)
        else:
            raise ProcsearchError(f"{entry}: no such file or directory")
    return sorted(set(pages)), sorted(ignored)


def scan_pages(paths: Iterable[str | os.PathLike[str]], unreadable: list[Problem] | None = None
               ) -> tuple[dict[str, os.stat_result | None], list[str]]:
    """({page: its stat, None when it has none}, ignored files): the pages find_pages finds, with
    one system call per file, so an update compares sizes and mtimes without a second stat each."""
    pages: dict[str, os.stat_result | None] = {}
    ignored: list[str] = []

    def scan(folder: str) -> None:
        try:
            listing = os.scandir(folder)
        except OSError as exc:
            if unreadable is not None:
                unreadable.append(Problem(folder, f"unreadable folder ({exc.strerror or exc})"))
            return
        folders = []
        with listing:
            for entry in listing:
                if skipped_name(entry.name):
                    continue
                try:
                    st: os.stat_result | None = entry.stat()
                except OSError:  # a dangling link is a page that will fail to parse, as in find_pages
                    st = None
                if st is not None and stat.S_ISDIR(st.st_mode):
                    if not entry.is_symlink():  # os.walk does not descend into linked folders either
                        folders.append(entry.path)
                elif is_page_name(entry.name):
                    pages[entry.path] = st
                else:
                    ignored.append(entry.path)
        for sub in folders:
            scan(sub)

    for path in paths:
        path = os.fspath(path)
        if os.path.isdir(path):
            scan(path)
        elif os.path.exists(path):
            pages[path] = os.stat(path)
        else:
            raise ProcsearchError(f"{path}: no such file or directory")
    return pages, ignored


def pick_winner(candidates: Iterable[tuple[str, int]]) -> str:
    """Of several (path, section count) pages with one code: the most complete, then the first path."""
    return min(candidates, key=lambda c: (-c[1], c[0]))[0]


def resolve_duplicates(entries: Iterable[tuple[str, str, int]]) -> tuple[dict[str, str], list[Duplicate]]:
    """(code, path, sections) triples -> ({code: winning path}, duplicates), deterministically."""
    by_code: dict[str, list[tuple[str, int]]] = {}
    for code, path, n_sections in entries:
        by_code.setdefault(code, []).append((path, n_sections))
    winners: dict[str, str] = {}
    duplicates: list[Duplicate] = []
    for code, candidates in by_code.items():
        winner = pick_winner(candidates)
        winners[code] = winner
        if len(candidates) > 1:
            losers = tuple(sorted(p for p, _ in candidates if p != winner))
            duplicates.append(Duplicate(code, winner, losers))
    duplicates.sort(key=lambda d: d.code)
    return winners, duplicates


def parse_one(path: str) -> ParsedPage | PageError:
    """Parse without raising, so a pool keeps going past a bad page."""
    try:
        return parse_page(path)
    except PageError as exc:
        return exc
    except Exception as exc:  # a parser bug must not stop a build; it is reported per file
        return PageError(path, f"could not be parsed ({type(exc).__name__}: {exc})")


def parse_many(paths: list[str], workers: int | None = None) -> Iterator[ParsedPage | PageError]:
    """Parse pages in order, over processes when there are enough of them to pay for it."""
    workers = workers or os.cpu_count() or 1
    if workers <= 1 or len(paths) < 200:
        yield from map(parse_one, paths)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
        yield from pool.map(parse_one, paths, chunksize=64)


def ingest_corpus(
    paths: Iterable[str | os.PathLike[str]],
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[ProcedureRecord], IngestReport]:
    """Parse a corpus into de-duplicated records and a report covering every file."""
    skipped: list[Problem] = []
    pages, ignored = find_pages(paths, skipped)
    parsed: list[ParsedPage] = []
    warnings: list[Problem] = []
    for done, result in enumerate(parse_many(pages, workers), 1):
        if isinstance(result, PageError):
            skipped.append(Problem(result.path, result.reason))
        else:
            parsed.append(result)
            warnings.extend(Problem(result.record.source, w) for w in result.warnings)
        if progress:
            progress(done, len(pages))
    winners, duplicates = resolve_duplicates(
        (p.record.code, p.record.source, len(p.record.sections)) for p in parsed)
    records = [p.record for p in parsed if winners[p.record.code] == p.record.source]
    report = IngestReport(len(records), tuple(skipped), tuple(warnings), tuple(duplicates), tuple(ignored))
    return records, report
