"""create / apply / revert / verify on tiny GPT-2 and Llama checkpoints (fp32/fp16/bf16, single and sharded)."""

from __future__ import annotations

import json
import os
import shutil

import pytest
import torch

from patchkit import engine, errors, manifest
from conftest import load_tensors, snapshot


def _assert_same_tensors(a, b):
    ta, tb = load_tensors(a), load_tensors(b)
    assert ta.keys() == tb.keys()
    for name in ta:
        assert ta[name].dtype == tb[name].dtype
        assert torch.equal(ta[name].view(torch.uint8), tb[name].view(torch.uint8)), name


@pytest.mark.parametrize("sharded", [False, True], ids=["single", "sharded"])
@pytest.mark.parametrize("dtype", ["fp32", "fp16", "bf16"])
@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_round_trip_is_bit_exact(make_pair, keypair, tmp_path, arch, dtype, sharded):
    pair = make_pair(arch, dtype, sharded)
    before = snapshot(pair.base), snapshot(pair.edited)
    patch = engine.create(pair.base, pair.edited, tmp_path / "patch", key=keypair[0])

    m = manifest.read(patch / "patch.json")
    assert [e["tensor"] for e in m["edits"]] == [pair.tensor]
    assert tuple(tuple(r) for r in m["edits"][0]["slice"]) == pair.slice
    assert m["edits"][0]["delta_dtype"] == ("F32" if dtype != "fp32" else m["edits"][0]["delta_dtype"])

    out = engine.apply(patch, pair.base, tmp_path / "out", pubkey=keypair[1])
    _assert_same_tensors(out, pair.edited)
    assert engine.applied_patches(out)[0]["name"] == "patch"

    back = engine.revert(patch, out, tmp_path / "back", pubkey=keypair[1])
    assert snapshot(back) == snapshot(pair.base)  # every file, byte for byte
    assert (snapshot(pair.base), snapshot(pair.edited)) == before


@pytest.mark.parametrize("arch, dtype, sharded", [("gpt2", "fp32", False), ("llama", "bf16", True)])
def test_transformers_loads_the_patched_checkpoint(make_pair, keypair, tmp_path, arch, dtype, sharded):
    import transformers

    pair = make_pair(arch, dtype, sharded)
    patch = engine.create(pair.base, pair.edited, tmp_path / "patch", key=keypair[0])
    out = engine.apply(patch, pair.base, tmp_path / "out", pubkey=keypair[1])
    model = transformers.AutoModelForCausalLM.from_pretrained(out, dtype="auto")
    w = model.state_dict()[pair.tensor]
    assert torch.equal(w, load_tensors(pair.edited)[pair.tensor])


def test_sharded_apply_links_untouched_shards(make_pair, keypair, tmp_path):
    pair = make_pair("llama", "fp32", True)
    patch = engine.create(pair.base, pair.edited, tmp_path / "patch", key=keypair[0])
    out = engine.apply(patch, pair.base, tmp_path / "out", pubkey=keypair[1])
    shards = sorted(p.name for p in pair.base.glob("*.safetensors"))
    assert len(shards) > 1
    linked = [s for s in shards if os.path.samefile(pair.base / s, out / s)]
    assert len(linked) == len(shards) - 1  # only the touched shard was copied


def test_create_accepts_a_mapping_of_edited_tensors(make_pair, keypair, tmp_path):
    pair = make_pair("gpt2", "bf16", False)
    edited = {pair.tensor: load_tensors(pair.edited)[pair.tensor]}
    patch = engine.create(pair.base, edited, tmp_path / "patch", key=keypair[0])
    out = engine.apply(patch, pair.base, tmp_path / "out", pubkey=keypair[1])
    _assert_same_tensors(out, pair.edited)


