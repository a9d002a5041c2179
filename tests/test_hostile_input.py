"""Hostile files and data: planted pickles, foreign folders, escape sequences, FIFOs, huge files.

Each test reproduces one way a user's machine could be harmed (code run, a file deleted, a
terminal or spreadsheet taken over, a hang) and checks that procsearch refuses or neutralises it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage

from procsearch.index import IndexCorruptError, build_index, update_index
from procsearch.index import integrity, safe_pickle
from procsearch.index.errors import IndexDirError, IndexUntrustedError
from procsearch.index.schema import build_schema
from procsearch.index.store import CURRENT, INDEX_NAME, MARKER, OWNED
from procsearch.ingest import ingest_corpus
from procsearch.ingest.record import ProcedureRecord
from procsearch.search import Searcher
from procsearch.search import thesaurus as thesaurus_mod
from test_index_reliability import copy_pages, generate_pages

ROOT = Path(__file__).resolve().parent.parent
CONTROL = set(chr(c) for c in range(0x20) if chr(c) not in "\n\t") | {"\x7f"} | set(chr(c) for c in range(0x80, 0xa0))


class _Planted:
    """Unpickling this creates a folder: the witness that a pickle ran code."""

    def __init__(self, witness: str) -> None:
        self.witness = witness

    def __reduce__(self):
        return (os.mkdir, (self.witness,))


def planted_pickle(witness: Path) -> bytes:
    return pickle.dumps(_Planted(str(witness)))


@pytest.fixture
def small_index(tmp_path: Path) -> tuple[Path, Path]:
    corpus = copy_pages(tmp_path / "corpus", ["pages-a/62273.html", "pages-a/J1885.html"])
    index_dir = tmp_path / "index"
    build_index([str(corpus)], str(index_dir), workers=1)
    return corpus, index_dir


def live_gen(index_dir: Path) -> Path:
    return index_dir / (index_dir / CURRENT).read_text().strip()


# --- 1. no pickle from a user-writable place --------------------------------------------------------

def test_planted_thesaurus_cache_runs_no_code(tmp_home: Path, tmp_path: Path) -> None:
    witness = tmp_path / "ran"
    files = tuple(thesaurus_mod.thesaurus_files())
    mtimes = tuple(f.stat().st_mtime for f in files)
    cache = tmp_home / "cache"
    cache.mkdir(mode=0o700)
    name = thesaurus_mod.cache_name(files, mtimes)
    for planted in (cache / name, cache / name.replace(".json", ".pickle")):
        planted.write_bytes(planted_pickle(witness))
    thesaurus_mod._load_cached.cache_clear()
    th = thesaurus_mod._load_cached(files, mtimes)
    assert not witness.exists()
    assert th.phrases  # parsed from the files instead
    assert json.loads((cache / name).read_text(encoding="utf-8"))["phrases"]  # and re-cached as JSON


def test_thesaurus_cache_is_private_pruned_and_equal_to_a_parse(tmp_home: Path) -> None:
    cache = tmp_home / "cache"
    cache.mkdir(mode=0o755)
    (cache / "thesaurus-0123456789abcdef.json").write_text("{}", encoding="utf-8")
    (cache / "thesaurus-fedcba9876543210.pickle").write_bytes(b"old")
    (cache / "notes.txt").write_text("a user's file", encoding="utf-8")
    files = tuple(thesaurus_mod.thesaurus_files())
    mtimes = tuple(f.stat().st_mtime for f in files)
    thesaurus_mod._load_cached.cache_clear()
    parsed = thesaurus_mod._load_cached(files, mtimes)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert sorted(p.name for p in cache.iterdir()) == ["notes.txt", thesaurus_mod.cache_name(files, mtimes)]
    thesaurus_mod._load_cached.cache_clear()
    loaded = thesaurus_mod._load_cached(files, mtimes)  # from the JSON cache this time
    assert loaded is not parsed
    assert loaded.phrases == parsed.phrases and loaded.unordered == parsed.unordered
    assert loaded.abbreviations == parsed.abbreviations and loaded.vocabulary() == parsed.vocabulary()
    assert loaded.word_parts("salpingo-oophorectomy") == parsed.word_parts("salpingo-oophorectomy")


def _plant_schema_pickle(gen: Path, witness: Path) -> Path:
    """Rewrite the generation's table of contents with a schema whose pickle runs code."""

    class Hostile(type(build_schema())):
        def __reduce__(self):
            return (os.mkdir, (str(witness),))

    toc_file = next(gen.glob("_*.toc"))
    storage = FileStorage(str(gen))
    real = whoosh_index.TOC.read(storage, INDEX_NAME)
    hostile = Hostile()
    for name, field in build_schema().items():
        hostile.add(name, field)
    toc_file.unlink()
    whoosh_index.TOC(hostile, real.segments, real.generation).write(storage, INDEX_NAME)
    return toc_file


