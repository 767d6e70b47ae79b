"""Tiny randomly initialised GPT-2, Llama, GPT-NeoX and Gemma 3 models for the diagnosis tests.

Imported directly by the tests (``from helpers_tiny import …``); fixed seeds,
no network. The tokenizer is byte-level with no merges, so every character
is one token and any text round-trips through encode/decode.
"""

from __future__ import annotations

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    GPTNeoXConfig,
    GPTNeoXForCausalLM,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerFast,
)

VOCAB = 260  # 256 byte symbols + <eos>, headroom


def tiny_tokenizer() -> PreTrainedTokenizerFast:
    """Byte-level tokenizer without merges: one token per byte."""
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {ch: i for i, ch in enumerate(sorted(alphabet))}
    vocab["<eos>"] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>", pad_token="<eos>")


def _finish(model: torch.nn.Module, dtype: torch.dtype, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            # random (not default-zero) biases and norm gains, so every code path counts
            if name.endswith("bias") or "norm" in name or "ln" in name:
                p.add_(0.1 * torch.randn_like(p))
    return model.to(dtype).eval()


def tiny_gpt2(dtype: torch.dtype = torch.float64, seed: int = 0, layers: int = 3) -> GPT2LMHeadModel:
    torch.manual_seed(seed)
    cfg = GPT2Config(vocab_size=VOCAB, n_positions=64, n_embd=32, n_layer=layers, n_head=4, n_inner=64,
                     bos_token_id=256, eos_token_id=256)
    return _finish(GPT2LMHeadModel(cfg), dtype, seed + 1)


def tiny_llama(dtype: torch.dtype = torch.float64, seed: int = 0, layers: int = 3, **overrides) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    kw = dict(
        vocab_size=VOCAB, hidden_size=32, intermediate_size=48, num_hidden_layers=layers,
        num_attention_heads=4, num_key_value_heads=2, head_dim=8, max_position_embeddings=64,
        tie_word_embeddings=False, bos_token_id=256, eos_token_id=256, pad_token_id=256,
    )
    kw.update(overrides)
    return _finish(LlamaForCausalLM(LlamaConfig(**kw)), dtype, seed + 1)


def tiny_neox(dtype: torch.dtype = torch.float64, seed: int = 0, layers: int = 3) -> GPTNeoXForCausalLM:
    torch.manual_seed(seed)
    cfg = GPTNeoXConfig(
        vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=layers,
        num_attention_heads=4, max_position_embeddings=64, rotary_pct=0.5, use_parallel_residual=True,
        bos_token_id=256, eos_token_id=256,
    )
    return _finish(GPTNeoXForCausalLM(cfg), dtype, seed + 1)


def tiny_gemma3(dtype: torch.dtype = torch.float64, seed: int = 0, layers: int = 3, **overrides):
    """Tiny Gemma 3 text model: post-attention/post-MLP norms, q/k norms, scaled embedding,
    sliding-window layers (window 4, so the test prompts cross it) and one full-attention layer."""
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(seed)
    kw = dict(
        vocab_size=VOCAB, hidden_size=32, intermediate_size=48, num_hidden_layers=layers,
        num_attention_heads=4, num_key_value_heads=2, head_dim=8, query_pre_attn_scalar=8,
        max_position_embeddings=64, sliding_window=4,
        layer_types=["sliding_attention"] * (layers - 1) + ["full_attention"],
        bos_token_id=256, eos_token_id=256, pad_token_id=256,
    )
    kw.update(overrides)
    return _finish(Gemma3ForCausalLM(Gemma3TextConfig(**kw)), dtype, seed + 1)


TINY_BUILDERS = {"gpt2": tiny_gpt2, "llama": tiny_llama, "gpt_neox": tiny_neox, "gemma3": tiny_gemma3}


_REAL: dict = {}


def real_smollm2():
    """(model, tokenizer) for the prepared SmolLM2 checkpoint, loaded once per test session."""
    if "smollm2" not in _REAL:
        from patchkit import models

        _REAL["smollm2"] = models.load_model(models.prepare("smollm2"))
    return _REAL["smollm2"]


def real_gemma3():
    """(model, tokenizer) for the prepared Gemma 3 270M checkpoint, loaded once per test session."""
    if "gemma3-270m" not in _REAL:
        from patchkit import models

        _REAL["gemma3-270m"] = models.load_model(models.prepare("gemma3-270m"))
    return _REAL["gemma3-270m"]


def save_tiny(model, directory) -> str:
    """Save a tiny model and the tiny tokenizer as a checkpoint directory the CLI can load."""
    model.save_pretrained(str(directory))
    tiny_tokenizer().save_pretrained(str(directory))
    return str(directory)


def tiny_llama_family(model_type: str, dtype: torch.dtype = torch.float64, seed: int = 0):
    """Tiny Mistral or Qwen2 (same layout as Llama; Qwen2 has q/k/v biases)."""
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(seed)
    cfg = AutoConfig.for_model(
        model_type, vocab_size=VOCAB, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64, tie_word_embeddings=False,
        bos_token_id=256, eos_token_id=256,
    )
    return _finish(AutoModelForCausalLM.from_config(cfg), dtype, seed + 1)


def sharp_llama() -> LlamaForCausalLM:
    """A tiny float32 Llama whose output head is scaled up 20x: its answers lead by clear margins."""
    model = tiny_llama(torch.float32)
    with torch.no_grad():
        model.lm_head.weight.mul_(20)
    return model


def next_token(model: torch.nn.Module, prompt: str) -> str:
    """The model's top next token after ``prompt`` (the tiny tokenizer's)."""
    tok = tiny_tokenizer()
    with torch.no_grad():
        return tok.decode([int(model(torch.tensor([tok(prompt).input_ids])).logits[0, -1].argmax())])
