"""One structure, many markups, one record.

Every bundled page is rendered in every style of benchmarks/markups.py (HTML5 with JSON-LD and
ARIA-labelled sections, table rows in windows-1252, styled div headings with microdata, definition
lists with a similar-codes table, bold capital headings, seed-style text dumps), each wrapped in site
chrome, saved both as <CODE>.<ext> and under a scraper's slug; parsing must give back the record.
The pages of corpus/pages-c were written after the parser rules and are checked field by field.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmarks.markups import CHROME_WORDS, STYLES, file_name
from procsearch.ingest import ingest_corpus, parse_page
from procsearch.ingest.codes import CPT, HCPCS, ICD10PCS
from procsearch.ingest.sections import SECTIONS

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT.parent / "shared" / "reference" / "seed-page.txt"
FIELDS = ("code", "code_system", "title", "name", "technical_term", "sections", "similar_codes", "modifier")


@pytest.fixture(scope="module")
def bundled() -> list:
    records, report = ingest_corpus([ROOT / "corpus"], workers=1)
    assert report.warnings == () and report.skipped == ()
    return records


@pytest.mark.parametrize("style", list(STYLES))
@pytest.mark.parametrize("by_code", [True, False], ids=["code-name", "slug-name"])
def test_every_rendering_of_a_bundled_page_yields_the_same_record(bundled, style: str, by_code: bool,
                                                                 tmp_path: Path) -> None:
    for rec in bundled:
        suffix, data = STYLES[style](rec)
        path = tmp_path / file_name(rec, style, suffix, by_code)
        path.write_bytes(data)
        got = parse_page(path).record
        for field in FIELDS:
            assert getattr(got, field) == getattr(rec, field), (path.name, field)
        text = "\n".join([got.title, got.name, got.technical_term] + [t for _, t in got.sections])
        for word in CHROME_WORDS:
            assert word not in text, (path.name, word)


def test_renderings_really_differ(bundled) -> None:
    """The property above is only worth something if the markups are not one page in disguise."""
    rec = next(r for r in bundled if r.code == "62273")
    pages = {style: render(rec)[1] for style, render in STYLES.items()}
    assert len(set(pages.values())) == len(STYLES)
    assert b"application/ld+json" in pages["html5"] and b"<dt>Technical Term</dt>" in pages["definition-list"]
    assert b"<th" in pages["table-rows"] and b'class="hdr"' in pages["div-headings"]
    assert b"62273" not in pages["text-dump"]  # a dump carries its code in its file name only


# -- the seed page saved the way scrapers save pages ---------------------------------------------

@pytest.mark.parametrize("name, warned", [
    ("cpt-62273-epidural-blood-patch.txt", True),
    ("epidural_blood_patch_62273.txt", True),
    ("cpt/62273/index.txt", False),
    ("62273.txt", False),
])
def test_seed_page_under_a_slug_name_parses_completely(tmp_path: Path, name: str, warned: bool) -> None:
    if not SEED.is_file():
        pytest.skip(f"seed page {SEED} is not on this machine")
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SEED, path)
    parsed = parse_page(path)
    rec = parsed.record
    assert (rec.code, rec.code_system) == ("62273", CPT)
    assert rec.title == "Injection, epidural, of blood or clot patch"
    assert rec.name == "Epidural Blood Patch"
    assert rec.technical_term == "Injection, epidural, of blood or clot patch"
    assert [label for label, _ in rec.sections] == [label for _, label in SECTIONS]
    code_warnings = [w for w in parsed.warnings if "taken from the file name" in w]
    assert bool(code_warnings) == warned, parsed.warnings


# -- pages written after the parser, in markups it was not written for ---------------------------

PAGES_C = ROOT / "corpus" / "pages-c"
HELD_OUT = [
    # Bootstrap cards; code in a badge; a "Trending codes" card and a newsletter box beside them.
    ("cpt-36556-central-venous-catheter.html", "36556", CPT,
     "Insertion of non-tunneled centrally inserted central venous catheter; age 5 years or older",
     "Central Line Placement (Central Venous Catheter, CVC)",
     ["Summary", "Purpose", "Indications", "Procedure Description", "Risks and Complications", "Recovery"],
     ["36555", "36558", "36569"]),
    # Word export in windows-1252, CRLF: bold-span headings, Symbol-font bullets; code in <title> only.
    ("cpt-31231-nasal-endoscopy.htm", "31231", CPT,
     "Nasal endoscopy, diagnostic, unilateral or bilateral (separate procedure)",
     "Diagnostic Nasal Endoscopy (\u201cScope of the Nose\u201d)",
     ["Summary", "Indications", "Preparation", "Procedure Description", "Duration", "Risks and Complications"],
     ["31233", "31237"]),
    # Markdown dump in a folder named by the code, under a folder named by the system.
    ("icd10pcs/0BH17EZ/index.txt", "0BH17EZ", ICD10PCS,
     "Insertion of Endotracheal Airway into Trachea, Via Natural or Artificial Opening",
     "Endotracheal Intubation (Placing a Breathing Tube)",
     ["Summary", "Purpose", "Indications", "Procedure Description", "Risks and Complications", "Recovery"],
     ["0BH18EZ", "0BH13EZ"]),
    # Blog theme: <details><summary> sections, "HCPCS Level II code" in a line, ads, share box, comments.
    ("ambulance_als_emergency.html", "A0427", HCPCS,
     "Ambulance service, advanced life support, emergency transport, level 1 (ALS 1-emergency)",
     "Emergency Ambulance Transport with Advanced Life Support (ALS1)",
     ["Summary", "Indications", "Personnel", "Procedure Description", "Risks and Complications"],
     ["A0429", "A0433", "A0425"]),
    # Microdata code only; numbered headings; two sections labelled by ARIA alone; ARIA landmarks.
    ("tendon-sheath-injection.html", "20550", CPT,
     'Injection(s); single tendon sheath, or ligament, aponeurosis (eg, plantar "fascia")',
     "Tendon Sheath or Ligament Injection (Trigger Finger or Plantar Fascia Injection)",
     ["Summary", "Indications", "Procedure Description", "Risks and Complications", "Recovery"],
     ["20551", "20552"]),
    # 1990s table layout in ISO-8859-1: capitalised label cells; code in the canonical URL only.
    ("gyn/iud-insertion.html", "58300", CPT, "Insertion of intrauterine device (IUD)",
     "IUD Insertion (Placement of a Coil)",
     ["Summary", "Indications", "Preparation", "Procedure Description", "Duration", "Risks and Complications",
      "Recovery", "Alternatives"],
     ["58301", "11981"]),
]


@pytest.mark.parametrize("page, code, system, title, name, sections, similar", HELD_OUT,
                         ids=[row[0] for row in HELD_OUT])
def test_held_out_page(page: str, code: str, system: str, title: str, name: str, sections: list[str],
                       similar: list[str]) -> None:
    parsed = parse_page(PAGES_C / page)
    rec = parsed.record
    assert (rec.code, rec.code_system, rec.title, rec.name) == (code, system, title, name)
    assert [label for label, _ in rec.sections] == sections
    assert [c for c, _ in rec.similar_codes] == similar
    assert all(label for _, label in rec.similar_codes)
    assert parsed.warnings == ()
    text = "\n".join(t for _, t in rec.sections)
    for chrome in ("cookie", "Subscribe", "\u00a9", "Trending", "Advertisement", "Share", "Home",
                   "not medical advice", "registered trademark", "Popular", "thoughts on", "Skip to"):
        assert chrome.lower() not in text.lower(), (page, chrome)


def test_held_out_section_text_is_whole() -> None:
    """Lines come through intact: bullets stripped, NBSP and entities decoded, no cell glued to the next."""
    word = parse_page(PAGES_C / "cpt-31231-nasal-endoscopy.htm").record
    assert word.section("Indications").split("\n") == [
        "Long-standing blocked nose or sinus symptoms", "Nosebleeds that keep coming back", "Loss of smell",
        "Suspected nasal polyps or a growth"]
    assert word.section("Procedure Description").split("\n")[0] == "The patient sits upright with the head supported."
    old = parse_page(PAGES_C / "gyn/iud-insertion.html").record
    assert old.section("Procedure Description").split("\n")[-1] == "The threads are trimmed to about 3 cm."
    assert old.section("Risks and Complications").split("\n")[2] == "Perforation of the uterus (about 1 in 1,000)"
    md = parse_page(PAGES_C / "icd10pcs/0BH17EZ/index.txt").record
    assert md.section("Indications").split("\n")[0] == "Respiratory failure needing mechanical ventilation"
    assert "**" not in md.name and "[" not in md.section("Summary")
