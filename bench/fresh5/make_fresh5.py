"""Build a FIFTH set of fresh held-out evaluation sets (`bench/fresh5/`) for SmolLM2-135M-Instruct and Gemma 3 270M.

Modelled on `bench/fresh4/make_fresh4.py` and built BY it: this script imports make_fresh4 (which imports
bench/fresh2/make_fresh2.py, which imports bench/fresh/make_fresh.py), points make_fresh4's module tables (OUT, SEED,
SELF, EARLIER, TEMPLATES, KIND, ALT, SUBJECTS, SAME, REGIONS, GENERIC, why_not_near) at this file's and runs
make_fresh4's `main`, which in turn points make_fresh2's globals at them and calls make_fresh2's `fact`, `held_out`,
`build` and `verify`. Nothing of make_fresh4 or make_fresh2 is copied; this file supplies only new data -- four
relations the project has never used (person -> city of death, city -> island, city -> sea it lies on,
landmark -> architect), their subjects, the targets' other names and regions, new generic prompts -- and two
additions to the near-miss filter (below). Same schema, `note`, scoring rule, lead (>= 0.3 for right/guard/generic
rows), near-miss filter and held-out rule as bench/fresh4; bench/fresh4 is added to the EARLIER sets whose subjects
no row, generic prompt, text, script or README of this set may name.

As in fresh4, every relation's prompt template (and both paraphrases) names the KIND of its subject in its own words
("{S} died in ...", "The city of {S} ...", "The landmark {S} ..."), so that
`patchkit.selection.known_kind([subject], template)` knows the kind of these held-out subjects without the embedding
guess; asserted for every candidate and for every written near-miss row.

Near-miss filter: make_fresh4's (make_fresh2's, plus: a country is no answer of the asked kind, nor an answer that has
not named anything yet), plus here: a greedy answer whose first word only announces the answer (" architect ...",
" famous ...", " coast of ...") has named nothing yet either, and the target after a title (" Sir Christopher Wren")
is the right answer; a sea's larger body or its gulfs (Adriatic -> Mediterranean, Gulf of Trieste) are regions of the
target, as in make_fresh2's REGIONS.

Picks (near8, near50, guards) are random (seed 25) within relations, never by how an edit does.

Run from the repository root: `python bench/fresh5/make_fresh5.py` (both models; `--model smollm2` for one; `--dry`
applies the held-out rule only, no model).
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "make_fresh4", Path(__file__).resolve().parents[1] / "fresh4" / "make_fresh4.py")
mf4 = importlib.util.module_from_spec(_spec)
sys.modules["make_fresh4"] = mf4
_spec.loader.exec_module(mf4)
mf2 = mf4.mf2  # bench/fresh2/make_fresh2.py, as make_fresh4 loaded it
words = mf4.words

OUT = Path("bench/fresh5")
SEED = 25
SELF = ("bench/fresh5/", "tests/test_fresh5_heldout.py")  # the only files allowed to name this set's subjects
EARLIER = ("bench/fresh", "bench/fresh2", "bench/fresh3", "bench/fresh4")  # no file of this set names their subjects

# relation: (prompt, paraphrase 1, paraphrase 2); {S} = subject with a capital first letter. Each names its subject's
# kind in words `patchkit.selection.template_kind` reads ("died" -> person, "city" -> city,
# "landmark"/"monument" -> landmark).
TEMPLATES = {
    "death_city": ("{S} died in the city of", "{S} died in a city called",
                   "The city where the person {S} died is"),
    "city_island": ("The city of {S} is on the island of", "{S} is a city on the island of",
                    "The city of {S} lies on the island of"),
    "city_sea": ("The city of {S} lies on the coast of the", "{S} is a city on the coast of the",
                 "The city of {S} is a port on the"),
    "landmark_architect": ("The landmark {S} was designed by the architect",
                           "{S} is a landmark designed by the architect",
                           "The monument {S} was designed by the architect"),
}
KIND = {"death_city": "person", "city_island": "city", "city_sea": "city", "landmark_architect": "landmark"}
ALT = {rel: (t[1], ()) for rel, t in TEMPLATES.items()}  # no replacement of paraphrase 1

# Subjects written for this file (well known, one answer), "subject|answer; ...". No subject is in two relations.
SUBJECTS = {
    "death_city": """
