// Prelu: x for x >= 0, alpha * x below, alpha broadcast to the input (usually one per channel and
// a ConstantTensor). float32, int8, and int16 with int8 alpha.
//
// Quantized, TFLM's prelu (CalculatePreluParams + reference_ops::BroadcastPrelu4DSlow): x - in_zp
// is scaled by QuantizeMultiplier((double)in_scale / (double)out_scale) when >= 0, else
// (x - in_zp) * (alpha - alpha_zp) by QuantizeMultiplier((double)in_scale * (double)alpha_scale /
// (double)out_scale); plus the output zero point, clamped to the type.
#pragma once

#include <cstdint>
#include <limits>
#include <type_traits>

#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/quantize_multiplier.hpp"
#include "../../core/tensor.hpp"
#include "../elementwise/binary.hpp"

namespace tinynet {

template <class In, class Alpha, class Out>
struct Prelu : detail::Binary<Prelu<In, Alpha, Out>, Prelu<In, Alpha, Out>, In, Alpha, Out> {
  using element = typename Out::element;
  using alpha_element = typename Alpha::element;
  static_assert(element_type_mismatch<Prelu, element, typename In::element>::ok);
  // alpha has the input's type, int8 for int16 inputs (as TFLM requires).
  using expected_alpha = std::conditional_t<std::is_same_v<element, std::int16_t>, std::int8_t, element>;
  static_assert(element_type_mismatch<Prelu, expected_alpha, alpha_element>::ok);
  static_assert(Out::is_float || std::is_same_v<element, std::int8_t> || std::is_same_v<element, std::int16_t>,
                "tinynet: Prelu supports float, int8 and int16");

  static constexpr bool is_quantized = !Out::is_float;
  static constexpr QuantizedMultiplier positive_multiplier =
      is_quantized ? quantize_multiplier(static_cast<double>(In::scale) / static_cast<double>(Out::scale))
                   : QuantizedMultiplier{};
  static constexpr QuantizedMultiplier negative_multiplier =
      is_quantized ? quantize_multiplier(static_cast<double>(In::scale) * static_cast<double>(Alpha::scale) /
                                         static_cast<double>(Out::scale))
                   : QuantizedMultiplier{};

  static constexpr element apply(element x, alpha_element alpha) {
    if constexpr (is_quantized) {
      const std::int32_t value = x - In::zero_point;
      std::int32_t result;
      if (value >= 0) {
        result = fixed::multiply_by_quantized_multiplier(value, positive_multiplier.multiplier, positive_multiplier.shift);
      } else {
        result = fixed::multiply_by_quantized_multiplier(value * (alpha - Alpha::zero_point),
                                                         negative_multiplier.multiplier, negative_multiplier.shift);
      }
      result += Out::zero_point;
      constexpr std::int32_t lo = std::numeric_limits<element>::min(), hi = std::numeric_limits<element>::max();
      return static_cast<element>(result < lo ? lo : (result > hi ? hi : result));
    } else {
      return x >= 0.0f ? x : x * alpha;
    }
  }
};

}  // namespace tinynet
