"""``python -m benchmarks.startup``: how fast the command starts, on the bundled corpus alone.

Median wall time of N fresh processes for ``procsearch --version``, ``procsearch --help`` and a
cold ``procsearch search`` of the bundled corpus (its index built beforehand, untimed), next to
the bare interpreter (``python -c pass``) measured in the same run. Needs none of the shared data.
Children may write bytecode (as an installed package has it) and one untimed run of each command
comes first, so the figures are what a user sees from the second run on.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from .measure import procsearch_command
from .timing import child_env, median

QUERY = "spinal headache after epidural"
TARGETS_MS = {"version": 150.0, "help": 150.0, "search": 300.0}  # the goals the figures are held against
# What a search cannot start without, imported alone: the CLI framework and the Whoosh modules
# that open and read an index (both fixed by the design), then numpy (the ranking's arrays).
FLOOR_IMPORTS = "import click, whoosh.index, whoosh.reading, whoosh.codec.whoosh3, whoosh.query"


def _env(home: str, checkout: Path | None = None) -> dict[str, str]:
    env = child_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PROCSEARCH_INDEX", None)
    env["PROCSEARCH_HOME"] = home
    if checkout is not None:  # that checkout's procsearch comes first on the path
        env["PYTHONPATH"] = os.pathsep.join([str(checkout), env["PYTHONPATH"]])
    return env


def _time(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          cwd=tempfile.gettempdir())
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return seconds


def measure(runs: int, compare: Path | None = None) -> dict:
    """Median milliseconds of each command over ``runs`` processes (runs interleaved, so a slow
    spell of the machine touches every command alike). ``compare``: another checkout (say, of the
    main branch) measured the same way in the same run, its commands named ``before-...``."""
    exe = procsearch_command() if compare is None else [sys.executable, "-m", "procsearch"]
    commands: dict[str, list[str]] = {"python": [sys.executable, "-c", "pass"],
                                      "deps": [sys.executable, "-c", FLOOR_IMPORTS],
                                      "deps-numpy": [sys.executable, "-c", FLOOR_IMPORTS + ", numpy"]}
    for prefix in ([""] if compare is None else ["before-", ""]):
        commands |= {f"{prefix}version": [*exe, "--version"], f"{prefix}help": [*exe, "--help"],
                     f"{prefix}search": [*exe, "search", QUERY]}
    with tempfile.TemporaryDirectory(prefix="procsearch-startup-") as home, \
            tempfile.TemporaryDirectory(prefix="procsearch-startup-before-") as before_home:
        envs = {name: _env(before_home, compare) if name.startswith("before-") else _env(home) for name in commands}
        for env in {id(e): e for e in envs.values()}.values():  # each bundled index, untimed
            subprocess.run([*exe, "index", "build", "--quiet"], env=env, check=True, cwd=tempfile.gettempdir())
        for name, cmd in commands.items():  # bytecode written, files in the page cache
            _time(cmd, envs[name])
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, cmd in commands.items():
                times[name].append(_time(cmd, envs[name]))
    out = {"runs": runs, "query": QUERY, "compare": str(compare) if compare else None,
           "commands": {name: " ".join(cmd) for name, cmd in commands.items()}}
    out["median_ms"] = {name: median(t) * 1000.0 for name, t in times.items()}
    out["runs_ms"] = {name: [round(x * 1000.0, 1) for x in t] for name, t in times.items()}
    return out


def render(result: dict) -> str:
    """The figures as a Markdown table."""
    med = result["median_ms"]
    rows = [("`python -c pass` (the interpreter alone)", "python"),
            ("the interpreter importing click and Whoosh's index modules, nothing else", "deps"),
            ("the same and numpy", "deps-numpy"), ("`procsearch --version`", "version"),
            ("`procsearch --help`", "help"), (f"cold `procsearch search \"{result['query']}\"` (bundled corpus)",
                                                "search")]
    before = result.get("compare")
    lines = [f"Start-up, median of {result['runs']} processes each"
             + (f" (before: the checkout {before}, measured in the same run)" if before else ""), "",
             "| command |" + (" before ms |" if before else "") + " median ms | target ms | met |",
             "|---|" + ("---|" if before else "") + "---|---|---|"]
    for label, key in rows:
        target = TARGETS_MS.get(key)
        met = "" if target is None else ("yes" if med[key] <= target else "no")
        was = (f" {med['before-' + key]:.0f} |" if f"before-{key}" in med else " |") if before else ""
        lines.append(f"| {label} |{was} {med[key]:.0f} | {'' if target is None else f'{target:.0f}'} | {met} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=(
        "Median start-up time of procsearch --version, --help and a cold search of the bundled corpus."))
    p.add_argument("--runs", type=int, default=11, help="processes per command (default: %(default)s)")
    p.add_argument("--out", type=Path, help="also write startup.json and startup.md to this directory")
    p.add_argument("--compare", type=Path, metavar="CHECKOUT",
                   help="also measure another checkout of procsearch (e.g. a worktree of main) in the same run")
    args = p.parse_args(argv)
    result = measure(max(1, args.runs), args.compare)
    text = render(result)
    print(text, end="")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "startup.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        (args.out / "startup.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
