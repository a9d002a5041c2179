"""Builds and incremental updates on real Whoosh indexes in temp dirs."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from procsearch.index import IndexVersionError, SCHEMA_VERSION, build_index, index_stats, open_live, update_index
from procsearch.index.store import CURRENT, META
from procsearch.search import Searcher

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
PAGES = Path(__file__).resolve().parent / "pages"
SMALL = ["pages-a/62273.html", "pages-a/J1885.html", "pages-a/G0008.html", "pages-b/0FT44ZZ.html",
         "pages-b/43235.txt", "pages-b/19303.html"]


def marker(i: int) -> str:
    """A made-up word unique to generated page i (letters only: "marker7" would read as a PCS code)."""
    letters = ""
    while True:
        i, r = divmod(i, 26)
        letters += "abcdefghijklmnopqrstuvwxyz"[r]
        if not i:
            return "qzx" + letters


def generate_pages(directory: Path, n: int) -> list[str]:
    """n small h2-style pages with distinct codes: even ones CPT (5 digits), odd ones ICD-10-PCS-like (7 chars)."""
    template = (PAGES / "template-h2.html").read_text(encoding="utf-8")
    directory.mkdir(parents=True, exist_ok=True)
    codes = []
    for i in range(n):
        if i % 2 == 0:
            code, system = f"{10000 + i:05d}", "CPT4"
        else:
            code, system = f"0{'ABCDEFGHJK'[i % 10]}{i:04d}Z", "ICD-10-PCS"
        page = template.format(code=code, system=system, title=f"Generated procedure {i}", name=f"Test operation {i}",
                               word=marker(i), similar="99999")
        (directory / f"{code}.html").write_text(page, encoding="utf-8")
        codes.append(code)
    return codes


def live_generation(index_dir: Path) -> str:
    return (index_dir / CURRENT).read_text(encoding="utf-8").strip()


def generations(index_dir: Path) -> set[str]:
    return {p.name for p in index_dir.iterdir() if p.name.startswith("gen-")}


def doc_count(index_dir: Path) -> int:
    _, ix = open_live(str(index_dir))
    try:
        return ix.doc_count()
    finally:
        ix.close()


def codes_found(index_dir: Path, query: str) -> list[str]:
    """Codes of the hits for a query, without thesaurus expansion: these tests are about index contents."""
    with Searcher(str(index_dir), expand=False) as s:
        return [hit.code for hit in s.search(query, limit=20).hits]


def get(index_dir: Path, code: str):
    with Searcher(str(index_dir)) as s:
        return s.get(code)


def bump_mtime(path: Path) -> None:
    """Move the mtime clearly forward so the change is visible even on coarse-mtime file systems."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, Path]:
    """(corpus dir, index dir) with six bundled pages built into a fresh index."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in SMALL:
        shutil.copyfile(CORPUS / name, corpus / Path(name).name)
    index_dir = tmp_path / "index"
    report = build_index([str(corpus)], str(index_dir), workers=1)
    assert report.indexed == 6
    return corpus, index_dir


def test_build_counts_and_stats(small: tuple[Path, Path]) -> None:
    corpus, index_dir = small
    stats = index_stats(str(index_dir))
    assert stats.documents == 6
    assert stats.systems == {"CPT": 3, "HCPCS": 2, "ICD-10-PCS": 1}
    assert stats.schema_version == SCHEMA_VERSION
    assert stats.corpus == (str(corpus),)
    assert (stats.skipped, stats.duplicates) == (0, 0)
    assert stats.size_bytes > 0
    assert Path(stats.generation).name == live_generation(index_dir)
    assert stats.built_at == stats.updated_at
    assert doc_count(index_dir) == 6


def test_build_report_lines(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copyfile(CORPUS / "pages-a/62273.html", corpus / "62273.html")
    shutil.copyfile(PAGES / "no-sections.html", corpus / "47562.html")
    (corpus / "notes.pdf").write_bytes(b"%PDF")
    report = build_index([str(corpus)], str(tmp_path / "index"), workers=1)
    assert (report.pages, report.indexed) == (2, 1)
    assert [p.path for p in report.skipped] == [str(corpus / "47562.html")]
    lines = report.lines()
    assert lines[0].startswith(f"skipped: {corpus / '47562.html'}: no recognisable section")
    assert lines[-1].startswith(f"built {tmp_path / 'index'}: 1 documents from 2 pages, 1 skipped, 0 duplicate, 0 warnings")
    assert index_stats(str(tmp_path / "index")).skipped == 1


def test_built_index_is_searchable(small: tuple[Path, Path]) -> None:
    _, index_dir = small
    assert codes_found(index_dir, "gallbladder")[0] == "0FT44ZZ"
    assert codes_found(index_dir, "ketorolac")[0] == "J1885"
    assert codes_found(index_dir, "mastectomy")[0] == "19303"
    rec = get(index_dir, "0ft44zz")
    assert rec is not None and rec.title == "Resection of Gallbladder, Percutaneous Endoscopic Approach"


def test_update_after_adding_a_page(small: tuple[Path, Path]) -> None:
    corpus, index_dir = small
    before = live_generation(index_dir)
    assert "64721" not in codes_found(index_dir, "carpal tunnel")
    shutil.copyfile(CORPUS / "pages-a/64721.html", corpus / "64721.html")
    report = update_index(None, str(index_dir))
    assert (report.added, report.changed, report.removed, report.unchanged, report.indexed) == (1, 0, 0, 6, 7)
    assert live_generation(index_dir) != before
    assert codes_found(index_dir, "carpal tunnel")[0] == "64721"
    stats = index_stats(str(index_dir))
    assert stats.documents == 7 and stats.systems["CPT"] == 4
    assert doc_count(index_dir) == 7
    assert report.lines()[-1].startswith(f"updated {index_dir}: 1 added, 0 changed, 0 removed, 6 unchanged; 7 documents")


def test_update_after_changing_a_page(small: tuple[Path, Path]) -> None:
    corpus, index_dir = small
    page = corpus / "J1885.html"
    assert "J1885" not in codes_found(index_dir, "quokkavine")
    page.write_text(page.read_text(encoding="utf-8").replace("Toradol", "Quokkavine"), encoding="utf-8")
    bump_mtime(page)
    report = update_index([str(corpus)], str(index_dir))
    assert (report.added, report.changed, report.removed, report.unchanged, report.indexed) == (0, 1, 0, 5, 6)
    assert "J1885" in codes_found(index_dir, "quokkavine")
    assert get(index_dir, "J1885").name == "Ketorolac Injection (Quokkavine Shot)"
    assert doc_count(index_dir) == 6  # replaced, not added twice


def test_update_after_removing_a_page(small: tuple[Path, Path]) -> None:
    corpus, index_dir = small
    assert "43235" in codes_found(index_dir, "esophagogastroduodenoscopy")
    (corpus / "43235.txt").unlink()
    report = update_index(None, str(index_dir))
    assert (report.added, report.changed, report.removed, report.unchanged, report.indexed) == (0, 0, 1, 5, 5)
    assert get(index_dir, "43235") is None
    assert "43235" not in codes_found(index_dir, "esophagogastroduodenoscopy")
    assert index_stats(str(index_dir)).systems == {"CPT": 2, "HCPCS": 2, "ICD-10-PCS": 1}
    assert doc_count(index_dir) == 5


def test_renamed_page_is_replaced_not_duplicated(small: tuple[Path, Path]) -> None:
    corpus, index_dir = small
    old, new = corpus / "19303.html", corpus / "mastectomy.html"
    old.rename(new)
    report = update_index(None, str(index_dir))
    assert (report.added, report.changed, report.removed, report.unchanged, report.indexed) == (1, 0, 1, 5, 6)
    assert get(index_dir, "19303").source == str(new)
    assert doc_count(index_dir) == 6


def test_unchanged_update_creates_no_generation(small: tuple[Path, Path]) -> None:
    corpus, index_dir = small
    before, gens = live_generation(index_dir), generations(index_dir)
    report = update_index(None, str(index_dir))
    assert (report.added, report.changed, report.removed, report.unchanged, report.indexed) == (0, 0, 0, 6, 6)
    assert live_generation(index_dir) == before
    assert generations(index_dir) == gens
    assert not any(p.name.startswith("building-") for p in index_dir.iterdir())


def test_touched_but_identical_page_is_unchanged(small: tuple[Path, Path]) -> None:
    corpus, index_dir = small
    bump_mtime(corpus / "62273.html")
    report = update_index(None, str(index_dir))
    assert (report.added, report.changed, report.removed, report.unchanged) == (0, 0, 0, 6)
    assert doc_count(index_dir) == 6
    # The second run finds the new mtime in the manifest and does nothing at all.
    before = live_generation(index_dir)
    again = update_index(None, str(index_dir))
    assert again.unchanged == 6 and live_generation(index_dir) == before


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Two pages with neutral file names (so only their content names the code): 62273 and 64721."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copyfile(CORPUS / "pages-a/62273.html", corpus / "page-a.html")
    shutil.copyfile(CORPUS / "pages-a/64721.html", corpus / "page-b.html")
    index_dir = tmp_path / "index"
    assert build_index([str(corpus)], str(index_dir), workers=1).indexed == 2
    return corpus, index_dir, tmp_path


def test_page_changed_into_a_duplicate_code(pair: tuple[Path, Path, Path]) -> None:
    corpus, index_dir, _ = pair
    a, b = corpus / "page-a.html", corpus / "page-b.html"
    b.write_text(a.read_text(encoding="utf-8").replace("Epidural Blood Patch (EBP)", "Blood Patch, second copy"),
                 encoding="utf-8")
    bump_mtime(b)
    report = update_index(None, str(index_dir))
    assert (report.added, report.changed, report.removed, report.unchanged) == (0, 1, 0, 1)
    assert report.indexed == 1
    assert [(d.code, d.winner, d.losers) for d in report.duplicates] == [("62273", str(a), (str(b),))]
    assert get(index_dir, "64721") is None
    assert get(index_dir, "62273").source == str(a)
    assert doc_count(index_dir) == 1
    stats = index_stats(str(index_dir))
    assert (stats.documents, stats.duplicates) == (1, 1)

    # Undo: both codes are back, no duplicates left.
    shutil.copyfile(CORPUS / "pages-a/64721.html", b)
    bump_mtime(b)
    report = update_index(None, str(index_dir))
    assert report.indexed == 2 and report.duplicates == []
    assert get(index_dir, "64721").source == str(b)
    assert doc_count(index_dir) == 2


def test_changed_page_that_wins_a_duplicate_replaces_the_old_winner(pair: tuple[Path, Path, Path]) -> None:
    corpus, index_dir, _ = pair
    a, b = corpus / "page-a.html", corpus / "page-b.html"
    extra = "<h2>Contraindications</h2><ul><li>Infection at the needle site</li></ul>\n<h2>Similar Codes</h2>"
    b.write_text(a.read_text(encoding="utf-8").replace("<h2>Similar Codes</h2>", extra, 1), encoding="utf-8")
    bump_mtime(b)
    report = update_index(None, str(index_dir))
    assert report.duplicates[0].winner == str(b)  # 14 sections beat 13
    assert report.indexed == 1
    assert get(index_dir, "62273").source == str(b)
    assert doc_count(index_dir) == 1


def test_removing_a_duplicate_winner_promotes_the_other_page(pair: tuple[Path, Path, Path]) -> None:
    corpus, index_dir, _ = pair
    a, b = corpus / "page-a.html", corpus / "page-b.html"
    shutil.copyfile(a, b)
    bump_mtime(b)
    assert update_index(None, str(index_dir)).indexed == 1
    a.unlink()
    report = update_index(None, str(index_dir))
    assert report.removed == 1 and report.indexed == 1 and report.duplicates == []
    assert get(index_dir, "62273").source == str(b)
    assert doc_count(index_dir) == 1


def test_page_that_breaks_is_dropped_and_comes_back_when_fixed(small: tuple[Path, Path]) -> None:
    corpus, index_dir = small
    page = corpus / "J1885.html"
    good = page.read_bytes()
    page.write_bytes(b"")
    bump_mtime(page)
    report = update_index(None, str(index_dir))
    assert (report.changed, report.indexed) == (1, 5)
    assert [(p.path, p.reason) for p in report.skipped] == [(str(page), "empty file")]
    assert get(index_dir, "J1885") is None
    assert doc_count(index_dir) == 5
    assert index_stats(str(index_dir)).skipped == 1
    # Unchanged and still broken: nothing to do, and the skip is remembered, not re-reported as new work.
    again = update_index(None, str(index_dir))
    assert (again.changed, again.unchanged, again.indexed) == (0, 6, 5)
    page.write_bytes(good)
    bump_mtime(page)
    report = update_index(None, str(index_dir))
    assert (report.changed, report.indexed) == (1, 6)
    assert get(index_dir, "J1885") is not None
    assert index_stats(str(index_dir)).skipped == 0


def test_unknown_heading_is_indexed(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copyfile(PAGES / "contraindications.html", corpus / "64483.html")
    shutil.copyfile(CORPUS / "pages-a/62273.html", corpus / "62273.html")
    build_index([str(corpus)], str(tmp_path / "index"), workers=1)
    assert codes_found(tmp_path / "index", "uncorrected")[:1] == ["64483"]
    rec = get(tmp_path / "index", "64483")
    assert rec.section("Contraindications").startswith("Active infection")


def _set_schema_version(index_dir: Path, version: int) -> None:
    meta_path = index_dir / live_generation(index_dir) / META
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["schema_version"] = version
    meta_path.write_text(json.dumps(meta), encoding="utf-8")


def test_schema_version_mismatch_is_refused_with_the_fix(small: tuple[Path, Path]) -> None:
    corpus, index_dir = small
    _set_schema_version(index_dir, SCHEMA_VERSION + 1)
    with pytest.raises(IndexVersionError) as info:
        open_live(str(index_dir))
    message = str(info.value)
    assert "procsearch index build" in message
    assert str(index_dir) in message
    assert f"schema version {SCHEMA_VERSION + 1}" in message
    assert "\n" not in message
    with pytest.raises(IndexVersionError):
        Searcher(str(index_dir))
    with pytest.raises(IndexVersionError):
        update_index(None, str(index_dir))
    # The fix the message names works.
    build_index([str(corpus)], str(index_dir), workers=1)
    assert doc_count(index_dir) == 6
    assert index_stats(str(index_dir)).schema_version == SCHEMA_VERSION


def test_parallel_build_equals_serial_build(tmp_path: Path) -> None:
    codes = generate_pages(tmp_path / "gen", 410)
    # Two duplicates whose pages likely land in different worker partitions.
    shutil.copyfile(tmp_path / "gen" / "10000.html", tmp_path / "gen" / "zz-copy.html")
    shutil.copyfile(tmp_path / "gen" / "0B0001Z.html", tmp_path / "gen" / "aa-copy.html")
    serial = build_index([str(tmp_path / "gen")], str(tmp_path / "idx1"), workers=1)
    parallel = build_index([str(tmp_path / "gen")], str(tmp_path / "idx2"), workers=2)
    assert serial.indexed == parallel.indexed == 410
    assert parallel.pages == 412
    assert parallel.skipped == [] and parallel.warnings == []
    dups = lambda r: [(d.code, Path(d.winner).name, [Path(p).name for p in d.losers]) for d in r.duplicates]  # noqa: E731
    assert dups(serial) == dups(parallel) == [("0B0001Z", "0B0001Z.html", ["aa-copy.html"]),
                                              ("10000", "10000.html", ["zz-copy.html"])]
    assert index_stats(str(tmp_path / "idx2")).duplicates == 2
    assert doc_count(tmp_path / "idx1") == doc_count(tmp_path / "idx2") == 410
    assert index_stats(str(tmp_path / "idx2")).systems == index_stats(str(tmp_path / "idx1")).systems \
        == {"CPT": 205, "ICD-10-PCS": 205}
    # Two workers wrote two segments; the serial build wrote one.
    segs = lambda d: len(list((d / live_generation(d)).glob("*.seg")))  # noqa: E731
    assert (segs(tmp_path / "idx1"), segs(tmp_path / "idx2")) == (1, 2)
    for d in ("idx1", "idx2"):
        _, ix = open_live(str(tmp_path / d))
        with ix.searcher() as s:
            stored = {f["code"] for f in s.all_stored_fields()}
        ix.close()
        assert stored == set(codes)
    for i in (0, 7, 409):
        assert codes_found(tmp_path / "idx1", marker(i)) == codes_found(tmp_path / "idx2", marker(i)) \
            == [codes[i]]


def test_update_with_many_new_pages_parses_them_over_processes(tmp_path: Path) -> None:
    generate_pages(tmp_path / "gen", 10)
    build_index([str(tmp_path / "gen")], str(tmp_path / "idx"), workers=1)
    codes = generate_pages(tmp_path / "gen", 260)  # rewrites the first 10 unchanged, adds 250
    report = update_index(None, str(tmp_path / "idx"), workers=2)
    assert (report.added, report.changed, report.removed, report.unchanged, report.indexed) == (250, 0, 0, 10, 260)
    assert doc_count(tmp_path / "idx") == 260
    assert codes_found(tmp_path / "idx", marker(259)) == [codes[259]]
