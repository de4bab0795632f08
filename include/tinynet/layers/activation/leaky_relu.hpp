// LeakyRelu: x for x >= 0, alpha * x below.
//
// Quantized, TFLM's leaky_relu (LeakyReluPrepare + reference_ops::QuantizeLeakyRelu): two
// multipliers, QuantizeMultiplier((double)(in_scale * alpha / out_scale)) and
// QuantizeMultiplier((double)(in_scale / out_scale)), both ratios computed in float first; the
// input minus its zero point is scaled by one or the other, plus the output zero point, clamped.
#pragma once

#include <cstdint>
#include <limits>

#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/quantize_multiplier.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

template <class In, class Out, const float& Alpha>
struct LeakyRelu {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  static_assert(output_shape_mismatch<LeakyRelu, typename In::shape, typename Out::shape, In::size == Out::size>::ok);
  static_assert(element_type_mismatch<LeakyRelu, element, typename Out::element>::ok);

  static constexpr bool in_place = true;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;
  static constexpr QuantizedMultiplier alpha_multiplier =
      In::is_float ? QuantizedMultiplier{} : quantize_multiplier(static_cast<double>(In::scale * Alpha / Out::scale));
  static constexpr QuantizedMultiplier identity_multiplier =
      In::is_float ? QuantizedMultiplier{} : quantize_multiplier(static_cast<double>(In::scale / Out::scale));

  static constexpr void run(const element* in, element* out) {
    for (int i = 0; i < In::size; ++i) {
      if constexpr (In::is_float) {
        out[i] = in[i] > 0.0f ? in[i] : in[i] * Alpha;
      } else {
        const std::int32_t x = static_cast<std::int32_t>(in[i]) - In::zero_point;
        const QuantizedMultiplier& m = x >= 0 ? identity_multiplier : alpha_multiplier;
        const std::int32_t y = Out::zero_point + fixed::multiply_by_quantized_multiplier(x, m.multiplier, m.shift);
        constexpr std::int32_t lo = std::numeric_limits<element>::min(), hi = std::numeric_limits<element>::max();
        out[i] = static_cast<element>(y < lo ? lo : (y > hi ? hi : y));
      }
    }
  }
};

}  // namespace tinynet