def test_create_records_base_method_evals_and_panels(make_pair, keypair, tmp_path):
    pair = make_pair("gpt2", "fp32", False)
    panel = tmp_path / "facts.jsonl"
    panel.write_text('{"prompt": "The capital of Poland is", "target": " Warsaw"}\n')
    evals = {"panels": [{"name": "facts", "kind": "facts", "file": "panels/facts.jsonl", "n": 1, "metric": "accuracy", "before": 0, "after": 1}]}
    patch = engine.create(
        pair.base, pair.edited, tmp_path / "patch", key=keypair[0], name="fix", description="d",
        method={"kind": "surgery", "anything": [1, 2]}, evals=evals, extra_files={"panels/facts.jsonl": panel},
        base_repo_id="org/model", base_revision="abc123",
    )
    p = engine.Patch.load(patch)
    assert p.manifest["base"]["repo_id"] == "org/model" and p.manifest["base"]["revision"] == "abc123"
    assert p.manifest["method"]["anything"] == [1, 2]
    assert (patch / "panels/facts.jsonl").read_text() == panel.read_text()
    total = sum(t.numel() for t in load_tensors(pair.base).values())
    assert p.manifest["base"]["num_parameters"] == total
    assert engine.verify(patch, pubkey=keypair[1]).ok


def test_create_is_reproducible_apart_from_time(make_pair, keypair, tmp_path):
    pair = make_pair("llama", "bf16", False)
    a = engine.create(pair.base, pair.edited, tmp_path / "a", key=keypair[0], name="x")
    b = engine.create(pair.base, pair.edited, tmp_path / "b", key=keypair[0], name="x")
    assert (a / "delta.safetensors").read_bytes() == (b / "delta.safetensors").read_bytes()
    ma, mb = (json.loads((p / "patch.json").read_text()) for p in (a, b))
    ma.pop("created"), mb.pop("created")
    assert ma == mb


def test_fingerprint_ignores_sharding(make_pair, keypair, tmp_path):
    single, sharded = make_pair("gpt2", "fp16", False), make_pair("gpt2", "fp16", True)
    a = engine.create(single.base, single.edited, tmp_path / "a", key=keypair[0])
    b = engine.create(sharded.base, sharded.edited, tmp_path / "b", key=keypair[0])
    ma, mb = engine.Patch.load(a).manifest, engine.Patch.load(b).manifest
    assert ma["base"]["fingerprint"] == mb["base"]["fingerprint"]
    assert ma["base"]["files"] != mb["base"]["files"]
    # a patch made on the single file applies to the sharded layout too
    out = engine.apply(a, sharded.base, tmp_path / "out", pubkey=keypair[1])
    _assert_same_tensors(out, sharded.edited)


def test_single_file_checkpoint_round_trip(make_pair, keypair, tmp_path):
    pair = make_pair("gpt2", "fp32", False)
    base, edited = pair.base / "model.safetensors", pair.edited / "model.safetensors"
    patch = engine.create(base, edited, tmp_path / "patch", key=keypair[0])
    out = engine.apply(patch, base, tmp_path / "out.safetensors", pubkey=keypair[1])
    assert out.read_bytes() == edited.read_bytes()
    assert [a["name"] for a in engine.applied_patches(out)] == ["patch"]
    back = engine.revert(patch, out, tmp_path / "back.safetensors", pubkey=keypair[1])
    assert back.read_bytes() == base.read_bytes()
    assert engine.applied_patches(back) == []


def test_fp32_delta_falls_back_to_fp64_when_needed(make_pair, keypair, tmp_path):
    pair = make_pair("gpt2", "fp32", False)
    t = load_tensors(pair.base)[pair.tensor].clone()
    t[0, 0] = 1 + 2**-23  # 16 - (1 + 2**-23) needs 27 significant bits: inexact in fp32, exact in fp64
    base = {pair.tensor: t}
    edited_t = t.clone()
    edited_t[0, 0] = 16.0
    from safetensors.torch import save_file

    full = load_tensors(pair.base)
    full.update(base)
    save_file(full, tmp_path / "base.safetensors")
    full[pair.tensor] = edited_t
    save_file(full, tmp_path / "edited.safetensors")
    patch = engine.create(tmp_path / "base.safetensors", tmp_path / "edited.safetensors", tmp_path / "p", key=keypair[0])
    assert engine.Patch.load(patch).edits[0]["delta_dtype"] == "F64"
    out = engine.apply(patch, tmp_path / "base.safetensors", tmp_path / "out.safetensors", pubkey=keypair[1])
    assert out.read_bytes() == (tmp_path / "edited.safetensors").read_bytes()


