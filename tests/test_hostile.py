"""Hostile inputs (issue 10): crafted patches, bases, keys and outputs are refused in one line, with
their own exit code, writing nothing outside OUT and leaving nothing behind.

Every case runs the real entry point (``cli.main``) so the exit code table and the last-resort
handler are part of what is tested. The tree under the test's directory is compared before and
after: a refusal changes nothing there (OUT included, which must not appear).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from patchkit import checkpoint, cli, delta, engine, errors, signing
from hostile_helpers import INTERNAL, leftovers, one_line_error, rewrite_manifest, run_cli, tree


@pytest.fixture(scope="module")
def sharded_patch(make_pair, keypair, tmp_path_factory):
    pair = make_pair("gpt2", "fp32", True)
    out = tmp_path_factory.mktemp("sharded-patch") / "fix"
    engine.create(pair.base, pair.edited, out, key=keypair[0])
    return pair, out


@pytest.fixture
def work(gpt2_patch, keypair, tmp_path):
    """A private copy of a single-file-directory base, its patch and the signer's public key."""
    pair, patch = gpt2_patch
    shutil.copytree(pair.base, tmp_path / "base")
    shutil.copytree(patch, tmp_path / "patch")
    shutil.copy(keypair[1], tmp_path / "signer.pub")
    return SimpleNamespace(root=tmp_path, base=tmp_path / "base", patch=tmp_path / "patch", pub=tmp_path / "signer.pub",
                           out=tmp_path / "out", pair=pair, key=keypair[0])


@pytest.fixture
def sharded(sharded_patch, keypair, tmp_path):
    pair, patch = sharded_patch
    shutil.copytree(pair.base, tmp_path / "base")
    shutil.copytree(patch, tmp_path / "patch")
    shutil.copy(keypair[1], tmp_path / "signer.pub")
    index = json.loads((tmp_path / "base" / checkpoint.INDEX_NAME).read_text())
    return SimpleNamespace(root=tmp_path, base=tmp_path / "base", patch=tmp_path / "patch", pub=tmp_path / "signer.pub",
                           out=tmp_path / "out", pair=pair, index=index, touched=index["weight_map"][pair.tensor])


def refused(root: Path, args, code: int, match: str | None = None) -> str:
    """Run the CLI expecting a one-line refusal with ``code``; nothing under ``root`` may change."""
    before = tree(root)
    rc, _, err = run_cli(*args)
    line = one_line_error(err)
    assert rc == code, (rc, err)
    assert rc not in (0, 1, INTERNAL)
    if match:
        assert re.search(match, line), line
    assert tree(root) == before
    return line


def apply_args(w, **kw):
    args = ["apply", kw.get("patch", w.patch), kw.get("base", w.base), "-o", kw.get("out", w.out)]
    return args + (["--pubkey", w.pub] if kw.get("pub", True) else ["--allow-unsigned"]) + (["--force"] if kw.get("force") else [])


def write_index(w, weight_map) -> None:
    (w.base / checkpoint.INDEX_NAME).write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))


# ---- 1. a base cannot make apply write (or verify read) outside OUT ---------------------------------


@pytest.mark.parametrize("how", ["dotdot", "absolute", "link-out", "link-to-dir"])
def test_index_entries_must_be_files_inside_the_base(sharded, how):
    w = sharded
    outside = w.root / "outside.safetensors"
    shutil.move(w.base / w.touched, outside)
    if how in ("dotdot", "absolute"):
        target = "../outside.safetensors" if how == "dotdot" else str(outside)
        write_index(w, {k: (target if v == w.touched else v) for k, v in w.index["weight_map"].items()})
    elif how == "link-out":
        os.symlink(outside, w.base / w.touched)
    else:
        (w.root / "elsewhere").mkdir()
        shutil.move(outside, w.root / "elsewhere" / w.touched)
        os.symlink(w.root / "elsewhere", w.base / "sub")
        write_index(w, {k: (f"sub/{w.touched}" if v == w.touched else v) for k, v in w.index["weight_map"].items()})
    refused(w.root, apply_args(w), 7, "refusing the base|not a plain")
    before = tree(w.root)
    code, out, err = run_cli("verify", w.patch, "--base", w.base, "--pubkey", w.pub)
    assert code == 1 and "FAIL  base checkpoint" in out and "Traceback" not in err
    assert tree(w.root) == before


