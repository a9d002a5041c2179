"""Smoke test of the benchmark harness: exact relevance metrics on a hand-made example, and, when
the shared benchmark data is on this machine, one tiny end-to-end run of ``benchmarks.run``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmarks.corpus_sample import (DATA_DIR, DEFAULT_CACHE, DEFAULT_QUERIES, DEFAULT_TARBALL, Query,
                                      select_sample, unpack_once)
from benchmarks.measure import WARMUP_QUERIES, speed_and_relevance
from benchmarks.relevance import (first_relevant_rank, is_relevant, recall_at, reciprocal_rank, score_query,
                                  success_at, summarize)
from benchmarks.timing import percentile
from benchmarks.updates import append_sentence
from search_fixtures import build, copy_pages

# Ranked codes returned for one query; relevant entries are an exact code and two prefixes.
RANKED = ["0DTJ4ZZ", "0W0F0ZZ", "0DB68ZX", "0WQF0ZZ", "0W0F3ZZ"]
RELEVANT = ["0DB68ZX", "0W0F", "0XYZ"]


def test_prefix_and_exact_matching() -> None:
    assert is_relevant("0W0F0ZZ", ["0W0F"])
    assert is_relevant("0DB68ZX", ["0DB68ZX"])
    assert not is_relevant("0W0G0ZZ", ["0W0F"])
    assert not is_relevant("0DB68Z", ["0DB68ZX"])  # a code shorter than the entry is not under it


def test_metrics_on_a_hand_made_ranking() -> None:
    assert first_relevant_rank(RANKED, RELEVANT) == 2
    assert success_at(RANKED, RELEVANT, 1) == 0.0
    assert success_at(RANKED, RELEVANT, 2) == 1.0
    assert reciprocal_rank(RANKED, RELEVANT) == 0.5
    # "0W0F" (matched twice, counted once) and "0DB68ZX" are found, "0XYZ" is not: 2 of 3.
    assert recall_at(RANKED, RELEVANT) == pytest.approx(2 / 3)
    assert recall_at(RANKED, RELEVANT, k=1) == 0.0
    assert reciprocal_rank(RANKED, ["0DB6"], k=2) == 0.0  # relevant only at rank 3
    assert score_query([], RELEVANT).mrr_at_10 == 0.0


def test_summary_averages_per_kind_and_overall() -> None:
    hit_first = score_query(["A1"], ["A1"])  # 1, 1, 1, 1
    miss = score_query(["B1"], ["A1"])  # 0, 0, 0, 0
    third = score_query(["B1", "B2", "A1"], ["A1", "C"])  # 0, 1, 1/3, 1/2
    summary = summarize([("gems", hit_first), ("gems", miss), ("pcsindex", third)])
    assert list(summary) == ["gems", "pcsindex", "all"]
    assert summary["gems"] == {"n": 2, "success_at_1": 0.5, "success_at_10": 0.5, "mrr_at_10": 0.5,
                               "recall_at_10": 0.5}
    assert summary["pcsindex"]["mrr_at_10"] == pytest.approx(1 / 3)
    assert summary["pcsindex"]["recall_at_10"] == 0.5
    assert summary["all"]["n"] == 3
    assert summary["all"]["success_at_10"] == pytest.approx(2 / 3)
    assert summary["all"]["mrr_at_10"] == pytest.approx((1 + 0 + 1 / 3) / 3)


def test_percentile_interpolates() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 95) == pytest.approx(4.8)
    assert math.isnan(percentile([], 50))


def test_sample_keeps_every_relevant_page_and_is_deterministic() -> None:
    pages = {f"0W0F{i}ZZ": f"/c/0W0F{i}ZZ.html" for i in range(5)}
    pages |= {f"0DT{i:02d}ZZ": f"/c/0DT{i:02d}ZZ.html" for i in range(40)}
    queries = [Query("a", "abdominoplasty", ("0W0F",), "pcsindex"),
               Query("b", "resection", ("0DT03ZZ", "0DT04ZZ"), "gems"),
               Query("c", "everything", ("0",), "gems")]  # 45 relevant pages: over the 50% budget
    first = select_sample(pages, queries, 20, None, seed=7)
    assert first == select_sample(pages, queries, 20, None, seed=7)
    assert [q.id for q in first.queries] == ["a", "b"]
    assert len(first.pages) == 20 and first.relevant_pages == 7
    assert {f"/c/0W0F{i}ZZ.html" for i in range(5)} | {"/c/0DT03ZZ.html", "/c/0DT04ZZ.html"} <= set(first.pages)
    assert select_sample(pages, queries, 20, 1, seed=7).queries[0].id in {"a", "b"}


def test_unpack_once_is_atomic_and_idempotent(tmp_path: Path) -> None:
    import tarfile

    src = tmp_path / "src"
    src.mkdir()
    (src / "0016070.html").write_text("<html><body><h1>x</h1></body></html>", encoding="utf-8")
    tarball = tmp_path / "pages.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(src / "0016070.html", arcname="./0016070.html")
    cache = tmp_path / "cache"
    assert unpack_once(tarball, cache) == cache
    assert (cache / "0016070.html").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no partial dir left
    tarball.unlink()
    assert unpack_once(tarball, cache) == cache  # already unpacked: the tarball is not read again


def test_page_edit_appends_to_the_summary() -> None:
    html = "<h2>Summary</h2>\n<p>First.</p>\n<h2>Purpose</h2>\n<p>Aim.</p>"
    assert append_sentence(html, "Added.") == "<h2>Summary</h2>\n<p>First. Added.</p>\n<h2>Purpose</h2>\n<p>Aim.</p>"
    assert append_sentence("<body><p>x</p></body>", "Added.") == "<body><p>x</p><p>Added.</p>\n</body>"


def _number(value: object, low: float, high: float) -> bool:
    return isinstance(value, (int, float)) and low <= value <= high


def test_tiny_benchmark_run(tmp_path: Path) -> None:
    if not DATA_DIR.is_dir():
        pytest.skip(f"benchmark data not on this machine ({DATA_DIR} does not exist)")
    if not DEFAULT_QUERIES.is_file() or not (DEFAULT_TARBALL.is_file() or DEFAULT_CACHE.is_dir()):
        pytest.skip(f"benchmark pages or queries missing under {DATA_DIR}")
    from benchmarks.run import main

    out = tmp_path / "results"
    argv = ["--sample", "60", "--max-queries", "5", "--workers", "1", "--repeats", "1", "--cli-runs", "2",
            "--out", str(out)]
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert (out / "results.md").read_text(encoding="utf-8").startswith("# procsearch benchmark")

    assert {"machine", "run", "build", "parse", "queries", "relevance", "cli", "updates", "ratios"} <= set(results)
    assert set(results["machine"]["packages"]) >= {"whoosh-reloaded", "lxml", "beautifulsoup4", "click"}
    assert results["run"]["pages"] == 60 and results["run"]["queries"] == 5
    systems = {"procsearch", "naive_whoosh", "sqlite_fts5"}
    assert set(results["build"]) == systems
    for build in results["build"].values():
        assert build["indexed"] == 60
        assert _number(build["seconds"], 0.0, 60.0) and build["pages_per_s"] > 0
        assert _number(build["peak_rss_bytes"], 10e6, 4e9)
        assert build["index_size_bytes"] > 0
    assert set(results["queries"]) == set(results["relevance"]) == systems | {"procsearch_no_expand"}
    for speed in results["queries"].values():
        assert speed["n"] == 5 and 0 <= speed["p50_ms"] <= speed["p95_ms"] < 10_000
    for by_kind in results["relevance"].values():
        assert by_kind["all"]["n"] == 5
        for metrics in by_kind.values():
            assert all(_number(metrics[m], 0.0, 1.0)
                       for m in ("success_at_1", "success_at_10", "mrr_at_10", "recall_at_10"))
            assert metrics["success_at_1"] <= metrics["success_at_10"]
    # The sampled queries' relevant pages are in the sample: returned codes must line up with them.
    assert results["relevance"]["procsearch"]["all"]["success_at_10"] > 0
    assert results["cli"]["cold"]["median_ms"] > 0 and results["cli"]["batch"]["queries_per_s"] > 0
    edit10 = results["updates"][0]
    assert edit10["action"] == "edit" and edit10["pages"] == 10 and edit10["detected"] == [10]
    listed = [u for u in results["updates"] if u.get("listed")]
    assert listed and listed[0]["pages"] == 10 and listed[0]["detected"] == [10]
    delete = results["updates"][-1]
    assert delete["action"] == "delete" and delete["detected"] == [10]
    assert set(results["ratios"]) == {"naive_whoosh", "sqlite_fts5"}


def test_timed_queries_run_once_after_warm_up_queries_of_their_own() -> None:
    queries = [Query("q1", "knee", ("0SRC0J9",), "lay"), Query("q2", WARMUP_QUERIES[0], ("0SRD0J9",), "lay")]
    seen: list[str] = []

    def search(text: str) -> list[str]:
        seen.append(text)
        return []

    latency, _ = speed_and_relevance(search, queries)
    warmup = [q for q in WARMUP_QUERIES if q != WARMUP_QUERIES[0]]  # a timed query is never a warm-up
    assert seen == warmup + ["knee", WARMUP_QUERIES[0]]
    assert latency["n"] == 2


def test_startup_benchmark_runs_without_shared_data(tmp_path: Path) -> None:
    """One run of each start-up measurement; the figures themselves are for the report, not asserted."""
    from benchmarks.startup import main as startup_main

    assert startup_main(["--runs", "1", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "startup.json").read_text(encoding="utf-8"))
    assert set(data["median_ms"]) == {"python", "deps", "deps-numpy", "version", "help", "search"}
    assert all(v > 0 for v in data["median_ms"].values())
    table = (tmp_path / "startup.md").read_text(encoding="utf-8")
    assert "| `procsearch --version` |" in table and "(bundled corpus)" in table and "numpy" in table


def test_new_codes_keep_the_format_and_never_collide() -> None:
    from benchmarks.scale import new_code

    used = {"0FT44ZZ", "0FT44ZY", "62273"}
    made = set()
    for code in ("0FT44ZZ", "0FT44ZZ", "62273"):
        new = new_code(code, used | made)
        assert new is not None and new not in used | made and len(new) == len(code)
        assert [c.isdigit() for c in new] == [c.isdigit() for c in code]
        made.add(new)
    assert new_code("7", {str(d) for d in range(10)}) is None


def test_scale_benchmark_on_the_bundled_pages(tmp_path: Path) -> None:
    """Two sizes, the larger one partly rendered under new codes: every page is indexed and timed."""
    from benchmarks.scale import main as scale_main

    queries = tmp_path / "queries.jsonl"
    queries.write_text('{"id": "a", "query": "epidural blood patch", "relevant": ["62273"], "kind": "lay"}\n'
                       '{"id": "b", "query": "carpal tunnel release", "relevant": ["64721"], "kind": "lay"}\n',
                       encoding="utf-8")
    pages = Path(__file__).resolve().parent.parent / "corpus" / "pages-a"
    shared = len(list(pages.glob("*.html")))
    out = tmp_path / "out"
    assert scale_main(["--corpus", str(pages), "--queries", str(queries), "--sizes", f"10,{shared + 12}",
                       "--workers", "1", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert [row["pages"] for row in results["sizes"]] == [10, shared + 12]
    for row in results["sizes"]:
        assert row["build"]["indexed"] == row["pages"] and row["index_size_bytes"] > 0
        assert row["build"]["tree_peak_rss_bytes"] > 10e6 and row["queries"]["n"] == 2
    assert "| 10 (10) |" in (out / "results.md").read_text(encoding="utf-8")


def test_load_benchmark_runs_on_the_bundled_index(tmp_path: Path) -> None:
    """A tiny load run against a real server: every request answered, each measured query distinct
    (so no answer comes from the server's cache), and the CPU of client and server accounted."""
    from benchmarks.load import main as load_main

    index_dir = build(copy_pages(["62273", "62270", "27447", "62323", "45378"], tmp_path / "corpus"),
                      tmp_path / "ix")
    texts = ["epidural blood patch", "knee replacement", "lumbar puncture", "colonoscopy", "spinal headache",
             "steroid injection", "total knee", "diagnostic colonoscopy"]
    queries = tmp_path / "queries.jsonl"
    queries.write_text("".join(json.dumps({"id": str(i), "query": t, "relevant": [], "kind": "smoke"}) + "\n"
                               for i, t in enumerate(texts)), encoding="utf-8")
    out = tmp_path / "out"
    load_main(["--index", index_dir, "--queries", str(queries), "--workers", "2", "--clients", "1", "3",
               "--requests", "6", "--warmup", "2", "--out", str(out)])
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["mix"]["distinct_queries"] == 6 and results["mix"]["repeated_requests"] == 0
    assert [(r["clients"], r["endpoint"]) for r in results["runs"]] == [
        (1, "search"), (1, "suggest"), (3, "search"), (3, "suggest")]
    for row in results["runs"]:
        assert row["errors"] == 0 and row["requests"] == 6, row
        assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]
        assert row["client_cpu_ms_per_request"] > 0
    assert any(row["server_cpu_ms_per_request"] > 0 for row in results["runs"])  # Linux /proc accounting
    table = (out / "results.md").read_text(encoding="utf-8")
    assert "| 2 | 3 | search | 6 | 0 |" in table and "6 distinct queries" in table
