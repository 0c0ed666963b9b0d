"""Command-line interface: parses arguments and calls one function per command in core.py."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn

import click

from archiver import __version__, core
from archiver.errors import ArchiverError, ExitStatus
from archiver.output.console import say


def _fail(message: str) -> NoReturn:
    say("error", message)
    sys.exit(ExitStatus.ERROR)


def handle_errors(func: Callable[..., ExitStatus]) -> Callable[..., None]:
    """Run a command; exit with its status. ArchiverError, OS errors and catalogue failures
    become one line and exit status 2 (never a traceback), Ctrl-C 130."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            status = func(*args, **kwargs)
        except ArchiverError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            say("", "interrupted")
            sys.exit(ExitStatus.INTERRUPTED)
        except BrokenPipeError:
            sys.exit(ExitStatus.OK)
        except OSError as exc:  # a file this user may not read or write, a full disk...
            where = f"{exc.filename}: " if exc.filename else ""
            _fail(f"{where}{exc.strerror or exc}")
        except (ValueError, UnicodeError) as exc:  # a URL or a file name no parser can take: one line
            _fail(str(exc) or type(exc).__name__)
        except sqlite3.DatabaseError as exc:  # the catalogue failing mid-command: still one line
            from archiver.archive.catalogue import catalogue_error

            _fail(str(catalogue_error(kwargs.get("archive_dir") or Path("archives"), exc)))
        sys.exit(status)

    return wrapper


FILE = click.Path(dir_okay=False, path_type=Path)
FOLDER = click.Path(file_okay=False, path_type=Path)
archive_option = click.option(
    "--archive",
    "archive_dir",
    type=FOLDER,
    envvar="ARCHIVER_HOME",
    default="archives",
    show_default=True,
    help="Archive folder (env ARCHIVER_HOME).",
)
MAX_URL_LIST = 64 << 20  # bytes of -i input read: a list, not /dev/zero
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


class ByteSize(click.ParamType):
    """A size in bytes, with an optional K, M or G (powers of 1024) suffix."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().upper().removesuffix("B")
        unit = text[-1:] if text[-1:] in SIZE_UNITS else ""
        number = text[: len(text) - len(unit)]
        if not number.isdigit() or int(number) < 1:
            self.fail(f"{value!r} is not a size such as 500M or 1G", param, ctx)
        return int(number) * SIZE_UNITS[unit]


def _setting(name: str, kind: click.ParamType, default: float, help: str) -> Callable[[Any], Any]:
    """A numeric option with its range and default shown in --help."""
    return click.option(name, type=kind, default=default, show_default=True, help=help)


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
    type=click.File("rb"),
    help="Read URLs from FILE, one a line ('-' for stdin).",
)
@archive_option
@_setting(
    "--timeout",
    click.FloatRange(min=0.1),
    30.0,
    "Seconds to wait for the server to connect or send more data.",
)
@_setting(
    "--max-time",
    click.FloatRange(min=0.1),
    300.0,
    "Seconds a whole response may take, however it trickles in.",
)
@click.option("--user-agent", default=None, help="User-Agent header (default names archiver).")
@_setting(
    "--max-size", click.IntRange(min=1), 50 * 1024 * 1024, "Fail a URL whose payload exceeds this many bytes."
)
@_setting("--retries", click.IntRange(min=0, max=10), 2, "Retries on connection errors and 429/503.")
@_setting("--concurrency", click.IntRange(min=1, max=64), 16, "URLs captured at once.")
@click.option(
    "--warc-size",
    type=ByteSize(),
    default="1G",
    show_default=True,
    help="Start a new WARC file once the run's file passes this size (K, M, G suffixes).",
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
    warc_size: int,
    as_json: bool,
) -> ExitStatus:
    """Fetch each URL and store it as a WARC 1.1 capture in the archive. A run appends its
    captures to one WARC file (each with its own records and signed metadata record)."""
    from archiver.capture.fetch import DEFAULT_USER_AGENT, FetchOptions
    from archiver.urls import url_list

    targets = list(urls)
    if input_file is not None:
        data = input_file.read(MAX_URL_LIST + 1)
        if len(data) > MAX_URL_LIST:
            raise click.UsageError(f"{input_file.name}: a URL list over {MAX_URL_LIST >> 20} MB")
        targets += url_list(data)
    if not targets:
        raise click.UsageError("give at least one URL (or -i FILE)")
    options = FetchOptions(
        timeout=timeout,
        max_time=max_time,
        user_agent=user_agent or DEFAULT_USER_AGENT,
        max_size=max_size,
        retries=retries,
    )
    return core.capture(archive_dir, targets, options, concurrency, as_json, warc_size)


@main.command()
@click.argument("url")
@archive_option
@json_option
@handle_errors
def history(url: str, archive_dir: Path, as_json: bool) -> ExitStatus:
    """Show every capture of an article."""
    return core.history(archive_dir, url, as_json)


@main.command(name="list", short_help="List the archive's articles.")
@archive_option
@json_option
@handle_errors
def list_articles(archive_dir: Path, as_json: bool) -> ExitStatus:
    """List the archive's articles with capture counts and last capture time."""
    return core.list_articles(archive_dir, as_json)


