"""Build a THIRD set of fresh held-out evaluation sets (`bench/fresh3/`) for SmolLM2-135M-Instruct and Gemma 3 270M.

Modelled on `bench/fresh2/make_fresh2.py`, and built BY it: this script imports make_fresh2 (which imports
bench/fresh/make_fresh.py) and only supplies new data -- four relations the project has never used (cheese, political
party, television broadcaster and lake -> country), their subjects, a few extra regions and adjectives, new generic
prompts -- and a wider held-out rule. make_fresh2's `fact`, `held_out`, `why_not_near`, `pick_guards`, `build` and
`verify` read the module globals OUT/SEED/TEMPLATES/ALT/SAME/REGIONS, which `use_fresh3()` points at this file's
tables; nothing of make_fresh2 is copied. Same schema, `note`, scoring rule, lead (>= 0.3 for right/guard/generic
rows) and near-miss filter as bench/fresh2:

* rank/gap: at the prompt's last position, the rank of the target's FIRST token and its logit minus the best other
  logit (negative = wrong);
* right = the greedy tokens spell the whole target, teacher-forced (`patchkit.evals.score_facts`), and rank 1;
* near miss = wrong with first-token rank 2..5 whose greedy answer is a genuine wrong answer (make_fresh2's filter).

Held-out rule, checked mechanically here: a candidate is dropped when its subject (whole word, case-insensitive, the
full name without a leading "the") occurs in ANY other file of the repository (every file git tracks or would track,
bench/fresh/ and bench/fresh2/ included; this folder and tests/test_fresh3_heldout.py excepted) or in the selection
pool, when it contains its answer or the answer's adjective, or when a prompt or paraphrase equals a prompt/
paraphrase/text of the project's JSON lines files. The picks (near8, near50, guards) are random (seed 22) within
relations, never by how an edit does.

Run from the repository root: `python bench/fresh3/make_fresh3.py` (both models; `--model smollm2` for one; `--dry`
applies the held-out rule only, no model).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import torch

_spec = importlib.util.spec_from_file_location(
    "make_fresh2", Path(__file__).resolve().parents[1] / "fresh2" / "make_fresh2.py")
mf2 = importlib.util.module_from_spec(_spec)
sys.modules["make_fresh2"] = mf2
_spec.loader.exec_module(mf2)
mf = mf2.mf  # bench/fresh/make_fresh.py
parse, occurs = mf.parse, mf.occurs

OUT = Path("bench/fresh3")
SEED = 22
MODELS = mf2.MODELS
SELF = ("bench/fresh3/", "tests/test_fresh3_heldout.py")  # the only files allowed to name this set's subjects

# relation: (prompt, paraphrase 1, paraphrase 2). {S} = subject as at the start of a sentence, {s} = subject as written
# mid-sentence. ALT replaces paraphrase 1 where the name already says what it is, or starts with "the".
TEMPLATES = {
    "cheese_country": ("{S} is a cheese made in the country of", "The cheese {s} comes from the country of",
                       "{S} is a cheese that originated in the country of"),
    "party_country": ("{S} is a political party in the country of",
                      "The political party {s} is active in the country of",
                      "{S} is a party that runs in elections in the country of"),
    "broadcaster_country": ("{S} is a television broadcaster in the country of",
                            "The broadcaster {s} is based in the country of",
                            "{S} is a TV network from the country of"),
    "lake_country": ("{S} is a lake in the country of", "The lake {s} lies in the country of",
                     "{S} is a body of fresh water in the country of"),
}
ALT = {"cheese_country": ("{S} comes from the country of", ("Cheese", "Blue", "Queijo", "Queso", " sir")),
       "party_country": ("{S} is active in the country of",
                         ("Party", "Partido", "Partito", "Parti ", "Congress", "League", "Front", "Movement",
                          "Alliance", "Union", "Democrats")),
       "broadcaster_country": ("{S} is based in the country of",
                               ("TV", "Television", "Televisión", "Network", "Channel", "Broadcasting")),
       "lake_country": ("{S} lies in the country of",
                        ("Lake", "Loch", "Lough", "See", "Lac ", "Lago", "Laguna", "Lagoa", "water", "Sap", "Meer",
                         "Oko"))}

# Subjects (written for this file: well-known, one country, nothing shared or disputed), "subject|country; ...".
# A leading "the" belongs to the sentence ("The Sea of Galilee is ..."), not to the subject's id or the held-out check.
SUBJECTS = {
    "cheese_country": """
