// Abs: |x|. float32, int8 and int16.
//
// Quantized, TFLM's abs (PrepareAbsRsqrt + AbsEvalQuantized): |x - in_zp|, requantized by
// QuantizeMultiplier((double)in_scale / (double)out_scale) only when the two scales differ (else
// passed through), plus the output zero point, clamped. int16 needs zero points 0. An int16 tensor
// without quantization parameters (tinynet::no_quant) takes std::abs of the raw value, cast back:
// -32768 stays -32768, as in TFLM.
#pragma once

#include <bit>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/quant.hpp"
#include "../../core/quantize_multiplier.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"
#include "unary.hpp"

namespace tinynet {

template <class In, class Out>
struct Abs : detail::Unary<Abs<In, Out>, In, Out> {
  using element = typename In::element;
  static_assert(In::is_float || std::is_same_v<element, std::int8_t> || std::is_same_v<element, std::int16_t>,
                "tinynet: Abs supports float, int8 and int16");

  static constexpr bool raw_int16 = std::is_same_v<element, std::int16_t> && !In::has_quantization;
  static constexpr bool quantized = !In::is_float && !raw_int16;
  static_assert(!quantized || !std::is_same_v<element, std::int16_t> || (In::zero_point == 0 && Out::zero_point == 0),
                "tinynet: quantized int16 Abs needs zero points 0 (as TFLM)");
  static constexpr bool needs_rescale = quantized && In::scale != Out::scale;
  static constexpr QuantizedMultiplier multiplier =
      needs_rescale ? quantize_multiplier(static_cast<double>(In::scale) / static_cast<double>(Out::scale))
                    : QuantizedMultiplier{};

  static constexpr element apply(element x) {
    if constexpr (In::is_float) {
      return std::bit_cast<float>(std::bit_cast<std::uint32_t>(x) & 0x7fffffffu);  // std::abs: the sign bit
    } else if constexpr (raw_int16) {
      return static_cast<element>(x < 0 ? -std::int32_t{x} : std::int32_t{x});
    } else {
      const std::int32_t difference = x - In::zero_point;
      const std::int32_t magnitude = difference < 0 ? -difference : difference;
      std::int32_t value = magnitude;
      if constexpr (needs_rescale)
        value = fixed::multiply_by_quantized_multiplier(magnitude, multiplier.multiplier, multiplier.shift);
      value += Out::zero_point;
      constexpr std::int32_t lo = std::numeric_limits<element>::min(), hi = std::numeric_limits<element>::max();
      return static_cast<element>(value < lo ? lo : (value > hi ? hi : value));
    }
  }
};

}  // namespace tinynet