def test_links_inside_a_hugging_face_snapshot_are_followed_into_its_blobs(sharded, keypair):
    """The HF cache keeps files as links snapshots/<sha>/x -> ../../blobs/<hash>: that base is fine."""
    w = sharded
    repo = w.root / "hub" / "models--me--tiny"
    snap = repo / "snapshots" / ("a" * 40)
    (repo / "blobs").mkdir(parents=True)
    snap.mkdir(parents=True)
    for f in sorted(w.base.iterdir()):
        shutil.copy(f, repo / "blobs" / f.name)
        os.symlink(Path("../../blobs") / f.name, snap / f.name)
    code, _, err = run_cli(*apply_args(w, base=snap))
    assert code == 0, err
    assert checkpoint.Checkpoint.open(w.out).fingerprint() == checkpoint.Checkpoint.open(w.pair.edited).fingerprint()


def test_base_files_that_are_links_to_devices_or_outside_are_refused(work):
    os.symlink("/dev/zero", work.base / "tokenizer.json")
    refused(work.root, apply_args(work), 7, "tokenizer.json")
    (work.base / "tokenizer.json").unlink()
    (work.root / "secret.txt").write_text("not yours")
    os.symlink(work.root / "secret.txt", work.base / "tokenizer.json")
    refused(work.root, apply_args(work), 7, "tokenizer.json")
    (work.base / "tokenizer.json").unlink()
    os.mkfifo(work.base / "tokenizer.json")
    refused(work.root, apply_args(work), 7, "not a regular file")


def test_verify_base_refuses_what_apply_refuses(work):
    os.symlink("/dev/zero", work.base / "tokenizer.json")
    code, out, err = run_cli("verify", work.patch, "--base", work.base, "--pubkey", work.pub)
    assert code == 1 and "FAIL  base checkpoint" in out and "tokenizer.json" in out and "Traceback" not in err


def test_weights_that_are_links_to_devices_are_refused(work):
    (work.base / "model.safetensors").unlink()
    os.symlink("/dev/zero", work.base / "model.safetensors")
    refused(work.root, apply_args(work), 7, "model.safetensors")


# ---- 2. crafted input is one line with its own code, never a traceback ------------------------------


DEEP = "[" * 100_000 + "]" * 100_000
HUGE = "1" * 5000


@pytest.mark.parametrize("payload", ["deep", "huge-int", "nan"])
def test_crafted_json_in_patch_json(work, payload):
    text = (work.patch / "patch.json").read_text()
    text = {
        "deep": text.replace('"description": ""', f'"description": {DEEP}'),
        "huge-int": text.replace('"schema_version": 1', f'"schema_version": {HUGE}'),
        "nan": re.sub(r'"delta_l2": [0-9.e+-]+', '"delta_l2": NaN', text),
    }[payload]
    (work.patch / "patch.json").write_text(text)
    refused(work.root, apply_args(work), 3, "patch.json")
    code, out, err = run_cli("verify", work.patch, "--pubkey", work.pub)
    assert code == 1 and "FAIL  schema" in out and "Traceback" not in err
    refused(work.root, ["show", work.patch], 3)


