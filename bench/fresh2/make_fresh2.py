"""Build a SECOND set of fresh held-out evaluation sets (`bench/fresh2/`) for SmolLM2-135M-Instruct and Gemma 3 270M.

Modelled on `bench/fresh/make_fresh.py` (same facts schema, `note`, scoring rule and near-miss filter; its tables
SAME/REGIONS/COUNTRIES/FUNCTION_WORDS and its pure helpers are imported from it), with four relations the project has
never used: university, bank, newspaper and beer -> country. Many subjects share a last word ("X University",
"X Bank", "X Post", "X Lager") on purpose: guard prompts whose subject shares the last word of a repaired subject are
the ones that must be tested.

* rank/gap: at the prompt's last position, the rank of the target's FIRST token and its logit minus the best other
  logit (negative = wrong);
* right = the greedy tokens spell the whole target, teacher-forced (`patchkit.evals.score_facts`), and rank 1;
  right/guard rows additionally need a lead (gap) >= 0.3;
* near miss = wrong with first-token rank 2..5 whose greedy answer is a genuine wrong answer (make_fresh's filter).

Held-out rule, checked mechanically here: a candidate whose subject occurs (whole word, case-insensitive; the full
subject string, without a leading "the") in any file under `patchkit/data/`, `bench/tune/`, `bench/heldout/`,
`bench/fresh/` or in `bench/*.jsonl` is dropped, as is a subject containing its answer or the answer's adjective, and
no prompt or paraphrase may equal a prompt/paraphrase/text of those files. The picks (near8, near50, guards) are random
(seed 21) within relations, never by how an edit does.

Run from the repository root: `python bench/fresh2/make_fresh2.py` (both models; `--model smollm2` for one).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import random
import re
import sys
import unicodedata
from pathlib import Path

import torch

from patchkit import evals, models

_spec = importlib.util.spec_from_file_location("make_fresh", Path(__file__).resolve().parents[1] / "fresh" / "make_fresh.py")
mf = importlib.util.module_from_spec(_spec)
sys.modules["make_fresh"] = mf
_spec.loader.exec_module(mf)
parse, words, occurs, score, greedy_text = mf.parse, mf.words, mf.occurs, mf.score, mf.greedy_text
starts_with, even_quota, by_relation, note = mf.starts_with, mf.even_quota, mf.by_relation, mf.note
COUNTRIES, FUNCTION_WORDS = mf.COUNTRIES, mf.FUNCTION_WORDS

OUT = Path("bench/fresh2")
SEED = 21
LEAD = 0.3  # the smallest gap of a right/guard row
MODELS = {"smollm2": "smollm2", "gemma": "gemma3-270m"}  # file prefix -> prepared model name

# relation: (prompt, paraphrase 1, paraphrase 2). {S} = subject as at the start of a sentence, {s} = subject as written
# mid-sentence. ALT replaces paraphrase 1 where the name already says what it is, or starts with "the" (see fact()).
TEMPLATES = {
    "university_country": ("{S} is a university in the country of",
                           "The university {s} is located in the country of",
                           "{S} is an institution of higher education in the country of"),
    "bank_country": ("{S} is a bank headquartered in the country of", "The bank {s} is based in the country of",
                     "{S} is a financial institution from the country of"),
    "newspaper_country": ("{S} is a newspaper published in the country of",
                          "The newspaper {s} is printed in the country of", "{S} is a daily paper from the country of"),
    "beer_country": ("{S} is a beer brewed in the country of", "The beer {s} comes from the country of",
                     "{S} is a beer brand from the country of"),
}
ALT = {"university_country": ("{S} is located in the country of",
                              ("Universit", "College", "Institut", "School", "Polytechni", "Politecnico", "Academy",
                               "Scuola", "Ecole", "École", "Sciences Po", "Tech", "ETH ", "EPFL", "KAIST", "KAUST",
                               "POSTECH", "UNAM", "TU ", "KU ", "UCLouvain", "VU ")),
       "bank_country": ("{S} is based in the country of",
                        ("Bank", "Banco", "Banca", "Banque", "Group", "Financial", "Society", "Corporation")),
       "newspaper_country": ("{S} is printed in the country of", ()),
       "beer_country": ("{S} comes from the country of", ("Beer", "Lager", " Ale", "IPA", "Bitter", "Draught"))}

# Subjects (written for this file: well-known, one country, nothing shared or disputed), "subject|country; ...".
# A leading "the" belongs to the sentence ("The Guardian is ..."), not to the subject's id or the held-out check.
SUBJECTS = {
    "university_country": """
