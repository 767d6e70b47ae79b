"""bench/fresh3 (the third fresh held-out sets) stays held out: the sibling of test_fresh2_heldout.py. Data-only
checks (no model): its subjects are named by no other file, its prompts are new, the files nest and keep their
schema and counts."""
from helpers_heldout import REPO, check_counts_and_schema, check_nesting, check_prompts_are_new, check_subjects_held_out

FOLDER = REPO / "bench" / "fresh3"
RELATIONS = {"cheese_country", "party_country", "broadcaster_country", "lake_country"}
FILES = ("near_all", "near8", "near50", "guards8", "right", "generic")
# rows per file as built by make_fresh3.py (see the README's table)
COUNTS = {"smollm2": {"near_all": 108, "near8": 8, "near50": 56, "guards8": 68, "right": 58, "generic": 17},
          "gemma": {"near_all": 50, "near8": 8, "near50": 50, "guards8": 66, "right": 125, "generic": 59}}


def test_no_fresh3_held_out_subject_is_named_by_another_file_or_the_selection_pool():
    """bench/fresh3's figures are held out only while no shipped file, tuning file, earlier held-out set or the
    selection pool names their subjects, and its relations are none of the earlier sets'."""
    check_subjects_held_out(FOLDER, RELATIONS, ("bench/fresh", "bench/fresh2", "bench/heldout", "bench/tune"),
                            __file__, 300)


def test_no_fresh3_prompt_is_a_prompt_the_project_already_has():
    check_prompts_are_new(FOLDER, __file__)


def test_fresh3_near8_is_in_near50_is_in_near_all_and_guards_are_no_near_miss():
    check_nesting(FOLDER, FILES)


def test_fresh3_counts_and_schema():
    check_counts_and_schema(FOLDER, FILES, COUNTS)

