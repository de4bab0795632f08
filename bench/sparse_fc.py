#!/usr/bin/python3
"""Sparse FullyConnected benchmarks on Cortex-M4 (QEMU): the three kernel forms against dense.

Two sweeps, over the pruned fractions 0, 0.5, 0.75, 0.9, 0.95 (--prune-synapses, per layer):
- layer: ad01_int8's first FULLY_CONNECTED (640 -> 128, fused ReLU) alone, real weights. For
  each form: instructions per inference (second run, QEMU -icount), the layer's weight flash
  (the .rodata objects it adds: weights or compressed tables, folded bias, multipliers), flash
  (text + data minus the harness alone), compile time and compiler peak memory (/usr/bin/time,
  max RSS of arm-none-eabi-g++ and cc1plus) against the number of non-zero weights.
- model: `scripts/tinynet bench ad01_int8.tflite --prune-synapses F --sparse FORM --target
  cortex-m4 --json` for every fraction and form.
Every run's output bytes are checked against the numpy reference interpreter.

  bench/sparse_fc.py [--sweep layer|model|both] [--fractions ...] [--forms ...] [-o bench/sparse_results.json]
  bench/sparse_fc.py --sweep int4      ad01 and kws with 4-bit weights against int8 (see bench_int4)
  bench/sparse_fc.py --sweep neurons   pretrainedResnet_quant with --prune-neurons 0.5 (bench_neurons)
  bench/sparse_fc.py --markdown        the tables of docs/sparsity.md from the saved results
  bench/sparse_fc.py --readme          README.md's sparsity table from the saved model sweep
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

from docs_blocks import replace_block  # noqa: E402
from tinynet_py import cortex_m, prune, runner  # noqa: E402
from tinynet_py.cli.convert_cmd import header_for_model  # noqa: E402
from tinynet_py.reference import Interpreter  # noqa: E402
from tinynet_py.tflite import load_model  # noqa: E402

SHARED = pathlib.Path(os.environ.get("TINYNET_SHARED", ROOT.parent / "shared"))
AD01 = SHARED / "models" / "mlperf-tiny" / "ad01_int8.tflite"
CPU = "cortex-m4"
FRACTIONS = (0.0, 0.5, 0.75, 0.9, 0.95)
FORMS = ("dense", "unrolled", "compressed", "auto")
NAMESPACE = "sparse_fc"
TIMEOUT = 1200  # seconds per build and run; a form that takes longer is recorded as timed out


def first_layer(model):
    """The model cut down to its first op (ad01: FULLY_CONNECTED 640 -> 128, ReLU)."""
    op = model.ops[0]
    model.ops = [op]
    model.outputs = [op.outputs[0]]
    return model


def nonzeros(model):
    return int(sum(np.count_nonzero(model.tensors[op.inputs[1]].data) for op in model.ops
                   if op.opcode == "FULLY_CONNECTED"))


def compile_timed(folder):
    """Builds the Cortex-M runner (targets/cortex-m/run_main.cpp) for the header in `folder` like
    `tinynet bench` does, under /usr/bin/time; returns (elf, seconds, peak KiB)."""
    elf = os.path.join(folder, "runner.elf")
    cmd = cortex_m.build_command([runner.CORTEX_M_RUNNER], elf, CPU, include_dirs=[runner.INCLUDE, folder],
                                 extra_flags=runner.model_defines(NAMESPACE))
    timing = os.path.join(folder, "time.txt")
    proc = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", timing] + cmd, capture_output=True, text=True,
                          timeout=TIMEOUT)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    seconds, kib = open(timing).read().split()[-2:]
    return elf, float(seconds), int(kib)


def rodata_objects(elf):
    """{demangled name: size} of the ELF's read-only data objects."""
    proc = subprocess.run(["arm-none-eabi-nm", "-S", "-C", "--size-sort", elf], capture_output=True, text=True, check=True)
    out = {}
    for line in proc.stdout.splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4 and parts[2] in ("r", "R", "V"):
            out[parts[3]] = out.get(parts[3], 0) + int(parts[1], 16)
    return out


def layer_weight_bytes(objects):
    """The layer's constants in flash: the weight array, the compressed tables, folded bias, multipliers."""
    return sum(size for name, size in objects.items()
               if name.startswith(f"{NAMESPACE}::") or "::FullyConnected<" in name or "::CompressedRows<" in name)


