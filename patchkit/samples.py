"""The model's own text: what a closed-form edit keeps still besides the shipped preservation texts.

Why: ``C`` (see :mod:`patchkit.solve`) must cover the inputs the edited projection sees on
ordinary text, and the shipped texts are few. The model's own samples are broad, but
generating them is the largest fixed cost of a repair (tens of seconds on two cores), and
they depend only on the weights, the sampling settings and torch's generator. So they are
generated once per base model and kept in the cache (``<cache>/samples/``, JSON, never
pickled), under a key that hashes every weight: a patched or retrained model gets its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

OPENINGS = ("The", "In", "A", "It", "This", "When", "He", "She", "We", "There", "One", "After", "I", "Many", "His",
            "For")


def self_samples(model: torch.nn.Module, tokenizer: Any, count: int = 64, tokens: int = 40, seed: int = 0,
                 cache: bool = True) -> list[str]:
    """``count`` seeded samples of ``tokens`` new tokens each (temperature 1) from short openings.

    With ``cache`` (default) they are read from the cache when this exact model was sampled before
    with these settings, and written there otherwise; a damaged cache file is regenerated.
    """
    path = cache_path(model, count, tokens, seed) if cache else None
    if path is not None and (kept := _read(path)) is not None:
        return kept
    texts = generate(model, tokenizer, count, tokens, seed)
    if path is not None:
        _write(path, texts)
    return texts


def generate(model: torch.nn.Module, tokenizer: Any, count: int, tokens: int, seed: int) -> list[str]:
    """Sample (seeded, one thread, so every machine writes the same text)."""
    from patchkit.models import single_thread
    from patchkit.train import _pad_id

    prompts = [OPENINGS[i % len(OPENINGS)] for i in range(count)]
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        enc = tokenizer(prompts, return_tensors="pt", padding=True)
        torch.manual_seed(seed)
        with torch.no_grad(), single_thread():
            out = model.generate(**enc, do_sample=True, max_new_tokens=tokens, top_k=0, top_p=1.0, temperature=1.0,
                                 pad_token_id=_pad_id(tokenizer))
    finally:
        tokenizer.padding_side = side
    return [t for t in tokenizer.batch_decode(out, skip_special_tokens=True) if t.strip()]


def weights_fingerprint(model: torch.nn.Module) -> str:
    """sha256 of every parameter's name, dtype, shape and bytes (in the model's own order)."""
    digest = hashlib.sha256()
    with torch.no_grad():
        for name, p in model.named_parameters():
            t = p.detach().cpu().contiguous()
            digest.update(f"{name}|{t.dtype}|{tuple(t.shape)}\n".encode())
            digest.update(t.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def cache_path(model: torch.nn.Module, count: int, tokens: int, seed: int) -> Path:
    """Where this model's samples with these settings are kept."""
    from patchkit import settings

    key = f"{weights_fingerprint(model)[:32]}-{count}x{tokens}-seed{seed}-torch{torch.__version__}"
    return settings.cache_dir() / "samples" / f"{key}.json"


def _read(path: Path) -> list[str] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(data, dict) and isinstance(data.get("samples"), list)
    return list(data["samples"]) if ok and all(isinstance(s, str) for s in data["samples"]) else None


def _write(path: Path, texts: list[str]) -> None:
    """Atomically (a reader never sees half a file); a cache that cannot be written is skipped."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"samples": texts}, fh, ensure_ascii=False)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
