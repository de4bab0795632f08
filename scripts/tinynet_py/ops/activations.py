"""SOFTMAX, LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU, HARD_SWISH, PRELU, ELU."""

import math

import numpy as np

from .. import fixedpoint as fp
from . import OpSpec
from .common import INT_RANGES, int8_table_bytes


def prepare_softmax(ctx):
    ctx.require_inputs(1)
    inp, out = ctx.input(0), ctx.output()
    beta = np.float32(ctx.op.options["beta"])
    if inp.dtype == "float32":
        ctx.require_dtypes(out, ("float32",), "output")
        return {"dtype": "float32", "beta": beta}
    ctx.require_dtypes(inp, ("int8", "int16", "float32"), "input")
    ctx.require_dtypes(out, ("int16",) if inp.dtype == "int16" else ("int8", "int16"), "output")
    in_scale, _ = ctx.per_tensor_quant(inp, "input")
    out_scale, out_zp = ctx.per_tensor_quant(out, "output")
    if out.dtype == "int16":
        # softmax_common.cc: TF_LITE_ENSURE_NEAR on the scale (within 0.1 %), exact zero point.
        want_scale, want_zp = (1.0 / 32768, 0) if inp.dtype == "int16" else (1.0 / 65536, -32768)
        if out_zp != want_zp or abs(float(out_scale) - want_scale) > 0.001 * want_scale:
            ctx.fail(f"an {inp.dtype} -> int16 softmax output must have scale 1/{round(1 / want_scale)} "
                     f"and zero point {want_zp}, has {out_scale} and {out_zp}")
    elif out_zp != -128 or out_scale != np.float32(1.0 / 256):
        ctx.fail(f"an int8 softmax output must have scale 1/256 and zero point -128, has "
                 f"{out_scale} and {out_zp}")
    if inp.dtype == "int16":
        # CalculateSoftmaxParams: [-65535, 0] of the scaled difference is [-10, 0]; the exp and
        # 1 / (1 + x) tables of SoftmaxPrepare (gen_lut, in float).
        try:
            multiplier, shift = fp.quantize_multiplier(
                np.float64(in_scale) * np.float64(beta) / (10.0 / 65535.0))
        except fp.MultiplierRangeError as error:
            ctx.fail(f"input scale {in_scale} x beta {beta}: {error}")
        return {"dtype": "int16", "multiplier": multiplier, "shift": shift,
                "exp_lut": _softmax_exp_lut(), "reciprocal_lut": _softmax_reciprocal_lut()}
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
    return {"dtype": "int8", "out_dtype": out.dtype, "multiplier": multiplier, "left_shift": left_shift,
            "diff_min": -radius}


def _softmax_exp_lut():
    """exp on [-10, 0] (exp(-10) is negligible), output range [-1, 1]: std::exp in float (here the
    correctly rounded float of math.exp, as glibc's expf)."""
    return fp.gen_lut_int16(lambda x: np.float32(math.exp(float(x))), -10.0, 0.0, -1.0, 1.0)


def _softmax_reciprocal_lut():
    """1 / (1 + x) on [0, 1], output range [-1, 1]."""
    return fp.gen_lut_int16(lambda x: np.float32(np.float32(1) / np.float32(np.float32(1) + x)),
                            0.0, 1.0, -1.0, 1.0)


def run_softmax(plan, x):
    """reference_ops::Softmax<int8, int8> (internal/reference/softmax.h): exp in Q5.26 of
    the scaled difference to the row maximum, sum in Q12.19, GetReciprocal, rescale."""
    if plan["dtype"] == "float32":
        z = x.astype(np.float32)
        e = np.exp((z - z.max(axis=-1, keepdims=True)) * plan["beta"])
        return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)
    if plan["dtype"] == "int16":
        return _run_softmax_int16(plan, x)
    xi = x.astype(np.int64)
    diff = xi - xi.max(axis=-1, keepdims=True)
    used = diff >= plan["diff_min"]
    scaled = fp.multiply_by_quantized_multiplier_greater_than_one(diff, plan["multiplier"],
                                                                  plan["left_shift"])
    exps = fp.exp_on_negative_values(scaled, 5)                    # Q0.31
    in_accum = fp.saturating_rounding_multiply_by_pot(exps, -12)   # Rescale<12>
    sums = fp.wrap32(np.sum(np.where(used, in_accum, 0), axis=-1, keepdims=True))
    reciprocal, bits_over_unit = fp.get_reciprocal(sums, 12)
    # Softmax<int8, OutputT>: the output's bits and its minimum as the zero point.
    bits, low, high = (16, -32768, 32767) if plan["out_dtype"] == "int16" else (8, -128, 127)
    exponent = bits_over_unit + 31 - bits
    out = fp.rounding_divide_by_pot(fp.srdhm(reciprocal, exps), exponent) + low
    return np.where(used, np.clip(out, low, high), low)


