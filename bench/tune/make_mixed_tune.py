"""Build bench/tune/mixed_near.jsonl and mixed_right.jsonl: a mixed-relation tuning set for SmolLM2-135M-Instruct.

Run from the repository root (CPU, fp32, about 2 minutes on two cores):

    python bench/tune/make_mixed_tune.py            # probe, check, write both files, re-score them
    python bench/tune/make_mixed_tune.py --probe    # probe and print every candidate, write nothing

Relations and subjects are disjoint from bench/heldout (company/city/landmark/birth/river -> country, painting ->
artist, element symbol) and from the country relations of bench/tune (capital, language, continent, currency); see
the "Mixed-relation tuning set (session 7)" section of bench/tune/README.md. Scoring rule of bench/heldout/README.md:
rank and gap of the target's first token at the last prompt position; right = the greedy tokens spell the whole
target, teacher-forced (patchkit.evals.score_facts).
"""
import glob
import json
import os
import random
import re
import sys
from collections import Counter

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
import torch  # noqa: E402

from patchkit import models  # noqa: E402
from patchkit.evals import Fact, score_facts  # noqa: E402
from patchkit.trace import continuation_ids  # noqa: E402

torch.set_num_threads(1)

# relation -> (prompt template, two paraphrase templates). {S} = subject, {s} = subject with a leading "The"
# lower-cased. Paraphrases are written from the template, not chosen by score.
TEMPLATES = {
    "city_continent": ("The city of {S} is on the continent of",
                       ["{S} is a city on the continent of", "The continent where the city of {S} lies is"]),
    "company_hq_city": ("{S} has its headquarters in the city of",
                        ["The headquarters of {S} are in the city of", "{S} is a company based in the city of"]),
    "landmark_city": ("{S} is a landmark in the city of",
                      ["{S} is a famous sight in the city of", "To see {s}, you have to visit the city of"]),
    "musician_instrument": ("{S} was famous for playing the",
                            ["{S} was best known as a player of the", "The instrument that {S} played was the"]),
    "writer_language": ("The books of {S} were originally written in",
                        ["{S} wrote mostly in the language called", "The original language of the works of {S} is"]),
    "university_country": ("The university {S} is in the country of",
                           ["{S} is a university in the country of",
                            "The university {S} is located in the country of"]),
    "club_country": ("{S} is a football club from the country of",
                     ["The football club {S} is based in the country of", "{S} is a football team in the country of"]),
    "island_country": ("The island of {S} belongs to the country of",
                       ["{S} is an island that is part of the country of", "The island {S} is in the country of"]),
    "mountain_country": ("{S} is a mountain in the country of",
                         ["{S} is a mountain that lies in the country of", "To climb {s}, you have to travel to the country of"]),
    "band_country": ("The band {S} comes from the country of",
                     ["{S} is a band from the country of", "The music group {S} was formed in the country of"]),
}

