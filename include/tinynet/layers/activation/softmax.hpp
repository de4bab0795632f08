// Softmax over the last dimension.
//
// int8 -> int8 follows TFLM's reference_ops::Softmax exactly (fixed point, no lookup table):
// differences to the row maximum are scaled by beta * input_scale into Q5.26
// (PreprocessSoftmaxScaling, a QuantizeMultiplierGreaterThanOne), differences below diff_min
// (-CalculateInputRadius(5, left_shift)) are skipped, exp() is gemmlowp's exp_on_negative_values,
// the sum is accumulated in Q12.19, inverted with GetReciprocal, and each output is
// RoundingDivideByPOT(reciprocal * exp, num_bits_over_unit + 23) - 128.
// The output quantization is fixed by TFLite: scale 1/256, zero point -128.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/quantize_multiplier.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

inline constexpr float unit_beta = 1.0f;

template <class In, class Out, const float& Beta = unit_beta>
struct Softmax {
  using inputs = TypeList<In>;
  using output = Out;
  using input_element = typename In::element;
  using output_element = typename Out::element;
  static_assert(output_shape_mismatch<Softmax, typename In::shape, typename Out::shape,
                                      In::size == Out::size && In::shape::dim(-1) == Out::shape::dim(-1)>::ok);
  static_assert(element_type_mismatch<Softmax, input_element, output_element>::ok);
  static_assert(In::is_float || std::is_same_v<input_element, std::int8_t>,
                "tinynet::Softmax: supported element types are float and int8");

  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;
  static constexpr int depth = In::shape::dim(-1);
  static constexpr int rows = In::size / depth;

  static constexpr int scaled_diff_integer_bits = 5;
  static constexpr int accumulation_integer_bits = 12;
  static constexpr QuantizedMultiplier input_beta = [] {
    if constexpr (In::is_float) {
      return QuantizedMultiplier{};
    } else {
      double real = static_cast<double>(Beta) * static_cast<double>(In::scale) *
                    static_cast<double>(std::int64_t{1} << (31 - scaled_diff_integer_bits));
      const double cap = static_cast<double>(std::int64_t{1} << 31) - 1.0;
      return quantize_multiplier(real < cap ? real : cap);
    }
  }();
  static constexpr int diff_min =
      In::is_float ? 0 : -calculate_input_radius(scaled_diff_integer_bits, input_beta.shift);

  static void run_float(const float* in, float* out) {
    for (int r = 0; r < rows; ++r) {
      const float* x = in + r * depth;
      float* y = out + r * depth;
      float max = std::numeric_limits<float>::lowest();
      for (int c = 0; c < depth; ++c) max = x[c] > max ? x[c] : max;
      float sum = 0.0f;
      for (int c = 0; c < depth; ++c) {
        y[c] = std::exp((x[c] - max) * Beta);
        sum += y[c];
      }
      for (int c = 0; c < depth; ++c) y[c] = y[c] / sum;
    }
  }

  static constexpr void run(const input_element* in, output_element* out) {
    if constexpr (In::is_float) {
      run_float(in, out);
    } else {
      for (int r = 0; r < rows; ++r) {
        const std::int8_t* x = in + r * depth;
        std::int8_t* y = out + r * depth;
        std::int32_t max = std::numeric_limits<std::int8_t>::min();
        for (int c = 0; c < depth; ++c) max = x[c] > max ? x[c] : max;

        std::int32_t sum_of_exps = 0;  // Q12.19
        for (int c = 0; c < depth; ++c) {
          const std::int32_t diff = x[c] - max;
          if (diff >= diff_min) {
            const std::int32_t scaled = fixed::multiply_by_quantized_multiplier_greater_than_one(
                diff, input_beta.multiplier, input_beta.shift);
            sum_of_exps += fixed::rescale<accumulation_integer_bits, 0>(
                fixed::exp_on_negative_values<scaled_diff_integer_bits>(scaled));
          }
        }
        const fixed::Reciprocal reciprocal = fixed::get_reciprocal(sum_of_exps, accumulation_integer_bits);
        const int exponent = reciprocal.num_bits_over_unit + 31 - 8;
        for (int c = 0; c < depth; ++c) {
          const std::int32_t diff = x[c] - max;
          if (diff >= diff_min) {
            const std::int32_t scaled = fixed::multiply_by_quantized_multiplier_greater_than_one(
                diff, input_beta.multiplier, input_beta.shift);
            const std::int32_t exp_value = fixed::exp_on_negative_values<scaled_diff_integer_bits>(scaled);
            // A row whose sum of exps reaches 512 (only possible when depth >= 512) makes the
            // exponent 32, where TFLM stops on TFLITE_CHECK(exponent <= 31). The product is in
            // [0, 2^31), so dividing it by 2^32 with rounding is exactly 0: every probability is
            // below 1/512, half an output step, and the output is -128. We return that rather
            // than shift an int32 by 32 (undefined behaviour).
            const std::int32_t product = fixed::saturating_rounding_doubling_high_mul(reciprocal.value, exp_value);
            const std::int32_t unsaturated = exponent <= 31 ? fixed::rounding_divide_by_pot(product, exponent) : 0;
            const std::int32_t shifted = unsaturated - 128;
            y[c] = static_cast<std::int8_t>(shifted < -128 ? -128 : (shifted > 127 ? 127 : shifted));
          } else {
            y[c] = -128;
          }
        }
      }
    }
  }
};

}  // namespace tinynet