@pytest.mark.parametrize("rewrite_checksums", [False, True], ids=["toc-only", "toc-and-checksums"])
def test_planted_index_toc_is_refused_before_any_code_runs(small_index, tmp_path: Path, rewrite_checksums: bool) -> None:
    _, index_dir = small_index
    gen = live_gen(index_dir)
    witness = tmp_path / "ran"
    toc = _plant_schema_pickle(gen, witness)
    if rewrite_checksums:  # a careful attacker also fixes the hashes: the unpickler still refuses
        integrity.write_checksums(str(gen))
    with pytest.raises(IndexCorruptError) as err:
        Searcher(str(index_dir))
    assert not witness.exists()
    if rewrite_checksums:
        assert "refused to load posix.mkdir" in str(err.value)
    else:
        assert f"{toc} changed size" in str(err.value) or f"{toc} is not the table of contents" in str(err.value)


def test_every_whoosh_unpickling_goes_through_the_restricted_unpickler(tmp_path: Path) -> None:
    import whoosh.codec.whoosh3 as whoosh3
    import whoosh.filedb.structfile as structfile

    assert structfile.load_pickle is safe_pickle.load
    assert whoosh3.loads is safe_pickle.loads
    witness = tmp_path / "ran"
    with pytest.raises(safe_pickle.UnsafePickleError):
        safe_pickle.loads(planted_pickle(witness))
    with pytest.raises(safe_pickle.UnsafePickleError):
        safe_pickle.loads(pickle.dumps(subprocess.Popen))
    long_planted = pickle.dumps(("x" * 1000, _Planted(str(witness))))  # read through a buffer
    assert len(long_planted) > 1000
    with pytest.raises(safe_pickle.UnsafePickleError):
        safe_pickle.loads(long_planted)
    assert not witness.exists()
    assert safe_pickle.loads(pickle.dumps(build_schema(), 2)).names() == build_schema().names()


def test_index_writable_by_everyone_is_not_trusted(small_index) -> None:
    _, index_dir = small_index
    gen = live_gen(index_dir)
    gen.chmod(gen.stat().st_mode | stat.S_IWOTH)
    with pytest.raises(IndexUntrustedError, match="writable by every user"):
        Searcher(str(index_dir))
    gen.chmod(gen.stat().st_mode & ~stat.S_IWOTH)
    seg = next(gen.glob("*.seg"))
    seg.chmod(0o666)
    with pytest.raises(IndexUntrustedError, match=f"{seg.name} is writable by every user"):
        Searcher(str(index_dir))
    seg.chmod(0o644)
    with Searcher(str(index_dir)) as s:
        assert s.get("62273") is not None


# --- 2. the index folder is procsearch's own --------------------------------------------------------

def test_build_refuses_a_non_empty_folder_it_did_not_create(tmp_path: Path) -> None:
    corpus = copy_pages(tmp_path / "corpus", ["pages-a/62273.html"])
    target = tmp_path / "photos"
    (target / "gen-2019-photos").mkdir(parents=True)
    (target / "gen-2019-photos" / "beach.jpg").write_bytes(b"\xff\xd8jpeg")
    with pytest.raises(IndexDirError, match="not empty and is not a procsearch index"):
        build_index([str(corpus)], str(target), workers=1)
    assert sorted(p.name for p in target.rglob("*")) == ["beach.jpg", "gen-2019-photos"]


def test_builds_delete_only_what_the_index_created(small_index, tmp_path: Path) -> None:
    corpus, index_dir = small_index
    user_dir = index_dir / "gen-2019-photos"
    user_dir.mkdir()
    (user_dir / "beach.jpg").write_bytes(b"\xff\xd8jpeg")
    (index_dir / "building-1-2").mkdir()  # looks like a dead writer's folder, but is not in OWNED
    for _ in range(4):
        build_index([str(corpus)], str(index_dir), workers=1)
    assert (user_dir / "beach.jpg").read_bytes() == b"\xff\xd8jpeg"
    assert (index_dir / "building-1-2").is_dir()
    gens = sorted(p.name for p in index_dir.iterdir() if p.name.startswith("gen-2026") or p.name.startswith("gen-20"))
    owned = json.loads((index_dir / OWNED).read_text())
    assert "gen-2019-photos" not in owned and len(owned) == 2
    assert set(owned) <= set(gens)
    assert (index_dir / MARKER).is_file()


