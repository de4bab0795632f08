"""Error types of tinynet's Python side.

Every problem with an input model is a ModelError: its message names the file and
says what is wrong and what is supported, in one line, so that the CLI can print
`tinynet: error: <file>: <message>` and exit with status 2.
"""


class TinynetError(Exception):
    """Base class: any failure that the CLI reports as one line (exit status 1)."""

    def __init__(self, path, detail):
        self.path = str(path) if path is not None else None
        self.detail = detail
        super().__init__(f"{self.path}: {detail}" if self.path else detail)


class ModelError(TinynetError):
    """The model file is malformed, or uses something tinynet does not support (exit status 2)."""
