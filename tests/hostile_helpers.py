"""Shared helpers for the hostile-input tests: run the real CLI entry point in-process, snapshot trees."""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
from pathlib import Path

from patchkit import cli, manifest, signing

INTERNAL = cli.INTERNAL_ERROR


def run_cli(*args) -> tuple[int, str, str]:
    """patchkit's real entry point (error mapping included): (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli.main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, out.getvalue(), err.getvalue()


def one_line_error(err: str) -> str:
    """The single 'error:' line of a refusal (warnings may precede it); fails on tracebacks."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    assert err.endswith(lines[0] + "\n"), err
    return lines[0]


def tree(path: Path) -> dict[str, tuple[str, bytes | str]]:
    """Every entry under ``path`` (files by bytes, links by target, others by kind), links not followed."""
    found = {}
    if not os.path.lexists(path):
        return found
    paths = [path] if not path.is_dir() or path.is_symlink() else [path, *sorted(path.rglob("*"))]
    for p in paths:
        mode = os.lstat(p).st_mode
        rel = str(p.relative_to(path)) if p != path else "."
        if stat.S_ISLNK(mode):
            found[rel] = ("link", os.readlink(p))
        elif stat.S_ISREG(mode):
            found[rel] = ("file", p.read_bytes())
        elif stat.S_ISDIR(mode):
            found[rel] = ("dir", "")
        else:
            found[rel] = ("special", "")
    return found


def leftovers(directory: Path) -> list[str]:
    """Staging directories or partial files patchkit may have left in ``directory``."""
    return sorted(p.name for p in directory.iterdir() if ".patchkit-tmp-" in p.name or ".pull-" in p.name)


def rewrite_manifest(patch: Path, edit, key: Path | None = None) -> None:
    """Edit patch.json in place (canonical bytes) and, with ``key``, re-sign like a malicious key holder."""
    data = json.loads((patch / "patch.json").read_text())
    edit(data)
    (patch / "patch.json").write_bytes(manifest.dumps(data))
    if key is not None:
        signing.sign_patch(patch, key)
