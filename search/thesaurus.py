"""The medical thesaurus: data files of abbreviations, synonyms, word parts and spellings.

Format (see search/thesaurus/README.md): ``left = alt | alt`` expands one way, ``a ~ b ~ c`` is a
synonym group. Expansion happens at query time only, so editing a file needs no rebuild.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from procsearch.index.analysis import fold, stem_word
from procsearch.index.boosts import bundled_ranking
from procsearch.index.location import data_home

from procsearch.ingest.errors import ProcsearchError

THESAURUS_DIR = Path(__file__).with_name("thesaurus")
THESAURUS_ENV = "PROCSEARCH_THESAURUS"
MAX_PHRASE_WORDS = 5
# Expansions one line may create: a group of n members makes n*(n-1) of them, so a runaway line
# (a pasted word list) would take minutes and gigabytes; real groups have a handful of members.
MAX_LINE_EXPANSIONS = 40_000
CACHE_FORMAT = 5  # bump when Thesaurus's attributes change
STEM_KIND = "word stem"  # an unknown front of a compound, matched as a prefix of indexed words
# Small words a query may put inside a term the files write without them ("vessels of upper limb").
FILLER = frozenset(["of", "the", "to", "in", "on", "for", "a", "an"])

# How much an expansion counts against a word the user typed (1.0), by kind: the [expansion] table
# of index/boosts.toml. Entries are parsed (and cached) with these; a Searcher's own ranking
# configuration rescales them at query time (Compiler.expansion_weight).
WEIGHTS = dict(bundled_ranking().expansion_weights)
# Lower-case query words that are English words first and abbreviations second.
_COMMON_WORDS = frozenset("""
a all and any are as at be but by can cat for from had has have he her his how i if in is it its
me my no not of on or our out she so than that the them then there they this to up us was we were
what when where which who why will with you your am an do go ok one two per via pad pan pet gap
tap cap lap arm leg hip toe ear eye lip jaw rib gum aid age
""".split())
_WORD = re.compile(r"[^\W_]+(?:[-'&/][^\W_]+)*")

# The axes of an ICD-10-PCS description. An entry whose alternatives fall on several axes
# ("right hemicolectomy = resection | right large intestine") names a procedure by all of them
# at once, so each axis becomes a concept of its own; alternatives on one axis stay alternatives.
ROOT_OPERATIONS = frozenset("""alteration bypass change control creation destruction detachment dilation
division drainage excision extirpation extraction fragmentation fusion insertion inspection map
occlusion reattachment release removal repair replacement reposition resection restriction revision
supplement transfer transplantation introduction irrigation measurement monitoring""".split())
APPROACHES = frozenset(["open", "percutaneous", "percutaneous endoscopic", "external", "endoscopic",
                        "via natural or artificial opening", "via natural or artificial opening endoscopic"])
QUALIFIERS = frozenset(["diagnostic"])


@dataclass(frozen=True)
class Entry:
    """One expansion: the words it replaces and what is searched instead, at what weight."""

    source: tuple[str, ...]
    target: str
    weight: float
    kind: str
    term: str = ""  # the left-hand term as written (folded); keys are stemmed and may collide
    axis: str = ""  # set when the entry's alternatives span several axes (see ROOT_OPERATIONS)


_ENTRY_FIELDS = tuple(Entry.__dataclass_fields__)

# The packed cache's separators: between words of a key (and fields of an entry), and between
# entries. Both are line boundaries to str.splitlines, so no line of a thesaurus file holds them,
# and JSON writes them unescaped.
_FIELD_SEP = "\u2028"
_ROW_SEP = "\u2029"


def _join(words: tuple[str, ...] | list[str]) -> str:
    return _FIELD_SEP.join(words)


def _split(packed: str) -> tuple[str, ...]:
    return tuple(packed.split(_FIELD_SEP))


def _pack(entries: list[Entry]) -> str:
    """A phrase's entries as one string: target, weight, kind, term and axis of each (the source
    is the phrase's own key)."""
    return _ROW_SEP.join(_join((e.target, repr(e.weight), e.kind, e.term, e.axis)) for e in entries)


def _unpack_key(key: tuple[str, ...], packed: str) -> tuple[str, ...]:
    return _split(packed)