def test_an_empty_folder_is_claimed(tmp_path: Path) -> None:
    corpus = copy_pages(tmp_path / "corpus", ["pages-a/62273.html"])
    (tmp_path / "empty").mkdir()
    assert build_index([str(corpus)], str(tmp_path / "empty"), workers=1).indexed == 1


# --- 3. control characters ---------------------------------------------------------------------------

HOSTILE_PAGE = """<html><head><title>CPT 61234 \x1b]0;owned\x07 Hostile&#27;[31m title</title></head><body>
<h1>=HYPERLINK("http://evil.example","click") \x1b[2J wombat</h1>
<h2>Summary</h2><p>A wombat procedure\x1b[8m hidden &#x1b;]8;;http://evil.example\x07link&#155;31m text\u202e.</p>
<h2>Similar Codes</h2><ul><li>62273 Epidural \x1b[1mblood</li></ul></body></html>"""


@pytest.fixture
def hostile_index(tmp_path: Path) -> tuple[Path, Path]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "61234.html").write_text(HOSTILE_PAGE, encoding="utf-8")
    copy_pages(corpus, ["pages-a/62273.html"])
    index_dir = tmp_path / "index"
    build_index([str(corpus)], str(index_dir), workers=1)
    return corpus, index_dir


def _no_control(text: str) -> bool:
    return not (set(text) & CONTROL)


def test_records_carry_no_control_characters(hostile_index) -> None:
    corpus, _ = hostile_index
    records, _ = ingest_corpus([str(corpus)], workers=1)
    hostile = next(r for r in records if r.code == "61234")
    assert _no_control(hostile.to_json()) and "\\u001b" not in hostile.to_json()
    assert "\u202e" not in hostile.to_json()
    assert "wombat" in hostile.section("Summary")


def test_record_construction_cleans_whatever_a_parser_gives() -> None:
    rec = ProcedureRecord("6\x1b1234", "CPT", "T\x1b]0;x\x07itle", sections=(("Summary", "a\x9b31mb\r\nc"),),
                          similar_codes=(("62273", "E\x1b[1mpidural"),), source="/x/\x1b.html")
    assert rec.code == "61234" and rec.title == "T]0;xitle"
    assert rec.sections == (("Summary", "a31mb\nc"),) and rec.similar_codes == (("62273", "E[1mpidural"),)
    assert rec.source == "/x/\x1b.html"  # a path stays exact; it is escaped when printed


@pytest.mark.parametrize("args", [
    ["search", "wombat"], ["search", "wombat", "--explain"], ["search", "wombat", "--format", "csv"],
    ["show", "61234"], ["similar", "61234"], ["search", "wombat", "--format", "jsonl"],
])
def test_no_escape_sequence_reaches_the_terminal(hostile_index, args: list[str]) -> None:
    from test_cli import run_main

    _, index_dir = hostile_index
    code, out, err = run_main([*args, "--index", str(index_dir)])
    assert code == 0, err
    assert "wombat" in out.lower() or args[0] == "similar"
    assert out.strip()
    assert _no_control(out.replace("\r\n", "\n")) and _no_control(err)


def test_csv_neutralises_formulas(hostile_index) -> None:
    from test_cli import run_main

    _, index_dir = hostile_index
    code, out, _ = run_main(["search", "wombat", "--format", "csv", "--index", str(index_dir)])
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    cells = [cell for row in rows[1:] for cell in row]
    assert cells and not any(c.startswith(("=", "+", "-", "@")) for c in cells if not _number(c))
    title = next(row[3] for row in rows[1:] if row[1] == "61234")
    assert title.startswith("'=HYPERLINK(")


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def test_file_names_are_printed_escaped(tmp_path: Path) -> None:
    from test_cli import run_main

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "12345\x1b]0;owned\x07.html").write_bytes(b"\x00\x01binary")
    (corpus / "notes\x1b[2J.pdf").write_bytes(b"x")
    code, out, err = run_main(["ingest", str(corpus)])
    assert "12345\\x1b]0;owned\\x07.html" in err
    assert "notes\\x1b[2J.pdf" in err
    assert _no_control(out) and _no_control(err)
    code, out, err = run_main(["index", "build", str(corpus), "--index", str(tmp_path / "ix")])
    assert "12345\\x1b" in err and _no_control(err)


# --- 4. only regular files, bounded, no hang -----------------------------------------------------------