# Candidates, "Subject | Target" (target without its leading space). Only facts with one clear answer; cities and
# places in transcontinental countries, Oceania, Central America and the Caribbean are left out of city_continent,
# and US/UK answers are left out of the country relations (" the United States"/" America", " England"/" the UK").
CANDIDATES = {
    "city_continent": """
Antwerp|Europe; Rotterdam|Europe; Utrecht|Europe; Eindhoven|Europe; Ghent|Europe; Liege|Europe; Lille|Europe;
Nantes|Europe; Montpellier|Europe; Rennes|Europe; Grenoble|Europe; Dijon|Europe; Turin|Europe; Naples|Europe;
Genoa|Europe; Florence|Europe; Verona|Europe; Bari|Europe; Catania|Europe; Zaragoza|Europe; Malaga|Europe;
Alicante|Europe; Murcia|Europe; Braga|Europe; Dortmund|Europe; Essen|Europe; Dusseldorf|Europe; Bremen|Europe;
Hanover|Europe; Nuremberg|Europe; Bonn|Europe; Heidelberg|Europe; Basel|Europe; Geneva|Europe; Lausanne|Europe;
Linz|Europe; Brno|Europe; Bratislava|Europe; Debrecen|Europe; Cluj-Napoca|Europe; Timisoara|Europe; Plovdiv|Europe;
Varna|Europe; Split|Europe; Zadar|Europe; Ljubljana|Europe; Novi Sad|Europe; Sarajevo|Europe; Skopje|Europe;
Tirana|Europe; Patras|Europe; Tallinn|Europe; Riga|Europe; Vilnius|Europe; Kaunas|Europe; Minsk|Europe; Lviv|Europe;
Kharkiv|Europe; Chisinau|Europe; Tampere|Europe; Turku|Europe; Gothenburg|Europe; Malmo|Europe; Aalborg|Europe;
Odense|Europe; Stavanger|Europe; Reykjavik|Europe; Limerick|Europe; Belfast|Europe; Cardiff|Europe; Leeds|Europe;
Bristol|Europe; Aberdeen|Europe;
Kobe|Asia; Sendai|Asia; Fukuoka|Asia; Busan|Asia; Daegu|Asia; Taipei|Asia; Kaohsiung|Asia; Hangzhou|Asia;
Nanjing|Asia; Xi'an|Asia; Chongqing|Asia; Tianjin|Asia; Harbin|Asia; Kunming|Asia; Xiamen|Asia; Hanoi|Asia; Hue|Asia;
Phnom Penh|Asia; Vientiane|Asia; Yangon|Asia; Mandalay|Asia; Chiang Mai|Asia; Kuala Lumpur|Asia; Cebu|Asia;
Davao|Asia; Medan|Asia; Bandung|Asia; Yogyakarta|Asia; Dhaka|Asia; Chittagong|Asia; Kathmandu|Asia; Thimphu|Asia;
Colombo|Asia; Hyderabad|Asia; Pune|Asia; Ahmedabad|Asia; Lucknow|Asia; Islamabad|Asia; Peshawar|Asia; Kabul|Asia;
Tashkent|Asia; Samarkand|Asia; Bishkek|Asia; Almaty|Asia; Ulaanbaatar|Asia; Tehran|Asia; Tabriz|Asia; Baghdad|Asia;
Basra|Asia; Damascus|Asia; Aleppo|Asia; Beirut|Asia; Amman|Asia; Riyadh|Asia; Jeddah|Asia; Muscat|Asia; Doha|Asia;
Abu Dhabi|Asia; Jerusalem|Asia; Vladivostok|Asia; Irkutsk|Asia;
Accra|Africa; Abuja|Africa; Kano|Africa; Dakar|Africa; Bamako|Africa; Timbuktu|Africa; Ouagadougou|Africa;
Niamey|Africa; Abidjan|Africa; Conakry|Africa; Freetown|Africa; Monrovia|Africa; Kinshasa|Africa; Brazzaville|Africa;
Luanda|Africa; Lusaka|Africa; Harare|Africa; Maputo|Africa; Windhoek|Africa; Gaborone|Africa; Durban|Africa;
Pretoria|Africa; Addis Ababa|Africa; Asmara|Africa; Khartoum|Africa; Kampala|Africa; Kigali|Africa;
Dar es Salaam|Africa; Mogadishu|Africa; Antananarivo|Africa; Tunis|Africa; Algiers|Africa; Oran|Africa;
Tripoli|Africa; Benghazi|Africa; Alexandria|Africa; Aswan|Africa; Rabat|Africa; Tangier|Africa; Agadir|Africa;
Tijuana|North America; Puebla|North America; Acapulco|North America; Oaxaca|North America; Veracruz|North America;
Winnipeg|North America; Edmonton|North America; Ottawa|North America; Quebec City|North America;
Halifax|North America; Houston|North America; Dallas|North America; Atlanta|North America; Miami|North America;
Denver|North America; Phoenix|North America; Detroit|North America; Philadelphia|North America;
Nashville|North America; Memphis|North America; New Orleans|North America; Minneapolis|North America;
Baltimore|North America; Anchorage|North America; Las Vegas|North America; San Diego|North America;
Pittsburgh|North America; Cleveland|North America; Cincinnati|North America; Kansas City|North America;
Salt Lake City|North America;
Medellin|South America; Cali|South America; Quito|South America; Guayaquil|South America; Cochabamba|South America;
Asuncion|South America; Montevideo|South America; Caracas|South America; Maracaibo|South America;
Valparaiso|South America; Brasilia|South America; Recife|South America; Fortaleza|South America;
Manaus|South America; Belo Horizonte|South America; Porto Alegre|South America; Curitiba|South America;
Salta|South America; Mar del Plata|South America; Bariloche|South America; Barranquilla|South America;
Paramaribo|South America
""",
    "company_hq_city": """
Coca-Cola|Atlanta; Delta Air Lines|Atlanta; Home Depot|Atlanta; Starbucks|Seattle; Walmart|Bentonville;
FedEx|Memphis; Dell|Round Rock; Nike|Beaverton; Harley-Davidson|Milwaukee; Kellogg|Battle Creek;
Procter & Gamble|Cincinnati; Kroger|Cincinnati; McDonald's|Chicago; United Airlines|Chicago;
American Airlines|Fort Worth; Southwest Airlines|Dallas; Texas Instruments|Dallas; Goldman Sachs|New York;
JPMorgan Chase|New York; Pfizer|New York; Uber|San Francisco; Airbnb|San Francisco; Salesforce|San Francisco;
Levi Strauss|San Francisco; Hewlett-Packard|Palo Alto; Costco|Issaquah; Anheuser-Busch|St. Louis;
Berkshire Hathaway|Omaha; Campbell Soup|Camden; Eli Lilly|Indianapolis; Whirlpool|Benton Harbor; John Deere|Moline;
Tyson Foods|Springdale; Walgreens|Deerfield; ConocoPhillips|Houston; Halliburton|Houston; Hallmark|Kansas City;
Domino's Pizza|Ann Arbor; Bombardier|Montreal; Shopify|Ottawa; BlackBerry|Waterloo; Tim Hortons|Toronto;
Lululemon|Vancouver; Carlsberg|Copenhagen; Rolex|Geneva; Guinness|Dublin; H&M|Stockholm; Michelin|Clermont-Ferrand;
Danone|Paris; Dior|Paris; LVMH|Paris; HSBC|London; Barclays|London; Prada|Milan; Armani|Milan; Versace|Milan;
Beiersdorf|Hamburg; Commerzbank|Frankfurt; SAP|Walldorf; Henkel|Dusseldorf; ThyssenKrupp|Essen;
Bertelsmann|Gutersloh; Swarovski|Wattens; Novartis|Basel; UBS|Zurich; Credit Suisse|Zurich; Swiss Re|Zurich;
ABB|Zurich; Electrolux|Stockholm; Skanska|Stockholm; Norsk Hydro|Oslo; ING|Amsterdam; ASML|Veldhoven;
Booking.com|Amsterdam; Aer Lingus|Dublin; Iberia|Madrid; Inditex|Arteixo; Mango|Barcelona; BBVA|Bilbao;
Repsol|Madrid; Enel|Rome; Luxottica|Milan; Piaggio|Pontedera; Olivetti|Ivrea; Aeroflot|Moscow;
Gazprom|Saint Petersburg; Yandex|Moscow; Kaspersky|Moscow; Mazda|Hiroshima; Kyocera|Kyoto; Canon|Tokyo;
Subaru|Tokyo; LG|Seoul; Kia|Seoul; Xiaomi|Beijing; ByteDance|Beijing; BYD|Shenzhen; DJI|Shenzhen;
Tata Motors|Mumbai; Reliance Industries|Mumbai; Emirates|Dubai; Etihad|Abu Dhabi; Qantas|Sydney; Asus|Taipei;
TSMC|Hsinchu; Avianca|Bogota; Saudi Aramco|Dhahran; Grupo Bimbo|Mexico City; Stella Artois|Leuven; Godiva|Brussels
""",
    "landmark_city": """
Times Square|New York; The Empire State Building|New York; Central Park|New York; The Space Needle|Seattle;
Alcatraz|San Francisco; The Hollywood Sign|Los Angeles; The Gateway Arch|St. Louis; The Liberty Bell|Philadelphia;
The French Quarter|New Orleans; The Las Vegas Strip|Las Vegas; Willis Tower|Chicago; Cloud Gate|Chicago;
The White House|Washington; The Lincoln Memorial|Washington; Tower Bridge|London; Westminster Abbey|London;
Trafalgar Square|London; Piccadilly Circus|London; Edinburgh Castle|Edinburgh; Notre-Dame Cathedral|Paris;
Sacre-Coeur|Paris; The Champs-Elysees|Paris; The Spanish Steps|Rome; St. Mark's Basilica|Venice;
The Ponte Vecchio|Florence; The Reichstag|Berlin; Checkpoint Charlie|Berlin; The Charles Bridge|Prague;
The Hofburg|Vienna; Red Square|Moscow; St. Basil's Cathedral|Moscow; Peterhof|Saint Petersburg;
The Little Mermaid statue|Copenhagen; Tivoli Gardens|Copenhagen; The Atomium|Brussels; Manneken Pis|Brussels;
The Grand Place|Brussels; The Anne Frank House|Amsterdam; The Rijksmuseum|Amsterdam; Park Guell|Barcelona;
Casa Batllo|Barcelona; La Rambla|Barcelona; Puerta del Sol|Madrid; The Belem Tower|Lisbon; The Blue Mosque|Istanbul;
Topkapi Palace|Istanbul; The Galata Tower|Istanbul; The Burj Khalifa|Dubai; The Burj Al Arab|Dubai;
The Petronas Towers|Kuala Lumpur; Marina Bay Sands|Singapore; Tiananmen Square|Beijing; The Bund|Shanghai;
The Oriental Pearl Tower|Shanghai; Senso-ji|Tokyo; Fushimi Inari Shrine|Kyoto; Kinkaku-ji|Kyoto; The Red Fort|Delhi;
The Qutub Minar|Delhi; The Charminar|Hyderabad; The Hawa Mahal|Jaipur; The Victoria Memorial|Kolkata;
Christ the Redeemer|Rio de Janeiro; Sugarloaf Mountain|Rio de Janeiro; Copacabana Beach|Rio de Janeiro;
The Sydney Harbour Bridge|Sydney; Bondi Beach|Sydney; Table Mountain|Cape Town; Robben Island|Cape Town;
The Dome of the Rock|Jerusalem; The Church of the Holy Sepulchre|Jerusalem; The Alamo|San Antonio;
Graceland|Memphis; Pike Place Market|Seattle; Fenway Park|Boston; Independence Hall|Philadelphia;
Griffith Observatory|Los Angeles; The Brooklyn Bridge|New York; Wall Street|New York; The Vatican Museums|Rome;
The Pantheon in Rome|Rome; The Doge's Palace|Venice; St. Peter's Basilica|Rome; The Cathedral of Milan|Milan;
The Berlin Television Tower|Berlin; Nyhavn|Copenhagen; The Royal Mile|Edinburgh; The Louvre Pyramid|Paris;
The Musee d'Orsay|Paris; The Bolshoi Theatre|Moscow; The Wawel Cathedral|Krakow; The Old Town Square|Prague
""",
    "musician_instrument": """
Jimi Hendrix|guitar; Eric Clapton|guitar; B.B. King|guitar; Carlos Santana|guitar; Jimmy Page|guitar;
Stevie Ray Vaughan|guitar; Django Reinhardt|guitar; Andres Segovia|guitar; Chet Atkins|guitar; Eddie Van Halen|guitar;
Chuck Berry|guitar; Brian May|guitar; Keith Richards|guitar; Les Paul|guitar; Wes Montgomery|guitar;
Paco de Lucia|guitar; Joe Satriani|guitar; Angus Young|guitar; Jeff Beck|guitar; Mark Knopfler|guitar;
Yngwie Malmsteen|guitar; Tony Iommi|guitar; Pat Metheny|guitar;
Franz Liszt|piano; Glenn Gould|piano; Vladimir Horowitz|piano; Arthur Rubinstein|piano; Lang Lang|piano;
Sergei Rachmaninoff|piano; Clara Schumann|piano; Martha Argerich|piano; Alfred Brendel|piano; Elton John|piano;
Jerry Lee Lewis|piano; Thelonious Monk|piano; Oscar Peterson|piano; Art Tatum|piano; Fats Domino|piano;
Liberace|piano; Keith Jarrett|piano; Billy Joel|piano; Scott Joplin|piano; Dave Brubeck|piano;
Jelly Roll Morton|piano; Yuja Wang|piano; Evgeny Kissin|piano; Sviatoslav Richter|piano; Emil Gilels|piano;
Niccolo Paganini|violin; Itzhak Perlman|violin; Jascha Heifetz|violin; Yehudi Menuhin|violin; Joshua Bell|violin;
Anne-Sophie Mutter|violin; Fritz Kreisler|violin; David Oistrakh|violin; Hilary Hahn|violin; Nigel Kennedy|violin;
Stephane Grappelli|violin; Vanessa-Mae|violin; Maxim Vengerov|violin; Isaac Stern|violin; Sarah Chang|violin;
Yo-Yo Ma|cello; Pablo Casals|cello; Jacqueline du Pre|cello; Mstislav Rostropovich|cello;
Julian Lloyd Webber|cello; Steven Isserlis|cello; Mischa Maisky|cello;
Louis Armstrong|trumpet; Miles Davis|trumpet; Dizzy Gillespie|trumpet; Chet Baker|trumpet; Wynton Marsalis|trumpet;
Clifford Brown|trumpet; Herb Alpert|trumpet; Maynard Ferguson|trumpet; Freddie Hubbard|trumpet;
Charlie Parker|saxophone; John Coltrane|saxophone; Stan Getz|saxophone; Kenny G|saxophone; Sonny Rollins|saxophone;
Coleman Hawkins|saxophone; Cannonball Adderley|saxophone; Ornette Coleman|saxophone; Dexter Gordon|saxophone;
Clarence Clemons|saxophone;
Ringo Starr|drums; Keith Moon|drums; John Bonham|drums; Buddy Rich|drums; Neil Peart|drums; Gene Krupa|drums;
Travis Barker|drums; Lars Ulrich|drums; Max Roach|drums; Art Blakey|drums; Ginger Baker|drums; Charlie Watts|drums;
Benny Goodman|clarinet; Artie Shaw|clarinet; Acker Bilk|clarinet; Jean-Pierre Rampal|flute; Herbie Mann|flute;
Ravi Shankar|sitar; Anoushka Shankar|sitar; Jaco Pastorius|bass; Victor Wooten|bass; Earl Scruggs|banjo;
Bela Fleck|banjo; Larry Adler|harmonica; Little Walter|harmonica
""",
    "writer_language": """
Victor Hugo|French; Voltaire|French; Moliere|French; Albert Camus|French; Marcel Proust|French;
Gustave Flaubert|French; Honore de Balzac|French; Emile Zola|French; Alexandre Dumas|French;
Simone de Beauvoir|French; Jean-Paul Sartre|French; Charles Baudelaire|French; Arthur Rimbaud|French;
Franz Kafka|German; Thomas Mann|German; Hermann Hesse|German; Bertolt Brecht|German; Friedrich Schiller|German;
Heinrich Heine|German; Rainer Maria Rilke|German; Gunter Grass|German; Stefan Zweig|German;
Alexander Pushkin|Russian; Anton Chekhov|Russian; Nikolai Gogol|Russian; Ivan Turgenev|Russian;
Mikhail Bulgakov|Russian; Boris Pasternak|Russian; Aleksandr Solzhenitsyn|Russian; Maxim Gorky|Russian;
Anna Akhmatova|Russian; Petrarch|Italian; Giovanni Boccaccio|Italian; Niccolo Machiavelli|Italian;
Umberto Eco|Italian; Italo Calvino|Italian; Primo Levi|Italian; Alessandro Manzoni|Italian; Luigi Pirandello|Italian;
Federico Garcia Lorca|Spanish; Isabel Allende|Spanish; Octavio Paz|Spanish; Mario Vargas Llosa|Spanish;
Julio Cortazar|Spanish; Carlos Fuentes|Spanish; Lope de Vega|Spanish; Fernando Pessoa|Portuguese;
Jose Saramago|Portuguese; Paulo Coelho|Portuguese; Jorge Amado|Portuguese; Luis de Camoes|Portuguese;
Machado de Assis|Portuguese; Yukio Mishima|Japanese; Yasunari Kawabata|Japanese; Natsume Soseki|Japanese;
Matsuo Basho|Japanese; Lu Xun|Chinese; Mo Yan|Chinese; August Strindberg|Swedish; Selma Lagerlof|Swedish;
Stieg Larsson|Swedish; Tove Jansson|Swedish; Knut Hamsun|Norwegian; Jon Fosse|Norwegian; Soren Kierkegaard|Danish;
Adam Mickiewicz|Polish; Wislawa Szymborska|Polish; Czeslaw Milosz|Polish; Henryk Sienkiewicz|Polish;
Stanislaw Lem|Polish; Homer|Greek; Nikos Kazantzakis|Greek; Sappho|Greek; Virgil|Latin; Ovid|Latin; Cicero|Latin;
Horace|Latin; Naguib Mahfouz|Arabic; Hafez|Persian; Omar Khayyam|Persian; Ferdowsi|Persian; Rumi|Persian;
Sandor Marai|Hungarian; Imre Kertesz|Hungarian; Karel Capek|Czech; Jaroslav Hasek|Czech; Aleksis Kivi|Finnish;
Isaac Bashevis Singer|Yiddish; Harry Mulisch|Dutch; Virginia Woolf|English; George Orwell|English;
Edgar Allan Poe|English; Emily Dickinson|English; Orhan Pamuk|Turkish; Halldor Laxness|Icelandic
""",
    "university_country": """
the Sorbonne|France; Heidelberg University|Germany; Humboldt University|Germany; Sapienza University|Italy;
Bocconi University|Italy; Complutense University|Spain; the University of Salamanca|Spain;KU Leuven|Belgium; Uppsala University|Sweden; Lund University|Sweden;
the Karolinska Institute|Sweden; McGill University|Canada; Tsinghua University|China; Peking University|China;
Fudan University|China; IIT Bombay|India; UNAM|Mexico; the Hebrew University|Israel; the Technion|Israel;
Charles University|Czech Republic; Jagiellonian University|Poland; EPFL|Switzerland; the University of Geneva|Switzerland;
Sciences Po|France; Ecole Polytechnique|France;RWTH Aachen|Germany;
the University of Gottingen|Germany; the University of Padua|Italy; the University of Pisa|Italy;
the University of Barcelona|Spain; the University of Coimbra|Portugal; the University of Tartu|Estonia;
the University of Otago|New Zealand; Waseda University|Japan; Keio University|Japan; Yonsei University|South Korea;
the University of Buenos Aires|Argentina; the American University of Beirut|Lebanon; Cairo University|Egypt;
Makerere University|Uganda; the University of Ibadan|Nigeria; Stellenbosch University|South Africa;
the University of Witwatersrand|South Africa; Aarhus University|Denmark; the University of Bergen|Norway;
Aalto University|Finland; Trinity College Dublin|Ireland; University College Cork|Ireland
""",
    "club_country": """
Juventus|Italy; AS Roma|Italy; Napoli|Italy; Lazio|Italy; Fiorentina|Italy;Benfica|Portugal; Sporting CP|Portugal; Celtic|Scotland; Rangers|Scotland;
Galatasaray|Turkey; Fenerbahce|Turkey; Besiktas|Turkey; Olympiacos|Greece; Panathinaikos|Greece;
Boca Juniors|Argentina; River Plate|Argentina; Flamengo|Brazil; Santos|Brazil; Corinthians|Brazil;
Palmeiras|Brazil; Anderlecht|Belgium; Club Brugge|Belgium; Borussia Dortmund|Germany; Schalke 04|Germany;
Werder Bremen|Germany; Sevilla FC|Spain; Dynamo Kyiv|Ukraine; Shakhtar Donetsk|Ukraine; Zenit|Russia;
Red Star Belgrade|Serbia; Dinamo Zagreb|Croatia; Ferencvaros|Hungary; FC Basel|Switzerland; Young Boys|Switzerland;
Rapid Wien|Austria; Malmo FF|Sweden; Rosenborg|Norway; Club America|Mexico; Chivas|Mexico; Al Ahly|Egypt;
Zamalek|Egypt; Kaizer Chiefs|South Africa; Urawa Red Diamonds|Japan; Penarol|Uruguay; Nacional|Uruguay;
Colo-Colo|Chile; Steaua Bucharest|Romania; CSKA Sofia|Bulgaria; Sparta Prague|Czech Republic; Legia|Poland;
AS Saint-Etienne|France; Stade Rennais|France; Atalanta|Italy; Torino|Italy; Udinese|Italy; Sampdoria|Italy;
Hertha BSC|Germany; Hannover 96|Germany; Real Sociedad|Spain; Real Betis|Spain; Villarreal|Spain; Espanyol|Spain;
Gremio|Brazil; Cruzeiro|Brazil; San Lorenzo|Argentina; Millonarios|Colombia; Atletico Nacional|Colombia;
Cerro Porteno|Paraguay; Sporting Cristal|Peru; Cruz Azul|Mexico; Tigres UANL|Mexico; Wydad|Morocco;
Kashima Antlers|Japan; Viktoria Plzen|Czech Republic; Lech Poznan|Poland; Partizan Belgrade|Serbia; APOEL|Cyprus;
BATE Borisov|Belarus; Ludogorets|Bulgaria; Levski Sofia|Bulgaria; Trabzonspor|Turkey; PAOK|Greece; Brondby|Denmark;
FC Midtjylland|Denmark; IFK Goteborg|Sweden; AIK|Sweden; Djurgarden|Sweden; Molde|Norway; Grasshoppers|Switzerland;
FC Sion|Switzerland; Genk|Belgium; Shamrock Rovers|Ireland; Hibernian|Scotland; Heart of Midlothian|Scotland
""",
    "island_country": """
Bali|Indonesia; Java|Indonesia; Sumatra|Indonesia; Sicily|Italy; Sardinia|Italy; Corsica|France; Crete|Greece;
Rhodes|Greece; Corfu|Greece; Mykonos|Greece; Mallorca|Spain; Ibiza|Spain; Tenerife|Spain; Gran Canaria|Spain;
Madeira|Portugal; Capri|Italy; Zanzibar|Tanzania; Hokkaido|Japan; Okinawa|Japan; Kyushu|Japan; Jeju|South Korea;
Phuket|Thailand; Hainan|China; Gotland|Sweden; Bornholm|Denmark; Sylt|Germany; Tasmania|Australia; Palawan|Philippines;
Luzon|Philippines; Mindanao|Philippines; Langkawi|Malaysia; Lombok|Indonesia; Hvar|Croatia;Sakhalin|Russia; Greenland|Denmark; Lampedusa|Italy; Elba|Italy; Lesbos|Greece; Menorca|Spain; Boracay|Philippines;
Koh Samui|Thailand; Penang|Malaysia; Sumba|Indonesia; Honshu|Japan; Shikoku|Japan; Spitsbergen|Norway; Rugen|Germany
""",
    "mountain_country": """
Mount Kilimanjaro|Tanzania; Mount Etna|Italy; Mount Vesuvius|Italy; Aconcagua|Argentina; Mount Kosciuszko|Australia;
Mount Elbrus|Russia; Mount Ararat|Turkey; Zugspitze|Germany; Aoraki / Mount Cook|New Zealand; Mount Teide|Spain;
Mount Sinai|Egypt; Mount Pinatubo|Philippines; Krakatoa|Indonesia; Mount Mayon|Philippines; Popocatepetl|Mexico;
Cotopaxi|Ecuador; Chimborazo|Ecuador; Mount Hekla|Iceland; Mount Kinabalu|Malaysia; Mount Ruapehu|New Zealand;
Mount Athos|Greece; Mount Vesuvio|Italy; Mount Stromboli|Italy; Mount Merapi|Indonesia; Mount Bromo|Indonesia;
Mount Toubkal|Morocco; Mount Damavand|Iran; Mount Hermon|Israel; Pico de Orizaba|Mexico; Huascaran|Peru;
Mount Triglav|Slovenia; Mount Musala|Bulgaria; Galdhopiggen|Norway; Mount Kebnekaise|Sweden; Mount Rysy|Poland;
Mount Taishan|China; Mount Emei|China; Mount Huangshan|China; Mount Halla|South Korea; Mount Apo|Philippines
""",
    "band_country": """
ABBA|Sweden; Roxette|Sweden; Ace of Base|Sweden; The Hives|Sweden; a-ha|Norway; Kraftwerk|Germany; Rammstein|Germany;
Scorpions|Germany; Tokio Hotel|Germany; Modern Talking|Germany; Boney M.|Germany; U2|Ireland; The Cranberries|Ireland;
Thin Lizzy|Ireland; The Corrs|Ireland; AC/DC|Australia; INXS|Australia; Men at Work|Australia; Midnight Oil|Australia;
Savage Garden|Australia; Tame Impala|Australia; Daft Punk|France; Gipsy Kings|France; Rush|Canada;
Arcade Fire|Canada; Nickelback|Canada; Sigur Ros|Iceland; Of Monsters and Men|Iceland; Nightwish|Finland;
The Rasmus|Finland; Lordi|Finland; Aqua|Denmark; Volbeat|Denmark;Sepultura|Brazil; Soda Stereo|Argentina; Mana|Mexico;
BTS|South Korea; Blackpink|South Korea; Babymetal|Japan; Ladysmith Black Mambazo|South Africa; Tinariwen|Mali;
Buena Vista Social Club|Cuba; Kent|Sweden; Mago de Oz|Spain; Heroes del Silencio|Spain;
Air Supply|Australia; The Seekers|Australia; Silverchair|Australia; Powderfinger|Australia; Wolfmother|Australia;
The Tragically Hip|Canada; Barenaked Ladies|Canada; Simple Plan|Canada; Sum 41|Canada; The Guess Who|Canada;
Die Toten Hosen|Germany; Die Arzte|Germany; Alphaville|Germany; Accept|Germany; Helloween|Germany; Kreator|Germany;
Dschinghis Khan|Germany; Kings of Convenience|Norway; Turbonegro|Norway; The Knife|Sweden; Opeth|Sweden;
In Flames|Sweden; Amon Amarth|Sweden; Sabaton|Sweden; Children of Bodom|Finland; Apocalyptica|Finland;
Stratovarius|Finland; Mecano|Spain; Los del Rio|Spain; Ska-P|Spain; Cafe Tacuba|Mexico; Los Tigres del Norte|Mexico;
Aterciopelados|Colombia; Los Prisioneros|Chile; Os Mutantes|Brazil; Skank|Brazil; Angra|Brazil; Clannad|Ireland;
The Dubliners|Ireland; Westlife|Ireland; Boyzone|Ireland; The Script|Ireland; Kodaline|Ireland; Big Bang|South Korea;
EXO|South Korea; Twice|South Korea; Super Junior|South Korea; Arashi|Japan; Dir En Grey|Japan; L'Arc-en-Ciel|Japan;
Indochine|France; Magma|France; Il Volo|Italy; Maneskin|Italy; Pooh|Italy; Lacuna Coil|Italy; Rhapsody of Fire|Italy
""",
}