def _unpack_entries(origin: str) -> Callable[[tuple[str, ...], str], list[Entry]]:
    def unpack(key: tuple[str, ...], packed: str) -> list[Entry]:
        try:
            return [_entry(key, *row.split(_FIELD_SEP)) for row in packed.split(_ROW_SEP)] if packed else []
        except (TypeError, ValueError):
            raise ProcsearchError(f"{origin}: damaged entry for {' '.join(key)!r}; delete the file and it is "
                                  f"rebuilt from the thesaurus files") from None
    return unpack


def _entry(source: tuple[str, ...], target: str, weight: str, kind: str, term: str, axis: str) -> Entry:
    """An Entry from its cached fields, without the frozen dataclass's per-field __init__."""
    entry = object.__new__(Entry)
    entry.__dict__.update(zip(_ENTRY_FIELDS, (source, target, float(weight), kind, term, axis)))
    return entry


class _Packed(Mapping):
    """A read-only map from word tuples to values kept packed (see Thesaurus.state) until first
    read; the thesaurus of a cold query is mostly never looked at."""

    def __init__(self, packed: dict[str, str], unpack: Callable[[tuple[str, ...], str], object]) -> None:
        self._packed = packed
        self._unpack = unpack
        self._done: dict[tuple[str, ...], object] = {}

    def __getitem__(self, key: tuple[str, ...]) -> object:
        value = self._done.get(key)
        if value is None:
            value = self._done[key] = self._unpack(key, self._packed[_join(key)])
        return value

    def get(self, key: object, default: object = None) -> object:
        try:
            return self[key]
        except (KeyError, TypeError):
            return default

    def __contains__(self, key: object) -> bool:
        try:
            return _join(key) in self._packed  # type: ignore[arg-type]
        except TypeError:
            return False

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        return (_split(k) for k in self._packed)

    def __len__(self) -> int:
        return len(self._packed)


def axis_of(alt: str) -> str:
    """Which axis of a procedure description an alternative names."""
    text = " ".join(words_of(alt))
    if text in ROOT_OPERATIONS:
        return "operation"
    if text in APPROACHES:
        return "approach"
    if text in QUALIFIERS:
        return "qualifier"
    return "object"


def words_of(text: str) -> tuple[str, ...]:
    """Folded words of a thesaurus term or of a query."""
    return tuple(fold(w) for w in _WORD.findall(text))


def key_of(text: str) -> tuple[str, ...]:
    """The lookup key of a term: its words folded and stemmed, so "lymph node" finds "lymph nodes"."""
    return tuple(stem_word(w) for w in words_of(text))


