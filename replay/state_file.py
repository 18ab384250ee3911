"""Files that must never be half written: the replay's state file and ``summary.json``.

:func:`atomic_write_text` writes a temporary file in the target's own folder, flushes and
fsyncs it, then ``os.replace``-s it over the target (atomic on POSIX and Windows when both are
on one file system: a reader, or a run killed at any instant, sees the old file or the new one,
never a mix). The folder is fsynced too where the platform allows, so the rename itself
survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from thetacore.durable_state import BookState, StateError, load_state


def atomic_write_text(path: Path | str, text: str) -> None:
    """Replace ``path`` by a file holding ``text`` (UTF-8), atomically.

    Raises:
        OSError: when the folder is not writable (the old file, if any, is left untouched).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_state_file(path: Path | str) -> BookState:
    """The state saved in ``path``.

    Raises:
        StateError: naming the file: missing, unreadable, or not a valid state
            (:func:`thetacore.durable_state.load_state`).
    """
    path = Path(path)
    if not path.is_file():
        raise StateError("", "no such state file (give --fresh to start without one)", str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StateError("", f"cannot read it ({exc})", str(path)) from None
    return load_state(text, str(path))
