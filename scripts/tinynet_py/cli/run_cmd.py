"""`tinynet run`: generate, compile and run a model on an input; write the output tensor."""

import os
import sys
import tempfile

import numpy as np

from ..errors import TinynetError
from ..ir import DTYPES
from .. import cortex_m, runner
from .. import pipeline
from .convert_cmd import default_namespace, header_for

NAME = "run"
HELP = "compile the generated network (host or Cortex-M under QEMU), run it and write its output"
DESCRIPTION = """Generates the header, compiles a small runner against include/ and runs it on the
given input(s). Inputs and outputs are raw little-endian bytes of the tensor's own dtype (int8
for int8 models) or .npy files. Builds are cached (in $TINYNET_CACHE, default
~/.cache/tinynet): a second run of the same model only runs the program."""
EPILOG = """examples:
  tinynet run kws_ref_model.tflite --input in.bin --output out.bin
  tinynet run kws_ref_model.tflite --input features.npy --output scores.npy --target cortex-m4
  tinynet run ad01_int8.tflite --prune-synapses 0.9 --sparse unrolled --input in.bin --output out.bin"""

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
    pipeline.add_compression_arguments(parser)


def read_tensor(path, tensor):
    dtype = np.dtype(DTYPES[tensor.dtype]).newbyteorder("<")
    try:
        if path.endswith(".npy"):
            array = np.load(path, allow_pickle=False)
            if array.dtype != dtype.newbyteorder("="):
                raise TinynetError(path, f"holds {array.dtype}, the model input is {tensor.dtype}")
            array = array.astype(dtype)
        else:
            array = np.fromfile(path, dtype=dtype)
    except OSError as e:
        raise TinynetError(path, f"cannot read: {e.strerror}")
    except ValueError as e:
        raise TinynetError(path, f"not a valid .npy file ({e})")
    if array.size != tensor.num_elements:
        raise TinynetError(path, f"holds {array.size} {tensor.dtype} values, the model input "
                                 f"'{tensor.name}' has {tensor.num_elements} (shape {list(tensor.shape)})")
    return array.reshape(-1)


def write_tensor(path, raw_path, tensor):
    data = np.fromfile(raw_path, dtype=np.dtype(DTYPES[tensor.dtype]).newbyteorder("<"))
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tinynet-", suffix=".tmp")
    os.close(fd)
    try:
        if path.endswith(".npy"):
            with open(tmp, "wb") as f:
                np.save(f, data.reshape(tensor.shape))
        else:
            data.tofile(tmp)
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
        raise TinynetError(args.model, f"the model has {len(model.inputs)} input(s); "
                                       f"{len(args.input)} --input given")
    if len(args.output) != len(model.outputs):
        raise TinynetError(args.model, f"the model has {len(model.outputs)} output(s); "
                                       f"{len(args.output)} --output given")
    inputs = [read_tensor(p, model.tensors[i]) for p, i in zip(args.input, model.inputs)]
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
            write_tensor(path, raw, model.tensors[index])
    pipeline.report_evaluation(prepared, args)
    return 0
