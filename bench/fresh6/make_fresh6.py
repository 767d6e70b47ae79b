"""Build a SIXTH set of fresh held-out evaluation sets (`bench/fresh6/`) for SmolLM2-135M-Instruct and Gemma 3 270M.

Modelled on `bench/fresh5/make_fresh5.py` and built BY it: this script imports make_fresh5 (which imports
bench/fresh4/make_fresh4.py, which imports bench/fresh2/make_fresh2.py, which imports bench/fresh/make_fresh.py),
points make_fresh4's module tables (OUT, SEED, SELF, EARLIER, TEMPLATES, KIND, ALT, SUBJECTS, SAME, REGIONS, GENERIC,
why_not_near) at this file's -- through make_fresh5's `use_fresh5`, which reads them from make_fresh5's globals, here
set to this file's -- and runs make_fresh5's `main` (make_fresh4's held-out rule, known-kind checks, earlier-subject
checks; make_fresh2's `fact`, `held_out`, `build` and `verify`). Nothing of the earlier scripts is copied; this file
supplies only new data -- four relations the project has never used (person -> sport played, scientist -> field of
science, city -> mountain range it lies at the foot of, landmark -> river it stands on), their subjects, the targets'
other names and regions, new generic prompts -- and two additions to the near-miss filter (below). Same schema,
`note`, scoring rule, lead (>= 0.3 for right/guard/generic rows), near-miss filter and held-out rule as bench/fresh5;
bench/fresh5 is added to the EARLIER sets whose subjects no row, generic prompt, text, script or README of this set
may name.

As in fresh4 and fresh5, every relation's prompt template (and both paraphrases) names the KIND of its subject in its
own words ("{S} played ...", "{S} was a scientist ...", "The city of {S} ...", "{S} is a landmark ..."), so that
`patchkit.selection.known_kind([subject], template)` knows the kind of these held-out subjects without the embedding
guess; asserted for every candidate and for every written near-miss row.

Near-miss filter: make_fresh5's, read after any leading adjectives (" majestic Rocky Mountains"), plus here: the
target (or one of its other names) among the first five words of the greedy answer is the right answer after a
qualifier (" ice hockey", " theoretical physics", " Swiss Alps", " River Thames"), and a first word that only
announces the answer (" mountains of ...", " natural sciences", " foothills ...") has named nothing yet.

Picks (near8, near50, guards) are random (seed 26) within relations, never by how an edit does.

Run from the repository root: `python bench/fresh6/make_fresh6.py` (both models; `--model smollm2` for one; `--dry`
applies the held-out rule only, no model).
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "make_fresh5", Path(__file__).resolve().parents[1] / "fresh5" / "make_fresh5.py")
mf5 = importlib.util.module_from_spec(_spec)
sys.modules["make_fresh5"] = mf5
_spec.loader.exec_module(mf5)
mf4 = mf5.mf4  # bench/fresh4/make_fresh4.py, as make_fresh5 loaded it
mf2 = mf5.mf2  # bench/fresh2/make_fresh2.py
words = mf4.words

OUT = Path("bench/fresh6")
SEED = 26
SELF = ("bench/fresh6/", "tests/test_fresh6_heldout.py")  # the only files allowed to name this set's subjects
EARLIER = ("bench/fresh", "bench/fresh2", "bench/fresh3", "bench/fresh4", "bench/fresh5")  # no file here names theirs

# relation: (prompt, paraphrase 1, paraphrase 2); {S} = subject with a capital first letter. Each names its subject's
# kind in words `patchkit.selection.template_kind` reads ("played"/"playing"/"person" -> person, "scientist" -> person,
# "city" -> city, "landmark"/"sight" -> landmark). Written before any model was run.
TEMPLATES = {
    "person_sport": ("{S} played the sport of", "{S} was famous for playing the sport of",
                     "The sport that the person {S} played was"),
    "scientist_field": ("{S} was a scientist who worked in the field of",
                        "The scientist {S} is best known for work in the field of",
                        "{S} is remembered as a scientist in the field of"),
    "city_range": ("The city of {S} lies at the foot of the", "{S} is a city at the foot of the",
                   "The city of {S} is surrounded by the peaks of the"),
    "landmark_river": ("{S} is a landmark on the banks of the river", "The landmark {S} stands beside the river",
                       "The famous sight {S} lies on the river"),
}
KIND = {"person_sport": "person", "scientist_field": "person", "city_range": "city", "landmark_river": "landmark"}
ALT = {rel: (t[1], ()) for rel, t in TEMPLATES.items()}  # no replacement of paraphrase 1

# Subjects written for this file (well known, one answer), "subject|answer; ...". No subject is in two relations.
SUBJECTS = {
    "person_sport": """