@main.command(short_help="Print the article extracted from a capture.")
@click.argument("target", metavar="URL|ID")
@archive_option
@json_option
@handle_errors
def show(target: str, archive_dir: Path, as_json: bool) -> ExitStatus:
    """Print the article extracted from a capture (the latest of a URL by default)."""
    return core.show(archive_dir, target, as_json)


@main.command()
@click.argument("targets", nargs=-1, metavar="[URL | A B]")
@click.option("--from", "from_id", metavar="ID", help="Earlier capture to compare.")
@click.option("--to", "to_id", metavar="ID", help="Later capture to compare.")
@click.option("--all", "walk_all", is_flag=True, help="Walk every consecutive pair of captures.")
@click.option(
    "--html",
    "html_file",
    type=FILE,
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
) -> ExitStatus:
    """Report the edits that matter between two captures of an article.

    URL compares its two latest captures (or --from/--to); A B takes two capture ids or
    WARC files (made by any tool). Exit 0: no edits, 1: edits found, 2: error.
    """
    if len(targets) > 2:
        raise click.UsageError("give a URL, or two capture ids / WARC files")
    if walk_all and (from_id or to_id):
        raise click.UsageError("--all walks the whole history: it takes no --from or --to")
    if from_id and from_id == to_id:
        raise click.UsageError("--from and --to name the same capture")
    return core.diff(archive_dir, targets, from_id, to_id, walk_all, html_file, as_json)


@main.command(short_help="Write the evidence page of two captures (court-ready, printable).")
@click.argument("url")
@click.option("--from", "from_id", metavar="ID", help="Earlier capture (default: as `diff` picks).")
@click.option("--to", "to_id", metavar="ID", help="Later capture (default: the latest).")
@click.option("-o", "--output", type=FILE, required=True, help="The HTML file to write ('-': stdout).")
@archive_option
@click.option("--json", "as_json", is_flag=True, help="Also write the facts as JSON beside it (FILE.json).")
@handle_errors
def report(
    url: str, from_id: str | None, to_id: str | None, output: Path, archive_dir: Path, as_json: bool
) -> ExitStatus:
    """One self-contained, printable page for a third party: both versions side by side, the
    flagged edits with why, every digest, the signatures and key fingerprint, the capture
    times, what verification found, and the commands to check it all from an exported WACZ.
    Exit 0: written and verified, 1: written but the evidence fails verification."""
    return core.report(archive_dir, url, from_id, to_id, output, as_json)


