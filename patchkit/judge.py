"""Judging an edit: the reported panels (before/after rows, regressions) and the selection set.

Two judges with two jobs. The *selection* judge (:func:`selection_reasons`)
decides which candidate ships; it reads only the set surgery built for itself
(:mod:`patchkit.selection`). The *panel* judge (:func:`panel_row`,
:func:`regressions`) measures the shipped edit on the panels the patch
reports and refuses it if any regresses; it never chooses between candidates.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from patchkit import errors

# Regression tolerances, per panel kind. Counts are answers; perplexity is relative.
DEFAULT_TOLERANCES: dict[str, float] = {
    "facts": 0,  # no fact that was right may become wrong
    "general": 0,  # changed answers allowed
    "side_effects": 0,
    "paraphrases": 0,  # paraphrases right before must stay right
    "perplexity": 0.01,  # |after/before - 1|
}


SELECTION_PERPLEXITY = 0.01  # |after/before - 1| on the selection passage (data/selection.txt)


@dataclass(frozen=True)
class Verdict:
    """The selection set's verdict on one edit: why it is refused (empty: it passes) and which prompts moved."""

    reasons: list[str]
    moved: list[str]  # selection prompts (neighbours or generic) whose top-1 answer changed


def selection_verdict(model: Any, tokenizer: Any, edited: Mapping[str, torch.Tensor],
                      facts: Sequence[tuple[str, str]], probes: Sequence[Any],
                      passage: tuple[Any, float] | None = None) -> Verdict:
    """Judge ``edited`` on the selection set.

    A trained fact still wrong after training is a reason; so is any probe
    (neighbour or generic prompt) whose top-1 answer changed, and a perplexity
    on the selection passage (``(panel, base perplexity)``, see
    :func:`selection_passage`) that moved by more than 1%. The moved prompts
    come back too: a search that keeps them still and solves again needs to
    know which they were, and probing them a second time would cost a pass.
    """
    from patchkit import evals, selection
    from patchkit.train import edit_applied

    with edit_applied(model, edited):
        scores = evals.score_facts(model, tokenizer, [evals.Fact(p, t) for p, t in facts])
        wrong = [p for (p, _), (ok, _, _) in zip(facts, scores) if not ok]
        moved = selection.changed(model, tokenizer, probes)
        ppl = evals.run_panel(model, tokenizer, passage[0]).value if passage is not None else None
    reasons = []
    if ppl is not None and abs(ppl / passage[1] - 1) > SELECTION_PERPLEXITY:
        reasons.append(f"selection passage perplexity {passage[1]:.2f} -> {ppl:.2f} "
                       f"({ppl / passage[1] - 1:+.2%}, tolerance ±{SELECTION_PERPLEXITY:.0%})")
    if wrong:
        reasons.append(f"{len(wrong)} trained fact(s) still wrong (e.g. {wrong[0]!r})")
    if moved:
        reasons.append(f"{len(moved)} selection prompt(s) changed answer (e.g. {moved[0].prompt!r})")
    return Verdict(reasons, [p.prompt for p in moved])


def selection_reasons(model: Any, tokenizer: Any, edited: Mapping[str, torch.Tensor],
                      facts: Sequence[tuple[str, str]], probes: Sequence[Any],
                      passage: tuple[Any, float] | None = None) -> list[str]:
    """Why an edit is refused on the selection set (empty: it passes); :func:`selection_verdict`'s reasons."""
    return selection_verdict(model, tokenizer, edited, facts, probes, passage).reasons


def selection_passage(model: Any, tokenizer: Any, fingerprint: str | None = None) -> tuple[Any, float]:
    """The selection perplexity passage (``data/selection.txt``, in no reported panel) and its base perplexity.

    Why fresh prose (written for patchkit, so no model has memorised it): on memorised text almost
    any edit raises perplexity by several per cent, which says nothing about ordinary text.
    ``fingerprint`` (the base weights' hash): keep the base perplexity in the cache, as the panels' are.
    """
    from importlib import resources

    from patchkit import evals

    path = Path(str(resources.files("patchkit") / "data" / "selection.txt"))
    panel = evals.load_panel(path, kind="perplexity")
    if fingerprint is None:
        return panel, evals.run_panel(model, tokenizer, panel).value
    return panel, evals.base_results(model, tokenizer, [panel], fingerprint)[0].value


