// Softmax over the last dimension.
//
// int8 -> int8 follows TFLM's reference_ops::Softmax exactly (fixed point, no lookup table):
// differences to the row maximum are scaled by beta * input_scale into Q5.26
// (PreprocessSoftmaxScaling, a QuantizeMultiplierGreaterThanOne), differences below diff_min
// (-CalculateInputRadius(5, left_shift)) are skipped, exp() is gemmlowp's exp_on_negative_values,
// the sum is accumulated in Q12.19, inverted with GetReciprocal, and each output is
// RoundingDivideByPOT(reciprocal * exp, num_bits_over_unit + 23) - 128.
// The output quantization is fixed by TFLite: scale 1/256, zero point -128.
//
// int8 -> int16 is the same Softmax<int8, int16>: exponent num_bits_over_unit + 31 - 16, offset
// -32768 (output scale 1/65536, zero point -32768).
//
// int16 -> int16 follows reference_ops::SoftmaxInt16: the difference to the row maximum is rescaled
// so that [-65535, 0] is [-10, 0] (QuantizeMultiplier(input_scale * beta / (10 / 65535))), moved to
// [-32768, 32767] and looked up in an exp table; the sum (Q16.15) is normalised by its leading zeros
// and its reciprocal looked up in a 1 / (1 + x) table; output = exp * reciprocal, shifted back, in
// [0, 32767] (scale 1/32768, zero point 0). Both 513-entry tables are SoftmaxPrepare's gen_lut
// (core/int16_lut.hpp), computed by the compiler: the same for every int16 softmax.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "../../core/constant_tables.hpp"
#include "../../core/constexpr_math.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/int16_lut.hpp"
#include "../../core/quantize_multiplier.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

inline constexpr float unit_beta = 1.0f;

namespace detail {
// SoftmaxPrepare's tables: exp on [-10, 0] and 1 / (1 + x) on [0, 1], both to [-1, 1] in int16.
inline constexpr Int16Lut softmax_exp_lut = gen_lut_int16(
    [](float x) { return static_cast<float>(detail::exp(static_cast<double>(x))); }, -10.0f, 0.0f, -1.0f, 1.0f);
inline constexpr Int16Lut softmax_one_over_one_plus_x_lut =
    gen_lut_int16([](float x) { return 1.0f / (1.0f + x); }, 0.0f, 1.0f, -1.0f, 1.0f);
}  // namespace detail

template <class In, class Out, const float& Beta = unit_beta>
struct Softmax {
  using inputs = TypeList<In>;
  using output = Out;
  using input_element = typename In::element;
  using output_element = typename Out::element;
  static_assert(output_shape_mismatch<Softmax, typename In::shape, typename Out::shape,
                                      In::size == Out::size && In::shape::dim(-1) == Out::shape::dim(-1)>::ok);
  static constexpr bool int8_to_int16 =
      std::is_same_v<input_element, std::int8_t> && std::is_same_v<output_element, std::int16_t>;
  static constexpr bool is_int16 = std::is_same_v<input_element, std::int16_t>;
  static_assert(
      element_type_mismatch<Softmax, input_element,
                            std::conditional_t<int8_to_int16, input_element, output_element>>::ok);
  static_assert(In::is_float || std::is_same_v<input_element, std::int8_t> || is_int16,
                "tinynet::Softmax: supported element types are float, int8 (to int8 or int16) and int16");

  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes =
      is_int16 ? sizeof(detail::softmax_exp_lut) + sizeof(detail::softmax_one_over_one_plus_x_lut) : 0;
  static constexpr auto constant_tables() {
    if constexpr (is_int16) return ConstantTables<detail::softmax_exp_lut, detail::softmax_one_over_one_plus_x_lut>{};
    else return ConstantTables<>{};
  }
  static constexpr int depth = In::shape::dim(-1);
  static constexpr int rows = In::size / depth;

