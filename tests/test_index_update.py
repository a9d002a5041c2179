"""Updates from a list of changed paths, and the SQLite manifest, on real indexes in temp dirs."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from procsearch.index import build_index, index_stats, update_index
from procsearch.index import integrity, manifest
from procsearch.index.store import current_generation, read_manifest
from procsearch.index.update import PathOutsideCorpusError
from procsearch.search.cli import cli
from search_fixtures import write_page
from test_cli_indexes import run_main
from test_index_build import CORPUS, SMALL, bump_mtime, codes_found, doc_count, get, live_generation


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, Path]:
    """(corpus dir, index dir): six bundled pages, one of them in a sub-folder, built into an index."""
    corpus = tmp_path / "corpus"
    (corpus / "more").mkdir(parents=True)
    for name in SMALL:
        target = corpus / ("more" if name.endswith("19303.html") else "") / Path(name).name
        shutil.copyfile(CORPUS / name, target)
    index_dir = tmp_path / "index"
    assert build_index([str(corpus)], str(index_dir), workers=1).indexed == 6
    return corpus, index_dir


def counts(report) -> tuple[int, int, int, int, int]:
    return report.added, report.changed, report.removed, report.unchanged, report.indexed


def change_j1885(corpus: Path) -> Path:
    page = corpus / "J1885.html"
    page.write_text(page.read_text(encoding="utf-8").replace("Toradol", "Quokkavine"), encoding="utf-8")
    bump_mtime(page)
    return page


def test_listed_paths_add_change_and_delete(small: tuple[Path, Path]) -> None:
    corpus, index_dir = small
    changed = change_j1885(corpus)
    added = corpus / "64721.html"
    shutil.copyfile(CORPUS / "pages-a/64721.html", added)
    deleted = corpus / "43235.txt"
    deleted.unlink()
    report = update_index(None, str(index_dir), changed=[str(changed), str(added), str(deleted)])
    assert counts(report) == (1, 1, 1, 4, 6)
    assert "J1885" in codes_found(index_dir, "quokkavine")
    assert codes_found(index_dir, "carpal tunnel")[0] == "64721"
    assert get(index_dir, "43235") is None
    assert doc_count(index_dir) == 6
    assert index_stats(str(index_dir)).documents == 6


def test_listed_paths_skip_the_walk(small: tuple[Path, Path]) -> None:
    """A change the caller does not list is not seen (nothing else is looked at); a walk finds it."""
    corpus, index_dir = small
    change_j1885(corpus)
    other = corpus / "62273.html"
    report = update_index(None, str(index_dir), changed=[str(other)])
    assert counts(report) == (0, 0, 0, 6, 6)
    assert "J1885" not in codes_found(index_dir, "quokkavine")
    assert counts(update_index(None, str(index_dir))) == (0, 1, 0, 5, 6)
    assert "J1885" in codes_found(index_dir, "quokkavine")


def test_listed_relative_path_is_the_indexed_file(small: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, index_dir = small
    change_j1885(corpus)
    monkeypatch.chdir(corpus)
    assert counts(update_index(None, str(index_dir), changed=["J1885.html"])) == (0, 1, 0, 5, 6)
    assert doc_count(index_dir) == 6


def test_a_deleted_folder_removes_its_pages(small: tuple[Path, Path]) -> None:
    corpus, index_dir = small
    shutil.rmtree(corpus / "more")
    report = update_index(None, str(index_dir), changed=[str(corpus / "more")])
    assert counts(report) == (0, 0, 1, 5, 5)
    assert get(index_dir, "19303") is None


def test_a_listed_folder_is_compared_page_by_page(small: tuple[Path, Path]) -> None:
    corpus, index_dir = small
    shutil.copyfile(CORPUS / "pages-a/64721.html", corpus / "more" / "64721.html")
    (corpus / "more" / "19303.html").unlink()
    report = update_index(None, str(index_dir), changed=[str(corpus / "more")])
    assert counts(report) == (1, 0, 1, 5, 6)
    assert get(index_dir, "19303") is None and get(index_dir, "64721") is not None


def test_path_outside_the_corpus_is_refused_in_one_line(small: tuple[Path, Path], tmp_path: Path) -> None:
    corpus, index_dir = small
    before = live_generation(index_dir)
    stray = tmp_path / "elsewhere" / "64721.html"
    stray.parent.mkdir()
    shutil.copyfile(CORPUS / "pages-a/64721.html", stray)
    with pytest.raises(PathOutsideCorpusError) as err:
        update_index(None, str(index_dir), changed=[str(corpus / "62273.html"), str(stray)])
    message = str(err.value)
    assert "\n" not in message and str(stray) in message and str(corpus) in message
    assert live_generation(index_dir) == before
    assert get(index_dir, "64721") is None


def test_a_corpus_reached_through_a_symlink_names_pages_as_the_walk_does(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    shutil.copyfile(CORPUS / "pages-a/62273.html", real / "62273.html")
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    index_dir = tmp_path / "index"
    build_index([str(link)], str(index_dir), workers=1)
    shutil.copyfile(CORPUS / "pages-a/64721.html", real / "64721.html")
    report = update_index(None, str(index_dir), changed=[str(real / "64721.html")])
    assert (report.added, report.indexed) == (1, 2)
    assert get(index_dir, "64721").source == str(link / "64721.html")
    assert update_index(None, str(index_dir)).added == 0  # the walk agrees: nothing new


def test_listed_files_the_walk_would_skip_are_ignored(small: tuple[Path, Path]) -> None:
    corpus, index_dir = small
    style = corpus / "site.css"
    style.write_text("body { color: black }", encoding="utf-8")
    hidden = corpus / ".draft.html"
    shutil.copyfile(CORPUS / "pages-a/64721.html", hidden)
    report = update_index(None, str(index_dir), changed=[str(style), str(hidden)])
    assert counts(report) == (0, 0, 0, 6, 6)
    assert sorted(report.ignored) == sorted([str(style), str(hidden)])
    assert get(index_dir, "64721") is None


def test_a_listed_path_that_never_existed_is_reported(small: tuple[Path, Path]) -> None:
    corpus, index_dir = small
    before = live_generation(index_dir)
    report = update_index(None, str(index_dir), changed=[str(corpus / "typo.html")])
    assert [p.path for p in report.warnings] == [str(corpus / "typo.html")]
    assert any("typo.html" in line and "no page there" in line for line in report.lines())
    assert live_generation(index_dir) == before


def test_listed_duplicate_code_hands_the_code_over(tmp_path: Path) -> None:
    """The duplicate contest is settled among the codes a listed change touches."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copyfile(CORPUS / "pages-a/62273.html", corpus / "page-a.html")
    index_dir = tmp_path / "index"
    build_index([str(corpus)], str(index_dir), workers=1)
    fuller = corpus / "page-z.html"
    shutil.copyfile(CORPUS / "pages-a/62273.html", fuller)
    report = update_index(None, str(index_dir), changed=[str(fuller)])
    assert report.added == 1 and len(report.duplicates) == 1 and report.indexed == 1
    assert doc_count(index_dir) == 1
    (corpus / "page-a.html").unlink()
    report = update_index(None, str(index_dir), changed=[str(corpus / "page-a.html")])
    assert report.removed == 1 and report.indexed == 1
    assert get(index_dir, "62273").source == str(fuller)
    assert doc_count(index_dir) == 1