@pytest.mark.parametrize("arch, dtype", [("gpt2", "fp32"), ("llama", "bf16"), ("llama", "fp16")])
def test_patch_apply_to_and_revert_from_a_loaded_model(make_pair, keypair, tmp_path, arch, dtype):
    import transformers

    pair = make_pair(arch, dtype, False)
    patch = engine.create(pair.base, pair.edited, tmp_path / "patch", key=keypair[0])
    model = transformers.AutoModelForCausalLM.from_pretrained(pair.base, dtype="auto")
    p = engine.Patch.load(patch)
    p.apply_to(model)
    assert torch.equal(model.state_dict()[pair.tensor], load_tensors(pair.edited)[pair.tensor])
    with pytest.raises(errors.BaseMismatchError):
        p.apply_to(model)  # already applied: base hashes no longer match
    p.revert_from(model)
    assert torch.equal(model.state_dict()[pair.tensor], load_tensors(pair.base)[pair.tensor])


def test_verify_passes_every_check_with_base(gpt2_patch, keypair):
    pair, patch = gpt2_patch
    report = engine.verify(patch, base=pair.base, pubkey=keypair[1])
    assert report.ok, report.to_dict()
    names = [c.name for c in report.checks]
    assert names == ["schema", "files", "signature", "signer trusted", "delta file", "slices", "delta statistics", "base checkpoint"]
    assert json.loads(json.dumps(report.to_dict()))["ok"] is True


def test_verify_trusts_keys_in_the_trusted_directory(gpt2_patch, keypair, monkeypatch, tmp_path):
    _, patch = gpt2_patch
    assert not engine.verify(patch).ok
    trusted = tmp_path / "trusted"
    trusted.mkdir()
    shutil.copy(keypair[1], trusted / "maintainer.pub")
    monkeypatch.setenv("PATCHKIT_TRUSTED_KEYS", str(trusted))
    assert engine.verify(patch).ok


def test_verify_on_patched_checkpoint_says_already_applied(gpt2_patch, keypair, tmp_path):
    pair, patch = gpt2_patch
    report = engine.verify(patch, base=pair.edited, pubkey=keypair[1])
    assert not report.ok
    assert "already applied" in report.checks[-1].detail


def test_oms_library_verifier_accepts_the_signature(gpt2_patch, keypair, tmp_path):
    import model_signing

    _, patch = gpt2_patch
    copy = tmp_path / "p"
    shutil.copytree(patch, copy)
    (copy / "README.md").write_text("# a Hub model card, not signed\n")
    model_signing.verifying.Config().use_elliptic_key_verifier(public_key=keypair[1]).set_hashing_config(
        model_signing.hashing.Config().set_ignored_paths(paths=[copy / "patch.sig"])
    ).verify(copy, copy / "patch.sig")


def test_show_summarises_patch_and_patched_checkpoint(gpt2_patch, keypair, tmp_path):
    pair, patch = gpt2_patch
    s = engine.show(patch)
    assert s["kind"] == "patch"
    (edit,) = s["edits"]
    assert edit["slice"] == "[3:11, 64:96]" and edit["numel"] == 8 * 32
    assert edit["label"] == "layer 1 attention value projection"
    assert 0 < edit["share"] < 0.02
    out = engine.apply(patch, pair.base, tmp_path / "out", pubkey=keypair[1])
    assert [a["name"] for a in engine.show(out)["applied"]] == ["gpt2-fix"]


