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
With weight_bits=4 (--weight-bits 4) the weights of the ops whose TFLM kernels take an INT4 filter
(FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D: OpSpec.int4_weights) are 4-bit instead: per output channel, symmetric,
scale = max|w| / 7, values in [-7, 7] (the narrow range, as int8's [-127, 127]; TFLite's converter
quantizes int4 weights so), stored as TFLite INT4; int4_weights() does the same to the weights
of a model already int8.
Inputs and outputs of the result are int8 (like a converter run with inference_input_type and
inference_output_type int8); data.quantize_input/dequantize_output convert at the boundary.
"""

import copy

import numpy as np

from . import fixedpoint as fp
from . import ops
from .data import read_npz, samples_to_cxx
from .errors import ModelError, UsageError
from .ir import Builder
from .reference import Interpreter

# How each op is quantized is declared with the op (ops/<family>.py: OpSpec.quantize).
SUPPORTED = ops.names(lambda s: s.quantize is not None)
WEIGHT_BITS = (8, 4)
# The largest magnitude of a quantized weight (symmetric, narrow range) per bit width.
_WEIGHT_LIMIT = {8: 127, 4: 7}


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


def _weight_params(weights, axis, limit=127):
    """Per-channel symmetric scales (float32) and int8 values in [-limit, limit]."""
    moved = np.moveaxis(weights.astype(np.float64), axis, 0)
    peaks = np.abs(moved.reshape(moved.shape[0], -1)).max(axis=1)
    nonzero = peaks[peaks > 0]
    fallback = nonzero.max() if nonzero.size else 1.0   # an all-zero channel: any scale is exact
    scales = np.where(peaks > 0, peaks, fallback) / float(limit)
    scales = scales.astype(np.float32)
    shape = [1] * weights.ndim
    shape[axis] = -1
    q = fp.tflite_round(weights.astype(np.float64) / scales.astype(np.float64).reshape(shape))
    return scales, np.clip(q, -limit, limit).astype(np.int8)


def calibrate(model, samples, progress=None):
    """min/max of every float tensor over the calibration samples; a stateful model starts every
    sample from its reset state (as --eval and `tinynet run` of one input), so the order of the
    samples does not matter."""
    interpreter = Interpreter(model)
    low, high = {}, {}
    count = len(samples)
    for n, sample in enumerate(samples):
        interpreter.reset()
        values = interpreter.invoke([sample.astype(np.float32)], keep_all=True)
        for index, value in values.items():
            if model.tensors[index].dtype != "float32":
                continue
            low[index] = min(low.get(index, np.inf), float(value.min()))
            high[index] = max(high.get(index, -np.inf), float(value.max()))
        if progress and (n + 1) % max(1, count // 10) == 0:
            progress(f"calibrating: {n + 1}/{count} samples")
    return low, high


def _constant_operands(model, constant):
    """The float constants that ops declaring constant_operands take as data inputs."""
    found = set()
    for op in model.ops:
        spec = ops.spec(op.opcode)
        if not spec.constant_operands:
            continue
        for k in ops.data_input_positions(spec, op):
            i = op.inputs[k]
            if i >= 0 and i in constant and model.tensors[i].dtype == "float32":
                found.add(i)
    return found


def _check_weight_bits(weight_bits):
    if weight_bits not in WEIGHT_BITS:
        raise UsageError(None, f"--weight-bits must be 8 or 4, got {weight_bits}")


def quantize_model(model, samples, progress=None, weight_bits=8):
    """Returns a new int8 ir.Model quantized from the float32 `model` on `samples` (with
    weight_bits=4, INT4 weights where TFLM takes them)."""
    _check_weight_bits(weight_bits)
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
    # Constant data operands (MUL by a full tensor, MAXIMUM with a constant, a constant side of
    # BATCH_MATMUL, PRELU's alpha): int8 per tensor like an activation, over their own range; where
    # the op's operands share the output's parameters ("shared"), the group's range includes them.
    operands = _constant_operands(model, constant)
    for index in operands:
        data = model.tensors[index].data
        low[index], high[index] = float(np.min(data)), float(np.max(data))
    for op in model.ops:
        spec = ops.spec(op.opcode)
        if spec.quantize == "shared":
            for i in [op.inputs[k] for k in ops.data_input_positions(spec, op)]:
                if i >= 0 and (i not in constant or i in operands):
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
        if index in operands:
            values = fp.tflite_round(model.tensors[index].data.astype(np.float64) / np.float64(scale)) + zero_point
            builder.replace_tensor(index, dtype="int8", data=np.clip(values, -128, 127).astype(np.int8),
                                   scale=np.array([scale], np.float32), zero_point=np.array([zero_point], np.int64))
            continue
        if builder.tensors[index].data is not None:
            continue
        builder.replace_tensor(index, dtype="int8", scale=np.array([scale], np.float32),
                               zero_point=np.array([zero_point], np.int64))
    quantized_biases = set()
    for op in model.ops:
        spec = ops.spec(op.opcode)
        if spec.quantize != "weights":
            continue
        axis = spec.weight_axis
        w = model.tensors[op.inputs[1]]
        int4 = weight_bits == 4 and spec.int4_weights
        scales, q = _weight_params(w.real_values(), axis, _WEIGHT_LIMIT[4 if int4 else 8])   # (a hybrid layer's int8 weights: their real values)
        builder.replace_tensor(
            w.index, dtype="int8", data=q, scale=scales, zero_point=np.zeros(scales.size, np.int64),
            quantized_dimension=axis, int4=int4)
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


def int4_weights(model):
    """A new model whose int8 FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D
    weights (OpSpec.int4_weights) are requantized
    to 4 bits: per output channel (or per tensor, as they were), scale = max|q| * scale / 7, values
    round(q * 7 / max|q|) in [-7, 7]; each bias is rescaled to input scale x the new weight scale.
    Layers with int16 or float inputs keep their weights (TFLM reads INT4 filters of int8 layers)."""
    result = copy.deepcopy(model)
    done = set()
    for op in result.ops:
        spec = ops.spec(op.opcode)
        w = result.tensors[op.inputs[1]] if len(op.inputs) > 1 and op.inputs[1] >= 0 else None
        if (not spec.int4_weights or w is None or w.data is None or w.index in done or w.int4
                or w.dtype != "int8" or result.tensors[op.inputs[0]].dtype != "int8"):
            continue
        done.add(w.index)
        axis = w.quantized_dimension if w.per_channel else None
        q = w.data.astype(np.int64)
        if axis is None:
            peaks = np.array([np.abs(q).max()])
            shape = [1] * q.ndim
        else:
            moved = np.moveaxis(q, axis, 0)
            peaks = np.abs(moved.reshape(moved.shape[0], -1)).max(axis=1)
            shape = [1] * q.ndim
            shape[axis] = -1
        peaks = np.where(peaks > 0, peaks, _WEIGHT_LIMIT[4])    # an all-zero channel stays 0
        ratio = peaks.astype(np.float64) / _WEIGHT_LIMIT[4]     # new scale / old scale
        w.data = np.clip(fp.tflite_round(q / ratio.reshape(shape)), -7, 7).astype(np.int8)
        w.scale = (w.scale.astype(np.float64) * ratio).astype(np.float32)
        w.int4 = True
        if len(op.inputs) > 2 and op.inputs[2] >= 0:
            b = result.tensors[op.inputs[2]]
            if b.data is not None and b.dtype == "int32":
                per = ratio if ratio.size == b.data.size else np.full(b.data.size, ratio[0])
                values = fp.tflite_round(b.data.astype(np.float64).reshape(-1) / per)
                b.data = np.clip(values, -2 ** 31, 2 ** 31 - 1).astype(np.int32).reshape(b.shape)
                if b.scale.size:
                    b.scale = (b.scale.astype(np.float64) * (per if b.scale.size == per.size else ratio[0])
                               ).astype(np.float32)
    return result
