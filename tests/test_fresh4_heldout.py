"""bench/fresh4 (the fourth fresh held-out sets) stays held out: the sibling of test_fresh3_heldout.py. Data-only
checks (no model): its subjects are named by no other file, its prompts are new, the files nest and keep their
schema and counts."""
from helpers_heldout import (REPO, check_counts_and_schema, check_nesting, check_prompts_are_new, in_pool, named,
                             other_files, rows, set_file, subjects)

FOLDER = REPO / "bench" / "fresh4"
RELATIONS = {"city_state", "company_city", "birth_city", "city_river"}
# each relation's subject kind, named by its own prompt template ("The city of {}", "The company {}", "{} was born")
KIND = {"city_state": "city", "company_city": "company", "birth_city": "person", "city_river": "city"}
FILES = ("near_all", "near8", "near50", "guards8", "right", "generic")
# rows per file as built by make_fresh4.py (see the README's table)
COUNTS = {"smollm2": {"near_all": 68, "near8": 8, "near50": 56, "guards8": 50, "right": 42, "generic": 41},
          "gemma": {"near_all": 92, "near8": 8, "near50": 56, "guards8": 68, "right": 116, "generic": 76}}


def _file(model: str, name: str) -> list[dict]:
    return set_file(FOLDER, model, name)


def test_no_fresh4_held_out_subject_is_named_by_another_file_or_the_selection_pool():
    """bench/fresh4's figures are held out only while no shipped file, tuning file, earlier held-out set or the
    selection pool names their subjects, and its relations are none of the earlier sets'."""
    held_out = rows(FOLDER)
    names = subjects(held_out)
    assert len(names) > 250  # 280 subjects in its files
    assert {r["id"].split(":", 1)[0] for r in held_out} == RELATIONS | {"generic"}
    earlier = {r["id"].split(":", 1)[0] for folder in ("bench/fresh", "bench/fresh2", "bench/fresh3", "bench/heldout", "bench/tune")
               for r in rows(REPO / folder) if isinstance(r, dict) and "id" in r}
    assert not RELATIONS & earlier
    assert not in_pool(names)
    assert named(names, "\n".join(p.read_text(encoding="utf-8", errors="ignore") for p in other_files(FOLDER, __file__))) == []


def test_no_fresh4_prompt_is_a_prompt_the_project_already_has():
    check_prompts_are_new(FOLDER, __file__)


def test_fresh4_near8_is_in_near50_is_in_near_all_and_guards_are_no_near_miss():
    check_nesting(FOLDER, FILES)


def test_fresh4_counts_and_schema():
    check_counts_and_schema(FOLDER, FILES, COUNTS)



def test_fresh4_templates_name_their_subjects_kind():
    """Why this set exists: known_kind knows every fresh4 subject's kind from its prompt template's own words (none is
    a pool member), so the other questions of that kind can be asked about it."""
    from patchkit import selection

    for m in ("smollm2", "gemma"):
        for name in FILES:
            for r in _file(m, name):
                rel, _, subject = r["id"].partition(":")
                if rel == "generic":
                    continue
                written = subject[0].upper() + subject[1:]  # as make_fresh2.fact writes {S} ("eBay" -> "EBay")
                assert written in r["prompt"]
                template = r["prompt"].replace(written, "{}", 1)
                assert selection.known_kind([subject], template) == KIND[rel], (r["id"], template)
