"""patchkit: diagnose, repair and ship signed, minimal weight patches.

The verbs a user reaches for: :func:`load` (a transformers model with patches
applied in memory) and :func:`unload`, :func:`create`, :func:`apply`,
:func:`revert`, :func:`verify` and :class:`Patch`. They are imported on first use so that
``import patchkit`` (and the CLI's ``--help``) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["load", "unload", "create", "apply", "revert", "verify", "Patch", "__version__"]

if TYPE_CHECKING:
    from patchkit.engine import Patch, apply, create, revert, verify
    from patchkit.loading import load, unload


def __getattr__(name: str) -> Any:
    if name in ("create", "apply", "revert", "verify", "Patch"):
        from patchkit import engine

        return getattr(engine, name)
    if name in ("load", "unload"):
        from patchkit import loading

        return getattr(loading, name)
    raise AttributeError(f"module 'patchkit' has no attribute {name!r}")
