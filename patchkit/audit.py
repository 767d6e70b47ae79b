"""Audit a patch where the patch and its base may be local paths, prepared names or Hub repo ids.

The layer above :mod:`patchkit.resolve` and :mod:`patchkit.hub` (it imports
both; neither imports it), so the import graph has no cycle. This was
``hub.verify`` before 0.2.
"""

from __future__ import annotations

from pathlib import Path
from patchkit import engine, errors, hub, resolve
from patchkit.engine import Check, VerifyReport


def verify(
    patch: str | Path,
    *,
    base: str | Path | None = None,
    pubkey: str | Path | None = None,
    allow_unsigned: bool = False,
) -> VerifyReport:
    """``engine.verify``, where ``patch`` and ``base`` may also be Hub repo ids.

    With a Hub ``base``, the Hub's LFS sha256 of the base files is compared
    with the manifest first; on a mismatch the report fails and no weights
    are downloaded. Otherwise the base snapshot is resolved (cache first) and
    checked locally as usual.
    """
    patch_path = resolve.resolve_patch(patch)
    if base is None or not hub.looks_like_repo_id(base):
        return engine.verify(patch_path, base=resolve.resolve_model(base) if base is not None else None,
                             pubkey=pubkey, allow_unsigned=allow_unsigned)
    repo_id, revision = hub.parse_repo_id(base)  # type: ignore[misc]
    remote: list[Check] = []
    try:
        remote = hub.check_remote_base(engine.Patch.load(patch_path).manifest, repo_id, revision)
    except errors.SchemaError:
        pass  # engine.verify reports the schema failure itself
    except errors.HubError as exc:
        remote = [engine.Check("hub base sha256", False, str(exc))]
    if remote and not all(c.ok for c in remote):
        report = engine.verify(patch_path, pubkey=pubkey, allow_unsigned=allow_unsigned)
        report.checks.extend(remote)
        report.add("base checkpoint", False, "not downloaded: the Hub's records already differ from the patch's base")
        return report
    report = engine.verify(patch_path, base=hub.download_model(repo_id, revision), pubkey=pubkey, allow_unsigned=allow_unsigned)
    report.checks[-1:-1] = remote
    return report