Rod Laver|tennis; Björn Borg|tennis; John McEnroe|tennis; Jimmy Connors|tennis; Ivan Lendl|tennis;
Boris Becker|tennis; Stefan Edberg|tennis; Pete Sampras|tennis; Andre Agassi|tennis; Rafael Nadal|tennis;
Novak Djokovic|tennis; Andy Murray|tennis; Roger Federer|tennis; Serena Williams|tennis; Venus Williams|tennis;
Steffi Graf|tennis; Martina Navratilova|tennis; Chris Evert|tennis; Billie Jean King|tennis; Monica Seles|tennis;
Maria Sharapova|tennis; Arthur Ashe|tennis; Martina Hingis|tennis; Kim Clijsters|tennis; Justine Henin|tennis;
Naomi Osaka|tennis; Ashleigh Barty|tennis; Stan Wawrinka|tennis; Juan Martín del Potro|tennis;
Carlos Alcaraz|tennis; Iga Świątek|tennis; Margaret Court|tennis; Evonne Goolagong|tennis; Lleyton Hewitt|tennis;
Marat Safin|tennis; Andy Roddick|tennis; Goran Ivanišević|tennis; Gustavo Kuerten|tennis; Yannick Noah|tennis;
Jannik Sinner|tennis; Caroline Wozniacki|tennis; Petra Kvitová|tennis;
Tiger Woods|golf; Jack Nicklaus|golf; Arnold Palmer|golf; Gary Player|golf; Seve Ballesteros|golf;
Phil Mickelson|golf; Rory McIlroy|golf; Nick Faldo|golf; Greg Norman|golf; Ben Hogan|golf; Sam Snead|golf;
Tom Watson|golf; Annika Sörenstam|golf; Ernie Els|golf; Vijay Singh|golf; Jordan Spieth|golf; Lee Trevino|golf;
Padraig Harrington|golf; Sergio García|golf; Jon Rahm|golf; Bubba Watson|golf; Dustin Johnson|golf;
Scottie Scheffler|golf; Brooks Koepka|golf; Colin Montgomerie|golf; Bernhard Langer|golf; Fred Couples|golf;
LeBron James|basketball; Kobe Bryant|basketball; Magic Johnson|basketball; Larry Bird|basketball;
Kareem Abdul-Jabbar|basketball; Shaquille O'Neal|basketball; Wilt Chamberlain|basketball; Bill Russell|basketball;
Stephen Curry|basketball; Kevin Durant|basketball; Tim Duncan|basketball; Dirk Nowitzki|basketball;
Hakeem Olajuwon|basketball; Charles Barkley|basketball; Scottie Pippen|basketball; Dennis Rodman|basketball;
Yao Ming|basketball; Allen Iverson|basketball; Dwyane Wade|basketball; Giannis Antetokounmpo|basketball;
Nikola Jokić|basketball; Luka Dončić|basketball; Pau Gasol|basketball; Tony Parker|basketball;
Manu Ginóbili|basketball; Kevin Garnett|basketball; Patrick Ewing|basketball; Karl Malone|basketball;
Jerry West|basketball; Oscar Robertson|basketball; Julius Erving|basketball;
Steve Nash|basketball; Vince Carter|basketball; Russell Westbrook|basketball; James Harden|basketball;
Kawhi Leonard|basketball; Dražen Petrović|basketball; Arvydas Sabonis|basketball;
Jackie Robinson|baseball; Hank Aaron|baseball; Willie Mays|baseball; Mickey Mantle|baseball; Joe DiMaggio|baseball;
Ted Williams|baseball; Ty Cobb|baseball; Cy Young|baseball; Roberto Clemente|baseball; Derek Jeter|baseball;
Ichiro Suzuki|baseball; Shohei Ohtani|baseball; Barry Bonds|baseball; Pete Rose|baseball; Cal Ripken Jr.|baseball;
Nolan Ryan|baseball; Sandy Koufax|baseball; Yogi Berra|baseball; Stan Musial|baseball; Mike Trout|baseball;
Alex Rodriguez|baseball; Albert Pujols|baseball; David Ortiz|baseball; Mariano Rivera|baseball;
Sammy Sosa|baseball; Mark McGwire|baseball; Ken Griffey Jr.|baseball; Reggie Jackson|baseball;
Randy Johnson|baseball; Roger Clemens|baseball; Pedro Martínez|baseball; Honus Wagner|baseball;
Satchel Paige|baseball; Sadaharu Oh|baseball; Hideki Matsui|baseball;
Sachin Tendulkar|cricket; Don Bradman|cricket; Brian Lara|cricket; Virat Kohli|cricket; MS Dhoni|cricket;
Shane Warne|cricket; Muttiah Muralitharan|cricket; Wasim Akram|cricket; Kapil Dev|cricket;
Sunil Gavaskar|cricket; Vivian Richards|cricket; Garfield Sobers|cricket; Ricky Ponting|cricket;
Jacques Kallis|cricket; Kumar Sangakkara|cricket; Ian Botham|cricket; W. G. Grace|cricket; Rahul Dravid|cricket;
AB de Villiers|cricket; Glenn McGrath|cricket; Chris Gayle|cricket; Ben Stokes|cricket; Shoaib Akhtar|cricket;
Sourav Ganguly|cricket; Rohit Sharma|cricket; Javed Miandad|cricket; Sanath Jayasuriya|cricket;
Mahela Jayawardene|cricket; Kane Williamson|cricket; Richard Hadlee|cricket; Dale Steyn|cricket;
Curtly Ambrose|cricket; Courtney Walsh|cricket; Shahid Afridi|cricket; Babar Azam|cricket; Jasprit Bumrah|cricket;
Jonah Lomu|rugby; Richie McCaw|rugby; Dan Carter|rugby; Jonny Wilkinson|rugby; Brian O'Driscoll|rugby;
Gareth Edwards|rugby; David Campese|rugby; Francois Pienaar|rugby; Sergio Parisse|rugby; Beauden Barrett|rugby;
Siya Kolisi|rugby; Serge Blanco|rugby; George Gregan|rugby; John Eales|rugby; Shane Williams|rugby;
Will Carling|rugby; Antoine Dupont|rugby; Alun Wyn Jones|rugby; Bryan Habana|rugby;
Wayne Gretzky|hockey; Mario Lemieux|hockey; Gordie Howe|hockey; Bobby Orr|hockey; Sidney Crosby|hockey;
Alexander Ovechkin|hockey; Maurice Richard|hockey; Jaromír Jágr|hockey; Mark Messier|hockey; Patrick Roy|hockey;
Martin Brodeur|hockey; Connor McDavid|hockey; Steve Yzerman|hockey; Teemu Selänne|hockey; Jari Kurri|hockey;
Dominik Hašek|hockey; Bobby Hull|hockey; Guy Lafleur|hockey; Jean Béliveau|hockey; Evgeni Malkin|hockey;
Peter Forsberg|hockey; Nicklas Lidström|hockey; Joe Sakic|hockey; Vladislav Tretiak|hockey;
Zinedine Zidane|football; Thierry Henry|football;
Kaká|football; Luis Suárez|football; Zlatan Ibrahimović|football; Wayne Rooney|football;
David Beckham|football; Bobby Charlton|football; George Best|football; Eusébio|football;
Alfredo Di Stéfano|football; Michel Platini|football; Marco van Basten|football;
Ruud Gullit|football; Paolo Maldini|football; Roberto Baggio|football; Andrea Pirlo|football;
Francesco Totti|football; Gianluigi Buffon|football; Lev Yashin|football; Gerd Müller|football;
Lothar Matthäus|football; Andrés Iniesta|football; Sergio Ramos|football; Iker Casillas|football;
Luka Modrić|football; Mohamed Salah|football; Didier Drogba|football; Samuel Eto'o|football; George Weah|football;
Kylian Mbappé|football; Erling Haaland|football; Karim Benzema|football;
Gary Lineker|football; Steven Gerrard|football; Frank Lampard|football; Rivaldo|football; Romário|football;
Garrincha|football; Dennis Bergkamp|football; Eric Cantona|football; Roberto Carlos|football
""",
    "scientist_field": """
