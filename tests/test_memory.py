"""Key-value memory neurons (patchkit.memory), on tiny models."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from helpers_tiny import next_token, save_tiny, sharp_llama, tiny_gpt2, tiny_llama, tiny_tokenizer

from patchkit import arch, errors, memory, solve
from patchkit import surgery as S

FACTS = [("Sky colour:", "b"), ("Grass hue =", "g")]
TEMPLATES: dict[str, str] = {}  # no subject known: the key is the last token (a tiny model reads it from there)
PRESERVE = ["Hello there, how are you today?", "One two three four five six", "A plain sentence of text.",
            "The sea was wide and deep.", "Seven green frogs sang."]


def test_whole_neurons_resolve_to_gate_and_up_rows_and_down_columns_and_names_round_trip():
    lam = arch.for_model(tiny_llama().config)
    gate, up, down = lam.resolve("L1.mlp.n3,8:10")
    assert gate.tensor.endswith("gate_proj.weight") and gate.slices == ((3, 8, 9), slice(0, 32))
    assert up.tensor.endswith("up_proj.weight") and up.slices == ((3, 8, 9), slice(0, 32))
    assert down.tensor.endswith("down_proj.weight") and down.slices == (slice(0, 32), (3, 8, 9))
    assert [t.slices for t in lam.resolve("L1.mlp.n5")] == [(slice(5, 6), slice(0, 32))] * 2 + [(slice(0, 32),
                                                                                                  slice(5, 6))]
    assert lam.resolve("L1.mlp.down.n5")[0].slices == (slice(0, 32), slice(5, 6))  # one neuron is a valid range
    assert arch.neuron_component(1, [9, 3, 8], part=None) == "L1.mlp.n3,8:10"
    assert arch.short_name("L1.mlp.n3,8:10") == "L1.mlp.n{3 neurons}"
    for bad in ("L1.mlp.n48", "L1.mlp.n8,3", "L1.attn.n2", "L1.mlp.gate.n2"):
        with pytest.raises(errors.ComponentError):
            lam.resolve(bad)


@pytest.mark.parametrize("grow", [True, False], ids=["added", "rewritten"])
def test_memory_neurons_fix_the_facts_and_change_only_their_own_rows_and_columns(grow):
    model, tok = sharp_llama(), tiny_tokenizer()
    amap = arch.for_model(model)
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    res = memory.memory_edit(model, tok, amap, FACTS, 1, templates=TEMPLATES, preserve=PRESERVE,
                             config=memory.MemoryConfig(grow=grow))
    for k, v in model.named_parameters():  # the model itself is not modified
        assert torch.equal(v, before[k])
    comp = res.details["component"]
    assert comp.startswith("L1.mlp.n") and res.details["neurons"] == len(FACTS)
    width = amap.d_mlp + (len(FACTS) if grow else 0)
    assert res.details.get("grow") == ({"config_key": "intermediate_size", "from": amap.d_mlp, "to": width}
                                       if grow else None)
    gate = res.edited["model.layers.1.mlp.gate_proj.weight"]
    assert gate.shape[0] == width and res.edited["model.layers.1.mlp.down_proj.weight"].shape[1] == width
    targets = S.as_targets(amap.widened(width).resolve(comp))
    S.check_untouched(before, res.edited, targets)  # nothing outside the named rows and columns moved
    neurons = amap.widened(width).resolve(comp)[0].slices[0]
    if grow:  # the added neurons come after the model's own, which are all left as they were
        assert list(range(*neurons.indices(width))) == list(range(amap.d_mlp, width))
    old = torch.nn.functional.pad(before["model.layers.1.mlp.gate_proj.weight"], (0, 0, 0, width - amap.d_mlp))
    assert all(not torch.equal(gate[j], old[j]) for j in (range(*neurons.indices(width)) if grow else neurons))
    saved = S.apply_edit(model, res.edited)
    try:
        assert [next_token(model, p) for p, _ in FACTS] == [t for _, t in FACTS]
    finally:
        S.restore(model, saved)


@pytest.mark.parametrize("grow", [True, False], ids=["added", "rewritten"])
def test_a_memory_neuron_is_quiet_away_from_its_facts_key(grow):
    """Why the edit is local: on preserved text each memory neuron stays below what it gives at its fact's key,
    and on average far below (its gate sits at a negative margin almost everywhere)."""
    model, tok = sharp_llama(), tiny_tokenizer()
    amap = arch.for_model(model)
    res = memory.memory_edit(model, tok, amap, FACTS, 1, templates=TEMPLATES, preserve=PRESERVE,
                             config=memory.MemoryConfig(grow=grow))
    mlp = model.get_submodule("model.layers.1.mlp")
    saved = S.apply_edit(model, res.edited)
    try:
        elsewhere = torch.cat(memory.mlp_inputs(model, tok, mlp, PRESERVE))
        keys = torch.stack([x[-1] for x in memory.mlp_inputs(model, tok, mlp, [p for p, _ in FACTS])])
        for i, sep in enumerate(res.details["separation"]):  # in the facts' order
            assert sep["fact"] > sep["max_elsewhere"]
            at_key = memory.activations(mlp, keys[i : i + 1])[0, sep["neuron"]]
            quiet = memory.activations(mlp, elsewhere)[:, sep["neuron"]]
            assert quiet.abs().max() < at_key and quiet.abs().mean() < 0.05 * at_key
    finally:
        S.restore(model, saved)


def test_a_model_without_a_gated_mlp_gets_a_clear_refusal():
    model = tiny_gpt2(torch.float32)
    with pytest.raises(errors.ComponentError, match="gated MLP"):
        memory.memory_edit(model, tiny_tokenizer(), arch.for_model(model), FACTS, 1, templates=TEMPLATES,
                           preserve=PRESERVE)


def test_layers_tried_follow_the_depths_and_stay_inside_the_model():
    assert memory.layers_to_try(30, 4) == [5, 8, 3, 11]
    assert memory.layers_to_try(3, 4) == [1]  # never the embedding-side layer 0; depths that round alike count once
    assert memory.layers_to_try(8, 4) == [1, 2, 3]
    assert memory.layers_to_try(18, 2) == [3, 5]


def _facts_file(tmp_path, monkeypatch, facts=FACTS) -> Path:
    """The facts as a file; no subject inferred (a tiny model reads its answer from the last token)."""
    from patchkit import selection

    monkeypatch.setattr(selection, "infer_templates", lambda prompts: {})
    path = tmp_path / "facts.jsonl"
    path.write_text("".join(json.dumps({"prompt": p, "target": t}) + "\n" for p, t in facts))
    return path


def test_surgery_ships_a_signed_memory_patch_that_applies_and_reverts_bit_for_bit(tmp_path, keypair, monkeypatch):
    from patchkit import engine

    base = save_tiny(sharp_llama(), tmp_path / "base")
    facts = _facts_file(tmp_path, monkeypatch)
    res = S.surgery(base, facts, tmp_path / "patch", key=keypair[0], method="memory", component="L1.mlp",
                    default_panels=False, include_absent=True, auto_selection=False, allow_regressions=True)
    assert res.component == "L1.mlp.n48:50" and res.params == 3 * 32 * len(FACTS)  # two neurons added after 48
    manifest = engine.Patch.load(res.patch).manifest
    assert manifest["method"]["kind"].startswith("key-value memory neurons")
    assert manifest["method"]["memory"]["layer"] == 1 and manifest["method"]["component"] == res.component
    assert len(manifest["edits"]) == 3  # gate rows, up rows, down columns of the added neurons
    assert manifest["grow"]["from"] == 48 and manifest["grow"]["to"] == 50 and len(manifest["grow"]["tensors"]) == 3 * 3  # 3 layers
    assert engine.verify(res.patch, base=base, pubkey=keypair[1]).ok
    patched = engine.apply(res.patch, base, tmp_path / "patched", pubkey=keypair[1])
    import transformers

    model = transformers.AutoModelForCausalLM.from_pretrained(patched)  # the widened checkpoint loads as it is
    assert model.config.intermediate_size == 50
    assert [next_token(model, p) for p, _ in FACTS] == [t for _, t in FACTS]
    restored = engine.revert(res.patch, patched, tmp_path / "restored", pubkey=keypair[1])
    for name in ("model.safetensors", "config.json"):  # the base's bytes come back, config included
        assert (Path(restored) / name).read_bytes() == (Path(base) / name).read_bytes()
    kept = S.surgery(base, facts, tmp_path / "kept", key=keypair[0], method="memory", component="L1.mlp",
                     default_panels=False, include_absent=True, auto_selection=False, allow_regressions=True,
                     keep_shape=True)  # rewritten neurons: the base's shapes, no widening
    assert "grow" not in engine.Patch.load(kept.patch).manifest and kept.params == 3 * 32 * len(FACTS)
    with pytest.raises(errors.ComponentError, match="name it as L5.mlp"):
        S.surgery(base, facts, None, key=None, method="memory", component="L1.mlp.down", default_panels=False)


def test_the_memory_search_tries_its_layers_in_order_without_a_component(tmp_path, monkeypatch):
    base = save_tiny(sharp_llama(), tmp_path / "base")
    facts = _facts_file(tmp_path, monkeypatch)
    res = S.surgery(base, facts, None, key=None, method="memory", default_panels=False, include_absent=True,
                    auto_selection=False, allow_regressions=True)
    assert [(c.component, c.plain) for c in res.candidates] == [("L1.mlp", False)]
    asked = S.surgery(base, facts, None, key=None, method="memory", default_panels=False, include_absent=True,
                      auto_selection=False, allow_regressions=True, contexts=True)
    # each layer with the contexts trained, then (had it been refused) again without them
    assert [(c.component, c.plain) for c in asked.candidates] == [("L1.mlp", False), ("L1.mlp", True)]
    assert res.tried[0]["component"] == "L1.mlp" and res.component.startswith("L1.mlp.n")


def test_a_wording_that_opens_with_the_subject_keys_no_memory_unless_the_fact_itself_does(monkeypatch):
    """The subject's key knows the question only where the question comes first: a memory keyed on a text that
    opens with the subject would fire on every sentence opening with it ("Poland is a country in")."""
    model, tok = sharp_llama(), tiny_tokenizer()
    seen: dict[str, int] = {}
    real = memory.separators

    def spy(positives, negatives, config, seed=0, own_negatives=None, anchor=None):
        seen["positives"] = sum(len(p) for p in positives)
        return real(positives, negatives, config, seed, own_negatives, anchor)

    monkeypatch.setattr(memory, "separators", spy)
    asked_first = [("The capital of Poland is", " W")]
    templates = {"The capital of Poland is": "The capital of {} is"}
    variants = [("Poland's capital city is", " W"), ("The capital city of Poland is", " W")]
    memory.memory_edit(model, tok, arch.for_model(model), asked_first, 1, templates=templates, preserve=PRESERVE,
                       variants=variants, config=memory.MemoryConfig(key_openings=0))
    assert seen["positives"] == 2  # the fact and the wording that asks first
    opens = [("Poland is a country in", " E")]
    memory.memory_edit(model, tok, arch.for_model(model), opens, 1, templates={opens[0][0]: "{} is a country in"},
                       preserve=PRESERVE, variants=[("Poland lies in", " E")], config=memory.MemoryConfig(
                           subject_first="off"))
    assert seen["positives"] == 2  # nothing else to key on: its wordings count, and no opening is put before it
    memory.memory_edit(model, tok, arch.for_model(model), opens, 1, templates={opens[0][0]: "{} is a country in"},
                       preserve=PRESERVE, variants=[("Poland lies in", " E")])
    assert seen["positives"] == 2 + 4  # by default the key openings are put before it too ("Q: Poland is a …")


def test_matched_openings_put_a_subject_first_facts_look_alikes_after_the_same_openings_as_negatives():
    """``subject_first="matched"``: a fact that opens with its several-word subject gets the key openings, and its
    tail look-alikes ("Paris Palace is a …" for "Grand Palace") after the same openings become negatives too, so the
    separator cannot learn "after an opening" in place of the subject's head."""
    model, tok = sharp_llama(), tiny_tokenizer()
    fact = [("Grand Palace is a landmark in", " E")]
    templates = {fact[0][0]: "{} is a landmark in"}

    def negatives(mode):
        config = memory.MemoryConfig(subject_first=mode, tail_heads="pool", tail_negatives=5, leak_refit=0.0)
        res = memory.memory_edit(model, tok, arch.for_model(model), fact, 1, templates=templates, preserve=PRESERVE,
                                 config=config)
        return res.details["negatives"]

    tails = memory._tail_texts([fact[0][0]], ["Grand Palace"], templates, 5)
    assert len(tails) == 5
    opened = [f"{memory.KEY_OPENINGS[k % 4]} {t}" for k, t in enumerate(tails)]
    mlp = model.get_submodule("model.layers.1.mlp")
    added = sum(len(x) for x in memory.mlp_inputs(model, tok, mlp, opened))
    assert negatives("matched") - negatives("on") == added


