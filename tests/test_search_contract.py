"""One contract for the command line and the Python API: the same spellings accepted, the same bad
values rejected with the same message, and every option honoured in every output mode."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from click.testing import CliRunner

from procsearch import ProcsearchError
from procsearch.search.arguments import InvalidArgumentError, check_search_args
from procsearch.search.cli import cli
from procsearch.search.searcher import Searcher, SearcherClosedError
from search_fixtures import bundled_index, codes, searcher  # noqa: F401  (fixtures)


def invoke(args: list[str], **kw):
    return CliRunner().invoke(cli, args, **kw)


def ranked_codes(stdout: str) -> list[str]:
    return re.findall(r"^ *\d+\. (\S+)  \[", stdout, flags=re.M)


# -- the same spellings ------------------------------------------------------------------------------

SYSTEM_SPELLINGS = [("cpt", "CPT"), ("CPT", "CPT"), ("Cpt4", "CPT"), ("hcpcs", "HCPCS"), ("HCPCS Level II", "HCPCS"),
                    ("ICD10PCS", "ICD-10-PCS"), ("icd-10-pcs", "ICD-10-PCS"), ("ICD-10-PCS", "ICD-10-PCS"),
                    ("icd 10 pcs", "ICD-10-PCS"), ("pcs", "ICD-10-PCS"), ("icd10cm", "ICD-10-CM")]


@pytest.mark.parametrize("spelling, system", SYSTEM_SPELLINGS)
def test_code_system_spellings_filter_the_same_in_api_and_cli(searcher: Searcher, bundled_index: str,
                                                              spelling: str, system: str) -> None:
    query = "injection" if system != "ICD-10-PCS" else "excision"
    results = searcher.search(query, code_system=spelling, limit=20)
    if system != "ICD-10-CM":  # the bundled corpus has no ICD-10-CM page
        assert results.hits, f"{spelling!r} found nothing"
    assert {h.code_system for h in results.hits} <= {system}
    assert codes(results) == codes(searcher.search(query, code_system=system, limit=20))
    cli_result = invoke(["search", query, "--index", bundled_index, "--system", spelling, "-n", "20"])
    assert cli_result.exit_code == 0, cli_result.output
    assert ranked_codes(cli_result.stdout) == codes(results)


SECTION_SPELLINGS = ["risks", "RISKS", "Risks and Complications", "risks and complications", "Risks & Complications",
                     "complications"]


@pytest.mark.parametrize("spelling", SECTION_SPELLINGS)
def test_section_spellings_restrict_the_same_in_api_and_cli(searcher: Searcher, bundled_index: str,
                                                            spelling: str) -> None:
    results = searcher.search("headache", sections=[spelling], limit=20)
    assert results.hits
    assert all(s.section == "Risks and Complications" for h in results.hits for s in h.snippets)
    assert codes(results) == codes(searcher.search("headache", sections=["risks"], limit=20))
    assert codes(searcher.search("headache", limit=20)) != codes(results)  # the restriction changes the answer
    cli_result = invoke(["search", "headache", "--index", bundled_index, "--section", spelling, "-n", "20"])
    assert cli_result.exit_code == 0, cli_result.output
    assert ranked_codes(cli_result.stdout) == codes(results)


def test_display_names_of_every_section_are_accepted() -> None:
    from procsearch.ingest.sections import SECTIONS

    for key, label in SECTIONS:
        assert check_search_args(sections=[label]).sections == (key,)
        assert check_search_args(sections=[label.upper()]).sections == (key,)
        assert check_search_args(sections=key).sections == (key,)  # one name, not a list, is fine too


# -- the same rejections -----------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, option, value", [
    ({"code_system": "BAD"}, "--system", "BAD"),
    ({"code_system": "ICD-11"}, "--system", "ICD-11"),
    ({"sections": ["nowhere"]}, "--section", "nowhere"),
    ({"sections": ["Similar Codes"]}, "--section", "Similar Codes"),
    ({"limit": -1}, "--limit", "-1"),
    ({"offset": -5}, "--offset", "-5"),
])
def test_bad_values_get_the_same_message_from_api_and_cli(searcher: Searcher, bundled_index: str, kwargs: dict,
                                                          option: str, value: str) -> None:
    with pytest.raises(ProcsearchError) as info:
        searcher.search("knee", **kwargs)
    assert isinstance(info.value, InvalidArgumentError) and isinstance(info.value, ValueError)
    message = str(info.value)
    assert value in message and "use one of" in message or "0 or more" in message
    result = invoke(["search", "knee", "--index", bundled_index, option, value])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split()), result.output  # the same words (re-wrapped by click)
    assert f"Invalid value for {option}" in result.output


def test_none_and_non_text_queries_are_procsearch_errors(searcher: Searcher) -> None:
    for bad in (None, 42, b"knee", ["knee"]):
        with pytest.raises(InvalidArgumentError, match="query must be text"):
            searcher.search(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="limit must be a whole number"):
        searcher.search("knee", limit="5")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="code must be text"):
        searcher.get(None)  # type: ignore[arg-type]
    assert searcher.search("knee", limit=0).hits == ()
    assert searcher.search("knee", limit=0).total > 0


def test_every_call_after_close_is_a_procsearch_error(bundled_index: str) -> None:
    s = Searcher.open(bundled_index)
    assert s.search("EBP").hits
    s.close()
    for call in (lambda: s.search("EBP"), lambda: s.get("62273"), lambda: s.similar("62273"),
                 lambda: s.suggest("cataract")):
        with pytest.raises(SearcherClosedError, match="is closed; open a new one"):
            call()
    assert issubclass(SearcherClosedError, ProcsearchError)


# -- options in every output mode --------------------------------------------------------------------

def test_text_output_ends_with_n_of_total(searcher: Searcher, bundled_index: str) -> None:
    total = searcher.search("knee", limit=3).total
    assert total > 5
    out = invoke(["search", "knee", "--index", bundled_index, "-n", "3"]).stdout.splitlines()
    assert out[-1] == f"3 of {total} hits"
    paged = invoke(["search", "knee", "--index", bundled_index, "-n", "2", "--offset", "4"]).stdout.splitlines()
    assert paged[-1] == f"2 of {total} hits (from #5)"
    beyond = invoke(["search", "knee", "--index", bundled_index, "--offset", "500"]).stdout.splitlines()
    assert beyond == ["No results", f"0 of {total} hits (from #501)"]


BATCH = "EBP\n\nknee\n  622*  \nxqzzvk\n"
BATCH_QUERIES = ["EBP", "knee", "622*", "xqzzvk"]


def test_batch_jsonl_honours_offset_and_explain(searcher: Searcher, bundled_index: str) -> None:
    result = invoke(["search", "--batch", "-", "--index", bundled_index, "-n", "2", "--offset", "1", "--explain"],
                    input=BATCH)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["query"] for o in lines] == BATCH_QUERIES
    for obj in lines:
        expected = searcher.search(obj["query"], limit=2, offset=1)
        assert [h["code"] for h in obj["hits"]] == codes(expected)
        assert obj["offset"] == 1 and obj["total"] == expected.total
    knee = lines[1]["hits"]
    assert knee and all(h["explanation"] for h in knee)


def test_batch_json_is_one_array_of_search_json_objects(bundled_index: str) -> None:
    result = invoke(["search", "--batch", "-", "--index", bundled_index, "-n", "3", "--format", "json"], input=BATCH)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [d["query"] for d in data] == BATCH_QUERIES
    single = json.loads(invoke(["search", "knee", "--index", bundled_index, "-n", "3", "--format", "json"]).stdout)
    assert data[1] == single
    empty = invoke(["search", "--batch", "-", "--index", bundled_index, "--format", "json"], input="\n\n")
    assert json.loads(empty.stdout) == []


def test_batch_csv_has_the_query_in_the_first_column(bundled_index: str) -> None:
    result = invoke(["search", "--batch", "-", "--index", bundled_index, "-n", "2", "--offset", "1", "--format", "csv"],
                    input=BATCH)
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["query", "rank", "code", "code_system", "title", "score", "snippet"]
    assert {r[0] for r in rows[1:]} == {"EBP", "knee", "622*"} or {r[0] for r in rows[1:]} == {"knee", "622*"}
    knee = [r for r in rows[1:] if r[0] == "knee"]
    assert [r[1] for r in knee] == ["2", "3"]  # ranks count from the offset
    single = list(csv.reader(io.StringIO(invoke(["search", "knee", "--index", bundled_index, "-n", "2", "--offset",
                                                  "1", "--format", "csv"]).stdout)))
    assert [r[1:] for r in knee] == single[1:]


def test_batch_text_prints_each_query_under_its_heading(bundled_index: str) -> None:
    result = invoke(["search", "--batch", "-", "--index", bundled_index, "-n", "2", "--format", "text"], input=BATCH)
    assert result.exit_code == 0
    headings = [line for line in result.stdout.splitlines() if line.startswith("# ")]
    assert headings == [f"# {q}" for q in BATCH_QUERIES]
    single = invoke(["search", "knee", "--index", bundled_index, "-n", "2"]).stdout
    assert "# knee\n" + single in result.stdout


def test_query_and_batch_together_is_a_usage_error(bundled_index: str) -> None:
    result = invoke(["search", "knee", "--batch", "-", "--index", bundled_index], input="EBP\n")
    assert result.exit_code == 2 and "not both" in result.output


def test_similar_json(searcher: Searcher, bundled_index: str) -> None:
    from procsearch.search.payload import similar_payload

    result = invoke(["similar", "62273-50", "--index", bundled_index, "--format", "json", "-n", "8"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rows = searcher.similar("62273", 8)
    assert data == similar_payload("62273", rows, {c for c, _, _ in rows if searcher.get(c) is not None})
    assert data["code"] == "62273"
    assert [d["code"] for d in data["similar"][:5]] == ["62270", "62272", "62322", "62323", "64505"]
    assert {d["why"] for d in data["similar"]} == {"listed on the page", "similar wording"}
    assert all(set(d) == {"code", "title", "why", "indexed"} for d in data["similar"])


# -- queries that start with '-' ---------------------------------------------------------------------

@pytest.mark.parametrize("args", [["colonoscopy", "-screening"], ["-screening", "colonoscopy"],
                                  ["colonoscopy -screening"], ["-n", "20", "--", "colonoscopy", "-screening"],
                                  ["-n", "20", "colonoscopy", "-screening"]])
def test_a_leading_dash_word_is_an_exclusion(searcher: Searcher, bundled_index: str, args: list[str]) -> None:
    expected = codes(searcher.search("colonoscopy -screening", limit=20))
    everything = codes(searcher.search("colonoscopy", limit=20))
    assert set(expected) < set(everything)  # the exclusion removes something
    result = invoke(["search", "--index", bundled_index, "-n", "20", *args])
    assert result.exit_code == 0, result.output
    assert ranked_codes(result.stdout) == expected


def test_unquoted_words_are_one_query(searcher: Searcher, bundled_index: str) -> None:
    result = invoke(["search", "spinal", "headache", "after", "epidural", "--index", bundled_index, "-n", "5"])
    assert ranked_codes(result.stdout) == codes(searcher.search("spinal headache after epidural", limit=5))


def test_a_mistyped_long_option_is_still_an_error(bundled_index: str) -> None:
    result = invoke(["search", "knee", "--limt", "5", "--index", bundled_index])
    assert result.exit_code == 2 and "No such option '--limt'" in result.output


def test_short_options_keep_working_beside_dash_words(bundled_index: str) -> None:
    result = invoke(["search", "-n3", "knee", "-arthroscopy", "--index", bundled_index])
    assert result.exit_code == 0, result.output
    assert len(ranked_codes(result.stdout)) == 3
    assert "29881" not in ranked_codes(result.stdout)
