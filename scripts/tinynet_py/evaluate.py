"""`--eval DATA.npz`: accuracy of each variant of a model (float, int8, pruned int8) on a labelled set.

The variants run on the numpy reference interpreter, which the tests hold bit-exact with the
generated C++ (and with TFLM for int8), so these figures are what the device will compute.
Classification (integer labels): accuracy overall and per class, and, when the file has an array
`group` (one label per sample: a speaker's accent, a machine's make, an image's brightness band),
per group too. The classes and groups whose accuracy falls clearly more than the average under
compression are flagged: one is flagged when its drop from the first variant exceeds the overall
drop by at least 3 percentage points and by at least half the overall drop (so a 1-point overall
loss flags those losing 4 points or more, a 20-point loss those losing 30 or more).
Regression (float labels): mean absolute error.
A stateful model (SVDF, LSTM state) starts every sample from its reset state, as TFLM after
ResetVariableTensors: the samples are independent, their order does not matter.
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


def load_groups(path, count):
    """The optional array 'group' of an --eval file (one label per sample, integers or strings), or None."""
    arrays = read_npz(path)
    if "group" not in arrays:
        return None
    group = np.asarray(arrays["group"])
    if group.ndim != 1 or len(group) != count:
        raise UsageError(path, f"'group' must hold one label per sample ({count}); it has shape "
                               f"{list(group.shape)}")
    if group.dtype.kind not in "iuUSb":
        raise UsageError(path, f"'group' must hold integers or strings; it holds {group.dtype}")
    return group


def _group_key(value):
    return value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else str(value)


def _breakdown(correct, labels):
    """{label: accuracy}, {label: support} for each distinct label (sorted)."""
    keys = np.unique(labels)
    accuracy = {_group_key(k): float(correct[labels == k].mean()) for k in keys}
    support = {_group_key(k): int((labels == k).sum()) for k in keys}
    return accuracy, support


def flag(base_parts, parts, overall_drop):
    """The keys of `parts` (class or group accuracies) whose drop from `base_parts` exceeds the
    overall drop by FLAG_MIN_EXCESS and by FLAG_EXCESS_FACTOR of it: what "clearly more than the
    average" means (docs/compression.md)."""
    overall = max(overall_drop, 0.0)
    return [k for k in base_parts
            if (base_parts[k] - parts[k]) - overall >= max(FLAG_MIN_EXCESS, FLAG_EXCESS_FACTOR * overall)]


def predict(model, x, progress=None, label="", layout=None):
    """Runs every sample through the reference; returns float outputs (dequantized), [N, outputs],
    each row in the order of `layout` (data.output_from_cxx) for a rank-4 ONNX output. A stateful
    model starts every sample from its reset state (a sample is one `tinynet run` of one input)."""
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
        interpreter.reset()
        out = dequantize_output(interpreter.invoke([feed])[0], tout)
        rows.append(output_from_cxx(out, model, model.outputs[0], layout).reshape(-1))
        if progress and (n + 1) % max(1, len(x) // 4) == 0:
            progress(f"evaluating {label}: {n + 1}/{len(x)}")
    return np.array(rows)


def evaluate(variants, x, y, progress=None, layout=None, groups=None):
    """variants: list of (name, Model); layout: the one x was given in (load_labelled); groups: one
    label per sample (load_groups) or None. Returns a dict report."""
    classification = y.dtype.kind in "iub"
    report = {"task": "classification" if classification else "regression", "samples": int(len(y)),
              "variants": []}
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
            entry["per_class"], entry["support"] = _breakdown(correct, y)
            if groups is not None:
                entry["per_group"], entry["group_support"] = _breakdown(correct, groups)
        else:
            entry["mae"] = float(np.abs(outputs.reshape(y.shape) - y).mean())
        report["variants"].append(entry)
    if classification and len(variants) > 1:
        base = report["variants"][0]
        for entry in report["variants"][1:]:
            overall_drop = base["accuracy"] - entry["accuracy"]
            entry["flagged_classes"] = flag(base["per_class"], entry["per_class"], overall_drop)
            if groups is not None:
                entry["flagged_groups"] = flag(base["per_group"], entry["per_group"], overall_drop)
    return report


def _table(variants, title, parts, support, flags):
    """Rows of one breakdown (per class or per group): label, support, each variant's accuracy."""
    names = [v["name"] for v in variants]
    labels = [str(k) for k in variants[0][parts]]
    width = max([len(title)] + [len(k) for k in labels])
    lines = [f"{title:>{width}}  support  " + "  ".join(f"{n:>12}" for n in names)]
    for k in variants[0][parts]:
        cells = []
        for v in variants:
            mark = " !" if k in v.get(flags, []) else "  "
            cells.append(f"{100 * v[parts][k]:>10.1f}{mark}")
        lines.append(f"{str(k):>{width}}  {variants[0][support][k]:>7}  " + "  ".join(cells))
    return lines


def format_report(report, base_name=None):
    lines = []
    variants = report["variants"]
    if report["task"] == "regression":
        lines.append("variant        mean abs error")
        for v in variants:
            lines.append(f"{v['name']:<14} {v['mae']:.5f}")
        return "\n".join(lines)
    lines.append(f"accuracy on {report['samples']} samples: "
                 + ", ".join(f"{v['name']} {100 * v['accuracy']:.2f}%" for v in variants))
    rule = (f"their drop exceeds the overall one by {100 * FLAG_MIN_EXCESS:.0f}+ points and by half of it")
    breakdowns = [("class", "per_class", "support", "flagged_classes", "classes")]
    if "per_group" in variants[0]:
        breakdowns.append(("group", "per_group", "group_support", "flagged_groups", "groups"))
    for n, (title, parts, support, flags, plural) in enumerate(breakdowns):
        if n:
            lines.append("")
        lines += _table(variants, title, parts, support, flags)
        flagged = {v["name"]: v.get(flags, []) for v in variants[1:]}
        for name, keys in flagged.items():
            if keys:
                shown = "[" + ", ".join(str(k) for k in keys) + "]"
                lines.append(f"! {name}: {plural} {shown} lose clearly more than the average ({rule})")
        if not any(flagged.values()) and len(variants) > 1:
            lines.append(f"no {title} loses clearly more than the average")
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