FUNCTION_TOKENS = {" a", " the", ",", '"', " an", " one"}
# Near misses whose greedy token is no answer at all are dropped too: " role" ("famous for playing the role"),
# single letters and word pieces, a repeat of the subject.
NON_ANSWER_TOKENS = {" role", " part", " N", " Ash", " Anne", " K", " f", " t", " A", " Az"}

# Relations used and the number of near misses taken from each (a random sample, seed 7, where more were found).
USE = {"city_continent": 12, "musician_instrument": 12, "writer_language": 12, "landmark_city": 12,
       "club_country": 10, "band_country": 10}
RIGHT_TOTAL = 150
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def parse(block):
    out = []
    for item in block.replace("\n", " ").split(";"):
        if item.strip():
            s, t = (x.strip() for x in item.split("|"))
            out.append((s, " " + t))
    return out


def fill(tpl, s):
    low = "the" + s[3:] if s.startswith("The ") else s
    out = tpl.replace("{S}", s).replace("{s}", low)
    return out[0].upper() + out[1:]


def norm(name):
    name = name.strip().lower()
    return name[4:] if name.startswith("the ") else name


def word_in(needle, hay):
    return re.search(r"(?<![\w])" + re.escape(needle) + r"(?![\w])", hay, re.I) is not None


# ---------- exclusion sources ----------
def excluded_subjects():
    """Subject names of every bench/heldout and bench/tune fact (from ids; id-less rows by their prompt text)
    plus every entry of patchkit/data/subjects.json; returns (names, texts without ids)."""
    names, idless = {}, []
    for f in sorted(glob.glob(os.path.join(ROOT, "bench/heldout/*.jsonl")) + glob.glob(os.path.join(ROOT, "bench/tune/*.jsonl"))):
        base = os.path.relpath(f, ROOT)
        if os.path.basename(f).startswith("mixed_"):
            continue  # this script's own output
        for line in open(f):
            r = json.loads(line)
            i = r.get("id", "")
            if i and not i.startswith("generic"):
                names.setdefault(i.split(":", 1)[1], base)
            elif not i:
                idless.append((base, r["prompt"]))
    pool = json.load(open(os.path.join(ROOT, "patchkit/data/subjects.json")))
    for k, v in pool.items():
        if k != "_about":
            for s in v:
                names.setdefault(s, f"patchkit/data/subjects.json[{k}]")
    return names, idless