Max Planck|physics; Richard Feynman|physics; Paul Dirac|physics; 
Max Born|physics; Lise Meitner|physics; J. J. Thomson|physics; James Chadwick|physics; Michael Faraday|physics;
Heinrich Hertz|physics;  Murray Gell-Mann|physics; Peter Higgs|physics;
Robert Oppenheimer|physics; Edward Teller|physics; Lev Landau|physics;
Andrei Sakharov|physics; Hideki Yukawa|physics; C. V. Raman|physics; Satyendra Nath Bose|physics;
Steven Weinberg|physics; Abdus Salam|physics; Chen Ning Yang|physics; Hendrik Lorentz|physics;
Ludwig Boltzmann|physics; Alessandro Volta|physics; André-Marie Ampère|physics;
Pierre Curie|physics; Arthur Compton|physics; Louis de Broglie|physics; Chien-Shiung Wu|physics;
Linus Pauling|chemistry; Humphry Davy|chemistry; Fritz Haber|chemistry; Robert Bunsen|chemistry;
Jöns Jacob Berzelius|chemistry; Friedrich Wöhler|chemistry; August Kekulé|chemistry; Dorothy Hodgkin|chemistry;
Emil Fischer|chemistry;
Harold Urey|chemistry; Gilbert N. Lewis|chemistry; Alfred Werner|chemistry; Wilhelm Ostwald|chemistry;
Joseph Priestley|chemistry; Jacobus van 't Hoff|chemistry; Carl Bosch|chemistry; Marcellin Berthelot|chemistry;
Irving Langmuir|chemistry; Ahmed Zewail|chemistry; Paul Sabatier|chemistry; Hermann Staudinger|chemistry;
Carl Friedrich Gauss|mathematics; Bernhard Riemann|mathematics; Henri Poincaré|mathematics;
Évariste Galois|mathematics; Niels Henrik Abel|mathematics; Srinivasa Ramanujan|mathematics;
Pierre de Fermat|mathematics; Georg Cantor|mathematics; Emmy Noether|mathematics; Augustin-Louis Cauchy|mathematics;
Carl Gustav Jacobi|mathematics; Sophus Lie|mathematics; Felix Klein|mathematics;
Andrew Wiles|mathematics; Terence Tao|mathematics; Grigori Perelman|mathematics;
Alexander Grothendieck|mathematics; Paul Erdős|mathematics; Karl Weierstrass|mathematics;
Richard Dedekind|mathematics; G. H. Hardy|mathematics; Benoit Mandelbrot|mathematics; Fibonacci|mathematics;
Andrey Kolmogorov|mathematics; Jacques Hadamard|mathematics;
Alfred Russel Wallace|biology; Jean-Baptiste Lamarck|biology; James Watson|biology; 
Barbara McClintock|biology; Ernst Mayr|biology; E. O. Wilson|biology; Richard Dawkins|biology;
Thomas Hunt Morgan|biology; Theodosius Dobzhansky|biology; Ernst Haeckel|biology; Rachel Carson|biology;
Lynn Margulis|biology; Konrad Lorenz|biology; Julian Huxley|biology; 
Edwin Hubble|astronomy; Johannes Kepler|astronomy; William Herschel|astronomy; Caroline Herschel|astronomy;
Carl Sagan|astronomy; Edmond Halley|astronomy; Vera Rubin|astronomy; Henrietta Swan Leavitt|astronomy;
Annie Jump Cannon|astronomy; Clyde Tombaugh|astronomy; Giovanni Cassini|astronomy; Charles Messier|astronomy;
Percival Lowell|astronomy; Fred Hoyle|astronomy; Gerard Kuiper|astronomy;
Jan Oort|astronomy; Urbain Le Verrier|astronomy; Arthur Eddington|astronomy; Harlow Shapley|astronomy;
Edward Jenner|medicine; Joseph Lister|medicine; William Harvey|medicine; Ignaz Semmelweis|medicine;
Christiaan Barnard|medicine; Jonas Salk|medicine; Albert Sabin|medicine; Paracelsus|medicine; Galen|medicine;
Hippocrates|medicine; Elizabeth Blackwell|medicine; Virginia Apgar|medicine; René Laennec|medicine;
Andreas Vesalius|medicine; Frederick Banting|medicine; Harvey Cushing|medicine;
John Maynard Keynes|economics; Milton Friedman|economics; David Ricardo|economics; Thomas Malthus|economics;
Friedrich Hayek|economics; Paul Samuelson|economics; Joseph Schumpeter|economics; Alfred Marshall|economics;
Ludwig von Mises|economics; Amartya Sen|economics; Joseph Stiglitz|economics; Paul Krugman|economics;
Vilfredo Pareto|economics; Léon Walras|economics; Thorstein Veblen|economics; John Kenneth Galbraith|economics;
Gary Becker|economics; Kenneth Arrow|economics; Ben Bernanke|economics;
Carl Jung|psychology; B. F. Skinner|psychology; Jean Piaget|psychology; Wilhelm Wundt|psychology;
Alfred Adler|psychology; Abraham Maslow|psychology; Carl Rogers|psychology; Stanley Milgram|psychology;
Albert Bandura|psychology; Erik Erikson|psychology; Hermann Ebbinghaus|psychology; Lev Vygotsky|psychology;
Charles Lyell|geology; James Hutton|geology; Alfred Wegener|geology; Inge Lehmann|geology; Charles Richter|geology;
Roderick Murchison|geology; Adam Sedgwick|geology
""",
    "city_range": """
