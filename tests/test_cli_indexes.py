"""Indexes a user manages: list, --index NAME, rebuilds of an index's own corpus, hints naming the real
corpus, the bundled index following its corpus after a reinstall, removal and pruning of leftovers."""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from procsearch.corpus import corpus_dir
from procsearch.index import build_index, index_stats
from procsearch.index import store
from procsearch.index.catalog import ensure_bundled_index, list_indexes, prune_leftovers
from procsearch.index.errors import IndexVersionError
from procsearch.index.location import bundled_index_dir, indexes_home
from procsearch.ingest.corpus import find_pages
from procsearch.search.cli import cli, main
from procsearch.search.searcher import Searcher
from search_fixtures import copy_pages, write_page

ROOT = Path(__file__).resolve().parent.parent


def invoke(args: list[str], **kw):
    return CliRunner().invoke(cli, args, **kw)


def run_main(args: list[str]) -> tuple[int, str, str]:
    runner = CliRunner()
    with runner.isolation() as (out, err, _):
        old = sys.argv
        sys.argv = ["procsearch", *args]
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            sys.argv = old
        return code, out.getvalue().decode(), err.getvalue().decode()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return copy_pages(["62273", "62270", "47562"], tmp_path / "my pages")


def _build_by_name(corpus: Path) -> str:
    """Build without --index, as a user would, and return the index name from `index list`."""
    result = invoke(["index", "build", str(corpus), "--quiet", "--workers", "1"])
    assert result.exit_code == 0, result.output
    names = [e.name for e in list_indexes() if e.corpus == (str(corpus),)]
    assert len(names) == 1
    return names[0]


def test_index_list_shows_name_corpus_documents_size_and_update(corpus: Path) -> None:
    assert invoke(["index", "list"]).stdout.startswith("No indexes in ")
    name = _build_by_name(corpus)
    out = invoke(["index", "list"]).stdout.splitlines()
    assert out[0].split() == ["NAME", "DOCUMENTS", "SIZE", "UPDATED", "CORPUS"]
    row = out[1]
    assert row.startswith(name + " ") and row.endswith(str(corpus))
    assert re.search(r"\s3\s+\d+\.\d MB\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s", row), row
    data = json.loads(invoke(["index", "list", "--format", "json"]).stdout)
    assert len(data) == 1 and data[0]["name"] == name and data[0]["documents"] == 3
    assert data[0]["corpus"] == [str(corpus)] and data[0]["size_bytes"] > 0 and data[0]["corpus_present"]


def test_index_name_works_wherever_index_dir_does(corpus: Path) -> None:
    name = _build_by_name(corpus)
    for args in (["search", "blood patch", "--index", name], ["show", "62273", "--index", name],
                 ["similar", "62273", "--index", name], ["index", "stats", "--index", name]):
        result = invoke(args)
        assert result.exit_code == 0, (args, result.output)
        assert re.search(r"^(\s*1\. 62273|62273|62270 |documents:\s+3$)", result.stdout, flags=re.M), result.stdout
    with Searcher.open(name) as s:  # the API takes the same names, and paths
        assert s.get("62273") is not None
    with Searcher.open(indexes_home() / name) as s:
        assert s.get("62273") is not None
    assert invoke(["search", "knee", "--index", name], env={"PROCSEARCH_INDEX": name}).exit_code == 0


def test_build_without_corpus_rebuilds_the_index_own_corpus(corpus: Path) -> None:
    name = _build_by_name(corpus)
    write_page(corpus, "99999", "Zorblaxectomy of the widget", sections={"Summary": "A zorblaxectomy."})
    result = invoke(["index", "build", "--index", name, "--quiet", "--workers", "1"])
    assert result.exit_code == 0, result.output
    stats = index_stats(str(indexes_home() / name))
    assert stats.corpus == (str(corpus),) and stats.documents == 4  # not the bundled pages
    with Searcher.open(name) as s:
        assert [h.code for h in s.search("zorblaxectomy").hits][:1] == ["99999"]