def test_is_patch_file():
    assert all(engine.is_patch_file(f) for f in ["patch.json", "delta.safetensors", "patch.sig", "README.md", "panels/facts.jsonl"])
    assert not any(
        engine.is_patch_file(f)
        for f in ["../x", "/etc/passwd", "panels/../patch.json", "panels/a/b", "model.bin", "panels/.hidden", "", "panels\\x"]
    )


# ---- bad input: a clear error, no OUT, inputs untouched --------------------------------------


def _refused(fn, exc_type, out, *inputs, match=None):
    """Run fn expecting exc_type; check OUT and temp siblings are absent and inputs unchanged."""
    before = [snapshot(p) for p in inputs]
    with pytest.raises(exc_type, match=match) as info:
        fn()
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if "patchkit-tmp" in p.name or "patchkit-old" in p.name]
    assert [snapshot(p) for p in inputs] == before
    assert "\n" not in str(info.value)
    return info.value


def _rewrite_manifest(patch, edit, key=None):
    data = json.loads((patch / "patch.json").read_text())
    edit(data)
    (patch / "patch.json").write_text(json.dumps(data))
    if key is not None:
        from patchkit import signing

        signing.sign_patch(patch, key)


def test_apply_refuses_wrong_base_and_writes_nothing(patch_copy, keypair, make_pair, tmp_path):
    pair, patch = patch_copy
    wrong = make_pair("gpt2", "fp32", True).base  # same names and shapes, different weights
    touched = next(iter(json.loads((patch / "patch.json").read_text())["edits"]))
    from patchkit.checkpoint import Checkpoint

    (wrong_copy := tmp_path / "wrong").mkdir()
    for f in wrong.iterdir():
        shutil.copy(f, wrong_copy / f.name)
    ck = Checkpoint.open(wrong_copy)
    info = ck.info(touched["tensor"])
    raw = ck.raw_bytes(touched["tensor"])
    with open(wrong_copy / info.file, "r+b") as fh:  # flip the lowest bit of every byte of the edited tensor
        fh.seek(info.offset)
        fh.write(bytes(b ^ 1 for b in raw))
    out = tmp_path / "out"
    err = _refused(lambda: engine.apply(patch, wrong_copy, out, pubkey=keypair[1]), errors.BaseMismatchError, out, patch, wrong_copy)
    assert pair.tensor in str(err) and "expected" in str(err)


def test_apply_twice_says_already_applied(patch_copy, keypair, tmp_path):
    pair, patch = patch_copy
    patched = engine.apply(patch, pair.base, tmp_path / "once", pubkey=keypair[1])
    out = tmp_path / "twice"
    err = _refused(lambda: engine.apply(patch, patched, out, pubkey=keypair[1]), errors.BaseMismatchError, out, patch, patched)
    assert "already applied" in str(err)


def test_revert_refuses_a_checkpoint_that_is_not_patched(patch_copy, keypair, tmp_path):
    pair, patch = patch_copy
    out = tmp_path / "out"
    _refused(lambda: engine.revert(patch, pair.base, out, pubkey=keypair[1]), errors.BaseMismatchError, out, patch, pair.base, match="patched")


def test_apply_refuses_tampered_delta(patch_copy, keypair, tmp_path):
    pair, patch = patch_copy
    data = bytearray((patch / "delta.safetensors").read_bytes())
    data[-1] ^= 0x01
    (patch / "delta.safetensors").write_bytes(bytes(data))
    out = tmp_path / "out"
    _refused(lambda: engine.apply(patch, pair.base, out, pubkey=keypair[1]), errors.SignatureError, out, patch, pair.base, match="delta.safetensors")
    # even when the signature is waived, the manifest's hash catches it
    with pytest.warns(UserWarning, match="allow-unsigned"):
        _refused(lambda: engine.apply(patch, pair.base, out, allow_unsigned=True), errors.IntegrityError, out, patch, pair.base)


