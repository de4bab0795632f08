"""A numpy reference interpreter, bit-exact with TensorFlow Lite Micro's reference kernels.

Interpreter(model) runs every op's "prepare" once (the constants TFLM computes in
Prepare(): multipliers, shifts, activation ranges, padding) and keeps them in
`interpreter.plans[op_index]` (a dict, also useful to code generators); invoke() then runs
the ops in order.  Integer kernels compute in int64 and wrap to 32 bits where TFLM's
int32 arithmetic would, so results match TFLM bit for bit; float kernels match within
float rounding (TFLM accumulates in float32 in loop order, we in float64).

Each kernel names the TFLM function it follows.  Paths are relative to tensorflow/lite/.
"""

import numpy as np

from . import fixedpoint as fp
from .errors import ModelError
from .ir import DTYPES
from .tflite import SUPPORTED_OPS

_INT_RANGES = {"int8": (-128, 127), "int16": (-32768, 32767), "int32": (fp.INT32_MIN, fp.INT32_MAX),
               "uint8": (0, 255)}
_FLOAT_MAX = float(np.finfo(np.float32).max)


class Interpreter:
    def __init__(self, model):
        self.model = model
        self.plans = {}
        for op in model.ops:
            prepare, _ = _KERNELS[op.opcode]
            try:
                if op.opcode in _SAME_SHAPE_OPS:
                    _require_same_shape(_OpContext(model, op))
                self.plans[op.index] = prepare(_OpContext(model, op))
            except fp.MultiplierRangeError as e:
                # The scales of the op's tensors give a ratio the kernels cannot represent.
                raise ModelError(model.path, f"op #{op.index} {op.opcode}: {e} (check the scales "
                                             f"of its input, weight and output tensors)") from None

    def invoke(self, inputs, keep_all=False):
        """Runs the model on `inputs` (one array per graph input, any shape with the right
        number of elements); returns the graph outputs (or, with keep_all, a dict of every
        tensor index -> value)."""
        model = self.model
        if len(inputs) != len(model.inputs):
            raise ValueError(f"the model has {len(model.inputs)} inputs, got {len(inputs)}")
        values = {}
        for index, array in zip(model.inputs, inputs):
            t = model.tensors[index]
            array = np.asarray(array)
            if array.size != t.num_elements:
                raise ValueError(f"input tensor '{t.name}' has shape {t.shape} "
                                 f"({t.num_elements} elements), got {array.size} elements")
            values[index] = array.astype(DTYPES[t.dtype], copy=False).reshape(t.shape)
        for op in model.ops:
            args = []
            for i in op.inputs:
                if i < 0:
                    args.append(None)
                elif model.tensors[i].data is not None:
                    args.append(model.tensors[i].data)
                else:
                    args.append(values[i])
            _, run = _KERNELS[op.opcode]
            result = run(self.plans[op.index], *args)
            out = model.tensors[op.outputs[0]]
            values[op.outputs[0]] = np.asarray(result).astype(DTYPES[out.dtype], copy=False).reshape(out.shape)
        if keep_all:
            return values
        return [values[i] for i in model.outputs]


class _OpContext:
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


# --- shared helpers ---------------------------------------------------------------------

# Element-wise ops of one input: TFLM gives the output the input's shape (Prepare/ResizeOutput).
_SAME_SHAPE_OPS = {"SOFTMAX", "LOGISTIC", "TANH", "LEAKY_RELU", "QUANTIZE", "DEQUANTIZE"}


def _require_same_shape(ctx):
    if not ctx.op.inputs or ctx.op.inputs[0] < 0 or len(ctx.op.outputs) != 1:
        return                       # the op's own prepare reports the missing tensors
    inp, out = ctx.input(0), ctx.output()
    if tuple(inp.shape) != tuple(out.shape):
        ctx.fail(f"input shape {inp.shape} and output shape {out.shape} differ (this op keeps the shape)")


def _activation_range_quantized(ctx, activation, output):
    """CalculateActivationRangeQuantized (kernels/kernel_util.cc): quantize 0, 6, -1, 1 with
    TfLiteRound(f / scale) in float, add the zero point, intersect with the dtype range."""
    qmin, qmax = _INT_RANGES[output.dtype]
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


