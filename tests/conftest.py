"""Shared fixtures: tiny GPT-2 / Llama checkpoints built with fixed seeds, and signing keys.

Nothing is downloaded. Each checkpoint pair (base, edited) is built once per
session; the edit is planted in a known slice so tests can check that create
finds exactly it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}

# (tensor, planted slice) per architecture: GPT-2's fused c_attn value columns, Llama's v_proj rows.
PLANTED = {
    "gpt2": ("transformer.h.1.attn.c_attn.weight", ((3, 11), (64, 96))),
    "llama": ("model.layers.1.self_attn.v_proj.weight", ((8, 16), (0, 32))),
}


@dataclass(frozen=True)
class Pair:
    """A base checkpoint, an edited copy, and where the edit was planted."""

    base: Path
    edited: Path
    tensor: str
    slice: tuple[tuple[int, int], ...]
    arch: str
    dtype: str
    sharded: bool


def build_model(arch: str, dtype: str = "fp32", seed: int = 0) -> torch.nn.Module:
    """A tiny randomly initialised model with a fixed seed."""
    import transformers

    torch.manual_seed(seed)
    if arch == "gpt2":
        config = transformers.GPT2Config(n_embd=32, n_head=4, n_layer=2, vocab_size=64, n_positions=16, bos_token_id=0, eos_token_id=0)
        model = transformers.GPT2LMHeadModel(config)
    elif arch == "llama":
        config = transformers.LlamaConfig(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, vocab_size=64, max_position_embeddings=16, bos_token_id=0, eos_token_id=0, pad_token_id=0,
        )
        model = transformers.LlamaForCausalLM(config)
    else:
        raise ValueError(arch)
    return model.to(DTYPES[dtype]).eval()


def save(model: torch.nn.Module, path: Path, sharded: bool) -> Path:
    model.save_pretrained(path, max_shard_size="40KB" if sharded else "1GB")
    return path


def plant_edit(model: torch.nn.Module, arch: str, seed: int = 1) -> None:
    """Change every element of the planted slice (by more than any weight's magnitude)."""
    tensor, ((r0, r1), (c0, c1)) = PLANTED[arch]
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        w = model.state_dict()[tensor]
        bump = 0.25 + 0.01 * torch.randn((r1 - r0, c1 - c0), generator=g)
        w[r0:r1, c0:c1] += bump.to(w.dtype)


@pytest.fixture(scope="session")
def make_pair(tmp_path_factory):
    """make_pair(arch, dtype, sharded) -> Pair, built once per session per combination."""
    cache: dict[tuple[str, str, bool], Pair] = {}

    def _make(arch: str = "gpt2", dtype: str = "fp32", sharded: bool = False) -> Pair:
        key = (arch, dtype, sharded)
        if key not in cache:
            root = tmp_path_factory.mktemp(f"{arch}-{dtype}-{'sharded' if sharded else 'single'}")
            model = build_model(arch, dtype)
            base = save(model, root / "base", sharded)
            plant_edit(model, arch)
            edited = save(model, root / "edited", sharded)
            tensor, slc = PLANTED[arch]
            cache[key] = Pair(base, edited, tensor, slc, arch, dtype, sharded)
        return cache[key]

    return _make


@pytest.fixture(scope="session")
def keypair(tmp_path_factory) -> tuple[Path, Path]:
    """An EC P-256 key pair (private, public) for the session."""
    from patchkit import signing

    return signing.keygen(tmp_path_factory.mktemp("keys") / "signer.pem")


@pytest.fixture(scope="session")
def other_keypair(tmp_path_factory) -> tuple[Path, Path]:
    from patchkit import signing

    return signing.keygen(tmp_path_factory.mktemp("other-keys") / "other.pem")


@pytest.fixture(autouse=True)
def _isolated_trust(tmp_path_factory, monkeypatch):
    """Never consult the user's real trusted-keys directory."""
    monkeypatch.setenv("PATCHKIT_TRUSTED_KEYS", str(tmp_path_factory.mktemp("trusted")))


@pytest.fixture(scope="session")
def gpt2_patch(make_pair, keypair, tmp_path_factory) -> tuple[Pair, Path]:
    """A signed patch for the fp32 single-file GPT-2 pair (shared, read-only: copy before tampering)."""
    from patchkit import engine

    pair = make_pair("gpt2", "fp32", False)
    out = tmp_path_factory.mktemp("patches") / "gpt2-fix"
    engine.create(pair.base, pair.edited, out, key=keypair[0], name="gpt2-fix", labels={pair.tensor: "layer 1 attention value projection"})
    return pair, out


@pytest.fixture
def patch_copy(gpt2_patch, tmp_path) -> tuple[Pair, Path]:
    """A private copy of the GPT-2 patch that a test may tamper with."""
    pair, patch = gpt2_patch
    dst = tmp_path / "patch"
    shutil.copytree(patch, dst)
    return pair, dst


def snapshot(path: Path) -> dict[str, bytes]:
    """Every file's bytes under a path, to prove inputs are left untouched."""
    if path.is_file():
        return {path.name: path.read_bytes()}
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def load_tensors(path: Path) -> dict[str, torch.Tensor]:
    """All tensors of a checkpoint directory or file, via safetensors."""
    from safetensors.torch import load_file

    files = [path] if path.is_file() else sorted(path.glob("*.safetensors"))
    out: dict[str, torch.Tensor] = {}
    for f in files:
        out.update(load_file(f))
    return out
