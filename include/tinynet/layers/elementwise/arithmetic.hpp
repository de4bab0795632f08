// Add and Sub of two tensors with requantization of both inputs (shared machinery).
//
// Quantized, TFLM's add/sub (CalculateOpDataAdd / reference_ops::AddElementwise, and sub_common):
// both inputs are shifted left by 20 bits (15 for int16), scaled by in_scale / (2 * max_in_scale)
// with QuantizeMultiplierSmallerThanOneExp, added (or subtracted), then scaled by
// 2 * max_in_scale / (2^left_shift * out_scale), plus the output zero point, clamped.
#pragma once

#include <cstdint>
#include <type_traits>

#include "../../core/activation_range.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/quantize_multiplier.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"
#include "broadcast.hpp"

namespace tinynet {

struct ArithmeticOptions {
  Activation activation = Activation::none;
};

namespace detail {

enum class ArithmeticKind { add, sub };

template <ArithmeticKind Kind, class Layer, class In1, class In2, class Out, ArithmeticOptions Options>
struct Arithmetic {
  using inputs = TypeList<In1, In2>;
  using output = Out;
  using element = typename Out::element;
  using index1 = BroadcastIndex<typename In1::shape, typename Out::shape>;
  using index2 = BroadcastIndex<typename In2::shape, typename Out::shape>;

  static_assert(element_type_mismatch<Layer, element, typename In1::element>::ok);
  static_assert(element_type_mismatch<Layer, element, typename In2::element>::ok);
  static_assert(input_shape_mismatch<Layer, typename Out::shape, typename In1::shape, index1::compatible>::ok);
  static_assert(input_shape_mismatch<Layer, typename Out::shape, typename In2::shape, index2::compatible>::ok);

  // Element-wise without broadcasting: the output may overwrite the first input.
  static constexpr bool in_place = index1::identity && std::is_same_v<typename In1::shape, typename Out::shape>;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;
  static constexpr bool is_quantized = !Out::is_float;

  static constexpr int left_shift = std::is_same_v<element, std::int16_t> ? 15 : 20;
  static constexpr double twice_max_input_scale =
      2.0 * static_cast<double>(In1::scale > In2::scale ? In1::scale : In2::scale);
  static constexpr QuantizedMultiplier input1_multiplier =
      quantize_multiplier(static_cast<double>(In1::scale) / twice_max_input_scale);
  static constexpr QuantizedMultiplier input2_multiplier =
      quantize_multiplier(static_cast<double>(In2::scale) / twice_max_input_scale);
  static constexpr QuantizedMultiplier output_multiplier = quantize_multiplier(
      twice_max_input_scale / (static_cast<double>(std::int64_t{1} << left_shift) * static_cast<double>(Out::scale)));
  static constexpr QuantizedRange range =
      is_quantized ? activation_range<element>(Options.activation, Out::scale, Out::zero_point) : QuantizedRange{0, 0};

  static constexpr void run(const element* a, const element* b, element* out) {
    for (int i = 0; i < Out::size; ++i) {
      const element x1 = a[index1::map(i)];
      const element x2 = b[index2::map(i)];
      if constexpr (is_quantized) {
        const std::int32_t shifted1 = (x1 - In1::zero_point) * (std::int32_t{1} << left_shift);
        const std::int32_t shifted2 = (x2 - In2::zero_point) * (std::int32_t{1} << left_shift);
        const std::int32_t scaled1 = fixed::multiply_by_quantized_multiplier_smaller_than_one(
            shifted1, input1_multiplier.multiplier, input1_multiplier.shift);
        const std::int32_t scaled2 = fixed::multiply_by_quantized_multiplier_smaller_than_one(
            shifted2, input2_multiplier.multiplier, input2_multiplier.shift);
        const std::int32_t raw = Kind == ArithmeticKind::add ? scaled1 + scaled2 : scaled1 - scaled2;
        const std::int32_t result = fixed::multiply_by_quantized_multiplier_smaller_than_one(
                                        raw, output_multiplier.multiplier, output_multiplier.shift) +
                                    Out::zero_point;
        out[i] = static_cast<element>(clamp(result, range));
      } else {
        const float raw = Kind == ArithmeticKind::add ? x1 + x2 : x1 - x2;
        out[i] = clamp_float(raw, activation_range_float(Options.activation));
      }
    }
  }
};

}  // namespace detail
}  // namespace tinynet
