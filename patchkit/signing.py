"""OpenSSF model signing for patch directories, and key trust.

The only module that touches ``model_signing``. A patch is signed as a
directory with an EC P-256 key, ignoring ``patch.sig`` itself and the Hub
model card ``README.md``; both are recorded as ignored paths inside the
signature, so the standard ``model_signing verify key`` command accepts the
patch as it is. A key's fingerprint is the sha256 of its PEM public key (the
same "hint" model_signing stores in the signature).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Iterator

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from patchkit import errors, settings

SIGNATURE_NAME = "patch.sig"
UNSIGNED_PATHS = (SIGNATURE_NAME, "README.md")
KEY_SUFFIXES = (".pub", ".pem")


def keygen(key: Path, *, force: bool = False) -> tuple[Path, Path]:
    """Write an EC P-256 private key (PEM, mode 0600) to ``key`` and its public key to ``key.pub``."""
    key, pub = Path(key), Path(f"{key}.pub")
    for path in (key, pub):
        if path.exists() and not force:
            raise errors.OutputExistsError(f"{path}: exists (pass --force to overwrite)")
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.chmod(key, 0o600)
    pub.write_bytes(_public_pem(private.public_key()))
    return key, pub


def public_pem_of_private(key: Path) -> bytes:
    """The PEM public key of a private key file."""
    private = _load_private(key)
    return _public_pem(private.public_key())


def fingerprint(public_pem: bytes) -> str:
    """sha256 (hex) of a PEM public key, normalised through a parse so formatting does not matter."""
    return hashlib.sha256(_public_pem(_load_public(public_pem, "public key"))).hexdigest()


def sign_patch(patch_dir: Path, key: Path) -> Path:
    """Sign every file of ``patch_dir`` except ``patch.sig`` and ``README.md``; return the signature path."""
    import model_signing

    _load_private(key)  # one clear error for a bad key before model_signing's own
    sig = Path(patch_dir) / SIGNATURE_NAME
    model_signing.signing.Config().use_elliptic_key_signer(private_key=Path(key)).set_hashing_config(
        _hashing_config()
    ).sign(Path(patch_dir), sig)
    return sig


def verify_patch_signature(patch_dir: Path, public_pem: bytes) -> None:
    """Check ``patch.sig`` covers exactly the patch's files and was made by ``public_pem``'s key."""
    import model_signing

    sig = Path(patch_dir) / SIGNATURE_NAME
    if not sig.is_file():
        raise errors.SignatureError(f"{sig}: missing: the patch is unsigned")
    with _temp_pem(public_pem) as pub:
        try:
            model_signing.verifying.Config().use_elliptic_key_verifier(public_key=pub).set_hashing_config(
                _hashing_config()
            ).verify(Path(patch_dir), sig)
        except Exception as exc:  # model_signing raises ValueError and library-specific types alike
            raise errors.SignatureError(f"{sig}: does not verify: {_explain(str(exc))}") from None


def signature_key_hint(patch_dir: Path) -> str | None:
    """The signer key fingerprint recorded inside ``patch.sig`` (None when absent or unreadable)."""
    try:
        bundle = json.loads((Path(patch_dir) / SIGNATURE_NAME).read_text("utf-8"))
        return bundle["verificationMaterial"]["publicKey"]["hint"] or None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def trusted_keys(pubkey: Path | None = None) -> dict[str, Path]:
    """Trusted keys by fingerprint: ``pubkey`` if given, plus every key file in the trusted-keys directory."""
    keys: dict[str, Path] = {}
    if pubkey is not None:
        keys[fingerprint(_read_key_file(Path(pubkey)))] = Path(pubkey)
    directory = settings.trusted_keys_dir()
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            if path.suffix in KEY_SUFFIXES and path.is_file():
                try:
                    keys.setdefault(fingerprint(path.read_bytes()), path)
                except errors.SignatureError:
                    continue  # not a public key (e.g. a private .pem); ignore rather than fail every command
    return keys


def check_trusted(key_fingerprint: str, pubkey: Path | None = None) -> Path:
    """Return the trusted key file with this fingerprint, or raise :class:`UntrustedKeyError`."""
    keys = trusted_keys(pubkey)
    if key_fingerprint in keys:
        return keys[key_fingerprint]
    where = f"--pubkey {pubkey}" if pubkey is not None else f"trusted keys in {settings.trusted_keys_dir()}"
    raise errors.UntrustedKeyError(
        f"signer key {key_fingerprint[:16]}… is not trusted ({where}); pass its public key with --pubkey, "
        "add it to PATCHKIT_TRUSTED_KEYS, or use --allow-unsigned"
    )


def _explain(message: str) -> str:
    """Shorten model_signing's manifest diff to the file names that differ."""
    changed = re.findall(r"Hash mismatch for '([^']+)'", message)
    parts = [f"{', '.join(changed)} changed since signing"] if changed else []
    for kind in ("Extra files found", "Missing files"):
        found = re.search(kind + r" in model '[^']*': ([^\]\"]+)", message)
        if found:
            parts.append(f"{kind.split()[0].lower()} files: {found.group(1).strip()}")
    return "; ".join(parts) or " ".join(message.split())[:200]


def _hashing_config():
    import model_signing

    return model_signing.hashing.Config().set_ignored_paths(paths=list(UNSIGNED_PATHS), ignore_git_paths=True)


def _public_pem(public_key: ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _read_key_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise errors.UsageError(f"{path}: cannot read public key ({exc.strerror})") from None


def _load_public(pem: bytes, where: str) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise errors.SignatureError(f"{where}: not a PEM public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise errors.SignatureError(f"{where}: not an EC P-256 public key")
    return key


def _load_private(key: Path) -> ec.EllipticCurvePrivateKey:
    try:
        private = serialization.load_pem_private_key(Path(key).read_bytes(), None)
    except OSError as exc:
        raise errors.UsageError(f"{key}: cannot read private key ({exc.strerror})") from None
    except (ValueError, TypeError):
        raise errors.UsageError(f"{key}: not an unencrypted PEM private key (make one with `patchkit keygen`)") from None
    if not isinstance(private, ec.EllipticCurvePrivateKey) or private.curve.name != "secp256r1":
        raise errors.UsageError(f"{key}: not an EC P-256 private key (make one with `patchkit keygen`)")
    return private


@contextlib.contextmanager
def _temp_pem(pem: bytes) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="patchkit-key-") as tmp:
        path = Path(tmp) / "key.pub"
        path.write_bytes(pem)
        yield path
