"""One function per command: open the archive, run the pipeline step, render the result,
return the exit status. `cli.py` parses arguments and calls these; nothing here parses."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from archiver.errors import ArchiverError, ExitStatus
from archiver.output.console import emit, emit_json, say, stdout_console

if TYPE_CHECKING:
    from archiver.archive.folder import Archive
    from archiver.capture.fetch import FetchOptions
    from archiver.watch.run import Settings as WatchSettings


def print_json(data: object) -> None:
    emit_json(data, indent=1)


def open_archive(root: Path) -> Archive:
    """The archive at `root`, for reading (works on read-only media, writes nothing)."""
    from archiver.archive.folder import Archive

    return Archive(root, create=False)


def capture(
    root: Path, urls: list[str], options: FetchOptions, concurrency: int, as_json: bool, warc_size: int
) -> ExitStatus:
    from archiver.capture.batch import capture_many

    return capture_many(root, urls, options, concurrency, as_json, warc_size)


def history(root: Path, url: str, as_json: bool) -> ExitStatus:
    from archiver.output.tables import history_rows, history_table

    with open_archive(root) as archive:
        canonical, captures = archive.article_captures(url)
    if not captures:
        raise ArchiverError(f"no captures of {url} in {root}")
    rows = history_rows(captures)
    if as_json:
        emit_json({"url": canonical, "captures": rows})
    else:
        history_table(stdout_console(), canonical, rows)
    return ExitStatus.OK


def list_articles(root: Path, as_json: bool) -> ExitStatus:
    from archiver.output.tables import articles_table

    with open_archive(root) as archive:
        rows = archive.articles()
    if as_json:
        emit_json([dict(row) for row in rows])
    else:
        articles_table(stdout_console(), rows)
    return ExitStatus.OK


def show(root: Path, target: str, as_json: bool) -> ExitStatus:
    from archiver.diff.select import latest_version
    from archiver.output.tables import show_article

    with open_archive(root) as archive:
        version = latest_version(archive, target)
    warnings = list(_integrity(root, [version.info["id"]]).values())
    for line in warnings:
        say("warning", line)
    if as_json:
        emit_json({**version.article.to_dict(), "warnings": warnings})
    else:
        show_article(stdout_console(), version.article, version.info)
    return ExitStatus.OK


def diff(
    root: Path,
    targets: tuple[str, ...],
    from_id: str | None,
    to_id: str | None,
    walk_all: bool,
    html_file: Path | None,
    as_json: bool,
) -> ExitStatus:
    """URL, or two capture ids / WARC files; --all walks the history."""
    from archiver.diff.select import diff_versions, resolve_pair, timeline
    from archiver.output.diffjson import to_json
    from archiver.output.terminal import render_terminal, render_timeline
    from archiver.urls import canonicalize, looks_like_path

    for target in (*targets, from_id or "", to_id or ""):
        if looks_like_path(target) and not Path(target).exists():
            raise ArchiverError(f"no such file: {target}")
    files_only = len(targets) == 2 and all(Path(t).is_file() for t in targets)
    archive = None if files_only else open_archive(root)
    try:
        if walk_all:
            if len(targets) != 1 or archive is None:
                raise ArchiverError("--all takes one URL of an archived article")
            steps = timeline(archive, targets[0])
            url = steps[0][0].url
            doubts = _integrity(root, [v.info["id"] for a, b, _ in steps for v in (a, b)])
            for line in doubts.values():
                say("warning", line)
            if html_file is not None:
                from archiver.output.files import write_output
                from archiver.output.html import render_timeline_html

                page = render_timeline_html([(a.info, b.info, d) for a, b, d in steps], url).encode()
                write_output(html_file, lambda handle: _write_all(handle, page))
            if as_json:
                print_json(
                    [
                        {**to_json(d, url, a.info, b.info), "warnings": _about(doubts, a.info, b.info)}
                        for a, b, d in steps
                    ]
                )
            else:
                render_timeline(stdout_console(), [(a.info, b.info, d) for a, b, d in steps], url)
            edited = any(d.has_edits or d.body_missing for _, _, d in steps)
            return ExitStatus.PROBLEMS if edited else ExitStatus.OK
        before, after = resolve_pair(archive, targets, from_id, to_id)
    finally:
        if archive is not None:
            archive.close()
    if before.info["id"] == after.info["id"]:
        raise ArchiverError(f"both sides are capture {before.info['id']}; nothing to compare")
    if before.info["captured_at"] > after.info["captured_at"]:
        say("note", "the first capture is the later one; showing edits from later to earlier")
    if canonicalize(before.url) != canonicalize(after.url):
        say("warning", f"comparing different URLs: {before.url} and {after.url}")
    result = diff_versions(before, after)
    url = after.url
    doubts = {} if files_only else _integrity(root, [before.info["id"], after.info["id"]])
    warnings = _about(doubts, before.info, after.info)
    for line in warnings:
        say("warning", line)
    if html_file is not None:
        from archiver.output.files import write_output
        from archiver.output.html import render_html

        html = render_html(result, url, before.info, after.info, before.article, after.article, warnings)
        write_output(html_file, lambda handle: _write_all(handle, html.encode()))
    if as_json:
        print_json({**to_json(result, url, before.info, after.info), "warnings": warnings})
    else:
        render_terminal(stdout_console(), result, url, before.info, after.info)
    return ExitStatus.PROBLEMS if result.has_edits or result.body_missing else ExitStatus.OK


def _integrity(root: Path, ids: list[object]) -> dict[str, str]:
    """The captures among `ids` that fail verification, each with one line saying how (a diff
    of damaged evidence must say so, whatever its extraction cache holds)."""
    import re

    from archiver.evidence.verify import verify as run_verify

    wanted = sorted({str(i) for i in ids if re.fullmatch(r"\d{17}-[0-9a-f]{6}", str(i))})
    if not wanted:
        return {}
    found: dict[str, str] = {}
    for problem in run_verify(root, wanted).problems:
        if problem.capture in wanted and problem.capture not in found:
            found[problem.capture] = (
                f"capture {problem.capture} fails verification ([{problem.check}] {problem.message}); "
                "run `archiver verify`"
            )
    return found


def _about(doubts: dict[str, str], *infos: dict) -> list[str]:
    return [doubts[str(i["id"])] for i in infos if str(i["id"]) in doubts]


def _write_all(handle: BinaryIO, data: bytes) -> None:
    handle.write(data)


def report(
    root: Path, url: str, from_id: str | None, to_id: str | None, output: Path, as_json: bool
) -> ExitStatus:
    """The evidence page of one comparison (and, with --json, its facts beside it)."""
    from archiver.diff.select import diff_versions, resolve_pair
    from archiver.evidence.dossier import gather
    from archiver.output.diffjson import to_json
    from archiver.output.dossier import render_dossier
    from archiver.output.files import write_output

    if as_json and (str(output) == "-" or output.with_suffix(".json") == output):
        raise ArchiverError("--json writes FILE.json beside the page: give -o a file not ending in .json")
    with open_archive(root) as archive:
        before, after = resolve_pair(archive, (url,), from_id, to_id)
    if before.info["id"] == after.info["id"]:
        raise ArchiverError(f"both sides are capture {before.info['id']}; nothing to compare")
    if before.info["captured_at"] > after.info["captured_at"]:
        say("note", "the first capture is the later one; the page shows edits from later to earlier")
    result = diff_versions(before, after)
    dossier = gather(root, after.url, str(before.info["id"]), str(after.info["id"]))
    page = render_dossier(dossier, result, before.info, after.info, before.article, after.article).encode()
    write_output(output, lambda handle: _write_all(handle, page))
    if as_json:
        import json

        facts = json.dumps({**dossier.to_json(), "diff": to_json(result, after.url, before.info, after.info)})
        write_output(output.with_suffix(".json"), lambda handle: _write_all(handle, facts.encode()))
    verdict = "verified" if dossier.verified else f"NOT verified ({len(dossier.problems)} problems)"
    say("", f"wrote {output}: captures {before.info['id']} -> {after.info['id']}, evidence {verdict}")
    return ExitStatus.OK if dossier.verified else ExitStatus.PROBLEMS


def reindex(root: Path) -> ExitStatus:
    from archiver.archive.folder import Archive
    from archiver.archive.rebuild import reindex as rebuild

    if not (root / "warcs").is_dir():
        raise ArchiverError(f"no archive at {root} (no warcs/ folder)")
    with Archive(root, rebuild=True) as archive:
        result = rebuild(archive)
    if result.moved_aside is not None:
        say("", f"moved the damaged catalogue aside to {result.moved_aside}")
    for path, reason in result.skipped:
        say("warning", f"skipped {path}: {reason}")
    for warning in result.warnings:
        say("warning", f"{warning} (run `archiver verify`)")
    skipped = f", {len(result.skipped)} files skipped" if result.skipped else ""
    emit(f"reindexed {result.captures} captures in {root}{skipped}")
    return ExitStatus.PROBLEMS if result.skipped or result.warnings else ExitStatus.OK


def verify(
    root: Path,
    targets: tuple[str, ...],
    pubkey_pem: bytes | None,
    as_json: bool,
    head: str | None = None,
    pinned: str | None = None,
    tsa_cert: bytes | None = None,
) -> ExitStatus:
    from archiver.evidence.anchor import check_head, parse_head
    from archiver.evidence.findings import merge
    from archiver.evidence.keys import fingerprint, legacy_private_key_path, normal_fingerprint
    from archiver.evidence.signatures import trusted_key
    from archiver.evidence.verify import verify as run_verify
    from archiver.output.checks import BarProgress, render

    if head is not None:
        parse_head(head)  # a malformed --head or --fingerprint is a usage error before any work
    wanted = normal_fingerprint(pinned) if pinned is not None else None
    in_archive = not targets or any(
        not Path(t).is_file() or Path(t).suffix.lower() != ".wacz" for t in targets
    )
    key, source = trusted_key(root if in_archive and (root / "keys").is_dir() else None, pubkey_pem)
    trusted = fingerprint(key) if key is not None else None
    if wanted is not None and trusted is None:
        raise ArchiverError("--fingerprint pins a key, but there is none here to pin: give --pubkey")
    progress = BarProgress()
    try:
        report = run_verify(root, targets, pubkey_pem, progress)
    finally:
        progress.stop()
    if head is not None:
        merge(report, check_head(root, head))
    if in_archive and (root / "index.sqlite3").exists():
        from archiver.evidence.timestamps import check_stamps

        merge(report, check_stamps(root, tsa_cert))
    if in_archive and legacy_private_key_path(root).exists():
        report.notes.append(
            "the archive's private key is inside it (keys/archive-key.pem): whoever gets a copy can "
            "sign as you; move it out of the archive and point ARCHIVER_KEY_FILE at it"
        )
    if wanted is not None:
        report.count("signatures")
        if trusted != wanted:
            report.add("signatures", f"{source} has fingerprint {trusted}, not the pinned {wanted}")
    if as_json:
        print_json({**report.to_json(), "key": {"fingerprint": trusted, "source": source}})
    else:
        render(stdout_console(), report)
        emit(
            f"key trusted: {trusted} ({source})"
            if trusted
            else "key trusted: none (no archive key or --pubkey)"
        )
    return ExitStatus.OK if report.ok else ExitStatus.PROBLEMS


def timestamp(root: Path, tsa_url: str, as_json: bool) -> ExitStatus:
    """Have a time-stamping authority sign the chain head; keep its token in the archive."""
    from archiver.archive import layout
    from archiver.evidence.timestamps import stamp

    if layout.is_read_only(root, writer=True):
        raise ArchiverError(f"{root} is read-only")
    with open_archive(root) as archive:
        kept = stamp(archive, tsa_url)
    if as_json:
        emit_json(kept.to_json())
    else:
        emit(f"timestamped head {kept.head} at {kept.time} by {kept.tsa} ({kept.path})")
    return ExitStatus.OK


def head(root: Path, as_json: bool) -> ExitStatus:
    """The chain head, to publish or mail: `verify --head` later proves nothing before it changed."""
    from archiver.evidence.anchor import current_head

    with open_archive(root) as archive:
        found = current_head(archive)
    if as_json:
        emit_json(found.to_json())
    else:
        emit(f"{found}  (capture {found.capture}, {found.captured_at})")
    return ExitStatus.OK


def key_init(root: Path, key_file: Path | None = None) -> ExitStatus:
    from archiver.archive import layout
    from archiver.evidence.keys import fingerprint, init_key, load_public_key, public_key_path

    if root.exists() and layout.is_read_only(root, writer=True):
        raise ArchiverError(f"{root} is read-only")
    try:
        path = init_key(root, key_file)
    except OSError as exc:
        raise ArchiverError(f"cannot create the key: {exc.filename or root}: {exc.strerror or exc}") from None
    public = load_public_key(public_key_path(root).read_bytes())
    emit(f"created {path} (private, mode 0600; outside the archive) and {public_key_path(root)}")
    emit(f"fingerprint {fingerprint(public)} (publish it: third parties pin it)")
    if key_file is not None:
        emit(f"capture, import and export find it with ARCHIVER_KEY_FILE={key_file}")
    return ExitStatus.OK


def key_export(root: Path) -> ExitStatus:
    """The archive's public key, which it keeps itself (no private key needed)."""
    from archiver.evidence.keys import load_private_key, load_public_key, public_key_path, public_pem

    public = public_key_path(root)
    if public.exists():
        pem = public_pem(load_public_key(public.read_bytes()))
    else:  # an archive made when the key lived in it
        private = load_private_key(root)
        if private is None:
            raise ArchiverError(f"the archive {root} has no key (run `archiver key init`)")
        pem = public_pem(private.public_key())
    print(pem.decode(), end="")
    return ExitStatus.OK


