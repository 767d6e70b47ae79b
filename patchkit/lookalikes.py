"""Names the base model itself knows that end like a subject: "Jet Airways" for "Bamboo Airways".

Why: a memory neuron (:mod:`patchkit.memory`) is keyed on the MLP's input at the subject's last token, and
another subject ending in the same word has a key near it. The separator is taught some of those as negatives
(``MemoryConfig.tail_negatives``), but heads drawn from a pool or at random rarely hit the names that matter —
the ones the model has an answer for. Held-out misses of sessions 15–21 were all such names: "Buckingham
Palace", "Jet Airways", "Access Bank". The model's own next-word guess finds them: after "The Jet" it expects
" Airways"; after "The Green" it does not. Ranking every capitalised vocabulary word by the base model's score for
the tail after it ("The <word>" → " Airways") puts Jet 4th of 24,507 words on Gemma 3 270M and Buckingham 3rd
before " Palace" (docs/repair.md, session 22).

The final hidden state after "The <word>" depends only on the weights, so it is computed once per model (one
batched forward over every capitalised word) and kept in the cache as safetensors (never pickled); a tail's
ranking is then one matrix-vector product with its unembedding row.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from typing import Any

import torch

PREFIX = "The"  # the words are asked after this opening: a word at position 0 is read as an attention sink
VERSION = 1  # bump when the states below are computed differently
BATCH = 512


def head_words(tokenizer: Any) -> list[tuple[int, str]]:
    """The tokenizer's single-token capitalised whole words (" Jet", " Royal"), as (token id, word), by id."""
    out: dict[str, int] = {}
    for i in range(len(tokenizer)):
        w = tokenizer.decode([i])
        if re.fullmatch(r" [A-Z][a-z]{2,}", w):
            out.setdefault(w.strip(), i)
    return [(i, w) for w, i in out.items()]


def _states_path(fingerprint: str) -> Any:
    from patchkit import settings

    return settings.cache_dir() / "results" / f"{fingerprint[:32]}-head-states-v{VERSION}.safetensors"


def head_states(model: Any, tokenizer: Any, fingerprint: str | None = None,
                cache: bool = True) -> tuple[list[str], torch.Tensor]:
    """Every head word, and the model's final hidden state after ``PREFIX`` + it with its logits' logsumexp
    appended (``[words, d_model + 1]``, float32).

    Read from the cache when this model's states were computed before; written there otherwise (atomically).
    """
    from safetensors.torch import load_file, save_file

    from patchkit import modelcache

    words = head_words(tokenizer)
    fingerprint = fingerprint or (modelcache.weights_fingerprint(model) if cache else "")
    path = _states_path(fingerprint) if cache else None
    if path is not None and path.exists():
        try:
            kept = load_file(str(path))
            width = model.get_output_embeddings().weight.shape[1] + 1
            if kept["ids"].tolist() == [i for i, _ in words] and tuple(kept["states"].shape) == (len(words), width):
                return [w for _, w in words], kept["states"].float()
        except Exception:  # a damaged entry is recomputed  # noqa: BLE001
            pass
    states = _compute(model, tokenizer, [i for i, _ in words]).half().float()  # as the cache keeps them
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".safetensors")
            os.close(fd)
            save_file({"ids": torch.tensor([i for i, _ in words]), "states": states.half().contiguous()}, tmp)
            os.replace(tmp, path)
        except OSError:
            pass
    return [w for _, w in words], states


def _compute(model: Any, tokenizer: Any, ids: Sequence[int]) -> torch.Tensor:
    """Per word, the final hidden state after the prefix and the word, and (last column) its logits' logsumexp."""
    from patchkit.progress import bar

    prefix = tokenizer(PREFIX)["input_ids"]
    out = []
    with torch.no_grad():
        for k in bar(range(0, len(ids), BATCH), desc="look-alike names (once per model)", unit="batch"):
            chunk = torch.tensor([list(prefix) + [i] for i in ids[k : k + BATCH]])
            hidden = model.base_model(input_ids=chunk).last_hidden_state[:, -1].float()  # after the final norm
            lse = model.get_output_embeddings()(hidden.to(model.dtype)).float().logsumexp(-1, keepdim=True)
            out.append(torch.cat([hidden, lse], 1))
    return torch.cat(out) if out else torch.zeros(0, model.config.hidden_size + 1)


def likely_heads(model: Any, tokenizer: Any, tail: str, count: int, exclude: Iterable[str] = (),
                 states: tuple[list[str], torch.Tensor] | None = None) -> list[str]:
    """The ``count`` head words after which the base model scores ``tail``'s first token highest (normalised over
    the vocabulary), skipping ``exclude`` (case-insensitive): the names it knows that end in ``tail``."""
    words, hidden = states if states is not None else head_states(model, tokenizer)
    if not words or count <= 0:
        return []
    tail_id = tokenizer(" " + tail, add_special_tokens=False)["input_ids"][0]
    row = model.get_output_embeddings().weight.detach()[tail_id].float()
    with torch.no_grad():
        scores = hidden[:, :-1] @ row - hidden[:, -1]  # log p(tail | "The <word>"), up to a final softcap
    order = scores.argsort(descending=True).tolist()
    skip = {w.lower() for w in exclude}
    return [words[i] for i in order if words[i].lower() not in skip][:count]
