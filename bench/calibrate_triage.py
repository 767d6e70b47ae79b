"""Calibrate triage's near-miss verdict against what a one-slice edit actually fixes (SmolLM2).

Usage: python bench/calibrate_triage.py [--near bench/tune/near.jsonl] [--absent bench/tune/absent.jsonl] [--n 8]

Takes N near misses (rank 2-5) and N absent facts (rank > 20) from the *tuning* sets, triages
them with the default thresholds, then trains one slice on all 2N at once (surgery's training
core, default hyper-parameters, the neighbours and generic prompts surgery builds for itself)
and reports, per verdict, how many came out right after the edit and whether any selection
prompt changed. Agreement = facts called fixable that were fixed + facts called absent that
were not, over all. The held-out sets are never read here.
"""

from __future__ import annotations

import argparse
import json


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--near", default="bench/tune/near.jsonl")
    ap.add_argument("--absent", default="bench/tune/absent.jsonl")
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--component", default="L15.attn.v")
    args = ap.parse_args()

    from patchkit import arch, evals, judge, models, selection, triage
    from patchkit import surgery as S

    m, tok = models.load_model("smollm2")
    near = evals.load_facts(args.near)[: args.n]
    absent = evals.load_facts(args.absent)[: args.n]
    facts = near + absent
    report = triage.triage(m, tok, facts)
    pairs = [(f.prompt, f.target) for f in facts]
    sel = selection.build(m, tok, [p for p, _ in pairs])
    targets = S.as_targets(arch.for_model(m).resolve(args.component))
    res = S.train_slices(m, tok, pairs, targets, preserve=S.load_preserve(), neighbours=sel.train_neighbours,
                         config=S.SurgeryConfig())
    moved = judge.selection_reasons(m, tok, res.edited, [], sel.judge)
    saved = S.apply_edit(m, res.edited)
    try:
        fixed = [evals.score_fact(m, tok, f)[0] for f in facts]
    finally:
        S.restore(m, saved)
    rows = []
    for f, item, ok in zip(facts, report.items, fixed):
        rows.append({"prompt": f.prompt, "rank": item.rank, "gap": round(item.logit_gap, 2), "verdict": item.verdict,
                     "fixed": ok})
    fixable = [r for r in rows if r["verdict"] in triage.FIXABLE]
    absent_v = [r for r in rows if r["verdict"] == "absent"]
    agree = sum(r["fixed"] for r in fixable) + sum(not r["fixed"] for r in absent_v)
    print(json.dumps({"component": args.component, "steps_run": len(res.losses), "rows": rows,
                      "fixable": len(fixable), "fixable_fixed": sum(r["fixed"] for r in fixable),
                      "absent": len(absent_v), "absent_fixed": sum(r["fixed"] for r in absent_v),
                      "agreement": f"{agree}/{len(rows)}", "selection": moved}, indent=1))


if __name__ == "__main__":
    main()
