"""Build a FOURTH set of fresh held-out evaluation sets (`bench/fresh4/`) for SmolLM2-135M-Instruct and Gemma 3 270M.

Modelled on `bench/fresh3/make_fresh3.py` and, like it, built BY `bench/fresh2/make_fresh2.py`: this script imports
make_fresh2 (which imports bench/fresh/make_fresh.py) and only supplies new data -- four relations the project has
never used (city -> state, company -> headquarters city, person -> birth city, city -> river), their subjects, the
targets' other names and regions, new generic prompts -- and fresh3's wide held-out rule. make_fresh2's `fact`,
`held_out`, `build` and `verify` read the module globals OUT/SEED/TEMPLATES/ALT/SAME/REGIONS, which `use_fresh4()`
points at this file's tables; nothing of make_fresh2 is copied. Same schema, `note`, scoring rule, lead (>= 0.3 for
right/guard/generic rows) and near-miss filter as bench/fresh2 and bench/fresh3, plus one exclusion (below).

What is new: every relation's prompt template names the KIND of its subject in its own words ("The city of {S} ...",
"The company {S} ...", "{S} was born in ..."), so that `patchkit.selection.known_kind([subject], template)` knows the
kind of these held-out subjects (none is a pool member) without the embedding guess. Asserted here for every
candidate (hence every near-miss row) and re-checked on the written near_all files.

* rank/gap: at the prompt's last position, the rank of the target's FIRST token and its logit minus the best other
  logit (negative = wrong);
* right = the greedy tokens spell the whole target, teacher-forced (`patchkit.evals.score_facts`), and rank 1;
* near miss = wrong with first-token rank 2..5 whose greedy answer is a genuine wrong answer (make_fresh2's filter,
  plus: the targets here are states, cities and rivers, never countries, so a greedy answer that is a country (or a
  country's adjective/other name) is no wrong answer of the asked kind, nor is the region the target lies in, nor an
  answer that has not named anything yet: " banks of the ...", " River ...").

Held-out rule, checked mechanically here (fresh3's): a candidate is dropped when its subject (whole word,
case-insensitive, the full name) occurs in ANY other file of the repository (every file git tracks or would track;
this folder and tests/test_fresh4_heldout.py excepted) or in the selection pool, when it contains its answer or the
answer's other name, or when a prompt or paraphrase equals a prompt/paraphrase/text of the project's JSON lines
files. Added here: no row, generic prompt or the perplexity text may name a subject of the earlier held-out sets
(bench/fresh, fresh2, fresh3), whose tests look for their subjects in every other file. The picks (near8, near50,
guards) are random (seed 24) within relations, never by how an edit does.

Run from the repository root: `python bench/fresh4/make_fresh4.py` (both models; `--model smollm2` for one; `--dry`
applies the held-out rule only, no model).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import re
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
parse, words, occurs, starts_with = mf.parse, mf.words, mf.occurs, mf.starts_with

OUT = Path("bench/fresh4")
SEED = 24
MODELS = mf2.MODELS
SELF = ("bench/fresh4/", "tests/test_fresh4_heldout.py")  # the only files allowed to name this set's subjects
EARLIER = ("bench/fresh", "bench/fresh2", "bench/fresh3")  # held-out sets whose subjects no file of this set may name

# relation: (prompt, paraphrase 1, paraphrase 2). {S} = subject as at the start of a sentence, {s} = as written.
# Every prompt names its subject's kind in the words `patchkit.selection.template_kind` reads (KIND); so do the
# paraphrases.
TEMPLATES = {
    "city_state": ("The city of {S} is in the state of", "{S} is a city in the state of",
                   "The city of {S} lies within the state of"),
    "company_city": ("The company {S} is headquartered in the city of",
                     "{S} is a company with its headquarters in the city of",
                     "The company {S} has its head office in the city of"),
    "birth_city": ("{S} was born in the city of", "{S} was a native of the city of", "{S} was born in a city called"),
    "city_river": ("The city of {S} lies on the river", "{S} is a city on the river",
                   "The city of {S} is built on the banks of the river"),
}
KIND = {"city_state": "city", "company_city": "company", "birth_city": "person", "city_river": "city"}
# no name here says what it is or starts with "the": paraphrase 1 is never replaced
ALT = {rel: (t[1], ()) for rel, t in TEMPLATES.items()}

# Subjects (written for this file: well-known, one answer, nothing shared or disputed), "subject|answer; ...".
# No city is a subject of two relations (make_fresh2's build asserts no right subject is a near-miss subject).
SUBJECTS = {
    "city_state": """
Fresno|California; Bakersfield|California; Oakland|California; Anaheim|California; Stockton|California;
Modesto|California; Sacramento|California; Tucson|Arizona; Scottsdale|Arizona; Tempe|Arizona; Flagstaff|Arizona;
Albuquerque|New Mexico; Las Cruces|New Mexico; Boise|Idaho; Spokane|Washington; Tacoma|Washington; Eugene|Oregon;
Reno|Nevada; Provo|Utah; Ogden|Utah; Cheyenne|Wyoming; Billings|Montana; Missoula|Montana; Bozeman|Montana;
Fargo|North Dakota; Bismarck|North Dakota; Sioux Falls|South Dakota; Omaha|Nebraska; Wichita|Kansas; Topeka|Kansas;
Tulsa|Oklahoma; Little Rock|Arkansas; Shreveport|Louisiana; Biloxi|Mississippi; Tuscaloosa|Alabama;
Chattanooga|Tennessee; Knoxville|Tennessee; Nashville|Tennessee; Savannah|Georgia; Tallahassee|Florida;
Orlando|Florida; Tampa|Florida; Sarasota|Florida; Pensacola|Florida; Jacksonville|Florida; Raleigh|North Carolina;
Asheville|North Carolina; Roanoke|Virginia; Annapolis|Maryland; Baltimore|Maryland; Scranton|Pennsylvania;
Allentown|Pennsylvania; Harrisburg|Pennsylvania; Buffalo|New York; Hartford|Connecticut; New Haven|Connecticut;
Providence|Rhode Island; Montpelier|Vermont; Newark|New Jersey; Trenton|New Jersey; Akron|Ohio; Dayton|Ohio;
Cleveland|Ohio; Ann Arbor|Michigan; Lansing|Michigan; Flint|Michigan; Grand Rapids|Michigan; Kalamazoo|Michigan;
Milwaukee|Wisconsin; Green Bay|Wisconsin; Duluth|Minnesota; Des Moines|Iowa; Cedar Rapids|Iowa; Peoria|Illinois;
Evanston|Illinois; Fort Wayne|Indiana; Galveston|Texas; Amarillo|Texas; Lubbock|Texas; El Paso|Texas; Laredo|Texas;
Corpus Christi|Texas; Waco|Texas; Anchorage|Alaska; Fairbanks|Alaska; Juneau|Alaska; Honolulu|Hawaii; Hilo|Hawaii;
Pune|Maharashtra; Nagpur|Maharashtra; Nashik|Maharashtra; Ahmedabad|Gujarat; Surat|Gujarat; Vadodara|Gujarat;
Jaipur|Rajasthan; Jodhpur|Rajasthan; Lucknow|Uttar Pradesh; Bhopal|Madhya Pradesh; Indore|Madhya Pradesh;
Kochi|Kerala; Thiruvananthapuram|Kerala; Kozhikode|Kerala; Coimbatore|Tamil Nadu; Madurai|Tamil Nadu;
Mysore|Karnataka; Mangalore|Karnataka; Bhubaneswar|Odisha; Guwahati|Assam; Amritsar|Punjab; Ludhiana|Punjab;
Visakhapatnam|Andhra Pradesh; Ranchi|Jharkhand; Dehradun|Uttarakhand; Shimla|Himachal Pradesh; Darjeeling|West Bengal;
Cairns|Queensland; Townsville|Queensland; Toowoomba|Queensland; Ballarat|Victoria; Bendigo|Victoria; Geelong|Victoria;
Wollongong|New South Wales; Hobart|Tasmania; Launceston|Tasmania; Fremantle|Western Australia;
Kalgoorlie|Western Australia; Campinas|São Paulo; Curitiba|Paraná; Londrina|Paraná; Porto Alegre|Rio Grande do Sul;
Recife|Pernambuco; Fortaleza|Ceará; Manaus|Amazonas; Belém|Pará; Florianópolis|Santa Catarina;
Belo Horizonte|Minas Gerais; Goiânia|Goiás; Monterrey|Nuevo León; Tijuana|Baja California; Mexicali|Baja California;
Hermosillo|Sonora; Culiacán|Sinaloa; Mazatlán|Sinaloa; Cancún|Quintana Roo; Acapulco|Guerrero; Morelia|Michoacán;
Ciudad Juárez|Chihuahua; Saltillo|Coahuila; Torreón|Coahuila
""",
    "company_city": """
