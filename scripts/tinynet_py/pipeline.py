"""What convert, run, inspect and bench share: reading a model of any kind and compressing it.

    model file ──load_any──► float32 or int8 IR ──prune──► ──quantize──► final IR ──► header
                                                  (--prune-*)   (--quantize)

Pruning comes before quantization, so that the scales are computed on the weights that remain.
The variants along the way (the model as read, quantized, pruned and quantized) are kept so that
--eval can compare them.
"""

import os
import sys
from dataclasses import dataclass, field

from . import evaluate, prune
from .analysis import Build
from .data import DATA_LAYOUTS
from .errors import ModelError, TinynetError, UsageError, onnx_missing
from .reference import Interpreter
from .tflite import load_model

SPARSE_FORMS = ("auto", "dense", "unrolled", "compressed", "nm")
INT4_FORMS = ("auto", "packed", "unpacked")
MODEL_KINDS = ".tflite (int8 or float32), .onnx (float32), .pkl/.pickle (scikit-learn MLPClassifier/MLPRegressor)"


def load_any(path, allow_external_data=False):
    """Reads a model by its file extension into tinynet's IR, constants folded (ops.fold_constants)."""
    from .ops import fold_constants
    return fold_constants(_load(str(path), allow_external_data))


def _load(path, allow_external_data):
    extension = os.path.splitext(path)[1].lower()
    if extension in (".pkl", ".pickle", ".joblib"):
        from .sklearn_import import load_sklearn
        return load_sklearn(path)
    if extension == ".onnx":
        try:
            from .onnx_import import load_onnx
        except ImportError as e:
            raise TinynetError(path, onnx_missing(e))
        return load_onnx(path, allow_external_data)
    if extension not in (".tflite", ".lite", ".bin", ""):
        raise ModelError(path, f"unknown model file type '{extension}'; tinynet reads {MODEL_KINDS}")
    return load_model(path)


def add_model_argument(parser):
    parser.add_argument("model", metavar="MODEL", help=f"the model: {MODEL_KINDS}. Model files are "
                                                       f"read as data: a pickle is loaded by a restricted "
                                                       f"unpickler that allows only the classes of a fitted "
                                                       f"MLP (anything else is refused, no code from the "
                                                       f"file runs); names reach the header escaped, in "
                                                       f"comments")
    parser.add_argument("--allow-external-data", action="store_true",
                        help="read the weights an .onnx file keeps in external files (only files "
                             "inside the model's folder; refused by default)")


OPTIMIZE_FLAGS = {"speed": (), "size": ("-Os",)}   # after the builds' own -O2, so -Os wins


def add_optimize_argument(parser):
    parser.add_argument("--optimize", choices=("speed", "size"), default="speed",
                        help="the compiler's goal: speed builds with -O2 (default), size with -Os, as "
                             "Arduino cores and most vendor IDEs build; the automatic sparse form follows "
                             "it (docs/sparsity.md)")


def build_of(args):
    """The analysis.Build of the flags: --sparse and --optimize (speed where a command has none)."""
    return Build(getattr(args, "sparse", "auto"), getattr(args, "optimize", "speed"))


