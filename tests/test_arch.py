"""Architecture map: names parse, slices land on the right heads in every family."""

from __future__ import annotations

import pytest
import torch
from helpers_tiny import TINY_BUILDERS, tiny_gpt2, tiny_llama, tiny_tokenizer

from patchkit import arch, errors


def _heads_input(model, amap, layer, ids):
    """The concatenated-heads input of layer's attention output projection."""
    seen = {}
    mod = model.get_submodule(amap.attn_out_module(layer))
    h = mod.register_forward_pre_hook(lambda m, a: seen.__setitem__("x", a[0].detach().clone()))
    with torch.no_grad():
        model(ids)
    h.remove()
    return seen["x"]


def _perturb(model, slices):
    params = dict(model.named_parameters())
    with torch.no_grad():
        for ts in slices:
            params[ts.tensor][ts.slices] += 1.0


def test_gpt2_v_is_the_third_block_of_c_attn_columns():
    amap = arch.for_model(tiny_gpt2())
    d = amap.d_model
    (w,) = amap.resolve("L1.attn.v")
    assert w.tensor == "transformer.h.1.attn.c_attn.weight"
    assert w.slices == (slice(0, d), slice(2 * d, 3 * d))
    w, b = amap.resolve("L1.attn.v", include_bias=True)
    assert b.tensor == "transformer.h.1.attn.c_attn.bias" and b.slices == (slice(2 * d, 3 * d),)
    (h2,) = amap.resolve("L1.attn.v.h2")
    dh = amap.head_dim
    assert h2.slices == (slice(0, d), slice(2 * d + 2 * dh, 2 * d + 3 * dh))
    assert h2.numel() == d * dh


def test_llama_v_rows_and_gqa_head_counts():
    model = tiny_llama()
    amap = arch.for_model(model)
    assert (amap.num_heads, amap.num_kv_heads, amap.head_dim) == (4, 2, 8)
    (w,) = amap.resolve("L2.attn.v.h1")
    assert w.tensor == "model.layers.2.self_attn.v_proj.weight"
    assert w.slices == (slice(8, 16), slice(0, 32))
    (o,) = amap.resolve("L2.attn.o.h3")
    assert o.slices == (slice(0, 32), slice(24, 32))
    with pytest.raises(errors.ComponentError, match="key/value"):
        amap.resolve("L2.attn.v.h2")
    assert amap.resolve("L2.attn.v", include_bias=True) == amap.resolve("L2.attn.v")  # no biases in Llama


@pytest.mark.parametrize("family", sorted(TINY_BUILDERS))
@pytest.mark.parametrize("part", ["q", "k", "v"])
def test_head_slice_changes_only_that_heads_output(family, part):
    model = TINY_BUILDERS[family]()
    amap = arch.for_model(model)
    ids = tiny_tokenizer()("Paris is nice", return_tensors="pt").input_ids
    before = _heads_input(model, amap, 1, ids)
    _perturb(model, amap.resolve(f"L1.attn.{part}.h1", include_bias=True))
    after = _heads_input(model, amap, 1, ids)
    dh, group = amap.head_dim, amap.num_heads // amap.num_kv_heads
    expect = [1] if part == "q" else list(range(group, 2 * group))  # query heads using KV head 1
    changed = [h for h in range(amap.num_heads)
               if not torch.allclose(before[..., h * dh:(h + 1) * dh], after[..., h * dh:(h + 1) * dh])]
    assert changed == expect


@pytest.mark.parametrize("family", sorted(TINY_BUILDERS))
def test_o_head_slice_is_that_heads_input_block(family):
    model = TINY_BUILDERS[family]()
    amap = arch.for_model(model)
    ids = tiny_tokenizer()("Paris is nice", return_tensors="pt").input_ids
    mod = model.get_submodule(amap.attn_out_module(0))
    dh = amap.head_dim
    # zeroing head 2's input block ...
    hook = mod.register_forward_pre_hook(
        lambda m, a: (a[0].index_fill(-1, torch.arange(2 * dh, 3 * dh), 0.0),))
    with torch.no_grad():
        want = model(ids).logits
    hook.remove()
    # ... equals zeroing the weight slice that resolve gives for L0.attn.o.h2
    params = dict(model.named_parameters())
    with torch.no_grad():
        for ts in amap.resolve("L0.attn.o.h2"):
            params[ts.tensor][ts.slices] = 0.0
        got = model(ids).logits
    torch.testing.assert_close(got, want)


