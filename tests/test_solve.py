"""Closed-form key-value edits of a down projection (patchkit.solve), on tiny models."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from helpers_tiny import next_token, sharp_llama, tiny_gemma3, tiny_gpt2, tiny_llama, tiny_neox, tiny_tokenizer

from patchkit import arch, errors, solve
from patchkit import surgery as S

FACTS = [("The sky is ", "b"), ("Grass is ", "g")]
PRESERVE = ["Hello there, how are you today?", "One two three four five six", "A plain sentence of text."]


def _answers_with(model, edited) -> list[str]:
    """The next token for each fact's prompt with ``edited`` applied (the model is restored after)."""
    saved = S.apply_edit(model, edited)
    try:
        return [next_token(model, p) for p, _ in FACTS]
    finally:
        S.restore(model, saved)


def test_neuron_ranges_resolve_to_the_down_projections_input_features():
    lam = arch.for_model(tiny_llama().config)
    (t,) = lam.resolve("L1.mlp.down.n8:24")
    assert t.tensor == "model.layers.1.mlp.down_proj.weight" and t.slices == (slice(0, 32), slice(8, 24))
    g = arch.for_model(tiny_gpt2().config)
    (t,) = g.resolve("L0.mlp.down.n0:16", include_bias=True)  # Conv1D [in, out]: rows; no bias for a range
    assert t.tensor == "transformer.h.0.mlp.c_proj.weight" and t.slices[0] == slice(0, 16)
    for bad in ("L1.mlp.up.n0:8", "L1.mlp.down.n8:8", "L1.mlp.down.n0:999", "L1.attn.v.n0:4"):
        with pytest.raises(errors.ComponentError):
            lam.resolve(bad)


def test_chosen_neurons_resolve_to_those_input_features_and_names_round_trip():
    lam = arch.for_model(tiny_llama().config)
    (t,) = lam.resolve("L1.mlp.down.n3,8:11,40")
    assert t.slices == (slice(0, 32), (3, 8, 9, 10, 40)) and t.shape == (32, 5)
    assert lam.resolve("L1.mlp.down.n8:10,10:12")[0].slices == (slice(0, 32), slice(8, 12))  # contiguous: a range
    assert arch.neuron_component(1, [40, 3, 9, 8, 10]) == "L1.mlp.down.n3,8:11,40"
    assert solve.is_down("L1.mlp.down.n3,8:11,40")
    for bad in ("L1.mlp.down.n8,3", "L1.mlp.down.n3:9,5", "L1.mlp.down.n3,48"):  # not increasing, overlap, d_mlp 48
        with pytest.raises(errors.ComponentError):
            lam.resolve(bad)


def test_key_neurons_pick_per_layer_the_neurons_the_facts_keys_use_most(tmp_path, keypair):
    from patchkit import engine
    from helpers_tiny import save_tiny

    model = sharp_llama()
    tok = tiny_tokenizer()
    amap = arch.for_model(model.config)
    positions = [len(tok(p).input_ids) - 1 for p, _ in FACTS]
    budget = 32 * 12  # a range of 12 of the 48 neurons fits
    names = solve.key_neurons(model, tok, amap, FACTS, positions, budget, PRESERVE, [], layers=[1])
    (name,) = names
    (t,) = S.as_targets(amap.resolve(name))
    picked = list(t.slices[1])
    assert len(picked) == 12
    (whole,) = S.as_targets(amap.resolve("L1.mlp.down"))
    keys = solve.fact_keys(model, tok, whole, [p for p, _ in FACTS], positions)
    c = solve.second_moment(model, tok, whole, PRESERVE).diagonal()
    score = (keys * keys).mean(0) / (c + 1e-3 * float(c.mean()))
    assert min(score[picked]) >= max(score[[j for j in range(48) if j not in picked]])
    # solved there, only those columns move; the patch stores and counts just them
    res = solve.solve_slice(model, tok, FACTS, t, templates={}, preserve=PRESERVE)
    S.check_untouched(dict(model.named_parameters()), res.edited, [t])
    base = save_tiny(model, tmp_path / "base")
    patch = engine.create(base, res.edited, tmp_path / "patch", key=keypair[0])
    (e,) = engine.Patch.load(patch).edits
    moved = sorted(set((res.edited[t.tensor] != model.model.layers[1].mlp.down_proj.weight).any(0).nonzero()
                       .flatten().tolist()))
    assert e["slice"][1] == {"index": moved} and set(moved) <= set(picked) and e["numel"] == 32 * len(moved)
    assert solve.key_neurons(model, tok, amap, FACTS, positions, 32 * 48, PRESERVE, [], layers=[1]) == ["L1.mlp.down"]


