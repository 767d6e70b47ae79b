"""Build FRESH held-out evaluation sets for issue 8 (the repair command), on SmolLM2-135M-Instruct and Gemma 3 270M.

Why: the held-out sets of `bench/heldout/` have been looked at for several decisions, so their figures are no longer
honest held-out figures. This script writes new ones with relations and subjects the project has never used: islands,
mountains, airlines and dishes (all -> country), none of them a relation of `bench/heldout/`, `bench/tune/` or the
shipped data. Same facts schema, `note` and scoring rule as `bench/heldout/README.md`:

* rank/gap: at the prompt's last position, the rank of the target's FIRST token and its logit minus the best other
  logit (negative = wrong);
* right = the greedy tokens spell the whole target, teacher-forced (`patchkit.evals.score_facts`), and rank 1;
* near miss = wrong with first-token rank 2..5 whose greedy answer is a content word that is not a piece of the
  target, not its adjective, and not a synonym of the target country or a region/city inside it (those are not wrong
  answers; see REGIONS).

Held-out rule, checked mechanically here: a candidate whose subject occurs (whole word, case-insensitive; the full
subject string) in any file under `patchkit/data/`, `bench/tune/`, `bench/heldout/` or in `bench/*.jsonl` is dropped,
as is a subject containing its answer or the answer's adjective, and no prompt or paraphrase may equal a prompt/text
of those files. The picks (near8, near50, guards) are random (seed 20) within relations, never by how an edit does.

Run from the repository root: `python bench/fresh/make_fresh.py` (both models; `--model smollm2` for one).
"""
from __future__ import annotations

import argparse
import difflib
import json
import random
import re
from pathlib import Path

import torch

from patchkit import evals, models
from patchkit.trace import continuation_ids

OUT = Path("bench/fresh")
SEED = 20
MODELS = {"smollm2": "smollm2", "gemma": "gemma3-270m"}  # file prefix -> prepared model name

# relation: (prompt, paraphrase 1, paraphrase 2). {S} = subject as at the start of a sentence, {s} = subject as written
# mid-sentence. ALT replaces paraphrase 1 for subjects whose name already says "island" / "mount" (see fact()).
TEMPLATES = {
    "island_country": ("{S} is an island that belongs to the country of", "The island of {s} is part of the country of",
                       "{S} is an island governed by the country of"),
    "mountain_country": ("{S} is a mountain in the country of", "The mountain {s} rises in the country of",
                         "To climb {s}, you travel to the country of"),
    "airline_country": ("{S} is an airline based in the country of",
                        "The airline {s} is headquartered in the country of", "{S} is an air carrier from the country of"),
    "dish_country": ("{S} is a traditional dish from the country of", "The dish {s} comes from the country of",
                     "{S} is a national food of the country of"),
}
ALT = {"island_country": ("{S} is part of the country of", ("Island", "Isle", "Koh ", "Ilha", "Isla ", "Nosy ", "Caye")),
       "mountain_country": ("{S} rises in the country of",
                            ("Mount", "Mont", "Pico", "Peak", "Volcano", "Mountain", "Gunung", "Doi ", "Jebel", "Ben ",
                             "Piz ", "Cerro", "Nevado", "Puy ", "Pic ", "Aiguille", "Slieve", "Croagh", "Cima", "Tre "))}