Nike|Beaverton; Starbucks|Seattle; Nordstrom|Seattle; Microsoft|Redmond; Intel|Santa Clara; Nvidia|Santa Clara;
AMD|Santa Clara; Cisco|San Jose; Adobe|San Jose; Dell|Round Rock; Walmart|Bentonville; Tyson Foods|Springdale;
Coca-Cola|Atlanta; Home Depot|Atlanta; Chick-fil-A|Atlanta; FedEx|Memphis; Procter & Gamble|Cincinnati;
Kroger|Cincinnati; Goodyear|Akron; Sherwin-Williams|Cleveland; General Motors|Detroit; Little Caesars|Detroit;
Chrysler|Auburn Hills; Domino's|Ann Arbor; Kellogg's|Battle Creek; Whirlpool|Benton Harbor; Dow Chemical|Midland;
Campbell Soup|Camden; Johnson & Johnson|New Brunswick; Pfizer|New York; IBM|Armonk; Kodak|Rochester;
Harley-Davidson|Milwaukee; Texas Instruments|Dallas; Netflix|Los Gatos; Google|Mountain View; HP|Palo Alto;
Salesforce|San Francisco; Uber|San Francisco; Airbnb|San Francisco; Levi Strauss|San Francisco; Mattel|El Segundo;
Qualcomm|San Diego; Lockheed Martin|Bethesda; Marriott|Bethesda; Capital One|McLean; Eli Lilly|Indianapolis;
Cummins|Columbus; Hallmark|Kansas City; Berkshire Hathaway|Omaha; Union Pacific|Omaha; Publix|Lakeland;
Humana|Louisville; KFC|Louisville; Papa John's|Louisville; Hasbro|Pawtucket; Gillette|Boston; New Balance|Boston;
Bose|Framingham; L.L.Bean|Freeport; Wrigley|Chicago; McDonald's|Chicago; Heinz|Pittsburgh; Alcoa|Pittsburgh;
Cargill|Minnetonka; Volkswagen|Wolfsburg; BMW|Munich; Siemens|Munich; Allianz|Munich; Audi|Ingolstadt;
Porsche|Stuttgart; Mercedes-Benz|Stuttgart; Bosch|Stuttgart; Adidas|Herzogenaurach; Puma|Herzogenaurach;
BASF|Ludwigshafen; SAP|Walldorf; Deutsche Telekom|Bonn; DHL|Bonn; Henkel|Düsseldorf; Beiersdorf|Hamburg;
Zeiss|Oberkochen; Miele|Gütersloh; Bertelsmann|Gütersloh; Dr. Oetker|Bielefeld; Airbus|Toulouse;
Michelin|Clermont-Ferrand; ASML|Veldhoven; Nokia|Espoo; Ericsson|Stockholm; Spotify|Stockholm; Electrolux|Stockholm;
Volvo|Gothenburg; Lego|Billund; Maersk|Copenhagen; Vestas|Aarhus; Nestlé|Vevey; Roche|Basel; Novartis|Basel;
Swatch|Biel; Rolex|Geneva; Fiat|Turin; Ferrari|Maranello; Pirelli|Milan; Luxottica|Milan; Barilla|Parma;
Ducati|Bologna; Benetton|Treviso; Cadbury|Birmingham; Jaguar Land Rover|Coventry; Honda|Tokyo; Sony|Tokyo;
Canon|Tokyo; Nikon|Tokyo; Toshiba|Tokyo; Subaru|Tokyo; Nintendo|Kyoto; Kyocera|Kyoto; Panasonic|Osaka;
Mazda|Hiroshima; Suzuki|Hamamatsu; Yamaha|Hamamatsu; Hyundai|Seoul; Posco|Pohang; Alibaba|Hangzhou;
Tencent|Shenzhen; Huawei|Shenzhen; BYD|Shenzhen; Xiaomi|Beijing; Baidu|Beijing; Haier|Qingdao; Tata Motors|Mumbai;
Infosys|Bangalore; Wipro|Bangalore; TSMC|Hsinchu; BlackBerry|Waterloo; Bombardier|Montreal; Shopify|Ottawa;
Petrobras|Rio de Janeiro; Cemex|Monterrey;
Bridgestone|Tokyo; Asics|Kobe; Shimano|Sakai; Daikin|Osaka; Omron|Kyoto; Murata|Kyoto; Fujifilm|Tokyo; Casio|Tokyo;
Capcom|Osaka; Kia|Seoul; Naver|Seongnam; JD.com|Beijing; ByteDance|Beijing; Geely|Hangzhou; NetEase|Hangzhou;
DJI|Shenzhen; ZTE|Shenzhen; Midea|Foshan; Gree|Zhuhai; Mahindra|Mumbai; Bajaj Auto|Pune; Flipkart|Bangalore;
Zalando|Berlin; Lidl|Neckarsulm; Ritter Sport|Waldenbuch; Faber-Castell|Stein; Hugo Boss|Metzingen; Steiff|Giengen;
Märklin|Göppingen; Playmobil|Zirndorf; Kärcher|Winnenden; Stihl|Waiblingen; Evonik|Essen; ThyssenKrupp|Essen;
Swarovski|Wattens; KTM|Mattighofen; Lindt|Kilchberg; Victorinox|Ibach; Logitech|Lausanne; Tissot|Le Locle;
Patek Philippe|Geneva; Schindler|Ebikon; Burberry|London; Boots|Nottingham; Greggs|Newcastle; Bentley|Crewe;
JCB|Rocester; Primark|Dublin; Hermès|Paris; Lacoste|Paris; Decathlon|Lille; Lavazza|Turin; Ferrero|Alba;
Prada|Milan; Gucci|Florence; Salvatore Ferragamo|Florence; Maserati|Modena; Piaggio|Pontedera; Olivetti|Ivrea;
Bulgari|Rome; Illy|Trieste; Mango|Barcelona; Chupa Chups|Barcelona; Iberdrola|Bilbao; Booking.com|Amsterdam;
TomTom|Amsterdam; Bang & Olufsen|Struer; Pandora|Copenhagen; Scania|Södertälje; Husqvarna|Stockholm;
Equinor|Stavanger; Telenor|Oslo; Kone|Espoo; Rovio|Espoo; Marimekko|Helsinki; Supercell|Helsinki;
Tim Hortons|Toronto; Lululemon|Vancouver; Embraer|São José dos Campos; Paccar|Bellevue; Expedia|Seattle;
Zillow|Seattle; Costco|Issaquah; Columbia Sportswear|Portland; Micron|Boise; Albertsons|Boise; Garmin|Olathe;
H&R Block|Kansas City; Emerson|St. Louis; John Deere|Moline; State Farm|Bloomington; Motorola|Chicago;
Walgreens|Deerfield; Allstate|Northbrook; Polaris|Medina; UnitedHealth|Minnetonka; Stryker|Kalamazoo;
Meijer|Grand Rapids; Amway|Ada; Owens Corning|Toledo; Marathon Petroleum|Findlay; Nationwide|Columbus;
Lowe's|Mooresville; Duke Energy|Charlotte; Honeywell|Charlotte; Red Hat|Raleigh; Krispy Kreme|Charlotte;
Hanes|Winston-Salem; Carnival|Miami; Burger King|Miami; Royal Caribbean|Miami; Darden|Orlando; Aflac|Columbus;
Waffle House|Norcross; Dollar General|Goodlettsville; Jack Daniel's|Lynchburg;
Brown-Forman|Louisville; AutoZone|Memphis; International Paper|Memphis; Dillard's|Little Rock; J.B. Hunt|Lowell;
Dr Pepper|Plano; Frito-Lay|Plano; 7-Eleven|Irving; Whole Foods|Austin; H-E-B|San Antonio; Valero|San Antonio;
USAA|San Antonio; Halliburton|Houston; Sysco|Houston; ConocoPhillips|Houston; Phillips 66|Houston; Intuit|Mountain View;
eBay|San Jose; PayPal|San Jose; Zoom|San Jose; Gilead|Foster City; Genentech|South San Francisco; Clorox|Oakland;
Pixar|Emeryville; Dolby|San Francisco; Electronic Arts|Redwood City; Roblox|San Mateo; Activision|Santa Monica;
Blizzard|Irvine; Taco Bell|Irvine; In-N-Out|Irvine; Fender|Scottsdale; GoDaddy|Tempe; PetSmart|Phoenix;
U-Haul|Phoenix; Under Armour|Baltimore; Crayola|Easton; Comcast|Philadelphia; Urban Outfitters|Philadelphia;
Aramark|Philadelphia; Prudential|Newark; Xerox|Norwalk; Aetna|Hartford; Staples|Framingham; TJX|Framingham;
Converse|Boston; Reebok|Boston; Moderna|Cambridge; Biogen|Cambridge; CVS|Woonsocket; Textron|Providence
""",
    "birth_city": """
