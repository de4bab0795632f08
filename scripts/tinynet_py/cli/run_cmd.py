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
Builds are cached (in $TINYNET_CACHE, default ~/.cache/tinynet): a second run of the same model
only runs the program."""
EPILOG = """examples:
  tinynet run kws_ref_model.tflite --input in.bin --output out.bin
  tinynet run kws_ref_model.tflite --input features.npy --output scores.npy --target cortex-m4
  tinynet run ad01_int8.tflite --prune-synapses 0.9 --sparse unrolled --input in.bin --output out.bin
  tinynet run cnn.onnx --quantize calib.npz --input image_nchw.npy --output scores.npy   (float in, float out)"""

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
    parser.add_argument("--raw-output", action="store_true",
                        help="with float inputs to an int8 model: write the outputs' int8 values "
                             "instead of dequantizing them to float32")
    pipeline.add_compression_arguments(parser)


def read_input(path, model, index, layout="auto"):
    """An input file -> (flat values of the C++ tensor, resolved layout, whether it held floats).
    .bin: the tensor's raw bytes (C++ order, its dtype); .npy: any shape data.py accepts, floats
    quantized for an int8 tensor."""
    tensor = model.tensors[index]
    dtype = np.dtype(DTYPES[tensor.dtype]).newbyteorder("<")
    resolved, was_float = None, False
    try:
        if path.endswith(".npy"):
            array = np.load(path, allow_pickle=False)
            array, resolved = data.sample_to_cxx(array, model, index, path, layout)
            array, was_float = data.to_tensor_dtype(array, tensor, path)
            array = array.astype(dtype)
        else:
            array = np.fromfile(path, dtype=dtype)
    except OSError as e:
        raise TinynetError(path, f"cannot read: {e.strerror}")
    except ValueError as e:
        raise UsageError(path, f"not a valid .npy file ({e})")
    if array.size != tensor.num_elements:
        raise UsageError(path, f"holds {array.size} {tensor.dtype} values, the model input "
                               f"'{tensor.name}' has {tensor.num_elements} (shape {list(tensor.shape)})")
    return array.reshape(-1), resolved, was_float


def write_output(path, raw_path, model, index, layout, dequantize):
    """Writes an output tensor read from the runner's raw bytes: .npy in `layout`'s shape, .bin as
    raw bytes (C++ order); dequantized to float32 when `dequantize`."""
    tensor = model.tensors[index]
    values = np.fromfile(raw_path, dtype=np.dtype(DTYPES[tensor.dtype]).newbyteorder("<"))
    if dequantize:
        values = data.dequantize_output(values, tensor)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tinynet-", suffix=".tmp")
    os.close(fd)
    try:
        if path.endswith(".npy"):
            with open(tmp, "wb") as f:
                np.save(f, data.output_from_cxx(values, model, index, layout))
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
    read = [read_input(p, model, i, args.data_layout) for p, i in zip(args.input, model.inputs)]
    inputs = [r[0] for r in read]
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
            elf = runner.build_cortex_m(text, namespace, model, args.target, progress=progress)
            runner.run_cortex_m(elf, args.target, raw_inputs, raw_outputs, model)
        for path, raw, index in zip(args.output, raw_outputs, model.outputs):
            write_output(path, raw, model, index, layout, dequantize)
    pipeline.report_evaluation(prepared, args)
    return 0
