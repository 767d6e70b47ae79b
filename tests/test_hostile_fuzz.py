"""Property-based fuzzing (hypothesis) of everything a patch or a base brings (issue 10).

One mutation per example, of bytes or of JSON fields, in ``patch.json``, ``delta.safetensors``,
``patch.sig``, a base weight file's safetensors header or a sharded base's index. Then ``verify``,
``apply``, ``revert`` and ``show`` run through the real entry point, trusting the signer's key or
with ``--allow-unsigned``. Every run must end with a non-zero exit code or a correct result, never
a traceback or an internal error, change nothing outside OUT and leave no staging behind.
Derandomized and bounded (``max_examples``) so the suite stays fast and repeatable.
"""

from __future__ import annotations

import json
import shutil
import struct
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from patchkit import checkpoint, delta, engine
from hostile_helpers import INTERNAL, leftovers, one_line_error, run_cli, tree

TARGETS = ["patch.json", "delta.safetensors", "patch.sig", "base-header", "base-index"]

# wrong types and edge values for any JSON field
_LEAVES = st.one_of(
    st.sampled_from([None, True, 0, -1, 2**64, 1.5, "", "F32", "I64", "../x.safetensors", "/etc/passwd",
                     [], {}, [[0, 1]], ["0", "4"], ["F32"], {"a": 1}]),
    st.integers(-(2**70), 2**70), st.text(max_size=8),
)
# raw JSON spellings no encoder produces: NaN, overflowing numbers, huge integers, deep nesting
_RAW = st.sampled_from(["NaN", "Infinity", "1e999", "1" * 5000, "[" * 3000 + "]" * 3000, '{"a":' * 2000 + "1" + "}" * 2000,
                        '"\\ud800"', "-0"])
# keys where a wrong value matters most: picked half of the time when present
_HOT = {"dtype", "shape", "data_offsets", "weight_map", "slice", "edits", "delta", "size", "numel", "signer",
        "public_key", "mediaType", "dsseEnvelope", "verificationMaterial", "tlogEntries", "signatures", "applied",
        "delta_l2", "delta_max_abs", "delta_key", "tensor", "base", "files"}


@st.composite
def mutations(draw):
    target = draw(st.sampled_from(TARGETS))
    kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "field", "field", "field", "raw-field", "raw-field"]))
    return {
        "target": target,
        "kind": kind,
        "pos": draw(st.floats(0, 1, exclude_max=True)),
        "hot": draw(st.booleans()),
        "bit": draw(st.integers(0, 7)),
        "byte": draw(st.integers(0, 255)),
        "leaf": draw(_LEAVES),
        "raw": draw(_RAW),
        "op": draw(st.sampled_from(["replace", "replace", "delete", "rename"])),
        "trust": draw(st.sampled_from(["pubkey", "allow-unsigned"])),
    }


def _json_paths(obj, prefix=()):
    if prefix:
        yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _json_paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _json_paths(v, prefix + (i,))


def _mutate_json(text: bytes, m) -> bytes:
    try:
        data = json.loads(text)
    except ValueError:
        return _mutate_bytes(text, {**m, "kind": "flip"})
    paths = list(_json_paths(data))
    if not paths:
        return b"[]"
    hot = [p for p in paths if p[-1] in _HOT]
    if m["hot"] and hot:
        paths = hot
    path = paths[int(m["pos"] * len(paths))]
    parent = data
    for p in path[:-1]:
        parent = parent[p]
    last = path[-1]
    marker = "\u2603MARK\u2603"
    if m["op"] == "delete":
        del parent[last]
    elif m["op"] == "rename" and isinstance(parent, dict):
        parent[last + "_"] = parent.pop(last)
    else:
        parent[last] = marker if m["kind"] == "raw-field" else m["leaf"]
    out = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
    return out.replace(json.dumps(marker, ensure_ascii=False), m["raw"]).encode()


def _mutate_bytes(raw: bytes, m) -> bytes:
    raw = bytearray(raw)
    i = int(m["pos"] * len(raw))
    if m["kind"] == "flip":
        raw[i] ^= 1 << m["bit"]
    elif m["kind"] == "insert":
        raw[i:i] = bytes([m["byte"]])
    elif m["kind"] == "delete":
        del raw[i]
    else:
        del raw[i:]
    return bytes(raw)