Harvard University|United States; Stanford University|United States; Yale University|United States;
Princeton University|United States; Columbia University|United States; Cornell University|United States;
Duke University|United States; Brown University|United States; Dartmouth College|United States;
Georgetown University|United States; Vanderbilt University|United States; Rice University|United States;
Emory University|United States; Tufts University|United States; Northwestern University|United States;
Johns Hopkins University|United States; Carnegie Mellon University|United States; Purdue University|United States;
Rutgers University|United States; Syracuse University|United States; Baylor University|United States;
Tulane University|United States; Clemson University|United States; Auburn University|United States;
the University of Notre Dame|United States; Boston University|United States; New York University|United States;
Caltech|United States; the Massachusetts Institute of Technology|United States; UCLA|United States;
Brigham Young University|United States; Wellesley College|United States; Amherst College|United States;
Williams College|United States; Howard University|United States; Fordham University|United States;
Villanova University|United States; Gonzaga University|United States; the University of Chicago|United States;
the University of Michigan|United States; the University of Pennsylvania|United States;
the University of Oxford|United Kingdom; the University of Cambridge|United Kingdom;
Imperial College London|United Kingdom; the University of Edinburgh|United Kingdom;
the University of Manchester|United Kingdom; King's College London|United Kingdom;
the London School of Economics|United Kingdom; the University of Bristol|United Kingdom;
the University of Warwick|United Kingdom; Durham University|United Kingdom; the University of Glasgow|United Kingdom;
the University of St Andrews|United Kingdom; the University of Leeds|United Kingdom;
the University of Sheffield|United Kingdom; the University of Nottingham|United Kingdom;
the University of Birmingham|United Kingdom; the University of Southampton|United Kingdom;
the University of Exeter|United Kingdom; Cardiff University|United Kingdom; Queen's University Belfast|United Kingdom;
the University of Aberdeen|United Kingdom; Lancaster University|United Kingdom; Loughborough University|United Kingdom;
the University of Bath|United Kingdom; the University of York|United Kingdom; Newcastle University|United Kingdom;
University College London|United Kingdom; Royal Holloway|United Kingdom; Goldsmiths|United Kingdom;
McGill University|Canada; the University of Toronto|Canada; the University of British Columbia|Canada;
McMaster University|Canada; York University|Canada; Simon Fraser University|Canada; the University of Waterloo|Canada;
Dalhousie University|Canada; Laval University|Canada; the University of Alberta|Canada;
the University of Calgary|Canada; the University of Ottawa|Canada; Carleton University|Canada;
the University of Manitoba|Canada; the University of Saskatchewan|Canada; Memorial University of Newfoundland|Canada;
the University of Sydney|Australia; the University of Melbourne|Australia; Monash University|Australia;
the University of Queensland|Australia; the University of New South Wales|Australia; Macquarie University|Australia;
Deakin University|Australia; the University of Adelaide|Australia; Griffith University|Australia;
La Trobe University|Australia; RMIT University|Australia; Curtin University|Australia;
the University of Tasmania|Australia; James Cook University|Australia; Flinders University|Australia;
the University of Auckland|New Zealand; the University of Otago|New Zealand;
Victoria University of Wellington|New Zealand; the University of Canterbury|New Zealand; Massey University|New Zealand;
Trinity College Dublin|Ireland; University College Dublin|Ireland; University College Cork|Ireland;
Maynooth University|Ireland; the University of Limerick|Ireland; Dublin City University|Ireland;
Heidelberg University|Germany; Ludwig Maximilian University of Munich|Germany; Humboldt University of Berlin|Germany;
the Free University of Berlin|Germany; the Technical University of Munich|Germany; RWTH Aachen University|Germany;
the University of Göttingen|Germany; the University of Tübingen|Germany; the University of Freiburg|Germany;
the University of Bonn|Germany; the University of Cologne|Germany; Goethe University Frankfurt|Germany;
the University of Hamburg|Germany; the Karlsruhe Institute of Technology|Germany; the University of Mannheim|Germany;
Leipzig University|Germany; the University of Jena|Germany; the University of Marburg|Germany;
Sorbonne University|France; École Polytechnique|France; Sciences Po|France; École Normale Supérieure|France;
HEC Paris|France; Paris-Saclay University|France; the University of Strasbourg|France;
the University of Bordeaux|France; the University of Montpellier|France; Aix-Marseille University|France;
Grenoble Alpes University|France; the University of Bologna|Italy; Sapienza University of Rome|Italy;
the University of Padua|Italy; Bocconi University|Italy; Politecnico di Milano|Italy; the University of Pisa|Italy;
the University of Florence|Italy; the University of Turin|Italy; the University of Pavia|Italy;
Ca' Foscari University of Venice|Italy; the University of Siena|Italy; Scuola Normale Superiore|Italy;
the University of Naples Federico II|Italy; the University of Salamanca|Spain; Complutense University of Madrid|Spain;
the University of Barcelona|Spain; Pompeu Fabra University|Spain; the University of Granada|Spain;
the University of Valencia|Spain; the University of Seville|Spain; the Autonomous University of Madrid|Spain;
the University of Navarra|Spain; IE University|Spain; the University of Santiago de Compostela|Spain;
the University of Coimbra|Portugal; the University of Lisbon|Portugal; the University of Porto|Portugal;
the University of Minho|Portugal; Leiden University|Netherlands; Utrecht University|Netherlands;
the University of Amsterdam|Netherlands; Delft University of Technology|Netherlands;
Erasmus University Rotterdam|Netherlands; the University of Groningen|Netherlands; Maastricht University|Netherlands;
Radboud University|Netherlands; Tilburg University|Netherlands; Eindhoven University of Technology|Netherlands;
Wageningen University|Netherlands; VU Amsterdam|Netherlands; KU Leuven|Belgium; Ghent University|Belgium;
the University of Antwerp|Belgium; UCLouvain|Belgium; the University of Liège|Belgium; ETH Zurich|Switzerland;
EPFL|Switzerland; the University of Zurich|Switzerland; the University of Geneva|Switzerland;
the University of Basel|Switzerland; the University of Bern|Switzerland; the University of Lausanne|Switzerland;
the University of St. Gallen|Switzerland; the University of Fribourg|Switzerland; the University of Vienna|Austria;
the University of Innsbruck|Austria; the University of Graz|Austria; the University of Salzburg|Austria;
TU Wien|Austria; Uppsala University|Sweden; Lund University|Sweden; Stockholm University|Sweden;
the Karolinska Institute|Sweden; KTH Royal Institute of Technology|Sweden; Chalmers University of Technology|Sweden;
the University of Gothenburg|Sweden; Linköping University|Sweden; Umeå University|Sweden;
the University of Oslo|Norway; the University of Bergen|Norway; the University of Tromsø|Norway;
the University of Copenhagen|Denmark; Aarhus University|Denmark; Aalborg University|Denmark;
the University of Helsinki|Finland; Aalto University|Finland; the University of Turku|Finland;
Reykjavik University|Iceland; Jagiellonian University|Poland; the University of Warsaw|Poland;
Charles University|Czech Republic; Masaryk University|Czech Republic; Comenius University|Slovakia;
Eötvös Loránd University|Hungary; Corvinus University of Budapest|Hungary; the University of Bucharest|Romania;
Babeș-Bolyai University|Romania; Sofia University|Bulgaria; the University of Ljubljana|Slovenia;
the University of Zagreb|Croatia; the University of Belgrade|Serbia; Vilnius University|Lithuania;
the University of Tartu|Estonia; Lomonosov Moscow State University|Russia; Saint Petersburg State University|Russia;
Kyiv-Mohyla Academy|Ukraine; the University of Athens|Greece; Aristotle University of Thessaloniki|Greece;
Bilkent University|Turkey; Boğaziçi University|Turkey; Middle East Technical University|Turkey;
Istanbul University|Turkey; Koç University|Turkey; Sabancı University|Turkey; the Technion|Israel;
Tel Aviv University|Israel; the Weizmann Institute of Science|Israel; Ben-Gurion University of the Negev|Israel;
the University of Tehran|Iran; Sharif University of Technology|Iran; King Saud University|Saudi Arabia;
King Abdulaziz University|Saudi Arabia; KAUST|Saudi Arabia; Cairo University|Egypt; Al-Azhar University|Egypt;
Ain Shams University|Egypt; the University of Cape Town|South Africa; the University of the Witwatersrand|South Africa;
Stellenbosch University|South Africa; the University of Pretoria|South Africa; Makerere University|Uganda;
the University of Nairobi|Kenya; the University of Ibadan|Nigeria; the University of Lagos|Nigeria;
Obafemi Awolowo University|Nigeria; Kwame Nkrumah University of Science and Technology|Ghana;
Addis Ababa University|Ethiopia; the University of Dar es Salaam|Tanzania; Mohammed V University|Morocco;
Al Akhawayn University|Morocco; Cheikh Anta Diop University|Senegal; the University of Tokyo|Japan;
Kyoto University|Japan; Osaka University|Japan; Tohoku University|Japan; Keio University|Japan; Waseda University|Japan;
Hokkaido University|Japan; Nagoya University|Japan; Kyushu University|Japan; the Tokyo Institute of Technology|Japan;
Hitotsubashi University|Japan; Sophia University|Japan; Seoul National University|South Korea; KAIST|South Korea;
Yonsei University|South Korea; Sungkyunkwan University|South Korea; POSTECH|South Korea; Hanyang University|South Korea;
Ewha Womans University|South Korea; Peking University|China; Tsinghua University|China; Fudan University|China;
Zhejiang University|China; Shanghai Jiao Tong University|China; Nanjing University|China; Wuhan University|China;
Sun Yat-sen University|China; Renmin University|China; Xiamen University|China; Jawaharlal Nehru University|India;
the University of Delhi|India; Banaras Hindu University|India; Aligarh Muslim University|India;
Jadavpur University|India; Anna University|India; Manipal University|India; the University of Mumbai|India;
Ashoka University|India; the Lahore University of Management Sciences|Pakistan; Quaid-i-Azam University|Pakistan;
the University of Dhaka|Bangladesh; the University of Colombo|Sri Lanka; the University of Peradeniya|Sri Lanka;
Tribhuvan University|Nepal; Chulalongkorn University|Thailand; Mahidol University|Thailand;
Thammasat University|Thailand; Kasetsart University|Thailand; the University of Malaya|Malaysia;
Nanyang Technological University|Singapore; Gadjah Mada University|Indonesia; the Bandung Institute of Technology|Indonesia;
Airlangga University|Indonesia; Ateneo de Manila University|Philippines; the University of Santo Tomas|Philippines;
UNAM|Mexico; the Monterrey Institute of Technology|Mexico; the University of Guadalajara|Mexico;
the University of São Paulo|Brazil; the University of Campinas|Brazil; the Federal University of Rio de Janeiro|Brazil;
the University of Buenos Aires|Argentina; the National University of Córdoba|Argentina;
Torcuato di Tella University|Argentina; the University of Concepción|Chile; Pontifical Javeriana University|Colombia;
the University of the Republic|Uruguay; the National University of San Marcos|Peru; the University of Havana|Cuba
""",
    "bank_country": """
