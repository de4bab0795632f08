// LogSoftmax over the last dimension (TFLM's log_softmax.cc -> reference_ops::LogSoftmax).
//
// float: the row maximum (std::max from the lowest float, so a NaN is never picked), the sum of
// std::exp(x - max) in order, std::log of it, then x - max - log_sum.
// int8 (LogSoftmaxQuantized): the output is fixed by TFLM at scale 16/256, zero point 127. In
// Prepare, PreprocessLogSoftmaxScalingExp(beta 1, input scale, 5) gives the input multiplier and
// left shift (as Softmax's) and a reverse scaling divisor 2^(31 - left_shift) / multiplier;
// diff_min = -CalculateInputRadius(5, left_shift). Per row: the differences to the maximum in Q5.26,
// exp_on_negative_values summed in Q12.19 (differences below diff_min skipped), its log in Q5.26
// (log_x_for_x_greater_than_or_equal_to_1), then RoundingDivideByPOT(diff_q5 - log_sum, 22) + 127,
// clamped; a difference at or below max(diff_min - 1, reverse-scaled (log_sum + INT32_MIN)) gives -128.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/quantize_multiplier.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

template <class In, class Out>
struct LogSoftmax {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  static_assert(output_shape_mismatch<LogSoftmax, typename In::shape, typename Out::shape,
                                      std::is_same_v<typename In::shape, typename Out::shape>>::ok);
  static_assert(element_type_mismatch<LogSoftmax, element, typename Out::element>::ok);
  static_assert(In::is_float || (std::is_same_v<element, std::int8_t> && In::has_quantization),
                "tinynet::LogSoftmax: float or quantized int8 (TFLM has no other type)");
  static_assert(In::is_float || (Out::scale == 16.0f / 256 && Out::zero_point == 127),
                "tinynet::LogSoftmax: an int8 output has scale 16/256 and zero point 127 (TFLM requires it)");

  static constexpr int depth = In::shape::dim(-1);
  static constexpr int rows = In::size / depth;
  static constexpr int scaled_diff_integer_bits = 5;
  static constexpr int accumulation_integer_bits = 12;
  static constexpr int output_integer_bits = 4;

  static constexpr QuantizedMultiplier input_multiplier = [] {
    if constexpr (In::is_float) {
      return QuantizedMultiplier{};
    } else {
      const double real = 1.0 * static_cast<double>(In::scale) *
                          static_cast<double>(std::int64_t{1} << (31 - scaled_diff_integer_bits));
      const double cap = static_cast<double>(std::int64_t{1} << 31) - 1.0;
      return quantize_multiplier(real < cap ? real : cap);
    }
  }();
  static_assert(In::is_float || input_multiplier.shift >= 1,
                "tinynet::LogSoftmax: an input scale below 2^-26 overflows TFLM's reverse scaling");
  static constexpr QuantizedMultiplier reverse_scaling = [] {
    if constexpr (In::is_float) {
      return QuantizedMultiplier{};
    } else {
      return quantize_multiplier(static_cast<double>(std::int64_t{1} << (31 - input_multiplier.shift)) /
                                 static_cast<double>(input_multiplier.multiplier));
    }
  }();
  static constexpr int diff_min =
      In::is_float ? 0 : -calculate_input_radius(scaled_diff_integer_bits, input_multiplier.shift);

  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;

  static void run_float(const float* in, float* out) {
    for (int r = 0; r < rows; ++r) {
      const float* x = in + r * depth;
      float* y = out + r * depth;
      float max = std::numeric_limits<float>::lowest();
      for (int c = 0; c < depth; ++c) max = max < x[c] ? x[c] : max;
      float sum = 0.0f;
      for (int c = 0; c < depth; ++c) sum += std::exp(x[c] - max);
      const float log_sum = std::log(sum);
      for (int c = 0; c < depth; ++c) y[c] = x[c] - max - log_sum;
    }
  }

  static constexpr void run(const element* in, element* out) {
    if constexpr (In::is_float) {
      run_float(in, out);
    } else {
      for (int r = 0; r < rows; ++r) {
        const std::int8_t* x = in + r * depth;
        std::int8_t* y = out + r * depth;
        std::int8_t max = std::numeric_limits<std::int8_t>::min();
        for (int c = 0; c < depth; ++c) max = x[c] > max ? x[c] : max;
        const auto in_q5 = [&](int c) {
          return fixed::multiply_by_quantized_multiplier(std::int32_t{x[c]} - max, input_multiplier.multiplier,
                                                         input_multiplier.shift);
        };
        std::int32_t sum_q12 = 0;
        for (int c = 0; c < depth; ++c)
          if (std::int32_t{x[c]} - max >= diff_min)
            sum_q12 = fixed::add_wrapping(
                sum_q12, fixed::rescale<accumulation_integer_bits, 0>(
                             fixed::exp_on_negative_values<scaled_diff_integer_bits>(in_q5(c))));
        const std::int32_t log_sum_q5 =
            fixed::log_x_for_x_greater_than_or_equal_to_1<scaled_diff_integer_bits, accumulation_integer_bits>(
                sum_q12);
        const std::int32_t reverse = fixed::multiply_by_quantized_multiplier(
            fixed::add_wrapping(log_sum_q5, fixed::int32_min), reverse_scaling.multiplier, reverse_scaling.shift);
        const std::int32_t adjusted_diff_min = diff_min - 1 > reverse ? diff_min - 1 : reverse;
        for (int c = 0; c < depth; ++c) {
          if (std::int32_t{x[c]} - max > adjusted_diff_min) {
            const std::int32_t v =
                fixed::rounding_divide_by_pot(fixed::add_wrapping(in_q5(c), -log_sum_q5),
                                              31 - scaled_diff_integer_bits - output_integer_bits) +
                127;
            y[c] = static_cast<std::int8_t>(v < -128 ? -128 : (v > 127 ? 127 : v));
          } else {
            y[c] = -128;
          }
        }
      }
    }
  }
};

}  // namespace tinynet
