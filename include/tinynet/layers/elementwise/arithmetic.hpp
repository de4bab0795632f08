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
#include "../../kernels/x86_simd/simd.hpp"
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

#if TINYNET_HOST_SIMD
  // Host (SSE2), int8 without broadcasting: sixteen elements per pass, the same three steps in
  // vectors (all multipliers and shifts are per tensor; |values| stay below 2^29 throughout).
  static constexpr bool use_host_path = std::is_same_v<element, std::int8_t> && index1::identity && index2::identity &&
                                        input1_multiplier.shift <= 0 && input2_multiplier.shift <= 0 &&
                                        output_multiplier.shift <= 0 && input1_multiplier.shift >= -30 &&
                                        input2_multiplier.shift >= -30 && output_multiplier.shift >= -30;

  template <class Input, QuantizedMultiplier Multiplier>
  static void scale_inputs(const element* x, host::i32x4* out) {
    host::widen16<left_shift>(host::load<host::i8x16>(x), out);
    for (int k = 0; k < 4; ++k)
      out[k] = host::rounding_divide_by_pot<-Multiplier.shift>(
          host::doubling_high_mul(out[k] - Input::zero_point * (std::int32_t{1} << left_shift), Multiplier.multiplier));
  }

  static void run_host(const element* a, const element* b, element* out) {
    using namespace host;
    int i = 0;
    for (; i + 16 <= Out::size; i += 16) {
      i32x4 x1[4], x2[4], r[4];
      scale_inputs<In1, input1_multiplier>(a + i, x1);
      scale_inputs<In2, input2_multiplier>(b + i, x2);
      for (int k = 0; k < 4; ++k)
        r[k] = rounding_divide_by_pot<-output_multiplier.shift>(
                   doubling_high_mul(Kind == ArithmeticKind::add ? x1[k] + x2[k] : x1[k] - x2[k], output_multiplier.multiplier)) +
               Out::zero_point;
      const i8x16 lo = narrow_clamped(r[0], r[1], range.min, range.max), hi = narrow_clamped(r[2], r[3], range.min, range.max);
      store(out + i, __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23));
    }
    run_scalar<Out::size / 16 * 16>(a, b, out);
  }
#endif

  static constexpr void run(const element* a, const element* b, element* out) {
#if TINYNET_HOST_SIMD
    if constexpr (use_host_path) {
      if (!std::is_constant_evaluated()) {
        run_host(a, b, out);
        return;
      }
    }
#endif
    run_scalar<0>(a, b, out);
  }

  // Elements First .. size - 1, one at a time.
  template <int First>
  static constexpr void run_scalar(const element* a, const element* b, element* out) {
    for (int i = First; i < Out::size; ++i) {
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