JPMorgan Chase|United States; Wells Fargo|United States; Citigroup|United States; Goldman Sachs|United States;
Morgan Stanley|United States; PNC Financial|United States; Truist|United States; Capital One|United States;
Charles Schwab|United States; State Street|United States; BNY Mellon|United States; Fifth Third Bank|United States;
KeyBank|United States; Regions Bank|United States; M&T Bank|United States; Huntington Bank|United States;
Ally Bank|United States; Silicon Valley Bank|United States; Lehman Brothers|United States; Bear Stearns|United States;
Washington Mutual|United States; Comerica|United States; Zions Bank|United States; Barclays|United Kingdom;
HSBC|United Kingdom; Lloyds Bank|United Kingdom; NatWest|United Kingdom; Standard Chartered|United Kingdom;
the Royal Bank of Scotland|United Kingdom; Nationwide Building Society|United Kingdom; Metro Bank|United Kingdom;
Monzo|United Kingdom; Revolut|United Kingdom; Starling Bank|United Kingdom; Coutts|United Kingdom; TSB|United Kingdom;
Virgin Money|United Kingdom; Barings Bank|United Kingdom; Northern Rock|United Kingdom; Close Brothers|United Kingdom;
Commerzbank|Germany; DZ Bank|Germany; KfW|Germany; Postbank|Germany; HypoVereinsbank|Germany; N26|Germany;
Dresdner Bank|Germany; the Bundesbank|Germany; Helaba|Germany; Berenberg Bank|Germany; Comdirect|Germany;
Landesbank Baden-Württemberg|Germany; BNP Paribas|France; Société Générale|France; Crédit Agricole|France;
Crédit Lyonnais|France; Natixis|France; La Banque Postale|France; Crédit Mutuel|France; CIC|France; UBS|Switzerland;
Julius Baer|Switzerland; Pictet|Switzerland; Lombard Odier|Switzerland; Vontobel|Switzerland;
PostFinance|Switzerland; Zürcher Kantonalbank|Switzerland; EFG International|Switzerland; ING Group|Netherlands;
ABN AMRO|Netherlands; Rabobank|Netherlands; Triodos Bank|Netherlands; SNS Bank|Netherlands; bunq|Netherlands;
KBC Bank|Belgium; Belfius|Belgium; Banco Santander|Spain; BBVA|Spain; CaixaBank|Spain; Banco Sabadell|Spain;
Bankinter|Spain; Bankia|Spain; Unicaja|Spain; Abanca|Spain; Ibercaja|Spain; UniCredit|Italy; Intesa Sanpaolo|Italy;
Banca Monte dei Paschi di Siena|Italy; Mediobanca|Italy; Banco BPM|Italy; BPER Banca|Italy; Banca Mediolanum|Italy;
FinecoBank|Italy; Millennium BCP|Portugal; Caixa Geral de Depósitos|Portugal; Novo Banco|Portugal;
Banco Espírito Santo|Portugal; Banco BPI|Portugal; Erste Group|Austria; Raiffeisen Bank International|Austria;
BAWAG|Austria; Nordea|Finland; OP Financial Group|Finland; Handelsbanken|Sweden; SEB|Sweden; Klarna|Sweden;
DNB|Norway; Jyske Bank|Denmark; Nykredit|Denmark; Saxo Bank|Denmark; Arion Bank|Iceland; Landsbankinn|Iceland;
Kaupthing|Iceland; Glitnir|Iceland; Pekao|Poland; mBank|Poland; OTP Bank|Hungary; Banca Transilvania|Romania;
Sberbank|Russia; VTB|Russia; Gazprombank|Russia; Alfa-Bank|Russia; Tinkoff Bank|Russia; PrivatBank|Ukraine;
Monobank|Ukraine; Halkbank|Turkey; Ziraat Bank|Turkey; Akbank|Turkey; Yapı Kredi|Turkey; İşbank|Turkey;
Eurobank|Greece; Piraeus Bank|Greece; Alpha Bank|Greece; First Abu Dhabi Bank|United Arab Emirates;
Mashreq|United Arab Emirates; Al Rajhi Bank|Saudi Arabia; Bank Leumi|Israel; Bank Hapoalim|Israel; Bank Mellat|Iran;
Bank Saderat|Iran; Arab Bank|Jordan; Commercial International Bank|Egypt; Attijariwafa Bank|Morocco;
Standard Bank|South Africa; Absa|South Africa; Nedbank|South Africa; FirstRand|South Africa;
Capitec Bank|South Africa; Ecobank|Togo; Equity Bank|Kenya; Access Bank|Nigeria; Zenith Bank|Nigeria;
Guaranty Trust Bank|Nigeria; United Bank for Africa|Nigeria; CRDB Bank|Tanzania;
Mitsubishi UFJ Financial Group|Japan; Mizuho|Japan; Sumitomo Mitsui Banking Corporation|Japan; Resona|Japan;
Nomura|Japan; Shinsei Bank|Japan; KB Kookmin Bank|South Korea; Shinhan Bank|South Korea; Woori Bank|South Korea;
Hana Bank|South Korea; ICBC|China; Ping An Bank|China; HDFC Bank|India; ICICI Bank|India; Axis Bank|India;
Kotak Mahindra Bank|India; Punjab National Bank|India; Yes Bank|India; Canara Bank|India; Bank of Baroda|India;
IndusInd Bank|India; Habib Bank|Pakistan; MCB Bank|Pakistan; Meezan Bank|Pakistan; DBS Bank|Singapore;
OCBC Bank|Singapore; United Overseas Bank|Singapore; Maybank|Malaysia; CIMB|Malaysia; Public Bank Berhad|Malaysia;
RHB Bank|Malaysia; Bank Mandiri|Indonesia; Bank Central Asia|Indonesia; Kasikornbank|Thailand;
Bangkok Bank|Thailand; Krungthai Bank|Thailand; BDO Unibank|Philippines; Techcombank|Vietnam;
Commonwealth Bank|Australia; Westpac|Australia; Macquarie Group|Australia; ASB Bank|New Zealand;
Toronto-Dominion Bank|Canada; Scotiabank|Canada; the Bank of Montreal|Canada; CIBC|Canada; Desjardins|Canada;
Laurentian Bank|Canada; Itaú Unibanco|Brazil; Bradesco|Brazil; Nubank|Brazil; BTG Pactual|Brazil;
Caixa Econômica Federal|Brazil; Banorte|Mexico; Banamex|Mexico; Inbursa|Mexico; Banco Galicia|Argentina;
Banco Macro|Argentina; Davivienda|Colombia; Banco de Bogotá|Colombia; Interbank|Peru; Banco Pichincha|Ecuador
""",
    "newspaper_country": """
