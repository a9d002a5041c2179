"""Bad input: every file is accounted for with one line naming it and the reason, and the run goes on."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner

from procsearch.ingest import PageError, ingest_corpus, parse_page
from procsearch.search.cli import cli

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
PAGES = Path(__file__).resolve().parent / "pages"


def _copy(src: Path, dest: Path) -> Path:
    shutil.copyfile(src, dest)
    return dest


@pytest.fixture
def messy_corpus(tmp_path: Path) -> dict[str, Path]:
    """Good pages mixed with one bad file of each kind; names chosen so good pages sort before and after."""
    d = tmp_path / "messy"
    d.mkdir()
    files = {
        "good_first": _copy(CORPUS / "pages-a/62273.html", d / "62273.html"),
        "good_hcpcs": _copy(CORPUS / "pages-a/J1885.html", d / "J1885.html"),
        "warning": _copy(PAGES / "contraindications.html", d / "64483.html"),
        "empty": d / "empty.html",
        "binary": d / "binary.html",
        "no_sections": _copy(PAGES / "no-sections.html", d / "47562.html"),
        "no_code": _copy(PAGES / "no-code.html", d / "notes.html"),
        "dangling": d / "55555.html",
        "pdf": d / "manual.pdf",
        # The page names its own code (64721), so a name that is not a code is fine.
        "good_last": _copy(CORPUS / "pages-a/64721.html", d / "zzz-last.html"),
    }
    files["empty"].write_bytes(b"")
    files["binary"].write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    os.symlink(d / "gone.html", files["dangling"])  # unreadable even for root
    files["pdf"].write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\n")
    files["dir"] = d
    return files


EXPECTED_REASONS = {
    "empty": "empty file",
    "binary": "binary file",
    "no_sections": "no recognisable section",
    "no_code": "no procedure code",
    "dangling": "unreadable",
    "warning": "unknown heading 'Contraindications' kept as its own section",
}
WARNED = ("warning", "no_code")


def _lines_naming(lines: list[str], path: Path) -> list[str]:
    return [line for line in lines if re.search(re.escape(str(path)) + r"(?![\w.-])", line)]


def test_each_problem_gets_one_line_and_the_run_continues(messy_corpus: dict[str, Path]) -> None:
    records, report = ingest_corpus([messy_corpus["dir"]], workers=1)
    # The page without any code is kept under its file name, with warnings (no code; 2 sections).
    assert sorted(r.code for r in records) == ["62273", "64483", "64721", "J1885", "NOTES"]
    assert report.parsed == 5
    assert len(report.skipped) == 4
    assert len(report.warnings) == 3
    assert report.duplicates == ()
    assert report.ignored == (str(messy_corpus["pdf"]),)
    assert report.problems == 7

    lines = report.lines()
    for key, reason in EXPECTED_REASONS.items():
        naming = [line for line in _lines_naming(lines, messy_corpus[key]) if reason in line]
        assert len(naming) == 1, (key, lines)
        kind = "warning" if key in WARNED else "skipped"
        assert naming[0].startswith(f"{kind}: {messy_corpus[key]}: ")
    ignored = _lines_naming(lines, messy_corpus["pdf"])
    assert len(ignored) == 1 and ignored[0].startswith("ignored 1 file(s) that are not pages")
    for key in ("good_first", "good_hcpcs", "good_last"):
        assert _lines_naming(lines, messy_corpus[key]) == []
    assert lines[-1] == "5 parsed, 4 skipped (4 unreadable or invalid, 0 duplicate), 3 warnings"
    assert all("\n" not in line for line in lines)


def test_cli_ingest_reports_problems_and_strict_fails(messy_corpus: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "records.jsonl"
    runner = CliRunner()
    relaxed = runner.invoke(cli, ["ingest", str(messy_corpus["dir"]), "--out", str(out)])
    assert relaxed.exit_code == 0, relaxed.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 5
    stderr = relaxed.stderr.splitlines()
    for key, reason in EXPECTED_REASONS.items():
        naming = [line for line in _lines_naming(stderr, messy_corpus[key]) if reason in line]
        assert len(naming) == 1, key
    assert stderr[-1] == "5 parsed, 4 skipped (4 unreadable or invalid, 0 duplicate), 3 warnings"
    assert "Traceback" not in relaxed.output

    strict = runner.invoke(cli, ["ingest", str(messy_corpus["dir"]), "--strict"])
    assert strict.exit_code == 1
    assert strict.stderr.splitlines()[-1] == stderr[-1]


def test_cli_strict_passes_on_a_clean_corpus(tmp_path: Path) -> None:
    for name in ("pages-a/62273.html", "pages-b/0FT44ZZ.html", "pages-b/43235.txt"):
        _copy(CORPUS / name, tmp_path / Path(name).name)
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path), "--strict"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == ["3 parsed, 0 skipped (0 unreadable or invalid, 0 duplicate), 0 warnings"]


def test_cli_strict_fails_on_a_warning_alone(tmp_path: Path) -> None:
    _copy(PAGES / "contraindications.html", tmp_path / "64483.html")
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path), "--strict"])
    assert result.exit_code == 1
    assert "unknown heading 'Contraindications'" in result.stderr


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("62273.html", b"", "empty file"),
        ("62273.txt", b"  \n\t\r\n  ", "empty file"),
        ("62273.html", b"<html>\x00\x00\x00</html>", "binary file"),
        ("62273.txt", bytes(range(1, 32)) * 50, "binary file"),
        ("62273.html", b"<html><body><h1>Hello</h1><p>Nothing here.</p></body></html>", "no recognisable section"),
        ("62273.txt", b"Just a line of text\nand another one\n", "no recognisable section"),
    ],
    ids=["empty", "blank", "nul-bytes", "control-chars", "html-no-sections", "text-no-sections"],
)
def test_parse_page_errors_name_the_file_and_reason(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(PageError) as info:
        parse_page(path)
    assert info.value.path == str(path)
    assert reason in info.value.reason
    assert str(info.value) == f"{path}: {info.value.reason}"
    assert "\n" not in str(info.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_unreadable_file_is_skipped_with_a_reason(tmp_path: Path) -> None:
    locked = _copy(CORPUS / "pages-a/62273.html", tmp_path / "62273.html")
    _copy(CORPUS / "pages-a/J1885.html", tmp_path / "J1885.html")
    locked.chmod(0)
    try:
        records, report = ingest_corpus([tmp_path], workers=1)
    finally:
        locked.chmod(0o644)
    assert [r.code for r in records] == ["J1885"]
    assert len(report.skipped) == 1
    assert report.skipped[0].path == str(locked)
    assert report.skipped[0].reason.startswith("unreadable")
    assert _lines_naming(report.lines(), locked) == [f"skipped: {locked}: {report.skipped[0].reason}"]


def test_dangling_link_is_skipped_as_unreadable(tmp_path: Path) -> None:
    link = tmp_path / "62273.html"
    os.symlink(tmp_path / "missing.html", link)
    with pytest.raises(PageError) as info:
        parse_page(link)
    assert info.value.reason.startswith("unreadable (")


def test_duplicate_codes_equal_pages_first_path_wins_whatever_the_order(tmp_path: Path) -> None:
    a = _copy(CORPUS / "pages-a/62273.html", tmp_path / "62273.html")
    b = _copy(CORPUS / "pages-a/62273.html", tmp_path / "copy-of-62273.html")
    for order in ([a, b], [b, a], [tmp_path]):
        records, report = ingest_corpus(order, workers=1)
        assert [r.source for r in records] == [str(a)]
        assert len(report.duplicates) == 1
        dup = report.duplicates[0]
        assert (dup.code, dup.winner, dup.losers) == ("62273", str(a), (str(b),))
        assert f"duplicate: code 62273 in 2 files; kept {a}, skipped {b}" in report.lines()
        assert report.lines()[-1] == "1 parsed, 1 skipped (0 unreadable or invalid, 1 duplicate), 0 warnings"


def test_duplicate_codes_the_more_complete_page_wins(tmp_path: Path) -> None:
    # 0-bilateral.html sorts first but has 2 sections; 62273.html has all 13.
    short = _copy(PAGES / "modifier-50.html", tmp_path / "0-bilateral.html")
    full = _copy(CORPUS / "pages-a/62273.html", tmp_path / "62273.html")
    records, report = ingest_corpus([tmp_path], workers=1)
    assert [r.source for r in records] == [str(full)]
    assert report.duplicates[0].winner == str(full)
    assert report.duplicates[0].losers == (str(short),)


def test_non_page_files_are_ignored_not_parsed(tmp_path: Path) -> None:
    _copy(CORPUS / "pages-a/62273.html", tmp_path / "62273.html")
    (tmp_path / "62273.pdf").write_bytes(b"%PDF-1.4 binary \x00\x01")
    (tmp_path / "README.md").write_text("# notes\n")
    (tmp_path / ".hidden.html").write_text("<html></html>")
    records, report = ingest_corpus([tmp_path], workers=1)
    assert [r.code for r in records] == ["62273"]
    assert report.ignored == (str(tmp_path / "62273.pdf"), str(tmp_path / "README.md"))
    assert report.skipped == ()
    assert any(line.startswith("ignored 2 file(s) that are not pages") for line in report.lines())


@pytest.mark.parametrize("page, name", [("contraindications.html", "64483.html"),
                                        ("contraindications.txt", "64483.txt")])
def test_unknown_heading_becomes_its_own_section(tmp_path: Path, page: str, name: str) -> None:
    path = _copy(PAGES / page, tmp_path / name)
    parsed = parse_page(path)
    rec = parsed.record
    assert rec.code == "64483"
    assert [k for k, _ in rec.sections] == ["Summary", "Contraindications", "Recovery"]
    assert rec.section("Contraindications") == "Active infection at the injection site\nUncorrected bleeding disorder"
    assert "infection" not in rec.section("Summary")
    assert parsed.warnings == ("unknown heading 'Contraindications' kept as its own section",)


def test_page_whose_code_disagrees_with_its_file_name_is_a_warning(tmp_path: Path) -> None:
    path = _copy(CORPUS / "pages-a/62273.html", tmp_path / "64721.html")
    records, report = ingest_corpus([tmp_path], workers=1)
    assert [r.code for r in records] == ["62273"]  # the page's own code line wins
    assert [(w.path, w.reason) for w in report.warnings] == [
        (str(path), "page says code 62273 but the file is named 64721; using 62273")]
    assert report.lines()[0] == f"warning: {path}: page says code 62273 but the file is named 64721; using 62273"


# --- site chrome -------------------------------------------------------------------------------

CHROME_WORDS = re.compile(
    r"search all medical codes|we use cookies|cookie|advertisement|sponsored|related searches|popular codes|"
    r"registered trademark|\u00a9|gtag|datalayer|localstorage|\bfunction\b[^.\n]{0,40}\)\s*\{|[{}]|font-family|skip to content",
    re.I,
)
CHROME_XPATH = (
    "//nav | //footer | //aside | //script | //style | //form | //noscript"
    " | //header[not(.//h1)]"
    " | //*[contains(concat(' ', normalize-space(@class), ' '), ' header ')]"
    " | //*[contains(concat(' ', normalize-space(@class), ' '), ' footer ')]"
    " | //*[contains(concat(' ', normalize-space(@class), ' '), ' ad ')]"
    " | //*[contains(concat(' ', normalize-space(@class), ' '), ' ad-slot ')]"
    " | //*[contains(concat(' ', normalize-space(@class), ' '), ' sidebar ')]"
    " | //*[contains(@class, 'cookie') or contains(@id, 'cookie')]"
)


def _chrome_fragments(path: Path) -> list[str]:
    """Text pieces of the page's navigation, footer, banners, ads and scripts, found without the parser."""
    root = lxml.html.document_fromstring(path.read_bytes())
    pieces = []
    for el in root.xpath(CHROME_XPATH):
        for text in el.xpath(".//text()"):
            text = " ".join(text.split())
            if len(text) >= 12:
                pieces.append(text)
    return pieces