def _mutate_header(raw: bytes, m) -> bytes:
    """Mutate the JSON header of a safetensors file (fields) or its first bytes (length, header)."""
    (n,) = struct.unpack("<Q", raw[:8])
    if m["kind"] in ("field", "raw-field"):
        header = _mutate_json(raw[8 : 8 + n], m)
        return struct.pack("<Q", len(header)) + header + raw[8 + n :]
    return _mutate_bytes(raw[: 8 + n], m) + raw[8 + n :]


@pytest.fixture(scope="module")
def fuzz_inputs(make_pair, keypair, tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    single, sharded = make_pair("gpt2", "fp32", False), make_pair("gpt2", "fp32", True)
    single_patch = engine.create(single.base, single.edited, root / "single-patch", key=keypair[0])
    sharded_patch = engine.create(sharded.base, sharded.edited, root / "sharded-patch", key=keypair[0])
    return {"single": (single, single_patch), "sharded": (sharded, sharded_patch), "root": root}


@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(m=mutations())
def test_fuzzed_patches_and_bases_end_in_a_refusal_or_a_correct_result(fuzz_inputs, keypair, m):
    pair, patch_src = fuzz_inputs["sharded" if m["target"] == "base-index" else "single"]
    work = Path(tempfile.mkdtemp(dir=fuzz_inputs["root"]))
    try:
        _run_example(work, pair, patch_src, keypair, m)
    finally:
        shutil.rmtree(work)


def _run_example(work: Path, pair, patch_src: Path, keypair, m) -> None:
    patch, base = work / "patch", work / "base"
    shutil.copytree(patch_src, patch)
    shutil.copytree(pair.base, base)
    shutil.copy(keypair[1], work / "signer.pub")
    if m["target"] in ("patch.json", "patch.sig", "base-index"):
        path = base / checkpoint.INDEX_NAME if m["target"] == "base-index" else patch / m["target"]
        raw = path.read_bytes()
        path.write_bytes(_mutate_json(raw, m) if m["kind"] in ("field", "raw-field") else _mutate_bytes(raw, m))
    elif m["target"] == "delta.safetensors":
        path = patch / "delta.safetensors"
        path.write_bytes(_mutate_header(path.read_bytes(), m))
    else:
        path = base / "model.safetensors"
        path.write_bytes(_mutate_header(path.read_bytes(), m))

    trust = ["--pubkey", work / "signer.pub"] if m["trust"] == "pubkey" else ["--allow-unsigned"]
    out, back = work / "out", work / "back"
    before = tree(work)

    def run(*args, outputs=()):
        code, stdout, err = run_cli(*args)
        assert code != INTERNAL and "Traceback" not in err, (args, err)
        if code not in (0, 1):
            one_line_error(err)
        assert leftovers(work) == []
        return code, stdout

    run("verify", patch, "--base", base, *trust)
    run("show", patch)
    code, _ = run("apply", patch, base, "-o", out, *trust)
    event(f"{m['target']}: apply exit {code}")
    if code == 0:
        _assert_correct_apply(patch, base, out)
        code, _ = run("revert", patch, out, "-o", back, *trust)
        if code == 0:
            assert checkpoint.Checkpoint.open(back).fingerprint() == checkpoint.Checkpoint.open(base).fingerprint()
        run("show", out)
    after = tree(work)
    for name in list(after):
        if name.split("/")[0] in ("out", "back"):
            del after[name]
    assert after == before, "a file outside OUT changed"


def _assert_correct_apply(patch: Path, base: Path, out: Path) -> None:
    """OUT is the (possibly mutated) base with every edit slice moved to its patched hash, nothing else."""
    p = engine.Patch.load(patch)
    src, dst = checkpoint.Checkpoint.open(base), checkpoint.Checkpoint.open(out)
    assert set(src.tensors) == set(dst.tensors)
    edits = {e["tensor"]: e for e in p.edits}
    for name in src.tensors:
        a, b = src.read_tensor(name), dst.read_tensor(name)
        if name not in edits:
            assert delta.bits_equal(a, b), name
            continue
        idx = delta.index(engine._slice(edits[name]))
        assert checkpoint.sha256_array(b[idx].copy()) == edits[name]["patched_sha256"]
        a[idx] = b[idx]
        assert delta.bits_equal(a, b), name