Gouda|Netherlands; Edam|Netherlands; Leerdammer|Netherlands; Maasdam|Netherlands; Beemster|Netherlands;
Boerenkaas|Netherlands; Leyden cheese|Netherlands; Brie|France; Camembert|France; Roquefort|France; Comté|France;
Reblochon|France; Époisses|France; Saint-Nectaire|France; Pont-l'Évêque|France; Cantal|France; Tomme de Savoie|France;
Beaufort|France; Morbier|France; Mimolette|France; Boursin|France; Chaource|France; Livarot|France;
Brillat-Savarin|France; Valençay|France; Crottin de Chavignol|France; Ossau-Iraty|France; Bleu d'Auvergne|France;
Salers|France; Parmigiano-Reggiano|Italy; Grana Padano|Italy; Gorgonzola|Italy; Mozzarella|Italy; Pecorino Romano|Italy;
Taleggio|Italy; Fontina|Italy; Asiago|Italy; Provolone|Italy; Mascarpone|Italy; Burrata|Italy; Scamorza|Italy;
Stracchino|Italy; Montasio|Italy; Castelmagno|Italy; Bitto|Italy; Manchego|Spain; Idiazabal|Spain; Mahón|Spain;
Cabrales|Spain; Tetilla|Spain; Zamorano|Spain; Torta del Casar|Spain; Roncal|Spain; Garrotxa|Spain;
Serra da Estrela|Portugal; Azeitão|Portugal; Queijo São Jorge|Portugal; Emmental|Switzerland; Gruyère|Switzerland;
Appenzeller|Switzerland; Tête de Moine|Switzerland; Sbrinz|Switzerland; Feta|Greece; Kasseri|Greece; Graviera|Greece;
Mizithra|Greece; Halloumi|Cyprus; Stilton|United Kingdom; Wensleydale|United Kingdom; Red Leicester|United Kingdom;
Double Gloucester|United Kingdom; Caerphilly|United Kingdom; Shropshire Blue|United Kingdom;
Stinking Bishop|United Kingdom; Cornish Yarg|United Kingdom; Danbo|Denmark; Havarti|Denmark; Esrom|Denmark;
Jarlsberg|Norway; Brunost|Norway; Gamalost|Norway; Västerbottensost|Sweden; Herrgårdsost|Sweden; Leipäjuusto|Finland;
Oscypek|Poland; Olomoucké tvarůžky|Czech Republic; Monterey Jack|United States; Colby|United States;
Pepper Jack|United States; Requeijão|Brazil; Queijo Minas|Brazil; Cotija|Mexico; Sirene|Bulgaria; Telemea|Romania;
Suluguni|Georgia; Tulum|Turkey; Cashel Blue|Ireland; Gubbeen|Ireland; Coolea|Ireland; Ardrahan|Ireland;
Herve|Belgium; Passendale|Belgium; Cambozola|Germany; Butterkäse|Germany; Harzer|Germany; Handkäse|Germany;
Mondseer|Austria; Tiroler Graukäse|Austria; Paški sir|Croatia; Gbejna|Malta
""",
    "party_country": """
