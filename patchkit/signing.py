"""OpenSSF model signing for patch directories, and key trust.

The only module that touches ``model_signing``. A patch is signed as a
directory with an EC P-256 key, ignoring ``patch.sig`` itself and the Hub
model card ``README.md``; both are recorded as ignored paths inside the
signature, so the standard ``model_signing verify key`` command accepts the
patch as it is. A key's fingerprint is the sha256 of its PEM public key (the
same "hint" model_signing stores in the signature).

Signing uses the ``model_signing`` library. Verification accepts exactly what
``model_signing verify key`` accepts: a bundle in the exact form the library
writes, whose ECDSA P-256 signature (DSSE PAE over the in-toto statement) and
per-file sha256 match, is checked here with ``cryptography`` alone, because
importing ``model_signing`` pulls in sigstore and friends and costs 0.4-0.8 s
and ~60 MB, more than the rest of ``patchkit apply``. Any other bundle (another
form, a bad signature, changed files) is handed to the library, whose verdict
is final; a differential test over hundreds of mutated bundles checks the two
never disagree (tests/test_hostile_signing.py).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from patchkit import errors, safeio, settings

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


def fingerprint(public_pem: bytes, where: str = "public key") -> str:
    """sha256 (hex) of a PEM public key, normalised through a parse so formatting does not matter."""
    return hashlib.sha256(_public_pem(_load_public(public_pem, where))).hexdigest()


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
    """Check ``patch.sig`` covers exactly the patch's files and was made by ``public_pem``'s key.

    Accepts exactly what ``model_signing verify key`` accepts. A bundle in the exact form
    model_signing writes, with a valid signature over the patch's current files, is accepted by
    the fast check here without importing model_signing (0.4-0.8 s, ~60 MB); every other bundle
    is decided by the model_signing library itself, so the two can never disagree.
    """
    patch_dir = Path(patch_dir)
    sig = patch_dir / SIGNATURE_NAME
    if safeio.kind(sig) == "missing":
        raise errors.SignatureError(f"{sig}: missing: the patch is unsigned")
    raw = safeio.read_regular(sig, errors.SignatureError, limit=safeio.MAX_JSON_FILE)
    key = _load_public(public_pem, "signer key")
    try:
        canonical = _fast_check(raw, key, patch_dir)
        reason = None
    except errors.SignatureError as exc:
        canonical, reason = False, str(exc)
    if canonical:
        return
    library_reason = _library_verify(patch_dir, public_pem)
    if library_reason is None:
        return  # model_signing accepts it; so do we
    raise errors.SignatureError(f"{sig}: does not verify: {reason or library_reason}")


_BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
_STATEMENT_TYPE = "https://in-toto.io/Statement/v1"


def _fast_check(raw: bytes, key: ec.EllipticCurvePublicKey, patch_dir: Path) -> bool:
    """True when ``raw`` is a bundle in model_signing's exact form, signed by ``key`` over these files.

    Raises SignatureError (with a reason) when the signature or the files do not match; returns False
    when the bundle has any other form (then only the library may decide).
    """
    bundle = safeio.loads(raw, errors.SignatureError, SIGNATURE_NAME, "OMS signature bundle")
    hint = hashlib.sha256(_public_pem(key)).hexdigest()
    if not (
        _keys(bundle, "mediaType", "verificationMaterial", "dsseEnvelope")
        and bundle["mediaType"] == _BUNDLE_MEDIA_TYPE
        and bundle["verificationMaterial"] in ({"publicKey": {"hint": hint}, "tlogEntries": []},)
        and _keys(bundle["dsseEnvelope"], "payload", "payloadType", "signatures")
        and bundle["dsseEnvelope"]["payloadType"] == _IN_TOTO_TYPE
        and isinstance(bundle["dsseEnvelope"]["signatures"], list)
        and len(bundle["dsseEnvelope"]["signatures"]) == 1
        and _keys(bundle["dsseEnvelope"]["signatures"][0], "sig", "keyid")
        and bundle["dsseEnvelope"]["signatures"][0]["keyid"] == ""
    ):
        if isinstance(bundle, dict) and isinstance(bundle.get("verificationMaterial"), dict):
            found = (bundle["verificationMaterial"].get("publicKey") or {})
            if isinstance(found, dict) and isinstance(found.get("hint"), str) and found["hint"] and found["hint"] != hint:
                raise errors.SignatureError("made with another key (its key hint differs)")
        return False
    envelope = bundle["dsseEnvelope"]
    payload, signature = _b64(envelope["payload"]), _b64(envelope["signatures"][0]["sig"])
    if payload is None or signature is None:
        return False
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes

    pae = f"DSSEv1 {len(_IN_TOTO_TYPE)} {_IN_TOTO_TYPE} {len(payload)} ".encode() + payload
    try:
        key.verify(signature, pae, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise errors.SignatureError("ECDSA signature does not match (wrong key or altered bundle)") from None
    signed = _statement_resources(payload)
    if signed is None:
        return False
    actual = _file_digests(patch_dir)
    problems = []
    changed = sorted(n for n in set(signed) & set(actual) if signed[n] != actual[n])
    if changed:
        problems.append(f"{', '.join(changed)} changed since signing")
    for kind, names in (("extra", set(actual) - set(signed)), ("missing", set(signed) - set(actual))):
        if names:
            problems.append(f"{kind} files: {', '.join(sorted(names))}")
    if problems:
        raise errors.SignatureError("; ".join(problems))
    return True


def _statement_resources(payload: bytes) -> dict[str, str] | None:
    """The signed {relative path: sha256} of an in-toto statement in model_signing's exact form, else None."""
    try:
        statement = safeio.loads(payload, errors.SignatureError, "payload")
    except errors.SignatureError:
        return None
    if not (
        _keys(statement, "_type", "subject", "predicateType", "predicate")
        and statement["_type"] == _STATEMENT_TYPE
        and statement["predicateType"] == _PREDICATE_TYPE
        and isinstance(statement["subject"], list)
        and len(statement["subject"]) == 1
        and _keys(statement["subject"][0], "name", "digest")
        and isinstance(statement["subject"][0]["name"], str)
        and _keys(statement["subject"][0]["digest"], "sha256")
        and _keys(statement["predicate"], "serialization", "resources")
        and _same_serialization(statement["predicate"]["serialization"])
        and isinstance(statement["predicate"]["resources"], list)
    ):
        return None
    resources, root = {}, hashlib.sha256()
    for r in statement["predicate"]["resources"]:
        if not (_keys(r, "digest", "algorithm", "name") and r["algorithm"] == "sha256" and isinstance(r["name"], str)
                and isinstance(r["digest"], str) and _HEX64.fullmatch(r["digest"]) and r["name"] not in resources):
            return None
        resources[r["name"]] = r["digest"]
        root.update(bytes.fromhex(r["digest"]))
    if statement["subject"][0]["digest"]["sha256"] != root.hexdigest():
        return None
    return resources


