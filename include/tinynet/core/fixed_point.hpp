// Fixed-point integer primitives, exactly as TensorFlow Lite Micro computes them.
//
// Sources of truth: gemmlowp's fixedpoint.h (SaturatingRoundingDoublingHighMul,
// RoundingDivideByPOT, exp_on_negative_values, one_over_one_plus_x_for_x_in_0_1, logistic, tanh)
// and TFLite's kernels/internal/common.h (MultiplyByQuantizedMultiplier and friends).
// Everything is constexpr so that a small network can be evaluated by the compiler, and every
// signed overflow that TFLite leaves to the hardware is written as a defined wrap-around.
#pragma once

#include <bit>
#include <cstdint>
#include <limits>

namespace tinynet::fixed {

inline constexpr std::int32_t int32_min = std::numeric_limits<std::int32_t>::min();
inline constexpr std::int32_t int32_max = std::numeric_limits<std::int32_t>::max();

// a * 2^shift for shift >= 0, wrapping like the two's-complement hardware does.
constexpr std::int32_t shift_left_wrapping(std::int32_t value, int shift) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(value) << shift);
}

constexpr std::int32_t add_wrapping(std::int32_t a, std::int32_t b) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}

// round(a * b / 2^31), the ARM VQRDMULH: gemmlowp adds a nudge of 2^30 (1 - 2^30 for a negative
// product) and divides by 2^31 truncating toward zero; INT32_MIN * INT32_MIN saturates. For a
// negative product, truncating (p + 1 - 2^30) / 2^31 toward zero equals flooring (p + 2^30) / 2^31
// (ceil(q / n) = floor((q + n - 1) / n)), so both signs reduce to one add and an arithmetic shift.
constexpr std::int32_t saturating_rounding_doubling_high_mul(std::int32_t a, std::int32_t b) {
  if (a == int32_min && b == int32_min) return int32_max;
  const std::int64_t product = static_cast<std::int64_t>(a) * static_cast<std::int64_t>(b);
  return static_cast<std::int32_t>((product + (std::int64_t{1} << 30)) >> 31);
}

// x / 2^exponent rounded to nearest, ties away from zero (gemmlowp RoundingDivideByPOT).
constexpr std::int32_t rounding_divide_by_pot(std::int32_t x, int exponent) {
  // exponent is 0..31, so the mask fits 32 bits (a 64-bit shift costs several instructions on M4).
  const std::int32_t mask = static_cast<std::int32_t>((std::uint32_t{1} << exponent) - 1u);
  const std::int32_t remainder = x & mask;
  const std::int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// The same for 64-bit values (used by the 16x8 kernels).
constexpr std::int64_t rounding_divide_by_pot(std::int64_t x, int exponent) {
  const std::int64_t mask = (std::int64_t{1} << exponent) - 1;
  const std::int64_t remainder = x & mask;
  const std::int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// gemmlowp SaturatingRoundingMultiplyByPOT<Exponent>: saturating left shift for Exponent > 0,
// rounding right shift for Exponent < 0.
template <int Exponent>
constexpr std::int32_t saturating_rounding_multiply_by_pot(std::int32_t x) {
  if constexpr (Exponent > 0) {
    constexpr std::int32_t threshold = (std::int32_t{1} << (31 - Exponent)) - 1;
    if (x > threshold) return int32_max;
    if (x < -threshold) return int32_min;
    return shift_left_wrapping(x, Exponent);
  } else if constexpr (Exponent < 0) {
    return rounding_divide_by_pot(x, -Exponent);
  } else {
    return x;
  }
}

// TFLite MultiplyByQuantizedMultiplier, default (double-rounding) build:
// x * 2^max(shift,0), then the doubling high multiply, then a rounding right shift by max(-shift,0).
constexpr std::int32_t multiply_by_quantized_multiplier(std::int32_t x, std::int32_t multiplier,
                                                        int shift) {
  const int left_shift = shift > 0 ? shift : 0;
  const int right_shift = shift > 0 ? 0 : -shift;
  return rounding_divide_by_pot(
      saturating_rounding_doubling_high_mul(shift_left_wrapping(x, left_shift), multiplier),
      right_shift);
}

// TFLite MultiplyByQuantizedMultiplierSmallerThanOneExp (used by Add/Sub): shift <= 0.
constexpr std::int32_t multiply_by_quantized_multiplier_smaller_than_one(std::int32_t x,
                                                                         std::int32_t multiplier,
                                                                         int shift) {
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier), -shift);
}