@pytest.fixture(scope="module")
def bundled_records():
    records, report = ingest_corpus([CORPUS], workers=1)
    return records, report


def test_bundled_corpus_parses_cleanly(bundled_records) -> None:
    records, report = bundled_records
    assert len(records) == 72
    assert report.skipped == () and report.warnings == () and report.duplicates == ()
    assert len({r.code for r in records}) == 72


def test_site_chrome_never_reaches_records(bundled_records) -> None:
    records, _ = bundled_records
    checked = 0
    for rec in records:
        texts = [rec.title, rec.name, rec.technical_term] + [t for _, t in rec.sections] \
            + [label for _, label in rec.similar_codes]
        for text in texts:
            m = CHROME_WORDS.search(text)
            assert m is None, f"{rec.source}: chrome {m.group()!r} in {text[:120]!r}"
        if rec.source.endswith(".html"):
            lines = {line for _, t in rec.sections for line in t.split("\n")}
            body = "\n".join(t for _, t in rec.sections)
            for piece in _chrome_fragments(Path(rec.source)):
                checked += 1
                assert piece not in lines, f"{rec.source}: chrome line {piece!r} kept"
                if len(piece) >= 40:  # long chrome sentences (banners, footers, ads) never appear at all
                    assert piece not in body, f"{rec.source}: chrome text {piece!r} kept"
    assert checked > 200  # the check really looked at chrome


def test_text_dump_chrome_line_is_dropped() -> None:
    rec = parse_page(CORPUS / "pages-b/43235.txt").record
    assert rec.title != "Search all medical codes"
    assert all("Search all medical codes" not in t for _, t in rec.sections)
