"""Normalizations over the last axis with TFLM's fixed int8 output quantization: L2_NORMALIZATION,
LOG_SOFTMAX."""

import numpy as np

from .. import fixedpoint as fp
from . import OpSpec
from .arithmetic import _libm_float, inv_sqrt_multiplier_exp

# reference_integer_ops::L2Normalization and LogSoftmax write in these whatever the output tensor
# says (l2norm.cc never reads it).
L2_OUTPUT = (1.0 / 128, 0)
L2_EPSILON = np.float32(1e-6)
LOG_SOFTMAX_OUTPUT = (16.0 / 256, 127)
SCALED_DIFF_INTEGER_BITS = 5       # log_softmax.cc kScaledDiffIntegerBits: differences in Q5.26


def _prepare_last_axis(ctx, opcode):
    ctx.require_inputs(1)
    inp, out = ctx.input(0), ctx.output()
    ctx.require_dtypes(inp, ("int8", "float32"), "input")
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    if tuple(inp.shape) != tuple(out.shape):
        ctx.fail(f"input shape {inp.shape} and output shape {out.shape} differ (this op keeps the shape)")
    if not inp.shape or min(inp.shape) <= 0:
        ctx.fail(f"{opcode} needs a last axis and no empty dimension, the input is {inp.shape}")
    return inp, out


def prepare_l2_normalization(ctx):
    """l2norm.cc Prepare(): rank <= 4, int8 or float32 in and out, no fused activation.  Only the
    input zero point is read (0 without quantization parameters); the output quantization is not
    (int8 outputs are x / ||x|| in 1/128)."""
    inp, out = _prepare_last_axis(ctx, "L2_NORMALIZATION")
    if len(inp.shape) > 4:
        ctx.fail(f"input rank {len(inp.shape)} exceeds 4 (TFLM's limit)")
    if ctx.op.options.get("fused_activation_function", "NONE") != "NONE":
        ctx.fail("a fused activation on L2_NORMALIZATION is not supported (TFLM refuses it)")
    plan = {"dtype": inp.dtype}
    if inp.dtype == "int8":
        if inp.per_channel:
            ctx.fail(f"input tensor '{inp.name}' is quantized per channel; L2_NORMALIZATION needs one zero point")
        plan["input_zero_point"] = inp.zero_point_scalar      # the only field TFLM reads (0 if none)
        if inp.shape[-1] > 33025:
            ctx.fail(f"rows of {inp.shape[-1]} values overflow TFLM's int32 sum of squares (at most 33025)")
    return plan


def run_l2_normalization(plan, x):
    """reference_ops::L2Normalization (float32: the squares summed in order, sqrt, at least
    epsilon 1e-6f, a division) or reference_integer_ops::L2Normalization (int8:
    GetInvSqrtQuantizedMultiplierExp of the int32 sum of squares, then
    MultiplyByQuantizedMultiplier(x - zp, m, shift + 7) clamped)."""
    if plan["dtype"] == "float32":
        f32 = np.float32
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            squared = np.zeros(x.shape[:-1], f32)
            for c in range(x.shape[-1]):
                squared = (squared + x[..., c] * x[..., c]).astype(f32)
            norm = np.sqrt(squared).astype(f32)
            norm = np.where(norm < L2_EPSILON, L2_EPSILON, norm).astype(f32)
            return (x / norm[..., None]).astype(f32)
    v = x.astype(np.int64) - plan["input_zero_point"]
    rows = v.reshape(-1, x.shape[-1])
    out = np.empty_like(rows)
    for r, row in enumerate(rows):
        multiplier, shift = inv_sqrt_multiplier_exp(int(np.sum(row * row)))
        out[r] = np.clip(fp.multiply_by_quantized_multiplier(row, multiplier, shift + 7), -128, 127)
    return out.reshape(x.shape).astype(np.int8)


def emit_l2_normalization(e, op, plan, prefix, ins, outs):
    return f"tinynet::L2Normalization<{ins[0]}, {outs[0]}>"


