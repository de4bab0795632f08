#!/usr/bin/python3
"""Accuracy cost of each pruning pattern on the digits CNN (the model here with labelled data).

The digits example's CNN (examples/digits/train.py: conv 3x3x8, pool, conv 3x3x16, pool, fully
connected 10; trained and split into calibration and test images by that script, seeded) is
converted with each pruning below, with 8-bit and with 4-bit weights, and its accuracy on the 397
held-out images is read from the generator's own audit: one `scripts/tinynet inspect MODEL
--quantize calib.npz --eval test.npz --json [--weight-bits 4] PRUNING` per row, whose `eval`
gives the float model's accuracy, the quantized model's (int8, or int8 activations with 4-bit
weights) and the pruned quantized model's (pruned in float, then quantized as the row says).
The non-zero weights are counted by the same prune.py functions the generator calls.

Patterns: unstructured (`--prune-synapses F`), `blockK` (whole K-wide input-channel blocks) at
50/75/90 %, and N:M at the fraction it fixes (`--prune-pattern N:M` zeroes 1 - N/M; a group
shorter than M keeps min(length, N), so 1:10 over 8 input channels zeroes 7 of 8).

  bench/prune_accuracy.py                  measure every row (about 1 minute), save the JSON
  bench/prune_accuracy.py --markdown       print the table from the saved results
  bench/prune_accuracy.py --write-docs     rewrite the table in docs/sparsity.md and the headline in README.md
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

from docs_blocks import replace_block  # noqa: E402
from tinynet_py import prune  # noqa: E402
from tinynet_py.tflite import load_model  # noqa: E402

PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
FRACTIONS = (0.5, 0.75, 0.9)
# (pattern, fraction): pattern None is unstructured --prune-synapses.
ROWS = ([(None, f) for f in FRACTIONS] + [(f"block{k}", f) for k in (2, 4, 8) for f in FRACTIONS]
        + [("2:4", 0.5), ("1:2", 0.5), ("4:8", 0.5), ("1:4", 0.75), ("2:8", 0.75), ("1:8", 0.875), ("1:10", 0.9)])
BITS = (8, 4)


def train(folder):
    subprocess.run([PYTHON, str(ROOT / "examples" / "digits" / "train.py"), folder], check=True,
                   capture_output=True, text=True)
    return {name: os.path.join(folder, name) for name in ("digits_cnn.tflite", "calib.npz", "test.npz")}


def pruning_flags(pattern, fraction):
    if pattern is None:
        return ["--prune-synapses", f"{fraction:g}"]
    if pattern.startswith("block"):
        return ["--prune-pattern", pattern, "--prune-synapses", f"{fraction:g}"]
    return ["--prune-pattern", pattern]


def pruned_density(model_path, pattern, fraction):
    """Non-zero weights / weights of the pruned float model (the weighted layers)."""
    model = load_model(model_path)
    if pattern is None:
        _, rows = prune.prune_synapses(model, fraction, "layer")
    else:
        _, rows = prune.prune_pattern(model, fraction, pattern)
    return sum(r["nonzero_after"] for r in rows), sum(r["weights"] for r in rows)


def measure(files, pattern, fraction, bits):
    cmd = [str(ROOT / "scripts" / "tinynet"), "inspect", files["digits_cnn.tflite"], "--quantize", files["calib.npz"],
           "--eval", files["test.npz"], "--json", "--weight-bits", str(bits)] + pruning_flags(pattern, fraction)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {proc.stderr.strip()[-500:]}")
    variants = {v["name"]: v["accuracy"] for v in json.loads(proc.stdout)["eval"]["variants"]}
    nonzero, weights = pruned_density(files["digits_cnn.tflite"], pattern, fraction)
    return {"pattern": pattern or "unstructured", "fraction": fraction, "bits": bits,
            "nonzero": nonzero, "weights": weights, "float": variants["float"],
            "quantized": variants["int8" if bits == 8 else "int8-w4"], "pruned": variants["pruned-int8"]}


def markdown(results):
    lines = ["| pruned | pattern | weights zeroed (non-zero of all) | float | int8, unpruned | int8 pruned (vs unpruned) "
             "| 4-bit weights, unpruned | 4-bit pruned (vs unpruned) |",
             "|---|---|---|---|---|---|---|---|"]
    rows = {(r["pattern"], r["fraction"], r["bits"]): r for r in results}
    seen = []
    for r in sorted(results, key=lambda r: r["fraction"]):   # stable: the patterns in ROWS order
        key = (r["pattern"], r["fraction"])
        if key in seen:
            continue
        seen.append(key)
        r8, r4 = rows.get(key + (8,)), rows.get(key + (4,))
        base = r8 or r4

        def cells(r):
            if r is None:
                return "| | "
            drop = 100 * (r["pruned"] - r["quantized"])
            return f"| {100 * r['quantized']:.1f} % | {100 * r['pruned']:.1f} % ({drop:+.1f}) "
        zeroed = 1 - base["nonzero"] / base["weights"]
        lines.append(f"| {100 * base['fraction']:g} % | {base['pattern']} | {100 * zeroed:.1f} % ({base['nonzero']:,} of {base['weights']:,}) "
                     f"| {100 * base['float']:.1f} % {cells(r8)}{cells(r4)}|")
    return "\n".join(lines)


def headline(results):
    """The README's sentence: the best pattern at each fraction, int8 and 4-bit."""
    by = {}
    for r in results:
        if r["fraction"] in FRACTIONS:
            by.setdefault((r["fraction"], r["bits"]), []).append(r)
    parts = []
    for fraction in FRACTIONS:
        rows = by.get((fraction, 8), [])
        if not rows:
            continue
        best, worst = max(rows, key=lambda r: r["pruned"]), min(rows, key=lambda r: r["pruned"])
        four = max(by.get((fraction, 4), []), key=lambda r: r["pruned"], default=None)
        text = (f"at {100 * fraction:g} % pruned, {100 * best['pruned']:.1f} % with {best['pattern']} (the worst pattern, "
                f"{worst['pattern']}: {100 * worst['pruned']:.1f} %)")
        if four:
            text += f", with 4-bit weights {100 * four['pruned']:.1f} % ({four['pattern']})"
        parts.append(text)
    base = next((r for r in results if r["bits"] == 8), None)
    if base is None:
        return ""
    return (f"Accuracy cost on the digits CNN (397 labelled test images; float {100 * base['float']:.1f} %, "
            f"int8 {100 * base['quantized']:.1f} %; no retraining after pruning): " + "; ".join(parts) + ".")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output", default=str(ROOT / "bench" / "prune_accuracy_results.json"))
    parser.add_argument("--markdown", action="store_true", help="print the saved results as a Markdown table")
    parser.add_argument("--write-docs", action="store_true",
                        help="rewrite the table in docs/sparsity.md and the headline in README.md from the saved results")
    args = parser.parse_args()
    if args.markdown or args.write_docs:
        results = json.load(open(args.output))
        if args.markdown:
            print(markdown(results) + "\n\n" + headline(results))
        else:
            replace_block(ROOT / "docs" / "sparsity.md", "prune-accuracy-table", markdown(results))
            replace_block(ROOT / "README.md", "prune-accuracy", headline(results))
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="tinynet-digits-") as folder:
        files = train(folder)
        for pattern, fraction in ROWS:
            for bits in BITS:
                row = measure(files, pattern, fraction, bits)
                results.append(row)
                print(json.dumps(row), flush=True)
    with open(args.output, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