Frédéric Chopin|Paris; Jim Morrison|Paris; Honoré de Balzac|Paris; Émile Zola|Paris; Guy de Maupassant|Paris;
Charles Baudelaire|Paris; Stendhal|Paris; Edgar Degas|Paris; Georges Seurat|Paris; Camille Pissarro|Paris;
Édouard Manet|Paris; Eugène Delacroix|Paris; Erik Satie|Paris; Simone de Beauvoir|Paris; Paul Verlaine|Paris;
Alphonse Daudet|Paris; Jules Massenet|Paris; Josephine Baker|Paris; Maria Callas|Paris; César Franck|Paris;
Gabriel Fauré|Paris; Antoine Lavoisier|Paris; Amedeo Modigliani|Paris; Maximilien Robespierre|Paris;
Arthur Rimbaud|Marseille; Henri Matisse|Nice; Nostradamus|Salon-de-Provence; Jacques-Louis David|Brussels;
Francisco Goya|Bordeaux; Camille Saint-Saëns|Algiers; Gustav Klimt|Vienna; Egon Schiele|Vienna; Gustav Mahler|Vienna;
Joseph Haydn|Vienna; Antonio Salieri|Vienna; Anton Bruckner|Vienna; Christoph Willibald Gluck|Vienna;
Erwin Schrödinger|Vienna; Friedrich Nietzsche|Weimar; Johann Gottfried Herder|Weimar; Franz Liszt|Bayreuth;
Carl Maria von Weber|London; Georg Philipp Telemann|Hamburg; Theodor Fontane|Berlin; Max Liebermann|Berlin;
Rosa Luxemburg|Berlin; Gustav Stresemann|Berlin; Mikhail Glinka|Berlin; Frederick the Great|Potsdam;
Kurt Tucholsky|Gothenburg; Werner Heisenberg|Munich; David Hilbert|Göttingen; Robert Koch|Baden-Baden;
Wolfgang Pauli|Zurich; Giuseppe Verdi|Milan; Alessandro Manzoni|Milan; Gaetano Donizetti|Bergamo; Titian|Venice;
Tintoretto|Venice; Claudio Monteverdi|Venice; Ezra Pound|Venice; Robert Browning|Venice; Sergei Diaghilev|Venice;
John Keats|Rome; Gian Lorenzo Bernini|Rome; Francesco Borromini|Rome; Ottorino Respighi|Rome; Alberto Moravia|Rome;
Torquato Tasso|Rome; Luigi Pirandello|Rome; Girolamo Savonarola|Florence; Donatello|Florence;
Filippo Brunelleschi|Florence; Giorgio Vasari|Florence; Benvenuto Cellini|Florence; Enrico Caruso|Naples;
Italo Calvino|Siena; William Blake|London; John Constable|London; J. M. W. Turner|London;
Thomas Gainsborough|London; Joshua Reynolds|London; Samuel Johnson|London; John Milton|London;
Geoffrey Chaucer|London; Henry Purcell|London; George Eliot|London; Emmeline Pankhurst|London;
Florence Nightingale|London; Winston Churchill|London; Anne Boleyn|London; Guy Fawkes|London; Judy Garland|London;
Anthony van Dyck|London; Vaslav Nijinsky|London; Jane Austen|Winchester; Edward Elgar|Worcester;
Thomas Hardy|Dorchester; Lewis Carroll|Guildford; Robert Burns|Dumfries; James Clerk Maxwell|Cambridge;
Ernest Rutherford|Cambridge; Nikolai Gogol|Moscow; Mikhail Bulgakov|Moscow; Sergei Prokofiev|Moscow;
Vladimir Mayakovsky|Moscow; Modest Mussorgsky|Saint Petersburg; Peter the Great|Saint Petersburg;
Catherine the Great|Saint Petersburg; Grigori Rasputin|Saint Petersburg; Dmitri Mendeleev|Saint Petersburg;
Leonhard Euler|Saint Petersburg; Alexander Borodin|Saint Petersburg; Ivan Pavlov|Saint Petersburg;
Leon Trotsky|Mexico City; Francisco I. Madero|Mexico City; Eva Perón|Buenos Aires; Carlos Gardel|Medellín;
José de San Martín|Boulogne-sur-Mer; Bernardo O'Higgins|Lima; Rubén Darío|León; Manuel de Falla|Alta Gracia;
El Greco|Toledo; Baruch Spinoza|The Hague; Anna Pavlova|The Hague; Frans Hals|Haarlem; Peter Paul Rubens|Antwerp;
Pieter Bruegel the Elder|Brussels; Jan van Eyck|Bruges; Hans Memling|Bruges; Edvard Munch|Oslo;
Carl Linnaeus|Uppsala; Emanuel Swedenborg|London; Carl Nielsen|Copenhagen; Tycho Brahe|Prague; Antonín Dvořák|Prague;
Leoš Janáček|Ostrava; Gregor Mendel|Brno; Béla Bartók|New York; Kurt Weill|New York; Igor Stravinsky|New York;
Scott Joplin|New York; Duke Ellington|New York; Charlie Parker|New York; Billie Holiday|New York; Babe Ruth|New York;
Lou Gehrig|New York; Alexander Hamilton|New York; Arnold Schoenberg|Los Angeles; George Gershwin|Los Angeles;
Sam Cooke|Los Angeles; Marvin Gaye|Los Angeles; George Harrison|Los Angeles; Robert F. Kennedy|Los Angeles;
John F. Kennedy|Dallas; Bob Marley|Miami; Tupac Shakur|Las Vegas; Harvey Milk|San Francisco;
Georgia O'Keeffe|Santa Fe; Henry David Thoreau|Concord; Ralph Waldo Emerson|Concord; Louisa May Alcott|Boston;
Wild Bill Hickok|Deadwood; Buffalo Bill|Denver; Harriet Tubman|Auburn; Rumi|Konya; Omar Khayyam|Nishapur;
Avicenna|Hamadan; Saladin|Damascus; Indira Gandhi|New Delhi; Mother Teresa|Kolkata; Sarojini Naidu|Lucknow;
Mirza Ghalib|Delhi; Bahadur Shah Zafar|Rangoon; Akbar|Agra; Shah Jahan|Agra; Babur|Agra; Ho Chi Minh|Hanoi;
Sun Yat-sen|Beijing; Mao Zedong|Beijing; Lu Xun|Shanghai; Puyi|Beijing; Yukio Mishima|Tokyo; Oda Nobunaga|Kyoto;
Nelson Mandela|Johannesburg; Steve Biko|Pretoria; Haile Selassie|Addis Ababa; Anwar Sadat|Cairo;
Umm Kulthum|Cairo; Menachem Begin|Jerusalem; Yitzhak Rabin|Tel Aviv
""",
    "city_island": """