def _run_softmax_int16(plan, x):
    """reference_ops::SoftmaxInt16 (internal/reference/softmax.h): exp of the rescaled difference
    to the row maximum through the exp table, the sum's reciprocal through the 1 / (1 + x) table
    after normalising it by its leading zeros, output in Q0.15."""
    xi = x.astype(np.int64)
    diff = xi - xi.max(axis=-1, keepdims=True)
    scaled = fp.multiply_by_quantized_multiplier(diff, plan["multiplier"], plan["shift"])
    exps = fp.lut_lookup_int16(np.clip(scaled + 32767, -32768, 32767), plan["exp_lut"])
    sums = fp.wrap32(exps.sum(axis=-1, keepdims=True))
    headroom_plus_one = fp.count_leading_zeros32(sums)
    shifted = ((sums << (headroom_plus_one - 1)) + (1 << 13)) >> 14
    reciprocal = fp.lut_lookup_int16(np.clip(shifted - ((1 << 15) + (1 << 16)), -32768, 32767),
                                     plan["reciprocal_lut"])
    right_shift = 31 - headroom_plus_one
    result = (exps * reciprocal + (1 << (right_shift - 1))) >> right_shift
    return np.clip(result, 0, 32767)


def _prepare_sigmoid_like(ctx, name, output_scale, output_zero_point):
    ctx.require_inputs(1)
    inp, out = ctx.input(0), ctx.output()
    if inp.dtype == "float32":
        ctx.require_dtypes(out, ("float32",), "output")
        return {"dtype": "float32"}
    ctx.require_dtypes(inp, ("int8", "int16", "float32"), "input")
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    in_scale, in_zp = ctx.per_tensor_quant(inp, "input")
    out_scale, out_zp = ctx.per_tensor_quant(out, "output")
    if inp.dtype == "int16":
        return _prepare_sigmoid_like_int16(ctx, name, in_scale, in_zp, out_scale, out_zp)
    if out_zp != output_zero_point:
        ctx.fail(f"an int8 {name} output must have zero point {output_zero_point}, has {out_zp}")
    # logistic_common.cc / tanh.cc: frexp(input_scale * 2^27) with TfLiteRound (not
    # QuantizeMultiplier: no q == 2^31 fix), radius from CalculateInputRadius(4, shift, 31).
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


def _prepare_sigmoid_like_int16(ctx, name, in_scale, in_zp, out_scale, out_zp):
    """The int16 branch of logistic_common.cc / tanh.cc: zero points 0, output scale 2^-15
    (CheckedLog2), and the input multiplier of fp.sigmoid_int16_params."""
    if in_zp != 0 or out_zp != 0:
        ctx.fail(f"an int16 {name} needs input and output zero points 0, has {in_zp} and {out_zp}")
    pot, log2 = fp.checked_log2(out_scale)
    if not pot or log2 != -15:
        ctx.fail(f"an int16 {name} output must have scale 2^-15, has {float(out_scale):g}")
    multiplier, left_shift = fp.sigmoid_int16_params(in_scale, name)
    if multiplier > 32767:
        # TFLM only DCHECKs this; the kernel's int16 x multiplier would overflow int32.
        ctx.fail(f"input scale {float(in_scale):g} is too large for an int16 {name} (TFLM's input "
                 f"multiplier {multiplier} exceeds 32767)")
    return {"dtype": "int16", "multiplier": multiplier, "left_shift": left_shift}


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
    if plan["dtype"] == "int16":
        return fp.logistic_int16(x, plan["multiplier"], plan["left_shift"])
    return _run_sigmoid_like(plan, x, fp.logistic, -128, 127,
                             lambda q0: np.clip(fp.rounding_divide_by_pot(q0, 23) - 128, -128, 127))


