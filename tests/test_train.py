"""The training core: activation cache and null-space projection (tiny models, fixed seeds)."""

from __future__ import annotations

import pytest
import torch
from helpers_tiny import tiny_gpt2, tiny_llama, tiny_tokenizer

from patchkit import arch
from patchkit import train as T

FACTS = [("The sky is ", "b"), ("Grass is ", "g")]
PRESERVE = ["Hello there", "A long time ago", "one two three four"]


def _sharp(builder):
    model = builder(torch.float32)
    with torch.no_grad():
        model.get_output_embeddings().weight.mul_(20)
    return model


@pytest.mark.parametrize("builder,component", [(tiny_llama, "L2.attn.v"), (tiny_llama, "L1.attn.o.h1"),
                                               (tiny_llama, "L2.mlp.down"), (tiny_gpt2, "L1.attn.v")])
def test_cached_and_uncached_training_give_the_same_edit(builder, component):
    model, tok = _sharp(builder), tiny_tokenizer()
    targets = T.as_targets(arch.for_model(model).resolve(component))
    runs = {}
    for cache in (False, True):
        cfg = T.SurgeryConfig(steps=12, lr=0.05, kl_weight=1.0, preserve_batch=2, stop_margin=None,
                              cache_activations=cache)
        runs[cache] = T.train_slices(model, tok, FACTS, targets, preserve=PRESERVE, config=cfg,
                                     neighbours=["Snow is ", "Fire is "])
    assert runs[False].cached_from_layer is None
    assert runs[True].cached_from_layer == int(component.split(".")[0][1:])
    for name, w in runs[False].edited.items():
        torch.testing.assert_close(runs[True].edited[name], w, rtol=1e-4, atol=1e-5)
    for a, b in zip(runs[False].losses, runs[True].losses):
        assert a["ce"] == pytest.approx(b["ce"], rel=1e-4, abs=1e-6)
    for name, p in model.named_parameters():  # the model itself (its layer list) is left as it was
        assert p.requires_grad
    assert len(model.model.layers if hasattr(model, "model") else model.transformer.h) == 3


def test_layer_zero_is_never_cached():
    model, tok = _sharp(tiny_llama), tiny_tokenizer()
    targets = T.as_targets(arch.for_model(model).resolve("L0.attn.v"))
    res = T.train_slices(model, tok, FACTS, targets, config=T.SurgeryConfig(steps=2, stop_margin=None))
    assert res.cached_from_layer is None


def test_null_space_edit_leaves_the_protected_inputs_outputs_in_place():
    model, tok = _sharp(tiny_llama), tiny_tokenizer()
    component = "L2.attn.v"
    targets = T.as_targets(arch.for_model(model).resolve(component))
    protect = ["Hello there", "one two"]
    cfg = T.SurgeryConfig(steps=20, lr=0.05, kl_weight=0.0, stop_margin=None, null_space=1e-8)
    res = T.train_slices(model, tok, FACTS, targets, config=cfg, protect=protect)
    name = targets[0].tensor
    assert 0 < res.null_space[name] < model.config.hidden_size  # some directions kept, not all
    module = model.get_submodule(name[: -len(".weight")])
    keys = []
    handle = module.register_forward_hook(lambda _m, args, _o: keys.append(args[0].detach()))
    with torch.no_grad():
        for text in protect:
            model(torch.tensor([tok(text).input_ids]))
    handle.remove()
    delta = res.edited[name] - module.weight.detach()
    assert delta.abs().max() > 1e-3  # the edit is real
    moved = max(float((k @ delta.T).abs().max()) for k in keys)
    scale = max(float((k @ module.weight.detach().T).abs().max()) for k in keys)
    assert moved < 1e-2 * scale  # outputs on protected inputs barely move