@main.command(short_help="Rebuild the catalogue from the WARC files alone.")
@archive_option
@handle_errors
def reindex(archive_dir: Path) -> ExitStatus:
    """Rebuild the catalogue from the WARC files alone (a damaged one is kept aside as
    index.sqlite3.damaged-TIME). Exit 0: done; 1: files skipped or the chain is broken."""
    return core.reindex(archive_dir)


@main.command(short_help="Check digests, catalogue, chain and signatures.")
@click.argument("targets", nargs=-1, metavar="[URL | CAPTURE_ID | WARC_FILE | WACZ_FILE]...")
@click.option(
    "--pubkey",
    type=click.File("rb"),
    help="Check signatures with this public key (PEM), e.g. one given by the archivist.",
)
@click.option("--fingerprint", metavar="HEX", help="Pin the trusted key to this fingerprint (sha256:...).")
@click.option("--head", metavar="SEQ:DIGEST", help="A chain head published earlier (`archiver head`).")
@click.option(
    "--tsa-cert", type=click.File("rb"), help="Check the archive's timestamps with this TSA CA (PEM)."
)
@archive_option
@json_option
@handle_errors
def verify(
    targets: tuple[str, ...],
    pubkey: Any,
    fingerprint: str | None,
    head: str | None,
    tsa_cert: Any,
    archive_dir: Path,
    as_json: bool,
) -> ExitStatus:
    """Check gzip members, record digests, catalogue rows, the manifest chain and signatures
    (no argument: the whole archive); with --head, that a published chain head is still in
    it; with --fingerprint, that the key trusted is the one published. Exit 0: all good,
    1: problems found, 2: error."""
    pem = pubkey.read() if pubkey else None
    return core.verify(
        archive_dir, targets, pem, as_json, head, fingerprint, tsa_cert.read() if tsa_cert else None
    )


@main.command(short_help="Have a time-stamping authority sign the chain head (RFC 3161).")
@click.option("--tsa", "tsa_url", required=True, metavar="URL", help="The TSA's RFC 3161 URL.")
@archive_option
@json_option
@handle_errors
def timestamp(tsa_url: str, archive_dir: Path, as_json: bool) -> ExitStatus:
    """Send the chain head to a time-stamping authority and keep its signed token in the
    archive: `verify --tsa-cert CA.pem` later proves the archive held that head at that time,
    so captures removed or rewritten after it are caught."""
    return core.timestamp(archive_dir, tsa_url, as_json)


@main.command(short_help="Print the chain head, to publish it.")
@archive_option
@json_option
@handle_errors
def head(archive_dir: Path, as_json: bool) -> ExitStatus:
    """Print the chain head (SEQ:DIGEST, capture, time). Publish or mail it: later,
    `archiver verify --head SEQ:DIGEST` proves nothing up to it was removed or rewritten."""
    return core.head(archive_dir, as_json)


@main.group()
def key() -> None:
    """The archive's signing key (ECDSA P-256)."""


@key.command(name="init")
@archive_option
@click.option("--key-file", type=FILE, help="Where to keep the private key (default: the keys folder).")
@handle_errors
def key_init(archive_dir: Path, key_file: Path | None) -> ExitStatus:
    """Create the archive's key pair; from now on every capture is signed. The private key
    stays outside the archive ($ARCHIVER_KEYS, else ~/.config/archiver/keys/FINGERPRINT/,
    or --key-file, then found through ARCHIVER_KEY_FILE); the archive keeps the public key."""
    return core.key_init(archive_dir, key_file)


@key.command(name="export")
@archive_option
@handle_errors
def key_export(archive_dir: Path) -> ExitStatus:
    """Print the archive's public key (PEM) to give to third parties."""
    return core.key_export(archive_dir)


