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

#include "../../core/constexpr_math.hpp"
#include "../../core/constant_tables.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/quantize_multiplier.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

template <class In, class Out>
struct Elu {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  static_assert(output_shape_mismatch<Elu, typename In::shape, typename Out::shape, In::size == Out::size>::ok);
  static_assert(element_type_mismatch<Elu, element, typename Out::element>::ok);
  static_assert(In::is_float || std::is_same_v<element, std::int8_t>,
                "tinynet: Elu supports float and int8 (TFLM has no int16 kernel)");

  static constexpr bool in_place = true;
  static constexpr bool is_quantized = !In::is_float;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = In::is_float ? 0 : 256;  // the int8 lookup_table

  // lookup_table[q + 128] = Elu(q)
  static constexpr std::array<std::int8_t, 256> lookup_table = [] {
    std::array<std::int8_t, 256> t{};
    if constexpr (!In::is_float) {
      const float inverse_scale = 1 / Out::scale;
      for (int q = -128; q <= 127; ++q) {
        const float real = In::scale * static_cast<float>(q - In::zero_point);
        const float transformed = real < 0.0f ? static_cast<float>(detail::exp(static_cast<double>(real))) - 1.0f : real;
        const auto rescaled = static_cast<float>(detail::round_half_away(static_cast<double>(transformed * inverse_scale)));
        const auto quantized = static_cast<std::int32_t>(rescaled + static_cast<float>(Out::zero_point));
        t[static_cast<std::size_t>(q + 128)] =
            static_cast<std::int8_t>(quantized < -128 ? -128 : (quantized > 127 ? 127 : quantized));
      }
    }
    return t;
  }();
  static constexpr auto constant_tables() {
    if constexpr (is_quantized) return ConstantTables<lookup_table>{};
    else return ConstantTables<>{};
  }

  static constexpr void run(const element* in, element* out) {
    for (int i = 0; i < In::size; ++i) {
      if constexpr (In::is_float) {
        out[i] = in[i] < 0.0f ? std::expm1(in[i]) : in[i];
      } else {
        out[i] = lookup_table[static_cast<std::size_t>(in[i] + 128)];
      }
    }
  }
};

}  // namespace tinynet
