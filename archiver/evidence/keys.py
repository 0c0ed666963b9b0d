"""The archive's ECDSA P-256 signing key: create, find, load, sign, verify. The private key
lives outside the archive (a keys folder in the user's config, or a file of the user's
choosing), found by the fingerprint of the public key the archive keeps.

WACZ packages are signed with a P-384 package key derived from it (ReplayWeb.page imports an
anonymous package key as P-384 only): no second secret to keep or lose, and the archive key
endorses it, so a verifier who pins the archive key trusts the package key too."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from pathlib import Path

from archiver.errors import ArchiverError

ALGORITHM = "ecdsa-p256-sha256"
PACKAGE_KEY_INFO = b"archiver WACZ package key, ECDSA P-384, v1"
ENDORSEMENT_PREFIX = b"archiver WACZ package key\n"
P384_ORDER = int(
    "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973", 16
)


def keys_folder() -> Path:
    """Where private keys live, outside every archive: $ARCHIVER_KEYS, else
    $XDG_CONFIG_HOME/archiver/keys, else ~/.config/archiver/keys."""
    if os.environ.get("ARCHIVER_KEYS"):
        return Path(os.environ["ARCHIVER_KEYS"])
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "archiver" / "keys"


def public_key_path(root: Path) -> Path:
    """The archive keeps only its public key: copying the folder never hands over the signing key."""
    return Path(root) / "keys" / "archive-key.pub.pem"


def legacy_private_key_path(root: Path) -> Path:
    """Where archives made before keys moved out kept their private key (still read)."""
    return Path(root) / "keys" / "archive-key.pem"


def private_key_path(root: Path) -> Path:
    """Where the archive's private key is: $ARCHIVER_KEY_FILE, an older archive's own
    keys/archive-key.pem, else KEYS_FOLDER/<fingerprint of the archive's public key>/."""
    if os.environ.get("ARCHIVER_KEY_FILE"):
        return Path(os.environ["ARCHIVER_KEY_FILE"])
    legacy = legacy_private_key_path(root)
    public = public_key_path(root)
    if legacy.exists() or not public.exists():
        return legacy
    return _folder_entry(fingerprint(load_public_key(public.read_bytes())))


def _folder_entry(print_: str) -> Path:
    return keys_folder() / print_.removeprefix("sha256:") / "archive-key.pem"


def init_key(root: Path, key_file: Path | None = None) -> Path:
    """Create the archive's key pair: the private key (mode 0600) at `key_file` or in the
    keys folder, outside the archive; the public key in the archive. Never replaces a key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    for existing in (public_key_path(root), legacy_private_key_path(root)):
        if existing.exists():
            raise ArchiverError(f"the archive already has a key ({existing}); not replacing it")
    if key_file is not None and key_file.resolve().is_relative_to(Path(root).resolve()):
        raise ArchiverError(
            f"--key-file {key_file} is inside the archive: whoever gets a copy could sign as you"
        )
    after = _last_seq(root)  # before anything is written: a damaged catalogue stops key init here
    key = ec.generate_private_key(ec.SECP256R1())
    path = key_file or _folder_entry(fingerprint(key.public_key()))
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public_key_path(root).parent.mkdir(parents=True, exist_ok=True)
    public_key_path(root).write_bytes(public_pem(key.public_key()))
    _write_since(root, key, after)
    return path


def since_path(root: Path) -> Path:
    """The key's signed word on where signing began: without it, an archive whose signatures
    were all stripped would look like one whose captures all predate its key."""
    return Path(root) / "keys" / "archive-key.since.json"


def _write_since(root: Path, private_key, after: int) -> None:
    """Sign "every capture after seq N is signed", N the archive's last seq at key init."""
    import json

    from archiver.record import canonical_json

    statement = {
        "signs_every_capture_after_seq": _last_seq(root),
        "key": fingerprint(private_key.public_key()),
    }
    data = {"statement": statement, "signature": sign(private_key, canonical_json(statement))}
    since_path(root).write_text(json.dumps(data, indent=1) + "\n")


def _last_seq(root: Path) -> int:
    """The seq of the archive's last capture (0 for a new or empty archive)."""
    if not (Path(root) / "index.sqlite3").exists():
        return 0
    from archiver.archive.folder import Archive

    with Archive(root, create=False) as archive:
        return max((c.seq for c in archive.all()), default=0)


def signed_since(root: Path, public_key) -> tuple[int | None, str | None]:
    """(the first seq `public_key` signs by its own statement, or None when there is none;
    a problem with the statement, or None)."""
    import json

    from archiver.record import canonical_json

    path = since_path(root)
    if not path.exists():
        return None, None
    try:
        data = json.loads(path.read_bytes()[: 1 << 16])
        statement, signature = data["statement"], data["signature"]
        after = statement["signs_every_capture_after_seq"]
        valid = isinstance(after, int) and not isinstance(after, bool) and isinstance(signature, dict)
    except (OSError, ValueError, RecursionError, KeyError, TypeError):
        valid = False
    if not valid:
        return None, f"{path.name} is not readable"
    if not verify_signature(public_key, canonical_json(statement), str(signature.get("signature", ""))):
        return None, f"{path.name} (where signing began) is not signed by the trusted key"
    return after + 1, None