the New York Times|United States; the Washington Post|United States; the Wall Street Journal|United States;
the Los Angeles Times|United States; the Chicago Tribune|United States; the Boston Globe|United States;
the San Francisco Chronicle|United States; the Philadelphia Inquirer|United States; the Houston Chronicle|United States;
the Dallas Morning News|United States; the Miami Herald|United States; the Denver Post|United States;
the Seattle Times|United States; the Star Tribune|United States; the Atlanta Journal-Constitution|United States;
the New York Post|United States; Newsday|United States; the Oregonian|United States; the Tampa Bay Times|United States;
the Detroit Free Press|United States; the Baltimore Sun|United States; the Chicago Sun-Times|United States;
the Arizona Republic|United States; the Plain Dealer|United States; the St. Louis Post-Dispatch|United States;
the Sacramento Bee|United States; the Las Vegas Review-Journal|United States;
the Christian Science Monitor|United States; the Village Voice|United States; the New York Daily News|United States;
the Guardian|United Kingdom; the Daily Mail|United Kingdom; the Daily Mirror|United Kingdom;
the Daily Express|United Kingdom; the Observer|United Kingdom; the Financial Times|United Kingdom;
the Evening Standard|United Kingdom; the Independent|United Kingdom; the Scotsman|United Kingdom;
the Manchester Evening News|United Kingdom; the Yorkshire Post|United Kingdom; the Liverpool Echo|United Kingdom;
the News of the World|United Kingdom; the Morning Star|United Kingdom; the Daily Record|United Kingdom;
the Belfast Telegraph|United Kingdom; the Western Mail|United Kingdom; the Sunday Telegraph|United Kingdom;
Le Monde|France; Le Figaro|France; Libération|France; Le Parisien|France; Les Échos|France; L'Équipe|France;
La Croix|France; L'Humanité|France; Le Canard enchaîné|France; Le Journal du Dimanche|France;
La Dépêche du Midi|France; Sud Ouest|France; Le Progrès|France; Charlie Hebdo|France;
the Frankfurter Allgemeine Zeitung|Germany; Die Welt|Germany; Die Zeit|Germany; Bild|Germany;
Der Tagesspiegel|Germany; Handelsblatt|Germany; Die Tageszeitung|Germany; the Berliner Zeitung|Germany;
the Frankfurter Rundschau|Germany; the Hamburger Abendblatt|Germany; the Rheinische Post|Germany;
the Kölner Stadt-Anzeiger|Germany; the Stuttgarter Zeitung|Germany; Corriere della Sera|Italy; La Repubblica|Italy;
La Stampa|Italy; Il Sole 24 Ore|Italy; La Gazzetta dello Sport|Italy; Il Messaggero|Italy; Il Fatto Quotidiano|Italy;
Il Giornale|Italy; Corriere dello Sport|Italy; Il Mattino|Italy; Avvenire|Italy; Il Resto del Carlino|Italy;
El País|Spain; El Mundo|Spain; La Vanguardia|Spain; Marca|Spain; El Periódico|Spain; La Razón|Spain;
El Confidencial|Spain; Mundo Deportivo|Spain; El Correo|Spain; La Voz de Galicia|Spain; Expansión|Spain;
Heraldo de Aragón|Spain; Diário de Notícias|Portugal; Correio da Manhã|Portugal; Expresso|Portugal;
Jornal de Notícias|Portugal; A Bola|Portugal; O Jogo|Portugal; De Telegraaf|Netherlands; NRC Handelsblad|Netherlands;
de Volkskrant|Netherlands; Trouw|Netherlands; the Algemeen Dagblad|Netherlands; Het Parool|Netherlands;
Het Financieele Dagblad|Netherlands; De Standaard|Belgium; Le Soir|Belgium; Het Laatste Nieuws|Belgium;
De Morgen|Belgium; Het Nieuwsblad|Belgium; Gazet van Antwerpen|Belgium; the Neue Zürcher Zeitung|Switzerland;
the Tages-Anzeiger|Switzerland; Le Temps|Switzerland; Blick|Switzerland; the Tribune de Genève|Switzerland;
the Basler Zeitung|Switzerland; Der Standard|Austria; Die Presse|Austria; the Kronen Zeitung|Austria; Kurier|Austria;
the Salzburger Nachrichten|Austria; the Kleine Zeitung|Austria; Dagens Nyheter|Sweden; Aftonbladet|Sweden;
Expressen|Sweden; Göteborgs-Posten|Sweden; Aftenposten|Norway; Verdens Gang|Norway; Dagbladet|Norway;
Dagens Næringsliv|Norway; Politiken|Denmark; Berlingske|Denmark; Jyllands-Posten|Denmark; Ekstra Bladet|Denmark;
Helsingin Sanomat|Finland; Hufvudstadsbladet|Finland; Ilta-Sanomat|Finland; Aamulehti|Finland;
Morgunblaðið|Iceland; Gazeta Wyborcza|Poland; Rzeczpospolita|Poland; Fakt|Poland; Mladá fronta DNES|Czech Republic;
Lidové noviny|Czech Republic; Népszava|Hungary; Kathimerini|Greece; Ta Nea|Greece; To Vima|Greece; Hürriyet|Turkey;
Milliyet|Turkey; Cumhuriyet|Turkey; Sözcü|Turkey; Sabah|Turkey; Izvestia|Russia; Kommersant|Russia;
Komsomolskaya Pravda|Russia; Novaya Gazeta|Russia; the Kyiv Post|Ukraine; Delo|Slovenia; Politika|Serbia;
Večernji list|Croatia; Jutarnji list|Croatia; Adevărul|Romania; Postimees|Estonia; Haaretz|Israel;
Yedioth Ahronoth|Israel; Maariv|Israel; the Jerusalem Post|Israel; Al-Ahram|Egypt; Arab News|Saudi Arabia;
Okaz|Saudi Arabia; Gulf News|United Arab Emirates; the Khaleej Times|United Arab Emirates; An-Nahar|Lebanon;
L'Orient-Le Jour|Lebanon; Kayhan|Iran; Hamshahri|Iran; Dawn|Pakistan; The News International|Pakistan;
the Express Tribune|Pakistan; Daily Jang|Pakistan; the Hindu|India; the Deccan Chronicle|India; Dainik Bhaskar|India;
Dainik Jagran|India; Malayala Manorama|India; Anandabazar Patrika|India; the Economic Times|India;
Prothom Alo|Bangladesh; the Kathmandu Post|Nepal; the Asahi Shimbun|Japan; the Yomiuri Shimbun|Japan;
the Mainichi Shimbun|Japan; the Sankei Shimbun|Japan; the Tokyo Shimbun|Japan; the Chunichi Shimbun|Japan;
the Chosun Ilbo|South Korea; the JoongAng Ilbo|South Korea; the Dong-a Ilbo|South Korea; the Hankyoreh|South Korea;
the People's Daily|China; the Global Times|China; Southern Weekly|China; Beijing Youth Daily|China;
the Straits Times|Singapore; Lianhe Zaobao|Singapore; the New Straits Times|Malaysia; Kompas|Indonesia;
the Jakarta Post|Indonesia; the Bangkok Post|Thailand; Matichon|Thailand; the Manila Bulletin|Philippines;
Tuoi Tre|Vietnam; Thanh Nien|Vietnam; Nhan Dan|Vietnam; the Sydney Morning Herald|Australia; the Age|Australia;
the Herald Sun|Australia; the Courier-Mail|Australia; the Canberra Times|Australia; the Dominion Post|New Zealand;
the Otago Daily Times|New Zealand; the Globe and Mail|Canada; the Toronto Star|Canada; the National Post|Canada;
Le Devoir|Canada; the Montreal Gazette|Canada; the Vancouver Sun|Canada; the Ottawa Citizen|Canada;
the Calgary Herald|Canada; the Winnipeg Free Press|Canada; Le Journal de Montréal|Canada;
the Edmonton Journal|Canada; Clarín|Argentina; Página/12|Argentina; Ámbito Financiero|Argentina;
Folha de S.Paulo|Brazil; O Globo|Brazil; O Estado de S. Paulo|Brazil; Zero Hora|Brazil; Reforma|Mexico;
La Jornada|Mexico; Excélsior|Mexico; Milenio|Mexico; El Espectador|Colombia; El Mercurio|Chile; La Tercera|Chile;
Granma|Cuba; ABC Color|Paraguay; the Daily Nation|Kenya; the Mail & Guardian|South Africa; the Sowetan|South Africa;
Die Burger|South Africa; Beeld|South Africa; the Punch|Nigeria; Vanguard|Nigeria; ThisDay|Nigeria;
the Daily Trust|Nigeria; the Daily Graphic|Ghana; El Watan|Algeria; the Daily Monitor|Uganda; New Vision|Uganda;
the Addis Standard|Ethiopia
""",
    "beer_country": """