# Subjects (written for this file: well-known, one country, nothing shared or disputed), "subject|country; ...".
SUBJECTS = {
    "island_country": """
Ischia|Italy; Procida|Italy; Lipari|Italy; Vulcano|Italy; Pantelleria|Italy; Giglio|Italy; Murano|Italy; Burano|Italy;
Panarea|Italy; Favignana|Italy; Asinara|Italy; Ponza|Italy; Torcello|Italy; Levanzo|Italy; Linosa|Italy; Filicudi|Italy;
Ustica|Italy; Capraia|Italy; Santorini|Greece; Naxos|Greece; Paros|Greece; Kos|Greece; Zakynthos|Greece;
Kefalonia|Greece; Chios|Greece; Samos|Greece; Lefkada|Greece; Aegina|Greece; Skiathos|Greece; Skopelos|Greece;
Milos|Greece; Euboea|Greece; Syros|Greece; Patmos|Greece; Karpathos|Greece; Thassos|Greece; Sifnos|Greece;
Folegandros|Greece; Amorgos|Greece; Delos|Greece; Spetses|Greece; Kythira|Greece; Lemnos|Greece; Ikaria|Greece;
Andros|Greece; Tinos|Greece; Kalymnos|Greece; Symi|Greece; Lanzarote|Spain; Fuerteventura|Spain; La Gomera|Spain;
El Hierro|Spain; Formentera|Spain; Porto Santo|Portugal; Terceira|Portugal; Faial|Portugal; Belle-Ile|France;
Ile de Re|France; Oleron|France; Porquerolles|France; Ouessant|France; Noirmoutier|France; Martinique|France;
Guadeloupe|France; Mayotte|France; Tahiti|France; Bora Bora|France; Moorea|France; Brac|Croatia; Korcula|Croatia;
Krk|Croatia; Mljet|Croatia; Cres|Croatia; Losinj|Croatia; Lastovo|Croatia; Heligoland|Germany; Fehmarn|Germany;
Norderney|Germany; Borkum|Germany; Juist|Germany; Amrum|Germany; Langeoog|Germany; Hiddensee|Germany;
Texel|Netherlands; Terschelling|Netherlands; Ameland|Netherlands; Vlieland|Netherlands; Schiermonnikoog|Netherlands;
Funen|Denmark; Samso|Denmark; Lolland|Denmark; Falster|Denmark; Langeland|Denmark; Anholt|Denmark; Oland|Sweden;
Orust|Sweden; Tjorn|Sweden; Senja|Norway; Hinnoya|Norway; Jan Mayen|Norway; Bouvet Island|Norway; Saaremaa|Estonia;
Hiiumaa|Estonia; Wrangel Island|Russia; Kizhi|Russia; Valaam|Russia; Olkhon|Russia; Kolguyev|Russia;
Isle of Skye|United Kingdom; Anglesey|United Kingdom; Isle of Wight|United Kingdom; Arran|United Kingdom;
Islay|United Kingdom; Iona|United Kingdom; Lindisfarne|United Kingdom; Lundy|United Kingdom;
Isle of Sheppey|United Kingdom; Hayling Island|United Kingdom; Canvey Island|United Kingdom; Skomer|United Kingdom;
Rathlin Island|United Kingdom; Tresco|United Kingdom; Achill Island|Ireland; Valentia Island|Ireland;
Inishmore|Ireland; Skellig Michael|Ireland; Tory Island|Ireland; Great Blasket Island|Ireland; Heimaey|Iceland;
Grimsey|Iceland; Surtsey|Iceland; Sado|Japan; Miyajima|Japan; Yakushima|Japan; Ishigaki|Japan; Miyakojima|Japan;
Awaji|Japan; Naoshima|Japan; Iriomote|Japan; Amami Oshima|Japan; Enoshima|Japan; Tanegashima|Japan; Rishiri|Japan;
Shodoshima|Japan; Hachijojima|Japan; Ulleungdo|South Korea; Geoje|South Korea; Ganghwa|South Korea;
Gulangyu|China; Chongming|China; Putuoshan|China; Zhoushan|China; Bohol|Philippines; Siargao|Philippines;
Panay|Philippines; Samar|Philippines; Leyte|Philippines; Mindoro|Philippines; Siquijor|Philippines;
Camiguin|Philippines; Coron|Philippines; Marinduque|Philippines; Catanduanes|Philippines; Masbate|Philippines;
Corregidor|Philippines; Basilan|Philippines; Sulawesi|Indonesia; Komodo|Indonesia; Sumbawa|Indonesia;
Bangka|Indonesia; Belitung|Indonesia; Halmahera|Indonesia; Ambon|Indonesia; Nias|Indonesia; Batam|Indonesia;
Bintan|Indonesia; Madura|Indonesia; Seram|Indonesia; Biak|Indonesia; Ternate|Indonesia; Gili Trawangan|Indonesia;
Nusa Penida|Indonesia; Samosir|Indonesia; Morotai|Indonesia; Tioman|Malaysia; Redang|Malaysia; Labuan|Malaysia;
Sipadan|Malaysia; Pangkor|Malaysia; Koh Phangan|Thailand; Koh Tao|Thailand; Koh Lanta|Thailand; Koh Lipe|Thailand;
Koh Samet|Thailand; Phu Quoc|Vietnam; Cat Ba|Vietnam; Con Son|Vietnam; Koh Rong|Cambodia; Majuli|India;
Elephanta|India; Rameswaram|India; Havelock Island|India; Sriharikota|India; Kangaroo Island|Australia;
Rottnest Island|Australia; Phillip Island|Australia; Magnetic Island|Australia; Lord Howe Island|Australia;
Whitsunday Island|Australia; Hamilton Island|Australia; Melville Island|Australia; Bruny Island|Australia;
Norfolk Island|Australia; Thursday Island|Australia; Moreton Island|Australia; Groote Eylandt|Australia;
Stewart Island|New Zealand; Waiheke|New Zealand; Great Barrier Island|New Zealand; Rangitoto|New Zealand;
Kapiti Island|New Zealand; Prince Edward Island|Canada; Newfoundland|Canada; Baffin Island|Canada;
Ellesmere Island|Canada; Cape Breton Island|Canada; Manitoulin Island|Canada; Anticosti|Canada; Sable Island|Canada;
Haida Gwaii|Canada; Grand Manan|Canada; Salt Spring Island|Canada; Axel Heiberg Island|Canada;
Manhattan|United States; Long Island|United States; Nantucket|United States; Martha's Vineyard|United States;
Maui|United States; Oahu|United States; Kauai|United States; Molokai|United States; Kodiak Island|United States;
Santa Catalina Island|United States; Alcatraz|United States; Ellis Island|United States; Staten Island|United States;
Roanoke Island|United States; Mackinac Island|United States; Block Island|United States;
Hilton Head Island|United States; Padre Island|United States; Sanibel Island|United States;
Rikers Island|United States; Galveston Island|United States; Ocracoke|United States; Whidbey Island|United States;
Isle Royale|United States; Easter Island|Chile; Chiloe|Chile; Robinson Crusoe Island|Chile; Navarino Island|Chile;
Fernandina Island|Ecuador; Floreana|Ecuador; Fernando de Noronha|Brazil; Ilha Grande|Brazil; Marajo|Brazil;
Ilhabela|Brazil; Itaparica|Brazil; Cozumel|Mexico; Isla Mujeres|Mexico; Holbox|Mexico; Tiburon Island|Mexico;
Janitzio|Mexico; Margarita Island|Venezuela; Roatan|Honduras; Utila|Honduras; Coiba|Panama; Contadora|Panama;
Ambergris Caye|Belize; Caye Caulker|Belize; Ometepe|Nicaragua; Mafia Island|Tanzania; Lamu|Kenya;
Bazaruto|Mozambique; Nosy Be|Madagascar; Socotra|Yemen; Elephantine Island|Egypt; Kish Island|Iran; Qeshm|Iran;
Hormuz Island|Iran; Yas Island|United Arab Emirates; Saadiyat Island|United Arab Emirates; Buyukada|Turkey;
Gokceada|Turkey; Bozcaada|Turkey; Goree Island|Senegal; Bioko|Equatorial Guinea; Bhola Island|Bangladesh;
Ramree Island|Myanmar
""",
    "mountain_country": """
Mount Rainier|United States; Mount Whitney|United States; Denali|United States; Mount St. Helens|United States;
Mount Hood|United States; Mount Shasta|United States; Pikes Peak|United States; Mount Mitchell|United States;
Longs Peak|United States; Grand Teton|United States; Mount Elbert|United States; Mauna Kea|United States;
Mauna Loa|United States; Half Dome|United States; Mount Katahdin|United States; Mount Tamalpais|United States;
Stone Mountain|United States; Mount Marcy|United States; Mount Robson|Canada; Mount Logan|Canada;
Mount Assiniboine|Canada; Mount Edith Cavell|Canada; Iztaccihuatl|Mexico; Paricutin|Mexico; Nevado de Toluca|Mexico;
Tajumulco|Guatemala; Pacaya|Guatemala; Acatenango|Guatemala; Arenal|Costa Rica; Irazu|Costa Rica; Chirripo|Costa Rica;
Momotombo|Nicaragua; Nevado del Ruiz|Colombia; Nevado del Huila|Colombia; Tungurahua|Ecuador; Cayambe|Ecuador;
Pichincha|Ecuador; Sangay|Ecuador; Antisana|Ecuador; Alpamayo|Peru; El Misti|Peru; Ausangate|Peru; Yerupaja|Peru;
Salcantay|Peru; Huayna Picchu|Peru; Illimani|Bolivia; Huayna Potosi|Bolivia; Sajama|Bolivia; Osorno|Chile;
Llaima|Chile; Calbuco|Chile; Cerro Catedral|Argentina; Mercedario|Argentina; Pico Bolivar|Venezuela;
Auyan-tepui|Venezuela; Pico da Bandeira|Brazil; Mont Ventoux|France; Puy de Dome|France;
Aiguille du Midi|France; Pic du Midi|France; Mont Aigoual|France; Canigou|France; Barre des Ecrins|France;
Mont Pelee|France; Gran Sasso|Italy; Gran Paradiso|Italy; Marmolada|Italy; Monte Amiata|Italy;
Tre Cime di Lavaredo|Italy; Monviso|Italy; Monte Cimone|Italy; Monte Baldo|Italy; Eiger|Switzerland;
Jungfrau|Switzerland; Pilatus|Switzerland; Rigi|Switzerland; Titlis|Switzerland; Dufourspitze|Switzerland;
Piz Bernina|Switzerland; Santis|Switzerland; Schilthorn|Switzerland; Finsteraarhorn|Switzerland;
Weisshorn|Switzerland; Grossglockner|Austria; Wildspitze|Austria; Dachstein|Austria; Grossvenediger|Austria;
Hochkonig|Austria; Kitzsteinhorn|Austria; Brocken|Germany; Watzmann|Germany; Grosser Arber|Germany;
Wasserkuppe|Germany; Fichtelberg|Germany; Drachenfels|Germany; Mulhacen|Spain; Aneto|Spain; Pico Veleta|Spain;
Monte Perdido|Spain; Pedraforca|Spain; Moncayo|Spain; Ben Nevis|United Kingdom; Snowdon|United Kingdom;
Scafell Pike|United Kingdom; Ben Macdui|United Kingdom; Helvellyn|United Kingdom; Skiddaw|United Kingdom;
Cader Idris|United Kingdom; Pen y Fan|United Kingdom; Slieve Donard|United Kingdom; Cairn Gorm|United Kingdom;
Tryfan|United Kingdom; Carrauntoohil|Ireland; Croagh Patrick|Ireland; Errigal|Ireland; Lugnaquilla|Ireland;
Benbulben|Ireland; Galtymore|Ireland; Glittertind|Norway; Gaustatoppen|Norway; Snohetta|Norway; Stetind|Norway;
Romsdalshorn|Norway; Areskutan|Sweden; Snaefellsjokull|Iceland; Eyjafjallajokull|Iceland; Herdubreid|Iceland;
Kirkjufell|Iceland; Hvannadalshnukur|Iceland; Esja|Iceland; Giewont|Poland; Kasprowy Wierch|Poland;
Gerlachovsky stit|Slovakia; Krivan|Slovakia; Moldoveanu|Romania; Negoiu|Romania; Ceahlau|Romania; Vihren|Bulgaria;
Botev Peak|Bulgaria; Mount Parnassus|Greece; Mount Taygetus|Greece; Mount Pelion|Greece; Mount Lycabettus|Greece;
Smolikas|Greece; Mount Erciyes|Turkey; Mount Nemrut|Turkey; Mount Uludag|Turkey; Mount Suphan|Turkey;
Mount Kazbek|Georgia; Ushba|Georgia; Mount Aragats|Armenia; Klyuchevskaya Sopka|Russia; Mount Narodnaya|Russia;
Avachinsky|Russia; Koryaksky|Russia; Jebel Shams|Oman; Mount Nebo|Jordan; Mount Carmel|Israel; Mount Tabor|Israel;
Ras Dashen|Ethiopia; Nyiragongo|Democratic Republic of the Congo; Mount Mulanje|Malawi; Emi Koussi|Chad;
Thabana Ntlenyana|Lesotho; Mount Tahat|Algeria; Pico Basile|Equatorial Guinea; Mount Longonot|Kenya;
Ol Doinyo Lengai|Tanzania; Annapurna|Nepal; Dhaulagiri|Nepal; Manaslu|Nepal; Ama Dablam|Nepal; Machapuchare|Nepal;
Nanga Parbat|Pakistan; Rakaposhi|Pakistan; Tirich Mir|Pakistan; Nanda Devi|India; Kamet|India; Anamudi|India;
Doddabetta|India; Mount Kailash|China; Shishapangma|China; Mount Hua|China; Mount Wutai|China; Mount Lu|China;
Jade Dragon Snow Mountain|China; Adam's Peak|Sri Lanka; Pidurutalagala|Sri Lanka; Mount Aso|Japan;
Mount Asama|Japan; Sakurajima|Japan; Mount Tateyama|Japan; Mount Hotaka|Japan; Mount Takao|Japan; Mount Yotei|Japan;
Mount Ontake|Japan; Mount Unzen|Japan; Mount Zao|Japan; Mount Bandai|Japan; Mount Tsukuba|Japan; Seoraksan|South Korea;
Jirisan|South Korea; Bukhansan|South Korea; Mount Pulag|Philippines; Taal Volcano|Philippines;
Mount Banahaw|Philippines; Mount Makiling|Philippines; Mount Kanlaon|Philippines; Mount Rinjani|Indonesia;
Mount Semeru|Indonesia; Mount Agung|Indonesia; Mount Batur|Indonesia; Mount Kerinci|Indonesia; Puncak Jaya|Indonesia;
Mount Sinabung|Indonesia; Mount Tambora|Indonesia; Kelimutu|Indonesia; Tangkuban Perahu|Indonesia;
Gunung Mulu|Malaysia; Mount Tahan|Malaysia; Fansipan|Vietnam; Doi Inthanon|Thailand; Doi Suthep|Thailand;
Mount Popa|Myanmar; Otgontenger|Mongolia; Ismoil Somoni Peak|Tajikistan; Mount Sabalan|Iran; Mount Dena|Iran;
Alvand|Iran; Mount Buller|Australia; Mount Bogong|Australia; Cradle Mountain|Australia; Mount Feathertop|Australia;
Bluff Knoll|Australia; Mount Augustus|Australia; Kata Tjuta|Australia; Mount Taranaki|New Zealand;
Mount Tongariro|New Zealand; Mount Ngauruhoe|New Zealand; Mount Aspiring|New Zealand; Mount Tasman|New Zealand;
Mount Maunganui|New Zealand; Mount Hutt|New Zealand
""",
    "airline_country": """
KLM|Netherlands; Transavia|Netherlands; Martinair|Netherlands; Aer Lingus|Ireland; Aegean Airlines|Greece;
Olympic Air|Greece; Tarom|Romania; Blue Air|Romania; Wizz Air|Hungary; easyJet|United Kingdom;
Virgin Atlantic|United Kingdom; Jet2|United Kingdom; Flybe|United Kingdom; Loganair|United Kingdom;
Monarch Airlines|United Kingdom; Vueling|Spain; Air Europa|Spain; Volotea|Spain; Air Nostrum|Spain;
Binter Canarias|Spain; Eurowings|Germany; Condor|Germany; Air Berlin|Germany; Edelweiss Air|Switzerland;
Crossair|Switzerland; airBaltic|Latvia; Brussels Airlines|Belgium; Sabena|Belgium; Neos|Italy; Air Dolomiti|Italy;
Smartwings|Czech Republic; Wideroe|Norway; Cimber|Denmark; Lauda|Austria; Pegasus Airlines|Turkey;
AnadoluJet|Turkey; S7 Airlines|Russia; Pobeda|Russia; Ural Airlines|Russia; UTair|Russia; Transaero|Russia;
Avianca|Colombia; Satena|Colombia; Sky Airline|Chile; JetSMART|Chile; Copa Airlines|Panama; Gol|Brazil;
Azul|Brazil; TAM|Brazil; Varig|Brazil; Interjet|Mexico; Volaris|Mexico; Viva Aerobus|Mexico; Aeromar|Mexico;
Flybondi|Argentina; Conviasa|Venezuela; Amaszonas|Bolivia; Paranair|Paraguay; Pluna|Uruguay; WestJet|Canada;
Porter Airlines|Canada; Air Transat|Canada; Flair Airlines|Canada; Sunwing|Canada; Swoop|Canada;
Delta Air Lines|United States; Southwest Airlines|United States; JetBlue|United States; Alaska Airlines|United States;
Spirit Airlines|United States; Frontier Airlines|United States; Allegiant Air|United States; Pan Am|United States;
TWA|United States; Eastern Air Lines|United States; Northwest Airlines|United States;
Continental Airlines|United States; Hawaiian Airlines|United States; SkyWest|United States; Breeze Airways|United States;
Etihad|United Arab Emirates; flydubai|United Arab Emirates; Gulf Air|Bahrain; flynas|Saudi Arabia;
Middle East Airlines|Lebanon; El Al|Israel; Mahan Air|Iran; IndiGo|India; SpiceJet|India; Vistara|India;
Jet Airways|India; Kingfisher Airlines|India; Akasa Air|India; Air Astana|Kazakhstan; Hainan Airlines|China;
Xiamen Airlines|China; Sichuan Airlines|China; Spring Airlines|China; Shenzhen Airlines|China; Peach Aviation|Japan;
Skymark Airlines|Japan; Asiana Airlines|South Korea; Jeju Air|South Korea; Jin Air|South Korea;
Cebu Pacific|Philippines; AirAsia|Malaysia; Firefly|Malaysia; Lion Air|Indonesia; Citilink|Indonesia;
Batik Air|Indonesia; Bamboo Airways|Vietnam; Bangkok Airways|Thailand; Nok Air|Thailand; Druk Air|Bhutan;
Buddha Air|Nepal; Jetstar|Australia; Arik Air|Nigeria; Air Peace|Nigeria; Afriqiyah|Libya; Comair|South Africa;
Kulula|South Africa; FlySafair|South Africa; Precision Air|Tanzania; Jambojet|Kenya; ASKY|Togo; Air Austral|France
""",
    "dish_country": """
risotto|Italy; lasagna|Italy; carbonara|Italy; tiramisu|Italy; ossobuco|Italy; gnocchi|Italy; bruschetta|Italy;
panna cotta|Italy; arancini|Italy; focaccia|Italy; minestrone|Italy; cannoli|Italy; saltimbocca|Italy; ribollita|Italy;
vitello tonnato|Italy; cacio e pepe|Italy; caponata|Italy; ratatouille|France; bouillabaisse|France; coq au vin|France;
cassoulet|France; boeuf bourguignon|France; tartiflette|France; confit de canard|France; croque monsieur|France;
pot-au-feu|France; blanquette de veau|France; salade nicoise|France; tarte tatin|France; paella|Spain; gazpacho|Spain;
patatas bravas|Spain; fabada|Spain; salmorejo|Spain; pisto|Spain; crema catalana|Spain; cocido madrileno|Spain;
pulpo a la gallega|Spain; pastel de nata|Portugal; francesinha|Portugal; caldo verde|Portugal; cataplana|Portugal;
bifana|Portugal; sauerbraten|Germany; currywurst|Germany; Black Forest cake|Germany; Maultaschen|Germany;
schweinshaxe|Germany; rouladen|Germany; Labskaus|Germany; stollen|Germany; Wiener schnitzel|Austria;
Sachertorte|Austria; Kaiserschmarrn|Austria; Tafelspitz|Austria; Linzer torte|Austria; rosti|Switzerland;
Bircher muesli|Switzerland; waterzooi|Belgium; stoemp|Belgium; carbonade flamande|Belgium; stroopwafel|Netherlands;
bitterballen|Netherlands; hutspot|Netherlands; erwtensoep|Netherlands; poffertjes|Netherlands; stamppot|Netherlands;
fish and chips|United Kingdom; shepherd's pie|United Kingdom; haggis|United Kingdom; Yorkshire pudding|United Kingdom;
toad in the hole|United Kingdom; Cornish pasty|United Kingdom; Eton mess|United Kingdom;
sticky toffee pudding|United Kingdom; beef Wellington|United Kingdom; Lancashire hotpot|United Kingdom;
cullen skink|United Kingdom; cranachan|United Kingdom; colcannon|Ireland; boxty|Ireland; Dublin coddle|Ireland;
barmbrack|Ireland; smorrebrod|Denmark; aebleskiver|Denmark; surstromming|Sweden; Jansson's temptation|Sweden;
rakfisk|Norway; farikal|Norway; smalahove|Norway; kalakukko|Finland; hakarl|Iceland; plokkfiskur|Iceland; bigos|Poland;
zurek|Poland; goulash|Hungary; langos|Hungary; chicken paprikash|Hungary; dobos torte|Hungary; halaszle|Hungary;
svickova|Czech Republic; bryndzove halusky|Slovakia; mici|Romania; shopska salad|Bulgaria; banitsa|Bulgaria;
pelmeni|Russia; beef stroganoff|Russia; shchi|Russia; olivier salad|Russia; varenyky|Ukraine; draniki|Belarus;
khachapuri|Georgia; khinkali|Georgia; churchkhela|Georgia; souvlaki|Greece; spanakopita|Greece; pastitsio|Greece;
gyros|Greece; avgolemono|Greece; kleftiko|Greece; iskender kebab|Turkey; menemen|Turkey; imam bayildi|Turkey;
pide|Turkey; mansaf|Jordan; koshari|Egypt; fesenjan|Iran; ghormeh sabzi|Iran; tahdig|Iran; masgouf|Iraq;
pastilla|Morocco; harira|Morocco; doro wat|Ethiopia; bobotie|South Africa; bunny chow|South Africa;
potjiekos|South Africa; chakalaka|South Africa; thieboudienne|Senegal; yassa|Senegal; brik|Tunisia; matoke|Uganda;
romazava|Madagascar; cachupa|Cape Verde; butter chicken|India; masala dosa|India; rogan josh|India;
palak paneer|India; chole bhature|India; vada pav|India; pav bhaji|India; dhokla|India; dal bhat|Nepal;
ema datshi|Bhutan; kottu roti|Sri Lanka; lamprais|Sri Lanka; fish amok|Cambodia; sushi|Japan; ramen|Japan;
tempura|Japan; sukiyaki|Japan; okonomiyaki|Japan; takoyaki|Japan; tonkatsu|Japan; udon|Japan; onigiri|Japan;
yakitori|Japan; shabu-shabu|Japan; natto|Japan; katsudon|Japan; oyakodon|Japan; bibimbap|South Korea;
bulgogi|South Korea; tteokbokki|South Korea; samgyeopsal|South Korea; budae jjigae|South Korea; Peking duck|China;
kung pao chicken|China; mapo tofu|China; xiaolongbao|China; dan dan noodles|China; zongzi|China; jiaozi|China;
Lanzhou beef noodles|China; century egg|China; pho|Vietnam; banh mi|Vietnam; bun cha|Vietnam; goi cuon|Vietnam;
cao lau|Vietnam; tom yum|Thailand; massaman curry|Thailand; tom kha gai|Thailand; gado-gado|Indonesia;
rawon|Indonesia; gudeg|Indonesia; sinigang|Philippines; kare-kare|Philippines; sisig|Philippines;
halo-halo|Philippines; pancit|Philippines; mohinga|Myanmar; chili crab|Singapore; poutine|Canada; butter tart|Canada;
Nanaimo bar|Canada; tourtiere|Canada; clam chowder|United States; jambalaya|United States; gumbo|United States;
buffalo wings|United States; key lime pie|United States; biscuits and gravy|United States; grits|United States;
pecan pie|United States; lobster roll|United States; tacos|Mexico; mole poblano|Mexico; chiles en nogada|Mexico;
pozole|Mexico; enchiladas|Mexico; chilaquiles|Mexico; cochinita pibil|Mexico; guacamole|Mexico; quesadilla|Mexico;
tlayuda|Mexico; lomo saltado|Peru; aji de gallina|Peru; pachamanca|Peru; pabellon criollo|Venezuela; hallaca|Venezuela;
bandeja paisa|Colombia; moqueca|Brazil; pao de queijo|Brazil; brigadeiro|Brazil; coxinha|Brazil; acaraje|Brazil;
chivito|Uruguay; curanto|Chile; saltenas|Bolivia; jerk chicken|Jamaica; ackee and saltfish|Jamaica; griot|Haiti;
pupusa|El Salvador; baleadas|Honduras; pepian|Guatemala; lamington|Australia; hangi|New Zealand
""",
}
# Country -> adjectives and other names of the answer itself (a subject containing one is dropped; a greedy answer
# starting with one is not a wrong answer).
SAME = {
    "United States": "American, America, USA, US, U.S", "United Kingdom": "British, Britain, Great Britain, UK, U.K",
    "Netherlands": "Dutch, Holland", "Czech Republic": "Czech, Czechia, Czechoslovakia",
    "South Korea": "Korean, Korea", "United Arab Emirates": "Emirati, Emirates, UAE", "Myanmar": "Burmese, Burma",
    "Sri Lanka": "Sri Lankan, Ceylon", "Iran": "Iranian, Persian, Persia", "Ethiopia": "Ethiopian, Abyssinia",
    "Thailand": "Thai, Siam", "Turkey": "Turkish, Turkiye", "Italy": "Italian, Italia", "Greece": "Greek, Hellenic",
    "Spain": "Spanish, Espana", "Portugal": "Portuguese", "France": "French", "Croatia": "Croatian", "Germany": "German",
    "Denmark": "Danish", "Sweden": "Swedish", "Norway": "Norwegian", "Finland": "Finnish, Finn", "Estonia": "Estonian",
    "Russia": "Russian", "Ireland": "Irish, Eire", "Iceland": "Icelandic", "Japan": "Japanese, Nippon",
    "China": "Chinese", "Philippines": "Filipino, Philippine", "Indonesia": "Indonesian", "Malaysia": "Malaysian",
    "Vietnam": "Vietnamese, Viet", "Cambodia": "Cambodian, Khmer", "India": "Indian", "Australia": "Australian",
    "New Zealand": "Kiwi", "Canada": "Canadian", "Chile": "Chilean", "Ecuador": "Ecuadorian", "Brazil": "Brazilian",
    "Argentina": "Argentine, Argentinian", "Mexico": "Mexican", "Venezuela": "Venezuelan", "Colombia": "Colombian",
    "Honduras": "Honduran", "Panama": "Panamanian", "Belize": "Belizean", "Nicaragua": "Nicaraguan",
    "Tanzania": "Tanzanian", "Kenya": "Kenyan", "Mozambique": "Mozambican", "Madagascar": "Malagasy", "Yemen": "Yemeni",
    "Egypt": "Egyptian", "Senegal": "Senegalese", "Equatorial Guinea": "Equatoguinean", "Bangladesh": "Bangladeshi",
    "Switzerland": "Swiss", "Austria": "Austrian", "Poland": "Polish", "Hungary": "Hungarian", "Belgium": "Belgian",
    "Peru": "Peruvian", "Bolivia": "Bolivian", "Guatemala": "Guatemalan", "Costa Rica": "Costa Rican",
    "Slovakia": "Slovak, Slovakian, Czechoslovakia", "Romania": "Romanian", "Bulgaria": "Bulgarian",
    "Georgia": "Georgian", "Armenia": "Armenian", "Oman": "Omani", "Jordan": "Jordanian", "Israel": "Israeli",
    "Democratic Republic of the Congo": "Congolese, Congo, DRC", "Malawi": "Malawian", "Chad": "Chadian",
    "Lesotho": "Basotho", "Algeria": "Algerian", "Nepal": "Nepalese, Nepali", "Pakistan": "Pakistani",
    "Mongolia": "Mongolian", "Tajikistan": "Tajik", "Latvia": "Latvian", "Bahrain": "Bahraini",
    "Saudi Arabia": "Saudi", "Lebanon": "Lebanese", "Kazakhstan": "Kazakh", "Bhutan": "Bhutanese",
    "Nigeria": "Nigerian", "Libya": "Libyan", "South Africa": "South African", "Togo": "Togolese",
    "Paraguay": "Paraguayan", "Uruguay": "Uruguayan", "Moldova": "Moldovan", "Ukraine": "Ukrainian",
    "Belarus": "Belarusian", "Iraq": "Iraqi", "Morocco": "Moroccan", "Tunisia": "Tunisian", "Uganda": "Ugandan",
    "Cape Verde": "Cape Verdean, Cabo Verde", "Singapore": "Singaporean", "Jamaica": "Jamaican", "Haiti": "Haitian",
    "El Salvador": "Salvadoran", "Cuba": "Cuban", "Lithuania": "Lithuanian",
}
# Country -> regions, islands and cities inside it: a greedy answer naming one is imprecise, not a wrong country.
REGIONS = {
    "United States": "Alabama, Alaska, Arizona, Arkansas, California, Colorado, Connecticut, Delaware, Florida, "
                     "Hawaii, Idaho, Illinois, Indiana, Iowa, Kansas, Kentucky, Louisiana, Maine, Maryland, "
                     "Massachusetts, Michigan, Minnesota, Mississippi, Missouri, Montana, Nebraska, Nevada, "
                     "New Hampshire, New Jersey, New Mexico, New York, North Carolina, North Dakota, Ohio, Oklahoma, "
                     "Oregon, Pennsylvania, Rhode Island, South Carolina, South Dakota, Tennessee, Texas, Utah, Vermont, "
                     "Virginia, Washington, West Virginia, Wisconsin, Wyoming, Georgia, New England, Chicago, Boston, "
                     "Los Angeles, San Francisco, Seattle, Miami, Honolulu, Atlanta, Dallas, Houston, Denver, Phoenix",
    "United Kingdom": "England, Scotland, Wales, Northern Ireland, Cornwall, Devon, Yorkshire, Lancashire, Cumbria, "
                      "Kent, London, Edinburgh, Glasgow, Highlands, Hebrides, Orkney, Shetland, Lake District, "
                      "Snowdonia, Northumberland, Dorset, Hampshire, Essex, Ulster, Manchester, Liverpool, Cardiff, "
                      "Belfast, Aberdeen, English, Scottish, Welsh",
    "Ireland": "Kerry, Cork, Galway, Mayo, Donegal, Dublin, Clare, Wicklow, Sligo, Connemara, Munster, Connacht, "
               "Leinster, Tipperary, Limerick",
    "Canada": "Ontario, Quebec, British Columbia, Alberta, Nova Scotia, New Brunswick, Newfoundland, Labrador, Manitoba, "
              "Saskatchewan, Prince Edward Island, Yukon, Nunavut, Northwest Territories, Toronto, Montreal, Vancouver, "
              "Calgary, Ottawa, Halifax, Arctic",
    "Australia": "New South Wales, Victoria, Queensland, Tasmania, South Australia, Western Australia, "
                 "Northern Territory, Sydney, Melbourne, Perth, Brisbane, Adelaide, Hobart, Darwin, Cairns, Canberra",
    "New Zealand": "North Island, South Island, Auckland, Wellington, Canterbury, Otago, Waikato, Northland, "
                   "Marlborough, Nelson, Christchurch, Queenstown, Rotorua",
    "France": "Brittany, Normandy, Provence, Alsace, Burgundy, Corsica, Savoy, Dordogne, Loire, Occitanie, Languedoc, "
              "Aquitaine, Gascony, Auvergne, Lorraine, Picardy, Champagne, Paris, Lyon, Marseille, Nice, Bordeaux, "
              "Toulouse, French Polynesia, Polynesia, Martinique, Guadeloupe, Reunion, Pyrenees, Vosges, Riviera, "
              "Cote d'Azur, Vendee, Charente, Tahiti, Nantes, Strasbourg, Guerande, Guérande",
    "Italy": "Sicily, Sardinia, Tuscany, Lombardy, Piedmont, Veneto, Venice, Liguria, Campania, Naples, Apulia, Puglia, "
             "Calabria, Basilicata, Abruzzo, Umbria, Lazio, Rome, Milan, Florence, Emilia, Bologna, Trentino, "
             "Dolomites, South Tyrol, Friuli, Aosta, Marche, Molise, Aeolian, Genoa, Turin, Palermo, Verona, Sicilian, "
             "Tuscan, Neapolitan, Venetian, Roman",
    "Spain": "Catalonia, Andalusia, Galicia, Basque, Canary, Canaries, Balearic, Majorca, Mallorca, Asturias, Castile, "
             "Valencia, Madrid, Barcelona, Seville, Navarre, Aragon, Murcia, Cantabria, Extremadura, La Rioja, "
             "Tenerife, Gran Canaria, Ibiza, Granada, Bilbao, Catalan, Andalusian, Galician, Castilian",
    "Portugal": "Azores, Madeira, Algarve, Lisbon, Porto, Minho",
    "Germany": "Bavaria, Saxony, Prussia, Berlin, Hamburg, Munich, Bremen, Hesse, Thuringia, Baden, Wurttemberg, "
               "Swabia, Rhineland, Westphalia, Schleswig, Holstein, Mecklenburg, Pomerania, Brandenburg, "
               "Lower Saxony, Frisia, East Frisia, North Frisia, Black Forest, Harz, Cologne, Frankfurt, Dresden, "
               "Stuttgart, Bavarian, Saxon, Prussian, Swabian",
    "Netherlands": "Friesland, Frisia, Zeeland, Groningen, Amsterdam, North Holland, Wadden, Rotterdam",
    "Denmark": "Jutland, Zealand, Copenhagen, Bornholm, Funen, Greenland, Faroe",
    "Sweden": "Stockholm, Gotland, Skane, Scania, Lapland, Dalarna, Gothenburg, Bohuslan",
    "Norway": "Svalbard, Lofoten, Oslo, Bergen, Lapland, Finnmark, Troms, Nordland, Trondheim",
    "Finland": "Lapland, Helsinki, Aland, Karelia",
    "Estonia": "Tallinn",
    "Iceland": "Reykjavik, Westfjords",
    "Greece": "Crete, Cyclades, Dodecanese, Ionian, Peloponnese, Macedonia, Thessaly, Epirus, Attica, Athens, "
              "Thessaloniki, Rhodes, Corfu, Euboea, Aegean, Cretan",
    "Croatia": "Dalmatia, Istria, Split, Dubrovnik, Zagreb, Kvarner, Slavonia",
    "Russia": "Siberia, Kamchatka, Moscow, Saint Petersburg, St Petersburg, St. Petersburg, Karelia, Caucasus, Urals, "
              "Ural, Chukotka, Yakutia, Tatarstan, Chechnya, Dagestan, Sakhalin, Kuril, Arctic, Soviet, USSR, "
              "Leningrad, Baikal",
    "Japan": "Honshu, Hokkaido, Kyushu, Shikoku, Okinawa, Tokyo, Osaka, Kyoto, Hiroshima, Nagano, Kagoshima, Nagasaki, "
             "Niigata, Yamanashi, Shizuoka, Kanagawa, Fukuoka, Kumamoto, Ryukyu, Kansai, Kanto, Tohoku, Chubu, Nara, "
             "Kobe, Yokohama, Sapporo, Hyogo, Nagoya",
    "South Korea": "Seoul, Busan, Jeju, Gyeongsang, Jeolla, Gangwon, Gyeonggi, Incheon, Republic of Korea",
    "China": "Tibet, Xinjiang, Hong Kong, Macau, Sichuan, Yunnan, Guangdong, Fujian, Zhejiang, Jiangsu, Hainan, "
             "Shandong, Shanxi, Shaanxi, Henan, Hunan, Hubei, Anhui, Jiangxi, Guangxi, Guizhou, Gansu, Qinghai, "
             "Inner Mongolia, Manchuria, Heilongjiang, Jilin, Liaoning, Beijing, Peking, Shanghai, Canton, Chongqing, "
             "Tianjin, Xiamen, Shenzhen, Lanzhou, Tibetan, Cantonese, Sichuanese, PRC",
    "India": "Kerala, Goa, Maharashtra, Gujarat, Rajasthan, Punjab, Kashmir, Bengal, West Bengal, Tamil Nadu, "
             "Karnataka, Andhra Pradesh, Telangana, Odisha, Orissa, Bihar, Uttar Pradesh, Uttarakhand, Himachal, "
             "Sikkim, Assam, Meghalaya, Manipur, Nagaland, Mizoram, Tripura, Arunachal, Ladakh, Andaman, Nicobar, "
             "Lakshadweep, Hyderabad, Mumbai, Bombay, Delhi, New Delhi, Kolkata, Calcutta, Chennai, Madras, Bangalore, "
             "Lucknow, Amritsar, Darjeeling, Punjabi, Bengali, Gujarati, Tamil, Hindustan, Bharat",
    "Pakistan": "Punjab, Sindh, Balochistan, Baluchistan, Khyber, Kashmir, Gilgit, Karachi, Lahore, Hunza, Chitral",
    "Nepal": "Kathmandu, Pokhara",
    "Sri Lanka": "Colombo, Kandy",
    "Indonesia": "Java, Bali, Sumatra, Sulawesi, Celebes, Borneo, Kalimantan, Papua, Moluccas, Maluku, Lombok, Flores, "
                 "Nusa Tenggara, Aceh, Jakarta, Riau, Bandung, Yogyakarta, Timor, Balinese, Javanese, Sumatran",
    "Philippines": "Luzon, Visayas, Mindanao, Manila, Cebu, Palawan, Bohol, Davao, Mindoro, Samar, Leyte, Panay, Negros",
    "Malaysia": "Sabah, Sarawak, Borneo, Penang, Kedah, Johor, Pahang, Terengganu, Kelantan, Perak, Selangor, "
                "Kuala Lumpur, Malacca, Langkawi, Labuan, Malaya",
    "Thailand": "Bangkok, Phuket, Krabi, Surat Thani, Chiang Mai, Pattaya, Trat, Satun",
    "Vietnam": "Hanoi, Saigon, Ho Chi Minh, Kien Giang, Quang Ninh, Ha Long, Da Nang, Hue, Hoi An",
    "Cambodia": "Sihanoukville, Phnom Penh, Kampot, Koh Kong",
    "Myanmar": "Rakhine, Arakan, Yangon, Rangoon, Mandalay, Shan",
    "Bangladesh": "Dhaka, Chittagong, Bengal",
    "Mexico": "Yucatan, Quintana Roo, Baja California, Baja, Jalisco, Oaxaca, Chiapas, Veracruz, Puebla, Sonora, "
              "Chihuahua, Michoacan, Guerrero, Campeche, Tabasco, Sinaloa, Tlaxcala, Mexico City, Cancun, Acapulco, Tijuana",
    "Brazil": "Sao Paulo, Rio de Janeiro, Rio, Bahia, Minas Gerais, Pernambuco, Amazonas, Amazon, Para, Ceara, "
              "Santa Catarina, Parana, Rio Grande, Goias, Maranhao, Paraiba, Alagoas, Sergipe, Espirito Santo, "
              "Brasilia, Recife, Fortaleza",
    "Argentina": "Patagonia, Tierra del Fuego, Buenos Aires, Mendoza, Cordoba, Salta, Jujuy, Neuquen, Rio Negro, "
                 "Chubut, Santa Cruz, Misiones, Bariloche",
    "Chile": "Patagonia, Tierra del Fuego, Atacama, Santiago, Valparaiso, Araucania, Los Lagos, Magallanes, Aysen, "
             "Rapa Nui, Polynesia",
    "Peru": "Cusco, Cuzco, Lima, Arequipa, Ancash, Puno",
    "Ecuador": "Galapagos, Quito, Guayaquil",
    "Bolivia": "La Paz, Potosi",
    "Colombia": "Bogota, Antioquia, Cartagena, Caldas, Tolima, Huila, Medellin",
    "Venezuela": "Caracas, Nueva Esparta",
    "Costa Rica": "Guanacaste, Alajuela, Cartago, San Jose",
    "Guatemala": "Antigua, Quetzaltenango, Escuintla",
    "Honduras": "Bay Islands, Tegucigalpa",
    "Turkey": "Anatolia, Cappadocia, Istanbul, Constantinople, Kurdistan, Thrace, Marmara, Aegean, Izmir, Antalya, "
              "Ankara, Trabzon, Kayseri, Bursa, Ottoman",
    "Iran": "Tehran, Khuzestan, Hormozgan, Mazandaran, Gilan, Fars, Isfahan, Tabriz, Azerbaijan, Hamadan",
    "Egypt": "Cairo, Sinai, Aswan, Luxor, Nubia, Alexandria",
    "Morocco": "Marrakesh, Fez, Casablanca",
    "Tanzania": "Zanzibar, Arusha, Dar es Salaam, Kilimanjaro",
    "Kenya": "Nairobi, Mombasa, Rift Valley",
    "South Africa": "Cape Town, Western Cape, Natal, KwaZulu, Transvaal, Johannesburg, Durban, Cape, Gauteng, "
                    "Free State, Limpopo, Mpumalanga, Eastern Cape",
    "Ethiopia": "Amhara, Tigray, Addis Ababa, Gondar",
    "Yemen": "Aden, Hadramaut, Sanaa",
    "United Arab Emirates": "Abu Dhabi, Dubai, Sharjah",
    "Saudi Arabia": "Riyadh, Jeddah, Mecca, Arabia",
    "Israel": "Galilee, Jerusalem, Tel Aviv, Haifa, Negev, Palestine, Judea",
    "Jordan": "Amman, Petra",
    "Switzerland": "Bern, Valais, Graubunden, Ticino, Zurich, Geneva, Lucerne, Vaud, Uri, Schwyz, Appenzell, Engadine, "
                   "St. Moritz, Zermatt, Interlaken, Grindelwald, Basel",
    "Austria": "Tyrol, Salzburg, Vienna, Carinthia, Styria, Vorarlberg, Upper Austria, Lower Austria, Innsbruck",
    "Poland": "Silesia, Pomerania, Masuria, Galicia, Krakow, Warsaw, Tatra, Zakopane",
    "Czech Republic": "Bohemia, Moravia, Prague",
    "Slovakia": "Tatras, Bratislava",
    "Romania": "Transylvania, Wallachia, Moldavia, Bucharest",
    "Bulgaria": "Sofia, Thrace, Rhodope, Pirin",
    "Georgia": "Tbilisi, Svaneti, Abkhazia, Kakheti, Adjara",
    "Armenia": "Yerevan",
    "Hungary": "Budapest",
    "Belgium": "Flanders, Wallonia, Brussels, Antwerp, Liege, Ghent, Flemish",
    "Oman": "Muscat, Dhofar",
    "Lebanon": "Beirut",
    "Senegal": "Dakar, Casamance",
    "Equatorial Guinea": "Malabo",
    "Madagascar": "Antananarivo",
    "Mozambique": "Maputo",
    "Democratic Republic of the Congo": "Kinshasa, Goma, Kivu",
}
# Every country's name: a greedy answer naming another country is a wrong answer even where a region of the target
# starts the same way (Mount Agung -> " Papua New Guinea" is not the Indonesian region Papua).
COUNTRIES = """Afghanistan, Albania, Algeria, Andorra, Angola, Antigua and Barbuda, Argentina, Armenia, Australia, Austria,
Azerbaijan, Bahamas, Bahrain, Bangladesh, Barbados, Belarus, Belgium, Belize, Benin, Bhutan, Bolivia, Bosnia and Herzegovina,
Botswana, Brazil, Brunei, Bulgaria, Burkina Faso, Burundi, Cambodia, Cameroon, Canada, Cape Verde, Central African Republic,
Chad, Chile, China, Colombia, Comoros, Costa Rica, Croatia, Cuba, Cyprus, Czech Republic, Denmark, Djibouti, Dominica,
Dominican Republic, East Timor, Ecuador, Egypt, El Salvador, Equatorial Guinea, Eritrea, Estonia, Eswatini, Ethiopia, Fiji,
Finland, France, Gabon, Gambia, Georgia, Germany, Ghana, Greece, Grenada, Guatemala, Guinea, Guinea-Bissau, Guyana, Haiti,
Honduras, Hungary, Iceland, India, Indonesia, Iran, Iraq, Ireland, Israel, Italy, Ivory Coast, Jamaica, Japan, Jordan,
Kazakhstan, Kenya, Kiribati, Kosovo, Kuwait, Kyrgyzstan, Laos, Latvia, Lebanon, Lesotho, Liberia, Libya, Liechtenstein,
Lithuania, Luxembourg, Madagascar, Malawi, Malaysia, Maldives, Mali, Malta, Marshall Islands, Mauritania, Mauritius, Mexico,
Micronesia, Moldova, Monaco, Mongolia, Montenegro, Morocco, Mozambique, Myanmar, Namibia, Nauru, Nepal, Netherlands,
New Zealand, Nicaragua, Niger, Nigeria, North Korea, North Macedonia, Norway, Oman, Pakistan, Palau, Panama,
Papua New Guinea, Paraguay, Peru, Philippines, Poland, Portugal, Qatar, Romania, Russia, Rwanda, Saint Lucia, Samoa,
San Marino, Saudi Arabia, Senegal, Serbia, Seychelles, Sierra Leone, Singapore, Slovakia, Slovenia, Solomon Islands, Somalia,
South Africa, South Korea, South Sudan, Spain, Sri Lanka, Sudan, Suriname, Sweden, Switzerland, Syria, Taiwan, Tajikistan,
Tanzania, Thailand, Togo, Tonga, Trinidad and Tobago, Tunisia, Turkey, Turkmenistan, Tuvalu, Uganda, Ukraine,
United Arab Emirates, United Kingdom, United States, Uruguay, Uzbekistan, Vanuatu, Vatican City, Venezuela, Vietnam, Yemen,
Zambia, Zimbabwe"""
FUNCTION_WORDS = {"the", "a", "an", "his", "her", "its", "their", "which", "that", "one", "not", "this", "these",
                  "those", "our", "my", "your", "and", "or", "in", "of", "to", "is", "was", "it", "be", "both", "two",
                  "many", "some", "all", "no", "what", "whose", "where", "who", "as", "at", "on", "for", "by", "from",
                  "with", "origin", "birth", "residence", "choice", "interest", "s", "you", "we", "they", "he", "she"}

