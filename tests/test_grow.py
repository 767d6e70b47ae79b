"""Patches that widen the MLPs (added memory neurons): create, apply, revert bit for bit, refuse what they must."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
import transformers
from conftest import build_model, save

from patchkit import engine, errors, grow

WIDTH, ADDED = 64, 3  # the tiny llama's intermediate_size, and the neurons a patch adds


def _spec() -> grow.GrowSpec:
    return grow.GrowSpec("intermediate_size", WIDTH, WIDTH + ADDED,
                         {f"model.layers.{layer}.mlp.{p}_proj.weight": 1 if p == "down" else 0
                          for layer in range(2) for p in ("gate", "up", "down")})


def _added(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Layer 1's three projections with ADDED random neurons appended (what a memory edit returns)."""
    g = torch.Generator().manual_seed(3)
    sd, out = model.state_dict(), {}
    for p in ("gate", "up", "down"):
        name, t = f"model.layers.1.mlp.{p}_proj.weight", model.state_dict()[f"model.layers.1.mlp.{p}_proj.weight"]
        extra = torch.randn((t.shape[0], ADDED) if p == "down" else (ADDED, t.shape[1]), generator=g)
        out[name] = torch.cat([sd[name], extra], 1 if p == "down" else 0)
    return out


@pytest.fixture
def widened(tmp_path, keypair):
    base = save(build_model("llama"), tmp_path / "base", False)
    patch = engine.create(base, _added(build_model("llama")), tmp_path / "patch", key=keypair[0], grow_spec=_spec())
    return base, patch


def test_a_widening_patch_applies_loads_and_reverts_to_the_very_bytes(widened, tmp_path, keypair):
    base, patch = widened
    p = engine.Patch.load(patch)
    assert p.grow == _spec() and len(p.edits) == 3
    assert all(e["numel"] == ADDED * 32 for e in p.edits)  # only the added neurons are stored
    assert engine.verify(patch, base=base, pubkey=keypair[1]).ok
    from patchkit import card

    assert "widens every layer's MLP by 3 zero neurons" in card.render(p.manifest)  # the Hub card says it grows
    patched = engine.apply(patch, base, tmp_path / "patched", pubkey=keypair[1])
    assert json.loads((patched / "config.json").read_text())["intermediate_size"] == WIDTH + ADDED
    loaded = transformers.AutoModelForCausalLM.from_pretrained(patched).eval()
    in_memory = build_model("llama")
    p.apply_to(in_memory)  # the same patch applied to a loaded model: the same weights, the same logits
    ids = torch.tensor([[1, 5, 9, 2, 7]])
    with torch.no_grad():
        assert torch.equal(loaded(ids).logits, in_memory(ids).logits)
    assert in_memory.config.intermediate_size == WIDTH + ADDED
    assert loaded.model.layers[0].mlp.gate_proj.weight[WIDTH:].abs().sum() == 0  # other layers: zero neurons
    restored = engine.revert(patch, patched, tmp_path / "restored", pubkey=keypair[1])
    for f in sorted(x.name for x in base.iterdir()):
        assert (restored / f).read_bytes() == (base / f).read_bytes(), f
    p.revert_from(in_memory)
    fresh = build_model("llama")
    assert in_memory.config.intermediate_size == WIDTH
    assert all(torch.equal(a, b) for a, b in zip(in_memory.state_dict().values(), fresh.state_dict().values()))


def test_revert_refuses_a_checkpoint_whose_added_neurons_were_changed_elsewhere(widened, tmp_path, keypair):
    base, patch = widened
    patched = engine.apply(patch, base, tmp_path / "patched", pubkey=keypair[1])
    model = transformers.AutoModelForCausalLM.from_pretrained(patched)
    with torch.no_grad():
        model.model.layers[0].mlp.up_proj.weight[WIDTH + 1, 4] = 0.5  # a layer the patch left zero
    tampered = tmp_path / "tampered"
    model.save_pretrained(tampered)
    with pytest.raises(errors.BaseMismatchError, match="non-zero values beyond index 64"):
        engine.revert(patch, tampered, tmp_path / "out", pubkey=keypair[1])
    assert not (tmp_path / "out").exists()
    with pytest.raises(errors.BaseMismatchError, match="non-zero values beyond index 64"):
        engine.Patch.load(patch).revert_from(model)
    assert model.model.layers[0].mlp.up_proj.weight.shape[0] == WIDTH + ADDED  # refused: the model is unchanged