def _run_cli(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    # The timeout is a safety net against a hang (the bug under test), not a speed assertion.
    return subprocess.run([sys.executable, "-m", "procsearch", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_fifo_and_device_symlinks_are_skipped_not_waited_on(tmp_path: Path) -> None:
    corpus = copy_pages(tmp_path / "corpus", ["pages-a/62273.html"])
    os.mkfifo(corpus / "99990.html")
    os.symlink("/dev/zero", corpus / "99991.html")
    os.mkdir(corpus / "99992.html")  # a folder named like a page is walked into, not read
    for args in (["ingest", str(corpus)], ["index", "build", str(corpus), "--index", str(tmp_path / "ix")]):
        proc = _run_cli(args)
        assert proc.returncode == 0, proc.stderr
        assert "99990.html: not a regular file (a named pipe)" in proc.stderr
        assert "99991.html: not a regular file (a device)" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_a_file_over_the_size_cap_is_skipped_with_a_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from procsearch.ingest import files

    corpus = copy_pages(tmp_path / "corpus", ["pages-a/62273.html", "pages-a/J1885.html"])
    small, big = sorted(corpus.iterdir(), key=lambda p: p.stat().st_size)
    assert small.stat().st_size < big.stat().st_size
    monkeypatch.setattr(files, "MAX_PAGE_BYTES", big.stat().st_size - 1)
    records, report = ingest_corpus([str(corpus)], workers=1)
    assert [r.code for r in records] == [small.stem]
    assert any(f"{big.name}: too large for a page" in line for line in report.lines())


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any folder")
def test_unreadable_folder_is_reported(tmp_path: Path) -> None:
    corpus = copy_pages(tmp_path / "corpus", ["pages-a/62273.html"])
    hidden = copy_pages(corpus / "locked", ["pages-a/J1885.html"])
    hidden.chmod(0)
    try:
        records, report = ingest_corpus([str(corpus)], workers=1)
        assert any("locked: unreadable folder" in line for line in report.lines())
        assert len(build_index([str(corpus)], str(tmp_path / "ix"), workers=1).skipped) == 1
    finally:
        hidden.chmod(0o755)


def test_unreadable_folder_reaches_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same path for root, who can read every folder: a listing that fails is reported."""
    corpus = copy_pages(tmp_path / "corpus", ["pages-a/62273.html"])
    copy_pages(corpus / "locked", ["pages-a/J1885.html"])
    real_scandir = os.scandir

    def failing_scandir(path="."):
        if isinstance(path, (str, os.PathLike)) and os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", failing_scandir)
    records, report = ingest_corpus([str(corpus)], workers=1)
    assert [r.code for r in records] == ["62273"]
    assert any("locked: unreadable folder (Permission denied)" in line for line in report.lines())
    build = build_index([str(corpus)], str(tmp_path / "ix"), workers=1)
    assert any("unreadable folder" in p.reason for p in build.skipped)


# --- 6. writers clean up -------------------------------------------------------------------------------

@pytest.mark.parametrize("action", ["build", "update"])
def test_a_failed_write_removes_its_folder_and_names_the_path(small_index, tmp_path: Path, action: str) -> None:
    """A file size limit stands in for a full disk: the write fails with the same kind of OSError."""
    corpus, index_dir = small_index
    big = corpus if action == "update" else tmp_path / "big"
    generate_pages(big, 300)
    before = (index_dir / CURRENT).read_text()
    script = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
              "resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000)); "
              "from procsearch.search.cli import main; main()")
    proc = subprocess.run([sys.executable, "-c", script, "index", action, str(big), "--index", str(index_dir),
                           "--workers", "1", "-q"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"cannot write the index at {index_dir}" in proc.stderr and "File too large" in proc.stderr
    assert [p.name for p in index_dir.iterdir() if p.name.startswith("building-")] == []
    assert (index_dir / CURRENT).read_text() == before
    with Searcher(str(index_dir)) as s:
        assert s.get("62273") is not None


# --- 7. verify -------------------------------------------------------------------------------------------

def test_verify_names_a_corrupted_segment(small_index) -> None:
    from test_cli import run_main

    _, index_dir = small_index
    code, out, err = run_main(["index", "verify", "--index", str(index_dir)])
    assert code == 0 and out.startswith("ok: ")
    seg = max(live_gen(index_dir).glob("*.seg"), key=lambda p: p.stat().st_size)
    data = bytearray(seg.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 16] = os.urandom(16) if data[middle:middle + 16] != b"\x00" * 16 else b"\x01" * 16
    seg.write_bytes(bytes(data))
    code, out, err = run_main(["index", "verify", "--index", str(index_dir)])
    assert code == 1
    assert f"damaged: {seg}: content changed since it was written" in err
    assert "rebuild it" in err


def test_update_keeps_checksums_valid(small_index, tmp_path: Path) -> None:
    corpus, index_dir = small_index
    generate_pages(corpus, 3)
    update_index([str(corpus)], str(index_dir), workers=1)
    checked, problems = integrity.verify_generation(str(live_gen(index_dir)))
    assert problems == [] and checked >= 5


# --- thesaurus files ---------------------------------------------------------------------------------------

def test_a_runaway_synonym_group_is_one_line_not_minutes(tmp_path: Path) -> None:
    from procsearch.ingest.errors import ProcsearchError
    from procsearch.search.thesaurus import Thesaurus

    huge = tmp_path / "synonyms.txt"
    huge.write_text("# pasted by mistake\n" + " ~ ".join(f"term{i}" for i in range(1000)) + "\n", encoding="utf-8")
    with pytest.raises(ProcsearchError, match=r"synonyms.txt:2: line makes 999,000 expansions"):
        Thesaurus([huge])
    wide = tmp_path / "abbreviations.txt"
    wide.write_text(" | ".join(f"ab{i}" for i in range(300)) + " = " + " | ".join(f"long form {i}" for i in range(300)),
                    encoding="utf-8")
    with pytest.raises(ProcsearchError, match=r"abbreviations.txt:1: line makes 90,000 expansions"):
        Thesaurus([wide])
    fine = tmp_path / "more.txt"
    fine.write_text(" ~ ".join(f"word{i}" for i in range(150)) + "\n", encoding="utf-8")
    assert len(Thesaurus([fine]).phrases) == 150


def test_protocol_2_pickles_of_plain_values_load() -> None:
    """Whoosh writes the schema with protocol 2, which names builtins the Python 2 way."""
    data = pickle.dumps({"stop": frozenset({"a", "the"}), "n": {1, 2}}, 2)
    assert b"__builtin__" in data
    assert safe_pickle.loads(data) == {"stop": frozenset({"a", "the"}), "n": {1, 2}}


def test_stock_whoosh_schemas_load() -> None:
    """Any index made of Whoosh's own fields and analysers still opens (the benchmark's baseline)."""
    from whoosh import fields
    from whoosh.analysis import StandardAnalyzer, StemmingAnalyzer

    schema = fields.Schema(code=fields.ID(stored=True), title=fields.TEXT(analyzer=StemmingAnalyzer()),
                           body=fields.TEXT(analyzer=StandardAnalyzer()), tags=fields.KEYWORD(commas=True),
                           n=fields.NUMERIC(stored=True), when=fields.DATETIME, flag=fields.BOOLEAN)
    assert safe_pickle.loads(pickle.dumps(schema, 2)).names() == schema.names()


def test_queries_on_a_damaged_segment_name_the_file_not_a_traceback(small_index) -> None:
    from test_cli import run_main

    _, index_dir = small_index
    seg = max(live_gen(index_dir).glob("*.seg"), key=lambda p: p.stat().st_size)
    data = bytearray(seg.read_bytes())
    rng = __import__("random").Random(7)
    # The middle half of every file inside the compound segment is noise (of a two-page index
    # most of the segment is the term dictionary's empty hash slots, which no query reads).
    from whoosh.filedb.compound import CompoundStorage

    parts = CompoundStorage(FileStorage(str(seg.parent)).open_file(seg.name), use_mmap=False)._dir.values()
    for part in parts:
        start, end = part["offset"] + part["length"] // 4, part["offset"] + 3 * part["length"] // 4
        data[start:end] = bytes(rng.randrange(256) for _ in range(end - start))
    seg.write_bytes(bytes(data))
    failures = 0
    for query in ["epidural blood patch", "ketorolac", "J1885", "62273", "injection", "risks:infection", "patch"]:
        code, out, err = run_main(["search", query, "--index", str(index_dir)])
        assert "Traceback" not in err
        if code:
            failures += 1
            assert err.startswith("Error: ") and f"{seg}: content changed since it was written" in err
    assert failures  # half of each file is noise: some query reads it


def test_an_index_built_under_umask_0_is_still_trusted(tmp_path: Path) -> None:
    corpus = copy_pages(tmp_path / "corpus", ["pages-a/62273.html"])
    old = os.umask(0)
    try:
        build_index([str(corpus)], str(tmp_path / "ix"), workers=1)
    finally:
        os.umask(old)
    with Searcher(str(tmp_path / "ix")) as s:
        assert s.get("62273") is not None
