"""HTTP message heads as archived in WARC records: the status line and the headers
importing and replay care about."""

from __future__ import annotations


def parse_status(head: bytes) -> tuple[int, str, str]:
    """(status, reason, Content-Type) of an HTTP response head; status 0 if unreadable."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2) if lines else []
    try:
        status = int(parts[1])
    except (IndexError, ValueError):
        return 0, "", ""
    return status, parts[2] if len(parts) > 2 else "", header(head, "Content-Type") or ""


def header(head: bytes, name: str) -> str | None:
    """The first value of header `name` in an HTTP message head, or None."""
    prefix = name.lower() + ":"
    lines = head.decode("latin-1").split("\r\n")[1:]
    return next((line.split(":", 1)[1].strip() for line in lines if line.lower().startswith(prefix)), None)
