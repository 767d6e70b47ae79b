"""Turn command-line MODEL and PATCH arguments into local paths.

Every command resolves its arguments here, so a new kind of source (a
prepared model name, a Hugging Face Hub repo id) is added in one place.
"""

from __future__ import annotations

from pathlib import Path

from patchkit import errors, models


def resolve_model(spec: str | Path) -> Path:
    """Return the local checkpoint path for a MODEL argument.

    Args:
        spec: a checkpoint directory, a single ``.safetensors`` file, or the
            name of a prepared model (``smollm2``), prepared on first use.
    Returns:
        The existing local path.
    """
    path = Path(spec)
    if path.exists():
        return path
    if str(spec) in models.KNOWN_MODELS:
        return models.prepare(str(spec))
    raise errors.ModelNotFoundError(
        f"{spec}: no such file or directory, and not a prepared model name ({', '.join(models.KNOWN_MODELS)})"
    )


def resolve_patch(spec: str | Path) -> Path:
    """Return the local patch directory for a PATCH argument."""
    path = Path(spec)
    if path.is_dir():
        return path
    if path.exists():
        raise errors.UsageError(f"{spec}: a patch is a directory holding patch.json, not a file")
    raise errors.UsageError(f"{spec}: no such patch directory")
