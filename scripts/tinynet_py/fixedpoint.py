"""TFLM's integer arithmetic, vectorised with numpy.

Values are numpy int64 arrays (or Python ints) that hold what C keeps in int32_t; every
result that C would wrap is wrapped back to 32 bits with wrap32, so overflow behaves as
it does in TFLM's host build.  Sources, function by function:
  * quantize_multiplier: tensorflow/lite/kernels/internal/quantization_util.cc
    QuantizeMultiplier (frexp, TfLiteRound = round half away from zero, q == 2^31 fix,
    shift < -31 flushes to 0).
  * multiply_by_quantized_multiplier: internal/common.cc, the default (double rounding,
    TFLITE_SINGLE_ROUNDING off) int32 overload, and the int64 overload used by the 16x8
    kernels (which has a single rounding with a 16-bit reduced multiplier).
  * srdhm, rounding_divide_by_pot, saturating_rounding_multiply_by_pot, exp_on_negative_values,
    one_over_one_plus_x_for_x_in_0_1, logistic, tanh: gemmlowp fixedpoint/fixedpoint.h.
"""

import math
import os

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def wrap32(x):
    """Two's complement wrap of int64 values to the int32 range (C's int32 overflow)."""
    x = np.asarray(x, dtype=np.int64)
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def tflite_round(x):
    """TfLiteRound / std::round: round half away from zero (on a Python float or array)."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


class MultiplierRangeError(ValueError):
    """A real multiplier (a ratio of scales) that no (int32 multiplier, shift) pair represents:
    not finite, negative, or 2^31 or more (the shift would exceed 31 bits). The interpreter
    reports it as a ModelError naming the op."""


# The largest left shift the kernels apply to a 32-bit value (a shift by 32 or more is undefined).
MAX_SHIFT = 31


def quantize_multiplier(real_multiplier):
    """QuantizeMultiplier(double) -> (int32 multiplier, int shift), double-rounding build."""
    real_multiplier = float(real_multiplier)
    if not math.isfinite(real_multiplier) or real_multiplier < 0:
        raise MultiplierRangeError(f"rescale factor {real_multiplier!r} is not a finite number >= 0")
    if real_multiplier == 0.0:
        return 0, 0
    mantissa, shift = math.frexp(real_multiplier)
    q = int(tflite_round(mantissa * (1 << 31)))
    if q == (1 << 31):
        q //= 2
        shift += 1
    if shift < -31:
        shift, q = 0, 0
    if shift > MAX_SHIFT:
        raise MultiplierRangeError(f"rescale factor {real_multiplier:g} is too large for the fixed-point "
                                   f"multiplier (it needs a shift of {shift}, at most {MAX_SHIFT})")
    return q, shift


def quantize_multipliers(real_multipliers):
    """quantize_multiplier over an array: (int64 array of multipliers, int64 array of shifts)."""
    pairs = [quantize_multiplier(m) for m in np.ravel(real_multipliers)]
    return (np.array([p[0] for p in pairs], np.int64), np.array([p[1] for p in pairs], np.int64))


def srdhm(a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul(int32 a, int32 b)."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    total = ab + nudge
    # (ab + nudge) / 2^31 with C's truncation toward zero.
    result = np.where(total >= 0, total >> 31, -((-total) >> 31))
    overflow = (a == b) & (a == INT32_MIN)
    return np.where(overflow, INT32_MAX, result)


def rounding_divide_by_pot(x, exponent):
    """gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero."""
    x = np.asarray(x, np.int64)
    exponent = np.asarray(exponent, np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def saturating_rounding_multiply_by_pot(x, exponent):
    """gemmlowp SaturatingRoundingMultiplyByPOT<exponent> for int32 (exponent is a Python int)."""
    x = np.asarray(x, np.int64)
    if exponent == 0:
        return x
    if exponent < 0:
        return rounding_divide_by_pot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    result = wrap32(x << exponent)
    result = np.where(x > threshold, INT32_MAX, result)
    return np.where(x < -threshold, INT32_MIN, result)


def multiply_by_quantized_multiplier(x, multiplier, shift):
    """MultiplyByQuantizedMultiplier(int32 x, int32 multiplier, int shift), double rounding.

    multiplier and shift may be arrays broadcasting against x (per-channel requantization).
    """
    shift = np.asarray(shift, np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    shifted = wrap32(np.asarray(x, np.int64) << left)        # x * (1 << left_shift)
    return rounding_divide_by_pot(srdhm(shifted, multiplier), right)


def multiply_by_quantized_multiplier_smaller_than_one_exp(x, multiplier, left_shift):
    """MultiplyByQuantizedMultiplierSmallerThanOneExp (double rounding): shift <= 0."""
    return rounding_divide_by_pot(srdhm(x, multiplier), -np.asarray(left_shift, np.int64))


def multiply_by_quantized_multiplier_greater_than_one(x, multiplier, left_shift):
    """MultiplyByQuantizedMultiplierGreaterThanOne (double rounding): shift >= 0."""
    return srdhm(wrap32(np.asarray(x, np.int64) << np.asarray(left_shift, np.int64)), multiplier)


def multiply_by_quantized_multiplier_int64(x, multiplier, shift):
    """MultiplyByQuantizedMultiplier(int64 x, int32 multiplier, int shift) (common.cc).

    Used by the 16x8 kernels (int64 accumulators): the multiplier is rounded to 16 bits,
    then one rounding right shift by 15 - shift.  The result is truncated to int32.
    """
    x = np.asarray(x, np.int64)
    multiplier = np.asarray(multiplier, np.int64)
    shift = np.asarray(shift, np.int64)
    reduced = np.where(multiplier < 0x7FFF0000, (multiplier + (1 << 15)) >> 16, 0x7FFF)
    total_shift = 15 - shift
    return wrap32((x * reduced + (np.int64(1) << (total_shift - 1))) >> total_shift)


# --- gemmlowp fixed-point transcendental functions (int32 raw values) ---------------------

def _fp_mul(a, b):
    """FixedPoint operator*: SaturatingRoundingDoublingHighMul on the raw values."""
    return srdhm(a, b)


def _rescale(x, src_integer_bits, dst_integer_bits):
    """gemmlowp Rescale<dst>(FixedPoint<int32, src>)."""
    return saturating_rounding_multiply_by_pot(x, src_integer_bits - dst_integer_bits)


def _exp_on_interval_between_negative_one_quarter_and_0_excl(a):
    """exp(a) for a in [-1/4, 0), all values Q0.31."""
    constant_term = 1895147668          # exp(-1/8)
    constant_1_over_3 = 715827883
    x = wrap32(a + (1 << 28))           # a + 1/8
    x2 = _fp_mul(x, x)
    x3 = _fp_mul(x2, x)
    x4 = _fp_mul(x2, x2)
    x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2)
    poly = saturating_rounding_multiply_by_pot(
        wrap32(_fp_mul(wrap32(x4_over_4 + x3), constant_1_over_3) + x2), -1)
    return wrap32(constant_term + _fp_mul(constant_term, wrap32(x + poly)))


_EXP_BARREL = [(-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
               (2, 39332535), (3, 720401), (4, 242)]


def exp_on_negative_values(a, integer_bits):
    """gemmlowp exp_on_negative_values(FixedPoint<int32, integer_bits>) -> Q0.31 raw."""
    a = np.asarray(a, np.int64)
    fractional_bits = 31 - integer_bits
    one_quarter = 1 << (fractional_bits - 2)
    mask = one_quarter - 1
    a_mod_quarter_minus_one_quarter = wrap32((a & mask) - one_quarter)
    result = _exp_on_interval_between_negative_one_quarter_and_0_excl(
        _rescale(a_mod_quarter_minus_one_quarter, integer_bits, 0))
    remainder = wrap32(a_mod_quarter_minus_one_quarter - a)
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent:
            bit = 1 << (fractional_bits + exponent)
            result = np.where((remainder & bit) != 0, _fp_mul(result, multiplier), result)
    if integer_bits > 5:
        clamp = -(1 << (36 - integer_bits))           # -32.0 in this format
        result = np.where(a < clamp, 0, result)
    return np.where(a == 0, INT32_MAX, result)


def _newton_reciprocal_f2(a):
    """The Newton-Raphson loop shared by one_over_one_plus_x and one_minus_x_over_one_plus_x.

    a is Q0.31 in (0, 1); returns x ~ 1 / (1 + a) ... times 2, as a Q2.29 raw value.
    """
    half_denominator = _rounding_half_sum(a, INT32_MAX)          # F0
    constant_48_over_17 = 1515870810                            # F2
    constant_neg_32_over_17 = -1010580540                       # F2
    x = wrap32(constant_48_over_17 + _fp_mul(half_denominator, constant_neg_32_over_17))
    one_f2 = 1 << 29
    for _ in range(3):
        half_denominator_times_x = _fp_mul(half_denominator, x)              # F2
        one_minus = wrap32(one_f2 - half_denominator_times_x)               # F2
        x = wrap32(x + _rescale(_fp_mul(x, one_minus), 4, 2))               # F4 -> F2
    return x


def _rounding_half_sum(a, b):
    """gemmlowp RoundingHalfSum(int32, int32): (a + b) / 2 rounded away from zero."""
    total = np.asarray(a, np.int64) + np.asarray(b, np.int64)
    sign = np.where(total >= 0, 1, -1)
    t = total + sign
    return np.where(t >= 0, t // 2, -((-t) // 2))


def one_over_one_plus_x_for_x_in_0_1(a):
    """1 / (1 + a) for a in (0, 1), Q0.31 in and out."""
    x = _newton_reciprocal_f2(a)
    return _rescale(x, 1, 0)               # Rescale<0>(ExactMulByPot<-1>(x)): F1 -> F0


def one_minus_x_over_one_plus_x_for_x_in_0_1(a):
    """(1 - a) / (1 + a) for a in (0, 1), Q0.31 in and out."""
    x = _newton_reciprocal_f2(a)
    return _rescale(wrap32(x - (1 << 29)), 2, 0)


def logistic(a, integer_bits):
    """gemmlowp logistic(FixedPoint<int32, integer_bits>) -> Q0.31 raw."""
    a = np.asarray(a, np.int64)
    positive = a > 0
    abs_input = np.where(positive, a, wrap32(-a))
    result_if_positive = one_over_one_plus_x_for_x_in_0_1(
        exp_on_negative_values(wrap32(-abs_input), integer_bits))
    result_if_negative = wrap32(INT32_MAX - result_if_positive)
    result = np.where(positive, result_if_positive, result_if_negative)
    return np.where(a == 0, 1 << 30, result)


def tanh(a, integer_bits):
    """gemmlowp tanh(FixedPoint<int32, integer_bits>) -> Q0.31 raw."""
    a = np.asarray(a, np.int64)
    negative = a < 0
    n = np.where(negative, a, wrap32(-a))
    # neg_tanh_on_negative_values: exp of ExactMulByPot<1>(n), i.e. one more integer bit.
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(n, integer_bits + 1))
    result = np.where(negative, wrap32(-t), t)
    return np.where(a == 0, 0, result)


def count_leading_zeros32(x):
    """CountLeadingZeros for uint32 values (32 for 0)."""
    x = np.asarray(x, np.int64) & 0xFFFFFFFF
    result = np.full(x.shape, 32, np.int64)
    nonzero = x != 0
    # floor(log2(x)) computed exactly on integers via bit_length.
    bit_length = np.vectorize(lambda v: int(v).bit_length(), otypes=[np.int64])(x) if x.size else x
    return np.where(nonzero, 32 - bit_length, result)


def get_reciprocal(x, x_integer_digits):
    """TFLM GetReciprocal (internal/common.h): 1 / x as Q0.31, and num_bits_over_unit."""
    x = np.asarray(x, np.int64)
    headroom_plus_one = count_leading_zeros32(x)
    num_bits_over_unit = x_integer_digits - headroom_plus_one
    shifted_sum_minus_one = wrap32(((x & 0xFFFFFFFF) << headroom_plus_one) - (1 << 31))
    return one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one), num_bits_over_unit


def saturating_rounding_multiply_by_pot_param(x, exponent):
    """TFLite SaturatingRoundingMultiplyByPOTParam(int32 x, int exponent >= 0): x * 2^exponent,
    saturated (a Python int in and out)."""
    if exponent == 0:
        return int(x)
    threshold = (1 << (31 - exponent)) - 1
    if x > threshold:
        return INT32_MAX
    if x < -threshold:
        return INT32_MIN
    return int(x) << exponent


def log_x_for_x_greater_than_or_equal_to_1(z_a, input_integer_bits, output_integer_bits):
    """TFLite log_x_for_x_greater_than_or_equal_to_1<output_integer_bits>(FixedPoint<int32,
    input_integer_bits>) (kernels/internal/common.h), on one raw value (Python ints)."""
    accum_bits = output_integer_bits + 1
    log_2, sqrt_sqrt_half, sqrt_half, one_quarter = 1488522236, 1805811301, 1518500250, 536870912
    alpha_n, alpha_d, alpha_i, alpha_f = 117049297, 127690142, 1057819769, 638450708
    mul = lambda a, b: int(srdhm(a, b))
    add = lambda a, b: int(wrap32(int(a) + int(b)))
    saturate = lambda v: max(INT32_MIN, min(INT32_MAX, v))
    pot = saturating_rounding_multiply_by_pot_param
    shifted_quarter = int(_rescale(one_quarter, 0, accum_bits))

    z_a = int(z_a)
    z_a_headroom_plus_1 = int(count_leading_zeros32(z_a))
    r_a = pot(mul(pot(z_a, z_a_headroom_plus_1 - 1), sqrt_half), 1)
    z_a_pow_2_adj = saturate(pot(input_integer_bits - z_a_headroom_plus_1, 31 - accum_bits) + shifted_quarter)
    z_b = mul(z_a, sqrt_half)
    z_b_headroom = int(count_leading_zeros32(z_b)) - 1
    r_b = pot(z_a, z_b_headroom)
    z_b_pow_2_adj = saturate(pot(input_integer_bits - z_b_headroom, 31 - accum_bits) - shifted_quarter)

    r = min(r_a, r_b)
    z_pow_2_adj = max(z_a_pow_2_adj, z_b_pow_2_adj)
    p = int(_rounding_half_sum(r, sqrt_sqrt_half))
    q = add(r, -sqrt_sqrt_half)
    q = add(q, q)
    common_sq = mul(q, q)
    num = add(mul(q, r), mul(mul(q, common_sq), alpha_n))
    denom_minus_one = add(mul(p, add(add(alpha_i, q), mul(alpha_d, common_sq))), mul(alpha_f, q))
    recip_denom = int(one_over_one_plus_x_for_x_in_0_1(denom_minus_one))
    num_scaled = int(_rescale(num, 0, accum_bits))
    return int(_rescale(add(mul(z_pow_2_adj, log_2), mul(num_scaled, recip_denom)), accum_bits, output_integer_bits))


# ---- the int16 lookup tables (16x8 LOGISTIC, TANH, SOFTMAX) --------------------------------------

_SIGMOID_HEADER = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                               "include", "tinynet", "core", "sigmoid_table.hpp")
_sigmoid_table = None


def sigmoid_table_uint16():
    """TFLM's sigmoid_table_uint16 (internal/common.h), read from the C++ header that holds it
    (include/tinynet/core/sigmoid_table.hpp), so that the table has one copy."""
    global _sigmoid_table
    if _sigmoid_table is None:
        with open(_SIGMOID_HEADER, encoding="utf-8") as f:
            text = f.read()
        body = text[text.index("sigmoid_table_uint16 = {") + len("sigmoid_table_uint16 = {"):]
        values = [int(v) for v in body[:body.index("}")].replace("\n", " ").split(",") if v.strip()]
        if len(values) != 256:
            raise RuntimeError(f"{_SIGMOID_HEADER}: expected 256 values, read {len(values)}")
        _sigmoid_table = np.array(values, np.int64)
    return _sigmoid_table


def checked_log2(x):
    """CheckedLog2 (internal/quantization_util.cc), in float as TFLM computes it:
    (is x a power of two within 1e-3 of its log2, rounded log2)."""
    f32 = np.float32
    x_log2 = f32(f32(math.log(float(f32(x)))) * f32(f32(1.0) / f32(math.log(2.0))))
    rounded = f32(tflite_round(x_log2))
    return bool(abs(f32(x_log2 - rounded)) < f32(1e-3)), int(rounded)


def sigmoid_int16_params(input_scale, name):
    """(input_multiplier, input_left_shift) of TFLM's int16 LOGISTIC / TANH Prepare
    (logistic_common.cc, tanh.cc): power-of-two scales whose left shift is 0 (LOGISTIC) or 0 or 1
    (TANH) give multiplier 0; any other scale a multiplier of at most 15 bits from
    input_scale * 3 * 4096 doubled while it is at most 32767 / 2 (shift at most 31)."""
    pot, log2_rounded = checked_log2(input_scale)
    left_shift = 12 + log2_rounded
    pot = pot and left_shift in ((0, 1) if name == "TANH" else (0,))
    if pot:
        return 0, left_shift
    multiplier = float(np.float32(input_scale)) * 4096.0 * 3.0
    left_shift = 0
    while multiplier <= 32767.0 / 2.0 and left_shift <= 30:
        left_shift += 1
        multiplier *= 2.0
    return int(multiplier), left_shift


def _sigmoid_int16_input(x, multiplier, left_shift):
    if multiplier == 0:  # the power-of-two case
        multiplier, left_shift = 3 << left_shift, 0
    rounding = 1 << (left_shift - 1) if left_shift > 0 else 0
    return (np.asarray(x, np.int64) * multiplier + rounding) >> left_shift


def logistic_int16(x, multiplier, left_shift):
    """reference_integer_ops::Logistic (int16): sigmoid_table_uint16 interpolated over 9 bits."""
    table = sigmoid_table_uint16()
    value = _sigmoid_int16_input(x, multiplier, left_shift)
    magnitude = np.abs(value)
    high = magnitude >> 9
    index = np.minimum(high, 254)
    a, b = table[index], table[index + 1]
    result = np.where(high >= 255, 0x7FFF << 10, (a << 9) + (magnitude & 0x1FF) * (b - a))
    result = np.where(value >= 0, result + (1 << 9), (1 << 25) - result + (1 << 9) - 1)
    return (result >> 10).astype(np.int16)


def tanh_int16(x, multiplier, left_shift):
    """reference_integer_ops::Tanh (int16): the sigmoid table interpolated over 8 bits."""
    table = sigmoid_table_uint16()
    value = _sigmoid_int16_input(x, multiplier, left_shift)
    magnitude = np.abs(value)
    high = magnitude >> 8
    index = np.minimum(high, 254)
    a, b = table[index], table[index + 1]
    result = np.where(high >= 255, 0xFFFF << 8, (a << 8) + (magnitude & 0xFF) * (b - a))
    result = np.where(value >= 0, result - (1 << 23) + (1 << 7), -result + (1 << 23) + (1 << 7) - 1)
    return (result >> 8).astype(np.int16)


def gen_lut_int16(func, input_min, input_max, output_min, output_max):
    """gen_lut<float, int16_t, int16_t> (internal/common.h): 513 int16 samples, each biased by
    half the error of linear interpolation at the step's midpoint, all in float arithmetic.
    func maps a float32 to a float32."""
    f32 = np.float32
    input_min, input_max = f32(input_min), f32(input_max)
    steps = 512
    step = f32(f32(input_max - input_min) / f32(steps))
    half_step = f32(step / f32(2))
    scaling_inv = f32(f32(65536) / f32(f32(output_max) - f32(output_min)))

    def rnd(v):
        return f32(tflite_round(f32(v)))

    lut = np.zeros(steps + 1, np.int64)
    for i in range(steps):
        at = f32(input_min + f32(f32(i) * step))
        val = func(at)
        val_mid = func(f32(at + half_step))
        val_next = func(f32(input_min + f32(f32(i + 1) * step)))
        sample = rnd(val * scaling_inv)
        mid_interp = rnd(f32(f32(f32(val_next * scaling_inv) + sample) / f32(2)))
        mid = rnd(val_mid * scaling_inv)
        bias = rnd(f32(f32(mid_interp - mid) / f32(2)))
        lut[i] = int(min(max(f32(sample - bias), -32768.0), 32767.0))
    lut[steps] = int(min(max(rnd(func(input_max) * scaling_inv), -32768.0), 32767.0))
    return lut


def lut_lookup_int16(value, lut):
    """LUTLookup(int16, const int16*) (internal/common.h): the high 9 bits pick the sample, the
    low 7 interpolate towards the next one."""
    value = np.asarray(value, np.int64)
    index = 256 + (value >> 7)
    offset = value & 0x7F
    base = lut[index]
    slope = wrap16(lut[index + 1] - base)
    return wrap16(base + ((slope * offset + 64) >> 7))


def wrap16(x):
    """static_cast<int16_t>: two's complement wrap to 16 bits."""
    x = np.asarray(x, np.int64)
    return ((x + (1 << 15)) & 0xFFFF) - (1 << 15)
