"""verify --reproduce on a tiny patch: claims re-measured, tampered claims caught."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from helpers_tiny import save_tiny, tiny_llama

from patchkit import engine, reproduce
from patchkit import surgery as S
from patchkit.cli import cli


@pytest.fixture(scope="module")
def tiny_patch(tmp_path_factory, keypair) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("repro")
    model = tiny_llama(torch.float32)
    with torch.no_grad():
        model.lm_head.weight.mul_(20)
    base = Path(save_tiny(model, tmp / "base"))
    facts = tmp / "facts.jsonl"
    facts.write_text(json.dumps({"prompt": "The sky is ", "target": "b", "paraphrases": ["the sky is "]}) + "\n")
    side = tmp / "neighbours.jsonl"
    side.write_text(json.dumps({"prompt": "Snow is ", "target": "w"}) + "\n")
    text = tmp / "passage.txt"
    text.write_text("A short passage of plain text.")
    res = S.surgery(base, facts, tmp / "fix", key=keypair[0], component="L2.attn.v",
                    config=S.SurgeryConfig(steps=20, lr=0.1, kl_weight=1.0), panels=[side, text],
                    default_panels=False, include_absent=True, allow_regressions=True)
    return base, res.patch


def test_every_stored_claim_reproduces(tiny_patch):
    base, patch = tiny_patch
    checks = reproduce.reproduce(patch, base)
    assert [c.name for c in checks] == [
        "reproduce facts", "reproduce facts.paraphrases", "reproduce neighbours", "reproduce passage",
    ]
    assert all(c.ok for c in checks), checks


def test_a_claim_that_does_not_match_is_reported_not_reproduced(tiny_patch, tmp_path, keypair):
    base, patch = tiny_patch
    p = engine.Patch.load(patch)
    evals = json.loads(json.dumps(p.manifest["evals"]))
    evals["panels"][0]["after"] = evals["panels"][0]["after"] + 1  # claim one more fact fixed
    evals["panels"][-1]["after"] *= 1.01  # and a perplexity 1% off
    model = tiny_llama(torch.float32)
    with torch.no_grad():
        model.lm_head.weight.mul_(20)
    p.apply_to(model)
    edited = {e["tensor"]: dict(model.named_parameters())[e["tensor"]].detach().clone() for e in p.edits}
    extra = {e["file"]: patch / e["file"] for e in evals["panels"] if e["kind"] != "paraphrases"}
    liar = engine.create(base, edited, tmp_path / "liar", key=keypair[0], method=p.manifest["method"],
                         evals=evals, extra_files=extra)
    checks = {c.name: c for c in reproduce.reproduce(liar, base)}
    assert not checks["reproduce facts"].ok and "NOT reproduced" in checks["reproduce facts"].detail
    assert not checks["reproduce passage"].ok
    assert checks["reproduce neighbours"].ok


def test_a_tampered_panel_file_is_caught_by_its_hash(tiny_patch, tmp_path):
    base, patch = tiny_patch
    copy = tmp_path / "copy"
    shutil.copytree(patch, copy)
    (copy / "panels" / "neighbours.jsonl").write_text(json.dumps({"prompt": "Snow is ", "target": "x"}) + "\n")
    checks = {c.name: c for c in reproduce.reproduce(copy, base)}
    assert not checks["reproduce neighbours"].ok and "sha256" in checks["reproduce neighbours"].detail


def test_cli_verify_reproduce_passes_and_needs_a_base(tiny_patch, keypair):
    base, patch = tiny_patch
    runner = CliRunner()
    ok = runner.invoke(cli, ["verify", str(patch), "--base", str(base), "--pubkey", str(keypair[1]), "--reproduce"])
    assert ok.exit_code == 0, ok.output
    assert "reproduce facts" in ok.output and "reproduced" in ok.output
    bad = runner.invoke(cli, ["verify", str(patch), "--pubkey", str(keypair[1]), "--reproduce"])
    assert bad.exit_code != 0
