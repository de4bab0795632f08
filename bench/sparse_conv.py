#!/usr/bin/python3
"""Sparse convolution benchmarks on Cortex-M4 (QEMU): whole CNNs pruned, each kernel form.

Each row is `scripts/tinynet bench MODEL --target cortex-m4 --json --sparse FORM` with a pruning
(`--prune-synapses F`, or `--prune-pattern N:M`): instructions of the second inference, flash
(text + data minus the harness), compile time and compiler peak memory (as `tinynet bench`
reports them: wall time and max RSS of arm-none-eabi-g++), its weight_bytes (`network::weight_bytes`
as compiled for the Cortex-M4: what the layers store there, weights or compressed tables, folded
biases, output stages; the unrolled form's weights are code, counted in flash only) and the
non-zero weights. Ratios are against the
unpruned model's dense build.

  bench/sparse_conv.py [--rows kws vww ...] [--only 0.8:auto ...] [-o bench/sparse_conv_results.json]
  bench/sparse_conv.py --markdown       the table of docs/sparsity.md (and the README) from the saved results
  bench/sparse_conv.py --write-docs     rewrite those tables in docs/sparsity.md and README.md

The rows of `--rows kws-size` are built with -Os (`tinynet bench --optimize size`, as Arduino
cores build), where the automatic form unrolls only depthwise layers whose code is smaller so
(core/sparsity.hpp): their own table, with ratios against the unpruned model's dense build at
-Os.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

from docs_blocks import replace_block  # noqa: E402
from sparse_fc import TIMEOUT, commit, measured_at  # noqa: E402
from tinynet_py import prune  # noqa: E402
from tinynet_py.tflite import load_model  # noqa: E402

SHARED = pathlib.Path(os.environ.get("TINYNET_SHARED", ROOT.parent / "shared"))
MODELS = {"kws": SHARED / "models" / "mlperf-tiny" / "kws_ref_model.tflite",
          "vww": SHARED / "models" / "mlperf-tiny" / "vww_96_int8.tflite"}
CPU = "cortex-m4"
# (model, pruning, form); pruning "" is the model as is, "0.8" --prune-synapses 0.8, "2:4" --prune-pattern 2:4;
# form as --sparse takes it (nm: the N:M pattern's own kernel, layers/dense/nm_rows.hpp).
ROWS = {
    "kws": [("kws", "", "dense"), ("kws", "", "auto"),
            ("kws", "0.8", "unrolled"), ("kws", "0.8", "compressed"), ("kws", "0.8", "auto"),
            ("kws", "2:4", "unrolled"), ("kws", "2:4", "compressed"), ("kws", "2:4", "nm"), ("kws", "2:4", "auto"),
            ("kws", "1:4", "unrolled"), ("kws", "1:4", "nm"), ("kws", "1:4", "auto")],
    "vww": [("vww", "", "dense"), ("vww", "", "auto"), ("vww", "0.8", "compressed"), ("vww", "0.8", "auto")],
    # (model, pruning, form, optimize): built with -Os.
    "kws-size": [("kws", "", "dense", "size"), ("kws", "0.8", "dense", "size"), ("kws", "0.8", "unrolled", "size"),
                 ("kws", "0.8", "compressed", "size"), ("kws", "0.8", "auto", "size")],
}


def row_key(row):
    """(model, pruning, form, optimize) of a ROWS entry or a saved result."""
    if isinstance(row, dict):
        return row["name"], row["pruning"], row["form"], row.get("optimize", "speed")
    return tuple(row) if len(row) == 4 else (*row, "speed")


def is_pattern(pruning):
    """A --prune-pattern (2:4, block4), not a --prune-synapses fraction."""
    return ":" in pruning or pruning.startswith("block")


def pruning_flags(pruning):
    if not pruning:
        return []
    return ["--prune-pattern", pruning] if is_pattern(pruning) else ["--prune-synapses", pruning]


def pruned_model(name, pruning):
    """The model as `tinynet bench` builds it with these flags (pipeline.prepare's steps)."""
    model = load_model(str(MODELS[name]))
    pattern = pruning if pruning and is_pattern(pruning) else None
    if pattern:
        model = prune.prune_pattern(model, 0.0, pattern)[0]
    elif pruning:
        model = prune.prune_synapses(model, float(pruning), "layer")[0]
    return prune.drop_unread_channels(model, prune.pattern_span(pattern))[0]


def nonzeros(model):
    return int(sum(np.count_nonzero(model.tensors[op.inputs[1]].data) for op in model.ops
                   if op.opcode in prune.WEIGHTED))


def bench_row(name, pruning, form, optimize="speed"):
    cmd = [str(ROOT / "scripts" / "tinynet"), "bench", str(MODELS[name]), "--target", CPU, "--json",
           "--sparse", form, "--optimize", optimize] + pruning_flags(pruning)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    model = pruned_model(name, pruning)
    figures.update({"name": name, "pruning": pruning, "form": form, "nonzeros": nonzeros(model),
                    "measured_at": commit()})
    return figures


def markdown(results, optimize="speed"):
    """One table of the rows built for `optimize`: per model, the unpruned dense build first,
    ratios against it."""
    results = [r for r in results if r.get("optimize", "speed") == optimize]
    lines = [measured_at(results), "",
             "| model | pruned | form | non-zeros | instructions (vs dense) | flash (vs dense) "
             "| weight flash (vs dense) | compile s | compiler MB |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        base = next((b for b in results if b["name"] == r["name"] and not b["pruning"] and b["form"] == "dense"), None)
        if "error" in r:
            lines.append(f"| {r['name']} | {r['pruning'] or '-'} | {r['form']} | | {r['error'][:60]} | | | | |")
            continue

        def cell(key):
            return f"{r[key]:,}" + (f" ({r[key] / base[key]:.2f}x)" if base else "")
        pruned = {"": "0%"}.get(r["pruning"], r["pruning"])
        if pruned.replace(".", "").isdigit():
            pruned = f"{float(pruned):.0%}"
        lines.append(f"| {r['name']} | {pruned} | {r['form']} | {r['nonzeros']:,} | {cell('instructions')} "
                     f"| {cell('flash_bytes')} | {cell('weight_bytes')} | {r['compile_seconds']:.1f} "
                     f"| {r['compiler_peak_kib'] / 1024:.0f} |")
    return "\n".join(lines)


# Issue 15's targets: (label, model, pruning, form or None for the best of the forms measured,
# instruction limit, weight-flash limit, a caveat for the verdict, build goal), ratios against
# the unpruned dense build of the same goal.
TARGETS = (("kws, 80 % pruned, auto", "kws", "0.8", "auto", 0.5, 0.5, "", "speed"),
           ("kws, 80 % pruned, auto, built for size (-Os)", "kws", "0.8", "auto", 0.5, 0.5, "", "size"),
           ("vww, 80 % pruned, auto", "vww", "0.8", "auto", 0.5, 0.5,
            ", but on a model that gives one output for every image (docs/sparsity.md)", "speed"),
           ("kws, 2:4, fastest form within the weight flash", "kws", "2:4", None, 0.65, 1.0, "", "speed"))


def targets(results):
    """The targets against the saved rows: measured ratios, met or not. "with code" counts the
    unrolled form's weights, which are instructions: flash minus the dense build's flash other than
    its weights (the runner, kernels, tables other than weights). Where the target leaves the form
    open, the row is the fastest form within the weight-flash bound, or the fastest if none is."""
    lines = ["| target | instructions | weight flash (tables) | weight flash with code | flash | met |",
             "|---|---|---|---|---|---|"]
    every = results
    for label, name, pruning, form, max_instructions, max_weights, caveat, goal in TARGETS:
        results = [r for r in every if r.get("optimize", "speed") == goal]
        base = next((b for b in results if b["name"] == name and not b["pruning"] and b["form"] == "dense"
                     and "error" not in b), None)
        rows = [r for r in results if r["name"] == name and r["pruning"] == pruning and "error" not in r
                and (form is None or r["form"] == form)]
        if not base or not rows:
            lines.append(f"| {label} | not measured | | | |")
            continue
        def weights_with_code(r):
            # At least the tables: where the pruned build drops dense kernels the difference can
            # fall below them (vww 80 %: below zero).
            code = r["flash_bytes"] - (base["flash_bytes"] - base["weight_bytes"])
            return max(code, r["weight_bytes"]) / base["weight_bytes"]
        within = [r for r in rows if weights_with_code(r) <= max_weights]
        r = min(within or rows, key=lambda r: r["instructions"])
        ratio = {k: r[k] / base[k] for k in ("instructions", "weight_bytes", "flash_bytes")}
        with_code = weights_with_code(r)
        met_instructions = ratio["instructions"] <= max_instructions
        met_flash = with_code <= max_weights
        verdict = ("yes" if met_instructions and met_flash else
                   "instructions only" if met_instructions else "weight flash only" if met_flash else "no") + caveat
        lines.append(f"| {label} (<= {max_instructions}x instructions, <= {max_weights}x weight flash) "
                     f"| {ratio['instructions']:.2f}x ({r['form']}) | {ratio['weight_bytes']:.2f}x | {with_code:.2f}x "
                     f"| {ratio['flash_bytes']:.2f}x | {verdict} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", nargs="+", choices=sorted(ROWS), default=sorted(ROWS))
    parser.add_argument("--only", nargs="+", metavar="PRUNING:FORM",
                        help="measure only these rows of the chosen models, e.g. 0.8:compressed (pruning '' = unpruned)")
    parser.add_argument("-o", "--output", default=str(ROOT / "bench" / "sparse_conv_results.json"),
                        help="JSON file; rows of the same model, pruning and form are replaced")
    parser.add_argument("--markdown", action="store_true", help="print the saved results as a Markdown table")
    parser.add_argument("--write-docs", action="store_true",
                        help="rewrite the sparse-conv tables of docs/sparsity.md and README.md from the saved results")
    args = parser.parse_args()
    if args.markdown or args.write_docs:
        table = markdown(json.load(open(args.output)))
        if args.markdown:
            print(table)
        else:
            results = json.load(open(args.output))
            replace_block(ROOT / "docs" / "sparsity.md", "sparse-conv-table", table + "\n\n" + targets(results))
            replace_block(ROOT / "docs" / "sparsity.md", "sparse-size-table", markdown(results, "size"))
            replace_block(ROOT / "README.md", "sparse-conv-table", table)
        return
    results = json.load(open(args.output)) if os.path.exists(args.output) else []
    order = [row_key(row) for rows in ROWS.values() for row in rows]
    for name in args.rows:
        for row in ROWS[name]:
            key = row_key(row)
            if args.only and f"{key[1]}:{key[2]}" not in args.only:
                continue
            where = {"name": key[0], "pruning": key[1], "form": key[2], **({"optimize": key[3]} if key[3] != "speed" else {})}
            try:
                figures = bench_row(*key)
            except subprocess.TimeoutExpired:
                figures = {**where, "error": f"build or run took over {TIMEOUT} s"}
            except RuntimeError as e:
                figures = {**where, "error": str(e)[-500:]}
            results = [r for r in results if row_key(r) != key] + [figures]
            results.sort(key=lambda r: order.index(row_key(r)) if row_key(r) in order else len(order))
            with open(args.output, "w") as f:
                json.dump(results, f, indent=1)
            print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
