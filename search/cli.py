"""The `procsearch` command: a thin layer that parses options, makes one library call and prints.

Every library error is a ProcsearchError and becomes one line on stderr with a non-zero exit.
Each command imports the library parts it needs when it runs, so ``procsearch --version``,
``--help`` and shell completion start without loading Whoosh or the page parser.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from procsearch import __version__
from procsearch.ingest.errors import ProcsearchError

if TYPE_CHECKING:
    from .arguments import SearchArgs
    from .searcher import Results, Searcher

from . import terminal as safe
from .web import REQUEST_TIMEOUT

FORMATS = ("text", "json", "jsonl", "csv")
COLOR_MODES = ("auto", "always", "never")
# Library argument names -> the options that carry them, for usage errors.
OPTION_OF = {"query": "QUERY", "limit": "--limit", "offset": "--offset", "code_system": "--system",
             "sections": "--section"}


def _color() -> bool | None:
    """--color: always / never, or auto: colour on a terminal unless NO_COLOR is set (None = click decides)."""
    ctx = click.get_current_context(silent=True)
    mode = (ctx.find_root().params.get("color") if ctx else None) or "auto"
    if mode == "always":
        return True
    if mode == "never" or os.environ.get("NO_COLOR"):
        return False
    return None


def _echo(text: str = "", **kw: Any) -> None:
    click.echo(text, color=_color(), **kw)


def _progress(quiet: bool, label: str) -> tuple[Callable[[int, int], None] | None, Callable[[], None]]:
    """A progress callback drawing a bar on a terminal, whatever the number of pages; nothing when piped or quiet."""
    if quiet or not sys.stderr.isatty():
        return None, lambda: None
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr, color=_color(),
                                   update_min_steps=max(1, total // 200))
            bar.__enter__()
            state["bar"] = bar
            state["done"] = 0
        bar.update(done - state["done"])
        state["done"] = done

    def finish() -> None:
        bar = state.get("bar")
        if bar is not None:
            bar.__exit__(None, None, None)

    return update, finish


def _resolve_index(index: str | None) -> str:
    """--index DIR or NAME, then PROCSEARCH_INDEX, then the bundled corpus's index (built on first use)."""
    from .searcher import locate_index

    return locate_index(index)


def _complete_index(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Shell completion of --index: the names `procsearch index list` shows, and directories."""
    from click.shell_completion import CompletionItem

    from procsearch.index.location import indexes_home, is_index

    try:
        home = indexes_home()
        names = sorted(p.name for p in home.iterdir() if is_index(str(p))) if home.is_dir() else []
    except OSError:  # an unreadable data dir: complete directories only
        names = []
    return [CompletionItem(n) for n in names if n.startswith(incomplete)] + [CompletionItem(incomplete, type="dir")]


def _complete_system(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from procsearch.ingest.codes import CODE_SYSTEMS

    return [s for s in CODE_SYSTEMS if s.lower().startswith(incomplete.lower())]


def _complete_section(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from .parse import SCOPE_FIELDS

    return [s for s in SCOPE_FIELDS if s.startswith(incomplete.lower())]


index_option = click.option("--index", "index_dir", metavar="DIR|NAME", envvar="PROCSEARCH_INDEX",
                            shell_complete=_complete_index,
                            help="Index directory, or a name from `procsearch index list` (default: the bundled "
                                 "corpus's index; env PROCSEARCH_INDEX).")
quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bar or report lines, only errors.")


class QueryCommand(click.Command):
    """A command whose query words may start with '-' (an exclusion such as -screening).

    A word starting with a single '-' that is none of the command's options is query text, as is
    every word after '--'. Unknown '--long' words stay options, so a mistyped option is still
    reported instead of being searched for.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes_value: dict[str, bool] = {}
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                for opt in [*param.opts, *param.secondary_opts]:
                    takes_value[opt] = not param.is_flag and not param.count
        options: list[str] = []
        words: list[str] = []
        expect_value = False
        for i, arg in enumerate(args):
            if expect_value:
                options.append(arg)
                expect_value = False
            elif arg == "--":
                words.extend(args[i + 1:])
                break
            elif arg.startswith("--"):
                options.append(arg)
                expect_value = takes_value.get(arg, False)
            elif arg in takes_value:  # a short option: -n 5, -h
                options.append(arg)
                expect_value = takes_value[arg]
            elif takes_value.get(arg[:2]) and arg[2:].isdigit():  # -n5
                options.append(arg)
            else:  # a query word, with or without a leading '-'
                words.append(arg)
        return super().parse_args(ctx, [*options, "--", *words] if words else options)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="procsearch")
