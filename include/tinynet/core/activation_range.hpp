// The clamp range of a fused activation.
//
// Quantized: TFLite CalculateActivationRangeQuantized (kernels/kernel_util.cc) quantizes 0, 6 and
// +-1 with round(f / scale) in float and intersects with the element type's range.
#pragma once

#include <cstdint>
#include <limits>
#include <type_traits>

#include "options.hpp"
#include "quantize_multiplier.hpp"
#include "target.hpp"

namespace tinynet {

struct QuantizedRange {
  std::int32_t min;
  std::int32_t max;
};

template <class Element>
constexpr QuantizedRange activation_range(Activation activation, float scale, std::int32_t zero_point) {
  constexpr std::int32_t qmin = std::numeric_limits<Element>::min();
  constexpr std::int32_t qmax = std::numeric_limits<Element>::max();
  const auto quantize = [&](float real) {
    return zero_point + static_cast<std::int32_t>(detail::round_half_away(static_cast<double>(real / scale)));
  };
  const auto max_of = [](std::int32_t a, std::int32_t b) { return a > b ? a : b; };
  const auto min_of = [](std::int32_t a, std::int32_t b) { return a < b ? a : b; };
  switch (activation) {
    case Activation::relu: return {max_of(qmin, quantize(0.0f)), qmax};
    case Activation::relu6: return {max_of(qmin, quantize(0.0f)), min_of(qmax, quantize(6.0f))};
    case Activation::relu_n1_to_1: return {max_of(qmin, quantize(-1.0f)), min_of(qmax, quantize(1.0f))};
    case Activation::none: break;
  }
  return {qmin, qmax};
}

struct FloatRange {
  float min;
  float max;
};

constexpr FloatRange activation_range_float(Activation activation) {
  constexpr float lowest = std::numeric_limits<float>::lowest();
  constexpr float highest = std::numeric_limits<float>::max();
  switch (activation) {
    case Activation::relu: return {0.0f, highest};
    case Activation::relu6: return {0.0f, 6.0f};
    case Activation::relu_n1_to_1: return {-1.0f, 1.0f};
    case Activation::none: break;
  }
  return {lowest, highest};
}

constexpr float clamp_float(float value, FloatRange range) {
  return value < range.min ? range.min : (value > range.max ? range.max : value);
}

constexpr std::int32_t clamp(std::int32_t value, QuantizedRange range) {
  return value < range.min ? range.min : (value > range.max ? range.max : value);
}

// The same clamp for a range known at compile time: the int8 range itself is one SSAT on cores
// with the DSP extension (a saturate to 8 signed bits), a narrower one SSAT plus the compares left.
template <QuantizedRange Range>
constexpr std::int32_t clamp(std::int32_t value) {
#if TINYNET_ARM_DSP
  if (!std::is_constant_evaluated() && Range.min >= -128 && Range.max <= 127) {
    std::int32_t saturated = __ssat(value, 8);
    if constexpr (Range.min > -128) saturated = saturated < Range.min ? Range.min : saturated;
    if constexpr (Range.max < 127) saturated = saturated > Range.max ? Range.max : saturated;
    return saturated;
  }
#endif
  return clamp(value, Range);
}

}  // namespace tinynet