@pytest.mark.parametrize("family", sorted(TINY_BUILDERS))
def test_every_component_resolves_to_existing_tensors(family):
    model = TINY_BUILDERS[family]()
    amap = arch.for_model(model)
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    for name in amap.components(heads=True):
        slices = amap.resolve(name, include_bias=True)
        assert slices
        for ts in slices:
            assert ts.tensor in shapes
            assert ts.mask(shapes[ts.tensor]).sum().item() == ts.numel()


def test_layer_is_attention_plus_mlp_and_gpt2_has_no_gate():
    amap = arch.for_model(tiny_gpt2())
    assert {t.tensor for t in amap.resolve("L0")} == {t.tensor for t in amap.resolve("L0.attn") + amap.resolve("L0.mlp")}
    with pytest.raises(errors.ComponentError, match="no gate"):
        amap.resolve("L0.mlp.gate")


@pytest.mark.parametrize("bad", ["L9.attn", "L0.attn.x", "layer0", "L0.mlp.up.h1", "L0.attn.q.h9", "L0.mlp.q"])
def test_bad_names_raise_component_error(bad):
    with pytest.raises(errors.ComponentError):
        arch.for_model(tiny_llama()).resolve(bad)


def test_unknown_architecture_names_supported_ones():
    from transformers import BertConfig

    with pytest.raises(errors.UnknownArchitectureError, match="gpt2.*llama.*gpt_neox"):
        arch.for_model(BertConfig())


def test_gemma3_component_names_and_slices_are_llamas():
    """Same sizes, same names, same tensors and slices: consumers cannot tell the families apart."""
    from helpers_tiny import tiny_gemma3

    gemma, llama = arch.for_model(tiny_gemma3()), arch.for_model(tiny_llama())
    assert (gemma.family, gemma.layout, gemma.model_type) == ("gemma3", "llama", "gemma3_text")
    assert gemma.components(heads=True) == llama.components(heads=True)
    for name in gemma.components(heads=True):
        assert gemma.resolve(name, include_bias=True) == llama.resolve(name, include_bias=True)
    assert gemma.post_attn_norm_module(2) == "model.layers.2.post_attention_layernorm"
    assert llama.post_attn_norm_module(2) is None  # Llama's post_attention_layernorm is the pre-MLP norm
    assert (gemma.norm_gain_offset, llama.norm_gain_offset) == (1.0, 0.0)
    assert gemma.unattributable is None
    assert "soft" in arch.for_model(tiny_gemma3(final_logit_softcapping=30.0)).unattributable


def test_layer_of_reads_the_decoder_layer_from_a_tensor_name():
    from helpers_tiny import tiny_gpt2, tiny_llama

    from patchkit import arch

    lam = arch.for_model(tiny_llama().config)
    assert lam.layer_of("model.layers.2.mlp.down_proj.weight") == 2
    assert lam.layer_of("model.embed_tokens.weight") is None and lam.layer_of("model.layers.x.weight") is None
    assert arch.for_model(tiny_gpt2().config).layer_of("transformer.h.0.mlp.c_proj.weight") == 0


def test_a_joined_name_resolves_to_each_parts_slices_in_order():
    amap = arch.for_model(tiny_llama().config)
    joined = amap.resolve("L2.mlp.down+L1.mlp.down.n0:8")
    assert joined == amap.resolve("L2.mlp.down") + amap.resolve("L1.mlp.down.n0:8")
    with pytest.raises(errors.ComponentError, match="named twice"):
        amap.resolve("L1.mlp.down+L1.mlp.down")
    with pytest.raises(errors.ComponentError, match="L9"):
        amap.resolve("L1.mlp.down+L9.mlp.down")
