"""Golden parsing table: one row per markup style, checked through the library and through the CLI.

Every expected value below was read off the page itself (not copied from the parser's output).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from procsearch.ingest import ProcedureRecord, parse_page
from procsearch.ingest.codes import CPT, HCPCS, ICD10CM, ICD10PCS, normalize_code, system_from_shape
from procsearch.ingest.sections import SECTIONS
from procsearch.search.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SEED = Path(__file__).resolve().parents[2] / "shared" / "reference" / "seed-page.txt"  # beside the repo
ALL13 = [label for _, label in SECTIONS]
PAGES = Path(__file__).resolve().parent / "pages"

GOLDEN = [
    {
        "id": "h2-style",
        "page": "corpus/pages-a/62273.html",
        "code": "62273",
        "code_system": CPT,
        "title": "Injection, epidural, of blood or clot patch",
        "name": "Epidural Blood Patch (EBP)",
        "technical_term": "Injection, epidural, of blood or clot patch",
        "sections": ALL13,
        "similar": 5,
        "similar_first": ("62270", "Spinal puncture, lumbar, diagnostic"),
        "similar_last": "64505",
        "n_lines": {"Indications": 6, "Preparation": 4, "Procedure Description": 7, "Personnel": 3,
                    "Risks and Complications": 6, "Alternatives": 7, "Summary": 1},
        "lines": {
            "Alternatives": [
                "Conservative care with rest, oral fluids, caffeine and simple analgesics",
                "Pros: Conservative measures and nerve blocks avoid another needle near the spine and carry very little risk.",
            ],
            "Indications": ["Spontaneous intracranial hypotension from a spontaneous CSF leak, sometimes with a larger or targeted patch"],
            "Procedure Description": ["The needle is withdrawn and a small dressing is applied over the site."],
        },
        # &ndash; and &nbsp; decoded, the nbsp folded to a plain space.
        "contains": {
            "Indications": ["24\u201348 hours"],
            "Procedure Description": ["about 15\u201320 mL in adults"],
            "Alternatives": ["Cons: They often give only partial"],
        },
    },
    {
        "id": "bold-paragraph-style",
        "page": "corpus/pages-a/J1885.html",
        "code": "J1885",
        "code_system": HCPCS,
        "title": "Injection, ketorolac tromethamine, per 15 mg",
        "name": "Ketorolac Injection (Toradol Shot)",
        "technical_term": "Injection, ketorolac tromethamine, per 15 mg",
        # Overview / Reasons for the procedure / How it is done / Risks & Complications / What to Expect;
        # the page has no Duration or Personnel heading.
        "sections": ["Summary", "Purpose", "Indications", "Preparation", "Procedure Description", "Setting",
                     "Risks and Complications", "Benefits", "Recovery", "Alternatives", "Patient Experience"],
        "similar": 6,
        "similar_first": ("J0131", "Injection, acetaminophen, 10 mg"),
        "similar_last": "96374",
        "n_lines": {"Indications": 5, "Preparation": 4, "Procedure Description": 5, "Risks and Complications": 7,
                    "Benefits": 4, "Recovery": 4, "Alternatives": 6, "Patient Experience": 1},
        "lines": {
            "Indications": ["Kidney stone pain (renal colic)"],
            # "1. " step numbers are list markers, not text.
            "Procedure Description": ["The clinician confirms the patient's identity, allergies and the ordered dose and route."],
            "Alternatives": ["Acetaminophen by mouth or IV",
                             "Pros: Acetaminophen is gentle on the stomach and kidneys, and opioids can control severe pain when NSAIDs are unsafe."],
        },
        "contains": {
            "Summary": ["J1885 is the HCPCS Level II code"],
            "Alternatives": ["Cons: Acetaminophen may be less effective"],
            "Patient Experience": ["brief sting"],
        },
    },
    {
        "id": "bold-paragraph-heading-variants",
        "page": "corpus/pages-a/69436.html",
        "code": "69436",
        "code_system": CPT,
        "title": "Tympanostomy (requiring insertion of ventilating tube), general anesthesia",
        "name": 'Ear Tubes ("Tubes in Ears", Tympanostomy Tubes)',
        "technical_term": "Tympanostomy (requiring insertion of ventilating tube), general anesthesia",
        # Overview, Why it is done, Reasons for the procedure, Before the procedure, How it is done,
        # How long it takes, Where it is done, Care team, Risks & Complications, Benefits, Aftercare,
        # Other options, What to Expect: every canonical section under another name.
        "sections": ALL13,
        "similar": 6,
        "similar_first": ("69433", "Tympanostomy (requiring insertion of ventilating tube), local or topical anesthesia"),
        "similar_last": "92567",
        "n_lines": {"Indications": 6, "Preparation": 4, "Procedure Description": 6, "Personnel": 3,
                    "Risks and Complications": 8, "Recovery": 5, "Alternatives": 7},
        "lines": {
            "Personnel": ["Otolaryngologist (ENT surgeon), often a pediatric ENT"],
            "Alternatives": ["Pros: Avoiding surgery spares the child anesthesia and the small risks of tubes."],
        },
        "contains": {
            "Summary": ["bilateral modifier (-50)"],
            "Purpose": ['("glue ear")'],
            "Duration": ["about 10\u201315 minutes for both ears"],
            "Setting": ["ambulatory surgery center"],
            "Recovery": ["within about 6\u201318 months"],
        },
    },
    {
        "id": "dl-style",
        "page": "corpus/pages-b/19303.html",
        "code": "19303",
        "code_system": CPT,
        "title": "Mastectomy, simple, complete",
        "name": "Simple Mastectomy (Total Mastectomy)",
        "technical_term": "Mastectomy, simple, complete",
        "sections": ALL13,
        "similar": 6,
        # En dash separator between code and label.
        "similar_first": ("19301", "Mastectomy, partial (e.g., lumpectomy, tylectomy, quadrantectomy, segmentectomy)"),
        "similar_last": "19340",
        "n_lines": {"Indications": 6, "Preparation": 7, "Procedure Description": 8, "Personnel": 5,
                    "Risks and Complications": 9, "Benefits": 3, "Recovery": 5, "Alternatives": 6},
        "lines": {
            "Risks and Complications": ["Hematoma or bleeding after surgery", "Wound infection or cellulitis"],
            "Alternatives": ["Pros: Breast-conserving therapy keeps the breast and offers the same survival for suitable "
                             "early-stage cancers, and surveillance spares the patient an operation."],
        },
        "contains": {
            "Preparation": ["according to the surgeon's directions"],
            "Summary": ["pectoralis major muscle underneath is left intact"],
            "Setting": ["overnight (23-hour) stay"],
        },
    },
    {
        "id": "div-header-style",
        "page": "corpus/pages-b/0FT44ZZ.html",
        "code": "0FT44ZZ",
        "code_system": ICD10PCS,  # even though the Setting text mentions "CPT 47562"
        "title": "Resection of Gallbladder, Percutaneous Endoscopic Approach",
        "name": 'Laparoscopic Gallbladder Removal (Laparoscopic Cholecystectomy, "Lap Chole")',
        "technical_term": "Resection of Gallbladder, Percutaneous Endoscopic Approach",
        # "Risks and Complications:" with a colon and "PATIENT EXPERIENCE" in capitals.
        "sections": ALL13,
        "similar": 6,
        "similar_first": ("0FT40ZZ", "Resection of Gallbladder, Open Approach"),
        "similar_last": "47562",
        "n_lines": {"Indications": 7, "Preparation": 6, "Procedure Description": 9, "Personnel": 4,
                    "Risks and Complications": 8, "Benefits": 4, "Recovery": 6, "Alternatives": 7,
                    "Setting": 1},
        "lines": {
            "Risks and Complications": ["Bleeding"],
            "Alternatives": ["Pros: Observation avoids an operation when stones cause no trouble, and a drainage tube "
                             "can buy time for a critically ill patient without general anesthesia."],
        },
        "contains": {
            "Procedure Description": ["(Calot's triangle)", '"critical view of safety"'],
            "Setting": ["reported with CPT 47562."],
            "Patient Experience": ["four small dressed incisions"],
        },
    },
    {
        "id": "text-dump",
        "page": "corpus/pages-b/43235.txt",
        "code": "43235",  # from the file name: a dump does not carry its code
        "code_system": CPT,
        "title": "Esophagogastroduodenoscopy, flexible, transoral; diagnostic, including collection of specimen(s) "
                 "by brushing or washing, when performed (separate procedure)",
        "name": "Upper Endoscopy (EGD, Upper GI Endoscopy)",
        "technical_term": "Esophagogastroduodenoscopy, flexible, transoral; diagnostic, including collection of "
                          "specimen(s) by brushing or washing, when performed (separate procedure)",
        "sections": ALL13,
        "similar": 5,
        "similar_first": ("43239", "Esophagogastroduodenoscopy, flexible, transoral; with biopsy, single or multiple"),
        "similar_last": "43200",
        "n_lines": {"Indications": 8, "Preparation": 6, "Procedure Description": 8, "Personnel": 4,
                    "Risks and Complications": 7, "Benefits": 4, "Recovery": 5, "Alternatives": 7, "Duration": 1},
        "lines": {
            "Indications": ["Persistent nausea and vomiting"],
            "Procedure Description": ["The patient lies on the left side, and a plastic bite block is placed between the teeth."],
            "Alternatives": ["Upper GI series (barium swallow) X-ray",
                             "Pros: Barium studies and breath or stool tests need no sedation and cost less, and a "
                             "medication trial can settle mild symptoms without any test."],
        },
        "contains": {
            "Alternatives": ["Cons: None of these allows a close look"],
            "Duration": ["about 1.5 to 2 hours"],
        },
    },
    {
        "id": "windows-1252",
        "page": "corpus/pages-a/64721.html",
        "code": "64721",
        "code_system": CPT,
        "title": "Neuroplasty and/or transposition; median nerve at carpal tunnel",
        "name": "Carpal Tunnel Release (Open)",
        "technical_term": "Neuroplasty and/or transposition; median nerve at carpal tunnel",
        "sections": ALL13,
        "similar": 5,
        "similar_first": ("29848", "Endoscopy, wrist, surgical, with release of transverse carpal ligament"),
        "similar_last": "95907",
        "n_lines": {"Indications": 7, "Preparation": 5, "Procedure Description": 6, "Personnel": 4,
                    "Risks and Complications": 6, "Alternatives": 6},
        "lines": {
            # byte 0x92 is a right single quotation mark in cp1252; 0x95 a bullet (stripped).
            "Indications": ["Positive findings on examination, such as Tinel\u2019s sign or Phalen\u2019s test"],
        },
        "contains": {
            "Procedure Description": ["A 2\u20135 cm incision is made in the palm"],
            "Recovery": ["removed after 10\u201314 days"],
            "Risks and Complications": ['"pillar pain"'],
        },
    },
    {
        "id": "utf8-bom",
        "page": "corpus/pages-a/60240.html",
        "code": "60240",
        "code_system": CPT,
        "title": "Thyroidectomy, total or complete",
        "name": "Total Thyroidectomy",
        "technical_term": "Thyroidectomy, total or complete",
        "sections": ALL13,
        "similar": 6,
        "similar_first": ("60220", "Total thyroid lobectomy, unilateral; with or without isthmusectomy"),
        "similar_last": "60500",
        "n_lines": {"Indications": 5, "Preparation": 5, "Procedure Description": 7, "Personnel": 4,
                    "Risks and Complications": 6, "Benefits": 3, "Recovery": 5, "Alternatives": 6},
        "lines": {
            "Indications": ["Toxic multinodular goiter"],
            "Alternatives": ["Pros: Lobectomy may spare the need for lifelong hormone replacement, and non-surgical "
                             "treatments avoid a neck operation."],
        },
        "contains": {
            "Procedure Description": ["a 4\u20136 cm incision"],
            "Indications": ["Graves' disease when medicines fail"],
        },
    },
    {
        "id": "truncated-text-dump",
        "page": "corpus/pages-b/11042.txt",
        "code": "11042",
        "code_system": CPT,
        "title": "Debridement, subcutaneous tissue (includes epidermis and dermis, if performed); first 20 sq cm or less",
        "name": "Wound Debridement (Removal of Dead Tissue Down to the Fat Layer)",
        "technical_term": "Debridement, subcutaneous tissue (includes epidermis and dermis, if performed); "
                          "first 20 sq cm or less",
        "sections": ALL13,
        "similar": 0,  # the dump ends at the "Similar Codes" heading
        "n_lines": {"Indications": 6, "Preparation": 6, "Procedure Description": 8, "Personnel": 3,
                    "Risks and Complications": 6, "Benefits": 4, "Recovery": 6, "Alternatives": 7,
                    "Patient Experience": 1},
        "lines": {
            "Alternatives": ["Enzymatic debridement with collagenase ointment"],
        },
        "contains": {
            "Patient Experience": ["usually means healthy tissue has been exposed."],
        },
        "ends_with": {"Patient Experience": "usually means healthy tissue has been exposed."},
    },
    {
        "id": "seed-page",
        "page": "SEED",
        "code": "62273",  # from the file name 62273.txt
        "code_system": CPT,
        "title": "Injection, epidural, of blood or clot patch",
        "name": "Epidural Blood Patch",
        "technical_term": "Injection, epidural, of blood or clot patch",
        "sections": ALL13,
        "similar": 0,
        "n_lines": {"Indications": 3, "Preparation": 4, "Procedure Description": 6, "Personnel": 3,
                    "Risks and Complications": 3, "Benefits": 3, "Recovery": 4, "Alternatives": 5,
                    "Duration": 1, "Setting": 1, "Patient Experience": 1},
        "lines": {
            # An item with a colon inside stays an item, not a heading.
            "Risks and Complications": ["Common risks: mild back pain, temporary increase in headache"],
            "Alternatives": ["Pros: Immediate relief from debilitating headaches, minimally invasive.",
                             "Cons: Small risk of complications, discomfort from the procedure."],
            "Procedure Description": ["A small amount of the patient\u2019s blood is drawn from a vein in the arm."],
        },
        "contains": {"Duration": ["about 30 minutes to an hour"]},
    },
]

HEADING_WORDS = ("Similar Codes", "Name of the Procedure", "Technical Term:", "Search all medical codes")
MARKER = re.compile(r"^(?:[\u2022\u00b7*\u2013-]|\d{1,2}[.)])\s")


def page_path(row: dict, tmp_path: Path) -> Path:
    """The row's page; the seed is copied to 62273.txt because its code is only in the file name."""
    if row["page"] == "SEED":
        if not SEED.is_file():
            pytest.skip(f"seed page {SEED} is not on this machine")
        dest = tmp_path / "62273.txt"
        shutil.copyfile(SEED, dest)
        return dest
    return ROOT / row["page"]


