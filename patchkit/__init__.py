"""patchkit: diagnose, repair and ship signed, minimal weight patches."""

__version__ = "0.1.0"
