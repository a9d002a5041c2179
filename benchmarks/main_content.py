"""Main content versus chrome: the parser's own rules against trafilatura, readability-lxml and jusText.

    pip install trafilatura readability-lxml justext    # only for this measurement
    python -m benchmarks.main_content [--pages N]

Pages: every bundled corpus record rendered in each HTML style of benchmarks/markups.py (all with
navigation, sidebars, cookie bars, newsletter boxes, disclaimers and footers). For each extractor:
  * kept lines  - share of the record's section lines found in the extracted text;
  * kept headings - share of section headings found as lines (a record needs them to split sections);
  * chrome pages - share of pages whose extracted text holds any chrome phrase;
  * ms/page     - median extraction time.
For the project's own rules the extracted text is the parsed record's sections, headings and fields.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

from procsearch.ingest import ingest_corpus
from procsearch.ingest.page import parse_bytes
from procsearch.ingest.record import ProcedureRecord

from .markups import CHROME_WORDS, STYLES


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def _own(html: bytes, name: str) -> str:
    rec = parse_bytes(html, name).record
    parts = [rec.title, rec.name, rec.technical_term]
    for label, text in rec.sections:
        parts += [label, text]
    return "\n".join(parts)


def _extractors() -> dict[str, Callable[[bytes, str], str]]:
    out: dict[str, Callable[[bytes, str], str]] = {"procsearch rules": _own}
    try:
        import trafilatura

        out["trafilatura"] = lambda html, _: trafilatura.extract(
            html.decode("utf-8", "replace"), include_tables=True, include_formatting=False) or ""
    except ImportError:
        print("trafilatura not installed; skipped", file=sys.stderr)
    try:
        import lxml.html
        from readability import Document

        out["readability-lxml"] = lambda html, _: lxml.html.fromstring(
            Document(html.decode("utf-8", "replace")).summary()).text_content()
    except ImportError:
        print("readability-lxml not installed; skipped", file=sys.stderr)
    try:
        import justext

        stop = justext.get_stoplist("English")
        out["jusText"] = lambda html, _: "\n".join(
            p.text for p in justext.justext(html, stop) if not p.is_boilerplate)
    except ImportError:
        print("jusText not installed; skipped", file=sys.stderr)
    return out


def measure(records: list[ProcedureRecord]) -> list[tuple[str, float, float, float, float, int]]:
    pages = []
    for rec in records:
        for style, render in STYLES.items():
            suffix, data = render(rec)
            if suffix != ".txt":
                if suffix == ".htm":  # one encoding for every extractor: the page as UTF-8, declared so
                    data = data.decode("windows-1252").encode("utf-8").replace(b"charset=windows-1252", b"charset=utf-8")
                pages.append((rec, f"{rec.code}{suffix}", data))
    rows = []
    for name, extract in _extractors().items():
        kept_lines = total_lines = kept_heads = total_heads = chrome = 0
        times = []
        for rec, fname, data in pages:
            start = time.perf_counter()
            try:
                text = extract(data, fname)
            except Exception:  # a library that fails on a page keeps nothing of it
                text = ""
            times.append(time.perf_counter() - start)
            norm = _norm(text)
            line_set = {_norm(line).rstrip(":") for line in text.split("\n")}
            for label, body in rec.sections:
                total_heads += 1
                kept_heads += _norm(label) in line_set or _norm(label) + ":" in norm
                for line in body.split("\n"):
                    total_lines += 1
                    kept_lines += _norm(line) in norm
            chrome += any(w.lower() in norm for w in CHROME_WORDS)
        rows.append((name, kept_lines / total_lines, kept_heads / total_heads, chrome / len(pages),
                     statistics.median(times) * 1000, len(pages)))
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default=None, help="pages whose records are rendered (default: the bundled corpus)")
    args = p.parse_args(argv)
    from procsearch.corpus import corpus_dir

    records, _ = ingest_corpus([args.corpus or str(corpus_dir())], workers=1)
    print("| extractor | kept lines | kept headings | pages with chrome | ms/page | pages |")
    print("|---|---|---|---|---|---|")
    for name, lines, heads, chrome, ms, n in measure(records):
        print(f"| {name} | {lines:.3f} | {heads:.3f} | {chrome:.3f} | {ms:.2f} | {n} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