@click.option("--color", type=click.Choice(COLOR_MODES), default="auto", show_default=True,
              help="Colour output: auto is on a terminal unless NO_COLOR is set.")
def cli(color: str) -> None:
    """Search medical procedure pages by code, lay words or clinical words.

    Shell completion: eval "$(_PROCSEARCH_COMPLETE=bash_source procsearch)" in ~/.bashrc
    (zsh_source for zsh, fish_source for fish).
    """
    import logging

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)


@cli.command()
@click.argument("corpus", nargs=-1, required=True, type=click.Path())
@click.option("--out", type=click.Path(dir_okay=False), help="Write records as JSON Lines to this file ('-' for stdout).")
@click.option("--force", is_flag=True, help="Replace the --out file if it exists (it is never replaced otherwise).")
@click.option("--strict", is_flag=True, help="Exit 1 when any page was skipped, duplicated or warned about.")
@quiet_option
def ingest(corpus: tuple[str, ...], out: str | None, force: bool, strict: bool, quiet: bool) -> None:
    """Parse CORPUS (directories or files) into records and report every problem."""
    from procsearch.ingest import ingest_corpus

    if out and out != "-" and os.path.lexists(out) and not force:  # checked before the parsing work
        raise ProcsearchError(f"{safe.line(out)} exists; procsearch does not replace a file it was not told to "
                              f"(choose another name or add --force)")
    progress, finish = _progress(quiet, "parsing")
    try:
        records, report = ingest_corpus(list(corpus), progress=progress)
    finally:
        finish()
    if out == "-":
        for record in records:
            click.echo(record.to_json())
    elif out:
        with open(out, "w" if force else "x", encoding="utf-8") as stream:
            for record in records:
                stream.write(record.to_json() + "\n")
    if not quiet:
        for line in report.lines():
            click.echo(safe.line(line), err=True)
    if strict and report.problems:
        sys.exit(1)


@cli.group("index")
def index_group() -> None:
    """Build, update, list and inspect indexes."""


def _write_command(action: str, corpus: tuple[str, ...], index_dir: str | None, quiet: bool, workers: int | None,
                   name: str | None = None, changed: list[str] | None = None) -> None:
    """Build or update; with no CORPUS, the index's own corpus (the bundled one for a new index)."""
    from procsearch.corpus import corpus_dir
    from procsearch.index import build_index, update_index
    from procsearch.index.catalog import named_index_dir, own_corpus, prune_leftovers
    from procsearch.index.location import default_index_dir, resolve_index

    if name is not None and index_dir:
        raise click.UsageError("give --name NAME or --index DIR|NAME, not both")
    if name is not None:
        target = named_index_dir(name)
    else:
        target = resolve_index(index_dir) if index_dir else default_index_dir(list(corpus) or None)
    paths = list(corpus) or own_corpus(target)
    progress, finish = _progress(quiet, "indexing" if action == "build" else "updating")
    try:
        if action == "build":
            report = build_index(paths or [str(corpus_dir())], target, workers=workers, progress=progress)
        else:
            report = update_index(paths, target, workers=workers, progress=progress, changed=changed)
    finally:
        finish()
    prune_leftovers()
    for line in (report.lines() if not quiet else []):
        click.echo(safe.line(line), err=True)


@index_group.command("build")
@click.argument("corpus", nargs=-1, type=click.Path())
@index_option
@quiet_option
@click.option("--workers", type=click.IntRange(1, 64), help="Parsing/indexing processes (default: CPU count).")
@click.option("--name", metavar="NAME", help="Keep the index under this name in the data directory "
                                             "(then --index NAME finds it).")
def index_build(corpus: tuple[str, ...], index_dir: str | None, quiet: bool, workers: int | None,
                name: str | None) -> None:
    """Build the index of CORPUS and switch to it atomically (no CORPUS: the index's own corpus;
    for a new index or none named, the bundled corpus)."""
    _write_command("build", corpus, index_dir, quiet, workers, name)