Ludwig van Beethoven|Bonn; Albert Einstein|Ulm; Karl Marx|Trier; Johann Wolfgang von Goethe|Frankfurt;
Franz Kafka|Prague; Pablo Picasso|Málaga; Salvador Dalí|Figueres; Rembrandt|Leiden; Johannes Vermeer|Delft;
Dante Alighieri|Florence; Galileo Galilei|Pisa; Christopher Columbus|Genoa; Marco Polo|Venice; Antonio Vivaldi|Venice;
Giacomo Puccini|Lucca; Gioachino Rossini|Pesaro; Nicolaus Copernicus|Toruń; Marie Curie|Warsaw;
Fyodor Dostoevsky|Moscow; Alexander Pushkin|Moscow; Napoleon Bonaparte|Ajaccio; Victor Hugo|Besançon;
Gustave Flaubert|Rouen; Jules Verne|Nantes; Paul Cézanne|Aix-en-Provence; Blaise Pascal|Clermont-Ferrand;
Jean-Jacques Rousseau|Geneva; Hans Christian Andersen|Odense; Søren Kierkegaard|Copenhagen; Henrik Ibsen|Skien;
Edvard Grieg|Bergen; August Strindberg|Stockholm; Alfred Nobel|Stockholm; Jean Sibelius|Hämeenlinna;
Charles Darwin|Shrewsbury; Charles Dickens|Portsmouth; John Lennon|Liverpool; Paul McCartney|Liverpool;
Oscar Wilde|Dublin; James Joyce|Dublin; George Bernard Shaw|Dublin; Walter Scott|Edinburgh;
Arthur Conan Doyle|Edinburgh; Alexander Graham Bell|Edinburgh; Adam Smith|Kirkcaldy; Franz Schubert|Vienna;
Johann Strauss II|Vienna; Johann Sebastian Bach|Eisenach; George Frideric Handel|Halle; Richard Wagner|Leipzig;
Johannes Brahms|Hamburg; Felix Mendelssohn|Hamburg; Robert Schumann|Zwickau; Albrecht Dürer|Nuremberg;
Johannes Gutenberg|Mainz; Immanuel Kant|Königsberg; Martin Luther King Jr.|Atlanta; Elvis Presley|Tupelo;
Louis Armstrong|New Orleans; Bob Dylan|Duluth; Walt Disney|Chicago; Ernest Hemingway|Oak Park;
Edgar Allan Poe|Boston; Benjamin Franklin|Boston; Barack Obama|Honolulu; Steve Jobs|San Francisco;
Bill Gates|Seattle; Jimi Hendrix|Seattle; Frida Kahlo|Mexico City; Diego Rivera|Guanajuato;
Jorge Luis Borges|Buenos Aires; Che Guevara|Rosario; Lionel Messi|Rosario; Gabriel García Márquez|Aracataca;
Simón Bolívar|Caracas; Mahatma Gandhi|Porbandar; Jawaharlal Nehru|Allahabad; Rabindranath Tagore|Calcutta;
Bruce Lee|San Francisco; Akira Kurosawa|Tokyo; Mustafa Kemal Atatürk|Thessaloniki; Aristotle|Stagira;
Alexander the Great|Pella; Audrey Hepburn|Brussels; Jacques Brel|Brussels; Anne Frank|Frankfurt;
Greta Garbo|Stockholm; Ingrid Bergman|Stockholm; Björk|Reykjavík; Zinedine Zidane|Marseille; Édith Piaf|Paris;
Coco Chanel|Saumur; Cristiano Ronaldo|Funchal; Fernando Pessoa|Lisbon; Miguel de Cervantes|Alcalá de Henares;
Diego Velázquez|Seville; Rafael Nadal|Manacor; Luciano Pavarotti|Modena; Enzo Ferrari|Modena; Federico Fellini|Rimini;
Giuseppe Garibaldi|Nice; Niccolò Paganini|Genoa; Ronaldinho|Porto Alegre; Ayrton Senna|São Paulo; Niki Lauda|Vienna;
Ludwig Wittgenstein|Vienna; Hedy Lamarr|Vienna; Wolfgang Amadeus Mozart|Salzburg; Joseph Stalin|Gori;
Vladimir Lenin|Simbirsk; Pyotr Ilyich Tchaikovsky|Votkinsk; Erasmus|Rotterdam; Hergé|Brussels; Sophia Loren|Rome;
Raphael|Urbino; Archimedes|Syracuse; Charlie Chaplin|London; Amy Winehouse|London; Andy Warhol|Pittsburgh;
Alfred Hitchcock|London; Grace Kelly|Philadelphia; Kurt Vonnegut|Indianapolis; Truman Capote|New Orleans;
Jack Kerouac|Lowell; Jorge Amado|Itabuna; Isabel Allende|Lima; Pablo Neruda|Parral; Fernando Botero|Medellín;
Vincent van Gogh|Zundert; Hieronymus Bosch|'s-Hertogenbosch; Piet Mondrian|Amersfoort; Johan Cruyff|Amsterdam;
Max Planck|Kiel; Heinrich Heine|Düsseldorf; Friedrich Schiller|Marbach; Georg Wilhelm Friedrich Hegel|Stuttgart;
Arthur Schopenhauer|Danzig; Günter Grass|Danzig; Thomas Mann|Lübeck; Hermann Hesse|Calw; Marlene Dietrich|Berlin;
Karl Lagerfeld|Hamburg; Helmut Schmidt|Hamburg; Konrad Adenauer|Cologne; Heinrich Böll|Cologne;
Jacques Offenbach|Cologne; Carl Friedrich Gauss|Brunswick; Wilhelm Röntgen|Lennep; Gottfried Wilhelm Leibniz|Leipzig;
Martin Luther|Eisleben; Claude Monet|Paris; Pierre-Auguste Renoir|Limoges; Paul Gauguin|Paris; Marcel Proust|Paris;
Voltaire|Paris; Molière|Paris; Charles de Gaulle|Lille; Louis Pasteur|Dole; Antoine de Saint-Exupéry|Lyon;
Jean-Paul Sartre|Paris; Yves Saint Laurent|Oran; Christian Dior|Granville; Claude Debussy|Saint-Germain-en-Laye;
Hector Berlioz|La Côte-Saint-André; Maurice Ravel|Ciboure; Bedřich Smetana|Litomyšl; Václav Havel|Prague;
Milan Kundera|Brno; Ferenc Puskás|Budapest; Harry Houdini|Budapest; Joseph Pulitzer|Makó; Nikola Tesla|Smiljan;
Novak Djokovic|Belgrade; Andrés Iniesta|Fuentealbilla; Joan Miró|Barcelona; Pau Casals|El Vendrell;
Francisco Franco|Ferrol; Vasco da Gama|Sines; Amália Rodrigues|Lisbon; José Mourinho|Setúbal; Umberto Eco|Alessandria;
Primo Levi|Turin; Gianni Versace|Reggio Calabria; Giorgio Armani|Piacenza; Valentino Rossi|Urbino;
Sandro Botticelli|Florence; Niccolò Machiavelli|Florence; Amerigo Vespucci|Florence; Alessandro Volta|Como;
Enrico Fermi|Rome; Guglielmo Marconi|Bologna; Maria Montessori|Chiaravalle; William Wordsworth|Cockermouth;
Lord Byron|London; Virginia Woolf|London; David Bowie|London; Freddie Mercury|Zanzibar; Stephen Hawking|Oxford;
J. R. R. Tolkien|Bloemfontein; Rudyard Kipling|Bombay; George Orwell|Motihari; William Makepeace Thackeray|Calcutta;
Margaret Thatcher|Grantham; Robert Louis Stevenson|Edinburgh; Sean Connery|Edinburgh; David Hume|Edinburgh;
James Watt|Greenock; John Logie Baird|Helensburgh; Dylan Thomas|Swansea; Roald Dahl|Cardiff;
Catherine Zeta-Jones|Swansea; C. S. Lewis|Belfast; George Best|Belfast; Bram Stoker|Dublin; Jonathan Swift|Dublin;
Samuel Beckett|Dublin; Bono|Dublin; Georges Simenon|Liège; Adolphe Sax|Dinant; Hans Zimmer|Frankfurt;
Boris Becker|Leimen; Steffi Graf|Mannheim; Michael Schumacher|Hürth; Franz Beckenbauer|Munich; Richard Strauss|Munich;
Bertolt Brecht|Augsburg; Rudolf Diesel|Paris; Alexander von Humboldt|Berlin; Greta Thunberg|Stockholm;
Astrid Lindgren|Vimmerby; Zlatan Ibrahimović|Malmö; Ingmar Bergman|Uppsala; Anders Celsius|Uppsala;
Thor Heyerdahl|Larvik; Niels Bohr|Copenhagen; Karen Blixen|Rungsted; Mads Mikkelsen|Copenhagen; Alvar Aalto|Kuortane;
Kimi Räikkönen|Espoo; Tove Jansson|Helsinki; Linus Torvalds|Helsinki; Anton Chekhov|Taganrog;
Vladimir Nabokov|Saint Petersburg; Dmitri Shostakovich|Saint Petersburg; Ayn Rand|Saint Petersburg; Golda Meir|Kyiv;
Marc Chagall|Vitebsk; Kazimir Malevich|Kyiv; Mark Rothko|Daugavpils; Sergei Eisenstein|Riga;
Mikhail Baryshnikov|Riga; Joseph Conrad|Berdychiv; Pope John Paul II|Wadowice; Andrzej Wajda|Suwałki;
Robert Lewandowski|Warsaw; Orhan Pamuk|Istanbul; Nazim Hikmet|Thessaloniki; Naguib Mahfouz|Cairo; Omar Sharif|Alexandria;
Gamal Abdel Nasser|Alexandria; Constantine Cavafy|Alexandria; Dalida|Cairo; Kofi Annan|Kumasi; Desmond Tutu|Klerksdorp;
Elon Musk|Pretoria; Charlize Theron|Benoni; Chinua Achebe|Ogidi; Wole Soyinka|Abeokuta; Fela Kuti|Abeokuta;
Celia Cruz|Havana; José Martí|Havana; Octavio Paz|Mexico City; Carlos Slim|Mexico City; Carlos Santana|Autlán;
Shakira|Barranquilla; Sofía Vergara|Barranquilla; James Rodríguez|Cúcuta; Mario Vargas Llosa|Arequipa;
Pope Francis|Buenos Aires; Astor Piazzolla|Mar del Plata; Juan Manuel Fangio|Balcarce; Diego Maradona|Lanús;
Julio Cortázar|Brussels; Gabriela Mistral|Vicuña; Salvador Allende|Valparaíso; Augusto Pinochet|Valparaíso;
Oscar Niemeyer|Rio de Janeiro; Paulo Coelho|Rio de Janeiro; Heitor Villa-Lobos|Rio de Janeiro; Zico|Rio de Janeiro;
Gisele Bündchen|Horizontina; Neymar|Mogi das Cruzes; Muhammad Ali|Louisville; Oprah Winfrey|Kosciusko;
Marilyn Monroe|Los Angeles; Frank Sinatra|Hoboken; Bruce Springsteen|Long Branch; Madonna|Bay City;
Taylor Swift|West Reading; Kanye West|Atlanta; Beyoncé|Houston; Whitney Houston|Newark; Michael Jackson|Gary;
Johnny Cash|Kingsland; Buddy Holly|Lubbock; Janis Joplin|Port Arthur; Ray Charles|Albany; Tom Hanks|Concord;
Clint Eastwood|San Francisco; Robin Williams|Chicago; Hillary Clinton|Chicago; Ronald Reagan|Tampico; Bill Clinton|Hope;
George W. Bush|New Haven; Jimmy Carter|Plains; Richard Nixon|Yorba Linda; Harry S. Truman|Lamar; Henry Ford|Dearborn;
Orville Wright|Dayton; Neil Armstrong|Wapakoneta; Amelia Earhart|Atchison; Mark Zuckerberg|White Plains;
Jeff Bezos|Albuquerque; Warren Buffett|Omaha; Malcolm X|Omaha; Gerald Ford|Omaha; Fred Astaire|Omaha;
Marlon Brando|Omaha; Walt Whitman|West Hills; Herman Melville|New York; Emily Dickinson|Amherst;
Robert Frost|San Francisco; Jack London|San Francisco; John Steinbeck|Salinas; F. Scott Fitzgerald|Saint Paul;
Sinclair Lewis|Sauk Centre; Tennessee Williams|Columbus; Harper Lee|Monroeville; William Faulkner|New Albany;
Stephen King|Portland; Dr. Seuss|Springfield; Kurt Cobain|Aberdeen
""",
    "city_river": """
