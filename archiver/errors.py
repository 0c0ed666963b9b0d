"""The one exception type the CLI turns into a one-line message, and the exit statuses."""

from enum import IntEnum


class ArchiverError(Exception):
    """A failure the user can act on; its message is one line, shown as-is."""


class ExitStatus(IntEnum):
    """Exit codes, Unix style: `diff` exits 1 when edits were found, `verify` when problems
    were; every command exits 2 on an error and 130 when interrupted."""

    OK = 0
    PROBLEMS = 1  # edits found (diff), problems found (verify, reindex), some URLs failed (capture)
    ERROR = 2
    INTERRUPTED = 130