Fidesz|Hungary; Jobbik|Hungary; Law and Justice|Poland; Civic Platform|Poland; Likud|Israel; Kadima|Israel;
Shas|Israel; Yesh Atid|Israel; Christian Democratic Union|Germany; Christian Social Union|Germany; Die Linke|Germany;
BJP|India; Aam Aadmi Party|India; Shiv Sena|India; Trinamool Congress|India; Samajwadi Party|India; Janata Dal|India;
Awami League|Bangladesh; African National Congress|South Africa; Economic Freedom Fighters|South Africa;
ZANU-PF|Zimbabwe; SWAPO|Namibia; Frelimo|Mozambique; MPLA|Angola; Chama Cha Mapinduzi|Tanzania; Komeito|Japan;
Kuomintang|Taiwan; People's Action Party|Singapore;
UMNO|Malaysia; Barisan Nasional|Malaysia; Pakatan Harapan|Malaysia; Golkar|Indonesia; Gerindra|Indonesia;
Move Forward Party|Thailand; Partido Revolucionario Institucional|Mexico; Morena|Mexico; Partido Acción Nacional|Mexico;
Justicialist Party|Argentina; Frente Amplio|Uruguay; Fianna Fáil|Ireland; Fine Gael|Ireland; Plaid Cymru|United Kingdom;
Podemos|Spain; Vox|Spain; PSOE|Spain; Ciudadanos|Spain; Lega Nord|Italy; Five Star Movement|Italy;
Partito Democratico|Italy; La République En Marche|France; Les Républicains|France; Rassemblement National|France;
ÖVP|Austria; FPÖ|Austria; SPÖ|Austria; Moderate Party|Sweden; Fremskrittspartiet|Norway; PASOK|Greece; Syriza|Greece;
New Democracy|Greece; Golden Dawn|Greece; AKP|Turkey; Republican People's Party|Turkey; Yabloko|Russia;
Servant of the People|Ukraine; Batkivshchyna|Ukraine; Civil Contract|Armenia; Smer|Slovakia; ANO|Czech Republic;
Civic Democratic Party|Czech Republic; PVV|Netherlands; VVD|Netherlands; D66|Netherlands; GroenLinks|Netherlands;
Vlaams Belang|Belgium; N-VA|Belgium; Hezbollah|Lebanon; Ennahda|Tunisia; Bloc Québécois|Canada;
New Democratic Party|Canada; Republican Party|United States; Sandinista National Liberation Front|Nicaragua;
FMLN|El Salvador; Nuevas Ideas|El Salvador; PSUV|Venezuela; Kokoomus|Finland; Keskusta|Finland;
Progressive Conservative Party|Canada; Sinn Féin|Ireland; Forza Nuova|Italy;
Democratic Unionist Party|United Kingdom; Social Democratic and Labour Party|United Kingdom;
Liberal Democrats|United Kingdom; Parti Québécois|Canada; Coalition Avenir Québec|Canada;
Partido dos Trabalhadores|Brazil; PSDB|Brazil; Unión Cívica Radical|Argentina; Propuesta Republicana|Argentina;
Unión Demócrata Independiente|Chile; Renovación Nacional|Chile; APRA|Peru; Fuerza Popular|Peru;
Pacto Histórico|Colombia; Bündnis 90/Die Grünen|Germany; Freie Wähler|Germany; Europe Écologie Les Verts|France;
Mouvement Démocrate|France; Reconquête|France; Chega|Portugal; Bloco de Esquerda|Portugal; Junts per Catalunya|Spain;
Bildu|Spain; Partido Nacionalista Vasco|Spain; Südtiroler Volkspartei|Italy; NEOS|Austria;
Christen-Democratisch Appèl|Netherlands; Partij van de Arbeid|Netherlands; Forum voor Democratie|Netherlands;
Open VLD|Belgium; Mouvement Réformateur|Belgium;
Socialdemokratiet|Denmark; Høyre|Norway; Arbeiderpartiet|Norway; Senterpartiet|Norway; Kristdemokraterna|Sweden;
Socialdemokraterna|Sweden; Isamaa|Estonia; Keskerakond|Estonia; Homeland Union|Lithuania; KDU-ČSL|Czech Republic;
GERB|Bulgaria; Vazrazhdane|Bulgaria; VMRO-DPMNE|North Macedonia; AKEL|Cyprus; Partit Laburista|Malta;
Partit Nazzjonalista|Malta; Aontú|Ireland; HDP|Turkey; MHP|Turkey; İYİ Parti|Turkey; Party of Regions|Ukraine;
Svoboda|Ukraine; LDPR|Russia; Yisrael Beiteinu|Israel; Meretz|Israel; Amal Movement|Lebanon;
Free Patriotic Movement|Lebanon; Kataeb|Lebanon; Wafd Party|Egypt; Istiqlal Party|Morocco; Nidaa Tounes|Tunisia;
Sanseito|Japan; Reiwa Shinsengumi|Japan; Palang Pracharath|Thailand; Bhumjaithai|Thailand; PDI-P|Indonesia;
PKS|Indonesia; Nasdem|Indonesia; Democratic Action Party|Malaysia; Parti Keadilan Rakyat|Malaysia;
PDP-Laban|Philippines; Nacionalista Party|Philippines; FUNCINPEC|Cambodia; National League for Democracy|Myanmar;
Union Solidarity and Development Party|Myanmar; Janata Vimukthi Peramuna|Sri Lanka; United National Party|Sri Lanka;
Muttahida Qaumi Movement|Pakistan; Tehreek-e-Labbaik|Pakistan; Jatiya Party|Bangladesh; Telugu Desam Party|India;
Dravida Munnetra Kazhagam|India; AIADMK|India; Rashtriya Janata Dal|India; Biju Janata Dal|India;
Nationalist Congress Party|India; Bahujan Samaj Party|India; Orange Democratic Movement|Kenya;
All Progressives Congress|Nigeria; New Patriotic Party|Ghana; Inkatha Freedom Party|South Africa; UNITA|Angola;
RENAMO|Mozambique; National Resistance Movement|Uganda; Prosperity Party|Ethiopia; Chadema|Tanzania;
Movement for Democratic Change|Zimbabwe; People's National Party|Jamaica; Acción Democrática|Venezuela;
COPEI|Venezuela; Primero Justicia|Venezuela; Movimiento Ciudadano|Mexico; Partido de la Revolución Democrática|Mexico;
Liberal National Party|Australia; Te Pāti Māori|New Zealand
""",
    "broadcaster_country": """