Cologne|Rhine; Bonn|Rhine; Koblenz|Rhine; Mainz|Rhine; Basel|Rhine; Strasbourg|Rhine; Düsseldorf|Rhine;
Dresden|Elbe; Magdeburg|Elbe; Hamburg|Elbe; Würzburg|Main; Heidelberg|Neckar; Tübingen|Neckar; Bremen|Weser;
Regensburg|Danube; Ulm|Danube; Linz|Danube; Bratislava|Danube; Budapest|Danube; Novi Sad|Danube; Ruse|Danube;
Rouen|Seine; Nantes|Loire; Orléans|Loire; Tours|Loire; Bordeaux|Garonne; Toulouse|Garonne; Avignon|Rhône;
Arles|Rhône; Seville|Guadalquivir; Zaragoza|Ebro; Logroño|Ebro; Porto|Douro; Lisbon|Tagus; Florence|Arno;
Pisa|Arno; Turin|Po; Verona|Adige; Kraków|Vistula; Warsaw|Vistula; Wrocław|Oder; Szczecin|Oder; Poznań|Warta;
Prague|Vltava; Kyiv|Dnieper; Zaporizhzhia|Dnieper; Smolensk|Dnieper; Kazan|Volga; Samara|Volga; Volgograd|Volga;
Saratov|Volga; Yaroslavl|Volga; Nizhny Novgorod|Volga; Astrakhan|Volga; Novosibirsk|Ob; Krasnoyarsk|Yenisei;
Irkutsk|Angara; Khabarovsk|Amur; Yakutsk|Lena; Omsk|Irtysh; Riga|Daugava; Vilnius|Neris; Tbilisi|Kura;
Oxford|Thames; Reading|Thames; Newcastle|Tyne; Glasgow|Clyde; York|Ouse; Limerick|Shannon; Dublin|Liffey;
Derry|Foyle; Cairo|Nile; Luxor|Nile; Aswan|Nile; Khartoum|Nile; Juba|Nile; Baghdad|Tigris; Mosul|Tigris;
Raqqa|Euphrates; Varanasi|Ganges; Patna|Ganges; Kanpur|Ganges; Haridwar|Ganges; Rishikesh|Ganges; Agra|Yamuna;
Mathura|Yamuna; Wuhan|Yangtze; Chongqing|Yangtze; Nanjing|Yangtze; Phnom Penh|Mekong; Vientiane|Mekong;
Luang Prabang|Mekong; Bangkok|Chao Phraya; Mandalay|Irrawaddy; Lahore|Ravi; Seoul|Han; Bamako|Niger; Niamey|Niger;
Timbuktu|Niger; Kinshasa|Congo; Brazzaville|Congo; New Orleans|Mississippi; Baton Rouge|Mississippi;
St. Louis|Mississippi; Minneapolis|Mississippi; Iquitos|Amazon;
Gloucester|Severn; Stirling|Forth; Dundee|Tay; Inverness|Ness; 
Sunderland|Wear; Exeter|Exe; Nottingham|Trent; Galway|Corrib; Waterford|Suir; Antwerp|Scheldt;
Liège|Meuse; Namur|Meuse; Maastricht|Meuse; Nijmegen|Waal; Arnhem|Rhine; Bern|Aare; Zurich|Limmat; Lucerne|Reuss;
Innsbruck|Inn; Graz|Mur; Salzburg|Salzach; Ljubljana|Ljubljanica; Zagreb|Sava; Sarajevo|Miljacka; Mostar|Neretva;
Skopje|Vardar; Plovdiv|Maritsa; Bucharest|Dâmbovița; Grenoble|Isère; Amiens|Somme; Metz|Moselle; Trier|Moselle;
Limoges|Vienne; Blois|Loire; Nevers|Loire; Cahors|Lot; Albi|Tarn; Besançon|Doubs; Madrid|Manzanares;
Valladolid|Pisuerga; Salamanca|Tormes; Granada|Genil; Bilbao|Nervión; Coimbra|Mondego; Pavia|Ticino;
Cremona|Po; Piacenza|Po; Ferrara|Po; Mantua|Mincio; Berlin|Spree; Potsdam|Havel; Frankfurt|Main; Hanover|Leine;
Kassel|Fulda; Munich|Isar; Augsburg|Lech; Nuremberg|Pegnitz; Bamberg|Regnitz; Ingolstadt|Danube; Minsk|Svislach;
Grodno|Neman; Tartu|Emajõgi; Saint Petersburg|Neva; Moscow|Moskva; Tver|Volga; Perm|Kama; Ufa|Belaya; Orenburg|Ural;
Tomsk|Tom; Barnaul|Ob; Ulan-Ude|Selenga; Chernivtsi|Prut; Yerevan|Hrazdan; Samarkand|Zeravshan; 
Kolkata|Hooghly; Jabalpur|Narmada; Cuttack|Mahanadi; Srinagar|Jhelum; Dibrugarh|Brahmaputra;
Harbin|Songhua; Guangzhou|Pearl; Shanghai|Huangpu; Hue|Perfume; Ayutthaya|Chao Phraya; Chiang Mai|Ping;
Palembang|Musi; Pyongyang|Taedong; Damascus|Barada; Edirne|Maritsa; Kisangani|Congo; Bangui|Ubangi; Onitsha|Niger;
Mopti|Niger; Washington, D.C.|Potomac; Natchez|Mississippi;
Vicksburg|Mississippi; Davenport|Mississippi; Dubuque|Mississippi; Yuma|Colorado;
Winnipeg|Red; Edmonton|North Saskatchewan; Saskatoon|South Saskatchewan; Calgary|Bow;
Santarém|Tapajós; Rosario|Paraná; Corrientes|Paraná; Posadas|Paraná; Ciudad Bolívar|Orinoco; Barranquilla|Magdalena
""",
}

# the country (and other names) of each target: a greedy answer naming them is no wrong answer of the asked kind
_US = "United States, USA, US, U.S, America, American"
_STATE_COUNTRY = {"United States": "California, Arizona, New Mexico, Idaho, Washington, Oregon, Nevada, Utah, Wyoming, "
                                   "Montana, North Dakota, South Dakota, Nebraska, Kansas, Oklahoma, Arkansas, Louisiana, "
                                   "Mississippi, Alabama, Tennessee, Georgia, Florida, North Carolina, Virginia, "
                                   "Maryland, Pennsylvania, New York, Connecticut, Rhode Island, Vermont, New Jersey, "
                                   "Ohio, Michigan, Wisconsin, Minnesota, Iowa, Illinois, Indiana, Texas, Alaska, Hawaii",
                  "India": "Maharashtra, Gujarat, Rajasthan, Uttar Pradesh, Madhya Pradesh, Kerala, Tamil Nadu, "
                           "Karnataka, Odisha, Assam, Punjab, Andhra Pradesh, Jharkhand, Uttarakhand, Himachal Pradesh, "
                           "West Bengal",
                  "Australia": "Queensland, Victoria, New South Wales, Tasmania, Western Australia",
                  "Brazil": "São Paulo, Paraná, Rio Grande do Sul, Pernambuco, Ceará, Amazonas, Pará, Santa Catarina, "
                            "Minas Gerais, Goiás",
                  "Mexico": "Nuevo León, Baja California, Sonora, Sinaloa, Quintana Roo, Guerrero, Michoacán, "
                            "Chihuahua, Coahuila"}
# city target -> "country; region(s)"
_CITY = """
Beaverton|United States; Oregon. Seattle|United States; Washington. Redmond|United States; Washington.
Santa Clara|United States; California, Silicon Valley. San Jose|United States; California, Silicon Valley.
Round Rock|United States; Texas. Bentonville|United States; Arkansas. Springdale|United States; Arkansas.
Atlanta|United States; Georgia. Memphis|United States; Tennessee. Cincinnati|United States; Ohio.
Akron|United States; Ohio. Cleveland|United States; Ohio. Detroit|United States; Michigan.
Auburn Hills|United States; Michigan. Ann Arbor|United States; Michigan. Battle Creek|United States; Michigan.
Benton Harbor|United States; Michigan. Midland|United States; Michigan. Camden|United States; New Jersey.
New Brunswick|United States; New Jersey. New York|United States; Manhattan. Armonk|United States; New York.
Rochester|United States; New York. Milwaukee|United States; Wisconsin. Dallas|United States; Texas.
Los Gatos|United States; California, Silicon Valley. Mountain View|United States; California, Silicon Valley.
Palo Alto|United States; California, Silicon Valley. San Francisco|United States; California, Bay Area.
El Segundo|United States; California. San Diego|United States; California. Bethesda|United States; Maryland.
McLean|United States; Virginia. Indianapolis|United States; Indiana. Columbus|United States; Indiana, Ohio.
Kansas City|United States; Missouri, Kansas. Omaha|United States; Nebraska. Lakeland|United States; Florida.
Louisville|United States; Kentucky. Pawtucket|United States; Rhode Island. Boston|United States; Massachusetts.
Framingham|United States; Massachusetts. Freeport|United States; Maine. Chicago|United States; Illinois.
Pittsburgh|United States; Pennsylvania. Minnetonka|United States; Minnesota. Tupelo|United States; Mississippi.
New Orleans|United States; Louisiana. Duluth|United States; Minnesota. Oak Park|United States; Illinois.
Honolulu|United States; Hawaii. Philadelphia|United States; Pennsylvania. Lowell|United States; Massachusetts.
Wolfsburg|Germany; Lower Saxony. Munich|Germany; Bavaria. Ingolstadt|Germany; Bavaria.
Stuttgart|Germany; Baden-Württemberg, Swabia. Herzogenaurach|Germany; Bavaria, Franconia.
Ludwigshafen|Germany; Rhineland-Palatinate. Walldorf|Germany; Baden-Württemberg. Bonn|Germany; North Rhine-Westphalia.
Düsseldorf|Germany; North Rhine-Westphalia. Hamburg|Germany. Oberkochen|Germany; Baden-Württemberg.
Gütersloh|Germany; North Rhine-Westphalia. Bielefeld|Germany; North Rhine-Westphalia. Ulm|Germany; Baden-Württemberg.
Trier|Germany; Rhineland-Palatinate. Frankfurt|Germany; Hesse. Eisenach|Germany; Thuringia.
Halle|Germany; Saxony-Anhalt. Leipzig|Germany; Saxony. Zwickau|Germany; Saxony. Nuremberg|Germany; Bavaria, Franconia.
Mainz|Germany; Rhineland-Palatinate. Königsberg|Germany, Russia, Prussia; East Prussia, Kaliningrad.
Toulouse|France; Occitanie. Clermont-Ferrand|France; Auvergne. Ajaccio|France; Corsica. Besançon|France; Doubs.
Rouen|France; Normandy. Nantes|France; Brittany. Aix-en-Provence|France; Provence. Marseille|France; Provence.
Paris|France. Saumur|France; Loire. Nice|France, Italy; Provence, Côte d'Azur.
Veldhoven|Netherlands, Holland; Eindhoven, Brabant. Leiden|Netherlands, Holland. Delft|Netherlands, Holland.
Rotterdam|Netherlands, Holland. Espoo|Finland; Helsinki. Hämeenlinna|Finland. Stockholm|Sweden.
Gothenburg|Sweden. Billund|Denmark; Jutland. Copenhagen|Denmark. Aarhus|Denmark; Jutland. Odense|Denmark; Funen.
Skien|Norway. Bergen|Norway. Vevey|Switzerland; Lake Geneva, Vaud. Basel|Switzerland. Biel|Switzerland; Bern.
Geneva|Switzerland. Turin|Italy; Piedmont. Maranello|Italy; Modena, Emilia-Romagna. Milan|Italy; Lombardy.
Parma|Italy; Emilia-Romagna. Bologna|Italy; Emilia-Romagna. Treviso|Italy; Veneto. Florence|Italy; Tuscany.
Pisa|Italy; Tuscany. Genoa|Italy; Liguria. Venice|Italy; Veneto. Lucca|Italy; Tuscany. Pesaro|Italy; Marche.
Modena|Italy; Emilia-Romagna. Rimini|Italy; Emilia-Romagna. Rome|Italy; Lazio. Urbino|Italy; Marche.
Syracuse|Italy; Sicily. Birmingham|United Kingdom, England, English, Britain. Coventry|United Kingdom, England, Britain.
Shrewsbury|United Kingdom, England, Britain; Shropshire. Portsmouth|United Kingdom, England, Britain; Hampshire.
Liverpool|United Kingdom, England, Britain. London|United Kingdom, England, Britain.
Edinburgh|United Kingdom, Scotland, Scottish, Britain. Kirkcaldy|United Kingdom, Scotland, Scottish, Britain; Fife.
Dublin|Ireland, Irish. Tokyo|Japan. Kyoto|Japan. Osaka|Japan. Hiroshima|Japan. Hamamatsu|Japan; Shizuoka.
Seoul|South Korea, Korea. Pohang|South Korea, Korea. Hangzhou|China; Zhejiang. Shenzhen|China; Guangdong.
Beijing|China. Qingdao|China; Shandong. Mumbai|India; Maharashtra, Bombay. Bangalore|India; Karnataka, Bengaluru.
Allahabad|India; Uttar Pradesh, Prayagraj. Calcutta|India; West Bengal, Kolkata. Porbandar|India; Gujarat.
Hsinchu|Taiwan. Waterloo|Canada; Ontario. Montreal|Canada; Quebec. Ottawa|Canada; Ontario.
Rio de Janeiro|Brazil. São Paulo|Brazil. Porto Alegre|Brazil; Rio Grande do Sul. Itabuna|Brazil; Bahia.
Monterrey|Mexico; Nuevo León. Mexico City|Mexico. Guanajuato|Mexico. Buenos Aires|Argentina. Rosario|Argentina.
Aracataca|Colombia. Medellín|Colombia; Antioquia. Caracas|Venezuela. Lima|Peru. Parral|Chile.
Prague|Czech Republic, Czechia, Bohemia. Málaga|Spain; Andalusia. Figueres|Spain; Catalonia.
Seville|Spain; Andalusia. Manacor|Spain; Majorca, Mallorca, Balearic. Alcalá de Henares|Spain; Madrid.
Lisbon|Portugal. Funchal|Portugal; Madeira. Toruń|Poland. Warsaw|Poland. Moscow|Russia. Simbirsk|Russia; Ulyanovsk.
Votkinsk|Russia; Udmurtia. Vienna|Austria. Salzburg|Austria. Brussels|Belgium. Reykjavík|Iceland.
Thessaloniki|Greece; Macedonia, Salonica. Stagira|Greece; Macedonia, Chalkidiki. Pella|Greece; Macedonia.
Gori|Georgia.
"""
# river target -> its other names
_RIVERS = {"Danube": "Donau, Duna, Dunaj, Dunav", "Rhine": "Rhein, Rhin", "Vistula": "Wisła, Wisla",
           "Oder": "Odra", "Vltava": "Moldau", "Dnieper": "Dnipro, Dnepr", "Tagus": "Tajo, Tejo", "Douro": "Duero",
           "Elbe": "Labe", "Daugava": "Western Dvina", "Ganges": "Ganga", "Yangtze": "Chang Jiang, Yangzi",
           "Irrawaddy": "Ayeyarwady", "Congo": "Zaire", "Neris": "Viliya", "Kura": "Mtkvari"}


def _tables() -> tuple[dict[str, str], dict[str, str]]:
    """SAME (target -> the country and other names of the target) and REGIONS (target -> regions it lies in)."""
    same, regions = {}, {}
    for country, states in _STATE_COUNTRY.items():
        for state in words(states):
            same[state] = ", ".join([country, mf2.SAME.get(country, "")] + ([_US] if country == "United States" else []))
    for item in _CITY.replace("\n", " ").split(". "):
        city, _, rest = item.strip(" .").partition("|")
        if not city:
            continue
        countries, _, region = rest.partition(";")
        same[city] = ", ".join(x for c in words(countries) for x in (c, mf2.SAME.get(c, "")) if x)
        regions[city] = region.strip()
    for river, other in _RIVERS.items():
        same[river] = other
    regions["Hawaii"] = "Maui, Oahu, Kauai, Big Island"  # islands of the target state (SmolLM2: Hilo -> " Maui")
    return ({k: ", ".join(words(v)) for k, v in same.items()}, regions)


SAME, REGIONS = _tables()
# every country and its adjectives/other names, plus the nations of the United Kingdom: the answer "a country"
_COUNTRY_WORDS = sorted({w for c in words(mf.COUNTRIES.replace("\n", " ")) for w in [c] + words(mf2.SAME.get(c, ""))}
                        | {"England", "Scotland", "Wales", "Britain", "Great Britain", "Holland", "Czechia", "Korea",
                           "America", "USA", "UK", "Europe", "Asia", "Africa", "South America", "North America"})

# Generic prompts written for this file (one clear next word), none a prompt of the project; id generic:iNNN.
GENERIC = """
A carpenter works with| wood
A baker makes| bread
A pilot flies a| plane
A farmer grows| crops
A librarian works in a| library
A dentist looks after your| teeth
A tailor makes| clothes
A plumber fixes| pipes
A firefighter puts out| fires
A lifeguard watches the| swimmers
A shepherd looks after| sheep
A beekeeper keeps| bees
A butcher sells| meat
A fisherman catches| fish
A mechanic repairs| cars
A postman delivers| letters
A teacher works in a| school
A judge works in a| court
A nurse works in a| hospital
A chef works in a| kitchen
A sailor works on a| ship
An astronaut travels to| space
A cow gives us| milk
A hen lays| eggs
Sheep give us| wool
Spiders spin| webs
A frog starts its life as a| tadpole
A caterpillar turns into a| butterfly
A young cat is called a| kitten
A young sheep is called a| lamb
A young horse is called a| foal
A young cow is called a| calf
A young goat is called a| kid
A young swan is called a| cygnet
A group of wolves is called a| pack
A group of fish is called a| school
Camels live in the| desert
Polar bears live in the| Arctic
Kangaroos carry their babies in a| pouch
An elephant has a long| trunk
A giraffe has a very long| neck
A zebra has black and white| stripes
A porcupine is covered in| quills
A tortoise carries its| shell
Owls hunt at| night
Squirrels collect| nuts
Beavers build| dams
Whales breathe through a| blowhole
You brush your teeth with a| toothbrush
You cut paper with| scissors
You write on a blackboard with| chalk
You open a lock with a| key
You dig a hole with a| shovel
You sweep the floor with a| broom
You boil water in a| kettle
You tell the time with a| clock
You take photos with a| camera
You wear a hat on your| head
You wear socks on your| feet
You wear a ring on your| finger
You see with your| eyes
You hear with your| ears
You smell with your| nose
You chew food with your| teeth
We breathe in| oxygen
Ice is frozen| water
Steam is water in the form of a| gas
Water boils at one hundred degrees| Celsius
The earth goes around the| sun
The moon goes around the| earth
A year has twelve| months
A week has seven| days
A minute has sixty| seconds
An hour has sixty| minutes
A century is one hundred| years
A decade is ten| years
A dozen eggs is twelve| eggs
A triangle has three| sides
A square has four equal| sides
An octagon has eight| sides
A pentagon has five| sides
A spider has eight| legs
An insect has six| legs
A bicycle has two| wheels
A tricycle has three| wheels
A car has four| wheels
The first month of the year is| January
The last month of the year is| December
The month after March is| April
The month before June is| May
The day after Monday is| Tuesday
The day before Sunday is| Saturday
The day after Thursday is| Friday
Spring, summer, autumn and| winter
North, south, east and| west
Red, orange, yellow,| green
Monday, Tuesday,| Wednesday
January, February,| March
One, two, three,| four
Eleven, twelve,| thirteen
Second, third,| fourth
Alpha, beta,| gamma
Do, re,| mi
The colour of grass is| green
The colour of snow is| white
The colour of coal is| black
The colour of a ripe banana is| yellow
The colour of the sky on a clear day is| blue
Mixing blue and yellow makes| green
Mixing red and white makes| pink
Mixing red and blue makes| purple
The opposite of early is| late
The opposite of heavy is| light
The opposite of empty is| full
The opposite of tall is| short
The opposite of laugh is| cry
The opposite of sweet is| sour
The opposite of winner is| loser
The opposite of question is| answer
The opposite of entrance is| exit
The opposite of friend is| enemy
The opposite of always is| never
The opposite of ancient is| modern
The opposite of asleep is| awake
The opposite of arrive is| leave
The plural of mouse is| mice
The plural of child is| children
The plural of tooth is| teeth
The plural of foot is| feet
The plural of woman is| women
The past tense of go is| went
The past tense of eat is| ate
The past tense of see is| saw
The past tense of run is| ran
The past tense of write is| wrote
Two plus two equals| four
Three times three equals| nine
Ten minus four equals| six
Half of ten is| five
The square root of nine is| three
A thousand grams is one| kilogram
A thousand metres is one| kilometre
The freezing point of water is zero degrees| Celsius
The fastest land animal is the| cheetah
The largest animal on earth is the blue| whale
The tallest animal in the world is the| giraffe
The king of the jungle is the| lion
The closest star to the earth is the| sun
The planet closest to the sun is| Mercury
The red planet is| Mars
The planet with the famous rings is| Saturn
Humans have two lungs and one| heart
Blood is pumped around the body by the| heart
The body's largest organ is the| skin
Bones are made strong by| calcium
Plants need sunlight to make their| food
Leaves are green because of| chlorophyll
Bread is made from| flour
Butter is made from| milk
Wine is made from| grapes
Cider is made from| apples
Popcorn is made from| corn
Chocolate is made from| cocoa
Paper is made from| wood
Glass is made from| sand
Honey is made by| bees
Silk is made by| silkworms
Pearls are found in| oysters
Diamonds are made of| carbon
Rain falls from the| clouds
Lightning is followed by| thunder
A rainbow has seven| colours
After the rain comes the| sunshine
The sun rises in the| east
The sun sets in the| west
Sand dunes are found in the| desert
A volcano erupts| lava
An island is surrounded by| water
Rivers flow into the| sea
Fish breathe through their| gills
Birds are covered in| feathers
A cactus is covered in| spines
An apple a day keeps the doctor| away
Actions speak louder than| words
Practice makes| perfect
Better late than| never
Easy come, easy| go
Out of sight, out of| mind
Time flies when you're having| fun
The early bird catches the| worm
Don't cry over spilt| milk
Every cloud has a silver| lining
Curiosity killed the| cat
Look before you| leap
Honesty is the best| policy
Beauty is in the eye of the| beholder
All that glitters is not| gold
Two heads are better than| one
Rome was not built in a| day
Birds of a feather flock| together
The pen is mightier than the| sword
No news is good| news
A picture is worth a thousand| words
Great minds think| alike
Strike while the iron is| hot
Let sleeping dogs| lie
Don't put all your eggs in one| basket
You can't judge a book by its| cover
Still waters run| deep
Once bitten, twice| shy
Slow and steady wins the| race
Happy birthday to| you
Twinkle, twinkle, little| star
Humpty Dumpty sat on a| wall
Old MacDonald had a| farm
Mary had a little| lamb
Row, row, row your| boat
Baa, baa, black| sheep
Hickory dickory| dock
London Bridge is falling| down
Goldilocks and the Three| Bears
Snow White and the Seven| Dwarfs
Beauty and the| Beast
Little Red Riding| Hood
Alice in| Wonderland
The Wizard of| Oz
Romeo and| Juliet
Pride and| Prejudice
War and| Peace
Crime and| Punishment
Tom and| Jerry
Peanut butter and| jelly
Bacon and| eggs
Macaroni and| cheese
Needle and| thread
Pen and| paper
Cup and| saucer
Bow and| arrow
Lock and| key
Thunder and| lightning
Sun and| moon
Fire and| ice
King and| queen
Prince and| princess
Husband and| wife
Brother and| sister
Mother and| father
Left and| right
Hot and| cold
Rich and| poor
Young and| old
Life and| death
Question and| answer
Cause and| effect
Supply and| demand
Trial and| error
Hide and| seek
Odds and| ends
Pros and| cons
Safe and| sound
Peace and| quiet
Arts and| crafts
Bits and| pieces
Nuts and| bolts
Hugs and| kisses
Bride and| groom
Cookies and| cream
Strawberries and| cream
In the morning I drink a cup of hot| coffee
When it gets dark, we turn on the| lights
She put the milk back in the| fridge
He locked the door and put the key in his| pocket
The children built a snowman in the| garden
After dinner, she washed the| dishes
He went to the bank to withdraw some| money
The train leaves from platform number| three
Please close the window, it is very| cold
The baby was crying because she was| hungry
We bought our tickets at the| station
He brushed his teeth and went to| bed
I forgot my umbrella and got completely| wet
They watched the film at the| cinema
She wrote a letter and put it in an| envelope
The dog wagged its| tail
The cat climbed up the| tree
He took the lift to the tenth| floor
The students opened their books and began to| read
The shop closes at six o'clock in the| evening
At the airport, we showed our| passports
The waiter brought us the| menu
She paid for the groceries with her credit| card
He cut the bread with a sharp| knife
The plane landed safely at the| airport
We went swimming in the| sea
The farmer milked the| cows
The firefighters arrived in a red fire| engine
Every morning the postman delivers the| mail
The library is a quiet place to| read
The kettle is boiling, so let's make some| tea
When you are tired, you should get some| sleep
The football match ended in a| draw
He scored the winning| goal
The orchestra was led by the| conductor
At the end of the play, the audience began to| clap
He played the guitar and she sang a| song
She looked at herself in the| mirror
They planted seeds in the| soil
The sun was shining and the sky was| blue
It was so hot that the ice cream began to| melt
The leaves turn red and yellow in the| autumn
In winter the lake was covered with| ice
The ship sailed across the| ocean
The mountain was covered with| snow
The bird flew back to its| nest
The bees were buzzing around the| flowers
The cow was eating| grass
The fisherman caught a big| fish
The hungry lion chased the| zebra
He wore a warm coat because it was| cold
She put on her sunglasses because it was| sunny
The doctor listened to his heart with a| stethoscope
The patient took the medicine twice a| day
The teacher wrote the answer on the| board
The pupils raised their| hands
My grandmother is my mother's| mother
My uncle is my father's| brother
My aunt is my mother's| sister
The son of my brother is my| nephew
The daughter of my sister is my| niece
A person who writes books is called an| author
A person who paints pictures is called a| painter
A person who designs buildings is called an| architect
A person who flies a plane is called a| pilot
A doctor who treats animals is called a| vet
The study of living things is called| biology
The study of the stars is called| astronomy
The study of the past is called| history
The study of numbers is called| mathematics
A word that means the same as another word is a| synonym
A word that means the opposite of another word is an| antonym
A book of maps is called an| atlas
A book that lists words and their meanings is a| dictionary
The instrument with black and white keys is the| piano
The instrument with six strings is the| guitar
Water covers most of the surface of the| Earth
Plants grow towards the| light
Fish live in the| water
The frozen continent at the South Pole is| Antarctica
The tallest mountain in the world is Mount| Everest
The longest river in Africa is the| Nile
The largest ocean on Earth is the| Pacific
The largest desert in Africa is the| Sahara
The Statue of Liberty is in New| York
The Eiffel Tower is in| Paris
The Great Wall is in| China
Kangaroos are found in| Australia
Pandas come from| China
Penguins live in| Antarctica
The Pyramids of Giza are in| Egypt
Pizza comes from| Italy
The Olympic Games are held every four| years
The Olympic rings are five| circles
Leap years have three hundred and sixty-six| days
Christmas is celebrated on the twenty-fifth of| December
New Year's Day is the first of| January
Valentine's Day is in| February
Halloween is celebrated at the end of| October
The opposite of victory is| defeat
The opposite of success is| failure
The opposite of love is| hate
The opposite of beginning is| end
The opposite of inside is| outside
The opposite of buy is| sell
The opposite of push is| pull
The opposite of remember is| forget
The opposite of accept is| refuse
The opposite of increase is| decrease
The opposite of maximum is| minimum
The opposite of positive is| negative
The opposite of rural is| urban
The opposite of guilty is| innocent
The opposite of visible is| invisible
The opposite of possible is| impossible
The opposite of polite is| rude
The opposite of brave is| cowardly
The opposite of shallow is| deep
The opposite of smooth is| rough
The opposite of tight is| loose
The opposite of noisy is| quiet
A person who cannot see is| blind
A person who cannot hear is| deaf
Something that happens every year is| annual
Something that happens every day is| daily
Twelve months make a| year
Seven days make a| week
Sixty seconds make a| minute
Ten years make a| decade
A hundred years make a| century
A thousand years make a| millennium
Two halves make a| whole
Twenty-four hours make a| day
Frozen rain is called| hail
A baby kangaroo is called a| joey
A baby bear is called a| cub
A baby duck is called a| duckling
A baby goose is called a| gosling
A baby pig is called a| piglet
A baby deer is called a| fawn
A male chicken is called a| rooster
A female horse is called a| mare
A female sheep is called a| ewe
A male cow is called a| bull
A house for a dog is called a| kennel
A house for bees is called a| hive
A home for birds is called a| nest
A group of cows is called a| herd
A group of bees is called a| swarm
A group of sheep is called a| flock
The sound a dog makes is a| bark
The sound a cat makes is a| meow
The sound a lion makes is a| roar
The sound a cow makes is a| moo
The sound a snake makes is a| hiss
The sound a horse makes is a| neigh
The sound a duck makes is a| quack
The sound a pig makes is an| oink
He was so tired that he fell| asleep
She was so happy that she started to| smile
The joke was so funny that everyone started to| laugh
The film was so sad that she began to| cry
He was thirsty, so he drank a glass of| water
She was hungry, so she ate a| sandwich
It started to rain, so he opened his| umbrella
The room was dark, so she switched on the| light
The phone rang, so he picked up the| phone
The bus was full, so we decided to| walk
The soup was too hot to| eat
The box was too heavy to| lift
The river was too deep to| cross
The music was too loud, so she turned it| down
The glass fell on the floor and| broke
The candle burned all night until it went| out
The balloon flew up into the| sky
The ball rolled down the| hill
The bread was fresh from the| oven
The milk had gone| sour
The apples were ripe and ready to| eat
The plants died because nobody watered| them
Thank you very| much
Nice to meet| you
Good morning, how are| you
See you| later
Excuse| me
Happy new| year
Merry| Christmas
Once in a blue| moon
It's raining cats and| dogs
Break a| leg
Hit the| road
Piece of| cake
Under the| weather
Cost an arm and a| leg
Let the cat out of the| bag
Kill two birds with one| stone
The ball is in your| court
Call it a| day
Beat around the| bush
Every dog has its| day
Fortune favours the| brave
Absence makes the heart grow| fonder
Knowledge is| power
Money doesn't grow on| trees
Where there's a will, there's a| way
The grass is always greener on the other| side
Don't count your chickens before they| hatch
A bird in the hand is worth two in the| bush
An eye for an| eye
Home sweet| home
Better safe than| sorry
First come, first| served
Live and| learn
Seeing is| believing
Time is| money
What goes up must come| down
"""

# --- the held-out rule (fresh3's: every other file of the repository), and the earlier sets' subjects -----------------


def seen_files() -> list[Path]:
    """Every file of the repository that git tracks or would track (untracked, not ignored), this set's own excepted."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    return sorted(Path(p) for p in set(out)
                  if not p.startswith(SELF) and Path(p).is_file() and "__pycache__" not in Path(p).parts)


