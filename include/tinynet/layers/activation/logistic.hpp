// Logistic (sigmoid). int8: TFLM's reference_integer_ops::Logistic — gemmlowp logistic on Q4.27,
// then RoundingDivideByPOT(., 23) - 128 (output scale 1/256, zero point -128). Float: 1/(1+e^-x).
#pragma once

#include <cmath>
#include <cstdint>

#include "../../core/constant_tables.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"
#include "logistic_tanh.hpp"

namespace tinynet {

template <class In, class Out>
struct Logistic {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  static_assert(output_shape_mismatch<Logistic, typename In::shape, typename Out::shape, In::size == Out::size>::ok);
  static_assert(element_type_mismatch<Logistic, element, typename Out::element>::ok);
  static_assert(In::is_float || std::is_same_v<element, std::int8_t> || std::is_same_v<element, std::int16_t>,
                "tinynet::Logistic: supported element types are float, int8 and int16");
  static constexpr bool is_int16 = std::is_same_v<element, std::int16_t>;

  static constexpr bool in_place = true;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = is_int16 ? sizeof(detail::sigmoid_table_uint16) : 0;
  using scaling = detail::SigmoidInputScaling<In>;

  static constexpr auto constant_tables() {
    if constexpr (is_int16) return ConstantTables<detail::sigmoid_table_uint16>{};
    else return ConstantTables<>{};
  }

  static void run_float(const float* in, float* out) {
    for (int i = 0; i < In::size; ++i) out[i] = 1.0f / (1.0f + std::exp(-in[i]));
  }


  // reference_integer_ops::Logistic (int16): the table with 9 bits of interpolation, output in Q0.15.
  static constexpr void run_int16(const std::int16_t* in, std::int16_t* out) {
    using scaling16 = detail::SigmoidInt16Scaling<In, Out, false>;
    for (int i = 0; i < In::size; ++i) out[i] = detail::sigmoid_int16_lookup(scaling16::input(in[i]));
  }

  static constexpr void run(const element* in, element* out) {
    if constexpr (In::is_float) {
      run_float(in, out);
    } else if constexpr (is_int16) {
      run_int16(in, out);
    } else {
      for (int i = 0; i < In::size; ++i) {
        const std::int32_t x = in[i] - In::zero_point;
        if (x <= -scaling::range_radius) {
          out[i] = -128;
        } else if (x >= scaling::range_radius) {
          out[i] = 127;
        } else {
          const std::int32_t x_q4 =
              fixed::multiply_by_quantized_multiplier(x, scaling::multiplier.multiplier, scaling::multiplier.shift);
          const std::int32_t y_q0 = fixed::logistic<scaling::input_integer_bits>(x_q4);
          std::int32_t y = fixed::rounding_divide_by_pot(y_q0, 31 - 8) - 128;
          out[i] = static_cast<std::int8_t>(y < -128 ? -128 : (y > 127 ? 127 : y));
        }
      }
    }
  }
};

}  // namespace tinynet
