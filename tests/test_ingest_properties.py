"""Properties: whatever bytes or markup a scraper hands us, parse_page returns a record or raises PageError."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from procsearch.ingest import PageError, ProcedureRecord, parse_page
from procsearch.ingest.codes import is_code_shaped
from procsearch.ingest.sections import ALIAS_TO_KEY

# The autouse tmp_home fixture only sets environment variables, so sharing it across examples is safe.
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def work_dir():
    with tempfile.TemporaryDirectory(prefix="procsearch-props-") as d:
        yield Path(d)


def parse_or_page_error(path: Path) -> None:
    """Anything but a record or PageError fails the property; a record must be well formed."""
    try:
        parsed = parse_page(path)
    except PageError as exc:
        assert exc.path == str(path)
        assert exc.reason
        return
    rec = parsed.record
    assert rec.code and rec.code == rec.code.upper() and "." not in rec.code
    # A page with no code anywhere is kept under its file name, with code system "unknown".
    assert is_code_shaped(rec.code) or (rec.code_system == "unknown" and any(
        "no procedure code" in w for w in parsed.warnings))
    assert rec.sections and all(label and text for label, text in rec.sections)
    assert len({label for label, _ in rec.sections}) == len(rec.sections)
    assert ProcedureRecord.from_json(rec.to_json()) == rec


# Pages named like real ones (a code in the name), so parsing gets past the code check.
NAMES = st.sampled_from(["62273", "0FT44ZZ", "J1885", "notes", "E11.9"])


@SETTINGS
@given(data=st.binary(max_size=3000), name=NAMES, suffix=st.sampled_from([".html", ".txt"]))
def test_arbitrary_bytes_never_raise_anything_but_page_error(work_dir: Path, data: bytes, name: str, suffix: str) -> None:
    path = work_dir / f"{name}{suffix}"
    path.write_bytes(data)
    parse_or_page_error(path)


@SETTINGS
@given(prefix=st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"<html><body>"]),
       text=st.text(max_size=1500), encoding=st.sampled_from(["utf-8", "utf-16", "latin-1", "cp1252"]),
       name=NAMES, suffix=st.sampled_from([".html", ".txt"]))
def test_arbitrary_text_in_any_encoding(work_dir: Path, prefix: bytes, text: str, encoding: str,
                                        name: str, suffix: str) -> None:
    path = work_dir / f"{name}{suffix}"
    path.write_bytes(prefix + text.encode(encoding, errors="replace"))
    parse_or_page_error(path)


HEADINGS = sorted(ALIAS_TO_KEY) + ["Contraindications", "PATIENT EXPERIENCE", "Risks & Complications:",
                                   "Pros", "Similar Codes", "", "   ", "Search all medical codes"]
WORDS = st.sampled_from(["62273", "0FT44ZZ", "E11.9", "J1885", "62273-50", "CPT4 code", "ICD-10-PCS code",
                         "HCPCS", "Technical Term: Injection", "Pros:", "\u2022 item", "1. step", "&amp;",
                         "&nbsp;", "caf\u00e9", "<", ">", "&", "\u2019", "Home", "Menu"])
TEXT = st.one_of(WORDS, st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
TAGS = st.sampled_from(["p", "div", "span", "b", "strong", "li", "ul", "ol", "dl", "dt", "dd", "section",
                        "article", "main", "header", "footer", "nav", "aside", "table", "tr", "td", "br",
                        "h1", "h2", "h3", "code", "script", "style", "form", "a", "pre", "blockquote"])
CLASSES = st.sampled_from(["", "code", "section-header", "cookie-banner", "ad-slot", "sidebar", "header",
                           "proc-title", "code-box", "related", "title"])


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda tag, cls, inner, close: f'<{tag}{f" class={cls!r}" if cls else ""}>{"".join(inner)}'
                                       + (f"</{tag}>" if close else ""),
        TAGS, CLASSES, st.lists(children, max_size=4), st.booleans(),
    )


HEADING_EL = st.builds(lambda tag, h: f"<{tag}>{h}</{tag}>",
                       st.sampled_from(["h1", "h2", "h3", "dt", "strong", "b", "p"]), st.sampled_from(HEADINGS))
FRAGMENT = st.recursive(st.one_of(TEXT, HEADING_EL), _element, max_leaves=30)
# A heading followed by content, so a good share of examples get as far as building a record.
SECTION = st.builds(lambda h, inner: h + inner, HEADING_EL, st.one_of(
    TEXT.map(lambda t: f"<p>{t}</p>"), st.lists(TEXT, min_size=1, max_size=3).map(
        lambda items: "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"), FRAGMENT))


@SETTINGS
@given(title=TEXT, body=st.lists(st.one_of(SECTION, FRAGMENT), max_size=12), name=NAMES, doctype=st.booleans())
def test_html_ish_markup_never_raises_anything_but_page_error(work_dir: Path, title: str, body: list[str],
                                                              name: str, doctype: bool) -> None:
    html = ("<!DOCTYPE html>" if doctype else "") + f"<html><head><title>{title}</title></head><body>" \
        + "".join(body) + "</body></html>"
    path = work_dir / f"{name}.html"
    path.write_text(html, encoding="utf-8", errors="surrogatepass")
    parse_or_page_error(path)


TEXT_LINE = st.one_of(st.sampled_from(HEADINGS), WORDS, st.text(max_size=60).map(lambda s: re.sub(r"[\r\n]", " ", s)),
                      st.just(""), st.just("Similar Codes62270 - Spinal puncture"))


@SETTINGS
@given(lines=st.lists(TEXT_LINE, max_size=40), name=NAMES)
def test_text_dump_lines_never_raise_anything_but_page_error(work_dir: Path, lines: list[str], name: str) -> None:
    path = work_dir / f"{name}.txt"
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    parse_or_page_error(path)


def test_deeply_nested_markup_is_a_page_error_or_a_record(work_dir: Path) -> None:
    path = work_dir / "62273.html"
    path.write_text("<html><body><h2>Summary</h2>" + "<div>" * 5000 + "deep text" + "</div>" * 5000
                    + "</body></html>", encoding="utf-8")
    parse_or_page_error(path)


def test_generated_page_that_should_parse_does(work_dir: Path) -> None:
    """Guards the properties above against vacuity: a well-formed generated page yields a record."""
    path = work_dir / "62273.html"
    path.write_text("<html><body><h1>Blood patch</h1><p>CPT code 62273</p><h2>Summary</h2><p>Text.</p>"
                    "</body></html>", encoding="utf-8")
    rec = parse_page(path).record
    assert (rec.code, rec.title, rec.sections) == ("62273", "Blood patch", (("Summary", "Text."),))


CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
TEXT_WITH_CONTROLS = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(
    ["\n", "\t", "\r", "\x00", "\x1b", "\x7f", "\x85", "\u202e", "\u2067", "\xa0", "\u200b", "a", " "])))


@settings(max_examples=1_000, deadline=None)
@given(texts=st.lists(TEXT_WITH_CONTROLS, min_size=1, max_size=6))
def test_records_never_keep_a_control_character(texts: list[str]) -> None:
    # Records are checked as a whole first (the fast path when nothing needs cleaning): that
    # check must find every character the per-field cleaning removes, wherever it is.
    pairs = tuple((f"S{i}", t) for i, t in enumerate(texts))
    rec = ProcedureRecord("99901", "CPT", texts[0], name=texts[-1], sections=pairs, similar_codes=pairs[:2])
    for value in (rec.title, rec.name, *(t for pair in rec.sections + rec.similar_codes for t in pair)):
        assert not CONTROLS.search(value), value
    if not any(CONTROLS.search(t) for t in texts):
        assert rec.sections == pairs and rec.title == texts[0]  # nothing to clean: kept as it is
