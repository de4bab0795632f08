// Exp, Log, Sqrt, Rsqrt: element-wise math of one input, as TFLM.
//
// Exp, Log and Sqrt are float only in TFLM (exp.cc, elementwise.cc): std::exp, std::log and
// std::sqrt in float. Rsqrt is float (1.f / std::sqrt(x)) and int8/int16 through TFLM's quantized
// path (PrepareAbsRsqrt + RsqrtEvalQuantized): value = x - in_zp; 0 gives the type's maximum; else
// GetInvSqrtQuantizedMultiplierExp(value) (a Newton-Raphson 1/sqrt in gemmlowp fixed point), then
// MultiplyByQuantizedMultiplier(1, m, s + 20), then by QuantizeMultiplier(1 / (sqrtf(in_scale) *
// out_scale)) with shift - 20, plus the output zero point, clamped. TFLM's Invoke fails on an input
// below the input zero point; here such an input gives the type's maximum, as zero does. int16
// needs zero points 0. int8 reads a 256-entry table of those results, computed by the compiler.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "../../core/constexpr_math.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/quant.hpp"
#include "../../core/quantize_multiplier.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"
#include "unary.hpp"

namespace tinynet {

namespace unary_math_detail {

// GetInvSqrtQuantizedMultiplierExp(input, kReverseShift) (internal/common.h).
struct InvSqrt {
  std::int32_t multiplier;
  int shift;  // a left shift
};

constexpr InvSqrt inv_sqrt_multiplier_exp(std::int32_t input) {
  if (input <= 1) return {fixed::int32_max, 0};
  int shift = 11;
  while (input >= (std::int32_t{1} << 29)) {  // at most 2 rounds for an int32
    input /= 4;
    ++shift;
  }
  const int pairs = (fixed::count_leading_zeros(static_cast<std::uint32_t>(input)) - 1) / 2 - 1;
  shift -= pairs;
  input = fixed::shift_left_wrapping(input, 2 * pairs);
  const std::int32_t half_input = fixed::saturating_rounding_multiply_by_pot<-1>(input >> 1);  // F3
  constexpr std::int32_t half_three = (std::int32_t{1} << 28) + (std::int32_t{1} << 27);      // 1.5 (F3)
  std::int32_t x = std::int32_t{1} << 28;                                                       // 1 (F3)
  for (int i = 0; i < 5; ++i) {
    const std::int32_t x3 = fixed::rescale<3, 9>(fixed::saturating_rounding_doubling_high_mul(
        fixed::saturating_rounding_doubling_high_mul(x, x), x));
    x = fixed::rescale<3, 6>(fixed::add_wrapping(fixed::saturating_rounding_doubling_high_mul(half_three, x),
                                                 -fixed::saturating_rounding_doubling_high_mul(half_input, x3)));
  }
  x = fixed::saturating_rounding_doubling_high_mul(x, 1518500250);  // * sqrt(2) / 2 (F0)
  if (shift < 0) {
    x = fixed::shift_left_wrapping(x, -shift);
    shift = 0;
  }
  return {x, -shift};
}

}  // namespace unary_math_detail

template <class In, class Out>
struct Exp : detail::Unary<Exp<In, Out>, In, Out> {
  static_assert(In::is_float, "tinynet: Exp supports float only (TFLM has no integer kernel)");
  static float apply(float x) { return std::exp(x); }
};

template <class In, class Out>
struct Log : detail::Unary<Log<In, Out>, In, Out> {
  static_assert(In::is_float, "tinynet: Log supports float only (TFLM has no integer kernel)");
  static float apply(float x) { return std::log(x); }
};

template <class In, class Out>
struct Sqrt : detail::Unary<Sqrt<In, Out>, In, Out> {
  static_assert(In::is_float, "tinynet: Sqrt supports float only (TFLM has no integer kernel)");
  static float apply(float x) { return std::sqrt(x); }
};

template <class In, class Out>
struct Rsqrt : detail::Unary<Rsqrt<In, Out>, In, Out, std::is_same_v<typename In::element, std::int8_t>> {
  using element = typename In::element;
  static_assert(In::is_float || ((std::is_same_v<element, std::int8_t> || std::is_same_v<element, std::int16_t>) &&
                                 In::has_quantization && Out::has_quantization),
                "tinynet: Rsqrt supports float, and quantized int8 and int16");
  static_assert(!std::is_same_v<element, std::int16_t> || (In::zero_point == 0 && Out::zero_point == 0),
                "tinynet: int16 Rsqrt needs zero points 0 (as TFLM)");

  static constexpr QuantizedMultiplier output_multiplier = [] {
    if constexpr (In::is_float) {
      return QuantizedMultiplier{};
    } else {
      // SetRsqrtOutputMultiplier: the product in float, the reciprocal in double.
      const float product = detail::sqrt_float(static_cast<float>(In::scale)) * static_cast<float>(Out::scale);
      return quantize_multiplier(1.0 / static_cast<double>(product));
    }
  }();

  static constexpr element apply(element x) {
    if constexpr (In::is_float) {
      return 1.0f / std::sqrt(x);
    } else {
      constexpr std::int32_t lo = std::numeric_limits<element>::min(), hi = std::numeric_limits<element>::max();
      const std::int32_t value = std::int32_t{x} - In::zero_point;
      if (value <= 0) return static_cast<element>(hi);
      const auto inv = unary_math_detail::inv_sqrt_multiplier_exp(value);
      const std::int32_t data = fixed::multiply_by_quantized_multiplier(std::int32_t{1}, inv.multiplier, inv.shift + 20);
      const std::int32_t result = fixed::multiply_by_quantized_multiplier(data, output_multiplier.multiplier,
                                                                          output_multiplier.shift - 20) +
                                  Out::zero_point;
      return static_cast<element>(result < lo ? lo : (result > hi ? hi : result));
    }
  }
  // int8 reads the 256 results of apply() from a table (detail::Unary): the Newton-Raphson runs
  // at compile time.
};

}  // namespace tinynet
