"""Any query string, code or page text: no traceback from the API or the command line.

Hypothesis runs 150 examples of each by default; ``pytest -m slow`` runs 10,000 of each.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from procsearch.ingest.errors import PageError
from procsearch.ingest.page import parse_bytes
from procsearch.search.searcher import Results, Searcher
from search_fixtures import bundled_index, searcher  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent
OPERATORS = ["NOT", "AND", "OR", "(", ")", '"', "*", "-", ":", "risks:", "title:", "system:CPT", "NOT(", "~", "^2",
             "62273", "0FT4*", "62270-62273", "99999-00001", "ICD-10-PCS", "salpingo-oophorectomy", "knee",
             "EBP", "E11.9", "\ud800", "\udcff", "\x1b[31m", "\x00", "\u202e", "&#27;"]
# Any code point, lone surrogates included (what undecodable bytes of a command line become).
ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=()), max_size=40)
QUERIES = st.one_of(
    ANY_TEXT,
    st.lists(st.sampled_from(OPERATORS), max_size=10).map(" ".join),
    st.lists(st.one_of(st.sampled_from(OPERATORS), ANY_TEXT), max_size=6).map(" ".join),
)
FEW = settings(max_examples=150, deadline=None, database=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
MANY = settings(FEW, max_examples=10_000)


def _every_call(s: Searcher, query: str) -> None:
    results = s.search(query, limit=3)
    assert isinstance(results, Results) and len(results.hits) <= 3
    s.search(query, limit=2, explain=True, sections=["risks"])
    s.get(query)
    s.similar(query, 3)
    s.suggest(query)


@FEW
@given(query=QUERIES)
def test_any_query_code_or_operator_sequence_is_answered(searcher: Searcher, query: str) -> None:
    _every_call(searcher, query)


@pytest.mark.slow
@MANY
@given(query=QUERIES)
def test_any_query_code_or_operator_sequence_is_answered_10k(searcher: Searcher, query: str) -> None:
    _every_call(searcher, query)


@pytest.mark.parametrize("query", [
    "NOT NOT ICD-10-PCS 99999-00001 AND salpingo-oophorectomy", "NOT NOT knee", "knee NOT (NOT epidural)",
    "NOT (NOT (NOT knee))", "a AND NOT NOT b", "\udcff", "6227\ud800",
])
def test_reported_queries(searcher: Searcher, query: str) -> None:
    _every_call(searcher, query)


def test_double_negation_reads_as_the_word(searcher: Searcher) -> None:
    plain = [h.code for h in searcher.search("knee", limit=5).hits]
    assert plain and [h.code for h in searcher.search("NOT NOT knee", limit=5).hits][:1] == plain[:1]


# --- pages --------------------------------------------------------------------------------------------

CONTROL = set(chr(c) for c in range(0x20) if chr(c) not in "\n\t") | {"\x7f"} | set(chr(c) for c in range(0x80, 0xa0))
PAGE_TEXT = st.lists(st.one_of(st.sampled_from(["\x1b[31m", "\x1b]0;x\x07", "&#27;", "&#x9b;", "\x9b", "\r", "\x0c",
                                                "wombat", "\u202e", "&#0;", "\x00"]),
                               st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)),
                     max_size=12).map(" ".join)


def _page(title: str, summary: str) -> bytes:
    return (f"<html><head><title>CPT 61234 {title}</title></head><body><h1>{title}</h1>"
            f"<h2>Summary</h2><p>{summary} wombat</p></body></html>").encode("utf-8", "surrogatepass")


def _check_page(title: str, summary: str) -> None:
    try:
        record = parse_bytes(_page(title, summary), "/corpus/61234.html").record
    except PageError:
        return
    assert not set(record.to_json()) & CONTROL
    assert not set(json.loads(record.to_json())["title"]) & CONTROL


@FEW
@given(title=PAGE_TEXT, summary=PAGE_TEXT)
def test_page_text_never_reaches_a_record_with_control_characters(title: str, summary: str) -> None:
    _check_page(title, summary)


@pytest.mark.slow
@MANY
@given(title=PAGE_TEXT, summary=PAGE_TEXT)
def test_page_text_never_reaches_a_record_with_control_characters_10k(title: str, summary: str) -> None:
    _check_page(title, summary)


# --- the command line ------------------------------------------------------------------------------------

def _cli(args: list, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "procsearch", *args], input=stdin, capture_output=True,
                          timeout=120, cwd=ROOT)


@pytest.mark.parametrize("args", [["show", b"\xff"], ["similar", b"\xff"], ["search", b"\xff"],
                                  ["search", b"\xff", "--format", "json"], ["search", b"NOT NOT \xfe"]])
def test_undecodable_arguments_are_one_line(bundled_index: str, args: list) -> None:
    proc = _cli([*args, "--index", bundled_index])
    assert b"Traceback" not in proc.stderr
    assert proc.returncode in (0, 1)
    if proc.returncode:
        assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith(b"Error: ")


def test_batch_skips_a_bad_line_and_answers_the_others(bundled_index: str) -> None:
    proc = _cli(["search", "--index", bundled_index, "--batch", "-"],
                stdin=b"epidural blood patch\n\xff\xfe bad\nNOT NOT knee\n\n62273\n")
    assert b"Traceback" not in proc.stderr
    answered = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [a["query"] for a in answered] == ["epidural blood patch", "NOT NOT knee", "62273"]
    assert answered[0]["hits"][0]["code"] == "62273"
    assert b"batch line 2: skipped, not valid UTF-8" in proc.stderr
    assert proc.returncode == 1  # something was skipped: scripts can tell
