// Turning a real-valued scale ratio into TFLite's (multiplier, shift) pair, at compile time.
//
// Follows TFLite's QuantizeMultiplier (kernels/internal/quantization_util.cc): frexp splits the
// real multiplier into a mantissa in [0.5, 1) and an exponent; the mantissa becomes a Q0.31
// integer rounded half away from zero; a mantissa that rounds up to 2^31 is halved and the
// exponent bumped; an exponent below -31 makes the whole multiplier zero.
#pragma once

#include <cstdint>

namespace tinynet {

struct QuantizedMultiplier {
  std::int32_t multiplier = 0;  // Q0.31 mantissa, in [2^30, 2^31) unless zero
  int shift = 0;                // power of two: positive = left shift
};

namespace detail {

// std::frexp for finite doubles, usable in constant expressions: scaling by two is exact.
struct Frexp {
  double mantissa;
  int exponent;
};
constexpr Frexp frexp(double value) {
  if (value == 0.0) return {0.0, 0};
  const bool negative = value < 0;
  double m = negative ? -value : value;
  int e = 0;
  while (m >= 1.0) {
    m /= 2.0;
    ++e;
  }
  while (m < 0.5) {
    m *= 2.0;
    --e;
  }
  return {negative ? -m : m, e};
}

// std::round (half away from zero) for |value| < 2^62.
constexpr std::int64_t round_half_away(double value) {
  if (value >= 0) {
    const auto truncated = static_cast<std::int64_t>(value);
    return (value - static_cast<double>(truncated) >= 0.5) ? truncated + 1 : truncated;
  }
  return -round_half_away(-value);
}

constexpr double floor(double value) {
  const auto truncated = static_cast<double>(static_cast<std::int64_t>(value));
  return truncated > value ? truncated - 1.0 : truncated;
}

}  // namespace detail

// TFLite QuantizeMultiplier (default, double-rounding build).
constexpr QuantizedMultiplier quantize_multiplier(double real_multiplier) {
  if (real_multiplier == 0.0) return {0, 0};
  const auto [mantissa, exponent] = detail::frexp(real_multiplier);
  std::int64_t q_fixed = detail::round_half_away(mantissa * static_cast<double>(std::int64_t{1} << 31));
  int shift = exponent;
  if (q_fixed == (std::int64_t{1} << 31)) {
    q_fixed /= 2;
    ++shift;
  }
  if (shift < -31) return {0, 0};
  return {static_cast<std::int32_t>(q_fixed), shift};
}

// TFLite's Logistic/Tanh input multiplier: frexp(real) with the mantissa rounded to Q0.31,
// without QuantizeMultiplier's 2^31 correction (logistic_common.cc / tanh_common.cc).
constexpr QuantizedMultiplier frexp_multiplier(double real_multiplier) {
  const auto [mantissa, exponent] = detail::frexp(real_multiplier);
  return {static_cast<std::int32_t>(
              detail::round_half_away(mantissa * static_cast<double>(std::int64_t{1} << 31))),
          exponent};
}

// TFLite DownScaleInt32ToInt16Multiplier: a Q0.31 multiplier rounded to Q0.15 (saturating).
constexpr std::int16_t downscale_to_int16(std::int32_t multiplier) {
  constexpr std::int32_t rounding_offset = 1 << 15;
  if (multiplier >= 2147483647 - rounding_offset) return 32767;
  return static_cast<std::int16_t>((multiplier + rounding_offset) >> 16);
}

// TFLite CalculateInputRadius: the largest input difference that does not saturate after
// scaling by 2^input_left_shift into a Q(input_integer_bits) value.
constexpr int calculate_input_radius(int input_integer_bits, int input_left_shift,
                                     int total_signed_bits = 31) {
  const double max_input_rescaled =
      1.0 * static_cast<double>((1 << input_integer_bits) - 1) *
      static_cast<double>(std::int64_t{1} << (total_signed_bits - input_integer_bits)) /
      static_cast<double>(std::int64_t{1} << input_left_shift);
  return static_cast<int>(detail::floor(max_input_rescaled));
}

}  // namespace tinynet