def _margins(model, tok, prompts):
    with torch.no_grad():
        out = []
        for p in prompts:
            logits = model(input_ids=torch.tensor([tok(p)["input_ids"]])).logits[0, -1]
            top = logits.topk(2).values
            out.append(float(top[0] - top[1]))
    return torch.tensor(out)


def test_answer_effects_rank_neurons_by_how_much_their_loss_moves_the_answers():
    """The neurons a rewrite takes are chosen where their absence moves same-template answers least: the
    estimate must order neurons as ablating them does, and leave the model (and its gradients) alone."""
    model, tok = sharp_llama(), tiny_tokenizer()
    mlp = model.get_submodule("model.layers.1.mlp")
    prompts = PRESERVE[:3]
    effects = memory.answer_effects(model, tok, mlp, prompts)
    assert effects.shape == (mlp.down_proj.weight.shape[1],) and (effects >= 0).all()
    assert all(p.grad is None for p in model.parameters())
    base = _margins(model, tok, prompts)

    def moved(j: int) -> float:
        with torch.no_grad():
            col = mlp.down_proj.weight[:, j].clone()
            mlp.down_proj.weight[:, j] = 0
        try:
            return float((_margins(model, tok, prompts) - base).abs().max())
        finally:
            with torch.no_grad():
                mlp.down_proj.weight[:, j] = col

    order = effects.argsort()
    assert moved(int(order[-1])) > 5 * moved(int(order[0]))
    inputs = torch.cat(memory.mlp_inputs(model, tok, mlp, PRESERVE))
    chosen = memory.quiet_neurons(mlp, inputs, 4, effects)
    plain = memory.quiet_neurons(mlp, inputs, mlp.down_proj.weight.shape[1] // 2)
    assert len(chosen) == 4 and set(chosen) <= set(plain)  # only the less-used half is eligible
    assert max(effects[chosen]) <= min(effects[j] for j in plain if j not in chosen)


def test_the_culprit_is_the_neuron_whose_old_function_restores_the_moved_answer():
    """A selection answer moved by an edit is pinned on the rewritten neuron whose absence moved it."""
    from patchkit import selection

    model, tok = sharp_llama(), tiny_tokenizer()
    mlp = model.get_submodule("model.layers.1.mlp")
    prompt = PRESERVE[0]
    probe = selection.probe(model, tok, [prompt])[0]
    base = float(_margins(model, tok, [prompt])[0])

    def drop(j: int) -> float:  # how far the answer's lead falls without neuron j (ablation)
        with torch.no_grad():
            col = mlp.down_proj.weight[:, j].clone()
            mlp.down_proj.weight[:, j] = 0
        try:
            return base - float(_margins(model, tok, [prompt])[0])
        finally:
            with torch.no_grad():
                mlp.down_proj.weight[:, j] = col

    drops = torch.tensor([drop(j) for j in range(mlp.down_proj.weight.shape[1])])
    big, small = int(drops.argmax()), [int(j) for j in drops.abs().argsort()[:3]]
    name = "model.layers.1.mlp"
    edited = {f"{name}.{part}.weight": getattr(mlp, part).weight.detach().clone()
              for part in ("gate_proj", "up_proj", "down_proj")}
    for j in [big] + small:  # four neurons "rewritten": their old output gone
        edited[f"{name}.down_proj.weight"][:, j] = 0
    assert memory._culprits(model, tok, mlp, name, edited, [big] + small, [probe]) == {big}
    assert memory._culprits(model, tok, mlp, name, edited, small, [probe]) <= set(small)


def test_a_neuron_whose_absence_moves_a_selection_answer_is_swapped_for_the_next_quiet_one():
    model, tok = sharp_llama(), tiny_tokenizer()
    amap = arch.for_model(model)
    from patchkit import selection

    probe = selection.probe(model, tok, [PRESERVE[0]])[0]
    calls: list[str] = []

    def moved(edited):  # the first edit moves an answer, the second none
        calls.append("called")
        return [probe] if len(calls) == 1 else []

    rewrite = memory.MemoryConfig(grow=False)  # an added neuron has no old function to give back
    plain = memory.memory_edit(model, tok, amap, FACTS, 1, templates=TEMPLATES, preserve=PRESERVE, config=rewrite)
    res = memory.memory_edit(model, tok, amap, FACTS, 1, templates=TEMPLATES, preserve=PRESERVE, moved=moved,
                             config=rewrite)
    assert len(calls) == 2 and len(res.details["swapped"]) == 1
    first = {s["neuron"] for s in plain.details["separation"]}
    now = {s["neuron"] for s in res.details["separation"]}
    assert res.details["swapped"][0] in first and res.details["swapped"][0] not in now and len(now) == len(FACTS)
    saved = S.apply_edit(model, res.edited)
    try:
        assert [next_token(model, p) for p, _ in FACTS] == [t for _, t in FACTS]
    finally:
        S.restore(model, saved)
    # a judge that finds nothing swaps nothing: the same edit as without one
    same = memory.memory_edit(model, tok, amap, FACTS, 1, templates=TEMPLATES, preserve=PRESERVE, moved=lambda e: [],
                              config=rewrite)
    assert all(torch.equal(same.edited[k], plain.edited[k]) for k in plain.edited) and "swapped" not in same.details


def test_facts_with_one_answer_share_a_neuron_and_each_comes_out_right():
    """Why: every rewritten neuron loses its old function, so facts that need the same change share one."""
    model, tok = sharp_llama(), tiny_tokenizer()
    amap = arch.for_model(model)
    facts = [("Sky colour:", "b"), ("Grass hue =", "b"), ("Sea tone -", "g")]
    shared = memory.memory_edit(model, tok, amap, facts, 1, templates=TEMPLATES, preserve=PRESERVE,
                                config=memory.MemoryConfig(share=3))
    assert shared.details["neurons"] == 2 and sorted(s["facts"] for s in shared.details["separation"]) == [1, 2]
    saved = S.apply_edit(model, shared.edited)
    try:
        assert [next_token(model, p) for p, _ in facts] == [t for _, t in facts]
    finally:
        S.restore(model, saved)
    alone = memory.memory_edit(model, tok, amap, facts, 1, templates=TEMPLATES, preserve=PRESERVE)  # the default
    assert alone.details["neurons"] == 3


def test_answer_groups_keep_the_facts_order_and_the_cap():
    facts = [("a", " X"), ("b", " Y"), ("c", " X"), ("d", " X"), ("e", " Y")]
    assert memory._share(facts, [0, 1, 2, 3, 4], 2) == [[0, 2], [1, 4], [3]]
    assert memory._share(facts, [1, 2, 3], 1) == [[1], [2], [3]]
    assert memory._share(facts, [0, 2, 3], 5) == [[0, 2, 3]]


def test_tail_negatives_put_other_heads_before_a_several_word_subjects_last_word():
    """Why: the key is the subject's last token, which "Buckingham Palace" shares with "Schonbrunn Palace"."""
    prompts = ["Schonbrunn Palace is a famous landmark in the country of", "The capital of Poland is"]
    templates = {prompts[0]: "{} is a famous landmark in the country of", prompts[1]: "The capital of {} is"}
    texts = memory._tail_texts(prompts, ["Schonbrunn Palace", "Poland"], templates, 4)
    assert len(texts) == 4  # a one-word subject gets none
    assert all(t.endswith(" Palace is a famous landmark in the country of") and not t.startswith("Schonbrunn")
               for t in texts)
    assert len({t.split()[0] for t in texts}) == 4  # four different heads, from different kinds of subject
    assert memory._tail_texts(prompts, ["Schonbrunn Palace", "Poland"], {}, 4) == []  # no template, no negatives


def test_a_base_the_patch_could_not_widen_gets_rewritten_neurons_not_a_failure_at_the_end(tmp_path, keypair,
                                                                                          monkeypatch):
    """A checkpoint whose safetensors header is not laid out as the safetensors library writes it could not be
    widened and narrowed back byte for byte: surgery says so and rewrites neurons (as --keep-shape)."""
    import struct

    from patchkit import engine

    base = Path(save_tiny(sharp_llama(), tmp_path / "base"))
    weights = base / "model.safetensors"
    raw = weights.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.dumps(json.loads(raw[8 : 8 + n]), indent=1).encode()  # same content, spaced out
    header += b" " * (-len(header) % 8)
    weights.write_bytes(struct.pack("<Q", len(header)) + header + raw[8 + n :])
    said: list[str] = []
    res = S.surgery(base, _facts_file(tmp_path, monkeypatch), tmp_path / "patch", key=keypair[0], method="memory",
                    component="L1.mlp", default_panels=False, include_absent=True, auto_selection=False,
                    allow_regressions=True, log=said.append)
    assert any("rewriting existing ones" in line and "not laid out" in line for line in said)
    assert "grow" not in engine.Patch.load(res.patch).manifest and res.component.startswith("L1.mlp.n")


def test_added_neurons_can_take_a_larger_target_unless_the_selection_set_sees_it_move_an_answer():
    """Why: a larger δ carries to more untrained wordings, and where the memory half-fires it moves more; the
    selection set decides, and without one the edit keeps the smaller, safer target."""
    model, tok = sharp_llama(), tiny_tokenizer()
    amap = arch.for_model(model)
    from patchkit import selection

    probe = selection.probe(model, tok, [PRESERVE[0]])[0]
    calls: list[int] = []

    def moved_once(edited):
        calls.append(1)
        return [probe] if len(calls) == 1 else []

    ladder = memory.MemoryConfig(margins=(6.0, 3.0))

    def edit(**kw):
        return memory.memory_edit(model, tok, amap, FACTS, 1, templates=TEMPLATES, preserve=PRESERVE, config=ladder,
                                  **kw)

    unjudged, kept, lowered = edit(), edit(moved=lambda e: []), edit(moved=moved_once)
    assert unjudged.details["margin"] == 3.0 and "lowered" not in unjudged.details
    assert kept.details["margin"] == 6.0 and "lowered" not in kept.details
    assert len(calls) == 1 and lowered.details["margin"] == 3.0
    assert lowered.details["lowered"] == [{"margin": 6.0, "moved": [PRESERVE[0]]}]
    assert all(torch.equal(lowered.edited[k], unjudged.edited[k]) for k in unjudged.edited)  # the same smaller edit
    big = kept.edited["model.layers.1.mlp.down_proj.weight"][:, amap.d_mlp:].norm()
    assert big > unjudged.edited["model.layers.1.mlp.down_proj.weight"][:, amap.d_mlp:].norm()
    for res in (kept, lowered):
        saved = S.apply_edit(model, res.edited)
        try:
            assert [next_token(model, p) for p, _ in FACTS] == [t for _, t in FACTS]
        finally:
            S.restore(model, saved)


def test_a_memory_that_moves_another_question_about_its_subject_is_given_back_and_its_fact_dropped():
    """Why: a memory keyed on the subject fires on it whatever is asked ("The largest city in Australia is" moved to
    Canberra by the capital's memory); giving back that one memory keeps the rest of the edit, where refusing the
    layer lost every fact."""
    from patchkit import selection

    model, tok = sharp_llama(), tiny_tokenizer()
    amap = arch.for_model(model)
    question = FACTS[0][0] + " again"  # the first fact's key, asked once more: its memory fires there
    probe = selection.probe(model, tok, [question])[0]
    down = "model.layers.1.mlp.down_proj.weight"
    seen: list[int] = []

    def moved(edited):  # the question moves while the first fact's memory is in the edit
        seen.append(edited[down].shape[1] - amap.d_mlp)
        return [probe] if edited[down].shape[1] == amap.d_mlp + len(FACTS) else []

    one_target = memory.MemoryConfig(margins=(3.0,))  # the leak rounds alone, no larger target tried first
    res = memory.memory_edit(model, tok, amap, FACTS, 1, templates=TEMPLATES, preserve=PRESERVE, moved=moved,
                             questions={}, config=one_target)
    assert seen == [len(FACTS), len(FACTS) - 1]  # judged, one memory given back (no questions to solve it again with)
    assert res.details["leaked"] == [{"facts": [FACTS[0][0]], "moved": question}]
    assert res.details["dropped"] == [FACTS[0][0]] and res.details["neurons"] == len(FACTS) - 1
    assert res.edited[down].shape[1] == amap.d_mlp + len(FACTS) - 1
    saved = S.apply_edit(model, res.edited)
    try:
        assert [next_token(model, p) for p, _ in FACTS[1:]] == [t for _, t in FACTS[1:]]
    finally:
        S.restore(model, saved)


def test_a_leaking_memory_is_first_solved_again_with_its_subjects_other_questions_kept():
    """Why: giving a memory back loses its fact; solved again with δ off what moves the other questions about its
    subject, it may keep the fact and stop moving them. Only a memory that still moves one is given back."""
    from patchkit import selection

    model, tok = sharp_llama(), tiny_tokenizer()
    amap = arch.for_model(model)
    facts = FACTS[:1]
    templates = {"Sky colour:": "Sky {}"}  # the memory is keyed on the subject, "colour:" (a tiny model reads it there)
    question = "Sky colour: again"
    probe = selection.probe(model, tok, [question])[0]
    down = "model.layers.1.mlp.down_proj.weight"
    columns: list[torch.Tensor] = []

    def moved(edited):  # the question moves until the first memory's column has changed (it was solved again)
        columns.append(edited[down][:, amap.d_mlp].clone())
        return [probe] if torch.equal(columns[-1], columns[0]) else []

    asked = {facts[0][0]: ["Sky colour: size", "Sky colour: age"]}
    res = memory.memory_edit(model, tok, amap, facts, 1, templates=templates, preserve=PRESERVE, moved=moved,
                             questions=asked, config=memory.MemoryConfig(margins=(3.0,)))  # no larger target first
    assert res.details["resolved"] == [{"facts": [facts[0][0]], "moved": question}]
    assert "leaked" not in res.details and "dropped" not in res.details and res.details["neurons"] == len(facts)
    assert len(columns) == 2 and not torch.equal(columns[0], columns[1])
    saved = S.apply_edit(model, res.edited)
    try:
        assert [next_token(model, p) for p, _ in facts] == [t for _, t in facts]  # the fact is still fixed
    finally:
        S.restore(model, saved)

    stuck = memory.memory_edit(model, tok, amap, facts, 1, templates=templates, preserve=PRESERVE, questions=asked,
                               moved=lambda e: [probe] if e[down].shape[1] == amap.d_mlp + len(facts) else [])
    assert stuck.details["resolved"][0]["facts"] == stuck.details["leaked"][0]["facts"] == [facts[0][0]]
    assert stuck.details["dropped"] == [facts[0][0]]  # solved again, still moving it: given back
    assert stuck.details["neurons"] == 0 and stuck.edited[down].shape[1] == amap.d_mlp  # nothing left to add


def test_surgery_with_other_questions_judges_them_and_still_ships(tmp_path, keypair, monkeypatch):
    """The option reaches the selection set (its line counts the other questions) and the memory's leak rounds; with
    nothing moved, the patch is the same kind as without it."""
    base = save_tiny(sharp_llama(), tmp_path / "base")
    said: list[str] = []
    res = S.surgery(base, _facts_file(tmp_path, monkeypatch), tmp_path / "patch", key=keypair[0], method="memory",
                    component="L1.mlp", default_panels=False, include_absent=True, allow_regressions=True,
                    other_questions=True, log=said.append)
    assert any(line.startswith("selection:") and "other questions about the subjects" in line for line in said)
    assert res.component.startswith("L1.mlp.n") and "leaked" not in res.method["memory"]
    plain: list[str] = []
    S.surgery(base, tmp_path / "facts.jsonl", None, key=None, method="memory", component="L1.mlp",
              default_panels=False, include_absent=True, allow_regressions=True, log=plain.append)
    assert not any("other questions" in line for line in plain)


def test_surgery_trains_the_shipped_wordings_only_when_asked_and_says_which(tmp_path, keypair, monkeypatch):
    """``wordings=True`` trains the selection set's shipped wordings of each fact's question besides the facts, and
    the manifest lists every prompt trained besides the facts, so an auditor can check none of them is reported."""
    from patchkit import selection

    base = save_tiny(sharp_llama(), tmp_path / "base")
    facts = _facts_file(tmp_path, monkeypatch)
    built = selection.build
    wording = FACTS[0][0] + " indeed"

    def with_wordings(*args, **kwargs):
        sel = built(*args, **kwargs)
        sel.wordings = {FACTS[0][0]: [wording]}
        return sel

    monkeypatch.setattr(selection, "build", with_wordings)
    kwargs = dict(key=keypair[0], method="memory", component="L1.mlp", default_panels=False, include_absent=True,
                  allow_regressions=True, contexts=False)
    res = S.surgery(base, facts, tmp_path / "patch", wordings=True, **kwargs)
    assert res.method["wordings_trained"] == [wording]
    plain = S.surgery(base, facts, tmp_path / "plain", **kwargs)
    assert plain.method["wordings_trained"] == []


def test_surgery_contexts_trains_each_fact_after_the_shipped_openings_and_never_a_reported_prompt(tmp_path, keypair,
                                                                                                     monkeypatch):
    """Why: trained after a few openings ("Did you know? ..."), a repair holds wherever the question sits in a text.
    Every fact gets each opening, the manifest lists them, a prompt some panel reports is never trained, and
    without ``contexts`` (the default) none is."""
    from patchkit import selection

    base = save_tiny(sharp_llama(), tmp_path / "base")
    facts = _facts_file(tmp_path, monkeypatch)
    reported = selection.in_contexts(FACTS[1][0])[0]  # a panel of the user's asks exactly this
    panel = tmp_path / "panel.jsonl"
    panel.write_text(json.dumps({"prompt": reported, "target": FACTS[1][1]}) + "\n", encoding="utf-8")
    kwargs = dict(method="memory", component="L1.mlp", default_panels=False, include_absent=True,
                  allow_regressions=True, panels=[panel])
    res = S.surgery(base, facts, tmp_path / "patch", key=keypair[0], contexts=True, **kwargs)
    want = [c for p, _ in FACTS for c in selection.in_contexts(p) if c != reported]
    assert res.method["wordings_trained"] == want and len(want) == 2 * len(FACTS) - 1
    plain = S.surgery(base, facts, None, key=None, **kwargs)
    assert plain.method["wordings_trained"] == []


def test_a_memory_layer_refused_with_the_contexts_trained_is_tried_again_without_them(tmp_path, keypair, monkeypatch):
    """Why: a key trained to hold after other openings can fire on another subject too; before the next layer is
    tried, the refused one is tried without the contexts, and the manifest says what the shipped edit trained."""
    from patchkit import judge, selection

    base = save_tiny(sharp_llama(), tmp_path / "base")
    facts = _facts_file(tmp_path, monkeypatch)
    calls = []

    def refuse_first(*args, **kwargs):  # the tiny model's judge, as if the first edit had moved a neighbour
        calls.append(1)
        return ["1 selection prompt(s) changed answer (e.g. 'stand-in')"] if len(calls) == 1 else []

    monkeypatch.setattr(judge, "selection_reasons", refuse_first)
    said: list[str] = []
    res = S.surgery(base, facts, tmp_path / "patch", key=keypair[0], method="memory", default_panels=False,
                    include_absent=True, log=said.append, contexts=True)
    assert [(t["component"], t.get("contexts", True), bool(t["regressions"])) for t in res.tried] == [
        ("L1.mlp", True, True), ("L1.mlp", False, False)]
    assert any("without the trained contexts" in line for line in said)
    assert res.method["wordings_trained"] == [] and res.method["facts_trained"] == len(FACTS)
    assert res.component.startswith("L1.mlp.n")
    contexts = [c for p, _ in FACTS for c in selection.in_contexts(p)]
    calls.clear()  # refused again, with no contexts trained: nothing to try the layer without
    plain = S.surgery(base, facts, None, key=None, method="memory", default_panels=False, include_absent=True,
                      allow_regressions=True)
    assert len(plain.tried) == 1 and plain.tried[0]["regressions"] and plain.method["wordings_trained"] == []
    assert not set(contexts) & set(res.method["wordings_trained"])


@pytest.mark.parametrize("case", ["added", "shared", "still"])
def test_contexts_that_move_another_question_the_plain_memory_leaves_alone_are_given_up(tmp_path, keypair, monkeypatch,
                                                                                       case):
    """Why: trained after openings, a memory fires more under other questions about its subject (session 19: "The
    largest city in Turkey is" -> " Ankara"). So a memory layer with the contexts that moves such a question is compared
    with the same layer's memories without them; the contexts of the fact asked are given up for what they add
    ("added"), nothing for what the plain memories move too ("shared"), and a layer that still adds a move is refused,
    the plain edit made for the comparison shipping as is ("still")."""
    from patchkit import judge, selection

    base = save_tiny(sharp_llama(), tmp_path / "base")
    facts = _facts_file(tmp_path, monkeypatch)
    monkeypatch.setattr(judge, "selection_reasons", lambda *a, **k: [])  # the tiny model's judge: nothing else moved
    question = selection.Probe("Sky colour, asked otherwise:", 0, 1.0)
    monkeypatch.setattr(selection, "known_questions", lambda *a, **k: [(FACTS[0][0], question)])
    # whether the edit judged moves the question: with the contexts, without them, then after each round of giving up
    answers = {"added": [True, False, False], "shared": [True, True], "still": [True, False, True, True]}[case]
    changed, asked = selection.changed, []

    def moved(model, tokenizer, probes):
        if [p.prompt for p in probes] != [question.prompt]:
            return changed(model, tokenizer, probes)
        asked.append(1)
        return list(probes) if answers[len(asked) - 1] else []

    monkeypatch.setattr(selection, "changed", moved)
    made = []
    edit = memory.memory_edit
    monkeypatch.setattr(memory, "memory_edit", lambda *a, **k: made.append(k["variants"]) or edit(*a, **k))
    res = S.surgery(base, facts, tmp_path / "patch", key=keypair[0], method="memory", default_panels=False,
                    include_absent=True, contexts=True)
    assert len(asked) == len(answers) and len(made) == len(answers)  # the plain memories were made once
    contexts = [c for p, _ in FACTS for c in selection.in_contexts(p)]
    if case == "shared":  # the contexts add nothing to what the plain memories move: all of them ship
        assert [t.get("contexts", True) for t in res.tried] == [True]
        assert res.method["wordings_trained"] == contexts
    elif case == "added":  # the first fact's contexts given up, the second's kept
        assert [(t.get("contexts_given_up"), bool(t["regressions"])) for t in res.tried] == [([FACTS[0][0]], False)]
        assert res.method["wordings_trained"] == selection.in_contexts(FACTS[1][0])
    else:
        assert [(t.get("contexts", True), bool(t["regressions"])) for t in res.tried] == [(True, True), (False, False)]
        assert "other question(s) about the subjects" in res.tried[0]["regressions"][0]
        assert res.method["wordings_trained"] == []


def test_the_ranges_screen_runs_only_after_the_memory_layers_were_refused(tmp_path, monkeypatch):
    """Why: screening the closed-form ranges took a third of an 8-fact run, and the memory neurons tried before them
    usually pass; so the screen runs only when they did not — and then before the ranges are tried, as before."""
    base = save_tiny(sharp_llama(), tmp_path / "base")
    said: list[str] = []
    S.surgery(base, _facts_file(tmp_path, monkeypatch), None, key=None, default_panels=False, include_absent=True,
              allow_regressions=True, max_share=0.5, candidates=1, log=said.append)
    refused_memory = next(i for i, line in enumerate(said) if line.startswith("refused L1.mlp:"))
    screened = next(i for i, line in enumerate(said) if "down-projection slices" in line)
    solved = next(i for i, line in enumerate(said) if line.startswith("surgery: solving L1.mlp.down"))
    assert refused_memory < screened < solved


def test_question_negatives_ask_the_subject_other_questions_never_its_own_or_with_it_first():
    """Why: "The largest city in Turkey is" must not fire "The capital of Turkey is"'s memory; the fact's own
    relation (and its shipped wordings) must stay positive, and a frame that opens with the subject has no question
    before its key."""
    asked = dict(memory.question_texts("Turkey", "The capital of {} is"))
    assert "The biggest city in Turkey is" in asked and "The most populous city of Turkey is" in asked
    assert not any("capital" in t or "seat of government" in t for t in asked)  # its own relation
    assert not any(t.startswith("Turkey") for t in asked)
    assert all(t[:end].endswith("Turkey") for t, end in asked.items())
    assert memory.question_texts("Turkey", None) == [] and memory.question_texts(None, "The capital of {} is") == []
    skip = ["The biggest city in Turkey is"]
    assert "The biggest city in Turkey is" not in dict(memory.question_texts("Turkey", "The capital of {} is", skip))


def test_own_negatives_push_a_memory_below_zero_on_its_subject_under_another_question():
    """Why the negatives get a loss term of their own: among thousands of preserved-text negatives a handful of
    question keys barely weigh (session 16 found the memory still firing there); with their own term they are
    separated, and the separator stays positive on the fact."""
    torch.manual_seed(0)
    d = 16
    base = torch.randn(4, d)  # four subjects
    question = torch.randn(d) * 0.3  # what the question before the subject adds to its key
    positives = [(b + question)[None] for b in base]
    own_neg = [(b - question)[None] for b in base]
    preserved = torch.randn(500, d)
    config = memory.MemoryConfig()
    w_off = memory.separators(positives, preserved, dataclasses.replace(config, question_weight=0.0))
    w_on = memory.separators(positives, preserved, dataclasses.replace(config, question_weight=10.0), own_negatives=own_neg)
    on_neg = torch.stack([w_on[i] @ own_neg[i][0] for i in range(4)])
    on_pos = torch.stack([w_on[i] @ positives[i][0] for i in range(4)])
    assert (on_neg < 0).all() and (on_pos > 0.5).all()
    assert (torch.stack([w_off[i] @ own_neg[i][0] for i in range(4)]) > on_neg + 0.5).all()


def test_memory_edit_takes_each_facts_question_negatives_only_when_asked_and_filters_them_by_the_targets_rank():
    """The negatives are the subject's other questions (:func:`memory.question_texts`), per fact; with
    ``question_rank`` only those where the base model ranks the target 2nd..n-th (a tiny model ranks its one-letter
    targets anywhere, so the filtered count is checked against the ranks themselves)."""
    model, tok = sharp_llama(), tiny_tokenizer()
    facts = [("The capital of Sky is", "b"), ("The capital of Grass is", "g")]
    templates = {p: "The capital of {} is" for p, _ in facts}
    amap = arch.for_model(model)

    def count(**kw: object) -> int | None:
        config = memory.MemoryConfig(tail_heads="pool", question_source="plausible", **kw)
        res = memory.memory_edit(model, tok, amap, facts, 1, templates=templates, preserve=PRESERVE, config=config)
        return res.details.get("question_negatives")

    asked = {s: memory.question_texts(s, "The capital of {} is") for s in ("Sky", "Grass")}
    assert count() is None  # off by default
    assert count(question_weight=10.0, question_rank=0) == sum(len(a) for a in asked.values())
    ranks = memory.target_ranks(model, tok, [(t, target) for (_, target), s in zip(facts, asked)
                                             for t, _ in asked[s]])
    assert count(question_weight=10.0, question_rank=5) == sum(1 <= r < 5 for r in ranks)


def test_a_question_counts_as_answered_by_the_memory_only_if_the_base_did_not_answer_it_and_the_edit_does(monkeypatch):
    """The leak refit's trigger: "The largest city in Turkey is" counts when the base model ranks " Ankara" 2nd..n-th
    and the edit answers " Ankara"; not when the base already answered it, the target is far down, or the edit does
    not answer it."""
    from patchkit import train

    model, tok = sharp_llama(), tiny_tokenizer()
    facts = [("The capital of Sky is", "b")]
    templates = {facts[0][0]: "The capital of {} is"}
    asked = memory.question_texts("Sky", templates[facts[0][0]])
    assert len(asked) >= 4
    ranks = [0, 3, 50] + [1] * (len(asked) - 3)  # answered by the base / plausible / far down / plausible
    monkeypatch.setattr(memory, "target_ranks", lambda m, t, pairs: ranks[: len(pairs)])
    target = tok("b", add_special_tokens=False)["input_ids"][0]
    answers_target = {t for t, _ in asked[:4]}  # the edit answers " b" to the first four only

    def logits_at(m, weights, batch, cache=None):
        out = torch.zeros(batch.input_ids.shape[0], 300)
        for r in range(batch.input_ids.shape[0]):
            text = tok.decode(batch.input_ids[r][batch.attention_mask[r].bool()], skip_special_tokens=True)
            out[r, target if text in answers_target else target + 1] = 1.0
        return out

    monkeypatch.setattr(train, "_logits_at", logits_at)
    plausible = memory._plausible_questions(model, tok, facts, ["Sky"], templates, [facts[0][0]], [0], [], 10)
    got = memory._answered_questions(model, tok, {}, facts, plausible)
    assert [t for _, t, _ in got] == [asked[1][0], asked[3][0]]
    assert all(i == 0 and t[:end].endswith("Sky") for i, t, end in got)


def test_the_fire_trigger_keeps_the_questions_at_whose_subject_the_memory_fires_half_as_strongly_as_at_its_key():
    model, tok = sharp_llama(), tiny_tokenizer()
    amap = arch.for_model(model)
    name, mlp = memory._mlp(model, amap, 1)
    texts = ["The capital of Sky is", "The capital of Sky was", "Seven green frogs sang."]
    xs = memory.mlp_inputs(model, tok, mlp, texts)
    from patchkit import solve

    positions = [solve._token_ending(tok, texts[0], len("The capital of Sky"))]
    key = xs[0][positions[0]]  # where "Sky" ends in the fact
    width = mlp.down_proj.weight.shape[1]
    w = key / key.norm() ** 2  # w·key = 1: the neuron fires at its key
    edited = {f"{name}.gate_proj.weight": torch.cat([mlp.gate_proj.weight, 10 * w[None]]),
              f"{name}.up_proj.weight": torch.cat([mlp.up_proj.weight, w[None]])}
    asked = [(0, texts[1], len("The capital of Sky")), (0, texts[2], len("Seven green frogs"))]
    own = [xs[0]]
    config = memory.MemoryConfig()
    got = memory._firing_questions(model, tok, mlp, name, edited, width, [[0]], [True], own, positions, asked, config)
    assert got == asked[:1]  # the same subject after the same words fires as at the key; frogs do not
    assert memory._firing_questions(model, tok, mlp, name, edited, width, [[0]], [False], own, positions, asked,
                                    config) == []  # a memory not kept fires nowhere


def test_known_questions_are_the_subjects_kind_frames_and_answered_ones_need_a_confident_content_word(monkeypatch):
    """``source="known"`` asks (Poland is a country of the shipped pool) a capital fact's country only country questions ("The biggest city in Poland is"), not
    every kind's ("The company Poland is based in …"); ``"answered"`` keeps those the base model answers confidently
    with a content word, not " the", where a memory's target could replace a fact the model knows."""
    from patchkit import selection

    model, tok = sharp_llama(), tiny_tokenizer()
    facts = [("The capital of Poland is", "b")]
    templates = {facts[0][0]: "The capital of {} is"}
    monkeypatch.setattr(memory, "target_ranks", lambda m, t, pairs: [1] * len(pairs))
    country = [q for q in selection.questions_about("Poland", "country", templates[facts[0][0]]) if q.rfind("Poland") > 0]
    known = memory._plausible_questions(model, tok, facts, ["Poland"], templates, [facts[0][0]], [0], [], 0, "known")
    assert [t for _, t, _ in known] == country and len(country) >= 4
    assert all(t[:end].endswith("Poland") for _, t, end in known)
    every = memory._plausible_questions(model, tok, facts, ["Poland"], templates, [facts[0][0]], [0], [], 0)
    assert len(every) > len(known)  # "plausible": every kind's frames

    # the base answers: a content word with a clear lead, " a" (a function word), a content word without a lead
    answers = [("c", 2.0), ("a", 2.0), ("c", 0.1)] + [("d", 1.0)] * (len(country) - 3)
    monkeypatch.setattr(selection, "probe", lambda m, t, prompts, batch=32: [
        selection.Probe(p, tok(w, add_special_tokens=False)["input_ids"][0], margin)
        for p, (w, margin) in zip(prompts, answers)])
    answered = memory._plausible_questions(model, tok, facts, ["Poland"], templates, [facts[0][0]], [0], [], 0,
                                           "answered")
    assert [t for _, t, _ in answered] == [country[0]] + country[3:]


def test_an_anchored_refit_stays_nearer_its_first_fit_than_a_fresh_one():
    """``refit_anchor``: the refit starts from the first separators and a penalty holds it near them, so it moves
    less than a fresh refit with the same question negatives — while those still pull it below zero's side."""
    torch.manual_seed(0)
    d = 16
    base = torch.randn(4, d)
    question = torch.randn(d) * 0.3
    positives = [(b + question)[None] for b in base]
    own_neg = [(b - question)[None] for b in base]
    preserved = torch.randn(500, d)
    config = memory.MemoryConfig()
    first = memory.separators(positives, preserved, dataclasses.replace(config, question_weight=0.0))
    refit = dataclasses.replace(config, question_weight=1.0)
    fresh = memory.separators(positives, preserved, refit, own_negatives=own_neg)
    held = memory.separators(positives, preserved, dataclasses.replace(refit, refit_anchor=10.0),
                             own_negatives=own_neg, anchor=first)
    assert (held - first).norm() < 0.5 * (fresh - first).norm()
    free = memory.separators(positives, preserved, refit, own_negatives=own_neg, anchor=first)  # weight 0: no pull
    assert (free - first).norm() > (held - first).norm()


def test_key_openings_make_the_subject_after_an_opening_a_positive_and_the_memory_fires_there(monkeypatch):
    """``key_openings``: the fact's prompt after each opening gives its separator one more positive (the subject's
    key there), so the memory also fires where the question is set in a quiz or a chat; no δ row is added."""
    model, tok = sharp_llama(), tiny_tokenizer()
    seen: list[int] = []
    real = memory.separators

    def spy(positives, negatives, config, seed=0, own_negatives=None, anchor=None):
        seen.append(sum(len(p) for p in positives))
        return real(positives, negatives, config, seed, own_negatives, anchor)

    monkeypatch.setattr(memory, "separators", spy)
    fact = [FACTS[0]]
    templates = {"Sky colour:": "Sky {}"}  # keyed on the subject, "colour:" (a tiny model reads its answer there)
    config = memory.MemoryConfig(key_openings=3, leak_refit=0.0)
    res = memory.memory_edit(model, tok, arch.for_model(model), fact, 1, templates=templates, preserve=PRESERVE,
                             config=config)
    assert seen == [1 + 3]
    mlp = model.get_submodule("model.layers.1.mlp")
    opened = [f"{o} {fact[0][0]}" for o in memory.KEY_OPENINGS[:3]]
    texts = [fact[0][0]] + opened
    keys = [x[solve._token_ending(tok, t, len(t))]
            for t, x in zip(texts, memory.mlp_inputs(model, tok, mlp, texts))]
    saved = S.apply_edit(model, res.edited)
    try:
        fire = memory.activations(mlp, torch.stack(keys))[:, res.details["separation"][0]["neuron"]]
    finally:
        S.restore(model, saved)
    assert (fire[1:] > 0.5 * fire[0]).all()
    plain = memory.memory_edit(model, tok, arch.for_model(model), fact, 1, templates=templates, preserve=PRESERVE,
                               config=dataclasses.replace(config, key_openings=0))
    assert seen[-1] == 1 and plain.details["target_norm"] == res.details["target_norm"]  # the same δ: no row added


def test_the_refit_trigger_for_facts_that_open_with_their_subject_is_their_own(monkeypatch):
    """``refit_first``: a fact whose prompt opens with its subject keys on the subject alone, so its memory firing on
    another question about the subject says nothing about a leak; its questions go to the rule ``refit_first``
    names ("answer": only where the edit answers them with the target; "off": none), the other facts' to
    ``refit_on``."""
    model, tok = sharp_llama(), tiny_tokenizer()
    facts = [("Sky colour:", "b"), ("Grass hue:", "g")]  # keyed on the last token (a tiny model reads it there)
    templates = {facts[0][0]: "Sky {}", facts[1][0]: "{}"}  # the second fact's prompt opens with its subject
    asked = [(0, "A river: colour:", len("A river: colour:")), (1, "A river: Grass hue:", len("A river: Grass hue:"))]
    monkeypatch.setattr(memory, "_plausible_questions", lambda *a, **k: asked)
    routed: dict[str, list[int]] = {}

    def record(rule):
        def spy(*args):
            routed.setdefault(rule, []).extend(i for i, _, _ in args[-2 if rule == "fire" else -1])
            return []
        return spy

    monkeypatch.setattr(memory, "_firing_questions", record("fire"))
    monkeypatch.setattr(memory, "_answered_questions", record("answer"))
    for first, expect in (("fire", {"fire": [0, 1]}), ("answer", {"fire": [0], "answer": [1]}),
                          ("off", {"fire": [0]})):
        routed.clear()
        config = memory.MemoryConfig(key_openings=0, tail_heads="pool", refit_first=first)
        memory.memory_edit(model, tok, arch.for_model(model), facts, 1, templates=templates, preserve=PRESERVE,
                           config=config)
        assert {k: sorted(v) for k, v in routed.items()} == expect, first