@pytest.mark.parametrize("payload", ["deep", "huge-int", "list", "renamed", "no-tlog", "media-type"])
def test_crafted_patch_sig(work, payload):
    sig = work.patch / "patch.sig"
    bundle = json.loads(sig.read_text())
    if payload == "deep":
        bundle["verificationMaterial"]["x"] = "@"
        sig.write_text(json.dumps(bundle).replace('"@"', DEEP))
    elif payload == "huge-int":
        sig.write_text(json.dumps(bundle).replace('"tlogEntries": []', f'"tlogEntries": {HUGE}'))
    elif payload == "list":
        sig.write_text("[]")
    elif payload == "renamed":
        bundle["dsseEnvelope"]["payLoad"] = bundle["dsseEnvelope"].pop("payload")
        sig.write_text(json.dumps(bundle))
    elif payload == "no-tlog":
        del bundle["verificationMaterial"]["tlogEntries"]
        sig.write_text(json.dumps(bundle))
    else:
        bundle["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.2+json"
        sig.write_text(json.dumps(bundle))
    expected = payload == "no-tlog"  # model_signing itself accepts a bundle without tlogEntries
    assert _library_accepts(work.patch, work.pub) is expected
    if expected:
        assert run_cli(*apply_args(work))[0] == 0
    else:
        refused(work.root, apply_args(work), 5, "patch.sig")


def _library_accepts(patch: Path, pub: Path) -> bool:
    return signing._library_verify(patch, pub.read_bytes()) is None


def test_crafted_safetensors_headers_in_the_base(work):
    path = work.base / "model.safetensors"
    data = path.read_bytes()
    (n,) = np.frombuffer(data[:8], "<u8")
    header = json.loads(data[8 : 8 + n])
    name = next(k for k in header if k != "__metadata__")

    def write(header_bytes: bytes) -> None:
        header_bytes = header_bytes.ljust(int(n), b" ") if len(header_bytes) <= n else header_bytes
        path.write_bytes(len(header_bytes).to_bytes(8, "little") + header_bytes + data[8 + n :])

    for bad in (
        {**header, name: {**header[name], "dtype": ["F32"]}},
        {**header, name: {**header[name], "data_offsets": ["0", "4"]}},
        {**header, name: {**header[name], "shape": [-1, 4]}},
        {**header, name: {**header[name], "shape": [True]}},
        {**header, name: "F32"},
        [1, 2],
    ):
        write(json.dumps(bad).encode())
        refused(work.root, apply_args(work), 7, "model.safetensors")
    for raw in (DEEP.encode(), f'{{"x": {{"dtype": "F32", "shape": [{HUGE}], "data_offsets": [0, 4]}}}}'.encode(), b"\xff\xfe"):
        write(raw)
        refused(work.root, apply_args(work), 7, "model.safetensors")
    code, out, _ = run_cli("verify", work.patch, "--base", work.base, "--pubkey", work.pub)
    assert code == 1 and "FAIL  base checkpoint" in out


@pytest.mark.parametrize("index", ["list-map", "not-object", "deep", "huge-int", "non-string-file", "nan"])
def test_crafted_index(sharded, index):
    w = sharded
    path = w.base / checkpoint.INDEX_NAME
    path.write_text({
        "list-map": json.dumps({"weight_map": list(w.index["weight_map"].items())}),
        "not-object": "[1]",
        "deep": DEEP,
        "huge-int": '{"weight_map": {"a": ' + HUGE + "}}",
        "non-string-file": json.dumps({"weight_map": {k: 3 for k in w.index["weight_map"]}}),
        "nan": '{"weight_map": NaN}',
    }[index])
    refused(w.root, apply_args(w), 7, "index")


def test_delta_with_crafted_header_signed_by_a_trusted_key(work):
    """Even a trusted signer cannot crash apply with a hostile delta file."""
    delta_path = work.patch / "delta.safetensors"
    for raw in (DEEP.encode(), b'{"x": {"dtype": ["F32"], "shape": [1], "data_offsets": [0, 4]}}'):
        blob = len(raw).to_bytes(8, "little") + raw + b"\0" * 4
        delta_path.write_bytes(blob)
        import hashlib

        rewrite_manifest(work.patch, lambda m: m["delta"].update(sha256=hashlib.sha256(blob).hexdigest(), size=len(blob)), key=work.key)
        refused(work.root, apply_args(work), 4, "delta.safetensors")


def _curve_pem(oid_tail: str = "09") -> bytes:
    from cryptography.hazmat.primitives import serialization as s
    from cryptography.hazmat.primitives.asymmetric import ec

    der = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo)
    der = der.replace(bytes.fromhex("2a8648ce3d030107"), bytes.fromhex("2a8648ce3d0301" + oid_tail))
    return b"-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(der) + b"-----END PUBLIC KEY-----\n"


def test_keys_on_unsupported_curves(work, monkeypatch):
    bad = work.root / "bad.pub"
    bad.write_bytes(_curve_pem())
    refused(work.root, apply_args(work) + ["--pubkey", bad], 5, "bad.pub|public key")
    # one bad key in the trusted directory must not break every verify
    trusted = work.root / "trusted"
    trusted.mkdir()
    (trusted / "a-bad.pub").write_bytes(_curve_pem())
    os.symlink("/dev/zero", trusted / "b-zero.pub")
    (trusted / "c-huge.pub").write_bytes(b"x" * (1 << 20))
    shutil.copy(work.pub, trusted / "d-good.pub")
    monkeypatch.setenv("PATCHKIT_TRUSTED_KEYS", str(trusted))
    code, out, err = run_cli("verify", work.patch)
    assert code == 0, out + err
    # in the manifest: the signer's key on a curve nobody supports
    rewrite_manifest(work.patch, lambda m: m["signer"].update(public_key=_curve_pem().decode()))
    refused(work.root, apply_args(work), 5, "signer")


