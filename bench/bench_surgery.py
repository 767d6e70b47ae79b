"""Time and quality of `patchkit surgery` on SmolLM2-135M as the number of facts grows (8, 32, 128).

Usage: python bench/bench_surgery.py [--sizes 8 32 128] [--component L15.attn.v] [--json]

Facts are the first N lines of bench/capitals_128.jsonl (the 26 capitals of
patchkit/data/capitals.jsonl, then 102 more; none of them in the side-effect
panel). Each size runs the whole command without writing a patch: triage,
panels before, training, check, panels after. Figures printed: wall time (total
and training), facts right before/after, routing failures fixed, changed answers
on the general and side-effect panels, perplexity before/after.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(sizes: list[int], component: str) -> list[dict]:
    from patchkit import surgery as S

    lines = (HERE / "capitals_128.jsonl").read_text(encoding="utf-8").splitlines()
    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            facts = Path(tmp) / f"capitals_{n}.jsonl"
            facts.write_text("\n".join(lines[:n]) + "\n", encoding="utf-8")
            start = time.perf_counter()
            res = S.surgery("smollm2", facts, None, key=None, component=component, allow_regressions=True)
            total = time.perf_counter() - start
        by = {r["kind"]: r for r in res.panels}
        f = by["facts"]
        rows.append({
            "facts": n,
            "trained": len(res.trained_facts),
            "absent_skipped": len(res.skipped_absent),
            "routing_fixed": f"{res.routing_fixed[0]}/{res.routing_fixed[1]}",
            "right_before": int(f["before"]),
            "right_after": int(f["after"]),
            "general_changed": by["general"]["changed"],
            "side_effects_changed": by["side_effects"]["changed"],
            "ppl_before": round(by["perplexity"]["before"], 3),
            "ppl_after": round(by["perplexity"]["after"], 3),
            "train_s": round(res.train.seconds, 1),
            "total_s": round(total, 1),
            "regressions": res.regressions,
        })
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[8, 32, 128])
    ap.add_argument("--component", default="L15.attn.v")
    args = ap.parse_args()
    rows = run(args.sizes, args.component)
    print(f"\n{'facts':>5} {'routing fixed':>13} {'trained':>7} {'right before':>12} {'after':>6} {'general Δ':>9} {'side Δ':>6} "
          f"{'ppl':>16} {'train s':>7} {'total s':>7}")
    for r in rows:
        print(f"{r['facts']:>5} {r['routing_fixed']:>13} {r['trained']:>7} {r['right_before']:>12} {r['right_after']:>6} "
              f"{r['general_changed']:>9} {r['side_effects_changed']:>6} "
              f"{r['ppl_before']:>7.2f} -> {r['ppl_after']:<6.2f} {r['train_s']:>7} {r['total_s']:>7}")


if __name__ == "__main__":
    main()