Heineken|Netherlands; Amstel|Netherlands; Grolsch|Netherlands; Hertog Jan|Netherlands; La Trappe|Netherlands;
Gulpener|Netherlands; Stella Artois|Belgium; Leffe|Belgium; Hoegaarden|Belgium; Duvel|Belgium; Chimay|Belgium;
Westmalle|Belgium; Orval|Belgium; Jupiler|Belgium; Delirium Tremens|Belgium; Kwak|Belgium; Rochefort|Belgium;
La Chouffe|Belgium; Tripel Karmeliet|Belgium; Westvleteren|Belgium; Affligem|Belgium; Maes|Belgium;
Rodenbach|Belgium; Brugse Zot|Belgium; Kasteel|Belgium; Lindemans|Belgium; Cantillon|Belgium; Beck's|Germany;
Warsteiner|Germany; Bitburger|Germany; Krombacher|Germany; Paulaner|Germany; Erdinger|Germany; Löwenbräu|Germany;
Spaten|Germany; Hofbräu|Germany; Augustiner|Germany; Weihenstephaner|Germany; Franziskaner|Germany;
Radeberger|Germany; Jever|Germany; Holsten|Germany; Veltins|Germany; Oettinger|Germany; Flensburger|Germany;
Köstritzer|Germany; Schneider Weisse|Germany; Hacker-Pschorr|Germany; Ayinger|Germany; Rothaus|Germany;
Tucher|Germany; Diebels|Germany; Pilsner Urquell|Czech Republic; Budweiser Budvar|Czech Republic;
Staropramen|Czech Republic; Kozel|Czech Republic; Gambrinus|Czech Republic; Krušovice|Czech Republic;
Radegast|Czech Republic; Starobrno|Czech Republic; Zlatý Bažant|Slovakia; Żywiec|Poland; Tyskie|Poland; Lech|Poland;
Okocim|Poland; Warka|Poland; Soproni|Hungary; Borsodi|Hungary; Ursus|Romania; Timișoreana|Romania; Ciuc|Romania;
Zagorka|Bulgaria; Kamenitza|Bulgaria; Shumensko|Bulgaria; Jelen|Serbia; Ožujsko|Croatia; Karlovačko|Croatia;
Laško|Slovenia; Švyturys|Lithuania; Utenos|Lithuania; Aldaris|Latvia; Saku|Estonia; A. Le Coq|Estonia;
Baltika|Russia; Obolon|Ukraine; Chernigivske|Ukraine; Lvivske|Ukraine; Stiegl|Austria; Gösser|Austria;
Ottakringer|Austria; Zipfer|Austria; Puntigamer|Austria; Feldschlösschen|Switzerland; Calanda|Switzerland;
Appenzeller|Switzerland; Quöllfrisch|Switzerland; Eichhof|Switzerland; Carlsberg|Denmark; Tuborg|Denmark;
Faxe|Denmark; Albani|Denmark; Mikkeller|Denmark; Ringnes|Norway; Hansa Borg|Norway; Aass|Norway; Mack|Norway;
Spendrups|Sweden; Pripps Blå|Sweden; Åbro|Sweden; Mariestads|Sweden; Norrlands Guld|Sweden; Lapin Kulta|Finland;
Karhu|Finland; Koff|Finland; Olvi|Finland; Einstök|Iceland; Newcastle Brown Ale|United Kingdom;
Boddingtons|United Kingdom; London Pride|United Kingdom; Old Speckled Hen|United Kingdom; Bass|United Kingdom;
Tennent's|United Kingdom; Belhaven|United Kingdom; BrewDog|United Kingdom; Theakston|United Kingdom;
Greene King IPA|United Kingdom; Marston's Pedigree|United Kingdom; John Smith's|United Kingdom;
Timothy Taylor's Landlord|United Kingdom; Adnams|United Kingdom; Hobgoblin|United Kingdom;
Innis & Gunn|United Kingdom; Guinness|Ireland; Smithwick's|Ireland; Murphy's|Ireland; Kilkenny|Ireland;
Beamish|Ireland; Kronenbourg|France; Pelforth|France; Jenlain|France; Desperados|France; Peroni|Italy;
Nastro Azzurro|Italy; Birra Moretti|Italy; Menabrea|Italy; Ichnusa|Italy; Forst|Italy; Poretti|Italy;
Estrella Damm|Spain; Mahou|Spain; Estrella Galicia|Spain; Cruzcampo|Spain; Ambar|Spain; Moritz|Spain;
Voll-Damm|Spain; Super Bock|Portugal; Sagres|Portugal; Mythos|Greece; Vergina|Greece; KEO|Cyprus; Cisk|Malta;
Efes|Turkey; Bomonti|Turkey; Goldstar|Israel; Maccabee|Israel; Almaza|Lebanon; Sakara|Egypt;
Budweiser|United States; Coors|United States; Miller Lite|United States; Pabst Blue Ribbon|United States;
Samuel Adams|United States; Sierra Nevada|United States; Yuengling|United States; Blue Moon|United States;
Michelob|United States; Busch|United States; Rolling Rock|United States; Schlitz|United States;
Anchor Steam|United States; Goose Island|United States; Dogfish Head|United States; Lagunitas|United States;
Shiner Bock|United States; Keystone Light|United States; Milwaukee's Best|United States; Genesee|United States;
Bud Light|United States; Coors Light|United States; Molson|Canada; Labatt|Canada; Moosehead|Canada; Sleeman|Canada;
Alexander Keith's|Canada; Kokanee|Canada; Unibroue|Canada; Corona|Mexico; Modelo Especial|Mexico; Pacifico|Mexico;
Dos Equis|Mexico; Tecate|Mexico; Sol|Mexico; Indio|Mexico; Negra Modelo|Mexico; Carta Blanca|Mexico;
Estrella Jalisco|Mexico; Brahma|Brazil; Itaipava|Brazil; Quilmes|Argentina; Cusqueña|Peru; Pilsen Callao|Peru;
Águila|Colombia; Poker|Colombia; Escudo|Chile; Kunstmann|Chile; Polar|Venezuela; Red Stripe|Jamaica;
Presidente|Dominican Republic; Bucanero|Cuba; Carib|Trinidad and Tobago; Gallo|Guatemala; Balboa|Panama;
Belikin|Belize; Kalik|Bahamas; Paceña|Bolivia; Salva Vida|Honduras; Toña|Nicaragua; Asahi|Japan; Kirin|Japan;
Sapporo|Japan; Yebisu|Japan; Tsingtao|China; Harbin|China; Yanjing|China; Tiger|Singapore; Singha|Thailand;
Chang|Thailand; Bintang|Indonesia; Bira 91|India; Murree|Pakistan; Gorkha|Nepal; Lion Lager|Sri Lanka;
Cass|South Korea; Hite|South Korea; Foster's|Australia; Victoria Bitter|Australia; XXXX|Australia; Tooheys|Australia;
Carlton Draught|Australia; Coopers|Australia; Boag's|Australia; Cascade|Australia; Hahn|Australia;
Swan Lager|Australia; Speight's|New Zealand; Steinlager|New Zealand; Tui|New Zealand; Lion Red|New Zealand;
Monteith's|New Zealand; DB Draught|New Zealand; Castle Lager|South Africa; Windhoek|Namibia; Tusker|Kenya;
Gulder|Nigeria; Habesha|Ethiopia; Mosi|Zambia; Bell Lager|Uganda; Nile Special|Uganda; Laurentina|Mozambique;
Celtia|Tunisia
""",
}
# make_fresh's SAME, plus the countries this file adds.
SAME = dict(mf.SAME, **{
    "Slovenia": "Slovenian, Slovene", "Serbia": "Serbian", "Ghana": "Ghanaian", "Cyprus": "Cypriot",
    "Malta": "Maltese", "Namibia": "Namibian", "Zambia": "Zambian", "Dominican Republic": "Dominican",
    "Trinidad and Tobago": "Trinidadian, Trinidad, Tobago", "Bahamas": "Bahamian", "Luxembourg": "Luxembourgish",
    "Kuwait": "Kuwaiti", "Qatar": "Qatari", "Lithuania": "Lithuanian, Lietuva", "Latvia": "Latvian, Latvija",
    "Estonia": "Estonian, Eesti", "Hungary": "Hungarian, Magyar", "Poland": "Polish, Polska, Polski",
    "Czech Republic": "Czech, Czechia, Czechoslovakia, Ceska, Česká", "Sweden": "Swedish, Svenska, Swed, Sverige",
    "Denmark": "Danish, Danske, Dansk", "Norway": "Norwegian, Norsk, Norges", "Finland": "Finnish, Finn, Suomi",
    "Switzerland": "Swiss, Suisse, Schweiz, Helvetia", "Germany": "German, Deutsch, Deutsche",
    "Spain": "Spanish, Espana, España, Español", "Italy": "Italian, Italia, Italiano",
    "Russia": "Russian, Rossiya, Rossiyskaya", "Egypt": "Egyptian, Misr, Masry",
    "India": "Indian, Hindustan, Bharat", "Vietnam": "Vietnamese, Viet", "Thailand": "Thai, Siam",
})
# make_fresh's REGIONS, plus cities of the subjects' countries that a greedy answer may name (not a wrong country).
EXTRA_REGIONS = {
    "United States": "Massachusetts, Cambridge, Harvard, Yale, Stanford, Princeton, New Haven, Philadelphia, Baltimore, "
                     "Detroit, Milwaukee, St. Louis, Pittsburgh, Manhattan, Brooklyn, Wall Street, Hollywood",
    "United Kingdom": "Oxford, Cambridge, Bristol, Leeds, Sheffield, Nottingham, Birmingham, Southampton, Exeter, Bath, "
                      "York, Newcastle, Durham, Lancaster, Warwick, Burton",
    "Canada": "Edmonton, Winnipeg, Waterloo, Hamilton",
    "Germany": "Heidelberg, Aachen, Bonn, Leipzig, Mannheim, Karlsruhe, Freiburg, Tubingen, Gottingen, Bremen, "
               "Dortmund, Dusseldorf, Bitburg, Jever, Flensburg",
    "France": "Strasbourg, Grenoble, Montpellier, Lille, Alsace",
    "Netherlands": "Holland, Leiden, Utrecht, Delft, Maastricht, Eindhoven, Tilburg, The Hague, Limburg, Brabant",
    "Belgium": "Leuven, Louvain, Bruges, Namur",
    "Switzerland": "Lausanne, St. Gallen, Fribourg",
    "Sweden": "Uppsala, Lund, Malmo, Linkoping, Umea",
    "Denmark": "Aarhus, Aalborg, Odense",
    "Finland": "Turku, Tampere, Espoo",
    "Norway": "Tromso, Stavanger",
    "Japan": "Sendai, Kanazawa, Hakone",
    "South Korea": "Daejeon, Pohang, Daegu",
    "China": "Nanjing, Wuhan, Hangzhou, Guangzhou, Harbin, Qingdao, Tsingtao",
    "India": "Pune, Varanasi, Aligarh, Manipal, Kerala",
    "Australia": "Tasmania, Geelong, Newcastle, Townsville",
    "Italy": "Padua, Pisa, Pavia, Siena, Bergamo",
    "Spain": "Salamanca, Santiago, Pamplona",
    "Israel": "Haifa, Beersheba, Rehovot",
    "Pakistan": "Islamabad, Murree",
    "Singapore": "Jurong",
    "Nigeria": "Lagos, Ibadan, Abuja",
    "Uganda": "Kampala, Jinja",
    "Ghana": "Kumasi, Accra",
    "Jamaica": "Kingston",
    "Lebanon": "Beirut",
}
REGIONS = {c: ", ".join(x for x in (mf.REGIONS.get(c), EXTRA_REGIONS.get(c)) if x)
           for c in set(mf.REGIONS) | set(EXTRA_REGIONS)}

# Generic prompts written for this file (one clear next word), none a prompt of bench/fresh; id generic:gNNN.
GENERIC = """
Peanut butter and| jelly
Ladies and| gentlemen
Romeo and| Juliet
Adam and| Eve
Jack and| Jill
Tom and| Jerry
Bonnie and| Clyde
Batman and| Robin
Ups and| downs
Give and| take
Husband and| wife
Bacon and| eggs
Spaghetti and| meatballs
Strawberries and| cream
Milk and| cookies
Burgers and| fries
Salt Lake| City
Buenos| Aires
Kuala| Lumpur
Abu| Dhabi
Las| Vegas
Rio de| Janeiro
Addis| Ababa
Tel| Aviv
Phnom| Penh
Dar es| Salaam
Monday, Tuesday,| Wednesday
January, February,| March
Spring, summer, autumn and| winter
One, two, three,| four
Red, orange, yellow,| green
First, second,| third
Ten, nine, eight,| seven
100, 200, 300,| 400
2, 4, 8, 16,| 32
Ten plus ten is| twenty
The square root of nine is| three
The number of days in a week is| seven
A triangle has three| sides
A spider has eight| legs
An octopus has eight| arms
There are sixty minutes in an| hour
There are seven days in a| week
There are twelve months in a| year
Water freezes at zero degrees| Celsius
The Earth revolves around the| Sun
The Moon orbits the| Earth
The largest ocean on Earth is the| Pacific
The largest planet in the solar system is| Jupiter
Our galaxy is called the Milky| Way
The opposite of heavy is| light
The opposite of wide is| narrow
The opposite of strong is| weak
The opposite of win is| lose
The opposite of buy is| sell
The opposite of early is| late
The opposite of happy is| sad
The opposite of rich is| poor
The opposite of thick is| thin
The opposite of true is| false
The opposite of inside is| outside
The opposite of top is| bottom
The opposite of wet is| dry
The opposite of alive is| dead
The opposite of male is| female
The opposite of north is| south
The opposite of war is| peace
The opposite of success is| failure
The opposite of maximum is| minimum
The opposite of positive is| negative
The opposite of import is| export
The opposite of visible is| invisible
The opposite of possible is| impossible
The opposite of deep is| shallow
The plural of child is| children
The plural of mouse is| mice
The plural of foot is| feet
The plural of tooth is| teeth
The plural of goose is| geese
The plural of woman is| women
The plural of wife is| wives
The plural of half is| halves
The plural of life is| lives
The plural of city is| cities
The plural of baby is| babies
The plural of potato is| potatoes
The plural of hero is| heroes
The plural of crisis is| crises
The plural of louse is| lice
The past tense of go is| went
The past tense of eat is| ate
The past tense of run is| ran
The past tense of see is| saw
The past tense of swim is| swam
The past tense of write is| wrote
The past tense of sing is| sang
The past tense of buy is| bought
The past tense of think is| thought
The past tense of take is| took
The past tense of give is| gave
The past tense of drink is| drank
The past tense of fly is| flew
The past tense of speak is| spoke
The past tense of teach is| taught
The past tense of catch is| caught
The past tense of bring is| brought
The past tense of sleep is| slept
The past tense of drive is| drove
The past tense of break is| broke
A baby cat is called a| kitten
A baby dog is called a| puppy
A baby cow is called a| calf
A baby horse is called a| foal
A group of wolves is called a| pack
A group of cows is called a| herd
A female horse is called a| mare
A female sheep is called a| ewe
Hens lay| eggs
A dog says| woof
A cat says| meow
A cow says| moo
The largest mammal is the blue| whale
Pandas eat| bamboo
Camels live in the| desert
Polar bears live in the| Arctic
Fish breathe through their| gills
Bats sleep upside| down
A caterpillar turns into a| butterfly
The colour of the sky is| blue
The colour of grass is| green
The colour of a banana is| yellow
Mixing blue and yellow makes| green
Mixing red and yellow makes| orange
The colour of blood is| red
The colour of snow is| white
We see with our| eyes
We taste with our| tongue
We think with our| brain
The heart pumps| blood
You wear gloves on your| hands
You wear a watch on your| wrist
You wear a ring on your| finger
You cut paper with| scissors
You write on a blackboard with| chalk
You eat soup with a| spoon
You unlock a door with a| key
You dry yourself with a| towel
You sweep the floor with a| broom
Glass is made from| sand
A carrot is a| vegetable
A pilot flies a| plane
A doctor works in a| hospital
A teacher works in a| school
A chef works in a| kitchen
A barber cuts| hair
A sailor works on a| ship
A librarian works in a| library
Actions speak louder than| words
The early bird catches the| worm
Curiosity killed the| cat
Don't put all your eggs in one| basket
An apple a day keeps the| doctor
Time is| money
Knowledge is| power
Laughter is the best| medicine
Blood is thicker than| water
Fortune favours the| bold
Great minds think| alike
Let sleeping dogs| lie
Strike while the iron is| hot
Don't cry over spilled| milk
The grass is always greener on the other| side
Break a| leg
Piece of| cake
Spill the| beans
Bite the| bullet
Let the cat out of the| bag
Cost an arm and a| leg
Once upon a| time
And they lived happily ever| after
Barking up the wrong| tree
Beat around the| bush
Burn the midnight| oil
Speak of the| devil
Throw in the| towel
When pigs| fly
Home sweet| home
Better safe than| sorry
First come, first| served
Haste makes| waste
Money doesn't grow on| trees
Necessity is the mother of| invention
No news is good| news
Practice what you| preach
Seeing is| believing
There's no place like| home
Too many cooks spoil the| broth
What goes up must come| down
You are what you| eat
The customer is always| right
Silence is| golden
Ignorance is| bliss
Variety is the spice of| life
All's well that ends| well
Absence makes the heart grow| fonder
Old habits die| hard
A leopard can't change its| spots
Every dog has its| day
Let bygones be| bygones
It takes two to| tango
Where there's smoke, there's| fire
A watched pot never| boils
Beggars can't be| choosers
Two wrongs don't make a| right
Romeo and Juliet was written by William| Shakespeare
The Odyssey was written by| Homer
Don Quixote was written by Miguel de| Cervantes
Moby| Dick
Star| Wars
Jurassic| Park
The Little| Mermaid
The Jungle| Book
Toy| Story
Finding| Nemo
The Lion| King
Back to the| Future
Gone with the| Wind
The Sound of| Music
Charlie and the Chocolate| Factory
Peter| Pan
Robin| Hood
Treasure| Island
Around the World in Eighty| Days
Of Mice and| Men
The Catcher in the| Rye
Guardians of the| Galaxy
Mission| Impossible
Indiana| Jones
Teenage Mutant Ninja| Turtles
SpongeBob| SquarePants
Mickey| Mouse
Donald| Duck
Bugs| Bunny
Homer| Simpson
Rubik's| Cube
Coca-| Cola
Burger| King
Pizza| Hut
Taco| Bell
Kentucky Fried| Chicken
Rolls-| Royce
Mercedes-| Benz
Isaac Newton discovered| gravity
Microsoft was founded by Bill| Gates
Apple was co-founded by Steve| Jobs
Facebook was founded by Mark| Zuckerberg
The King of Rock and Roll is Elvis| Presley
The King of Pop is Michael| Jackson
The British prime minister during World War II was Winston| Churchill
South Africa's first black president was Nelson| Mandela
The Indian independence leader Mahatma| Gandhi
The Roman general Julius| Caesar
The explorer who reached America in 1492 was Christopher| Columbus
The inventor of the light bulb was Thomas| Edison
The author of Das Kapital was Karl| Marx
The Jamaican sprinter Usain| Bolt
The Argentine footballer Lionel| Messi
The Portuguese footballer Cristiano| Ronaldo
The day after Monday is| Tuesday
The month before December is| November
Christmas is celebrated on the 25th of| December
Valentine's Day is in| February
There are 24 hours in a| day
The last letter of the alphabet is| Z
H2O is the chemical formula for| water
CO2 stands for carbon| dioxide
The Statue of| Liberty
The Golden Gate| Bridge
The Taj| Mahal
A football team has eleven| players
In tennis, zero is called| love
The Olympic Games are held every four| years
In golf, one under par is a| birdie
Spaghetti is a type of| pasta
Cheddar is a type of| cheese
Sushi is made with| rice
French fries are made from| potatoes
Popcorn is made from| corn
Chocolate is made from| cocoa
Tea with milk and| sugar
"""


def fact(relation: str, subject: str, country: str) -> dict:
    """A candidate fact: prompt and two paraphrases from the relation's templates, target with a leading space.

    A leading "the" is the sentence's ("The Guardian is a newspaper ..."); the id holds the name without it."""
    bare = subject[4:] if subject.startswith("the ") else subject
    cap = subject[0].upper() + subject[1:]
    prompt, para1, para2 = TEMPLATES[relation]
    alt, keys = ALT[relation]
    if subject.startswith("the ") or any(w in bare for w in keys):
        para1 = alt
    prompt, para1, para2 = (t.format(S=cap, s=subject) for t in (prompt, para1, para2))
    return {"prompt": prompt, "target": " " + country, "paraphrases": [para1, para2], "id": f"{relation}:{bare}"}