def data_lines():
    """Every prompt / text / paraphrase line of patchkit/data/*.jsonl."""
    lines = set()
    for f in glob.glob(os.path.join(ROOT, "patchkit/data/*.jsonl")):
        for line in open(f):
            r = json.loads(line)
            for k in ("prompt", "text"):
                if k in r:
                    lines.add(r[k].strip())
            lines.update(p.strip() for p in r.get("paraphrases", []))
    return lines


def check_subject(s, names, idless):
    """Reasons a candidate subject is excluded (empty list = clean)."""
    why = []
    n = norm(s)
    for other, src in names.items():
        o = norm(other)
        if word_in(o, n) or word_in(n, o):
            why.append(f"{other!r} ({src})")
    for src, prompt in idless:
        if word_in(n, prompt):
            why.append(f"in {src} prompt {prompt!r}")
    for src, text in TEXTS:
        if word_in(n, text):
            why.append(f"occurs in {src}")
    return why


# Whole-word text check as well: no subject occurs in any patchkit/data file (prompts, targets, passages) nor in the
# other bench fact files (bench/*.jsonl: capitals_128, facts_mixed, gemma_held_out_capitals).
TEXTS = [(os.path.relpath(f, ROOT), open(f, encoding="utf-8").read())
         for f in sorted(glob.glob(os.path.join(ROOT, "patchkit/data/*")) + glob.glob(os.path.join(ROOT, "bench/*.jsonl")))
         if os.path.isfile(f)]


