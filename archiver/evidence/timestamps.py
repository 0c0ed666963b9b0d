"""Trusted time (RFC 3161): a time-stamping authority signs the chain head, so a third party
can prove the archive held that head at that time, and that nothing up to it was removed or
rewritten since, without trusting the archivist's clock or word. Tokens are kept in
ARCHIVE/timestamps/ and checked offline against the TSA's certificate (`verify --tsa-cert`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from archiver.archive import lock
from archiver.archive.folder import Archive
from archiver.errors import ArchiverError
from archiver.evidence.anchor import check_head, current_head
from archiver.evidence.findings import Report, merge

TIMESTAMPS = "timestamps"
GRANTED = (0, 1)  # PKIStatus granted, granted with modifications
MAX_REPLY = 1 << 20


@dataclass
class Stamp:
    """A token kept: the head it covers, the TSA's time, where it is."""

    head: str
    tsa: str
    time: str
    path: Path

    def to_json(self) -> dict[str, str]:
        return {"head": self.head, "tsa": self.tsa, "time": self.time, "token": str(self.path)}


def message(head: str) -> bytes:
    """What the TSA signs the digest of: the chain head, named as such."""
    return f"archiver chain head {head}".encode()


def stamp(archive: Archive, tsa_url: str, timeout: float = 30.0) -> Stamp:
    """Ask the TSA at `tsa_url` to sign the current chain head; keep the token."""
    import requests
    from rfc3161_client import TimestampRequestBuilder, decode_timestamp_response

    head = str(current_head(archive))
    request = (
        TimestampRequestBuilder()
        .data(message(head))
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    try:
        answer = requests.post(
            tsa_url,
            data=request.as_bytes(),
            headers={"Content-Type": "application/timestamp-query"},
            timeout=timeout,
            stream=True,
        )
        body = answer.raw.read(MAX_REPLY + 1, decode_content=True)
    except requests.RequestException as exc:
        raise ArchiverError(f"time-stamping authority {tsa_url}: {type(exc).__name__}") from None
    if answer.status_code != 200 or len(body) > MAX_REPLY:
        raise ArchiverError(f"time-stamping authority {tsa_url} answered HTTP {answer.status_code}")
    try:
        reply = decode_timestamp_response(der_sets(body))
    except ValueError as exc:
        raise ArchiverError(f"time-stamping authority {tsa_url} sent no timestamp reply ({exc})") from None
    if reply.status not in GRANTED:
        raise ArchiverError(f"time-stamping authority {tsa_url} refused the request (status {reply.status})")
    if reply.tst_info.nonce != request.nonce:
        raise ArchiverError(f"time-stamping authority {tsa_url} answered another request (nonce differs)")
    return _keep(archive, head, tsa_url, body, reply.tst_info.gen_time.isoformat())


def _keep(archive: Archive, head: str, tsa_url: str, token: bytes, time: str) -> Stamp:
    """Write the token and its note beside it, never over an existing one."""
    folder = archive.root / TIMESTAMPS
    with lock.exclusive(archive.root):
        folder.mkdir(exist_ok=True)
        seq, digest = head.split(":")
        for number in range(1000):
            path = folder / f"{int(seq):08d}-{digest[:16]}-{number}.tsr"
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                continue
            with os.fdopen(fd, "wb") as out:
                out.write(token)
                out.flush()
                os.fsync(out.fileno())
            note = {"head": head, "tsa": tsa_url, "time": time}
            path.with_suffix(".json").write_text(json.dumps(note, indent=1) + "\n")
            return Stamp(head, tsa_url, time, path)
    raise ArchiverError(f"too many timestamps of head {head}")


def check_stamps(root: Path, tsa_cert_pem: bytes | None) -> Report:
    """Every token kept: its signature against the TSA certificate (when given), the head it
    covers still in the chain (always): truncation or a rewrite after a timestamp is caught."""
    report = Report()
    folder = Path(root) / TIMESTAMPS
    tokens = sorted(folder.glob("*.tsr")) if folder.is_dir() else []
    if not tokens:
        if tsa_cert_pem is not None:
            report.count("timestamps")
            report.add("timestamps", "--tsa-cert given, but the archive keeps no timestamp")
        return report
    roots = _certificates(tsa_cert_pem) if tsa_cert_pem is not None else None
    for path in tokens:
        report.count("timestamps")
        where = {"path": f"{TIMESTAMPS}/{path.name}"}
        try:
            head = str(json.loads(path.with_suffix(".json").read_text())["head"])
            token = path.read_bytes()
        except (OSError, ValueError, RecursionError, KeyError, TypeError) as exc:
            report.add("timestamps", f"unreadable timestamp or its note ({exc})", **where)
            continue
        problem = _check_token(token, head, roots)
        if problem:
            report.add("timestamps", problem, **where)
            continue
        try:
            merge(report, check_head(root, head))
        except ArchiverError as exc:
            report.add("timestamps", str(exc), **where)
    if roots is None:
        report.notes.append("timestamps kept but not checked against their TSA: give --tsa-cert")
    return report


def _check_token(token: bytes, head: str, roots: list | None) -> str | None:
    from rfc3161_client import VerificationError, VerifierBuilder, decode_timestamp_response

    try:
        reply = decode_timestamp_response(der_sets(token))
    except ValueError:
        return "not an RFC 3161 timestamp reply"
    if roots is None:
        return None
    for root in roots:
        try:
            if VerifierBuilder().add_root_certificate(root).build().verify_message(reply, message(head)):
                return None
        except (VerificationError, ValueError):
            continue
    return f"the timestamp of head {head} does not verify with the TSA certificate given"


def _certificates(pem: bytes) -> list:
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise ArchiverError(f"--tsa-cert is not a PEM certificate ({exc})") from None


def der_sets(reply: bytes) -> bytes:
    """The reply with the SETs of its SignedData (digest algorithms, certificates, CRLs) in
    DER order. TSAs (openssl ts -reply -chain among them) list a certificate chain signer
    first, which DER forbids and rfc3161-client refuses (InvalidSetOrdering). Reordering
    changes no length and nothing signed (the signature covers the signed attributes), so
    the token stays valid; the bytes kept are the TSA's own. Unchanged when it is not a
    well-formed reply: the parser then says why."""
    data = bytearray(reply)
    try:
        _, start, end = _tlv(data, 0, len(data))  # TimeStampResp
        _, _, status_end = _tlv(data, start, end)  # PKIStatusInfo
        _, token, token_end = _tlv(data, status_end, end)  # ContentInfo
        _, _, oid_end = _tlv(data, token, token_end)  # contentType
        _, content, content_end = _tlv(data, oid_end, token_end)  # [0] EXPLICIT
        _, signed, signed_end = _tlv(data, content, content_end)  # SignedData
        pos = signed
        while pos < signed_end:
            tag, inner, after = _tlv(data, pos, signed_end)
            if tag in (0x31, 0xA0, 0xA1):  # a SET, and the [0] and [1] IMPLICIT SETs OF
                items, at = [], inner
                while at < after:
                    _, _, item_end = _tlv(data, at, after)
                    items.append(bytes(data[at:item_end]))
                    at = item_end
                data[inner:after] = b"".join(sorted(items))
            pos = after
    except ValueError:
        return reply
    return bytes(data)


def _tlv(data: bytearray, pos: int, limit: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at `pos`, which must end by `limit`."""
    if pos + 2 > limit or data[pos] & 0x1F == 0x1F:
        raise ValueError("truncated or multi-byte tag")
    tag, length, head = data[pos], data[pos + 1], pos + 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4 or head + count > limit:
            raise ValueError("bad length")
        length, head = int.from_bytes(data[head : head + count], "big"), head + count
    if head + length > limit:
        raise ValueError("element runs past its container")
    return tag, head, head + length
