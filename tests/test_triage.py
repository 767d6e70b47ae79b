"""Triage: ok / routing / absent, thresholds, and the suggested component."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner
from helpers_tiny import TINY_BUILDERS, real_smollm2, save_tiny, tiny_llama, tiny_tokenizer

from patchkit import arch, evals, triage
from patchkit.cli import cli


def _facts(model, tok):
    """One fact the model gets right and some it gets wrong.

    Random weights rarely prefer a printable byte, so the output rows of the
    model's top token and of ``q`` are swapped: ``Hello `` -> ``q`` is then right.
    """
    ids = tok("Hello ").input_ids
    q = tok("q", add_special_tokens=False).input_ids[0]
    with torch.no_grad():
        own = int(model(torch.tensor([ids])).logits[0, -1].argmax())
        w = model.get_output_embeddings().weight
        w[[own, q]] = w[[q, own]]
    right = evals.Fact("Hello ", "q")
    wrong = [evals.Fact(p, c) for p in ("Hello ", "abc ", "The capital of Poland is ") for c in "xz"]
    return right, wrong


@pytest.mark.parametrize("family", sorted(TINY_BUILDERS))
def test_verdicts_follow_the_thresholds(family):
    model, tok = TINY_BUILDERS[family](dtype=torch.float32), tiny_tokenizer()
    right, wrong = _facts(model, tok)
    loose = triage.triage(model, tok, [right] + wrong, min_evidence=float("-inf"), max_rank=10**6, near_rank=0)
    assert loose.items[0].verdict == "ok" and loose.items[0].correct and loose.items[0].rank == 1
    assert all(i.verdict == "routing" for i in loose.items[1:])
    assert loose.counts == {"ok": 1, "routing": len(wrong), "near_miss": 0, "absent": 0}
    assert arch.for_model(model).resolve(loose.suggested_component)  # a name the architecture map resolves
    for h in loose.suggested_heads:
        arch.for_model(model).resolve(h)
    strict = triage.triage(model, tok, wrong, min_evidence=float("inf"), near_rank=0)
    assert {i.verdict for i in strict.items} == {"absent"} and strict.suggested_component is None


def test_near_misses_are_fixable_whatever_the_attention_evidence():
    model, tok = tiny_llama(dtype=torch.float32), tiny_tokenizer()
    _, wrong = _facts(model, tok)
    # no attention evidence counts (min_evidence inf): a target near the top is still a near miss
    near = triage.triage(model, tok, wrong, min_evidence=float("inf"), near_rank=10**6, near_gap=float("inf"))
    assert {i.verdict for i in near.items} == {"near_miss"} and all(i.fixable for i in near.items)
    assert near.suggested_component is not None  # the fixable group still gets a suggestion
    for i in near.items:
        assert f"ranked {i.rank}" in i.reason and f"{-i.logit_gap:.2f} logits behind" in i.reason
        assert f"layer {i.peak_layer}" in i.reason  # where the evidence is
    # the gap bounds it: a target further behind than near_gap is not a near miss
    gaps = sorted(-i.logit_gap for i in near.items)
    cut = (gaps[0] + gaps[-1]) / 2
    split = triage.triage(model, tok, wrong, min_evidence=float("inf"), near_rank=10**6, near_gap=cut)
    for i in split.items:
        assert i.verdict == ("near_miss" if -i.logit_gap <= cut else "absent")
        assert i.reason  # every verdict says why
    # and the rank bounds it
    top2 = triage.triage(model, tok, wrong, min_evidence=float("inf"), near_rank=2, near_gap=float("inf"))
    for i in top2.items:
        assert i.verdict == ("near_miss" if i.rank <= 2 else "absent")


def test_item_fields_and_json():
    model, tok = tiny_llama(dtype=torch.float32), tiny_tokenizer()
    right, wrong = _facts(model, tok)
    report = triage.triage(model, tok, [right, wrong[0]])
    d = json.loads(json.dumps(report.to_dict()))
    item = d["items"][1]
    assert item["correct"] is False and item["rank"] > 1 and item["logit_gap"] < 0
    assert item["verdict"] in triage.VERDICTS and item["peak_head"].startswith(f"L{item['peak_layer']}.attn.h")
    assert d["thresholds"] == triage.DEFAULTS and sum(d["counts"].values()) == 2
    with pytest.raises(TypeError):
        triage.triage(model, tok, [right], min_evidnce=1.0)


def test_cli_triage(tmp_path):
    ckpt = save_tiny(tiny_llama(dtype=torch.float32), tmp_path / "tiny")
    facts = tmp_path / "f.jsonl"
    facts.write_text('{"prompt": "Hello ", "target": "x"}\n{"prompt": "abc ", "target": "z"}\n')
    res = CliRunner().invoke(cli, ["triage", ckpt, "--facts", str(facts), "--json", "--min-evidence", "-100",
                                   "--max-rank", "1000"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["counts"]["absent"] == 0
    res = CliRunner().invoke(cli, ["triage", ckpt, "--facts", str(facts)])
    assert res.exit_code == 0 and "2 facts:" in res.output


@pytest.mark.real_model
def test_smollm2_capitals_triage():
    model, tok = real_smollm2()
    facts = evals.load_panel("capitals").items + [evals.Fact("The capital of Eswatini is", " Mbabane"),
                                                 evals.Fact("The capital of Burkina Faso is", " Ouagadougou")]
    report = triage.triage(model, tok, facts)
    poland = report.items[0]
    assert (poland.fixable, poland.rank, poland.rival) == (True, 2, " the")
    assert poland.peak_layer < poland.override_layer and poland.override_diff < 0
    c = report.counts
    assert (c["ok"], c["routing"] + c["near_miss"], c["absent"]) == (18, 8, 2)
    assert all(i.fixable for i in report.items[:8])  # the 8 known failures: all near misses or routing
    assert report.suggested_component is not None
    assert arch.for_model(model).resolve(report.suggested_component)[0].tensor.endswith("self_attn.v_proj.weight")


@pytest.mark.real_model
def test_gemma3_capitals_triage_france_is_routing_through_layer_12():
    from helpers_tiny import real_gemma3

    model, tok = real_gemma3()
    facts = [f for f in evals.load_panel("capitals").items
             if f.prompt.split()[-2] in ("France", "Poland", "Switzerland", "Egypt", "Germany")]
    report = triage.triage(model, tok, facts)
    by = {i.prompt.split()[-2]: i for i in report.items}
    france = by["France"]
    assert (france.verdict, france.rank, france.rival) == ("routing", 3, " the")
    assert france.peak_layer < france.override_layer and france.override_diff < 0
    assert by["Poland"].verdict == "ok" and by["Switzerland"].verdict == "absent"
    assert report.counts == {"ok": 1, "routing": 3, "near_miss": 0, "absent": 1}
    assert report.suggested_component == "L12.attn.v"  # one KV head per layer: the whole value projection
    assert report.suggested_heads == ["L12.attn.v.h0"]
