"""The model's own text: what a closed-form edit keeps still besides the shipped preservation texts.

Why: ``C`` (see :mod:`patchkit.solve`) must cover the inputs the edited projection sees on
ordinary text, and the shipped texts are few. The model's own samples are broad, but
generating them is the largest fixed cost of a repair (tens of seconds on two cores), and
they depend only on the weights, the sampling settings and torch's generator. So they are
generated once per base model and kept in the cache (:mod:`patchkit.modelcache`: JSON, never
pickled, under a key that hashes every weight, so a patched or retrained model gets its own).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

OPENINGS = ("The", "In", "A", "It", "This", "When", "He", "She", "We", "There", "One", "After", "I", "Many", "His",
            "For")


def self_samples(model: torch.nn.Module, tokenizer: Any, count: int = 64, tokens: int = 40, seed: int = 0,
                 cache: bool = True, fingerprint: str | None = None) -> list[str]:
    """``count`` seeded samples of ``tokens`` new tokens each (temperature 1) from short openings.

    With ``cache`` (default) they are read from the cache when this exact model was sampled before
    with these settings, and written there otherwise; a damaged cache file is regenerated.
    ``fingerprint``: :func:`patchkit.modelcache.weights_fingerprint` of the model, if already known.
    """
    from patchkit import modelcache

    path = cache_path(model, count, tokens, seed, fingerprint) if cache else None
    kept = modelcache.read(path) if path is not None else None
    if isinstance(kept, list) and all(isinstance(t, str) for t in kept):
        return kept
    texts = generate(model, tokenizer, count, tokens, seed)
    if path is not None:
        modelcache.write(path, texts)
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


def cache_path(model: torch.nn.Module, count: int, tokens: int, seed: int, fingerprint: str | None = None) -> Path:
    """Where this model's samples with these settings are kept (``fingerprint``: the model's, if known)."""
    from patchkit import modelcache

    fp = fingerprint or modelcache.weights_fingerprint(model)
    return modelcache.path_for(fp, "samples", {"count": count, "tokens": tokens, "seed": seed,
                                               "openings": list(OPENINGS)})
