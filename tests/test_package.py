"""One import package: a regular (non-editable) install adds only `procsearch`, nothing a user's own
files can shadow, and every public class says what it is for."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import procsearch

ROOT = Path(__file__).resolve().parent.parent
SUBPACKAGES = ("procsearch", "procsearch.ingest", "procsearch.index", "procsearch.search", "procsearch.corpus")
# What a distribution is built from: the package folder, the stage folders it maps in, and metadata.
SOURCES = ("pyproject.toml", "README.md", "procsearch", "ingest", "index", "search", "corpus")
SHADOWS = ("index.py", "search.py", "ingest.py", "corpus.py")


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A new venv with procsearch installed from a wheel of this checkout (no network, no editable)."""
    base = tmp_path_factory.mktemp("install")
    src = base / "src"
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(source, src / name)
    # Build with this environment's setuptools: the build needs nothing else.
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", str(base / "dist"), str(src)])
    wheel = next((base / "dist").glob("procsearch-*.whl"))
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    before = set(os.listdir(site))
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)])
    added = set(os.listdir(site)) - before
    # The dependencies (whoosh, lxml, ...) come from this environment, after the venv's own packages.
    (site / "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return {"venv": venv, "python": python, "site": site, "added": added, "base": base}  # type: ignore[dict-item]


def test_install_adds_exactly_one_top_level_name(fresh_venv: dict) -> None:
    added = fresh_venv["added"] - {"__pycache__"}
    version = procsearch.__version__
    assert added == {"procsearch", f"procsearch-{version}.dist-info"}
    dist = fresh_venv["site"] / f"procsearch-{version}.dist-info"
    records = [line.split(",")[0] for line in (dist / "RECORD").read_text(encoding="utf-8").splitlines() if line]
    tops = {r.split("/")[0] for r in records}
    assert tops <= {"procsearch", f"procsearch-{version}.dist-info", ".."}, tops  # "..": the bin/procsearch script
    assert all(r.startswith("../../../bin/") for r in records if r.startswith(".."))
    assert (dist / "top_level.txt").read_text(encoding="utf-8").split() == ["procsearch"]
    installed = fresh_venv["site"] / "procsearch"
    assert (installed / "py.typed").is_file()
    assert sorted(p.name for p in installed.iterdir() if p.is_dir() and p.name != "__pycache__") == \
        ["corpus", "index", "ingest", "search"]
    assert not list(installed.rglob("test_*.py")) and not (installed / "benchmarks").exists()
    assert (installed / "corpus" / "pages-a").is_dir() and (installed / "index" / "boosts.toml").is_file()
    assert (installed / "search" / "thesaurus").is_dir()


def test_installed_package_works_beside_files_named_like_its_parts(fresh_venv: dict, tmp_path: Path) -> None:
    work = tmp_path / "project"
    work.mkdir()
    for name in SHADOWS:
        (work / name).write_text(f"raise ImportError('the user file {name} was imported')\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PROCSEARCH_INDEX")}
    env["PROCSEARCH_HOME"] = str(tmp_path / "home")
    script = ("import procsearch, sys\n"
              "from procsearch import Searcher, ProcsearchError, build_index, update_index, parse_page\n"
              "print(procsearch.__file__)\n"
              "with Searcher.open() as s:\n"
              "    hit = s.search('epidural blood patch').hits[0]\n"
              "    print(hit.code, s.get(hit.code).source)\n"
              "for name in ('benchmarks', 'tests', 'index', 'search'):\n"
              "    try:\n"
              "        __import__(name)\n"
              "    except ImportError as exc:\n"
              "        print(name, 'not installed' if 'user file' not in str(exc) else 'user file')\n")
    proc = _run([str(fresh_venv["python"]), "-c", script], cwd=work, env=env)
    lines = proc.stdout.splitlines()
    site = str(fresh_venv["site"])
    assert lines[0] == os.path.join(site, "procsearch", "__init__.py")
    code, source = lines[1].split(" ", 1)
    assert code == "62273" and source.startswith(os.path.join(site, "procsearch", "corpus"))
    # benchmarks and tests are not installed; index/search resolve to the user's own files, not ours
    assert lines[2:] == ["benchmarks not installed", "tests not installed", "index user file", "search user file"]
    for cmd in ([str(fresh_venv["python"]), "-m", "procsearch", "--version"],
                [str(fresh_venv["venv"] / "bin" / "procsearch"), "--version"]):
        assert _run(cmd, cwd=work, env=env).stdout.strip() == f"procsearch, version {procsearch.__version__}"


def test_package_exports_and_version() -> None:
    from procsearch import (ProcsearchError, Searcher, build_index, index_stats, ingest_corpus,  # noqa: F401
                            parse_page, update_index)

    assert procsearch.__version__.count(".") == 2
    assert set(procsearch.__all__) >= {"Searcher", "build_index", "update_index", "parse_page", "ProcsearchError"}
    assert Searcher.__module__ == "procsearch.search.searcher"
    with pytest.raises(AttributeError):
        procsearch.no_such_name  # noqa: B018


def _public_classes():
    seen = set()
    for package in SUBPACKAGES:
        module = importlib.import_module(package)
        paths = [module.__path__[0]]  # the package's own folder (a checkout also appends the repo root)
        names = [package] + [f"{package}.{m.name}" for m in pkgutil.iter_modules(paths)
                             if package != "procsearch"]  # procsearch's own modules: __init__ and __main__
        for name in names:
            if name in seen:
                continue
            seen.add(name)
            mod = importlib.import_module(name)
            for cls_name, cls in vars(mod).items():
                if inspect.isclass(cls) and cls.__module__ == name and not cls_name.startswith("_"):
                    yield f"{name}.{cls_name}", cls


PUBLIC_CLASSES = list(_public_classes())


def test_public_classes_are_found() -> None:
    names = {n for n, _ in PUBLIC_CLASSES}
    assert {"procsearch.search.searcher.Searcher", "procsearch.search.searcher.Hit",
            "procsearch.index.catalog.IndexEntry", "procsearch.ingest.record.ProcedureRecord"} <= names
    assert len(names) > 30


@pytest.mark.parametrize("name, cls", PUBLIC_CLASSES, ids=[n for n, _ in PUBLIC_CLASSES])
def test_every_public_class_has_a_docstring(name: str, cls: type) -> None:
    doc = cls.__dict__.get("__doc__") or ""
    assert doc.strip(), f"{name} has no docstring"
    assert not doc.startswith(cls.__name__ + "("), f"{name} has only the dataclass signature as its docstring"
