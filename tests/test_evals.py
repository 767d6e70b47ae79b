"""Eval panels: facts files, shipped panels, scoring and before/after comparison."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from helpers_tiny import real_smollm2, save_tiny, tiny_gpt2, tiny_llama, tiny_tokenizer

from patchkit import errors, evals
from patchkit.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_schema_at_repo_root_is_the_packaged_one():
    assert (ROOT / "schemas" / "facts.schema.json").read_bytes() == evals.schema_path().read_bytes()


def test_load_facts_reads_targets_and_paraphrases(tmp_path):
    f = _write(tmp_path / "f.jsonl", [
        json.dumps({"prompt": "The capital of Poland is", "target": " Warsaw", "paraphrases": ["Poland's capital is"]}),
        "",
        json.dumps({"prompt": "2 + 2 =", "target": " 4"}),
    ])
    facts = evals.load_facts(f)
    assert facts[0] == evals.Fact("The capital of Poland is", " Warsaw", ["Poland's capital is"])
    assert facts[1].paraphrases == []


@pytest.mark.parametrize("bad, match", [
    ('{"prompt": "x"}', "line 2|:2: 'target' is a required property"),
    ('{"prompt": "x", "target": " y", "extra": 1}', ":2: Additional properties"),
    ('{"prompt": "x", "target": 3}', ":2: target: 3 is not of type"),
    ('{"prompt": "x", "target": " y"', ":2: not valid JSON"),
])
def test_bad_facts_line_names_file_and_line(tmp_path, bad, match):
    f = _write(tmp_path / "bad.jsonl", ['{"prompt": "a", "target": " b"}', bad])
    with pytest.raises(errors.SchemaError, match=match) as exc:
        evals.load_facts(f)
    assert "bad.jsonl:2" in str(exc.value)


def test_shipped_panels_load_with_file_hashes():
    panels = {p.name: p for p in evals.shipped_panels()}
    assert [p.kind for p in panels.values()] == ["general", "side_effects", "perplexity"]
    for p in list(panels.values()) + [evals.load_panel("capitals")]:
        assert p.sha256 == hashlib.sha256(p.path.read_bytes()).hexdigest()
    assert len(panels["perplexity"].text) > 2000
    caps = evals.load_panel("capitals")
    assert len(caps.items) == 26 and all(len(f.paraphrases) == 2 for f in caps.items)
    assert len(evals.paraphrase_panel(caps).items) == 52


def test_user_panel_file_and_kind(tmp_path):
    f = _write(tmp_path / "mine.jsonl", ['{"prompt": "a", "target": " b"}'])
    p = evals.load_panel(f, kind="side_effects")
    assert (p.name, p.kind, len(p.items)) == ("mine", "side_effects", 1)
    with pytest.raises(errors.UsageError):
        evals.load_panel("no-such-panel")


def test_fact_is_correct_exactly_when_every_target_token_is_top1():
    model, tok = tiny_llama(dtype=torch.float32), tiny_tokenizer()
    checked = 0
    for prompt in ["Hello ", "abc ", "The capital of Poland is ", "x ", "Paris "]:
        ids = tok(prompt).input_ids
        greedy = []
        for _ in range(3):  # the model's own 3-token continuation is correct by construction
            with torch.no_grad():
                greedy.append(int(model(torch.tensor([ids + greedy])).logits[0, -1].argmax()))
        text = tok.decode(greedy)
        if tok(prompt + text).input_ids != ids + greedy or text[:1].isspace():
            continue  # random weights may pick bytes that do not round-trip as text
        checked += 1
        ok, first, pred = evals.score_fact(model, tok, evals.Fact(prompt, text))
        assert ok and first and pred == text
        wrong = tok.decode(greedy[:2]) + ("b" if text[2] != "b" else "c")
        ok, first, pred = evals.score_fact(model, tok, evals.Fact(prompt, wrong))
        assert not ok and first and pred == text
    assert checked


def test_compare_counts_changed_predictions():
    tok = tiny_tokenizer()
    panel = evals.facts_panel([evals.Fact(p, " x") for p in ["a", "b", "c", "d", "e", "f"]], name="t")
    model = tiny_gpt2(dtype=torch.float32)
    before = evals.run_panel(model, tok, panel)
    same = evals.compare(before, evals.run_panel(model, tok, panel))
    assert same["changed"] == 0 and same["before"] == same["after"]
    with torch.no_grad():
        model.lm_head.weight[:, :] = torch.randn_like(model.lm_head.weight)
    changed = evals.compare(before, evals.run_panel(model, tok, panel))
    assert set(changed) == {"name", "kind", "metric", "n", "before", "after", "changed"}
    assert changed["changed"] > 0 and changed["n"] == 6


def test_perplexity_matches_a_direct_computation():
    model, tok = tiny_llama(dtype=torch.float32), tiny_tokenizer()
    panel = evals.Panel("p", "perplexity", Path("p.txt"), "0", text="The quick brown fox jumps over the lazy dog.")
    r = evals.run_panel(model, tok, panel)
    ids = torch.tensor([tok(panel.text).input_ids])
    with torch.no_grad():
        loss = model(ids, labels=ids).loss.item()
    assert r.metric == "perplexity" and r.n == ids.shape[1] - 1
    assert r.value == pytest.approx(math.exp(loss), rel=1e-4)


def test_before_after_reverts_even_when_scoring_fails():
    model, tok = tiny_gpt2(dtype=torch.float32), tiny_tokenizer()
    w0 = model.transformer.h[0].attn.c_attn.weight.clone()

    def apply(m):
        with torch.no_grad():
            m.transformer.h[0].attn.c_attn.weight.add_(1.0)

    def revert(m):
        with torch.no_grad():
            m.transformer.h[0].attn.c_attn.weight.sub_(1.0)

    panel = evals.facts_panel([evals.Fact("ab", "c")])
    before, after = evals.before_after(model, tok, [panel], apply, revert)
    assert len(before) == len(after) == 1
    torch.testing.assert_close(model.transformer.h[0].attn.c_attn.weight, w0)


def test_cli_eval_json_on_tiny_model(tmp_path):
    ckpt = save_tiny(tiny_llama(dtype=torch.float32), tmp_path / "tiny")
    facts = _write(tmp_path / "f.jsonl", ['{"prompt": "ab", "target": "c", "paraphrases": ["abab"]}'])
    res = CliRunner().invoke(cli, ["eval", ckpt, "--facts", str(facts), "--panel", "general", "--panel",
                                   f"{facts}:side_effects", "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert [p["kind"] for p in d["panels"]] == ["facts", "paraphrases", "general", "side_effects"]
    assert all(len(p["sha256"]) == 64 for p in d["panels"])


@pytest.mark.real_model
def test_smollm2_shipped_panels():
    model, tok = real_smollm2()
    scores = {p.name: evals.run_panel(model, tok, p) for p in evals.shipped_panels() + [evals.load_panel("capitals")]}
    assert scores["general"].correct == scores["general"].n == 20
    assert scores["side_effects"].correct == scores["side_effects"].n == 24
    assert scores["capitals"].correct == 18
    assert scores["capitals"].predictions[0] == " the"  # Poland
    assert 10 < scores["perplexity"].value < 30


def test_cli_eval_with_patch_prints_before_and_after_and_leaves_the_model(tmp_path, keypair):
    from safetensors.torch import load_file

    from patchkit import arch, engine

    model = tiny_llama(dtype=torch.float32)
    ckpt = save_tiny(model, tmp_path / "tiny")
    weights = Path(ckpt) / "model.safetensors"
    before_bytes = weights.read_bytes()
    state = load_file(str(weights))
    (ts,) = arch.for_model(model).resolve("L2.attn.v")
    edited = state[ts.tensor].clone()
    torch.manual_seed(3)
    edited[ts.slices] += torch.randn(ts.shape)
    patch = engine.create(ckpt, {ts.tensor: edited}, tmp_path / "fix", key=keypair[0])
    facts = _write(tmp_path / "f.jsonl", [json.dumps({"prompt": p, "target": "c"}) for p in ["ab", "Hello ", "xyz"]])
    args = ["eval", ckpt, "--facts", str(facts), "--panel", "general", "--patch", str(patch), "--pubkey", str(keypair[1])]
    res = CliRunner().invoke(cli, args + ["--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert [p["name"] for p in d["panels"]] == ["f", "general"]
    assert all({"before", "after", "changed", "sha256"} <= set(p) for p in d["panels"])
    assert sum(p["changed"] for p in d["panels"]) > 0  # a large random edit moves some answers
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0 and "before" in res.output and "changed" in res.output
    assert weights.read_bytes() == before_bytes


@pytest.mark.real_model
def test_gemma3_general_panel_and_capitals():
    from helpers_tiny import real_gemma3

    model, tok = real_gemma3()
    general = evals.run_panel(model, tok, evals.load_panel("general"))
    assert general.correct == 18 and general.n == 20
    capitals = evals.run_panel(model, tok, evals.load_panel("capitals"))
    assert capitals.correct == 4  # Poland, Japan, Norway, Ireland
    assert capitals.predictions[8] == " the"  # France


def test_the_before_after_table_keeps_a_long_panel_name_out_of_the_next_column():
    """A facts file named ``smollm2_near8`` gives a panel ``smollm2_near8.paraphrases``: longer than the old
    fixed column, it ran into the kind ("smollm2_near8.paraphrasesparaphrases")."""
    long = evals.PanelResult("smollm2_near8.paraphrases", "paraphrases", "accuracy", 0.25, 8, 2, [])
    short = evals.PanelResult("general", "general", "accuracy", 1.0, 20, 20, [])
    rows = evals.format_results([long, short], [long, short]).splitlines()
    assert rows[1].split() == ["smollm2_near8.paraphrases", "paraphrases", "2/8", "2/8", "0"]
    assert rows[2].split() == ["general", "general", "20/20", "20/20", "0"]
    kind_at = rows[0].index("kind")  # every row's kind starts under the header's
    assert rows[1][kind_at:].startswith("paraphrases") and rows[2][kind_at:].startswith("general")
