"""What every op module shares: the context a prepare function sees, and TFLM's common
Prepare() helpers (activation ranges, padding, multipliers, requantization).

Each helper names the TFLM function it follows; paths are relative to tensorflow/lite/.
"""

import numpy as np

from .. import fixedpoint as fp
from ..errors import ModelError

INT_RANGES = {"int8": (-128, 127), "int16": (-32768, 32767), "int32": (fp.INT32_MIN, fp.INT32_MAX),
               "uint8": (0, 255)}
FLOAT_MAX = float(np.finfo(np.float32).max)

class OpContext:
    """What a prepare function sees: the op, its tensors, and an error helper."""

    def __init__(self, model, op):
        self.model = model
        self.op = op

    def input(self, k):
        if k >= len(self.op.inputs) or self.op.inputs[k] < 0:
            return None
        return self.model.tensors[self.op.inputs[k]]

    def output(self, k=0):
        return self.model.tensors[self.op.outputs[k]]

    def fail(self, detail):
        raise ModelError(self.model.path, f"op #{self.op.index} {self.op.opcode}: {detail}")

    def require_inputs(self, minimum, maximum=None):
        count = len(self.op.inputs)
        maximum = minimum if maximum is None else maximum
        if not minimum <= count <= maximum or any(i < 0 for i in self.op.inputs[:minimum]):
            self.fail(f"expects {minimum}..{maximum} inputs, has {self.op.inputs}")
        if len(self.op.outputs) != 1:
            self.fail(f"expects 1 output, has {len(self.op.outputs)}")

    def require_dtypes(self, tensor, allowed, role):
        if tensor.dtype not in allowed:
            self.fail(f"{role} tensor '{tensor.name}' has dtype {tensor.dtype}; "
                      f"supported: {', '.join(allowed)}")

    def require_constant(self, tensor, role):
        if tensor.data is None:
            self.fail(f"{role} tensor '{tensor.name}' must be constant (TFLM requires it too)")

    def per_tensor_quant(self, tensor, role):
        if not tensor.is_quantized:
            self.fail(f"{role} tensor '{tensor.name}' of dtype {tensor.dtype} has no "
                      f"quantization parameters")
        if tensor.per_channel:
            self.fail(f"{role} tensor '{tensor.name}' is quantized per channel; only "
                      f"per-tensor quantization is supported for it")
        if not tensor.scale[0] > 0:
            self.fail(f"{role} tensor '{tensor.name}' has quantization scale {float(tensor.scale[0])!r}; "
                      f"it must be > 0")
        return np.float32(tensor.scale[0]), int(tensor.zero_point[0])



def require_same_shape(ctx):
    """Element-wise ops of one input: TFLM gives the output the input's shape (Prepare/ResizeOutput)."""
    if not ctx.op.inputs or ctx.op.inputs[0] < 0 or len(ctx.op.outputs) != 1:
        return                       # the op's own prepare reports the missing tensors
    inp, out = ctx.input(0), ctx.output()
    if tuple(inp.shape) != tuple(out.shape):
        ctx.fail(f"input shape {inp.shape} and output shape {out.shape} differ (this op keeps the shape)")


def activation_range_quantized(ctx, activation, output):
    """CalculateActivationRangeQuantized (kernels/kernel_util.cc): quantize 0, 6, -1, 1 with
    TfLiteRound(f / scale) in float, add the zero point, intersect with the dtype range."""
    qmin, qmax = INT_RANGES[output.dtype]
    scale, zero_point = np.float32(output.scale[0]), int(output.zero_point[0])

    def quantize(f):
        return zero_point + int(fp.tflite_round(np.float32(f) / scale))

    if activation == "NONE":
        return qmin, qmax
    if activation == "RELU":
        return max(qmin, quantize(0.0)), qmax
    if activation == "RELU6":
        return max(qmin, quantize(0.0)), min(qmax, quantize(6.0))
    if activation == "RELU_N1_TO_1":
        return max(qmin, quantize(-1.0)), min(qmax, quantize(1.0))
    ctx.fail(f"fused activation {activation} is not supported (NONE, RELU, RELU6, RELU_N1_TO_1)")