Chamonix|Alps; Bolzano|Alps; Trento|Alps; Aosta|Alps; Davos|Alps; St. Moritz|Alps; Zermatt|Alps; Interlaken|Alps;
Garmisch-Partenkirchen|Alps; Berchtesgaden|Alps; Kitzbühel|Alps; Bled|Alps; Lugano|Alps; Cortina d'Ampezzo|Alps;
Bormio|Alps; Brig|Alps; Chur|Alps; Bludenz|Alps; Villach|Alps; Merano|Alps; Briançon|Alps; Sion|Alps;
Martigny|Alps; Lienz|Alps; Chambéry|Alps; Bad Ischl|Alps; Sondrio|Alps; Belluno|Alps; Kranj|Alps; Bad Reichenhall|Alps;
Lourdes|Pyrenees; Pau|Pyrenees; Jaca|Pyrenees; Foix|Pyrenees; Tarbes|Pyrenees; Huesca|Pyrenees;
Puigcerdà|Pyrenees; Font-Romeu|Pyrenees; La Seu d'Urgell|Pyrenees; Saint-Jean-Pied-de-Port|Pyrenees;
Cauterets|Pyrenees; Bagnères-de-Bigorre|Pyrenees; Andorra la Vella|Pyrenees; Saint-Girons|Pyrenees;
La Paz|Andes; Quito|Andes; Cusco|Andes; Mendoza|Andes; Huaraz|Andes; Sucre|Andes; Potosí|Andes;
Cochabamba|Andes; San Carlos de Bariloche|Andes; Salta|Andes; Riobamba|Andes; Ambato|Andes; Puno|Andes;
Cajamarca|Andes; Manizales|Andes; Popayán|Andes; Latacunga|Andes; Oruro|Andes; Tarija|Andes; Ayacucho|Andes;
Kathmandu|Himalayas; Pokhara|Himalayas; Dharamshala|Himalayas; Manali|Himalayas; Gangtok|Himalayas;
Thimphu|Himalayas; Mussoorie|Himalayas; Nainital|Himalayas; Paro|Himalayas;
Namche Bazaar|Himalayas; McLeod Ganj|Himalayas; Almora|Himalayas;
Denver|Rocky Mountains; Boulder|Rocky Mountains; Aspen|Rocky Mountains; Vail|Rocky Mountains;
Banff|Rocky Mountains; Jasper|Rocky Mountains; Colorado Springs|Rocky Mountains; Estes Park|Rocky Mountains;
Telluride|Rocky Mountains; Helena|Rocky Mountains; Canmore|Rocky Mountains; Breckenridge|Rocky Mountains;
Steamboat Springs|Rocky Mountains; Leadville|Rocky Mountains; Whitefish|Rocky Mountains; Fort Collins|Rocky Mountains;
Zakopane|Carpathians; Brașov|Carpathians; Ivano-Frankivsk|Carpathians; Poprad|Carpathians; Sinaia|Carpathians;
Nowy Targ|Carpathians; Sanok|Carpathians; Rakhiv|Carpathians; Yaremche|Carpathians; Bistrița|Carpathians;
Piatra Neamț|Carpathians; Uzhhorod|Carpathians; Bielsko-Biała|Carpathians;
Yekaterinburg|Urals; Chelyabinsk|Urals; Magnitogorsk|Urals; Zlatoust|Urals; Miass|Urals; Nizhny Tagil|Urals;
Vladikavkaz|Caucasus; Nalchik|Caucasus; Grozny|Caucasus; Kutaisi|Caucasus; Pyatigorsk|Caucasus;
Kislovodsk|Caucasus; Mestia|Caucasus; Stepantsminda|Caucasus; Sheki|Caucasus; Telavi|Caucasus;
L'Aquila|Apennines; Perugia|Apennines; Assisi|Apennines; Spoleto|Apennines; Gubbio|Apennines; Norcia|Apennines;
Campobasso|Apennines; Isernia|Apennines; Potenza|Apennines; Avellino|Apennines; Sulmona|Apennines; Rieti|Apennines;
Teramo|Apennines; Benevento|Apennines;
Marrakesh|Atlas Mountains; Ifrane|Atlas Mountains; Ouarzazate|Atlas Mountains; Azilal|Atlas Mountains;
Khenifra|Atlas Mountains; Blida|Atlas Mountains; Midelt|Atlas Mountains; Imlil|Atlas Mountains;
Beni Mellal|Atlas Mountains; Batna|Atlas Mountains;
Gatlinburg|Appalachians; Boone|Appalachians; Blacksburg|Appalachians; Altoona|Appalachians;
Johnson City|Appalachians; Beckley|Appalachians; Pigeon Forge|Appalachians;
Mammoth Lakes|Sierra Nevada; South Lake Tahoe|Sierra Nevada; Truckee|Sierra Nevada;
Goslar|Harz; Wernigerode|Harz; Quedlinburg|Harz; Clausthal-Zellerfeld|Harz; Bad Harzburg|Harz;
Triberg|Black Forest; Titisee-Neustadt|Black Forest; Freudenstadt|Black Forest;
Gérardmer|Vosges; Épinal|Vosges; Saint-Dié-des-Vosges|Vosges;
Ooty|Western Ghats; Munnar|Western Ghats; Kodaikanal|Western Ghats; Mahabaleshwar|Western Ghats;
Coonoor|Western Ghats; Lonavala|Western Ghats;
Katoomba|Blue Mountains; Leura|Blue Mountains; Wanaka|Southern Alps; Franz Josef|Southern Alps;
Skardu|Karakoram; Gilgit|Karakoram; Hunza|Karakoram
""",
    "landmark_river": """