# Generic prompts written for this file (one clear next word); id generic:fNN.
GENERIC = """
Twenty, thirty, forty,| fifty
3, 6, 9, 12,| 15
Tuesday, Wednesday, Thursday,| Friday
October, November,| December
Friday, Saturday,| Sunday
July, August,| September
Fifth, sixth, seventh,| eighth
Two, four, six,| eight
Half of ten is| five
Twelve divided by four is| three
The sum of two and two is| four
Ten take away three leaves| seven
The opposite of love is| hate
The opposite of full is| empty
The opposite of clean is| dirty
The opposite of loud is| quiet
The opposite of push is| pull
The opposite of always is| never
The opposite of friend is| enemy
The opposite of question is| answer
The opposite of asleep is| awake
The opposite of smooth is| rough
The opposite of cheap is| expensive
The opposite of near is| far
The opposite of ancient is| modern
The opposite of entrance is| exit
The opposite of sunrise is| sunset
The plural of man is| men
The plural of leaf is| leaves
The plural of knife is| knives
The plural of ox is| oxen
The plural of cactus is| cacti
The plural of person is| people
The plural of wolf is| wolves
The colour of coal is| black
The colour of milk is| white
The colour of a ripe tomato is| red
Ducks go| quack
A horse makes a sound called a| neigh
Old MacDonald had a| farm
Better late than| never
Practice makes| perfect
A penny saved is a penny| earned
Birds of a feather flock| together
Every cloud has a silver| lining
The pen is mightier than the| sword
Two heads are better than| one
Don't count your chickens before they| hatch
All that glitters is not| gold
Rome wasn't built in a| day
Kill two birds with one| stone
It's raining cats and| dogs
Look before you| leap
Honesty is the best| policy
Beauty is in the eye of the| beholder
No pain, no| gain
Out of sight, out of| mind
A picture is worth a thousand| words
Easy come, easy| go
Slow and steady wins the| race
Once in a blue| moon
Water is made of hydrogen and| oxygen
The tallest animal in the world is the| giraffe
The fastest land animal is the| cheetah
A spider spins a| web
Snow White and the Seven| Dwarfs
The Lion, the Witch and the| Wardrobe
Alice in| Wonderland
Little Red Riding| Hood
Goldilocks and the Three| Bears
Mary had a little| lamb
Row, row, row your| boat
Baa, baa, black| sheep
Happy birthday to| you
Neil Armstrong was the first man on the| Moon
The Mona Lisa was painted by Leonardo da| Vinci
Albert Einstein developed the theory of| relativity
The Titanic hit an| iceberg
You brush your teeth with a| toothbrush
We hear with our| ears
A clock tells the| time
Cinderella lost her glass| slipper
Hansel and| Gretel
Beauty and the| Beast
Bread and| butter
Thunder and| lightning
Pros and| cons
Trial and| error
Sooner or| later
Back and| forth
Knife, fork and| spoon
Head, shoulders, knees and| toes
The month after January is| February
The last month of the year is| December
Halloween is in| October
The Great Wall of| China
The Leaning Tower of| Pisa
London Bridge is falling| down
A stitch in time saves| nine
Where there's a will, there's a| way
The apple doesn't fall far from the| tree
When life gives you lemons, make| lemonade
Hit the nail on the| head
The whole nine| yards
Cool as a| cucumber
Busy as a| bee
Sleep tight, don't let the bed bugs| bite
Humpty Dumpty had a great| fall
Little Miss Muffet sat on a| tuffet
Hey diddle diddle, the cat and the| fiddle
The itsy bitsy spider went up the water| spout
Pop goes the| weasel
Three blind| mice
Hickory dickory| dock
Silent night, holy| night
We wish you a merry| Christmas
The land of the free and the home of the| brave
I think, therefore I| am
Houston, we have a| problem
May the Force be with| you
Elementary, my dear| Watson
To infinity and| beyond
Life is like a box of| chocolates
Queen Elizabeth II was the queen of the United| Kingdom
The first man to walk on the moon was Neil| Armstrong
World War II ended in| 1945
The Declaration of Independence was signed in| 1776
Pride and| Prejudice
War and| Peace
Crime and| Punishment
Sense and| Sensibility
The Lord of the| Rings
The Hunger| Games
Game of| Thrones
Harry Potter and the Chamber of| Secrets
The Wizard of| Oz
Pirates of the| Caribbean
Winnie the| Pooh
Sherlock| Holmes
Vincent van| Gogh
Wolfgang Amadeus| Mozart
Ludwig van| Beethoven
Martin Luther King said, "I have a| dream
New York City is also called the Big| Apple
Hollywood is in Los| Angeles
Do, re, mi, fa, so, la,| ti
North, south, east and| west
Breakfast, lunch and| dinner
Rock, paper,| scissors
Ready, set,| go
Lights, camera,| action
Hide and| seek
Cookies and| cream
Macaroni and| cheese
Bow and| arrow
Needle and| thread
Lock and| key
Cause and| effect
Supply and| demand
Tried and| true
Safe and| sound
Bits and| pieces
Short and| sweet
Live and| learn
Apples and| oranges
Honey is made by| bees
Penguins are birds that cannot| fly
The Sahara is a large| desert
A baby frog is called a| tadpole
A butterfly starts life as a| caterpillar
Alexander Graham Bell invented the| telephone
Johannes Gutenberg invented the printing| press
Charles Darwin is famous for the theory of| evolution
A thermometer measures| temperature
Plants take in carbon dioxide and give out| oxygen
Diamonds are made of| carbon
A kangaroo carries its baby in a| pouch
Zebras have black and white| stripes
Owls hunt at| night
A library is a place where you can borrow| books
A dentist takes care of your| teeth
A firefighter puts out| fires
A baker makes| bread
You wear shoes on your| feet
You wear a hat on your| head
We smell with our| nose
Cheese is made from| milk
Wine is made from| grapes
The Titanic sank in| 1912
The First World War began in| 1914
The Berlin Wall fell in| 1989
The author of Harry Potter is J.K.| Rowling
Michael Jordan played| basketball
Tiger Woods is famous for playing| golf
Roger Federer is famous for playing| tennis
In chess, the most important piece is the| king
A year has four| seasons
A piano has black and white| keys
A fortnight is two| weeks
Humans breathe in oxygen and breathe out carbon| dioxide
The Sun is a| star
The red planet is| Mars
The planet famous for its rings is| Saturn
The closest planet to the Sun is| Mercury
The king of the jungle is the| lion
A male chicken is called a| rooster
Santa Claus comes down the| chimney
The tooth fairy leaves money under your| pillow
New Year's Day is on the first of| January
Independence Day in the United States is on the fourth of| July
The president of the United States lives in the White| House
The Titanic was a famous| ship
Snakes shed their| skin
Bees live in a| hive
Birds build| nests
Rabbits love to eat| carrots
Monkeys love to eat| bananas
"""


