// Add, Sub and SquaredDifference of two tensors with requantization of both inputs (shared
// machinery; broadcasting and constant operands come from binary.hpp).
//
// Quantized, TFLM's add/sub (CalculateOpDataAdd / reference_ops::AddElementwise, and sub_common):
// both inputs are shifted left by 20 bits (15 for int16), scaled by in_scale / (2 * max_in_scale)
// with QuantizeMultiplierSmallerThanOneExp, added (or subtracted), then scaled by
// 2 * max_in_scale / (2^left_shift * out_scale), plus the output zero point, clamped.
// TFLM's squared_difference (PrepareQuantized + SquaredDifference) rescales the inputs the same
// way with a left shift of 7 (int8) or 0 (int16, zero points 0), squares the difference and
// scales it by (2 * max_in_scale)^2 / (2^(2 * left_shift) * out_scale) with an ordinary
// MultiplyByQuantizedMultiplier; it has no fused activation.
#pragma once

#include <cstdint>
#include <type_traits>

#include "../../core/activation_range.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/output_stage.hpp"
#include "../../kernels/x86_simd/simd.hpp"
#include "../../core/quantize_multiplier.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"
#include "binary.hpp"

namespace tinynet {

struct ArithmeticOptions {
  Activation activation = Activation::none;
};

namespace detail {

enum class ArithmeticKind { add, sub, squared_difference };

template <ArithmeticKind Kind, class Layer, class In1, class In2, class Out, ArithmeticOptions Options>
struct Arithmetic : Binary<Layer, Arithmetic<Kind, Layer, In1, In2, Out, Options>, In1, In2, Out> {
  using base = Binary<Layer, Arithmetic, In1, In2, Out>;
  using element = typename Out::element;
  using index1 = typename base::index1;
  using index2 = typename base::index2;

  static_assert(element_type_mismatch<Layer, element, typename In1::element>::ok);
  static_assert(element_type_mismatch<Layer, element, typename In2::element>::ok);

  static constexpr bool is_quantized = !Out::is_float;

  static constexpr bool is_int16 = std::is_same_v<element, std::int16_t>;
  // Squared difference shifts less (TFLM: 7 for int8, 0 for int16) so that the square of the
  // rescaled difference fits 32 bits.
  static constexpr int left_shift =
      Kind == ArithmeticKind::squared_difference ? (is_int16 ? 0 : 7) : (is_int16 ? 15 : 20);
  static constexpr double twice_max_input_scale =
      2.0 * static_cast<double>(In1::scale > In2::scale ? In1::scale : In2::scale);
  static constexpr QuantizedMultiplier input1_multiplier =
      quantize_multiplier(static_cast<double>(In1::scale) / twice_max_input_scale);
  static constexpr QuantizedMultiplier input2_multiplier =
      quantize_multiplier(static_cast<double>(In2::scale) / twice_max_input_scale);
  // Squared difference: TFLM multiplies 2^(2 * left_shift) by the output scale in float.
  static constexpr QuantizedMultiplier output_multiplier =
      Kind == ArithmeticKind::squared_difference
          ? quantize_multiplier(twice_max_input_scale * twice_max_input_scale /
                                static_cast<double>(static_cast<float>(1 << (2 * left_shift)) * Out::scale))
          : quantize_multiplier(twice_max_input_scale / (static_cast<double>(std::int64_t{1} << left_shift) *
                                                         static_cast<double>(Out::scale)));
  static constexpr QuantizedRange range =
      is_quantized ? activation_range<element>(Options.activation, Out::scale, Out::zero_point) : QuantizedRange{0, 0};

#if TINYNET_HOST_SIMD
  // Host (SSE2), int8 without broadcasting: sixteen elements per pass, the same three steps in
  // vectors (all multipliers and shifts are per tensor; |values| stay below 2^29 throughout).
  static constexpr bool use_host_path = Kind != ArithmeticKind::squared_difference &&
                                        std::is_same_v<element, std::int8_t> && index1::identity && index2::identity &&
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
    base::template run_elements<Out::size / 16 * 16>(a, b, out);
  }
#endif