def subject_of(f: dict) -> str:
    return f["id"].partition(":")[2]


def last_word(subject: str) -> str | None:
    """The last word of a name of two or more words (lower case), else None."""
    parts = subject.split()
    return parts[-1].lower() if len(parts) > 1 else None


# --- the held-out rule -------------------------------------------------------------------------------------------

def seen_files() -> list[Path]:
    files = [p for d in ("patchkit/data", "bench/tune", "bench/heldout", "bench/fresh") for p in Path(d).rglob("*")
             if p.is_file()]
    files += sorted(Path("bench").glob("*.jsonl"))
    return [p for p in files if "__pycache__" not in p.parts]


def held_out(pool: list[dict], text: str, prompts: set[str]) -> list[dict]:
    """Drop candidates whose subject the project has seen, that give their answer away, or repeat a prompt."""
    keep, dropped = [], {"seen": [], "answer in name": [], "prompt seen": [], "duplicate subject": []}
    ids = set()
    for f in pool:
        subject = subject_of(f)
        country = f["target"].strip()
        give_away = [country] + words(SAME.get(country, ""))
        if f["id"] in ids:
            dropped["duplicate subject"].append(f["id"])
        elif occurs(subject, text):
            dropped["seen"].append(f["id"])
        elif any(re.search(r"(?<!\w)" + re.escape(w.lower()), subject.lower()) for w in give_away):
            dropped["answer in name"].append(f["id"])
        elif {f["prompt"], *f.get("paraphrases", [])} & prompts:
            dropped["prompt seen"].append(f["id"])
        else:
            keep.append(f)
        ids.add(f["id"])
    for why, ids_ in dropped.items():
        print(f"held-out rule: dropped {len(ids_)} ({why}){': ' + ', '.join(ids_) if ids_ else ''}")
    return keep


