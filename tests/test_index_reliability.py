"""Crashes, stale locks, concurrent writers and readers, and broken indexes, on real directories."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from procsearch.index import IndexBusyError, IndexCorruptError, IndexMissingError, build_index, index_stats, open_live, update_index
from procsearch.index.lock import LOCK_NAME, WriterLock, pid_alive
from procsearch.index.store import CURRENT
from procsearch.search import Searcher

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
PAGES = Path(__file__).resolve().parent / "pages"
FIX = "procsearch index build"


def generate_pages(directory: Path, n: int) -> None:
    """n small h2-style pages with distinct 5-digit codes."""
    template = (PAGES / "template-h2.html").read_text(encoding="utf-8")
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        code = f"{20000 + i:05d}"
        (directory / f"{code}.html").write_text(
            template.format(code=code, system="CPT4", title=f"Generated procedure {i}", name=f"Test operation {i}",
                            word="wombatine", similar="99999"), encoding="utf-8")


def copy_pages(directory: Path, names: list[str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(CORPUS / name, directory / Path(name).name)
    return directory


def live(index_dir: Path) -> str:
    return (index_dir / CURRENT).read_text(encoding="utf-8").strip()


def doc_count(index_dir: Path) -> int:
    _, ix = open_live(str(index_dir))
    try:
        return ix.doc_count()
    finally:
        ix.close()


def building_dirs(index_dir: Path) -> list[str]:
    return [p.name for p in index_dir.iterdir() if p.name.startswith("building-")]


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not pid_alive(proc.pid)
    return proc.pid


@pytest.fixture
def small_index(tmp_path: Path) -> tuple[Path, Path]:
    corpus = copy_pages(tmp_path / "corpus", ["pages-a/62273.html", "pages-a/J1885.html"])
    index_dir = tmp_path / "index"
    assert build_index([str(corpus)], str(index_dir), workers=1).indexed == 2
    return corpus, index_dir


# --- a build killed with SIGKILL -----------------------------------------------------------------

def test_killed_build_leaves_previous_index_and_next_build_succeeds(small_index, tmp_path: Path) -> None:
    _, index_dir = small_index
    big = tmp_path / "big"
    generate_pages(big, 400)
    before = live(index_dir)
    script = "import sys; from procsearch.index import build_index; build_index([sys.argv[1]], sys.argv[2], workers=1)"
    proc = subprocess.Popen([sys.executable, "-c", script, str(big), str(index_dir)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60  # a safety net for a hung child, not a timing assertion
        while not building_dirs(index_dir):
            assert proc.poll() is None, "the build finished before it could be interrupted"
            assert time.monotonic() < deadline, "the build never started"
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL

    # The old generation is still live, complete and searchable.
    assert live(index_dir) == before
    assert building_dirs(index_dir)  # the interrupted work is left behind ...
    assert doc_count(index_dir) == 2
    assert index_stats(str(index_dir)).documents == 2
    with Searcher(str(index_dir)) as s:
        assert [h.code for h in s.search("epidural blood patch").hits][:1] == ["62273"]
        assert s.get("J1885") is not None
        assert s.get("20000") is None
    assert (index_dir / LOCK_NAME).read_text().strip() == str(proc.pid)

    # ... and the next build clears it, reports the dead writer's lock and publishes the new index.
    report = build_index([str(big)], str(index_dir), workers=1, lock_wait=5)
    assert report.stale_lock_pid == proc.pid
    assert report.indexed == 400
    assert live(index_dir) != before
    assert doc_count(index_dir) == 400
    assert building_dirs(index_dir) == []
    with Searcher(str(index_dir)) as s:
        assert s.get("20399") is not None and s.get("62273") is None


# --- locks ---------------------------------------------------------------------------------------

def test_stale_lock_of_a_dead_process_does_not_block_and_is_reported(tmp_path: Path) -> None:
    corpus = copy_pages(tmp_path / "corpus", ["pages-a/62273.html"])
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    pid = dead_pid()
    (index_dir / LOCK_NAME).write_text(str(pid))
    report = build_index([str(corpus)], str(index_dir), workers=1, lock_wait=0.5)
    assert report.stale_lock_pid == pid
    assert f"cleared a stale lock left by process {pid}" in report.lines()
    assert doc_count(index_dir) == 1
    assert (index_dir / LOCK_NAME).read_text() == ""  # released cleanly

    # The same for an update.
    pid = dead_pid()
    (index_dir / LOCK_NAME).write_text(str(pid))
    report = update_index(None, str(index_dir), lock_wait=0.5)
    assert report.stale_lock_pid == pid
    assert f"cleared a stale lock left by process {pid}" in report.lines()


def test_lock_left_by_a_clean_run_is_not_reported_as_stale(small_index) -> None:
    corpus, index_dir = small_index
    report = build_index([str(corpus)], str(index_dir), workers=1)
    assert report.stale_lock_pid is None
    assert not any("stale lock" in line for line in report.lines())


def test_second_writer_fails_with_one_line(small_index) -> None:
    corpus, index_dir = small_index
    before = live(index_dir)
    with WriterLock(str(index_dir), wait=0):
        with pytest.raises(IndexBusyError) as info:
            build_index([str(corpus)], str(index_dir), workers=1, lock_wait=0.5)
        message = str(info.value)
        assert "\n" not in message
        assert str(index_dir) in message
        assert f"process {os.getpid()}" in message
        with pytest.raises(IndexBusyError):
            update_index(None, str(index_dir), lock_wait=0.2)
    assert live(index_dir) == before
    assert building_dirs(index_dir) == []
    assert doc_count(index_dir) == 2
    # Once the first writer is gone the second one goes through.
    report = build_index([str(corpus)], str(index_dir), workers=1, lock_wait=0.5)
    assert report.indexed == 2 and report.stale_lock_pid is None
    assert live(index_dir) != before


# --- readers during updates ----------------------------------------------------------------------

def test_readers_during_updates_see_old_or_new_index(tmp_path: Path) -> None:
    names = ["pages-a/62273.html", "pages-a/J1885.html", "pages-a/27130.html", "pages-a/44950.html",
             "pages-b/0FT44ZZ.html", "pages-b/19303.html", "pages-b/43235.txt", "pages-a/64721.html"]
    corpus = copy_pages(tmp_path / "corpus", names)
    index_dir = tmp_path / "index"
    build_index([str(corpus)], str(index_dir), workers=1)
    extra = CORPUS / "pages-a/69436.html"  # the only page about ear tubes
    stop = threading.Event()
    errors: list[BaseException] = []
    counts: set[int] = set()
    hits_seen: set[tuple[str, ...]] = set()
    iterations = [0, 0]

    def count_loop() -> None:
        try:
            while not stop.is_set():
                counts.add(doc_count(index_dir))
                iterations[0] += 1
        except BaseException as exc:  # noqa: BLE001 - any error is a failure
            errors.append(exc)

    def search_loop() -> None:
        try:
            with Searcher(str(index_dir), expand=False) as s:
                while not stop.is_set():
                    hits_seen.add(tuple(h.code for h in s.search("tympanostomy").hits))
                    s.search("epidural blood patch")
                    iterations[1] += 1
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=count_loop), threading.Thread(target=search_loop)]
    for t in threads:
        t.start()
    try:
        for _ in range(3):
            shutil.copyfile(extra, corpus / extra.name)
            assert update_index(None, str(index_dir)).indexed == 9
            (corpus / extra.name).unlink()
            assert update_index(None, str(index_dir)).indexed == 8
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert errors == []
    assert iterations[0] > 0 and iterations[1] > 0
    assert counts <= {8, 9}
    assert hits_seen <= {(), ("69436",)}
    assert doc_count(index_dir) == 8
    # Old generations are pruned: the live one and the one before are kept.
    gens = {p.name for p in index_dir.iterdir() if p.name.startswith("gen-")}
    assert live(index_dir) in gens and len(gens) <= 2
    assert building_dirs(index_dir) == []


# --- broken indexes ------------------------------------------------------------------------------

def _cli_search(index_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "procsearch", "search", "epidural", "--index", str(index_dir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def _assert_one_line_error(proc: subprocess.CompletedProcess, index_dir: Path) -> None:
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("Error: ")
    assert FIX in lines[0] and str(index_dir) in lines[0]


def _delete_live_generation(index_dir: Path) -> None:
    shutil.rmtree(index_dir / live(index_dir))


def _truncate_toc(index_dir: Path) -> None:
    (toc,) = (index_dir / live(index_dir)).glob("_MAIN_*.toc")
    with open(toc, "r+b") as fh:
        fh.truncate(10)


def _empty_toc(index_dir: Path) -> None:
    (toc,) = (index_dir / live(index_dir)).glob("_MAIN_*.toc")
    toc.write_bytes(b"")


def _remove_toc(index_dir: Path) -> None:
    (toc,) = (index_dir / live(index_dir)).glob("_MAIN_*.toc")
    toc.unlink()


def _garble_meta(index_dir: Path) -> None:
    (index_dir / live(index_dir) / "meta.json").write_text("{not json", encoding="utf-8")


def _truncate_segment(index_dir: Path) -> None:
    for seg in (index_dir / live(index_dir)).glob("*.seg"):
        with open(seg, "r+b") as fh:
            fh.truncate(100)


CORRUPTIONS = [_delete_live_generation, _truncate_toc, _empty_toc, _remove_toc, _garble_meta, _truncate_segment]


@pytest.mark.parametrize("damage", CORRUPTIONS, ids=[f.__name__.lstrip("_") for f in CORRUPTIONS])
def test_corrupt_index_names_the_rebuild_command(small_index, damage) -> None:
    corpus, index_dir = small_index
    damage(index_dir)
    with pytest.raises(IndexCorruptError) as info:
        open_live(str(index_dir))
    message = str(info.value)
    assert FIX in message and str(index_dir) in message and "\n" not in message
    with pytest.raises(IndexCorruptError):
        Searcher(str(index_dir))
    # The command the message names repairs the index.
    assert build_index([str(corpus)], str(index_dir), workers=1).indexed == 2
    assert doc_count(index_dir) == 2


def test_missing_index_names_the_build_command(tmp_path: Path, small_index) -> None:
    for index_dir in (tmp_path / "nowhere", tmp_path / "empty-dir"):
        if index_dir.name == "empty-dir":
            index_dir.mkdir()
        with pytest.raises(IndexMissingError) as info:
            open_live(str(index_dir))
        assert FIX in str(info.value) and str(index_dir) in str(info.value)
    _, index_dir = small_index
    (index_dir / CURRENT).unlink()
    with pytest.raises(IndexMissingError) as info:
        open_live(str(index_dir))
    assert FIX in str(info.value)


def test_update_of_a_missing_index_fails_without_creating_it(tmp_path: Path) -> None:
    corpus = copy_pages(tmp_path / "corpus", ["pages-a/62273.html"])
    target = tmp_path / "typo-index"
    with pytest.raises(IndexMissingError) as info:
        update_index([str(corpus)], str(target))
    assert FIX in str(info.value)
    # A failed update must not leave a directory (with a LOCK file) behind at a mistyped path.
    assert not target.exists()


@pytest.mark.parametrize("damage", [_delete_live_generation, _truncate_toc, "missing"],
                         ids=["deleted-generation", "truncated-toc", "missing"])
def test_cli_search_on_a_broken_index_prints_one_line(small_index, tmp_path: Path, damage) -> None:
    _, index_dir = small_index
    if damage == "missing":
        index_dir = tmp_path / "no-such-index"
    else:
        damage(index_dir)
    _assert_one_line_error(_cli_search(index_dir), index_dir)


def test_cli_search_works_on_a_healthy_index(small_index) -> None:
    """Control for the broken-index CLI tests: same command, sound index, real output."""
    _, index_dir = small_index
    proc = _cli_search(index_dir)
    assert proc.returncode == 0, proc.stderr
    assert "62273" in proc.stdout
