"""`tinynet run`: generate, compile and run a model on an input; write the output tensor."""

import os
import sys
import tempfile

import numpy as np

from ..errors import TinynetError, UsageError
from ..ir import DTYPES
from .. import cortex_m, data, runner
from .. import pipeline
from .convert_cmd import default_namespace, header_for

NAME = "run"
HELP = "compile the generated network (host or Cortex-M under QEMU), run it and write its output"
DESCRIPTION = """Generates the header, compiles a small runner against include/ and runs it on the
given input(s). A .bin file holds the tensor's raw little-endian bytes in its own dtype (int8 for
int8 models) and in the C++ memory order (NHWC). A .npy file may hold:
  - the tensor's own dtype, or float values: for an int8 input they are quantized with its scale
    and zero point, and the outputs are then dequantized to float32 (unless --raw-output);
  - for a rank-4 input of an ONNX model, the ONNX shape (NCHW, transposed for you) or the C++
    shape (NHWC); a shape that is both is read as NCHW (--data-layout nhwc to override), and
    .npy outputs are written in the layout the inputs were given in (ONNX's when no input is
    rank 4).
A network that keeps state across invokes (SVDF; docs/design.md, "State") starts from its reset
state; --invokes N runs it N times on the same input(s) and writes the outputs of the last invoke
(what TFLM gives after N Invoke() calls), and --sequence feeds a sequence of inputs, state carried
from one step to the next: each --input then holds T inputs stacked on a new first axis (.npy of
shape (T, *input shape); .bin: T tensors back to back) and each --output receives the T outputs
stacked the same way. A network without state gives every step the output of its input alone.
Builds are cached (in $TINYNET_CACHE, default ~/.cache/tinynet): a second run of the same model
only runs the program."""
EPILOG = """examples:
  tinynet run kws_ref_model.tflite --input in.bin --output out.bin
  tinynet run kws_ref_model.tflite --input features.npy --output scores.npy --target cortex-m4
  tinynet run ad01_int8.tflite --prune-synapses 0.9 --sparse unrolled --input in.bin --output out.bin
  tinynet run cnn.onnx --quantize calib.npz --input image_nchw.npy --output scores.npy   (float in, float out)
  tinynet run svdf.tflite --input frame.bin --output out.bin --invokes 3     (state after 3 invokes)
  tinynet run svdf.tflite --sequence --input frames.npy --output outs.npy    (T frames in, T outputs out)"""

TARGETS = ("host",) + tuple(cortex_m.CPUS)


def add_arguments(parser):
    pipeline.add_model_argument(parser)
    parser.add_argument("--input", action="append", required=True, metavar="IN",
                        help="input tensor file (.bin raw bytes or .npy); repeat for each model input")
    parser.add_argument("--output", action="append", required=True, metavar="OUT",
                        help="where to write the output tensor (.bin or .npy); repeat for each output")
    parser.add_argument("--target", choices=TARGETS, default="host",
                        help="host: the C++ compiler ($CXX, default g++); cortex-m*: arm-none-eabi-g++ "
                             "and qemu-system-arm (M0+: microbit, M3: mps2-an385, M4: mps2-an386, M7: "
                             "mps2-an500, M33: mps2-an505; default: host)")
    parser.add_argument("--invokes", type=int, default=1, metavar="N",
                        help="invoke the network N times on the same input(s), state carried (a stateful "
                             "network: SVDF), and write the outputs of the last invoke (default: 1)")
    parser.add_argument("--sequence", action="store_true",
                        help="each --input holds a sequence of T inputs (first axis of a .npy, or T tensors "
                             "back to back in a .bin): the network runs once per step, state carried, and "
                             "each --output gets the T outputs stacked")
    parser.add_argument("--raw-output", action="store_true",
                        help="with float inputs to an int8 model: write the outputs' int8 values "
                             "instead of dequantizing them to float32")
    pipeline.add_compression_arguments(parser)


def read_input(path, model, index, layout="auto", sequence=False):
    """An input file -> (values of the C++ tensor, one row per step, resolved layout, whether it
    held floats). .bin: the tensor's raw bytes (C++ order, its dtype); .npy: any shape data.py
    accepts, floats quantized for an int8 tensor. With `sequence`, the file holds T tensors (a .npy's
    first axis, or T tensors back to back in a .bin) and the result has T rows; else one row."""
    tensor = model.tensors[index]
    dtype = np.dtype(DTYPES[tensor.dtype]).newbyteorder("<")
    resolved, was_float = None, False
    try:
        if path.endswith(".npy"):
            array = np.load(path, allow_pickle=False)
            if sequence and array.ndim < 1:
                raise UsageError(path, "--sequence: a .npy input needs a first axis (the steps)")
            steps = []
            for sample in (array if sequence else [array]):
                values, resolved = data.sample_to_cxx(sample, model, index, path, layout)
                values, was_float = data.to_tensor_dtype(values, tensor, path)
                if values.size != tensor.num_elements:
                    break
                steps.append(values.astype(dtype))
            else:
                return np.stack(steps) if steps else np.zeros((0, tensor.num_elements), dtype), resolved, was_float
            array = values
        else:
            array = np.fromfile(path, dtype=dtype)
            if sequence and array.size and array.size % tensor.num_elements == 0:
                return array.reshape(-1, tensor.num_elements), resolved, was_float
    except OSError as e:
        raise TinynetError(path, f"cannot read: {e.strerror}")
    except ValueError as e:
        raise UsageError(path, f"not a valid .npy file ({e})")
    if array.size != tensor.num_elements or sequence:
        what = "each step holds" if sequence and path.endswith(".npy") else "holds"
        need = "a multiple of " if sequence and not path.endswith(".npy") else ""
        raise UsageError(path, f"{what} {array.size} {tensor.dtype} values, the model input "
                               f"'{tensor.name}' has {need}{tensor.num_elements} (shape {list(tensor.shape)})")
    return array.reshape(1, -1), resolved, was_float