def export(
    root: Path, urls: list[str], output: Path, as_json: bool, capture_id: str | None = None
) -> ExitStatus:
    from archiver.evidence.export import export as write_wacz
    from archiver.evidence.export import export_capture

    result = export_capture(root, capture_id, output) if capture_id else write_wacz(root, urls, output)
    to_stdout = str(output) == "-"  # the package went to stdout: the summary goes to stderr
    if as_json:
        (say_json if to_stdout else print_json)(result.to_json())
        return ExitStatus.OK
    tell = (lambda line: say("", line)) if to_stdout else emit
    if capture_id:
        tell(f"wrote {output}: capture {capture_id} as a WARC file, {result.bytes} bytes")
        tell(f"check it: archiver verify --pubkey KEY.pem {output} (KEY.pem from `archiver key export`)")
        return ExitStatus.OK
    package = "package signed" if result.signed else "package unsigned (no archive key)"
    tell(
        f"wrote {output}: {result.captures} captures in {result.warc_files} WARC files, "
        f"{result.bytes} bytes, {package}; {result.signed_captures} of {result.captures} captures signed"
    )
    if result.signed:
        tell(f"check it: archiver verify --pubkey KEY.pem {output} (KEY.pem from `archiver key export`)")
    return ExitStatus.OK


def say_json(data: object) -> None:
    """JSON on stderr (when stdout carries a package)."""
    import json
    import sys

    print(json.dumps(data, ensure_ascii=True), file=sys.stderr, flush=True)


