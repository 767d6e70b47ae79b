"""Build the tail look-alike TUNING sets: subjects that end in the same word as a multi-word tune subject.

Why: a memory is keyed on the last token of the subject. For "CSKA Sofia" that token is " Sofia", so the memory
also fires on "Slavia Sofia" and can change its answer. These files measure that on the tuning facts only (never a
held-out set): for every fact of `mixed_near.jsonl` (SmolLM2) / `gemma_mixed_near.jsonl` (Gemma 3 270M) whose subject
has two or more words, real other subjects ending in the same last word ("CSKA Sofia" -> "Levski Sofia", "Central
Park" -> "Hyde Park"), put into the fact's own prompt (the fact's subject string replaced). A few "token" look-alikes
share only the last token of the subject on that model ("Maxim Vengerov" -> "Daniil Trifonov", ...ov), kept only
where the token really matches.

Outputs, per model (prefix "" = SmolLM2, "gemma_" = Gemma):

* `{p}tail_lookalikes.jsonl`: every look-alike prompt: `prompt`, `target` (null when the relation has no single
  answer for it or the look-alike is another kind of thing), `of` (the fact id it imitates), `kind` (`same` = same
  kind of subject as the fact, `other` = only the name is shared), `match` (`word`/`token`), `named` (the answer is
  written in the look-alike's name, e.g. "The Tokyo Tower" -> Tokyo), `id`, `note` (rank/gap of
  the target's first token at the last position where a target exists; the top token always). For measuring how
  strongly a memory fires on a look-alike, whatever the answer.
* `{p}tail_guards.jsonl`: the look-alikes the base model answers right (teacher-forced, `patchkit.evals.score_facts`,
  and rank 1) with a lead (gap) >= 0.3 logits: `prompt`, `target`, `id`, `note`, `of`, `named`. An edit must not
  change these.

Scoring rule of bench/fresh/make_fresh.py: rank and gap (target's first-token logit minus the best other logit) at the
prompt's last position, batched by token length (no padding). Dropped mechanically (printed): look-alikes that are
subjects of a bench/tune jsonl id, whose subject occurs (whole word, case-insensitive, leading "The" ignored) in any
file of bench/heldout/, bench/fresh/, bench/fresh2/, whose prompt equals a prompt/paraphrase of any jsonl under bench/
or patchkit/data/, and "token" look-alikes whose last token differs from the fact subject's on that model. Subjects
containing their answer ("The Agra Fort" -> Agra, "The Tokyo Tower" -> Tokyo) are kept: unlike a fact to repair,
a guard the model gets from the name is still one an edit must not move. US/UK country answers are null (the tune
sets avoid them).

Run from the repository root (CPU, fp32, about a minute): `python bench/tune/make_tail_guards.py`.
"""
from __future__ import annotations

import glob
import json
import os
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
import torch  # noqa: E402

from patchkit import evals, models  # noqa: E402
from patchkit.trace import continuation_ids  # noqa: E402

torch.set_num_threads(1)
GAP = 0.3
OUT = Path("bench/tune")
MODELS = {"": ("smollm2", "bench/tune/mixed_near.jsonl"), "gemma_": ("gemma3-270m", "bench/tune/gemma_mixed_near.jsonl")}

