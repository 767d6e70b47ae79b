"""Checks that keep a held-out set held out (bench/fresh … fresh5): its subjects are named by no other file
and no selection pool entry, and its prompts are new. One place for what the sets' tests share."""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def rows(folder: Path) -> list[dict]:
    """Every row of every JSON Lines file in ``folder``."""
    return [json.loads(line) for p in sorted(folder.glob("*.jsonl")) for line in p.read_text(encoding="utf-8").splitlines()]


def subjects(held_out: Iterable[dict]) -> set[str]:
    """The subjects of a held-out set's rows (ids ``relation:subject``; generic prompts have none)."""
    return {r["id"].split(":", 1)[1] for r in held_out if not r["id"].startswith("generic:")}


def in_pool(names: Iterable[str]) -> set[str]:
    """Those of ``names`` the selection set's subject pool holds (case-insensitive)."""
    from patchkit import selection

    pool = {n.lower() for group in selection.subject_pool().values() for n in group}
    return {s for s in names if s.lower() in pool}


def named(names: Iterable[str], text: str) -> list[str]:
    """The whole-word occurrences in ``text`` of any of ``names`` (case-insensitive; one pattern, longest first)."""
    ordered = sorted(names, key=len, reverse=True)
    if not ordered:
        return []
    pattern = r"(?<!\w)(?:" + "|".join(re.escape(s) for s in ordered) + r")(?!\w)"
    return re.findall(pattern, text, re.IGNORECASE)


def prompts(held_out: Iterable[dict]) -> set[str]:
    """Every prompt, text and paraphrase the rows hold."""
    return {x for r in held_out if isinstance(r, dict)
            for x in [r.get("prompt"), r.get("text"), *r.get("paraphrases", [])] if isinstance(x, str)}


# --- the checks bench/fresh3, fresh4 and fresh5 share (files {model}_{name}.jsonl per model) ---------------------------

MODELS = ("smollm2", "gemma")


def set_file(folder: Path, model: str, name: str) -> list[dict]:
    """The rows of one of a held-out set's files, ``{model}_{name}.jsonl``."""
    return [json.loads(x) for x in (folder / f"{model}_{name}.jsonl").read_text(encoding="utf-8").splitlines()]


def other_files(folder: Path, test_file: str) -> list[Path]:
    """Every file under patchkit/, bench/ and tests/ but the set's own folder and its own test file."""
    out = []
    for top in ("patchkit", "bench", "tests"):
        for p in (REPO / top).rglob("*"):
            if (p.is_file() and "__pycache__" not in p.parts and folder not in p.parents
                    and p.name != Path(test_file).name):
                out.append(p)
    return out


def check_prompts_are_new(folder: Path, test_file: str) -> None:
    """No prompt or paraphrase of the set is one any other JSON Lines file of the project has."""
    earlier = [json.loads(line) for p in other_files(folder, test_file) if p.suffix == ".jsonl"
               for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    ours = {x for r in rows(folder) for x in [r["prompt"], *r.get("paraphrases", [])]}
    assert not ours & prompts(earlier)


def check_nesting(folder: Path, files: Iterable[str]) -> None:
    """near8 ⊆ near50 ⊆ near_all, and no guard, right or generic row is a near miss or another file's row."""
    for m in MODELS:
        ids = {f: {r["id"] for r in set_file(folder, m, f)} for f in files}
        assert ids["near8"] <= ids["near50"] <= ids["near_all"]
        assert not (ids["guards8"] | ids["right"] | ids["generic"]) & ids["near_all"]
        assert not ids["right"] & ids["guards8"] and not ids["generic"] & ids["guards8"]


def check_counts_and_schema(folder: Path, files: Iterable[str], counts: dict[str, dict[str, int]]) -> None:
    """Each file holds the rows its build wrote, in the schema and with the notes (rank, gap) the bench reads."""
    for m in MODELS:
        for name in files:
            found = set_file(folder, m, name)
            assert len(found) == counts[m][name], (m, name)
            assert len({r["id"] for r in found}) == len(found)
            for r in found:
                assert set(r) <= {"prompt", "target", "paraphrases", "id", "note"}
                assert r["prompt"] and r["target"].startswith(" ") and r["note"].startswith("relation=")
                generic = r["id"].startswith("generic:")
                assert ("paraphrases" not in r) if generic else len(r["paraphrases"]) == 2
                if name.startswith("near"):
                    assert not generic and 2 <= int(re.search(r"rank=(\d+)", r["note"]).group(1)) <= 5
                else:
                    assert re.search(r"rank=1 gap=(\d+\.\d+)", r["note"])
                    assert float(re.search(r"gap=(-?\d+\.\d+)", r["note"]).group(1)) >= 0.3
        assert len(set_file(folder, m, "near8")) == 8
        assert len(set_file(folder, m, "guards8")) >= 50
        assert sum(r["id"].startswith("generic:") for r in set_file(folder, m, "guards8")) == 20
    assert len((folder / "perplexity.txt").read_text(encoding="utf-8").split()) >= 300


def check_subjects_held_out(folder: Path, relations: set[str], earlier: Iterable[str], test_file: str,
                            at_least: int) -> None:
    """More than ``at_least`` subjects, of ``relations`` only, none of them a relation of the ``earlier`` folders
    (repository-relative), a selection pool member or named by any other file."""
    held_out = rows(folder)
    names = subjects(held_out)
    assert len(names) > at_least
    assert {r["id"].split(":", 1)[0] for r in held_out} == relations | {"generic"}
    seen = {r["id"].split(":", 1)[0] for f in earlier for r in rows(REPO / f) if isinstance(r, dict) and "id" in r}
    assert not relations & seen
    assert not in_pool(names)
    assert named(names, "\n".join(p.read_text(encoding="utf-8", errors="ignore") for p in other_files(folder, test_file))) == []


def check_known_kinds(folder: Path, files: Iterable[str], kind: dict[str, str], paraphrases: bool = False) -> None:
    """``selection.known_kind`` gives each relation row's subject its relation's ``kind`` from the prompt's template
    (none is a pool member); with ``paraphrases``, ``template_kind`` reads the same kind in each paraphrase."""
    from patchkit import selection

    for m in MODELS:
        for name in files:
            for r in set_file(folder, m, name):
                rel, _, subject = r["id"].partition(":")
                if rel == "generic":
                    continue
                written = subject[0].upper() + subject[1:]  # as make_fresh2.fact writes {S}: a capital first letter
                assert written in r["prompt"]
                template = r["prompt"].replace(written, "{}", 1)
                assert selection.known_kind([subject], template) == kind[rel], (r["id"], template)
                for p in r["paraphrases"] if paraphrases else ():
                    assert selection.template_kind(p.replace(written, "{}", 1)) == kind[rel], (r["id"], p)