@index_group.command("update")
@click.argument("corpus", nargs=-1, type=click.Path())
@index_option
@quiet_option
@click.option("--workers", type=click.IntRange(1, 64), help="Parsing processes (default: CPU count).")
@click.option("--paths", "listed", is_flag=True,
              help="The arguments are the files (or folders) that changed, were added or were deleted, so "
                   "the corpus is not walked; '-' reads more paths from stdin, one a line.")
def index_update(corpus: tuple[str, ...], index_dir: str | None, quiet: bool, workers: int | None,
                 listed: bool) -> None:
    """Re-index only the pages of CORPUS (default: the index's own corpus) added, changed or removed since the
    last build; with --paths, only the paths given (a path that no longer exists is a deletion)."""
    if not listed:
        _write_command("update", corpus, index_dir, quiet, workers)
        return
    changed = _listed_paths(corpus)
    if not changed:
        raise click.UsageError("--paths needs at least one path (or '-' and paths on stdin)")
    _write_command("update", (), index_dir, quiet, workers, changed=changed)


def _listed_paths(arguments: tuple[str, ...]) -> list[str]:
    """The paths of ``index update --paths``: the arguments, with '-' replaced by stdin's lines."""
    out: list[str] = []
    for arg in arguments:
        if arg == "-":
            out.extend(line.rstrip("\r\n") for line in sys.stdin if line.strip())
        else:
            out.append(arg)
    return out


