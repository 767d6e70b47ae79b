"""Direct logit attribution: contributions add up exactly, on every family."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner
from helpers_tiny import TINY_BUILDERS, real_smollm2, save_tiny, tiny_gpt2, tiny_llama, tiny_tokenizer

from patchkit import errors, trace
from patchkit.cli import cli

PROMPTS = ["The capital of Poland is", "Hello", "a b c d e f g"]


@pytest.mark.parametrize("family", sorted(TINY_BUILDERS))
@pytest.mark.parametrize("prompt", PROMPTS)
def test_contributions_sum_to_logit_difference_fp64(family, prompt):
    model = TINY_BUILDERS[family](dtype=torch.float64)
    r = trace.trace(model, tiny_tokenizer(), prompt, atol=1e-6)
    assert abs(sum(c.diff for c in r.components) - r.logit_diff) < 1e-6
    assert abs(sum(c.target for c in r.components) - r.logit_target) < 1e-6
    assert abs(sum(c.rival for c in r.components) - r.logit_rival) < 1e-6
    assert r.logit_diff >= 0  # default target is the top token, rival the second


@pytest.mark.parametrize("overrides", [{"attention_bias": True}, {"tie_word_embeddings": True}, {"num_key_value_heads": 4}])
def test_llama_variants_still_add_up(overrides):
    model = tiny_llama(**overrides)
    r = trace.trace(model, tiny_tokenizer(), "Warsaw ", target="x", rival="y", atol=1e-6)
    assert abs(sum(c.diff for c in r.components) - r.logit_diff) < 1e-6
    if overrides.get("attention_bias"):
        assert any(c.kind == "attn_bias" for c in r.components)


def test_json_shape_is_exactly_the_documented_one():
    r = trace.trace(tiny_gpt2(), tiny_tokenizer(), "Hello ", target="x")
    d = json.loads(json.dumps(r.to_dict()))
    assert list(d) == ["prompt", "target", "rival", "target_id", "rival_id", "logit_target", "logit_rival",
                       "logit_diff", "components"]
    assert {tuple(c) for c in d["components"]} == {("name", "kind", "layer", "head", "target", "rival", "diff")}
    kinds = {c["kind"] for c in d["components"]}
    assert kinds <= set(trace.KINDS)
    assert {"embed", "attn_head", "attn_bias", "mlp", "other"} == kinds  # GPT-2 has every kind
    names = [c["name"] for c in d["components"]]
    assert names[:2] == ["embed.tok", "embed.pos"] and "L2.attn.h3" in names and "final_norm.bias" in names


def test_running_total_ends_at_the_logit_difference():
    r = trace.trace(tiny_llama(), tiny_tokenizer(), "Hello ", target="x", rival="y")
    rows = r.per_layer()
    assert len(rows) == 3
    other = sum(c.diff for c in r.components if c.kind == "other")
    assert rows[-1]["cumulative"] + other == pytest.approx(r.logit_diff, abs=1e-6)


def test_refuses_to_report_when_something_unaccounted_writes_to_the_residual():
    model = tiny_llama()
    layer = model.model.layers[1]
    hook = layer.register_forward_hook(lambda m, a, out: out + 0.5 if torch.is_tensor(out) else (out[0] + 0.5, *out[1:]))
    try:
        with pytest.raises(errors.AttributionError, match="do not"):
            trace.trace(model, tiny_tokenizer(), "Hello ", target="x", rival="y")
    finally:
        hook.remove()


def test_target_equal_to_rival_is_a_usage_error():
    with pytest.raises(errors.UsageError):
        trace.trace(tiny_gpt2(), tiny_tokenizer(), "Hello ", target="x", rival="x")


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    r = trace.trace(tiny_gpt2(), tiny_tokenizer(), "Hello")
    out = trace.plot_trace(r, tmp_path / "h.png")
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_cli_trace_json_and_table(tmp_path):
    ckpt = save_tiny(tiny_llama(dtype=torch.float32), tmp_path / "tiny")
    res = CliRunner().invoke(cli, ["trace", ckpt, "--prompt", "Hello ", "--target", "x", "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["target"] == "x" and len(d["components"]) == 1 + 3 * 4 + 3
    res = CliRunner().invoke(cli, ["trace", ckpt, "--prompt", "Hello", "--top", "3"])
    assert res.exit_code == 0 and "per layer" in res.output and "final logits" in res.output


@pytest.mark.real_model
def test_smollm2_poland_routing_pattern():
    model, tok = real_smollm2()
    r = trace.trace(model, tok, "The capital of Poland is", " Warsaw")
    assert (r.target, r.rival) == (" Warsaw", " the")
    assert [t for t, _ in r.top_tokens[:2]] == [" the", " Warsaw"]  # Warsaw ranked 2nd
    assert abs(sum(c.diff for c in r.components) - r.logit_diff) < 1e-3  # fp32 exact-sum
    attn = [sum(c.diff for c in r.components if c.layer == n and c.kind.startswith("attn")) for n in range(30)]
    peak = max(range(30), key=lambda n: attn[n])
    assert 12 <= peak <= 24 and attn[peak] > 2.0  # middle-layer attention carries Warsaw ...
    later = [c for c in r.components if c.layer is not None and c.layer > peak and c.kind == "attn_head"]
    assert min(c.diff for c in later) < -1.0  # ... and later heads push it back down
    assert r.logit_diff < 0


@pytest.mark.parametrize("model_type", ["mistral", "qwen2"])
def test_other_llama_family_members_add_up(model_type):
    from helpers_tiny import tiny_llama_family

    from patchkit import arch

    model = tiny_llama_family(model_type)
    amap = arch.for_model(model)
    assert amap.family == "llama"
    biases = [t.tensor for t in amap.resolve("L1.attn.v", include_bias=True)[1:]]
    assert biases == (["model.layers.1.self_attn.v_proj.bias"] if model_type == "qwen2" else [])
    r = trace.trace(model, tiny_tokenizer(), "Hello ", target="x", rival="y", atol=1e-6)
    assert abs(sum(c.diff for c in r.components) - r.logit_diff) < 1e-6


@pytest.mark.real_model
def test_smollm2_exact_sum_fp32_across_panels():
    from patchkit import evals

    model, tok = real_smollm2()
    prompts = [f.prompt for name in ("capitals", "general", "side_effects") for f in evals.load_panel(name).items[::4]]
    for prompt in prompts:
        r = trace.trace(model, tok, prompt)  # raises AttributionError beyond 1e-3
        assert abs(sum(c.diff for c in r.components) - r.logit_diff) < 1e-3
        assert abs(sum(c.target for c in r.components) - r.logit_target) < 1e-3


def test_cli_unknown_architecture_is_one_line_and_exit_code_9(tmp_path, capsys):
    from transformers import BertConfig, BertLMHeadModel

    from patchkit.cli import main

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=260, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, is_decoder=True)
    ckpt = save_tiny(BertLMHeadModel(cfg), tmp_path / "bert")
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["trace", ckpt, "--prompt", "Hello "])
    assert exc.value.code == 9
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not supported" in err[0] and "llama" in err[0]


@pytest.mark.parametrize("overrides", [{}, {"num_key_value_heads": 1}, {"attention_bias": True},
                                       {"attn_logit_softcapping": 5.0}, {"num_key_value_heads": 4}])
def test_gemma3_post_norms_and_scaled_embedding_add_up_fp64(overrides):
    from helpers_tiny import tiny_gemma3

    model = tiny_gemma3(**overrides)
    for prompt in PROMPTS:  # longer than the sliding window (4 tokens)
        r = trace.trace(model, tiny_tokenizer(), prompt, atol=1e-6)
        assert abs(sum(c.diff for c in r.components) - r.logit_diff) < 1e-6
        assert abs(sum(c.target for c in r.components) - r.logit_target) < 1e-6
        assert abs(sum(c.rival for c in r.components) - r.logit_rival) < 1e-6
    assert [c.name for c in r.components[:2]] == ["embed", "L0.attn.h0"]
    assert any(c.kind == "attn_bias" for c in r.components) == bool(overrides.get("attention_bias"))


def test_gemma3_head_pieces_pass_through_the_post_attention_norm():
    """Each head's piece is its o_proj output times the norm's frozen factor, not the raw output."""
    from helpers_tiny import tiny_gemma3

    model = tiny_gemma3()
    with torch.no_grad():
        model.model.layers[1].post_attention_layernorm.weight.fill_(3.0)  # gain 1 + 3 = 4
    r = trace.trace(model, tiny_tokenizer(), "Hello there", atol=1e-6)
    with torch.no_grad():
        model.model.layers[1].post_attention_layernorm.weight.fill_(-1.0)  # gain 0: layer 1's attention is silenced
    r0 = trace.trace(model, tiny_tokenizer(), "Hello there", target=r.target_id, rival=r.rival_id, atol=1e-6)
    assert any(abs(c.diff) > 1e-9 for c in r.components if c.layer == 1 and c.kind == "attn_head")
    assert all(abs(c.diff) < 1e-12 for c in r0.components if c.layer == 1 and c.kind == "attn_head")


def test_gemma3_with_final_logit_softcapping_is_refused_not_approximated():
    from helpers_tiny import tiny_gemma3

    model = tiny_gemma3(final_logit_softcapping=30.0)
    with pytest.raises(errors.AttributionError, match="final_logit_softcapping=30.0.*approximate"):
        trace.trace(model, tiny_tokenizer(), "Hello ")


def test_cli_softcapped_gemma3_is_one_line_and_non_zero(tmp_path, capsys):
    from helpers_tiny import tiny_gemma3

    from patchkit.cli import main

    ckpt = save_tiny(tiny_gemma3(torch.float32, final_logit_softcapping=30.0), tmp_path / "capped")
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["trace", ckpt, "--prompt", "Hello "])
    assert exc.value.code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "soft" in err[0]


@pytest.mark.real_model
def test_gemma3_france_the_over_paris_adds_up_fp32():
    from helpers_tiny import real_gemma3

    model, tok = real_gemma3()
    r = trace.trace(model, tok, "The capital of France is", " Paris")
    assert (r.target, r.rival) == (" Paris", " the")
    assert [t for t, _ in r.top_tokens[:3]] == [" the", " a", " Paris"]  # Paris ranked 3rd
    assert abs(sum(c.diff for c in r.components) - r.logit_diff) < 1e-3  # fp32 exact-sum
    assert abs(sum(c.target for c in r.components) - r.logit_target) < 1e-3
    attn = [sum(c.diff for c in r.components if c.layer == n and c.kind.startswith("attn")) for n in range(18)]
    peak = max(range(18), key=lambda n: attn[n])
    assert attn[peak] > 2.0  # some attention layer carries Paris ...
    later = [c for c in r.components if c.layer is not None and c.layer > peak and c.kind == "attn_head"]
    assert min(c.diff for c in later) < -1.0  # ... and later heads push it back down
    assert r.logit_diff < 0
    for prompt in ("The capital of Poland is", "Water freezes at", "The Eiffel Tower is in"):
        r = trace.trace(model, tok, prompt)  # raises AttributionError beyond 1e-3
        assert abs(sum(c.diff for c in r.components) - r.logit_diff) < 1e-3
