"""Memory-neuron experiments on a tuning set: one process, one layer, several configs (never a held-out file).

Usage (from the repository root):
  python bench/tune/memory_tune.py smollm2 bench/tune/mixed_near.jsonl bench/tune/mixed_right.jsonl 5 default \
      MARGINS=... NOQ=1
A config is ``default`` or comma-separated ``FIELD=value`` (MemoryConfig fields, upper case; ``MARGIN`` sets the
δ solve's margin; ``CTX=1`` also trains the facts after selection.CONTEXTS; ``MARGINS=6:3`` sets the δ lead ladder; ``NOQ=1`` leaves the other questions out of the judge and the leak rounds). Prints one JSON line
per config: facts fixed, untrained paraphrases right (and which: ``para_right``), selection/guard prompts moved, ``q_moved`` (the tune
questions of ``bench/tune/questions.json`` whose confident answer moved), ``cross_moved`` (the subjects under seven
country questions, mostly nonsense for non-countries: session 16's measure), memories solved again / given back.
"""
import json, os, sys, time, itertools
import torch
from pathlib import Path
from patchkit import models, arch, selection, memory, judge, evals, samples, modelcache, surgery as S
import contextlib
@contextlib.contextmanager
def edit_applied(model, edited):
    saved = {}
    for name, w in edited.items():
        mod_name, attr = name.rsplit('.', 1)
        mod = model.get_submodule(mod_name)
        saved[name] = getattr(mod, attr)
        setattr(mod, attr, torch.nn.Parameter(w.to(saved[name].dtype), requires_grad=False))
    try:
        yield model
    finally:
        for name, p in saved.items():
            mod_name, attr = name.rsplit('.', 1)
            setattr(model.get_submodule(mod_name), attr, p)
model, facts_f, guards_f, layer = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
configs = sys.argv[5:] or ["default"]
m, tok = models.load_model(model); amap = arch.for_model(m)
rows = [json.loads(l) for l in open(facts_f)]
facts = [(r['prompt'], r['target']) for r in rows]
variants = [(r['paraphrases'][0], r['target']) for r in rows if len(r.get('paraphrases', [])) >= 2]
untrained = [(p, r['target']) for r in rows for p in r.get('paraphrases', [])[1:]]
sel = selection.build(m, tok, [p for p, _ in facts], questions=True)
texts = S.load_preserve()
fp = modelcache.weights_fingerprint(m)
pres = texts + samples.self_samples(m, tok, seed=0, fingerprint=fp)
passage = judge.selection_passage(m, tok, fp)
guards = [json.loads(l) for l in open(guards_f)]
gprobes = selection.probe(m, tok, [g['prompt'] for g in guards])
side = {json.loads(l)['prompt'] for l in open(Path(memory.__file__).parent / 'data' / 'side_effects.jsonl')}
from patchkit import solve as _s0
subs = [_s0.subject_of(p, sel.templates.get(p)) for p, _ in facts]
CROSS = ["The largest city in {} is", "The currency of {} is the", "The official language of {} is", "The capital of {} is", "{} is a country in the continent of", "The population of {} is about", "The national dish of {} is"]
own = {p for r in rows for p in [r['prompt']] + r.get('paraphrases', [])}
cross = sorted({c.format(s) for s in subs if s for c in CROSS} - own - side)
cprobes = selection.probe(m, tok, cross)
TQ = json.load(open(Path(__file__).parent / 'questions.json'))
asked = []
for (p, _), s_ in zip(facts, subs):
    if s_:
        kind = selection._kind(m, tok, [s_], sel.templates[p])
        asked += [q for q in selection.questions_about(s_, kind, sel.templates[p], TQ) if q not in own]