def test_verify_reports_tampering_without_raising(patch_copy, keypair):
    _, patch = patch_copy
    data = bytearray((patch / "delta.safetensors").read_bytes())
    data[-1] ^= 0x01
    (patch / "delta.safetensors").write_bytes(bytes(data))
    report = engine.verify(patch, pubkey=keypair[1])
    failed = [c.name for c in report.checks if not c.ok]
    assert not report.ok and failed == ["signature", "delta file"]


def test_apply_refuses_tampered_manifest(patch_copy, keypair, tmp_path):
    pair, patch = patch_copy
    _rewrite_manifest(patch, lambda m: m.update(description="harmless?"))
    out = tmp_path / "out"
    _refused(lambda: engine.apply(patch, pair.base, out, pubkey=keypair[1]), errors.SignatureError, out, patch, pair.base, match="patch.json")


def test_apply_refuses_missing_or_foreign_signature(patch_copy, keypair, other_keypair, tmp_path):
    pair, patch = patch_copy
    out = tmp_path / "out"
    from patchkit import signing

    signing.sign_patch(patch, other_keypair[0])  # a valid signature, by a key the manifest does not name
    _refused(lambda: engine.apply(patch, pair.base, out, pubkey=keypair[1]), errors.SignatureError, out, patch, pair.base)
    (patch / "patch.sig").unlink()
    _refused(lambda: engine.apply(patch, pair.base, out, pubkey=keypair[1]), errors.SignatureError, out, patch, pair.base, match="unsigned")


def test_apply_refuses_untrusted_key(patch_copy, other_keypair, tmp_path):
    pair, patch = patch_copy
    out = tmp_path / "out"
    _refused(lambda: engine.apply(patch, pair.base, out, pubkey=other_keypair[1]), errors.UntrustedKeyError, out, patch, pair.base)
    _refused(lambda: engine.apply(patch, pair.base, out), errors.UntrustedKeyError, out, patch, pair.base)


def test_apply_refuses_manifest_failing_the_schema(patch_copy, keypair, tmp_path):
    pair, patch = patch_copy
    _rewrite_manifest(patch, lambda m: m["edits"][0].pop("base_sha256"), key=keypair[0])
    out = tmp_path / "out"
    _refused(lambda: engine.apply(patch, pair.base, out, pubkey=keypair[1]), errors.SchemaError, out, patch, pair.base, match="base_sha256")
    report = engine.verify(patch, pubkey=keypair[1])
    assert not report.ok and report.checks[0].name == "schema"


def test_apply_refuses_slice_outside_the_tensor(patch_copy, keypair, tmp_path):
    pair, patch = patch_copy
    _rewrite_manifest(patch, lambda m: m["edits"][0].update(slice=[[3, 11], [2300, 2332]]), key=keypair[0])
    out = tmp_path / "out"
    _refused(lambda: engine.apply(patch, pair.base, out, pubkey=keypair[1]), errors.IntegrityError, out, patch, pair.base, match="outside")
    assert not engine.verify(patch, pubkey=keypair[1]).ok


def test_apply_refuses_base_missing_the_tensor(patch_copy, keypair, tmp_path):
    from safetensors.torch import save_file

    pair, patch = patch_copy
    tensors = load_tensors(pair.base)
    del tensors[pair.tensor]
    base = tmp_path / "base.safetensors"
    save_file(tensors, base)
    out = tmp_path / "out.safetensors"
    _refused(lambda: engine.apply(patch, base, out, pubkey=keypair[1]), errors.BaseMismatchError, out, patch, base, match=pair.tensor)


def test_apply_refuses_truncated_safetensors(patch_copy, keypair, tmp_path):
    pair, patch = patch_copy
    base = tmp_path / "base"
    shutil.copytree(pair.base, base)
    data = (base / "model.safetensors").read_bytes()
    (base / "model.safetensors").write_bytes(data[: len(data) - 100])
    out = tmp_path / "out"
    _refused(lambda: engine.apply(patch, base, out, pubkey=keypair[1]), errors.CheckpointError, out, patch, base, match="truncated")


