"""Save a fetched exchange as a capture: a request and a response record per hop (an
identical-payload revisit when the article's payload is already archived) written to a draft
outside the lock, then committed, alone or in a group, through the archive's one write path."""

from __future__ import annotations

from dataclasses import dataclass

import urllib3
from warcio.statusandheaders import StatusAndHeaders

from archiver.archive.commit import Draft, Pending, Roll, commit_group
from archiver.archive.folder import Archive
from archiver.article.decode import decode_html, decoded_prefix
from archiver.capture.fetch import FetchOptions, Hop, fetch, new_session
from archiver.evidence import keys
from archiver.record import Capture, iso, make_facts
from archiver.urls import canonicalize, page_canonical, same_site
from archiver.warc.writer import SOFTWARE, CaptureWriter, RecordSpan, make_record_id

PAGE_HEAD = 1 << 20  # decoded bytes of a page searched for its canonical URL


@dataclass
class CaptureResult:
    """What `capture` reports for one URL."""

    capture: Capture
    unchanged: bool | None  # None: first capture of this article
    note: str | None = None  # e.g. a redirect that was not followed

    def to_json(self) -> dict:
        return {**summary(self.capture, self.unchanged), "note": self.note}


class _AsReceived(StatusAndHeaders):
    """A response head written exactly as the server sent it: warcio would percent-encode
    non-ASCII header values and cannot encode a non-ASCII status line at all."""

    def __init__(self, hop: Hop) -> None:
        super().__init__(f"{hop.status} {hop.reason}".strip(), hop.headers, protocol=hop.protocol)
        self.raw_head = hop.head

    def compute_headers_buffer(self, header_filter: object = None) -> None:
        self.headers_buff = self.raw_head


def summary(c: Capture, unchanged: bool | None) -> dict:
    """The line `capture` and `import` print for a capture."""
    return {
        "id": c.id,
        "url": c.url,
        "final_url": c.final_url,
        "canonical_url": c.canonical_url,
        "status": c.status,
        "captured_at": c.captured_at,
        "warc_path": c.warc_path,
        "payload_sha256": c.payload_sha256,
        "bytes": c.bytes,
        "revisit": c.revisit,
        "unchanged": unchanged,
    }


@dataclass
class Prepared:
    """A fetched exchange written to a draft, waiting for its group commit."""

    pending: Pending
    note: str | None  # e.g. a redirect that was not followed


def capture_url(
    archive: Archive,
    url: str,
    options: FetchOptions,
    session: urllib3.PoolManager | None = None,
    roll: Roll | None = None,
) -> CaptureResult:
    """Fetch `url` and add it to `archive` as one capture (appended to `roll`, or to a file
    of its own) and one catalogue row."""
    prepared = prepare(archive, url, options, session or new_session())
    own = roll is None
    roll = roll or Roll(archive)
    try:
        return commit_prepared(archive, roll, [prepared])[0]
    finally:
        if own:
            roll.close()


def prepare(archive: Archive, url: str, options: FetchOptions, session: urllib3.PoolManager) -> Prepared:
    """Fetch `url` and write its exchange records to a draft, outside the writer lock."""
    hops = fetch(session, url, options)
    try:
        return _draft(archive, url, hops, options)
    finally:
        for hop in hops:
            hop.body.close()


def commit_prepared(archive: Archive, roll: Roll, prepared: list[Prepared]) -> list[CaptureResult]:
    """Commit drafts as one group (see commit.commit_group); their spools go either way."""
    try:
        rows = commit_group(archive, roll, [p.pending for p in prepared], keys.signer(archive.root))
    finally:
        for item in prepared:
            item.pending.draft.discard()
    return [
        CaptureResult(row, None if before is None else before == row.payload_sha256, item.note)
        for (row, before), item in zip(rows, prepared, strict=True)
    ]


def _draft(archive: Archive, url: str, hops: list[Hop], options: FetchOptions) -> Prepared:
    """The exchange records in a draft, and the facts its metadata record will hold."""
    final = hops[-1]
    canonical = _story_key(archive, url, final)
    original = archive.original_with_payload(canonical, final.payload_sha256)
    draft = Draft(archive, hops[0].started, options.warcinfo)
    try:
        response = _write_exchanges(draft.writer, hops, original)
        facts = make_facts(
            capture_id=draft.capture_id,
            url=url,
            canonical_url=canonical,
            final_url=final.url,
            status=final.status,
            reason=final.reason,
            content_type=final.header("Content-Type"),
            captured_at=iso(hops[0].started),
            fetch_end=iso(final.ended),
            redirects=[
                {"url": h.url, "status": h.status, "location": h.header("Location")} for h in hops[:-1]
            ],
            payload_sha256=final.payload_sha256,
            payload_length=final.body_length,
            response_record_id=response.record_id,
            revisit_of=original.id if original else None,
            software=SOFTWARE,
        )
        if options.cancel is not None and options.cancel.is_set():
            raise KeyboardInterrupt  # interrupted: nothing of this capture becomes visible
    except BaseException:
        draft.discard()
        raise
    return Prepared(Pending(draft, facts), final.note)


def _story_key(archive: Archive, url: str, final: Hop) -> str:
    """The catalogue key: the page's own canonical URL (so short links, AMP pages and copies
    join one story) when it is on the site the page came from, or names a story already
    archived; else the fetched URL's. A page cannot file itself under a stranger's story."""
    key = canonicalize(url)
    if final.status >= 300:
        return key
    head = decoded_prefix(final.body.read(), final.headers, PAGE_HEAD)
    final.body.seek(0)
    plain = [(name, value) for name, value in final.headers if name.lower() != "content-encoding"]
    text = decode_html(head, plain)
    named = page_canonical(text, final.url)
    if named is None:
        return key
    story = canonicalize(named)
    if story == key or same_site(named, final.url) or archive.history(story):
        return story
    return key


def _write_exchanges(writer: CaptureWriter, hops: list[Hop], original: Capture | None) -> RecordSpan:
    """A request and a response record per hop (a revisit for an unchanged final payload);
    returns the final response's span."""
    for index, hop in enumerate(hops):
        date = iso(hop.started)
        response_id = make_record_id()
        writer.request(hop.url, date, hop.request_head, response_id)
        status = _AsReceived(hop)
        if index == len(hops) - 1 and original is not None:
            span = writer.revisit(
                hop.url,
                date,
                response_id,
                status,
                hop.payload_sha256,
                (original.response_record_id, original.final_url, original.captured_at),
            )
        else:
            span = writer.response(
                hop.url, date, response_id, status, hop.body, hop.body_length, hop.payload_sha256
            )
    return span