def activation_range_float(ctx, activation):
    """CalculateActivationRange<float> (kernels/kernel_util.h)."""
    ranges = {"NONE": (-FLOAT_MAX, FLOAT_MAX), "RELU": (0.0, FLOAT_MAX),
              "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}
    if activation not in ranges:
        ctx.fail(f"fused activation {activation} is not supported (NONE, RELU, RELU6, RELU_N1_TO_1)")
    return ranges[activation]


def compute_out_size(padding, image_size, filter_size, stride, dilation):
    """ComputeOutSize (kernels/padding.h)."""
    effective = (filter_size - 1) * dilation + 1
    if padding == "SAME":
        return (image_size + stride - 1) // stride
    return (image_size + stride - effective) // stride


def compute_padding(stride, dilation, in_size, filter_size, out_size):
    """ComputePaddingWithOffset (kernels/padding.h): the leading padding (offset unused)."""
    effective = (filter_size - 1) * dilation + 1
    total = (out_size - 1) * stride + effective - in_size
    return max(total, 0) // 2


def window_geometry(ctx, in_hw, kernel_hw, stride_hw, dilation_hw, out_hw, padding):
    """Checks the model's output size against TFLM's and returns the leading paddings."""
    pads = []
    for axis, name in ((0, "height"), (1, "width")):
        if stride_hw[axis] <= 0 or dilation_hw[axis] <= 0:
            ctx.fail(f"stride and dilation must be positive, got stride {stride_hw}, "
                     f"dilation {dilation_hw}")
        expected = compute_out_size(padding, in_hw[axis], kernel_hw[axis], stride_hw[axis],
                                     dilation_hw[axis])
        if expected != out_hw[axis]:
            ctx.fail(f"output {name} is {out_hw[axis]} but {padding} padding of input {name} "
                     f"{in_hw[axis]} with kernel {kernel_hw[axis]}, stride {stride_hw[axis]} "
                     f"gives {expected}")
        pads.append(compute_padding(stride_hw[axis], dilation_hw[axis], in_hw[axis],
                                     kernel_hw[axis], out_hw[axis]))
    return tuple(pads)


def pad_window(x, pad_hw, kernel_hw, stride_hw, dilation_hw, out_hw, value):
    """x (NHWC) padded with `value` so that every window tap of every output lies inside."""
    n, h, w, c = x.shape
    spans = [(out_hw[a] - 1) * stride_hw[a] + (kernel_hw[a] - 1) * dilation_hw[a] + 1
             for a in (0, 1)]
    after = [max(0, spans[0] - h - pad_hw[0]), max(0, spans[1] - w - pad_hw[1])]
    result = np.full((n, pad_hw[0] + h + after[0], pad_hw[1] + w + after[1], c), value, x.dtype)
    result[:, pad_hw[0]:pad_hw[0] + h, pad_hw[1]:pad_hw[1] + w, :] = x
    return result


def window_taps(xp, ky, kx, stride_hw, dilation_hw, out_hw):
    """The input values window tap (ky, kx) reads for every output position: [N,OH,OW,C]."""
    y0, x0 = ky * dilation_hw[0], kx * dilation_hw[1]
    return xp[:, y0:y0 + (out_hw[0] - 1) * stride_hw[0] + 1:stride_hw[0],
              x0:x0 + (out_hw[1] - 1) * stride_hw[1] + 1:stride_hw[1], :]


def exact_matmul(a, b):
    """Integer matrix product computed in float64 BLAS when every partial sum is exactly
    representable (|sum| < 2^53), else in int64."""
    bound = float(np.abs(a).max(initial=0)) * float(np.abs(b).max(initial=0)) * a.shape[-1]
    if bound < 2.0 ** 52:
        return np.rint(a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)
    return a.astype(np.int64) @ b.astype(np.int64)


def quantized_multipliers(ctx, real_multipliers):
    multipliers, shifts = fp.quantize_multipliers(real_multipliers)
    return multipliers, shifts


def fc_per_tensor_multiplier(input_scale, weight_scale, output_scale):
    """The real multiplier of a FullyConnected with per-tensor weights: GetQuantizedConvolutionMultipler
    (kernels/kernel_util.cc) widens the *float* product input_scale * filter_scale to double
    before dividing by the output scale (TFLM as of 2024)."""
    product = np.float32(np.float32(input_scale) * np.float32(weight_scale))
    return np.float64(product) / np.float64(np.float32(output_scale))


def requantize_accumulator(plan, acc):
    """Scales an accumulator to the output: the int32 (8-bit kernels) or int64 (16x8
    kernels) MultiplyByQuantizedMultiplier, output zero point, activation clamp."""
    if plan["wide_accumulator"]:
        scaled = fp.multiply_by_quantized_multiplier_int64(acc, plan["multiplier"], plan["shift"])
    else:
        scaled = fp.multiply_by_quantized_multiplier(fp.wrap32(acc), plan["multiplier"], plan["shift"])
    scaled = scaled + plan["output_zero_point"]
    return np.clip(scaled, plan["act_min"], plan["act_max"])



def require_same_quantization(ctx, inp, out):
    """Ops that copy bytes (RESHAPE, STRIDED_SLICE): the output must mean what the input means."""
    if inp.dtype == "float32":
        return
    if (np.float32(inp.scale_scalar) != np.float32(out.scale_scalar)
            or inp.zero_point_scalar != out.zero_point_scalar):
        ctx.fail(f"input quantization (scale {float(inp.scale_scalar):g}, zero point {inp.zero_point_scalar}) "
                 f"and output quantization (scale {float(out.scale_scalar):g}, zero point "
                 f"{out.zero_point_scalar}) differ; this op copies values, it does not requantize")


def int8_table_bytes(model, op):
    """Ops that tabulate their 256 int8 results at compile time (HARD_SWISH, ELU, RSQRT): the
    table's bytes in flash for an int8 input, none otherwise."""
    return 256 if model.tensors[op.inputs[0]].dtype == "int8" else 0


def take_channels(tensor, keep, axis):
    """Neuron pruning: keeps the `keep` indices of `axis` in a constant tensor and in its
    per-channel quantization."""
    tensor.data = np.take(tensor.data, keep, axis=axis)
    tensor.shape = tuple(tensor.data.shape)
    if tensor.scale.size > 1 and tensor.quantized_dimension == axis:
        tensor.scale = tensor.scale[keep]
        tensor.zero_point = tensor.zero_point[keep] if tensor.zero_point.size > 1 else tensor.zero_point


def shrink_last_dim(tensor, size):
    """Neuron pruning: an activation tensor keeps `size` channels."""
    tensor.shape = tuple(tensor.shape[:-1]) + (int(size),)
