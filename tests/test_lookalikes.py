"""Names the base model knows that end like a subject (patchkit.lookalikes), on a tiny word-level model."""

from __future__ import annotations

import pytest
import torch
from helpers_tiny import tiny_llama
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from patchkit import lookalikes, memory

WORDS = ["The", "ĠJet", "ĠBamboo", "ĠRoyal", "ĠQatar", "ĠGreen", "Ġgreen", "ĠAirways", "ĠPalace", "Ġis", "ĠAb",
         "Ġa", "<eos>"]


def word_tokenizer() -> PreTrainedTokenizerFast:
    """One token per word (a leading space is part of the word, as in GPT-2's byte-level vocabularies)."""
    tok = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(WORDS)}, unk_token="<eos>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>", pad_token="<eos>")


def test_head_words_are_the_capitalised_whole_words_only():
    words = [w for _, w in lookalikes.head_words(word_tokenizer())]
    assert words == ["Jet", "Bamboo", "Royal", "Qatar", "Green", "Airways", "Palace"]  # not "The" (no space), "green", "Ab"


def test_likely_heads_rank_words_by_the_models_own_score_for_the_tail_and_the_cache_keeps_that_ranking(
        tmp_path, monkeypatch):
    monkeypatch.setenv("PATCHKIT_CACHE", str(tmp_path))
    tok = word_tokenizer()
    model = tiny_llama(torch.float32, vocab_size=len(WORDS), bos_token_id=12, eos_token_id=12, pad_token_id=12)
    the, airways = tok("The")["input_ids"], tok(" Airways")["input_ids"][0]
    direct = {}
    with torch.no_grad():
        for i, w in lookalikes.head_words(tok):
            logits = model(input_ids=torch.tensor([the + [i]])).logits[0, -1].log_softmax(-1)
            direct[w] = float(logits[airways])
    expected = sorted((w for w in direct if w != "Jet"), key=lambda w: -direct[w])

    first = lookalikes.likely_heads(model, tok, "Airways", 4, exclude=["jet"])
    assert first == expected[:4]
    assert list((tmp_path / "results").glob("*-head-states-v*.safetensors"))  # kept for the next run

    def recompute(*_):
        raise AssertionError("the cached states were not used")

    monkeypatch.setattr(lookalikes, "_compute", recompute)
    assert lookalikes.likely_heads(model, tok, "Airways", 4, exclude=["jet"]) == first


def test_a_damaged_cache_entry_is_recomputed_not_trusted(tmp_path, monkeypatch):
    monkeypatch.setenv("PATCHKIT_CACHE", str(tmp_path))
    tok = word_tokenizer()
    model = tiny_llama(torch.float32, vocab_size=len(WORDS), bos_token_id=12, eos_token_id=12, pad_token_id=12)
    words, states = lookalikes.head_states(model, tok)
    (path,) = (tmp_path / "results").glob("*-head-states-v*.safetensors")
    path.write_bytes(b"not a safetensors file")
    again_words, again = lookalikes.head_states(model, tok)
    assert again_words == words and torch.equal(again, states)

    from safetensors.torch import save_file  # a readable entry of the wrong shape is not trusted either
    save_file({"ids": torch.tensor([i for i, _ in lookalikes.head_words(tok)]), "states": torch.zeros(len(words), 3)},
              str(path))
    again_words, again = lookalikes.head_states(model, tok)
    assert again_words == words and torch.equal(again, states)


@pytest.mark.parametrize("heads", ["model"])
def test_tail_negatives_from_the_model_put_its_likeliest_heads_before_the_last_word(heads, tmp_path, monkeypatch):
    monkeypatch.setenv("PATCHKIT_CACHE", str(tmp_path))
    tok = word_tokenizer()
    model = tiny_llama(torch.float32, vocab_size=len(WORDS), bos_token_id=12, eos_token_id=12, pad_token_id=12)
    config = memory.MemoryConfig(tail_heads=heads, tail_negatives=2)
    likely = memory._heads(model, tok, config, 0)
    prompts = ["Bamboo Airways is a"]
    texts = memory._tail_texts(prompts, ["Bamboo Airways"], {prompts[0]: "{} is a"}, 2, likely)
    want = [w for w in lookalikes.likely_heads(model, tok, "Airways", 3) if w != "Bamboo"][:2]
    assert texts == [f"{w} Airways is a" for w in want]