def bench_layer(base, fraction, form, baseline_size, x):
    model = prune.prune_synapses(base, fraction, "layer")[0] if fraction > 0 else base
    header = header_for_model(model, NAMESPACE, sparse=form)
    with tempfile.TemporaryDirectory(prefix="tinynet-sparse-") as folder:
        with open(os.path.join(folder, runner.MODEL_HEADER), "w") as f:
            f.write(header)
        elf, seconds, kib = compile_timed(folder)
        inp, outp = os.path.join(folder, "x.bin"), os.path.join(folder, "y.bin")
        x.tofile(inp)
        measured = runner.run_cortex_m(elf, CPU, [inp], [outp], model)
        got = np.fromfile(outp, np.int8)
        expected = Interpreter(model).invoke([x.reshape(model.tensors[model.inputs[0]].shape)])[0].reshape(-1)
        text, data, _ = cortex_m.size(elf)
        objects = rodata_objects(elf)
    return {
        "fraction": fraction, "form": form, "nonzeros": nonzeros(model),
        "instructions": measured["instructions"],
        "weight_flash_bytes": layer_weight_bytes(objects),
        "flash_bytes": text + data - baseline_size,
        "compile_seconds": seconds, "compiler_peak_kib": kib,
        "matches_reference": bool(np.array_equal(got, expected)),
    }


def tinynet_bench(path, *flags):
    """The figures of `scripts/tinynet bench PATH --target cortex-m4 --json FLAGS...` (a dict)."""
    cmd = [str(ROOT / "scripts" / "tinynet"), "bench", str(path), "--target", CPU, "--json", *flags]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_model(fraction, form):
    figures = tinynet_bench(AD01, "--sparse", form, *(["--prune-synapses", str(fraction)] if fraction > 0 else []))
    model = load_model(str(AD01))
    if fraction > 0:
        model = prune.prune_synapses(model, fraction, "layer")[0]
    model = prune.drop_unread_channels(model)[0]          # as `tinynet bench` builds it
    figures.update({"fraction": fraction, "form": form, "nonzeros": nonzeros(model)})
    return figures


# ---- 4-bit weights ------------------------------------------------------------------------------
INT4_MODELS = {"ad01_int8": AD01, "kws_ref_model": SHARED / "models" / "mlperf-tiny" / "kws_ref_model.tflite"}


def bench_int4(name, bits):
    """`tinynet bench MODEL [--weight-bits 4] --sparse dense --target cortex-m4 --json`: the model
    as is (int8 weights) or its FULLY_CONNECTED/CONV_2D weights requantized to 4 bits, in the
    default --int4-form (packed where the layer has a packed kernel). --sparse dense: 4-bit rounding
    zeroes small weights (ad01: two thirds), and the automatic sparse rule would then change the
    FullyConnected form too; dense isolates what the 4 bits do."""
    from tinynet_py.quantize import int4_weights
    path = INT4_MODELS[name]
    figures = tinynet_bench(path, "--sparse", "dense", *(["--weight-bits", "4"] if bits == 4 else []))
    model = load_model(str(path))
    if bits == 4:
        model = int4_weights(model)
    model = prune.drop_unread_channels(model)[0]          # as `tinynet bench` builds it
    figures.update({"model": name, "bits": bits})
    return figures


def int4_markdown(results):
    """The 4-bit table: per model, int8 then 4-bit, ratios against int8."""
    rows = results.get("int4", [])
    if not rows:
        return []
    lines = ["**4-bit weights (`--weight-bits 4`, `--sparse dense`) against the int8 model**", "", measured_at(rows), "",
             "| model | weights | instructions (vs int8) | flash (vs int8) | of it data (vs int8) | weight flash (vs int8) "
             "| compile s | compiler MB |",
             "|---|---|---|---|---|---|---|---|"]
    base = {r["model"]: r for r in rows if r["bits"] == 8 and "error" not in r}
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['model']} | {r['bits']}-bit | {r['error'][:60]} | | | | | |")
            continue
        b = base.get(r["model"])

        def ratio(key):
            return f" ({r[key] / b[key]:.2f}x)" if b and b.get(key) else ""
        lines.append(f"| {r['model']} | {r['bits']}-bit | {r['instructions']:,}{ratio('instructions')} "
                     f"| {r['flash_bytes']:,}{ratio('flash_bytes')} | {r['flash_constant_bytes']:,}{ratio('flash_constant_bytes')} "
                     f"| {r['weight_bytes']:,}{ratio('weight_bytes')} "
                     f"| {r['compile_seconds']:.1f} | {r['compiler_peak_kib'] / 1024:.0f} |")
    return lines + ["", "(\"Of it data\": `tinynet bench`'s flash_constant_bytes, the data objects of the image,",
                    "measured; \"weight flash\": its weight_bytes, `network::weight_bytes` as compiled for the",
                    "Cortex-M4, which counts the same tables: the int8 convolutions' weights widened to int16",
                    "for the DSP kernels, the 4-bit ones packed.)", ""]


# ---- channel pruning of residual blocks ----------------------------------------------------------
RESNET = SHARED / "models" / "mlperf-tiny" / "pretrainedResnet_quant.tflite"