def import_files(root: Path, files: list[Path], as_json: bool) -> ExitStatus:
    from archiver.evidence.importer import import_files as bring_in
    from archiver.output.tables import capture_line

    results = bring_in(root, files)
    if as_json:
        print_json([result.to_json() for result in results])
        return ExitStatus.OK
    out = stdout_console()
    for result in results:
        for capture in result.captures:
            capture_line(out, capture)
        kept = f"kept as {result.source}" if result.source else "nothing new"
        recompressed = ", recompressed per record" if result.recompressed else ""
        skipped = f", {result.skipped} skipped" if result.skipped else ""
        line = f"{result.origin}: {len(result.captures)} captures from {result.records} records"
        emit(f"{line} ({kept}{recompressed}{skipped})")
    return ExitStatus.OK


def demo(root: Path | None) -> ExitStatus:
    from archiver.demo import run_demo

    return run_demo(root, stdout_console())


def watch_add(root: Path, sources: list[str], name: str | None, notify: list[str]) -> ExitStatus:
    """Register feeds, sitemaps or pages to watch (nothing is fetched until `watch run`)."""
    import time

    from archiver.archive.folder import Archive
    from archiver.urls import canonicalize, check_url
    from archiver.watch.events import check_notify_url
    from archiver.watch.state import WatchState, default_name

    for url in notify:
        check_notify_url(url)
    urls = [check_url(source) for source in sources]  # all of them good before anything is made
    Archive(root).close()  # the archive and its catalogue, made if need be
    state = WatchState(root, write=True)
    try:
        for url in urls:
            added = state.add_source(
                url, canonicalize(url), name or default_name(url), notify, int(time.time())
            )
            emit(f"watching {added.url} as {added.name}")
    finally:
        state.close()
    return ExitStatus.OK


