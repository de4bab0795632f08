// Quantize: float -> int8/int16 at a model's edge, or integer -> integer requantization.
//
// float input: TFLM AffineQuantize, q = round(x / scale) (in float, half away from zero) +
// zero_point, clamped. Integer input: TFLM Requantize with QuantizeMultiplier(in_scale /
// out_scale): q = MultiplyByQuantizedMultiplier(x - in_zero_point) + out_zero_point, clamped.
// TFLM runs float32 -> int8/int16, int8 -> int8/uint8/int16/int32, uint8 -> int8, int16 ->
// int8/int16/int32 and int32 -> int8/int16 (the generator refuses the other pairs, as TFLM does).
#pragma once

#include <cstdint>
#include <limits>

#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/quantize_multiplier.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

template <class In, class Out>
struct Quantize {
  using inputs = TypeList<In>;
  using output = Out;
  using input_element = typename In::element;
  using output_element = typename Out::element;
  static_assert(output_shape_mismatch<Quantize, typename In::shape, typename Out::shape, In::size == Out::size>::ok);
  static_assert(!Out::is_float, "tinynet::Quantize: the output must be an integer tensor");

  static constexpr bool in_place = sizeof(input_element) == sizeof(output_element);
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;
  static constexpr QuantizedMultiplier requantize =
      In::is_float ? QuantizedMultiplier{}
                   : quantize_multiplier(static_cast<double>(In::scale) / static_cast<double>(Out::scale));

  static constexpr void run(const input_element* in, output_element* out) {
    constexpr std::int32_t lo = std::numeric_limits<output_element>::min();
    constexpr std::int32_t hi = std::numeric_limits<output_element>::max();
    for (int i = 0; i < In::size; ++i) {
      std::int32_t q;
      if constexpr (In::is_float) {
        q = static_cast<std::int32_t>(detail::round_half_away(static_cast<double>(in[i] / Out::scale))) +
            Out::zero_point;
      } else {
        q = fixed::multiply_by_quantized_multiplier(static_cast<std::int32_t>(in[i]) - In::zero_point,
                                                    requantize.multiplier, requantize.shift) +
            Out::zero_point;
      }
      out[i] = static_cast<output_element>(q < lo ? lo : (q > hi ? hi : q));
    }
  }
};

}  // namespace tinynet
