"""`tinynet` entry point: argument parsing, subcommand dispatch and error reporting.

To add a subcommand, write a module in this package with NAME, HELP, DESCRIPTION,
add_arguments(parser) and run(args) -> exit status, and list it in COMMANDS.
Errors are reported as one line, `tinynet: error: <file>: <message>`, never a traceback:
exit status 2 for a bad or unsupported model (ModelError) and for usage errors (UsageError,
argparse), 1 for
any other failure.
"""

import argparse
import sys

from .. import __version__
from ..errors import ModelError, TinynetError, UsageError
from ..safe_text import escape
from . import bench_cmd, convert_cmd, inspect_cmd, report_cmd, run_cmd, verify_cmd

COMMANDS = [convert_cmd, run_cmd, inspect_cmd, bench_cmd, verify_cmd, report_cmd]

EPILOG = """examples:
  tinynet convert model.tflite -o model.hpp --name model
  tinynet run model.tflite --input in.bin --output out.bin [--target cortex-m4]
  tinynet inspect model.tflite
  tinynet bench model.tflite --target cortex-m4 [--json]
  tinynet inspect model.tflite --json
  tinynet verify model.tflite --golden golden/model/
  tinynet report model.tflite -o report.html [--target cortex-m4] [--eval test.npz]
  tinynet convert mlp.pkl --quantize calib.npz --prune-synapses 0.5 --eval test.npz -o mlp.hpp
  tinynet bench model.onnx --quantize calib.npz --sparse unrolled --target cortex-m7

Models: .tflite (int8 or float32), .onnx (float32), .pkl (scikit-learn MLPClassifier/MLPRegressor).
Float models run as float, or as int8 with --quantize; see docs/compression.md.
Model files are data, never code: pickles are read by a restricted unpickler (only the classes of a
fitted MLP; anything else is refused with exit status 2), model names reach the header only escaped
inside comments, ONNX external data needs --allow-external-data (docs/reliability.md, Security).
Exit status: 0 success, 1 other failure (tool missing, I/O, build), 2 bad or unsupported model
or usage error, 130 interrupted; errors are one line on stderr (docs/reliability.md).

Run 'tinynet COMMAND --help' for the options of one command."""


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line too (and still exit with status 2)."""

    def error(self, message):
        sys.stderr.write(f"tinynet: error: {message} (see '{self.prog} --help')\n")
        sys.exit(2)


def build_parser():
    parser = _Parser(
        prog="tinynet",
        description="tinynet turns a trained model into C++ types for microcontrollers: int8 "
                    ".tflite models bit-exact with TensorFlow Lite Micro, float models quantized "
                    "and pruned on the way.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"tinynet {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in COMMANDS:
        sub = subparsers.add_parser(
            command.NAME, help=command.HELP, description=command.DESCRIPTION,
            epilog=getattr(command, "EPILOG", None),
            formatter_class=argparse.RawDescriptionHelpFormatter)
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.run(args)
    except (ModelError, UsageError) as e:
        _report(e)
        return 2
    except TinynetError as e:
        _report(e)
        return 1
    except KeyboardInterrupt:
        _report("interrupted")
        return 130
    except BrokenPipeError:
        return 1
    except Exception as e:  # a bug in tinynet: still one line, but say so
        _report(f"internal error ({type(e).__name__}: {e}); please report it")
        return 1


def _report(message):
    # one line, and nothing from a model file reaches the terminal raw (control characters, escapes)
    text = escape(" ".join(str(message).split()), limit=2000, keep_unicode=True)
    sys.stderr.write(f"tinynet: error: {text}\n")
