"""Edit events as an Atom 1.0 feed (RFC 4287) and as plain text: severity, headline before →
after, the flagged sentences with their `why`, and the evidence digests to check them by.
Page text is cleaned by the one sanitizer (XML 1.0 takes no control characters either)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from archiver import __version__
from archiver.output.sanitize import clean

ATOM = "http://www.w3.org/2005/Atom"
MAX_CHANGES = 20  # changes listed in one entry; the rest are counted


def _text(value: object) -> str:
    return clean(value, newlines=True)


def entry_title(event: dict) -> str:
    headline = event.get("headline") or {}
    before, after = headline.get("before") or "", headline.get("after") or ""
    shown = f"{before} → {after}" if headline.get("changed") else (after or before or event.get("url", ""))
    return clean(f"[{event['severity'].upper()}] {event['event'].replace('_', ' ')}: {shown}")


def entry_text(event: dict) -> str:
    """What an edit was, in plain lines (an Atom entry's content, a notification's body)."""
    headline = event.get("headline") or {}
    lines = [f"{event['severity'].upper()} {event['event'].replace('_', ' ')} of {event.get('url')}"]
    if headline.get("changed"):
        lines.append(f"Headline: {headline.get('before')} → {headline.get('after')}")
        if headline.get("why"):
            lines.append(f"  why: {'; '.join(headline['why'])}")
    elif headline.get("after"):
        lines.append(f"Headline: {headline['after']}")
    if event.get("status"):
        lines.append(str(event["status"]))
    changes = event.get("changes") or []
    for change in changes[:MAX_CHANGES]:
        flags = f" [{', '.join(change['flags'])}]" if change.get("flags") else ""
        lines.append(f"- {change['severity'].upper()} {change['kind']}{flags}:")
        if change.get("before") is not None:
            lines.append(f"    before: {change['before']}")
        if change.get("after") is not None:
            lines.append(f"    after:  {change['after']}")
        if change.get("why"):
            lines.append(f"    why: {'; '.join(change['why'])}")
    if len(changes) > MAX_CHANGES:
        lines.append(f"... and {len(changes) - MAX_CHANGES} more changes")
    for side in ("before", "after"):
        proof = (event.get("evidence") or {}).get(side) or {}
        lines.append(
            f"Evidence {side}: capture {proof.get('id')} at {proof.get('captured_at')}, "
            f"payload sha256:{proof.get('payload_sha256')}, manifest sha256:{proof.get('manifest_sha256')}"
            + (", signed" if proof.get("signed") else "")
        )
    before_id = (event.get("before") or {}).get("id")
    after_id = (event.get("after") or {}).get("id")
    lines.append(f"Check: archiver diff --from {before_id} --to {after_id} {event.get('url')}")
    return _text("\n".join(lines))


def _updated(event: dict) -> str:
    return str(event.get("detected_at") or (event.get("after") or {}).get("captured_at") or "")


def render_feed(events: list[dict], title: str, feed_id: str) -> str:
    """An Atom feed of `events`, newest first as given."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = clean(title)
    ET.SubElement(feed, f"{{{ATOM}}}id").text = clean(feed_id)
    newest = max((_updated(e) for e in events), default="") or datetime.now(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _rfc3339(newest)
    ET.SubElement(feed, f"{{{ATOM}}}generator", version=__version__).text = "archiver"
    for event in events:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        before = (event.get("before") or {}).get("id")
        after = (event.get("after") or {}).get("id")
        ET.SubElement(entry, f"{{{ATOM}}}id").text = clean(f"urn:archiver:{event['event']}:{before}:{after}")
        ET.SubElement(entry, f"{{{ATOM}}}title").text = entry_title(event)
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _rfc3339(_updated(event))
        author = ET.SubElement(entry, f"{{{ATOM}}}author")
        ET.SubElement(author, f"{{{ATOM}}}name").text = clean(event.get("watch") or "archiver")
        ET.SubElement(entry, f"{{{ATOM}}}link", href=clean(event.get("url") or ""), rel="alternate")
        ET.SubElement(entry, f"{{{ATOM}}}category", term=event["severity"], label="severity")
        ET.SubElement(entry, f"{{{ATOM}}}category", term=event["event"], label="event")
        ET.SubElement(entry, f"{{{ATOM}}}content", type="text").text = entry_text(event)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def _rfc3339(stamp: str) -> str:
    """A WARC-Date or ISO time as RFC 3339 (Atom wants seconds and a zone)."""
    text = stamp.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