# fact subject -> "look-alike | target | kind; ..."  (target "-" = null; kind s = same kind of subject, o = other).
# Targets without their leading space. Written by hand; every name is a real person, place, club or thing.
LOOKALIKES = {
    # musicians (musician_instrument: "{S} was famous for playing the")
    "Clarence Clemons": "Jake Clemons|saxophone|s; Michael Clemons|-|o; Chris Clemons|-|o",
    "Dexter Gordon": "Wycliffe Gordon|trombone|s; Kim Gordon|bass|s; Jeff Gordon|-|o; Charles Gordon|-|o",
    "Emil Gilels": "Elena Gilels|piano|s; Elizaveta Gilels|violin|s",
    "Glenn Gould": "Morton Gould|-|s; Elliott Gould|-|o; Jay Gould|-|o; Stephen Jay Gould|-|o",
    "Isaac Stern": "Mike Stern|guitar|s; Leni Stern|guitar|s; Howard Stern|-|o; David Stern|-|o; Daniel Stern|-|o",
    "Jelly Roll Morton": "Benny Morton|trombone|s; Samantha Morton|-|o; Joe Morton|-|o",
    "Martha Argerich": "Stephanie Argerich|-|o",
    "Maxim Vengerov": "Daniil Trifonov|piano|s; Grigory Sokolov|piano|s; Viktor Tretiakov|violin|s",  # token "ov"
    "Ringo Starr": "Edwin Starr|-|s; Kay Starr|-|s; Bart Starr|-|o; Ken Starr|-|o; Freddie Starr|-|o",
    "Scott Joplin": "Janis Joplin|-|s",
    "Vladimir Horowitz": "Anthony Horowitz|-|o; David Horowitz|-|o",
    "B.B. King": "Albert King|guitar|s; Freddie King|guitar|s; Earl King|guitar|s; Carole King|piano|s; "
                 "Pee Wee King|accordion|s; Ben E. King|-|s; Stephen King|-|o; Billie Jean King|-|o; "
                 "Larry King|-|o; Martin Luther King|-|o",
    "Chet Atkins": "Juan Atkins|-|s; Robert Atkins|-|o; Eileen Atkins|-|o",
    "Pat Metheny": "Mike Metheny|-|s",
    "Stevie Ray Vaughan": "Jimmie Vaughan|guitar|s; Sarah Vaughan|-|s; Frankie Vaughan|-|s; Michael Vaughan|-|o",
    "Wes Montgomery": "Buddy Montgomery|vibraphone|s; Monk Montgomery|bass|s; Little Brother Montgomery|piano|s; "
                      "John Michael Montgomery|-|s; Bernard Montgomery|-|o",
    # writers (writer_language: "The books of {S} were originally written in")
    "Friedrich Schiller": "Karl Schiller|-|o",
    "Knut Hamsun": "Marie Hamsun|Norwegian|s; Tore Hamsun|Norwegian|s",
    "Orhan Pamuk": "Sevket Pamuk|-|o",
    "Primo Levi": "Carlo Levi|Italian|s; Eliphas Levi|French|s; Hermann Levi|-|o",
    "Thomas Mann": "Heinrich Mann|German|s; Klaus Mann|German|s; Erika Mann|German|s; Golo Mann|German|s; "
                   "Horace Mann|-|o; Michael Mann|-|o; Aimee Mann|-|o",
    "Boris Pasternak": "Leonid Pasternak|-|o; Joe Pasternak|-|o",
    "Karel Capek": "Josef Capek|Czech|s",
    "Mikhail Bulgakov": "Sergei Bulgakov|Russian|s; Sergei Aksakov|Russian|s",  # Aksakov: token "akov"
    "Octavio Paz": "Senel Paz|Spanish|s; Abel Paz|Spanish|s; Juan Carlos Paz|-|o",
    # landmarks (landmark_city: "{S} is a landmark in the city of")
    "Bondi Beach": "Manly Beach|Sydney|s; Coogee Beach|Sydney|s; Venice Beach|Los Angeles|s; "
                   "Ipanema Beach|Rio de Janeiro|s; Waikiki Beach|Honolulu|s; Juhu Beach|Mumbai|s; "
                   "Marina Beach|Chennai|s; Barceloneta Beach|Barcelona|s; South Beach|Miami|s; Jumeirah Beach|Dubai|s; "
                   "Leblon Beach|Rio de Janeiro|s; St Kilda Beach|Melbourne|s; Cottesloe Beach|Perth|s; "
                   "Haeundae Beach|Busan|s; Bronte Beach|Sydney|s; Patong Beach|Phuket|s; Camps Bay Beach|Cape Town|s",
    "Central Park": "Hyde Park|London|s; Gorky Park|Moscow|s; Stanley Park|Vancouver|s; "
                    "Golden Gate Park|San Francisco|s; Griffith Park|Los Angeles|s; Lumpini Park|Bangkok|s; "
                    "Phoenix Park|Dublin|s; Regent's Park|London|s; Ueno Park|Tokyo|s; Millennium Park|Chicago|s; "
                    "Balboa Park|San Diego|s; Retiro Park|Madrid|s; Chapultepec Park|Mexico City|s; Ibirapuera Park|Sao Paulo|s; "
                    "Yoyogi Park|Tokyo|s; Kings Park|Perth|s; Gezi Park|Istanbul|s; Vigeland Park|Oslo|s; "
                    "Maksimir Park|Zagreb|s; Grant Park|Chicago|s; Bryant Park|New York|s; Battery Park|New York|s",
    "Piccadilly Circus": "Oxford Circus|London|s; Cambridge Circus|London|s",
    "St. Mark's Basilica": "St. Peter's Basilica|Rome|s; St. Stephen's Basilica|Budapest|s; "
                           "St. Mary's Basilica|Krakow|s; The Superga Basilica|Turin|s; "
                           "The Guadalupe Basilica|Mexico City|s; The Notre-Dame Basilica|Montreal|s; "
                           "St. Nicholas Basilica|Bari|s; St. Francis Basilica|Assisi|s; The Lateran Basilica|Rome|s; "
                           "The Vatican Basilica|Rome|s; The Esztergom Basilica|Esztergom|s; "
                           "The Koekelberg Basilica|Brussels|s; The Lourdes Basilica|Lourdes|s; "
                           "The Sagrada Familia Basilica|Barcelona|s; St. Servatius Basilica|Maastricht|s; "
                           "The Euphrasian Basilica|Porec|s; The Mariazell Basilica|Mariazell|s; The Lujan Basilica|Lujan|s; "
                           "The Aparecida Basilica|Aparecida|s; The Fatima Basilica|Fatima|s; "
                           "The Loreto Basilica|Loreto|s; The Saint-Denis Basilica|Saint-Denis|s",
    "The Blue Mosque": "The Faisal Mosque|Islamabad|s; The Badshahi Mosque|Lahore|s; The Hassan II Mosque|Casablanca|s; "
                       "The Umayyad Mosque|Damascus|s; The Suleymaniye Mosque|Istanbul|s; "
                       "The Istiqlal Mosque|Jakarta|s; The Al-Aqsa Mosque|Jerusalem|s; "
                       "The Sheikh Zayed Grand Mosque|Abu Dhabi|s; The Prophet's Mosque|Medina|s; "
                       "The Al-Azhar Mosque|Cairo|s; The Muhammad Ali Mosque|Cairo|s; The Imam Mosque|Isfahan|s; "
                       "The Shah Mosque|Isfahan|s; The Kul Sharif Mosque|Kazan|s; The Selimiye Mosque|Edirne|s; "
                       "The Koutoubia Mosque|Marrakesh|s; The Regent's Park Mosque|London|s; "
                       "The Rustem Pasha Mosque|Istanbul|s; The Fatih Mosque|Istanbul|s",
    "The Hawa Mahal": "The Taj Mahal|Agra|s; The Jal Mahal|Jaipur|s; The Thirumalai Nayakkar Mahal|Madurai|s",
    "The Lincoln Memorial": "The Jefferson Memorial|Washington|s; The Vietnam Veterans Memorial|Washington|s; "
                            "The USS Arizona Memorial|Honolulu|s; The Anzac Memorial|Sydney|s; "
                            "The Victoria Memorial|Kolkata|s; The National September 11 Memorial|New York|s; "
                            "The Franklin Delano Roosevelt Memorial|Washington|s; "
                            "The Korean War Veterans Memorial|Washington|s; The World War II Memorial|Washington|s; "
                            "The Soviet War Memorial|Berlin|s; The Australian War Memorial|Canberra|s; "
                            "The Hiroshima Peace Memorial|Hiroshima|s; The Berlin Wall Memorial|Berlin|s; "
                            "The Oklahoma City National Memorial|Oklahoma City|s",
    "The Ponte Vecchio": "The Palazzo Vecchio|Florence|s",
    "The Red Fort": "The Amber Fort|Jaipur|s; The Mehrangarh Fort|Jodhpur|s; The Golconda Fort|Hyderabad|s; "
                    "The Jaigarh Fort|Jaipur|s; The Agra Fort|Agra|s; The Lahore Fort|Lahore|s; The Galle Fort|Galle|s; "
                    "The Jaisalmer Fort|Jaisalmer|s; The Gwalior Fort|Gwalior|s; The Chittorgarh Fort|Chittorgarh|s",
    "The White House": "The Blue House|Seoul|s; The Rembrandt House|Amsterdam|s; The Mansion House|London|s; "
                       "The Custom House|Dublin|s; The Old State House|Boston|s; The Rietveld Schroder House|Utrecht|s; "
                       "The Goethe House|Frankfurt|s; The Beethoven House|Bonn|s; The Hemingway House|Key West|s; "
                       "The Paul Revere House|Boston|s; The Rubens House|Antwerp|s; The Hundertwasser House|Vienna|s; "
                       "The Dancing House|Prague|s; The Sydney Opera House|Sydney|s",
    "The Hofburg": "The Wartburg|Eisenach|s; The Kaiserburg|Nuremberg|s; The Hohensalzburg|Salzburg|s",  # token "burg"
    "The Oriental Pearl Tower": "The Eiffel Tower|Paris|s; The CN Tower|Toronto|s; The Canton Tower|Guangzhou|s; "
                                "The Milad Tower|Tehran|s; The Azadi Tower|Tehran|s; The Ostankino Tower|Moscow|s; "
                                "The Sky Tower|Auckland|s; The Jin Mao Tower|Shanghai|s; The Namsan Tower|Seoul|s; "
                                "The Montparnasse Tower|Paris|s; The Spasskaya Tower|Moscow|s; "
                                "The Stratosphere Tower|Las Vegas|s; The Gediminas Tower|Vilnius|s; "
                                "The Galata Tower|Istanbul|s; The Leaning Tower|Pisa|s; The Tokyo Tower|Tokyo|s; "
                                "The Blackpool Tower|Blackpool|s; The Shanghai Tower|Shanghai|s; The Sydney Tower|Sydney|s; "
                                "The Macau Tower|Macau|s; The Kuala Lumpur Tower|Kuala Lumpur|s; "
                                "The White Tower|Thessaloniki|s; The Elizabeth Tower|London|s; The Jewel Tower|London|s; "
                                "The Maiden's Tower|Istanbul|s; The Danube Tower|Vienna|s; The Olympic Tower|Munich|s; "
                                "The Rhine Tower|Dusseldorf|s; The Kaknas Tower|Stockholm|s; "
                                "The Zizkov Television Tower|Prague|s; The Avala Tower|Belgrade|s; "
                                "The Fukuoka Tower|Fukuoka|s; The Kyoto Tower|Kyoto|s; The Nagoya TV Tower|Nagoya|s; "
                                "The Yokohama Marine Tower|Yokohama|s; The Tallinn TV Tower|Tallinn|s; "
                                "The Coit Tower|San Francisco|s; The Calgary Tower|Calgary|s; The Reunion Tower|Dallas|s; "
                                "The Eureka Tower|Melbourne|s; The Stuttgart TV Tower|Stuttgart|s; "
                                "The Berlin Radio Tower|Berlin|s; The Riga Radio and TV Tower|Riga|s; "
                                "The Vilnius TV Tower|Vilnius|s; The Sapporo TV Tower|Sapporo|s; "
                                "The Kobe Port Tower|Kobe|s; The Tsutenkaku Tower|Osaka|s; The Seoul Tower|Seoul|s; "
                                "The Lotus Tower|Colombo|s; The Montreal Tower|Montreal|s; The Aalborg Tower|Aalborg|s; "
                                "The Skylon Tower|Niagara Falls|s; The Cairo Tower|Cairo|s; The Baghdad Tower|Baghdad|s; "
                                "The Tashkent Tower|Tashkent|s; The Baku TV Tower|Baku|s; The Tbilisi TV Tower|Tbilisi|s; "
                                "The Kyiv TV Tower|Kyiv|s; The Tianjin Radio and Television Tower|Tianjin|s; "
                                "The Main Tower|Frankfurt|s; The Hillbrow Tower|Johannesburg|s",
    # football clubs (club_country: "{S} is a football club from the country of")
    "Atletico Nacional": "CD Nacional|Portugal|s; Club Nacional|-|s",
    "BATE Borisov": "Boyko Borisov|-|o; FC Rostov|Russia|s; Tatran Presov|Slovakia|s",  # Rostov, Presov: token "ov"
    "CSKA Sofia": "Levski Sofia|Bulgaria|s; Slavia Sofia|Bulgaria|s; Lokomotiv Sofia|Bulgaria|s; "
                  "Septemvri Sofia|Bulgaria|s",
    "Red Star Belgrade": "OFK Belgrade|Serbia|s; Obilic Belgrade|Serbia|s; Radnicki Belgrade|Serbia|s",
    "Partizan Belgrade": "Rad Belgrade|Serbia|s; Cukaricki Belgrade|Serbia|s; Vozdovac Belgrade|Serbia|s",
    "Schalke 04": "Bayer 04|Germany|s",
    "Sevilla FC": "Girona FC|Spain|s; Toronto FC|Canada|s; Sydney FC|Australia|s; Melbourne City FC|Australia|s; "
                  "Auckland City FC|New Zealand|s; Wellington Phoenix FC|New Zealand|s; Chelsea FC|-|s; "
                  "Los Angeles FC|-|s; Vancouver Whitecaps FC|Canada|s; Brisbane Roar FC|Australia|s; "
                  "Perth Glory FC|Australia|s; Adelaide United FC|Australia|s; Western Sydney Wanderers FC|Australia|s; "
                  "Shanghai Port FC|China|s; Beijing Guoan FC|China|s; Ulsan Hyundai FC|South Korea|s; "
                  "Kaizer Chiefs FC|South Africa|s; Orlando Pirates FC|South Africa|s; Mumbai City FC|India|s; "
                  "Bengaluru FC|India|s; Kerala Blasters FC|India|s; Melbourne Victory FC|Australia|s; "
                  "Newcastle Jets FC|Australia|s; Guangzhou FC|China|s; Shandong Taishan FC|China|s; "
                  "Chennaiyin FC|India|s; East Bengal FC|India|s; Hyderabad FC|India|s; Jamshedpur FC|India|s; "
                  "Bangkok United FC|Thailand|s; Buriram United FC|Thailand|s; Lion City Sailors FC|Singapore|s; "
                  "Tampines Rovers FC|Singapore|s; Cape Town City FC|South Africa|s; SuperSport United FC|South Africa|s; "
                  "Gor Mahia FC|Kenya|s; Enyimba FC|Nigeria|s; Forge FC|Canada|s; Cavalry FC|Canada|s; "
                  "Pacific FC|Canada|s",
    # bands (band_country: "The band {S} comes from the country of")
    "In Flames": "Calgary Flames|-|o",
    "Midnight Oil": "Standard Oil|-|o; Shell Oil|-|o",
    "The Cranberries": "The Raspberries|-|s",
    "Tame Impala": "Chevrolet Impala|-|o",
    # city_continent: "The city of {S} is on the continent of"
    "San Diego": "Juan Diego|-|o",
}
# No look-alike found: Franz Kafka, Gunter Grass, Jose Saramago, Luis de Camoes, Machado de Assis, Sergei Rachmaninoff,
# Casa Batllo, La Rambla, Viktoria Plzen, Andres Segovia, Julio Cortazar, IFK Goteborg, Die Arzte, Os Mutantes, and the
# countries Costa Rica and Sri Lanka (no other country ends in " Rica"/" Lanka").