def test_a_new_index_without_corpus_gets_the_bundled_corpus(tmp_path: Path) -> None:
    target = tmp_path / "fresh"
    result = invoke(["index", "build", "--index", str(target), "--quiet", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert index_stats(str(target)).corpus == (str(corpus_dir()),)


def test_update_without_corpus_refuses_a_corpus_that_is_gone(corpus: Path) -> None:
    name = _build_by_name(corpus)
    shutil.rmtree(corpus)
    for command in ("update", "build"):
        code, out, err = run_main(["index", command, "--index", name, "--quiet"])
        assert code == 1 and out == ""
        assert err.strip() == (f"Error: the corpus of index {name} is gone: {corpus}; name it: "
                               f"procsearch index build CORPUS --index {name}")
    assert index_stats(str(indexes_home() / name)).documents == 3  # nothing was dropped
    listed = invoke(["index", "list"]).stdout
    assert listed.rstrip().endswith(f"{corpus}  (missing)")


def test_version_error_hint_names_the_real_corpus(corpus: Path) -> None:
    name = _build_by_name(corpus)
    gen = store.current_generation(str(indexes_home() / name))
    meta = store.read_meta(gen)
    meta.schema_version -= 1
    store.write_meta(gen, meta)
    with pytest.raises(IndexVersionError) as info:
        Searcher.open(name)
    assert str(info.value).endswith(f"rebuild it: procsearch index build '{corpus}' --index {name}")
    code, _, err = run_main(["search", "knee", "--index", name])
    assert code == 1 and f"procsearch index build '{corpus}' --index {name}" in err
    assert invoke(["index", "build", "--index", name, "--quiet", "--workers", "1"]).exit_code == 0
    with Searcher.open(name) as s:  # the hint's command (no corpus needed either) repaired it
        assert s.get("62273") is not None


def test_missing_bundled_index_hint_needs_no_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run_main(["index", "stats"])
    assert code == 1
    assert err.strip() == f"Error: no index at {bundled_index_dir()}; run: procsearch index build"


def test_bundled_index_rebuilds_itself_when_its_corpus_moved(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    old_install = tmp_path / "old-site-packages" / "procsearch" / "corpus"
    shutil.copytree(corpus_dir(), old_install, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    build_index([str(old_install)], bundled_index_dir(), workers=1)  # what the previous install built
    shutil.rmtree(tmp_path / "old-site-packages")  # pip install -e . removed it
    with caplog.at_level(logging.WARNING):
        with Searcher.open() as s:
            record = s.get("62273")
    assert record is not None and record.source.startswith(str(corpus_dir()))
    assert any("moved from" in r.getMessage() and str(old_install) in r.getMessage() for r in caplog.records)
    assert index_stats(bundled_index_dir()).corpus == (str(corpus_dir()),)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        ensure_bundled_index()  # current now: no second rebuild
    assert not caplog.records
    code, out, _ = run_main(["show", "62273"])
    assert code == 0 and re.search(rf"^source: {re.escape(str(corpus_dir()))}", out, flags=re.M)


def test_bundled_index_update_uses_the_installed_corpus(tmp_path: Path) -> None:
    old_install = tmp_path / "old" / "corpus"
    shutil.copytree(corpus_dir(), old_install, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    build_index([str(old_install)], bundled_index_dir(), workers=1)
    shutil.rmtree(tmp_path / "old")
    code, _, err = run_main(["index", "update", "--quiet", "--workers", "1"])
    assert code == 0, err
    assert index_stats(bundled_index_dir()).corpus == (str(corpus_dir()),)
    assert index_stats(bundled_index_dir()).documents == len(find_pages([str(corpus_dir())])[0])


def test_remove_deletes_only_what_procsearch_wrote(corpus: Path) -> None:
    name = _build_by_name(corpus)
    result = invoke(["index", "remove", name])
    assert result.exit_code == 0, result.output
    assert not (indexes_home() / name).exists() and list_indexes() == []
    assert sorted(p.name for p in corpus.iterdir()) == ["47562.html", "62270.html", "62273.html"]
    name = _build_by_name(corpus)
    keep = indexes_home() / name / "notes.txt"
    keep.write_text("mine", encoding="utf-8")
    code, _, err = run_main(["index", "remove", name])
    assert code == 1 and "kept the directory" in err and "notes.txt" in err
    assert keep.read_text(encoding="utf-8") == "mine"
    assert run_main(["index", "remove", "no-such-index"])[0] == 1


def test_prune_removes_leftovers_of_killed_builds_only(corpus: Path) -> None:
    name = _build_by_name(corpus)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    home = indexes_home()
    killed_first = home / "half-built"  # a first build killed before it published anything
    (killed_first / f"building-{dead_pid}-1").mkdir(parents=True)
    (killed_first / "LOCK").write_text(str(dead_pid))
    (killed_first / store.MARKER).write_text("claimed")  # as store.new_work_dir leaves them
    (killed_first / store.OWNED).write_text(json.dumps([f"building-{dead_pid}-1"]))
    stale_work = home / name / f"building-{dead_pid}-2"  # a rebuild killed half-way
    stale_work.mkdir()
    store._set_owned(str(home / name), store.owned(str(home / name)) + [stale_work.name])
    foreign = home / "not-ours"
    foreign.mkdir()
    (foreign / "data.bin").write_bytes(b"x")
    removed = prune_leftovers()
    assert removed == [str(killed_first)]
    assert not killed_first.exists() and not stale_work.exists()
    assert (foreign / "data.bin").exists()
    assert [e.name for e in list_indexes()] == [name]


def test_help_of_index_option_mentions_names() -> None:
    for command in (["search"], ["show"], ["similar"], ["index", "build"], ["index", "update"], ["index", "stats"]):
        assert "procsearch index list" in " ".join(invoke([*command, "--help"]).stdout.split()), command


def test_an_unknown_name_points_at_index_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(["search", "knee", "--index", "nosuch"])
    assert code == 1 and out == ""
    assert err.strip() == ("Error: no index at nosuch; run: procsearch index build CORPUS --index nosuch "
                           "(procsearch index list shows the indexes there are)")


def test_build_with_a_name_of_ones_choosing(corpus: Path) -> None:
    result = invoke(["index", "build", str(corpus), "--name", "cardio-2026", "--quiet", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert [e.name for e in list_indexes()] == ["cardio-2026"]
    assert invoke(["search", "blood patch", "--index", "cardio-2026"]).stdout.startswith(" 1. 62273  [CPT]")
    assert invoke(["index", "build", "--name", "cardio-2026", "--quiet"]).exit_code == 0  # its own corpus again
    assert index_stats(str(indexes_home() / "cardio-2026")).documents == 3
    for bad in ("../escape", ".hidden", "a/b", ""):
        code, _, err = run_main(["index", "build", str(corpus), "--name", bad])
        assert code == 1 and "is not usable" in err, (bad, err)
    both = invoke(["index", "build", "--name", "x", "--index", "y"])
    assert both.exit_code == 2 and "not both" in both.output