BBC|United Kingdom; ITV|United Kingdom; Channel 4|United Kingdom; NHK|Japan; Fuji TV|Japan; TV Asahi|Japan; RAI|Italy;
Mediaset|Italy; ZDF|Germany; ARD|Germany; ProSieben|Germany; Sat.1|Germany; TF1|France; Canal+|France; M6|France;
RTVE|Spain; Telecinco|Spain; La Sexta|Spain; RTP|Portugal; TVI|Portugal; RTÉ|Ireland; TG4|Ireland;
NRK|Norway; SVT|Sweden; TV4|Sweden; Yle|Finland; MTV3|Finland; ORF|Austria; SRF|Switzerland; NPO|Netherlands;
RTBF|Belgium; VRT|Belgium; ERT|Greece; TRT|Turkey; Kanal D|Turkey; TVP|Poland; Polsat|Poland; HRT|Croatia;
RÚV|Iceland; LRT|Lithuania; ERR|Estonia; TVR|Romania; Pro TV|Romania; CBS|United States;
NBC|United States; PBS|United States; HBO|United States; CNN|United States; Univision|United States;
Telemundo|United States; Seven Network|Australia; Nine Network|Australia; Network 10|Australia; TVNZ|New Zealand;
Televisa|Mexico; TV Azteca|Mexico; Rede Globo|Brazil; SBT|Brazil; Record TV|Brazil; Telefe|Argentina;
Caracol Televisión|Colombia; RCN Televisión|Colombia; Venevisión|Venezuela; Al Jazeera|Qatar; CCTV|China;
Hunan TV|China; KBS|South Korea; JTBC|South Korea; Doordarshan|India; Zee TV|India; Star Plus|India; Geo TV|Pakistan;
ARY Digital|Pakistan; GMA Network|Philippines; ABS-CBN|Philippines; Mediacorp|Singapore; RCTI|Indonesia;
SABC|South Africa; e.tv|South Africa; NTA|Nigeria; KTN|Kenya; IRIB|Iran;
 VTV|Vietnam;
Sky Italia|Italy; Rai Uno|Italy; Das Erste|Germany; RTL Klub|Hungary;
S4C|United Kingdom; WDR|Germany; NDR|Germany; MDR|Germany; SWR|Germany; Kabel eins|Germany; n-tv|Germany;
BFM TV|France; LCI|France; La7|Italy; Rete 4|Italy; Canale 5|Italy; Cuatro|Spain; Canal Sur|Spain; EITB|Spain;
RTL 4|Netherlands; SBS6|Netherlands; VTM|Belgium; RSI|Switzerland; ServusTV|Austria; Nelonen|Finland; Stöð 2|Iceland;
Markíza|Slovakia; JOJ|Slovakia; Antena 1|Romania; bTV|Bulgaria; TV Pink|Serbia; Mega Channel|Greece; ANT1|Greece;
Skai|Greece; CyBC|Cyprus; Show TV|Turkey; Reshet|Israel; Keshet|Israel; Al Mayadeen|Lebanon; Press TV|Iran;
Ren TV|Russia; ICTV|Ukraine; TV Tokyo|Japan; tvN|South Korea; Dragon TV|China; Zhejiang TV|China; CGTN|China;
TTV|Taiwan; Sun TV|India; NDTV|India; Aaj Tak|India; Hum TV|Pakistan; ATN Bangla|Bangladesh; Channel i|Bangladesh;
Rupavahini|Sri Lanka; Indosiar|Indonesia; SCTV|Indonesia; Trans TV|Indonesia; RTM|Malaysia; Foxtel|Australia;
Global Television Network|Canada; TVA|Canada; ESPN|United States; C-SPAN|United States; Ecuavisa|Ecuador;
Teleamazonas|Ecuador; Panamericana Televisión|Peru; Latina Televisión|Peru; Unitel|Bolivia; Teledoce|Uruguay;
Globovisión|Venezuela; Citizen TV|Kenya; ZBC|Zimbabwe; Channels TV|Nigeria; M-Net|South Africa; 2M|Morocco;
Al Aoula|Morocco; Nessma|Tunisia
""",
    "lake_country": """