def _safetensors(path: Path, tensors: dict[str, tuple[str, list[int], bytes]]) -> Path:
    """Write a safetensors file by hand (numpy has no fp8)."""
    header, blobs, pos = {}, [], 0
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [pos, pos + len(raw)]}
        blobs.append(raw)
        pos += len(raw)
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + b"".join(blobs))
    return path


@pytest.mark.parametrize("dtype", ["I64", "BOOL", "F8_E4M3"])
def test_edits_of_integer_bool_or_fp8_tensors(tmp_path, keypair, dtype):
    raw = {"I64": np.arange(12, dtype=np.int64), "BOOL": np.ones(12, dtype=bool), "F8_E4M3": np.arange(12, dtype=np.uint8)}[dtype]
    w = np.arange(12, dtype=np.float32)
    base = _safetensors(tmp_path / "base.safetensors", {"w": ("F32", [12], w.tobytes()), "t": (dtype, [12], raw.tobytes())})
    w[3] += 1
    edited = _safetensors(tmp_path / "edited.safetensors", {"w": ("F32", [12], w.tobytes()), "t": (dtype, [12], raw.tobytes())})
    patch = engine.create(base, edited, tmp_path / "p", key=keypair[0])
    rewrite_manifest(patch, lambda m: m["edits"][0].update(tensor="t", dtype=dtype), key=keypair[0])
    shutil.copy(keypair[1], tmp_path / "k.pub")
    refused(tmp_path, ["apply", patch, base, "-o", tmp_path / "out.safetensors", "--pubkey", tmp_path / "k.pub"], 4, f"cannot patch {dtype}")


def test_out_whose_parent_is_a_file(work):
    (work.root / "afile").write_text("x")
    refused(work.root, apply_args(work, out=work.root / "afile" / "out"), 2, "is a file")
    with pytest.raises(errors.UsageError, match="is a file"):  # the library checks it too
        engine.apply(work.patch, work.base, work.root / "afile" / "out", pubkey=work.pub)


@pytest.mark.parametrize("record", ["not-json", "deep", "applied-int", "entries-not-objects", "edits-crafted", "directory"])
def test_malformed_applied_record(work, record):
    assert run_cli(*apply_args(work))[0] == 0
    path = work.out / engine.APPLIED_RECORD
    if record == "directory":
        path.unlink()
        path.mkdir()
    else:
        path.write_text({"not-json": "{", "deep": DEEP, "applied-int": '{"applied": 3}',
                         "entries-not-objects": '{"applied": [1, "x"]}',
                         "edits-crafted": json.dumps({"applied": [{"name": "x", "patch_sha256": "y", "signer": None,
                                                                   "edits": [{"tensor": work.pair.tensor, "slice": "zz"}]}]}),
                         }[record])
    refused(work.root, ["show", work.out], 7, "applied")
    refused(work.root, apply_args(work, base=work.out, out=work.root / "again"), 7, "applied")
    refused(work.root, ["revert", work.patch, work.out, "-o", work.root / "back", "--pubkey", work.pub], 7, "applied")


def test_unexpected_exceptions_are_internal_errors_not_exit_1(work, monkeypatch):
    def bug(*a, **k):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(engine, "_plan", bug)
    code, _, err = run_cli(*apply_args(work))
    line = one_line_error(err)
    assert code == INTERNAL and code != 1 and "internal error" in line and "report" in line
    assert not work.out.exists() and not leftovers(work.root)


def test_ctrl_c_is_one_line_and_leaves_nothing(work, monkeypatch):
    def interrupt(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, "write_rows", interrupt)
    before = tree(work.root)
    code, _, err = run_cli(*apply_args(work))
    assert code == 130 and err.strip() == "aborted" and "Traceback" not in err
    assert tree(work.root) == before


# ---- 3. only regular files are read ----------------------------------------------------------------


def test_patch_json_linked_to_dev_zero_or_a_fifo(work):
    (work.patch / "patch.json").unlink()
    os.symlink("/dev/zero", work.patch / "patch.json")
    refused(work.root, apply_args(work), 3, "link")
    (work.patch / "patch.json").unlink()
    os.mkfifo(work.patch / "patch.json")
    # a FIFO would block a plain open(); run in a subprocess so a regression fails instead of hanging
    code = "from patchkit import cli; cli.main(['verify', %r, '--pubkey', %r])" % (str(work.patch), str(work.pub))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "FAIL  schema" in r.stdout and "FIFO" in r.stdout and "Traceback" not in r.stderr


