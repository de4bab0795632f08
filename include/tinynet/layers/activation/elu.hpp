// Elu: x for x >= 0, e^x - 1 below. float32 and int8 (TFLM has no int16 kernel).
//
// Quantized, TFLM's elu (PopulateLookupTable): a 256-entry lookup_table built at Prepare time, here at
// compile time: for each int8 value, real = in_scale * (q - in_zp) in float, transformed with
// expf(real) - 1 (in float) when negative, times 1 / out_scale, rounded half away from zero, plus
// the output zero point, clamped. Float: std::expm1 below zero, as TFLM's reference_ops::Elu.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "../../core/constexpr_math.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/quantize_multiplier.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"
#include "../elementwise/unary.hpp"

namespace tinynet {

template <class In, class Out>
struct Elu : detail::Unary<Elu<In, Out>, In, Out, !In::is_float> {
  using element = typename In::element;
  static_assert(In::is_float || std::is_same_v<element, std::int8_t>,
                "tinynet: Elu supports float and int8 (TFLM has no int16 kernel)");

  // int8: one entry of TFLM's lookup table (run() reads the 256 of them: detail::Unary).
  static constexpr element apply(element x) {
    if constexpr (In::is_float) {
      return x < 0.0f ? std::expm1(x) : x;
    } else {
      const float real = In::scale * static_cast<float>(x - In::zero_point);
      const float transformed = real < 0.0f ? static_cast<float>(detail::exp(static_cast<double>(real))) - 1.0f : real;
      const auto rescaled = static_cast<float>(detail::round_half_away(static_cast<double>(transformed * (1 / Out::scale))));
      const auto quantized = static_cast<std::int32_t>(rescaled + static_cast<float>(Out::zero_point));
      return static_cast<element>(quantized < -128 ? -128 : (quantized > 127 ? 127 : quantized));
    }
  }
};

}  // namespace tinynet
