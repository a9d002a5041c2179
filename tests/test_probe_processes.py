"""kill -9 of builds and updates, workers that must not outlive them, concurrent first uses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from procsearch.index import build_index, update_index
from procsearch.index.store import CURRENT, OWNED
from procsearch.search import Searcher
from test_index_reliability import building_dirs, copy_pages, generate_pages

ROOT = Path(__file__).resolve().parent.parent
SAFETY = 60.0  # seconds: a net for a hung child, never a timing assertion


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (Linux /proc)."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def worker_alive(pid: int) -> bool:
    """A pool worker still running (a zombie waiting for its reaper counts as dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return state != "Z" and b"spawn_main" in cmdline


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + SAFETY
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def segment_temps(index_dir: Path) -> list[Path]:
    return [p for b in index_dir.glob("building-*") for p in b.glob("*.tmp-*")] if index_dir.is_dir() else []


def start(script: str, *args: str, stderr=subprocess.DEVNULL) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_a_killed_build(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    generate_pages(corpus, 1500)
    index_dir = tmp_path / "index"
    log = tmp_path / "stderr.txt"
    script = "import sys; from procsearch.index import build_index; build_index([sys.argv[1]], sys.argv[2], workers=2)"
    with open(log, "wb") as err:
        proc = start(script, str(corpus), str(index_dir), stderr=err)
        try:
            # Both workers have opened their segment writers: they are in the middle of their work.
            wait_for(lambda: proc.poll() is not None or len(segment_temps(index_dir)) >= 2,
                     "the build never started its workers")
            assert proc.poll() is None, "the build finished before it could be interrupted"
            workers = [p for p in children(proc.pid) if worker_alive(p)]
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait()
    killed = time.monotonic()
    wait_for(lambda: not any(worker_alive(p) for p in workers), "workers outlived their killed parent")
    # Liveness, not speed: the kernel ends them with the parent; left alone they worked on for
    # their whole share of the corpus (12 s here) and wrote into the abandoned folder.
    assert time.monotonic() - killed < 5
    assert b"Traceback" not in log.read_bytes()
    # The abandoned folder is the dead writer's; the next build removes it and publishes.
    assert building_dirs(index_dir)
    report = build_index([str(corpus)], str(index_dir), workers=1)
    assert report.indexed == 1500 and building_dirs(index_dir) == []


@pytest.mark.parametrize("delay", [0.2, 0.8, 2.0])
def test_kill_9_during_update_keeps_a_searchable_index(tmp_path: Path, delay: float) -> None:
    corpus = copy_pages(tmp_path / "corpus", ["pages-a/62273.html", "pages-a/J1885.html"])
    index_dir = tmp_path / "index"
    build_index([str(corpus)], str(index_dir), workers=1)
    before = (index_dir / CURRENT).read_text()
    generate_pages(corpus, 300)
    script = "import sys; from procsearch.index import update_index; update_index([sys.argv[1]], sys.argv[2], workers=2)"
    proc = start(script, str(corpus), str(index_dir))
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # Whatever the moment of the kill: the live index is the old one or the new one, complete.
    live = (index_dir / CURRENT).read_text()
    with Searcher(str(index_dir)) as s:
        assert s.get("62273") is not None
        count = s._searcher.doc_count()
    assert (live == before and count == 2) or count == 302
    report = update_index([str(corpus)], str(index_dir), workers=1)
    assert report.indexed == 302
    assert building_dirs(index_dir) == []
    owned = json.loads((index_dir / OWNED).read_text())
    assert all(name.startswith("gen-") for name in owned)


def test_concurrent_first_uses_build_the_bundled_index_once(tmp_path: Path) -> None:
    env = {**os.environ, "PROCSEARCH_HOME": str(tmp_path / "home")}
    env.pop("PROCSEARCH_INDEX", None)
    procs = [subprocess.Popen([sys.executable, "-m", "procsearch", "search", "epidural blood patch", "--format", "json"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outputs]
    assert all(json.loads(out)["hits"][0]["code"] == "62273" for out, _ in outputs)
    builds = sum(err.count(b"(first use)") for _, err in outputs)
    assert builds == 1
    bundled = tmp_path / "home" / "indexes" / "bundled"
    assert len(json.loads((bundled / OWNED).read_text())) == 1


def test_a_bundled_index_without_checksums_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from procsearch.index import integrity
    from procsearch.search.searcher import ensure_bundled_index

    monkeypatch.setenv("PROCSEARCH_HOME", str(tmp_path / "home"))
    first = ensure_bundled_index()
    gen = Path(first) / (Path(first) / CURRENT).read_text().strip()
    (gen / integrity.CHECKSUMS).unlink()  # as an older procsearch left it
    assert ensure_bundled_index() == first
    assert (Path(first) / CURRENT).read_text().strip() != gen.name
    with Searcher(first) as s:
        assert s.search("epidural blood patch").hits[0].code == "62273"
