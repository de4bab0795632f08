"""`--eval DATA.npz`: accuracy of each variant of a model (float, int8, pruned int8) on a labelled set.

The variants run on the numpy reference interpreter, which the tests hold bit-exact with the
generated C++ (and with TFLM for int8), so these figures are what the device will compute.
Classification (integer labels): accuracy overall and per class, and the classes whose accuracy
falls clearly more than the average under compression are flagged: a class is flagged when its
drop from the first variant exceeds the overall drop by at least 3 percentage points and by at
least half the overall drop (so a 1-point overall loss flags classes losing 4 points or more, a
20-point loss those losing 30 or more).
Regression (float labels): mean absolute error.
"""

import os

import numpy as np

from .data import dequantize_output, output_from_cxx, output_layout, quantize_input, read_npz, samples_to_cxx
from .errors import UsageError
from .reference import Interpreter

FLAG_MIN_EXCESS = 0.03     # 3 percentage points beyond the overall drop, as a fraction
FLAG_EXCESS_FACTOR = 0.5   # ... and at least half the overall drop beyond it


def load_labelled(path, model, layout="auto"):
    """(x [N, values] in the C++ order, y [N, ...], the layout the samples were given in)."""
    arrays = read_npz(path)
    if "x" not in arrays or "y" not in arrays:
        raise UsageError(path, f"needs arrays 'x' (inputs) and 'y' (labels); has {list(arrays)}")
    x, y = arrays["x"], np.asarray(arrays["y"])
    x, resolved = samples_to_cxx(x, model, model.inputs[0], path, layout)
    if len(x) != len(y):
        raise UsageError(path, f"'x' holds {len(x)} samples and 'y' {len(y)} labels; one label per sample")
    return x, y, resolved


def predict(model, x, progress=None, label="", layout=None):
    """Runs every sample through the reference; returns float outputs (dequantized), [N, outputs],
    each row in the order of `layout` (data.output_from_cxx) for a rank-4 ONNX output."""
    interpreter = Interpreter(model)
    tin = model.tensors[model.inputs[0]]
    tout = model.tensors[model.outputs[0]]
    rows = []
    for n, sample in enumerate(x):
        if tin.dtype == "float32":
            feed = sample.astype(np.float32)
        elif x.dtype.kind in "iu":
            feed = sample                      # already quantized inputs
        else:
            feed = quantize_input(sample, tin)
        out = dequantize_output(interpreter.invoke([feed])[0], tout)
        rows.append(output_from_cxx(out, model, model.outputs[0], layout).reshape(-1))
        if progress and (n + 1) % max(1, len(x) // 4) == 0:
            progress(f"evaluating {label}: {n + 1}/{len(x)}")
    return np.array(rows)


def evaluate(variants, x, y, progress=None, layout=None):
    """variants: list of (name, Model); layout: the one x was given in (load_labelled). Returns a dict report."""
    classification = y.dtype.kind in "iub"
    report = {"task": "classification" if classification else "regression", "samples": int(len(y)),
              "variants": []}
    classes = np.unique(y) if classification else None
    for name, model in variants:
        outputs = predict(model, x, progress, name, output_layout([layout]))
        entry = {"name": name}
        if classification:
            if outputs.shape[1] == 1:
                predicted = (outputs[:, 0] > 0.5).astype(np.int64)
            else:
                predicted = outputs.argmax(axis=1)
            correct = predicted == y
            entry["accuracy"] = float(correct.mean())
            entry["per_class"] = {int(c): float(correct[y == c].mean()) for c in classes}
            entry["support"] = {int(c): int((y == c).sum()) for c in classes}
        else:
            entry["mae"] = float(np.abs(outputs.reshape(y.shape) - y).mean())
        report["variants"].append(entry)
    if classification and len(variants) > 1:
        base = report["variants"][0]
        for entry in report["variants"][1:]:
            overall_drop = base["accuracy"] - entry["accuracy"]
            flagged = []
            for c in base["per_class"]:
                drop = base["per_class"][c] - entry["per_class"][c]
                overall = max(overall_drop, 0.0)
                if drop - overall >= max(FLAG_MIN_EXCESS, FLAG_EXCESS_FACTOR * overall):
                    flagged.append(c)
            entry["flagged_classes"] = flagged
    return report


def format_report(report, base_name=None):
    lines = []
    variants = report["variants"]
    if report["task"] == "regression":
        lines.append("variant        mean abs error")
        for v in variants:
            lines.append(f"{v['name']:<14} {v['mae']:.5f}")
        return "\n".join(lines)
    names = [v["name"] for v in variants]
    lines.append(f"accuracy on {report['samples']} samples: "
                 + ", ".join(f"{v['name']} {100 * v['accuracy']:.2f}%" for v in variants))
    header = "class  support  " + "  ".join(f"{n:>12}" for n in names)
    lines.append(header)
    for c in variants[0]["per_class"]:
        cells = []
        for v in variants:
            mark = " !" if c in v.get("flagged_classes", []) else "  "
            cells.append(f"{100 * v['per_class'][c]:>10.1f}{mark}")
        lines.append(f"{c:>5}  {variants[0]['support'][c]:>7}  " + "  ".join(cells))
    flagged = {v["name"]: v.get("flagged_classes", []) for v in variants[1:]}
    for name, classes in flagged.items():
        if classes:
            lines.append(f"! {name}: classes {classes} lose clearly more than the average (their drop "
                         f"exceeds the overall one by {100 * FLAG_MIN_EXCESS:.0f}+ points and by half of it)")
    if not any(flagged.values()) and len(variants) > 1:
        lines.append("no class loses clearly more than the average")
    return "\n".join(lines)


def chart(report, path):
    """A grouped bar chart of per-class accuracy; returns False when matplotlib is missing."""
    if report["task"] != "classification":
        return False
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    variants = report["variants"]
    classes = list(variants[0]["per_class"])
    width = 0.8 / len(variants)
    fig, ax = plt.subplots(figsize=(max(6, len(classes) * 0.7), 3.5))
    for k, v in enumerate(variants):
        xs = [i + (k - (len(variants) - 1) / 2) * width for i in range(len(classes))]
        ax.bar(xs, [100 * v["per_class"][c] for c in classes], width, label=f"{v['name']} ({100 * v['accuracy']:.1f}%)")
    ax.set_xticks(range(len(classes)))
    ax.set_xticklabels([str(c) for c in classes])
    ax.set_xlabel("class")
    ax.set_ylabel("accuracy (%)")
    low = min(min(v["per_class"].values()) for v in variants)
    ax.set_ylim(max(0, 100 * low - 10), 100)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
