"""Settings read from the environment, in one place.

Nothing else in patchkit reads ``os.environ`` for its own settings.
"""

from __future__ import annotations

import os
from pathlib import Path


def _xdg(var: str, default: str) -> Path:
    return Path(os.environ.get(var) or Path.home() / default)


def cache_dir() -> Path:
    """Where prepared models and cached base-model results live (``PATCHKIT_CACHE``, default ``~/.cache/patchkit``)."""
    return Path(os.environ.get("PATCHKIT_CACHE") or _xdg("XDG_CACHE_HOME", ".cache") / "patchkit")


def config_dir() -> Path:
    """patchkit's config directory (``~/.config/patchkit``)."""
    return _xdg("XDG_CONFIG_HOME", ".config") / "patchkit"


def trusted_keys_dir() -> Path:
    """Directory of trusted public keys (``PATCHKIT_TRUSTED_KEYS``, default ``<config>/trusted_keys``)."""
    return Path(os.environ.get("PATCHKIT_TRUSTED_KEYS") or config_dir() / "trusted_keys")


# ---- Hugging Face Hub (read at call time, unlike huggingface_hub.constants, which reads them at import) ----


def _true(value: str | None) -> bool:
    return (value or "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def hub_endpoint() -> str:
    """The Hub to talk to (``HF_ENDPOINT``, default ``https://huggingface.co``)."""
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


def hub_offline() -> bool:
    """Whether to use only the local Hugging Face cache (``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE``)."""
    return _true(os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE"))


def hub_cache_dir() -> Path:
    """The Hugging Face cache (``HF_HUB_CACHE``, else ``HF_HOME/hub``, else ``~/.cache/huggingface/hub``)."""
    explicit = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if explicit:
        return Path(os.path.expandvars(explicit)).expanduser()
    home = os.environ.get("HF_HOME")
    root = Path(os.path.expandvars(home)).expanduser() if home else _xdg("XDG_CACHE_HOME", ".cache") / "huggingface"
    return root / "hub"
