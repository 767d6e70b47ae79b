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


# ---- repair commands: surgery, demo ------------------------------------------------------


# ---- hub commands: push, pull ------------------------------------------------------------


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