// TFLite MultiplyByQuantizedMultiplierGreaterThanOne (used by Softmax): shift >= 0.
constexpr std::int32_t multiply_by_quantized_multiplier_greater_than_one(std::int32_t x,
                                                                         std::int32_t multiplier,
                                                                         int left_shift) {
  return saturating_rounding_doubling_high_mul(shift_left_wrapping(x, left_shift), multiplier);
}

// TFLite's 64-bit MultiplyByQuantizedMultiplier (16x8 kernels): the multiplier is first reduced to
// 16 bits with rounding, then one rounding shift by 15 - shift.
constexpr std::int32_t multiply_by_quantized_multiplier(std::int64_t x, std::int32_t multiplier,
                                                        int shift) {
  const std::int32_t reduced_multiplier =
      multiplier < 0x7FFF0000 ? ((multiplier + (1 << 15)) >> 16) : 0x7FFF;
  const int total_shift = 15 - shift;
  const std::int64_t round = std::int64_t{1} << (total_shift - 1);
  const std::int64_t result = x * static_cast<std::int64_t>(reduced_multiplier) + round;
  return static_cast<std::int32_t>(result >> total_shift);
}

constexpr int count_leading_zeros(std::uint32_t x) { return std::countl_zero(x); }  // 32 for 0: CLZ

// ---- 16-bit fixed point (gemmlowp's int16 specialisations; TFLite's hard_swish.h) ----------

// gemmlowp SaturatingRoundingDoublingHighMul for int16: round(a * b / 2^15), nudge 2^14
// (1 - 2^14 for a negative product), truncating division; INT16_MIN * INT16_MIN saturates.
constexpr std::int16_t saturating_rounding_doubling_high_mul(std::int16_t a, std::int16_t b) {
  if (a == b && a == std::numeric_limits<std::int16_t>::min()) return std::numeric_limits<std::int16_t>::max();
  const std::int32_t product = std::int32_t{a} * std::int32_t{b};
  const std::int32_t nudge = product >= 0 ? (1 << 14) : (1 - (1 << 14));
  return static_cast<std::int16_t>((product + nudge) / (1 << 15));
}

// TFLite SaturatingDoublingHighMul (ARM SQDMULH): a * b / 2^15 truncated toward zero.
constexpr std::int16_t saturating_doubling_high_mul(std::int16_t a, std::int16_t b) {
  if (a == b && a == std::numeric_limits<std::int16_t>::min()) return std::numeric_limits<std::int16_t>::max();
  return static_cast<std::int16_t>((std::int32_t{a} * std::int32_t{b}) / (1 << 15));
}

// gemmlowp RoundingDivideByPOT for int16, mask and threshold in int16: the same as the int32 one
// for exponents up to 15; from 16 on the mask is all ones and it yields 1 for x >= 0, -1 below.
constexpr std::int16_t rounding_divide_by_pot16(std::int16_t x, int exponent) {
  const auto mask = static_cast<std::int16_t>((std::int64_t{1} << exponent) - 1);
  const auto remainder = static_cast<std::int16_t>(x & mask);
  const auto threshold = static_cast<std::int16_t>((mask >> 1) + (x < 0 ? 1 : 0));
  return static_cast<std::int16_t>((x >> exponent) + (remainder > threshold ? 1 : 0));
}

// TFLite SaturatingLeftShift for int16: value * 2^amount clamped to the int16 range.
constexpr std::int16_t saturating_left_shift(std::int16_t value, int amount) {
  const std::int64_t result = std::int64_t{value} * (std::int64_t{1} << amount);
  constexpr std::int64_t lo = std::numeric_limits<std::int16_t>::min(), hi = std::numeric_limits<std::int16_t>::max();
  return static_cast<std::int16_t>(result < lo ? lo : (result > hi ? hi : result));
}