def earlier_subjects() -> set[str]:
    """The subjects of the earlier held-out sets (bench/fresh, fresh2, fresh3): no row of this set may name one."""
    out = set()
    for folder in EARLIER:
        for p in sorted(Path(folder).glob("*.jsonl")):
            for line in p.read_text(encoding="utf-8").splitlines():
                rid = json.loads(line)["id"]
                if not rid.startswith("generic:"):
                    out.add(rid.split(":", 1)[1])
    return out


def names_earlier(text: str, names: set[str]) -> list[str]:
    """The earlier held-out subjects ``text`` names (whole word, case-insensitive, longest first)."""
    ordered = sorted(names, key=len, reverse=True)
    pattern = r"(?<!\w)(?:" + "|".join(re.escape(s) for s in ordered) + r")(?!\w)"
    return re.findall(pattern, text, re.IGNORECASE)


def template_of(f: dict) -> str:
    """The fact's prompt template, "{}" where its subject is (as patchkit.selection reads a template)."""
    subject = mf2.subject_of(f)
    cap = subject[0].upper() + subject[1:]
    assert cap in f["prompt"], f
    return f["prompt"].replace(cap, "{}", 1)


def check_kinds(rows: list[dict]) -> None:
    """Every relation row's template lets known_kind name its subject's kind, the relation's KIND, from its words."""
    from patchkit import selection
    for f in rows:
        rel = f["id"].split(":", 1)[0]
        if rel == "generic":
            continue
        kind = selection.known_kind([mf2.subject_of(f)], template_of(f))
        assert kind == KIND[rel], (f["id"], template_of(f), kind)