def test_published_manifests_are_never_written(small: tuple[Path, Path]) -> None:
    corpus, index_dir = small
    first = current_generation(str(index_dir))
    rows = read_manifest(first)
    change_j1885(corpus)
    (corpus / "43235.txt").unlink()
    update_index(None, str(index_dir))
    assert read_manifest(first) == rows
    second = current_generation(str(index_dir))
    assert second != first and len(read_manifest(second)) == 5
    assert sorted(p.name for p in Path(second).iterdir() if "manifest" in p.name) == [manifest.FILE]
    assert integrity.verify_generation(second)[1] == []


def make_legacy(gen: str) -> None:
    """Turn a generation into one written before the SQLite manifest: manifest.json, rehashed."""
    entries = read_manifest(gen)
    rows = [list(vars(e).values()) for e in sorted(entries.values(), key=lambda e: e.path)]
    Path(gen, manifest.LEGACY).write_text(json.dumps({"fields": list(manifest.COLUMNS), "rows": rows}),
                                          encoding="utf-8")
    Path(gen, manifest.FILE).unlink()
    integrity.write_checksums(gen)


def test_an_old_json_manifest_is_read_and_converted_by_the_next_update(
        small: tuple[Path, Path], caplog: pytest.LogCaptureFixture) -> None:
    corpus, index_dir = small
    gen = current_generation(str(index_dir))
    make_legacy(gen)
    assert index_stats(str(index_dir)).documents == 6
    with caplog.at_level(logging.WARNING):
        report = update_index(None, str(index_dir))  # nothing changed, but the manifest is converted
    assert counts(report) == (0, 0, 0, 6, 6)
    assert [r.getMessage() for r in caplog.records if "SQLite" in r.getMessage()] == [
        f"converted the manifest of {gen} to SQLite (once; later updates read only what they need)"]
    new = current_generation(str(index_dir))
    assert new != gen and (Path(new) / manifest.FILE).is_file() and not (Path(new) / manifest.LEGACY).exists()
    assert len(read_manifest(new)) == 6
    change_j1885(corpus)
    assert counts(update_index(None, str(index_dir), changed=[str(corpus / "J1885.html")])) == (0, 1, 0, 5, 6)


