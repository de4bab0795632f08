// The output stage of Conv2D, DepthwiseConv2D and FullyConnected (int8):
//   out = clamp(MultiplyByQuantizedMultiplier(acc, multiplier[c], shift[c]) + output_zero_point)
// with TFLM's two roundings (fixed_point.hpp). Where the compiler can prove the accumulator small
// enough, the same result takes fewer instructions:
//
//  * SaturatingRoundingDoublingHighMul(x, M) = floor((x * M + 2^30) / 2^31) whenever x is not
//    INT32_MIN, and that equals floor((2x * M + 2^31) / 2^32): a rounding high multiply of 2x
//    (one SMMULR on Cortex-M4/M7/M33). Valid when |2x| < 2^31, i.e. |acc| * 2^(left_shift+1) < 2^31.
//  * RoundingDivideByPOT(y, n) for n >= 1 rounds half away from zero, which is
//    (y + 2^(n-1) - (y < 0 ? 1 : 0)) >> n  (arithmetic shift = floor). No overflow: |y| < 2^30.
//    The + 2^(n-1) rides along in the multiply (SMMLAR adds a word to the high half).
//
// The bound comes from the weights: acc = folded_bias + sum w * x with int8 x, so
// |acc| <= |folded_bias| + 128 * sum |w| (layers compute it per channel, see accumulator_bound).
// A layer whose bound or shifts do not allow this keeps TFLM's formula; tests compare both.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "activation_range.hpp"
#include "fixed_point.hpp"
#include "requantize.hpp"
#include "target.hpp"

namespace tinynet {

namespace fixed {
// floor((a * b + 2^31) / 2^32) + c: the rounded high word of the product, plus c (ARM SMMLAR).
[[gnu::always_inline]] constexpr std::int32_t rounding_high_mul_add(std::int32_t a, std::int32_t b, std::int32_t c) {
#if TINYNET_ARM_DSP
  if (!std::is_constant_evaluated()) {
    std::int32_t r;
    asm("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(c));
    return r;
  }
#endif
  return static_cast<std::int32_t>((std::int64_t{a} * std::int64_t{b} + (std::int64_t{1} << 31)) >> 32) + c;
}

// The short form (above): MultiplyByQuantizedMultiplier(x, multiplier, -right_shift), bit for bit,
// for |x| < 2^30 and 1 <= right_shift <= 31, with rounding = 2^(right_shift - 1) + k * 2^right_shift
// for any integer k (the result is then k more: an output zero point rides along for free) as
// long as the sum stays in 32 bits. The sign term uses x instead of the product: they agree
// except when the product rounds to 0, where both give 0 (+ k). Three instructions on DSP cores.
// The same given twice x (the doubling can often ride along in an earlier instruction).
[[gnu::always_inline]] constexpr std::int32_t short_multiply_doubled(std::int32_t twice_x, std::int32_t multiplier, std::int32_t rounding,
                                              int right_shift) {
  const std::int32_t rounded = rounding_high_mul_add(twice_x, multiplier, rounding);
  return (rounded + (twice_x >> 31)) >> right_shift;  // twice_x >> 31 is -1 when x < 0
}
[[gnu::always_inline]] constexpr std::int32_t short_multiply(std::int32_t x, std::int32_t multiplier, std::int32_t rounding, int right_shift) {
  return short_multiply_doubled(x * 2, multiplier, rounding, right_shift);
}
}  // namespace fixed

// The short form's scaled value (ShortOutputStage::scale, or a kernel's record of the same words)
// to the output value: the zero point the rounding words do not hold (Offset), then the clamp.
template <std::int32_t Offset, QuantizedRange Range>
[[gnu::always_inline]] constexpr std::int32_t after_short_scale(std::int32_t scaled) {
  return clamp<Range>(scaled + Offset);
}

// The tables of the short form. Only layers whose every channel qualifies use it (see
// short_output_stage_applies); they then read these tables instead of the multipliers/shifts.
template <int Count>
struct ShortOutputStage {
  std::array<std::int32_t, Count> multiplier{};
  std::array<std::int32_t, Count> rounding{};     // 2^(n-1)
  std::array<std::uint8_t, Count> right_shift{};  // n >= 1 (TFLite shift = -n)

  // MultiplyByQuantizedMultiplier(acc, multiplier[c], -right_shift[c]), bit for bit, for
  // |acc| < 2^30 (checked at compile time by short_output_stage_applies). The sign term uses acc
  // instead of the product: they agree except when the product rounds to 0, where both give 0.
  [[gnu::always_inline]] constexpr std::int32_t scale(std::int32_t acc, std::size_t c) const {
    return fixed::short_multiply(acc, multiplier[c], rounding[c], right_shift[c]);
  }
  // The same given 2 * acc (a kernel can fold the doubling into its constants).
  [[gnu::always_inline]] constexpr std::int32_t scale_doubled(std::int32_t twice_acc, std::size_t c) const {
    return fixed::short_multiply_doubled(twice_acc, multiplier[c], rounding[c], right_shift[c]);
  }
};

// accumulator_bound[c]: an upper bound of |acc| for the accumulators requantized with entry c.
// The short form needs a right shift (a real multiplier below 0.5, as in nearly every layer) and
// |2 * acc| < 2^31.
template <int Count>
constexpr bool short_output_stage_applies(const ChannelMultipliers<Count>& multipliers,
                                          const std::array<std::int64_t, Count>& accumulator_bound) {
  for (std::size_t c = 0; c < static_cast<std::size_t>(Count); ++c) {
    const int shift = multipliers.shift[c];
    if (multipliers.multiplier[c] <= 0 || shift > -1 || shift < -30 ||
        2 * accumulator_bound[c] >= (std::int64_t{1} << 31))
      return false;
  }
  return true;
}

// The output zero point can ride along in the rounding word (fixed::short_multiply's k: one ADD
// less per output) when 2^(n-1) + |zero_point| * 2^n stays below 2^30 - 1 for every entry, so
// that with the high word (|.| < 2^30) it fits 32 bits: n <= 22 for int8's zero points.
template <int Count>
constexpr bool zero_point_foldable(const ChannelMultipliers<Count>& multipliers, std::int32_t zero_point) {
  const std::int64_t magnitude = zero_point < 0 ? -std::int64_t{zero_point} : zero_point;
  for (std::size_t c = 0; c < static_cast<std::size_t>(Count); ++c) {
    const int n = -multipliers.shift[c];
    if (n < 1 || n > 30 || (std::int64_t{1} << (n - 1)) + (magnitude << n) >= (std::int64_t{1} << 30) - 1) return false;
  }
  return true;
}

// rounding[c] = 2^(n-1) + folded_zero_point * 2^n: scale() then returns the scaled value plus
// folded_zero_point (0, or the output zero point where zero_point_foldable).
template <int Count>
constexpr ShortOutputStage<Count> short_output_stage(const ChannelMultipliers<Count>& multipliers,
                                                     std::int32_t folded_zero_point = 0) {
  ShortOutputStage<Count> stage{};
  for (std::size_t c = 0; c < static_cast<std::size_t>(Count); ++c) {
    stage.multiplier[c] = multipliers.multiplier[c];
    const int n = -multipliers.shift[c];
    stage.right_shift[c] = static_cast<std::uint8_t>(n);
    stage.rounding[c] =
        n >= 1 && n <= 30 ? static_cast<std::int32_t>((std::int64_t{1} << (n - 1)) + std::int64_t{folded_zero_point} * (std::int64_t{1} << n))
                          : 0;
  }
  return stage;
}

}  // namespace tinynet