Lake Bled|Slovenia; Lake Bohinj|Slovenia; Lake Como|Italy; Lake Garda|Italy; Lake Trasimeno|Italy;
Lake Bracciano|Italy; Lake Iseo|Italy; Lake Orta|Italy; Lake Bolsena|Italy; Lake Annecy|France; Lac du Bourget|France;
Lake Balaton|Hungary; Lake Baikal|Russia; Lake Ladoga|Russia; Lake Onega|Russia; Lake Seliger|Russia;
Loch Ness|United Kingdom; Loch Lomond|United Kingdom; Loch Tay|United Kingdom; Windermere|United Kingdom;
Ullswater|United Kingdom; Derwentwater|United Kingdom; Lough Neagh|United Kingdom; Lough Corrib|Ireland;
Lough Leane|Ireland; Lake Vänern|Sweden; Lake Vättern|Sweden; Lake Mälaren|Sweden; Lake Siljan|Sweden; Saimaa|Finland;
Päijänne|Finland; Lake Inari|Finland; Lake Mjøsa|Norway; Hallstätter See|Austria; Wolfgangsee|Austria;
Attersee|Austria; Lake Lucerne|Switzerland; Lake Zurich|Switzerland; Lake Thun|Switzerland; Lake Brienz|Switzerland;
Chiemsee|Germany; Königssee|Germany; Lake Starnberg|Germany; Müritz|Germany; Tegernsee|Germany; Ammersee|Germany;
Plitvice Lakes|Croatia; Lake Sevan|Armenia; Lake Van|Turkey; Lake Tuz|Turkey; Lake Urmia|Iran;
the Sea of Galilee|Israel; Lake Tana|Ethiopia; Lake Volta|Ghana; Lake Naivasha|Kenya; Lake Nakuru|Kenya;
Lake Retba|Senegal; Lake Toba|Indonesia; Lake Biwa|Japan; Lake Ashi|Japan; Lake Kawaguchi|Japan; Lake Towada|Japan;
Inle Lake|Myanmar; Tonlé Sap|Cambodia; West Lake|China; Qinghai Lake|China; Dal Lake|India; Lake Pichola|India;
Chilika Lake|India; Phewa Lake|Nepal; Lake Tekapo|New Zealand; Lake Taupo|New Zealand; Lake Wakatipu|New Zealand;
Lake Wanaka|New Zealand; Lake Eyre|Australia; Lake Burley Griffin|Australia; Lake Louise|Canada;
Lake Winnipeg|Canada; Great Bear Lake|Canada; Moraine Lake|Canada; Lake Tahoe|United States; Crater Lake|United States;
Great Salt Lake|United States; Lake Okeechobee|United States; Lake Michigan|United States; Lake Mead|United States;
Lake Powell|United States; Lake Chapala|Mexico; Lake Pátzcuaro|Mexico; Lake Atitlán|Guatemala;
Lake Maracaibo|Venezuela; Lake Llanquihue|Chile; Lake Nahuel Huapi|Argentina; Lake Khövsgöl|Mongolia;
Issyk-Kul|Kyrgyzstan; Lake Balkhash|Kazakhstan; Lake Assal|Djibouti; Lake Peipus|Estonia; Lake Maggiore|Italy
""",
}
# Lake Maggiore (partly Swiss) and Lake Peipus (Estonia/Russia) are shared: replaced below by more lakes.
SUBJECTS["lake_country"] = SUBJECTS["lake_country"].replace("; Lake Peipus|Estonia; Lake Maggiore|Italy", """;
Lake Neuchâtel|Switzerland; Walensee|Switzerland; Lake Sils|Switzerland; Schluchsee|Germany; Steinhuder Meer|Germany;
Edersee|Germany; Mondsee|Austria; Traunsee|Austria; Wörthersee|Austria; Lake Varese|Italy; Lago di Braies|Italy;
Lake Scanno|Italy; Lac de Sainte-Croix|France; Lac de Serre-Ponçon|France; Śniardwy|Poland; Morskie Oko|Poland;
Võrtsjärv|Estonia; Lake Galvė|Lithuania; Pielinen|Finland; Oulujärvi|Finland; Femund|Norway; Hornavan|Sweden;
Loch Awe|United Kingdom; Loch Morar|United Kingdom; Bala Lake|United Kingdom; Coniston Water|United Kingdom;
Lough Erne|United Kingdom; Lough Ree|Ireland; Lough Mask|Ireland; Mývatn|Iceland; Þingvallavatn|Iceland;
Lake Vouliagmeni|Greece; Lake Kerkini|Greece; Lake Pamvotis|Greece; Lake Eğirdir|Turkey; Lake Beyşehir|Turkey;
Lake Salda|Turkey; Lake Qarun|Egypt; Lake Manzala|Egypt; Lake Ichkeul|Tunisia; Lake Bosumtwi|Ghana;
Lake Bunyonyi|Uganda; Lake Kyoga|Uganda; Lake Baringo|Kenya; Lake Bogoria|Kenya; Lake Manyara|Tanzania;
Lake Natron|Tanzania; Lake Abaya|Ethiopia; Lake Ziway|Ethiopia; Lake Sibaya|South Africa; Lake Teletskoye|Russia;
Lake Elton|Russia; Lake Kaindy|Kazakhstan; Lake Alakol|Kazakhstan; Son-Kul|Kyrgyzstan; Iskanderkul|Tajikistan;
Lake Sarez|Tajikistan; Dian Lake|China; Erhai Lake|China; Poyang Lake|China; Dongting Lake|China; Namtso|China;
Loktak Lake|India; Vembanad Lake|India; Wular Lake|India; Rara Lake|Nepal; Lake Saiful Muluk|Pakistan;
Songkhla Lake|Thailand; Lake Sentani|Indonesia; Lake Maninjau|Indonesia; Taal Lake|Philippines; Lake Lanao|Philippines;
Hoan Kiem Lake|Vietnam; Ba Be Lake|Vietnam; Lake Suwa|Japan; Lake Shikotsu|Japan; Lake Toya|Japan;
Lake Inawashiro|Japan; Lake Chuzenji|Japan; Lake Hamana|Japan; Lake Rotorua|New Zealand; Lake Te Anau|New Zealand;
Lake Pukaki|New Zealand; Lake Argyle|Australia; Lake Macquarie|Australia; Lake Hillier|Australia; Lake Simcoe|Canada;
Lake Nipigon|Canada; Lake Athabasca|Canada; Great Slave Lake|Canada; Okanagan Lake|Canada; Lake Placid|United States;
Lake Pontchartrain|United States; Flathead Lake|United States; Lake Minnetonka|United States; Mono Lake|United States;
Lake Texcoco|Mexico; Lake Catemaco|Mexico; Lake Bacalar|Mexico; Lake Yojoa|Honduras; Lake Arenal|Costa Rica;
Lake Managua|Nicaragua; Gatun Lake|Panama; Lake Guatavita|Colombia; Lake Tota|Colombia; Lake Poopó|Bolivia;
Lake Junín|Peru; Laguna Colorada|Bolivia; Lake Villarrica|Chile; Lake Todos los Santos|Chile; Lake Viedma|Argentina;
Mar Chiquita|Argentina; Lagoa dos Patos|Brazil; Lake Ypacaraí|Paraguay""")

SAME = dict(mf2.SAME, **{
    "Cyprus": "Cypriot", "Malta": "Maltese", "Slovenia": "Slovenian, Slovene", "Zimbabwe": "Zimbabwean",
    "Angola": "Angolan", "Taiwan": "Taiwanese, Formosa", "Jamaica": "Jamaican",
    "North Macedonia": "Macedonian, Macedonia", "Uganda": "Ugandan", "Paraguay": "Paraguayan",
    "Nicaragua": "Nicaraguan", "Kyrgyzstan": "Kyrgyz", "Djibouti": "Djiboutian",
    "Qatar": "Qatari", "Ghana": "Ghanaian", "Namibia": "Namibian",
})
EXTRA_REGIONS = {
    "France": "Savoie, Auvergne, Bearn, Roquefort, Camembert, Chavignol, Annecy",
    "Italy": "Emilia, Emilia-Romagna, Parma, Reggio, Lazio, Umbria, Como, Garda",
    "Spain": "La Mancha, Cantabria, Navarre, Extremadura, Menorca",
    "United Kingdom": "Leicester, Gloucester, Somerset, Shropshire, Cumbria, Lake District",
    "Switzerland": "Gruyeres, Emmental, Emme",
    "Netherlands": "Gouda, Edam, North Holland",
    "Germany": "Allgau, Upper Bavaria",
    "Austria": "Salzkammergut, Hallstatt",
    "Russia": "Siberia, Karelia, Irkutsk",
    "United States": "Nevada, Utah, Hawaii",
    "Canada": "Banff",
    "India": "Jammu, Srinagar, Udaipur, Odisha",
    "China": "Hangzhou, Qinghai",
    "Japan": "Shiga, Hakone, Aomori",
    "Myanmar": "Shan",
    "Taiwan": "Taipei, Formosa",
    "Belgium": "Liege",
    "South Africa": "Pretoria",
}
# the region a target lies in is no wrong answer either (Gemma: Songkhla Lake -> " South-east Asia.")
for _c in ("Thailand", "Vietnam", "Cambodia", "Myanmar", "Malaysia", "Indonesia", "Philippines", "Singapore"):
    EXTRA_REGIONS[_c] = ", ".join(x for x in (EXTRA_REGIONS.get(_c), "Southeast Asia, South-east Asia, South East Asia,"
                                              " Indochina") if x)
REGIONS = {c: ", ".join(x for x in (mf2.REGIONS.get(c), EXTRA_REGIONS.get(c)) if x)
           for c in set(mf2.REGIONS) | set(EXTRA_REGIONS)}

# Generic prompts written for this file (one clear next word), none a prompt of the project; id generic:hNNN.
GENERIC = """
Salt and| pepper
Bread and| butter
Fish and| chips
Rock and| roll
Knife and| fork
Cats and| dogs
Thunder and| lightning
Cup and| saucer
Bow and| arrow
Needle and| thread
Lock and| key
Hide and| seek
Trial and| error
Pros and| cons
Beauty and the| Beast
Snow White and the Seven| Dwarfs
Alice in| Wonderland
Little Red Riding| Hood
Once upon a| time
Happy birthday to| you
Twinkle, twinkle, little| star
Humpty Dumpty sat on a| wall
Mary had a little| lamb
An apple a day keeps the doctor| away
The early bird catches the| worm
Actions speak louder than| words
Better late than| never
Practice makes| perfect
Time is| money
When in Rome, do as the Romans| do
A penny saved is a penny| earned
Don't count your chickens before they| hatch
Where there's smoke, there's| fire
The pen is mightier than the| sword
Rome wasn't built in a| day
Two heads are better than| one
Curiosity killed the| cat
Look before you| leap
The grass is always greener on the other| side
Barking dogs seldom| bite
Monday, Tuesday,| Wednesday
Friday, Saturday,| Sunday
March, April,| May
September, October,| November
Spring, summer,| autumn
Ten, twenty, thirty,| forty
One hundred, two hundred, three| hundred
Five, ten, fifteen,| twenty
Red, orange, yellow,| green
Do, re, mi, fa,| sol
Alpha, beta,| gamma
A, B, C,| D
First, second,| third
The sun rises in the| east
The sun sets in the| west
Water freezes at zero degrees| Celsius
A week has seven| days
A year has twelve| months
An hour has sixty| minutes
A minute has sixty| seconds
A triangle has three| sides
A square has four| sides
A spider has eight| legs
An insect has six| legs
Bees make| honey
Cows give| milk
Hens lay| eggs
A baby cat is called a| kitten
A baby dog is called a| puppy
A baby sheep is called a| lamb
A group of wolves is called a| pack
The king of the jungle is the| lion
The largest ocean on Earth is the| Pacific
The planet closest to the Sun is| Mercury
The Red Planet is| Mars
The largest planet in our solar system is| Jupiter
We breathe in| oxygen
Plants need sunlight to| grow
Ice is frozen| water
The heart pumps| blood
You see with your| eyes
You hear with your| ears
You smell with your| nose
A doctor works in a| hospital
A teacher works in a| school
A pilot flies a| plane
A chef works in a| kitchen
A farmer grows| crops
To write on paper you use a| pen
To cut paper you use| scissors
Shoes are worn on the| feet
Gloves are worn on the| hands
A hat is worn on the| head
The opposite of hot is| cold
The opposite of up is| down
The opposite of left is| right
The opposite of day is| night
The opposite of rich is| poor
The opposite of black is| white
The opposite of early is| late
The opposite of young is| old
The plural of mouse is| mice
The plural of child is| children
The past tense of go is| went
Good morning, how are| you
Thank you very| much
See you| later
Merry| Christmas
Happy New| Year
Ladies first, then| gentlemen
The Statue of| Liberty
The Great Wall of| China
Leonardo da| Vinci
Albert| Einstein
William| Shakespeare
Wolfgang Amadeus| Mozart
Ludwig van| Beethoven
Isaac| Newton
Charles| Darwin
Harry| Potter
Mickey| Mouse
Donald| Duck
Santa| Claus
A shepherd looks after his| sheep
A beekeeper looks after| bees
A librarian works in a| library
A baker bakes| bread
A dentist looks after your| teeth
A plumber fixes| pipes
A carpenter works with| wood
A lifeguard watches over the| swimmers
A goalkeeper guards the| goal
A referee blows a| whistle
An astronaut travels into| space
A cowboy rides a| horse
A sailor sails a| ship
The hands of a clock point to the| time
A thermometer measures| temperature
A compass points| north
A telescope is used to look at the| stars
A microscope makes small things look| bigger
An umbrella keeps you| dry
A candle gives off| light
A kettle is used to boil| water
A fridge keeps food| cold
A pillow goes on a| bed
A key opens a| lock
A ladder is used to climb| up
Frogs begin life as| tadpoles
Caterpillars turn into| butterflies
Camels store fat in their| humps
Penguins cannot| fly
Kangaroos carry their babies in a| pouch
Owls hunt at| night
Squirrels collect| nuts
Elephants have long| trunks
Zebras have black and white| stripes
Giraffes have very long| necks
Snakes shed their| skin
Spiders spin| webs
Birds build| nests
Fish breathe through their| gills
Whales are| mammals
Rain falls from the| clouds
Lightning is followed by| thunder
A rainbow appears after the| rain
Volcanoes erupt with hot| lava
Deserts are hot and| dry
Leaves change colour in| autumn
Snow falls in| winter
Flowers bloom in| spring
The Moon orbits the| Earth
The Earth orbits the| Sun
Stars shine at| night
Sound travels slower than| light
Magnets attract| iron
Two plus two equals| four
Ten minus three equals| seven
Three times three equals| nine
Half of ten is| five
Twelve divided by four is| three
A dozen eggs is| twelve
A century is one hundred| years
A decade is ten| years
A millennium is a thousand| years
There are twenty-four hours in a| day
Water is made of hydrogen and| oxygen
The chemical symbol for gold is| Au
The boiling point of water is one hundred degrees| Celsius
Light from the Sun takes about eight| minutes
A bicycle has two| wheels
A tricycle has three| wheels
A car has four| wheels
An octopus has eight| arms
A piano has black and white| keys
A violin is played with a| bow
Drums are played with| sticks
Chess is played on a board with sixty-four| squares
In chess, the most powerful piece is the| queen
Basketball players try to score| baskets
In baseball, the batter tries to hit the| ball
A marathon is a long running| race
Swimmers wear| goggles
Skiers slide down| mountains
A tennis racket strikes the| ball
The first letter of the alphabet is| A
The last letter of the alphabet is| Z
Vowels are a, e, i, o and| u
Once in a blue| moon
It's raining cats and| dogs
Break a| leg
Piece of| cake
Under the| weather
Spill the| beans
Bite the| bullet
Hit the| sack
Let the cat out of the| bag
Kill two birds with one| stone
The tip of the| iceberg
Every cloud has a silver| lining
Strike while the iron is| hot
Don't put all your eggs in one| basket
The ferry carried cars across the| river
She poured the milk into a glass and drank| it
He opened the door with his| key
The children built a castle out of| sand
They went to the cinema to watch a| film
At the zoo we saw lions, tigers and| bears
The fire brigade put out the| fire
The baby was sleeping in its| cot
We dried our hands with a| towel
He brushed his teeth with| toothpaste
She wrote the letter and put it in an| envelope
The postman delivered the| mail
The waiter brought us the| menu
The train arrived at the| station
The plane landed at the| airport
The ship docked in the| harbour
The farmer milked the| cows
The shepherd counted his| sheep
The knight drew his| sword
The king sat on his| throne
The princess kissed the| frog
The witch flew on her| broomstick
The pirate buried the| treasure
The detective solved the| case
The judge banged his| gavel
The students sat their final| exams
The orchestra was led by the| conductor
The actors bowed to the| audience
The painter dipped his brush in the| paint
The gardener watered the| plants
The mechanic repaired the| car
The nurse took the patient's| temperature
The soldiers marched in| step
Hot chocolate with whipped| cream
Strawberries and| cream
Eggs and| bacon
Macaroni and| cheese
Bangers and| mash
Rice and| beans
Milk and| cookies
Apple| pie
Chocolate chip| cookies
Scrambled| eggs
Mashed| potatoes
Orange| juice
Ice| cream
Hot| dog
Coca-| Cola
Hip| hop
Rock| music
Science| fiction
Social| media
Climate| change
Artificial| intelligence
Credit| card
Sunday| morning
Birthday| cake
Swimming| pool
Living| room
Washing| machine
Post| office
Fire| station
Police| officer
Bus| stop
Traffic| light
Parking| lot
Shopping| mall
Train| station
Table| tennis
Video| games
Board| games
Summer| holidays
Christmas| tree
Easter| eggs
Halloween| costumes
Valentine's| Day
Mother's| Day
Good| night
Good| luck
Well| done
Excuse| me
Nice to meet| you
How are you| doing
Thank| you
You're| welcome
Long time no| see
Better safe than| sorry
Easier said than| done
No pain, no| gain
Out of sight, out of| mind
Haste makes| waste
Great minds think| alike
Old habits die| hard
All's well that ends| well
Home sweet| home
Slow and| steady
Safe and| sound
Short and| sweet
Loud and| clear
Sick and| tired
Black and| white
Day and| night
Up and| down
Back and| forth
Here and| there
Now and| then
More or| less
Sooner or| later
Ready, set,| go
On your marks, get| set
Three, two, one,| go
Lights, camera,| action
Knock| knock
Yes or| no
True or| false
Heads or| tails
Rock, paper,| scissors
Trick or| treat
"""

# --- the held-out rule (wider than make_fresh2's: every other file of the repository) -------------------------------


def seen_files() -> list[Path]:
    """Every file of the repository that git tracks or would track (untracked, not ignored), this set's own excepted."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    return sorted(Path(p) for p in set(out)
                  if not p.startswith(SELF) and Path(p).is_file() and "__pycache__" not in Path(p).parts)


