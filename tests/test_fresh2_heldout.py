"""bench/fresh2 (the second fresh held-out sets) stays held out: the sibling of test_surgery.py's
test_no_fresh_held_out_subject_is_in_a_shipped_file_or_the_selection_pool."""
import json

from helpers_heldout import REPO, in_pool, named, prompts, rows, subjects

FOLDER = REPO / "bench" / "fresh2"


def test_no_fresh2_held_out_subject_is_in_a_shipped_file_bench_fresh_or_the_selection_pool():
    """bench/fresh2's figures are held out only while no shipped file, tuning file, earlier held-out set or the
    selection pool names their subjects, and its relations are none of bench/fresh's."""
    held_out = rows(FOLDER)
    names = subjects(held_out)
    assert len(names) > 300
    assert {r["id"].split(":", 1)[0] for r in held_out} == {"university_country", "bank_country", "newspaper_country",
                                                             "beer_country", "generic"}
    assert not in_pool(names)
    seen = "\n".join(p.read_text(encoding="utf-8", errors="ignore")
                     for folder in ("patchkit/data", "bench/tune", "bench/heldout", "bench/fresh")
                     for p in (REPO / folder).iterdir() if p.is_file())
    seen += "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "bench").glob("*.jsonl"))
    assert named(names, seen) == []


def test_no_fresh2_prompt_is_a_prompt_the_project_already_has():
    earlier = [r for folder in ("bench/tune", "bench/heldout", "bench/fresh") for r in rows(REPO / folder)]
    earlier += [json.loads(line) for p in (REPO / "bench").glob("*.jsonl")
                for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    ours = {x for r in rows(FOLDER) for x in [r["prompt"], *r.get("paraphrases", [])]}
    assert not ours & prompts(earlier)


def test_fresh2_near8_is_in_near50_is_in_near_all_and_guards_are_no_near_miss():
    for m in ("smollm2", "gemma"):
        ids = {f: {json.loads(x)["id"] for x in (FOLDER / f"{m}_{f}.jsonl").read_text(encoding="utf-8").splitlines()}
               for f in ("near8", "near50", "near_all", "guards8", "right")}
        assert ids["near8"] <= ids["near50"] <= ids["near_all"]
        assert not (ids["guards8"] | ids["right"]) & ids["near_all"]
