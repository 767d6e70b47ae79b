"""bench/fresh4 (the fourth fresh held-out sets) stays held out: the sibling of test_fresh3_heldout.py. Data-only
checks (no model): its subjects are named by no other file, its prompts are new, the files nest and keep their
schema and counts."""
import json
import re
from pathlib import Path

from helpers_heldout import REPO, in_pool, named, prompts, rows, subjects

FOLDER = REPO / "bench" / "fresh4"
RELATIONS = {"city_state", "company_city", "birth_city", "city_river"}
# each relation's subject kind, named by its own prompt template ("The city of {}", "The company {}", "{} was born")
KIND = {"city_state": "city", "company_city": "company", "birth_city": "person", "city_river": "city"}
FILES = ("near_all", "near8", "near50", "guards8", "right", "generic")
# rows per file as built by make_fresh4.py (see the README's table)
COUNTS = {"smollm2": {"near_all": 68, "near8": 8, "near50": 56, "guards8": 50, "right": 42, "generic": 41},
          "gemma": {"near_all": 92, "near8": 8, "near50": 56, "guards8": 68, "right": 116, "generic": 76}}


def _file(model: str, name: str) -> list[dict]:
    return [json.loads(x) for x in (FOLDER / f"{model}_{name}.jsonl").read_text(encoding="utf-8").splitlines()]


def _other_files() -> list[Path]:
    """Every file under patchkit/, bench/ and tests/ but this set's own (bench/fresh, fresh2 and fresh3 included)."""
    out = []
    for top in ("patchkit", "bench", "tests"):
        for p in (REPO / top).rglob("*"):
            if (p.is_file() and "__pycache__" not in p.parts and FOLDER not in p.parents
                    and p.name != Path(__file__).name):
                out.append(p)
    return out


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
    assert named(names, "\n".join(p.read_text(encoding="utf-8", errors="ignore") for p in _other_files())) == []


def test_no_fresh4_prompt_is_a_prompt_the_project_already_has():
    earlier = [json.loads(line) for p in _other_files() if p.suffix == ".jsonl"
               for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    ours = {x for r in rows(FOLDER) for x in [r["prompt"], *r.get("paraphrases", [])]}
    assert not ours & prompts(earlier)


def test_fresh4_near8_is_in_near50_is_in_near_all_and_guards_are_no_near_miss():
    for m in ("smollm2", "gemma"):
        ids = {f: {r["id"] for r in _file(m, f)} for f in FILES}
        assert ids["near8"] <= ids["near50"] <= ids["near_all"]
        assert not (ids["guards8"] | ids["right"] | ids["generic"]) & ids["near_all"]
        assert not ids["right"] & ids["guards8"] and not ids["generic"] & ids["guards8"]


def test_fresh4_counts_and_schema():
    for m in ("smollm2", "gemma"):
        for name in FILES:
            rows = _file(m, name)
            assert len(rows) == COUNTS[m][name], (m, name)
            assert len({r["id"] for r in rows}) == len(rows)
            for r in rows:
                assert set(r) <= {"prompt", "target", "paraphrases", "id", "note"}
                assert r["prompt"] and r["target"].startswith(" ") and r["note"].startswith("relation=")
                generic = r["id"].startswith("generic:")
                assert ("paraphrases" not in r) if generic else len(r["paraphrases"]) == 2
                if name.startswith("near"):
                    assert not generic and 2 <= int(re.search(r"rank=(\d+)", r["note"]).group(1)) <= 5
                else:
                    assert re.search(r"rank=1 gap=(\d+\.\d+)", r["note"])
                    assert float(re.search(r"gap=(-?\d+\.\d+)", r["note"]).group(1)) >= 0.3
        assert len(_file(m, "near8")) == 8
        assert len(_file(m, "guards8")) >= 50
        assert sum(r["id"].startswith("generic:") for r in _file(m, "guards8")) == 20
    assert len((FOLDER / "perplexity.txt").read_text(encoding="utf-8").split()) >= 300


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
