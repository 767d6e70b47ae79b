"""One line from a base model and its patches to a transformers model: ``patchkit.load``.

What PEFT users expect from ``PeftModel.from_pretrained(base, adapter)``:
resolve the model and every patch (paths, prepared names, Hub repo ids),
verify each patch exactly as ``patchkit apply`` does (signature, trust,
delta integrity), refuse patches whose slices overlap, then apply them in
memory in order — each one checks the base slice hashes first — and return
a plain ``transformers`` model and its tokenizer. :func:`unload` reverts them
in memory, bit for bit.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from patchkit import errors

if TYPE_CHECKING:
    from patchkit.engine import Patch

_ATTR = "patchkit_patches"  # the patches applied to a loaded model, oldest first


def load(
    model: str | Path,
    patches: Sequence[str | Path] = (),
    *,
    pubkey: str | Path | Sequence[str | Path] | None = None,
    allow_unsigned: bool = False,
) -> tuple[Any, Any]:
    """Load ``model`` with ``patches`` applied in memory, in order.

    Args:
        model: a checkpoint directory, a prepared model name (``smollm2``) or a Hub repo id.
        patches: patch directories or Hub repo ids, applied in this order.
        pubkey: a public key (or several) to trust besides ``$PATCHKIT_TRUSTED_KEYS``.
        allow_unsigned: accept unsigned or untrusted patches (a warning is issued).
    Returns:
        ``(model, tokenizer)``: a ``transformers`` causal LM in eval mode with the patches
        applied, and its tokenizer. ``model.patchkit_patches`` lists the applied patches.
    Raises:
        SignatureError / UntrustedKeyError: a patch is unsigned or its signer is not trusted.
        PatchConflictError: two patches edit overlapping slices of one tensor (both named).
        BaseMismatchError: a patch was not made for this model.
        NotFoundError: the model or a patch names nothing.

    Nothing is loaded until every patch has been resolved and verified.

    Example:
        >>> model, tokenizer = patchkit.load("smollm2", patches=["fix"], pubkey="me.pem.pub")  # doctest: +SKIP
    """
    from patchkit import engine, models, resolve

    if isinstance(patches, (str, Path)):
        patches = [patches]
    loaded = [engine.Patch.load(resolve.resolve_patch(p)) for p in patches]
    keys = [None] if pubkey is None else [pubkey] if isinstance(pubkey, (str, Path)) else list(pubkey)
    for p in loaded:
        _verify(p, keys, allow_unsigned)
        p.check_integrity()
    check_disjoint(loaded)
    m, tokenizer = models.load_model(resolve.resolve_model(model))
    apply(m, loaded)
    return m, tokenizer


def apply(model: Any, patches: Iterable["Patch"]) -> Any:
    """Apply already-verified patches to a loaded model, in order; all or nothing.

    Refuses a patch that overlaps one already applied to ``model`` (named both).
    """
    patches = list(patches)
    current = list(getattr(model, _ATTR, []))
    check_disjoint(current + patches)
    done = []
    try:
        for p in patches:
            p.apply_to(model)
            done.append(p)
    except BaseException:
        for p in reversed(done):
            p.revert_from(model)
        raise
    setattr(model, _ATTR, current + done)
    return model


def unload(model: Any, patch: "str | Path | Patch | None" = None) -> Any:
    """Revert patches applied by :func:`load` in memory: all of them (newest first), or only ``patch``.

    The weights come back bit for bit; each revert checks the patched slice hashes first.
    """
    applied: list[Patch] = list(getattr(model, _ATTR, []))
    if patch is None:
        targets = list(reversed(applied))
    else:
        name = patch if isinstance(patch, (str, Path)) else patch.path
        targets = [p for p in applied if p is patch or Path(p.path) == Path(name) or p.name == str(name)]
        if not targets:
            raise errors.UsageError(f"{name}: not applied to this model ({', '.join(p.name for p in applied) or 'none'})")
        targets = targets[-1:]
    for p in targets:
        p.revert_from(model)
        applied.remove(p)
    setattr(model, _ATTR, applied)
    return model


def overlap(a: "Patch", b: "Patch") -> list[str]:
    """The tensors (with the shared box) where two patches' edited slices intersect."""
    from patchkit.engine import overlapping

    return overlapping(a.edits, b.edits)


def check_disjoint(patches: Sequence["Patch"]) -> None:
    """Raise PatchConflictError, naming both patches and the tensor, if any two overlap."""
    for i, a in enumerate(patches):
        for b in patches[i + 1:]:
            shared = overlap(a, b)
            if shared:
                raise errors.PatchConflictError(
                    f"patches {a.name} ({a.path}) and {b.name} ({b.path}) both edit {shared[0]}; "
                    "stacked patches must edit disjoint slices"
                )


def _verify(p: "Patch", keys: list, allow_unsigned: bool) -> None:
    last: errors.PatchkitError | None = None
    for key in keys:
        try:
            p.verify_signature(Path(key) if key is not None else None, allow_unsigned=allow_unsigned)
            return
        except errors.SignatureError as exc:
            last = exc
    assert last is not None
    raise last