  // The short form of the three scalings (core/output_stage.hpp, fixed::short_multiply), int8
  // add/sub without broadcasting: |(x - zero_point) << 20| < 2^28 and the scaled sum |raw| < 2^29,
  // so every high multiply is one SMMLAR with its rounding (and, at the output, the output zero
  // point times 2^n) as the added word; TFLM's result bit for bit (tests/cpp/test_ops_elementwise.cpp
  // checks every pair of inputs). The larger-scale input's multiplier is 0.5 (2^30, no shift):
  // that input is just shifted. Used by the DSP cores' loop (run_dsp) where it pays.
  static constexpr bool short_form_applies = [] {
    if constexpr (Kind == ArithmeticKind::squared_difference || !std::is_same_v<element, std::int8_t>) {
      return false;
    } else {
      const int n1 = -input1_multiplier.shift, n2 = -input2_multiplier.shift, n = -output_multiplier.shift;
      // The output zero point folded into the rounding: 2^(n-1) + 128 * 2^n + 2^29 < 2^31.
      return n1 >= 0 && n1 <= 30 && n2 >= 0 && n2 <= 30 && n >= 0 && n <= 21 && input1_multiplier.multiplier >= 0 &&
             input2_multiplier.multiplier >= 0 && output_multiplier.multiplier >= 0;
    }
  }();

  // An input's multiplier is 0.5 exactly (2^30, no shift) when its scale is the larger one: its
  // SaturatingRoundingDoublingHighMul halves the even shifted value, exactly.
  template <QuantizedMultiplier Q>
  static constexpr bool halves = Q.multiplier == (std::int32_t{1} << 30) && Q.shift == 0;
  // The sum is formed doubled (the output's high multiply takes 2 * raw): a halved input adds
  // (x << 20) - (zero_point << 20); its constant rides along in the other input's rounding word
  // (as Extra, in units of that input's result) where that input is not halved and it fits.
  static constexpr std::int32_t sign2 = Kind == ArithmeticKind::add ? 1 : -1;
  static constexpr std::int32_t carried1 = halves<input1_multiplier> && !halves<input2_multiplier>
                                               ? -sign2 * In1::zero_point * (std::int32_t{1} << (left_shift - 1))
                                               : 0;  // carried by input 2 (its sign in the sum undone)
  static constexpr std::int32_t carried2 = halves<input2_multiplier> && !halves<input1_multiplier>
                                               ? -sign2 * In2::zero_point * (std::int32_t{1} << (left_shift - 1))
                                               : 0;  // carried by input 1
  template <QuantizedMultiplier Q, std::int32_t Extra>
  static constexpr bool fits = [] {
    const int n = -Q.shift;
    // The high word is below 2^28 (|shifted| < 2^28); the rounding word 2^(n-1) + Extra * 2^n.
    const std::int64_t half = n == 0 ? 0 : std::int64_t{1} << (n > 0 ? n - 1 : 0);
    return half + (Extra < 0 ? -std::int64_t{Extra} : Extra) * (std::int64_t{1} << (n > 0 ? n : 0)) < (std::int64_t{1} << 29);
  }();
  static constexpr bool carry2_in_1 = carried2 != 0 && fits<input1_multiplier, carried2>;
  static constexpr bool carry1_in_2 = carried1 != 0 && fits<input2_multiplier, carried1>;

