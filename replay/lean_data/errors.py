"""The one error type of the LEAN data readers.

Every failure to read a file in LEAN's data folder (missing, not a zip, empty, a row with the
wrong number of columns, a field that is not a number, a database key that does not exist)
raises :class:`DataError`. Its message always names the file, the zip member when there is
one, and the 1-based line when it is known, so a replay that stops on bad data says where to
look. The low-level exception (``zipfile.BadZipFile``, ``pandas.errors.ParserError``,
``OSError``) is chained with ``raise ... from`` and never the only message.
"""

from __future__ import annotations

from pathlib import Path


class DataError(Exception):
    """A LEAN data file is missing, unreadable or malformed.

    Parameters
    ----------
    message:
        What is wrong, with the numbers that show it (``"row has 7 fields, expected 11"``).
    path:
        The file on disk (zip, csv or json). Optional so that plain ``DataError("...")`` works.
    member:
        The CSV member inside a zip, when the problem is inside one.
    line:
        1-based line number inside the file or member, when known.

    The formatted message reads ``"<path>[<member>]:<line>: <message>"``; the parts that are
    not known are left out. The parts are also kept as attributes for tests and reports.
    """

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        member: str | None = None,
        line: int | None = None,
    ) -> None:
        self.reason = message
        self.path = Path(path) if path is not None else None
        self.member = member
        self.line = line
        super().__init__(_format(message, self.path, member, line))


def _format(message: str, path: Path | None, member: str | None, line: int | None) -> str:
    """Join location and message as ``path[member]:line: message``."""
    where = str(path) if path is not None else ""
    if member:
        where += f"[{member}]"
    if line is not None:
        where += f":{line}"
    return f"{where}: {message}" if where else message


class NoDataError(DataError):
    """The data folder holds no file at all for what was asked in the window (as opposed to
    a file that is there but corrupt). A replay skips a strategy for this, with a reason."""