// ---- gemmlowp transcendental functions on raw Q-format values ------------------------------
// A value with I integer bits is a raw int32 r meaning r / 2^(31 - I).

// Rescale<Dst>(FixedPoint<Src>): change the number of integer bits, saturating/rounding.
template <int DstIntegerBits, int SrcIntegerBits>
constexpr std::int32_t rescale(std::int32_t raw) {
  return saturating_rounding_multiply_by_pot<SrcIntegerBits - DstIntegerBits>(raw);
}

// gemmlowp RoundingHalfSum for int32.
constexpr std::int32_t rounding_half_sum(std::int32_t a, std::int32_t b) {
  const std::int64_t sum = std::int64_t{a} + std::int64_t{b};
  const std::int64_t sign = sum >= 0 ? 1 : -1;
  return static_cast<std::int32_t>((sum + sign) / 2);
}

// exp(x) for x in [-1/4, 0), Q0.31 in and out: Taylor expansion around -1/8.
constexpr std::int32_t exp_on_interval_between_negative_one_quarter_and_0_excl(std::int32_t a) {
  constexpr std::int32_t exp_minus_one_eighth = 1895147668;  // exp(-1/8) in Q0.31
  constexpr std::int32_t one_third = 715827883;              // 1/3 in Q0.31
  const std::int32_t x = add_wrapping(a, std::int32_t{1} << 28);  // a + 1/8
  const std::int32_t x2 = saturating_rounding_doubling_high_mul(x, x);
  const std::int32_t x3 = saturating_rounding_doubling_high_mul(x2, x);
  const std::int32_t x4 = saturating_rounding_doubling_high_mul(x2, x2);
  const std::int32_t x4_over_4 = saturating_rounding_multiply_by_pot<-2>(x4);
  const std::int32_t x4_over_24_plus_x3_over_6_plus_x2_over_2 =
      saturating_rounding_multiply_by_pot<-1>(add_wrapping(
          saturating_rounding_doubling_high_mul(add_wrapping(x4_over_4, x3), one_third), x2));
  return add_wrapping(exp_minus_one_eighth,
                      saturating_rounding_doubling_high_mul(
                          exp_minus_one_eighth, add_wrapping(x, x4_over_24_plus_x3_over_6_plus_x2_over_2)));
}

// exp(a) for a <= 0, input with IntegerBits integer bits, output Q0.31 (gemmlowp
// exp_on_negative_values): exp of a mod 1/4 times a barrel of exp(-2^k) constants.
template <int IntegerBits>
constexpr std::int32_t exp_on_negative_values(std::int32_t a) {
  constexpr int fractional_bits = 31 - IntegerBits;
  constexpr std::int32_t one_quarter = std::int32_t{1} << (fractional_bits - 2);
  const std::int32_t mask = one_quarter - 1;
  const std::int32_t a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter;
  std::int32_t result = exp_on_interval_between_negative_one_quarter_and_0_excl(
      rescale<0, IntegerBits>(a_mod_quarter_minus_one_quarter));
  const std::int32_t remainder = a_mod_quarter_minus_one_quarter - a;

  // exp(-2^k) in Q0.31 for k = -2 .. 4.
  constexpr std::int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308,
                                      39332535,   720401,     242};
  for (int k = -2; k <= 4; ++k) {
    if (IntegerBits > k) {
      const int shift_amount = fractional_bits + k;
      if ((remainder & (std::int32_t{1} << shift_amount)) != 0) {
        result = saturating_rounding_doubling_high_mul(result, barrel[k + 2]);
      }
    }
  }
  if constexpr (IntegerBits > 5) {
    constexpr std::int32_t clamp = -(std::int32_t{1} << (36 - IntegerBits));  // -32.0
    if (a < clamp) result = 0;
  }
  if (a == 0) result = int32_max;  // One() in Q0.31
  return result;
}

