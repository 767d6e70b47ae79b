"""OpenSSF model signing for patch directories, and key trust.

The only module that touches ``model_signing``. A patch is signed as a
directory with an EC P-256 key, ignoring ``patch.sig`` itself and the Hub
model card ``README.md``; both are recorded as ignored paths inside the
signature, so the standard ``model_signing verify key`` command accepts the
patch as it is. A key's fingerprint is the sha256 of its PEM public key (the
same "hint" model_signing stores in the signature).

Signing uses the ``model_signing`` library. Verification re-implements the
small part of OMS v1.0 a key-signed bundle needs (DSSE envelope, ECDSA P-256
over the PAE, the in-toto statement's per-file sha256) with ``cryptography``
alone: importing ``model_signing`` pulls in sigstore, TUF and boto3 and costs
0.5-1 s and ~60 MB, more than the rest of ``patchkit apply``. The tests check
that both verifiers agree.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from patchkit import errors, settings

SIGNATURE_NAME = "patch.sig"
UNSIGNED_PATHS = (SIGNATURE_NAME, "README.md")
_GIT_PATHS = (".git", ".gitattributes", ".github", ".gitignore")  # model_signing ignores these by default
_IGNORED = frozenset(UNSIGNED_PATHS + _GIT_PATHS)
_IN_TOTO_TYPE = "application/vnd.in-toto+json"
_PREDICATE_TYPE = "https://model_signing/signature/v1.0"
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
    patch_dir = Path(patch_dir)
    sig = patch_dir / SIGNATURE_NAME
    if not sig.is_file():
        raise errors.SignatureError(f"{sig}: missing: the patch is unsigned")
    try:
        signed = _verified_resources(sig, _load_public(public_pem, "signer key"))
    except errors.SignatureError as exc:
        raise errors.SignatureError(f"{sig}: does not verify: {exc}") from None
    actual = _file_digests(patch_dir)
    problems = []
    changed = sorted(n for n in set(signed) & set(actual) if signed[n] != actual[n])
    if changed:
        problems.append(f"{', '.join(changed)} changed since signing")
    for kind, names in (("extra", set(actual) - set(signed)), ("missing", set(signed) - set(actual))):
        if names:
            problems.append(f"{kind} files: {', '.join(sorted(names))}")
    if problems:
        raise errors.SignatureError(f"{sig}: does not verify: {'; '.join(problems)}")


def _verified_resources(sig: Path, key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    """Check the DSSE signature of an OMS bundle; return the signed {relative path: sha256}."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes

    try:
        bundle = json.loads(sig.read_text("utf-8"))
        envelope = bundle["dsseEnvelope"]
        payload_type = envelope["payloadType"]
        payload = base64.b64decode(envelope["payload"], validate=True)
        signature = base64.b64decode(envelope["signatures"][0]["sig"], validate=True)
        hint = (bundle.get("verificationMaterial", {}).get("publicKey") or {}).get("hint")
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise errors.SignatureError("not an OMS signature bundle") from None
    if hint and hint != hashlib.sha256(_public_pem(key)).hexdigest():
        raise errors.SignatureError("made with another key (its key hint differs)")
    if payload_type != _IN_TOTO_TYPE:
        raise errors.SignatureError(f"payload type {payload_type!r}, expected {_IN_TOTO_TYPE!r}")
    pae = f"DSSEv1 {len(payload_type)} {payload_type} {len(payload)} ".encode() + payload
    try:
        key.verify(signature, pae, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise errors.SignatureError("ECDSA signature does not match (wrong key or altered bundle)") from None
    try:
        statement = json.loads(payload)
        predicate = statement["predicate"]
        if statement["predicateType"] != _PREDICATE_TYPE or predicate["serialization"]["method"] != "files":
            raise errors.SignatureError(f"unsupported OMS predicate {statement['predicateType']!r}")
        resources = {}
        for r in predicate["resources"]:
            if r["algorithm"] != "sha256":
                raise errors.SignatureError(f"unsupported hash {r['algorithm']!r}")
            resources[r["name"]] = r["digest"]
        return resources
    except (ValueError, KeyError, TypeError):
        raise errors.SignatureError("malformed in-toto statement") from None


def _file_digests(patch_dir: Path) -> dict[str, str]:
    """sha256 of every file model_signing would hash (all but the unsigned and git paths); links refused."""
    from patchkit.checkpoint import file_sha256  # not at import time: keygen needs no numpy

    digests = {}
    for path in sorted(patch_dir.rglob("*")):
        rel = path.relative_to(patch_dir).as_posix()
        if rel.split("/")[0] in _IGNORED:
            continue
        if path.is_symlink():
            raise errors.SignatureError(f"{path}: symbolic links are not allowed in a patch")
        if path.is_file():
            digests[rel] = file_sha256(path)
    return digests


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