def test_a_damaged_manifest_names_the_rebuild(small: tuple[Path, Path]) -> None:
    corpus, index_dir = small
    gen = current_generation(str(index_dir))
    path = Path(gen) / manifest.FILE
    path.write_bytes(b"not a database" + b"\0" * (path.stat().st_size - 14))  # same size: passes the cheap check
    with pytest.raises(Exception) as err:
        update_index(None, str(index_dir))
    assert type(err.value).__name__ == "IndexCorruptError"
    assert manifest.FILE in str(err.value) and "procsearch index build" in str(err.value)


def test_cli_update_with_paths_and_stdin(small: tuple[Path, Path]) -> None:
    corpus, index_dir = small
    changed = change_j1885(corpus)
    (corpus / "43235.txt").unlink()
    result = CliRunner().invoke(cli, ["index", "update", "--index", str(index_dir), "--paths", str(changed)])
    assert result.exit_code == 0, result.output
    assert "0 added, 1 changed, 0 removed, 5 unchanged; 6 documents" in result.output
    result = CliRunner().invoke(cli, ["index", "update", "--index", str(index_dir), "--paths", "-"],
                                input=f"{corpus / '43235.txt'}\n\n")
    assert result.exit_code == 0, result.output
    assert "0 added, 0 changed, 1 removed, 5 unchanged; 5 documents" in result.output


def test_cli_update_paths_outside_the_corpus_is_one_line(small: tuple[Path, Path], tmp_path: Path) -> None:
    _, index_dir = small
    stray = write_page(tmp_path / "elsewhere", "99999", "Stray page")
    code, out, err = run_main(["index", "update", "--index", str(index_dir), "--paths", str(stray)])
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1 and out == ""
    assert len(lines) == 1 and str(stray) in lines[0] and "not inside the index's corpus" in lines[0]


def test_cli_update_paths_needs_a_path(small: tuple[Path, Path]) -> None:
    _, index_dir = small
    result = CliRunner().invoke(cli, ["index", "update", "--index", str(index_dir), "--paths"])
    assert result.exit_code == 2 and "--paths needs at least one path" in result.output