def test_subject_position_is_the_subjects_last_token_possessive_excluded():
    tok = tiny_tokenizer()  # one token per byte
    prompts = ["The capital of France is", "France's capital is", "No template here"]
    templates = {prompts[0]: "The capital of {} is", prompts[1]: "{} capital is"}
    pos = solve.subject_positions(tok, prompts, templates)
    assert pos[0] == len("The capital of France") - 1
    assert pos[1] == len("France") - 1
    assert pos[2] == len(prompts[2]) - 1  # no subject known: the last token


def test_closed_form_edit_fixes_the_facts_and_changes_only_the_slice():
    model = sharp_llama()
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    (target,) = S.as_targets(arch.for_model(model).resolve("L1.mlp.down"))
    res = solve.solve_slice(model, tiny_tokenizer(), FACTS, target, templates={}, preserve=PRESERVE)
    assert set(res.edited) == {target.tensor}
    S.check_untouched(before, res.edited, [target])
    for k, v in model.named_parameters():  # the model itself is not modified
        assert torch.equal(v, before[k])
    assert res.details["method"] == "closed-form" and res.details["lambdas_tried"][-1]["fixed"] == len(FACTS)
    assert _answers_with(model, res.edited) == [t for _, t in FACTS]


def test_a_paraphrase_belongs_to_the_one_fact_whose_subject_and_target_it_has():
    facts = [("The capital of France is", " Paris"), ("The capital of Peru is", " Lima")]
    templates = {p: "The capital of {} is" for p, _ in facts}
    variants = [("France's capital city is", " Paris"),  # France's
                ("Peru has its capital in", " Paris"),  # Peru's subject, France's target: no fact
                ("France and Peru: the capital of Peru is", " Lima"),  # the subject read is the last one
                ("Unrelated wording is", " Lima")]
    rows = solve.variant_rows(facts, variants, templates)
    assert rows == [(0, "France's capital city is", " Paris", len("France")),
                    (1, variants[2][0], " Lima", len(variants[2][0]) - len(" is"))]


def test_each_facts_wordings_share_one_target_and_the_facts_come_out_right():
    model = sharp_llama()
    tok = tiny_tokenizer()
    facts = [("Look at the sky", "b"), ("Look at the grass", "g")]  # (the subject last: a 2-layer model reads
    templates = {p: "Look at the {}" for p, _ in facts}               # an edit of its last layer nowhere else)
    variants = [("See the sky", "b"), ("Fresh grass", "g")]
    (target,) = S.as_targets(arch.for_model(model).resolve("L1.mlp.down"))
    res = solve.solve_slice(model, tok, facts, target, templates=templates, preserve=PRESERVE, variants=variants)
    assert res.details["variants"] == 2
    assert res.details["subject_positions"] == [len(p) - 1 for p, _ in facts]
    assert res.losses[-1]["margin"] > 0  # one δ per fact makes every wording of it right (4 rows, 2 targets)
    saved = S.apply_edit(model, res.edited)
    try:  # ρ is chosen on the facts themselves; the wordings only shape δ and the key
        assert [next_token(model, p) for p, _ in facts] == ["b", "g"]
    finally:
        S.restore(model, saved)
    plain = solve.solve_slice(model, tok, facts, target, templates=templates, preserve=PRESERVE)
    assert plain.details["variants"] == 0 and not torch.equal(plain.edited[target.tensor], res.edited[target.tensor])


def test_the_solve_keeps_preserved_inputs_still_and_prefers_the_largest_lambda():
    model = sharp_llama()
    tok = tiny_tokenizer()
    (target,) = S.as_targets(arch.for_model(model).resolve("L1.mlp.down"))
    res = solve.solve_slice(model, tok, FACTS, target, templates={}, preserve=PRESERVE)
    tried = res.details["lambdas_tried"]
    assert [t["rho"] for t in tried] == list(solve.SolveConfig().lambdas[: len(tried)])  # largest first, stop at a fix
    delta = (res.edited[target.tensor] - model.model.layers[1].mlp.down_proj.weight.detach()).double()
    pres = solve.second_moment(model, tok, target, PRESERVE)  # E[k k^T] on preserved text
    facts = solve.fact_keys(model, tok, target, [p for p, _ in FACTS], [len(tok(p).input_ids) - 1 for p, _ in FACTS])
    moved_preserved = float(torch.trace(delta @ pres @ delta.T)) ** 0.5  # RMS output change on preserved inputs
    moved_facts = float((facts @ delta.T).norm(dim=1).mean())
    assert moved_preserved < moved_facts / 3