def panels(evals: Any, facts: Path, extra: Sequence[str | Path], default: bool = True,
           skip_trained: bool = False) -> list[Any]:
    """Facts panel (+ its paraphrases, less the trained ones), the shipped panels, then the user's."""
    fp = evals.load_panel(facts, kind="facts")
    out = [fp]
    para = evals.paraphrase_panel(fp, skip_trained=skip_trained)
    if para is not None:
        out.append(para)
    if default:
        out.extend(evals.shipped_panels())
    for spec in extra:
        path = Path(spec)
        out.append(evals.load_panel(path, kind="perplexity" if path.suffix == ".txt" else "side_effects"))
    names = [p.name for p in out]
    if len(set(names)) != len(names):
        raise errors.UsageError(f"two panels share a name: {names}; rename a panel file")
    return out


def panel_file(panel: Any) -> str:
    return f"panels/{panel.name}{Path(panel.path).suffix}"


def repaired_prompts(facts: Iterable[Any]) -> set[str]:
    """The prompts a patch sets out to change: its facts' prompts and all their paraphrases (see :func:`panel_row`)."""
    return {p for f in facts for p in (f.prompt, *f.paraphrases)}


def panel_row(evals: Any, panel: Any, before: Any, after: Any, tol: Mapping[str, float],
              repaired: Collection[str] = ()) -> dict[str, Any]:
    """One panel's before/after row for the manifest.

    ``repaired``: the prompts the patch sets out to change (its facts and their paraphrases). A general or
    side-effect item that asks one of them ("The capital of Mexico is" in the shipped side-effect panel, when the
    user repairs Mexico's capital) is the facts panel's to judge: its change is listed (``repaired``,
    ``changed_repaired``) and not counted as a side effect by :func:`regressions`. ``changed`` stays the plain count,
    as ``verify --reproduce`` recomputes it.
    """
    row = evals.compare(before, after)
    if panel.kind in ("general", "side_effects") and repaired:
        own = [k for k, item in enumerate(panel.items) if item.prompt in repaired]
        if own:
            row["repaired"] = [panel.items[k].prompt for k in own]
            row["changed_repaired"] = sum(before.predictions[k] != after.predictions[k] for k in own)
    row["sha256"] = panel.sha256
    row["file"] = panel_file(panel) if panel.kind != "paraphrases" else _panel_file_of_facts(panel)
    row["tolerance"] = tol.get(panel.kind, 0)
    if panel.kind == "paraphrases":
        row["source"] = row["file"]  # derived: each fact's paraphrased prompts, same target
        row["skip_trained"] = bool(getattr(panel, "skip_trained", False))
    if row["metric"] == "accuracy":
        # regressions: right before, wrong after (computed from per-item correctness)
        row["broken"] = _broken(panel, before, after)
    return row


def _panel_file_of_facts(panel: Any) -> str:
    stem = panel.name[: -len(".paraphrases")] if panel.name.endswith(".paraphrases") else panel.name
    return f"panels/{stem}{Path(panel.path).suffix}"


def _broken(panel: Any, before: Any, after: Any) -> int:
    """Items right before whose answer changed (so are wrong after).

    An item counts as right when its decoded teacher-forced top-1 tokens
    spell the target; where decoding does not round-trip, the net drop in
    correct answers is the floor.
    """
    broken = sum(
        1
        for fact, b, a in zip(panel.items, before.predictions, after.predictions)
        if b == fact.target and a != b
    )
    return max(broken, before.correct - after.correct)


def regressions(rows: Sequence[Mapping[str, Any]], tol: Mapping[str, float]) -> list[str]:
    out = []
    for r in rows:
        t = tol.get(r["kind"], 0)
        if r["metric"] == "perplexity":
            rel = r["after"] / r["before"] - 1 if r["before"] else 0.0
            if abs(rel) > t:
                out.append(f"{r['name']}: perplexity {r['before']:.3f} -> {r['after']:.3f} ({rel:+.2%}, tolerance ±{t:.0%})")
        elif r["kind"] in ("general", "side_effects"):
            changed = r["changed"] - r.get("changed_repaired", 0)  # a prompt the patch repairs is no side effect
            if changed > t:
                out.append(f"{r['name']}: {changed} changed answers (tolerance {t:g})")
        elif r.get("broken", 0) > t:
            out.append(f"{r['name']}: {r['broken']} answers right before are wrong after (tolerance {t:g})")
    return out