def prepare_tanh(ctx):
    return _prepare_sigmoid_like(ctx, "TANH", 1.0 / 128, 0)


def run_tanh(plan, x):
    """reference_integer_ops::Tanh (int8): gemmlowp::tanh on Q4.27, RoundingDivideByPOT(., 24)."""
    if plan["dtype"] == "float32":
        return np.tanh(x.astype(np.float64)).astype(np.float32)
    if plan["dtype"] == "int16":
        return fp.tanh_int16(x, plan["multiplier"], plan["left_shift"])
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
            "range": INT_RANGES[out.dtype]}
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




def _prepare_relu_like(ctx):
    ctx.require_inputs(1)
    inp, out = ctx.input(0), ctx.output()
    ctx.require_dtypes(inp, ("int8", "int16", "float32"), "input")
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    return inp, out


def prepare_relu(ctx):
    inp, out = _prepare_relu_like(ctx)
    if inp.dtype == "float32":
        return {"dtype": "float32"}
    in_scale, in_zp = ctx.per_tensor_quant(inp, "input")
    out_scale, out_zp = ctx.per_tensor_quant(out, "output")
    # CalculateReluOpData (micro/kernels/activations_common.cc): act_min from roundf(0 / out_scale)
    # + out_zp = out_zp, act_max the type maximum.  The ratio of the scales is taken in float, then
    # widened: the tflm-ops case relu/int8_1x1x9x7_multiplier_gt1 (0.5 / 0.2) matches only this
    # form (the all-double ratio is 2.49999996, one multiplier unit lower, and rounds 13 of its
    # 63 values down).
    multiplier, shift = fp.quantize_multiplier(np.float64(np.float32(in_scale / out_scale)))
    low, high = INT_RANGES[out.dtype]
    return {"dtype": inp.dtype, "input_zero_point": in_zp, "output_zero_point": out_zp,
            "multiplier": multiplier, "shift": shift, "range": (max(low, out_zp), high)}


def run_relu(plan, x):
    """ReluFloat / ReluQuantized (micro/kernels/activations_common.cc)."""
    if plan["dtype"] == "float32":
        return np.where(x < 0, np.float32(0), x)
    value = x.astype(np.int64) - plan["input_zero_point"]
    scaled = fp.multiply_by_quantized_multiplier(value, plan["multiplier"], plan["shift"])
    return np.clip(scaled + plan["output_zero_point"], *plan["range"])


def prepare_relu6(ctx):
    inp, out = _prepare_relu_like(ctx)
    if inp.dtype == "float32":
        return {"dtype": "float32"}
    in_scale, in_zp = ctx.per_tensor_quant(inp, "input")
    # Relu6Prepare: FloatToQuantizedType<T>(6.0f, input scale, input zero point) (micro_utils.h):
    # round(6.0f / scale) in float, plus the zero point, clamped to the type.  The output
    # tensor's quantization is never read: TFLM clamps in the input's quantization.
    low, high = INT_RANGES[inp.dtype]
    six = int(fp.tflite_round(np.float64(np.float32(6.0) / np.float32(in_scale)))) + in_zp
    return {"dtype": inp.dtype, "lower": in_zp, "upper": min(max(six, low), high)}


def run_relu6(plan, x):
    """Relu6Float / Relu6Quantized: val > upper ? upper : val < lower ? lower : val."""
    if plan["dtype"] == "float32":
        return np.where(x > 6, np.float32(6), np.where(x < 0, np.float32(0), x))
    return np.where(x > plan["upper"], plan["upper"], np.where(x < plan["lower"], plan["lower"], x))


# --- HARD_SWISH, PRELU, ELU (issue 12) ---------------------------------------------------

def _downscale_to_int16(multiplier):
    """DownScaleInt32ToInt16Multiplier (internal/common.h): a Q0.31 multiplier rounded to Q0.15."""
    if multiplier >= (1 << 31) - 1 - (1 << 15):
        return 32767
    return (multiplier + (1 << 15)) >> 16