def parse(spec: str) -> dict[str, str]:
    out = {}
    for item in spec.replace("\n", " ").split(";"):
        if item.strip():
            subject, _, country = item.strip().partition("|")
            out[subject.strip()] = country.strip()
    return out


def words(spec: str) -> list[str]:
    return [w.strip() for w in spec.split(",") if w.strip()]


def fact(relation: str, subject: str, country: str) -> dict:
    """A candidate fact: prompt and two paraphrases from the relation's templates, target with a leading space."""
    cap = subject[0].upper() + subject[1:]
    prompt, para1, para2 = TEMPLATES[relation]
    alt = ALT.get(relation)
    if alt and any(w in subject for w in alt[1]):
        para1 = alt[0]
    prompt, para1, para2 = (t.format(S=cap, s=subject) for t in (prompt, para1, para2))
    return {"prompt": prompt, "target": " " + country, "paraphrases": [para1, para2], "id": f"{relation}:{subject}"}


# --- the held-out rule -------------------------------------------------------------------------------------------

def seen_files() -> list[Path]:
    files = [p for d in ("patchkit/data", "bench/tune", "bench/heldout") for p in Path(d).rglob("*") if p.is_file()]
    files += sorted(Path("bench").glob("*.jsonl"))
    return [p for p in files if "__pycache__" not in p.parts]


