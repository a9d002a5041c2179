"""The command on a terminal: --color, shell completion, progress bars whatever the corpus size, and
commands that load only what they need (no Whoosh for --version, --help or completion)."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from procsearch.index import build_index, update_index
from procsearch.search.cli import cli, main
from search_fixtures import bundled_index, copy_pages, write_page  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def invoke(args: list[str], **kw):
    return CliRunner().invoke(cli, args, **kw)


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PROCSEARCH_INDEX", "NO_COLOR")}
    env["PROCSEARCH_HOME"] = str(home)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


# -- colour ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [["search", "EBP", "--explain"], ["show", "62273"], ["index", "list"]])
def test_color_option(bundled_index: str, args: list[str]) -> None:
    if args[0] != "index":
        args = [*args, "--index", bundled_index]
    else:
        invoke(["index", "build", "--quiet", "--workers", "1"])  # something to list
    on_terminal = invoke(args, color=True)  # a terminal: auto colours
    assert ANSI.search(on_terminal.stdout)
    assert not ANSI.search(invoke(["--color", "never", *args], color=True).stdout)
    assert not ANSI.search(invoke(args, color=True, env={"NO_COLOR": "1"}).stdout)  # auto respects NO_COLOR
    piped_always = invoke(["--color", "always", *args], color=False)  # always: even when piped...
    assert ANSI.search(piped_always.stdout)
    assert ANSI.search(invoke(["--color", "always", *args], env={"NO_COLOR": "1"}).stdout)  # ...and over NO_COLOR
    assert ANSI.sub("", piped_always.stdout) == invoke(args, color=False).stdout
    assert not ANSI.search(invoke(args, color=False).stdout)  # auto and piped: plain


def test_bad_color_value_is_a_usage_error() -> None:
    result = invoke(["--color", "sometimes", "index", "list"])
    assert result.exit_code == 2 and "'sometimes' is not one of 'auto', 'always', 'never'" in result.output


# -- shell completion --------------------------------------------------------------------------------

def _complete(words: str, env_extra: dict | None = None) -> list[str]:
    runner = CliRunner()
    env = {"_PROCSEARCH_COMPLETE": "bash_complete", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)), **(env_extra or {})}
    with runner.isolation(env=env) as (out, _err, _):
        old = sys.argv
        sys.argv = ["procsearch"]
        try:
            main()
        except SystemExit:
            pass
        finally:
            sys.argv = old
        return out.getvalue().decode().splitlines()


def test_completion_script_and_completions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proc = subprocess.run([sys.executable, "-m", "procsearch"], env=_env(tmp_path, _PROCSEARCH_COMPLETE="bash_source"),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "_procsearch_completion()" in proc.stdout
    assert "complete -o nosort -F _procsearch_completion procsearch" in proc.stdout
    assert _complete("procsearch ind") == ["plain,index"]
    assert set(_complete("procsearch index ")) >= {"plain,build", "plain,list", "plain,update", "plain,stats",
                                                   "plain,remove"}
    assert _complete("procsearch search knee --system icd") == ["plain,ICD-10-PCS", "plain,ICD-10-CM"]
    assert _complete("procsearch search knee --section ri") == ["plain,risks"]
    build_index([str(copy_pages(["62273"], tmp_path / "pages"))], str(tmp_path / "home" / "indexes" / "mine"), workers=1)
    monkeypatch.setenv("PROCSEARCH_HOME", str(tmp_path / "home"))
    assert _complete("procsearch show 62273 --index m")[0] == "plain,mine"


# -- progress bars -----------------------------------------------------------------------------------

def _on_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run the real command with stderr on a pseudo-terminal: (exit code, what the terminal showed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "procsearch", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave, env=env, cwd=ROOT)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the terminal closed: the process is done
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=120), b"".join(chunks).decode(errors="replace")


def test_progress_bars_for_a_small_build_and_update(tmp_path: Path) -> None:
    corpus = copy_pages(["62273", "62270", "47562"], tmp_path / "pages")
    target = str(tmp_path / "ix")
    env = _env(tmp_path / "home")
    code, screen = _on_terminal(["index", "build", str(corpus), "--index", target, "--workers", "1"], env)
    assert code == 0, screen
    assert re.search(r"indexing\s+\[#+\]\s+100%", screen), screen
    write_page(corpus, "99999", "Zorblaxectomy", sections={"Summary": "A zorblaxectomy."})
    code, screen = _on_terminal(["index", "update", "--index", target], env)
    assert code == 0, screen
    assert re.search(r"updating\s+\[#+\]\s+100%", screen), screen
    code, screen = _on_terminal(["index", "update", "--index", target, "--quiet"], env)
    assert code == 0 and "[#" not in screen and screen.strip() == ""
    piped = subprocess.run([sys.executable, "-m", "procsearch", "index", "build", str(corpus), "--index", target],
                           env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert piped.returncode == 0 and "[#" not in piped.stderr and "%" not in piped.stderr


def test_the_library_reports_progress_for_every_corpus_size(tmp_path: Path) -> None:
    corpus = copy_pages(["62273", "62270"], tmp_path / "pages")
    calls: list[tuple[int, int]] = []
    build_index([str(corpus)], str(tmp_path / "ix"), workers=4, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 2), (2, 2)]
    write_page(corpus, "99999", "Zorblaxectomy", sections={"Summary": "A zorblaxectomy."})
    calls.clear()
    update_index(None, str(tmp_path / "ix"), progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (1, 1)


# -- loading only what a command needs ---------------------------------------------------------------

HEAVY = ("whoosh", "lxml", "bs4")


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["search", "--help"], ["index", "list"],
                                  ["index", "list", "--format", "json"]])
def test_light_commands_do_not_load_whoosh_or_the_parser(tmp_path: Path, args: list[str]) -> None:
    script = ("import sys\nfrom procsearch.search.cli import main\n"
              f"sys.argv = ['procsearch', *{args!r}]\n"
              "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\nelse:\n    code = 0\n"
              f"print(code, sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}), file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", script], env=_env(tmp_path), capture_output=True, text=True,
                          timeout=60)
    assert proc.stderr.strip().splitlines()[-1] == "0 []", proc.stderr
    if args[-1] == "json":
        assert json.loads(proc.stdout) == []


def test_search_loads_whoosh_but_not_the_page_parser(bundled_index: str, tmp_path: Path) -> None:
    script = ("import sys\nfrom procsearch.search.cli import main\n"
              f"sys.argv = ['procsearch', 'search', 'EBP', '--index', {bundled_index!r}]\n"
              "try:\n    main()\nexcept SystemExit:\n    pass\n"
              f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}), file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", script], env=_env(tmp_path), capture_output=True, text=True,
                          timeout=60)
    assert proc.stderr.strip().splitlines()[-1] == "['whoosh']", proc.stderr
    assert " 1. 62273  [CPT]" in proc.stdout


# Loaded only by the searches and formats that use them (whoosh.searching brings the whole query
# language and its English morphology tables; payload the JSON shapes).
DEFERRED = ("whoosh.searching", "whoosh.query", "whoosh.highlight", "procsearch.search.payload")


@pytest.mark.parametrize(("query", "loaded"), [
    ("spinal headache after epidural", []),
    ('"blood patch" -knee', ["whoosh.query"]),  # the query's tree; its matching set comes from the engine
])
def test_a_ranked_search_loads_only_the_whoosh_modules_it_needs(bundled_index: str, tmp_path: Path, query: str,
                                                              loaded: list[str]) -> None:
    script = ("import sys\nfrom procsearch.search.cli import main\n"
              f"sys.argv = ['procsearch', 'search', {query!r}, '--index', {bundled_index!r}]\n"
              "try:\n    main()\nexcept SystemExit:\n    pass\n"
              f"print(sorted(set(sys.modules) & {set(DEFERRED)!r}), file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", script], env=_env(tmp_path), capture_output=True, text=True,
                          timeout=60)
    assert proc.stderr.strip().splitlines()[-1] == str(loaded), proc.stderr
    assert " 1. 62273  [CPT]" in proc.stdout
