// Relu and Relu6 as standalone ops (a fused activation is part of the op before it instead).
//
// Relu, quantized: TFLM's CalculateReluOpData + ReluQuantized (micro/kernels/activations_common.cc):
// the input minus its zero point is rescaled by QuantizeMultiplier(double(in_scale / out_scale))
// (the ratio in float, as the tflm-ops cases show), plus the output zero point, clamped to
// [max(type min, output zero point), type max].
// Relu6, quantized: TFLM's Relu6Prepare + Relu6Quantized clamp the raw input to [input zero point,
// FloatToQuantizedType(6.0f, in_scale, in_zp)] -- in the *input's* quantization; the output
// tensor's scale and zero point are not read (TFLM does the same).
// Float: max(x, 0) and min(max(x, 0), 6), written as TFLM's comparisons (NaN passes through).
#pragma once

#include <cstdint>
#include <limits>

#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/quantize_multiplier.hpp"
#include "../../core/quantize_value.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

template <class In, class Out>
struct Relu {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  static_assert(output_shape_mismatch<Relu, typename In::shape, typename Out::shape, In::size == Out::size>::ok);
  static_assert(element_type_mismatch<Relu, element, typename Out::element>::ok);

  static constexpr bool in_place = true;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;
  static constexpr QuantizedMultiplier multiplier =
      In::is_float ? QuantizedMultiplier{}
                   : quantize_multiplier(static_cast<double>(In::scale / Out::scale));

  static constexpr void run(const element* in, element* out) {
    for (int i = 0; i < In::size; ++i) {
      if constexpr (In::is_float) {
        out[i] = in[i] < 0.0f ? 0.0f : in[i];
      } else {
        constexpr std::int32_t type_min = std::numeric_limits<element>::min();
        constexpr std::int32_t lo = Out::zero_point > type_min ? Out::zero_point : type_min;
        constexpr std::int32_t hi = std::numeric_limits<element>::max();
        const std::int32_t x = static_cast<std::int32_t>(in[i]) - In::zero_point;
        const std::int32_t y =
            Out::zero_point + fixed::multiply_by_quantized_multiplier(x, multiplier.multiplier, multiplier.shift);
        out[i] = static_cast<element>(y < lo ? lo : (y > hi ? hi : y));
      }
    }
  }
};

template <class In, class Out>
struct Relu6 {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  static_assert(output_shape_mismatch<Relu6, typename In::shape, typename Out::shape, In::size == Out::size>::ok);
  static_assert(element_type_mismatch<Relu6, element, typename Out::element>::ok);

  static constexpr bool in_place = true;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;

  static constexpr void run(const element* in, element* out) {
    if constexpr (In::is_float) {
      for (int i = 0; i < In::size; ++i) out[i] = in[i] > 6.0f ? 6.0f : (in[i] < 0.0f ? 0.0f : in[i]);
    } else {
      constexpr element lower = static_cast<element>(In::zero_point);
      constexpr element upper = quantize_value<In>(6.0f);   // FloatToQuantizedType(6.0f, ...)
      for (int i = 0; i < In::size; ++i) out[i] = in[i] > upper ? upper : (in[i] < lower ? lower : in[i]);
    }
  }
};

}  // namespace tinynet
