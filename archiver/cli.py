"""Command-line interface: parses arguments and calls into the modules that do the work."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from archiver import __version__
from archiver.errors import ArchiverError

EXIT_ERROR = 2


def _fail(message: str) -> None:
    click.echo(f"archiver: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn ArchiverError and interrupts into one line and exit code 2 (never a traceback)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ArchiverError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            click.echo("archiver: interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            sys.exit(0)
        except OSError as exc:  # a file this user may not read or write, a full disk...
            where = f"{exc.filename}: " if exc.filename else ""
            _fail(f"{where}{exc.strerror or exc}")
        except Exception as exc:
            import sqlite3

            if not isinstance(exc, sqlite3.DatabaseError):
                raise
            # the catalogue failing mid-command (damaged pages, disk errors): still one line
            from archiver.archive.catalogue import catalogue_error

            _fail(str(catalogue_error(kwargs.get("archive_dir") or Path("archives"), exc)))

    return wrapper


archive_option = click.option(
    "--archive",
    "archive_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="ARCHIVER_HOME",
    default="archives",
    show_default=True,
    help="Archive folder (env ARCHIVER_HOME).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def open_archive(path: Path, create: bool = False, rebuild: bool = False):  # -> store.Archive
    """The archive at `path`: for reading (works on read-only media) unless `create` (a
    writer: refused on a read-only archive) or `rebuild` (reindex)."""
    from archiver.archive.folder import Archive

    return Archive(path, create=create, rebuild=rebuild)


def console():  # -> rich.console.Console
    """stdout console; wide when piped so tables and ids are not cut."""
    from rich.console import Console

    piped = not sys.stdout.isatty()
    return Console(highlight=False, width=160 if piped else None, soft_wrap=piped)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="archiver")
def main() -> None:
    """Capture news articles as verifiable WARC evidence and report the edits that matter."""


@main.command()
@click.argument("urls", nargs=-1)
@click.option(
    "-i",
    "--input",
    "input_file",
    type=click.File("r"),
    help="Read URLs from FILE, one a line ('-' for stdin).",
)
@archive_option
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds to wait for the server to connect or send more data.",
)
@click.option(
    "--max-time",
    type=click.FloatRange(min=0.1),
    default=300.0,
    show_default=True,
    help="Seconds a whole response may take, however slowly it trickles in.",
)
@click.option("--user-agent", default=None, help="User-Agent header (default names archiver).")
@click.option(
    "--max-size",
    type=click.IntRange(min=1),
    default=50 * 1024 * 1024,
    show_default=True,
    help="Fail a URL whose payload exceeds this many bytes.",
)
@click.option(
    "--retries",
    type=click.IntRange(min=0, max=10),
    default=2,
    show_default=True,
    help="Retries on connection errors and 429/503.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=64),
    default=4,
    show_default=True,
    help="URLs captured at once.",
)
@json_option
@handle_errors
def capture(
    urls: tuple[str, ...],
    input_file: Any,
    archive_dir: Path,
    timeout: float,
    max_time: float,
    user_agent: str | None,
    max_size: int,
    retries: int,
    concurrency: int,
    as_json: bool,
) -> None:
    """Fetch each URL and store it as a WARC 1.1 capture in the archive."""
    from archiver.capture.batch import capture_many
    from archiver.capture.fetch import DEFAULT_USER_AGENT, FetchOptions

    targets = list(urls)
    if input_file is not None:
        targets += [line.strip() for line in input_file if line.strip() and not line.lstrip().startswith("#")]
    if not targets:
        raise click.UsageError("give at least one URL (or -i FILE)")
    options = FetchOptions(
        timeout=timeout,
        max_time=max_time,
        user_agent=user_agent or DEFAULT_USER_AGENT,
        max_size=max_size,
        retries=retries,
    )
    failures = capture_many(archive_dir, targets, options, concurrency, as_json)
    sys.exit(1 if failures else 0)


@main.command()
@click.argument("url")
@archive_option
@json_option
@handle_errors
def history(url: str, archive_dir: Path, as_json: bool) -> None:
    """Show every capture of an article."""
    from archiver.output.tables import history_rows, history_table, print_json_line

    canonical, captures = open_archive(archive_dir).article_captures(url)
    if not captures:
        raise ArchiverError(f"no captures of {url} in {archive_dir}")
    rows = history_rows(captures)
    if as_json:
        print_json_line({"url": canonical, "captures": rows})
    else:
        history_table(console(), canonical, rows)


@main.command(name="list", short_help="List the archive's articles.")
@archive_option
@json_option
@handle_errors
def list_articles(archive_dir: Path, as_json: bool) -> None:
    """List the archive's articles with capture counts and last capture time."""
    from archiver.output.tables import articles_table, print_json_line

    rows = open_archive(archive_dir).articles()
    if as_json:
        print_json_line([dict(row) for row in rows])
    else:
        articles_table(console(), rows)


