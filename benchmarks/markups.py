"""One record, many markups: renderers of a ProcedureRecord into the page styles real sites use.

Each style wraps the content in its own site chrome (navigation, sidebars, cookie bars, newsletter
boxes, disclaimers, footers) whose words must never reach a section. Parsing any rendering must
give back the same record; tests check that on the bundled corpus and rerender.py on the 68k pages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import escape

from procsearch.ingest.record import ProcedureRecord

SITE = "CodeAtlas"
POPULAR = (("99213", "Office visit, established patient"), ("45378", "Colonoscopy, diagnostic"),
           ("93000", "Electrocardiogram, complete"))
COOKIE = "We use cookies to improve your experience and to show relevant ads."
NEWSLETTER = "Subscribe to our newsletter for weekly coding updates."
DISCLAIMER = ("This information is for educational purposes only and is not medical advice. "
              "CPT\u00ae is a registered trademark of the American Medical Association.")
COPYRIGHT = "\u00a9 2026 CodeAtlas. All rights reserved."
# Words of the chrome above: none of them may appear in a parsed section.
CHROME_WORDS = ("cookies", "newsletter", "educational purposes", "registered trademark", "All rights reserved",
                "Office visit, established", "Popular procedures", "Electrocardiogram, complete")


def _e(text: str) -> str:
    return escape(text, quote=True)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def _lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line]


def _system_word(rec: ProcedureRecord) -> str:
    return rec.code_system if rec.code_system != "unknown" else "Procedure"


def _code(rec: ProcedureRecord) -> str:
    return rec.code + (f"-{rec.modifier}" if rec.modifier else "")


def _body_html(text: str, list_tag: str = "ul") -> str:
    lines = _lines(text)
    if len(lines) == 1:
        return f"<p>{_e(lines[0])}</p>"
    return f"<{list_tag}>" + "".join(f"<li>{_e(line)}</li>" for line in lines) + f"</{list_tag}>"


def _json_ld(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")  # no "</script>" inside the script


def _popular_list() -> str:
    return "<ul>" + "".join(f'<li><a href="/cpt/{c}">{c} {_e(t)}</a></li>' for c, t in POPULAR) + "</ul>"


def html5(rec: ProcedureRecord) -> tuple[str, bytes]:
    """HTML5 landmarks, JSON-LD MedicalCode, canonical URL; every other section labelled only by ARIA."""
    ld = {"@context": "https://schema.org", "@type": "MedicalProcedure", "name": rec.name or rec.title,
          "code": {"@type": "MedicalCode", "codeValue": _code(rec), "codingSystem": rec.code_system}}
    out = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(rec.title)} | {SITE}</title>",
        f'<link rel="canonical" href="https://codeatlas.example/{slug(_system_word(rec))}/{_e(slug(rec.title))}">',
        f'<script type="application/ld+json">{_json_ld(ld)}</script>',
        "</head><body>",
        f'<div class="cookie-consent" role="dialog"><p>{COOKIE}</p><button>Accept all</button></div>',
        f'<header class="site-header"><a href="/">{SITE}</a><nav aria-label="Main"><a href="/cpt">CPT</a> '
        '<a href="/hcpcs">HCPCS</a> <a href="/icd10">ICD-10</a></nav></header>',
        '<main id="content"><article>',
        f"<header><h1>{_e(rec.title)}</h1><p>Last updated March 2026</p></header>",
    ]
    if rec.name or rec.technical_term:
        out.append('<section class="names"><h2>Name of the Procedure</h2>')
        if rec.name:
            out.append(f"<p>{_e(rec.name)}</p>")
        if rec.technical_term:
            out.append(f"<p><strong>Technical Term:</strong> {_e(rec.technical_term)}</p>")
        out.append("</section>")
    for i, (label, text) in enumerate(rec.sections):
        if i % 2 and _known(label):
            out.append(f'<section aria-label="{_e(label)}">{_body_html(text)}</section>')
        else:
            out.append(f"<section><h2>{_e(label)}</h2>{_body_html(text)}</section>")
    if rec.similar_codes:
        out.append('<section class="related-codes"><h2>Similar Codes</h2><ul>')
        out += [f'<li><a href="/code/{c}">{c}</a> \u2013 {_e(t)}</li>' for c, t in rec.similar_codes]
        out.append("</ul></section>")
    out.append(f'<aside class="popular"><h3>Popular procedures</h3>{_popular_list()}</aside>')
    out.append(f'<div class="newsletter-box"><h3>Stay informed</h3><p>{NEWSLETTER}</p>'
               '<form><input type="email"><button>Sign up</button></form></div>')
    out.append(f"</article></main><footer><p>{_e(DISCLAIMER)}</p><p>{COPYRIGHT}</p></footer></body></html>")
    return ".html", "\n".join(out).encode("utf-8")


def table_rows(rec: ProcedureRecord) -> tuple[str, bytes]:
    """An old table layout in windows-1252: headings in <th> cells, a link column, a nested codes table."""
    nav = "".join(f'<a href="/{w.lower()}.htm">{w}</a><br>' for w in ("Home", "CPT Codes", "HCPCS", "Modifiers", "Contact"))
    out = [
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">',
        f"<title>{_code(rec)} - {_e(rec.title)}</title></head>",
        '<body bgcolor="#ffffff"><table width="100%" border="0">',
        f'<tr><td colspan="2" bgcolor="#003366"><font color="#ffffff" size="+2">{SITE}</font></td></tr>',
        f'<tr><td width="160" valign="top">{nav}</td><td valign="top">',
        f'<font size="+1"><b>{_e(rec.title)}</b></font><br><br>',
        '<table border="1" cellpadding="4" cellspacing="0">',
        f"<tr><th align=left>{_e(_system_word(rec))} Code</th><td>{_code(rec)}</td></tr>",
    ]
    if rec.name:
        out.append(f"<tr><th align=left>Name of the Procedure</th><td>{_e(rec.name)}</td></tr>")
    if rec.technical_term:
        out.append(f"<tr><th align=left>Technical Term</th><td>{_e(rec.technical_term)}</td></tr>")
    for label, text in rec.sections:
        lines = _lines(text)
        body = _e(lines[0]) if len(lines) == 1 else "<br>".join(f"\u2022&nbsp;{_e(line)}" for line in lines)
        out.append(f"<tr><th align=left valign=top>{_e(label)}</th><td>{body}</td></tr>")
    if rec.similar_codes:
        rows = "".join(f"<tr><td>{c}</td><td>{_e(t)}</td></tr>" for c, t in rec.similar_codes)
        out.append(f"<tr><th align=left valign=top>Similar Codes</th><td><table>{rows}</table></td></tr>")
    out.append(f"</table><p><font size=1>{_e(DISCLAIMER)} {COPYRIGHT}</font></p></td></tr></table></body></html>")
    return ".htm", "\n".join(out).encode("windows-1252", errors="xmlcharrefreplace")


def div_headings(rec: ProcedureRecord) -> tuple[str, bytes]:
    """Headings as styled <div>s and <span>s, the code in microdata, a sidebar and a top bar."""
    out = [
        '<!doctype html><html><head><meta charset="utf-8">',
        f"<title>{_e(rec.title)} - {SITE}</title></head><body>",
        f'<div id="top-bar" class="navbar"><a href="/">{SITE}</a> <a href="/search">Search all medical codes</a>'
        '<a href="/a">A-Z</a><a href="/b">Browse</a></div>',
        '<div class="layout"><div class="sidebar-left"><div class="widget-title">Popular procedures</div>',
        _popular_list(), "</div>",
        '<div class="page-content" itemscope itemtype="https://schema.org/MedicalCode">',
        f'<div class="page-title">{_e(rec.title)}</div>',
        f'<div class="meta-line"><span itemprop="codingSystem">{_e(rec.code_system)}</span> '
        f'<span itemprop="codeValue">{_code(rec)}</span></div>',
    ]
    if rec.name:
        out.append(f'<div class="section-title">Name of the Procedure:</div><div class="section-body">{_e(rec.name)}</div>')
    if rec.technical_term:
        out.append(f'<div class="field"><span class="field-label">Technical Term:</span> '
                   f'<span class="field-value">{_e(rec.technical_term)}</span></div>')
    for i, (label, text) in enumerate(rec.sections):
        cls = ("hdr", "section-title", "sec-heading")[i % 3]
        out.append(f'<div class="{cls}">{_e(label)}</div><div class="section-body">{_body_html(text, "ol" if i % 2 else "ul")}</div>')
    if rec.similar_codes:
        out.append('<div class="hdr">Similar Codes</div><div class="similar-list">')
        out += [f'<a href="/code/{c}">{c}</a> &ndash; {_e(t)}<br>' for c, t in rec.similar_codes]
        out.append("</div>")
    out.append(f'<div class="disclaimer">{_e(DISCLAIMER)}</div></div></div>')
    out.append(f'<div class="site-footer">{COPYRIGHT} <a href="/privacy">Privacy</a></div></body></html>')
    return ".html", "\n".join(out).encode("utf-8")


def definition_list(rec: ProcedureRecord) -> tuple[str, bytes]:
    """<dl> fields, the technical term in a <dt>, similar codes as a <table> inside a <dd>; Latin-1 meta."""
    out = [
        '<html><head><meta charset="utf-8"><meta name="cpt-code" content="">',
        f'<meta property="og:url" content="https://codes.example/{slug(_system_word(rec))}/{rec.code.lower()}">',
        f"<title>{_e(rec.title)}</title></head><body>",
        f'<div id="cookie-notice">{COOKIE} <a href="/privacy">Learn more</a></div>',
        '<ol class="breadcrumb"><li><a href="/">Home</a></li><li><a href="/codes">Codes</a></li></ol>',
        f"<h1>{_e(rec.title)}</h1><dl>",
        f"<dt>{_e(_system_word(rec))} code</dt><dd>{_code(rec)}</dd>",
    ]
    if rec.name:
        out.append(f"<dt>Name of the Procedure</dt><dd>{_e(rec.name)}</dd>")
    if rec.technical_term:
        out.append(f"<dt>Technical Term</dt><dd>{_e(rec.technical_term)}</dd>")
    for label, text in rec.sections:
        out.append(f"<dt>{_e(label)}</dt><dd>{_body_html(text)}</dd>")
    if rec.similar_codes:
        rows = "".join(f"<tr><td>{c}</td><td>{_e(t)}</td></tr>" for c, t in rec.similar_codes)
        out.append(f"<dt>Similar Codes</dt><dd><table><tr><th>Code</th><th>Description</th></tr>{rows}</table></dd>")
    out.append(f"</dl><p><small>{_e(DISCLAIMER)}</small></p><p><small>{COPYRIGHT}</small></p></body></html>")
    return ".html", "\n".join(out).encode("utf-8")


def bold_capitals(rec: ProcedureRecord) -> tuple[str, bytes]:
    """A blog theme: capitalised bold paragraph headings with colons, one-line sections inline after their label."""
    out = [
        '<html><head><meta charset="utf-8">',
        f'<meta name="procedure-code" content="{_code(rec)}"><title>{_e(rec.title)} &#8211; {SITE} blog</title></head>',
        f'<body><div id="masthead"><a href="/">{SITE}</a></div>',
        '<div id="primary"><div class="entry-content">',
        f'<h2 class="entry-title">{_e(rec.title)}</h2>',
        f"<p>{_e(_system_word(rec))} Code: {_code(rec)}</p>",
    ]
    if rec.name:
        out.append(f"<p><b>NAME OF THE PROCEDURE:</b></p><p>{_e(rec.name)}</p>")
    if rec.technical_term:
        out.append(f"<p>Technical Term: {_e(rec.technical_term)}</p>")
    for label, text in rec.sections:
        lines = _lines(text)
        if len(lines) == 1 and _known(label):
            out.append(f"<p><strong>{_e(label)}:</strong> {_e(lines[0])}</p>")
        else:
            shown = label.upper() if _known(label) else label
            out.append(f"<p><strong>{_e(shown)}:</strong></p>{_body_html(text)}")
    if rec.similar_codes:
        out.append("<p><strong>SIMILAR CODES:</strong></p>")
        out += [f"<p>{_e(t)} ({c})</p>" for c, t in rec.similar_codes]
    out.append(f'</div><div id="secondary" class="widget-area"><h3>Popular procedures</h3>{_popular_list()}'
               f"<p>{NEWSLETTER}</p></div></div>")
    out.append(f"<p>{_e(DISCLAIMER)}</p><p>{COPYRIGHT}</p></body></html>")
    return ".html", "\n".join(out).encode("utf-8")


def text_dump(rec: ProcedureRecord) -> tuple[str, bytes]:
    """A scraper's text dump in the seed's form, with the site's chrome lines; the code only in the name."""
    out = [SITE, "", "Search all medical codes", "", COOKIE + " Accept", "", rec.title, "",
           f"{_system_word(rec)} code", ""]
    if rec.name or rec.technical_term:
        out += ["Name of the Procedure:", ""]
        if rec.name:
            out.append(rec.name)
        if rec.technical_term:
            out.append(f"Technical Term: {rec.technical_term}")
        out.append("")
    for label, text in rec.sections:
        lines = _lines(text)
        out += [label, ""]
        out += [lines[0]] if len(lines) == 1 else [f"  \u2022 {line}" for line in lines]
        out.append("")
    if rec.similar_codes:
        out += ["Similar Codes", ""] + [f"{c} - {t}" if t else c for c, t in rec.similar_codes] + [""]
    out += [NEWSLETTER, "", COPYRIGHT, ""]
    return ".txt", "\r\n".join(out).encode("utf-8")


def _known(label: str) -> bool:
    from procsearch.ingest.sections import heading_key

    key = heading_key(label)
    return key is not None


STYLES: dict[str, Callable[[ProcedureRecord], tuple[str, bytes]]] = {
    "html5": html5,
    "table-rows": table_rows,
    "div-headings": div_headings,
    "definition-list": definition_list,
    "bold-capitals": bold_capitals,
    "text-dump": text_dump,
}


def file_name(rec: ProcedureRecord, style: str, suffix: str, by_code: bool) -> str:
    """<CODE><suffix> when the benchmark needs codes as names; otherwise a scraper's slug (cpt-62273-...)."""
    if by_code:
        return rec.code + suffix
    return f"{slug(rec.code_system)}-{_code(rec).lower()}-{slug(rec.name or rec.title)[:40]}{suffix}"