def _activation_range_float(ctx, activation):
    """CalculateActivationRange<float> (kernels/kernel_util.h)."""
    ranges = {"NONE": (-_FLOAT_MAX, _FLOAT_MAX), "RELU": (0.0, _FLOAT_MAX),
              "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}
    if activation not in ranges:
        ctx.fail(f"fused activation {activation} is not supported (NONE, RELU, RELU6, RELU_N1_TO_1)")
    return ranges[activation]


def _compute_out_size(padding, image_size, filter_size, stride, dilation):
    """ComputeOutSize (kernels/padding.h)."""
    effective = (filter_size - 1) * dilation + 1
    if padding == "SAME":
        return (image_size + stride - 1) // stride
    return (image_size + stride - effective) // stride


def _compute_padding(stride, dilation, in_size, filter_size, out_size):
    """ComputePaddingWithOffset (kernels/padding.h): the leading padding (offset unused)."""
    effective = (filter_size - 1) * dilation + 1
    total = (out_size - 1) * stride + effective - in_size
    return max(total, 0) // 2


def _window_geometry(ctx, in_hw, kernel_hw, stride_hw, dilation_hw, out_hw, padding):
    """Checks the model's output size against TFLM's and returns the leading paddings."""
    pads = []
    for axis, name in ((0, "height"), (1, "width")):
        if stride_hw[axis] <= 0 or dilation_hw[axis] <= 0:
            ctx.fail(f"stride and dilation must be positive, got stride {stride_hw}, "
                     f"dilation {dilation_hw}")
        expected = _compute_out_size(padding, in_hw[axis], kernel_hw[axis], stride_hw[axis],
                                     dilation_hw[axis])
        if expected != out_hw[axis]:
            ctx.fail(f"output {name} is {out_hw[axis]} but {padding} padding of input {name} "
                     f"{in_hw[axis]} with kernel {kernel_hw[axis]}, stride {stride_hw[axis]} "
                     f"gives {expected}")
        pads.append(_compute_padding(stride_hw[axis], dilation_hw[axis], in_hw[axis],
                                     kernel_hw[axis], out_hw[axis]))
    return tuple(pads)


def _padded(x, pad_hw, kernel_hw, stride_hw, dilation_hw, out_hw, value):
    """x (NHWC) padded with `value` so that every window tap of every output lies inside."""
    n, h, w, c = x.shape
    spans = [(out_hw[a] - 1) * stride_hw[a] + (kernel_hw[a] - 1) * dilation_hw[a] + 1
             for a in (0, 1)]
    after = [max(0, spans[0] - h - pad_hw[0]), max(0, spans[1] - w - pad_hw[1])]
    result = np.full((n, pad_hw[0] + h + after[0], pad_hw[1] + w + after[1], c), value, x.dtype)
    result[:, pad_hw[0]:pad_hw[0] + h, pad_hw[1]:pad_hw[1] + w, :] = x
    return result


def _taps(xp, ky, kx, stride_hw, dilation_hw, out_hw):
    """The input values window tap (ky, kx) reads for every output position: [N,OH,OW,C]."""
    y0, x0 = ky * dilation_hw[0], kx * dilation_hw[1]
    return xp[:, y0:y0 + (out_hw[0] - 1) * stride_hw[0] + 1:stride_hw[0],
              x0:x0 + (out_hw[1] - 1) * stride_hw[1] + 1:stride_hw[1], :]


def _exact_matmul(a, b):
    """Integer matrix product computed in float64 BLAS when every partial sum is exactly
    representable (|sum| < 2^53), else in int64."""
    bound = float(np.abs(a).max(initial=0)) * float(np.abs(b).max(initial=0)) * a.shape[-1]
    if bound < 2.0 ** 52:
        return np.rint(a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)
    return a.astype(np.int64) @ b.astype(np.int64)


def _multipliers(ctx, real_multipliers):
    multipliers, shifts = fp.quantize_multipliers(real_multipliers)
    return multipliers, shifts


def _requantize(plan, acc):
    """Scales an accumulator to the output: the int32 (8-bit kernels) or int64 (16x8
    kernels) MultiplyByQuantizedMultiplier, output zero point, activation clamp."""
    if plan["wide_accumulator"]:
        scaled = fp.multiply_by_quantized_multiplier_int64(acc, plan["multiplier"], plan["shift"])
    else:
        scaled = fp.multiply_by_quantized_multiplier(fp.wrap32(acc), plan["multiplier"], plan["shift"])
    scaled = scaled + plan["output_zero_point"]
    return np.clip(scaled, plan["act_min"], plan["act_max"])


# --- CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, TRANSPOSE_CONV --------------------------

def _prepare_weighted(ctx, weights_index, bias_index, channel_count, per_channel_multiplier):
    """The part of Prepare shared by conv-like ops: dtype checks, per-channel multipliers
    (PopulateConvolutionQuantizationParams, kernels/kernel_util.cc), activation range."""
    op = ctx.op
    inp = ctx.input(0 if op.opcode != "TRANSPOSE_CONV" else 2)
    weights, bias, out = ctx.input(weights_index), ctx.input(bias_index), ctx.output()
    ctx.require_constant(weights, "weights")
    if bias is not None:
        ctx.require_constant(bias, "bias")
    plan = {"input_dtype": inp.dtype}
    activation = op.options.get("fused_activation_function", "NONE")
    if inp.dtype == "float32":
        if weights.dtype != "float32":
            ctx.fail("hybrid models (float activations, quantized weights) are not supported "
                     "(TFLM refuses them too: 'Hybrid models are not supported')")
        ctx.require_dtypes(out, ("float32",), "output")
        plan["act_min"], plan["act_max"] = _activation_range_float(ctx, activation)
        plan["bias"] = (np.zeros(channel_count, np.float32) if bias is None
                        else bias.data.astype(np.float32).reshape(-1))
        return plan
    ctx.require_dtypes(inp, ("int8", "int16"), "input")
    ctx.require_dtypes(weights, ("int8",), "weights")
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    in_scale, in_zp = ctx.per_tensor_quant(inp, "input")
    out_scale, out_zp = ctx.per_tensor_quant(out, "output")
    if not weights.is_quantized:
        ctx.fail(f"weights tensor '{weights.name}' has no quantization parameters")
    wide = inp.dtype == "int16"
    if bias is not None:
        ctx.require_dtypes(bias, ("int64", "int32") if wide else ("int32",), "bias")
        if bias.num_elements != channel_count:
            ctx.fail(f"bias has {bias.num_elements} elements, expected {channel_count}")
    weight_scales = weights.scale.astype(np.float32)
    if weight_scales.size not in (1, channel_count):
        ctx.fail(f"weights have {weight_scales.size} scales, expected 1 or {channel_count}")
    if weight_scales.size > 1 or per_channel_multiplier:
        # PopulateConvolutionQuantizationParams: double(input_scale) * double(filter_scale)
        # / double(output_scale), per channel (a per-tensor scale is broadcast).
        real = (np.float64(in_scale) * weight_scales.astype(np.float64)) / np.float64(out_scale)
        real = np.broadcast_to(real, (channel_count,))
    else:
        # FullyConnected, per-tensor weights: GetQuantizedConvolutionMultipler
        # (kernels/kernel_util.cc) widens the *float* product input_scale * filter_scale
        # to double before dividing by the output scale (TFLM as of 2024).  This changes
        # the multiplier of every per-tensor FC layer in the golden models by a few units
        # in the last place versus the all-double form, but the 8 golden inputs per model
        # match with either form: the goldens do not decide, TFLM's source does.
        product = np.float32(in_scale * weight_scales[0])
        real = np.full(channel_count, np.float64(product) / np.float64(out_scale))
    plan["multiplier"], plan["shift"] = _multipliers(ctx, real)
    plan["real_multiplier"] = real
    plan["input_zero_point"] = in_zp
    plan["weights_zero_point"] = int(weights.zero_point[0]) if weights.zero_point.size else 0
    plan["output_zero_point"] = out_zp
    plan["act_min"], plan["act_max"] = _activation_range_quantized(ctx, activation, out)
    plan["wide_accumulator"] = wide and (bias is None or bias.dtype == "int64")
    if plan["wide_accumulator"] and plan["shift"].size and int(plan["shift"].max()) > 14:
        # The 64-bit requantization shifts right by 15 - shift: it needs shift <= 14.
        ctx.fail(f"rescale factor {float(real.max()):g} (input scale x weight scale / output scale) is "
                 f"too large for the 16x8 kernels' 64-bit requantization (at most 2^14)")
    plan["bias"] = (np.zeros(channel_count, np.int64) if bias is None
                    else bias.data.astype(np.int64).reshape(-1))
    return plan


def prepare_conv_2d(ctx):
    ctx.require_inputs(2, 3)
    inp, weights, out = ctx.input(0), ctx.input(1), ctx.output()
    if len(inp.shape) != 4 or len(weights.shape) != 4 or len(out.shape) != 4:
        ctx.fail(f"expects 4-D input, weights and output, got {inp.shape}, {weights.shape}, {out.shape}")
    out_c, kh, kw, in_c = weights.shape
    if in_c != inp.shape[3]:
        ctx.fail(f"weights {weights.shape} expect {in_c} input channels, the input {inp.shape} "
                 f"has {inp.shape[3]} (grouped convolution is not supported)")
    if out.shape[3] != out_c:
        ctx.fail(f"output {out.shape} does not have the weights' {out_c} channels")
    plan = _prepare_weighted(ctx, 1, 2, out_c, per_channel_multiplier=True)
    o = ctx.op.options
    plan["stride"] = (o["stride_h"], o["stride_w"])
    plan["dilation"] = (o["dilation_h_factor"], o["dilation_w_factor"])
    plan["kernel"] = (kh, kw)
    plan["out_hw"] = out.shape[1:3]
    plan["pad"] = _window_geometry(ctx, inp.shape[1:3], plan["kernel"], plan["stride"],
                                   plan["dilation"], plan["out_hw"], o["padding"])
    plan["weights"] = weights.data.reshape(out_c, -1)
    return plan


def run_conv_2d(plan, x, weights, bias=None):
    """reference_integer_ops::ConvPerChannel (int8 and 16x8) / reference_ops::Conv (float):
    padded taps are skipped, which equals reading the input zero point."""
    kernel, stride, dilation, out_hw = plan["kernel"], plan["stride"], plan["dilation"], plan["out_hw"]
    is_float = plan["input_dtype"] == "float32"
    zp = 0 if is_float else plan["input_zero_point"]
    xp = _padded(x, plan["pad"], kernel, stride, dilation, out_hw, zp)
    taps = [_taps(xp, ky, kx, stride, dilation, out_hw)
            for ky in range(kernel[0]) for kx in range(kernel[1])]
    patches = np.stack(taps, axis=3)                     # N, OH, OW, KH*KW, C
    n = x.shape[0]
    patches = patches.reshape(n * out_hw[0] * out_hw[1], -1)
    if is_float:
        acc = patches.astype(np.float64) @ plan["weights"].astype(np.float64).T
        result = (acc.astype(np.float32) + plan["bias"])
        return np.clip(result, plan["act_min"], plan["act_max"]).reshape(n, *out_hw, -1)
    acc = _exact_matmul(patches.astype(np.int64) - zp, plan["weights"].T) + plan["bias"]
    return _requantize(plan, acc).reshape(n, *out_hw, -1)


def prepare_depthwise_conv_2d(ctx):
    ctx.require_inputs(2, 3)
    inp, weights, out = ctx.input(0), ctx.input(1), ctx.output()
    if len(inp.shape) != 4 or len(weights.shape) != 4 or len(out.shape) != 4:
        ctx.fail(f"expects 4-D input, weights and output, got {inp.shape}, {weights.shape}, {out.shape}")
    _, kh, kw, out_c = weights.shape
    in_c = inp.shape[3]
    if out_c % in_c or out.shape[3] != out_c:
        ctx.fail(f"weights {weights.shape} and output {out.shape} do not fit input {inp.shape}")
    plan = _prepare_weighted(ctx, 1, 2, out_c, per_channel_multiplier=True)
    o = ctx.op.options
    plan["depth_multiplier"] = out_c // in_c
    plan["stride"] = (o["stride_h"], o["stride_w"])
    plan["dilation"] = (o["dilation_h_factor"], o["dilation_w_factor"])
    plan["kernel"] = (kh, kw)
    plan["out_hw"] = out.shape[1:3]
    plan["pad"] = _window_geometry(ctx, inp.shape[1:3], plan["kernel"], plan["stride"],
                                   plan["dilation"], plan["out_hw"], o["padding"])
    plan["weights"] = weights.data.reshape(kh, kw, out_c)
    return plan


def run_depthwise_conv_2d(plan, x, weights, bias=None):
    """reference_integer_ops::DepthwiseConvPerChannel / reference_ops::DepthwiseConv:
    output channel oc reads input channel oc / depth_multiplier."""
    kernel, stride, dilation, out_hw = plan["kernel"], plan["stride"], plan["dilation"], plan["out_hw"]
    is_float = plan["input_dtype"] == "float32"
    zp = 0 if is_float else plan["input_zero_point"]
    if plan["depth_multiplier"] > 1:
        x = np.repeat(x, plan["depth_multiplier"], axis=3)
    xp = _padded(x, plan["pad"], kernel, stride, dilation, out_hw, zp)
    w = plan["weights"]
    if is_float:
        acc = np.zeros(xp.shape[:1] + tuple(out_hw) + (w.shape[2],), np.float64)
        for ky in range(kernel[0]):
            for kx in range(kernel[1]):
                acc += _taps(xp, ky, kx, stride, dilation, out_hw) * w[ky, kx].astype(np.float64)
        result = acc.astype(np.float32) + plan["bias"]
        return np.clip(result, plan["act_min"], plan["act_max"])
    xp = xp.astype(np.int64) - zp
    w = w.astype(np.int64)
    acc = np.zeros(xp.shape[:1] + tuple(out_hw) + (w.shape[2],), np.int64)
    for ky in range(kernel[0]):
        for kx in range(kernel[1]):
            acc += _taps(xp, ky, kx, stride, dilation, out_hw) * w[ky, kx]
    return _requantize(plan, acc + plan["bias"])


def prepare_fully_connected(ctx):
    ctx.require_inputs(2, 3)
    inp, weights, out = ctx.input(0), ctx.input(1), ctx.output()
    if len(weights.shape) != 2:
        ctx.fail(f"expects 2-D weights, got {weights.shape}")
    units, depth = weights.shape
    if depth == 0 or inp.num_elements % depth:
        ctx.fail(f"input {inp.shape} cannot be split into rows of the weights' depth {depth}")
    if ctx.op.options.get("weights_format", 0) != 0:
        ctx.fail("shuffled weights (weights_format SHUFFLED4x16INT8) are not supported")
    batches = inp.num_elements // depth
    if out.num_elements != batches * units:
        ctx.fail(f"output {out.shape} does not hold {batches} x {units} values")
    plan = _prepare_weighted(ctx, 1, 2, units, per_channel_multiplier=False)
    plan["depth"] = depth
    plan["weights"] = weights.data
    return plan


def run_fully_connected(plan, x, weights, bias=None):
    """reference_integer_ops::FullyConnected / reference_ops::FullyConnected."""
    rows = x.reshape(-1, plan["depth"])
    if plan["input_dtype"] == "float32":
        acc = rows.astype(np.float64) @ plan["weights"].astype(np.float64).T
        return np.clip(acc.astype(np.float32) + plan["bias"], plan["act_min"], plan["act_max"])
    lhs = rows.astype(np.int64) - plan["input_zero_point"]
    rhs = plan["weights"].astype(np.int64).T - plan["weights_zero_point"]
    return _requantize(plan, _exact_matmul(lhs, rhs) + plan["bias"])


def prepare_transpose_conv(ctx):
    ctx.require_inputs(3, 4)
    shape_t, weights, inp, out = ctx.input(0), ctx.input(1), ctx.input(2), ctx.output()
    if len(inp.shape) != 4 or len(weights.shape) != 4 or len(out.shape) != 4:
        ctx.fail(f"expects 4-D input, weights and output, got {inp.shape}, {weights.shape}, {out.shape}")
    if shape_t.data is not None and tuple(int(v) for v in shape_t.data.reshape(-1)) != out.shape:
        ctx.fail(f"output_shape {shape_t.data.tolist()} differs from the output tensor {out.shape}")
    out_c, kh, kw, in_c = weights.shape
    if in_c != inp.shape[3] or out.shape[3] != out_c:
        ctx.fail(f"weights {weights.shape} do not fit input {inp.shape} and output {out.shape}")
    plan = _prepare_weighted(ctx, 1, 3, out_c, per_channel_multiplier=True)
    o = ctx.op.options
    plan["stride"] = (o["stride_h"], o["stride_w"])
    plan["kernel"] = (kh, kw)
    plan["out_hw"] = out.shape[1:3]
    # TFLM's transpose_conv.cc: ComputePaddingHeightWidth on the *output* size.
    pads = []
    for axis in (0, 1):
        if plan["stride"][axis] <= 0:
            ctx.fail(f"strides must be positive, got {plan['stride']}")
        size = _compute_out_size(o["padding"], out.shape[1 + axis], plan["kernel"][axis],
                                 plan["stride"][axis], 1)
        pads.append(_compute_padding(plan["stride"][axis], 1, out.shape[1 + axis],
                                     plan["kernel"][axis], size))
    plan["pad"] = tuple(pads)
    plan["weights"] = weights.data
    return plan


def run_transpose_conv(plan, output_shape, weights, x, bias=None):
    """reference_integer_ops::TransposeConv / reference_ops::TransposeConv: every input
    pixel scatters input x weights into a (zeroed) accumulator at
    out = in * stride - pad + k; taps falling outside the output are dropped."""
    n, ih, iw, _ = x.shape
    (sh, sw), (kh, kw), (oh, ow), (ph, pw) = plan["stride"], plan["kernel"], plan["out_hw"], plan["pad"]
    is_float = plan["input_dtype"] == "float32"
    w = plan["weights"]
    full_h = (ih - 1) * sh + kh
    full_w = (iw - 1) * sw + kw
    if is_float:
        acc = np.zeros((n, max(full_h, ph + oh), max(full_w, pw + ow), w.shape[0]), np.float64)
        xs = x.astype(np.float64)
        wf = w.astype(np.float64)
    else:
        acc = np.zeros((n, max(full_h, ph + oh), max(full_w, pw + ow), w.shape[0]), np.int64)
        xs = x.astype(np.int64) - plan["input_zero_point"]
        wf = w.astype(np.int64)
    for ky in range(kh):
        for kx in range(kw):
            contribution = xs @ wf[:, ky, kx, :].T          # N, IH, IW, OC
            acc[:, ky:ky + (ih - 1) * sh + 1:sh, kx:kx + (iw - 1) * sw + 1:sw, :] += contribution
    acc = acc[:, ph:ph + oh, pw:pw + ow, :]
    if is_float:
        return np.clip(acc.astype(np.float32) + plan["bias"], plan["act_min"], plan["act_max"])
    if not plan["wide_accumulator"]:
        acc = fp.wrap32(acc)
    return _requantize(plan, acc + plan["bias"])


# --- pooling and MEAN ------------------------------------------------------------------

def _prepare_pool(ctx):
    ctx.require_inputs(1)
    inp, out = ctx.input(0), ctx.output()
    ctx.require_dtypes(inp, ("int8", "int16", "float32"), "input")
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    if len(inp.shape) != 4 or len(out.shape) != 4 or out.shape[3] != inp.shape[3]:
        ctx.fail(f"expects 4-D input and output with equal channels, got {inp.shape}, {out.shape}")
    o = ctx.op.options
    plan = {"input_dtype": inp.dtype, "kernel": (o["filter_height"], o["filter_width"]),
            "stride": (o["stride_h"], o["stride_w"]), "out_hw": out.shape[1:3]}
    if min(plan["kernel"]) <= 0:
        ctx.fail(f"filter size must be positive, got {plan['kernel']}")
    plan["pad"] = _window_geometry(ctx, inp.shape[1:3], plan["kernel"], plan["stride"], (1, 1),
                                   plan["out_hw"], o["padding"])
    activation = o["fused_activation_function"]
    if inp.dtype == "float32":
        plan["act_min"], plan["act_max"] = _activation_range_float(ctx, activation)
    else:
        ctx.per_tensor_quant(inp, "input")
        ctx.per_tensor_quant(out, "output")
        plan["act_min"], plan["act_max"] = _activation_range_quantized(ctx, activation, out)
    return plan


def prepare_average_pool_2d(ctx):
    return _prepare_pool(ctx)


def run_average_pool_2d(plan, x):
    """reference_integer_ops::AveragePool: sum of the in-bounds taps, divided by their
    count rounding half away from zero (C integer division), then clamped.  Float:
    reference_ops::AveragePool, total / count."""
    kernel, stride, out_hw = plan["kernel"], plan["stride"], plan["out_hw"]
    is_float = plan["input_dtype"] == "float32"
    xp = _padded(x.astype(np.float64 if is_float else np.int64), plan["pad"], kernel, stride,
                 (1, 1), out_hw, 0)
    inside = _padded(np.ones(x.shape[:3] + (1,), np.int64), plan["pad"], kernel, stride, (1, 1),
                     out_hw, 0)
    total = np.zeros(xp.shape[:1] + tuple(out_hw) + xp.shape[3:], xp.dtype)
    count = np.zeros(xp.shape[:1] + tuple(out_hw) + (1,), np.int64)
    for ky in range(kernel[0]):
        for kx in range(kernel[1]):
            total += _taps(xp, ky, kx, stride, (1, 1), out_hw)
            count += _taps(inside, ky, kx, stride, (1, 1), out_hw)
    count = np.maximum(count, 1)
    if is_float:
        return np.clip((total / count).astype(np.float32), plan["act_min"], plan["act_max"])
    half = count // 2
    rounded = np.where(total > 0, (total + half) // count, -((half - total) // count))
    return np.clip(rounded, plan["act_min"], plan["act_max"])


def prepare_max_pool_2d(ctx):
    return _prepare_pool(ctx)


def run_max_pool_2d(plan, x):
    """reference_integer_ops::MaxPool / reference_ops::MaxPool: max of the in-bounds taps."""
    kernel, stride, out_hw = plan["kernel"], plan["stride"], plan["out_hw"]
    lowest = -np.inf if plan["input_dtype"] == "float32" else np.iinfo(x.dtype).min
    xp = _padded(x, plan["pad"], kernel, stride, (1, 1), out_hw, lowest)
    result = None
    for ky in range(kernel[0]):
        for kx in range(kernel[1]):
            tap = _taps(xp, ky, kx, stride, (1, 1), out_hw)
            result = tap if result is None else np.maximum(result, tap)
    return np.clip(result, plan["act_min"], plan["act_max"])


def prepare_mean(ctx):
    ctx.require_inputs(2)
    inp, axis_t, out = ctx.input(0), ctx.input(1), ctx.output()
    ctx.require_dtypes(inp, ("int8", "int16", "float32"), "input")
    ctx.require_constant(axis_t, "axis")
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    rank = len(inp.shape)
    axes = sorted({int(a) + rank if int(a) < 0 else int(a) for a in axis_t.data.reshape(-1)})
    if any(not 0 <= a < rank for a in axes):
        ctx.fail(f"axis {axis_t.data.tolist()} is outside the input's rank {rank}")
    plan = {"input_dtype": inp.dtype, "axes": tuple(axes)}
    count = int(np.prod([inp.shape[a] for a in axes], dtype=np.int64))
    plan["count"] = count
    if inp.dtype != "float32":
        in_scale, in_zp = ctx.per_tensor_quant(inp, "input")
        out_scale, out_zp = ctx.per_tensor_quant(out, "output")
        # PrepareMeanOrSum (micro/kernels/reduce_common.cc): QuantizeMultiplier of
        # double(input_scale) / double(output_scale); QuantizedMeanOrSumExtraArgs
        # (internal/reference/reduce.h) then folds 1 / count into it.
        multiplier, shift = fp.quantize_multiplier(np.float64(in_scale) / np.float64(out_scale))
        if count > 0:
            pot = count.bit_length() - 1                   # 63 - CountLeadingZeros(count)
            pot = min(pot, 32, 31 + shift)
            multiplier = (multiplier << pot) // count
            shift -= pot
        plan.update(multiplier=multiplier, shift=shift, input_zero_point=in_zp,
                    output_zero_point=out_zp, range=_INT_RANGES[out.dtype])
    return plan


def run_mean(plan, x, axis):
    """Float: reference_ops::Mean.  Quantized: QuantizedMeanOrSumExtraArgs."""
    axes = plan["axes"]
    if plan["input_dtype"] == "float32":
        return np.mean(x.astype(np.float64), axis=axes).astype(np.float32)
    total = np.sum(x.astype(np.int64), axis=axes)
    shifted = fp.wrap32(total - plan["input_zero_point"] * plan["count"])
    result = fp.multiply_by_quantized_multiplier(shifted, plan["multiplier"], plan["shift"])
    return np.clip(result + plan["output_zero_point"], *plan["range"])


# --- element-wise arithmetic -----------------------------------------------------------

def _prepare_add_sub(ctx, float_multipliers):
    ctx.require_inputs(2)
    a, b, out = ctx.input(0), ctx.input(1), ctx.output()
    ctx.require_dtypes(out, ("int8", "int16", "float32"), "output")
    for t, role in ((a, "first input"), (b, "second input")):
        if t.dtype != out.dtype:
            ctx.fail(f"{role} has dtype {t.dtype}, the output {out.dtype}")
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        ctx.fail(f"input shapes {a.shape} and {b.shape} do not broadcast")
    if tuple(shape) != tuple(out.shape) and int(np.prod(shape)) != out.num_elements:
        ctx.fail(f"inputs broadcast to {tuple(shape)}, the output is {out.shape}")
    activation = ctx.op.options.get("fused_activation_function", "NONE")
    plan = {"dtype": out.dtype}
    if out.dtype == "float32":
        plan["act_min"], plan["act_max"] = _activation_range_float(ctx, activation)
        return plan
    s1, z1 = ctx.per_tensor_quant(a, "first input")
    s2, z2 = ctx.per_tensor_quant(b, "second input")
    so, zo = ctx.per_tensor_quant(out, "output")
    left_shift = 15 if out.dtype == "int16" else 20
    if float_multipliers:
        # CalculateOpDataSub in TFLM's 2025 sub_common.cc divides in float.  Not used: the
        # int16 SUB conformance goldens (sub0, sub1, sub3) match only the double form below,
        # which older TFLM sub.cc computes (its float steps, 2 * max and 2^k * scale, are
        # exact, so it equals all-double).
        twice_max = np.float32(2) * np.float32(max(s1, s2))
        real1 = np.float64(np.float32(s1 / twice_max))
        real2 = np.float64(np.float32(s2 / twice_max))
        real_out = np.float64(np.float32(twice_max / (np.float32(1 << left_shift) * so)))
    else:
        # CalculateOpDataAdd (micro/kernels/add_common.cc) divides in double; so did the
        # TFLM that produced the SUB goldens.
        twice_max = 2.0 * np.float64(max(s1, s2))
        real1 = np.float64(s1) / twice_max
        real2 = np.float64(s2) / twice_max
        real_out = twice_max / ((1 << left_shift) * np.float64(so))
    for name, real in (("input1", real1), ("input2", real2), ("output", real_out)):
        if not 0.0 < real < 1.0:
            ctx.fail(f"the {name} rescaling factor {real} is not in (0, 1): the scales are "
                     f"outside what TFLM supports")
        plan[f"{name}_multiplier"], plan[f"{name}_shift"] = fp.quantize_multiplier(real)
    plan.update(left_shift=left_shift, input1_offset=-z1, input2_offset=-z2, output_offset=zo)
    plan["act_min"], plan["act_max"] = _activation_range_quantized(ctx, activation, out)
    return plan


def _scaled_inputs(plan, a, b):
    """The common front of AddElementwise / SubElementwise (internal/reference/add.h,
    sub.h): offset, shift left, rescale each input to the common scale."""
    def scale(x, offset, multiplier, shift):
        shifted = fp.wrap32((x.astype(np.int64) + offset) << plan["left_shift"])
        return fp.multiply_by_quantized_multiplier_smaller_than_one_exp(shifted, multiplier, shift)
    return (scale(a, plan["input1_offset"], plan["input1_multiplier"], plan["input1_shift"]),
            scale(b, plan["input2_offset"], plan["input2_multiplier"], plan["input2_shift"]))


def _finish(plan, raw):
    result = fp.multiply_by_quantized_multiplier_smaller_than_one_exp(
        fp.wrap32(raw), plan["output_multiplier"], plan["output_shift"]) + plan["output_offset"]
    return np.clip(result, plan["act_min"], plan["act_max"])


def prepare_add(ctx):
    return _prepare_add_sub(ctx, float_multipliers=False)


def run_add(plan, a, b):
    """reference_integer_ops::Add / reference_ops::AddElementwise (int16 general scale,
    the only path TFLM takes) / reference_ops::Add (float); broadcasting as numpy."""
    if plan["dtype"] == "float32":
        return np.clip(a + b, plan["act_min"], plan["act_max"])
    x, y = _scaled_inputs(plan, a, b)
    return _finish(plan, x + y)


def prepare_sub(ctx):
    return _prepare_add_sub(ctx, float_multipliers=False)


def run_sub(plan, a, b):
    """reference_ops::Sub / BroadcastQuantSubSlow (internal/reference/sub.h)."""
    if plan["dtype"] == "float32":
        return np.clip(a - b, plan["act_min"], plan["act_max"])
    x, y = _scaled_inputs(plan, a, b)
    return _finish(plan, x - y)


# --- shape ops -------------------------------------------------------------------------

def _require_same_quantization(ctx, inp, out):
    """Ops that copy bytes (RESHAPE, STRIDED_SLICE): the output must mean what the input means."""
    if inp.dtype == "float32":
        return
    if (np.float32(inp.scale_scalar) != np.float32(out.scale_scalar)
            or inp.zero_point_scalar != out.zero_point_scalar):
        ctx.fail(f"input quantization (scale {float(inp.scale_scalar):g}, zero point {inp.zero_point_scalar}) "
                 f"and output quantization (scale {float(out.scale_scalar):g}, zero point "
                 f"{out.zero_point_scalar}) differ; this op copies values, it does not requantize")


def prepare_reshape(ctx):
    ctx.require_inputs(1, 2)
    inp, out = ctx.input(0), ctx.output()
    if inp.num_elements != out.num_elements:
        ctx.fail(f"input {inp.shape} and output {out.shape} have different sizes")
    if inp.dtype != out.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    _require_same_quantization(ctx, inp, out)
    return {}


def run_reshape(plan, x, shape=None):
    return x


def prepare_concatenation(ctx):
    if len(ctx.op.inputs) < 1 or any(i < 0 for i in ctx.op.inputs):
        ctx.fail("expects at least one input")
    out = ctx.output()
    rank = len(out.shape)
    axis = ctx.op.options["axis"]
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < max(rank, 1):
        ctx.fail(f"axis {ctx.op.options['axis']} is outside the output's rank {rank}")
    for k in range(len(ctx.op.inputs)):
        if ctx.input(k).dtype != out.dtype:
            ctx.fail(f"input {k} has dtype {ctx.input(k).dtype}, the output {out.dtype}")
    if ctx.op.options.get("fused_activation_function", "NONE") != "NONE":
        ctx.fail("a fused activation on CONCATENATION is not supported")
    return {"axis": axis}


def run_concatenation(plan, *xs):
    """reference_ops::Concatenation: TFLM copies the raw values (no requantization)."""
    return np.concatenate(xs, axis=plan["axis"])


def _prepare_pad(ctx, with_value):
    ctx.require_inputs(2, 3 if with_value else 2)
    inp, paddings, out = ctx.input(0), ctx.input(1), ctx.output()
    ctx.require_constant(paddings, "paddings")
    ctx.require_dtypes(inp, ("int8", "int16", "float32"), "input")
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    pads = paddings.data.astype(np.int64).reshape(-1, 2)
    if pads.shape[0] != len(inp.shape) or (pads < 0).any():
        ctx.fail(f"paddings {paddings.data.tolist()} do not fit the input's rank {len(inp.shape)}")
    expected = tuple(int(d + p[0] + p[1]) for d, p in zip(inp.shape, pads))
    if expected != out.shape:
        ctx.fail(f"padding input {inp.shape} by {pads.tolist()} gives {expected}, the output is {out.shape}")
    value = ctx.input(2)
    if value is not None:
        ctx.require_constant(value, "constant_values")
        pad_value = value.data.reshape(-1)[0]
    elif out.dtype == "float32":
        pad_value = 0.0
    else:
        pad_value = out.zero_point_scalar            # pad.cc: the output zero point
    return {"pads": [tuple(int(v) for v in p) for p in pads], "value": pad_value}


def prepare_pad(ctx):
    return _prepare_pad(ctx, with_value=False)


def prepare_padv2(ctx):
    return _prepare_pad(ctx, with_value=True)


def run_pad(plan, x, paddings, value=None):
    """reference_ops::Pad."""
    return np.pad(x, plan["pads"], mode="constant", constant_values=plan["value"])


run_padv2 = run_pad


def prepare_strided_slice(ctx):
    ctx.require_inputs(4)
    inp, begin, end, strides, out = (ctx.input(0), ctx.input(1), ctx.input(2), ctx.input(3),
                                     ctx.output())
    _require_same_quantization(ctx, inp, out)
    for t, role in ((begin, "begin"), (end, "end"), (strides, "strides")):
        ctx.require_constant(t, role)
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    o = ctx.op.options
    if o["ellipsis_mask"] or o["new_axis_mask"]:
        ctx.fail("ellipsis_mask and new_axis_mask are not supported (TFLM ignores them)")
    rank = len(inp.shape)
    if rank > 5:
        ctx.fail(f"input rank {rank} exceeds 5")
    starts = [int(v) for v in begin.data.reshape(-1)]
    stops = [int(v) for v in end.data.reshape(-1)]
    steps = [int(v) for v in strides.data.reshape(-1)]
    if not len(starts) == len(stops) == len(steps) <= rank:
        ctx.fail(f"begin, end and strides must have equal lengths <= rank {rank}")
    if 0 in steps:
        ctx.fail("stride value has to be non-zero")
    # StridedSlicePadIndices (internal/strided_slice_logic.h): pad at the front to 5-D.
    pad = 5 - len(starts)
    shape5 = (1,) * (5 - rank) + tuple(inp.shape)
    starts, stops, steps = [0] * pad + starts, [1] * pad + stops, [1] * pad + steps
    begin_mask = (o["begin_mask"] << pad) | ((1 << pad) - 1)
    end_mask = (o["end_mask"] << pad) | ((1 << pad) - 1)
    shrink = o["shrink_axis_mask"] << pad
    offset = o.get("offset", False)
    # The input is padded to 5-D as ExtendedShape(5, ...) does: leading 1s.  The indices
    # were padded by their own count, which matches when len(begin) == rank.
    if len(begin.data.reshape(-1)) != rank:
        ctx.fail(f"begin has {begin.num_elements} entries, the input rank is {rank}")
    indices = []
    for axis in range(5):
        size, stride = shape5[axis], steps[axis]
        # StridedSliceStartForAxis
        start = starts[axis]
        if start < 0:
            start += size
        start = min(max(start, 0), size) if stride > 0 else min(max(start, -1), size - 1)
        if begin_mask & (1 << axis):
            start = 0 if stride > 0 else size - 1
        # StridedSliceEndForAxis
        if shrink & (1 << axis):
            stop = start if start >= size else start + 1
        else:
            stop = stops[axis] + (start if offset else 0)
            if stop < 0:
                stop += size
            stop = min(max(stop, 0), size) if stride > 0 else min(max(stop, -1), size - 1)
            if end_mask & (1 << axis):
                stop = size if stride > 0 else -1
        indices.append(range(start, stop, stride))
    count = int(np.prod([len(i) for i in indices]))
    if count != out.num_elements:
        ctx.fail(f"the slice selects {count} elements, the output {out.shape} holds {out.num_elements}")
    return {"shape5": shape5, "indices": [np.array(i, np.int64) for i in indices]}


def run_strided_slice(plan, x, begin, end, strides):
    """reference_ops::StridedSlice."""
    return x.reshape(plan["shape5"])[np.ix_(*plan["indices"])]


# --- activations -----------------------------------------------------------------------

def prepare_softmax(ctx):
    ctx.require_inputs(1)
    inp, out = ctx.input(0), ctx.output()
    beta = np.float32(ctx.op.options["beta"])
    if inp.dtype == "float32":
        ctx.require_dtypes(out, ("float32",), "output")
        return {"dtype": "float32", "beta": beta}
    ctx.require_dtypes(inp, ("int8", "float32"), "input")
    ctx.require_dtypes(out, ("int8",), "output")
    in_scale, _ = ctx.per_tensor_quant(inp, "input")
    out_scale, out_zp = ctx.per_tensor_quant(out, "output")
    if out_zp != -128 or out_scale != np.float32(1.0 / 256):
        ctx.fail(f"an int8 softmax output must have scale 1/256 and zero point -128, has "
                 f"{out_scale} and {out_zp}")
    # CalculateSoftmaxParams (micro/kernels/softmax_common.cc) -> PreprocessSoftmaxScaling
    # and CalculateInputRadius (internal/quantization_util.cc), kScaledDiffIntegerBits = 5.
    integer_bits = 5
    real = min(np.float64(beta) * np.float64(in_scale) * (1 << (31 - integer_bits)),
               float((1 << 31) - 1))
    multiplier, left_shift = fp.quantize_multiplier(real)
    if left_shift < 0:
        ctx.fail(f"input scale {in_scale} x beta {beta} is too small for TFLM's softmax")
    radius = int(np.floor(1.0 * ((1 << integer_bits) - 1) * (1 << (31 - integer_bits))
                          / (1 << left_shift)))
    return {"dtype": "int8", "multiplier": multiplier, "left_shift": left_shift, "diff_min": -radius}


def run_softmax(plan, x):
    """reference_ops::Softmax<int8, int8> (internal/reference/softmax.h): exp in Q5.26 of
    the scaled difference to the row maximum, sum in Q12.19, GetReciprocal, rescale."""
    if plan["dtype"] == "float32":
        z = x.astype(np.float32)
        e = np.exp((z - z.max(axis=-1, keepdims=True)) * plan["beta"])
        return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)
    xi = x.astype(np.int64)
    diff = xi - xi.max(axis=-1, keepdims=True)
    used = diff >= plan["diff_min"]
    scaled = fp.multiply_by_quantized_multiplier_greater_than_one(diff, plan["multiplier"],
                                                                  plan["left_shift"])
    exps = fp.exp_on_negative_values(scaled, 5)                    # Q0.31
    in_accum = fp.saturating_rounding_multiply_by_pot(exps, -12)   # Rescale<12>
    sums = fp.wrap32(np.sum(np.where(used, in_accum, 0), axis=-1, keepdims=True))
    reciprocal, bits_over_unit = fp.get_reciprocal(sums, 12)
    exponent = bits_over_unit + 31 - 8
    out = fp.rounding_divide_by_pot(fp.srdhm(reciprocal, exps), exponent) - 128
    return np.where(used, np.clip(out, -128, 127), -128)


def _prepare_sigmoid_like(ctx, name, output_scale, output_zero_point):
    ctx.require_inputs(1)
    inp, out = ctx.input(0), ctx.output()
    if inp.dtype == "float32":
        ctx.require_dtypes(out, ("float32",), "output")
        return {"dtype": "float32"}
    ctx.require_dtypes(inp, ("int8", "float32"), "input")
    ctx.require_dtypes(out, ("int8",), "output")
    in_scale, in_zp = ctx.per_tensor_quant(inp, "input")
    out_scale, out_zp = ctx.per_tensor_quant(out, "output")
    if out_zp != output_zero_point:
        ctx.fail(f"an int8 {name} output must have zero point {output_zero_point}, has {out_zp}")
    # logistic_common.cc / tanh.cc: frexp(input_scale * 2^27) with TfLiteRound (not
    # QuantizeMultiplier: no q == 2^31 fix), radius from CalculateInputRadius(4, shift, 31).
    import math
    mantissa, left_shift = math.frexp(np.float64(in_scale) * (1 << 27))
    if not 0 <= left_shift <= fp.MAX_SHIFT:
        # CalculateInputRadius shifts 1 by left_shift, the kernel shifts the input by it: both need
        # 0..31, i.e. an input scale in [2^-28, 16).
        ctx.fail(f"input scale {float(in_scale):g} is outside the range an int8 {name} handles "
                 f"([2^-28, 16): its input multiplier would need a shift of {left_shift})")
    multiplier = int(fp.tflite_round(mantissa * (1 << 31)))
    multiplier = int(fp.wrap32(multiplier))
    radius = int(np.floor(1.0 * 15 * (1 << 27) / 2.0 ** left_shift))
    return {"dtype": "int8", "input_zero_point": in_zp, "multiplier": multiplier,
            "left_shift": left_shift, "radius": radius}


def _run_sigmoid_like(plan, x, core, low, high, finish):
    value = x.astype(np.int64) - plan["input_zero_point"]
    in_q4 = fp.multiply_by_quantized_multiplier(value, plan["multiplier"], plan["left_shift"])
    out = finish(core(in_q4, 4))
    out = np.where(value <= -plan["radius"], low, out)
    return np.where(value >= plan["radius"], high, out)


def prepare_logistic(ctx):
    return _prepare_sigmoid_like(ctx, "LOGISTIC", 1.0 / 256, -128)


def run_logistic(plan, x):
    """reference_integer_ops::Logistic (int8): gemmlowp::logistic on Q4.27, then
    RoundingDivideByPOT(., 23) - 128."""
    if plan["dtype"] == "float32":
        return (1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(np.float32)
    return _run_sigmoid_like(plan, x, fp.logistic, -128, 127,
                             lambda q0: np.clip(fp.rounding_divide_by_pot(q0, 23) - 128, -128, 127))


def prepare_tanh(ctx):
    return _prepare_sigmoid_like(ctx, "TANH", 1.0 / 128, 0)


def run_tanh(plan, x):
    """reference_integer_ops::Tanh (int8): gemmlowp::tanh on Q4.27, RoundingDivideByPOT(., 24)."""
    if plan["dtype"] == "float32":
        return np.tanh(x.astype(np.float64)).astype(np.float32)
    return _run_sigmoid_like(plan, x, fp.tanh, -128, 127,
                             lambda q0: np.clip(fp.rounding_divide_by_pot(q0, 24), -128, 127))


def prepare_leaky_relu(ctx):
    ctx.require_inputs(1)
    inp, out = ctx.input(0), ctx.output()
    ctx.require_dtypes(inp, ("int8", "int16", "float32"), "input")
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    alpha = np.float32(ctx.op.options["alpha"])
    if inp.dtype == "float32":
        return {"dtype": "float32", "alpha": alpha}
    in_scale, in_zp = ctx.per_tensor_quant(inp, "input")
    out_scale, out_zp = ctx.per_tensor_quant(out, "output")
    # CalculateOpDataLeakyRelu (micro/kernels/leaky_relu_common.cc): float arithmetic.
    alpha_real = np.float64(np.float32(np.float32(in_scale * alpha) / out_scale))
    identity_real = np.float64(np.float32(in_scale / out_scale))
    plan = {"dtype": inp.dtype, "input_zero_point": in_zp, "output_zero_point": out_zp,
            "range": _INT_RANGES[out.dtype]}
    plan["alpha_multiplier"], plan["alpha_shift"] = fp.quantize_multiplier(alpha_real)
    plan["identity_multiplier"], plan["identity_shift"] = fp.quantize_multiplier(identity_real)
    return plan


def run_leaky_relu(plan, x):
    """reference_ops::QuantizeLeakyRelu (internal/reference/leaky_relu.h)."""
    if plan["dtype"] == "float32":
        return np.where(x > 0, x, x * plan["alpha"]).astype(np.float32)
    value = x.astype(np.int64) - plan["input_zero_point"]
    positive = fp.multiply_by_quantized_multiplier(value, plan["identity_multiplier"],
                                                   plan["identity_shift"])
    negative = fp.multiply_by_quantized_multiplier(value, plan["alpha_multiplier"],
                                                   plan["alpha_shift"])
    result = np.where(value >= 0, positive, negative) + plan["output_zero_point"]
    return np.clip(result, *plan["range"])


# --- QUANTIZE, DEQUANTIZE --------------------------------------------------------------

def prepare_quantize(ctx):
    ctx.require_inputs(1)
    inp, out = ctx.input(0), ctx.output()
    ctx.require_dtypes(inp, ("float32", "int8", "int16", "int32", "uint8"), "input")
    ctx.require_dtypes(out, ("int8", "int16", "int32", "uint8"), "output")
    out_scale, out_zp = ctx.per_tensor_quant(out, "output")
    plan = {"input_dtype": inp.dtype, "output_zero_point": out_zp,
            "range": _INT_RANGES[out.dtype], "output_scale": out_scale}
    if inp.dtype == "float32":
        if out.dtype not in ("int8", "int16"):
            ctx.fail(f"float32 input needs an int8 or int16 output, not {out.dtype}")
        return plan
    in_scale, in_zp = ctx.per_tensor_quant(inp, "input")
    # PrepareQuantizeReference (micro/kernels/quantize_common.cc).
    plan["multiplier"], plan["shift"] = fp.quantize_multiplier(
        np.float64(in_scale) / np.float64(out_scale))
    plan["input_zero_point"] = in_zp
    return plan


def run_quantize(plan, x):
    """Float input: reference_ops::AffineQuantize, round(val / scale) + zero point, divided in float32.
    Integer input: reference_ops::Requantize (internal/reference/requantize.h)."""
    if plan["input_dtype"] == "float32":
        q = fp.tflite_round((x.astype(np.float32) / np.float32(plan["output_scale"])).astype(np.float64))
        q = np.clip(q, -2.0 ** 31, 2.0 ** 31 - 1).astype(np.int64) + plan["output_zero_point"]
        return np.clip(q, *plan["range"])
    value = fp.wrap32(x.astype(np.int64) - plan["input_zero_point"])
    result = fp.wrap32(fp.multiply_by_quantized_multiplier(value, plan["multiplier"], plan["shift"])
                       + plan["output_zero_point"])
    return np.clip(result, *plan["range"])


def prepare_dequantize(ctx):
    ctx.require_inputs(1)
    inp, out = ctx.input(0), ctx.output()
    ctx.require_dtypes(inp, ("int8", "int16", "uint8"), "input")
    ctx.require_dtypes(out, ("float32",), "output")
    scale, zero_point = ctx.per_tensor_quant(inp, "input")
    return {"scale": np.float32(scale), "zero_point": zero_point}


def run_dequantize(plan, x):
    """reference_ops::Dequantize: float(scale) * (val - zero_point) in float."""
    return plan["scale"] * (x.astype(np.int64) - plan["zero_point"]).astype(np.float32)


_KERNELS = {name: (globals()[f"prepare_{name.lower()}"], globals()[f"run_{name.lower()}"])
            for name in SUPPORTED_OPS}