def write_output(path, raw_path, model, index, layout, dequantize, steps=None):
    """Writes an output tensor read from the runner's raw bytes (one tensor per step): .npy in
    `layout`'s shape, .bin as raw bytes (C++ order); dequantized to float32 when `dequantize`.
    steps: None keeps the last step's tensor only (--invokes), a number stacks that many (.npy:
    a new first axis; .bin: back to back)."""
    tensor = model.tensors[index]
    values = np.fromfile(raw_path, dtype=np.dtype(DTYPES[tensor.dtype]).newbyteorder("<"))
    values = values.reshape(-1, tensor.num_elements)
    if steps is None:
        values = values[-1]
    if dequantize:
        values = data.dequantize_output(values, tensor)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tinynet-", suffix=".tmp")
    os.close(fd)
    try:
        if path.endswith(".npy"):
            with open(tmp, "wb") as f:
                if steps is None:
                    np.save(f, data.output_from_cxx(values, model, index, layout))
                else:
                    np.save(f, np.stack([data.output_from_cxx(v, model, index, layout) for v in values]))
        else:
            values.tofile(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def progress(message):
    sys.stderr.write(f"tinynet: {message}\n")


def run(args):
    namespace = default_namespace(args.model)
    prepared, text = header_for(args, namespace)
    model = prepared.model
    if len(args.input) != len(model.inputs):
        raise UsageError(args.model, f"the model has {len(model.inputs)} input(s); "
                                       f"{len(args.input)} --input given")
    if len(args.output) != len(model.outputs):
        raise UsageError(args.model, f"the model has {len(model.outputs)} output(s); "
                                       f"{len(args.output)} --output given")
    if args.invokes < 1:
        raise UsageError(None, f"--invokes {args.invokes}: the count must be at least 1")
    if args.sequence and args.invokes != 1:
        raise UsageError(None, "--sequence and --invokes: give one (a sequence runs once per step)")
    read = [read_input(p, model, i, args.data_layout, args.sequence) for p, i in zip(args.input, model.inputs)]
    inputs = [r[0] for r in read]
    steps = {len(array) for array in inputs}
    if len(steps) != 1 or 0 in steps:
        counts = ", ".join(f"{p}: {len(a)}" for p, a in zip(args.input, inputs))
        raise UsageError(None, f"--sequence: every input needs the same number of steps, at least one ({counts})")
    if not args.sequence:
        inputs = [np.tile(array, (args.invokes, 1)) for array in inputs]   # one step per invoke
    layout = data.output_layout([r[1] for r in read])
    dequantize = any(r[2] for r in read) and not args.raw_output
    with tempfile.TemporaryDirectory(prefix="tinynet-run-") as work:
        raw_inputs = []
        for k, array in enumerate(inputs):
            raw = os.path.join(work, f"in{k}.bin")
            array.tofile(raw)
            raw_inputs.append(raw)
        raw_outputs = [os.path.join(work, f"out{k}.bin") for k in range(len(model.outputs))]
        if args.target == "host":
            binary = runner.build_host(text, namespace, len(model.inputs), len(model.outputs), progress=progress)
            runner.run_host(binary, raw_inputs, raw_outputs)
        else:
            missing = cortex_m.available(args.target)
            if missing:
                raise TinynetError(None, f"cannot run on {args.target}: {missing}")
            # Several steps (--invokes, --sequence): the runner's step loop, which `bench` leaves out.
            steps = ("-DTINYNET_RUNNER_STEPS=1",) if len(inputs[0]) > 1 else ()
            elf = runner.build_cortex_m(text, namespace, model, args.target, progress=progress, extra_flags=steps)
            runner.run_cortex_m(elf, args.target, raw_inputs, raw_outputs, model)
        for path, raw, index in zip(args.output, raw_outputs, model.outputs):
            write_output(path, raw, model, index, layout, dequantize,
                         steps=len(inputs[0]) if args.sequence else None)
    pipeline.report_evaluation(prepared, args)
    return 0