Palermo|Sicily; Catania|Sicily; Messina|Sicily; Marsala|Sicily; Trapani|Sicily; Agrigento|Sicily; Taormina|Sicily;
Cefalù|Sicily; Cagliari|Sardinia; Sassari|Sardinia; Olbia|Sardinia; Alghero|Sardinia; Nuoro|Sardinia;
Oristano|Sardinia; Bastia|Corsica; Porto-Vecchio|Corsica; Bonifacio|Corsica; Calvi|Corsica; Heraklion|Crete;
Chania|Crete; Rethymno|Crete; Mytilene|Lesbos; Fira|Santorini; Ciutadella|Menorca; Las Palmas|Gran Canaria;
Puerto de la Cruz|Tenerife; Ponta Delgada|São Miguel; Denpasar|Bali; Ubud|Bali; Surabaya|Java; Bandung|Java;
Yogyakarta|Java; Semarang|Java; Malang|Java; Bogor|Java; Cirebon|Java; Surakarta|Java; Medan|Sumatra;
Padang|Sumatra; Banda Aceh|Sumatra; Pekanbaru|Sumatra; Bukittinggi|Sumatra; Bandar Lampung|Sumatra;
Mataram|Lombok; Kupang|Timor; Jayapura|New Guinea; Port Moresby|New Guinea; Lae|New Guinea; Kuching|Borneo;
Kota Kinabalu|Borneo; Sandakan|Borneo; Miri|Borneo; Bandar Seri Begawan|Borneo; Balikpapan|Borneo;
Samarinda|Borneo; Banjarmasin|Borneo; Pontianak|Borneo; Sapporo|Hokkaido; Hakodate|Hokkaido; Asahikawa|Hokkaido;
Otaru|Hokkaido; Fukuoka|Kyushu; Nagasaki|Kyushu; Kagoshima|Kyushu; Kumamoto|Kyushu; Oita|Kyushu; Matsuyama|Shikoku;
Takamatsu|Shikoku; Tokushima|Shikoku; Naha|Okinawa; Haikou|Hainan; Sanya|Hainan; Davao|Mindanao;
Zamboanga|Mindanao; Cagayan de Oro|Mindanao; Iloilo|Panay; Bacolod|Negros; Tacloban|Leyte; Baguio|Luzon;
Quezon City|Luzon; Puerto Princesa|Palawan; Kahului|Maui; Lahaina|Maui; Lihue|Kauai; Edgartown|Martha's Vineyard;
Nanaimo|Vancouver Island; Corner Brook|Newfoundland; Gander|Newfoundland; Santo Domingo|Hispaniola;
Port-au-Prince|Hispaniola; Cap-Haïtien|Hispaniola; Punta Cana|Hispaniola; Ponce|Puerto Rico;
Mayagüez|Puerto Rico; Stone Town|Zanzibar; Malabo|Bioko; Papeete|Tahiti; Suva|Viti Levu;
Nadi|Viti Levu; Apia|Upolu; Nuku'alofa|Tongatapu; Honiara|Guadalcanal; Port Vila|Efate; Hagåtña|Guam;
Auckland|North Island; Wellington|North Island; Rotorua|North Island; Napier|North Island; Christchurch|South Island;
Dunedin|South Island; Queenstown|South Island; Invercargill|South Island; Devonport|Tasmania; Burnie|Tasmania;
Portree|Skye; Stornoway|Lewis; Tobermory|Mull; Beaumaris|Anglesey; Llangefni|Anglesey; St Helier|Jersey;
St Peter Port|Guernsey; Visby|Gotland; Rønne|Bornholm; Svendborg|Funen; Nyborg|Funen; Roskilde|Zealand;
Helsingør|Zealand; Sassnitz|Rügen; Westerland|Sylt; Mariehamn|Åland; Tórshavn|Streymoy
""",
    "city_sea": """
