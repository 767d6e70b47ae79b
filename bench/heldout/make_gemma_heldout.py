"""Build Gemma 3 270M's held-out mixed-relation sets (gemma_near8, gemma_guards8, gemma_near50, gemma_right, gemma_generic).

Why: issue 8's acceptance must hold on every supported model, and until session 18 Gemma had only held-out capitals.
The relations and templates are the SmolLM2 held-out ones (README.md, this folder), so the tool has never trained or
tuned on them; the candidates are every held-out fact of this folder plus the extra subjects below, re-scored on Gemma.
A candidate whose subject occurs (whole word, case-insensitive) in any `patchkit/data/*` file or `bench/tune/*` file is
dropped, as are near misses whose greedy token is a function word (the held-out rule). The near8 and near50 picks are
random (seed 18) within relations, never by how an edit does on them. Run from the repository root after
`patchkit models prepare gemma3-270m`.
"""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

import torch

from patchkit import evals, models

TEMPLATES = {  # relation: (prompt, paraphrase 1, paraphrase 2); {S} subject, {s} subject with "The" lower-cased
    "company_country": ("{S} is a company headquartered in the country of", "{S} is a company from the country of",
                        "The company {S} has its headquarters in the country of"),
    "city_country": ("{S} is a city in the country of", "The city of {S} is in the country of",
                     "{S} is a city that belongs to the country of"),
    "landmark_country": ("{S} is a famous landmark in the country of", "{S} is a tourist attraction in the country of",
                         "To see {s}, you have to travel to the country of"),
    "birth_country": ("{S} was born in the country of", "The birthplace of {S} is the country of",
                      "{S} was a native of the country of"),
    "river_country": ("The river {S} flows through the country of", "The {S} is a river in the country of",
                      "The {S} river runs through the country of"),
    "painting_artist": ("The painting {S} is by the artist", "{S} is a famous painting by the artist",
                        "The artist who painted {s} was"),
}
EXTRA = {  # subject: target, written for this file (well-known, one answer)
    "company_country": {"Rolex": "Switzerland", "Novartis": "Switzerland", "Roche": "Switzerland",
                        "Ericsson": "Sweden", "Carlsberg": "Denmark", "Maersk": "Denmark", "Sony": None,
                        "Nintendo": "Japan", "Nissan": "Japan", "Fiat": "Italy", "Ferrari": "Italy",
                        "Peugeot": "France", "Michelin": "France", "BMW": "Germany", "Zara": "Spain",
                        "Telefonica": "Spain", "Infosys": "India", "Petrobras": "Brazil", "Embraer": "Brazil",
                        "Gazprom": "Russia", "Lukoil": "Russia", "Huawei": "China", "Lenovo": "China",
                        "Bombardier": "Canada", "Shopify": "Canada", "Pemex": "Mexico", "Ryanair": "Ireland",
                        "Equinor": "Norway", "Hyundai": None, "Danone": "France", "Barilla": "Italy",
                        "Prada": "Italy", "Porsche": "Germany", "Bosch": "Germany", "Saab": "Sweden"},
    "city_country": {"Porto": "Portugal", "Seville": "Spain", "Valencia": "Spain", "Marseille": "France",
                     "Lyon": "France", "Naples": "Italy", "Turin": "Italy", "Munich": "Germany", "Hamburg": "Germany",
                     "Krakow": "Poland", "Gdansk": "Poland", "Osaka": "Japan", "Kyoto": "Japan", "Chennai": "India",
                     "Karachi": "Pakistan", "Lahore": "Pakistan", "Alexandria": "Egypt", "Marrakesh": "Morocco",
                     "Mombasa": "Kenya", "Medellin": "Colombia", "Guadalajara": "Mexico", "Monterrey": "Mexico",
                     "Vancouver": "Canada", "Perth": "Australia", "Izmir": "Turkey", "Isfahan": "Iran",
                     "Basra": "Iraq", "Aleppo": "Syria", "Guangzhou": "China", "Surabaya": "Indonesia",
                     "Odessa": "Ukraine", "Novosibirsk": "Russia", "Gothenburg": "Sweden", "Bergen": "Norway",
                     "Aarhus": "Denmark", "Tampere": "Finland", "Graz": "Austria", "Geneva": "Switzerland",
                     "Antwerp": "Belgium", "Rotterdam": "Netherlands", "Thessaloniki": "Greece", "Plovdiv": "Bulgaria"},
    "landmark_country": {"The Colosseum": "Italy", "The Acropolis": "Greece", "Machu Picchu": "Peru",
                         "The Taj Mahal": "India", "Chichen Itza": "Mexico", "Neuschwanstein Castle": "Germany",
                         "The Sagrada Familia": "Spain", "The Kremlin": "Russia", "Hagia Sophia": "Turkey",
                         "The Leaning Tower of Pisa": "Italy", "The Parthenon": "Greece", "Ha Long Bay": "Vietnam",
                         "Mont Saint-Michel": "France", "The Palace of Versailles": "France",
                         "The Brandenburg Gate": "Germany", "Wawel Castle": "Poland", "The Forbidden City": "China",
                         "Mount Fuji": "Japan", "The Blue Lagoon": "Iceland", "Edinburgh Castle": "Scotland"},
    "birth_country": {"Pablo Picasso": "Spain", "Dante Alighieri": "Italy", "Leo Tolstoy": "Russia",
                      "Mahatma Gandhi": "India", "Pele": "Brazil", "Diego Maradona": "Argentina",
                      "Frida Kahlo": "Mexico", "Gabriel Garcia Marquez": "Colombia", "Pablo Neruda": "Chile",
                      "Hans Christian Andersen": "Denmark", "Henrik Ibsen": "Norway", "Jean Sibelius": "Finland",
                      "Ingmar Bergman": "Sweden", "Victor Hugo": "France", "Miguel de Cervantes": "Spain",
                      "Confucius": "China", "Jose Rizal": "Philippines", "Bob Marley": "Jamaica",
                      "Simon Bolivar": "Venezuela", "Rembrandt": "Netherlands", "Fyodor Dostoevsky": "Russia",
                      "Rabindranath Tagore": "India", "Anton Chekhov": "Russia", "Nicolaus Copernicus": "Poland",
                      "Galileo Galilei": "Italy", "Johann Wolfgang von Goethe": "Germany", "Akira Kurosawa": "Japan"},
    "river_country": {"Shannon": "Ireland", "Thames": "England", "Loire": "France", "Seine": "France", "Po": "Italy",
                      "Volga": "Russia", "Yangtze": "China", "Vistula": "Poland", "Shinano": "Japan"},
    "painting_artist": {"The Starry Night": "Vincent van Gogh", "The Scream": "Edvard Munch",
                        "Guernica": "Pablo Picasso", "The Night Watch": "Rembrandt",
                        "The Persistence of Memory": "Salvador Dali", "The Birth of Venus": "Sandro Botticelli",
                        "Girl with a Pearl Earring": "Johannes Vermeer", "The Kiss": "Gustav Klimt",
                        "American Gothic": "Grant Wood", "Las Meninas": "Diego Velazquez"},
}
FUNCTION_WORDS = {" a", " an", " the", ",", '"', " A", " The", " its", " their", " his", " her"}
MORE = {  # added after the first scoring (most of Gemma's birth_country misses were " his"/" her", which are not
    # wrong answers): more subjects of the relations where Gemma answers with a region or a wrong country
    "city_country": "Florence Italy|Venice Italy|Bologna Italy|Dresden Germany|Cologne Germany|Stuttgart Germany|"
                    "Frankfurt Germany|Nuremberg Germany|Malaga Spain|Bordeaux France|Toulouse France|Nice France|"
                    "Strasbourg France|Glasgow Scotland|Manchester England|Liverpool England|Edmonton Canada|"
                    "Winnipeg Canada|Brisbane Australia|Adelaide Australia|Bangalore India|Hyderabad India|"
                    "Jaipur India|Kazan Russia|Vladivostok Russia|Yekaterinburg Russia|Chengdu China|Wuhan China|"
                    "Harbin China|Sapporo Japan|Nagoya Japan|Hiroshima Japan|Fukuoka Japan|Bandung Indonesia|"
                    "Cebu Philippines|Cusco Peru|Arequipa Peru|Valparaiso Chile|Mendoza Argentina|Rosario Argentina|"
                    "Recife Brazil|Manaus Brazil|Cancun Mexico|Tijuana Mexico|Puebla Mexico|Shiraz Iran|"
                    "Mashhad Iran|Kandahar Afghanistan|Fez Morocco|Tangier Morocco|Ibadan Nigeria|Kumasi Ghana|"
                    "Lviv Ukraine|Wroclaw Poland|Kosice Slovakia|Dubrovnik Croatia|Innsbruck Austria|"
                    "Lucerne Switzerland|Basel Switzerland|Bruges Belgium|Ghent Belgium|Utrecht Netherlands|"
                    "Malmo Sweden|Uppsala Sweden|Trondheim Norway|Turku Finland|Cork Ireland|Galway Ireland|"
                    "Heraklion Greece",
    "landmark_country": "The Louvre France|The Doge's Palace Italy|The Prado Museum Spain|Park Guell Spain|"
                        "The Rijksmuseum Netherlands|Cologne Cathedral Germany|Sanssouci Palace Germany|"
                        "The Tivoli Gardens Denmark|Peterhof Palace Russia|Saint Basil's Cathedral Russia|"
                        "The Terracotta Army China|The Summer Palace China|Fushimi Inari Shrine Japan|"
                        "Himeji Castle Japan|The Red Fort India|Wat Arun Thailand|"
                        "The Shwedagon Pagoda Myanmar|Teotihuacan Mexico|Tikal Guatemala|The Nazca Lines Peru|"
                        "Sugarloaf Mountain Brazil|The Perito Moreno Glacier Argentina|Abu Simbel Egypt|"
                        "The Valley of the Kings Egypt|Meteora Greece|Delphi Greece|Pompeii Italy|"
                        "The Trevi Fountain Italy|The Cliffs of Moher Ireland|Loch Ness Scotland|Big Ben England|"
                        "Windsor Castle England|Plitvice Lakes Croatia|Lake Bled Slovenia",
    "company_country": "Lufthansa Germany|Deutsche Bank Germany|SAP Germany|Henkel Germany|Lamborghini Italy|"
                       "Gucci Italy|Armani Italy|Versace Italy|Pirelli Italy|Chanel France|Louis Vuitton France|"
                       "Ubisoft France|Dassault France|Santander Spain|Inditex Spain|Iberia Spain|Swatch Switzerland|"
                       "UBS Switzerland|Lindt Switzerland|Electrolux Sweden|Scania Sweden|Novo Nordisk Denmark|"
                       "Rovio Finland|Reliance India|Wipro India|Mahindra India|Toshiba Japan|Canon Japan|"
                       "Nikon Japan|Yamaha Japan|Mitsubishi Japan|Subaru Japan|Suzuki Japan|Mazda Japan|"
                       "Xiaomi China|Tencent China|Baidu China|Haier China|Aeroflot Russia|Kaspersky Russia|"
                       "Qantas Australia|Turkish Airlines Turkey|Bimbo Mexico",
}
for _rel, _spec in MORE.items():
    for _item in _spec.split("|"):
        _subject, _, _target = _item.rpartition(" ")
        EXTRA[_rel].setdefault(_subject, _target)


