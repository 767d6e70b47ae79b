"""Checks that keep a held-out set held out (bench/fresh, fresh2, fresh3): its subjects are named by no other file
and no selection pool entry, and its prompts are new. One place for what the three sets' tests share."""
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