_SERIALIZATION = {
    "method": "files",
    "ignore_paths": [".gitattributes", ".git", ".gitignore", ".github", SIGNATURE_NAME, "README.md"],
    "allow_symlinks": False,
    "hash_type": "sha256",
}
_HEX64 = re.compile(r"[0-9a-f]{64}")


def _same_serialization(found: object) -> bool:
    """The serialization model_signing writes for a patch (it lists the ignored paths in set order)."""
    if not _keys(found, *_SERIALIZATION):
        return False
    paths = found["ignore_paths"]
    return (
        isinstance(paths, list) and all(isinstance(p, str) for p in paths) and len(set(paths)) == len(paths)
        and sorted(paths) == sorted(_SERIALIZATION["ignore_paths"])
        and all(found[k] == v and type(found[k]) is type(v) for k, v in _SERIALIZATION.items() if k != "ignore_paths")
    )


def _keys(obj: object, *names: str) -> bool:
    return isinstance(obj, dict) and set(obj) == set(names)


def _b64(text: object) -> bytes | None:
    """Standard base64 in its one canonical spelling, else None."""
    if not isinstance(text, str):
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    return data if base64.b64encode(data).decode() == text else None


def _library_verify(patch_dir: Path, public_pem: bytes) -> str | None:
    """What ``model_signing verify key`` says about the patch: None if it accepts, else its reason."""
    import contextlib
    import io
    import tempfile

    try:
        import model_signing
    except ImportError as exc:  # a broken install: refuse rather than guess
        return f"model_signing is not importable ({exc})"
    sig = patch_dir / SIGNATURE_NAME
    with tempfile.TemporaryDirectory(prefix="patchkit-key-") as tmp:
        pub = Path(tmp) / "signer.pub"
        pub.write_bytes(public_pem)
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # it prints warnings on stdout
                model_signing.verifying.Config().use_elliptic_key_verifier(public_key=pub).set_hashing_config(
                    model_signing.hashing.Config().set_ignored_paths(paths=[sig], ignore_git_paths=True)
                ).verify(patch_dir, sig)
        except Exception as exc:  # the library signals every refusal with some exception
            detail = " ".join(str(exc).split())[:200] or type(exc).__name__
            return f"not a valid OMS signature (model_signing: {detail})"
    return None


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
        raw = safeio.read_regular(Path(patch_dir) / SIGNATURE_NAME, errors.SignatureError, limit=safeio.MAX_JSON_FILE)
        hint = safeio.loads(raw, errors.SignatureError, SIGNATURE_NAME)["verificationMaterial"]["publicKey"]["hint"]
        return hint if isinstance(hint, str) and hint else None
    except (errors.SignatureError, KeyError, TypeError):
        return None


