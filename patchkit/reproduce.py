"""``patchkit verify PATCH --base MODEL --reproduce``: re-run a patch's claims.

Why: a patch's manifest says what the edit did (facts fixed, answers
unchanged, perplexity moved by so much). An auditor should not have to trust
those figures. The panel files are inside the patch and signed with it, so
this module loads the base model, applies the patch in memory, re-runs every
stored panel on base and patched, and compares with the manifest: exactly
for counts (correct answers, changed answers), within ``PPL_TOLERANCE``
(relative) for perplexity, which sums thousands of floating-point terms and
may differ in its last digits across CPUs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Callable

from patchkit import errors
from patchkit.engine import Check, Patch

# Relative tolerance for re-measured perplexities (|measured/claimed - 1|).
PPL_TOLERANCE = 1e-3


def reproduce(
    patch: str | Path,
    base: str | Path,
    *,
    progress: bool = False,
    model: Any = None,
    tokenizer: Any = None,
    log: Callable[[str], None] | None = None,
) -> list[Check]:
    """Re-run the panels stored in ``patch`` on ``base`` and on base+patch; one Check per claim.

    Args:
        patch: patch directory (its signature is checked by ``verify``, not here).
        base: base checkpoint directory or prepared-model name.
        progress: progress bars on stderr.
        model, tokenizer: an already loaded base model (left as found).
    Returns:
        ``[Check("reproduce <panel>", ok, detail), ...]``; never raises for a claim
        that does not reproduce.

    Example:
        >>> checks = reproduce("patches/smollm2-135m-capitals", "smollm2")   # doctest: +SKIP
        >>> all(c.ok for c in checks)                                        # doctest: +SKIP
        True
    """
    from patchkit import evals, models

    p = Patch.load(patch)
    entries = (p.manifest.get("evals") or {}).get("panels") or []
    if not entries:
        return [Check("reproduce", False, "the manifest records no eval panels to reproduce")]
    checks: list[Check] = []
    panels: list[tuple[dict[str, Any], Any]] = []
    for entry in entries:
        try:
            panels.append((entry, _load(evals, p.path, entry)))
        except errors.PatchkitError as exc:
            checks.append(Check(f"reproduce {entry.get('name', '?')}", False, str(exc)))
    if not panels:
        return checks
    if model is None:
        from patchkit.resolve import resolve_model

        model, tokenizer = models.load_model(resolve_model(base))
    say = log or (lambda _m: None)
    say("reproduce: panels on the base model")
    before = [evals.run_panel(model, tokenizer, panel, progress=progress) for _, panel in panels]
    try:
        p.apply_to(model)
    except errors.PatchkitError as exc:
        return checks + [Check("reproduce apply", False, f"cannot apply the patch in memory: {exc}")]
    try:
        say("reproduce: panels on the patched model")
        after = [evals.run_panel(model, tokenizer, panel, progress=progress) for _, panel in panels]
    finally:
        p.revert_from(model)
    for (entry, _), b, a in zip(panels, before, after):
        checks.append(_compare(entry, evals.compare(b, a)))
    return checks


def _load(evals: Any, root: Path, entry: dict[str, Any]) -> Any:
    """The panel an entry describes, from the file inside the patch, hash-checked."""
    rel = entry.get("file")
    if not rel:
        raise errors.UsageError(f"panel {entry['name']}: no file recorded in the manifest; cannot re-run it")
    path = root / rel
    if not path.is_file():
        raise errors.IntegrityError(f"{path}: panel file missing from the patch")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    if entry.get("sha256") and sha != entry["sha256"]:
        raise errors.IntegrityError(f"{path}: sha256 {sha[:16]}…, manifest says {entry['sha256'][:16]}…")
    kind = entry["kind"]
    if kind == "paraphrases":
        panel = evals.paraphrase_panel(evals.load_panel(path, kind="facts"))
        if panel is None:
            raise errors.UsageError(f"{path}: no paraphrases to re-run")
    else:
        panel = evals.load_panel(path, kind=kind)
    panel.name = entry["name"]
    return panel


def _compare(entry: dict[str, Any], got: dict[str, Any]) -> Check:
    """One claim: exact counts, or perplexities within PPL_TOLERANCE."""
    name = f"reproduce {entry['name']}"
    if got["n"] != entry["n"]:
        return Check(name, False, f"panel has {got['n']} items, manifest says {entry['n']}")
    if entry["metric"] == "perplexity":
        rel = [abs(got[k] / entry[k] - 1) if entry[k] else abs(got[k]) for k in ("before", "after")]
        ok = max(rel) <= PPL_TOLERANCE
        detail = (f"perplexity {got['before']:.3f} -> {got['after']:.3f} "
                  f"(claimed {entry['before']:.3f} -> {entry['after']:.3f}, tolerance {PPL_TOLERANCE:.1%}); "
                  f"{got['changed']} top-1 tokens changed (claimed {entry.get('changed', '?')})")
    else:
        keys = ["before", "after"] + (["changed"] if "changed" in entry else [])
        ok = all(int(got[k]) == int(entry[k]) for k in keys)
        detail = (f"{int(got['before'])}/{got['n']} -> {int(got['after'])}/{got['n']}, {got['changed']} changed")
        if not ok:
            claimed = f"{int(entry['before'])}/{entry['n']} -> {int(entry['after'])}/{entry['n']}, {entry.get('changed', '?')} changed"
            detail += f" (claimed {claimed})"
    return Check(name, ok, ("reproduced: " if ok else "NOT reproduced: ") + detail)