# --- near misses --------------------------------------------------------------------------------------------------

def why_not_near(top: str, text: str, target: str, subject: str = "") -> str | None:
    """Why a wrong rank-2..5 answer is not a genuine wrong answer (None = it is a near miss); make_fresh's rule."""
    word = top.strip()
    country = target.strip()
    if not any(c.isalpha() for c in word) or word.lower() in FUNCTION_WORDS:
        return "function word"
    if subject and starts_with(text, subject):
        return "repeats the subject"
    if subject and repeats_subject(text, subject):
        return "repeats the subject"  # "Al Rajhi, Saudi" (Al Rajhi Bank), "Lviv" (Lvivske), "Kyoto" (Kyoto University)
    if starts_with(text, country) or word in country.split() or country.startswith(word):
        return "piece of target"
    if any(starts_with(text, w) for w in words(SAME.get(country, ""))):
        return "same country (adjective/other name)"
    if any(starts_with(text, c) for c in words(COUNTRIES.replace("\n", " ")) if c != country):
        return None  # another country: a wrong answer
    if any(starts_with(fold(text), fold(w)) for w in words(REGIONS.get(country, ""))):
        return "region/city of target"  # accents folded: " São Paulo" is the table's "Sao Paulo"
    return None


def fold(s: str) -> str:
    """Lower case without accents ("São" -> "sao")."""
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c)).lower()


