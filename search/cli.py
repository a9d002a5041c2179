"""The `procsearch` command: a thin layer that parses options, makes one library call and prints.

Every library error is a ProcsearchError and becomes one line on stderr with a non-zero exit.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict

import click

from procsearch.index import default_index_dir
from procsearch.ingest import ProcsearchError

from .payload import hit_payload, record_payload, results_payload
from .searcher import Results, Searcher, ensure_bundled_index

FORMATS = ("text", "json", "jsonl", "csv")


def _color() -> bool | None:
    return False if os.environ.get("NO_COLOR") else None


def _progress(quiet: bool, label: str) -> tuple[Callable[[int, int], None] | None, Callable[[], None]]:
    """A progress callback drawing a bar on a terminal; nothing when piped or quiet."""
    if quiet or not sys.stderr.isatty():
        return None, lambda: None
    state: dict[str, object] = {}

    def update(done: int, total: int) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.__enter__()
            state["bar"] = bar
            state["done"] = 0
        bar.update(done - state["done"])  # type: ignore[operator]
        state["done"] = done

    def finish() -> None:
        bar = state.get("bar")
        if bar is not None:
            bar.__exit__(None, None, None)

    return update, finish


def _resolve_index(index: str | None) -> str:
    """--index, then PROCSEARCH_INDEX, then the bundled corpus's index (built on first use)."""
    if index:
        return index
    if os.environ.get("PROCSEARCH_INDEX"):
        return os.environ["PROCSEARCH_INDEX"]
    return ensure_bundled_index()


index_option = click.option("--index", "index_dir", metavar="DIR", envvar="PROCSEARCH_INDEX",
                            help="Index directory (default: the bundled corpus's index; env PROCSEARCH_INDEX).")
quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bar or report lines, only errors.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="procsearch")
def cli() -> None:
    """Search medical procedure pages by code, lay words or clinical words."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)


@cli.command()
@click.argument("corpus", nargs=-1, required=True, type=click.Path())
@click.option("--out", type=click.Path(dir_okay=False), help="Write records as JSON Lines to this file ('-' for stdout).")
@click.option("--strict", is_flag=True, help="Exit 1 when any page was skipped, duplicated or warned about.")
@quiet_option
def ingest(corpus: tuple[str, ...], out: str | None, strict: bool, quiet: bool) -> None:
    """Parse CORPUS (directories or files) into records and report every problem."""
    from procsearch.ingest import ingest_corpus

    progress, finish = _progress(quiet, "parsing")
    records, report = ingest_corpus(list(corpus), progress=progress)
    finish()
    if out:
        stream = sys.stdout if out == "-" else open(out, "w", encoding="utf-8")
        with stream if out != "-" else io.nullcontext(stream):
            for record in records:
                stream.write(record.to_json() + "\n")
    if not quiet:
        for line in report.lines():
            click.echo(line, err=True)
    if strict and report.problems:
        sys.exit(1)


@cli.group("index")
def index_group() -> None:
    """Build, update and inspect indexes."""


def _write_command(action: str, corpus: tuple[str, ...], index_dir: str | None, quiet: bool, workers: int | None) -> None:
    from procsearch.corpus import corpus_dir
    from procsearch.index import build_index, update_index

    paths = list(corpus) or ([str(corpus_dir())] if action == "build" else [])
    target = index_dir or default_index_dir(list(corpus) or None)
    progress, finish = _progress(quiet, "indexing" if action == "build" else "updating")
    try:
        if action == "build":
            report = build_index(paths, target, workers=workers, progress=progress)
        else:
            report = update_index(paths or None, target, workers=workers, progress=progress)
    finally:
        finish()
    lines = report.lines()
    for line in (lines if not quiet else []):
        click.echo(line, err=True)


@index_group.command("build")
@click.argument("corpus", nargs=-1, type=click.Path())
@index_option
@quiet_option
@click.option("--workers", type=click.IntRange(1, 64), help="Parsing/indexing processes (default: CPU count).")
def index_build(corpus: tuple[str, ...], index_dir: str | None, quiet: bool, workers: int | None) -> None:
    """Build the index of CORPUS (default: the bundled corpus) and switch to it atomically."""
    _write_command("build", corpus, index_dir, quiet, workers)


@index_group.command("update")
@click.argument("corpus", nargs=-1, type=click.Path())
@index_option
@quiet_option
@click.option("--workers", type=click.IntRange(1, 64), help="Parsing processes (default: CPU count).")
def index_update(corpus: tuple[str, ...], index_dir: str | None, quiet: bool, workers: int | None) -> None:
    """Re-index only the pages of CORPUS that were added, changed or removed since the last build."""
    _write_command("update", corpus, index_dir, quiet, workers)


@index_group.command("stats")
@index_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def index_stats_command(index_dir: str | None, fmt: str) -> None:
    """Documents per code system, corpus, build and update times, schema version, size on disk."""
    from procsearch.index import index_stats

    target = index_dir or default_index_dir()
    stats = index_stats(target)
    if fmt == "json":
        click.echo(json.dumps(asdict(stats), indent=1))
        return
    when = lambda t: time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))  # noqa: E731
    click.echo(f"index:          {stats.index_dir}")
    click.echo(f"corpus:         {', '.join(stats.corpus)}")
    click.echo(f"documents:      {stats.documents}")
    for system, n in stats.systems.items():
        click.echo(f"  {system:<13} {n}")
    click.echo(f"skipped pages:  {stats.skipped}  duplicates: {stats.duplicates}")
    click.echo(f"built:          {when(stats.built_at)}")
    click.echo(f"updated:        {when(stats.updated_at)}")
    click.echo(f"schema version: {stats.schema_version}")
    click.echo(f"size on disk:   {stats.size_bytes / 1e6:.1f} MB")


def _print_text(results: Results, explain: bool) -> None:
    color = _color()
    bold = lambda s: click.style(s, bold=True, fg="yellow")  # noqa: E731
    for note in results.notes:
        click.echo(f"note: {note}", err=True)
    if results.corrected_query:
        click.echo(f"showing results for {results.corrected_query}", color=color)
    if explain and results.expansions:
        click.echo("expansions: " + "; ".join(f"{e.source} -> {e.target} ({e.kind}, {e.weight:.2f})"
                                              for e in results.expansions), color=color)
    if not results.hits:
        click.echo("No results")
        if results.suggestions:
            click.echo("Did you mean: " + " / ".join(results.suggestions[:3]))
        return
    for rank, hit in enumerate(results.hits, results.offset + 1):
        click.echo(click.style(f"{rank:>2}. {hit.code}", bold=True) + f"  [{hit.code_system}]  {hit.title}", color=color)
        if hit.name and hit.name != hit.title:
            click.echo(f"    {hit.name}", color=color)
        for snippet in hit.snippets:
            click.echo(f"    {snippet.section}: {snippet.render(bold)}", color=color)
        if explain:
            click.echo(f"    score {hit.score}: " + ", ".join(f"{k} {v}" for k, v in hit.explanation), color=color)


def _emit(results: Results, fmt: str, explain: bool) -> None:
    if fmt == "text":
        _print_text(results, explain)
    elif fmt == "json":
        click.echo(json.dumps(results_payload(results), ensure_ascii=False, indent=1))
    elif fmt == "jsonl":
        for hit in results.hits:
            click.echo(json.dumps(hit_payload(hit, True), ensure_ascii=False))
    else:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["rank", "code", "code_system", "title", "score", "snippet"])
        for rank, hit in enumerate(results.hits, results.offset + 1):
            d = hit_payload(hit, False)
            writer.writerow([rank, hit.code, hit.code_system, hit.title, hit.score, d["snippet"]])
        click.echo(buf.getvalue(), nl=False)


@cli.command()
@click.argument("query", required=False)
@click.option("--limit", "-n", type=click.IntRange(0, 1000), default=10, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0, help="Skip this many hits (paging).")
@click.option("--system", "code_system", metavar="SYSTEM", help="Only this code system: CPT, HCPCS, ICD-10-PCS, ICD-10-CM.")
@click.option("--section", "sections", multiple=True, metavar="SECTION", help="Search only this section (repeatable): risks, recovery, ...")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@index_option
@click.option("--explain", is_flag=True, help="Show per-field score contributions, expansions and corrections.")
@click.option("--no-expand", is_flag=True, help="Search only the words typed: no thesaurus expansion.")
@click.option("--thesaurus", "thesaurus_files", multiple=True, type=click.Path(dir_okay=False),
              help="An extra thesaurus file (repeatable; also env PROCSEARCH_THESAURUS).")
@click.option("--batch", type=click.File("r", encoding="utf-8"), help="Run one query per line of FILE ('-' for stdin).")
def search(query: str | None, limit: int, offset: int, code_system: str | None, sections: tuple[str, ...],
           fmt: str, index_dir: str | None, explain: bool, no_expand: bool, thesaurus_files: tuple[str, ...],
           batch) -> None:
    """Search for QUERY: words, "phrases", codes (62273, 0FT4*, 62270-62273), scopes (risks:infection)."""
    from procsearch.ingest.codes import parse_system

    from .parse import FIELD_SCOPES

    if query is None and batch is None:
        raise click.UsageError("give a QUERY or --batch FILE")
    system = None
    if code_system:
        system = parse_system(code_system)
        if system is None:
            raise click.BadParameter(f"unknown code system {code_system!r}; use CPT, HCPCS, ICD-10-PCS or ICD-10-CM",
                                     param_hint="--system")
    fields = []
    for name in sections:
        key = FIELD_SCOPES.get(name.lower().replace(" ", "_"))
        if key is None:
            raise click.BadParameter(f"unknown section {name!r}; use one of {', '.join(sorted(set(FIELD_SCOPES.values())))}",
                                     param_hint="--section")
        fields.append(key)
    with Searcher.open(_resolve_index(index_dir), list(thesaurus_files) or None, expand=not no_expand) as searcher:
        if batch is not None:
            for line in batch:
                text = line.strip()
                if not text:
                    continue
                results = searcher.search(text, limit=limit, code_system=system, sections=fields)
                click.echo(json.dumps({"query": text, "hits": [
                    {k: v for k, v in hit_payload(h, False).items() if k in ("code", "title", "score", "snippet")}
                    for h in results.hits]}, ensure_ascii=False))
            return
        results = searcher.search(query, limit=limit, offset=offset, code_system=system, sections=fields,
                                  explain=explain)
        _emit(results, fmt, explain)


@cli.command()
@click.argument("code")
@index_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def show(code: str, index_dir: str | None, fmt: str) -> None:
    """Print the whole record of CODE."""
    with Searcher.open(_resolve_index(index_dir)) as searcher:
        record = searcher.get(code)
    if record is None:
        raise ProcsearchError(f"no page for code {code!r} in the index; try: procsearch search {code}")
    if fmt == "json":
        click.echo(json.dumps(record_payload(record), ensure_ascii=False, indent=1))
        return
    click.echo(click.style(f"{record.code}  [{record.code_system}]", bold=True) + f"  {record.title}", color=_color())
    if record.name:
        click.echo(f"Name: {record.name}")
    if record.technical_term:
        click.echo(f"Technical term: {record.technical_term}")
    for label, text in record.sections:
        click.echo(f"\n{click.style(label, bold=True)}", color=_color())
        click.echo(text)
    if record.similar_codes:
        click.echo(f"\n{click.style('Similar Codes', bold=True)}", color=_color())
        for other, label in record.similar_codes:
            click.echo(f"{other}  {label}")
    click.echo(f"\nsource: {record.source}")


@cli.command()
@click.argument("code")
@index_option
@click.option("--limit", "-n", type=click.IntRange(1, 100), default=10, show_default=True)
def similar(code: str, index_dir: str | None, limit: int) -> None:
    """Codes related to CODE: its page's Similar Codes, then pages with similar wording."""
    with Searcher.open(_resolve_index(index_dir)) as searcher:
        if searcher.get(code) is None:
            raise ProcsearchError(f"no page for code {code!r} in the index; try: procsearch search {code}")
        rows = searcher.similar(code, limit)
    for other, title, why in rows:
        click.echo(f"{other:<8} {title}  ({why})")


@cli.command()
@index_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes, all serving the same index.")
def serve(index_dir: str | None, host: str, port: int, workers: int) -> None:
    """Serve the search page and the JSON API (/api/v1/...) over HTTP until interrupted."""
    from procsearch.index import open_live

    from .web.server import check_address, serve as run_server, url_of

    target = _resolve_index(index_dir)
    open_live(target)  # a missing or unusable index fails here, in one line, before any worker starts
    check_address(host, port)
    click.echo(f"Serving {target} at {url_of(host, port)} ({workers} worker{'s' if workers > 1 else ''}; "
               f"Ctrl-C stops)")
    run_server(target, host, port, workers)


def main() -> None:
    """Entry point: library errors become one line and exit 1, never a traceback."""
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ProcsearchError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except OSError as exc:
        click.echo(f"Error: {exc.filename or ''}: {exc.strerror or exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
