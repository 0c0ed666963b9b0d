"""Capture signatures: each signed manifest verifies with the trusted key, and once signing
has begun every later capture is signed; which key is trusted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from archiver.errors import ArchiverError
from archiver.evidence import keys
from archiver.evidence.findings import Report
from archiver.record import CaptureFile, canonical_json


def check_signatures(
    report: Report,
    captures: list[CaptureFile],
    public_key: Any,
    key_source: str,
    require: bool,
    path_of: Callable[[CaptureFile], str],
    first_signed_seq: int | None = None,
    location: str | None = None,
) -> None:
    """Each signed manifest verifies with the trusted key (or, without one, with the key it
    carries); once signing has begun, every later capture is signed.

    Unsigned captures before the first signed one were made before the key existed: a note
    (the signed manifests after them cover them through the hash chain), counted in the
    summary. An unsigned capture after a signed one is a problem (a signature stripped). With
    `require` (--pubkey), captures of which none is signed are a problem: the key proves
    nothing about them. `first_signed_seq` is where signing began in the whole chain, when
    only some of its captures are checked; `location` is where a problem about all of them
    is reported (default: the file of the first unsigned one)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    embedded_keys: set[str] = set()
    ordered = sorted(captures, key=_seq_of)
    signed = [_seq_of(c) for c in ordered if isinstance(c.metadata.get("signature"), dict)]
    known = [seq for seq in (*signed, first_signed_seq) if isinstance(seq, int)]
    first_signed = min(known, default=None)
    unkeyed, first_unkeyed = 0, None
    for capture in ordered:
        where = {
            "capture": capture.facts.get("id"),
            "path": path_of(capture),
            "record": capture.metadata_record.where(),
        }
        signature = capture.metadata.get("signature")
        if not isinstance(signature, dict):
            if first_signed is None:
                unkeyed += 1
                first_unkeyed = first_unkeyed or capture
            elif _seq_of(capture) < first_signed:
                report.unsigned_early += 1
            else:
                report.count("signatures")
                earlier = any(seq < _seq_of(capture) for seq in signed)
                report.add(
                    "signatures",
                    "capture is not signed although "
                    + ("earlier ones are" if earlier else "the key was made before it")
                    + " (signature removed?)",
                    **where,
                )
            continue
        report.count("signatures")
        data = canonical_json(capture.manifest)
        key = public_key
        if key is None:
            embedded_keys.add(str(signature.get("publicKey", "")))
            try:
                key = keys.load_public_der_b64(str(signature.get("publicKey", "")))
                if not isinstance(key, ec.EllipticCurvePublicKey):
                    raise ArchiverError("not an elliptic-curve key")
            except ArchiverError:
                report.add("signatures", "signature carries no readable public key", **where)
                continue
        if not keys.verify_signature(key, data, str(signature.get("signature", ""))):
            other = public_key is not None and signature.get("publicKey") != keys.public_der_b64(public_key)
            report.add(
                "signatures",
                "signature does not verify with "
                + (
                    f"{key_source} (made with another key)"
                    if other
                    else key_source
                    if public_key is not None
                    else "the key it carries"
                ),
                **where,
            )
    report.unsigned_unkeyed += unkeyed
    if unkeyed and require:
        report.count("signatures")
        report.add(
            "signatures",
            f"none of the {unkeyed} captures checked is signed, so nothing ties them to {key_source}",
            path=location or (path_of(first_unkeyed) if first_unkeyed else None),
        )
    if public_key is None and captures and embedded_keys:
        report.notes.append(
            "no archive key or --pubkey: signatures were checked only against the "
            "public keys they carry, which proves integrity, not authorship"
        )
        if len(embedded_keys) > 1:
            report.add("signatures", f"captures are signed with {len(embedded_keys)} different keys")


def _seq_of(capture: CaptureFile) -> int:
    """A capture's position in the chain (0 when its manifest has no usable seq)."""
    seq = capture.manifest.get("seq")
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else 0


def trusted_key(root: Path | None, pubkey_pem: bytes | None) -> tuple[Any, str]:
    """The key signatures must verify with: --pubkey, else the archive's own, else none."""
    if pubkey_pem is not None:
        return keys.load_public_key(pubkey_pem), "--pubkey key"
    if root is not None:
        public = keys.public_key_path(root)
        if public.exists():
            return keys.load_public_key(public.read_bytes()), "the archive key"
        private = keys.load_private_key(root)
        if private is not None:
            return private.public_key(), "the archive key"
    return None, "no key"
