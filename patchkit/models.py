"""Prepared real models: build a plain safetensors checkpoint once and cache it."""

from __future__ import annotations

from pathlib import Path

# Names of real models patchkit can prepare locally (see prepare()).
KNOWN_MODELS = ("smollm2",)


def prepare(name: str, out: Path | None = None) -> Path:
    """Build (once) and cache the named real model as a plain safetensors checkpoint."""
    raise NotImplementedError("filled in by the diagnosis work (issue 3)")