def use_fresh3() -> None:
    """Point make_fresh2's module globals (read by its fact/held_out/why_not_near/build/verify) at this file's."""
    for name in ("OUT", "SEED", "TEMPLATES", "ALT", "SAME", "REGIONS"):
        setattr(mf2, name, globals()[name])


def candidates() -> list[dict]:
    return [mf2.fact(rel, s, c) for rel, spec in SUBJECTS.items() for s, c in parse(spec).items()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=list(MODELS), action="append", help="only this model (default: both)")
    ap.add_argument("--dry", action="store_true", help="apply the held-out rule and stop (no model)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    use_fresh3()
    files = seen_files()
    text = "\n".join(p.read_text(errors="ignore") for p in files).lower()
    prompts = mf.seen_prompts(files)
    print(f"held-out rule: {len(files)} files, {len(prompts)} existing prompts")
    pool = candidates()
    print(f"candidates written: {len(pool)} " + str({r: len(parse(s)) for r, s in SUBJECTS.items()}))
    from patchkit import selection
    sel = {n.lower() for names in selection.subject_pool().values() for n in names}
    in_pool = [f["id"] for f in pool if mf2.subject_of(f).lower() in sel]
    print(f"held-out rule: dropped {len(in_pool)} (in the selection pool)"
          + (": " + ", ".join(in_pool) if in_pool else ""))
    pool = mf2.held_out([f for f in pool if f["id"] not in in_pool], text, prompts)
    print(f"candidates kept: {len(pool)}")
    gen_pool = mf.generic_pool(prompts, GENERIC, "generic:h{:03d}")
    if args.dry:
        return
    torch.manual_seed(0)
    summary = {m: mf2.build(m, MODELS[m], pool, gen_pool) for m in (args.model or list(MODELS))}
    print("\nsummary:", json.dumps(summary))


if __name__ == "__main__":
    main()