// 1 / ((1 + a) / 2) in Q2.29 for a in (0, 1) given in Q0.31: gemmlowp's Newton-Raphson division,
// started at 48/17 - 32/17 * d and refined three times (x += x * (1 - d * x)), d = (1 + a) / 2.
constexpr std::int32_t newton_reciprocal_of_half_denominator(std::int32_t a) {
  const std::int32_t half_denominator = rounding_half_sum(a, int32_max);
  constexpr std::int32_t constant_48_over_17 = 1515870810;       // Q2.29
  constexpr std::int32_t constant_neg_32_over_17 = -1010580540;  // Q2.29
  constexpr std::int32_t one_q2 = std::int32_t{1} << 29;
  std::int32_t x = add_wrapping(
      constant_48_over_17,
      saturating_rounding_doubling_high_mul(half_denominator, constant_neg_32_over_17));
  for (int i = 0; i < 3; ++i) {
    const std::int32_t half_denominator_times_x =
        saturating_rounding_doubling_high_mul(half_denominator, x);
    const std::int32_t one_minus_half_denominator_times_x = one_q2 - half_denominator_times_x;
    x = add_wrapping(x, rescale<2, 4>(saturating_rounding_doubling_high_mul(
                            x, one_minus_half_denominator_times_x)));
  }
  return x;
}

// 1 / (1 + x) for x in (0, 1), Q0.31 in and out (gemmlowp one_over_one_plus_x_for_x_in_0_1):
// Rescale<0>(ExactMulByPot<-1>(x)), i.e. the Q2.29 result read as Q1.30, then to Q0.31.
constexpr std::int32_t one_over_one_plus_x_for_x_in_0_1(std::int32_t a) {
  return rescale<0, 1>(newton_reciprocal_of_half_denominator(a));
}

// (1 - x) / (1 + x) for x in (0, 1), Q0.31 in and out: 2 / (1 + x) - 1.
constexpr std::int32_t one_minus_x_over_one_plus_x_for_x_in_0_1(std::int32_t a) {
  return rescale<0, 2>(newton_reciprocal_of_half_denominator(a) - (std::int32_t{1} << 29));
}

// logistic(a) = 1 / (1 + exp(-a)), input with IntegerBits integer bits, output Q0.31.
template <int IntegerBits>
constexpr std::int32_t logistic(std::int32_t a) {
  if (a == 0) return std::int32_t{1} << 30;  // one half
  const bool positive = a > 0;
  const std::int32_t abs_input = positive ? a : -a;
  // logistic_on_positive_values: 1 / (1 + exp(-|a|))
  const std::int32_t result_if_positive =
      one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values<IntegerBits>(-abs_input));
  return positive ? result_if_positive : int32_max - result_if_positive;
}

// tanh(a), input with IntegerBits integer bits, output Q0.31.
template <int IntegerBits>
constexpr std::int32_t tanh(std::int32_t a) {
  if (a == 0) return 0;
  const bool negative = a < 0;
  const std::int32_t n = negative ? a : -a;  // always <= 0
  // neg_tanh_on_negative_values: (1 - exp(2n)) / (1 + exp(2n)); ExactMulByPot<1> reinterprets n.
  const std::int32_t t =
      one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values<IntegerBits + 1>(n));
  return negative ? -t : t;
}

// TFLite SaturatingRoundingMultiplyByPOTParam for an exponent >= 0 known only at run time:
// x * 2^exponent, saturated.
constexpr std::int32_t saturating_rounding_multiply_by_pot_param(std::int32_t x, int exponent) {
  if (exponent == 0) return x;
  const std::int32_t threshold = (std::int32_t{1} << (31 - exponent)) - 1;
  if (x > threshold) return int32_max;
  if (x < -threshold) return int32_min;
  return shift_left_wrapping(x, exponent);
}

