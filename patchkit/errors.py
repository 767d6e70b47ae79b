"""Every exception patchkit raises on purpose.

Callers catch precise types instead of parsing messages; the CLI maps each
type to an exit code in one table (``EXIT_CODES`` in :mod:`patchkit.cli`).
Messages are one line and say what is wrong and where (file, tensor,
expected vs found).
"""

from __future__ import annotations


class PatchkitError(Exception):
    """Base class: an expected failure that the CLI reports in one line."""


class UsageError(PatchkitError):
    """Raised when arguments contradict each other or name nothing usable."""


class SchemaError(PatchkitError):
    """Raised when a manifest or facts file does not match its JSON Schema."""


class IntegrityError(PatchkitError):
    """Raised when a file's bytes do not match the hash or statistics recorded for it."""


class SignatureError(PatchkitError):
    """Raised when a patch is unsigned or its signature does not verify."""


class UntrustedKeyError(SignatureError):
    """Raised when a signature verifies but the signer's key is not trusted."""


class BaseMismatchError(PatchkitError):
    """Raised when a checkpoint is not the base (or patched state) a patch was made for."""


class PatchConflictError(BaseMismatchError):
    """Raised when two stacked patches edit overlapping slices of one tensor (the message names both)."""


class CheckpointError(PatchkitError):
    """Raised when a checkpoint is missing, truncated, malformed or of a refused format."""


class IncompatibleModelsError(CheckpointError):
    """Raised when two checkpoints differ in tensor names, shapes or dtypes."""


class NothingChangedError(PatchkitError):
    """Raised when creating a patch from two identical checkpoints."""


class NotExactError(PatchkitError):
    """Raised when a delta would not reproduce both directions bit for bit."""


class OutputExistsError(PatchkitError):
    """Raised when an output path exists and ``force`` was not given."""


class UnknownArchitectureError(PatchkitError):
    """Raised when a model's architecture is not in the architecture map."""


class ComponentError(PatchkitError):
    """Raised when a component name does not parse or does not exist in the model."""


class NotFoundError(PatchkitError):
    """Raised when a MODEL or PATCH argument resolves to nothing (one exit code for both)."""


class ModelNotFoundError(NotFoundError):
    """Raised when a model name or path resolves to nothing."""


class PatchNotFoundError(NotFoundError):
    """Raised when a patch path or name resolves to nothing."""


class AttributionError(PatchkitError):
    """Raised when per-component contributions do not add up to the model's logit difference."""


class RegressionError(PatchkitError):
    """Raised when an edit regresses an eval panel beyond tolerance."""


class FileIOError(PatchkitError):
    """Raised when the operating system refuses a read or write (disk full, permission, OUT's parent a file)."""


class HubError(PatchkitError):
    """Raised when the Hugging Face Hub refuses or a remote repo holds something unexpected."""