# ---------- scoring ----------
def probe(m, tok, items):
    """items: list of (prompt, target). Returns (rank, gap, top token str, right) per item."""
    tf = score_facts(m, tok, [Fact(p, t) for p, t in items])
    enc = [(tok(p).input_ids, continuation_ids(tok, p, t)[0]) for p, t in items]
    by_len = {}
    for i, (ids, _) in enumerate(enc):
        by_len.setdefault(len(ids), []).append(i)
    out = [None] * len(items)
    for _, idx in sorted(by_len.items()):
        for k in range(0, len(idx), 16):
            chunk = idx[k:k + 16]
            with torch.no_grad():
                lg = m(torch.tensor([enc[i][0] for i in chunk]), use_cache=False).logits[:, -1]
            for row, i in enumerate(chunk):
                x, t = lg[row], enc[i][1]
                rank = int((x > x[t]).sum()) + 1
                others = x.clone()
                others[t] = -float("inf")
                out[i] = (rank, float(x[t] - others.max()), tok.decode([int(x.argmax())]), tf[i][0])
    return out


# Dropped after probing: the greedy answer is not actually wrong (a part of the right answer, a spelling variant,
# a region of the right country/continent) or the fact turned out ambiguous. Filled in from the --probe listing.
DROP = {
    # a region of the right continent, not a wrong one ("the continent of Southeast Asia / South Asia")
    "city_continent:Vientiane": "top ' Southeast' (Southeast Asia)",
    "city_continent:Davao": "top ' Southeast' (Southeast Asia)",
    "city_continent:Bandung": "top ' Southeast' (Southeast Asia)",
    "city_continent:Colombo": "top ' South' (South Asia)",
    # several cities of the name on other continents
    "city_continent:Halifax": "also Halifax, England",
    "city_continent:Memphis": "also ancient Memphis, Egypt (the model says Africa)",
    "city_continent:Tripoli": "also Tripoli, Lebanon",
    "city_continent:Alexandria": "also Alexandria, Virginia",
    # the instrument answer is arguably right
    "musician_instrument:Jaco Pastorius": "top ' guitar' (he played the bass guitar)",
    # wrote in more than one language
    "writer_language:Petrarch": "wrote much in Latin (the model's answer)",
    "writer_language:Omar Khayyam": "scientific books in Arabic (the model's answer)",
    # several clubs of the name
    "club_country:Santos": "also Santos Laguna, Mexico",
    "club_country:Nacional": "also Atletico Nacional (Colombia), Nacional (Madeira)",
    "club_country:Rangers": "also Queens Park Rangers and other Rangers",
    # origin unclear
    "band_country:Los Tigres del Norte": "Mexican band formed and based in San Jose, California",
}


