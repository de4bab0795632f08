"""CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, TRANSPOSE_CONV: the ops with weights; BATCH_MATMUL,
the matrix product of two activations (or of an activation and a constant)."""

import numpy as np

from .. import fixedpoint as fp
from . import OpSpec
from .common import (shrink_last_dim, take_channels, activation_range_float, activation_range_quantized, compute_out_size,
                     compute_padding, exact_matmul, fc_per_tensor_multiplier, pad_window, quantized_multipliers,
                     requantize_accumulator, window_geometry, window_taps)


# --- hybrid layers: float activations, int8 weights (include/tinynet/core/hybrid.hpp) ---------

def hybrid_input_scale(x, asymmetric):
    """One batch's (scale, offset, inverse) as TFLite's tensor_utils::SymmetricQuantizeFloats
    (float: range = max|x|, scale = range / 127, inverse = 127 / range) or
    AsymmetricQuantizeFloats (double: [min(x, 0), max(x, 0)] over 255 steps, the zero point from
    the end with the smaller error, nudged into [-128, 127]; inverse = 1.0f / float(scale)).
    A zero range gives scale 1, offset 0 and inverse 0 (every code 0)."""
    x = np.asarray(x, np.float32).reshape(-1)
    lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
    if not asymmetric:
        value_range = np.float32(max(abs(lo), abs(hi)))
        if value_range == 0:
            return np.float32(1), 0, np.float32(0)
        return value_range / np.float32(127), 0, np.float32(127) / value_range
    rmin, rmax = min(lo, 0.0), max(hi, 0.0)
    if rmin == rmax:
        return np.float32(1), 0, np.float32(0)
    scale = (rmax - rmin) / 255.0
    from_min, from_max = -128.0 - rmin / scale, 127.0 - rmax / scale
    zero_point = from_min if 128.0 + abs(rmin / scale) < 127.0 + abs(rmax / scale) else from_max
    offset = (-128 if zero_point <= -128.0 else 127 if zero_point >= 127.0
              else 0 if zero_point != zero_point else int(fp.tflite_round(zero_point)))   # NaN: an infinite input
    scale32 = np.float32(scale)
    return scale32, offset, np.float32(1) / scale32


def hybrid_quantize(x, asymmetric):
    """The int8 codes of one batch and its (scale, offset): q = clamp(round(x * inverse)) or
    clamp(round(offset + x * inverse)), in float, rounded half away from zero (TfLiteRound)."""
    scale, offset, inverse = hybrid_input_scale(x, asymmetric)
    x = np.asarray(x, np.float32)
    v = (x * inverse) if not asymmetric else (np.float32(offset) + x * inverse)
    q = np.clip(fp.tflite_round(v.astype(np.float64)), -128 if asymmetric else -127, 127).astype(np.int64)
    return q, scale, offset


def _hybrid_centered(x, plan):
    """Each batch (first axis) quantized, minus its offset (int64), and the batches' scales."""
    centered, scales = np.empty(x.shape, np.int64), []
    for b in range(x.shape[0]):
        q, scale, offset = hybrid_quantize(x[b], plan["asymmetric"])
        centered[b] = q - offset
        scales.append(scale)
    return centered, scales


def _hybrid_output(plan, acc, batch_scale):
    """float(acc) * (batch scale * filter scale[c]) + bias[c], clamped (acc: [..., channels])."""
    scale = np.float32(batch_scale) * plan["weight_scales"]
    out = acc.astype(np.float32) * scale + plan["bias"]
    return np.clip(out, plan["act_min"], plan["act_max"]).astype(np.float32)


def _prepare_hybrid(ctx, weights, bias, out, channel_count, activation, asymmetric):
    """Float input, int8 weights (TFLite's hybrid kernels; TFLM refuses them). `asymmetric`
    decides the input quantization from the weight scales (the op's rule)."""
    if weights.dtype != "int8" or not weights.is_quantized:
        ctx.fail(f"hybrid layers need int8 weights with scales, got {weights.dtype} weights")
    if asymmetric is None:
        ctx.fail("has no hybrid kernel (float activations, int8 weights); hybrid layers can be "
                 "CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED")
    ctx.require_dtypes(out, ("float32",), "output")
    if bias is not None:
        ctx.require_dtypes(bias, ("float32",), "bias")
        if bias.num_elements != channel_count:
            ctx.fail(f"bias has {bias.num_elements} elements, expected {channel_count}")
    if np.any(weights.zero_point != 0):
        ctx.fail("hybrid weights must be symmetric (zero point 0)")
    scales = weights.scale.astype(np.float32).reshape(-1)
    if scales.size not in (1, channel_count):
        ctx.fail(f"weights have {scales.size} scales, expected 1 or {channel_count}")
    plan = {"input_dtype": "float32", "hybrid": True, "weight_scales": scales,
            "asymmetric": bool(asymmetric(scales))}
    plan["act_min"], plan["act_max"] = activation_range_float(ctx, activation)
    plan["bias"] = (np.zeros(channel_count, np.float32) if bias is None
                    else bias.data.astype(np.float32).reshape(-1))
    return plan