@main.command(short_help="Print the article extracted from a capture.")
@click.argument("target", metavar="URL|ID")
@archive_option
@json_option
@handle_errors
def show(target: str, archive_dir: Path, as_json: bool) -> None:
    """Print the article extracted from a capture (the latest of a URL by default)."""
    from archiver.diff.select import latest_version
    from archiver.output.tables import print_json_line, show_article

    version = latest_version(open_archive(archive_dir), target)
    if as_json:
        print_json_line(version.article.to_dict())
    else:
        show_article(console(), version.article, version.info)


@main.command()
@click.argument("targets", nargs=-1, metavar="[URL | A B]")
@click.option("--from", "from_id", metavar="ID", help="Earlier capture to compare.")
@click.option("--to", "to_id", metavar="ID", help="Later capture to compare.")
@click.option("--all", "walk_all", is_flag=True, help="Walk every consecutive pair of captures.")
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a self-contained HTML report to FILE.",
)
@archive_option
@json_option
@handle_errors
def diff(
    targets: tuple[str, ...],
    from_id: str | None,
    to_id: str | None,
    walk_all: bool,
    html_file: Path | None,
    archive_dir: Path,
    as_json: bool,
) -> None:
    """Report the edits that matter between two captures of an article.

    URL compares its two latest captures (or --from/--to); A B takes two capture ids or
    WARC files (made by any tool). Exit 0: no edits, 1: edits found, 2: error.
    """
    from archiver.diff.select import diff_versions, resolve_pair, timeline
    from archiver.output.diffjson import to_json
    from archiver.output.html import render_html
    from archiver.output.terminal import render_terminal, render_timeline
    from archiver.urls import canonicalize

    if len(targets) > 2:
        raise click.UsageError("give a URL, or two capture ids / WARC files")
    if walk_all and (from_id or to_id or html_file):
        raise click.UsageError("--all walks the whole history: it takes no --from, --to or --html")
    if from_id and from_id == to_id:
        raise click.UsageError("--from and --to name the same capture")
    from archiver.urls import looks_like_path

    for target in (*targets, from_id or "", to_id or ""):
        if looks_like_path(target) and not Path(target).exists():
            raise ArchiverError(f"no such file: {target}")
    files_only = len(targets) == 2 and all(Path(t).is_file() for t in targets)
    archive = None if files_only else open_archive(archive_dir)
    if walk_all:
        if len(targets) != 1 or archive is None:
            raise ArchiverError("--all takes one URL of an archived article")
        steps = timeline(archive, targets[0])
        url = steps[0][0].url
        if as_json:
            print_json([to_json(d, url, a.info, b.info) for a, b, d in steps])
        else:
            render_timeline(console(), [(a.info, b.info, d) for a, b, d in steps], url)
        sys.exit(1 if any(d.has_edits or d.body_missing for _, _, d in steps) else 0)
    before, after = resolve_pair(archive, targets, from_id, to_id)
    if before.info["id"] == after.info["id"]:
        raise ArchiverError(f"both sides are capture {before.info['id']}; nothing to compare")
    if before.info["captured_at"] > after.info["captured_at"]:
        click.echo(
            "archiver: note: the first capture is the later one; showing edits from later to earlier",
            err=True,
        )
    if canonicalize(before.url) != canonicalize(after.url):
        click.echo(f"archiver: warning: comparing different URLs: {before.url} and {after.url}", err=True)
    result = diff_versions(before, after)
    url = after.url
    if html_file is not None:
        page = render_html(result, url, before.info, after.info, before.article, after.article)
        write_text_atomic(html_file, page)
    if as_json:
        print_json(to_json(result, url, before.info, after.info))
    else:
        render_terminal(console(), result, url, before.info, after.info)
    sys.exit(1 if result.has_edits or result.body_missing else 0)