def main():
    probe_only = "--probe" in sys.argv
    names, idless = excluded_subjects()
    shipped = data_lines()
    cands, rejected = [], []
    seen = {}
    for rel, block in CANDIDATES.items():
        for s, t in parse(block):
            why = check_subject(s, names, idless)
            if norm(s) in seen:
                why.append(f"duplicate of {seen[norm(s)]}")
            seen.setdefault(norm(s), f"{rel}:{s}")
            tpl, paras = TEMPLATES[rel]
            p = fill(tpl, s)
            if p.strip() in shipped:
                why.append("prompt is a line of patchkit/data")
            if why:
                rejected.append((rel, s, why))
            else:
                cands.append(dict(rel=rel, subject=s, prompt=p, target=t, paraphrases=[fill(q, s) for q in paras]))
    print(f"candidates {len(cands) + len(rejected)}: {len(rejected)} rejected by the exclusion check, {len(cands)} kept")
    for rel, s, why in rejected:
        print(f"  excluded {rel}:{s} -- " + "; ".join(why[:3]))

    m, tok = models.load_model("smollm2")
    m.eval()
    res = probe(m, tok, [(c["prompt"], c["target"]) for c in cands])
    for c, (rank, gap, top, right) in zip(cands, res):
        c.update(rank=rank, gap=gap, top=top, right=right)
    stats = Counter()
    for c in cands:
        kind = ("right" if c["right"] else "first-right" if c["rank"] == 1 else
                "near" if c["rank"] <= 5 else "far")
        if kind == "near" and c["top"] in FUNCTION_TOKENS:
            kind = "near-fn"
        c["kind"] = kind
        stats[(c["rel"], kind)] += 1
    print("probe results (relation: right / first-token-only / near content / near function-word / rank>5):")
    for rel in CANDIDATES:
        print(f"  {rel:20s} " + " / ".join(str(stats[(rel, k)]) for k in ("right", "first-right", "near", "near-fn", "far")))
    if probe_only:
        for c in cands:
            print(f"{c['kind']:11s} {c['rel']}:{c['subject']} -> {c['target']!r} rank={c['rank']} gap={c['gap']:.2f} top={c['top']!r}")
        return

    # ---------- selection ----------
    rng = random.Random(7)
    near_pool = {r: [] for r in USE}
    right_pool = {r: [] for r in USE}
    dropped = []
    for c in cands:
        if c["rel"] not in USE:
            continue
        key = f"{c['rel']}:{c['subject']}"
        if key in DROP:
            dropped.append((key, c["kind"], DROP[key]))
            continue
        if c["kind"] == "near" and c["top"] in NON_ANSWER_TOKENS:
            dropped.append((key, c["kind"], f"greedy token {c['top']!r} is not an answer"))
            continue
        if c["kind"] == "near":
            near_pool[c["rel"]].append(c)
        elif c["kind"] == "right":
            right_pool[c["rel"]].append(c)
    print(f"dropped by hand/rule ({len(dropped)}):")
    for key, kind, why in dropped:
        print(f"  {key} [{kind}] -- {why}")
    near = []
    for rel, quota in USE.items():
        pool = near_pool[rel]
        near += pool if len(pool) <= quota else rng.sample(pool, quota)
    # right facts: about RIGHT_TOTAL, split across relations in proportion to their near misses, capped by what
    # the model gets right; a random sample within each relation (famous and obscure subjects alike).
    nn = Counter(c["rel"] for c in near)
    want = {r: 0 for r in USE}
    left = RIGHT_TOTAL
    open_rels = [r for r in USE if right_pool[r]]
    while left > 0 and open_rels:
        total = sum(nn[r] for r in open_rels)
        share = {r: max(1, round(left * nn[r] / total)) for r in open_rels}
        for r in open_rels:
            take = min(share[r], len(right_pool[r]) - want[r], left)
            want[r] += take
            left -= take
        open_rels = [r for r in open_rels if want[r] < len(right_pool[r])]
    right = []
    for rel in USE:
        pool = right_pool[rel]
        right += rng.sample(pool, want[rel]) if want[rel] < len(pool) else pool
    order = list(USE)
    near.sort(key=lambda c: (order.index(c["rel"]), c["subject"]))
    right.sort(key=lambda c: (order.index(c["rel"]), c["subject"]))

    # subjects of the two files are disjoint (whole word, either way)
    clash = [(a["subject"], b["subject"]) for a in near for b in right
             if word_in(norm(a["subject"]), norm(b["subject"])) or word_in(norm(b["subject"]), norm(a["subject"]))]
    clash += [(a["subject"], b["subject"]) for i, a in enumerate(near + right) for b in (near + right)[i + 1:]
              if a["rel"] != b["rel"] and (word_in(norm(a["subject"]), norm(b["subject"]))
                                           or word_in(norm(b["subject"]), norm(a["subject"])))]
    print("near/right subject overlap:", clash or "none")
    assert not clash

    def row(c, paras):
        d = {"prompt": c["prompt"], "target": c["target"]}
        if paras:
            d["paraphrases"] = c["paraphrases"]
        d["id"] = f"{c['rel']}:{c['subject']}"
        d["note"] = f"relation={c['rel']} rank={c['rank']} gap={c['gap']:.2f} top={c['top']!r}"
        return d

    for name, rows, paras in (("mixed_near", near, True), ("mixed_right", right, False)):
        with open(os.path.join(HERE, f"{name}.jsonl"), "w") as f:
            f.write("".join(json.dumps(row(c, paras)) + "\n" for c in rows))

    # ---------- verification: re-score both files from their own prompt/target ----------
    near_rows = [json.loads(x) for x in open(os.path.join(HERE, "mixed_near.jsonl"))]
    right_rows = [json.loads(x) for x in open(os.path.join(HERE, "mixed_right.jsonl"))]
    bad = []
    for rows, want_near in ((near_rows, True), (right_rows, False)):
        for r, (rank, gap, top, ok) in zip(rows, probe(m, tok, [(r["prompt"], r["target"]) for r in rows])):
            good = (not ok and 2 <= rank <= 5 and top not in FUNCTION_TOKENS) if want_near else (ok and rank == 1)
            if not good:
                bad.append((r["id"], rank, gap, top, ok))
    prompts = [r["prompt"] for r in near_rows + right_rows]
    ids = [r["id"] for r in near_rows + right_rows]
    shipped_hit = [p for p in prompts + [q for r in near_rows for q in r["paraphrases"]] if p.strip() in shipped]
    recheck = [(i, check_subject(i.split(":", 1)[1], names, idless)) for i in ids]
    recheck = [x for x in recheck if x[1]]
    print(f"mixed_near.jsonl {len(near_rows)}: " + ", ".join(f"{r} {n}" for r, n in Counter(i.split(':')[0] for i in ids[:len(near_rows)]).items()))
    print(f"mixed_right.jsonl {len(right_rows)}: " + ", ".join(f"{r} {n}" for r, n in Counter(i.split(':')[0] for i in ids[len(near_rows):]).items()))
    print(f"re-score exceptions: {len(bad)} {bad}")
    print(f"duplicate prompts: {len(prompts) - len(set(prompts))}; duplicate ids: {len(ids) - len(set(ids))}")
    print(f"prompts/paraphrases equal to a patchkit/data line: {len(shipped_hit)}; subjects failing the exclusion check: {len(recheck)}")
    # paraphrases of the near misses, before any edit
    pp = [(q, r["target"]) for r in near_rows for q in r["paraphrases"]]
    pk = Counter("right" if ok else "near" if rank <= 5 else "far" for rank, _, _, ok in probe(m, tok, pp))
    print(f"near-miss paraphrases ({len(pp)}): right {pk['right']}, rank 2..5 {pk['near']}, rank > 5 {pk['far']}")
    gaps = sorted(float(r["note"].split("gap=")[1].split()[0]) for r in near_rows)
    print(f"near gaps {gaps[0]:.2f}..{gaps[-1]:.2f}, ranks " + str(dict(sorted(Counter(int(r['note'].split('rank=')[1].split()[0]) for r in near_rows).items()))))
    assert not bad and not shipped_hit and not recheck and len(set(prompts)) == len(prompts)


if __name__ == "__main__":
    main()