def bench_neurons(fraction):
    """`tinynet bench pretrainedResnet_quant.tflite [--prune-neurons F] --target cortex-m4 --json`,
    with the MACs of the model as pruned (prune.prune_neurons: residual blocks as groups)."""
    from tinynet_py.analysis import summary
    figures = tinynet_bench(RESNET, *(["--prune-neurons", str(fraction)] if fraction > 0 else []))
    model = load_model(str(RESNET))
    if fraction > 0:
        model = prune.prune_neurons(model, fraction)[0]
    figures.update({"fraction": fraction, "form": "neurons", "pruned_macs": summary(model)["totals"]["macs"]})
    return figures


def neurons_markdown(results):
    rows = results.get("neurons", [])
    if not rows:
        return []
    base = next((r for r in rows if r["fraction"] == 0 and "error" not in r), None)
    lines = ["**pretrainedResnet_quant, `--prune-neurons` (residual blocks pruned as groups)**", "", measured_at(rows), "",
             "| pruned channels | MACs (vs unpruned) | instructions (vs unpruned) | flash (vs unpruned) "
             "| weight flash (vs unpruned) | compile s | compiler MB |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['fraction']:.0%} | {r['error'][:60]} | | | | | |")
            continue

        def ratio(key):
            return f" ({r[key] / base[key]:.2f}x)" if base and base.get(key) else ""
        lines.append(f"| {r['fraction']:.0%} | {r['pruned_macs']:,}{ratio('pruned_macs')} "
                     f"| {r['instructions']:,}{ratio('instructions')} | {r['flash_bytes']:,}{ratio('flash_bytes')} "
                     f"| {r['weight_bytes']:,}{ratio('weight_bytes')} | {r['compile_seconds']:.1f} "
                     f"| {r['compiler_peak_kib'] / 1024:.0f} |")
    return lines + [""]


