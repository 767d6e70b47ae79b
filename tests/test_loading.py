"""patchkit.load / unload and stacking: disjoint patches in either order, overlapping ones refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import patchkit
from patchkit import cli, engine, errors
from conftest import PLANTED, load_tensors

TENSOR, ((R0, R1), (C0, C1)) = PLANTED["gpt2"]


@pytest.fixture(scope="module")
def stack(make_pair, keypair, tmp_path_factory):
    """Three patches on one tiny GPT-2 base: A and B edit disjoint rows of one tensor, C overlaps A."""
    pair = make_pair("gpt2", "fp32", False)
    root = tmp_path_factory.mktemp("stack")
    base = {k: v.clone() for k, v in load_tensors(pair.base).items()}

    def make(name: str, rows: slice, cols: slice, bump: float) -> Path:
        edited = base[TENSOR].clone()
        edited[rows, cols] += bump
        return engine.create(pair.base, {TENSOR: edited}, root / name, key=keypair[0], name=name)

    a = make("fix-a", slice(0, 4), slice(0, 8), 0.5)
    b = make("fix-b", slice(10, 14), slice(0, 8), -0.25)
    c = make("fix-c", slice(2, 6), slice(4, 12), 0.125)
    return pair, a, b, c, keypair[1]


def _model(pair):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(pair.base), dtype=torch.float32).eval()


def test_load_returns_a_transformers_model_with_patches_applied_in_order(stack, monkeypatch):
    pair, a, b, _, pub = stack
    from patchkit import models

    monkeypatch.setattr(models, "load_model", lambda path: (_model(pair), "tokenizer"))
    model, tok = patchkit.load(pair.base, patches=[a, b], pubkey=pub)
    w = model.state_dict()[TENSOR]
    base = load_tensors(pair.base)[TENSOR]
    assert tok == "tokenizer" and type(model).__name__ == "GPT2LMHeadModel"
    assert not torch.equal(w[0:4, 0:8], base[0:4, 0:8])
    assert not torch.equal(w[10:14, 0:8], base[10:14, 0:8])
    assert [p.name for p in model.patchkit_patches] == ["fix-a", "fix-b"]
    patchkit.unload(model, "fix-a")  # one of two disjoint patches, in memory
    assert torch.equal(model.state_dict()[TENSOR][0:4], base[0:4])
    patchkit.unload(model)
    assert torch.equal(model.state_dict()[TENSOR], base) and model.patchkit_patches == []


def test_load_verifies_every_patch_before_loading_the_model(stack, monkeypatch):
    pair, a, b, _, _ = stack
    from patchkit import models

    monkeypatch.setattr(models, "load_model", lambda path: pytest.fail("loaded before verifying"))
    with pytest.raises(errors.UntrustedKeyError):
        patchkit.load(pair.base, patches=[a, b])  # no pubkey: the signer is not trusted


def test_overlapping_patches_are_refused_naming_both_and_the_tensor(stack, monkeypatch):
    pair, a, _, c, pub = stack
    from patchkit import models

    monkeypatch.setattr(models, "load_model", lambda path: pytest.fail("loaded before checking overlap"))
    with pytest.raises(errors.PatchConflictError) as exc:
        patchkit.load(pair.base, patches=[a, c], pubkey=pub)
    assert "fix-a" in str(exc.value) and "fix-c" in str(exc.value) and TENSOR in str(exc.value)


@pytest.mark.parametrize("order", ["ab", "ba"])
def test_disjoint_patches_stack_on_disk_in_either_order_and_revert(stack, tmp_path, order, capsys):
    pair, a, b, _, pub = stack
    first, second = (a, b) if order == "ab" else (b, a)
    one = engine.apply(first, pair.base, tmp_path / "one", pubkey=pub)
    two = engine.apply(second, one, tmp_path / "two", pubkey=pub)
    names = [x["name"] for x in engine.applied_patches(two)]
    assert names == [first.name, second.name]
    # the same weights whichever order they were applied in
    expected = load_tensors(pair.base)[TENSOR].clone()
    expected[0:4, 0:8] = load_tensors(engine.apply(a, pair.base, tmp_path / "a-only", pubkey=pub))[TENSOR][0:4, 0:8]
    expected[10:14, 0:8] = load_tensors(engine.apply(b, pair.base, tmp_path / "b-only", pubkey=pub))[TENSOR][10:14, 0:8]
    assert torch.equal(load_tensors(two)[TENSOR], expected)
    # show lists the chain
    code = 0
    try:
        cli.main(["show", str(two)])
    except SystemExit as e:
        code = e.code or 0
    out = capsys.readouterr().out
    assert code == 0 and f"base -> {first.name} -> {second.name}" in out
    # revert the first one while the second stays
    back = engine.revert(first, two, tmp_path / "back", pubkey=pub)
    assert [x["name"] for x in engine.applied_patches(back)] == [second.name]


def test_overlapping_patch_on_disk_is_refused_naming_both(stack, tmp_path):
    pair, a, _, c, pub = stack
    one = engine.apply(a, pair.base, tmp_path / "one", pubkey=pub)
    with pytest.raises(errors.PatchConflictError) as exc:
        engine.apply(c, one, tmp_path / "two", pubkey=pub)
    assert "fix-a" in str(exc.value) and "fix-c" in str(exc.value) and TENSOR in str(exc.value)
    assert not (tmp_path / "two").exists()
