"""OMS signatures over patch directories, keys and trust."""

from __future__ import annotations

import shutil

import pytest

from patchkit import errors, signing


def test_keygen_writes_a_private_key_only_its_owner_reads(tmp_path):
    key, pub = signing.keygen(tmp_path / "k.pem")
    assert key.stat().st_mode & 0o777 == 0o600
    assert pub.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    with pytest.raises(errors.OutputExistsError):
        signing.keygen(key)
    signing.keygen(key, force=True)
    assert pub.read_bytes() == signing.public_pem_of_private(key)


def test_fingerprint_is_the_hint_inside_the_signature(gpt2_patch, keypair):
    _, patch = gpt2_patch
    assert signing.signature_key_hint(patch) == signing.fingerprint(keypair[1].read_bytes())


def test_signature_covers_every_file_but_readme(gpt2_patch, keypair, tmp_path):
    pem = keypair[1].read_bytes()
    patch = tmp_path / "p"
    shutil.copytree(gpt2_patch[1], patch)
    (patch / "README.md").write_text("model card")
    signing.verify_patch_signature(patch, pem)
    (patch / "panels").mkdir()
    (patch / "panels" / "new.jsonl").write_text("{}\n")
    with pytest.raises(errors.SignatureError, match="extra files: panels/new.jsonl"):
        signing.verify_patch_signature(patch, pem)
    shutil.rmtree(patch / "panels")
    (patch / "delta.safetensors").unlink()
    with pytest.raises(errors.SignatureError, match="missing files: delta.safetensors"):
        signing.verify_patch_signature(patch, pem)


def test_wrong_key_and_bad_keys(gpt2_patch, other_keypair, tmp_path):
    _, patch = gpt2_patch
    with pytest.raises(errors.SignatureError, match="does not verify"):
        signing.verify_patch_signature(patch, other_keypair[1].read_bytes())
    (tmp_path / "bad.pem").write_text("nope")
    with pytest.raises(errors.UsageError, match="keygen"):
        signing.sign_patch(patch, tmp_path / "bad.pem")


def test_trust_comes_from_pubkey_or_the_trusted_directory(keypair, other_keypair, tmp_path, monkeypatch):
    fp = signing.fingerprint(keypair[1].read_bytes())
    with pytest.raises(errors.UntrustedKeyError, match="not trusted"):
        signing.check_trusted(fp)
    with pytest.raises(errors.UntrustedKeyError):
        signing.check_trusted(fp, other_keypair[1])
    assert signing.check_trusted(fp, keypair[1]) == keypair[1]
    trusted = tmp_path / "trusted"
    trusted.mkdir()
    shutil.copy(keypair[1], trusted / "alice.pub")
    shutil.copy(keypair[0], trusted / "oops-private.pem")  # ignored, not a public key
    monkeypatch.setenv("PATCHKIT_TRUSTED_KEYS", str(trusted))
    assert signing.check_trusted(fp) == trusted / "alice.pub"


def _library_accepts(patch, pub) -> bool:
    import model_signing

    try:
        model_signing.verifying.Config().use_elliptic_key_verifier(public_key=pub).set_hashing_config(
            model_signing.hashing.Config().set_ignored_paths(paths=[patch / "patch.sig"])
        ).verify(patch, patch / "patch.sig")
        return True
    except Exception:
        return False


def _ours_accepts(patch, pub) -> bool:
    try:
        signing.verify_patch_signature(patch, pub.read_bytes())
        return True
    except errors.SignatureError:
        return False


@pytest.mark.parametrize(
    "tamper",
    ["none", "readme", "delta", "manifest", "extra", "missing", "sig-payload", "sig-bytes", "other-key", "gitignore"],
)
def test_our_verifier_agrees_with_model_signing(gpt2_patch, keypair, other_keypair, tmp_path, tamper):
    import base64
    import json

    patch = tmp_path / "p"
    shutil.copytree(gpt2_patch[1], patch)
    sig = patch / "patch.sig"
    bundle = json.loads(sig.read_text())
    if tamper == "readme":
        (patch / "README.md").write_text("card")
    elif tamper == "delta":
        (patch / "delta.safetensors").write_bytes((patch / "delta.safetensors").read_bytes()[:-1] + b"\0")
    elif tamper == "manifest":
        (patch / "patch.json").write_text((patch / "patch.json").read_text().replace('"name"', '"name" ', 1))
    elif tamper == "extra":
        (patch / "extra.txt").write_text("x")
    elif tamper == "missing":
        (patch / "delta.safetensors").unlink()
    elif tamper == "sig-payload":
        statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
        statement["predicate"]["resources"] = statement["predicate"]["resources"][:1]
        bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
        sig.write_text(json.dumps(bundle))
    elif tamper == "sig-bytes":
        raw = bytearray(base64.b64decode(bundle["dsseEnvelope"]["signatures"][0]["sig"]))
        raw[-1] ^= 1
        bundle["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(bytes(raw)).decode()
        sig.write_text(json.dumps(bundle))
    elif tamper == "other-key":
        signing.sign_patch(patch, other_keypair[0])
    elif tamper == "gitignore":
        (patch / ".gitignore").write_text("*\n")
    expected = tamper in ("none", "readme", "gitignore")
    assert _library_accepts(patch, keypair[1]) is expected
    assert _ours_accepts(patch, keypair[1]) is expected