def seen_prompts(files: list[Path]) -> set[str]:
    """Every prompt, paraphrase and preserve text of the JSON lines files the project already has."""
    out = set()
    for p in files:
        if p.suffix != ".jsonl":
            continue
        for line in p.read_text(errors="ignore").splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(r, dict):
                out.update(x for x in [r.get("prompt"), r.get("text"), *r.get("paraphrases", [])] if isinstance(x, str))
    return out


def occurs(subject: str, text: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(subject.lower()) + r"(?!\w)", text) is not None


def held_out(pool: list[dict], text: str, prompts: set[str]) -> list[dict]:
    """Drop candidates whose subject the project has seen, that give their answer away, or repeat a prompt."""
    keep, dropped = [], {"seen": [], "answer in name": [], "prompt seen": []}
    for f in pool:
        subject = f["id"].partition(":")[2]
        country = f["target"].strip()
        give_away = [country] + words(SAME.get(country, ""))
        if occurs(subject, text):
            dropped["seen"].append(f["id"])
        elif any(re.search(r"(?<!\w)" + re.escape(w.lower()), subject.lower()) for w in give_away):
            dropped["answer in name"].append(f["id"])
        elif {f["prompt"], *f.get("paraphrases", [])} & prompts:
            dropped["prompt seen"].append(f["id"])
        else:
            keep.append(f)
    for why, ids in dropped.items():
        print(f"held-out rule: dropped {len(ids)} ({why}){': ' + ', '.join(ids) if ids else ''}")
    return keep