def trusted_keys(pubkey: Path | None = None) -> dict[str, Path]:
    """Trusted keys by fingerprint: ``pubkey`` if given, plus every key file in the trusted-keys directory."""
    keys: dict[str, Path] = {}
    if pubkey is not None:
        keys[fingerprint(_read_key_file(Path(pubkey)), f"{pubkey}")] = Path(pubkey)
    directory = settings.trusted_keys_dir()
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            if path.suffix in KEY_SUFFIXES and path.is_file():
                try:
                    pem = safeio.read_regular(path, errors.SignatureError, limit=safeio.MAX_KEY_FILE, follow=True)
                    keys.setdefault(fingerprint(pem), path)
                except errors.PatchkitError:
                    # not a usable public key (a private .pem, another curve, a FIFO, too big):
                    # one bad file must not break every verify; the others still count
                    continue
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
    return safeio.read_regular(path, errors.UsageError, limit=safeio.MAX_KEY_FILE, follow=True)


def _load_public(pem: bytes, where: str) -> ec.EllipticCurvePublicKey:
    from cryptography.exceptions import UnsupportedAlgorithm

    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise errors.SignatureError(f"{where}: not a PEM public key (or one on an unsupported curve)") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise errors.SignatureError(f"{where}: not an EC P-256 public key")
    return key


def _load_private(key: Path) -> ec.EllipticCurvePrivateKey:
    from cryptography.exceptions import UnsupportedAlgorithm

    data = safeio.read_regular(Path(key), errors.UsageError, limit=safeio.MAX_KEY_FILE, follow=True)
    try:
        private = serialization.load_pem_private_key(data, None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise errors.UsageError(f"{key}: not an unencrypted PEM private key (make one with `patchkit keygen`)") from None
    if not isinstance(private, ec.EllipticCurvePrivateKey) or private.curve.name != "secp256r1":
        raise errors.UsageError(f"{key}: not an EC P-256 private key (make one with `patchkit keygen`)")
    return private

