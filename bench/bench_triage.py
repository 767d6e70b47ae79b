"""Triage counts of a prepared model on facts lists (default: Gemma 3 270M on the capitals and mixed lists).

Usage: python bench/bench_triage.py [--model gemma3-270m] [--facts FILE ...] [--json]

For each list: facts right (ok), routing failures, absent; how many wrong
answers are near misses (target ranked 2nd-5th) and how many are " the"; the
component triage suggests. These are the counts docs/gemma.md reports;
bench/gemma_held_out_capitals.jsonl (capitals_128 minus the shipped 26) is the
list repair figures are reported on, never trained on.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_FACTS = [
    ROOT / "patchkit" / "data" / "capitals.jsonl",
    HERE / "capitals_128.jsonl",
    HERE / "facts_mixed.jsonl",
    HERE / "gemma_held_out_capitals.jsonl",
]


def run(model: str, facts: list[Path]) -> list[dict]:
    """One row of counts per facts file (the model is loaded once)."""
    from patchkit import evals, models, triage

    m, tok = models.load_model(models.prepare(model) if model in models.KNOWN_MODELS else model)
    rows = []
    for path in facts:
        start = time.perf_counter()
        report = triage.triage(m, tok, evals.load_facts(path))
        wrong = [i for i in report.items if not i.correct]
        rows.append({
            "facts": path.name,
            "n": len(report.items),
            **report.counts,
            "near_misses": sum(2 <= i.rank <= 5 for i in wrong),
            "wrong_the": sum(i.rival == " the" for i in wrong),
            "suggested": report.suggested_component,
            "seconds": round(time.perf_counter() - start, 1),
        })
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="gemma3-270m")
    ap.add_argument("--facts", type=Path, nargs="+", default=DEFAULT_FACTS)
    ap.add_argument("--json", action="store_true", help="Only the JSON rows.")
    args = ap.parse_args()
    rows = run(args.model, args.facts)
    if not args.json:
        print(f"\n{'facts':<32}{'n':>5}{'ok':>5}{'routing':>9}{'absent':>8}{'near':>6}{'the':>5}  suggested")
        for r in rows:
            print(f"{r['facts']:<32}{r['n']:>5}{r['ok']:>5}{r['routing']:>9}{r['absent']:>8}"
                  f"{r['near_misses']:>6}{r['wrong_the']:>5}  {r['suggested']}")


if __name__ == "__main__":
    main()
