"""Post-training int8 quantization of a float32 model, as the TFLite converter does it.

Follows TFLite's int8 quantization specification (tensorflow.org/lite/performance/quantization_spec):
(Which op follows which rule is declared with the op: OpSpec.quantize in ops/<family>.py.)
- weights of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: int8, symmetric (zero point 0),
  per output channel, scale = max|w| / 127, values in [-127, 127];
- biases: int32, zero point 0, scale = input_scale * weight_scale[channel];
- activations: int8, asymmetric, per tensor, from the range seen on the calibration set,
  widened to contain 0 and with the zero point nudged onto an integer (as TFLite's
  ChooseQuantizationParams does), so that real 0 is exactly representable;
- ops whose int8 kernels do not rescale share one set of parameters between input and output:
  MAX_POOL_2D, AVERAGE_POOL_2D, RESHAPE, PAD, STRIDED_SLICE, and every input of CONCATENATION
  (TFLM's concatenation copies raw values);
- fixed output parameters the int8 kernels require: SOFTMAX and LOGISTIC 1/256 with zero point
  -128, TANH 1/128 with zero point 0.
Inputs and outputs of the result are int8 (like a converter run with inference_input_type and
inference_output_type int8); data.quantize_input/dequantize_output convert at the boundary.
"""

import numpy as np

from . import fixedpoint as fp
from . import ops
from .data import dequantize_output, quantize_input, read_npz, samples_to_cxx  # noqa: F401 (re-exported)
from .errors import ModelError, UsageError
from .ir import Builder
from .reference import Interpreter

# How each op is quantized is declared with the op (ops/<family>.py: OpSpec.quantize).
SUPPORTED = ops.names(lambda s: s.quantize is not None)


def load_samples(path, model, key="x", layout="auto"):
    """Reads `key` (or the only array) of an .npz as float32 samples of the model's first input,
    [N, values] in the C++ tensor's order (ONNX NCHW samples are transposed: see data.py)."""
    arrays = read_npz(path)
    names = list(arrays)
    if key in names:
        samples = arrays[key]
    elif len(names) == 1:
        samples = arrays[names[0]]
    else:
        raise UsageError(path, f"has arrays {names}; expected one named '{key}'")
    if np.asarray(samples).dtype.kind != "f":
        raise UsageError(path, f"'{key}' holds {np.asarray(samples).dtype}; calibration samples are "
                               f"float values of the model input")
    samples, _ = samples_to_cxx(samples, model, model.inputs[0], path, layout, key)
    return samples


def activation_params(low, high):
    """(scale, zero_point) of an int8 tensor covering [low, high] (TFLite ChooseQuantizationParams)."""
    low, high = min(float(low), 0.0), max(float(high), 0.0)
    if high - low < 1e-12:
        return np.float32(1.0 / 255), -128 if low == 0.0 else 127
    scale = np.float32((high - low) / 255.0)
    zero_point_from_min = -128 - low / float(scale)
    zero_point = int(np.clip(fp.tflite_round(zero_point_from_min), -128, 127))
    return scale, zero_point


def _quantize_constant_operands(model, builder, params):
    """The float constants an int8 op reads besides weights (ADD's, SUB's, MUL's second operand: an
    unrolled RNN's 1 - z, a folded zero-state projection) become int8 as TFLite's quantizer makes
    them: per tensor, asymmetric, over the constant's own range (widened to contain 0); an op whose
    inputs share the output's parameters ("shared": MAXIMUM, MINIMUM) gets them for its constant
    too. A constant read by two ops with different needs is refused rather than guessed."""
    chosen = {}
    for op in model.ops:
        spec = ops.spec(op.opcode)
        if not spec.constant_operands or spec.quantize not in ("calibrated", "shared"):
            continue
        for i in op.inputs:
            t = model.tensors[i] if i >= 0 else None
            if t is None or t.data is None or t.dtype != "float32":
                continue
            if spec.quantize == "shared":
                scale, zero_point = params[op.outputs[0]]          # already its group's
            else:
                scale, zero_point = activation_params(t.data.min(), t.data.max())
            if chosen.setdefault(i, (scale, zero_point)) != (scale, zero_point):
                raise ModelError(model.path, f"op {op.index} ({op.opcode}): its constant operand "
                                             f"{t.name!r} is shared with an op that quantizes it differently")
            q = fp.tflite_round(t.data.astype(np.float64) / np.float64(scale)) + zero_point
            builder.replace_tensor(i, dtype="int8", data=np.clip(q, -128, 127).astype(np.int8),
                                   scale=np.array([scale], np.float32), zero_point=np.array([zero_point], np.int64))


def _weight_params(weights, axis):
    """Per-channel symmetric scales (float32) and int8 values."""
    moved = np.moveaxis(weights.astype(np.float64), axis, 0)
    peaks = np.abs(moved.reshape(moved.shape[0], -1)).max(axis=1)
    nonzero = peaks[peaks > 0]
    fallback = nonzero.max() if nonzero.size else 1.0   # an all-zero channel: any scale is exact
    scales = np.where(peaks > 0, peaks, fallback) / 127.0
    scales = scales.astype(np.float32)
    shape = [1] * weights.ndim
    shape[axis] = -1
    q = fp.tflite_round(weights.astype(np.float64) / scales.astype(np.float64).reshape(shape))
    return scales, np.clip(q, -127, 127).astype(np.int8)