def parse(spec: str) -> list[tuple[str, str | None, str]]:
    out = []
    for item in spec.split(";"):
        s, t, k = (x.strip() for x in item.split("|"))
        out.append((s, None if t == "-" else " " + t, {"s": "same", "o": "other"}[k]))
    return out


def bare(s: str) -> str:
    return re.sub(r"^the ", "", s.strip(), flags=re.I)


def excluded_subjects() -> tuple[list[str], set[str], set[str]]:
    """(held-out file texts, tune subjects lower-cased without "The", prompts of every jsonl under bench/ and data/)."""
    held = []
    for d in ["bench/heldout", "bench/fresh", "bench/fresh2"]:
        for f in glob.glob(f"{d}/**/*", recursive=True):
            if os.path.isfile(f):
                held.append(open(f, encoding="utf-8", errors="replace").read().lower())
    tune = set()
    for f in glob.glob("bench/tune/*.jsonl"):
        if os.path.basename(f).startswith(("tail", "gemma_tail")):
            continue
        for line in open(f):
            r = json.loads(line)
            if r.get("id") and ":" in r["id"]:
                tune.add(bare(r["id"].split(":", 1)[1]).lower())
    prompts = set()
    for f in glob.glob("bench/**/*.jsonl", recursive=True) + glob.glob("patchkit/data/*.jsonl"):
        if os.path.basename(f).startswith(("tail", "gemma_tail")):
            continue
        for line in open(f):
            if line.strip():
                r = json.loads(line)
                prompts.update([r.get("prompt", "")] + list(r.get("paraphrases", [])))
    return held, tune, prompts


