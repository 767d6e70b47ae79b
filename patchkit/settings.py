"""Settings read from the environment, in one place.

Nothing else in patchkit reads ``os.environ`` for its own settings.
"""

from __future__ import annotations

import os
from pathlib import Path


def _xdg(var: str, default: str) -> Path:
    return Path(os.environ.get(var) or Path.home() / default)


def cache_dir() -> Path:
    """Where prepared models live (``PATCHKIT_CACHE``, default ``~/.cache/patchkit``)."""
    return Path(os.environ.get("PATCHKIT_CACHE") or _xdg("XDG_CACHE_HOME", ".cache") / "patchkit")


def config_dir() -> Path:
    """patchkit's config directory (``~/.config/patchkit``)."""
    return _xdg("XDG_CONFIG_HOME", ".config") / "patchkit"


def trusted_keys_dir() -> Path:
    """Directory of trusted public keys (``PATCHKIT_TRUSTED_KEYS``, default ``<config>/trusted_keys``)."""
    return Path(os.environ.get("PATCHKIT_TRUSTED_KEYS") or config_dir() / "trusted_keys")