def repeats_subject(text: str, subject: str) -> bool:
    """The greedy answer starts with the subject's first two words ("Al Rajhi, Saudi"), or its first word (4 letters
    or more) begins a word of the subject ("Weihenstephan" in Weihenstephaner, "Lviv" in Lvivske, "Kyoto")."""
    t = fold(text).strip()
    names = fold(subject).replace("-", " ").split()
    if len(names) >= 2 and re.match(re.escape(" ".join(names[:2])) + r"(?!\w)", t):
        return True
    first = re.match(r"\w+", t)
    return bool(first and len(first.group()) >= 4 and any(n.startswith(first.group()) for n in names))


def pick_guards(right_by: dict[str, list[dict]], near8: list[dict], per_rel: int = 12) -> list[dict]:
    """Per relation up to `per_rel` right facts (lead >= LEAD): first up to half of them sharing their last word with
    a near8 subject (any relation), then the others, each group in the shuffled order of right_by."""
    lw8 = {last_word(subject_of(f)) for f in near8} - {None}
    out = []
    for rel, rows in right_by.items():
        shared = [f for f in rows if last_word(subject_of(f)) in lw8]
        other = [f for f in rows if last_word(subject_of(f)) not in lw8]
        take = shared[:per_rel // 2]
        take += other[:per_rel - len(take)]
        take += shared[len(take) - len(other[:per_rel - len(take)]):][:per_rel - len(take)]
        out += take[:per_rel]
    # where fewer than a third share a last word, add more sharing ones (beyond the quota), if there are any
    chosen = {f["id"] for f in out}
    extra = [f for rows in right_by.values() for f in rows if last_word(subject_of(f)) in lw8 and f["id"] not in chosen]
    while extra and 3 * sum(last_word(subject_of(f)) in lw8 for f in out) < len(out):
        out.append(extra.pop(0))
    return out


def build(prefix: str, name: str, pool: list[dict], gen_pool: list[dict]) -> dict[str, int]:
    print(f"\n=== {prefix} ({name}) ===")
    model, tok = models.load_model(name)
    scores = score(model, tok, pool)
    near, right, low_lead, excluded = [], [], [], {}
    for f, s in zip(pool, scores):
        f = dict(f, note=note(f, s))
        if s["right"] and s["rank"] == 1:
            (right if s["gap"] >= LEAD else low_lead).append(f)
        elif not s["right"] and 2 <= s["rank"] <= 5:
            text = greedy_text(model, tok, f["prompt"])
            why = why_not_near(s["top"], text, f["target"], subject_of(f))
            if why is None:
                near.append(f)
                f["_greedy"] = text
            else:
                excluded.setdefault(why, []).append(f"{f['id']}->{text.strip()[:25]!r}")
    gen_scores = score(model, tok, gen_pool)
    generic = [dict(g, note=f"relation=generic rank={s['rank']} gap={s['gap']:.2f} top={s['top']!r}")
               for g, s in zip(gen_pool, gen_scores) if s["right"] and s["rank"] == 1 and s["gap"] >= LEAD]
    rels = list(TEMPLATES)
    count = lambda rows: {r.split("_")[0]: sum(x["id"].startswith(r + ":") for x in rows) for r in rels}  # noqa: E731
    wrong = sum(not s["right"] and 2 <= s["rank"] <= 5 for s in scores)
    print(f"candidates {len(pool)} {count(pool)}")
    print(f"wrong at rank 2..5: {wrong}; near misses {len(near)} {count(near)}")
    print(f"right with lead >= {LEAD}: {len(right)} {count(right)}; right below it: {len(low_lead)}; "
          f"generic right (lead >= {LEAD}) {len(generic)}/{len(gen_pool)}")
    for why, ids in excluded.items():
        print(f"not a near miss ({why}): {len(ids)}: {'; '.join(ids)}")
    for f in near:
        print("  near:", f["id"], "|", f["note"], "| greedy", repr(f.pop("_greedy")[:30]))
    print("generic wrong or lead < 0.3:", [(g["prompt"], g["target"], s["top"], s["rank"], round(s["gap"], 2))
                                           for g, s in zip(gen_pool, gen_scores)
                                           if not (s["right"] and s["rank"] == 1 and s["gap"] >= LEAD)])

    rng = random.Random(SEED)
    near_by = by_relation(near, rng)
    right_by = by_relation(right, rng)
    gen = sorted(generic, key=lambda g: g["id"])
    rng.shuffle(gen)
    quota8 = even_quota({r: len(near_by.get(r, [])) for r in rels}, 8)
    near8 = [f for r in rels for f in near_by.get(r, [])[:quota8[r]]]
    if len(near) >= 56:
        quota50 = even_quota({r: len(v) for r, v in near_by.items()}, 56)
        near50 = [f for r in near_by for f in near_by[r][:max(quota50[r], quota8.get(r, 0))]]
    else:
        near50 = [f for r in near_by for f in near_by[r]]
    guards_f = pick_guards(right_by, near8)
    guard_ids = {f["id"] for f in guards_f}
    lw8 = {last_word(subject_of(f)) for f in near8} - {None}
    n_shared = sum(last_word(subject_of(f)) in lw8 for f in guards_f)
    guards = guards_f + gen[:20]
    near_subjects = {subject_of(f) for f in near}
    out = {
        "near_all": sorted(near, key=lambda f: f["id"]),
        "near8": near8,
        "near50": near50,
        "guards8": guards,
        "right": sorted((f for f in right if f["id"] not in guard_ids), key=lambda f: f["id"]),
        "generic": sorted(gen[20:], key=lambda g: g["id"]),
    }
    assert not {f["id"] for f in near8} - {f["id"] for f in near50}
    assert not {f["id"] for f in near50} - {f["id"] for f in near}
    assert not guard_ids & {f["id"] for f in near}
    assert not {subject_of(f) for f in out["right"]} & near_subjects
    for fname, rows in out.items():
        path = OUT / f"{prefix}_{fname}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        n_generic = sum(r["id"].startswith("generic") for r in rows)
        print(f"wrote {path}: {len(rows)} {count(rows)}"
              + (f" + generic {n_generic}" if fname in ("guards8", "generic") else ""))
    print("near8:", [(f["id"], f["note"]) for f in near8])
    print(f"guards8: {len(guards_f)} facts, {n_shared} share their last word with a near8 subject "
          f"(near8 last words {sorted(lw8)}): {[subject_of(f) for f in guards_f if last_word(subject_of(f)) in lw8]}")
    return verify(prefix, model, tok, list(out))


def verify(prefix: str, model, tok, names: list[str]) -> dict[str, int]:
    """make_fresh's re-scoring of every written file, in this set's folder (``OUT``, read at call time: make_fresh3
    points it at its own), right rows with the lead ``LEAD``."""
    return mf.verify(prefix, model, tok, names, folder=OUT, lead=LEAD)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=list(MODELS), action="append", help="only this model (default: both)")
    ap.add_argument("--dry", action="store_true", help="apply the held-out rule and stop (no model)")
    args = ap.parse_args()
    files = seen_files()
    text = "\n".join(p.read_text(errors="ignore") for p in files).lower()
    prompts = mf.seen_prompts(files)
    print(f"held-out rule: {len(files)} files, {len(prompts)} existing prompts")
    pool = [fact(rel, s, c) for rel, spec in SUBJECTS.items() for s, c in parse(spec).items()]
    print(f"candidates written: {len(pool)} " + str({r: len(parse(s)) for r, s in SUBJECTS.items()}))
    pool = held_out(pool, text, prompts)
    print(f"candidates kept: {len(pool)}")
    gen_pool = mf.generic_pool(prompts, GENERIC, "generic:g{:03d}")
    if args.dry:
        return
    torch.set_num_threads(2)
    torch.manual_seed(0)
    summary = {m: build(m, MODELS[m], pool, gen_pool) for m in (args.model or list(MODELS))}
    print("\nsummary:", json.dumps(summary))


if __name__ == "__main__":
    main()
