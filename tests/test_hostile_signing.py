"""patchkit's signature check accepts exactly what the model_signing library accepts (issue 10, item 7).

A differential test: 600 seeded mutations of ``patch.sig`` and ``patch.json`` (bytes flipped,
inserted, deleted, truncated; JSON keys renamed or deleted, values replaced by other types, media
types changed, the bundle reformatted), each judged by ``signing.verify_patch_signature`` and by
model_signing's own verifier configured as ``model_signing verify key`` is. Zero disagreements.
"""

from __future__ import annotations

import base64
import copy
import json
import random
import shutil
from pathlib import Path

import pytest

from patchkit import errors, signing

N_SIG, N_MANIFEST = 480, 120


def library_accepts(patch: Path, pub: Path) -> bool:
    """model_signing's verdict, configured like its CLI (`model_signing verify key`), independently of patchkit."""
    import contextlib
    import io

    import model_signing

    sig = patch / "patch.sig"
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            model_signing.verifying.Config().use_elliptic_key_verifier(public_key=pub).set_hashing_config(
                model_signing.hashing.Config().set_ignored_paths(paths=[sig], ignore_git_paths=True)
            ).verify(patch, sig)
        return True
    except Exception:
        return False


def ours_accepts(patch: Path, pem: bytes) -> bool:
    try:
        signing.verify_patch_signature(patch, pem)
        return True
    except errors.SignatureError:
        return False


_VALUES = [None, 0, -1, 1.5, True, "", "x", [], {}, [[]], "A" * 3, 10**30, "application/vnd.in-toto+json",
           "application/vnd.dev.sigstore.bundle.v0.3+json", "application/vnd.dev.sigstore.bundle+json;version=0.3"]


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def _get(obj, path):
    for p in path:
        obj = obj[p]
    return obj


def mutate_json(rng: random.Random, data):
    """One structural mutation of a JSON document (never the root itself unless replacing it)."""
    data = copy.deepcopy(data)
    paths = [p for p in _paths(data) if p]
    path = rng.choice(paths)
    parent, last = _get(data, path[:-1]), path[-1]
    op = rng.choice(["delete", "rename", "replace", "replace", "duplicate", "add"])
    if op == "delete":
        del parent[last]
    elif op == "rename" and isinstance(parent, dict):
        new = rng.choice([last.upper(), last + "_", last[:-1], last[0].lower() + last[1:] if last else "x", "payload", "sig", "hint"])
        parent[new] = parent.pop(last)
    elif op == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[last]))
    elif op == "add" and isinstance(parent, dict):
        parent[rng.choice(["extra", "keyid", "x509CertificateChain", "timestampVerificationData"])] = rng.choice(_VALUES)
    else:
        parent[last] = rng.choice(_VALUES)
    return data


def mutate_bytes(rng: random.Random, raw: bytes) -> bytes:
    raw = bytearray(raw)
    op = rng.choice(["flip", "flip", "insert", "delete", "truncate", "swap"])
    i = rng.randrange(len(raw))
    if op == "flip":
        raw[i] ^= 1 << rng.randrange(8)
    elif op == "insert":
        raw[i:i] = bytes([rng.choice(b' \n{}[]",:0aA=/+\\')])
    elif op == "delete":
        del raw[i]
    elif op == "truncate":
        del raw[i:]
    else:
        j = rng.randrange(len(raw))
        raw[i], raw[j] = raw[j], raw[i]
    return bytes(raw)


def mutate_sig(rng: random.Random, raw: bytes) -> bytes:
    bundle = json.loads(raw)
    kind = rng.choice(["bytes", "bytes", "json", "json", "json", "payload", "reformat", "b64"])
    if kind == "bytes":
        return mutate_bytes(rng, raw)
    if kind == "json":
        return json.dumps(mutate_json(rng, bundle)).encode()
    if kind == "payload":  # change the signed statement itself (re-encoded, not re-signed)
        statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
        bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(mutate_json(rng, statement)).encode()).decode()
        return json.dumps(bundle).encode()
    if kind == "b64":  # other spellings of the same bytes, or of nearly the same
        env = bundle["dsseEnvelope"]
        field = rng.choice(["payload", "sig"])
        holder = env if field == "payload" else env["signatures"][0]
        text = holder[field]
        holder[field] = rng.choice([text.rstrip("="), text + "\n", text.replace("+", "-").replace("/", "_"),
                                    base64.b64encode(base64.b64decode(text) + b"\0").decode(), text[:-4]])
        return json.dumps(bundle).encode()
    # reformat: same content, other bytes (key order, indentation, escapes) - must still verify
    return json.dumps(bundle, indent=rng.choice([None, 1, 4]), sort_keys=rng.random() < 0.5,
                      ensure_ascii=True, separators=rng.choice([None, (",", ":")])).encode()


def mutate_manifest(rng: random.Random, raw: bytes) -> bytes:
    if rng.random() < 0.5:
        return mutate_bytes(rng, raw)
    return json.dumps(mutate_json(rng, json.loads(raw)), indent=2).encode()


@pytest.mark.parametrize("target,count", [("patch.sig", N_SIG), ("patch.json", N_MANIFEST)])
def test_our_verifier_and_model_signing_never_disagree(gpt2_patch, keypair, tmp_path, target, count):
    patch = tmp_path / "p"
    shutil.copytree(gpt2_patch[1], patch)
    pem = keypair[1].read_bytes()
    original = (patch / target).read_bytes()
    rng = random.Random(f"issue10-{target}")
    verdicts, disagreements = {True: 0, False: 0}, []
    for i in range(count):
        mutated = (mutate_sig if target == "patch.sig" else mutate_manifest)(rng, original)
        (patch / target).write_bytes(mutated)
        lib, ours = library_accepts(patch, keypair[1]), ours_accepts(patch, pem)
        verdicts[lib] += 1
        if lib != ours:
            disagreements.append((i, lib, ours, mutated[:300]))
    (patch / target).write_bytes(original)
    assert ours_accepts(patch, pem) and library_accepts(patch, keypair[1])
    assert disagreements == []
    assert verdicts[False] > count // 2
    if target == "patch.sig":
        assert verdicts[True] >= 20  # reformatted bundles: the fast path accepted them, and so did the library


def test_canonical_bundles_never_reach_the_library(gpt2_patch, keypair, tmp_path, monkeypatch):
    """The fast check decides a well-formed valid signature alone (apply stays free of model_signing)."""
    def no_library(*a, **k):
        raise AssertionError("model_signing consulted for a canonical bundle")

    monkeypatch.setattr(signing, "_library_verify", no_library)
    patch = tmp_path / "p"
    shutil.copytree(gpt2_patch[1], patch)
    signing.verify_patch_signature(patch, keypair[1].read_bytes())
    bundle = json.loads((patch / "patch.sig").read_text())
    (patch / "patch.sig").write_text(json.dumps(bundle, indent=3, sort_keys=True))
    signing.verify_patch_signature(patch, keypair[1].read_bytes())
