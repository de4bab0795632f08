// quantize_value / dequantize_value: one real number to a quantized tensor's integer and back,
// for the code around a network (filling an int8 input from sensor data, reading scores).
//
// quantize_value follows TFLM's AffineQuantize (kernels/internal/reference/quantize.h):
// q = round(x / scale) + zero_point, the division in float, rounding half away from zero, then
// clamped to the element type (quantize_unclamped: the integer before that clamp).
// dequantize_value is TFLM's Dequantize: scale * (q - zero_point).
#pragma once

#include <cstdint>
#include <limits>


namespace tinynet {

namespace detail {
// round(v), half away from zero (TfLiteRound on a float), as an int32; |v| beyond 2^24 becomes
// +-2^24 and NaN 0. Rounded in float, without double (no FPU for double on Cortex-M4/M33): inside
// +-2^24, v - trunc(v) is exact, so the half-way test is too.
constexpr std::int32_t round_float_half_away(float v) {
  constexpr float limit = 16777216.0f;
  v = v > limit ? limit : (v < -limit ? -limit : v);   // (NaN stays NaN and becomes 0 below)
  std::int32_t rounded = static_cast<std::int32_t>(v == v ? v : 0.0f);
  const float fraction = v - static_cast<float>(rounded);
  if (fraction >= 0.5f) ++rounded;
  if (fraction <= -0.5f) --rounded;
  return rounded;
}
}  // namespace detail

// The same integer before the clamp to the element type: for a value the tensor cannot hold, e.g.
// an error measured in an output tensor's steps against a target beyond the output's range.
template <class Tensor>
  requires(!Tensor::is_float)
constexpr std::int32_t quantize_unclamped(float real) {
  // (beyond +-2^24 every result clamps anyway)
  return detail::round_float_half_away(real / Tensor::scale) + Tensor::zero_point;
}

template <class Tensor>
constexpr typename Tensor::element quantize_value(float real) {
  using element = typename Tensor::element;
  if constexpr (Tensor::is_float) {
    return real;
  } else {
    const std::int32_t q = quantize_unclamped<Tensor>(real);
    constexpr std::int32_t lo = std::numeric_limits<element>::min(), hi = std::numeric_limits<element>::max();
    return static_cast<element>(q < lo ? lo : (q > hi ? hi : q));
  }
}

template <class Tensor>
constexpr float dequantize_value(typename Tensor::element q) {
  if constexpr (Tensor::is_float) {
    return q;
  } else {
    return Tensor::scale * static_cast<float>(static_cast<std::int32_t>(q) - Tensor::zero_point);
  }
}

}  // namespace tinynet