def test_a_widening_patch_refuses_the_wrong_base_and_a_bare_weight_file(widened, tmp_path, keypair):
    base, patch = widened
    with pytest.raises(errors.UsageError, match="checkpoint directory"):
        engine.apply(patch, base / "model.safetensors", tmp_path / "out.safetensors", pubkey=keypair[1])
    patched = engine.apply(patch, base, tmp_path / "patched", pubkey=keypair[1])
    with pytest.raises(errors.BaseMismatchError, match="widens axis"):  # already widened: not its base
        engine.apply(patch, patched, tmp_path / "twice", pubkey=keypair[1])
    model = build_model("llama")
    engine.Patch.load(patch).apply_to(model)
    with pytest.raises(errors.BaseMismatchError):
        engine.Patch.load(patch).apply_to(model)
    assert model.model.layers[1].mlp.gate_proj.weight.shape[0] == WIDTH + ADDED


def test_create_refuses_a_widening_the_config_cannot_take_back(tmp_path):
    base = save(build_model("llama"), tmp_path / "base", False)
    config = base / "config.json"
    config.write_text(config.read_text().replace('"intermediate_size": 64', '"intermediate_size": 64, "x_size": 64'))
    engine.create(base, _added(build_model("llama")), tmp_path / "ok", key=None, grow_spec=_spec())  # one key: fine
    config.write_text(config.read_text().replace('"x_size": 64', '"intermediate_size": 64'))
    with pytest.raises(errors.BaseMismatchError, match="found 2"):
        engine.create(base, _added(build_model("llama")), tmp_path / "twice", key=None, grow_spec=_spec())
    assert not (tmp_path / "twice").exists()


def test_a_manifest_that_shrinks_or_lists_a_tensor_twice_is_refused(widened, tmp_path):
    _, patch = widened
    for change, match in ((lambda g: g.update({"to": g["from"]}), "not a growth"),
                          (lambda g: g["tensors"].append(dict(g["tensors"][0])), "listed twice")):
        bad = tmp_path / f"bad-{match.split()[0]}"
        shutil.copytree(patch, bad)
        data = json.loads((bad / "patch.json").read_text())
        change(data["grow"])
        (bad / "patch.json").write_text(json.dumps(data))
        with pytest.raises(errors.SchemaError, match=match):
            engine.Patch.load(bad)


def test_apply_refuses_a_base_whose_config_lacks_the_widened_size_and_writes_nothing(widened, tmp_path, keypair):
    base, patch = widened
    other = tmp_path / "other"
    shutil.copytree(base, other)
    config = other / "config.json"
    config.write_text(config.read_text().replace('"intermediate_size": 64', '"intermediate_size": 65'))
    with pytest.raises(errors.BaseMismatchError, match='one "intermediate_size": 64 in config.json, found 0'):
        engine.apply(patch, other, tmp_path / "out", pubkey=keypair[1])
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))  # no output, no staging left


def test_a_sharded_base_gets_its_index_total_size_widened_and_back(tmp_path, keypair):
    """The index states the weights' size: a widened checkpoint says how big it now is, and revert gives back the
    very bytes of the index."""
    base = tmp_path / "base"
    build_model("llama").save_pretrained(base, max_shard_size="40KB")
    index = base / "model.safetensors.index.json"
    assert len(json.loads(index.read_text())["weight_map"]) > 1 and len(list(base.glob("*.safetensors"))) > 1
    patch = engine.create(base, _added(build_model("llama")), tmp_path / "patch", key=keypair[0], grow_spec=_spec())
    patched = engine.apply(patch, base, tmp_path / "patched", pubkey=keypair[1])
    stated = json.loads((patched / "model.safetensors.index.json").read_text())["metadata"]["total_size"]
    from patchkit.checkpoint import Checkpoint

    assert stated == sum(t.nbytes for t in Checkpoint.open(patched).tensors.values())
    assert stated == json.loads(index.read_text())["metadata"]["total_size"] + 2 * 3 * ADDED * 32 * 4
    loaded = transformers.AutoModelForCausalLM.from_pretrained(patched)
    assert loaded.config.intermediate_size == WIDTH + ADDED
    restored = engine.revert(patch, patched, tmp_path / "restored", pubkey=keypair[1])
    for f in sorted(x.name for x in base.iterdir()):
        assert (restored / f).read_bytes() == (base / f).read_bytes(), f


def test_create_refuses_a_sharded_base_whose_index_states_its_size_twice(tmp_path, keypair):
    base = tmp_path / "base"
    build_model("llama").save_pretrained(base, max_shard_size="40KB")
    index = base / "model.safetensors.index.json"
    data = json.loads(index.read_text())
    data["metadata"]["extra"] = {"total_size": 5}  # a second "total_size": which one the widening changes is unclear
    index.write_text(json.dumps(data))
    before = {f.name: f.read_bytes() for f in base.iterdir()}
    with pytest.raises(errors.CheckpointError, match="total_size"):
        engine.create(base, _added(build_model("llama")), tmp_path / "patch", key=keypair[0], grow_spec=_spec())
    assert not (tmp_path / "patch").exists() and {f.name: f.read_bytes() for f in base.iterdir()} == before
