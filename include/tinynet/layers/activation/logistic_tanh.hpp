// Shared int8 machinery of Logistic and Tanh (TFLM logistic_common.cc / tanh_common.cc and
// reference_integer_ops::Logistic / Tanh): the input, minus its zero point, is scaled into Q4.27
// with a multiplier from frexp(input_scale * 2^27); inputs whose magnitude reaches the range
// radius saturate to the output's extremes.
#pragma once

#include <cstdint>

#include "../../core/quantize_multiplier.hpp"

namespace tinynet::detail {

template <class In>
struct SigmoidInputScaling {
  static constexpr int input_integer_bits = 4;
  static constexpr QuantizedMultiplier multiplier =
      frexp_multiplier(static_cast<double>(In::scale) *
                       static_cast<double>(std::int64_t{1} << (31 - input_integer_bits)));
  static constexpr int range_radius = calculate_input_radius(input_integer_bits, multiplier.shift, 31);
};

}  // namespace tinynet::detail
