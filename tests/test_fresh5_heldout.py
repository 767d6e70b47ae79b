"""bench/fresh5 (the fifth fresh held-out sets) stays held out: the sibling of test_fresh4_heldout.py. Data-only
checks (no model): its subjects are named by no other file, its prompts are new, the files nest and keep their
schema and counts, and no file of it names a subject of an earlier held-out set."""
from helpers_heldout import (REPO, check_counts_and_schema, check_nesting, check_prompts_are_new, in_pool, named,
                             other_files, rows, set_file, subjects)

FOLDER = REPO / "bench" / "fresh5"
RELATIONS = {"death_city", "city_island", "city_sea", "landmark_architect"}
# each relation's subject kind, named by its own prompt template ("{} died in", "The city of {}", "The landmark {}")
KIND = {"death_city": "person", "city_island": "city", "city_sea": "city", "landmark_architect": "landmark"}
FILES = ("near_all", "near8", "near50", "guards8", "right", "generic")
EARLIER = ("bench/fresh", "bench/fresh2", "bench/fresh3", "bench/fresh4")
# rows per file as built by make_fresh5.py (see the README's table)
COUNTS = {"smollm2": {"near_all": 75, "near8": 8, "near50": 56, "guards8": 56, "right": 24, "generic": 16},
          "gemma": {"near_all": 75, "near8": 8, "near50": 56, "guards8": 61, "right": 127, "generic": 33}}


def _file(model: str, name: str) -> list[dict]:
    return set_file(FOLDER, model, name)


def test_no_fresh5_held_out_subject_is_named_by_another_file_or_the_selection_pool():
    """bench/fresh5's figures are held out only while no shipped file, tuning file, earlier held-out set or the
    selection pool names their subjects, and its relations are none of the earlier sets'."""
    held_out = rows(FOLDER)
    names = subjects(held_out)
    assert len(names) > 150
    assert {r["id"].split(":", 1)[0] for r in held_out} == RELATIONS | {"generic"}
    earlier = {r["id"].split(":", 1)[0] for folder in (*EARLIER, "bench/heldout", "bench/tune")
               for r in rows(REPO / folder) if isinstance(r, dict) and "id" in r}
    assert not RELATIONS & earlier
    assert not in_pool(names)
    assert named(names, "\n".join(p.read_text(encoding="utf-8", errors="ignore") for p in other_files(FOLDER, __file__))) == []


def test_fresh5_names_no_subject_of_an_earlier_held_out_set():
    """The earlier sets' tests look for their subjects in every other file: no file of this set (rows, script, README,
    perplexity text) nor this test names one."""
    old = subjects(r for folder in EARLIER for r in rows(REPO / folder))
    ours = [p for p in FOLDER.iterdir() if p.is_file()] + [REPO / "tests" / "test_fresh5_heldout.py"]
    for p in ours:
        assert named(old, p.read_text(encoding="utf-8")) == [], p.name


def test_no_fresh5_prompt_is_a_prompt_the_project_already_has():
    check_prompts_are_new(FOLDER, __file__)


def test_fresh5_near8_is_in_near50_is_in_near_all_and_guards_are_no_near_miss():
    check_nesting(FOLDER, FILES)


def test_fresh5_counts_and_schema():
    check_counts_and_schema(FOLDER, FILES, COUNTS)


def test_fresh5_templates_name_their_subjects_kind():
    """known_kind knows every fresh5 subject's kind from its prompt template's own words (none is a pool member)."""
    from patchkit import selection

    for m in ("smollm2", "gemma"):
        for name in FILES:
            for r in _file(m, name):
                rel, _, subject = r["id"].partition(":")
                if rel == "generic":
                    continue
                written = subject[0].upper() + subject[1:]  # as make_fresh2.fact writes {S}
                assert written in r["prompt"]
                template = r["prompt"].replace(written, "{}", 1)
                assert selection.known_kind([subject], template) == KIND[rel], (r["id"], template)
                for p in r["paraphrases"]:
                    assert selection.template_kind(p.replace(written, "{}", 1)) == KIND[rel], (r["id"], p)
