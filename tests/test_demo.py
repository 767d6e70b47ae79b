"""`patchkit demo` end to end on SmolLM2 (real model; a couple of minutes on 2 cores)."""

from __future__ import annotations

import pytest

from patchkit import demo


@pytest.mark.real_model
def test_demo_repairs_verifies_reloads_and_restores_the_base(tmp_path):
    lines: list[str] = []
    figures = demo.run(workdir=tmp_path / "demo", echo=lines.append)
    assert figures["trace"]["rival"] == " the" and figures["trace"]["logit_diff"] < 0
    assert figures["triage"]["routing"] + figures["triage"]["near_miss"] == 8  # all fixable
    by = {p["kind"]: p for p in figures["panels"]}
    assert by["facts"]["after"] == by["facts"]["n"]  # every capital right after surgery
    assert by["general"]["changed"] == 0 and by["side_effects"]["changed"] == 0
    assert abs(by["perplexity"]["after"] / by["perplexity"]["before"] - 1) <= 0.01
    assert figures["verified"] and figures["restored_identical"]
    answers = figures["answers"]
    assert answers["The capital of Poland is"].startswith(" Warsaw")
    assert figures["base_answers"]["The capital of Poland is"].startswith(" the")  # the failure it fixed
    assert not list((tmp_path / "demo").glob("**/*.pem")) or all(
        "demo-key" in p.name for p in (tmp_path / "demo").glob("**/*.pem")
    )  # the key lives in the demo's own directory
    text = "\n".join(lines)
    assert "surgery" in text and "byte for byte" in text


def test_demo_knows_gemma_and_refuses_other_models_in_one_line():
    from click.testing import CliRunner

    from patchkit import errors
    from patchkit.cli import cli

    assert demo.STORIES["gemma3-270m"]["prompt"] == "The capital of France is"
    assert demo.STORIES["gemma3-270m"]["component"] is None  # surgery's default
    with pytest.raises(errors.UsageError, match="no story for 'gpt5'"):
        demo.run(model="gpt5")
    res = CliRunner().invoke(cli, ["demo", "--model", "gpt5"])
    assert res.exit_code != 0 and "gemma3-270m" in res.output