def _when(t: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else "-"


@index_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def index_list(fmt: str) -> None:
    """The indexes under the data directory: name (for --index NAME), corpus, documents, size, last update."""
    import json

    from procsearch.index.catalog import list_indexes
    from procsearch.index.location import indexes_home

    from .payload import index_entry_payload

    entries = list_indexes()
    if fmt == "json":
        click.echo(json.dumps([index_entry_payload(e) for e in entries], ensure_ascii=False, indent=1))
        return
    if not entries:
        click.echo(f"No indexes in {indexes_home()}; build one: procsearch index build [CORPUS...]")
        return
    width = max(4, *(len(e.name) for e in entries))
    _echo(click.style(f"{'NAME':<{width}}  {'DOCUMENTS':>9}  {'SIZE':>9}  {'UPDATED':<19}  CORPUS", bold=True))
    for e in entries:
        corpus = e.problem or ", ".join(e.corpus) + ("" if e.corpus_present else "  (missing)")
        _echo(f"{e.name:<{width}}  {e.documents:>9}  {e.size_bytes / 1e6:>6.1f} MB  {_when(e.updated_at):<19}  {corpus}")


@index_group.command("remove")
@click.argument("name")
def index_remove(name: str) -> None:
    """Delete the index NAME (or directory) and only what procsearch wrote in it; the corpus is untouched."""
    from procsearch.index.catalog import remove_index
    from procsearch.index.location import resolve_index

    target = resolve_index(name)
    remove_index(target)
    click.echo(f"removed index {target}", err=True)


@index_group.command("stats")
@index_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def index_stats_command(index_dir: str | None, fmt: str) -> None:
    """Documents per code system, corpus, build and update times, schema version, size on disk."""
    import json
    from dataclasses import asdict

    from procsearch.index import index_stats
    from procsearch.index.location import default_index_dir, resolve_index

    stats = index_stats(resolve_index(index_dir) if index_dir else default_index_dir())
    if fmt == "json":
        click.echo(json.dumps(asdict(stats), indent=1))
        return
    click.echo(f"index:          {safe.line(stats.index_dir)}")
    click.echo(f"corpus:         {safe.line(', '.join(stats.corpus))}")
    click.echo(f"documents:      {stats.documents}")
    for system, n in stats.systems.items():
        click.echo(f"  {system:<13} {n}")
    click.echo(f"skipped pages:  {stats.skipped}  duplicates: {stats.duplicates}")
    click.echo(f"built:          {_when(stats.built_at)}")
    click.echo(f"updated:        {_when(stats.updated_at)}")
    click.echo(f"schema version: {stats.schema_version}")
    click.echo(f"size on disk:   {stats.size_bytes / 1e6:.1f} MB")


def _count_line(results: Results) -> str:
    """'3 of 12 hits', with the rank of the first one when paging; when the query matched more
    pages than are ranked, '10 of 250 hits, the best of 2415 matching pages'."""
    line = f"{len(results.hits)} of {results.total} hit{'s' if results.total != 1 else ''}"
    if results.matched > results.total:
        line += f", the best of {results.matched} matching pages"
    return line + (f" (from #{results.offset + 1})" if results.offset else "")


@index_group.command("verify")
@index_option
def index_verify(index_dir: str | None) -> None:
    """Hash every file of the live index against the checksums written with it; name any damaged file."""
    from procsearch.index.errors import rebuild_hint
    from procsearch.index.integrity import verify_index
    from procsearch.index.location import default_index_dir, resolve_index

    target = resolve_index(index_dir) if index_dir else default_index_dir()
    gen, checked, problems = verify_index(target)
    for problem in problems:
        click.echo(f"damaged: {safe.line(problem)}", err=True)
    if problems:
        raise ProcsearchError(f"index at {target} is damaged ({len(problems)} of {checked} files); "
                              f"rebuild it: {rebuild_hint(target)}")
    click.echo(f"ok: {safe.line(gen)}: {checked} files match their checksums")


def _print_text(results: Results, explain: bool) -> None:
    bold = lambda s: click.style(s, bold=True, fg="yellow")  # noqa: E731
    for note in results.notes:
        click.echo(f"note: {safe.line(note)}", err=True)
    if results.corrected_query:
        _echo(f"showing results for {safe.line(results.corrected_query)}")
    if explain and results.expansions:
        _echo("expansions: " + safe.line("; ".join(f"{e.source} -> {e.target} ({e.kind}, {e.weight:.2f})"
                                                   for e in results.expansions)))
    if not results.hits:
        _echo("No results")
        if results.total:
            _echo(_count_line(results))
        if results.suggestions:
            _echo("Did you mean: " + safe.line(" / ".join(results.suggestions[:3])))
        return
    for rank, hit in enumerate(results.hits, results.offset + 1):
        _echo(click.style(f"{rank:>2}. {safe.line(hit.code)}", bold=True)
              + f"  [{safe.line(hit.code_system)}]  {safe.line(hit.title)}")
        if hit.name and hit.name != hit.title:
            _echo(f"    {safe.line(hit.name)}")
        for snippet in hit.snippets:
            _echo(f"    {safe.line(snippet.section)}: {safe.snippet(snippet.text, snippet.highlights, bold)}")
        if explain:
            _echo(f"    score {hit.score}: " + safe.line(", ".join(f"{k} {v}" for k, v in hit.explanation)))
            if hit.contributions:
                _echo("      by word: " + safe.line(", ".join(f"{w} in {f} {v}" for w, f, v in hit.contributions[:12])))
    _echo(_count_line(results))


CSV_HEADER = ["rank", "code", "code_system", "title", "score", "snippet"]


def _csv_rows(results: Results) -> list[list[object]]:
    from .payload import hit_payload

    return [[safe.csv_cell(v) for v in (rank, hit.code, hit.code_system, hit.title, hit.score,
                                        hit_payload(hit, False)["snippet"])]
            for rank, hit in enumerate(results.hits, results.offset + 1)]


def _write_csv(rows: list[list[object]]) -> None:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    click.echo(buf.getvalue(), nl=False)


def _emit(results: Results, fmt: str, explain: bool) -> None:
    if fmt == "text":  # the JSON shapes (and the datetime module they load) only for the formats using them
        _print_text(results, explain)
        return
    import json

    from .payload import hit_payload, results_payload

    if fmt == "json":
        click.echo(json.dumps(results_payload(results), ensure_ascii=False, indent=1))
    elif fmt == "jsonl":
        for hit in results.hits:
            click.echo(json.dumps(hit_payload(hit, True), ensure_ascii=False))
    else:
        _write_csv([CSV_HEADER, *_csv_rows(results)])


def _run_batch(searcher: Searcher, lines: Any, args: SearchArgs, fmt: str, explain: bool) -> None:
    """One query per non-blank line, the index opened once; every format, --offset and --explain apply.

    jsonl: one object per query ({"query", "total", "offset", "hits"}); json: one array of the
    objects --format json prints; csv: one table with the query in the first column; text: each
    query's results under a "# query" line.
    """
    import json

    from .payload import batch_payload, results_payload

    first = True
    if fmt == "json":
        click.echo("[")
    elif fmt == "csv":
        _write_csv([["query", *CSV_HEADER]])
    failed = 0
    for number, raw in enumerate(lines, 1):
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            click.echo(f"batch line {number}: skipped, not valid UTF-8 (byte {exc.start + 1})", err=True)
            failed += 1
            continue
        if not text:
            continue
        try:
            results = searcher.search(text, limit=args.limit, offset=args.offset, code_system=args.code_system,
                                      sections=args.sections, explain=explain)
        except ProcsearchError as exc:
            click.echo(f"batch line {number}: skipped, {safe.line(exc)}", err=True)
            failed += 1
            continue
        if fmt == "jsonl":
            click.echo(json.dumps(batch_payload(results), ensure_ascii=False))
        elif fmt == "json":
            click.echo(("" if first else ",\n") + json.dumps(results_payload(results), ensure_ascii=False), nl=False)
        elif fmt == "csv":
            _write_csv([[safe.csv_cell(text), *row] for row in _csv_rows(results)])
        else:
            if not first:
                click.echo()
            _echo(click.style(f"# {safe.line(text)}", bold=True))
            _print_text(results, explain)
        first = False
        sys.stdout.flush()  # each answer is out before the next query runs
    if fmt == "json":
        click.echo("\n]" if not first else "]")
    if failed:
        raise ProcsearchError(f"{failed} batch line(s) skipped (see above)")


def _check_args(query: str, limit: int, offset: int, code_system: str | None, sections: tuple[str, ...]) -> SearchArgs:
    """The library's own check of search arguments; its message becomes a usage error on the option."""
    from .arguments import InvalidArgumentError, check_search_args

    try:
        return check_search_args(query, limit, offset, code_system, list(sections) or None)
    except InvalidArgumentError as exc:
        raise click.BadParameter(str(exc), param_hint=OPTION_OF.get(exc.argument, exc.argument)) from None


@cli.command(cls=QueryCommand)
@click.argument("query", nargs=-1)
@click.option("--limit", "-n", type=int, default=10, show_default=True, help="Hits to show.")
@click.option("--offset", type=int, default=0, help="Skip this many hits (paging).")
@click.option("--system", "code_system", metavar="SYSTEM", shell_complete=_complete_system,
              help="Only this code system: CPT, HCPCS, ICD-10-PCS, ICD-10-CM (any case; icd10pcs, pcs, ...).")
@click.option("--section", "sections", multiple=True, metavar="SECTION", shell_complete=_complete_section,
              help="Search only this section (repeatable): a key or display name, any case: risks, "
                   "'Risks and Complications', recovery, title, ...")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format  [default: text; jsonl with --batch]")
@index_option
@click.option("--explain", is_flag=True, help="Show per-field score contributions, expansions and corrections.")
@click.option("--no-expand", is_flag=True, help="Search only the words typed: no thesaurus expansion.")
@click.option("--thesaurus", "thesaurus_files", multiple=True, type=click.Path(dir_okay=False),
              help="An extra thesaurus file (repeatable; also env PROCSEARCH_THESAURUS).")
@click.option("--batch", type=click.File("rb"), help="Run one query per line of FILE ('-' for stdin).")
def search(query: tuple[str, ...], limit: int, offset: int, code_system: str | None, sections: tuple[str, ...],
           fmt: str | None, index_dir: str | None, explain: bool, no_expand: bool, thesaurus_files: tuple[str, ...],
           batch: Any) -> None:
    """Search for QUERY: words, "phrases", codes (62273, 0FT4*, 62270-62273), scopes (risks:infection).

    The words of QUERY may be given quoted or not; a word starting with '-' excludes it
    (procsearch search colonoscopy -screening); everything after '--' is query text.
    """
    if not query and batch is None:
        raise click.UsageError("give a QUERY or --batch FILE")
    if query and batch is not None:
        raise click.UsageError("give a QUERY or --batch FILE, not both")
    args = _check_args(" ".join(query), limit, offset, code_system, sections)
    from .searcher import Searcher

    with Searcher.open(_resolve_index(index_dir), list(thesaurus_files) or None, expand=not no_expand) as searcher:
        if batch is not None:
            _run_batch(searcher, batch, args, fmt or "jsonl", explain)
            return
        results = searcher.search(args.query, limit=args.limit, offset=args.offset, code_system=args.code_system,
                                  sections=args.sections, explain=explain)
    _emit(results, fmt or "text", explain)


def _no_page(code: str) -> ProcsearchError:
    return ProcsearchError(f"no page for code {code!r} in the index; try: procsearch search {code}")


@cli.command()
@click.argument("code")
@index_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def show(code: str, index_dir: str | None, fmt: str) -> None:
    """Print the whole record of CODE."""
    from .searcher import Searcher

    with Searcher.open(_resolve_index(index_dir)) as searcher:
        record = searcher.get(code)
    if record is None:
        raise _no_page(code)
    if fmt == "json":
        import json

        from .payload import record_payload

        click.echo(json.dumps(record_payload(record), ensure_ascii=False, indent=1))
        return
    _echo(click.style(f"{safe.line(record.code)}  [{safe.line(record.code_system)}]", bold=True)
          + f"  {safe.line(record.title)}")
    if record.name:
        click.echo(f"Name: {safe.line(record.name)}")
    if record.technical_term:
        click.echo(f"Technical term: {safe.line(record.technical_term)}")
    for label, text in record.sections:
        _echo(f"\n{click.style(safe.line(label), bold=True)}")
        click.echo(safe.text(text))
    if record.similar_codes:
        _echo(f"\n{click.style('Similar Codes', bold=True)}")
        for other, label in record.similar_codes:
            click.echo(f"{safe.line(other)}  {safe.line(label)}")
    click.echo(f"\nsource: {safe.line(record.source)}")


@cli.command()
@click.argument("code")
@index_option
@click.option("--limit", "-n", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def similar(code: str, index_dir: str | None, limit: int, fmt: str) -> None:
    """Codes related to CODE: its page's Similar Codes, then pages with similar wording."""
    from .searcher import Searcher

    with Searcher.open(_resolve_index(index_dir)) as searcher:
        record = searcher.get(code)
        if record is None:
            raise _no_page(code)
        rows = searcher.similar(code, limit)
        indexed = {c for c, _, _ in rows if searcher.get(c) is not None} if fmt == "json" else set()
    if fmt == "json":
        import json

        from .payload import similar_payload

        click.echo(json.dumps(similar_payload(record.code, rows, indexed), ensure_ascii=False, indent=1))
        return
    for other, title, why in rows:
        click.echo(f"{safe.line(other):<8} {safe.line(title)}  ({why})")


@cli.command()
@index_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes, all serving the same index.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=REQUEST_TIMEOUT, show_default=True,
              help="Seconds a worker may take over one request; then the request gets a 503 and the worker is replaced.")
def serve(index_dir: str | None, host: str, port: int, workers: int, timeout: float) -> None:
    """Serve the search page and the JSON API (/api/v1/...) over HTTP until interrupted."""
    from procsearch.index import open_live

    from .web.server import check_address, serve as run_server, url_of

    target = _resolve_index(index_dir)
    open_live(target)  # a missing or unusable index fails here, in one line, before any worker starts
    check_address(host, port)
    click.echo(f"Serving {target} at {url_of(host, port)} ({workers} worker{'s' if workers > 1 else ''}; "
               f"Ctrl-C stops)")
    run_server(target, host, port, workers, request_timeout=timeout)


def main() -> None:
    """Entry point: library errors become one line and exit 1, never a traceback."""
    for stream in (sys.stdout, sys.stderr):  # a lone surrogate in a query or name prints as \udcff
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:  # the same program name (usage lines, completion variable) under `python -m procsearch`
        cli(standalone_mode=False, prog_name="procsearch", complete_var="_PROCSEARCH_COMPLETE")
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:  # --version, --help, shell completion
        sys.exit(exc.exit_code)
    except ProcsearchError as exc:
        click.echo(f"Error: {safe.line(exc)}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except OSError as exc:
        where = f"{safe.line(exc.filename)}: " if exc.filename else ""
        click.echo(f"Error: {where}{safe.line(exc.strerror or exc)}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