qprobes = [q for q in selection.probe(m, tok, list(dict.fromkeys(asked))) if q.margin >= 0.3]
print('tune questions', len(qprobes), flush=True)
print('cross', len(cprobes), flush=True)
ppl_panel = evals.load_panel(Path(memory.__file__).parent / 'data' / 'perplexity.txt', kind='perplexity')
ppl0 = evals.run_panel(m, tok, ppl_panel).value
print('selection', len(sel.judge_neighbours), len(sel.judge_generic), 'guards', len(gprobes), flush=True)
for c in configs:
    env = dict(kv.split('=') for kv in c.split(',') if '=' in kv)
    os.environ.update(env)
    t0 = time.time()
    def moved(edited):
        with edit_applied(m, edited):
            return selection.changed(m, tok, sel.judge_neighbours + sel.judge_generic if env.get('NOQ') else sel.judge)
    import dataclasses
    from patchkit import solve as _solve
    if not hasattr(_solve, '_Orig'): _solve._Orig = _solve.SolveConfig
    _solve.SolveConfig = (lambda **kw: _solve._Orig(**({'margin': float(env['MARGIN'])} | kw))) if 'MARGIN' in env else _solve._Orig
    fields = {f.name: f.type for f in dataclasses.fields(memory.MemoryConfig)}
    cfg = memory.MemoryConfig(**{k.lower(): (int(v) if fields[k.lower()] in (int, 'int') else float(v) if fields[k.lower()] in (float, 'float') else v == "1" if fields[k.lower()] in (bool, "bool") else tuple(float(x) for x in v.split(':')) if 'tuple' in str(fields[k.lower()]) else v) for k, v in env.items() if k.lower() in fields})
    print(cfg, flush=True)
    r = memory.memory_edit(m, tok, amap, facts, layer, templates=sel.templates, preserve=pres, config=cfg,
                           neighbours=sel.train_neighbours,
                           variants=variants + ([(c, t) for p, t in facts for c in selection.in_contexts(p)] if env.get('CTX') else []),
                           answers=sel.train_neighbours + sel.spare_neighbours, moved=moved if env.get('SWAP','1')=='1' else None, questions=None if env.get('NOQ') else sel.train_questions)
    with edit_applied(m, r.edited):
        fixed = sum(ok for ok, _, _ in evals.score_facts(m, tok, [evals.Fact(p, t) for p, t in facts]))
        para_ok = [p for p, (ok, _, _) in zip(untrained, evals.score_facts(m, tok, [evals.Fact(p, t) for p, t in untrained])) if ok] if untrained else []
        para = len(para_ok)
        sel_moved = selection.changed(m, tok, sel.judge)
        g_moved = selection.changed(m, tok, gprobes)
        c_moved = selection.changed(m, tok, cprobes)
        q_moved = selection.changed(m, tok, qprobes)
        sp = evals.run_panel(m, tok, passage[0]).value
        pp = evals.run_panel(m, tok, ppl_panel).value
    down = [k for k in r.edited if 'down_proj' in k][0]
    mlpname = down.rsplit('.', 2)[0]; mlp = m.get_submodule(mlpname)
    base_w = {n: m.get_parameter(n) for n in r.edited}
    gx = memory.mlp_inputs(m, tok, mlp, [g['prompt'] for g in guards])
    fx = memory.mlp_inputs(m, tok, mlp, [p for p, _ in facts])
    with edit_applied(m, r.edited):
        seps = r.details.get('separation', [])
        worst, per_prompt = [], []
        for s_ in seps:
            j = s_['neuron']
            at_key = max(float(memory.activations(mlp, x)[:, j].max()) for x in fx)
            fire = [(float(memory.activations(mlp, x)[:, j].max()) / at_key, g['prompt']) for x, g in zip(gx, guards)]
            worst.append(max(fire))
            per_prompt = [max(a, b) for a, b in zip(per_prompt, [f for f, _ in fire])] if per_prompt else [f for f, _ in fire]
        worst.sort(reverse=True)
    print(json.dumps({'config': c, 'fixed': f"{fixed}/{len(facts)}", 'untrained_para': f"{para}/{len(untrained)}", 'para_right': [p for p, _ in para_ok],
                      'sel_moved': len(sel_moved), 'lowered': r.details.get('lowered'), 'margin': r.details.get('margin'), 'guards_moved': [g.prompt for g in g_moved], 'q_moved': len(q_moved), 'q_moved_list': [g.prompt for g in q_moved], 'cross_moved': [g.prompt for g in c_moved], 'cross_margins': sorted(round(g.margin, 3) for g in c_moved), 'cross_all_margins_median': sorted(g.margin for g in cprobes)[len(cprobes)//2],
                      'sel_ppl': round(sp / passage[1] - 1, 4), 'ppl': round(pp / ppl0 - 1, 4),
                      'swapped': r.details.get('swapped', []), 'leaked': r.details.get('leaked'), 'resolved': len(r.details.get('resolved', [])), 'questions': len(sel.judge_questions), 'firing_top': [(round(a, 3), p[:40]) for a, p in worst[:4]], 'guards_fire_ge_0.25': sum(f >= 0.25 for f in per_prompt), 'guards_fire_ge_0.5': sum(f >= 0.5 for f in per_prompt), 'guards_fire_mean': round(sum(per_prompt) / max(1, len(per_prompt)), 4), 'guards_moved_confident': sum(g.margin >= 0.3 for g in g_moved), 'component': r.details['component'][:40], 'secs': round(time.time() - t0)}), flush=True)
    for k in env: os.environ.pop(k)
    print('dropped', r.details.get('dropped'), flush=True)