def calibrate(model, samples, progress=None):
    """min/max of every float tensor over the calibration samples."""
    interpreter = Interpreter(model)
    low, high = {}, {}
    count = len(samples)
    for n, sample in enumerate(samples):
        values = interpreter.invoke([sample.astype(np.float32)], keep_all=True)
        for index, value in values.items():
            if model.tensors[index].dtype != "float32":
                continue
            low[index] = min(low.get(index, np.inf), float(value.min()))
            high[index] = max(high.get(index, -np.inf), float(value.max()))
        if progress and (n + 1) % max(1, count // 10) == 0:
            progress(f"calibrating: {n + 1}/{count} samples")
    return low, high


def quantize_model(model, samples, progress=None):
    """Returns a new int8 ir.Model quantized from the float32 `model` on `samples`."""
    for op in model.ops:
        if op.opcode not in SUPPORTED:
            raise ModelError(model.path, f"op {op.index} ({op.opcode}) cannot be quantized by tinynet "
                                         f"(supported: {', '.join(SUPPORTED)})")
    for index in model.inputs:
        if model.tensors[index].dtype != "float32":
            raise ModelError(model.path, "--quantize needs a float32 model; this one is already "
                                         f"{model.tensors[index].dtype}")
    low, high = calibrate(model, samples, progress)

    # Tensors that must share parameters: union-find over activation tensors.
    parent = {}

    def find(i):
        while parent.get(i, i) != i:
            i = parent[i]
        return i

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[rb] = ra

    constant = {t.index for t in model.tensors if t.data is not None}
    for op in model.ops:
        spec = ops.spec(op.opcode)
        if spec.quantize == "shared":
            for i in [op.inputs[k] for k in ops.data_input_positions(spec, op)]:
                if i >= 0 and i not in constant:
                    for out in op.outputs:
                        union(out, i)
    group_low, group_high = {}, {}
    for index in low:
        root = find(index)
        group_low[root] = min(group_low.get(root, np.inf), low[index])
        group_high[root] = max(group_high.get(root, -np.inf), high[index])
    params = {index: activation_params(group_low[find(index)], group_high[find(index)]) for index in low}
    for op in model.ops:
        spec = ops.spec(op.opcode)
        if spec.quantize == "fixed":
            scale, zero_point = spec.fixed_output
            params[op.outputs[0]] = (np.float32(scale), zero_point)

    builder = Builder.derive(model)
    for index, (scale, zero_point) in params.items():
        if builder.tensors[index].data is not None:
            continue
        builder.replace_tensor(index, dtype="int8", scale=np.array([scale], np.float32),
                               zero_point=np.array([zero_point], np.int64))
    _quantize_constant_operands(model, builder, params)
    quantized_biases = set()
    for op in model.ops:
        spec = ops.spec(op.opcode)
        if spec.quantize != "weights":
            continue
        axis = spec.weight_axis
        w = model.tensors[op.inputs[1]]
        scales, q = _weight_params(w.data, axis)    # from the values alone: a shared weight stays shared
        builder.replace_tensor(
            w.index, dtype="int8", data=q, scale=scales, zero_point=np.zeros(scales.size, np.int64),
            quantized_dimension=axis)
        input_scale = params[op.inputs[0]][0]
        if len(op.inputs) > 2 and op.inputs[2] >= 0:
            b = model.tensors[op.inputs[2]]
            bias_scales = (np.float64(input_scale) * scales.astype(np.float64))
            values = fp.tflite_round(b.data.astype(np.float64).reshape(-1) / bias_scales)
            values = np.clip(values, -2 ** 31, 2 ** 31 - 1).astype(np.int32).reshape(b.shape)
            quantized = dict(dtype="int32", data=values, scale=bias_scales.astype(np.float32),
                             zero_point=np.zeros(scales.size, np.int64), quantized_dimension=0)
            if b.index in quantized_biases:
                # A bias shared by layers whose inputs have other scales (an unrolled RNN's recurrent
                # projection, once per step): each layer gets its own int32 copy, as the TFLite
                # converter makes; a copy equal to the first is not made.
                first = builder.tensors[b.index]
                if not (np.array_equal(first.data, values) and np.array_equal(first.scale, quantized["scale"])):
                    builder_op = builder.ops[op.index]
                    builder_op.inputs[2] = builder.tensor(f"{b.name}/step{op.index}", b.shape, values, "int32",
                                                          **{k: v for k, v in quantized.items()
                                                             if k not in ("dtype", "data")})
                continue
            quantized_biases.add(b.index)
            builder.replace_tensor(b.index, **quantized)
    result = builder.model(
        model.path, model.sha256, list(model.inputs), list(model.outputs),
        nchw_shapes=dict(model.nchw_shapes), drop_unused=False,
        description=(model.description + "; " if model.description else "")
        + f"int8 post-training quantization on {len(samples)} calibration samples",
        schema_version=model.schema_version, subgraph_name=model.subgraph_name)
    Interpreter(result)   # every op's int8 checks must pass
    return result