def watch_list(root: Path, as_json: bool) -> ExitStatus:
    """The watched sources (read-only: nothing is created or written)."""
    from archiver.output.edits import sources_table
    from archiver.watch.state import WatchState

    open_archive(root).close()  # a clear line when there is no archive, or a damaged one
    state = WatchState(root, write=False)
    try:
        rows = [source.to_json() for source in state.sources()]
    finally:
        state.close()
    if as_json:
        emit_json(rows)
    else:
        sources_table(stdout_console(), rows)
    return ExitStatus.OK


def watch_remove(root: Path, target: str) -> ExitStatus:
    from archiver.urls import canonicalize
    from archiver.watch.state import WatchState

    open_archive(root).close()
    state = WatchState(root, write=True)
    try:
        key = None
        if "://" in target or "." in target:
            try:
                key = canonicalize(target)
            except ValueError:
                key = None
        source = state.source(target, key)
        if source is None:
            raise ArchiverError(f"not watched: {target} (see `archiver watch list`)")
        items = state.remove_source(source)
    finally:
        state.close()
    emit(f"no longer watching {source.name} ({source.url}); {items} articles forgotten, their captures kept")
    return ExitStatus.OK


def watch_run(root: Path, settings: WatchSettings, once: bool, as_json: bool) -> ExitStatus:
    """Watch until Ctrl-C (or one round with `once`)."""
    from archiver.output.watchlog import WatchLog
    from archiver.watch.run import run_watch
    from archiver.watch.schedule import SystemClock

    return run_watch(root, settings, SystemClock(), WatchLog(as_json), once)


