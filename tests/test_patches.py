"""The committed example patch: the auditor's path, exactly as the README gives it.

Runs in CI (the full suite): prepares SmolLM2 once (cached), then
``patchkit verify patches/smollm2-135m-capitals --base smollm2 --pubkey … --reproduce``
must pass every check and reproduce every claim in the manifest.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from patchkit.cli import cli

ROOT = Path(__file__).resolve().parents[1]
PATCH = ROOT / "patches" / "smollm2-135m-capitals"
PUBKEY = ROOT / "patches" / "smollm2-135m-capitals.pub"


def test_committed_patch_has_no_private_key_and_its_public_key_alongside():
    assert PUBKEY.is_file() and b"PUBLIC KEY" in PUBKEY.read_bytes()
    for path in (ROOT / "patches").rglob("*"):
        if path.is_file():
            assert b"PRIVATE KEY" not in path.read_bytes(), path


@pytest.mark.real_model
def test_committed_patch_verifies_and_every_claim_reproduces():
    result = CliRunner().invoke(
        cli, ["verify", str(PATCH), "--base", "smollm2", "--pubkey", str(PUBKEY), "--reproduce", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    names = [c["name"] for c in report["checks"]]
    assert {"signature", "signer trusted", "base checkpoint"} <= set(names)
    repro = [c for c in report["checks"] if c["name"].startswith("reproduce ")]
    assert [c["name"] for c in repro] == [
        "reproduce capitals", "reproduce capitals.paraphrases", "reproduce general",
        "reproduce side_effects", "reproduce perplexity",
    ]
    assert all(c["ok"] for c in report["checks"]), report