@pytest.mark.parametrize("name", ["patch.sig", "README.md", "delta.safetensors"])
def test_links_inside_a_patch_are_refused_by_apply_as_by_verify(work, name):
    real = work.root / f"real-{name}"
    if (work.patch / name).exists():
        shutil.move(work.patch / name, real)
    else:
        real.write_text("card")
    os.symlink(real, work.patch / name)
    refused(work.root, apply_args(work), 4, name)
    code, out, _ = run_cli("verify", work.patch, "--pubkey", work.pub)
    assert code == 1 and "FAIL" in out


def test_oversized_manifest_is_refused_without_reading_it_all(work):
    with open(work.patch / "patch.json", "ab") as fh:
        fh.truncate(9 << 20)  # 9 MiB (zeros after the JSON), over the 8 MiB limit
    refused(work.root, apply_args(work), 3, "limit")


# ---- 4, 5. crash leftovers, durability, disk full -------------------------------------------------


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_staging_of_a_dead_process_is_removed_by_the_next_run(work):
    stale = work.root / f".out.patchkit-tmp-{_dead_pid()}-deadbeef"
    (stale / "out").mkdir(parents=True)
    (stale / "out" / "model.safetensors").write_bytes(b"partial")
    live = work.root / f".out.patchkit-tmp-{os.getppid()}-cafecafe"  # a live process: left alone
    live.mkdir()
    code, _, err = run_cli(*apply_args(work))
    assert code == 0, err
    assert "removed 1 staging directory" in err and not stale.exists() and live.exists()
    live.rmdir()
    assert not leftovers(work.root)


def test_a_run_killed_after_publishing_leaves_staging_that_the_refused_rerun_cleans(work):
    """Killed between the publishing rename and removing its staging: OUT is whole, the staging is garbage."""
    assert run_cli(*apply_args(work))[0] == 0
    stale = work.root / f".out.patchkit-tmp-{_dead_pid()}-deadbeef"
    stale.mkdir()
    code, _, err = run_cli(*apply_args(work))  # OUT exists: refused (exit 2), and the dead run's staging goes
    assert code == 2 and "exists" in err
    assert not stale.exists() and not leftovers(work.root)


def test_everything_is_fsynced_before_the_rename(work, monkeypatch):
    events = []
    real_fsync, real_rename = os.fsync, checkpoint.rename_noreplace
    monkeypatch.setattr(checkpoint.os, "fsync", lambda fd: (events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}"))), real_fsync(fd))[1])
    monkeypatch.setattr(checkpoint, "rename_noreplace", lambda a, b: (events.append(("rename", str(b))), real_rename(a, b))[1])
    assert run_cli(*apply_args(work))[0] == 0
    names = [e for e in events if e[0] == "fsync"]
    rename_at = events.index(("rename", str(work.out)))
    synced = {Path(p).name for kind, p in events[:rename_at] if kind == "fsync"}
    assert {"model.safetensors", engine.APPLIED_RECORD, "out", "config.json"} <= synced
    assert events[-1][0] == "fsync" and events[-1][1] == str(work.root)  # the parent, after the rename
    assert names


@pytest.mark.parametrize("single", [False, True], ids=["dir", "single-file"])
def test_disk_full_is_one_line_and_publishes_nothing(work, monkeypatch, single):
    import errno

    base = work.base / "model.safetensors" if single else work.base
    out = work.root / ("out.safetensors" if single else "out")

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint, "_fsync_tree", full)  # everything is written; the disk fills at the end
    refused(work.root, apply_args(work, base=base, out=out), 14, "No space left")
    monkeypatch.undo()
    assert run_cli(*apply_args(work, base=base, out=out))[0] == 0
    record = engine._record_path(out)
    assert json.loads(record.read_text())["applied"][0]["name"] == "gpt2-fix"
    code, stdout, _ = run_cli("show", out, "--json")
    assert code == 0 and json.loads(stdout)["applied"]


# ---- 6. apply runs the checks verify runs ----------------------------------------------------------


