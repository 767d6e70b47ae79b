"""Why a repaired fact's far wording stays wrong: does its memory fire there, or does it fire and not carry?

Usage: python bench/tune/far_firing.py MODEL FACTS FAR_WORDINGS [FIELD=VALUE ...]

Runs the default surgery on FACTS (a diagnostic, no patch), then for each repaired fact's far wordings
(bench_repair's ``--far-wordings`` table) prints the fact's memory firing at the wording's subject (its last token)
as a share of its firing at the fact's own key, and whether the edited model answers the wording right. Summary per
wording form: right after, and the median firing share of the right and wrong ones. A selection tool for the
training of far wordings; judge any change it leads to on another set's far wordings.
"""
from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bench_repair  # noqa: E402


def main() -> None:
    model_name, facts_path, far_path, *fields = sys.argv[1:]
    if fields:
        bench_repair.with_memory(**{k: bench_repair._value(v) for k, v in (f.split("=", 1) for f in fields)})
    import torch

    from patchkit import arch, evals, memory, models, solve
    from patchkit import surgery as S

    res = S.surgery(model_name, facts_path, None, key=None, allow_regressions=True)
    m, tok = models.load_model(model_name)
    layer = int(res.component.split(".")[0][1:])
    _, mlp = memory._mlp(m, arch.for_model(m), layer)
    width = mlp.down_proj.weight.shape[1]  # the base's neurons: the added ones come after
    far_p, owner = bench_repair.far_panel(evals, facts_path, far_path)
    rows = [json.loads(line) for line in Path(facts_path).read_text().splitlines()]
    subject = {r["prompt"]: r["id"].partition(":")[2] for r in rows}
    def fire_at(texts: list[str], subjects: list[str]) -> torch.Tensor:
        """The added neurons' activations at each text's subject (the edit applied; its MLP's inputs are the base's)."""
        xs = memory.mlp_inputs(m, tok, mlp, texts, 96)
        keys = []
        for t, s, x in zip(texts, subjects, xs):
            at = solve._token_ending(tok, t, t.rindex(s) + len(s)) if s in t else len(x) - 1
            keys.append(x[at])
        return memory.activations(mlp, torch.stack(keys))[:, width:]  # [texts, added neurons]

    saved = S.apply_edit(m, res.edited)
    try:
        after = evals.run_panel(m, tok, far_p).predictions
        fixed = {r["prompt"] for r, y in zip(rows, evals.run_panel(m, tok, evals.facts_panel(
            [evals.Fact(r["prompt"], r["target"]) for r in rows])).predictions) if y == r["target"]}
        prompts = sorted(fixed)
        own = fire_at(prompts, [subject[p] for p in prompts])
        texts = [(it.prompt, o, y == it.target) for it, o, y in zip(far_p.items, owner, after) if o in fixed]
        fires = fire_at([t for t, _, _ in texts], [subject[o] for _, o, _ in texts])
    finally:
        S.restore(m, saved)
    mine = own.abs().argmax(1)  # each fact's own neuron: the one that fires most at its key
    neuron = {p: (int(j), float(own[i, j])) for i, (p, j) in enumerate(zip(prompts, mine))}
    forms: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for (t, o, ok), f in zip(texts, fires):
        j, at_key = neuron[o]
        share = float(f[j]) / at_key
        form = t.replace(subject[o], "{S}")
        forms[form].append((share, ok))
        print(f"{share:6.2f} {'right' if ok else 'WRONG'}  {t}")
    print()
    for form, got in forms.items():
        right = [s for s, ok in got if ok]
        wrong = [s for s, ok in got if not ok]
        med = lambda v: f"{statistics.median(v):.2f}" if v else "-"  # noqa: E731
        print(f"{len(right):3d}/{len(got):<3d} right  firing share median right {med(right)} wrong {med(wrong)}  {form}")


if __name__ == "__main__":
    main()
