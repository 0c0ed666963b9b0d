"""The one exception type the CLI turns into a one-line message."""


class ArchiverError(Exception):
    """A failure the user can act on; its message is one line, shown as-is."""