def prepare_hard_swish(ctx):
    """HardSwishPrepare (micro/kernels/hard_swish_common.cc): int8 and float32."""
    ctx.require_inputs(1)
    inp, out = ctx.input(0), ctx.output()
    ctx.require_dtypes(inp, ("int8", "float32"), "input")
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    if inp.dtype == "float32":
        return {"dtype": "float32"}
    in_scale, in_zp = ctx.per_tensor_quant(inp, "input")
    out_scale, out_zp = ctx.per_tensor_quant(out, "output")
    hires_scale = np.float32(np.float32(1.0 / 128.0) * in_scale)
    out_multiplier, out_exponent = fp.quantize_multiplier(np.float64(np.float32(hires_scale / out_scale)))
    if out_exponent > 0:
        ctx.fail(f"input scale {float(in_scale):g} is 128 x the output scale {float(out_scale):g} or more, "
                 f"which TFLM's HARD_SWISH refuses")
    reluish_multiplier, reluish_exponent = fp.quantize_multiplier(
        np.float64(np.float32(hires_scale / np.float32(3.0 / 32768.0))))
    return {"dtype": "int8", "input_zero_point": in_zp, "output_zero_point": out_zp,
            "output_multiplier": _downscale_to_int16(out_multiplier), "output_exponent": out_exponent,
            "reluish_multiplier": _downscale_to_int16(reluish_multiplier), "reluish_exponent": reluish_exponent}