def test_apply_refuses_existing_out_unless_forced(patch_copy, keypair, tmp_path):
    pair, patch = patch_copy
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(errors.OutputExistsError):
        engine.apply(patch, pair.base, out, pubkey=keypair[1])
    assert (out / "keep.txt").read_text() == "mine"
    engine.apply(patch, pair.base, out, pubkey=keypair[1], force=True)
    assert not (out / "keep.txt").exists()
    _assert_same_tensors(out, pair.edited)
    with pytest.raises(errors.UsageError):
        engine.apply(patch, pair.base, pair.base, pubkey=keypair[1], force=True)  # never overwrite the input


def test_interrupted_write_leaves_no_out(patch_copy, keypair, tmp_path, monkeypatch):
    from patchkit import checkpoint

    pair, patch = patch_copy

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, "write_at", boom)
    out = tmp_path / "out"
    _refused(lambda: engine.apply(patch, pair.base, out, pubkey=keypair[1]), KeyboardInterrupt, out, patch, pair.base)


def test_pickle_checkpoints_are_refused(patch_copy, keypair, tmp_path):
    pair, patch = patch_copy
    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text("{}")
    (base / "pytorch_model.bin").write_bytes(b"not unpickled")
    out = tmp_path / "out"
    _refused(lambda: engine.apply(patch, base, out, pubkey=keypair[1]), errors.CheckpointError, out, base, match="convert")


def test_create_refuses_incompatible_or_identical_checkpoints(make_pair, keypair, tmp_path):
    gpt2, llama = make_pair("gpt2", "fp32", False), make_pair("gpt2", "fp16", False)
    out = tmp_path / "p"
    _refused(lambda: engine.create(gpt2.base, make_pair("llama", "fp32", False).edited, out, key=keypair[0]),
             errors.IncompatibleModelsError, out, gpt2.base, match="names differ")
    _refused(lambda: engine.create(gpt2.base, llama.edited, out, key=keypair[0]), errors.IncompatibleModelsError, out, gpt2.base, match="F16")
    _refused(lambda: engine.create(gpt2.base, gpt2.base, out, key=keypair[0]), errors.NothingChangedError, out, gpt2.base)
    twin = tmp_path / "twin"
    shutil.copytree(gpt2.base, twin)
    _refused(lambda: engine.create(gpt2.base, twin, out, key=keypair[0]), errors.NothingChangedError, out, gpt2.base)
    _refused(lambda: engine.create(gpt2.base, {gpt2.tensor: torch.zeros(3)}, out, key=keypair[0]), errors.IncompatibleModelsError, out, gpt2.base)


def test_multi_tensor_edit_with_vectors_and_scalars(tmp_path, keypair):
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(3)
    base = {"w": torch.randn(6, 5, generator=g), "b": torch.randn(7, generator=g).to(torch.bfloat16),
            "s": torch.tensor(0.5), "cube": torch.randn(3, 4, 5, generator=g).to(torch.float16)}
    edited = {k: v.clone() for k, v in base.items()}
    edited["b"][2:5] += 1
    edited["s"] += 1
    edited["cube"][1, 2, 3] = 9
    save_file(base, tmp_path / "base.safetensors")
    save_file(edited, tmp_path / "edited.safetensors")
    patch = engine.create(tmp_path / "base.safetensors", tmp_path / "edited.safetensors", tmp_path / "p", key=keypair[0])
    slices = {e["tensor"]: e["slice"] for e in engine.Patch.load(patch).edits}
    assert slices == {"b": [[2, 5]], "cube": [[1, 2], [2, 3], [3, 4]], "s": []}
    out = engine.apply(patch, tmp_path / "base.safetensors", tmp_path / "out.safetensors", pubkey=keypair[1])
    assert out.read_bytes() == (tmp_path / "edited.safetensors").read_bytes()
    back = engine.revert(patch, out, tmp_path / "back.safetensors", pubkey=keypair[1])
    assert back.read_bytes() == (tmp_path / "base.safetensors").read_bytes()
