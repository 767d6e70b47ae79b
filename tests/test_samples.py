"""The model's own samples (patchkit.samples): generated once per base model, then read from the cache."""

from __future__ import annotations

import json

import pytest
import torch
from helpers_tiny import tiny_llama, tiny_tokenizer

from patchkit import samples


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PATCHKIT_CACHE", str(tmp_path))
    return tmp_path


def test_samples_are_generated_once_per_model_and_read_back_identical(cache, monkeypatch):
    model, tok = tiny_llama(torch.float32), tiny_tokenizer()
    first = samples.self_samples(model, tok, count=4, tokens=5)
    assert first and all(isinstance(t, str) for t in first)
    assert len(list((cache / "results").glob("*.json"))) == 1

    def no_generation(*_a, **_k):
        raise AssertionError("generated again although the cache holds this model's samples")

    monkeypatch.setattr(samples, "generate", no_generation)
    assert samples.self_samples(model, tok, count=4, tokens=5) == first


def test_a_changed_weight_or_setting_gets_its_own_samples(cache):
    model, tok = tiny_llama(torch.float32), tiny_tokenizer()
    base = samples.cache_path(model, 4, 5, 0)
    assert samples.cache_path(model, 4, 6, 0) != base and samples.cache_path(model, 4, 5, 1) != base
    with torch.no_grad():
        model.model.layers[1].mlp.down_proj.weight[0, 0] += 1e-6  # a patch-sized change anywhere
    assert samples.cache_path(model, 4, 5, 0) != base


def test_a_damaged_cache_file_is_regenerated_and_cache_off_writes_nothing(cache):
    model, tok = tiny_llama(torch.float32), tiny_tokenizer()
    fresh = samples.self_samples(model, tok, count=4, tokens=5, cache=False)
    assert not (cache / "results").exists()
    path = samples.cache_path(model, 4, 5, 0)
    path.parent.mkdir(parents=True)
    path.write_text('{"value": [1, 2]')  # truncated, wrong types
    assert samples.self_samples(model, tok, count=4, tokens=5) == fresh
    assert json.loads(path.read_text())["value"] == fresh


def test_base_panel_scores_are_kept_per_model_and_panel_content(cache, monkeypatch):
    from patchkit import evals, modelcache

    model, tok = tiny_llama(torch.float32), tiny_tokenizer()
    fp = modelcache.weights_fingerprint(model)
    panel = evals.facts_panel([evals.Fact("The sky is ", "b"), evals.Fact("Grass is ", "g")], "mine")
    first = evals.base_results(model, tok, [panel], fp)
    assert first == [evals.run_panel(model, tok, panel)]

    calls = []
    real = evals.run_panel
    monkeypatch.setattr(evals, "run_panel", lambda *a, **k: calls.append(a[2].name) or real(*a, **k))
    assert evals.base_results(model, tok, [panel], fp) == first and calls == []  # read back
    other = evals.facts_panel([evals.Fact("The sky is ", "g")], "mine")
    evals.base_results(model, tok, [other], fp)
    assert calls == ["mine"]  # same name, other content: scored again


def test_a_damaged_panel_score_is_scored_again(cache):
    from patchkit import evals, modelcache

    model, tok = tiny_llama(torch.float32), tiny_tokenizer()
    fp = modelcache.weights_fingerprint(model)
    panel = evals.facts_panel([evals.Fact("The sky is ", "b")], "mine")
    good = evals.base_results(model, tok, [panel], fp)
    (path,) = (cache / "results").glob("*-panel-*.json")
    path.write_text(json.dumps({"value": {**good[0].to_dict(), "predictions": [7]}}))
    assert evals.base_results(model, tok, [panel], fp) == good


def test_warm_cache_leaves_nothing_for_a_first_surgery_to_compute(cache, tmp_path, monkeypatch):
    """After ``warm_cache`` (what ``models prepare`` runs), the samples and base scores are read, never computed."""
    from helpers_tiny import save_tiny

    from patchkit import evals, lookalikes, surgery

    path = save_tiny(tiny_llama(torch.float32), tmp_path / "base")
    assert surgery.warm_cache(path) > 0

    def computed(*_a, **_k):
        raise AssertionError("computed again although warm_cache cached it")

    monkeypatch.setattr(samples, "generate", computed)
    monkeypatch.setattr(evals, "run_panel", computed)
    monkeypatch.setattr(lookalikes, "_compute", computed)
    surgery.warm_cache(path)  # every step now reads the cache
