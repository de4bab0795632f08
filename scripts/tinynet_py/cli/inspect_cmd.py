"""`tinynet inspect MODEL`: the model's layers, their cost, and memory estimates."""

import json

import textwrap

from .. import analysis
from ..reference import Interpreter
from .. import pipeline
from ..onnx_import.translators import supported_onnx_ops_text
from ..safe_text import escape

NAME = "inspect"
HELP = "show a model's layers, MACs, weight and activation bytes, flash and arena estimates"
DESCRIPTION = """Reads a model (a TFLite flatbuffer, int8 or float32; a float32 ONNX file; a pickled
scikit-learn MLP), checks that tinynet supports every op, and prints one
row per layer (op, input and output shapes, key parameters, multiply-accumulates, weight
bytes, output activation bytes, "arena B": what the output adds to the arena, 0 when it
shares another tensor's bytes; for a stateful model, the state tensors an op keeps across
invokes, marked "state:" among its inputs, and their bytes once, in "state B") and totals:
weights (a tensor several layers share counted once), a flash estimate (constant tensors plus
the per-channel requantization tables: no code, and on DSP cores the int8 convolutions' weights
take up to twice as much, widened for their kernels; `tinynet bench` measures the image) and an
arena estimate: the plan the compiler makes
(docs/design.md, "The arena plan": greedy 16-byte aligned placement by lifetime, RESHAPE outputs
and contiguous SPLIT/UNPACK/STRIDED_SLICE outputs sharing their input's bytes, PACK inputs
written into the output, in-place layers over their inputs), computed without a compiler. It is
the same for builds for speed (-O2) and, with --optimize size, for size (-Os, as Arduino cores
build): the forms the automatic rule picks for a pruned depthwise layer (dense, unrolled) both
run in place (docs/sparsity.md). The stack invoke() takes comes on top of the arena (patches,
row rings, a sparse pass's packed inputs); `tinynet bench --target cortex-m*` measures it.
For an ONNX model, a rank-4 input or output says both its
layouts: "layout:  input 'x': ONNX NCHW [1,3,8,8], C++ NHWC [1,8,8,3]".

{onnx_ops}
"""
DESCRIPTION = DESCRIPTION.format(onnx_ops=textwrap.fill(
    f"ONNX operators read: {supported_onnx_ops_text()}.", width=90, subsequent_indent="  ",
    break_on_hyphens=False))
# RAM is the arena plus the stack invoke() takes: kernels keep patches, rings and sparse passes'
# packed inputs there (bounded by the library, e.g. TINYNET_PASS_STACK_BYTES). Only a build
# measures it.
STACK_NOTE = ("stack:                  not in the arena: `tinynet bench MODEL --target cortex-m4` "
              "(or your core) measures it")
EPILOG = """example:
  tinynet inspect ../shared/models/mlperf-tiny/kws_ref_model.tflite
  tinynet inspect kws_ref_model.tflite --json > kws.json"""


def add_arguments(parser):
    pipeline.add_model_argument(parser)
    parser.add_argument("--json", action="store_true",
                        help="print the same information as one JSON object")
    pipeline.add_optimize_argument(parser)
    pipeline.add_compression_arguments(parser)


def run(args):
    prepared = pipeline.prepare(args)
    model = prepared.model
    Interpreter(model)           # runs every op's prepare: refuses what TFLM would refuse
    info = analysis.summary(model, pipeline.build_of(args))
    if args.json:
        if prepared.evaluation is not None:
            info["eval"] = prepared.evaluation
        info["notes"] = prepared.notes
        info["warnings"] = prepared.warnings
        print(json.dumps(info, indent=1))
        return 0
    for note in prepared.notes:
        print(escape(note, limit=None, keep_unicode=True))
    print(format_table(info))
    pipeline.report_evaluation(prepared, args)
    return 0


def _goal_suffix(info):
    """' built for size (-Os)' where --optimize size was given (the arena is the same either way)."""
    return " built for size (-Os)" if info.get("build", {}).get("optimize", "speed") == "size" else ""


def _shapes(shapes):
    return ", ".join("x".join(str(d) for d in s) or "scalar" for s in shapes)


def format_table(info):
    sparse = any(r.get("weight_density", 1.0) < 1.0 for r in info["layers"])
    stateful = info["totals"]["state_bytes"] > 0
    header = (("#", "op", "input", "output", "params", "MACs", "weights B", "act B", "arena B")
              + (("state B",) if stateful else ()) + (("non-zero",) if sparse else ()))
    rows = [header]
    for r in info["layers"]:
        inputs = _shapes(r["inputs"]) + "".join(f", state: {_shapes([s])}" for s in r["state"])
        row = (str(r["index"]), r["op"], inputs, _shapes([r["output"]]),
               r["params"], f"{r['macs']:,}", f"{r['weight_bytes']:,}", f"{r['activation_bytes']:,}",
               f"{r['arena_bytes']:,}")
        if stateful:
            row += (f"{r['state_bytes']:,}" if r["state_bytes"] else "",)
        if sparse:
            row += (f"{100 * r['weight_density']:.0f}%" if r["macs"] else "",)
        rows.append(row)
    widths = [max(len(row[c]) for row in rows) for c in range(len(header))]
    right = {0} | set(range(5, len(header)))
    lines = []
    for n, row in enumerate(rows):
        cells = [cell.rjust(w) if c in right else cell.ljust(w)
                 for c, (cell, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    t = info["totals"]
    io = lambda ts: "; ".join(
        f"{escape(x['name'], keep_unicode=True)} {'x'.join(map(str, x['shape']))} {x['dtype']}"
        + (f" (scale {x['scale']:g}, zero point {x['zero_point']})" if x["scale"] else "")
        for x in ts)
    lines[:0] = [f"model:   {escape(info['model'], limit=None, keep_unicode=True)}", f"sha256:  {info['sha256']}",
                 f"inputs:  {io(info['inputs'])}", f"outputs: {io(info['outputs'])}"] + \
        [f"layout:  {line}" for line in info.get("layouts", [])] + [""]
    lines += [
        "",
        f"ops:                    {t['ops']}",
        f"MACs:                   {t['macs']:,}"
        + (f" ({t['nonzero_macs']:,} with non-zero weights)" if sparse else ""),
        f"weights + biases:       {t['weight_bytes']:,} B",
        f"flash estimate:         {t['flash_estimate_bytes']:,} B "
        f"(constants {t['constant_bytes']:,} + requantization tables {t['requant_table_bytes']:,})",
    ] + ([" " * 24 + line for line in textwrap.wrap(f"({analysis.FLASH_ESTIMATE_NOTE})", 76)]
         if t["flash_estimate_widened_on_dsp"] else []) + [
        f"arena estimate:         {t['arena_estimate_bytes']:,} B "
        f"(peak live activations {t['peak_live_activation_bytes']:,} B"
        + (f", of which state kept across invokes {t['state_bytes']:,} B" if stateful else "") + ")"
        + _goal_suffix(info),
        STACK_NOTE,
    ]
    return "\n".join(lines)
