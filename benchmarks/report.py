"""results.json -> results.md: the same numbers as markdown tables."""

from __future__ import annotations

from collections.abc import Sequence

SYSTEM_LABELS = {
    "procsearch": "procsearch",
    "procsearch_no_expand": "procsearch --no-expand",
    "naive_whoosh": "naive Whoosh",
    "sqlite_fts5": "SQLite FTS5",
}
METRICS = ("success_at_1", "success_at_10", "mrr_at_10", "recall_at_10")
RATIO_LABELS = {
    "build_seconds": "build time (baseline: parse + index)",
    "peak_rss": "peak RSS of the build",
    "index_size": "index size on disk",
    "p50_ms": "query p50",
    "p95_ms": "query p95",
    "mrr_at_10": "MRR@10 (all queries)",
    "success_at_10": "success@10 (all queries)",
}


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _mb(value: int | None) -> str:
    return "—" if value is None else f"{value / 1e6:,.1f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]


def _machine(r: dict) -> list[str]:
    m = r["machine"]
    rows = [["date (UTC)", m["date"]], ["cores (usable)", f"{m['cores']} ({m['usable_cores']})"],
            ["load average at start", ", ".join(str(x) for x in m["load_average_at_start"] or [])],
            ["Python", m["python"]], ["platform", m["platform"]]]
    rows += [[name, version] for name, version in m["packages"].items()]
    return ["## Machine", ""] + _table(["", ""], rows)


def _run(r: dict) -> list[str]:
    run = r["run"]
    kinds = ", ".join(f"{k} {n}" for k, n in run["queries_by_kind"].items())
    corpus = f"{run['pages']:,} pages"
    if run["sampled"]:
        corpus += (f" (sample of {run['corpus_pages']:,}, seed {run['seed']}; "
                   f"{run['relevant_pages']:,} relevant to the queries)")
    rows = [["corpus", corpus], ["queries", f"{run['queries']} ({kinds})"],
            ["workers", str(run["workers"])], ["total wall time", f"{run['wall_seconds']:.1f} s"]]
    return ["## Run", ""] + _table(["", ""], rows)


def _build(r: dict) -> list[str]:
    rows = []
    for key, b in r["build"].items():
        parse = b.get("parse_seconds")
        label = SYSTEM_LABELS[key] + (" (parse + index)" if parse is not None else "")
        detail = f"{_num(parse)} + {_num(b['index_seconds'])}" if parse is not None else "—"
        rows.append([label, _num(b["seconds"]), detail, f"{b['pages_per_s']:,.0f}", _mb(b["peak_rss_bytes"]),
                     _mb(b["index_size_bytes"]), f"{b['indexed']:,}", str(b["runs"])])
    header = ["system", "build s", "parts s", "pages/s", "peak RSS MB", "index MB", "documents", "runs"]
    return ["## Full build (from scratch)", ""] + _table(header, rows)


def _updates(r: dict) -> list[str]:
    """Each workload's time, and its share of the full build of the same run (the cost of a change
    should grow with the change, not with the corpus)."""
    build = r.get("build", {}).get("procsearch", {}).get("seconds")
    rows = []
    for u in r["updates"]:
        what = f"{'change' if u['action'] == 'edit' else 'delete'} {u['pages']:,} pages"
        what += " (paths given)" if u.get("listed") else ""
        if u.get("skipped"):
            rows.append([what, "—", "—", "—", f"skipped: {u['skipped']}"])
        else:
            runs = ", ".join(f"{s:.2f}" for s in u["runs_seconds"])
            share = f"{100 * u['seconds'] / build:.2f}%" if build else "—"
            rows.append([what, _num(u["seconds"]), share, str(u["runs"]), runs])
    return ["## Incremental update (procsearch)", ""] + _table(
        ["workload", "median s", "of full build", "runs", "each run s"], rows)


def _speed(r: dict) -> list[str]:
    rows = [[SYSTEM_LABELS[k], str(q["n"]), _num(q["p50_ms"]), _num(q["p95_ms"]), _num(q["mean_ms"])]
            for k, q in r["queries"].items()]
    lines = ["## Query speed", "", "In process, index opened once, a few untimed warm-up queries, then one timed pass:", ""]
    lines += _table(["system", "queries", "p50 ms", "p95 ms", "mean ms"], rows)
    cli = r.get("cli")
    if cli:
        cold, batch = cli["cold"], cli["batch"]
        rows = [[f"cold `procsearch search` (median of {cold['runs']} processes)", f"{cold['median_ms']:,.0f} ms"],
                [f"`procsearch search --batch` ({batch['queries']} queries, median of {batch['runs']})",
                 f"{batch['queries_per_s']:,.1f} queries/s"]]
        lines += ["Command line:", ""] + _table(["measure", "value"], rows)
    return lines


def _relevance(r: dict) -> list[str]:
    rows = []
    for key, by_kind in r["relevance"].items():
        for kind, m in by_kind.items():
            rows.append([SYSTEM_LABELS[key], kind, str(m["n"])] + [f"{m[x]:.3f}" for x in METRICS])
    header = ["system", "kind", "queries", "success@1", "success@10", "MRR@10", "recall@10"]
    return ["## Relevance", ""] + _table(header, rows)


def _questions(r: dict) -> list[str]:
    table = r.get("questions") or {}
    if not table:
        return []
    rows = [[kind, str(m["n"]), f"{m['success@3']:.3f}"] for kind, m in table.items()]
    note = "The project's own questions over the bundled corpus (benchmarks/questions.py)."
    return ["## Question set", "", note, ""] + _table(["kind", "questions", "success@3"], rows)


def _ratios(r: dict) -> list[str]:
    ratios = r.get("ratios") or {}
    if not ratios:
        return []
    baselines = list(ratios)
    rows = [[label] + [_ratio(ratios[b].get(key)) for b in baselines] for key, label in RATIO_LABELS.items()]
    header = ["procsearch ÷ baseline"] + [SYSTEM_LABELS[b] for b in baselines]
    note = ("Below 1 means procsearch is faster or smaller for time, memory and size, "
            "and above 1 means it ranks better for the relevance rows.")
    return ["## Ratios", "", note, ""] + _table(header, rows)


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def render(results: dict) -> str:
    """The markdown report of one run."""
    lines = ["# procsearch benchmark", ""]
    for section in (_machine, _run, _build, _updates, _speed, _relevance, _questions, _ratios):
        lines += section(results)
    return "\n".join(lines).rstrip() + "\n"
