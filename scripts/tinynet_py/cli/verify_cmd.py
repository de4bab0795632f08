"""`tinynet verify MODEL --golden DIR`: run the numpy reference on golden inputs."""

import json
import os
import re

import numpy as np

from ..errors import ModelError, TinynetError, UsageError
from ..reference import Interpreter
from ..tflite import load_model

NAME = "verify"
HELP = "run the numpy reference interpreter on golden inputs and compare with golden outputs"
DESCRIPTION = """Runs tinynet's numpy reference interpreter (bit-exact with TensorFlow Lite
Micro's reference kernels) on every DIR/in_K.bin that has a DIR/out_K.bin, and compares.
The files hold the raw little-endian bytes of the model's input and output tensors.
Integer outputs must match exactly; float outputs within --rtol/--atol.
Exit status: 0 when every input matches, 1 otherwise."""
EPILOG = """example:
  tinynet verify ../shared/models/mlperf-tiny/kws_ref_model.tflite \\
      --golden ../shared/golden/kws_ref_model"""


def add_arguments(parser):
    parser.add_argument("model", metavar="MODEL", help="the .tflite file")
    parser.add_argument("--golden", metavar="DIR", required=True,
                        help="directory with in_K.bin / out_K.bin pairs (and meta.json)")
    parser.add_argument("--rtol", type=float, default=1e-4,
                        help="relative tolerance for float outputs (default 1e-4)")
    parser.add_argument("--atol", type=float, default=1e-5,
                        help="absolute tolerance for float outputs (default 1e-5)")


def golden_pairs(directory):
    """Sorted list of (K, input path, output path)."""
    if not os.path.isdir(directory):
        raise TinynetError(directory, "golden directory not found")
    pairs = []
    for name in os.listdir(directory):
        m = re.fullmatch(r"in_(\d+)\.bin", name)
        if m and os.path.exists(os.path.join(directory, f"out_{m.group(1)}.bin")):
            k = int(m.group(1))
            pairs.append((k, os.path.join(directory, name),
                          os.path.join(directory, f"out_{m.group(1)}.bin")))
    if not pairs:
        raise TinynetError(directory, "no in_K.bin / out_K.bin pairs found")
    return sorted(pairs)


def _read(path, tensor):
    data = np.fromfile(path, dtype=np.dtype(tensor.dtype).newbyteorder("<"))
    if data.size != tensor.num_elements or os.path.getsize(path) != tensor.nbytes:
        raise TinynetError(path, f"holds {os.path.getsize(path)} bytes, but tensor "
                                 f"'{tensor.name}' ({'x'.join(map(str, tensor.shape))} "
                                 f"{tensor.dtype}) needs {tensor.nbytes}")
    return data.astype(tensor.dtype)


def _check_meta(directory, model):
    path = os.path.join(directory, "meta.json")
    if not os.path.exists(path):
        return
    try:
        with open(path) as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        raise TinynetError(path, f"cannot read: {e}") from None
    for role, indices in (("inputs", model.inputs), ("outputs", model.outputs)):
        entries = meta.get(role, [])
        for entry, index in zip(entries, indices):
            t = model.tensors[index]
            if "bytes" in entry and entry["bytes"] != t.nbytes:
                raise TinynetError(path, f"{role} entry says {entry['bytes']} bytes, the "
                                         f"model's tensor '{t.name}' has {t.nbytes}")


def compare(got, want, is_float, rtol, atol):
    """(matches, one-line description)."""
    if is_float:
        close = np.isclose(got, want, rtol=rtol, atol=atol)
        diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
        if close.all():
            return True, f"match within rtol {rtol:g}, atol {atol:g} (max |difference| {diff.max(initial=0):.3g})"
        bad = np.flatnonzero(~close)
    else:
        diff = np.abs(got.astype(np.int64) - want.astype(np.int64))
        if (diff == 0).all():
            return True, f"match ({got.size} values, bit-exact)"
        bad = np.flatnonzero(diff)
    first = bad[0]
    return False, (f"MISMATCH: {bad.size} of {got.size} values differ, max |difference| "
                   f"{diff.max():g}, first at index {first} (got {got[first]}, want {want[first]})")


def run(args):
    extension = os.path.splitext(args.model)[1].lower()
    if extension in (".onnx", ".pkl", ".pickle", ".joblib"):
        raise UsageError(args.model, "verify compares tinynet's reference interpreter with TFLM's golden "
                                     "outputs and needs a .tflite model; for an ONNX or scikit-learn model "
                                     "use 'tinynet run' (or 'convert --eval DATA.npz')")
    model = load_model(args.model)
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ModelError(args.model, f"verify handles models with one input and one output; "
                                       f"this one has {len(model.inputs)} and {len(model.outputs)}")
    interpreter = Interpreter(model)
    pairs = golden_pairs(args.golden)
    _check_meta(args.golden, model)
    tin, tout = model.tensors[model.inputs[0]], model.tensors[model.outputs[0]]
    matched = 0
    for k, in_path, out_path in pairs:
        x = _read(in_path, tin)
        want = _read(out_path, tout)
        interpreter.reset()      # each golden comes from a fresh TFLM interpreter (state at reset)
        got = interpreter.invoke([x])[0].reshape(-1)
        ok, text = compare(got, want, tout.dtype == "float32", args.rtol, args.atol)
        matched += ok
        print(f"in_{k}.bin: {text}")
    print(f"{matched}/{len(pairs)} golden inputs match")
    return 0 if matched == len(pairs) else 1