class Thesaurus:
    """Lookups of phrases, abbreviations and word parts, built once from the data files."""

    def __init__(self, files: list[Path]) -> None:
        self.phrases: dict[tuple[str, ...], list[Entry]] = {}
        # Multi-word terms by their words in sorted order: code sets invert their wording
        # ("amputation, above knee" is an above knee amputation).
        self.unordered: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.abbreviations: set[tuple[str, ...]] = set()
        self.prefixes: dict[str, tuple[str, ...]] = {}
        self.suffixes: dict[str, tuple[str, ...]] = {}
        self.files = files
        self._words: set[str] = set()
        for path in files:
            self._load(path)
        self._prefix_list = sorted(self.prefixes, key=len, reverse=True)
        self._suffix_list = sorted(self.suffixes, key=len, reverse=True)

    def state(self) -> dict:
        """Plain JSON-ready data of the parsed files, for the on-disk cache.

        Packed for a fast load: each phrase's entries are one string, decoded only when a query
        looks the phrase up (a cold query needs a handful of the ~6,000), and multi-word keys
        are their words joined. The separators are line breaks, which no term read line by line
        from a file can hold, so the JSON holds few escapes and loads several times faster than
        one list per entry."""
        return {
            "phrases": {_join(k): _pack(v) for k, v in self.phrases.items()},
            "unordered": {_join(k): _join(v) for k, v in self.unordered.items()},
            "abbreviations": [_join(k) for k in self.abbreviations],
            "prefixes": {k: list(v) for k, v in self.prefixes.items()},
            "suffixes": {k: list(v) for k, v in self.suffixes.items()},
            "files": [str(f) for f in self.files],
            "words": _join(sorted(self._words)),
        }

    @classmethod
    def from_state(cls, data: dict, origin: str = "thesaurus cache") -> "Thesaurus":
        """The inverse of state(): no parsing, no code run from the file; phrase entries are
        decoded on first look-up (``origin`` names the file in the error a damaged entry raises)."""
        th = cls.__new__(cls)
        phrases, unordered = data["phrases"], data["unordered"]
        if not (isinstance(phrases, dict) and isinstance(unordered, dict)
                and all(isinstance(v, str) for v in phrases.values())
                and all(isinstance(v, str) for v in unordered.values())):
            raise TypeError("packed thesaurus tables are not string maps")
        th.phrases = _Packed(phrases, _unpack_entries(origin))
        th.unordered = _Packed(unordered, _unpack_key)
        th.abbreviations = {_split(k) for k in data["abbreviations"]}
        th.prefixes = {k: tuple(v) for k, v in data["prefixes"].items()}
        th.suffixes = {k: tuple(v) for k, v in data["suffixes"].items()}
        th.files = [Path(f) for f in data["files"]]
        th._words = set(_split(data["words"])) if data["words"] else set()
        th._prefix_list = sorted(th.prefixes, key=len, reverse=True)
        th._suffix_list = sorted(th.suffixes, key=len, reverse=True)
        return th

    def _load(self, path: Path) -> None:
        kind = {"abbreviations": "abbreviation", "spellings": "spelling",
                "word_parts": "word part"}.get(path.stem, "synonym")
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ProcsearchError(f"{path}: thesaurus file unreadable ({exc})") from None
        for number, raw in enumerate(lines, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if " = " in line and "~" in line:
                raise ProcsearchError(f"{path}:{number}: a line is either 'term = alt | alt' or 'a ~ b', "
                                      f"not both: {raw.strip()!r}")
            if " = " in line:
                left, right = line.split(" = ", 1)
                alts = [a.strip() for a in right.split("|") if a.strip()]
                lefts = [x.strip() for x in left.split("|") if x.strip()]
                if not alts or not lefts:
                    raise ProcsearchError(f"{path}:{number}: empty side in {raw.strip()!r}")
                _check_size(path, number, len(lefts) * len(alts))
                for term in lefts:
                    self._add_one_way(term, alts, kind)
            elif "~" in line:
                members = [m.strip() for m in line.split("~") if m.strip()]
                _check_size(path, number, len(members) * (len(members) - 1))
                for m in members:
                    self._add_one_way(m, [o for o in members if o != m], kind)
            else:
                raise ProcsearchError(f"{path}:{number}: expected 'term = alt | alt' or 'a ~ b', got {raw.strip()!r}")

    def _add_one_way(self, term: str, alts: list[str], kind: str) -> None:
        if term.endswith("-") and not term.startswith("-"):
            self.prefixes[fold(term[:-1])] = tuple(alts)
            return
        if term.startswith("-"):
            self.suffixes[fold(term[1:])] = tuple(alts)
            return
        key = key_of(term)
        if not key:
            return
        self._words.update(words_of(term))
        is_abbreviation = kind == "abbreviation" or (term.isupper() and len(key) == 1)
        if is_abbreviation:
            self.abbreviations.add(key)
        alts = [a for a in alts if key_of(a) != key]
        axes = [axis_of(a) for a in alts] if kind == "synonym" and not is_abbreviation else []
        split = len(set(axes)) > 1
        bucket = self.phrases.setdefault(key, [])
        if len(key) > 1:
            self.unordered.setdefault(tuple(sorted(key)), key)
        for i, alt in enumerate(alts):
            self._words.update(words_of(alt))
            n = axes.count(axes[i]) if split else len(alts)
            bucket.append(Entry(key, alt, _weight(WEIGHTS[kind], n), "abbreviation" if is_abbreviation else kind,
                                " ".join(words_of(term)), axes[i] if split else ""))

    def lookup(self, words: list[str], original: list[str]) -> list[tuple[int, int, list[Entry]]]:
        """(start, end, entries) for the longest thesaurus phrases in a word sequence."""
        found = []
        i = 0
        while i < len(words):
            for n in range(min(MAX_PHRASE_WORDS, len(words) - i), 0, -1):
                key = tuple(words[i:i + n])
                entries = self._phrase(key)
                if not entries and n > 2 and key[0] not in FILLER and key[-1] not in FILLER:
                    # "foramen of Monro" is the entry "foramen monro"; "circle of willis" keeps its "of"
                    entries = self._phrase(tuple(w for w in key if w not in FILLER))
                if not entries:
                    continue
                if key in self.abbreviations and n == 1 and not _abbreviation_ok(original[i]):
                    continue
                found.append((i, i + n, entries))
                break
            i += 1
        return found

    def _phrase(self, key: tuple[str, ...]) -> list[Entry] | None:
        """Entries of a term, its words in the order written or in any order."""
        entries = self.phrases.get(key)
        if not entries and len(key) > 1:
            entries = self.phrases.get(self.unordered.get(tuple(sorted(key)), ()))
        return entries

    def word_parts(self, word: str) -> list[list[Entry]]:
        """Meanings of each part of a compound, one group per part: a salpingo-oophorectomy is a
        fallopian tube AND an ovary AND an excision, so each group becomes a concept of its own."""
        return _split_compound(self, fold(word))

    def sub_compounds(self, word: str) -> list[str]:
        """One root of a compound with its ending, with or without a linking "o": a
        hemithyroidectomy is a thyroidectomy, an esophagogastroduodenoscopy a gastroscopy. The
        caller keeps the words its pages use."""
        found = _split_word(self, fold(word).replace("-", ""))
        if not found or not found[0] or len(found[0]) < 2:
            return []
        roots, _, suffix = found
        out = []
        for root in roots:
            if root not in _POSITION_ROOTS:
                bare = root.rstrip("aeio") or root
                out.extend(dict.fromkeys([root + suffix, bare + suffix, bare + "o" + suffix]))
        return out

    def spellings(self, word: str) -> list[str]:
        """Other spellings of a word (oesophagus -> esophagus)."""
        written = " ".join(words_of(word))
        return [e.target for e in self.phrases.get(key_of(word), ())
                if e.kind == "spelling" and e.term == written and " " not in e.target]

    def vocabulary(self) -> set[str]:
        """Every single word the thesaurus knows: typo corrections may land on them too."""
        return {w for w in self._words if w.isalpha() and len(w) >= 3}


def _check_size(path: Path, number: int, expansions: int) -> None:
    if expansions > MAX_LINE_EXPANSIONS:
        raise ProcsearchError(f"{path}:{number}: line makes {expansions:,} expansions (at most "
                              f"{MAX_LINE_EXPANSIONS:,}); split it into smaller groups of terms that mean the same")


def _weight(base: float, alternatives: int) -> float:
    """One of several alternatives counts for less than a sole expansion, but never under half."""
    return base if alternatives == 1 else max(base / 2, base / alternatives ** 0.5)


def split_axes(entries: list[Entry]) -> tuple[list[Entry], list[list[Entry]]]:
    """(entries that are alternatives of the typed words, one group per axis of the others)."""
    plain = [e for e in entries if not e.axis]
    groups: dict[str, list[Entry]] = {}
    for e in entries:
        if e.axis:
            groups.setdefault(e.axis, []).append(e)
    return plain, list(groups.values())


def _abbreviation_ok(original: str) -> bool:
    return original.isupper() or fold(original) not in _COMMON_WORDS


_PLURALS = (("ies", "y"), ("es", ""), ("s", ""))


def _split_compound(th: Thesaurus, word: str) -> list[list[Entry]]:
    word = word.replace("-", "")
    source = (word,)
    found = _split_word(th, word)
    if found is None:
        return _split_adjective(th, word, source)
    roots, front, suffix = found
    if roots:
        groups = [_group(source, th.prefixes[root]) for root in roots]
    elif len(front) >= 4:
        # An unknown front ("cricoid-ectomy") is kept as a word stem: the searcher
        # matches it against the beginnings of indexed words.
        stem = front.rstrip("oiae") if len(front.rstrip("oiae")) >= 4 else front
        groups = [[Entry(source, stem, WEIGHTS["word part"], STEM_KIND)]]
    else:
        return []
    groups.append(_group(source, th.suffixes[suffix]))
    return groups


def _split_word(th: Thesaurus, word: str) -> tuple[list[str] | None, str, str] | None:
    """(known roots of the front, or None; the front; the ending) by the longest matching ending
    (only that one counts), or None when no ending matches."""
    candidates = [word] + [word[: -len(a)] + b for a, b in _PLURALS if word.endswith(a) and len(word) > 6]
    for cand in candidates:
        for suffix in th._suffix_list:
            if cand.endswith(suffix) and len(cand) - len(suffix) >= 3:
                front = cand[: -len(suffix)]
                return _split_roots(th, front), front, suffix
    return None


ADJECTIVE_ENDINGS = ("eal", "ial", "al", "ic", "ar")
# Position prefixes of word_parts.txt: "around", "behind" name no page's body part.
_POSITION_ROOTS = frozenset("intra inter peri para retro supra sub infra epi hypo extra endo".split())


def _split_adjective(th: Thesaurus, word: str, source: tuple[str, ...]) -> list[list[Entry]]:
    """Roots of an adjective made of two or more of them: a rectovaginal fistula involves the
    rectum AND the vagina, a perirenal abscess the kidney. A one-root adjective (renal) is left
    to the synonym files."""
    for ending in ADJECTIVE_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 6:
            roots = _split_roots(th, word[: -len(ending)])
            if roots and len(roots) >= 2:
                return [_group(source, th.prefixes[root]) for root in roots if root not in _POSITION_ROOTS]
    return []


def _group(source: tuple[str, ...], alts: tuple[str, ...]) -> list[Entry]:
    weight = WEIGHTS["word part"] / max(1, len(alts)) ** 0.5
    return [Entry(source, alt, weight, "word part") for alt in alts]


def _split_roots(th: Thesaurus, stem: str, depth: int = 0) -> list[str] | None:
    """Greedy longest-first split of a word's front into known roots (linking vowels allowed)."""
    if not stem:
        return []
    if depth > 4:
        return None
    for root in th._prefix_list:
        if stem.startswith(root):
            rest = stem[len(root):]
            for trimmed in (rest, rest[1:] if rest[:1] in ("o", "i", "a", "e") else None):
                if trimmed is None:
                    continue
                tail = _split_roots(th, trimmed, depth + 1)
                if tail is not None:
                    return [root] + tail
    if stem in ("o", "i", "a", "e"):
        return []
    return None


def thesaurus_files(extra: list[str] | None = None) -> list[Path]:
    """Bundled files, then the user's own (option, then PROCSEARCH_THESAURUS, colon-separated)."""
    files = sorted(THESAURUS_DIR.glob("*.txt"))
    paths = list(extra or [])
    env = os.environ.get(THESAURUS_ENV)
    if env:
        paths += [p for p in env.split(os.pathsep) if p]
    for p in paths:
        if not os.path.isfile(p):
            raise ProcsearchError(f"{p}: thesaurus file not found")
        files.append(Path(p))
    return files


@lru_cache(maxsize=8)
def _load_cached(files: tuple[Path, ...], mtimes: tuple[float, ...]) -> Thesaurus:
    """Parsed once per set of file versions; the parse is kept on disk as JSON (never a pickle,
    which would run code) in a folder only this user can open, so a cold command-line query does
    not re-read thousands of lines. Only the current cache file is kept."""
    folder = private_cache_dir()
    cache = folder / cache_name(files, mtimes) if folder else None
    if cache is not None:
        try:
            with open(cache, encoding="utf-8") as fh:
                return Thesaurus.from_state(json.load(fh), str(cache))
        except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
            pass
    thesaurus = Thesaurus(list(files))
    if cache is not None:
        try:
            tmp = cache.with_suffix(f".tmp-{os.getpid()}")
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(thesaurus.state(), fh, ensure_ascii=False, separators=(",", ":"))
            os.replace(tmp, cache)
            _prune_cache(folder, cache.name)
        except OSError:
            pass  # a read-only home only costs the parse
    return thesaurus


def cache_name(files: tuple[Path, ...], mtimes: tuple[float, ...]) -> str:
    """File name of the cache for these file versions and this parser."""
    code = Path(__file__).stat().st_mtime  # a new version of this parser invalidates the cache
    key = hashlib.sha1(repr((files, mtimes, CACHE_FORMAT, code, sorted(WEIGHTS.items()))).encode()).hexdigest()[:16]
    return f"thesaurus-{key}.json"


def private_cache_dir() -> Path | None:
    """The per-user cache folder, created 0700; None when it is not this user's alone (then
    nothing is read from or written to it)."""
    folder = data_home() / "cache"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = folder.stat()
        if st.st_uid != os.getuid():
            return None
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            folder.chmod(0o700)
        return folder
    except OSError:
        return None


def _prune_cache(folder: Path, keep: str) -> None:
    """Remove older thesaurus caches (and the pickles of earlier versions), keeping ``keep``."""
    for path in folder.glob("thesaurus-*"):
        if path.name != keep and path.suffix in (".json", ".pickle"):
            try:
                path.unlink()
            except OSError:
                pass


def load_thesaurus(extra: list[str] | None = None) -> Thesaurus:
    """The thesaurus for these files, reloaded when a file changes."""
    files = tuple(thesaurus_files(extra))
    return _load_cached(files, tuple(f.stat().st_mtime for f in files))