  static constexpr int scaled_diff_integer_bits = 5;
  static constexpr int accumulation_integer_bits = 12;
  static constexpr QuantizedMultiplier input_beta = [] {
    if constexpr (In::is_float) {
      return QuantizedMultiplier{};
    } else if constexpr (is_int16) {
      // CalculateSoftmaxParams: [-65535, 0] of the scaled difference is [-10, 0].
      return quantize_multiplier(static_cast<double>(In::scale) * static_cast<double>(Beta) / (10.0 / 65535.0));
    } else {
      double real = static_cast<double>(Beta) * static_cast<double>(In::scale) *
                    static_cast<double>(std::int64_t{1} << (31 - scaled_diff_integer_bits));
      const double cap = static_cast<double>(std::int64_t{1} << 31) - 1.0;
      return quantize_multiplier(real < cap ? real : cap);
    }
  }();
  static constexpr int diff_min =
      In::is_float || is_int16 ? 0 : -calculate_input_radius(scaled_diff_integer_bits, input_beta.shift);
  static constexpr int output_bits = int8_to_int16 ? 16 : 8;
  static constexpr std::int32_t output_min = int8_to_int16 ? -32768 : -128;
  static constexpr std::int32_t output_max = int8_to_int16 ? 32767 : 127;

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

  static constexpr std::int16_t saturate16(std::int32_t v) {
    return static_cast<std::int16_t>(v < -32768 ? -32768 : (v > 32767 ? 32767 : v));
  }

  // reference_ops::SoftmaxInt16; the exps wait in the output row, as TFLM keeps them.
  static constexpr void run_int16(const std::int16_t* in, std::int16_t* out) {
    for (int r = 0; r < rows; ++r) {
      const std::int16_t* x = in + r * depth;
      std::int16_t* y = out + r * depth;
      std::int16_t max = std::numeric_limits<std::int16_t>::min();
      for (int c = 0; c < depth; ++c) max = x[c] > max ? x[c] : max;
      std::int32_t sum_of_exps = 0;  // Q16.15
      for (int c = 0; c < depth; ++c) {
        const std::int32_t scaled = fixed::multiply_by_quantized_multiplier(
            static_cast<std::int32_t>(x[c] - max), input_beta.multiplier, input_beta.shift);
        y[c] = detail::lut_lookup(saturate16(scaled + 32767), detail::softmax_exp_lut);
        sum_of_exps += y[c];
      }
      const int headroom_plus_one = fixed::count_leading_zeros(static_cast<std::uint32_t>(sum_of_exps));
      const auto shifted_sum = static_cast<std::int32_t>(
          ((static_cast<std::int64_t>(sum_of_exps) << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
      // 1 / (1 + x) for x = sum - 1, moved from [0, 65535] to [-32768, 32767].
      const std::int16_t reciprocal =
          detail::lut_lookup(saturate16(shifted_sum - ((1 << 15) + (1 << 16))), detail::softmax_one_over_one_plus_x_lut);
      const int right_shift = 31 - headroom_plus_one;
      const std::int64_t round = std::int64_t{1} << (right_shift - 1);
      for (int c = 0; c < depth; ++c) {
        const auto result = static_cast<std::int32_t>(
            (static_cast<std::int64_t>(y[c]) * static_cast<std::int64_t>(reciprocal) + round) >> right_shift);
        y[c] = static_cast<std::int16_t>(result < 0 ? 0 : (result > 32767 ? 32767 : result));
      }
    }
  }

  static constexpr void run(const input_element* in, output_element* out) {
    if constexpr (In::is_float) {
      run_float(in, out);
    } else if constexpr (is_int16) {
      run_int16(in, out);
    } else {
      for (int r = 0; r < rows; ++r) {
        const std::int8_t* x = in + r * depth;
        output_element* y = out + r * depth;
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
        const int exponent = reciprocal.num_bits_over_unit + 31 - output_bits;
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
            const std::int32_t shifted = unsaturated + output_min;
            y[c] = static_cast<output_element>(shifted < output_min ? output_min : (shifted > output_max ? output_max : shifted));
          } else {
            y[c] = static_cast<output_element>(output_min);
          }
        }
      }
    }
  }
};

}  // namespace tinynet