def test_a_neuron_range_edit_changes_those_columns_only():
    model = sharp_llama()
    (target,) = S.as_targets(arch.for_model(model).resolve("L1.mlp.down.n0:24"))
    res = solve.solve_slice(model, tiny_tokenizer(), FACTS, target, templates={}, preserve=PRESERVE)
    base = model.model.layers[1].mlp.down_proj.weight
    moved = (res.edited[target.tensor] != base).any(dim=0)
    assert moved[:24].any() and not moved[24:].any()
    S.check_untouched(dict(model.named_parameters()), res.edited, [target])


def test_down_candidates_fit_the_budget_in_equal_ranges():
    amap = arch.for_model(tiny_llama(layers=6).config)
    whole = 32 * 48
    assert solve.down_candidates(amap, whole) == ["L1.mlp.down", "L2.mlp.down"]
    halves = solve.down_candidates(amap, whole // 2, layers=[1])
    assert halves == ["L1.mlp.down.n0:24", "L1.mlp.down.n24:48"]
    assert solve.down_candidates(amap, 10) == []
    assert solve.is_down("L3.mlp.down.n0:24") and solve.is_down("L3.mlp.down") and not solve.is_down("L3.attn.v")


def test_surgery_edits_a_named_down_projection_in_closed_form_and_records_it(tmp_path, keypair):
    import json

    from helpers_tiny import save_tiny

    from patchkit import engine

    base = save_tiny(sharp_llama(), tmp_path / "base")
    facts = tmp_path / "facts.jsonl"
    facts.write_text("".join(json.dumps({"prompt": p, "target": t}) + "\n" for p, t in FACTS))
    res = S.surgery(base, facts, tmp_path / "patch", key=keypair[0], component="L1.mlp.down",
                    default_panels=False, include_absent=True, auto_selection=False, allow_regressions=True)
    method = res.method
    assert method["kind"].startswith("closed-form") and method["solve"]["rho"] in solve.SolveConfig().lambdas
    assert method["preserve"]["self_samples"] > 0
    patch = engine.Patch.load(tmp_path / "patch")
    assert patch.manifest["method"]["component"] == "L1.mlp.down"
    assert engine.verify(tmp_path / "patch", base=base, pubkey=keypair[1]).ok


def test_paraphrases_are_solved_for_only_when_asked_and_the_manifest_says_how_many(tmp_path):
    import json

    from helpers_tiny import save_tiny

    base = save_tiny(sharp_llama(), tmp_path / "base")
    facts = tmp_path / "facts.jsonl"
    rows = [{"prompt": "Look at the sky", "target": "b", "paraphrases": ["See the sky", "The sky, look"]},
            {"prompt": "Look at the grass", "target": "g", "paraphrases": ["Fresh grass", "The grass, look"]}]
    facts.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for asked, count in ((False, 0), (True, 2)):
        res = S.surgery(base, facts, None, key=None, component="L1.mlp.down", default_panels=False,
                        include_absent=True, auto_selection=False, allow_regressions=True, solve_variants=asked,
                        contexts=False)
        assert res.method["solve"]["variants"] == count


def test_the_solve_search_screens_down_slices_and_records_the_screen(tmp_path):
    import json

    from helpers_tiny import save_tiny

    base = save_tiny(sharp_llama(), tmp_path / "base")
    facts = tmp_path / "facts.jsonl"
    facts.write_text("".join(json.dumps({"prompt": p, "target": t}) + "\n" for p, t in FACTS))
    res = S.surgery(base, facts, None, key=None, method="solve", default_panels=False, include_absent=True,
                    auto_selection=False, allow_regressions=True, max_share=0.05, candidates=2)
    assert res.candidates and all(solve.is_down(c.component) for c in res.candidates)
    assert [c.score for c in res.candidates] == sorted((c.score for c in res.candidates), reverse=True)
    assert res.method["search"]["screen"]["closed-form ranges"].startswith("mean k^T C^-1 k")
    assert res.method["kind"].startswith("closed-form")
    keys = S.surgery(base, facts, None, key=None, method="solve", default_panels=False, include_absent=True,
                     auto_selection=False, allow_regressions=True, max_share=0.01, neurons="keys")
    amap = arch.for_model(sharp_llama().config)  # 0.01 of the model: 12 of layer's 48 neurons, chosen per layer
    assert keys.candidates and all(solve.is_down(c.component) and amap.resolve(c.component)[0].shape == (32, 12)
                                   for c in keys.candidates)
    assert any("," in c.component for c in keys.candidates)
    with pytest.raises(errors.UsageError, match="neurons 'all'"):
        S.surgery(base, facts, None, key=None, neurons="all")
    with pytest.raises(errors.UsageError, match="--ranges 0 leaves the search nothing to try"):
        S.surgery(base, facts, None, key=None, method="solve", solve_tries=0, default_panels=False,
                  include_absent=True, auto_selection=False, max_share=0.05)
    with pytest.raises(errors.ComponentError, match="closed-form edit applies to mlp.down"):
        S.surgery(base, facts, None, key=None, method="solve", component="L1.attn.v", default_panels=False)


def test_an_attention_heads_output_is_solved_at_the_last_token_and_only_its_columns_move():
    model = sharp_llama()
    tok = tiny_tokenizer()
    (target,) = S.as_targets(arch.for_model(model).resolve("L2.attn.o.h3"))
    res = solve.solve_slice(model, tok, FACTS, target, templates={}, preserve=PRESERVE, at="last",
                            neighbours=["Hello, my name is "], config=solve.HEAD_CONFIG)
    assert res.details["at"] == "last"
    assert res.details["subject_positions"] == [len(tok(p).input_ids) - 1 for p, _ in FACTS]
    base = model.model.layers[2].self_attn.o_proj.weight
    moved = (res.edited[target.tensor] != base).any(dim=0)
    head = base.shape[1] // model.config.num_attention_heads
    assert moved[3 * head:].all() and not moved[: 3 * head].any()
    assert _answers_with(model, res.edited) == [t for _, t in FACTS]


def test_delta_is_measured_in_the_units_of_what_it_moves():
    from helpers_tiny import tiny_gemma3

    llama = tiny_llama()
    (t,) = S.as_targets(arch.for_model(llama).resolve("L1.mlp.down"))
    assert solve._step_unit_module(llama, t) is llama.model.layers[1]  # added to the residual stream as is
    gemma = tiny_gemma3()
    for comp, module in (("L1.mlp.down", gemma.model.layers[1].mlp.down_proj),
                         ("L1.attn.o.h0", gemma.model.layers[1].self_attn.o_proj)):
        (t,) = S.as_targets(arch.for_model(gemma).resolve(comp))
        assert solve._step_unit_module(gemma, t) is module  # normalised (post-norm) before it joins the residual


def test_one_pass_measures_every_layers_moment_as_separate_passes_would():
    model = sharp_llama()
    tok = tiny_tokenizer()
    names = ["model.layers.0.mlp.down_proj.weight", "model.layers.1.mlp.down_proj.weight"]
    both = solve.input_moments(model, tok, names, PRESERVE)
    for name in names:
        (t,) = S.as_targets(arch.for_model(model).resolve(f"L{name.split('.')[2]}.mlp.down"))
        assert torch.allclose(both[name], solve.second_moment(model, tok, t, PRESERVE), rtol=1e-10, atol=1e-12)
    assert not torch.allclose(both[names[0]], both[names[1]])


def _manual_moment(model, module, weighted: bool) -> torch.Tensor:
    tok = tiny_tokenizer()
    total, count = 0, 0
    for text in PRESERVE:
        seen = []
        handle = module.register_forward_hook(lambda _m, args, out: seen.append((args[0][0], out[0])))
        with torch.no_grad():
            model(torch.tensor([tok(text).input_ids[:64]]))
        handle.remove()
        x, out = seen[0]
        if weighted:
            x = x / out.pow(2).mean(-1, keepdim=True).sqrt()
        total, count = total + x.T @ x, count + x.shape[0]
    return total / count


def test_behind_a_post_norm_each_preserved_token_counts_by_the_inverse_square_of_its_output_size():
    # Gemma normalises the down projection's output before adding it: a change ΔW·k moves the residual
    # by ‖ΔW·k‖ / rms(W·k) there, so tokens with a small output must weigh more in C; Llama adds it as is
    from helpers_tiny import tiny_gemma3

    name = "model.layers.1.mlp.down_proj.weight"
    gemma, llama = tiny_gemma3(), tiny_llama()
    for model, weighted in ((gemma, True), (llama, False)):
        got = solve.input_moments(model, tiny_tokenizer(), [name], PRESERVE)[name]
        want = _manual_moment(model, model.model.layers[1].mlp.down_proj, weighted)
        assert torch.allclose(got, want, rtol=1e-8, atol=1e-12)
    plain = _manual_moment(gemma, gemma.model.layers[1].mlp.down_proj, False)
    assert not torch.allclose(solve.input_moments(gemma, tiny_tokenizer(), [name], PRESERVE)[name], plain, rtol=1e-3)


def test_facts_a_whole_projection_cannot_hold_at_the_floor_are_dropped_and_the_rest_re_solved():
    model = sharp_llama()
    tok = tiny_tokenizer()
    right = ("Snow is ", next_token(model, "Snow is "))  # already right: right at any λ
    facts = [FACTS[0], right]
    (target,) = S.as_targets(arch.for_model(model).resolve("L1.mlp.down"))
    floor = solve.SolveConfig(lambdas=(1e9,), drop_unfixed=True)  # too stiff to move the other fact
    res = solve.solve_slice(model, tok, facts, target, templates={}, preserve=PRESERVE, config=floor)
    assert res.details["dropped"] == [FACTS[0][0]]
    first, again = res.details["lambdas_tried"]
    assert first["fixed"] == 1 and "of" not in first and again == again | {"of": 1, "fixed": 1}
    assert next_token(model, FACTS[0][0]) != FACTS[0][1]  # really still wrong: nothing was hidden
    strict = solve.solve_slice(model, tok, facts, target, templates={}, preserve=PRESERVE,
                               config=solve.SolveConfig(lambdas=(1e9,)))
    assert "dropped" not in strict.details  # off by default: a fact still wrong refuses the candidate instead


def test_more_facts_than_a_range_holds_get_whole_projections_unless_the_budget_is_named(tmp_path, monkeypatch):
    import json

    from helpers_tiny import save_tiny

    base = save_tiny(sharp_llama(), tmp_path / "base")
    facts = tmp_path / "facts.jsonl"
    facts.write_text("".join(json.dumps({"prompt": p, "target": t}) + "\n" for p, t in FACTS))
    monkeypatch.setattr(solve, "RANGE_FACTS", 1)
    common = dict(method="solve", default_panels=False, include_absent=True, auto_selection=False,
                  allow_regressions=True)
    wide = S.surgery(base, facts, None, key=None, **common)  # the default budget (0.1%) holds no range here
    assert wide.component == "L1.mlp.down" and wide.method["hyperparameters"]["drop_unfixed"] is True
    assert [layer["component"] for layer in wide.method["solve"]["layers"]] == ["L1.mlp.down"]
    named = S.surgery(base, facts, None, key=None, max_share=0.5, **common)
    assert named.method["hyperparameters"]["drop_unfixed"] is False  # a named budget is a cap: no widening
    monkeypatch.setattr(solve, "RANGE_FACTS", 24)
    with pytest.raises(errors.ComponentError, match="no down-projection slice fits"):
        S.surgery(base, facts, None, key=None, **common)  # two facts: a range's job, and none fits 0.1%


def _wide_case(tmp_path, monkeypatch):
    """A 6-layer tiny model (down projections L1, L2 searched), 4 facts on file, the wide path forced for them.

    Seed 2: the second layer holds a fact the first drops. Returns (model, base dir, facts, facts file).
    """
    import json

    from helpers_tiny import save_tiny

    model = tiny_llama(torch.float32, layers=6, seed=2)
    with torch.no_grad():
        model.lm_head.weight.mul_(20)
    base = save_tiny(model, tmp_path / "base")
    facts = [("The sky is ", "b"), ("Grass is ", "g"), ("Fire is ", "r"), ("Water is ", "w")]
    path = tmp_path / "facts.jsonl"
    path.write_text("".join(json.dumps({"prompt": p, "target": t}) + "\n" for p, t in facts))
    monkeypatch.setattr(solve, "RANGE_FACTS", 1)
    monkeypatch.setattr(solve, "WIDE_CONFIG", solve.SolveConfig(drop_unfixed=True))  # a tiny model needs small λ
    return model, base, facts, path


def test_a_wide_edit_names_exactly_the_layers_it_edited_and_holds_every_fact_it_does_not_drop(tmp_path, monkeypatch):
    from patchkit import evals

    model, base, facts, path = _wide_case(tmp_path, monkeypatch)
    res = S.surgery(base, path, None, key=None, method="solve", default_panels=False, include_absent=True,
                    auto_selection=False, allow_regressions=True)
    layers = [layer["component"] for layer in res.method["solve"]["layers"]]
    assert res.component == "+".join(layers) and sorted(layers) == ["L1.mlp.down", "L2.mlp.down"]
    assert set(res.edited) == {f"model.layers.{c[1]}.mlp.down_proj.weight" for c in layers}
    assert res.method["tensors"] == [{"tensor": t.tensor, "slices": [[s.start, s.stop] for s in t.slices],
                                      "label": t.label} for t in res.targets]
    dropped = set(res.method["solve"].get("dropped", []))
    held = [f for f in facts if f[0] not in dropped]
    assert held and res.trained_facts == held
    saved = S.apply_edit(model, res.edited)
    try:
        right = [ok for ok, _, _ in evals.score_facts(model, tiny_tokenizer(), [evals.Fact(p, t) for p, t in facts])]
    finally:
        S.restore(model, saved)
    assert right == [f[0] not in dropped for f in facts]
    assert len(held) * 2 < len(facts)  # this seed holds 1: too few to call it a repair of these facts
    assert any(f"holds only {len(held)} of 4 facts" in r for r in res.candidates[0].reasons)


@pytest.mark.parametrize("null_space", [False, True], ids=["ridge", "null-space"])
def test_a_wide_patch_ships_verifies_reproduces_applies_and_reverts_bit_for_bit(tmp_path, monkeypatch, keypair,
                                                                               null_space):
    """The multi-tensor patch a many-facts repair writes goes through the engine like any other, in either form
    of the solve (the default's null-space form with an α grid a tiny model can reach)."""
    from patchkit import card, engine, reproduce

    default = solve.WIDE_CONFIG
    _, base, _, path = _wide_case(tmp_path, monkeypatch)
    if null_space:
        monkeypatch.setattr(solve, "WIDE_CONFIG", dataclasses.replace(default, lambdas=(1.0, 0.1, 0.01)))
    monkeypatch.setattr(S, "MIN_HELD_SHARE", 0.0)  # this tiny model holds 1 of 4: ship it anyway, for the engine
    res = S.surgery(base, path, tmp_path / "fix", key=keypair[0], method="solve", default_panels=False,
                    include_absent=True, auto_selection=False, allow_regressions=True)
    assert res.patch is not None and ("+" in res.component or null_space)  # the ridge's case holds two layers
    manifest = engine.Patch.load(res.patch).manifest
    assert manifest["method"]["component"] == res.component
    assert len(manifest["edits"]) == res.component.count("+") + 1
    assert engine.verify(res.patch, base=base, pubkey=keypair[1]).ok
    patched = engine.apply(res.patch, base, tmp_path / "patched", pubkey=keypair[1])
    restored = engine.revert(res.patch, patched, tmp_path / "restored", pubkey=keypair[1])
    assert (Path(restored) / "model.safetensors").read_bytes() == (Path(base) / "model.safetensors").read_bytes()
    assert res.component in card.render(manifest)
    assert engine.show(res.patch)
    assert manifest["method"]["hyperparameters"]["null_share"] == (default.null_share if null_space else None)
    assert ("null space" in manifest["method"]["losses"]["solve"]) == null_space
    assert all(check.ok for check in reproduce.reproduce(res.patch, base))


def test_a_wide_layer_refused_for_a_moved_neighbour_is_solved_again_with_it_kept_still(tmp_path, monkeypatch):
    """The neighbour pinned leaves the judging set (what trains does not judge) and the manifest names it."""
    from patchkit import judge, search, selection

    model, base, facts, path = _wide_case(tmp_path, monkeypatch)
    moon = "The moon is "
    monkeypatch.setattr(selection, "build", lambda m, tok, prompts, **_: selection.SelectionSet(
        {}, [], selection.probe(m, tok, [moon]), [], []))
    # the stand-in judge: any edit "moves" the moon while the moon still judges
    def stand_in(m, tok, edited, held, probes, passage=None):
        moved = [p.prompt for p in probes if p.prompt == moon]
        return judge.Verdict(["1 selection prompt(s) changed answer"] if moved else [], moved)

    monkeypatch.setattr(judge, "selection_verdict", stand_in)
    calls = []
    real = solve.solve_slice
    monkeypatch.setattr(solve, "solve_slice", lambda *a, **k: calls.append(list(k["neighbours"])) or real(*a, **k))
    res = S.surgery(base, path, None, key=None, method="solve", default_panels=False, include_absent=True,
                    allow_regressions=True)
    assert res.method["solve"]["pinned"] == [moon]
    assert calls[0] == [] and calls[1] == [moon] * search.PIN_WEIGHT  # the first layer again, the moon kept still
    assert not any("selection prompt" in r for r in res.candidates[0].reasons)  # judged without the moon


def test_null_space_edit_fixes_the_facts_and_leaves_the_preserved_inputs_main_directions_alone():
    """AlphaEdit's form: the update acts only where the preserved text's inputs hardly reach."""
    model = sharp_llama()
    tok = tiny_tokenizer()
    (target,) = S.as_targets(arch.for_model(model).resolve("L1.mlp.down"))
    c = solve.second_moment(model, tok, target, PRESERVE)
    b = solve.null_basis(c, 0.5)
    assert b.shape == (c.shape[0], c.shape[0] // 2) and torch.allclose(b.T @ b, torch.eye(b.shape[1], dtype=b.dtype))
    assert torch.equal(solve.null_basis(c, 1.0), torch.eye(c.shape[0], dtype=c.dtype))
    top = torch.linalg.eigh(c).eigenvectors[:, -c.shape[0] // 2 :]  # the directions the preserved text uses most
    weight = model.get_submodule(target.tensor[: -len(".weight")]).weight
    for metric, grid in (("identity", (1.0, 0.1, 0.01)), ("moment", (100.0, 10.0, 1.0, 0.1, 0.01))):
        config = solve.SolveConfig(lambdas=grid, null_share=0.5, null_metric=metric)
        res = solve.solve_slice(model, tok, FACTS, target, templates={}, preserve=PRESERVE, config=config)
        assert _answers_with(model, res.edited) == [t for _, t in FACTS], metric
        update = (res.edited[target.tensor] - weight).double()
        assert float((update @ top).norm()) < 1e-4 * float(update.norm()), metric
    for bad in ({"null_metric": "euclid"}, {"null_share": 0.0}, {"null_share": 1.5}):
        with pytest.raises(errors.UsageError):
            solve.SolveConfig(**bad)


def test_what_a_layer_left_out_pinned_goes_back_to_judging(tmp_path, monkeypatch):
    """A layer still refused after pinning is not added, so its pins are undone (the next edit is judged by them
    again and nothing pinned is recorded); a wide edit, judged as it grew, is not judged a second time."""
    from patchkit import judge, selection

    model, base, facts, path = _wide_case(tmp_path, monkeypatch)
    moon = "The moon is "
    monkeypatch.setattr(selection, "build", lambda m, tok, prompts, **_: selection.SelectionSet(
        {}, [], selection.probe(m, tok, [moon]), [], []))
    moon_judges = []

    def stand_in(m, tok, edited, held, probes, passage=None):  # any two-layer edit is refused, and moves the moon
        moon_judges.append(any(p.prompt == moon for p in probes))
        moved = [moon] if moon_judges[-1] and len(edited) > 1 else []
        return judge.Verdict(["refused for the test"] if len(edited) > 1 else [], moved)

    monkeypatch.setattr(judge, "selection_verdict", stand_in)
    monkeypatch.setattr(judge, "selection_reasons", lambda *a, **k: pytest.fail("a wide edit judged again"))
    said = []
    res = S.surgery(base, path, None, key=None, method="solve", default_panels=False, include_absent=True,
                    allow_regressions=True, log=said.append)
    assert any("moved 1 selection neighbour" in m for m in said) and any("not added (refused" in m for m in said)
    assert False in moon_judges and moon_judges[-1]  # pinned for the retry, judging again once the layer was left out
    assert "pinned" not in res.method["solve"] and len(res.candidates) == 2


def test_a_fact_that_leads_by_the_margin_leaves_the_batch_with_its_target_frozen():
    """The residual targets stop per fact: a fact done early costs no more passes and its δ stays where it got
    there while the facts that lag go on (stopping the whole run at that step gives the same δ for it)."""
    from patchkit.train import _fact_batch, _pad_id, prefix_cache, unpadded

    model, tok = sharp_llama(), tiny_tokenizer()
    facts = [("The sky is ", "b"), ("Grass is ", "g"), ("Snow is ", "w")]
    (t,) = S.as_targets(arch.for_model(model).resolve("L1.mlp.down"))
    batch = _fact_batch(tok, facts)
    cache = prefix_cache(model, ("model.layers", 1), unpadded(batch), _pad_id(tok))
    positions = [len(tok(p)["input_ids"]) - 1 for p, _ in facts]
    config = solve.SolveConfig(margin=4.0, steps=200, lr=0.2, stop_each=True)
    full, losses = solve.residual_targets(model, batch, cache, positions, t, config)
    counts = [step["facts"] for step in losses]
    assert counts == sorted(counts, reverse=True) and counts[0] == 3 and losses[-1]["margin"] >= config.margin
    first_done = next(k for k in range(1, len(counts)) if counts[k] < counts[k - 1])  # entries are 0-based
    cut, _ = solve.residual_targets(model, batch, cache, positions, t, dataclasses.replace(config, steps=first_done))
    same = [torch.equal(full[i], cut[i]) for i in range(3)]
    assert sum(same) == 3 - counts[first_done]  # the facts done at that step kept their δ; the others went on
    whole, losses = solve.residual_targets(model, batch, cache, positions, t, dataclasses.replace(config, stop_each=False))
    assert {step["facts"] for step in losses} == {3} and not torch.equal(whole, full)  # closed forms: every fact to the end


def test_kept_questions_steer_the_residual_target_off_their_answers():
    """Why: a memory keyed on the subject fires on it under any question; solved with those questions kept (δ in the
    null space of what moves their answers where it lands on them), δ still fixes the fact."""
    from patchkit.train import _fact_batch, _last_batch, _logits_at, _pad_id, prefix_cache, unpadded

    model, tok = sharp_llama(), tiny_tokenizer()
    facts = [("The sky is ", "b")]
    others = ["The sky was ", "On the sky is "]
    (t,) = S.as_targets(arch.for_model(model).resolve("L1.mlp.down"))
    batch = _fact_batch(tok, facts)
    seqs = [tok(q)["input_ids"] for q in others]
    cache = prefix_cache(model, ("model.layers", 1), unpadded(batch) + seqs, _pad_id(tok))
    config = solve.SolveConfig(margin=4.0, steps=300, lr=0.2, stop_each=True)
    key = [len(tok(facts[0][0])["input_ids"]) - 1]
    where = [len(tok("The sky")["input_ids"]) - 1,
             len(tok("On the sky")["input_ids"]) - 1]
    keep_batch = _last_batch(seqs, _pad_id(tok))

    def drift(delta: torch.Tensor) -> float:  # how far δ, added where the memory fires, moves the other answers
        module = model.get_submodule("model.layers.1.mlp.down_proj")

        def add(_m, _a, out):
            out = out.clone()
            out[torch.arange(len(seqs)), torch.tensor(where)] += delta[0].to(out.dtype)
            return out

        with torch.no_grad():
            base = torch.log_softmax(_logits_at(model, {}, keep_batch, cache).float(), -1)
            handle = module.register_forward_hook(add)
            try:
                moved = torch.log_softmax(_logits_at(model, {}, keep_batch, cache).float(), -1)
            finally:
                handle.remove()
        answer, target = base.argmax(-1), tok("b", add_special_tokens=False)["input_ids"][0]
        rows = torch.arange(len(seqs))
        lead = (moved[:, target] - moved[rows, answer]) - (base[:, target] - base[rows, answer])
        return float((moved[rows, answer] - base[rows, answer]).abs().sum() + lead.abs().sum())

    free, _ = solve.residual_targets(model, batch, cache, key, t, config)
    kept, losses = solve.residual_targets(model, batch, cache, key, t, config, keep=(keep_batch, where, [0, 0]))
    assert losses[-1]["margin"] >= config.margin  # the fact is still fixed
    # to first order it moves the kept answers not at all, where the free δ's direction does (a tiny random model
    # is too curved for the full-size δ to show it; the tuning sets measure that, docs/repair.md session 17)
    small = [d / d.norm() * 0.01 for d in (kept, free)]
    assert drift(small[0]) < 0.2 * drift(small[1])


@pytest.mark.parametrize("builder", [tiny_llama, tiny_gpt2, tiny_neox, tiny_gemma3])
def test_residual_targets_run_from_the_edit_position_on_and_give_the_same_delta(builder, monkeypatch):
    """Why: nothing before the edit position moves with δ, so each step runs only the positions from there on,
    reading the earlier ones' keys and values from a cache. The δ must be the one a full pass gives, for rows whose
    edit positions differ (the first token among them), on every architecture; and the model's weights stay out of
    autograd: no gradient is computed or kept for them."""
    from patchkit import train
    from patchkit.train import _fact_batch, _pad_id, prefix_cache, unpadded

    model, tok = builder(torch.float32), tiny_tokenizer()
    with torch.no_grad():
        model.get_output_embeddings().weight.mul_(20)
    facts = [("The sky is ", "b"), ("Grass is green and ", "g"), ("Snow ", "w")]
    (t,) = S.as_targets(arch.for_model(model).resolve("L1.mlp.down"))
    batch = _fact_batch(tok, facts)
    where = train._cache_layer(model, [t])
    cache = prefix_cache(model, where, unpadded(batch), _pad_id(tok))
    ends = [len(tok(p)["input_ids"]) - 1 for p, _ in facts]
    positions = [ends[0], ends[1] - 3, 0]  # the last token, one inside, the first
    config = solve.SolveConfig(margin=2.0, steps=30, lr=0.5, stop_each=True)
    cut, cut_losses = solve.residual_targets(model, batch, cache, positions, t, config)
    assert all(p.grad is None and p.requires_grad for p in model.parameters())
    monkeypatch.setattr(solve, "suffix_cache", lambda *a: None)
    full, full_losses = solve.residual_targets(model, batch, cache, positions, t, config)
    assert [x["facts"] for x in cut_losses] == [x["facts"] for x in full_losses]
    if builder is not tiny_gemma3:  # the tiny Gemma's facts all lag to the end
        assert cut_losses[-1]["facts"] < 3  # sub-batches ran too
    torch.testing.assert_close(cut, full, rtol=1e-4, atol=1e-6)
