"""`tinynet inspect MODEL`: the model's layers, their cost, and memory estimates."""

import json

from .. import analysis
from ..reference import Interpreter
from ..tflite import load_model

NAME = "inspect"
HELP = "show a model's layers, MACs, weight and activation bytes, flash and arena estimates"
DESCRIPTION = """Reads a TFLite model, checks that tinynet supports every op, and prints one
row per layer (op, input and output shapes, key parameters, multiply-accumulates, weight
bytes, output activation bytes) and totals: a flash estimate (constant tensors plus the
per-channel requantization tables) and an arena estimate (peak of a greedy 16-byte aligned
placement of the activations by lifetime, RESHAPE outputs sharing their input)."""
EPILOG = """example:
  tinynet inspect ../shared/models/mlperf-tiny/kws_ref_model.tflite
  tinynet inspect kws_ref_model.tflite --json > kws.json"""


def add_arguments(parser):
    parser.add_argument("model", metavar="MODEL", help="the .tflite file")
    parser.add_argument("--json", action="store_true",
                        help="print the same information as one JSON object")


def run(args):
    model = load_model(args.model)
    Interpreter(model)           # runs every op's prepare: refuses what TFLM would refuse
    info = analysis.summary(model)
    if args.json:
        print(json.dumps(info, indent=1))
        return 0
    print(format_table(info))
    return 0


def _shapes(shapes):
    return ", ".join("x".join(str(d) for d in s) or "scalar" for s in shapes)


def format_table(info):
    header = ("#", "op", "input", "output", "params", "MACs", "weights B", "act B")
    rows = [header]
    for r in info["layers"]:
        rows.append((str(r["index"]), r["op"], _shapes(r["inputs"]), _shapes([r["output"]]),
                     r["params"], f"{r['macs']:,}", f"{r['weight_bytes']:,}",
                     f"{r['activation_bytes']:,}"))
    widths = [max(len(row[c]) for row in rows) for c in range(len(header))]
    right = {0, 5, 6, 7}
    lines = []
    for n, row in enumerate(rows):
        cells = [cell.rjust(w) if c in right else cell.ljust(w)
                 for c, (cell, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    t = info["totals"]
    io = lambda ts: "; ".join(
        f"{x['name']} {'x'.join(map(str, x['shape']))} {x['dtype']}"
        + (f" (scale {x['scale']:g}, zero point {x['zero_point']})" if x["scale"] else "")
        for x in ts)
    lines[:0] = [f"model:   {info['model']}", f"sha256:  {info['sha256']}",
                 f"inputs:  {io(info['inputs'])}", f"outputs: {io(info['outputs'])}", ""]
    lines += [
        "",
        f"ops:                    {t['ops']}",
        f"MACs:                   {t['macs']:,}",
        f"weights + biases:       {t['weight_bytes']:,} B",
        f"flash estimate:         {t['flash_estimate_bytes']:,} B "
        f"(constants {t['constant_bytes']:,} + requantization tables {t['requant_table_bytes']:,})",
        f"arena estimate:         {t['arena_estimate_bytes']:,} B "
        f"(peak live activations {t['peak_live_activation_bytes']:,} B)",
    ]
    return "\n".join(lines)
