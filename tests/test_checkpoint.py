"""Safetensors checkpoints read by header: layouts, slices, hashes, refusals."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from patchkit import checkpoint, errors
from conftest import load_tensors


@pytest.mark.parametrize("dtype", ["fp32", "fp16", "bf16"])
def test_reads_match_safetensors(make_pair, dtype):
    pair = make_pair("llama", dtype, True)
    ckpt = checkpoint.Checkpoint.open(pair.base)
    ref = load_tensors(pair.base)
    assert set(ckpt.tensors) == set(ref) and len(ckpt.files) > 1
    for name, t in ref.items():
        got = checkpoint.to_torch(ckpt.read_tensor(name), ckpt.tensors[name].dtype)
        assert got.dtype == t.dtype and torch.equal(got, t)
    rows = ckpt.read_rows(pair.tensor, 8, 16)
    assert torch.equal(checkpoint.to_torch(rows, ckpt.tensors[pair.tensor].dtype), ref[pair.tensor][8:16])


def test_fingerprint_is_layout_independent(make_pair):
    single, sharded = make_pair("llama", "fp32", False), make_pair("llama", "fp32", True)
    a, b = checkpoint.Checkpoint.open(single.base), checkpoint.Checkpoint.open(sharded.base)
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != checkpoint.Checkpoint.open(single.edited).fingerprint()
    files, _ = b.hash_all()
    assert [f["path"] for f in files] == b.files and all(f["size"] > 0 for f in files)


def test_torch_round_trip_of_every_float_dtype():
    for dt in (torch.float32, torch.float16, torch.bfloat16, torch.float64):
        t = torch.randn(3, 5).to(dt)
        a, name = checkpoint.from_torch(t[:, 1:4])
        assert torch.equal(checkpoint.to_torch(a, name), t[:, 1:4])
        assert checkpoint.sha256_array(a) == checkpoint.sha256_array(checkpoint.from_torch(t[:, 1:4].contiguous())[0])


def test_truncated_and_malformed_files_are_refused(make_pair, tmp_path):
    src = make_pair("gpt2", "fp32", False).base / "model.safetensors"
    data = src.read_bytes()
    cases = {"short.safetensors": data[:5], "cut.safetensors": data[:-1], "junk.safetensors": b"\xff" * 64}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(errors.CheckpointError):
            checkpoint.Checkpoint.open(tmp_path / name)


def test_pickles_are_refused_never_loaded(tmp_path):
    (tmp_path / "model.pt").write_bytes(b"\x80\x04not-really")
    with pytest.raises(errors.CheckpointError, match="never unpickles"):
        checkpoint.Checkpoint.open(tmp_path / "model.pt")
    (tmp_path / "pytorch_model.bin").write_bytes(b"x")
    with pytest.raises(errors.CheckpointError, match="convert"):
        checkpoint.Checkpoint.open(tmp_path)


def test_index_pointing_at_a_missing_shard_is_refused(make_pair, tmp_path):
    base = tmp_path / "base"
    shutil.copytree(make_pair("gpt2", "fp32", True).base, base)
    index = json.loads((base / checkpoint.INDEX_NAME).read_text())
    (base / sorted(set(index["weight_map"].values()))[0]).unlink()
    with pytest.raises(errors.CheckpointError, match="missing"):
        checkpoint.Checkpoint.open(base)


def test_write_at_rewrites_bytes_in_place(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"\0" * 16)
    with open(path, "r+b") as fh:
        checkpoint.write_at(fh, 4, np.array([1, 2], dtype="<u2"))
    assert path.read_bytes() == b"\0" * 4 + b"\x01\x00\x02\x00" + b"\0" * 8
