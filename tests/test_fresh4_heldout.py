"""bench/fresh4 (the fourth fresh held-out sets) stays held out: the sibling of test_fresh3_heldout.py. Data-only
checks (no model): its subjects are named by no other file, its prompts are new, the files nest and keep their
schema and counts."""
from helpers_heldout import (REPO, check_counts_and_schema, check_known_kinds, check_nesting, check_prompts_are_new,
                             check_subjects_held_out)

FOLDER = REPO / "bench" / "fresh4"
RELATIONS = {"city_state", "company_city", "birth_city", "city_river"}
# each relation's subject kind, named by its own prompt template ("The city of {}", "The company {}", "{} was born")
KIND = {"city_state": "city", "company_city": "company", "birth_city": "person", "city_river": "city"}
FILES = ("near_all", "near8", "near50", "guards8", "right", "generic")
# rows per file as built by make_fresh4.py (see the README's table)
COUNTS = {"smollm2": {"near_all": 68, "near8": 8, "near50": 56, "guards8": 50, "right": 42, "generic": 41},
          "gemma": {"near_all": 92, "near8": 8, "near50": 56, "guards8": 68, "right": 116, "generic": 76}}


def test_no_fresh4_held_out_subject_is_named_by_another_file_or_the_selection_pool():
    """bench/fresh4's figures are held out only while no shipped file, tuning file, earlier held-out set or the
    selection pool names their subjects, and its relations are none of the earlier sets'."""
    check_subjects_held_out(FOLDER, RELATIONS, ("bench/fresh", "bench/fresh2", "bench/fresh3", "bench/heldout",
                                                "bench/tune"), __file__, 250)  # 280 subjects in its files


def test_no_fresh4_prompt_is_a_prompt_the_project_already_has():
    check_prompts_are_new(FOLDER, __file__)


def test_fresh4_near8_is_in_near50_is_in_near_all_and_guards_are_no_near_miss():
    check_nesting(FOLDER, FILES)


def test_fresh4_counts_and_schema():
    check_counts_and_schema(FOLDER, FILES, COUNTS)


def test_fresh4_templates_name_their_subjects_kind():
    """Why this set exists: known_kind knows every fresh4 subject's kind from its prompt template's own words (none is
    a pool member), so the other questions of that kind can be asked about it."""
    check_known_kinds(FOLDER, FILES, KIND)
