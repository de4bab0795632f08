#!/usr/bin/python3
"""Per-layer instruction floors on Cortex-M4 beside the measured instructions (issue 14).

For every layer of kws, vww, resnet and ad01: the instructions it cannot go below on a Cortex-M4
under the assumptions below, from its shapes (the generator's model reader, tinynet_py.tflite),
next to what `scripts/tinynet bench MODEL --target cortex-m4 --per-layer --json` measures; then
the model totals against issue 14's instruction targets and the best MLPerf Tiny Cortex-M4
cycle counts.

The floor of a layer (instructions; every assumption is optimistic, so the true floor is higher):
  * Multiply-accumulates: SMLAD does two per instruction, so MACs / 2.
  * Conv2D / FullyConnected operands: the best register block of R output channels x P output
    pixels (R*P accumulators, P input operands held, a weight word and its second half, two
    pointers: R*P + P + 4 <= 14 registers). Each step of two MACs along the reduction needs R
    weight and P input operands (halfword pairs); int8 data gives two per word with one LDR and
    two SXTB16, so 0.75 instructions per operand. Total: MACs / 2 * 0.75 * (R + P) / (R * P).
  * DepthwiseConv2D: SMLAD's two products must belong to one channel, i.e. two taps: the input
    pairs (x[t][c], x[t+1][c]) are not adjacent in NHWC and take one PKHBT/PKHTB each, shared by
    two neighbouring output pixels at best: + MACs / 4. Operands: every input word loaded and
    split by SXTB16 at least once per kernel row that reads it (0.75 per two input elements x
    kernel height / stride), weights (pre-paired at compile time) one load per SMLAD of a block
    of four pixels: + MACs / 8.
  * Requantization, per output: SMMLAR, the sign correction, the shift, SSAT and one store or
    packing instruction (zero point folded into the rounding constant, the doubling into the
    multiply): 5 instructions. The folded bias: one load per output channel per block (ignored).
  * Zero weights cost nothing: MACs are counted for the non-zero weights only (the sparse forms
    of core/sparsity.hpp skip the others; vww's last 1x1 convolutions are ~90 % zeros).
  * ADD: one load per four bytes of each input, then per output the two inputs' rescaling (one
    multiply each), the sum, and the output's requantization as above: 7.
  * AVERAGE_POOL_2D: per input element a quarter load and half an add (SXTAB16 adds two), per
    output a requantization (5).
  * Other ops (SOFTMAX, RESHAPE): one load per four input bytes and one instruction per output.
  * Loops, calls and address arithmetic: none (fully unrolled, every address a constant).
  * LDM/LDRD would load several words with one instruction but cost a cycle per word: the
    loads above are floors on cycles (what the MLPerf records measure); on instructions only
    for code that loads word by word, as tinynet's and CMSIS-NN's inner loops do.

  bench/floor.py                 measure (bench --per-layer), save bench/floor_results.json, print
  bench/floor.py --markdown      the tables from the saved results
  bench/floor.py --write-docs    rewrite the "Floors" tables of docs/performance.md
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

from docs_blocks import replace_block  # noqa: E402
from tinynet_py.analysis import _residual_fusable  # noqa: E402
from tinynet_py.tflite import load_model  # noqa: E402
from tinynet_py import prune  # noqa: E402

SHARED = pathlib.Path(os.environ.get("TINYNET_SHARED", ROOT.parent / "shared"))
MODELS = {"kws": "kws_ref_model", "vww": "vww_96_int8", "resnet": "pretrainedResnet_quant", "ad01": "ad01_int8"}
# Issue 14's instruction targets and the best closed-division MLPerf Tiny Cortex-M4 cycles
# (../shared/anchors.md: latency x 120 MHz).
TARGETS = {"kws": 3_850_000, "vww": 8_500_000, "resnet": 14_900_000, "ad01": 390_000}
MLPERF_CYCLES = {"kws": 5_180_000, "vww": 10_700_000, "resnet": 19_800_000, "ad01": 490_000}
REGISTERS = 14
REQUANTIZE = 5


def best_block(out_c, pixels):
    """(R, P, operand instructions per SMLAD) of the cheapest feasible register block."""
    best = None
    for r in range(1, out_c + 1):
        for p in range(1, pixels + 1):
            if r * p + p + 4 > REGISTERS:
                continue
            cost = 0.75 * (r + p) / (r * p)
            if best is None or cost < best[2]:
                best = (r, p, cost)
    return best


def nonzero_fraction(model, op):
    """The share of the op's weights that are not zero (sparse forms skip the others)."""
    weights = model.tensors[op.inputs[1]].data
    return float((weights != 0).sum()) / weights.size