def generic_pool(prompts: set[str], generic: str | None = None, ids: str = "generic:f{:02d}") -> list[dict]:
    """The generic prompts (``generic``, "prompt|target" lines; this file's GENERIC by default), less any that equals or
    nearly equals a prompt the project has (printed); ``ids`` formats each kept prompt's id from its line number."""
    def norm(s: str) -> str:
        return " ".join(re.sub(r"[^a-z0-9 ]", " ", s.lower()).split())

    known = [norm(p) for p in prompts]
    pool, dropped, similar = [], [], []
    for k, line in enumerate(x for x in (GENERIC if generic is None else generic).strip().splitlines() if x.strip()):
        prompt, _, target = line.partition("|")
        n = norm(prompt)
        # near-equal: the same words once case and punctuation are ignored, or one inside the other
        near = [q for q in known
                if q == n or min(len(q), len(n)) >= 10 and (f" {n} " in f" {q} " or f" {q} " in f" {n} ")]
        if near:
            dropped.append(f"{prompt!r} ~ {near[0]!r}")
            continue
        # printed for the record, kept: same frame, another question ("The opposite of love is" ~ "... open is")
        similar += [f"{prompt!r} ~ {q!r}" for q in known if difflib.SequenceMatcher(None, q, n).ratio() > 0.93]
        pool.append({"prompt": prompt, "target": target, "id": ids.format(k)})
    print(f"generic: {len(pool)} candidates, dropped {len(dropped)} as (near) duplicates: {dropped}")
    print(f"generic: similar but another question (kept): {similar}")
    return pool


