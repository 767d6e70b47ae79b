"""Tune probe (session 24): how far a capital memory reaches into other "city" questions about its country.

Edits the near misses (target ranked 2nd..6th) of a facts file at one layer with memory neurons (the default
config, or FIELD=VALUE overrides of MemoryConfig), then asks each subject ten "city" wordings ("The oldest city in
Peru is", ...) and prints the answers that changed, the count on the eight wordings the shipped other questions do
not use ("unseen"), and the count among answers that were content words. Tuning data only (the shipped capitals):

  python bench/tune/city_leak_probe.py gemma3-270m 3 patchkit/data/capitals.jsonl [leak_refit=0 ...]
"""
import json, sys, os, dataclasses
import torch
from pathlib import Path
from patchkit import models, arch, selection, memory, judge, samples, modelcache, surgery as S, solve
from patchkit.train import edit_applied, _last_batch, _logits_at, _pad_id
name = sys.argv[1]; layer = int(sys.argv[2]); facts_f = sys.argv[3]; extra = dict(kv.split('=') for kv in sys.argv[4:])
m, tok = models.load_model(name); amap = arch.for_model(m)
rows = [json.loads(l) for l in open(facts_f)]
facts = [(r['prompt'], r['target']) for r in rows]
ranks = memory.target_ranks(m, tok, facts)
facts = [f for f, k in zip(facts, ranks) if 1 <= k <= 5]
sel = selection.build(m, tok, [p for p, _ in facts])
fp = modelcache.weights_fingerprint(m)
pres = S.load_preserve() + samples.self_samples(m, tok, seed=0, fingerprint=fp)
def moved(edited):
    with edit_applied(m, edited):
        return selection.changed(m, tok, sel.judge_neighbours + sel.judge_generic)
W = ["The largest city in {} is", "{}'s largest city is", "The biggest city in {} is", "The most populous city of {} is",
     "The most populous city in {} is", "The largest city of {} is", "The city with the most people in {} is",
     "The most important city in {} is", "The best-known city in {} is", "The oldest city in {} is"]
subs = [solve.subject_of(p, sel.templates.get(p)) for p, _ in facts]
qs = [(w.format(s), t) for (p, t), s in zip(facts, subs) for w in W]
def leads(edited):
    out = []
    with torch.no_grad(), edit_applied(m, edited):
        for k in range(0, len(qs), 32):
            ch = qs[k:k+32]
            b = _last_batch([tok(q)["input_ids"] for q, _ in ch], _pad_id(tok))
            lg = _logits_at(m, {}, b).float()
            tgt = torch.tensor([tok(t, add_special_tokens=False)["input_ids"][0] for _, t in ch])
            top = lg.argmax(1)
            out += [(int(a), float(l[a] - l[t])) for a, t, l in zip(top, tgt, lg)]
    return out
base = leads({})
cfg = memory.MemoryConfig(**{k: (type(getattr(memory.MemoryConfig, k))(v) if not isinstance(getattr(memory.MemoryConfig, k), bool) else v == '1') for k, v in extra.items()})
r = memory.memory_edit(m, tok, amap, facts, layer, templates=sel.templates, preserve=pres, neighbours=sel.train_neighbours,
                       answers=sel.train_neighbours + sel.spare_neighbours, moved=moved, config=cfg, fingerprint=fp)
after = leads(r.edited)
print("margin", r.details.get("margin"), "component", r.details["component"][:30], "dropped", r.details.get("dropped"))
flips = 0
for (q, t), (a0, l0), (a1, l1) in zip(qs, base, after):
    if tok.decode([a0]).strip() != t.strip():
        mark = "FLIP" if a1 != a0 else ""
        flips += a1 != a0
        if l0 < 8 or mark:
            print(f"{q:50s} {t:12s} base {tok.decode([a0])!r:12} lead {l0:6.2f} -> {tok.decode([a1])!r:12} {l1:6.2f} {mark}")
content = [(q, a0, a1) for (q, t), (a0, l0), (a1, l1) in zip(qs, base, after) if tok.decode([a0]).strip().isalpha() and tok.decode([a0]).strip().lower() not in memory._FUNCTION_WORDS]
shipped = {"The biggest city in {} is", "The most populous city of {} is"}
unseen = [k for k, (q, t) in enumerate(qs) if W[k % len(W)] not in shipped]
print("unseen-wording flips", sum(after[k][0] != base[k][0] for k in unseen), "of", len(unseen))
print("refit", len(r.details.get("refit", [])))
print("flips", flips, "of", len(qs), "| content answers", len(content), "flipped", sum(a0 != a1 for _, a0, a1 in content), [q for q, a0, a1 in content if a0 != a1])
print("question_negatives", r.details.get("question_negatives"))
