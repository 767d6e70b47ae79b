"""Rebuild bench/tune/gemma_near8.jsonl and gemma_guards.jsonl: bench/tune's country facts re-scored on Gemma 3 270M.

Capital facts are dropped when their country is in bench/capitals_128.jsonl (Gemma's held-out capitals
come from there). Run from the repository root after `patchkit models prepare gemma3-270m`.
"""
import json,glob,torch,os,re
from patchkit import models
m,tok=models.load_model(os.path.expanduser('~/.cache/patchkit/models/gemma3-270m'))
rows=[]
for f in ['near','guards','absent']:
    rows+= [json.loads(l) for l in open(f'bench/tune/{f}.jsonl')]
held=open('bench/capitals_128.jsonl').read()
def country(r): return r.get('id','').split(':',1)[-1]
out=[]
for r in rows:
    rel=r.get('id','').split(':')[0]
    if rel=='capital' and country(r) in held: continue
    if 'relation=' not in r.get('note','') and rel=='': continue
    ids=tok(r['prompt'])['input_ids']
    with torch.no_grad(): lg=m(torch.tensor([ids])).logits[0,-1]
    t=tok(r['target'],add_special_tokens=False)['input_ids'][0]
    rank=int((lg>lg[t]).sum())+1
    top=lg.topk(2)
    r=dict(r); r['note']=f"gemma rank={rank} gap={float(lg[t]-lg.max()):.2f} top={tok.decode([int(top.indices[0])])!r} margin={float(top.values[0]-top.values[1]):.2f}"
    r['rank']=rank; out.append(r)
near=[r for r in out if 2<=r['rank']<=5 and r.get('paraphrases')]
right=[r for r in out if r['rank']==1]
wrong=[r for r in out if r['rank']>1 and r not in near]
from collections import Counter
print(len(out),'near',len(near),Counter(r['id'].split(':')[0] for r in near),'right',len(right),Counter(r['id'].split(':')[0] for r in right),'other wrong',len(wrong))
for n,l in [('near',near),('right',right),('wrong',wrong)]:
    open(f'/tmp/gemma_tune_{n}.jsonl','w').write(''.join(json.dumps({k:v for k,v in r.items() if k!='rank'})+'\n' for r in l))

# gemma_near8.jsonl: 8 of the near misses, taken in turn from each relation (continent, currency, language);
# gemma_guards.jsonl: the right and other wrong answers plus the 4 near misses not taken (prompt + target only).