def _conv_hybrid_asymmetric(scales):
    """conv.cc Prepare: is_hybrid_per_channel when the per-channel scales are not all equal;
    EvalHybridPerChannel quantizes asymmetrically, EvalHybrid symmetrically."""
    return bool(np.any(scales != scales[0]))


def _depthwise_hybrid_asymmetric(scales):
    """depthwise_conv.cc: a hybrid depthwise convolution always runs EvalHybridPerChannel."""
    return True


def _prepare_weighted(ctx, weights_index, bias_index, channel_count, per_channel_multiplier,
                      hybrid_asymmetric=None):
    """The part of Prepare shared by conv-like ops: dtype checks, per-channel multipliers
    (PopulateConvolutionQuantizationParams, kernels/kernel_util.cc), activation range.
    hybrid_asymmetric: the op's rule for a hybrid layer's input quantization (None: the op has
    no hybrid form)."""
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
            return _prepare_hybrid(ctx, weights, bias, out, channel_count, activation, hybrid_asymmetric)
        ctx.require_dtypes(out, ("float32",), "output")
        plan["act_min"], plan["act_max"] = activation_range_float(ctx, activation)
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
        real = np.full(channel_count, fc_per_tensor_multiplier(in_scale, weight_scales[0], out_scale))
    plan["multiplier"], plan["shift"] = quantized_multipliers(ctx, real)
    plan["real_multiplier"] = real
    plan["input_zero_point"] = in_zp
    plan["weights_zero_point"] = int(weights.zero_point[0]) if weights.zero_point.size else 0
    plan["output_zero_point"] = out_zp
    plan["act_min"], plan["act_max"] = activation_range_quantized(ctx, activation, out)
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
    # Grouped convolution (ConvPerChannel: groups = input depth / filter input depth, each group
    # of output channels reads its own slice of input channels).
    if in_c <= 0 or inp.shape[3] % in_c or out_c % (inp.shape[3] // in_c):
        ctx.fail(f"weights {weights.shape} do not fit the input {inp.shape}: its {inp.shape[3]} channels "
                 f"are not a whole number of groups of {in_c} that divides {out_c} filters")
    if out.shape[3] != out_c:
        ctx.fail(f"output {out.shape} does not have the weights' {out_c} channels")
    plan = _prepare_weighted(ctx, 1, 2, out_c, per_channel_multiplier=True,
                             hybrid_asymmetric=_conv_hybrid_asymmetric)
    plan["groups"] = inp.shape[3] // in_c
    if plan.get("hybrid") and plan["groups"] != 1:
        ctx.fail("a hybrid (float input, int8 weights) CONV_2D cannot be grouped")
    o = ctx.op.options
    plan["stride"] = (o["stride_h"], o["stride_w"])
    plan["dilation"] = (o["dilation_h_factor"], o["dilation_w_factor"])
    plan["kernel"] = (kh, kw)
    plan["out_hw"] = out.shape[1:3]
    plan["pad"] = window_geometry(ctx, inp.shape[1:3], plan["kernel"], plan["stride"],
                                   plan["dilation"], plan["out_hw"], o["padding"])
    plan["weights"] = weights.data.reshape(out_c, -1)
    return plan


def run_conv_2d(plan, x, weights, bias=None):
    """reference_integer_ops::ConvPerChannel (int8 and 16x8) / reference_ops::Conv (float):
    padded taps are skipped, which equals reading the input zero point; with groups, output
    channel oc reads input channels [g * filter depth, (g + 1) * filter depth), g = oc / (out / groups).
    Hybrid: conv.cc EvalHybrid / EvalHybridPerChannel (see hybrid_quantize, _hybrid_output)."""
    kernel, stride, dilation, out_hw = plan["kernel"], plan["stride"], plan["dilation"], plan["out_hw"]
    if plan.get("hybrid"):
        centered, scales = _hybrid_centered(x, plan)
        xp = pad_window(centered, plan["pad"], kernel, stride, dilation, out_hw, 0)
        taps = np.stack([window_taps(xp, ky, kx, stride, dilation, out_hw)
                         for ky in range(kernel[0]) for kx in range(kernel[1])], axis=3)
        lhs = taps.reshape(x.shape[0], out_hw[0] * out_hw[1], -1)
        return np.stack([_hybrid_output(plan, exact_matmul(lhs[b], plan["weights"].astype(np.int64).T), scales[b])
                         for b in range(x.shape[0])]).reshape(x.shape[0], *out_hw, -1)
    is_float = plan["input_dtype"] == "float32"
    zp = 0 if is_float else plan["input_zero_point"]
    xp = pad_window(x, plan["pad"], kernel, stride, dilation, out_hw, zp)
    tap_list = [window_taps(xp, ky, kx, stride, dilation, out_hw)
            for ky in range(kernel[0]) for kx in range(kernel[1])]
    patches = np.stack(tap_list, axis=3)                     # N, OH, OW, KH*KW, C
    n = x.shape[0]
    patches = patches.reshape(n * out_hw[0] * out_hw[1], kernel[0] * kernel[1], -1)
    groups = plan["groups"]
    per_group_in = patches.shape[2] // groups
    per_group_out = plan["weights"].shape[0] // groups
    parts = []
    for g in range(groups):
        lhs = patches[:, :, g * per_group_in:(g + 1) * per_group_in].reshape(patches.shape[0], -1)
        rhs = plan["weights"][g * per_group_out:(g + 1) * per_group_out]
        if is_float:
            parts.append(lhs.astype(np.float64) @ rhs.astype(np.float64).T)
        else:
            parts.append(exact_matmul(lhs.astype(np.int64) - zp, rhs.T))
    acc = np.concatenate(parts, axis=1)
    if is_float:
        result = (acc.astype(np.float32) + plan["bias"])
        return np.clip(result, plan["act_min"], plan["act_max"]).reshape(n, *out_hw, -1)
    return requantize_accumulator(plan, acc + plan["bias"]).reshape(n, *out_hw, -1)


def prepare_depthwise_conv_2d(ctx):
    ctx.require_inputs(2, 3)
    inp, weights, out = ctx.input(0), ctx.input(1), ctx.output()
    if len(inp.shape) != 4 or len(weights.shape) != 4 or len(out.shape) != 4:
        ctx.fail(f"expects 4-D input, weights and output, got {inp.shape}, {weights.shape}, {out.shape}")
    _, kh, kw, out_c = weights.shape
    in_c = inp.shape[3]
    if out_c % in_c or out.shape[3] != out_c:
        ctx.fail(f"weights {weights.shape} and output {out.shape} do not fit input {inp.shape}")
    plan = _prepare_weighted(ctx, 1, 2, out_c, per_channel_multiplier=True,
                             hybrid_asymmetric=_depthwise_hybrid_asymmetric)
    o = ctx.op.options
    plan["depth_multiplier"] = out_c // in_c
    plan["stride"] = (o["stride_h"], o["stride_w"])
    plan["dilation"] = (o["dilation_h_factor"], o["dilation_w_factor"])
    plan["kernel"] = (kh, kw)
    plan["out_hw"] = out.shape[1:3]
    plan["pad"] = window_geometry(ctx, inp.shape[1:3], plan["kernel"], plan["stride"],
                                   plan["dilation"], plan["out_hw"], o["padding"])
    plan["weights"] = weights.data.reshape(kh, kw, out_c)
    return plan


def run_depthwise_conv_2d(plan, x, weights, bias=None):
    """reference_integer_ops::DepthwiseConvPerChannel / reference_ops::DepthwiseConv:
    output channel oc reads input channel oc / depth_multiplier. Hybrid: depthwise_conv.cc
    EvalHybridPerChannel (asymmetric input quantization per batch, padded taps skipped)."""
    kernel, stride, dilation, out_hw = plan["kernel"], plan["stride"], plan["dilation"], plan["out_hw"]
    if plan.get("hybrid"):
        centered, scales = _hybrid_centered(x, plan)
        centered = np.repeat(centered, plan["depth_multiplier"], axis=3)
        xp = pad_window(centered, plan["pad"], kernel, stride, dilation, out_hw, 0)
        w = plan["weights"].astype(np.int64)
        acc = np.zeros(xp.shape[:1] + tuple(out_hw) + (w.shape[2],), np.int64)
        for ky in range(kernel[0]):
            for kx in range(kernel[1]):
                acc += window_taps(xp, ky, kx, stride, dilation, out_hw) * w[ky, kx]
        return np.stack([_hybrid_output(plan, acc[b], scales[b]) for b in range(x.shape[0])])
    is_float = plan["input_dtype"] == "float32"
    zp = 0 if is_float else plan["input_zero_point"]
    if plan["depth_multiplier"] > 1:
        x = np.repeat(x, plan["depth_multiplier"], axis=3)
    xp = pad_window(x, plan["pad"], kernel, stride, dilation, out_hw, zp)
    w = plan["weights"]
    if is_float:
        acc = np.zeros(xp.shape[:1] + tuple(out_hw) + (w.shape[2],), np.float64)
        for ky in range(kernel[0]):
            for kx in range(kernel[1]):
                acc += window_taps(xp, ky, kx, stride, dilation, out_hw) * w[ky, kx].astype(np.float64)
        result = acc.astype(np.float32) + plan["bias"]
        return np.clip(result, plan["act_min"], plan["act_max"])
    xp = xp.astype(np.int64) - zp
    w = w.astype(np.int64)
    acc = np.zeros(xp.shape[:1] + tuple(out_hw) + (w.shape[2],), np.int64)
    for ky in range(kernel[0]):
        for kx in range(kernel[1]):
            acc += window_taps(xp, ky, kx, stride, dilation, out_hw) * w[ky, kx]
    return requantize_accumulator(plan, acc + plan["bias"])


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
    asymmetric = bool(ctx.op.options.get("asymmetric_quantize_inputs", False))
    plan = _prepare_weighted(ctx, 1, 2, units, per_channel_multiplier=False,
                             hybrid_asymmetric=lambda scales: asymmetric)
    plan["depth"] = depth
    plan["weights"] = weights.data
    return plan


def run_fully_connected(plan, x, weights, bias=None):
    """reference_integer_ops::FullyConnected / reference_ops::FullyConnected. Hybrid:
    fully_connected.cc EvalHybrid (each row quantized as asymmetric_quantize_inputs says)."""
    rows = x.reshape(-1, plan["depth"])
    if plan.get("hybrid"):
        centered, scales = _hybrid_centered(rows, plan)
        acc = exact_matmul(centered, plan["weights"].astype(np.int64).T)
        return np.stack([_hybrid_output(plan, acc[b], scales[b]) for b in range(rows.shape[0])])
    if plan["input_dtype"] == "float32":
        acc = rows.astype(np.float64) @ plan["weights"].astype(np.float64).T
        return np.clip(acc.astype(np.float32) + plan["bias"], plan["act_min"], plan["act_max"])
    lhs = rows.astype(np.int64) - plan["input_zero_point"]
    rhs = plan["weights"].astype(np.int64).T - plan["weights_zero_point"]
    return requantize_accumulator(plan, exact_matmul(lhs, rhs) + plan["bias"])


def _transpose_conv_pads(options, out_hw, kernel_hw):
    """TFLM's transpose_conv.cc: ComputePaddingHeightWidth with the *output* size as the image
    size, dilation 1; the leading padding per axis."""
    pads = []
    for axis, stride_key in ((0, "stride_h"), (1, "stride_w")):
        stride = options[stride_key]
        size = compute_out_size(options["padding"], out_hw[axis], kernel_hw[axis], stride, 1)
        pads.append(compute_padding(stride, 1, out_hw[axis], kernel_hw[axis], size))
    return tuple(pads)


def _landing_taps(in_size, out_size, pad, kernel, stride):
    """(input index, tap) pairs along one axis whose target in * stride - pad + k lies inside
    the output: TFLM's scatter multiplies only those."""
    return sum(1 for i in range(in_size) for k in range(kernel) if 0 <= i * stride - pad + k < out_size)


def prepare_transpose_conv(ctx):
    ctx.require_inputs(3, 4)
    shape_t, weights, inp, out = ctx.input(0), ctx.input(1), ctx.input(2), ctx.output()
    if len(inp.shape) != 4 or len(weights.shape) != 4 or len(out.shape) != 4:
        ctx.fail(f"expects 4-D input, weights and output, got {inp.shape}, {weights.shape}, {out.shape}")
    if shape_t.data is not None and tuple(int(v) for v in shape_t.data.reshape(-1)) != out.shape:
        ctx.fail(f"output_shape {shape_t.data.tolist()} differs from the output tensor {out.shape}")
    out_c, kh, kw, in_c = weights.shape
    if in_c != inp.shape[3] or out.shape[3] != out_c or inp.shape[0] != out.shape[0]:
        ctx.fail(f"weights {weights.shape} do not fit input {inp.shape} and output {out.shape}")
    if min(kh, kw) <= 0:
        ctx.fail(f"weights {weights.shape} have an empty kernel")
    bias = ctx.input(3)
    if inp.dtype == "int16":
        # reference_integer_ops::TransposeConv (16x8) applies neither zero point, and Eval reads
        # the bias as int64 (or converts an int16 one): an int32 bias would be read as int64.
        for tensor, role in ((inp, "input"), (out, "output")):
            if tensor.is_quantized and int(tensor.zero_point_scalar) != 0:
                ctx.fail(f"16x8 TRANSPOSE_CONV needs {role} zero point 0, got {int(tensor.zero_point_scalar)} "
                         f"(TFLM's 16x8 kernel ignores zero points)")
        if bias is not None and bias.dtype != "int64":
            ctx.fail(f"16x8 TRANSPOSE_CONV needs an int64 bias, got {bias.dtype} "
                     f"(TFLM reads the bias as int64)")
    plan = _prepare_weighted(ctx, 1, 3, out_c, per_channel_multiplier=True)
    o = ctx.op.options
    plan["stride"] = (o["stride_h"], o["stride_w"])
    if min(plan["stride"]) <= 0:
        ctx.fail(f"strides must be positive, got {plan['stride']}")
    plan["kernel"] = (kh, kw)
    plan["out_hw"] = out.shape[1:3]
    plan["pad"] = _transpose_conv_pads(o, plan["out_hw"], plan["kernel"])
    plan["weights"] = weights.data
    return plan


def run_transpose_conv(plan, output_shape, weights, x, bias=None):
    """reference_integer_ops::TransposeConv / reference_ops::TransposeConv: every input
    pixel scatters input x weights into a (zeroed) accumulator at
    out = in * stride - pad + k; taps falling outside the output are dropped.  The float
    kernel adds in float32 in TFLM's order (input row, column, channel; then the bias)."""
    n, ih, iw, ic = x.shape
    (sh, sw), (kh, kw), (oh, ow), (ph, pw) = plan["stride"], plan["kernel"], plan["out_hw"], plan["pad"]
    w = plan["weights"]
    if plan["input_dtype"] == "float32":
        acc = np.zeros((n, oh, ow, w.shape[0]), np.float32)
        wt = np.transpose(w.astype(np.float32), (3, 1, 2, 0))       # IC, KH, KW, OC
        for iy in range(ih):
            y0 = iy * sh - ph
            ky0, ky1 = max(0, -y0), min(kh, oh - y0)
            for ix in range(iw):
                x0 = ix * sw - pw
                kx0, kx1 = max(0, -x0), min(kw, ow - x0)
                if ky0 >= ky1 or kx0 >= kx1:
                    continue
                for c in range(ic):
                    product = x[:, iy, ix, c, None, None, None].astype(np.float32) * wt[c, ky0:ky1, kx0:kx1]
                    acc[:, y0 + ky0:y0 + ky1, x0 + kx0:x0 + kx1, :] += product
        result = acc + plan["bias"]
        return np.clip(result, plan["act_min"], plan["act_max"]).astype(np.float32)
    full_h = (ih - 1) * sh + kh
    full_w = (iw - 1) * sw + kw
    acc = np.zeros((n, max(full_h, ph + oh), max(full_w, pw + ow), w.shape[0]), np.int64)
    xs = x.astype(np.int64) - plan["input_zero_point"]
    wf = w.astype(np.int64)
    for ky in range(kh):
        for kx in range(kw):
            contribution = xs @ wf[:, ky, kx, :].T          # N, IH, IW, OC
            acc[:, ky:ky + (ih - 1) * sh + 1:sh, kx:kx + (iw - 1) * sw + 1:sw, :] += contribution
    acc = acc[:, ph:ph + oh, pw:pw + ow, :]
    if not plan["wide_accumulator"]:
        acc = fp.wrap32(acc)
    return requantize_accumulator(plan, acc + plan["bias"])


def emit_transpose_conv(e, op, plan, prefix, ins, outs):
    names, w = e.weight_arrays(op, prefix, op.inputs[1], op.inputs[3] if len(op.inputs) > 3 else -1)
    (kernel_h, kernel_w), (stride_h, stride_w) = plan["kernel"], plan["stride"]
    return (f"tinynet::TransposeConv<{ins[0]}, {outs[0]}, {names['weights']}, {names['bias']}, "
            f"{names['scales']},\n"
            f"    tinynet::TransposeConvOptions{{.kernel_h = {kernel_h}, .kernel_w = {kernel_w}, "
            f".stride_h = {stride_h}, .stride_w = {stride_w},\n"
            f"                                  .padding = {e.padding(op)}, .activation = {e.activation(op)}}}>")


def _extended5(shape):
    return (1,) * (5 - len(shape)) + tuple(shape)


def prepare_batch_matmul(ctx):
    """BatchMatMulPrepare (micro/kernels/batch_matmul.cc): same types for both operands and the
    output (float32, int8, int16), ranks 2 to 5, batch dimensions equal or 1, one multiplier
    (GetQuantizedConvolutionMultipler: the scale product in float), int16 zero points 0."""
    ctx.require_inputs(2, 2)
    lhs, rhs, out = ctx.input(0), ctx.input(1), ctx.output()
    ctx.require_dtypes(lhs, ("float32", "int8", "int16"), "lhs")
    if rhs.dtype != lhs.dtype or out.dtype != lhs.dtype:
        ctx.fail(f"lhs, rhs and output types must be the same, got {lhs.dtype}, {rhs.dtype}, {out.dtype}")
    for tensor, role in ((lhs, "lhs"), (rhs, "rhs")):
        if not 2 <= len(tensor.shape) <= 5:
            ctx.fail(f"{role} has rank {len(tensor.shape)}; TFLM supports ranks 2 to 5")
    o = ctx.op.options
    adj_x, adj_y = bool(o.get("adj_x", False)), bool(o.get("adj_y", False))
    rank = max(len(lhs.shape), len(rhs.shape))
    le, re_ = _extended5(lhs.shape), _extended5(rhs.shape)
    for a, b in zip(le[:3], re_[:3]):
        if a != b and a != 1 and b != 1:
            ctx.fail(f"batch dimensions of lhs {lhs.shape} and rhs {rhs.shape} do not broadcast")
    rows, depth = (le[4], le[3]) if adj_x else (le[3], le[4])
    rhs_depth, cols = (re_[4], re_[3]) if adj_y else (re_[3], re_[4])
    if depth != rhs_depth:
        ctx.fail(f"lhs {lhs.shape} (adj_x {adj_x}) and rhs {rhs.shape} (adj_y {adj_y}) have inner "
                 f"dimensions {depth} and {rhs_depth}")
    batches = tuple(b if a == 1 else a for a, b in zip(le[:3], re_[:3]))
    want = (batches + (rows, cols))[5 - rank:]
    if tuple(out.shape) != want:
        ctx.fail(f"output {out.shape} is not the product's shape {list(want)}")
    plan = {"dtype": lhs.dtype, "adj_x": adj_x, "adj_y": adj_y, "out_shape": want}
    if lhs.dtype == "float32":
        return plan
    sl, zl = ctx.per_tensor_quant(lhs, "lhs")
    sr, zr = ctx.per_tensor_quant(rhs, "rhs")
    so, zo = ctx.per_tensor_quant(out, "output")
    if lhs.dtype == "int16" and (zl, zr, zo) != (0, 0, 0):
        ctx.fail(f"int16 BATCH_MATMUL needs zero points 0, got lhs {zl}, rhs {zr}, output {zo} (TFLM checks it)")
    real = np.float64(np.float32(np.float32(sl) * np.float32(sr))) / np.float64(so)
    plan["multiplier"], plan["shift"] = quantized_multipliers(ctx, np.array([real]))
    if lhs.dtype == "int16" and int(plan["shift"][0]) > 14:
        ctx.fail(f"rescale factor {float(real):g} (lhs scale x rhs scale / output scale) is too large for "
                 f"the 64-bit requantization of int16 BATCH_MATMUL (at most 2^14)")
    plan.update(lhs_zero_point=zl, rhs_zero_point=zr, output_zero_point=zo)
    return plan


def run_batch_matmul(plan, lhs, rhs):
    """reference_ops::BatchMatMul (internal/reference/batch_matmul.h): float sums in float32 in
    k order from 0; int8 accumulates in int32, int16 in int64 (the 64-bit requantization)."""
    a = lhs.reshape(_extended5(lhs.shape))
    b = rhs.reshape(_extended5(rhs.shape))
    if plan["adj_x"]:
        a = np.swapaxes(a, 3, 4)
    if plan["adj_y"]:
        b = np.swapaxes(b, 3, 4)
    if plan["dtype"] == "float32":
        a, b = a.astype(np.float32), b.astype(np.float32)
        shape = np.broadcast_shapes(a.shape[:3], b.shape[:3]) + (a.shape[3], b.shape[4])
        total = np.zeros(shape, np.float32)
        for k in range(a.shape[4]):
            total += a[..., :, k, None] * b[..., None, k, :]
        return total.reshape(plan["out_shape"])
    acc = np.matmul(a.astype(np.int64) - plan["lhs_zero_point"], b.astype(np.int64) - plan["rhs_zero_point"])
    if plan["dtype"] == "int8":
        scaled = fp.multiply_by_quantized_multiplier(fp.wrap32(acc), plan["multiplier"][0], plan["shift"][0])
        info = np.iinfo(np.int8)
    else:
        scaled = fp.multiply_by_quantized_multiplier_int64(acc, plan["multiplier"][0], plan["shift"][0])
        info = np.iinfo(np.int16)
    return np.clip(scaled + plan["output_zero_point"], info.min, info.max).reshape(plan["out_shape"])


def emit_batch_matmul(e, op, plan, prefix, ins, outs):
    return (f"tinynet::BatchMatMul<{ins[0]}, {ins[1]}, {outs[0]}, tinynet::BatchMatMulOptions{{"
            f".adj_x = {str(plan['adj_x']).lower()}, .adj_y = {str(plan['adj_y']).lower()}}}>")


def macs_batch_matmul(model, op):
    lhs, out = model.tensors[op.inputs[0]], model.tensors[op.outputs[0]]
    depth = lhs.shape[-2] if op.options.get("adj_x", False) else lhs.shape[-1]
    return out.num_elements * depth


def params_batch_matmul(op):
    flags = [name for name in ("adj_x", "adj_y") if op.options.get(name, False)]
    return ", ".join(flags)


# --- C++ emission ----------------------------------------------------------------------

SPARSE_FORM_NAMES = {"dense": "dense", "unrolled": "unrolled", "compressed": "compressed", "nm": "nm"}


def emit_fully_connected(e, op, plan, prefix, ins, outs):
    if op.options.get("weights_format", 0) not in (0, "DEFAULT"):
        e.fail(op, "shuffled weights formats are not supported (supported: DEFAULT)")
    depth = e.model.tensors[op.inputs[1]].shape[-1]
    names, w = e.weight_arrays(op, prefix, op.inputs[1], op.inputs[2] if len(op.inputs) > 2 else -1,
                               packed_int4_kernel=depth % 2 == 0)
    if len(w.shape) != 2:
        e.fail(op, f"weights of rank {len(w.shape)} (expected 2)")
    options = e.activation(op)
    form = SPARSE_FORM_NAMES.get(e.sparse)
    if plan.get("hybrid") and plan["asymmetric"]:
        options += f", tinynet::SparseForm::{form or 'automatic'}, true"   # asymmetric_quantize_inputs
    elif form:   # 'auto' is the library's default (SparseForm::automatic)
        options += f", tinynet::SparseForm::{form}"
    return (f"tinynet::FullyConnected<{ins[0]}, {outs[0]}, {names['weights']}, {names['bias']}, "
            f"{names['scales']},\n    tinynet::FullyConnectedOptions{{{options}}}>")


def emit_conv_2d(e, op, plan, prefix, ins, outs, weights_layout=None):
    shape = e.model.tensors[op.inputs[1]].shape
    groups = e.model.tensors[op.inputs[0]].shape[-1] // max(shape[-1], 1)
    packable = (weights_layout is None and len(shape) == 4 and groups == 1 and e.model.tensors[op.inputs[0]].dtype == "int8"
                and shape[1] * shape[2] * shape[3] % 2 == 0)   # Conv2D's packed int4 kernel: even filter size
    names, w = e.weight_arrays(op, prefix, op.inputs[1], op.inputs[2] if len(op.inputs) > 2 else -1,
                               weights_data=weights_layout, packed_int4_kernel=packable)
    if len(w.shape) != 4:
        e.fail(op, f"weights of rank {len(w.shape)} (expected 4, OHWI)")
    kernel_h, kernel_w = plan["kernel"]
    (stride_h, stride_w), (dilation_h, dilation_w) = plan["stride"], plan["dilation"]
    return (f"tinynet::Conv2D<{ins[0]}, {outs[0]}, {names['weights']}, {names['bias']}, {names['scales']},\n"
            f"    tinynet::Conv2DOptions{{.kernel_h = {kernel_h}, .kernel_w = {kernel_w}, "
            f".stride_h = {stride_h}, .stride_w = {stride_w}, "
            f".dilation_h = {dilation_h}, .dilation_w = {dilation_w},\n"
            f"                           .padding = {e.padding(op)}, .activation = {e.activation(op)}"
            f"{_sparse_designator(e)}}}>")


def _sparse_designator(e):
    """Conv2D's and DepthwiseConv2D's `.sparse_form` (none for 'auto': the library's rule decides)."""
    form = SPARSE_FORM_NAMES.get(e.sparse)
    return f", .sparse_form = tinynet::SparseForm::{form}" if form else ""


def emit_depthwise_conv_2d(e, op, plan, prefix, ins, outs):
    in_channels = e.model.tensors[op.inputs[0]].shape[-1]
    w = e.model.tensors[op.inputs[1]]
    if in_channels == 1 and not plan.get("hybrid"):
        # One input channel: the depthwise filters [1][kh][kw][M] are an ordinary convolution
        # with M output channels, OHWI [M][kh][kw][1] -- same sums, the faster kernel. (Not a
        # hybrid one: TFLite's hybrid Conv2D may quantize its input symmetrically.)
        return emit_conv_2d(e, op, plan, prefix, ins, outs,
                            weights_layout=np.transpose(w.data, (3, 1, 2, 0)))
    # 4-bit weights of an int8 layer stay packed (the layer's packed int4 form, any shape).
    names, w = e.weight_arrays(op, prefix, op.inputs[1], op.inputs[2] if len(op.inputs) > 2 else -1,
                               packed_int4_kernel=e.model.tensors[op.inputs[0]].dtype == "int8")
    if w.shape[0] != 1:
        e.fail(op, f"weights of shape {w.shape} (expected [1, kh, kw, out_channels])")
    kernel_h, kernel_w = plan["kernel"]
    (stride_h, stride_w), (dilation_h, dilation_w) = plan["stride"], plan["dilation"]
    return (f"tinynet::DepthwiseConv2D<{ins[0]}, {outs[0]}, {names['weights']}, {names['bias']}, {names['scales']},\n"
            f"    tinynet::DepthwiseConv2DOptions{{.kernel_h = {kernel_h}, .kernel_w = {kernel_w}, "
            f".stride_h = {stride_h}, .stride_w = {stride_w}, "
            f".dilation_h = {dilation_h}, .dilation_w = {dilation_w},\n"
            f"                                    .depth_multiplier = {plan['depth_multiplier']}, "
            f".padding = {e.padding(op)}, .activation = {e.activation(op)}"
            f"{_sparse_designator(e)}}}>")


# --- inspect: MACs, parameters, requantization tables ------------------------------------

def macs_conv_2d(model, op):
    out_c, kh, kw, in_c = model.tensors[op.inputs[1]].shape
    return model.tensors[op.outputs[0]].num_elements * kh * kw * in_c


def macs_depthwise_conv_2d(model, op):
    _, kh, kw, _ = model.tensors[op.inputs[1]].shape
    return model.tensors[op.outputs[0]].num_elements * kh * kw


def macs_fully_connected(model, op):
    return model.tensors[op.outputs[0]].num_elements * model.tensors[op.inputs[1]].shape[1]


def macs_transpose_conv(model, op):
    """The multiply-adds TFLM's scatter performs: taps landing outside the output are skipped."""
    out_c, kh, kw, in_c = model.tensors[op.inputs[1]].shape
    n, ih, iw, _ = model.tensors[op.inputs[2]].shape
    out_hw = model.tensors[op.outputs[0]].shape[1:3]
    if min(op.options["stride_h"], op.options["stride_w"]) <= 0:
        return 0
    ph, pw = _transpose_conv_pads(op.options, out_hw, (kh, kw))
    return (n * _landing_taps(ih, out_hw[0], ph, kh, op.options["stride_h"])
            * _landing_taps(iw, out_hw[1], pw, kw, op.options["stride_w"]) * in_c * out_c)


def params_conv(op):
    o = op.options
    parts = [f"stride {o['stride_h']}x{o['stride_w']}"]
    if o.get("dilation_h_factor", 1) != 1 or o.get("dilation_w_factor", 1) != 1:
        parts.append(f"dilation {o['dilation_h_factor']}x{o['dilation_w_factor']}")
    parts.append(o["padding"])
    return ", ".join(parts)


def _requant_bytes(data_input_index):
    """Per-output-channel multiplier and shift (int32 each) of a quantized conv-like op; a hybrid
    one's float weight scales."""
    def count(model, op):
        if model.tensors[op.inputs[data_input_index]].dtype == "float32":
            weights = model.tensors[op.inputs[1]]
            return 4 * weights.scale.size if weights.dtype == "int8" else 0
        if op.opcode == "FULLY_CONNECTED" and not model.tensors[op.inputs[1]].per_channel:
            return 8                       # one multiplier and shift for the layer
        return 8 * model.tensors[op.outputs[0]].shape[-1]
    return count


# --- options schema ----------------------------------------------------------------------


# ---- neuron pruning (prune.py) ----------------------------------------------------------------

def prune_input_conv_2d(model, op, t, flattened):
    """A CONV_2D ends a chain unless the channels were flattened into rows."""
    return not flattened, flattened


def prune_input_fully_connected(model, op, t, flattened):
    """A FULLY_CONNECTED ends a chain; it flattens a [1, H, W, C] input itself (column =
    position * C + c)."""
    if not flattened and len(t.shape) == 4:
        depth = model.tensors[op.inputs[1]].shape[1]
        if t.shape[0] != 1 or depth != t.num_elements:
            return False, flattened
        if t.shape[1] * t.shape[2] > 1:
            flattened = (t.shape[1] * t.shape[2], t.shape[3])
    return True, flattened


def prune_through_depthwise_conv_2d(model, op, t, flattened):
    """A depthwise convolution with depth multiplier 1 keeps channels apart."""
    w = model.tensors[op.inputs[1]]
    return w.shape[3] == t.shape[-1] and not flattened, flattened


def prune_shrink_depthwise_conv_2d(model, op, keep, flattened):
    take_channels(model.tensors[op.inputs[1]], keep, 3)
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        take_channels(model.tensors[op.inputs[2]], keep, 0)
    shrink_last_dim(model.tensors[op.outputs[0]], keep.size)


_CONV_2D_FIELDS = [
    (0, "padding", "padding", 0), (1, "stride_w", "int32", 0), (2, "stride_h", "int32", 0),
    (3, "fused_activation_function", "activation", 0),
    (4, "dilation_w_factor", "int32", 1), (5, "dilation_h_factor", "int32", 1),
    (6, "quantized_bias_type", "int8", 0),
]
_DEPTHWISE_FIELDS = [
    (0, "padding", "padding", 0), (1, "stride_w", "int32", 0), (2, "stride_h", "int32", 0),
    (3, "depth_multiplier", "int32", 0), (4, "fused_activation_function", "activation", 0),
    (5, "dilation_w_factor", "int32", 1), (6, "dilation_h_factor", "int32", 1),
]
_FULLY_CONNECTED_FIELDS = [
    (0, "fused_activation_function", "activation", 0), (1, "weights_format", "int8", 0),
    (2, "keep_num_dims", "bool", False), (3, "asymmetric_quantize_inputs", "bool", False),
    (4, "quantized_bias_type", "int8", 0),
]
_TRANSPOSE_CONV_FIELDS = [
    (0, "padding", "padding", 0), (1, "stride_w", "int32", 0), (2, "stride_h", "int32", 0),
    (3, "fused_activation_function", "activation", 0), (4, "quantized_bias_type", "int8", 0),
]

_BATCH_MATMUL_FIELDS = [
    (0, "adj_x", "bool", False), (1, "adj_y", "bool", False),
    (2, "asymmetric_quantize_inputs", "bool", False),
]

_WEIGHTED = dict(data_inputs=1, weights=True, requant_table_bytes=_requant_bytes(0),
                 quantize="weights", prune="synapses", fuses_activation=True)

SPECS = [
    OpSpec("CONV_2D", (1, "Conv2DOptions", _CONV_2D_FIELDS), prepare_conv_2d, run_conv_2d,
           emit_conv_2d, macs=macs_conv_2d, params_text=params_conv, weight_axis=0,
           prune_neurons=prune_input_conv_2d, int4_weights=True, **_WEIGHTED),
    OpSpec("DEPTHWISE_CONV_2D", (2, "DepthwiseConv2DOptions", _DEPTHWISE_FIELDS),
           prepare_depthwise_conv_2d, run_depthwise_conv_2d, emit_depthwise_conv_2d,
           macs=macs_depthwise_conv_2d, params_text=params_conv, weight_axis=3,
           prune_through=prune_through_depthwise_conv_2d, prune_shrink=prune_shrink_depthwise_conv_2d,
           int4_weights=True, **_WEIGHTED),
    OpSpec("FULLY_CONNECTED", (8, "FullyConnectedOptions", _FULLY_CONNECTED_FIELDS),
           prepare_fully_connected, run_fully_connected, emit_fully_connected,
           macs=macs_fully_connected, weight_axis=0, prune_neurons=prune_input_fully_connected, int4_weights=True,
           **_WEIGHTED),
    OpSpec("TRANSPOSE_CONV", (49, "TransposeConvOptions", _TRANSPOSE_CONV_FIELDS),
           prepare_transpose_conv, run_transpose_conv, emit_transpose_conv, data_inputs=(2,),
           macs=macs_transpose_conv, params_text=params_conv, weights=True,
           requant_table_bytes=_requant_bytes(2)),
    OpSpec("BATCH_MATMUL", (101, "BatchMatMulOptions", _BATCH_MATMUL_FIELDS),
           prepare_batch_matmul, run_batch_matmul, emit_batch_matmul, macs=macs_batch_matmul,
           params_text=params_batch_matmul, constant_operands=True, quantize="calibrated"),
]