def check_record(rec: ProcedureRecord, row: dict) -> None:
    """Compare one record with one golden row."""
    assert rec.code == row["code"]
    assert rec.modifier == ""
    assert rec.code_system == row["code_system"]
    assert rec.title == row["title"]
    assert rec.name == row["name"]
    assert rec.technical_term == row["technical_term"]
    assert [k for k, _ in rec.sections] == row["sections"]
    assert len(rec.similar_codes) == row["similar"]
    if row["similar"]:
        assert rec.similar_codes[0] == row["similar_first"]
        assert rec.similar_codes[-1][0] == row["similar_last"]
        assert all(label and not label.startswith(("-", "\u2013")) for _, label in rec.similar_codes)
    for name, n in row.get("n_lines", {}).items():
        assert len(rec.section(name).split("\n")) == n, name
    for name, lines in row.get("lines", {}).items():
        have = rec.section(name).split("\n")
        for line in lines:
            assert line in have, (name, line)
    for name, pieces in row.get("contains", {}).items():
        for piece in pieces:
            assert piece in rec.section(name), (name, piece)
    for name, tail in row.get("ends_with", {}).items():
        assert rec.section(name).endswith(tail), name
    for label, text in rec.sections:
        assert text and text == text.strip()
        for line in text.split("\n"):
            assert line.strip() == line and line, (label, line)
            assert not MARKER.match(line), f"list marker kept in {label}: {line!r}"
        for word in HEADING_WORDS:
            assert word not in text, (label, word)
        # No mojibake from a wrong decoding, no BOM, no replacement characters.
        assert "\ufffd" not in text and "\ufeff" not in text and "\u00e2\u20ac" not in text
    for field in (rec.title, rec.name, rec.technical_term):
        assert "\ufeff" not in field and "\ufffd" not in field