def print_json(data: object) -> None:
    import json

    click.echo(json.dumps(data, ensure_ascii=False, indent=1))


def write_text_atomic(path: Path, text: str) -> None:
    import os

    temp = path.with_name(f".{path.name}.tmp")
    try:
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)
    except OSError as exc:
        raise ArchiverError(f"cannot write {path}: {exc.strerror}") from None


@main.command(short_help="Rebuild the catalogue from the WARC files alone.")
@archive_option
@handle_errors
def reindex(archive_dir: Path) -> None:
    """Rebuild the catalogue from the WARC files alone (a damaged one is kept aside as
    index.sqlite3.damaged-TIME). Exit 0: done; 1: files skipped or the chain is broken."""
    if not (archive_dir / "warcs").is_dir():
        raise ArchiverError(f"no archive at {archive_dir} (no warcs/ folder)")
    archive = open_archive(archive_dir, rebuild=True)
    try:
        result = archive.reindex()
    finally:
        archive.close()
    if result.moved_aside is not None:
        click.echo(f"archiver: moved the damaged catalogue aside to {result.moved_aside}", err=True)
    for path, reason in result.skipped:
        click.echo(f"archiver: warning: skipped {path}: {reason}", err=True)
    for warning in result.warnings:
        click.echo(f"archiver: warning: {warning} (run `archiver verify`)", err=True)
    skipped = f", {len(result.skipped)} files skipped" if result.skipped else ""
    click.echo(f"reindexed {result.captures} captures in {archive_dir}{skipped}")
    sys.exit(1 if result.skipped or result.warnings else 0)


@main.command(short_help="Check digests, catalogue, chain and signatures.")
@click.argument("targets", nargs=-1, metavar="[URL | CAPTURE_ID | WARC_FILE | WACZ_FILE]...")
@click.option(
    "--pubkey",
    type=click.File("rb"),
    help="Check signatures with this public key (PEM), e.g. one given by the archivist.",
)
@archive_option
@json_option
@handle_errors
def verify(targets: tuple[str, ...], pubkey: Any, archive_dir: Path, as_json: bool) -> None:
    """Check gzip members, record digests, catalogue rows, the manifest chain and signatures
    (no argument: the whole archive). Exit 0: all good, 1: problems found, 2: error."""
    from archiver.evidence.verify import BarProgress, render
    from archiver.evidence.verify import verify as run_verify

    progress = BarProgress()
    try:
        report = run_verify(archive_dir, targets, pubkey.read() if pubkey else None, progress)
    finally:
        progress.stop()
    if as_json:
        print_json(report.to_json())
    else:
        render(console(), report)
    sys.exit(0 if report.ok else 1)


@main.group()
def key() -> None:
    """The archive's signing key (ECDSA P-256)."""


@key.command(name="init")
@archive_option
@handle_errors
def key_init(archive_dir: Path) -> None:
    """Create the archive's key pair; from now on every capture is signed."""
    from archiver.archive.folder import is_read_only
    from archiver.evidence.keys import init_key, public_key_path

    if archive_dir.exists() and is_read_only(archive_dir, writer=True):
        raise ArchiverError(f"{archive_dir} is read-only")
    try:
        path = init_key(archive_dir)
    except OSError as exc:
        raise ArchiverError(f"cannot create the key in {archive_dir}: {exc.strerror or exc}") from None
    click.echo(f"created {path} (private, mode 0600) and {public_key_path(archive_dir)}")