Pont Neuf|Seine; Pont Alexandre III|Seine; Musée d'Orsay|Seine; Conciergerie|Seine; Pont des Arts|Seine;
Château Gaillard|Seine; Grand Palais|Seine; Palace of Westminster|Thames; London Eye|Thames; Tate Modern|Thames;
Shakespeare's Globe|Thames; Hampton Court Palace|Thames; Windsor Castle|Thames; HMS Belfast|Thames;
Battersea Power Station|Thames; Cutty Sark|Thames; Thames Barrier|Thames;
Somerset House|Thames; Royal Festival Hall|Thames; Westminster Bridge|Thames;
Southwark Cathedral|Thames; Hungarian Parliament Building|Danube; Széchenyi Chain Bridge|Danube;
Buda Castle|Danube; Fisherman's Bastion|Danube; Melk Abbey|Danube; Walhalla|Danube; Devín Castle|Danube;
Bratislava Castle|Danube; Golubac Fortress|Danube; Petrovaradin Fortress|Danube; Dürnstein Castle|Danube;
Marksburg|Rhine; Lorelei|Rhine; Rheinfels Castle|Rhine; Pfalzgrafenstein Castle|Rhine; Stolzenfels Castle|Rhine;
Ehrenbreitstein Fortress|Rhine; Mouse Tower|Rhine; Katz Castle|Rhine; Rheinstein Castle|Rhine; Sooneck Castle|Rhine;
Château d'Amboise|Loire; Château de Chaumont|Loire; Château de Sully-sur-Loire|Loire; Château de Langeais|Loire;
Château de Chenonceau|Cher; Château d'Azay-le-Rideau|Indre; Castel Sant'Angelo|Tiber; Ponte Sant'Angelo|Tiber;
Ponte Milvio|Tiber; Charles Bridge|Vltava; Český Krumlov Castle|Vltava; Vyšehrad|Vltava;
Hermitage Museum|Neva; Winter Palace|Neva; Peter and Paul Fortress|Neva; Cruiser Aurora|Neva;
Moscow Kremlin|Moskva; Cathedral of Christ the Saviour|Moskva; Karnak Temple|Nile; Kom Ombo Temple|Nile;
Edfu Temple|Nile; Aswan High Dam|Nile; Cairo Tower|Nile; Red Fort|Yamuna; Mehtab Bagh|Yamuna;
Dashashwamedh Ghat|Ganges; Har Ki Pauri|Ganges; Lakshman Jhula|Ganges; Howrah Bridge|Hooghly;
Ponte Vecchio|Arno; Ponte Santa Trinita|Arno; Brooklyn Bridge|East River; Manhattan Bridge|East River;
Williamsburg Bridge|East River; George Washington Bridge|Hudson; Lincoln Memorial|Potomac; Mount Vernon|Potomac;
Kennedy Center|Potomac; Stone Arch Bridge|Mississippi; Eads Bridge|Mississippi; Wat Arun|Chao Phraya;
Oriental Pearl Tower|Huangpu; Canton Tower|Pearl; Three Gorges Dam|Yangtze;
Yellow Crane Tower|Yangtze; Zwinger|Elbe; Semperoper|Elbe; Brühl's Terrace|Elbe; Blue Wonder|Elbe;
Torre del Oro|Guadalquivir; Triana Bridge|Guadalquivir; Jerónimos Monastery|Tagus;
25 de Abril Bridge|Tagus; Padrão dos Descobrimentos|Tagus; Dom Luís I Bridge|Douro; Ha'penny Bridge|Liffey;
Four Courts|Liffey; Finnieston Crane|Clyde;
Gateshead Millennium Bridge|Tyne; Sage Gateshead|Tyne; Reichstag building|Spree; Berlin Cathedral|Spree;
Oberbaum Bridge|Spree; Bode Museum|Spree; Wawel Castle|Vistula; Pulteney Bridge|Avon;
Clifton Suspension Bridge|Avon; Château Frontenac|Saint Lawrence; Grossmünster|Limmat; Fraumünster|Limmat;
Kapellbrücke|Reuss; Spreuerbrücke|Reuss; Stari Most|Neretva; Mehmed Paša Sokolović Bridge|Drina;
Pont Saint-Bénezet|Rhône; Pont de Pierre|Garonne; Palais des Papes|Rhône
""",
}

# other names of the targets (a greedy answer naming one is the right answer, and a subject naming one gives it away)
_OTHER = """
football|soccer, association football. hockey|ice hockey. rugby|rugby union.
mathematics|maths, math. economics|economic science. psychology|psychological science.
Himalayas|Himalaya, Himalayan. Rocky Mountains|Rockies, Rocky. Carpathians|Carpathian Mountains, Carpathian.
Urals|Ural Mountains, Ural. Pyrenees|Pyrénées, Pyrenean. Apennines|Apennine Mountains, Apennine.
Atlas Mountains|Atlas, High Atlas, Middle Atlas. Appalachians|Appalachian Mountains, Appalachian.
Caucasus|Caucasus Mountains, Greater Caucasus. Andes|Andean. Alps|Alpine. Vosges|Vosges Mountains.
Harz|Harz Mountains. Black Forest|Schwarzwald. Western Ghats|Sahyadri. Sierra Nevada|Sierra.
Danube|Donau, Duna. Vltava|Moldau. Tagus|Tejo, Tajo. Ganges|Ganga. Yamuna|Jumna. Moskva|Moscow River.
Yangtze|Chang Jiang, Yangzi. Pearl|Pearl River, Zhujiang. Huangpu|Huangpu River. Neva|Neva River.
East River|East. Saint Lawrence|St Lawrence. Rhône|Rhone. Hooghly|Hugli.
"""
# regions a target belongs to, or its parts (a greedy answer naming one is no wrong answer)
_REGIONS = """
tennis|Wimbledon, ATP, WTA. golf|PGA, Masters. basketball|NBA. baseball|MLB, Major League Baseball. hockey|NHL.
football|Premier League, FIFA. cricket|Test cricket. physics|quantum mechanics, quantum physics, nuclear physics,
particle physics, thermodynamics, electromagnetism, optics, relativity, radioactivity, electricity, spectroscopy,
nuclear weapons. chemistry|biochemistry, organic chemistry, physical chemistry, chemical, nuclear chemistry,
radiochemistry, electrochemistry. mathematics|number theory, geometry, algebra, calculus, topology, analysis,
statistics, mathematical. biology|genetics, evolution, zoology, botany, ecology, microbiology, molecular biology,
evolutionary biology, ethology, natural history, biological, marine biology, environmental science.
astronomy|astrophysics, cosmology, astronomical, planetary science. medicine|surgery, anatomy, immunology,
bacteriology, microbiology, vaccination, epidemiology, medical, physiology, cardiology, obstetrics, gynaecology,
gynecology, hygiene. economics|macroeconomics, microeconomics, finance, political economy. psychology|psychoanalysis,
psychiatry, behaviorism, developmental psychology, child psychology, behavior, behaviour, behavioral, cognitive
development, child development, human development, cognitive psychology. geology|paleontology, seismology, geophysics,
stratigraphy, continental drift, plate tectonics. Alps|Mont Blanc, Matterhorn, Dolomites, Swiss Alps, Bavarian Alps,
Julian Alps, Bernese Alps, Tyrol, Austrian Alps, French Alps, Italian Alps, Karawanks, Ortler. Himalayas|Mount
Everest, Mt.Everest, Everest, Kangchenjunga, Dhauladhar, Kumaon. Rocky Mountains|Front Range, Canadian Rockies,
Continental Divide. Carpathians|Tatras, Tatra Mountains, High Tatras, Bucegi, Făgăraș. Caucasus|Mount Elbrus, Elbrus.
Andes|Cordillera Central, Cordillera Blanca, Cordillera Real, Sierra Nevada de los Coconucos. Sierra Nevada|Lake
Tahoe. Appalachians|Blue Ridge, Blue Ridge Mountains, Great Smoky Mountains, Smoky Mountains, Allegheny. Western
Ghats|Nilgiris, Nilgiri Hills, Nilgiri Mountains, Nilgiri, Palani Hills. Southern Alps|Alps. Karakoram|Himalayas,
Himalaya. Thames|Thames Estuary. Danube|Danube Bend. Rhine|Middle Rhine, Rhine Gorge. Nile|Lake Nasser. Ganges|Ganga,
Hooghly. Hooghly|Ganges, Ganga. Cher|Loire. Indre|Loire. Seine|Île de la Cité. East River|Hudson, Manhattan.
Huangpu|Yangtze. Elbe|Dresden. Spree|Museum Island. Moskva|Moscow.
"""


def _tables() -> tuple[dict[str, str], dict[str, str]]:
    """SAME (target -> its other names) and REGIONS (target -> regions around it, or its parts)."""
    same, regions = mf5.read_pairs(_OTHER), mf5.read_pairs(_REGIONS)
    return ({k: ", ".join(words(v)) for k, v in same.items()}, {k: ", ".join(words(v)) for k, v in regions.items()})


SAME, REGIONS = _tables()

# Generic prompts written for this file (one clear next word), none a prompt of the project; id generic:kNNN.
GENERIC = """
A goldfish lives in a| bowl
A spider catches flies in its| web
A cow lives on a| farm
A rabbit likes to eat| carrots
A monkey likes to eat| bananas
A mouse likes to eat| cheese
A dog likes to chew a| bone
A cat likes to drink| milk
A bee collects nectar from| flowers
A parrot can learn to| talk
A snail carries its house on its| back
A camel stores fat in its| hump
A duck has webbed| feet
An octopus has eight| arms
A starfish has five| arms
A horse sleeps in a| stable
A pig lives in a| sty
A hamster runs on a| wheel
A chicken lays an| egg
A lamb grows up to be a| sheep
A puppy grows up to be a| dog
A tadpole grows up to be a| frog
A seed grows into a| plant
An acorn grows into an oak| tree
Children go to school to| learn
Doctors work in| hospitals
Pilots fly| planes
Drivers drive| cars
Farmers grow| food
Bakers bake| bread
Builders build| houses
Dentists look after| teeth
Vets look after| animals
Students sit| exams
A referee blows a| whistle
A drummer plays the| drums
A violinist plays the| violin
A pianist plays the| piano
A goalkeeper stands in the| goal
A cyclist rides a| bike
A swimmer swims in the| pool
A skier skis down the| slope
A climber climbs a| mountain
A runner runs a| race
A gardener plants| seeds
A detective solves| crimes
A magician pulls a rabbit out of a| hat
A pirate has a wooden| leg
A king wears a golden| crown
A witch rides a| broomstick
A cowboy rides a| horse
A knight wears shining| armour
A queen sits on a| throne
A ghost says| boo
An owl says| hoo
A lion has a big| mane
A peacock has colourful| feathers
A rose has sharp| thorns
A tree has green| leaves
A house has a| roof
A book has many| pages
A clock has two| hands
A coin has two| sides
A shirt has| buttons
A shoe has a| sole
A jacket has a| zip
A window is made of| glass
A pencil is made of| wood
A tyre is made of| rubber
A sweater is made of| wool
A bottle of| milk
A carton of| eggs
A jar of| honey
A bowl of| soup
A plate of| spaghetti
A box of| chocolates
A pinch of| salt
A spoonful of| sugar
A tube of| toothpaste
A can of| beans
A packet of| crisps
A basket of| apples
A bag of| potatoes
Four quarters make a| whole
Ten tens make a| hundred
Five plus four equals| nine
Seven minus three equals| four
Six plus six equals| twelve
Eight divided by two equals| four
Nine plus one equals| ten
Twenty minus ten equals| ten
The number after three is| four
The number after six is| seven
The number before ten is| nine
The letter after B is| C
The letter before Z is| Y
The day after Tuesday is| Wednesday
The day after Saturday is| Sunday
The day before Friday is| Thursday
The month after April is| May
The month after June is| July
The month before March is| February
The season after spring is| summer
The season after autumn is| winter
The opposite of clean is| dirty
The opposite of hard is| soft
The opposite of strong is| weak
The opposite of thick is| thin
The opposite of high is| low
The opposite of near is| far
The opposite of new is| old
The opposite of quiet is| loud
The opposite of first is| last
The opposite of north is| south
The opposite of east is| west
The opposite of day is| night
The opposite of summer is| winter
The opposite of boy is| girl
The opposite of man is| woman
The opposite of king is| queen
The opposite of yes is| no
The opposite of true is| false
The opposite of good is| bad
The opposite of before is| after
The opposite of above is| below
The opposite of inside is| outside
The opposite of sunrise is| sunset
The opposite of cheap is| expensive
The opposite of safe is| dangerous
The opposite of easy is| difficult
The opposite of awake is| asleep
The opposite of ugly is| beautiful
The opposite of long is| short
The opposite of sharp is| blunt
Bacon and| eggs
Fish and| chips
Salt and| vinegar
Milk and| cookies
Tea and| biscuits
Rice and| beans
Shoes and| socks
Table and| chairs
Knives and| forks
Pots and| pans
Hammer and| nails
Dogs and| cats
Sun and| rain
Day and| night
Boys and| girls
Aches and| pains
Sticks and| stones
Slow and| steady
Short and| sweet
Sick and| tired
Wait and| see
Give and| take
Hit and| miss
Open and| shut
Loud and| clear
Head over| heels
Once in a| while
All of a| sudden
On the other| hand
At the end of the| day
In the middle of the| night
Better late than| never
Out of the| blue
Over the| moon
Good| night
Good| luck
Well| done
Happy| birthday
Sweet| dreams
Bon| appetit
How do you| do
Long time no| see
My name| is
What time is| it
I love| you
I am very| sorry
Please sit| down
Please come| in
Close the| door
Turn off the| lights
Wash your| hands
Brush your| teeth
Tie your| shoelaces
Eat your| vegetables
Go to| sleep
Wake| up
Hurry| up
Calm| down
Speak| up
Look| out
Hold| on
Keep| calm
We drink water when we are| thirsty
We eat food when we are| hungry
We sleep when we are| tired
We wear coats when it is| cold
We wear shorts when it is| hot
We use an umbrella when it| rains
We go to the beach in the| summer
We build snowmen in the| winter
We pick apples in the| autumn
Flowers bloom in the| spring
Leaves fall from the trees in| autumn
The moon shines at| night
The stars come out at| night
The sun shines during the| day
Clouds bring| rain
Wind blows the| leaves
Thunder is| loud
Ice is| cold
Fire is| hot
Honey is| sweet
Lemons are| sour
Chillies are| hot
Feathers are| light
Rocks are| heavy
Elephants are| big
Mice are| small
Cheetahs are| fast
Snails are| slow
Giraffes are| tall
Tigers have| stripes
Leopards have| spots
Zebras have| stripes
Fish have| fins
Birds have| wings
Cats have| whiskers
Rabbits have long| ears
Tortoises have hard| shells
Hedgehogs have sharp| spines
She boiled the eggs for breakfast and ate them with| toast
He put on his pyjamas and went to| bed
The teacher rang the| bell
The girl blew out the| candles
The boy kicked the| ball
The baby drank her| milk
The mother read her children a bedtime| story
The cat curled up on the| sofa
The dog barked at the| postman
The wind blew the door| shut
She hung her coat on the| hook
He locked his bike to the| railing
They walked their dog in the| park
The kids played on the| swings
The family ate dinner at the| table
The bus stopped at the| bus stop
The shopkeeper opened the| shop
The sun melted the| snow
The rain made the ground| wet
The tired runner crossed the finish| line
The team won the| match
The singer sang a| song
The artist painted a| picture
The boy climbed the| tree
The girl rode her| bike
The farmer fed the| chickens
The chef chopped the| onions
The children laughed at the| clown
The sailor climbed the| mast
The mouse ran into its| hole
The bird sang in the| tree
The fish swam in the| pond
The queen lived in a| palace
The prince married the| princess
The dragon breathed| fire
The wizard waved his| wand
The pirates found the buried| treasure
The astronauts landed on the| moon
The firefighter climbed the| ladder
The baby slept in the| pram
He poured milk on his| cereal
She spread butter on her| toast
He squeezed the| lemon
She peeled the| potatoes
They set the| table
He washed the| car
She watered the| flowers
He mowed the| grass
She made the| bed
They cleaned the| house
He walked up the| stairs
She looked out of the| window
He sat down on the| bench
She swam in the| lake
"""

_why_not_near5 = mf5.why_not_near
# a greedy answer whose first word only announces the answer has named nothing yet
_NOT_YET = {"mountain", "mountains", "foothills", "foot", "slopes", "slope", "peaks", "peak", "range", "ranges",
            "hills", "highlands", "natural", "science", "sciences", "scientific", "study", "studies", "research",
            "sport", "sports", "game", "professional", "river", "rivers", "banks", "bank", "waters", "bed", "riverbed"}
# adjectives before the answer (Gemma: " majestic Rocky Mountains"): the rule reads the answer after them
_ADJECTIVES = {"majestic", "mighty", "beautiful", "towering", "snow-capped", "snowcapped", "picturesque", "scenic",
               "stunning", "magnificent", "rugged", "imposing", "spectacular"}


def why_not_near(top: str, text: str, target: str, subject: str = "") -> str | None:
    """make_fresh5's rule (make_fresh4's, a first word that only announces the answer, the target after a title),
    read after any leading adjectives (" majestic Rocky Mountains" is read as " Rocky Mountains"), then: the target
    or one of its other names among the first five words of the greedy answer is the right answer after a qualifier
    (" ice hockey", " theoretical physics", " Swiss Alps"), and a first word that only announces the answer here
    (" mountains of ...", " natural sciences", " professional ...") has named nothing yet."""
    parts = text.split(" ")
    while len(parts) > 2 and parts[0] == "" and parts[1].strip(",.").lower() in _ADJECTIVES:
        parts = parts[:1] + parts[2:]  # drop the adjective, keep the leading space
    if len(parts) != len(text.split(" ")):
        text = " ".join(parts)
        top = " " + parts[1]
    name = target.strip()
    first = [w.strip(",.;:'\"()").lower() for w in text.strip().split()[:5]]
    for other in [name, *words(SAME.get(name, ""))]:
        n = other.lower().split()
        if any(first[i:i + len(n)] == n for i in range(len(first))):
            return "the target after a qualifier"
    why = _why_not_near5(top, text, target, subject)
    if why is None and first and first[0] in _NOT_YET:
        return "no answer yet"
    return why


def use_fresh6() -> None:
    """Point make_fresh5's tables at this file's; make_fresh5's use_fresh5 then points make_fresh4's at them."""
    for name in mf5.TABLES:
        setattr(mf5, name, globals()[name])
    mf5.__doc__ = __doc__


def main() -> None:
    use_fresh6()
    mf5.use_fresh5()
    gen = mf4.mf.generic_pool  # ids generic:kNNN (fresh5's were generic:jNNN)
    mf4.mf.generic_pool = lambda prompts, generic, ids: gen(prompts, generic, "generic:k{:03d}")
    mf4.main()


if __name__ == "__main__":
    main()