def score(model, tok, facts: list[dict], batch: int = 16) -> list[dict]:
    """bench/fresh/make_fresh.py's rule: teacher-forced right, rank/gap/top of the target's first token (top only
    when there is no target). Batched by token length, no padding."""
    with_t = [i for i, f in enumerate(facts) if f["target"] is not None]
    ok = evals.score_facts(model, tok, [evals.Fact(facts[i]["prompt"], facts[i]["target"]) for i in with_t],
                           batch=batch)
    right = dict(zip(with_t, (o[0] for o in ok)))
    ids = [tok(f["prompt"]).input_ids for f in facts]
    by_len: dict[int, list[int]] = {}
    for i, x in enumerate(ids):
        by_len.setdefault(len(x), []).append(i)
    out: list[dict] = [{} for _ in facts]
    for _, idx in sorted(by_len.items()):
        for k in range(0, len(idx), batch):
            chunk = idx[k:k + batch]
            with torch.no_grad():
                logits = model(torch.tensor([ids[i] for i in chunk]), use_cache=False).logits[:, -1].float()
            for row, i in enumerate(chunk):
                lg = logits[row]
                s = {"top": tok.decode([int(lg.argmax())])}
                if facts[i]["target"] is not None:
                    t = continuation_ids(tok, facts[i]["prompt"], facts[i]["target"])[0]
                    other = lg.clone()
                    other[t] = float("-inf")
                    s.update(right=right[i], rank=int((lg > lg[t]).sum()) + 1, gap=float(lg[t] - other.max()))
                out[i] = s
    return out