def prepare_log_softmax(ctx):
    """log_softmax.cc CalculateOpData(): same type and shape in and out; int8 needs the output
    scale 16/256 and zero point 127, and gets PreprocessLogSoftmaxScalingExp(beta 1, input scale,
    5) (the input multiplier and left shift as SOFTMAX's PreprocessSoftmaxScaling, and a reverse
    scaling divisor 2^(31 - left_shift) / multiplier) and diff_min = -CalculateInputRadius(5,
    left_shift).  int16 is refused as TFLM refuses it."""
    inp, out = _prepare_last_axis(ctx, "LOG_SOFTMAX")
    if inp.dtype == "float32":
        return {"dtype": "float32"}
    in_scale, _ = ctx.per_tensor_quant(inp, "input")
    out_scale, out_zp = ctx.per_tensor_quant(out, "output")
    if out_scale != np.float32(LOG_SOFTMAX_OUTPUT[0]) or out_zp != LOG_SOFTMAX_OUTPUT[1]:
        ctx.fail(f"an int8 LOG_SOFTMAX output must have scale 16/256 and zero point 127 (TFLM requires "
                 f"it), has {out_scale} and {out_zp}")
    bits = SCALED_DIFF_INTEGER_BITS
    real = min(1.0 * np.float64(in_scale) * (1 << (31 - bits)), float((1 << 31) - 1))
    multiplier, left_shift = fp.quantize_multiplier(real)
    if left_shift < 1:
        ctx.fail(f"input scale {in_scale} is below 2^-26: TFLM's reverse scaling 2^(31 - shift) would "
                 f"overflow")
    divisor, divisor_shift = fp.quantize_multiplier((1 << (31 - left_shift)) / np.float64(multiplier))
    radius = int(np.floor(1.0 * ((1 << bits) - 1) * (1 << (31 - bits)) / (1 << left_shift)))
    return {"dtype": "int8", "multiplier": multiplier, "left_shift": left_shift,
            "divisor": divisor, "divisor_shift": divisor_shift, "diff_min": -radius}


def run_log_softmax(plan, x):
    """reference_ops::LogSoftmax: float32 as TFLM (the row maximum ignoring NaN, the C library's
    expf summed in order, logf, then x - max - log_sum); int8 as LogSoftmaxQuantized: the sum of
    exp_on_negative_values of the Q5.26 differences in Q12.19, its log in Q5.26
    (log_x_for_x_greater_than_or_equal_to_1), then each (difference - log sum) to Q4.3 plus 127;
    differences at or below the adjusted diff_min give -128."""
    rows = x.reshape(-1, x.shape[-1])
    if plan["dtype"] == "float32":
        f32 = np.float32
        exp, log = _libm_float("expf"), _libm_float("logf")
        with np.errstate(all="ignore"):
            top = np.full(rows.shape[0], np.finfo(f32).min, f32)
            for c in range(rows.shape[1]):
                top = np.where(top < rows[:, c], rows[:, c], top)      # std::max(max, x)
            total = np.zeros(rows.shape[0], f32)
            for c in range(rows.shape[1]):
                total = (total + exp((rows[:, c] - top).astype(f32))).astype(f32)
            out = ((rows - top[:, None]).astype(f32) - log(total)[:, None]).astype(f32)
        return out.reshape(x.shape)
    out = np.empty(rows.shape, np.int64)
    mult, shift = plan["multiplier"], plan["left_shift"]
    for r, row in enumerate(rows.astype(np.int64)):
        diff = row - row.max()
        used = diff >= plan["diff_min"]
        q5 = fp.multiply_by_quantized_multiplier(diff, mult, shift)
        exps = fp._rescale(fp.exp_on_negative_values(np.where(used, q5, 0), SCALED_DIFF_INTEGER_BITS), 0, 12)
        sum_q12 = 0
        for e, u in zip(exps, used):
            if u:
                sum_q12 = int(fp.wrap32(sum_q12 + int(e)))
        log_sum = fp.log_x_for_x_greater_than_or_equal_to_1(sum_q12, 12, SCALED_DIFF_INTEGER_BITS)
        shifted = int(fp.wrap32(log_sum + fp.INT32_MIN))
        adjusted = max(plan["diff_min"] - 1,
                       int(fp.multiply_by_quantized_multiplier(shifted, plan["divisor"], plan["divisor_shift"])))
        value = fp.rounding_divide_by_pot(fp.wrap32(q5 - log_sum), 31 - SCALED_DIFF_INTEGER_BITS - 4) + 127
        out[r] = np.where(diff > adjusted, np.clip(value, -128, 127), -128)
    return out.reshape(x.shape).astype(np.int8)


def emit_log_softmax(e, op, plan, prefix, ins, outs):
    return f"tinynet::LogSoftmax<{ins[0]}, {outs[0]}>"


SPECS = [
    OpSpec("L2_NORMALIZATION", (12, "L2NormOptions", [(0, "fused_activation_function", "activation", 0)]),
           prepare_l2_normalization, run_l2_normalization, emit_l2_normalization, same_shape=True,
           quantize="fixed", fixed_output=L2_OUTPUT),
    OpSpec("LOG_SOFTMAX", (36, "LogSoftmaxOptions", []), prepare_log_softmax, run_log_softmax,
           emit_log_softmax, same_shape=True, quantize="fixed", fixed_output=LOG_SOFTMAX_OUTPUT),
]
