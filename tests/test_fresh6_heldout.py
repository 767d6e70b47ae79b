"""bench/fresh6 (the sixth fresh held-out sets) stays held out: the sibling of test_fresh5_heldout.py. Data-only
checks (no model): its subjects are named by no other file, its prompts are new, the files nest and keep their
schema and counts, and no file of it names a subject of an earlier held-out set."""
from helpers_heldout import (REPO, check_counts_and_schema, check_known_kinds, check_nesting, check_prompts_are_new,
                             check_subjects_held_out, named, rows, subjects)

FOLDER = REPO / "bench" / "fresh6"
RELATIONS = {"person_sport", "scientist_field", "city_range", "landmark_river"}
# each relation's subject kind, named by its own prompt template ("{} played", "{} was a scientist", "The city of {}",
# "{} is a landmark")
KIND = {"person_sport": "person", "scientist_field": "person", "city_range": "city", "landmark_river": "landmark"}
FILES = ("near_all", "near8", "near50", "guards8", "right", "generic")
EARLIER = ("bench/fresh", "bench/fresh2", "bench/fresh3", "bench/fresh4", "bench/fresh5")
# rows per file as built by make_fresh6.py (see the README's table)
COUNTS = {"smollm2": {"near_all": 64, "near8": 8, "near50": 56, "guards8": 52, "right": 27, "generic": 18},
          "gemma": {"near_all": 65, "near8": 8, "near50": 56, "guards8": 68, "right": 208, "generic": 49}}


def test_no_fresh6_held_out_subject_is_named_by_another_file_or_the_selection_pool():
    """bench/fresh6's figures are held out only while no shipped file, tuning file, earlier held-out set or the
    selection pool names their subjects, and its relations are none of the earlier sets'."""
    check_subjects_held_out(FOLDER, RELATIONS, (*EARLIER, "bench/heldout", "bench/tune"), __file__, 300)


def test_fresh6_names_no_subject_of_an_earlier_held_out_set():
    """The earlier sets' tests look for their subjects in every other file: no file of this set (rows, script, README,
    perplexity text, far wordings) nor this test names one."""
    old = subjects(r for folder in EARLIER for r in rows(REPO / folder))
    ours = [p for p in FOLDER.iterdir() if p.is_file()] + [REPO / "tests" / "test_fresh6_heldout.py"]
    for p in ours:
        assert named(old, p.read_text(encoding="utf-8")) == [], p.name


def test_no_fresh6_prompt_is_a_prompt_the_project_already_has():
    check_prompts_are_new(FOLDER, __file__)


def test_fresh6_near8_is_in_near50_is_in_near_all_and_guards_are_no_near_miss():
    check_nesting(FOLDER, FILES)


def test_fresh6_counts_and_schema():
    check_counts_and_schema(FOLDER, FILES, COUNTS)


def test_fresh6_templates_name_their_subjects_kind():
    """known_kind knows every fresh6 subject's kind from its prompt template's own words (none is a pool member)."""
    check_known_kinds(FOLDER, FILES, KIND, paraphrases=True)
