"""Progress output policy, in one place: bars on a terminal, one line per phase in logs.

Every long loop in patchkit asks :func:`bar` for its progress object instead
of creating a tqdm bar itself, so that

- on a terminal (stderr is a TTY) the user sees a live tqdm bar that clears
  itself when done;
- in a log (stderr redirected to a file or a pipe) nothing is redrawn: one
  line when the phase ends (``triage: 26 facts in 4.0 s``), so a surgery log
  holds a few lines instead of 28 KB of carriage returns;
- with ``--quiet`` (:func:`set_quiet`) nothing at all is printed;
- an error message always starts on its own line (:func:`close_all` before
  printing it).

:func:`say` prints one status line under the same rules.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Iterable, Iterator, TypeVar

T = TypeVar("T")

_state = {"quiet": False}
_open: list["_LineBar"] = []


def set_quiet(quiet: bool = True) -> None:
    """Silence (or restore) every bar and status line in this process (the CLI's ``--quiet``)."""
    _state["quiet"] = bool(quiet)
    if quiet:
        quiet_libraries()


def quiet_libraries() -> None:
    """Turn off the Hugging Face libraries' own download bars (called for logs and ``--quiet``).

    ``huggingface_hub`` reads ``HF_HUB_DISABLE_PROGRESS_BARS`` when first imported; when it
    already is, its switch is flipped directly.
    """
    import os

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if "huggingface_hub" in sys.modules:
        try:
            from huggingface_hub.utils import disable_progress_bars

            disable_progress_bars()
        except ImportError:
            pass


def is_quiet() -> bool:
    return _state["quiet"]


def is_terminal() -> bool:
    """Whether stderr is an interactive terminal (bars are drawn only then)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def say(message: str) -> None:
    """Print one status line on stderr (not with ``--quiet``), never inside a live bar's line."""
    if _state["quiet"]:
        return
    if is_terminal() and _tqdm_active():
        from tqdm import tqdm

        tqdm.write(message, file=sys.stderr)
    else:
        print(message, file=sys.stderr, flush=True)


def bar(iterable: Iterable[T] | None = None, *, total: int | None = None, desc: str = "", unit: str = "it",
        enabled: bool = True, **tqdm_kwargs: Any) -> Any:
    """A progress object with tqdm's interface (iterate it, or ``update``/``close``/``set_postfix``).

    Args:
        iterable: items to wrap (or None and use ``update``).
        total, desc, unit: as for tqdm.
        enabled: False gives a silent wrapper (e.g. for ``--json`` output).
        tqdm_kwargs: passed to tqdm on a terminal only (``leave`` defaults to False).
    """
    if iterable is not None and total is None:
        try:
            total = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            pass
    if not enabled or _state["quiet"]:
        return _Silent(iterable, total)
    if is_terminal():
        from tqdm import tqdm

        tqdm_kwargs.setdefault("leave", False)
        return tqdm(iterable, total=total, desc=desc, unit=unit, file=sys.stderr, **tqdm_kwargs)
    return _LineBar(iterable, total, desc, unit)


def close_all() -> None:
    """Close every live bar, so that what is printed next starts on its own line."""
    for b in list(_open):
        b.close(report=False)
    if "tqdm" in sys.modules:
        from tqdm import tqdm

        for t in list(getattr(tqdm, "_instances", ())):
            try:
                t.close()
            except Exception:  # noqa: BLE001 - best effort while reporting another error
                pass


def _tqdm_active() -> bool:
    if "tqdm" not in sys.modules:
        return False
    from tqdm import tqdm

    return bool(getattr(tqdm, "_instances", None))


class _Silent:
    """Iterates and counts; prints nothing."""

    def __init__(self, iterable: Iterable[Any] | None, total: int | None):
        self.iterable, self.total, self.n = iterable, total, 0

    def __iter__(self) -> Iterator[Any]:
        for item in self.iterable or ():
            yield item
            self.n += 1

    def __len__(self) -> int:
        return self.total or 0

    def __enter__(self) -> "_Silent":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        pass

    def set_postfix_str(self, *args: Any, **kwargs: Any) -> None:
        pass

    def set_description(self, *args: Any, **kwargs: Any) -> None:
        pass

    def write(self, message: str) -> None:
        say(message)

    def refresh(self) -> None:
        pass

    def close(self) -> None:
        pass


class _LineBar(_Silent):
    """For logs: one line when the phase ends, with the count and the time it took."""

    def __init__(self, iterable: Iterable[Any] | None, total: int | None, desc: str, unit: str):
        super().__init__(iterable, total)
        self.desc, self.unit, self.postfix = desc, unit, ""
        self.start = time.perf_counter()
        self.closed = False
        _open.append(self)

    def __iter__(self) -> Iterator[Any]:
        try:
            yield from super().__iter__()
        finally:
            if self.total is None or self.n >= self.total:
                self.close()

    def set_postfix(self, ordered_dict: Any = None, refresh: bool = True, **kwargs: Any) -> None:
        items = dict(ordered_dict or {}, **kwargs)
        self.postfix = ", ".join(f"{k}={v}" for k, v in items.items())

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        self.postfix = s

    def close(self, report: bool = True) -> None:
        if self.closed:
            return
        self.closed = True
        if self in _open:
            _open.remove(self)
        if report and not _state["quiet"]:
            unit = self.unit if self.n == 1 or self.unit.endswith("s") else f"{self.unit}s"
            extra = f" ({self.postfix})" if self.postfix else ""
            name = f"{self.desc}: " if self.desc else ""
            print(f"{name}{self.n} {unit} in {time.perf_counter() - self.start:.1f} s{extra}", file=sys.stderr, flush=True)