// TFLite log_x_for_x_greater_than_or_equal_to_1<OutputIntegerBits>(FixedPoint<InputIntegerBits>)
// (internal/common.h): log(x) of a raw value with InputIntegerBits integer bits, as a raw value with
// OutputIntegerBits: x = 2^z * r with r in [sqrt(1/2), sqrt(2)) picked from two candidate
// normalizations, then z * log(2) plus a rational approximation of log(r) around 2^(-1/4).
template <int OutputIntegerBits, int InputIntegerBits>
constexpr std::int32_t log_x_for_x_greater_than_or_equal_to_1(std::int32_t z_a) {
  constexpr int accum_bits = OutputIntegerBits + 1;
  constexpr std::int32_t log_2 = 1488522236, sqrt_sqrt_half = 1805811301, sqrt_half = 1518500250;
  constexpr std::int32_t one_quarter = 536870912;
  constexpr std::int32_t alpha_n = 117049297, alpha_d = 127690142, alpha_i = 1057819769, alpha_f = 638450708;
  constexpr std::int32_t shifted_quarter = rescale<accum_bits, 0>(one_quarter);
  const auto mul = [](std::int32_t a, std::int32_t b) { return saturating_rounding_doubling_high_mul(a, b); };
  const auto saturate = [](std::int64_t v) {
    return static_cast<std::int32_t>(v < int32_min ? int32_min : (v > int32_max ? int32_max : v));
  };

  const int z_a_headroom_plus_1 = count_leading_zeros(static_cast<std::uint32_t>(z_a));
  const std::int32_t r_a_tmp = saturating_rounding_multiply_by_pot_param(z_a, z_a_headroom_plus_1 - 1);
  const std::int32_t r_a = saturating_rounding_multiply_by_pot_param(mul(r_a_tmp, sqrt_half), 1);
  const std::int32_t z_a_pow_2_adj = saturate(
      std::int64_t{saturating_rounding_multiply_by_pot_param(InputIntegerBits - z_a_headroom_plus_1, 31 - accum_bits)} +
      shifted_quarter);
  const std::int32_t z_b = mul(z_a, sqrt_half);
  const int z_b_headroom = count_leading_zeros(static_cast<std::uint32_t>(z_b)) - 1;
  const std::int32_t r_b = saturating_rounding_multiply_by_pot_param(z_a, z_b_headroom);
  const std::int32_t z_b_pow_2_adj = saturate(
      std::int64_t{saturating_rounding_multiply_by_pot_param(InputIntegerBits - z_b_headroom, 31 - accum_bits)} -
      shifted_quarter);

  const std::int32_t r = r_a < r_b ? r_a : r_b;
  const std::int32_t z_pow_2_adj = z_a_pow_2_adj > z_b_pow_2_adj ? z_a_pow_2_adj : z_b_pow_2_adj;
  const std::int32_t p = rounding_half_sum(r, sqrt_sqrt_half);
  std::int32_t q = add_wrapping(r, -sqrt_sqrt_half);
  q = add_wrapping(q, q);
  const std::int32_t common_sq = mul(q, q);
  const std::int32_t num = add_wrapping(mul(q, r), mul(mul(q, common_sq), alpha_n));
  const std::int32_t denom_minus_one =
      add_wrapping(mul(p, add_wrapping(add_wrapping(alpha_i, q), mul(alpha_d, common_sq))), mul(alpha_f, q));
  const std::int32_t recip_denom = one_over_one_plus_x_for_x_in_0_1(denom_minus_one);
  const std::int32_t num_scaled = rescale<accum_bits, 0>(num);
  return rescale<OutputIntegerBits, accum_bits>(add_wrapping(mul(z_pow_2_adj, log_2), mul(num_scaled, recip_denom)));
}

// TFLite GetReciprocal: 1/x for x with IntegerDigits integer bits, as a Q0.31 value and a count
// of bits above one.
struct Reciprocal {
  std::int32_t value;
  int num_bits_over_unit;
};
constexpr Reciprocal get_reciprocal(std::int32_t x, int integer_digits) {
  const int headroom_plus_one = count_leading_zeros(static_cast<std::uint32_t>(x));
  const std::int32_t shifted_sum_minus_one = static_cast<std::int32_t>(
      (static_cast<std::uint32_t>(x) << headroom_plus_one) - (std::uint32_t{1} << 31));
  return {one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one),
          integer_digits - headroom_plus_one};
}

}  // namespace tinynet::fixed