def _srdhm16(a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul for int16."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    total = a * b + np.where(a * b >= 0, 1 << 14, 1 - (1 << 14))
    result = np.where(total >= 0, total >> 15, -((-total) >> 15))
    return np.where((a == b) & (a == -32768), 32767, result)


def _sdhm16(a, b):
    """SaturatingDoublingHighMul (internal/reference/hard_swish.h): truncating."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    result = np.where(a * b >= 0, (a * b) >> 15, -((-(a * b)) >> 15))
    return np.where((a == b) & (a == -32768), 32767, result)


def _rounding_divide_by_pot16(x, exponent):
    """gemmlowp RoundingDivideByPOT on int16: from exponent 16 on the int16 mask is all ones."""
    x = np.asarray(x, np.int64)
    mask = -1 if exponent >= 16 else (1 << exponent) - 1
    return (x >> exponent) + ((x & mask) > (mask >> 1) + (x < 0))


def run_hard_swish(plan, x):
    """reference_ops::HardSwish (internal/reference/hard_swish.h), 16-bit fixed point; float:
    in * min(6, max(0, in + 3)) / 6."""
    if plan["dtype"] == "float32":
        x = x.astype(np.float32)
        shifted = x + np.float32(3)
        low = np.where(np.float32(0) < shifted, shifted, np.float32(0))
        relu6 = np.where(low < np.float32(6), low, np.float32(6)).astype(np.float32)
        return ((x * relu6).astype(np.float32) / np.float32(6)).astype(np.float32)
    hires = (x.astype(np.int64) - plan["input_zero_point"]) * 128
    preshift_output = _srdhm16(hires, plan["output_multiplier"])
    exponent = plan["reluish_exponent"]
    reluish = hires
    if exponent > 0:
        reluish = np.clip(reluish << (exponent - 1), -32768, 32767)
    reluish = _srdhm16(reluish, plan["reluish_multiplier"])
    if exponent > 0:
        reluish = np.clip(reluish << 1, -32768, 32767)
    if exponent < 0:
        reluish = _rounding_divide_by_pot16(reluish, -exponent)
    reluish = (reluish + (1 << 15)) >> 1
    preshift = _sdhm16(reluish, preshift_output)
    value = _rounding_divide_by_pot16(preshift, -plan["output_exponent"]) + plan["output_zero_point"]
    value = ((value + 32768) & 0xFFFF) - 32768            # added in int16
    return np.clip(value, -128, 127)


def prepare_prelu(ctx):
    """PreluPrepare / CalculatePreluParams (micro/kernels/prelu_common.cc): float32, int8, and
    int16 with int8 alpha; alpha broadcasts to the input."""
    ctx.require_inputs(2)
    inp, alpha, out = ctx.input(0), ctx.input(1), ctx.output()
    ctx.require_dtypes(inp, ("int8", "int16", "float32"), "input")
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    expected_alpha = "int8" if inp.dtype == "int16" else inp.dtype
    if alpha.dtype != expected_alpha:
        ctx.fail(f"alpha has dtype {alpha.dtype}; with {inp.dtype} inputs TFLM needs {expected_alpha}")
    try:
        shape = np.broadcast_shapes(tuple(inp.shape), tuple(alpha.shape))
    except ValueError:
        ctx.fail(f"alpha's shape {tuple(alpha.shape)} does not broadcast to the input's {tuple(inp.shape)}")
    if tuple(shape) != tuple(out.shape):
        ctx.fail(f"input and alpha broadcast to {tuple(shape)}, the output is {tuple(out.shape)}")
    if inp.dtype == "float32":
        return {"dtype": "float32"}
    in_scale, in_zp = ctx.per_tensor_quant(inp, "input")
    alpha_scale, alpha_zp = ctx.per_tensor_quant(alpha, "alpha")
    out_scale, out_zp = ctx.per_tensor_quant(out, "output")
    plan = {"dtype": inp.dtype, "input_offset": -in_zp, "alpha_offset": -alpha_zp, "output_offset": out_zp,
            "range": INT_RANGES[out.dtype]}
    plan["positive_multiplier"], plan["positive_shift"] = fp.quantize_multiplier(
        np.float64(in_scale) / np.float64(out_scale))
    plan["negative_multiplier"], plan["negative_shift"] = fp.quantize_multiplier(
        np.float64(in_scale) * np.float64(alpha_scale) / np.float64(out_scale))
    return plan


def run_prelu(plan, x, alpha):
    """reference_ops::BroadcastPrelu4DSlow (internal/reference/prelu.h); float:
    BroadcastPrelu4DSlowFloat (x >= 0 ? x : x * alpha)."""
    if plan["dtype"] == "float32":
        x, alpha = np.broadcast_arrays(x.astype(np.float32), alpha.astype(np.float32))
        return np.where(x >= 0, x, x * alpha).astype(np.float32)
    value, a = np.broadcast_arrays(x.astype(np.int64) + plan["input_offset"],
                                   alpha.astype(np.int64) + plan["alpha_offset"])
    positive = fp.multiply_by_quantized_multiplier(value, plan["positive_multiplier"], plan["positive_shift"])
    negative = fp.multiply_by_quantized_multiplier(value * a, plan["negative_multiplier"], plan["negative_shift"])
    return np.clip(np.where(value >= 0, positive, negative) + plan["output_offset"], *plan["range"])


def prepare_elu(ctx):
    """EluPrepare / PopulateLookupTable (micro/kernels/elu.cc): the int8 table, built in float
    with expf (here math.exp rounded to float: the correctly rounded value, as glibc's expf)."""
    ctx.require_inputs(1)
    inp, out = ctx.input(0), ctx.output()
    ctx.require_dtypes(inp, ("int8", "float32"), "input")
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    if inp.dtype == "float32":
        return {"dtype": "float32"}
    in_scale, in_zp = ctx.per_tensor_quant(inp, "input")
    out_scale, out_zp = ctx.per_tensor_quant(out, "output")
    inverse_scale = np.float32(np.float32(1) / out_scale)
    table = np.zeros(256, np.int64)
    for q in range(-128, 128):
        real = np.float32(in_scale * np.float32(q - in_zp))
        transformed = np.float32(np.float32(math.exp(float(real))) - np.float32(1)) if real < 0 else real
        rescaled = np.float32(fp.tflite_round(np.float32(transformed * inverse_scale)))
        table[q + 128] = min(max(int(np.float32(rescaled + np.float32(out_zp))), -128), 127)
    return {"dtype": "int8", "table": table}


def run_elu(plan, x):
    """EvalUsingLookupTable (elu.cc); float: reference_ops::Elu (expm1 below zero)."""
    if plan["dtype"] == "float32":
        x = x.astype(np.float32)
        return np.where(x < 0, np.expm1(x.astype(np.float64)).astype(np.float32), x)
    return plan["table"][x.astype(np.int64) + 128]


def int16_softmax_table_bytes(model, op):
    """int16 SOFTMAX reads the exp and 1 / (1 + x) tables (513 int16 each) in flash."""
    return 2 * 513 * 2 if model.tensors[op.inputs[0]].dtype == "int16" else 0


def int16_sigmoid_table_bytes(model, op):
    """int16 LOGISTIC and TANH read TFLM's sigmoid_table_uint16 (256 uint16) in flash."""
    return 256 * 2 if model.tensors[op.inputs[0]].dtype == "int16" else 0


# --- C++ emission ----------------------------------------------------------------------

def emit_softmax(e, op, plan, prefix, ins, outs):
    beta = float(op.options.get("beta", 1.0))
    if beta == 1.0:
        return f"tinynet::Softmax<{ins[0]}, {outs[0]}>"
    e.constant_line(f"inline constexpr float {prefix}_beta = {e.cpp_float(beta)};\n")
    return f"tinynet::Softmax<{ins[0]}, {outs[0]}, {prefix}_beta>"


def emit_logistic(e, op, plan, prefix, ins, outs):
    return f"tinynet::Logistic<{ins[0]}, {outs[0]}>"


def emit_tanh(e, op, plan, prefix, ins, outs):
    return f"tinynet::Tanh<{ins[0]}, {outs[0]}>"


def emit_leaky_relu(e, op, plan, prefix, ins, outs):
    alpha = float(op.options.get("alpha", 0.2))
    e.constant_line(f"inline constexpr float {prefix}_alpha = {e.cpp_float(alpha)};\n")
    return f"tinynet::LeakyRelu<{ins[0]}, {outs[0]}, {prefix}_alpha>"


def emit_relu(e, op, plan, prefix, ins, outs):
    return f"tinynet::Relu<{ins[0]}, {outs[0]}>"


def emit_relu6(e, op, plan, prefix, ins, outs):
    return f"tinynet::Relu6<{ins[0]}, {outs[0]}>"


def emit_hard_swish(e, op, plan, prefix, ins, outs):
    return f"tinynet::HardSwish<{ins[0]}, {outs[0]}>"


def emit_prelu(e, op, plan, prefix, ins, outs):
    return f"tinynet::Prelu<{ins[0]}, {ins[1]}, {outs[0]}>"


def emit_elu(e, op, plan, prefix, ins, outs):
    return f"tinynet::Elu<{ins[0]}, {outs[0]}>"


def params_softmax(op):
    return f"beta {float(op.options['beta']):g}"


def params_leaky_relu(op):
    return f"alpha {float(op.options['alpha']):g}"


SPECS = [
    OpSpec("SOFTMAX", (9, "SoftmaxOptions", [(0, "beta", "float32", 0.0)]), prepare_softmax,
           run_softmax, emit_softmax, same_shape=True, params_text=params_softmax,
           quantize="fixed", fixed_output=(1.0 / 256, -128), requant_table_bytes=int16_softmax_table_bytes),
    OpSpec("LOGISTIC", (0, None, []), prepare_logistic, run_logistic, emit_logistic, same_shape=True,
           quantize="fixed", fixed_output=(1.0 / 256, -128), prune="channelwise",
           requant_table_bytes=int16_sigmoid_table_bytes),
    OpSpec("TANH", (0, None, []), prepare_tanh, run_tanh, emit_tanh, same_shape=True,
           quantize="fixed", fixed_output=(1.0 / 128, 0), prune="channelwise",
           requant_table_bytes=int16_sigmoid_table_bytes),
    OpSpec("RELU", (0, None, []), prepare_relu, run_relu, emit_relu, same_shape=True,
           quantize="calibrated", prune="channelwise"),
    # RELU6 clamps in its input's quantization (TFLM ignores the output's): quantized, the
    # output must share the input's parameters.
    OpSpec("RELU6", (0, None, []), prepare_relu6, run_relu6, emit_relu6, same_shape=True,
           quantize="shared", prune="channelwise"),
    OpSpec("LEAKY_RELU", (75, "LeakyReluOptions", [(0, "alpha", "float32", 0.0)]), prepare_leaky_relu,
           run_leaky_relu, emit_leaky_relu, same_shape=True, params_text=params_leaky_relu,
           quantize="calibrated", prune="channelwise"),
    OpSpec("HARD_SWISH", (91, "HardSwishOptions", []), prepare_hard_swish, run_hard_swish, emit_hard_swish,
           same_shape=True, quantize="calibrated", prune="channelwise", requant_table_bytes=int8_table_bytes),
    # alpha is usually a constant [C]: a tinynet::ConstantTensor. Its float values are not
    # quantized by `quantize` (the op then fails its dtype check with a one-line error).
    OpSpec("PRELU", (0, None, []), prepare_prelu, run_prelu, emit_prelu, constant_operands=True,
           quantize="calibrated"),
    OpSpec("ELU", (0, None, []), prepare_elu, run_elu, emit_elu, same_shape=True, quantize="calibrated",
           prune="channelwise", requant_table_bytes=int8_table_bytes),
]