@pytest.mark.parametrize("row", GOLDEN, ids=[r["id"] for r in GOLDEN])
def test_parse_page_matches_golden(row: dict, tmp_path: Path) -> None:
    path = page_path(row, tmp_path)
    parsed = parse_page(path)
    check_record(parsed.record, row)
    assert parsed.warnings == ()
    assert parsed.record.source == str(path)
    assert re.fullmatch(r"[0-9a-f]{32}", parsed.record.content_hash)


@pytest.mark.parametrize("row", GOLDEN, ids=[r["id"] for r in GOLDEN])
def test_cli_ingest_matches_golden(row: dict, tmp_path: Path) -> None:
    path = page_path(row, tmp_path)
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["ingest", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert set(data) >= {"code", "code_system", "title", "name", "technical_term", "sections", "similar_codes",
                         "modifier", "source", "content_hash"}
    assert isinstance(data["sections"], list) and all(len(pair) == 2 for pair in data["sections"])
    check_record(ProcedureRecord.from_dict(data), row)
    assert data["source"] == str(path)
    assert "1 parsed, 0 skipped" in result.stderr


@pytest.mark.parametrize("row", GOLDEN, ids=[r["id"] for r in GOLDEN])
def test_record_json_round_trip(row: dict, tmp_path: Path) -> None:
    rec = parse_page(page_path(row, tmp_path)).record
    text = rec.to_json()
    back = ProcedureRecord.from_json(text)
    assert back == rec
    assert back.to_json() == text
    # Section order survives JSON (a list, not an object).
    assert [k for k, _ in json.loads(text)["sections"]] == row["sections"]


def test_round_trip_keeps_unicode_newlines_and_modifier() -> None:
    rec = ProcedureRecord(
        code="62273", code_system=CPT, title="Blood patch \u2013 \u201cEBP\u201d", name="na\u00efve",
        technical_term="T", sections=(("Summary", "line one\nline \u2022 two"), ("Contraindications", "x")),
        similar_codes=(("62270", "Spinal puncture"),), modifier="50", source="/p/62273-50.html", content_hash="ab",
    )
    text = rec.to_json()
    assert "\u201c" in text  # written as UTF-8, not \u escapes
    assert ProcedureRecord.from_json(text) == rec
    assert ProcedureRecord.from_dict(rec.to_dict()) == rec


@pytest.mark.parametrize(
    "raw, code, modifier",
    [
        ("62273-50", "62273", "50"),
        ("62273", "62273", ""),
        ("E11.9", "E119", ""),
        ("e11.9", "E119", ""),
        ("0ft44zz", "0FT44ZZ", ""),
        (" j1885 ", "J1885", ""),
        ("69436-RT", "69436", "RT"),
        ("0FT4 4ZZ", "0FT44ZZ", ""),
    ],
)
def test_normalize_code(raw: str, code: str, modifier: str) -> None:
    assert normalize_code(raw) == (code, modifier)


@pytest.mark.parametrize(
    "code, system",
    [("62273", CPT), ("0001U", CPT), ("J1885", HCPCS), ("0FT44ZZ", ICD10PCS), ("E119", ICD10CM)],
)
def test_system_from_code_shape(code: str, system: str) -> None:
    assert system_from_shape(code) == system


def test_modifier_on_the_page_is_split_off(tmp_path: Path) -> None:
    page = tmp_path / "epidural.html"
    shutil.copyfile(PAGES / "modifier-50.html", page)
    rec = parse_page(page).record
    assert (rec.code, rec.modifier, rec.code_system) == ("62273", "50", CPT)
    assert rec.title == "Injection, epidural, of blood or clot patch, bilateral"


def test_lower_case_file_name_code_is_normalised(tmp_path: Path) -> None:
    text = (ROOT / "corpus/pages-b/43235.txt").read_text(encoding="utf-8").replace("CPT4 code", "ICD-10-PCS code")
    page = tmp_path / "0ft44zz.txt"
    page.write_text(text, encoding="utf-8")
    rec = parse_page(page).record
    assert rec.code == "0FT44ZZ"
    assert rec.code_system == ICD10PCS


def test_icd10cm_code_with_dot(tmp_path: Path) -> None:
    page = tmp_path / "diabetes.html"
    shutil.copyfile(PAGES / "icd10cm-dotted.html", page)
    rec = parse_page(page).record
    assert (rec.code, rec.code_system) == ("E119", ICD10CM)
    assert rec.title == "Type 2 diabetes mellitus without complications"


def test_icd10cm_similar_codes_with_dots_are_kept(tmp_path: Path) -> None:
    """ICD-10-CM codes are written with a dot after a 3-character category (E11.65, I10, S72.001A)."""
    page = tmp_path / "E11.9.html"
    shutil.copyfile(PAGES / "icd10cm-dotted.html", page)
    rec = parse_page(page).record
    assert rec.similar_codes == (("E1165", "Type 2 diabetes mellitus with hyperglycemia"),)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_text_dump_with_bom_is_decoded(tmp_path: Path, encoding: str) -> None:
    """Windows tools (Notepad's "Unicode", PowerShell 5's > redirection) save text dumps as UTF-16 with a BOM."""
    text = (ROOT / "corpus/pages-b/43235.txt").read_text(encoding="utf-8").replace("\n", "\r\n")
    bom = {"utf-16": b"", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[encoding]
    page = tmp_path / "43235.txt"
    page.write_bytes(bom + text.encode(encoding))
    rec = parse_page(page).record
    expected = parse_page(ROOT / "corpus/pages-b/43235.txt").record
    assert (rec.code, rec.title, rec.sections) == (expected.code, expected.title, expected.sections)


def test_cp1252_text_dump_with_crlf(tmp_path: Path) -> None:
    text = (ROOT / "corpus/pages-b/43235.txt").read_text(encoding="utf-8").replace("\n", "\r\n")
    text = text.replace("Barrett's esophagus in people", "Barrett\u2019s esophagus in people")
    page = tmp_path / "43235.txt"
    page.write_bytes(text.encode("cp1252"))
    rec = parse_page(page).record
    assert [k for k, _ in rec.sections] == ALL13
    assert "Screening for Barrett\u2019s esophagus in people with long-standing reflux and risk factors" \
        in rec.section("Indications").split("\n")
    assert all("\r" not in text for _, text in rec.sections)