Split|Adriatic; Rijeka|Adriatic; Zadar|Adriatic; Šibenik|Adriatic; Dubrovnik|Adriatic; Pula|Adriatic; Bari|Adriatic;
Ancona|Adriatic; Pescara|Adriatic; Rimini|Adriatic; Trieste|Adriatic; Brindisi|Adriatic; Durrës|Adriatic;
Koper|Adriatic; Termoli|Adriatic; Makarska|Adriatic; Gdańsk|Baltic; Gdynia|Baltic; Sopot|Baltic; Rostock|Baltic;
Kiel|Baltic; Klaipėda|Baltic; Liepāja|Baltic; Ventspils|Baltic; Tallinn|Baltic; Turku|Baltic; Kaliningrad|Baltic;
Karlskrona|Baltic; Kalmar|Baltic; Stralsund|Baltic; Wismar|Baltic; Kołobrzeg|Baltic; Pärnu|Baltic; Palanga|Baltic;
Varna|Black Sea; Burgas|Black Sea; Constanța|Black Sea; Odesa|Black Sea; Batumi|Black Sea; Sochi|Black Sea;
Novorossiysk|Black Sea; Trabzon|Black Sea; Samsun|Black Sea; Sinop|Black Sea; Yalta|Black Sea; Sevastopol|Black Sea;
Mangalia|Black Sea; Poti|Black Sea; Sukhumi|Black Sea; Anapa|Black Sea; Aberdeen|North Sea; Esbjerg|North Sea;
Cuxhaven|North Sea; Scheveningen|North Sea; Ostend|North Sea; Zeebrugge|North Sea; Great Yarmouth|North Sea;
Whitby|North Sea; Hartlepool|North Sea; Den Helder|North Sea;
Lowestoft|North Sea; Jeddah|Red Sea; Eilat|Red Sea; Aqaba|Red Sea; Port Sudan|Red Sea; Hurghada|Red Sea;
Sharm El Sheikh|Red Sea; Massawa|Red Sea; Yanbu|Red Sea; Marsa Alam|Red Sea; Santa Marta|Caribbean;
Playa del Carmen|Caribbean; Puerto Limón|Caribbean; Willemstad|Caribbean; Montego Bay|Caribbean;
Ocho Rios|Caribbean; Belize City|Caribbean; Bluefields|Caribbean; Baku|Caspian; Aktau|Caspian; Makhachkala|Caspian;
Derbent|Caspian; Türkmenbaşy|Caspian; Bandar Anzali|Caspian; Izmir|Aegean; Bodrum|Aegean; Kavala|Aegean;
Volos|Aegean; Alexandroupoli|Aegean; Çeşme|Aegean; Kuşadası|Aegean; Taranto|Ionian; Crotone|Ionian;
Sarandë|Ionian; Salerno|Tyrrhenian; Amalfi|Tyrrhenian; Sorrento|Tyrrhenian; Positano|Tyrrhenian;
Civitavecchia|Tyrrhenian; Anzio|Tyrrhenian; Gaeta|Tyrrhenian; Tropea|Tyrrhenian; La Spezia|Ligurian;
Sanremo|Ligurian; Savona|Ligurian; Portofino|Ligurian; Rapallo|Ligurian; Imperia|Ligurian; Karachi|Arabian Sea;
Gwadar|Arabian Sea; Salalah|Arabian Sea; Dalian|Yellow Sea; Incheon|Yellow Sea; Yantai|Yellow Sea;
Weihai|Yellow Sea; Vladivostok|Sea of Japan; Niigata|Sea of Japan; Nakhodka|Sea of Japan; Sokcho|Sea of Japan;
Wonsan|Sea of Japan; Da Nang|South China Sea; Nha Trang|South China Sea; Quy Nhon|South China Sea;
Vung Tau|South China Sea; Shantou|South China Sea; Zhanjiang|South China Sea; Arkhangelsk|White Sea;
Severodvinsk|White Sea; Kandalaksha|White Sea; Blackpool|Irish Sea; Llandudno|Irish Sea; Morecambe|Irish Sea;
Whitehaven|Irish Sea; Dún Laoghaire|Irish Sea; Veracruz|Gulf of Mexico; Tampico|Gulf of Mexico;
Clearwater|Gulf of Mexico; Progreso|Gulf of Mexico
""",
    "landmark_architect": """