_why_not_near2 = mf2.why_not_near
# a river prompt's greedy answer that starts with one of these words has not given its answer yet
_NOT_YET = {"bank", "banks", "shore", "shores", "river", "rivers", "confluence", "mouth"}


def why_not_near(top: str, text: str, target: str, subject: str = "") -> str | None:
    """make_fresh2's rule, then: the targets are states, cities and rivers, so a country (or a country's adjective or
    other name, or a continent) is no wrong answer of the asked kind, nor is the region a city target lies in."""
    why = _why_not_near2(top, text, target, subject)
    if why is None and any(starts_with(text, c) for c in _COUNTRY_WORDS if c != target.strip()):
        return "a country, not the asked kind"
    if why is None and text.strip().split(" ")[0].lower() in _NOT_YET:
        return "no answer yet"  # Gemma: Haridwar -> " banks of the Ganges," (right, in other words)
    return why


def use_fresh4() -> None:
    """Point make_fresh2's module globals (read by its fact/held_out/why_not_near/build/verify) at this file's."""
    for name in ("OUT", "SEED", "TEMPLATES", "ALT", "SAME", "REGIONS", "why_not_near"):
        setattr(mf2, name, globals()[name])


def candidates() -> list[dict]:
    pool = [mf2.fact(rel, s, c) for rel, spec in SUBJECTS.items() for s, c in parse(spec).items()]
    by_subject: dict[str, set[str]] = {}
    for f in pool:
        by_subject.setdefault(mf2.subject_of(f), set()).add(f["id"].split(":")[0])
    shared = {s: r for s, r in by_subject.items() if len(r) > 1}
    assert not shared, f"a subject of two relations: {shared}"
    return pool


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=list(MODELS), action="append", help="only this model (default: both)")
    ap.add_argument("--dry", action="store_true", help="apply the held-out rule and stop (no model)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    use_fresh4()
    files = seen_files()
    text = "\n".join(p.read_text(errors="ignore") for p in files).lower()
    prompts = mf.seen_prompts(files)
    print(f"held-out rule: {len(files)} files, {len(prompts)} existing prompts")
    pool = candidates()
    print(f"candidates written: {len(pool)} " + str({r: len(parse(s)) for r, s in SUBJECTS.items()}))
    check_kinds(pool)
    print("known kinds: every candidate's template gives its relation's kind "
          + str({r: KIND[r] for r in TEMPLATES}) + "; paraphrases: "
          + str({r: [__import__("patchkit.selection", fromlist=["x"]).template_kind(t.replace("{S}", "{}"))
                     for t in TEMPLATES[r][1:]] for r in TEMPLATES}))
    from patchkit import selection
    sel = {n.lower() for names in selection.subject_pool().values() for n in names}
    in_pool = [f["id"] for f in pool if mf2.subject_of(f).lower() in sel]
    print(f"held-out rule: dropped {len(in_pool)} (in the selection pool)"
          + (": " + ", ".join(in_pool) if in_pool else ""))
    old = earlier_subjects()
    names_old = [f["id"] for f in pool if names_earlier(" ".join([f["prompt"], f["target"], *f["paraphrases"]]), old)]
    print(f"held-out rule: dropped {len(names_old)} (names a subject of {', '.join(EARLIER)})"
          + (": " + ", ".join(names_old) if names_old else ""))
    pool = mf2.held_out([f for f in pool if f["id"] not in in_pool and f["id"] not in names_old], text, prompts)
    print(f"candidates kept: {len(pool)} " + str({r: sum(f["id"].startswith(r + ":") for f in pool) for r in TEMPLATES}))
    gen_pool = mf.generic_pool(prompts, GENERIC, "generic:i{:03d}")
    gen_old = [g["prompt"] + "|" + g["target"] for g in gen_pool if names_earlier(g["prompt"] + g["target"], old)]
    gen_pool = [g for g in gen_pool if g["prompt"] + "|" + g["target"] not in gen_old]
    print(f"generic: dropped {len(gen_old)} naming an earlier held-out subject: {gen_old}; {len(gen_pool)} candidates")
    own = [p for p in sorted(OUT.glob("*")) if p.suffix in (".py", ".md", ".txt")]
    for p in own:  # this folder's own texts name no earlier held-out subject either
        assert not names_earlier(p.read_text(encoding="utf-8"), old), (p, names_earlier(p.read_text(), old))
    if args.dry:
        return
    torch.manual_seed(0)
    summary = {m: mf2.build(m, MODELS[m], pool, gen_pool) for m in (args.model or list(MODELS))}
    for m in args.model or list(MODELS):
        rows = [json.loads(x) for x in (OUT / f"{m}_near_all.jsonl").read_text(encoding="utf-8").splitlines()]
        check_kinds(rows)
        print(f"{m}: known_kind gives the relation's kind for all {len(rows)} near-miss rows")
    print("\nsummary:", json.dumps(summary))


if __name__ == "__main__":
    main()