def edits(
    root: Path, since: str | None, min_severity: str, url: str | None, as_json: bool, as_atom: bool
) -> ExitStatus:
    """The edits across the archive (watch's captures and plain `capture`'s alike), most
    recent first: each consecutive pair of captures of an article, diffed as `diff --all` does."""
    from archiver.diff.select import timeline
    from archiver.output.atom import render_feed
    from archiver.output.edits import edits_table
    from archiver.watch.events import at_least, edit_event, since_stamp

    after_stamp = since_stamp(since) if since else ""
    found = []
    with open_archive(root) as archive:
        if url is not None:
            canonical, captures = archive.article_captures(url)
            if not captures:
                raise ArchiverError(f"no captures of {url} in {root}")
            articles = [canonical] if len(captures) > 1 else []
        else:
            articles = [str(row["canonical_url"]) for row in archive.articles() if row["captures"] > 1]
        for article in articles:
            try:
                steps = timeline(archive, article)
            except ArchiverError as exc:  # not HTML, say: not an article to compare
                say("note", f"skipped {article}: {exc}")
                continue
            for before, after, diff in steps:
                if str(after.info["captured_at"]) < after_stamp:
                    continue
                event = edit_event(archive, before, after, diff, str(after.info["captured_at"]), None)
                if event is not None and at_least(event, min_severity):
                    found.append(event)
    found.sort(key=lambda e: str(e["after"]["captured_at"]), reverse=True)
    if as_atom:
        print(render_feed(found, "archiver: edits", f"urn:archiver:edits:{root.name}"), end="")
    elif as_json:
        print_json(found)
    else:
        edits_table(stdout_console(), found)
    return ExitStatus.OK
