"""Slice-masked surgery on tiny GPT-2 and Llama models (fixed seeds, no downloads)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from helpers_tiny import save_tiny, tiny_gpt2, tiny_llama, tiny_tokenizer

from patchkit import arch, engine, errors
from patchkit import surgery as S

FACTS = [("The sky is ", "b"), ("Grass is ", "g")]  # one byte-level token per target


def _sharp_llama():
    """A tiny Llama whose output head is scaled up: at init its logits are nearly flat,
    and no single slice could move the argmax far enough to test learning."""
    model = tiny_llama(torch.float32)
    with torch.no_grad():
        model.lm_head.weight.mul_(20)
    return model


def _train(model, component: str, steps: int = 20, lr: float = 5e-2, seed: int = 0, preserve=("Hello there",)):
    targets = S.as_targets(arch.for_model(model).resolve(component))
    cfg = S.SurgeryConfig(steps=steps, lr=lr, seed=seed, kl_weight=1.0, preserve_batch=1)
    return targets, S.train_slices(model, tiny_tokenizer(), FACTS, targets, preserve=list(preserve), config=cfg)


def _next_token(model, prompt: str) -> str:
    tok = tiny_tokenizer()
    with torch.no_grad():
        logits = model(torch.tensor([tok(prompt).input_ids])).logits[0, -1]
    return tok.decode([int(logits.argmax())])


def test_gpt2_value_projection_is_columns_2d_to_3d_and_only_they_change():
    model = tiny_gpt2(torch.float32)
    d = model.config.n_embd
    targets, res = _train(model, "L1.attn.v")
    assert [(t.tensor, t.slices) for t in targets] == [
        ("transformer.h.1.attn.c_attn.weight", (slice(0, d), slice(2 * d, 3 * d)))
    ]
    base = model.transformer.h[1].attn.c_attn.weight.detach()
    changed = (res.edited["transformer.h.1.attn.c_attn.weight"] != base).any(dim=0)
    assert changed[2 * d : 3 * d].all()  # every value column moved
    assert not changed[: 2 * d].any() and not changed[3 * d :].any()  # q and k columns bit-identical
    assert set(res.edited) == {"transformer.h.1.attn.c_attn.weight"}
    S.check_untouched(dict(model.named_parameters()), res.edited, targets)


def test_llama_value_slice_learns_the_facts_and_leaves_the_model_untouched():
    model = _sharp_llama()
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    targets, res = _train(model, "L2.attn.v", steps=40, lr=0.1)
    assert targets[0].slices == (slice(0, 16), slice(0, 32))  # 2 kv heads x head_dim 8 rows
    assert res.losses[-1]["ce"] < res.losses[0]["ce"] / 4
    for k, v in model.named_parameters():  # training never writes into the model
        assert torch.equal(v, before[k])
    saved = S.apply_edit(model, res.edited)
    try:
        assert [_next_token(model, p) for p, _ in FACTS] == [t for _, t in FACTS]
    finally:
        S.restore(model, saved)
    for k, v in model.named_parameters():
        assert torch.equal(v, before[k])


def test_training_is_deterministic_for_a_fixed_seed():
    model = tiny_llama(torch.float32)
    _, a = _train(model, "L1.attn.v", steps=8)
    _, b = _train(model, "L1.attn.v", steps=8)
    w = "model.layers.1.self_attn.v_proj.weight"
    assert torch.equal(a.edited[w], b.edited[w])
    assert a.losses == b.losses


def test_check_untouched_refuses_a_change_outside_the_slice():
    model = tiny_llama(torch.float32)
    targets, res = _train(model, "L1.attn.v.h0", steps=2)
    w = "model.layers.1.self_attn.v_proj.weight"
    bad = dict(res.edited)
    bad[w] = bad[w].clone()
    bad[w][12, 3] += 1.0  # row 12 belongs to head 1
    with pytest.raises(errors.IntegrityError, match="outside"):
        S.check_untouched(dict(model.named_parameters()), bad, targets)


def test_preservation_schedule_is_seeded_and_covers_the_set():
    cfg = S.SurgeryConfig(steps=10, preserve_batch=3, seed=7)
    a, b = S._preserve_schedule(5, cfg), S._preserve_schedule(5, cfg)
    assert a == b and len(a) == 10 and all(len(x) == 3 for x in a)
    assert set(i for x in a for i in x) == set(range(5))


def test_shipped_preservation_texts_are_disjoint_from_the_eval_panels():
    from patchkit import evals

    texts = set(S.load_preserve())
    prompts = {f.prompt for name in ("capitals", "general", "side_effects") for f in evals.load_panel(name).items}
    assert len(texts) >= 50 and not texts & prompts


# --- the whole command on a tiny checkpoint ---------------------------------------------------


@pytest.fixture
def tiny_ckpt(tmp_path) -> Path:
    return Path(save_tiny(_sharp_llama(), tmp_path / "base"))


def _files(tmp_path: Path) -> tuple[Path, Path, Path]:
    facts = tmp_path / "facts.jsonl"
    facts.write_text("".join(json.dumps({"prompt": p, "target": t, "paraphrases": [p.lower()]}) + "\n" for p, t in FACTS))
    side = tmp_path / "neighbours.jsonl"
    side.write_text(json.dumps({"prompt": "Snow is ", "target": "w"}) + "\n")
    text = tmp_path / "passage.txt"
    text.write_text("A short passage of plain text.")
    return facts, side, text


def _sharp_gpt2():
    model = tiny_gpt2(torch.float32)
    with torch.no_grad():
        model.transformer.wte.weight.mul_(20)  # tied output head: sharper logits, as for Llama above
    return model


def test_gpt2_surgery_patch_records_only_the_value_columns_and_reproduces(tmp_path, keypair):
    from patchkit import reproduce

    base = Path(save_tiny(_sharp_gpt2(), tmp_path / "base"))
    facts, side, text = _files(tmp_path)
    res = S.surgery(base, facts, tmp_path / "fix", key=keypair[0], component="L2.attn.v",
                    config=S.SurgeryConfig(steps=20, lr=0.1, kl_weight=1.0), panels=[side, text],
                    default_panels=False, include_absent=True, allow_regressions=True)
    (edit,) = engine.Patch.load(res.patch).edits
    assert edit["tensor"] == "transformer.h.2.attn.c_attn.weight"
    assert edit["slice"][1][0] >= 64 and edit["slice"][1][1] <= 96  # inside columns 2d..3d (d=32)
    assert all(c.ok for c in reproduce.reproduce(res.patch, base))


def test_surgery_writes_a_signed_patch_with_method_evals_and_panel_files(tiny_ckpt, tmp_path, keypair):
    facts, side, text = _files(tmp_path)
    cfg = S.SurgeryConfig(steps=40, lr=0.1, kl_weight=1.0)
    res = S.surgery(tiny_ckpt, facts, tmp_path / "fix", key=keypair[0], component="L2.attn.v", config=cfg,
                    panels=[side, text], default_panels=False, include_absent=True, allow_regressions=True)
    p = engine.Patch.load(res.patch)
    m = p.manifest
    assert m["method"]["component"] == "L2.attn.v" and m["method"]["seed"] == 0
    assert set(m["method"]["versions"]) == {"patchkit", "torch", "transformers"}
    assert [e["tensor"] for e in m["edits"]] == ["model.layers.2.self_attn.v_proj.weight"]
    names = [e["name"] for e in m["evals"]["panels"]]
    assert names == ["facts", "facts.paraphrases", "neighbours", "passage"]
    for e in m["evals"]["panels"]:
        assert (res.patch / e["file"]).is_file()
    assert engine.verify(res.patch, base=tiny_ckpt, pubkey=keypair[1]).ok
    assert res.params == 16 * 32  # 2 kv heads x head_dim 8 rows, hidden 32 columns


def test_surgery_refuses_a_regression_and_writes_nothing(tiny_ckpt, tmp_path, keypair):
    facts, side, text = _files(tmp_path)
    cfg = S.SurgeryConfig(steps=30, lr=1.0, kl_weight=0.0)  # reckless: moves everything
    with pytest.raises(errors.RegressionError) as info:
        S.surgery(tiny_ckpt, facts, tmp_path / "fix", key=keypair[0], component="L1.attn", config=cfg,
                  panels=[side, text], default_panels=False, include_absent=True,
                  tolerances={"perplexity": 0.0001})
    assert not (tmp_path / "fix").exists()
    assert info.value.result.regressions  # the table is still available to print


def test_minimize_prunes_heads_whose_delta_is_not_needed(tmp_path):
    from patchkit import evals

    model, tok = _sharp_llama(), tiny_tokenizer()
    amap = arch.for_model(model)
    head = S.as_targets(amap.resolve("L2.attn.v.h1"))
    cfg = S.SurgeryConfig(steps=60, lr=0.1, kl_weight=0.0)
    edited = S.train_slices(model, tok, FACTS, head, config=cfg).edited
    facts_file = tmp_path / "facts.jsonl"
    facts_file.write_text("".join(json.dumps({"prompt": p, "target": t}) + "\n" for p, t in FACTS))
    panels = [evals.load_panel(facts_file, kind="facts")]
    before = [evals.run_panel(model, tok, p) for p in panels]
    full = S.as_targets(amap.resolve("L2.attn.v"))
    from patchkit.minimize import minimize

    kept, out, name = minimize(model, tok, amap, "L2.attn.v", full, edited, FACTS, [], cfg, panels, before,
                               S.DEFAULT_TOLERANCES, evals)
    assert name == "L2.attn.v.h1"
    assert [t.slices for t in kept] == [t.slices for t in head]
    S.check_untouched(dict(model.named_parameters()), out, kept)


def test_cli_surgery_prints_the_table_and_exits_12_on_a_regression(tiny_ckpt, tmp_path, keypair):
    from click.testing import CliRunner

    from patchkit.cli import cli

    facts, side, text = _files(tmp_path)
    args = ["surgery", str(tiny_ckpt), "--facts", str(facts), "--component", "L1.attn", "--include-absent",
            "--panel", str(side), "--steps", "20", "--lr", "1.0", "--kl-weight", "0"]
    runner = CliRunner()
    refused = runner.invoke(cli, args + ["-o", str(tmp_path / "fix"), "--key", str(keypair[0])])
    assert isinstance(refused.exception, errors.RegressionError)
    assert "panel" in refused.output and "regressions:" in refused.output
    assert not (tmp_path / "fix").exists()
    with pytest.raises(SystemExit) as code:  # through main(): the exit-code table
        from patchkit.cli import main

        main(args + ["-o", str(tmp_path / "fix"), "--key", str(keypair[0])])
    assert code.value.code == 12
    dry = runner.invoke(cli, args + ["--dry-run", "--allow-regressions", "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output[dry.output.index("{"):])["component"] == "L1.attn"


def test_load_preserve_adds_user_files_to_the_shipped_set(tmp_path):
    jl = tmp_path / "more.jsonl"
    jl.write_text(json.dumps({"text": "alpha"}) + "\n\n" + json.dumps({"prompt": "beta"}) + "\n")
    txt = tmp_path / "more.txt"
    txt.write_text("gamma\n\ndelta\n")
    shipped = S.load_preserve()
    assert S.load_preserve([jl, txt]) == shipped + ["alpha", "beta", "gamma", "delta"]
    assert S.load_preserve([txt], default=False) == ["gamma", "delta"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    with pytest.raises(errors.SchemaError, match="bad.jsonl:1"):
        S.load_preserve([bad])


# --- several components: tried in order, judged on the selection set, the first that passes ships ---

_CFG = S.SurgeryConfig(steps=40, lr=0.1, kl_weight=1.0)
# On this tiny model a query head of layer 0 cannot move the answers (its edit leaves both facts
# wrong), while the value projection of layer 2 fixes both: the first is refused, the second ships.
_WEAK, _STRONG = "L0.attn.q.h0", "L2.attn.v"


def test_surgery_skips_a_refused_component_and_ships_the_next(tiny_ckpt, tmp_path, keypair):
    facts, side, text = _files(tmp_path)
    said = []
    res = S.surgery(tiny_ckpt, facts, tmp_path / "fix", key=keypair[0], component=[_WEAK, _STRONG, "L1.attn.v"],
                    config=_CFG, panels=[side, text], default_panels=False, include_absent=True,
                    auto_selection=False, allow_regressions=True, log=said.append)
    assert res.component == _STRONG
    assert [t["component"] for t in res.tried] == [_WEAK, _STRONG]  # stops at the first that passes
    assert res.tried[0]["regressions"] == ["2 trained fact(s) still wrong (e.g. 'The sky is ')"]
    assert [m for m in said if m.startswith("refused")] == [f"refused {_WEAK}: {res.tried[0]['regressions'][0]}"]
    method = engine.Patch.load(res.patch).manifest["method"]
    assert method["component"] == _STRONG
    recorded = {c["component"]: c for c in method["search"]["candidates"]}
    assert recorded[_WEAK]["tried"] and not recorded[_WEAK]["passed"] and recorded[_WEAK]["reasons"]
    assert recorded[_STRONG]["passed"] and not recorded["L1.attn.v"]["tried"]
    assert f"refused {_WEAK}: 2 trained fact(s) still wrong" in S.format_table(res)
    assert res.to_dict()["tried"] == res.tried


def test_a_guard_whose_answer_changes_refuses_every_candidate_and_nothing_is_written(tiny_ckpt, tmp_path, keypair):
    facts, side, text = _files(tmp_path)
    guards = tmp_path / "guards.txt"
    guards.write_text("Fact: The sky is \n")  # a trained variant of a fact: fixing it changes this answer
    with pytest.raises(errors.RegressionError) as info:
        S.surgery(tiny_ckpt, facts, tmp_path / "fix", key=keypair[0], component=[_STRONG, "L2.attn.o"],
                  config=_CFG, panels=[side, text], default_panels=False, include_absent=True,
                  auto_selection=False, guards=[guards])
    assert not (tmp_path / "fix").exists()
    msg = str(info.value)
    assert msg.startswith(f"every component tried is refused: {_STRONG}: ") and "; L2.attn.o: " in msg
    assert "selection prompt(s) changed answer (e.g. 'Fact: The sky is ')" in msg
    assert info.value.result.regressions[0] == "selection: no candidate passed (2 tried)"


def test_search_without_a_component_screens_tries_and_records(tiny_ckpt, tmp_path, keypair):
    facts, side, text = _files(tmp_path)
    said = []
    res = S.surgery(tiny_ckpt, facts, None, key=None, config=_CFG, panels=[side, text], default_panels=False,
                    include_absent=True, auto_selection=False, allow_regressions=True, candidates=2,
                    max_share=0.05, log=said.append, solve_tries=0)  # the trained search alone
    screened = [c.component for c in res.candidates]
    assert res.component in screened[:2] and res.tried[0]["component"] == screened[0]
    assert all(c.score is not None for c in res.candidates)
    assert [c.score for c in res.candidates] == sorted((c.score for c in res.candidates), reverse=True)
    assert any(m.startswith("search: screening") for m in said)
    search = res.method["search"]
    assert not search["named"] and search["candidates"][0]["component"] == screened[0]
    # the budget: no searched component is larger than max_share of the model
    model_params = res.model_params
    amap = arch.for_model(__import__("transformers").AutoConfig.from_pretrained(tiny_ckpt))
    for name in screened:
        assert sum(t.numel() for t in amap.resolve(name)) <= 0.05 * model_params


def test_the_default_search_tries_memory_neurons_then_ranges_and_trains_when_none_passes(tiny_ckpt, tmp_path,
                                                                                      monkeypatch):
    from patchkit import judge, solve

    facts, side, text = _files(tmp_path)
    res = S.surgery(tiny_ckpt, facts, None, key=None, config=_CFG, panels=[side, text], default_panels=False,
                    include_absent=True, auto_selection=False, allow_regressions=True, candidates=1,
                    max_share=0.05, solve_tries=2, contexts=False)
    order = [c["component"] for c in res.method["search"]["candidates"]]
    assert order[0] == "L1.mlp" and solve.is_down(order[1])  # memory neurons first, then the neuron ranges
    assert res.tried[0]["component"] == "L1.mlp"
    # everything that edits a down projection refused: memory, then the range, then the screen's trained slice;
    # the gradient screen runs only once all of those were tried and refused (the search is lazy)
    real, said = judge.selection_reasons, []
    monkeypatch.setattr(judge, "selection_reasons", lambda m, t, edited, *a, **k: (
        ["refused for the test"] if any("down_proj" in name for name in edited) else real(m, t, edited, *a, **k)))
    res = S.surgery(tiny_ckpt, facts, None, key=None, config=_CFG, panels=[side, text], default_panels=False,
                    include_absent=True, auto_selection=False, allow_regressions=True, candidates=1,
                    max_share=0.05, solve_tries=2, log=said.append, contexts=False)
    tried = [t["component"] for t in res.tried]
    assert tried[0] == "L1.mlp" and solve.is_down(tried[1]) and len(tried) == 3
    assert res.tried[0]["regressions"] and res.tried[1]["regressions"] == ["refused for the test"]
    assert len(set(tried)) == 3  # the trained try is not a range solved before
    assert any(m == f"surgery: training {tried[2]}" for m in said)
    screened = next(i for i, m in enumerate(said) if "components of at most" in m)
    refused = next(i for i, m in enumerate(said) if m.startswith(f"refused {tried[1]}"))
    assert refused < screened


def test_cli_surgery_takes_repeated_components(tiny_ckpt, tmp_path):
    from click.testing import CliRunner

    from patchkit.cli import cli

    facts, side, text = _files(tmp_path)
    res = CliRunner().invoke(cli, ["surgery", str(tiny_ckpt), "--facts", str(facts), "--component", _WEAK,
                                   "--component", _STRONG, "--include-absent", "--panel", str(side),
                                   "--steps", "40", "--lr", "0.1", "--kl-weight", "1", "--no-neighbours",
                                   "--dry-run", "--allow-regressions", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output[res.output.index("{"):])
    assert [t["component"] for t in out["tried"]] == [_WEAK, _STRONG]


def test_cli_surgery_contexts_trains_the_facts_after_the_openings_only_when_asked(tiny_ckpt, tmp_path):
    from click.testing import CliRunner

    from patchkit import selection
    from patchkit.cli import cli

    facts, side, _ = _files(tmp_path)
    prompts = [json.loads(line)["prompt"] for line in facts.read_text().splitlines()]
    trained = {}
    for flags in ([], ["--contexts"]):
        res = CliRunner().invoke(cli, ["surgery", str(tiny_ckpt), "--facts", str(facts), "--component", _STRONG,
                                       "--include-absent", "--panel", str(side), "--steps", "5", "--no-neighbours",
                                       "--dry-run", "--allow-regressions", "--json", *flags])
        assert res.exit_code == 0, res.output
        trained[bool(flags)] = json.loads(res.output[res.output.index("{"):])["wordings_trained"]
    assert set(trained[True]) == {c for p in prompts for c in selection.in_contexts(p)} and trained[False] == []


def test_the_search_tries_at_most_one_candidate_per_layer_in_screen_order():
    from patchkit.search import Candidate, one_per_layer

    ranked = [Candidate(c, s) for c, s in [("L0.attn.o.h3", 9), ("L0.attn.o.h2", 8), ("L1.attn.o.h0", 7),
                                           ("L1.attn.v", 6), ("L13.attn.o.h1", 5), ("L2.attn.o.h0", 4)]]
    assert [c.component for c in one_per_layer(ranked, 3)] == ["L0.attn.o.h3", "L1.attn.o.h0", "L13.attn.o.h1"]
    assert [c.component for c in one_per_layer(ranked, 10)] == ["L0.attn.o.h3", "L1.attn.o.h0", "L13.attn.o.h1",
                                                                "L2.attn.o.h0"]
    # the diagnosis' own candidate leads and its layer counts as tried
    assert [c.component for c in one_per_layer(ranked, 3, first="L1.attn.v")] == ["L1.attn.v", "L0.attn.o.h3",
                                                                                 "L13.attn.o.h1"]


def test_the_override_head_triage_names_for_most_fixable_facts_is_the_first_candidate():
    from types import SimpleNamespace

    from patchkit.search import override_head

    def item(override, fixable=True):
        return SimpleNamespace(override_component=override, fixable=fixable)

    pool = ["L17.attn.o.h2", "L3.attn.o.h1", "L5.attn.v"]
    items = [item("L17.attn.h2")] * 2 + [item("L16.mlp"), item(None), item("L2.attn.h0", fixable=False)]
    assert override_head(items, pool) is None  # 2 of the 4 fixable facts: not more than half
    items = [item("L17.attn.h2")] * 3 + [item("L16.mlp")]
    assert override_head(items, pool) == "L17.attn.o.h2"
    assert override_head(items, ["L3.attn.o.h1"]) is None  # over the budget (not in the pool): not tried
    assert override_head([item("L16.mlp")] * 4, pool) is None  # an MLP is no head


def test_the_selection_pool_shares_no_subject_with_the_held_out_sets():
    # the held-out figures are only held out if surgery never judges with their subjects
    import re
    from pathlib import Path

    from patchkit import selection

    root = Path(__file__).resolve().parents[1] / "bench" / "heldout"
    rows = [json.loads(line) for p in root.glob("*.jsonl") for line in p.read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if not str(r.get("id", "")).startswith("generic:")]  # idioms, no subject ("When in Rome")
    held = "\n".join([r["prompt"] for r in rows] + [q for r in rows for q in r.get("paraphrases", [])])
    clash = [name for names in selection.subject_pool().values() for name in names
             if re.search(r"\b" + re.escape(name) + r"\b", held)]
    assert clash == []


def test_no_fresh_held_out_subject_is_in_a_shipped_file_or_the_selection_pool():
    """bench/fresh's figures (session 20) are held out only while no shipped file, tuning file or pool names their
    subjects. (Three subjects contain a pool city — "Air Berlin", "Bangkok Airways", "Dublin coddle" — and so are
    judged near the pool's "Berlin is an airline …": noted in bench/fresh/README.md.)"""
    from helpers_heldout import REPO, in_pool, named, rows, subjects

    names = subjects(rows(REPO / "bench" / "fresh"))
    assert len(names) > 300
    assert not in_pool(names)
    seen = "\n".join(p.read_text(encoding="utf-8") for folder in ("patchkit/data", "bench/tune", "bench/heldout")
                     for p in (REPO / folder).iterdir() if p.is_file())
    assert named(names, seen) == []


@pytest.mark.parametrize("template, subject, prompt", [
    ("The capital of the {} is", "the United States", "The capital of the United States is"),
    ("The capital of {} is", "the United States", "The capital of the United States is"),
    ("{} is a country in", "the Netherlands", "The Netherlands is a country in"),
    ("The {} is a famous landmark", "Theodore Roosevelt", "The Theodore Roosevelt is a famous landmark"),
])
def test_a_neighbour_prompt_never_doubles_the_article(template, subject, prompt):
    """A template ending in "the" and a subject starting with it make one "the", not "the the"."""
    from patchkit import selection

    assert selection._fill(template, subject) == prompt


def test_an_article_before_a_name_belongs_to_the_subject_not_the_template():
    """Facts "The capital of the Netherlands is" and "... of Ethiopia is" share one template, so the selection set
    never asks "The capital of the Ethiopia is" (it refused every Gemma candidate on 102 capitals)."""
    from patchkit import selection

    prompts = ["The capital of the Netherlands is", "The capital of the United States is", "The capital of Ethiopia is",
               "The Louvre is a famous landmark in the country of", "The Alhambra is a famous landmark in the country of"]
    templates = selection.infer_templates(prompts)
    assert {templates[p] for p in prompts[:3]} == {"The capital of {} is"}
    assert templates[prompts[3]] == templates[prompts[4]] == "{} is a famous landmark in the country of"
    assert selection._fill(templates[prompts[0]], "Kenya") == "The capital of Kenya is"
    # where the edit acts: the name's last token, as before
    assert selection.infer_templates(["The river Danube flows through", "The river Rhine flows through"]) == {
        "The river Danube flows through": "The river {} flows through",
        "The river Rhine flows through": "The river {} flows through"}


def test_the_template_most_facts_share_wins_over_one_two_facts_share():
    """Two castles share "{} Castle is a landmark in"; the relation's template is the one every fact shares."""
    from patchkit import selection

    prompts = ["Edinburgh Castle is a landmark in the city of", "Prague Castle is a landmark in the city of",
               "Red Square is a landmark in the city of", "Big Ben is a landmark in the city of"]
    assert set(selection.infer_templates(prompts).values()) == {"{} is a landmark in the city of"}


def test_a_template_keeps_its_relation_when_two_relations_share_a_tail():
    """"Lyon is a city in the country of" and "Albert Camus was born in the country of" share "{} in the country of";
    its "subject" "Lyon is a city" is no name, and the selection set would ask "Paris in the country of"."""
    from patchkit import selection

    prompts = ["Lyon is a city in the country of", "Osaka is a city in the country of",
               "Albert Camus was born in the country of", "Pablo Neruda was born in the country of",
               "Accra is a city in the country of"]
    templates = selection.infer_templates(prompts)
    assert {templates[p] for p in prompts if "city" in p} == {"{} is a city in the country of"}
    assert {templates[p] for p in prompts if "born" in p} == {"{} was born in the country of"}
    # one fact of a relation alone still gets its own template (from its capitalised name), not the shared tail
    alone = selection.infer_templates(prompts[2:])
    assert alone["Accra is a city in the country of"] == "{} is a city in the country of"
    # subjects that are not names keep the shared-words template
    assert selection.infer_templates(["The plural of mouse is", "The plural of goose is"]) == {
        "The plural of mouse is": "The plural of {} is", "The plural of goose is": "The plural of {} is"}
    # nor does a capitalised first word that is no part of the shared template's subject ("Look", not "sky")
    assert set(selection.infer_templates(["Look at the sky", "Look at the grass"]).values()) == {"Look at the {}"}
    # a name with a lower-case word is the whole shared subject, not its capitalised part: "{} yum is a dish ..."
    # keyed the memory at "Tom" and asked the selection set "Pozole yum is a traditional dish from ..."
    dishes = ["Tom yum is a traditional dish from the country of", "Pozole is a traditional dish from the country of",
              "Tre Cime di Lavaredo is a mountain in the country of", "Mount Kerinci is a mountain in the country of",
              "Dublin coddle is a traditional dish from the country of"]  # "Dublin" is a pool subject
    templates = selection.infer_templates(dishes)
    assert templates[dishes[0]] == templates[dishes[1]] == templates[dishes[4]] == (
        "{} is a traditional dish from the country of")
    assert templates[dishes[2]] == templates[dishes[3]] == "{} is a mountain in the country of"
    # a name that ends in "s" keeps it; a possessive "'s" does not belong to the name
    assert selection.infer_templates(["Athens is a city in the country of"]) == {
        "Athens is a city in the country of": "{} is a city in the country of"}
    assert selection.infer_templates(["France's capital is"]) == {"France's capital is": "{}'s capital is"}


@pytest.mark.parametrize("template, kind", [
    ("{} is a city in the country of", "city"), ("The city of {} is on the continent of", "city"),
    ("{} is a landmark in the city of", "landmark"), ("{} is a famous sight in the city of", "landmark"),
    ("{} is a company headquartered in the country of", "company"), ("The company {} is based in", "company"),
    ("{} was born in the country of", "person"), ("{} was famous for playing the", "person"),
    ("The books of {} were originally written in", "person"), ("{} is a country in the continent of", "country"),
    ("The capital of {} is", None), ("The river {} flows through the country of", None),
])
def test_a_template_says_what_kind_of_subject_it_takes_never_the_answers_kind(template, kind):
    """Neighbours are the template filled with subjects of the facts' kind; the words that describe the subject
    choose it ("a city in the country of" takes cities, not countries)."""
    from patchkit import selection

    assert selection.template_kind(template) == kind
    if kind is not None:
        assert kind in selection.subject_pool()


def test_other_questions_ask_the_facts_subjects_what_their_own_template_does_not():
    """Why: a memory keyed on "Australia" fires on it whatever is asked; with --other-questions the selection set asks
    the subject the other questions of its kind (never its own question), one wording kept for solving again, the
    other judging, none of them a reported prompt."""
    from helpers_tiny import sharp_llama, tiny_tokenizer

    from patchkit import selection

    asked = selection.questions_about("Australia", "country", "The capital of {} is")
    assert "The biggest city in Australia is" in asked and not any("capital" in q for q in asked)
    assert not any("language" in q or "speak" in q for q in
                   selection.questions_about("Chile", "country", "The official language of {} is"))
    model, tok = sharp_llama(), tiny_tokenizer()
    facts = ["The capital of Australia is", "The capital of Turkey is"]
    reported = {"The biggest city in Turkey is"}
    plain = selection.build(model, tok, facts, exclude=reported)
    assert plain.train_questions is None and plain.judge_questions == []
    sel = selection.build(model, tok, facts, exclude=reported, questions=True, min_margin=-1.0)
    trained = {q for qs in sel.train_questions.values() for q in qs}
    judged = {p.prompt for p in sel.judge_questions}
    assert "The most populous city of Australia is" in sel.train_questions["The capital of Australia is"]
    assert "The biggest city in Australia is" in judged and "The biggest city in Turkey is" not in judged
    assert not trained & judged and not any("capital" in q for q in trained | judged)
    assert set(sel.judge) >= set(sel.judge_questions)


def test_the_selection_set_words_each_fact_s_own_question_in_the_shipped_wordings_never_a_reported_one():
    """Why: a repair trained on the user's prompt alone carries to few other wordings (issue 8's paraphrases); the
    shipped wordings of the fact's own relation are trained too — only where the subject's kind is known (a pool
    member or the template's words, not the embedding guess), and never a prompt a report counts."""
    from helpers_tiny import sharp_llama, tiny_tokenizer

    from patchkit import selection

    assert selection.own_wordings("Australia", "country", "The capital of {} is") == [
        "The capital city of Australia is", "The seat of government of Australia is in"]
    assert selection.known_kind(["Zorblat"], "{} is a company headquartered in the country of") == "company"
    assert selection.known_kind(["Zorblat"], "The river {} flows through the country of") is None
    model, tok = sharp_llama(), tiny_tokenizer()
    facts = ["The capital of Australia is", "The capital of Turkey is"]
    reported = {"The capital city of Turkey is"}
    sel = selection.build(model, tok, facts, exclude=reported)
    assert sel.wordings["The capital of Australia is"] == ["The capital city of Australia is",
                                                           "The seat of government of Australia is in"]
    assert sel.wordings["The capital of Turkey is"] == ["The seat of government of Turkey is in"]
    river = selection.build(model, tok, ["The river Zorblat flows through the country of"])
    assert river.wordings == {}


def test_a_side_effect_item_that_asks_a_repaired_fact_is_listed_not_counted_as_a_side_effect(tiny_ckpt, tmp_path,
                                                                                              keypair):
    """A user repairing "The capital of Mexico is" on a model that gets it wrong must not be refused because the
    shipped side-effect panel asks that very prompt: the facts panel judges it. Other items still count."""
    from patchkit import evals, judge

    facts, _, text = _files(tmp_path)
    side = tmp_path / "neighbours.jsonl"
    side.write_text("".join(json.dumps({"prompt": p, "target": t}) + "\n" for p, t in FACTS[:1] + [("Snow is ", "w")]))
    res = S.surgery(tiny_ckpt, facts, tmp_path / "fix", key=keypair[0], component="L2.attn.v",
                    config=S.SurgeryConfig(steps=40, lr=0.1, kl_weight=1.0), panels=[side, text],
                    default_panels=False, include_absent=True, allow_regressions=True)
    (row,) = [r for r in res.panels if r["name"] == "neighbours"]
    assert row["repaired"] == [FACTS[0][0]]
    assert row["changed_repaired"] == 1 and row["changed"] >= 1  # the fact itself moved, as it should
    others = row["changed"] - row["changed_repaired"]  # "Snow is " moved or not: only it can count
    regs = judge.regressions([row], S.DEFAULT_TOLERANCES)
    assert regs == ([] if others == 0 else [f"neighbours: {others} changed answers (tolerance 0)"])
    # the same row without the repaired prompts known: the fact's own change is a side effect
    plain = {k: v for k, v in row.items() if k != "changed_repaired"}
    assert judge.regressions([plain], S.DEFAULT_TOLERANCES) == [f"neighbours: {row['changed']} changed answers "
                                                                 "(tolerance 0)"]
    assert evals.load_panel(side, kind="side_effects").items[0].prompt in row["repaired"]


def test_the_surgery_table_keeps_a_long_panel_name_out_of_the_kind_column():
    """``patchkit surgery --facts smollm2_near8.jsonl`` printed "smollm2_near8.paraphrasesparaphrases": its own table
    kept a fixed name column after the panels' table (evals.format_results) learnt to fit long names."""
    panels = [{"name": "smollm2_near8.paraphrases", "kind": "paraphrases", "metric": "accuracy", "before": 1, "after": 8,
               "n": 8, "changed": 7},
              {"name": "perplexity", "kind": "perplexity", "metric": "perplexity", "before": 18.24, "after": 18.24,
               "n": 869, "changed": 0}]
    res = S.SurgeryResult(None, "model.layers.1.mlp.down_proj.weight", [], [], [], panels, [], 10, 1000, None, {}, 1.0)
    rows = S.format_table(res).splitlines()
    assert rows[2].split() == ["smollm2_near8.paraphrases", "paraphrases", "1/8", "8/8", "7"]
    kind_at = rows[1].index("kind")
    assert rows[2][kind_at:].startswith("paraphrases") and rows[3][kind_at:].startswith("perplexity")