def layer_floor(model, op, macs):
    """(floor instructions, note) of one op."""
    out = model.tensors[op.outputs[0]]
    inp = model.tensors[op.inputs[0]]
    outputs = out.num_elements
    if macs:
        dense = nonzero_fraction(model, op)
        macs = macs * dense
    if op.opcode in ("CONV_2D", "FULLY_CONNECTED"):
        out_c = out.shape[-1]
        pixels = outputs // out_c
        r, p, per_smlad = best_block(out_c, pixels)
        floor = macs / 2 + macs / 2 * per_smlad + REQUANTIZE * outputs
        return floor, f"block {r}x{p}" + (f", {dense:.0%} non-zero" if dense < 0.95 else "")
    if op.opcode == "DEPTHWISE_CONV_2D":
        k_h = model.tensors[op.inputs[1]].shape[1]
        stride_h = op.options.get("stride_h", 1)
        input_words = inp.num_elements / 2 * max(1.0, k_h / stride_h)
        floor = macs / 2 + macs / 4 + 0.75 * input_words + macs / 8 + REQUANTIZE * outputs
        return floor, "PKH pairs" + (f", {dense:.0%} non-zero" if dense < 0.95 else "")
    if op.opcode == "ADD":
        return 2 * inp.nbytes / 4 + 7 * outputs, "rescale"
    if op.opcode == "AVERAGE_POOL_2D":
        return 0.75 * inp.num_elements + REQUANTIZE * outputs, "sum"
    return inp.nbytes / 4 + outputs, "loads"