def commit():
    """The commit a row is measured at (`git describe --always`, "-dirty" after it where the tree has
    changes): the tables say which code their figures belong to, so a table left unmeasured after a
    kernel change shows its age. The sweeps' own results files (bench/*_results.json, written as
    rows finish) and Markdown files (the tables' own pages, prose) do not make the tree dirty."""
    head = subprocess.run(["git", "-C", str(ROOT), "describe", "--always"], capture_output=True, text=True)
    status = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", ".", ":(exclude)bench/*_results.json",
                             ":(exclude)*.md"], capture_output=True, text=True)
    if not head.stdout.strip():
        return "unknown"
    return head.stdout.strip() + ("-dirty" if status.stdout.strip() else "")


def measured_at(rows):
    """The line under a table naming the commit(s) its rows were measured at."""
    commits = sorted({r.get("measured_at", "unrecorded") for r in rows})
    return f"Measured at {', '.join(commits)}."


def guarded(measure, key):
    """measure() with the row's identifying fields `key` (fraction and form; model and bits), or a
    row of those fields saying why it has no figures (a build past TIMEOUT, a failure)."""
    try:
        return {**measure(), **key, "measured_at": commit()}
    except subprocess.TimeoutExpired:
        return {**key, "error": f"build or run took over {TIMEOUT} s"}
    except RuntimeError as e:
        return {**key, "error": str(e)[-500:]}


def markdown(results):
    """Markdown tables: per sweep, one row per fraction and form, ratios against dense."""
    lines = []
    for sweep, title in (("layer", "ad01's first FullyConnected, 640 -> 128 (81,920 weights)"),
                         ("model", "ad01_int8, all ten FullyConnected layers (264,192 weights)")):
        rows = results.get(sweep, [])
        if not rows:
            continue
        dense = {r["fraction"]: r for r in rows if r["form"] == "dense" and "error" not in r}
        weights = "weight flash (vs dense)"
        lines += [f"**{title}**", "", measured_at(rows), "",
                  f"| pruned | form | non-zeros | instructions (vs dense) | flash (vs dense) | {weights} | compile s | compiler MB |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in rows:
            if "error" in r:
                lines.append(f"| {r['fraction']:.0%} | {r['form']} | | {r['error'][:60]} | | | | |")
                continue
            d = dense.get(r["fraction"])

            def ratio(key):
                return f" ({r[key] / d[key]:.2f}x)" if d and d.get(key) else ""
            key = "weight_flash_bytes" if sweep == "layer" else "weight_bytes"
            extra = f"{r[key]:,}{ratio(key)}" if key in r else ""
            lines.append(f"| {r['fraction']:.0%} | {r['form']} | {r['nonzeros']:,} | {r['instructions']:,}{ratio('instructions')} "
                         f"| {r['flash_bytes']:,}{ratio('flash_bytes')} | {extra} | {r['compile_seconds']:.1f} "
                         f"| {r['compiler_peak_kib'] / 1024:.0f} |")
        lines.append("")
    lines += int4_markdown(results)
    lines += neurons_markdown(results)
    return "\n".join(lines)


def readme_table(results):
    """The README's sparsity table (whole ad01 model, pruned fractions above 0) from saved results."""
    rows = [r for r in results.get("model", []) if r["fraction"] > 0 and "error" not in r]
    dense = {r["fraction"]: r for r in rows if r["form"] == "dense"}
    lines = [measured_at(rows), "",
             "| pruned | form | instructions (M4) | vs dense | flash | vs dense | weight flash | compile s / MB |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        d = dense[r["fraction"]]
        lines.append(f"| {r['fraction']:.0%} | {r['form']} | {r['instructions']:,} | {r['instructions'] / d['instructions']:.2f}x "
                     f"| {r['flash_bytes']:,} | {r['flash_bytes'] / d['flash_bytes']:.2f}x | {r['weight_bytes']:,} "
                     f"| {r['compile_seconds']:.0f} / {r['compiler_peak_kib'] / 1024:.0f} |")
    return "\n".join(lines)


def write_readme(results, path=ROOT / "README.md"):
    replace_block(path, "sparsity-table", readme_table(results))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sweep", choices=("layer", "model", "both", "int4", "neurons"), default="both")
    parser.add_argument("--fractions", type=float, nargs="+", default=FRACTIONS)
    parser.add_argument("--forms", nargs="+", choices=FORMS, default=FORMS)
    parser.add_argument("-o", "--output", default=str(ROOT / "bench" / "sparse_results.json"),
                        help="JSON file; entries for the same sweep, fraction and form are replaced")
    parser.add_argument("--markdown", action="store_true", help="print the saved results as Markdown tables")
    parser.add_argument("--readme", action="store_true",
                        help="rewrite README.md's sparsity table from the saved model sweep (run "
                             "--sweep model first to measure it again)")
    parser.add_argument("--write-docs", action="store_true",
                        help="rewrite docs/sparsity.md's tables and README.md's sparsity table from the saved results")
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.load(open(args.output))))
        return
    if args.readme or args.write_docs:
        results = json.load(open(args.output))
        write_readme(results)
        if args.write_docs:
            replace_block(ROOT / "docs" / "sparsity.md", "sparse-tables", markdown(results))
        return
    if not AD01.exists():
        sys.exit(f"{AD01} not found (shared data expected at ../shared, or set TINYNET_SHARED)")
    missing = cortex_m.available(CPU)
    if missing:
        sys.exit(missing)
    results = json.load(open(args.output)) if os.path.exists(args.output) else {"layer": [], "model": []}

    def run_sweep(sweep, cases, order=None):
        """Measures each (key, measure) case; its row replaces the saved row of the same key, and
        the file is written after every row (a long sweep keeps what it measured)."""
        for key, measure in cases:
            row = guarded(measure, key)
            rows = [r for r in results.get(sweep, []) if any(r.get(k) != v for k, v in key.items())] + [row]
            results[sweep] = sorted(rows, key=order) if order else rows
            with open(args.output, "w") as f:
                json.dump(results, f, indent=1)
            print(sweep, json.dumps(row), flush=True)

    by_fraction_and_form = lambda r: (r["fraction"], FORMS.index(r["form"]))  # noqa: E731
    if args.sweep == "neurons":
        run_sweep("neurons", [({"fraction": f, "form": "neurons"}, lambda f=f: bench_neurons(f)) for f in (0.0, 0.5)])
    if args.sweep == "int4":
        run_sweep("int4", [({"model": name, "bits": bits}, lambda name=name, bits=bits: bench_int4(name, bits))
                           for name in INT4_MODELS for bits in (8, 4)])
    if args.sweep in ("layer", "both"):
        base = first_layer(load_model(str(AD01)))
        baseline = cortex_m.size(runner.build_cortex_m_baseline(CPU))
        x = np.random.RandomState(0).randint(-128, 128, base.tensors[base.inputs[0]].num_elements).astype(np.int8)
        run_sweep("layer", [({"fraction": fraction, "form": form},
                             lambda fraction=fraction, form=form: bench_layer(base, fraction, form,
                                                                              baseline[0] + baseline[1], x))
                            for fraction in args.fractions for form in args.forms], by_fraction_and_form)
    if args.sweep in ("model", "both"):
        run_sweep("model", [({"fraction": fraction, "form": form},
                             lambda fraction=fraction, form=form: bench_model(fraction, form))
                            for fraction in args.fractions for form in args.forms], by_fraction_and_form)


if __name__ == "__main__":
    main()
