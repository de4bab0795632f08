"""`tinynet report MODEL -o report.html`: the model on one self-contained HTML page."""

import os
import shlex
import sys
import tempfile

from .. import cortex_m, pipeline, report
from ..analysis import summary
from ..emit import write_atomically
from ..errors import ModelError, TinynetError
from ..safe_text import escape
from .bench_cmd import input_file, per_layer_instructions
from .convert_cmd import default_namespace, header_for

NAME = "report"
HELP = "write one self-contained HTML page: summary, arena plan picture, per-layer cost, --eval audit"
DESCRIPTION = """Writes one HTML file (no script, no network access, no external file or font; inline
SVG) showing the model summary (ops, shapes, MACs, weight bytes, flash and arena figures, the source
hash); the arena plan as a picture (each buffer a rectangle from the op that writes it to the last
that reads it, at its offset; a legend names every tensor); per-layer bars of MACs and weight bytes,
and with --target the instructions of every layer measured under QEMU as `bench --per-layer` counts
them; with --eval the accuracy per class, and per group when the file has an array 'group',
of the model as read, int8 and pruned int8, flagging what loses clearly more than the average.
The arena picture is the compiler's plan: the header is compiled on the host (g++, or CXX /
TINYNET_CXX) with a small program that prints Network::arena_plan, so it is the plan the device
uses (built for the --optimize goal, which the automatic sparse forms follow). The compression
flags are convert's."""
EPILOG = """examples:
  tinynet report kws_ref_model.tflite -o kws.html
  tinynet report kws_ref_model.tflite -o kws.html --target cortex-m4
  tinynet report digits_mlp.pkl --quantize calib.npz --prune-synapses 0.5 --eval test.npz -o digits.html"""

TARGETS = tuple(cortex_m.CPUS)


def add_arguments(parser):
    pipeline.add_model_argument(parser)
    parser.add_argument("-o", "--output", required=True, metavar="OUT.html", help="the page to write")
    parser.add_argument("--target", choices=TARGETS,
                        help="also measure the instructions of every layer on this Cortex-M (QEMU; "
                             "as `bench --per-layer`, a few seconds to minutes)")
    pipeline.add_optimize_argument(parser)
    pipeline.add_compression_arguments(parser)


def run(args):
    namespace = default_namespace(args.model)
    prepared, text = header_for(args, namespace)
    model = prepared.model
    info = summary(model, pipeline.build_of(args))
    info["model"] = os.path.basename(model.path)
    optimize = pipeline.OPTIMIZE_FLAGS[args.optimize]
    plan = report.compiled_arena_plan(text, namespace, optimize=optimize)
    layers = stack = None
    if args.target:
        if len(model.inputs) != 1:
            raise ModelError(args.model, f"--target measures models with one input; this one has {len(model.inputs)}")
        missing = cortex_m.available(args.target)
        if missing:
            raise TinynetError(None, f"cannot measure on {args.target}: {missing}")
        with tempfile.TemporaryDirectory(prefix="tinynet-report-") as work:
            measured = per_layer_instructions(text, namespace, model, input_file(model, None, work), args.target,
                                              info, optimize)
            layers, stack = measured["layers"], measured["stack_bytes"]
    command = "tinynet report " + " ".join(shlex.quote(a) for a in _argv_tail())
    page = report.render(info, plan, model, layers, prepared.evaluation, args.target, command, stack)
    write_atomically(args.output, page)
    for note in prepared.notes:
        print(escape(note, limit=None, keep_unicode=True))
    pipeline.report_evaluation(prepared, args)
    print(f"wrote {args.output}: arena {plan['arena_bytes']:,} B in {len(report.buffers(plan))} buffers, "
          f"{len(info['layers'])} layers" + (f", instructions per layer on {args.target}" if layers else "")
          + (", compression audit" if prepared.evaluation is not None else ""))
    return 0


def _argv_tail():
    """The arguments after 'report' as typed (file names only: no build machine's folders)."""
    argv = sys.argv[1:]
    tail = argv[argv.index("report") + 1:] if "report" in argv else argv
    return [os.path.basename(a) if os.path.sep in a else a for a in tail]