def load_private_key(root: Path):  # -> ec.EllipticCurvePrivateKey | None
    """The archive's private key, or None when it is not here (an archive without a key, or a
    copy whose keeper kept the key). A key that is not the archive's is an error."""
    path = private_key_path(root)
    if not path.exists():
        return None
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise ArchiverError(f"cannot load archive key {path}: {exc}") from None
    public = public_key_path(root)
    if public.exists() and fingerprint(key.public_key()) != fingerprint(load_public_key(public.read_bytes())):
        raise ArchiverError(f"the private key {path} is not the key of the archive {root}")
    return key


def load_public_key(pem: bytes):  # -> ec.EllipticCurvePublicKey
    """A public key from PEM bytes."""
    from cryptography.hazmat.primitives import serialization

    try:
        return serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise ArchiverError(f"not a PEM public key: {exc}") from None


def public_pem(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_der_b64(public_key) -> str:
    """Base64 of the SubjectPublicKeyInfo DER (the WACZ signing spec's publicKey)."""
    from cryptography.hazmat.primitives import serialization

    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def fingerprint(public_key) -> str:
    """sha256: + hex of the SubjectPublicKeyInfo DER: what an archivist publishes and a
    verifier pins (`verify --fingerprint`)."""
    import hashlib

    return "sha256:" + hashlib.sha256(base64.b64decode(public_der_b64(public_key))).hexdigest()


def normal_fingerprint(text: str) -> str:
    """A fingerprint as given by a user: any case, with or without sha256: and colons."""
    value = text.strip().lower().removeprefix("sha256:").replace(":", "")
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ArchiverError(
            f"--fingerprint wants the 64 hex digits `archiver key init` printed, not {text!r}"
        )
    return "sha256:" + value


def signer(root: Path) -> Callable[[bytes], dict[str, str]] | None:
    """A function signing with the archive's private key; None for an archive without a key.
    An archive with a key whose private half is not here is refused: once it has a key,
    every capture must be signed by it."""
    private_key = load_private_key(root)
    if private_key is None and public_key_path(root).exists():
        print_ = fingerprint(load_public_key(public_key_path(root).read_bytes()))
        raise ArchiverError(
            f"the archive signs its captures with key {print_}, whose private key is not here "
            f"(looked for {private_key_path(root)}; set ARCHIVER_KEY_FILE)"
        )
    return None if private_key is None else lambda data: sign(private_key, data)


def sign(private_key, data: bytes) -> dict[str, str]:
    """Sign `data`: {"algorithm", "signature" (base64 DER ECDSA), "publicKey" (base64 SPKI)}."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    signature = private_key.sign(data, ec.ECDSA(hashes.SHA256()))
    return {
        "algorithm": ALGORITHM,
        "signature": base64.b64encode(signature).decode(),
        "publicKey": public_der_b64(private_key.public_key()),
    }


def sign_p1363(private_key, data: bytes) -> str:
    """Base64 of an ECDSA/SHA-256 signature of `data` as raw r||s (IEEE P1363, what WebCrypto
    and the WACZ signing spec's anonymous signatures use)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    r, s = decode_dss_signature(private_key.sign(data, ec.ECDSA(hashes.SHA256())))
    size = (private_key.curve.key_size + 7) // 8
    return base64.b64encode(r.to_bytes(size, "big") + s.to_bytes(size, "big")).decode()


def package_key(private_key):  # -> ec.EllipticCurvePrivateKey (P-384)
    """The P-384 key that signs the archive's WACZ packages, derived from its signing key by
    HKDF-SHA384 (the same key for every export, wherever the archive key is kept)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    if isinstance(private_key.curve, ec.SECP384R1):
        return private_key
    size = (private_key.curve.key_size + 7) // 8
    secret = private_key.private_numbers().private_value.to_bytes(size, "big")
    okm = HKDF(hashes.SHA384(), 64, salt=None, info=PACKAGE_KEY_INFO).derive(secret)
    # 512 bits reduced modulo the 384-bit group order: a negligibly biased scalar in [1, n-1]
    return ec.derive_private_key(int.from_bytes(okm, "big") % (P384_ORDER - 1) + 1, ec.SECP384R1())


def endorse(private_key, package_public_b64: str) -> dict[str, str]:
    """The archive key's signature over a package key (base64 SPKI): what ties a package
    signed with it to the archive key a verifier pins."""
    return sign(private_key, ENDORSEMENT_PREFIX + package_public_b64.encode())


def endorses(public_key, package_public_b64: str, endorsement: dict) -> bool:
    """True when `endorsement` is `public_key`'s signature over the package key."""
    return verify_signature(
        public_key, ENDORSEMENT_PREFIX + package_public_b64.encode(), str(endorsement.get("signature", ""))
    )


def load_public_der_b64(text: str):  # -> ec.EllipticCurvePublicKey
    """A public key from base64 SubjectPublicKeyInfo DER (as carried in signatures)."""
    from cryptography.hazmat.primitives import serialization

    try:
        return serialization.load_der_public_key(base64.b64decode(text, validate=True))
    except (ValueError, TypeError) as exc:
        raise ArchiverError(f"not a base64 DER public key: {exc}") from None


def verify_signature(public_key, data: bytes, signature_b64: str) -> bool:
    """True when `signature_b64` (base64 ECDSA, DER or raw r||s) signs `data` under `public_key`."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except ValueError:
        return False
    size = (public_key.curve.key_size + 7) // 8
    forms = [signature]
    if len(signature) == 2 * size:  # raw r||s
        forms.append(
            encode_dss_signature(
                int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
            )
        )
    for form in forms:
        try:
            public_key.verify(form, data, ec.ECDSA(hashes.SHA256()))
            return True
        except (InvalidSignature, ValueError):
            continue
    return False
