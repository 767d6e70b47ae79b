"""``--minimize``: prune a trained edit to the fewest heads that still do the job.

Heads are tried in order of their delta's norm, smallest first. A head is
dropped when the edit without it still fixes every fact the full edit fixed
and keeps every panel within tolerance; when zeroing its delta is not enough,
the remaining heads are retrained once without it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from patchkit import errors
from patchkit.judge import panel_row, regressions, repaired_prompts
from patchkit.train import SliceTarget, SurgeryConfig, apply_edit, as_targets, restore, train_slices


def _heads(amap: Any, component: str) -> list[tuple[str, list[SliceTarget]]]:
    """The per-head sub-components of ``component`` (empty if it has no heads)."""
    out = []
    for h in range(4096):
        name = f"{component}.h{h}"
        try:
            out.append((name, as_targets(amap.resolve(name))))
        except errors.ComponentError:
            break
    return out


def _restrict(base: Mapping[str, torch.Tensor], edited: Mapping[str, torch.Tensor],
              targets: Sequence[SliceTarget]) -> dict[str, torch.Tensor]:
    """The edit with its delta kept only inside ``targets`` (base values elsewhere)."""
    out: dict[str, torch.Tensor] = {}
    for t in targets:
        w = out.get(t.tensor)
        if w is None:
            w = base[t.tensor].detach().clone()
        w[t.slices] = edited[t.tensor][t.slices]
        out[t.tensor] = w
    return out


def minimize(m: Any, tok: Any, amap: Any, component: str, targets: list[SliceTarget],
              edited: dict[str, torch.Tensor], facts: Sequence[tuple[str, str]], texts: Sequence[str],
              config: SurgeryConfig, panel_list: Sequence[Any], before: Sequence[Any],
              tol: Mapping[str, float], evals: Any) -> tuple[list[SliceTarget], dict[str, torch.Tensor], str | None]:
    """Greedy pruning by head: drop heads whose delta is not needed.

    Heads are tried in order of their delta's norm, smallest first. A head is
    dropped when the edit without it still fixes every fact the full edit
    fixed and keeps every panel within tolerance; when zeroing its delta is not
    enough, the remaining heads are retrained once without it. The caller
    re-runs every panel on the result.
    """
    heads = _heads(amap, component)
    if len(heads) < 2:
        return targets, edited, None
    base = {k: v.detach() for k, v in m.named_parameters()}
    judge = [p for p in panel_list if p.kind != "paraphrases"]
    repaired = repaired_prompts(f for p in panel_list if p.kind == "facts" for f in p.items)
    judge_before = [b for p, b in zip(panel_list, before) if p.kind != "paraphrases"]

    def evaluate(ed: Mapping[str, torch.Tensor]) -> tuple[int, list[str]]:
        saved = apply_edit(m, ed)
        try:
            after = [evals.run_panel(m, tok, p) for p in judge]
        finally:
            restore(m, saved)
        rows = [panel_row(evals, p, b, a, tol, repaired) for p, b, a in zip(judge, judge_before, after)]
        return sum(int(r["after"]) for r in rows if r["kind"] == "facts"), regressions(rows, tol)

    full_correct, _ = evaluate(edited)

    def passes(ed: Mapping[str, torch.Tensor]) -> bool:
        correct, regs = evaluate(ed)
        return correct >= full_correct and not regs

    def norm(ts: Sequence[SliceTarget]) -> float:
        return float(sum(((edited[t.tensor][t.slices].double() - base[t.tensor][t.slices].double()) ** 2).sum()
                         for t in ts))

    kept = dict(heads)
    current = edited
    for name, _ in sorted(heads, key=lambda h: norm(h[1])):
        if len(kept) == 1:
            break
        cand = {k: v for k, v in kept.items() if k != name}
        cand_targets = [t for ts in cand.values() for t in ts]
        trial = _restrict(base, current, cand_targets)
        if passes(trial):
            kept, current = cand, trial
            continue
        retrained = train_slices(m, tok, facts, cand_targets, preserve=texts, config=config).edited
        if passes(retrained):
            kept, current = cand, retrained
    if len(kept) == len(heads):
        return targets, edited, None
    return [t for ts in kept.values() for t in ts], current, "+".join(kept)