# --- scoring ------------------------------------------------------------------------------------------------------

@torch.no_grad()
def score(model, tok, facts: list[dict], batch: int = 16) -> list[dict]:
    """The tool's rule per fact: teacher-forced right/wrong, and rank/gap/greedy token of the target's first token.

    Rank and gap come from the prompt alone, batched by token length (no padding, so no near tie moves).
    """
    ok = evals.score_facts(model, tok, [evals.Fact(f["prompt"], f["target"]) for f in facts], batch=batch)
    ids = [tok(f["prompt"]).input_ids for f in facts]
    first = [continuation_ids(tok, f["prompt"], f["target"])[0] for f in facts]
    by_len: dict[int, list[int]] = {}
    for i, x in enumerate(ids):
        by_len.setdefault(len(x), []).append(i)
    out: list[dict] = [{} for _ in facts]
    for _, idx in sorted(by_len.items()):
        for k in range(0, len(idx), batch):
            chunk = idx[k:k + batch]
            logits = model(torch.tensor([ids[i] for i in chunk]), use_cache=False).logits[:, -1].float()
            for row, i in enumerate(chunk):
                lg, t = logits[row], first[i]
                other = lg.clone()
                other[t] = float("-inf")
                out[i] = {"right": ok[i][0], "rank": int((lg > lg[t]).sum()) + 1, "gap": float(lg[t] - other.max()),
                          "top": tok.decode([int(lg.argmax())])}
    return out


@torch.no_grad()
def greedy_text(model, tok, prompt: str, n: int = 5) -> str:
    ids = tok(prompt).input_ids
    start = len(ids)
    for _ in range(n):
        ids.append(int(model(torch.tensor([ids]), use_cache=False).logits[0, -1].argmax()))
    return tok.decode(ids[start:])


