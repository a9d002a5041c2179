"""The `procsearch` command line: output formats, batch mode, show/similar/index stats, errors, help, colour."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import traceback
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from procsearch.search.cli import cli, main
from search_fixtures import bundled_index  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[")
SECTION_LINE = re.compile(r"^    (Summary|Purpose|Indications|Preparation|Procedure Description|Risks and Complications|"
                          r"Benefits|Recovery|Alternatives|Patient Experience|Setting|Personnel|Duration): \S")


def invoke(args: list[str], **kw):
    return CliRunner().invoke(cli, args, **kw)


def run_main(args: list[str], input: str | None = None, env: dict | None = None) -> tuple[int, str, str]:
    """Run the real entry point main() in-process: (exit code, stdout, stderr).

    An exception escaping main() is what a user would see as a traceback: it is returned as one.
    """
    runner = CliRunner()
    with runner.isolation(input=input, env=env) as (out, err, _):
        old_argv = sys.argv
        sys.argv = ["procsearch", *args]
        code = 0
        tb = ""
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception:  # noqa: BLE001 - shown the way Python would show it
            code, tb = 1, traceback.format_exc()
        finally:
            sys.argv = old_argv
        return code, out.getvalue().decode(), err.getvalue().decode() + tb


def ranked_codes(stdout: str) -> list[str]:
    return re.findall(r"^ *\d+\. (\S+)  \[", stdout, flags=re.M)


# -- search: text ------------------------------------------------------------------------------------

def test_search_text_output_has_ranked_hits_with_section_labelled_snippets(bundled_index: str) -> None:
    result = invoke(["search", "spinal headache after epidural", "--index", bundled_index, "--limit", "3"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == " 1. 62273  [CPT]  Injection, epidural, of blood or clot patch"
    assert lines[1] == "    Epidural Blood Patch (EBP)"
    assert SECTION_LINE.match(lines[2]), lines[2]
    assert len(ranked_codes(result.stdout)) == 3
    assert sum(1 for line in lines if SECTION_LINE.match(line)) >= 3


def test_no_results_is_not_an_error(bundled_index: str) -> None:
    result = invoke(["search", "xqzzvk", "--index", bundled_index])
    assert result.exit_code == 0
    assert result.stdout == "No results\n"


def test_no_results_offers_a_spelling(bundled_index: str) -> None:
    result = invoke(["search", "catarct system:HCPCS", "--index", bundled_index])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-2:] == ["No results", "Did you mean: cataract system:HCPCS"]


def test_corrected_query_is_announced(bundled_index: str) -> None:
    result = invoke(["search", "cholecystecomy", "--index", bundled_index])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "showing results for cholecystectomy"


def test_offset_numbers_ranks_from_the_offset(bundled_index: str) -> None:
    full = invoke(["search", "knee", "--index", bundled_index, "--limit", "4"])
    page = invoke(["search", "knee", "--index", bundled_index, "--limit", "2", "--offset", "2"])
    assert ranked_codes(page.stdout) == ranked_codes(full.stdout)[2:4]
    assert re.search(r"^ 3\. ", page.stdout, flags=re.M)


def test_system_option_filters(bundled_index: str) -> None:
    result = invoke(["search", "injection", "--index", bundled_index, "--system", "hcpcs"])
    assert result.exit_code == 0
    systems = re.findall(r"^ *\d+\. \S+  \[([^\]]+)\]", result.stdout, flags=re.M)
    assert systems and set(systems) == {"HCPCS"}


def test_section_option_restricts_the_search(bundled_index: str) -> None:
    result = invoke(["search", "crutches", "--index", bundled_index, "--section", "recovery"])
    assert result.exit_code == 0
    assert sorted(ranked_codes(result.stdout)) == ["27130", "29881"]
    assert all(line.startswith("    Recovery: ") for line in result.stdout.splitlines() if SECTION_LINE.match(line))


def test_explain_shows_expansions_and_field_scores(bundled_index: str) -> None:
    result = invoke(["search", "EBP headache", "--index", bundled_index, "--explain", "--limit", "2"])
    assert result.exit_code == 0
    assert "expansions: EBP -> epidural blood patch (abbreviation" in result.stdout
    score_lines = [line for line in result.stdout.splitlines() if line.startswith("    score ")]
    assert len(score_lines) == 2 and re.search(r"(title|name|Summary) \d", score_lines[0])


def test_no_expand_and_thesaurus_options(bundled_index: str, tmp_path: Path) -> None:
    assert "76805" in ranked_codes(invoke(["search", "womb", "--index", bundled_index]).stdout)
    assert invoke(["search", "womb", "--index", bundled_index, "--no-expand"]).stdout == "No results\n"
    mine = tmp_path / "mine.txt"
    mine.write_text("zorblax = cataract\n", encoding="utf-8")
    assert invoke(["search", "zorblax", "--index", bundled_index]).stdout == "No results\n"
    result = invoke(["search", "zorblax", "--index", bundled_index, "--thesaurus", str(mine)])
    assert set(ranked_codes(result.stdout)[:2]) == {"66984", "66821"}


# -- search: machine formats -------------------------------------------------------------------------

def test_json_format(bundled_index: str) -> None:
    result = invoke(["search", "cholecystecomy", "--index", bundled_index, "--format", "json", "--limit", "3"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"query", "corrected_query", "expansions", "hits", "total", "offset"} <= set(data)
    assert data["query"] == "cholecystecomy"
    assert data["corrected_query"] == "cholecystectomy"
    assert all({"source", "target", "weight", "kind"} <= set(e) for e in data["expansions"])
    assert len(data["hits"]) == 3
    for hit in data["hits"]:
        assert {"code", "code_system", "title", "name", "score", "snippets", "matched_sections"} <= set(hit)
        assert hit["snippets"]
        for snippet in hit["snippets"]:
            assert set(snippet) == {"section", "text", "highlights"}
            for start, end in snippet["highlights"]:
                assert 0 <= start < end <= len(snippet["text"])
    assert {h["code"] for h in data["hits"]} == {"47562", "47600", "0FT44ZZ"}


def test_jsonl_format(bundled_index: str) -> None:
    result = invoke(["search", "knee", "--index", bundled_index, "--format", "jsonl", "--limit", "4"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    hits = [json.loads(line) for line in lines]
    assert all({"code", "title", "score", "snippets"} <= set(h) for h in hits)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_csv_format(bundled_index: str) -> None:
    result = invoke(["search", "EBP headache", "--index", bundled_index, "--format", "csv", "--limit", "3"])
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["rank", "code", "code_system", "title", "score", "snippet"]
    assert len(rows) == 4
    assert rows[1][:4] == ["1", "62273", "CPT", "Injection, epidural, of blood or clot patch"]
    assert re.match(r"(Summary|Indications|Purpose): ", rows[1][5])
    assert float(rows[1][4]) >= float(rows[2][4])


def test_csv_with_no_results_is_just_the_header(bundled_index: str) -> None:
    result = invoke(["search", "xqzzvk", "--index", bundled_index, "--format", "csv"])
    assert result.stdout.splitlines() == ["rank,code,code_system,title,score,snippet"]


def _check_batch_lines(stdout: str, queries: list[str]) -> None:
    lines = stdout.splitlines()
    assert len(lines) == len(queries)
    for line, query in zip(lines, queries):
        obj = json.loads(line)
        assert set(obj) == {"query", "total", "matched", "offset", "hits"} and obj["query"] == query
        assert obj["matched"] >= obj["total"] >= len(obj["hits"])
        for hit in obj["hits"]:
            assert set(hit) == {"code", "title", "score", "snippet"}
    first = json.loads(lines[0])
    assert first["hits"][0]["code"] == "62273" and first["hits"][0]["snippet"].startswith("Summary: ")


def test_batch_file(bundled_index: str, tmp_path: Path) -> None:
    batch = tmp_path / "queries.txt"
    batch.write_text("EBP\n\ncataract\n  622*  \nxqzzvk\n", encoding="utf-8")
    result = invoke(["search", "--batch", str(batch), "--index", bundled_index, "--limit", "2"])
    assert result.exit_code == 0, result.output
    _check_batch_lines(result.stdout, ["EBP", "cataract", "622*", "xqzzvk"])
    assert [h["code"] for h in json.loads(result.stdout.splitlines()[2])["hits"]] == ["62270", "62273"]
    assert json.loads(result.stdout.splitlines()[3])["hits"] == []


def test_batch_stdin(bundled_index: str) -> None:
    result = invoke(["search", "--batch", "-", "--index", bundled_index, "--limit", "3"],
                    input="EBP\nknee replacement\n")
    assert result.exit_code == 0, result.output
    _check_batch_lines(result.stdout, ["EBP", "knee replacement"])


def test_search_needs_a_query_or_batch(bundled_index: str) -> None:
    result = invoke(["search", "--index", bundled_index])
    assert result.exit_code == 2
    assert "QUERY" in result.output


# -- show / similar / index stats --------------------------------------------------------------------

def test_show_prints_the_whole_record(bundled_index: str) -> None:
    result = invoke(["show", "62273-50", "--index", bundled_index])
    assert result.exit_code == 0
    out = result.stdout
    assert out.splitlines()[0] == "62273  [CPT]  Injection, epidural, of blood or clot patch"
    assert "Name: Epidural Blood Patch (EBP)" in out
    for label in ("Summary", "Indications", "Risks and Complications", "Recovery", "Similar Codes"):
        assert f"\n{label}\n" in out
    assert "\n62270  Spinal puncture, lumbar, diagnostic\n" in out
    assert re.search(r"^source: .*62273\.html$", out, flags=re.M)


def test_show_json(bundled_index: str) -> None:
    result = invoke(["show", "0ft44zz", "--index", bundled_index, "--format", "json"])
    data = json.loads(result.stdout)
    assert data["code"] == "0FT44ZZ" and data["code_system"] == "ICD-10-PCS"
    assert data["sections"][0][0] == "Summary"


def test_show_unknown_code_is_one_line_and_non_zero(bundled_index: str) -> None:
    code, out, err = run_main(["show", "99999", "--index", bundled_index])
    assert code != 0
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and "99999" in err and "Traceback" not in err


def test_similar_lists_the_page_similar_codes_first(bundled_index: str) -> None:
    result = invoke(["similar", "62273", "--index", bundled_index])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[:5]] == ["62270", "62272", "62322", "62323", "64505"]
    assert all(line.endswith("(listed on the page)") for line in lines[:5])
    assert lines[0].startswith("62270    Spinal puncture, lumbar, diagnostic")
    assert any(line.endswith("(similar wording)") for line in lines[5:])


def test_similar_unknown_code(bundled_index: str) -> None:
    code, out, err = run_main(["similar", "0XX00ZZ", "--index", bundled_index])
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and "0XX00ZZ" in err


def test_index_stats(bundled_index: str) -> None:
    result = invoke(["index", "stats", "--index", bundled_index])
    assert result.exit_code == 0
    assert re.search(r"^documents:\s+72$", result.stdout, flags=re.M)
    assert re.search(r"^  CPT\s+59$", result.stdout, flags=re.M)
    assert re.search(r"^  HCPCS\s+7$", result.stdout, flags=re.M)
    assert re.search(r"^  ICD-10-PCS\s+6$", result.stdout, flags=re.M)
    data = json.loads(invoke(["index", "stats", "--index", bundled_index, "--format", "json"]).stdout)
    assert data["documents"] == 72 and data["systems"]["HCPCS"] == 7


# -- errors ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [["--system", "BAD"], ["--section", "nowhere"], ["--limit", "-1"],
                                  ["--format", "xml"]])
def test_bad_options_are_usage_errors(bundled_index: str, args: list[str]) -> None:
    result = invoke(["search", "knee", "--index", bundled_index, *args])
    assert result.exit_code == 2
    assert "Invalid value" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", [["search", "knee"], ["show", "62273"], ["similar", "62273"],
                                     ["index", "stats"]])
def test_missing_index_dir_is_one_line(tmp_path: Path, command: list[str]) -> None:
    missing = str(tmp_path / "no-index-here")
    code, out, err = run_main([*command, "--index", missing])
    assert code != 0
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert missing in err and "Traceback" not in err


def test_missing_index_dir_real_process(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-index-here")
    proc = subprocess.run([sys.executable, "-m", "procsearch", "search", "knee", "--index", missing],
                          cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith("Error: no index at ") and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_bad_thesaurus_file_is_one_line(bundled_index: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("fine = ok\nno operator here\n", encoding="utf-8")
    code, out, err = run_main(["search", "knee", "--index", bundled_index, "--thesaurus", str(bad)])
    assert code == 1 and out == ""
    assert err.strip() == f"Error: {bad}:2: expected 'term = alt | alt' or 'a ~ b', got 'no operator here'"


@pytest.mark.parametrize("query", ['"*"', 'risks:"!!"', "knee NOT (hip (ankle NOT foot))"])
def test_odd_queries_never_print_a_traceback(bundled_index: str, query: str) -> None:
    code, out, err = run_main(["search", query, "--index", bundled_index])
    assert "Traceback" not in err, err.strip().splitlines()[-1]
    assert code == 0


# -- help and colour ---------------------------------------------------------------------------------

def _commands(cmd: click.Command, path: list[str]):
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name, sub in sorted(cmd.commands.items()):
            yield from _commands(sub, path + [name])


ALL_COMMANDS = list(_commands(cli, []))


def test_the_command_tree_is_complete() -> None:
    names = {" ".join(path) for path, _ in ALL_COMMANDS}
    assert names >= {"", "search", "show", "similar", "ingest", "index", "index build", "index update",
                     "index stats"}


@pytest.mark.parametrize("path, cmd", ALL_COMMANDS, ids=[" ".join(p) or "procsearch" for p, _ in ALL_COMMANDS])
def test_every_command_has_help(path: list[str], cmd: click.Command) -> None:
    assert (cmd.help or "").strip(), f"{' '.join(path) or 'procsearch'} has no help text"
    result = invoke([*path, "--help"])
    assert result.exit_code == 0
    first_line = " ".join(cmd.help.strip().splitlines()[0].split())
    assert first_line in " ".join(result.stdout.split())  # help text is re-wrapped to the terminal
    if isinstance(cmd, click.Group):
        for name in cmd.commands:
            assert re.search(rf"^  {re.escape(name)}\s+\S", result.stdout, flags=re.M), name


@pytest.mark.parametrize("args", [["search", "EBP", "--explain"], ["search", "cholecystecomy"], ["show", "62273"]])
def test_no_color_disables_ansi_escapes(bundled_index: str, args: list[str]) -> None:
    coloured = invoke([*args, "--index", bundled_index], color=True)
    assert ANSI.search(coloured.stdout)  # a terminal would get colour...
    plain = invoke([*args, "--index", bundled_index], color=True, env={"NO_COLOR": "1"})
    assert plain.exit_code == 0
    assert not ANSI.search(plain.stdout)  # ...unless NO_COLOR says no
    assert plain.stdout == ANSI.sub("", plain.stdout)
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured.stdout) == plain.stdout


# -- the default bundled index, through the real entry point -----------------------------------------

def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PROCSEARCH_INDEX", "PROCSEARCH_THESAURUS", "PROCSEARCH_BOOSTS", "NO_COLOR")}
    env["PROCSEARCH_HOME"] = str(home)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_default_index_is_built_on_first_use(tmp_path: Path) -> None:
    home = tmp_path / "home"
    cmd = [sys.executable, "-m", "procsearch", "search", "lumbar puncture", "--limit", "3"]
    first = subprocess.run(cmd, cwd=ROOT, env=_env(home), capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "building the index of the bundled corpus" in first.stderr
    assert str(home) in first.stderr
    assert re.search(r"^ 1\. (62270|009U3ZX)  \[", first.stdout, flags=re.M), first.stdout
    assert {"62270", "009U3ZX"} <= set(ranked_codes(first.stdout))
    assert not ANSI.search(first.stdout + first.stderr)  # piped: no colour
    assert (home / "indexes" / "bundled").is_dir()

    again = subprocess.run(cmd, cwd=ROOT, env=_env(home), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0
    assert "building" not in again.stderr
    assert again.stdout == first.stdout