  // MultiplyByQuantizedMultiplierSmallerThanOneExp(x, Q) + Extra, given 2x, |x| < 2^30.
  template <QuantizedMultiplier Q, std::int32_t Extra>
  static constexpr std::int32_t scale_short_doubled(std::int32_t twice_x) {
    constexpr int n = -Q.shift;
    if constexpr (n == 0) {
      return fixed::rounding_high_mul_add(twice_x, Q.multiplier, Extra);
    } else {
      constexpr std::int32_t rounding = (std::int32_t{1} << (n - 1)) + Extra * (std::int32_t{1} << n);
      return fixed::short_multiply_doubled(twice_x, Q.multiplier, rounding, n);
    }
  }
  // Twice the scaled input plus 2 * Extra.
  template <class Input, QuantizedMultiplier Q, std::int32_t Extra, bool Carried>
  static constexpr std::int32_t doubled_input(element x) {
    if constexpr (halves<Q>) {
      constexpr std::int32_t offset = Carried ? 0 : -Input::zero_point * (std::int32_t{1} << left_shift);
      return x * (std::int32_t{1} << left_shift) + offset;
    } else {
      const std::int32_t twice_shifted = (x - Input::zero_point) * (std::int32_t{1} << (left_shift + 1));
      return 2 * scale_short_doubled<Q, Extra>(twice_shifted);
    }
  }
  static constexpr element apply_short(element x1, element x2) {
    const std::int32_t doubled1 = doubled_input<In1, input1_multiplier, carry2_in_1 ? carried2 : 0, carry1_in_2>(x1);
    const std::int32_t doubled2 = doubled_input<In2, input2_multiplier, carry1_in_2 ? carried1 : 0, carry2_in_1>(x2);
    const std::int32_t twice_raw = Kind == ArithmeticKind::add ? doubled1 + doubled2 : doubled1 - doubled2;
    return static_cast<element>(clamp<range>(scale_short_doubled<output_multiplier, Out::zero_point>(twice_raw)));
  }

  static constexpr void run_elements(const element* a, const element* b, element* out) {
#if TINYNET_ARM_DSP
    if constexpr (short_form_applies && index1::identity && index2::identity) {
      if (!std::is_constant_evaluated()) {
        for (int i = 0; i < Out::size; ++i) out[i] = apply_short(a[i], b[i]);
        return;
      }
    }
#endif
#if TINYNET_HOST_SIMD
    if constexpr (use_host_path) {
      if (!std::is_constant_evaluated()) {
        run_host(a, b, out);
        return;
      }
    }
#endif
    base::run_elements(a, b, out);
  }

  // Elements 0 .. n - 1 of two operands read in place, neither broadcast nor constant (a row of a
  // fused residual block: layers/conv/residual_rows.hpp); the same arithmetic as run_elements.
  static constexpr bool spans = index1::identity && index2::identity && !base::constant1 && !base::constant2;
  static constexpr bool adds_rows = Kind == ArithmeticKind::add && spans;  // what residual_rows.hpp fuses
  static void run_span(const element* a, const element* b, element* out, int n)
    requires spans
  {
#if TINYNET_ARM_DSP
    if constexpr (short_form_applies) {
      for (int i = 0; i < n; ++i) out[i] = apply_short(a[i], b[i]);
      return;
    }
#endif
    for (int i = 0; i < n; ++i) out[i] = apply(a[i], b[i]);
  }

  static constexpr element apply(element x1, element x2) {
    if constexpr (is_quantized) {
      const std::int32_t shifted1 = (x1 - In1::zero_point) * (std::int32_t{1} << left_shift);
      const std::int32_t shifted2 = (x2 - In2::zero_point) * (std::int32_t{1} << left_shift);
      const std::int32_t scaled1 = fixed::multiply_by_quantized_multiplier_smaller_than_one(
          shifted1, input1_multiplier.multiplier, input1_multiplier.shift);
      const std::int32_t scaled2 = fixed::multiply_by_quantized_multiplier_smaller_than_one(
          shifted2, input2_multiplier.multiplier, input2_multiplier.shift);
      std::int32_t result;
      if constexpr (Kind == ArithmeticKind::squared_difference) {
        // |difference| < 2^15 for both types (see left_shift), so its square fits.
        const std::int32_t difference = scaled1 - scaled2;
        result = fixed::multiply_by_quantized_multiplier(difference * difference, output_multiplier.multiplier,
                                                         output_multiplier.shift);
      } else {
        const std::int32_t raw = Kind == ArithmeticKind::add ? scaled1 + scaled2 : scaled1 - scaled2;
        result = fixed::multiply_by_quantized_multiplier_smaller_than_one(raw, output_multiplier.multiplier,
                                                                          output_multiplier.shift);
      }
      return static_cast<element>(clamp(result + Out::zero_point, range));
    } else if constexpr (Kind == ArithmeticKind::squared_difference) {
      const element difference = x1 - x2;
      return difference * difference;
    } else {
      const float raw = Kind == ArithmeticKind::add ? x1 + x2 : x1 - x2;
      return clamp_float(raw, activation_range_float(Options.activation));
    }
  }
};

}  // namespace detail
}  // namespace tinynet