@key.command(name="export")
@archive_option
@handle_errors
def key_export(archive_dir: Path) -> None:
    """Print the archive's public key (PEM) to give to third parties."""
    from archiver.evidence.keys import load_private_key, load_public_key, public_key_path, public_pem

    try:
        private = load_private_key(archive_dir)
    except OSError as exc:  # e.g. the private key is not readable by this user: use its public half
        public = public_key_path(archive_dir)
        try:
            pem = public_pem(load_public_key(public.read_bytes()))
        except OSError:
            raise ArchiverError(f"cannot read the archive key: {exc.strerror or exc}") from None
    else:
        if private is None:
            raise ArchiverError(f"the archive {archive_dir} has no key (run `archiver key init`)")
        pem = public_pem(private.public_key())
    click.echo(pem.decode(), nl=False)


@main.command(short_help="Write captures as a (signed) WACZ package.")
@click.argument("urls", nargs=-1)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The .wacz file to write.",
)
@archive_option
@json_option
@handle_errors
def export(urls: tuple[str, ...], output: Path, archive_dir: Path, as_json: bool) -> None:
    """Write the captures of URL... (default: all) as a WACZ 1.1.1 package, signed when the
    archive has a key. Check one with `wacz validate -f FILE` and
    `archiver verify --pubkey KEY.pem FILE`."""
    from archiver.evidence.package import export as write_wacz
    from archiver.urls import canonicalize

    result = write_wacz(archive_dir, list(urls), output)
    archive = open_archive(archive_dir)  # the same choice as the export: all, or each URL's
    try:
        chosen = (
            archive.all() if not urls else [c for url in urls for c in archive.history(canonicalize(url))]
        )
        signed_captures = sum(1 for c in {c.id: c for c in chosen}.values() if c.signed)
    finally:
        archive.close()
    if as_json:
        print_json({**result.to_json(), "signed_captures": signed_captures})
        return
    package = "package signed" if result.signed else "package unsigned (no archive key)"
    click.echo(
        f"wrote {output}: {result.captures} captures in {result.warc_files} WARC files, "
        f"{result.bytes} bytes, {package}; {signed_captures} of {result.captures} "
        "captures signed"
    )
    if result.signed:
        click.echo(
            f"check it: archiver verify --pubkey KEY.pem {output} (KEY.pem from `archiver key export`)"
        )


@main.command(name="import", short_help="Bring in WARC/WACZ files made by other tools.")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@archive_option
@json_option
@handle_errors
def import_(files: tuple[Path, ...], archive_dir: Path, as_json: bool) -> None:
    """Bring in WARC/WACZ files made by other tools: each HTML response becomes a capture.
    Input is checked first; anything malformed is refused and the archive left as it was."""
    from archiver.evidence.importer import import_files
    from archiver.output.tables import capture_line

    results = import_files(archive_dir, list(files))
    if as_json:
        print_json([result.to_json() for result in results])
        return
    out = console()
    for result in results:
        for capture in result.captures:
            capture_line(out, capture)
        kept = f"kept as {result.source}" if result.source else "nothing new"
        click.echo(
            f"{result.origin}: {len(result.captures)} captures from {result.records} records"
            f" ({kept}{', recompressed per record' if result.recompressed else ''}"
            f"{f', {result.skipped} skipped' if result.skipped else ''})"
        )


@main.command(short_help="Offline demo: capture, edit and compare a sample article.")
@click.option(
    "--archive",
    "archive_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Archive folder (default: a temporary one).",
)
@handle_errors
def demo(archive_dir: Path | None) -> None:
    """Offline demo: serve a sample article, capture it, edit it, capture again, compare."""
    from archiver.demo import run_demo

    sys.exit(run_demo(archive_dir, console()))
