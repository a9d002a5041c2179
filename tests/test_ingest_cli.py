"""`procsearch ingest`: every documented option, through the real command in a subprocess-like runner."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from procsearch.ingest import ProcedureRecord
from procsearch.search.cli import cli

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


def _two_pages(tmp_path: Path) -> Path:
    d = tmp_path / "pages"
    d.mkdir()
    shutil.copyfile(CORPUS / "pages-a/62273.html", d / "62273.html")
    shutil.copyfile(CORPUS / "pages-b/43235.txt", d / "43235.txt")
    return d


def test_out_dash_writes_records_to_stdout_and_the_report_to_stderr(tmp_path: Path) -> None:
    d = _two_pages(tmp_path)
    result = subprocess.run([sys.executable, "-m", "procsearch", "ingest", str(d), "--out", "-"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    records = [ProcedureRecord.from_json(line) for line in result.stdout.splitlines()]
    assert sorted(r.code for r in records) == ["43235", "62273"]
    assert result.stderr.splitlines()[-1] == "2 parsed, 0 skipped (0 unreadable or invalid, 0 duplicate), 0 warnings"


def test_out_file_writes_json_lines(tmp_path: Path) -> None:
    d = _two_pages(tmp_path)
    out = tmp_path / "records.jsonl"
    result = CliRunner().invoke(cli, ["ingest", str(d), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["code"] for line in lines] == ["43235", "62273"]
    assert result.stdout == ""


def test_out_never_replaces_an_existing_file_without_force(tmp_path: Path) -> None:
    d = _two_pages(tmp_path)
    out = tmp_path / "mine.jsonl"
    out.write_text("my own notes\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["ingest", str(d), "--out", str(out)])
    assert result.exit_code == 1 and "exists" in str(result.exception) and "--force" in str(result.exception)
    assert out.read_text(encoding="utf-8") == "my own notes\n"
    result = CliRunner().invoke(cli, ["ingest", str(d), "--out", str(out), "--force"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["code"] for line in out.read_text(encoding="utf-8").splitlines()] == ["43235", "62273"]


def test_without_out_only_the_report_is_printed(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["ingest", str(_two_pages(tmp_path))])
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr.splitlines() == ["2 parsed, 0 skipped (0 unreadable or invalid, 0 duplicate), 0 warnings"]


def test_several_corpus_arguments_files_and_directories(tmp_path: Path) -> None:
    d = _two_pages(tmp_path)
    result = CliRunner().invoke(cli, ["ingest", str(d / "62273.html"), str(CORPUS / "pages-c"), "--out", "-"])
    assert result.exit_code == 0, result.output
    codes = sorted(json.loads(line)["code"] for line in result.stdout.splitlines())
    assert codes == ["0BH17EZ", "20550", "31231", "36556", "58300", "62273", "A0427"]


def test_quiet_prints_no_report_but_still_writes(tmp_path: Path) -> None:
    d = _two_pages(tmp_path)
    (d / "notes.html").write_text("<html><body><h2>Summary</h2><p>No code here.</p></body></html>")
    for flag in ("--quiet", "-q"):
        result = CliRunner().invoke(cli, ["ingest", str(d), flag, "--out", "-"])
        assert result.exit_code == 0
        assert result.stderr == ""
        assert len(result.stdout.splitlines()) == 3


def test_strict_exit_status_follows_problems(tmp_path: Path) -> None:
    d = _two_pages(tmp_path)
    assert CliRunner().invoke(cli, ["ingest", str(d), "--strict"]).exit_code == 0
    (d / "notes.html").write_text("<html><body><h2>Summary</h2><p>No code here.</p></body></html>")
    result = CliRunner().invoke(cli, ["ingest", str(d), "--strict"])
    assert result.exit_code == 1
    assert f"warning: {d / 'notes.html'}: no procedure code" in result.stderr
    assert CliRunner().invoke(cli, ["ingest", str(d)]).exit_code == 0


def test_missing_corpus_is_one_line(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "procsearch", "ingest", str(tmp_path / "nowhere")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "nowhere" in lines[0] and "no such file or directory" in lines[0]


def test_help_lists_every_option() -> None:
    result = CliRunner().invoke(cli, ["ingest", "--help"])
    for option in ("--out", "--force", "--strict", "--quiet"):
        assert option in result.output