def test_apply_refuses_a_nan_delta_even_with_matching_hashes(work):
    p = engine.Patch.load(work.patch)
    e = p.edits[0]
    d = p._delta(e).copy()
    d.reshape(-1)[0] = np.nan
    base_part = np.array(checkpoint.Checkpoint.open(work.base).read_tensor(e["tensor"])[delta.index(engine._slice(e))], order="C")
    import hashlib

    import safetensors.numpy

    blob = safetensors.numpy.save({e["delta_key"]: d}, metadata={"format": "patchkit-delta-1"})
    (work.patch / "delta.safetensors").write_bytes(blob)
    patched = checkpoint.sha256_array(delta.add_delta(base_part, d, e["dtype"]))
    rewrite_manifest(work.patch, lambda m: (m["edits"][0].update(patched_sha256=patched),
                                            m["delta"].update(sha256=hashlib.sha256(blob).hexdigest(), size=len(blob))), key=work.key)
    refused(work.root, apply_args(work), 4, "non-finite")
    code, out, _ = run_cli("verify", work.patch, "--pubkey", work.pub)
    assert code == 1 and "FAIL  delta statistics" in out


# ---- 8. --force never deletes an input ----------------------------------------------------------


def test_force_never_replaces_an_input(work, monkeypatch):
    trusted = work.root / "trusted"
    trusted.mkdir()
    shutil.copy(work.pub, trusted / "signer.pub")
    monkeypatch.setenv("PATCHKIT_TRUSTED_KEYS", str(trusted))
    for out in (work.pub, trusted, work.root, trusted / "sub"):
        refused(work.root, apply_args(work, out=out, force=True), 2, "input")
    key = work.root / "k.pem"
    shutil.copy(work.key, key)
    refused(work.root, ["create", work.pair.base, work.pair.edited, "-o", key, "--key", key, "--force"], 2, "input")
    refused(work.root, ["create", work.pair.base, work.pair.edited, "-o", work.root, "--key", key, "--force"], 2, "input")
    os.link(work.pub, work.root / "hardlinked.pub")
    refused(work.root, apply_args(work, out=work.root / "hardlinked.pub", force=True), 2, "input")
    # pull: checked before anything is fetched
    refused(work.root, ["pull", "someone/patch", "-o", work.pub, "--pubkey", work.pub, "--force"], 2, "input")
    refused(work.root, ["pull", "someone/patch", "-o", trusted, "--force"], 2, "input")


# ---- 9. concurrent applies to one OUT: exactly one wins ------------------------------------------


@pytest.mark.parametrize("single", [True, False], ids=["single-file", "dir"])
def test_concurrent_applies_have_exactly_one_winner(work, monkeypatch, single):
    base = work.base / "model.safetensors" if single else work.base
    out = work.root / ("out.safetensors" if single else "out")
    barrier = threading.Barrier(2, timeout=30)
    real = checkpoint._fsync_tree

    def both_ready(path):
        real(path)
        barrier.wait()  # both runs have checked OUT is absent and built it: now both publish

    monkeypatch.setattr(checkpoint, "_fsync_tree", both_ready)
    results = []

    def one():
        try:
            engine.apply(work.patch, base, out, pubkey=work.pub)
            results.append("ok")
        except errors.OutputExistsError:
            results.append("exists")

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == ["exists", "ok"]
    assert not leftovers(work.root)
    assert checkpoint.Checkpoint.open(out).fingerprint() == checkpoint.Checkpoint.open(work.pair.edited).fingerprint()


def test_rename_noreplace_never_replaces(tmp_path):
    (tmp_path / "a").write_text("a")
    (tmp_path / "b").write_text("b")
    with pytest.raises(errors.OutputExistsError):
        checkpoint.rename_noreplace(tmp_path / "a", tmp_path / "b")
    (tmp_path / "d").mkdir()
    (tmp_path / "e").mkdir()  # an empty directory: plain rename() would replace it
    with pytest.raises(errors.OutputExistsError):
        checkpoint.rename_noreplace(tmp_path / "d", tmp_path / "e")
    assert (tmp_path / "b").read_text() == "b"


# ---- no regression: what was refused is refused with the same one-line message ---------------------


def test_existing_refusals_keep_their_messages(work, other_keypair):
    refused(work.root, apply_args(work, out=work.base, force=True), 2, r"output must not be, contain or lie inside an input")
    work.out.mkdir()
    refused(work.root, apply_args(work), 2, r"exists \(pass --force to replace it\)")
    work.out.rmdir()
    refused(work.root, apply_args(work) + ["--pubkey", other_keypair[1]], 5, "")
    data = bytearray((work.patch / "delta.safetensors").read_bytes())
    data[-1] ^= 1
    (work.patch / "delta.safetensors").write_bytes(bytes(data))
    refused(work.root, apply_args(work), 5, r"delta.safetensors changed since signing")
    refused(work.root, apply_args(work, pub=False), 4, r"sha256 .* but manifest says .* \(tampered\?\)")