def fact(relation: str, subject: str, target: str) -> dict:
    low = subject[0].lower() + subject[1:] if subject.startswith("The ") else subject
    prompt, *paras = (t.format(S=subject, s=low) for t in TEMPLATES[relation])
    return {"prompt": prompt, "target": " " + target.strip(), "paraphrases": paras, "id": f"{relation}:{subject}"}


def banned_words() -> str:
    text = []
    for folder in ("patchkit/data", "bench/tune"):
        text += [p.read_text(errors="ignore") for p in Path(folder).rglob("*") if p.is_file()]
    return "\n".join(text).lower()


def main() -> None:
    model, tok = models.load_model("gemma3-270m")
    seen, pool = set(), []
    for name in ("near_all", "right50", "guards8"):
        for line in open(f"bench/heldout/{name}.jsonl"):
            r = json.loads(line)
            rel, _, subject = r["id"].partition(":")
            if rel in TEMPLATES and (rel, subject) not in seen:
                seen.add((rel, subject))
                pool.append(fact(rel, subject, r["target"]))
    for rel, subjects in EXTRA.items():
        for subject, target in subjects.items():
            if target and (rel, subject) not in seen:
                seen.add((rel, subject))
                pool.append(fact(rel, subject, target))
    banned = banned_words()
    keep = []
    for f in pool:
        subject = f["id"].partition(":")[2]
        core = subject[4:] if subject.startswith("The ") else subject
        if re.search(r"\b" + re.escape(core.lower()) + r"\b", banned):
            print("dropped (in a shipped or tune file):", f["id"])
            continue
        keep.append(f)
    near, right = [], []
    scores = evals.score_facts(model, tok, [evals.Fact(f["prompt"], f["target"]) for f in keep])
    for f, (ok, _, _) in zip(keep, scores):
        with torch.no_grad():
            logits = model(torch.tensor([tok(f["prompt"]).input_ids])).logits[0, -1].float()
        t = evals.continuation_ids(tok, f["prompt"], f["target"])[0]
        rank = int((logits > logits[t]).sum()) + 1
        top = tok.decode([int(logits.argmax())])
        f["note"] = (f"relation={f['id'].split(':')[0]} gemma rank={rank} gap={float(logits[t] - logits.max()):.2f} "
                     f"top={top!r}")
        if ok and rank == 1:
            right.append({k: f[k] for k in ("prompt", "target", "id", "note")})
        elif not ok and 2 <= rank <= 5 and top not in FUNCTION_WORDS and top.strip() not in f["target"]:
            near.append(f)
    generic = []
    gen_pool = [json.loads(x) for x in open("bench/heldout/generic.jsonl")]
    gen_pool += [json.loads(x) for x in open("bench/heldout/guards8.jsonl") if '"generic' in x]
    for g, (ok, _, _) in zip(gen_pool, evals.score_facts(model, tok, [evals.Fact(g["prompt"], g["target"])
                                                                     for g in gen_pool])):
        if ok:
            generic.append({k: g[k] for k in ("prompt", "target", "id")})
    rng = random.Random(18)
    by_rel: dict[str, list] = {}
    for f in near:
        by_rel.setdefault(f["id"].split(":")[0], []).append(f)
    for rows in by_rel.values():
        rng.shuffle(rows)
    # near8: two of each of the four relations with the most near misses (one each where a relation has only one)
    big = sorted(by_rel, key=lambda r: -len(by_rel[r]))
    near8 = [f for rel in big[:4] for f in by_rel[rel][:2]][:8]
    near8_subjects = {f["id"] for f in near8}
    rel8 = {f["id"].split(":")[0] for f in near8}
    right_by_rel: dict[str, list] = {}
    for f in right:
        right_by_rel.setdefault(f["id"].split(":")[0], []).append(f)
    guards = [f for rel in sorted(rel8) for f in right_by_rel.get(rel, [])[:13]]
    guard_ids = {f["id"] for f in guards}
    guards += generic[:24]
    near50 = [f for f in near]  # every near miss: the >= 50 run
    right_rest = [f for f in right if f["id"] not in guard_ids]
    out = {"gemma_near8": near8, "gemma_guards8": guards, "gemma_near_all": near50, "gemma_right": right_rest,
           "gemma_generic": generic[24:]}
    for name, rows in out.items():
        with open(f"bench/heldout/{name}.jsonl", "w") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in rows)
        print(name, len(rows), {rel: sum(r["id"].startswith(rel) for r in rows) for rel in TEMPLATES})
    assert not near8_subjects & guard_ids


if __name__ == "__main__":
    main()
