"""Rebuild bench/tune/gemma_mixed_near.jsonl and gemma_mixed_right.jsonl: every tuning fact re-scored on Gemma 3 270M.

The country files (near, guards, absent) and the mixed-relation files (mixed_near, mixed_right) are scored on
Gemma; near misses (target ranked 2..5) go to gemma_mixed_near.jsonl, right answers (rank 1) to
gemma_mixed_right.jsonl. Capital facts of countries in bench/capitals_128.jsonl are left out (Gemma's held-out
capitals come from there). Dropped from the near misses by hand, as not wrong or not facts: the generic prompts,
adjectival currency answers (" Swedish", " Egyptian", " Ugandan", " Ethiopian"), " Mandarin" for China and
" Vegas" for the Las Vegas Strip. Run from the repository root after `patchkit models prepare gemma3-270m`.
"""
import json

import torch

from patchkit import models

DROP = ["of China is", "of Sweden is", "of Egypt", "of Uganda", "of Ethiopia", "Las Vegas Strip"]

m, tok = models.load_model("gemma3-270m")
held = open("bench/capitals_128.jsonl").read()
rows = []
for f in ["near", "guards", "absent", "mixed_near", "mixed_right"]:
    for line in open(f"bench/tune/{f}.jsonl"):
        r = json.loads(line)
        rel = r.get("id", "").split(":")[0]
        if not r.get("id") or (rel == "capital" and r["id"].split(":", 1)[-1] in held):
            continue
        rows.append(r)
near, right = [], []
for r in rows:
    with torch.no_grad():
        lg = m(torch.tensor([tok(r["prompt"])["input_ids"]])).logits[0, -1].float()
    t = tok(r["target"], add_special_tokens=False)["input_ids"][0]
    rank = int((lg > lg[t]).sum()) + 1
    top = lg.topk(2)
    r = dict(r, note=f"gemma rank={rank} gap={float(lg[t] - lg.max()):.2f} top={tok.decode([int(top.indices[0])])!r} "
                     f"margin={float(top.values[0] - top.values[1]):.2f}")
    if rank == 1:
        right.append(r)
    elif rank <= 5 and not r["id"].startswith("generic") and not any(d in r["prompt"] for d in DROP):
        near.append(r)
for name, part in [("gemma_mixed_near", near), ("gemma_mixed_right", right)]:
    with open(f"bench/tune/{name}.jsonl", "w") as out:
        out.writelines(json.dumps(r) + "\n" for r in part)
print(len(near), "near misses,", len(right), "right")