def measure(name):
    path = SHARED / "models" / "mlperf-tiny" / f"{MODELS[name]}.tflite"
    done = subprocess.run([str(ROOT / "scripts" / "tinynet"), "bench", str(path), "--target", "cortex-m4",
                           "--per-layer", "--json"], capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        print(f"floor.py: error: tinynet bench {path.name} failed: {last}", file=sys.stderr)
        sys.exit(1)
    figures = json.loads(done.stdout)
    rows = [{k: layer[k] for k in ("index", "op", "output", "macs", "instructions")} for layer in figures["layers"]]
    return {"name": name, "instructions": figures["instructions"], "cycles_estimate": figures.get("cycles_estimate"),
            "layers": rows}


def with_floors(result):
    """The saved measurement of one model with each layer's floor and note added."""
    path = SHARED / "models" / "mlperf-tiny" / f"{MODELS[result['name']]}.tflite"
    model = prune.drop_unread_channels(load_model(str(path)))[0]     # as `tinynet bench` runs it
    name = result["name"]
    if len(result["layers"]) != len(model.ops):
        raise SystemExit(f"floor.py: error: {name}: {len(result['layers'])} measured layers, {len(model.ops)} ops")
    for layer, op in zip(result["layers"], model.ops):
        if layer["op"] != op.opcode:
            raise SystemExit(f"floor.py: error: {name}: layer {layer['index']} is {layer['op']}, op is {op.opcode}")
        floor, note = layer_floor(model, op, layer["macs"])
        layer["floor"], layer["note"] = round(floor), note
    # A residual block run fused (layers/conv/residual_rows.hpp) is measured as its first layer:
    # its two later layers then report only their call (a few instructions). Their floors join
    # the first layer's, so that measured and floor compare the same work.
    layers = result["layers"]
    for k, layer in enumerate(layers):
        if k + 2 < len(layers) and _residual_fusable(model, k) is not None and \
                all(later["instructions"] < 100 for later in layers[k + 1:k + 3]):
            for later in layers[k + 1:k + 3]:
                layer["floor"] += later["floor"]
                later["fused_into"] = layer["index"]
            layer["note"] += f"; fused block {layer['index']}-{layer['index'] + 2} (the floors of all three)"
    return result


def markdown(results):
    results = [with_floors(r) for r in results]
    lines = ["| model | instructions (measured) | floor | measured / floor | issue 14 target | target / floor "
             "| MLPerf Tiny best M4 (cycles) | record / floor | target reachable in principle? |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        floor = sum(l["floor"] for l in r["layers"])
        target = TARGETS[r["name"]]
        verdict = ("yes" if target >= floor else "no") + f" (the floor is {floor / target:.2f}x the target)"
        lines.append(f"| {MODELS[r['name']]} | {r['instructions']:,} | {floor:,} | {r['instructions'] / floor:.2f}x "
                     f"| {target:,} | {target / floor:.2f}x | {MLPERF_CYCLES[r['name']]:,} "
                     f"| {MLPERF_CYCLES[r['name']] / floor:.2f}x | {verdict} |")
    lines.append("")
    for r in results:
        lines.append(f"**{MODELS[r['name']]}** (layers with MACs; the others: "
                     f"{sum(l['instructions'] for l in r['layers'] if not l['macs'] and 'fused_into' not in l):,} measured, "
                     f"{sum(l['floor'] for l in r['layers'] if not l['macs'] and 'fused_into' not in l):,} floor)")
        lines.append("")
        lines.append("| # | op | output | MACs | measured | floor | measured / floor | floor per MAC | block |")
        lines.append("|---|---|---|---|---|---|---|---|---|")
        for l in r["layers"]:
            if not l["macs"]:
                continue
            shape = "x".join(str(d) for d in l["output"])
            if "fused_into" in l:
                lines.append(f"| {l['index']} | {l['op']} | {shape} | {l['macs']:,} | in layer {l['fused_into']} "
                             f"| in layer {l['fused_into']} | | | {l['note']} |")
                continue
            macs = l["macs"] + sum(m["macs"] for m in r["layers"] if m.get("fused_into") == l["index"])
            lines.append(f"| {l['index']} | {l['op']} | {shape} | {l['macs']:,} | {l['instructions']:,} | {l['floor']:,} "
                         f"| {l['instructions'] / l['floor']:.2f}x | {l['floor'] / macs:.2f} | {l['note']} |")
        lines.append("")
    return "\n".join(lines).rstrip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("-o", "--output", default=str(ROOT / "bench" / "floor_results.json"))
    parser.add_argument("--markdown", action="store_true", help="print the saved results as Markdown tables")
    parser.add_argument("--write-docs", action="store_true", help="rewrite the Floors tables of docs/performance.md")
    args = parser.parse_args()
    if args.markdown or args.write_docs:
        results = json.load(open(args.output))
        results.sort(key=lambda r: list(MODELS).index(r["name"]))
        if args.markdown:
            print(markdown(results))
        else:
            replace_block(ROOT / "docs" / "performance.md", "floor-table", markdown(results))
        return
    results = json.load(open(args.output)) if os.path.exists(args.output) else []
    for name in args.models:
        figures = measure(name)
        results = [r for r in results if r["name"] != name] + [figures]
        results.sort(key=lambda r: list(MODELS).index(r["name"]))
        with open(args.output, "w") as f:
            json.dump(results, f, indent=1)
    print(markdown(results))


if __name__ == "__main__":
    main()
