"""Where model arguments point: local checkpoints and prepared real models.

``resolve_model`` is the one function every command uses to turn a MODEL
argument (a path, or a prepared-model name such as ``smollm2``) into a local
checkpoint path.
"""

from __future__ import annotations

from pathlib import Path

from patchkit import errors

# Names of real models patchkit can prepare locally (see prepare()).
KNOWN_MODELS = ("smollm2",)


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
    if str(spec) in KNOWN_MODELS:
        return prepare(str(spec))
    raise errors.ModelNotFoundError(
        f"{spec}: no such file or directory, and not a prepared model name ({', '.join(KNOWN_MODELS)})"
    )


def prepare(name: str, out: Path | None = None) -> Path:
    """Build (once) and cache the named real model as a plain safetensors checkpoint."""
    raise NotImplementedError("filled in by the diagnosis work (issue 3)")