def add_compression_arguments(parser):
    group = parser.add_argument_group(
        "compression", "applied in this order: pruning, then quantization; see docs/compression.md")
    group.add_argument("--quantize", metavar="CALIB.npz",
                       help="post-training int8 quantization of a float model from calibration inputs "
                            "(array 'x': samples of the model input, e.g. 100-500 training examples; a stateful "
                            "model starts each sample from its reset state)")
    group.add_argument("--weight-bits", type=int, choices=(8, 4), default=8,
                       help="4: FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D weights become 4-bit (TFLite INT4, per channel, "
                            "symmetric in [-7, 7]), with --quantize or from an int8 model's weights; half "
                            "the weight flash where they stay packed (see --int4-form)")
    group.add_argument("--int4-form", choices=INT4_FORMS, default="auto",
                       help="how 4-bit weights reach the C++: unpacked (int8 arrays unpacked by the "
                            "compiler: int8 speed and flash) or auto/packed (two per byte in flash, unpacked "
                            "in the inner loop, where the layer has a packed kernel: fully-connected of even "
                            "input depth, conv of even filter size without groups; unpacked elsewhere). "
                            "Same output bytes either way")
    group.add_argument("--prune-synapses", type=float, default=0.0, metavar="FRACTION",
                       help="zero this fraction of the weights of every conv/depthwise/fully-connected "
                            "layer, smallest magnitude first (e.g. 0.75)")
    group.add_argument("--prune-scope", choices=("layer", "global"), default="layer",
                       help="--prune-synapses per layer (default) or with one threshold over all layers")
    group.add_argument("--prune-pattern", metavar="PATTERN",
                       help="prune the weights in a pattern along the input channels, per layer: N:M "
                            "keeps the N largest of every M consecutive weights (2:4 zeroes 50%%, 1:4 "
                            "75%%; --prune-synapses may be left out), blockK zeroes whole K-wide blocks, "
                            "the --prune-synapses fraction of them (e.g. block4); see docs/sparsity.md")
    group.add_argument("--prune-neurons", type=float, default=0.0, metavar="FRACTION",
                       help="remove this fraction of the output neurons/channels of each layer that "
                            "feeds one other weighted layer (smallest L2 norm first), shrinking both; the "
                            "layers of a residual block (joined by ADD) lose the same channels as a group")
    group.add_argument("--keep-unread-channels", action="store_true",
                       help="keep the output channels that the next weighted layer never reads (all its "
                            "weights on them zero, as in models pruned by channels without removing "
                            "them); by default they are removed, with the same outputs to the bit")
    group.add_argument("--sparse", choices=SPARSE_FORMS, default="auto",
                       help="kernel form of the int8 fully-connected, conv and depthwise layers: auto (by "
                            "size, density and pruning pattern), dense, "
                            "unrolled (only non-zero multiply-accumulates, in code), compressed "
                            "(non-zero values and positions in flash), nm (conv and fully-connected "
                            "weights pruned N:M along the input channels, e.g. --prune-pattern 2:4: the kept "
                            "weights, two per SMLAD; other layers dense)")
    group.add_argument("--eval", metavar="DATA.npz",
                       help="accuracy of the model as read vs quantized vs pruned, overall and per class "
                            "(arrays 'x' inputs, 'y' labels), and per group when the file has an array "
                            "'group' (one label per sample); flags classes and groups that lose clearly "
                            "more than the average; a stateful model (SVDF, LSTM) starts each sample from its "
                            "reset state")
    group.add_argument("--data-layout", choices=DATA_LAYOUTS, default="auto",
                       help="how rank-4 data of an ONNX model (--input .npy, --quantize, --eval) are "
                            "read: auto (by shape: the ONNX NCHW shape is transposed to the C++ NHWC "
                            "one; a shape that is both is taken as NCHW), nchw or nhwc")
    group.add_argument("--save-tflite", metavar="OUT.tflite",
                       help="also write the final (quantized/pruned) model as a .tflite file, which "
                            "TFLM and other TFLite tools can read")
    group.add_argument("--eval-chart", metavar="PNG",
                       help="write the --eval per-class chart there (needs matplotlib)")


@dataclass
class Prepared:
    model: object                               # the final ir.Model
    variants: list = field(default_factory=list)  # (name, Model) in pipeline order
    notes: list = field(default_factory=list)     # lines for the user (what was done)
    warnings: list = field(default_factory=list)  # what the user should not miss (also on stderr)
    evaluation: object = None


def _progress(message):
    if sys.stderr.isatty() or os.environ.get("TINYNET_PROGRESS"):
        sys.stderr.write(f"tinynet: {message}\n")


