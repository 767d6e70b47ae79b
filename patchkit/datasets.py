"""The data sets shipped in ``patchkit/data``, by name.

Commands take a name (``--facts capitals``, ``--panel general``) wherever a
facts or panel file goes, so the workflow runs from any directory, not only
from the clone's root. ``patchkit data list`` prints this table. Importing
this module is cheap (no torch, no numpy).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from patchkit import errors


@dataclass(frozen=True)
class DataSet:
    """One shipped file: its name, file, kind (as eval panels use it) and what it holds."""

    name: str
    file: str
    kind: str
    description: str

    @property
    def path(self) -> Path:
        return data_dir() / self.file


SHIPPED: dict[str, DataSet] = {
    d.name: d
    for d in (
        DataSet("capitals", "capitals.jsonl", "facts",
                "26 capitals for SmolLM2-135M: 8 routing failures and 18 it gets right, with 2 paraphrases each"),
        DataSet("general", "general.jsonl", "general",
                "20 short prompts with known completions the base model gets right"),
        DataSet("side_effects", "side_effects.jsonl", "side_effects",
                "24 neighbours of the capitals that must not change"),
        DataSet("perplexity", "perplexity.txt", "perplexity",
                "3.9 KB of public-domain English prose"),
        DataSet("preserve", "preserve.jsonl", "preserve",
                "68 unrelated prompts for surgery's output-matching loss"),
    )
}


def data_dir() -> Path:
    """The package's data directory."""
    return Path(str(resources.files("patchkit") / "data"))


def names() -> list[str]:
    return list(SHIPPED)


def resolve(spec: str | Path, *, what: str = "facts file") -> Path:
    """A data-set argument -> an existing file: a path that exists wins, else a shipped name.

    Raises:
        UsageError: neither an existing file nor a shipped name (the message lists the names).
    """
    path = Path(spec).expanduser()
    if path.is_file():
        return path
    if str(spec) in SHIPPED:
        return SHIPPED[str(spec)].path
    if path.exists():
        raise errors.UsageError(f"{spec}: is a directory, not a {what}")
    raise errors.UsageError(f"{spec}: no such {what}, and not a shipped data set ({', '.join(SHIPPED)})")


def listing() -> list[dict[str, object]]:
    """One row per shipped data set: name, kind, items (lines; bytes for text), file, description."""
    rows = []
    for d in SHIPPED.values():
        raw = d.path.read_bytes()
        items = len(raw) if d.path.suffix == ".txt" else sum(1 for line in raw.splitlines() if line.strip())
        rows.append({"name": d.name, "kind": d.kind, "items": items, "file": str(d.path), "description": d.description})
    return rows
