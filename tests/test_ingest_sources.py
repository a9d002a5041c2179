"""Where a page keeps its code, how it spells its headings, its bytes, and the warnings that keep mis-parses loud.

One table row per source of the code; each page is otherwise the same small page.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from procsearch.ingest import parse_page
from procsearch.ingest.codes import CPT, HCPCS, ICD10CM, ICD10PCS, UNKNOWN, code_from_path

BODY = """<h2>Summary</h2><p>A needle places a small amount of blood near the spine.</p>
<h2>Indications</h2><ul><li>Headache after a spinal tap</li></ul>
<h2>Recovery</h2><p>Rest for an hour.</p>"""


def page(head: str = "", top: str = "", body: str = BODY) -> bytes:
    return (f"<!doctype html><html><head><meta charset='utf-8'>{head}</head><body>"
            f"<h1>Epidural blood patch</h1>{top}{body}</body></html>").encode("utf-8")


CODE_SOURCES = [
    ("json-ld", page(head='<script type="application/ld+json">{"@context": "https://schema.org", "@type": '
                          '"MedicalProcedure", "code": {"@type": "MedicalCode", "codeValue": "62273", '
                          '"codingSystem": "CPT"}}</script>'), "62273", CPT),
    ("json-ld-graph", page(head='<script type="application/ld+json">{"@graph": [{"@type": "WebPage"}, '
                                '{"@type": "MedicalCode", "codeValue": "J1885", "codingSystem": "HCPCS"}]}</script>'),
     "J1885", HCPCS),
    ("microdata", page(top='<div itemscope itemtype="https://schema.org/MedicalCode"><span itemprop="codeValue">'
                           '0FT44ZZ</span></div>'), "0FT44ZZ", ICD10PCS),
    ("meta", page(head='<meta name="cpt-code" content="62273">'), "62273", CPT),
    ("canonical", page(head='<link rel="canonical" href="https://example.org/cpt/62273/">'), "62273", CPT),
    ("og-url", page(head='<meta property="og:url" content="https://example.org/hcpcs/j1885-ketorolac">'),
     "J1885", HCPCS),
    ("title-tag", page(head="<title>CPT\u00ae 62273 | Example</title>"), "62273", CPT),
    ("code-heading-dt", page(top="<dl><dt>Procedure code</dt><dd>62273</dd></dl>"), "62273", CPT),
    ("code-heading-th", page(top="<table><tr><th>HCPCS Code</th><td>J1885</td></tr></table>"), "J1885", HCPCS),
    ("label-line", page(top="<p>CPT\u00ae Code: 62273</p>"), "62273", CPT),
    ("hcpcs-level-ii", page(top="<p>HCPCS Level II code J1885</p>"), "J1885", HCPCS),
    ("icd-10-cm-dotted", page(top="<p>ICD-10-CM E11.9</p>"), "E119", ICD10CM),
    ("code-class", page(top='<p>Code <span class="code">62273</span></p>'), "62273", CPT),
]


@pytest.mark.parametrize("data, code, system", [r[1:] for r in CODE_SOURCES], ids=[r[0] for r in CODE_SOURCES])
def test_code_from_wherever_the_page_keeps_it(tmp_path: Path, data: bytes, code: str, system: str) -> None:
    path = tmp_path / "epidural-blood-patch.html"
    path.write_bytes(data)
    parsed = parse_page(path)
    assert (parsed.record.code, parsed.record.code_system) == (code, system)
    assert parsed.record.title == "Epidural blood patch"
    assert parsed.warnings == ()


@pytest.mark.parametrize("path, code, modifier, system, whole", [
    ("x/cpt-62273-epidural-blood-patch.txt", "62273", "", CPT, False),
    ("x/epidural_blood_patch_62273.htm", "62273", "", "", False),
    ("site/cpt/62273/index.html", "62273", "", CPT, True),
    ("62273.txt", "62273", "", "", True),
    ("x/cpt-62273-50-bilateral.html", "62273", "50", CPT, False),
    ("hcpcs/j1885-ketorolac.html", "J1885", "", HCPCS, False),
    ("icd-10-pcs-0csnxzz-reposition-uvula.txt", "0CSNXZZ", "", ICD10PCS, False),
    ("e11.9.html", "E119", "", "", True),
])
def test_code_from_file_and_folder_names(path: str, code: str, modifier: str, system: str, whole: bool) -> None:
    found = code_from_path(path)
    assert found is not None
    assert (found.code, found.modifier, found.system, found.whole) == (code, modifier, system, whole)


@pytest.mark.parametrize("path", ["/tmp/pytest-of-root/pytest-3/test_a0/notes.html", "/work/backup1/notes.html",
                                  "/data/2024/report.html", "records/summary.txt"])
def test_words_and_numbers_in_names_are_not_codes(path: str) -> None:
    assert code_from_path(path) is None


def test_page_without_any_code_is_kept_as_unknown_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "lecture notes.html"
    path.write_bytes(page())
    parsed = parse_page(path)
    assert (parsed.record.code, parsed.record.code_system) == ("LECTURE-NOTES", UNKNOWN)
    assert parsed.warnings == ("no procedure code in the page, its <title>, its URL or its file name; "
                               "indexed as LECTURE-NOTES with code system unknown",)


# -- headings in any form ------------------------------------------------------------------------

HEADING_FORMS = [
    ("h3-colon", "<h3>{}:</h3>"),
    ("dt", "<dl><dt>{}</dt></dl>"),
    ("th-row", "<table><tr><th>{}</th><td></td></tr></table>"),
    ("bold-paragraph", "<p><b>{}</b></p>"),
    ("capitals", "<p>{upper}</p>"),
    ("div-class-hdr", '<div class="hdr">{}</div>'),
    ("div-section-title", '<div class="section-title">{}</div>'),
    ("span-opening-line", '<p><span class="x">{}</span></p>'),
    ("styled-div", '<div style="font-weight: bold">{}</div>'),
    ("role-heading", '<div role="heading" aria-level="2">{}</div>'),
    ("details-summary", "<details><summary>{}</summary></details>"),
    ("numbered", "<h2>3. {}</h2>"),
]


@pytest.mark.parametrize("form", [f for _, f in HEADING_FORMS], ids=[i for i, _ in HEADING_FORMS])
def test_headings_in_any_form(tmp_path: Path, form: str) -> None:
    def h(text: str) -> str:
        return form.format(text, upper=text.upper())

    body = (f"{h('Name of the Procedure')}<p>Epidural Blood Patch</p>{h('Technical Term')}"
            f"<p>Injection, epidural, of blood or clot patch</p>{h('Summary')}<p>Blood seals a leak.</p>"
            f"{h('Indications')}<ul><li>Headache</li></ul>{h('Risks and Complications')}<ul><li>Back pain</li></ul>"
            f"{h('Similar Codes')}<p>62270 - Spinal puncture, lumbar, diagnostic</p>")
    path = tmp_path / "62273.html"
    path.write_bytes(page(body=body))
    parsed = parse_page(path)
    rec = parsed.record
    assert rec.name == "Epidural Blood Patch"
    assert rec.technical_term == "Injection, epidural, of blood or clot patch"
    assert [label for label, _ in rec.sections] == ["Summary", "Indications", "Risks and Complications"]
    assert rec.similar_codes == (("62270", "Spinal puncture, lumbar, diagnostic"),)
    assert parsed.warnings == ()


@pytest.mark.parametrize("similar", [
    "<ul><li><a href='/62270'>62270</a> Spinal puncture, lumbar, diagnostic</li></ul>",
    "<table><tr><th>Code</th><th>Description</th></tr><tr><td>62270</td><td>Spinal puncture, lumbar, diagnostic</td></tr></table>",
    "<p>Spinal puncture, lumbar, diagnostic (62270)</p>",
    "<p>62270: Spinal puncture, lumbar, diagnostic</p>",
], ids=["links", "table", "label-then-code", "colon-line"])
def test_similar_codes_in_any_form(tmp_path: Path, similar: str) -> None:
    path = tmp_path / "62273.html"
    path.write_bytes(page(body=BODY + "<h2>Similar Codes</h2>" + similar))
    assert parse_page(path).record.similar_codes == (("62270", "Spinal puncture, lumbar, diagnostic"),)


def test_chrome_inside_the_content_column_stays_out(tmp_path: Path) -> None:
    body = (BODY.replace("<h2>Recovery</h2>", '<div class="cookie-bar">We use cookies. <button>OK</button></div>'
                                              "<h2>Recovery</h2>")
            + "<h3>Popular procedures</h3><ul><li>Colonoscopy 45378</li></ul>"
            + "<p>\u00a9 2026 Example Health. All rights reserved.</p>"
            + "<p>This content is for informational purposes only and is not a substitute for medical advice.</p>"
            + "<ul><li><a href='/a'>About</a></li><li><a href='/b'>Blog</a></li><li><a href='/c'>Careers</a></li>"
              "<li><a href='/d'>Contact</a></li></ul>")
    path = tmp_path / "62273.html"
    path.write_bytes(page(body=body))
    rec = parse_page(path).record
    assert rec.section("Recovery") == "Rest for an hour."
    assert [label for label, _ in rec.sections] == ["Summary", "Indications", "Recovery"]


# -- bytes ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-16", "utf-8-sig", "cp1252"])
def test_encodings_without_being_told(tmp_path: Path, encoding: str) -> None:
    text = ("Summary\r\n\r\nThe patient\u2019s own blood\u00a0seals the leak \u2013 quickly.\r\n\r\n"
            "Risks\r\n\r\nBack pain\r\n\r\nRecovery\r\n\r\nRest.\r\n")
    path = tmp_path / "62273.txt"
    path.write_bytes(text.encode(encoding))
    rec = parse_page(path).record
    assert rec.section("Summary") == "The patient\u2019s own blood seals the leak \u2013 quickly."


def test_meta_charset_is_honoured(tmp_path: Path) -> None:
    html = ("<html><head><meta charset='iso-8859-2'></head><body><h1>Zabieg \u017c</h1><p>CPT code 62273</p>"
            "<h2>Summary</h2><p>Za\u017c\u00f3\u0142\u0107 &amp; g\u0119\u015bl&#261;</p><h2>Risks</h2><p>x</p>"
            "<h2>Recovery</h2><p>y</p></body></html>")
    path = tmp_path / "62273.html"
    path.write_bytes(html.encode("iso-8859-2"))
    rec = parse_page(path).record
    assert rec.title == "Zabieg \u017c" and rec.section("Summary") == "Za\u017c\u00f3\u0142\u0107 & g\u0119\u015bl\u0105"


# -- a mis-parse is never silent -----------------------------------------------------------------

def test_title_that_is_a_heading_word_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "62273.html"
    path.write_bytes(f"<html><body><section><h2>Code</h2><p>62273</p></section>{BODY}</body></html>".encode())
    parsed = parse_page(path)
    assert parsed.record.code == "62273"
    assert parsed.record.title != "Code"  # with no page heading at all, the page says so
    assert "no page heading; title taken from the procedure name" in parsed.warnings


def test_warnings_name_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "notes-62273.html"
    body = "<h2>Summary</h2><p>Blood seals a leak.</p><h2>Other pages</h2><p>62270 - Spinal puncture</p>"
    path.write_bytes(f"<html><head><title>Indications</title></head><body>{body}</body></html>".encode())
    warnings = parse_page(path).warnings
    assert "code 62273 taken from the file name or folder only; the page does not state it" in warnings
    assert "title 'Indications' is a heading word, not the procedure's name" in warnings
    assert "only 2 section(s) found (Summary, Other pages)" in warnings
    assert any(w.startswith("section 'Other pages' holds code-like lines ('62270 - Spinal puncture')") for w in warnings)