Sagrada Família|Antoni Gaudí; Casa Batlló|Antoni Gaudí; Park Güell|Antoni Gaudí; Casa Milà|Antoni Gaudí;
Casa Vicens|Antoni Gaudí; Sydney Opera House|Jørn Utzon; Guggenheim Museum Bilbao|Frank Gehry;
Walt Disney Concert Hall|Frank Gehry; Louvre Pyramid|I. M. Pei; Bank of China Tower|I. M. Pei;
Fallingwater|Frank Lloyd Wright; Robie House|Frank Lloyd Wright; Unity Temple|Frank Lloyd Wright;
Villa Savoye|Le Corbusier; Unité d'Habitation|Le Corbusier; Barcelona Pavilion|Ludwig Mies van der Rohe;
Seagram Building|Ludwig Mies van der Rohe; Farnsworth House|Ludwig Mies van der Rohe;
Neue Nationalgalerie|Ludwig Mies van der Rohe; St Paul's Cathedral|Christopher Wren;
Sheldonian Theatre|Christopher Wren; Heydar Aliyev Center|Zaha Hadid; London Aquatics Centre|Zaha Hadid;
Gateway Arch|Eero Saarinen; TWA Flight Center|Eero Saarinen; Lotus Temple|Fariborz Sahba;
Flatiron Building|Daniel Burnham; Brandenburg Gate|Carl Gotthard Langhans;
Altes Museum|Karl Friedrich Schinkel; CCTV Headquarters|Rem Koolhaas; Casa da Música|Rem Koolhaas;
Vietnam Veterans Memorial|Maya Lin; Lincoln Memorial|Henry Bacon; Washington Monument|Robert Mills;
Jefferson Memorial|John Russell Pope; Trevi Fountain|Nicola Salvi; Villa Rotonda|Andrea Palladio;
Teatro Olimpico|Andrea Palladio; Hallgrímskirkja|Guðjón Samúelsson; Turning Torso|Santiago Calatrava;
City of Arts and Sciences|Santiago Calatrava; Burj Al Arab|Tom Wright; Glasgow School of Art|Charles Rennie Mackintosh;
Stockholm City Hall|Ragnar Östberg; Helsinki Central Station|Eliel Saarinen; Finlandia Hall|Alvar Aalto;
Palau de la Música Catalana|Lluís Domènech i Montaner; Louvre Abu Dhabi|Jean Nouvel;
Institut du Monde Arabe|Jean Nouvel; Grande Arche|Johan Otto von Spreckelsen; Jewish Museum Berlin|Daniel Libeskind;
Lloyd's building|Richard Rogers; Millennium Dome|Richard Rogers; Kimbell Art Museum|Louis Kahn;
Salk Institute|Louis Kahn; Crystal Palace|Joseph Paxton; Royal Pavilion|John Nash; Marble Arch|John Nash;
Blenheim Palace|John Vanbrugh; Radcliffe Camera|James Gibbs; Banqueting House|Inigo Jones; Queen's House|Inigo Jones;
Monticello|Thomas Jefferson; Willis Tower|Bruce Graham; John Hancock Center|Bruce Graham;
Wainwright Building|Louis Sullivan; Woolworth Building|Cass Gilbert; Transamerica Pyramid|William Pereira;
Palace of the Parliament|Anca Petrescu; Coventry Cathedral|Basil Spence; Liverpool Cathedral|Giles Gilbert Scott;
Battersea Power Station|Giles Gilbert Scott; Palace of Westminster|Charles Barry; Reichstag dome|Norman Foster;
Statue of Liberty|Frédéric Auguste Bartholdi; Mole Antonelliana|Alessandro Antonelli;
Palais Garnier|Charles Garnier; Hundertwasserhaus|Friedensreich Hundertwasser; Arc de Triomphe|Jean Chalgrin;
Spanish Steps|Francesco de Sanctis; Einstein Tower|Erich Mendelsohn; Bauhaus Dessau|Walter Gropius
""",
}

# other names of the targets (a greedy answer naming one is no wrong answer; a subject naming one gives it away)
_OTHER = """
Saint Petersburg|Petrograd, Leningrad, St. Petersburg, St Petersburg. Kolkata|Calcutta. Rangoon|Yangon.
Beijing|Peking. Kyoto|Kioto. Gothenburg|Göteborg. Munich|München. Zurich|Zürich. Cologne|Köln. Prague|Praha.
The Hague|Den Haag, Hague. New York|New York City, NYC, Manhattan, Brooklyn. Los Angeles|Hollywood, LA.
Mexico City|Ciudad de México. Florence|Firenze. Venice|Venezia. Milan|Milano. Rome|Roma. Naples|Napoli.
Antwerp|Antwerpen. Bruges|Brugge. Brussels|Bruxelles. Copenhagen|København. Vienna|Wien. Lisbon|Lisboa.
Adriatic|Adriatic Sea. Baltic|Baltic Sea. Caribbean|Caribbean Sea. Caspian|Caspian Sea.
Aegean|Aegean Sea. Ionian|Ionian Sea. Tyrrhenian|Tyrrhenian Sea. Ligurian|Ligurian Sea. Odesa|Odessa.
Sicily|Sicilia. Sardinia|Sardegna. Corsica|Corse. Crete|Kriti. Lesbos|Lesvos. Santorini|Thira.
Menorca|Minorca. Java|Jawa. Sumatra|Sumatera. Borneo|Kalimantan. New Guinea|Papua. Funen|Fyn. Zealand|Sjælland.
Skye|Isle of Skye. Lewis|Isle of Lewis, Lewis and Harris. Mull|Isle of Mull. Zanzibar|Unguja.
Åland|Aland. Tahiti|Otaheite. North Island|Te Ika-a-Māui. South Island|Te Waipounamu.
Antoni Gaudí|Gaudí, Gaudi, Antonio Gaudí, Antonio Gaudi, Antoni Gaudi. Le Corbusier|Corbusier, Charles-Édouard Jeanneret.
Ludwig Mies van der Rohe|Mies van der Rohe, Mies. I. M. Pei|I.M. Pei, IM Pei, Ieoh Ming Pei, Pei.
Frank Lloyd Wright|Lloyd Wright. Jørn Utzon|Jorn Utzon, Utzon. Frédéric Auguste Bartholdi|Frédéric Bartholdi,
Frederic Bartholdi, Auguste Bartholdi, Bartholdi. Lluís Domènech i Montaner|Lluis Domenech, Domènech.
Guðjón Samúelsson|Gudjon Samuelsson. Ragnar Östberg|Ragnar Ostberg. César Pelli|Cesar Pelli.
"""
# regions a target lies in or belongs to (a greedy answer naming one is no wrong answer)
_REGIONS = """
Mallorca|Balearic Islands. Menorca|Balearic Islands. Tenerife|Canary Islands. Gran Canaria|Canary Islands.
São Miguel|Azores. Skye|Hebrides, Inner Hebrides. Lewis|Hebrides, Outer Hebrides. Mull|Hebrides, Inner Hebrides.
Jersey|Channel Islands. Guernsey|Channel Islands. Maui|Hawaii. Kauai|Hawaii. Martha's Vineyard|Massachusetts.
Vancouver Island|British Columbia. Borneo|Sabah, Sarawak, Brunei. Streymoy|Faroe Islands, Faroes.
Viti Levu|Fiji. Upolu|Samoa. Tongatapu|Tonga. Efate|Vanuatu. Guadalcanal|Solomon Islands. Tahiti|French Polynesia.
Bioko|Equatorial Guinea. Newfoundland|Labrador, Newfoundland and Labrador. New Guinea|Papua New Guinea.
Luzon|Manila. Okinawa|Ryukyu. Hainan|Hainan Province. Rügen|Mecklenburg. Sylt|Schleswig-Holstein.
Los Angeles|California, Hollywood, Beverly Hills, Santa Monica. New York|Manhattan, Brooklyn, Queens, the Bronx.
Concord|Massachusetts.
Adriatic|Mediterranean, Gulf of Trieste, Gulf of Venice, Kvarner. Aegean|Mediterranean, Gulf of Izmir, Thermaic Gulf,
Pagasetic Gulf. Ionian|Mediterranean, Gulf of Taranto. Tyrrhenian|Mediterranean, Gulf of Naples, Gulf of Salerno,
Gulf of Gaeta. Ligurian|Mediterranean, Gulf of Genoa. Baltic|Atlantic, Gulf of Finland, Gulf of Riga,
Gulf of Bothnia, Gulf of Gdańsk, Bay of Gdańsk, Bay of Kiel. North Sea|Atlantic, German Bight, Wadden Sea.
Caribbean|Atlantic, Gulf of Honduras. Gulf of Mexico|Atlantic, Bay of Campeche. Red Sea|Indian Ocean, Gulf of Aqaba,
Gulf of Suez. Arabian Sea|Indian Ocean. Yellow Sea|Pacific, Bohai, Korea Bay. Sea of Japan|Pacific.
South China Sea|Pacific, Gulf of Tonkin. White Sea|Arctic. Irish Sea|Atlantic. Saint Petersburg|Leningrad. Mexico City|Coyoacán. Paris|Île-de-France, Neuilly.
"""


def read_pairs(spec: str) -> dict[str, str]:
    """"Key|names. Key|names." (``_OTHER``, ``_REGIONS``) as a dict; make_fresh6 reads its tables with it too."""
    out = {}
    for item in spec.replace("\n", " ").split(". "):
        key, _, rest = item.strip(" .").partition("|")
        if key:
            out[key.strip()] = rest.strip()
    return out


def _tables() -> tuple[dict[str, str], dict[str, str]]:
    """SAME (target -> its other names; architects: also their surname) and REGIONS (target -> regions around it)."""
    same, regions = read_pairs(_OTHER), read_pairs(_REGIONS)
    for name in set(mf4.parse(SUBJECTS["landmark_architect"]).values()):
        surname = name.split()[-1]
        same[name] = ", ".join(words(same.get(name, "")) + [surname])
    return ({k: ", ".join(words(v)) for k, v in same.items()}, regions)


SAME, REGIONS = _tables()

# Generic prompts written for this file (one clear next word), none a prompt of the project; id generic:jNNN.
GENERIC = """
A chef works in a| kitchen
A gardener waters the| plants
A nurse works in a| hospital
A teacher works in a| school
A fisherman catches| fish
A firefighter puts out| fires
A postman delivers| letters
A painter paints with a| brush
A butcher sells| meat
A mechanic repairs| cars
An astronaut travels into| space
A waiter serves| food
A judge works in a| court
A beekeeper keeps| bees
A shepherd looks after| sheep
A sailor works on a| ship
A cashier works at the| till
A photographer uses a| camera
A writer writes| books
A singer sings| songs
The sun rises in the| east
The sun sets in the| west
Water freezes at zero| degrees
Ice is frozen| water
A week has seven| days
A year has twelve| months
A day has twenty-four| hours
An hour has sixty| minutes
A minute has sixty| seconds
A triangle has three| sides
A square has four| sides
A spider has eight| legs
An insect has six| legs
A dog has four| legs
A bird has two| wings
Cows give us| milk
Hens lay| eggs
Bees make| honey
Sheep give us| wool
Grass is| green
Snow is| white
Coal is| black
The sky is| blue
Lemons taste| sour
Sugar tastes| sweet
We see with our| eyes
We hear with our| ears
We smell with our| nose
We chew food with our| teeth
We breathe with our| lungs
The heart pumps| blood
You wear shoes on your| feet
You wear gloves on your| hands
You wear a hat on your| head
You wear a watch on your| wrist
You sleep in a| bed
You sit on a| chair
You cook food on a| stove
You keep food cold in a| fridge
You wash your hands with| soap
You brush your teeth with a| toothbrush
You cut paper with| scissors
You write on paper with a| pen
You open a door with a| key
You dry yourself with a| towel
You drink soup with a| spoon
You eat steak with a knife and| fork
Rain falls from the| clouds
Fish live in| water
Birds build| nests
Frogs can| jump
Ducks can| swim
Horses can| run
A baby cat is called a| kitten
A baby dog is called a| puppy
A baby cow is called a| calf
A baby sheep is called a| lamb
A baby horse is called a| foal
A group of sheep is called a| flock
A group of wolves is called a| pack
A group of fish is called a| school
The opposite of hot is| cold
The opposite of up is| down
The opposite of big is| small
The opposite of fast is| slow
The opposite of happy is| sad
The opposite of light is| dark
The opposite of open is| closed
The opposite of full is| empty
The opposite of early is| late
The opposite of rich is| poor
The opposite of heavy is| light
The opposite of young is| old
The opposite of wet is| dry
The opposite of left is| right
The opposite of win is| lose
The opposite of buy is| sell
The opposite of push is| pull
The opposite of always is| never
The opposite of everything is| nothing
The opposite of question is| answer
One plus one equals| two
Two plus two equals| four
Three plus three equals| six
Five plus five equals| ten
Ten minus one equals| nine
Two times three equals| six
The number after nine is| ten
The number before five is| four
The letter after A is| B
The first letter of the alphabet is| A
The day after Monday is| Tuesday
The day after Friday is| Saturday
The day before Sunday is| Saturday
The month after January is| February
The month before December is| November
The last month of the year is| December
The first month of the year is| January
Summer is followed by| autumn
Winter is followed by| spring
Night is followed by| day
Once upon a| time
Ladies and| gentlemen
Salt and| pepper
Bread and| butter
Rock and| roll
Black and| white
Thunder and| lightning
Knife and| fork
Cats and| dogs
Peace and| quiet
Trial and| error
Pros and| cons
Odds and| ends
Rise and| shine
Safe and| sound
Sooner or| later
Now or| never
More or| less
Back and| forth
Up and| down
Actions speak louder than| words
An apple a day keeps the doctor| away
Don't count your chickens before they| hatch
Every cloud has a silver| lining
Practice makes| perfect
The early bird catches the| worm
When in Rome, do as the Romans| do
A picture is worth a thousand| words
Laughter is the best| medicine
Honesty is the best| policy
Two heads are better than| one
Curiosity killed the| cat
Beauty is in the eye of the| beholder
Absence makes the heart grow| fonder
All that glitters is not| gold
Rome was not built in a| day
Where there's a will, there's a| way
Birds of a feather flock| together
Don't put all your eggs in one| basket
The pen is mightier than the| sword
Happy birthday to| you
Merry Christmas and a happy new| year
Good morning, how are| you
Thank you very| much
See you| later
Nice to meet| you
Excuse| me
To be or not to| be
Twinkle, twinkle, little| star
Row, row, row your| boat
Humpty Dumpty sat on a| wall
Jack and Jill went up the| hill
Old MacDonald had a| farm
Mary had a little| lamb
Hickory dickory| dock
Paper is made from| wood
Glass is made from| sand
Bread is made from| flour
Cheese is made from| milk
Wine is made from| grapes
Chocolate is made from| cocoa
Butter is made from| cream
Popcorn is made from| corn
Jam is made from| fruit
Ice cream is a frozen| dessert
Tea is made with hot| water
The Moon goes around the| Earth
The Earth goes around the| Sun
Plants need sunlight and| water
Fire needs| oxygen
Magnets attract| iron
Sound travels through the| air
Light travels faster than| sound
A thermometer measures| temperature
A clock tells the| time
A map shows the| way
A ruler measures| length
A scale measures| weight
A compass points| north
A calendar shows the| date
An umbrella keeps you| dry
A candle gives| light
A fan keeps you| cool
A blanket keeps you| warm
A lock keeps things| safe
A ladder helps you climb| up
A bridge crosses a| river
A tunnel goes under the| ground
A lighthouse warns| ships
A library lends| books
A bakery sells| bread
A pharmacy sells| medicine
A florist sells| flowers
A bank keeps your| money
A zoo keeps| animals
A museum shows| art
A stadium hosts| games
A cinema shows| films
An airport has| planes
A train runs on| rails
A car runs on| petrol
A bicycle has two| wheels
A tricycle has three| wheels
A car has four| wheels
A boat floats on| water
A kite flies in the| wind
A snowman is made of| snow
A sandcastle is made of| sand
A necklace is worn around the| neck
A ring is worn on the| finger
A belt is worn around the| waist
A scarf is worn around the| neck
Socks are worn on the| feet
Glasses help you| see
A pillow goes under your| head
A doorbell makes a| sound
An alarm clock wakes you| up
A kettle boils| water
A toaster makes| toast
A vacuum cleaner picks up| dust
A washing machine washes| clothes
A dishwasher washes| dishes
A freezer keeps food| frozen
A microwave heats| food
A broom sweeps the| floor
A mop cleans the| floor
A hammer drives in| nails
A saw cuts| wood
A screwdriver turns| screws
A shovel digs| holes
A needle and| thread
A cup of| tea
A slice of| bread
A glass of| water
A bar of| chocolate
A piece of| cake
A loaf of| bread
A pair of| shoes
A bunch of| flowers
A deck of| cards
A flock of| birds
A herd of| cows
A swarm of| bees
My grandmother knits warm| socks
The kettle whistled when the water began to| boil
She put the milk back in the| fridge
He tied the laces of his| shoes
The children built a tower out of wooden| blocks
We planted tomatoes in the| garden
The postwoman pushed the letters through the| letterbox
At the end of the meal we asked for the| bill
The librarian asked us to be| quiet
He missed the bus and had to| walk
She switched on the lamp because it was| dark
The puppy wagged its| tail
The farmer drove his| tractor
The baker woke up early to bake the| bread
My little brother lost his front| tooth
We brushed the sand off our| feet
The cat chased the| mouse
The bees buzzed around the| flowers
He poured cereal into a| bowl
She looked at herself in the| mirror
The dentist told him to open his| mouth
The waiter brought us the| menu
The clown made the children| laugh
The pilot landed the| plane
The knight rode his| horse
The squirrel hid the| nuts
The frog jumped into the| pond
He blew out the candles on his birthday| cake
The students handed in their| homework
The goalkeeper caught the| ball
The fisherman cast his| net
She hung the wet clothes on the| line
The leaves turn red and yellow in| autumn
The baby fell asleep in her| cot
We roasted marshmallows over the| fire
The crowd clapped their| hands
The referee blew his| whistle
The gardener mowed the| lawn
The wind blew the leaves off the| trees
The mechanic changed the flat| tyre
The cow was grazing in the| field
The owl hooted in the| night
The doctor listened to his heart with a| stethoscope
The painter climbed up the| ladder
He wiped the table with a damp| cloth
They sailed across the| sea
We sheltered from the rain under an| umbrella
The hen sat on her| eggs
The sailor tied a| knot
The toddler drew a picture with a| crayon
"""


_why_not_near4 = mf4.why_not_near
# a greedy answer whose first word only announces the answer has named nothing yet
_NOT_YET = {"architect", "architects", "architecture", "famous", "renowned", "celebrated", "late", "great", "designer",
            "sea", "seas", "coast", "coasts", "shore", "shores"}


_TITLES = ("Sir ", "Dame ", "Lord ")


def why_not_near(top: str, text: str, target: str, subject: str = "") -> str | None:
    """make_fresh4's rule (make_fresh2's, a country, " banks of the ..."), then: a first word that only announces the
    answer (" architect Frank Gehry", " coast of the ...") is no wrong answer yet, and the target (or its other name)
    after a title is the right answer (Gemma: St Paul's Cathedral -> " Sir Christopher Wren")."""
    name = target.strip()
    for title in _TITLES:
        rest = text.strip()[len(title):] if text.strip().startswith(title) else None
        if rest and any(mf4.starts_with(rest, w) for w in [name, *words(SAME.get(name, ""))]):
            return "the target after a title"
    why = _why_not_near4(top, text, target, subject)
    if why is None and text.strip().split(" ")[0].strip(",.").lower() in _NOT_YET:
        return "no answer yet"
    return why


# the module tables a set's script supplies (make_fresh4's main reads them; make_fresh6 points this file's at its own)
TABLES = ("OUT", "SEED", "SELF", "EARLIER", "TEMPLATES", "KIND", "ALT", "SUBJECTS", "SAME", "REGIONS", "GENERIC",
          "why_not_near")


def use_fresh5() -> None:
    """Point make_fresh4's module tables at this file's (its main then points make_fresh2's at them)."""
    for name in TABLES:
        setattr(mf4, name, globals()[name])
    mf4.__doc__ = __doc__


def main() -> None:
    use_fresh5()
    gen = mf4.mf.generic_pool  # ids generic:jNNN (fresh4's were generic:iNNN)
    mf4.mf.generic_pool = lambda prompts, generic, ids: gen(prompts, generic, "generic:j{:03d}")
    mf4.main()


if __name__ == "__main__":
    main()