@main.command(short_help="Write captures as a (signed) WACZ package.")
@click.argument("urls", nargs=-1)
@click.option("-o", "--output", type=FILE, required=True, help="The file to write ('-': stdout).")
@click.option(
    "--capture",
    "capture_id",
    metavar="ID",
    help="Write this one capture as a standalone WARC file (.warc.gz) instead of a package.",
)
@archive_option
@json_option
@handle_errors
def export(
    urls: tuple[str, ...], output: Path, capture_id: str | None, archive_dir: Path, as_json: bool
) -> ExitStatus:
    """Write the captures of URL... (default: all) as a WACZ 1.1.1 package, signed when the
    archive has a key ('-o -' writes to stdout). Check one with `wacz validate -f FILE` and
    `archiver verify --pubkey KEY.pem FILE`. With --capture ID, write that capture alone as
    a WARC file, its bytes as archived (`archiver verify --pubkey KEY.pem FILE` checks it)."""
    if capture_id is not None and urls:
        raise click.UsageError("give URLs or --capture ID, not both")
    return core.export(archive_dir, list(urls), output, as_json, capture_id)


@main.command(name="import", short_help="Bring in WARC/WACZ files made by other tools.")
@click.argument("files", nargs=-1, required=True, type=FILE)
@archive_option
@json_option
@handle_errors
def import_(files: tuple[Path, ...], archive_dir: Path, as_json: bool) -> ExitStatus:
    """Bring in WARC/WACZ files made by other tools: each HTML response becomes a capture.
    Input is checked first; anything malformed is refused and the archive left as it was."""
    return core.import_files(archive_dir, list(files), as_json)


@main.command(short_help="Offline demo: capture, edit and compare a sample article.")
@click.option(
    "--archive", "archive_dir", type=FOLDER, default=None, help="Archive folder (default: a temporary one)."
)
@handle_errors
def demo(archive_dir: Path | None) -> ExitStatus:
    """Offline demo: serve a sample article, capture it, edit it, capture again, compare."""
    return core.demo(archive_dir)


@main.group()
def watch() -> None:
    """Follow feeds, sitemaps and pages: capture new articles, re-capture known ones on a
    decaying schedule, and report the edits that matter."""


def _duration(value: str | None, name: str, zero: bool = False) -> float | None:
    """A duration option (`90s`, `15m`, `3h`); `zero`: 0 is allowed too (no delay)."""
    import re

    from archiver.watch.schedule import parse_duration

    if value is None:
        return None
    if zero and re.fullmatch(r"\s*0+(?:\.0*)?\s*[smhdw]?\s*", value):
        return 0.0
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=name) from None


notify_option = click.option(
    "--notify",
    multiple=True,
    metavar="URL",
    help="Apprise URL told of each edit (mailto://, slack://, ntfy://, json://...); repeatable.",
)


@watch.command(name="add")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.option("--name", help="Name of the watch (one SOURCE only; default: host and path).")
@notify_option
@archive_option
@handle_errors
def watch_add(
    sources: tuple[str, ...], name: str | None, notify: tuple[str, ...], archive_dir: Path
) -> ExitStatus:
    """Watch RSS/Atom feeds, news sitemaps (or sitemap indexes), or plain article URLs."""
    if name is not None and len(sources) > 1:
        raise click.UsageError("--name names one source: give one SOURCE")
    return core.watch_add(archive_dir, list(sources), name, list(notify))


@watch.command(name="list")
@archive_option
@json_option
@handle_errors
def watch_list(archive_dir: Path, as_json: bool) -> ExitStatus:
    """List the watched sources: kind, articles found, last and next poll, last error."""
    return core.watch_list(archive_dir, as_json)


@watch.command(name="remove")
@click.argument("target", metavar="NAME|SOURCE")
@archive_option
@handle_errors
def watch_remove(target: str, archive_dir: Path) -> ExitStatus:
    """Stop watching a source (its captures stay in the archive)."""
    return core.watch_remove(archive_dir, target)