def last_token(tok, prompt: str, subject: str) -> int:
    """The subject's last token as the model sees it inside the prompt."""
    head = prompt[:prompt.index(subject) + len(subject)]
    return tok(head).input_ids[-1]


def build(prefix: str, name: str, facts_file: str, held, tune, prompts) -> None:
    model, tok = models.load_model(name)
    model.eval()
    facts = [json.loads(line) for line in open(facts_file)]
    rows, dropped = [], []
    seen = set()
    for f in facts:
        subj = f["id"].split(":", 1)[1]
        if len(subj.split()) < 2 or subj not in LOOKALIKES:
            continue
        rel = f["id"].split(":")[0]
        fact_last = last_token(tok, f["prompt"], subj)
        for s, target, kind in parse(LOOKALIKES[subj]):
            prompt = f["prompt"].replace(subj, s)
            word = bare(s).split()[-1].lower() == bare(subj).split()[-1].lower()
            why = None
            if bare(s).lower() in tune:
                why = "tune subject"
            elif any(re.search(r"(?<!\w)" + re.escape(bare(s).lower()) + r"(?!\w)", h) for h in held):
                why = "held-out subject"
            elif prompt in prompts:
                why = "prompt in a bench/data file"
            elif not word and last_token(tok, prompt, s) != fact_last:
                why = "last token differs"
            elif prompt in seen:
                why = "duplicate"
            if why:
                dropped.append(f"{s} ({why})")
                continue
            seen.add(prompt)
            named = target is not None and target.strip().lower() in s.lower()
            rows.append({"prompt": prompt, "target": target, "of": f["id"], "kind": kind,
                         "match": "word" if word else "token", "named": named, "id": f"{rel}:{s}"})
    scores = score(model, tok, rows)
    guards = []
    for r, s in zip(rows, scores):
        if r["target"] is None:
            r["note"] = f"top={s['top']!r}"
        else:
            r["note"] = f"rank={s['rank']} gap={s['gap']:.2f} top={s['top']!r}"
            if s["right"] and s["rank"] == 1 and s["gap"] >= GAP:
                guards.append({"prompt": r["prompt"], "target": r["target"], "id": r["id"], "note": r["note"],
                               "of": r["of"], "named": r["named"]})
    order = ["prompt", "target", "of", "kind", "match", "named", "id", "note"]
    with open(OUT / f"{prefix}tail_lookalikes.jsonl", "w") as out:
        out.writelines(json.dumps({k: r[k] for k in order}) + "\n" for r in rows)
    with open(OUT / f"{prefix}tail_guards.jsonl", "w") as out:
        out.writelines(json.dumps(g) + "\n" for g in guards)
    n_t = sum(r["target"] is not None for r in rows)
    n_facts = len({r["of"] for r in rows})
    print(f"{name}: {len(rows)} look-alikes of {n_facts} facts ({n_t} with a target, "
          f"{sum(r['kind'] == 'same' for r in rows)} same kind, {sum(r['match'] == 'token' for r in rows)} token), "
          f"{len(guards)} guards (right, gap >= {GAP}; {sum(g['named'] for g in guards)} with the answer in the name; "
          f"by fact: {dict(Counter(g['of'].split(':', 1)[1] for g in guards).most_common())})")
    print(f"  dropped {len(dropped)}: " + "; ".join(dropped))


def main() -> None:
    held, tune, prompts = excluded_subjects()
    only = sys.argv[1] if len(sys.argv) > 1 else None
    for prefix, (name, facts_file) in MODELS.items():
        if only is None or only in (name, prefix.rstrip("_") or "smollm2"):
            build(prefix, name, facts_file, held, tune, prompts)


if __name__ == "__main__":
    main()
