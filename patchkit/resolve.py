"""Turn command-line MODEL and PATCH arguments into local paths.

Every command resolves its arguments here, so a new kind of source (a
prepared model name, a Hugging Face Hub repo id) is added in one place.
"""

from __future__ import annotations

import re
from pathlib import Path

from patchkit import errors, hub, models

# The Hugging Face cache layout: <cache>/models--OWNER--NAME/snapshots/<commit sha>/...
_SNAPSHOTS = "snapshots"
_COMMIT = re.compile(r"[0-9a-f]{40}")


def resolve_model(spec: str | Path) -> Path:
    """Return the local checkpoint path for a MODEL argument.

    Args:
        spec: a checkpoint directory, a single ``.safetensors`` file, the
            name of a prepared model (``smollm2``), prepared on first use, or
            a Hub repo id ``OWNER/NAME[@REVISION]``, fetched with
            ``snapshot_download`` (the HF cache and ``HF_HUB_OFFLINE`` apply).
    Returns:
        The existing local path.
    """
    path = Path(spec)
    if path.exists():
        return path
    if str(spec) in models.KNOWN_MODELS:
        return models.prepare(str(spec))
    parsed = hub.parse_repo_id(spec)
    if parsed is not None:
        return hub.download_model(*parsed)
    raise errors.ModelNotFoundError(
        f"{spec}: no such file or directory, not a prepared model name ({', '.join(models.KNOWN_MODELS)}), "
        "and not a Hub repo id (OWNER/NAME[@REVISION])"
    )


def resolve_patch(spec: str | Path) -> Path:
    """Return the local patch directory for a PATCH argument.

    A Hub repo id ``OWNER/NAME[@REVISION]`` is fetched (patch files only,
    after checking the repo's listing) into patchkit's cache; the command
    then verifies it like any local patch.
    """
    path = Path(spec)
    if path.is_dir():
        return path
    if path.exists():
        raise errors.UsageError(f"{spec}: a patch is a directory holding patch.json, not a file")
    parsed = hub.parse_repo_id(spec)
    if parsed is not None:
        return hub.cached_patch(*parsed)
    raise errors.PatchNotFoundError(f"{spec}: no such patch directory, and not a Hub repo id (OWNER/NAME[@REVISION])")


def describe_model(path: str | Path) -> tuple[str | None, str | None]:
    """The Hub ``(repo_id, commit sha)`` a local checkpoint came from, read from the HF cache layout.

    A path inside ``models--OWNER--NAME/snapshots/<sha>/`` (what
    ``snapshot_download`` returns) gives ``("OWNER/NAME", "<sha>")``; any other
    path gives ``(None, None)``. ``create`` and ``surgery`` record it as
    ``base.repo_id`` / ``base.revision``.

    Example:
        >>> describe_model("~/.cache/huggingface/hub/models--gpt2--x/snapshots/" + "a" * 40)
        ('gpt2/x', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')
    """
    path = Path(path).expanduser()
    for candidate in (path.absolute(), path.resolve()):
        parts = candidate.parts
        for i in range(len(parts) - 2):
            if parts[i].startswith("models--") and parts[i + 1] == _SNAPSHOTS and _COMMIT.fullmatch(parts[i + 2]):
                owner_name = parts[i][len("models--"):].split("--")
                return "/".join(owner_name), parts[i + 2]
    return None, None
