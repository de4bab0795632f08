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


def onnx_missing(detail=None):
    """The one message for a missing `onnx` module, naming the Python that tinynet runs on."""
    import sys
    return (f"reading ONNX models needs the Python package 'onnx', which the Python running tinynet "
            f"({sys.executable}) cannot import" + (f" ({detail})" if detail else "")
            + f": on Debian/Ubuntu 'apt install python3-onnx' (for /usr/bin/python3), otherwise "
              f"'{sys.executable} -m pip install onnx'")


class UsageError(TinynetError):
    """The command line or a data file given on it is wrong (exit status 2)."""


class ModelError(TinynetError):
    """The model file is malformed, or uses something tinynet does not support (exit status 2)."""