def prepare(args, progress=_progress):
    """Loads args.model and applies the compression flags present on args."""
    model = load_any(args.model, getattr(args, "allow_external_data", False))
    source_kind = "float" if model.tensors[model.inputs[0]].dtype == "float32" else "int8"
    variants = [(source_kind, model)]
    notes = []
    quantize_path = getattr(args, "quantize", None)
    synapses = getattr(args, "prune_synapses", 0.0) or 0.0
    pattern = getattr(args, "prune_pattern", None)
    if pattern:
        if getattr(args, "prune_scope", "layer") != "layer":
            raise UsageError(args.model, "--prune-pattern prunes each layer on its own: it does not take "
                                           "--prune-scope global")
        synapses = prune.pattern_fraction(pattern, synapses)
    neurons = getattr(args, "prune_neurons", 0.0) or 0.0
    data_layout = getattr(args, "data_layout", "auto")
    weight_bits = getattr(args, "weight_bits", 8) or 8
    if weight_bits == 4 and not quantize_path and source_kind != "int8":
        raise UsageError(args.model, "--weight-bits 4 needs an int8 model or --quantize CALIB.npz "
                                       "(this model is float32)")
    if quantize_path and source_kind != "float":
        raise UsageError(args.model, "--quantize needs a float32 model; this one is already int8 "
                                       "(prune it directly, without --quantize)")
    samples = None
    if quantize_path:
        from .quantize import load_samples, quantize_model
        samples = load_samples(quantize_path, model, layout=data_layout)
        progress(f"quantizing with {len(samples)} calibration samples")
        quantized = quantize_model(model, samples, progress, weight_bits)
        variants.append(("int8" if weight_bits == 8 else "int8-w4", quantized))
        notes.append(f"quantized to int8 on {len(samples)} samples of {quantize_path}"
                     + (" (4-bit weights)" if weight_bits == 4 else ""))
    if synapses or neurons:
        pruned = model
        label = []
        if neurons:
            progress(f"pruning {neurons:.0%} of the neurons of each prunable layer")
            pruned, rows = prune.prune_neurons(pruned, neurons)
            for r in rows:
                if r["opcode"] == "residual group":
                    notes.append(f"residual group of ops {', '.join(map(str, r['op']))} (joined by op "
                                 f"{', '.join(map(str, r['joins']))}): {r['units_before']} -> {r['units_after']} "
                                 f"channels (ops {', '.join(map(str, r['consumer']))} shrink with it)")
                    continue
                notes.append(f"op {r['op']} {r['opcode']}: {r['units_before']} -> {r['units_after']} units "
                             f"(op {r['consumer']} shrinks with it)")
            if not rows:
                notes.append("--prune-neurons: no layer qualifies (each must feed exactly one weighted layer, "
                             "or be part of a residual group)")
            label.append(f"neurons {neurons:g}")
        if synapses:
            if pattern:
                progress(f"pruning {synapses:.0%} of the weights in the pattern {pattern}")
                pruned, rows = prune.prune_pattern(pruned, synapses, pattern)
            else:
                progress(f"pruning {synapses:.0%} of the weights ({args.prune_scope})")
                pruned, rows = prune.prune_synapses(pruned, synapses, getattr(args, "prune_scope", "layer"))
            for r in rows:
                notes.append(f"op {r['op']} {r['opcode']}: {r['nonzero_after']}/{r['weights']} weights non-zero")
            label.append(f"synapses {synapses:g}" + (f" pattern {pattern}" if pattern else ""))
        if quantize_path:
            from .quantize import quantize_model
            pruned = quantize_model(pruned, samples, progress, weight_bits)
        Interpreter(pruned)
        variants.append(("pruned" + ("-int8" if quantize_path or source_kind == "int8" else ""), pruned))
    if weight_bits == 4 and not quantize_path:
        from .quantize import int4_weights
        name, final = variants[-1]
        variants.append((name + "-w4", int4_weights(final)))
        notes.append("weights of FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D requantized to 4 bits (TFLite INT4)")
    final = variants[-1][1]
    if not getattr(args, "keep_unread_channels", False):
        Interpreter(final)          # every op's checks first: the pass reads shapes they vouch for
        final, rows = prune.drop_unread_channels(final, prune.pattern_span(pattern))
        for r in rows:
            folded = (f"; {r['folded']} of them, which hold one value throughout, it now adds through its bias"
                      if r["folded"] else "")
            notes.append(f"op {r['op']} {r['opcode']}: {r['units_before']} -> {r['units_after']} channels: op "
                         f"{r['consumer']} reads the others only with zero weights{folded} (same outputs; "
                         f"--keep-unread-channels keeps them)")
    prepared = Prepared(model=final, variants=variants, notes=notes)
    if (synapses or neurons) and not prune.input_reaches_outputs(final):
        prepared.warnings.append(
            "pruned, the model gives one output for every input: no path of non-zero weights is left "
            "from its input to its outputs; prune less, or fine-tune with the pruning and convert the result")
    for warning in prepared.warnings:
        sys.stderr.write(f"tinynet: warning: {warning}\n")
    if getattr(args, "save_tflite", None):
        from .tflite_writer import save_model
        save_model(prepared.model, args.save_tflite)
        notes.append(f"wrote {args.save_tflite}")
    if getattr(args, "eval", None):
        x, y, layout = evaluate.load_labelled(args.eval, model, data_layout)
        groups = evaluate.load_groups(args.eval, len(y))
        prepared.evaluation = evaluate.evaluate(variants, x, y, progress, layout, groups)
    return prepared


def report_evaluation(prepared, args, default_chart=None, out=sys.stdout):
    if prepared.evaluation is None:
        return
    out.write(evaluate.format_report(prepared.evaluation) + "\n")
    chart = getattr(args, "eval_chart", None) or default_chart
    if chart:
        if evaluate.chart(prepared.evaluation, chart):
            out.write(f"wrote {chart}\n")
        elif getattr(args, "eval_chart", None):
            out.write("no chart: matplotlib is not installed (Debian: python3-matplotlib)\n")