@watch.command(name="run")
@click.option("--once", is_flag=True, help="One round, then exit (for cron).")
@click.option("--interval", default="10m", show_default=True, help="How often each source is polled.")
@click.option(
    "--schedule",
    default=None,
    metavar="WITHIN:EVERY,...",
    help="Re-capture steps (default 3h:15m,1d:1h,7d:3h,30d:3d,365d:30d: every 15 min while the "
    "article changed in the last 3 h, ..., then stop).",
)
@click.option("--recapture-all", is_flag=True, help="Re-capture every known article this round.")
@notify_option
@click.option(
    "--min-severity",
    type=click.Choice(["low", "medium", "high"]),
    default="low",
    show_default=True,
    help="Edits below this are not events.",
)
@click.option("--delay", default="1s", show_default=True, help="Pause between two requests to one host.")
@click.option("--ignore-robots", is_flag=True, help="Fetch what robots.txt disallows.")
@_setting("--concurrency", click.IntRange(min=1, max=64), 4, "Hosts worked at once.")
@_setting("--timeout", click.FloatRange(min=0.1), 30.0, "Seconds to wait for a server to connect or send.")
@_setting("--max-time", click.FloatRange(min=0.1), 300.0, "Seconds a whole response may take.")
@click.option("--user-agent", default=None, help="User-Agent header (default names archiver).")
@archive_option
@click.option("--json", "as_json", is_flag=True, help="Log JSON lines for scripts.")
@handle_errors
def watch_run(
    once: bool,
    interval: str,
    schedule: str | None,
    recapture_all: bool,
    notify: tuple[str, ...],
    min_severity: str,
    delay: str,
    ignore_robots: bool,
    concurrency: int,
    timeout: float,
    max_time: float,
    user_agent: str | None,
    archive_dir: Path,
    as_json: bool,
) -> ExitStatus:
    """Poll the sources, capture new articles, re-capture known ones when due, diff each
    change; an edit at or above --min-severity is a line here, a line in
    ARCHIVE/events.jsonl, an entry in the Atom feeds under ARCHIVE/feeds/ and a notification.
    Exit 0 (--once: 1 when a source or article failed), 130 on Ctrl-C."""
    from archiver.capture.fetch import DEFAULT_USER_AGENT, FetchOptions
    from archiver.watch.events import check_notify_url
    from archiver.watch.run import Settings
    from archiver.watch.schedule import DEFAULT_SCHEDULE, parse_schedule

    try:
        tiers = parse_schedule(schedule or DEFAULT_SCHEDULE)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--schedule") from None
    for url in notify:
        check_notify_url(url)
    options = FetchOptions(timeout=timeout, max_time=max_time, user_agent=user_agent or DEFAULT_USER_AGENT)
    settings = Settings(
        options=options,
        tiers=tiers,
        interval=_duration(interval, "--interval") or 600.0,
        delay=_duration(delay, "--delay", zero=True) or 0.0,
        min_severity=min_severity,
        notify=list(notify),
        ignore_robots=ignore_robots,
        recapture_all=recapture_all,
        concurrency=concurrency,
    )
    return core.watch_run(archive_dir, settings, once, as_json)


@main.command(short_help="List the edits across the archive, most recent first.")
@click.option("--since", metavar="DATE", help="Only edits captured since DATE (2026-12-01, or an age: 7d).")
@click.option(
    "--min-severity",
    type=click.Choice(["low", "medium", "high"]),
    default="low",
    show_default=True,
    help="Leave out edits below this.",
)
@click.option("--url", metavar="URL", help="Only the edits of this article.")
@archive_option
@json_option
@click.option("--atom", "as_atom", is_flag=True, help="Print an Atom feed of the edits.")
@handle_errors
def edits(
    since: str | None, min_severity: str, url: str | None, archive_dir: Path, as_json: bool, as_atom: bool
) -> ExitStatus:
    """Which articles were actually edited: every consecutive pair of captures of every
    article (made by `watch` or `capture`), diffed; each edit with its severity, headline,
    what changed and the two capture ids. --json gives the events.jsonl shape."""
    if as_json and as_atom:
        raise click.UsageError("--json or --atom, not both")
    return core.edits(archive_dir, since, min_severity, url, as_json, as_atom)