def starts_with(text: str, name: str) -> bool:
    t, n = text.strip().lower(), name.lower()
    if t.startswith(n):
        return len(t) == len(n) or not t[len(n)].isalnum()
    return len(t) >= 4 and n.startswith(t)


def places_in(country: str) -> list[str]:
    """Regions/cities of REGIONS plus this file's islands and mountains of that country (Kythira -> " Santorini")."""
    ours = [s for rel in ("island_country", "mountain_country")
            for s, c in parse(SUBJECTS[rel]).items() if c == country]
    return words(REGIONS.get(country, "")) + ours


def why_not_near(top: str, text: str, target: str, subject: str = "") -> str | None:
    """Why a wrong rank-2..5 answer is not a genuine wrong answer (None = it is a near miss)."""
    word = top.strip()
    country = target.strip()
    if not any(c.isalpha() for c in word) or word.lower() in FUNCTION_WORDS:
        return "function word"
    if subject and starts_with(text, subject):
        return "repeats the subject"
    if starts_with(text, country) or word in country.split() or country.startswith(word):
        return "piece of target"
    if any(starts_with(text, w) for w in words(SAME.get(country, ""))):
        return "same country (adjective/other name)"
    if any(starts_with(text, c) for c in words(COUNTRIES.replace("\n", " ")) if c != country):
        return None  # another country: a wrong answer
    if any(starts_with(text, w) for w in places_in(country)):
        return "region/city of target"
    return None


def note(f: dict, s: dict) -> str:
    return f"relation={f['id'].split(':')[0]} rank={s['rank']} gap={s['gap']:.2f} top={s['top']!r}"


# --- picks and files ----------------------------------------------------------------------------------------------

def by_relation(rows: list[dict], rng: random.Random) -> dict[str, list[dict]]:
    """Rows grouped by relation, each group sorted by id and then shuffled (relations in sorted order)."""
    out: dict[str, list[dict]] = {}
    for r in sorted(rows, key=lambda r: r["id"]):
        out.setdefault(r["id"].split(":")[0], []).append(r)
    for rel in sorted(out):
        rng.shuffle(out[rel])
    return dict(sorted(out.items()))


def even_quota(sizes: dict[str, int], total: int) -> dict[str, int]:
    """Split `total` as evenly as possible over relations, none more than it has (water-filling)."""
    quota = {r: 0 for r in sizes}
    while sum(quota.values()) < min(total, sum(sizes.values())):
        for r in sorted(sizes, key=lambda r: (quota[r], r)):
            if quota[r] < sizes[r]:
                quota[r] += 1
                break
    return quota


def build(prefix: str, name: str, pool: list[dict], gen_pool: list[dict]) -> dict[str, int]:
    print(f"\n=== {prefix} ({name}) ===")
    model, tok = models.load_model(name)
    scores = score(model, tok, pool)
    near, right, excluded = [], [], {}
    for f, s in zip(pool, scores):
        f = dict(f, note=note(f, s))
        if s["right"] and s["rank"] == 1:
            right.append(f)
        elif not s["right"] and 2 <= s["rank"] <= 5:
            text = greedy_text(model, tok, f["prompt"])
            why = why_not_near(s["top"], text, f["target"], f["id"].partition(":")[2])
            if why is None:
                near.append(f)
                f["_greedy"] = text
            else:
                excluded.setdefault(why, []).append(f"{f['id']}->{text.strip()[:25]!r}")
    gen_scores = score(model, tok, gen_pool)
    generic = [dict(g, note=f"relation=generic rank={s['rank']} gap={s['gap']:.2f} top={s['top']!r}")
               for g, s in zip(gen_pool, gen_scores) if s["right"] and s["rank"] == 1]
    rels = list(TEMPLATES)
    count = lambda rows: {r: sum(x["id"].startswith(r + ":") for x in rows) for r in rels}  # noqa: E731
    print(f"candidates {len(pool)} {count(pool)}")
    print(f"near misses {len(near)} {count(near)}")
    print(f"right {len(right)} {count(right)}; generic right {len(generic)}/{len(gen_pool)}")
    for why, ids in excluded.items():
        print(f"not a near miss ({why}): {len(ids)}: {'; '.join(ids)}")
    for f in near:
        print("  near:", f["id"], "|", f["note"], "| greedy", repr(f.pop("_greedy")[:30]))
    print("generic wrong:", [(g["prompt"], g["target"], s["top"], s["rank"]) for g, s in zip(gen_pool, gen_scores)
                             if not (s["right"] and s["rank"] == 1)])

    rng = random.Random(SEED)
    near_by = by_relation(near, rng)
    right_by = by_relation(right, rng)
    gen = sorted(generic, key=lambda g: g["id"])
    rng.shuffle(gen)
    # near8: two of each of the four relations (in turn from the others where one has fewer than two)
    quota8 = even_quota({r: len(near_by.get(r, [])) for r in rels}, 8)
    near8 = [f for r in rels for f in near_by.get(r, [])[:quota8[r]]]
    if len(near) >= 50:
        quota50 = even_quota({r: len(v) for r, v in near_by.items()}, 56)
        near50 = [f for r in near_by for f in near_by[r][:max(quota50[r], quota8.get(r, 0))]]
    else:
        near50 = [f for r in near_by for f in near_by[r]]
    rel8 = [r for r in rels if quota8[r]]
    guards_f = [f for r in rel8 for f in right_by.get(r, [])[:12]]
    guard_ids = {f["id"] for f in guards_f}
    guards = guards_f + [g for g in gen[:20]]
    out = {
        "near_all": sorted(near, key=lambda f: f["id"]),
        "near8": near8,
        "near50": near50,
        "guards8": guards,
        "right": sorted((f for f in right if f["id"] not in guard_ids), key=lambda f: f["id"]),
        "generic": sorted(gen[20:], key=lambda g: g["id"]),
    }
    assert not {f["id"] for f in near8} - {f["id"] for f in near50}
    assert not guard_ids & {f["id"] for f in near}
    for fname, rows in out.items():
        path = OUT / f"{prefix}_{fname}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        n_generic = sum(r["id"].startswith("generic") for r in rows)
        print(f"wrote {path}: {len(rows)} {count(rows)}"
              + (f" + generic {n_generic}" if fname in ("guards8", "generic") else ""))
    print("near8:", [(f["id"], f["note"]) for f in near8])
    return verify(prefix, model, tok, list(out))


def verify(prefix: str, model, tok, names: list[str], folder: Path | None = None,
           lead: float | None = None) -> dict[str, int]:
    """Re-score every written file (in ``folder``, default this set's) from its own prompt/target: near = wrong at
    rank 2..5, the rest right (and, with ``lead``, ahead of the runner-up by at least that)."""
    folder = folder or OUT
    counts, bad, prompts = {}, [], []
    for fname in names:
        rows = [json.loads(x) for x in (folder / f"{prefix}_{fname}.jsonl").read_text().splitlines()]
        evals.load_facts(folder / f"{prefix}_{fname}.jsonl") if rows else None  # schema check
        counts[fname] = len(rows)
        for r, s in zip(rows, score(model, tok, rows)):
            if fname.startswith("near"):
                good = not s["right"] and 2 <= s["rank"] <= 5
            else:
                good = s["right"] and s["rank"] == 1 and (lead is None or s["gap"] >= lead)
            if not good:
                bad.append((fname, r["id"], s))
        if fname in ("near_all", "guards8", "right", "generic"):
            prompts += [r["prompt"] for r in rows]
    # the base model on near50's paraphrases (before any edit; context for the paraphrase figure of a repair)
    rows = [json.loads(x) for x in (folder / f"{prefix}_near50.jsonl").read_text().splitlines()]
    paras = [{"prompt": q, "target": r["target"]} for r in rows for q in r["paraphrases"]]
    ps = score(model, tok, paras)
    print(f"{prefix}: near50's {len(paras)} paraphrases before any edit: {sum(s['right'] for s in ps)} right, "
          f"{sum(not s['right'] and 2 <= s['rank'] <= 5 for s in ps)} wrong at rank 2..5, "
          f"{sum(not s['right'] and s['rank'] > 5 for s in ps)} rank > 5")
    dup = len(prompts) - len(set(prompts))
    print(f"{prefix}: re-scored {sum(counts.values())} rows: {len(bad)} exceptions, {dup} duplicate prompts "
          f"across near_all/guards8/right/generic {bad if bad else ''}")
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=list(MODELS), action="append", help="only this model (default: both)")
    args = ap.parse_args()
    files = seen_files()
    text = "\n".join(p.read_text(errors="ignore") for p in files).lower()
    prompts = seen_prompts(files)
    print(f"held-out rule: {len(files)} files, {len(prompts)} existing prompts")
    pool = [fact(rel, s, c) for rel, spec in SUBJECTS.items() for s, c in parse(spec).items()]
    print(f"candidates written: {len(pool)}")
    pool = held_out(pool, text, prompts)
    gen_pool = generic_pool(prompts)
    torch.manual_seed(0)
    summary = {m: build(m, MODELS[m], pool, gen_pool) for m in (args.model or list(MODELS))}
    print("\nsummary:", json.dumps(summary))


if __name__ == "__main__":
    main()
